// Sorted runs spilled to disk by a build larger than its memory budget
// (writer.cc): rows in primary-key order, in pages of a few thousand rows,
// read back one page at a time by the merge. The file is private to the
// process (unnamed, O_TMPFILE, or unlinked at once), so a crash leaves
// nothing behind; its layout is internal and not part of the format.
//
// A page holds, per column: a validity flag byte (and then one byte per row
// if some row is NULL), then the values (fixed width) or u32 lengths and the
// bytes (strings); then one u64 origin per row.
//
// Thread-safety: one thread writes; any number may read pages written.
#ifndef RETL_FORMAT_SORTED_RUNS_H_
#define RETL_FORMAT_SORTED_RUNS_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "retl/status.h"
#include "retl/types.h"

namespace retl {

struct RunPageInfo {
  uint64_t offset = 0;
  uint64_t length = 0;
  RowIndex rows = 0;
};

// One sorted run: its pages in order.
struct SortedRun {
  std::vector<RunPageInfo> pages;
  RowIndex rows = 0;
};

// A page read back: one Column per schema field, and each row's origin.
struct RunPage {
  std::vector<Column> columns;
  std::vector<uint64_t> origins;
};

class SortedRunFile {
 public:
  // An unnamed file in directory `dir`, for columns of `fields`.
  static absl::StatusOr<std::unique_ptr<SortedRunFile>> Create(const std::string& dir,
                                                           std::vector<Field> fields);
  ~SortedRunFile();
  SortedRunFile(const SortedRunFile&) = delete;
  SortedRunFile& operator=(const SortedRunFile&) = delete;

  // Appends rows `order` of `columns` (in that order) and their `origins`
  // (indexed like the columns' rows) as a run of pages of `page_rows` rows.
  absl::StatusOr<SortedRun> WriteRun(const std::vector<Column>& columns, std::span<const RowIndex> order,
                                    std::span<const uint64_t> origins, RowIndex page_rows);
  absl::StatusOr<RunPage> ReadPage(const RunPageInfo& page) const;
  // Bytes written so far.
  uint64_t size() const { return size_; }

 private:
  SortedRunFile(std::string dir, int fd, std::vector<Field> fields)
      : dir_(std::move(dir)), fd_(fd), fields_(std::move(fields)) {}
  std::string dir_;
  int fd_;
  std::vector<Field> fields_;
  uint64_t size_ = 0;
};

}  // namespace retl

#endif  // RETL_FORMAT_SORTED_RUNS_H_
