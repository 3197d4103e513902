// Manifests, CURRENT and the dataset directory layout (FORMAT.md §3, §7, §8).
//
//   DIR/CURRENT                          live version: 20 digits + "\n"
//   DIR/LOCK                             writers' advisory lock
//   DIR/manifests/<version:020>.manifest one immutable manifest per version
//   DIR/data/<version:020>-<seq:06>.seg  segment files, named by the version
//                                        that created them
//
// Thread-safety: functions are reentrant.
#ifndef RETL_FORMAT_MANIFEST_H_
#define RETL_FORMAT_MANIFEST_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "retl/catalog.h"
#include "retl/status.h"

namespace retl {

inline constexpr std::string_view kCurrentFile = "CURRENT";
inline constexpr std::string_view kLockFile = "LOCK";
inline constexpr std::string_view kManifestDir = "manifests";
inline constexpr std::string_view kDataDir = "data";
inline constexpr std::string_view kManifestSuffix = ".manifest";
inline constexpr std::string_view kSegmentSuffix = ".seg";
inline constexpr std::string_view kIndexSuffix = ".idx";
inline constexpr std::string_view kTempSuffix = ".tmp";

std::string JoinPath(std::string_view dir, std::string_view name);
// "manifests/00000000000000000007.manifest"
std::string ManifestPath(int64_t version);
// "data/00000000000000000007-000003.seg"
std::string SegmentPath(int64_t version, int seq);
// "data/00000000000000000007-000003.idx": the index file of segment 3 (FORMAT.md §12.3).
std::string IndexPath(int64_t version, int seq);
// Segment sequence numbers within one version are 1..999999 (six digits).
inline constexpr int kMaxSegmentsPerVersion = 999999;
// The version in a manifest, segment or index file name (optionally with the
// temporary suffix), or -1 if the name is not exactly one of those forms.
int64_t VersionOfFileName(std::string_view name);
// True for "<20 digits>-<6 digits>.seg".
bool IsSegmentFileName(std::string_view name);
// True for "<20 digits>-<6 digits>.idx".
bool IsIndexFileName(std::string_view name);

std::string EncodeManifest(const Manifest& manifest);
// Decodes and validates a manifest file's bytes (FORMAT.md §7.3).
absl::StatusOr<Manifest> DecodeManifest(std::string_view bytes, const std::string& path);

// Reads DIR/CURRENT. kFailedPrecondition if DIR is not a dataset, kDataLoss if
// CURRENT is malformed.
absl::StatusOr<int64_t> ReadCurrent(const std::string& dir);
// Writes CURRENT.tmp durably and renames it over CURRENT (the commit point,
// FORMAT.md §8.2 steps 6-7). The caller fsyncs `dir` afterwards (step 8).
absl::Status WriteCurrent(const std::string& dir, int64_t version);
// Reads and decodes the manifest of `version` in `dir`.
absl::StatusOr<Manifest> ReadManifest(const std::string& dir, int64_t version);
// Versions of the manifest files present, ascending (may include versions
// above CURRENT left by a crashed writer; readers ignore those).
absl::StatusOr<std::vector<int64_t>> ListManifestVersions(const std::string& dir);

// Table names: 1..128 bytes of [A-Za-z0-9_], not starting with a digit.
absl::Status ValidateTableName(std::string_view name);

}  // namespace retl

#endif  // RETL_FORMAT_MANIFEST_H_
