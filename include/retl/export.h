// Symbol visibility for libretl. The shared library is built with
// -fvisibility=hidden; only declarations marked RETL_EXPORT are part of its ABI.
#ifndef RETL_EXPORT_H_
#define RETL_EXPORT_H_

#if defined(RETL_BUILDING_SHARED)
#define RETL_EXPORT __attribute__((visibility("default")))
#else
#define RETL_EXPORT
#endif

#endif  // RETL_EXPORT_H_
