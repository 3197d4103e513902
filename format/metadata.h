// File envelopes and metadata serialization shared by segment files and
// manifests (FORMAT.md §2, §6.1, §7.1): fixed headers and tails, Thrift compact
// bodies with checksums, and conversion between the generated Thrift structs
// and the C++ model. Every decoder treats its input as hostile.
#ifndef RETL_FORMAT_METADATA_H_
#define RETL_FORMAT_METADATA_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "retl/catalog.h"
#include "retl/status.h"
#include "retl/types.h"
#include "retl_format_types.h"

namespace retl {

// The format version this library writes and the newest it reads (FORMAT.md §10).
inline constexpr int32_t kFormatVersion = 1;
inline constexpr std::string_view kSegmentMagic = "RETL-SEG";
inline constexpr std::string_view kManifestMagic = "RETL-MAN";
inline constexpr std::string_view kIndexMagic = "RETL-IDX";
inline constexpr size_t kHeaderSize = 16;       // magic, u32 version, u32 flags
inline constexpr size_t kTailSize = 24;         // u64 body length, u64 checksum, magic
inline constexpr uint64_t kChunkAlignment = 64;  // FORMAT.md §6.2
inline constexpr const char* kCreatedBy = "retl 0.1.0";

std::string EncodeHeader(std::string_view magic);
std::string EncodeTail(std::string_view magic, std::string_view body);

// Checks the header and tail of `file` and the checksum of its body, which
// sits just before the tail; returns the body and sets `body_offset`.
// `kind` ("segment", "manifest") and `path` go into error messages.
absl::StatusOr<std::string_view> LocateBody(std::string_view file, std::string_view magic,
                                            std::string_view kind, const std::string& path,
                                            uint64_t* body_offset);

template <typename T>
std::string SerializeThrift(const T& value);
// kDataLoss with `what` if `bytes` is not a valid T.
template <typename T>
absl::Status DeserializeThrift(std::string_view bytes, T* value, std::string_view what);

fmt::TableSchema SchemaToThrift(const Schema& schema);
absl::StatusOr<Schema> SchemaFromThrift(const fmt::TableSchema& schema);

// Rejects any required feature: format version 1 defines none (FORMAT.md §10).
absl::Status CheckRequiredFeatures(const std::vector<std::string>& features,
                                   std::string_view kind, const std::string& path);

}  // namespace retl

#endif  // RETL_FORMAT_METADATA_H_
