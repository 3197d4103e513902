// A query's memory limit and the temporary files its operators spill to.
//
// Operators whose state grows with the data (GROUP BY's hash table, SELECT
// DISTINCT, ORDER BY's buffered rows) hold a MemoryReservation for what
// they keep; when the query's total would pass its limit they write part of
// their state to SpillFiles and go on (docs/sql.md, "Memory and spilling").
// The limit covers that growing state, not the fixed working set of a few
// batches per thread.
//
// Spill files are unlinked as soon as they are created (O_TMPFILE where the
// file system has it), so they disappear when the query ends however it
// ends: success, error, cancellation or a killed process.
//
// Thread-safety: QueryMemory may be shared by threads; a SpillFile and a
// MemoryReservation belong to one thread at a time.
#ifndef RETL_QUERY_SPILL_H_
#define RETL_QUERY_SPILL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "query/vector.h"
#include "retl/status.h"

namespace retl {

// "512MB", "1.5 GiB", "64kB", "1073741824" (bytes): the byte count. Units are
// powers of 1024 whether written KB or KiB, as in PostgreSQL and DuckDB.
absl::StatusOr<int64_t> ParseByteSize(std::string_view text);
// "1.5 GiB", "512.0 MiB", "100 bytes".
std::string FormatBytes(int64_t bytes);
// 80% of the machine's physical memory: the default memory_limit.
int64_t DefaultMemoryLimit();
// $TMPDIR, else /tmp.
std::string DefaultTempDirectory();

class QueryMemory {
 public:
  QueryMemory(int64_t limit, std::string temp_directory)
      : limit_(limit), temp_directory_(std::move(temp_directory)) {}
  int64_t limit() const { return limit_; }
  const std::string& temp_directory() const { return temp_directory_; }
  int64_t used() const { return used_.load(std::memory_order_relaxed); }
  int64_t peak() const { return peak_.load(std::memory_order_relaxed); }
  int64_t spilled_bytes() const { return spilled_bytes_.load(std::memory_order_relaxed); }
  int64_t spill_files() const { return spill_files_.load(std::memory_order_relaxed); }

 private:
  friend class MemoryReservation;
  friend class SpillFile;
  void Add(int64_t delta);

  const int64_t limit_;
  const std::string temp_directory_;
  std::atomic<int64_t> used_{0};
  std::atomic<int64_t> peak_{0};
  std::atomic<int64_t> spilled_bytes_{0};
  std::atomic<int64_t> spill_files_{0};
};

// What one operator holds of the query's memory.
class MemoryReservation {
 public:
  explicit MemoryReservation(QueryMemory* memory) : memory_(memory) {}
  ~MemoryReservation() { Set(0); }
  MemoryReservation(const MemoryReservation&) = delete;
  MemoryReservation& operator=(const MemoryReservation&) = delete;

  // Records that the operator now holds `bytes`; false when the query's
  // total is over its limit (the operator should spill). Without a
  // QueryMemory there is no limit.
  bool Set(int64_t bytes);
  int64_t held() const { return held_; }
  int64_t peak() const { return peak_; }
  QueryMemory* memory() const { return memory_; }

 private:
  QueryMemory* memory_;
  int64_t held_ = 0;
  int64_t peak_ = 0;
};

// A temporary file of batches of one column layout: written from start to
// end, then read from start to end (any number of times). The encoding is
// private to one process (native byte order), never shipped.
class SpillFile {
 public:
  static absl::StatusOr<std::unique_ptr<SpillFile>> Create(QueryMemory* memory, std::vector<SqlType> types);
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // Appends rows [0, batch.size) of `batch`, whose columns have the file's
  // types (dictionary vectors are written as plain strings).
  absl::Status Write(const Batch& batch);
  // Flushes what Write buffered; reading starts at the first batch.
  absl::Status FinishWriting();
  // The next batch written, false at the end. Its strings point into a
  // buffer its vectors keep.
  absl::StatusOr<bool> Read(Batch* out);
  // Starts reading from the first batch again.
  void Rewind() { read_offset_ = 0; }
  int64_t bytes() const { return size_; }
  int64_t rows() const { return rows_; }
  const std::vector<SqlType>& types() const { return types_; }

 private:
  SpillFile(QueryMemory* memory, int fd, std::vector<SqlType> types)
      : memory_(memory), fd_(fd), types_(std::move(types)) {}
  absl::Status Flush();
  absl::Status ReadExactly(void* to, size_t n);
  absl::Status IoError(const char* what, int err) const;

  QueryMemory* memory_;
  int fd_;
  std::vector<SqlType> types_;
  std::string buffer_;  // written, not yet flushed
  int64_t size_ = 0;    // bytes in the file
  int64_t rows_ = 0;
  int64_t read_offset_ = 0;
};

// Merges spill files whose rows are each in order into batches holding the
// rows of all of them in the overall order, reading one batch per file at a
// time. `before(a, a_row, a_file, b, b_row, b_file)` says whether file
// a_file's current row comes first; for a stable merge it breaks ties (by
// file index, say).
class SpillMerge {
 public:
  using Before = std::function<bool(const Batch& a, size_t a_row, size_t a_file, const Batch& b, size_t b_row,
                                    size_t b_file)>;
  // Reads each file's first batch. Output batches have `types.size()`
  // columns: the files' first ones.
  absl::Status Start(std::vector<SpillFile*> files, std::vector<SqlType> types, Before before);
  // Up to max_rows of the next rows; false when every file is read.
  absl::StatusOr<bool> Next(Batch* out, size_t max_rows);

 private:
  struct Cursor {
    Batch batch;
    size_t row = 0;
  };
  // Heap order: file x's current row after file y's.
  bool After(size_t x, size_t y) const {
    return before_(cursors_[y].batch, cursors_[y].row, y, cursors_[x].batch, cursors_[x].row, x);
  }

  std::vector<SpillFile*> files_;
  std::vector<SqlType> types_;
  Before before_;
  std::vector<Cursor> cursors_;
  std::vector<size_t> heap_;  // files with rows left
};

}  // namespace retl

#endif  // RETL_QUERY_SPILL_H_
