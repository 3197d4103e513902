// Shipping a version to another dataset directory (`retl-build ship`):
// data files first, then the manifest, then CURRENT, so a reader of the
// destination sees the old version or the new one, never a partial one.
//
// Thread-safety: takes the destination's writer lock for the whole run, and
// a reader lease on the source version (FORMAT.md §11.2).
#ifndef RETL_FORMAT_SHIP_H_
#define RETL_FORMAT_SHIP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "retl/status.h"

namespace retl {

struct ShipOptions {
  std::optional<int64_t> version;  // default: the live version
  bool copy = false;               // copy even where a hard link would do
  bool wait_for_lock = false;      // wait for another writer of the destination
};

struct ShipReport {
  int64_t version = 0;
  int64_t files_linked = 0;
  int64_t files_copied = 0;
  int64_t files_present = 0;  // already in the destination (same name and size)
  uint64_t bytes_copied = 0;
  uint64_t bytes_linked = 0;
  bool already_live = false;  // the destination had this version live already
};

// Makes version `options.version` of the dataset at `src` the live version
// of the dataset at `dest` (created if it does not exist or is empty), with
// the same version number. Only files the destination lacks are written:
// hard links on the same file system (unless `copy`), else copies checked
// against the manifest's checksums. The destination must be a copy of the
// same dataset (its live version's manifest equal to the source's, if the
// source still has it) and must not be at a newer version.
absl::StatusOr<ShipReport> ShipVersion(const std::string& src, const std::string& dest,
                                       const ShipOptions& options);

struct CopyReport {
  std::vector<int64_t> versions;  // copied, oldest first
  int64_t files_copied = 0;
  int64_t files_present = 0;
  uint64_t bytes_copied = 0;
  std::vector<std::string> problems;  // from verifying the copy; empty when sound
};

// A consistent, independent copy of every retained version of `src` into
// `dest` (`retl-build backup` and `restore`): each version is held by a
// lease while it is copied, so imports and gc may run meanwhile. Files are
// copied (never linked) and checked against the manifests' checksums, then
// the manifests oldest first, then CURRENT; finally every copied version is
// verified in full (FORMAT.md §9.5) and problems are reported. `dest` must
// not exist, be empty, or be an earlier copy of the same dataset (then only
// new files are written). The copy's live version is the newest copied.
absl::StatusOr<CopyReport> CopyDataset(const std::string& src, const std::string& dest);

}  // namespace retl

#endif  // RETL_FORMAT_SHIP_H_
