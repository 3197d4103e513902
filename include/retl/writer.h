// Writing a rETL dataset: every change is a Transaction that writes new
// immutable segment files and commits one new manifest (FORMAT.md §8). A
// transaction touches any number of tables and partitions and becomes visible
// atomically at Commit(); until then, and after any failure, the previous
// version stays live and the files the transaction wrote are removed.
//
// One writer at a time: DatasetWriter holds an exclusive lock on DIR/LOCK
// (released when it is destroyed or the process dies). Readers never wait for
// it.
//
// Thread-safety: a DatasetWriter and its Transaction are used from one thread.
#ifndef RETL_WRITER_H_
#define RETL_WRITER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "retl/catalog.h"
#include "retl/export.h"
#include "retl/status.h"
#include "retl/types.h"

namespace retl {

class FileLock;

struct RETL_EXPORT WriterOptions {
  // Wait for another writer to finish instead of failing at once.
  // Default: false.
  bool wait_for_lock = false;
  // Rows per block in new segment files. Smaller blocks prune better and cost
  // more footer space. Default: 65536.
  RowIndex block_rows = 65536;
  // Compress column chunks with zstd where it saves at least 10%. Reads of a
  // compressed chunk must decompress it first. Default: false.
  bool zstd = false;
  // Threads for sorting, encoding and indexing new rows; 0 means one per
  // core. The files written are the same for any number. Default: 0.
  int threads = 0;
  // Bytes of memory for the rows of one table change. Rows given as a
  // RowFeed that take more are sorted in runs that spill to disk (unnamed
  // files under DIR/data) and merged into the same files an in-memory build
  // writes. 0 means a quarter of physical memory. See BatchBytes().
  int64_t memory_limit = 0;
  // Written into manifests as created_by.
  std::string created_by = "retl 0.1.0";
};

// New rows for a table: one Column per schema field, in schema order, in any
// row order. `describe_row` (optional) names a row's origin for error
// messages, e.g. "customers.csv:1234"; it may be called from several threads
// at once.
struct RETL_EXPORT TableData {
  std::vector<Column> columns;
  std::function<std::string(RowIndex)> describe_row;
  // For batches of a RowFeed (optional): a number naming each row after the
  // batch is gone, which RowFeed::describe turns into text. Without it, a
  // row is named by its position in the whole input ("row N").
  std::function<uint64_t(RowIndex)> origin;
  // Set by a reader that has checked every STRING value is valid UTF-8 (the
  // CSV, Parquet and JSON Lines readers do, naming the line): the writer then
  // does not check them again. Left false, the writer checks.
  bool utf8_checked = false;
  RowIndex num_rows() const { return columns.empty() ? 0 : columns[0].size(); }
};

// A table's new rows given batch by batch, for inputs larger than memory:
// `read` calls `add` with each batch in input order (each a TableData with
// its own describe_row), and returns the first error `add` returns.
// `describe` names a row by its batch's origin; it is called, if ever, after
// `read` returns. A feed may be read twice if the first pass fails.
struct RETL_EXPORT RowFeed {
  using Add = std::function<absl::Status(TableData batch)>;
  std::function<absl::Status(const Add& add)> read;
  std::function<std::string(uint64_t origin)> describe;
};

// The memory_limit `options` stands for (its default resolved), and the size
// of the batches a RowFeed should give: a quarter of it (a batch can take
// up to twice its bytes while it grows, and sorting it takes more).
RETL_EXPORT int64_t MemoryLimitBytes(const WriterOptions& options);
RETL_EXPORT int64_t BatchBytes(const WriterOptions& options);
// Bytes the rows of `columns` take in memory (as BatchBytes counts them).
RETL_EXPORT int64_t ColumnBytes(const std::vector<Column>& columns);

class Transaction;

class RETL_EXPORT DatasetWriter {
 public:
  // Creates a new, empty dataset at `dir` (version 1). `dir` must not exist or
  // be empty; kAlreadyExists if it is a dataset already.
  static absl::Status Init(const std::string& dir);

  // Takes the writer lock, then removes what a crashed writer may have left
  // (files of versions above the live one, temporary files).
  static absl::StatusOr<std::unique_ptr<DatasetWriter>> Open(const std::string& dir,
                                                             const WriterOptions& options);
  ~DatasetWriter();

  // Starts a change on top of the live version. `operation` names it in the
  // history ("import", "drop-table", ...). One transaction at a time.
  absl::StatusOr<std::unique_ptr<Transaction>> Begin(std::string operation);

  const std::string& dir() const { return dir_; }
  const WriterOptions& options() const { return options_; }

 private:
  DatasetWriter(std::string dir, WriterOptions options, std::unique_ptr<FileLock> lock);
  std::string dir_;
  WriterOptions options_;
  std::unique_ptr<FileLock> lock_;
};

class RETL_EXPORT Transaction {
 public:
  ~Transaction();  // aborts if not committed

  // The version this transaction builds on, and the state it will commit.
  const Manifest& base() const { return base_; }
  const Manifest& pending() const { return next_; }

