// Reading a rETL dataset: open a directory, take a snapshot of one version,
// and read its tables' rows through mmap.
//
// A Snapshot is an immutable view of one committed version. Taking it maps
// every segment file of that version, so it stays valid and unchanged for as
// long as it is held, even while writers commit newer versions or files are
// removed (FORMAT.md §9). Readers take no lock: a process sees a newly
// committed version on its next Latest() call, while reads in flight finish
// on the snapshot they hold.
//
// Thread-safety: Dataset and Snapshot are safe to use from many threads.
//
// Example:
//   auto ds = retl::Dataset::Open("/data/customers_ds");
//   if (!ds.ok()) { ... ds.status().message() ... }
//   auto snap = (*ds)->Latest();
//   absl::Status s = (*snap)->Scan("customers", {}, [](const retl::RowBatch& b) {
//     for (retl::RowIndex i = 0; i < b.num_rows; ++i) use(b.columns[0].GetInt(i));
//     return absl::OkStatus();
//   });
#ifndef RETL_DATASET_H_
#define RETL_DATASET_H_

#include <functional>
#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "retl/catalog.h"
#include "retl/export.h"
#include "retl/status.h"
#include "retl/types.h"

namespace retl {

class Segment;      // format/segment.h
class IndexFile;    // format/index.h
class Lease;       // format/lease.h: keeps gc away from a snapshot's files
struct IndexCache;  // format/dataset.cc: index files shared by a Dataset's snapshots

// Rows handed to a Scan callback: one block of one segment, decoded.
struct RETL_EXPORT RowBatch {
  const TableInfo* table = nullptr;
  const PartitionInfo* partition = nullptr;
  std::vector<int> column_indices;  // schema indices of `columns`
  std::vector<Column> columns;
  RowIndex num_rows = 0;
};

struct RETL_EXPORT ScanOptions {
  // Columns to read, by name; empty reads every column.
  std::vector<std::string> columns;
  // Only this partition (canonical text; nullopt inside = the NULL or default
  // partition). Unset: every partition.
  std::optional<std::optional<std::string>> partition;
};

class RETL_EXPORT Snapshot {
 public:
  int64_t version() const { return manifest_.info.version; }
  const VersionInfo& info() const { return manifest_.info; }
  const Manifest& manifest() const { return manifest_; }
  const std::vector<TableInfo>& tables() const { return manifest_.tables; }
  // kNotFound naming the table and the tables that exist.
  absl::StatusOr<const TableInfo*> GetTable(std::string_view name) const;

  // Calls `fn` for every block of the table's rows, partition by partition
  // (in partition order), segment by segment, in primary-key order within a
  // segment. Stops at and returns the first error of `fn` or of the data.
  absl::Status Scan(std::string_view table, const ScanOptions& options,
                    const std::function<absl::Status(const RowBatch&)>& fn) const;

  // The opened segment for an entry of this snapshot's manifest (internal
  // readers such as the SQL engine use it).
  std::shared_ptr<const Segment> segment(const SegmentInfo& info) const;
  // The index file of a segment entry of `table` (nullptr if it has none),
  // opened and checked (FORMAT.md §12.3) on first use: scans never need
  // it, so a damaged index file fails only the lookups that use it.
  absl::StatusOr<std::shared_ptr<const IndexFile>> index(const TableInfo& table,
                                                          const SegmentInfo& info) const;

 private:
  friend class Dataset;
  Snapshot() = default;
  std::shared_ptr<const Lease> lease_;  // null where the dataset is read-only
  Manifest manifest_;
  std::unordered_map<std::string, std::shared_ptr<const Segment>> segments_;
  std::shared_ptr<IndexCache> index_cache_;
  mutable std::mutex indexes_mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const IndexFile>> indexes_;  // by segment
};

class RETL_EXPORT Dataset {
 public:
  // kNotFound if `dir` does not exist, kFailedPrecondition if it is not a
  // dataset, kDataLoss if CURRENT is damaged.
  static absl::StatusOr<std::unique_ptr<Dataset>> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  // The live version number (reads CURRENT).
  absl::StatusOr<int64_t> CurrentVersion() const;
  // A snapshot of the live version. Reads CURRENT each time; while the live
  // version stays the same it returns the snapshot it opened before, so it
  // is cheap enough to call per request.
  absl::StatusOr<std::shared_ptr<const Snapshot>> Latest() const;
  // A snapshot of `version`; kNotFound if it is above the live version or no
  // longer retained.
  absl::StatusOr<std::shared_ptr<const Snapshot>> AtVersion(int64_t version) const;
  // A snapshot of the newest version committed at or before `micros` (UTC
  // microseconds since the epoch); kNotFound if none is retained.
  absl::StatusOr<std::shared_ptr<const Snapshot>> AsOf(int64_t micros) const;
  // History records of every retained version up to the live one, oldest first.
  absl::StatusOr<std::vector<VersionInfo>> Versions() const;

 private:
  explicit Dataset(std::string dir);
  absl::StatusOr<std::shared_ptr<const Segment>> OpenSegment(const SegmentInfo& info) const;

  std::string dir_;
  // Segment files are immutable, so snapshots share an opened segment.
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::weak_ptr<const Segment>> cache_;
  std::shared_ptr<IndexCache> index_cache_;
  mutable std::shared_ptr<const Snapshot> latest_;  // the last snapshot Latest() returned
  // What stat() said of CURRENT when latest_ was read from it: while it says
  // the same, CURRENT has not been replaced and Latest() skips reading it.
  mutable std::array<int64_t, 5> current_stat_{};
};

}  // namespace retl

#endif  // RETL_DATASET_H_
