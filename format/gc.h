// Retention and cleanup (`retl-build gc`, FORMAT.md §11): expires old
// versions and removes the files no retained version references.
//
// Thread-safety: takes the dataset's writer lock for the whole run.
#ifndef RETL_FORMAT_GC_H_
#define RETL_FORMAT_GC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "retl/status.h"
#include "retl/writer.h"

namespace retl {

struct GcOptions {
  // A version is retained if any of these holds: it is live; it is one of
  // the `keep_versions` newest; it was committed less than `keep_for_micros`
  // ago; a live reader lease names it. At least one of the two must be set.
  std::optional<int64_t> keep_versions;
  std::optional<int64_t> keep_for_micros;
  bool dry_run = false;  // report what would go, remove nothing
  WriterOptions writer;  // wait_for_lock
  int64_t now_micros = 0;  // 0: the clock (tests pass a time)
};

struct GcReport {
  std::vector<int64_t> retained;          // oldest first
  std::vector<int64_t> expired;           // manifests removed (or that would be)
  std::vector<int64_t> kept_for_leases;   // retained only because a reader holds them
  int64_t files_removed = 0;
  uint64_t bytes_removed = 0;
  int64_t stale_leases_removed = 0;       // leases of crashed readers
};

// Safe against a crash at any point: the manifests of expired versions go
// first, then the files no remaining manifest names; re-running finishes the
// job. Never removes a file a retained version names, nor files it does not
// recognise as its own. Cost: reading the manifests of the versions present
// and listing the data directory.
absl::StatusOr<GcReport> CollectGarbage(const std::string& dir, const GcOptions& options);

}  // namespace retl

#endif  // RETL_FORMAT_GC_H_