  // Creates table `name`; kAlreadyExists if it exists.
  absl::Status CreateTable(const std::string& name, const Schema& schema, const TableData& data);
  // Replaces every row (and the schema) of an existing table.
  absl::Status ReplaceTable(const std::string& name, const Schema& schema, const TableData& data);
  // Replaces the partitions the data touches; other partitions stay. With
  // `only_partition`, every row must belong to that partition (the canonical
  // text of the partition value; nullopt = NULL or the default partition), and
  // that partition is replaced even by zero rows.
  absl::Status ReplacePartitions(const std::string& name, const TableData& data,
                                 const std::optional<std::optional<std::string>>& only_partition);
  // Adds rows as new segments; their keys must not exist in the table yet.
  absl::Status Append(const std::string& name, const TableData& data);
  // The same, with rows given batch by batch: a build whose rows take more
  // than options().memory_limit spills sorted runs to disk. The files are
  // those the whole data at once would give. Each returns the rows added.
  absl::StatusOr<RowIndex> CreateTable(const std::string& name, const Schema& schema, const RowFeed& feed);
  absl::StatusOr<RowIndex> ReplaceTable(const std::string& name, const Schema& schema, const RowFeed& feed);
  absl::StatusOr<RowIndex> ReplacePartitions(const std::string& name, const RowFeed& feed,
                                             const std::optional<std::optional<std::string>>& only_partition);
  absl::StatusOr<RowIndex> Append(const std::string& name, const RowFeed& feed);
  // kNotFound if the table or partition does not exist.
  absl::Status DropPartition(const std::string& name, const std::optional<std::string>& value);
  absl::Status DropTable(const std::string& name);
  // Rewrites the segments of one partition (`value` as in DropPartition) as
  // segments of at most `target_rows` rows each, in key order: the same rows,
  // fewer files (appends add a segment each). Returns the number of segments
  // before; a partition with fewer than `min_segments` is left as it is (and
  // 0 returned).
  absl::StatusOr<int> CompactPartition(const std::string& name, const std::optional<std::string>& value,
                                       int64_t target_rows, int min_segments = 2);
  // Makes the tables of `old`, the manifest of an earlier version, this
  // version's tables (point-in-time recovery: history is never rewritten).
  // Their files are shared, not copied; each must still exist with its
  // recorded size (kFailedPrecondition naming the first that does not).
  // Tables that differ from the base's get this version as modified_version.
  absl::Status RestoreTables(const Manifest& old);

  // Lineage recorded in the version: a label (a warehouse export id) and the
  // input files the change was built from.
  void SetSource(std::string source) { source_ = std::move(source); }
  void AddInput(InputFileInfo input) { inputs_.push_back(std::move(input)); }

  // Makes everything durable and switches CURRENT to the new version, which
  // it returns. After an error before the switch the transaction is aborted
  // and the base version stays live. kInternal naming the version means the
  // switch happened but its directory fsync failed.
  absl::StatusOr<int64_t> Commit(const std::string& message);
  // Removes the files written so far. The dataset stays as it was.
  void Abort();
  // Summary of the changes so far ("customers: replaced 2 partitions, 1000 rows").
  std::string Summary() const;

 private:
  friend class DatasetWriter;
  Transaction(DatasetWriter* writer, std::string operation, Manifest base);
  // Column count and types, NOT NULL columns, value ranges (FORMAT.md §4.1).
  absl::Status ValidateRows(const TableInfo& table, const TableData& data);
  // Names the next new segment and its index file, and registers both for
  // Abort; kResourceExhausted past kMaxSegmentsPerVersion.
  absl::StatusOr<SegmentInfo> NextSegment();
  // Writes validated rows as one segment per partition value.
  absl::StatusOr<std::vector<PartitionInfo>> WriteRows(const TableInfo& table,
                                                       const TableData& data);
  absl::Status CheckKeysAgainst(const TableInfo& table, const TableData& data,
                                const std::vector<const PartitionInfo*>& existing);
  // Reads `input` (one TableData, or a feed), validating each batch and
  // passing it to `check`; after the last, checks that no key is in the
  // partitions `existing()` gives; then writes the rows as WriteRows does,
  // spilling sorted runs to disk when they take more than the memory limit.
  struct Input;
  absl::StatusOr<std::vector<PartitionInfo>> WriteInput(
      const TableInfo& table, const Input& input, const std::function<absl::Status(const TableData&)>& check,
      const std::function<absl::StatusOr<std::vector<const PartitionInfo*>>()>& existing, RowIndex* rows);
  absl::StatusOr<RowIndex> DoCreateTable(const std::string& name, const Schema& schema, const Input& input);
  absl::StatusOr<RowIndex> DoReplaceTable(const std::string& name, const Schema& schema, const Input& input);
  absl::StatusOr<RowIndex> DoReplacePartitions(const std::string& name, const Input& input,
                                               const std::optional<std::optional<std::string>>& only_partition);
  absl::StatusOr<RowIndex> DoAppend(const std::string& name, const Input& input);

  DatasetWriter* writer_;
  std::string operation_;
  Manifest base_;
  Manifest next_;
  std::vector<std::string> written_;  // paths relative to the dataset
  std::vector<std::string> summary_;
  std::string source_;
  std::vector<InputFileInfo> inputs_;
  int next_seq_ = 1;
  bool done_ = false;
};

}  // namespace retl

#endif  // RETL_WRITER_H_
