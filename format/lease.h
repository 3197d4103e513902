// Reader leases (FORMAT.md §11.2): a process that holds a snapshot of version
// N keeps a small file `leases/<N>-<pid>-<nonce>.lease` in the dataset and
// renews it (its modification time) while the snapshot lives, so that
// `retl-build gc` keeps version N's files. A crashed reader stops renewing:
// its lease expires after its time to live and gc removes it.
//
// Thread-safety: Lease objects are owned by one snapshot; the renewal thread
// is shared by the process and synchronised internally.
#ifndef RETL_FORMAT_LEASE_H_
#define RETL_FORMAT_LEASE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "retl/status.h"

namespace retl {

inline constexpr std::string_view kLeaseDir = "leases";
inline constexpr std::string_view kLeaseSuffix = ".lease";
// How long a lease lives without renewal; renewed every third of it.
inline constexpr int64_t kLeaseTtlSeconds = 120;

class Lease {
 public:
  // Creates and registers a lease on `version` of the dataset at `dir`, or
  // returns nullptr when the dataset cannot hold one (a read-only copy):
  // reading never fails for want of a lease.
  static std::unique_ptr<Lease> Acquire(const std::string& dir, int64_t version);
  ~Lease();  // removes the file
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  const std::string& path() const { return path_; }

 private:
  explicit Lease(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

struct LeaseInfo {
  std::string path;
  int64_t version = 0;
  int64_t renewed_micros = 0;  // modification time
  int64_t ttl_seconds = 0;
  bool live = false;  // renewed within its time to live
};

// The leases of the dataset at `dir` (none when there is no lease directory),
// judged live or expired at `now_micros`. A file that is not a well-formed
// lease counts as a live lease of version 0 only if it is younger than the
// default time to live (a reader may be writing it).
absl::StatusOr<std::vector<LeaseInfo>> ListLeases(const std::string& dir, int64_t now_micros);

}  // namespace retl

#endif  // RETL_FORMAT_LEASE_H_
