// Index files (FORMAT.md §12): per segment, a static hash index over the
// primary key, one per secondary index, a split-block Bloom filter in front
// of each, and fences of every 64th primary key for ordered access.
//
//   +--------+------------------------------------------+-------------+------+
//   | header | slots, filters, groups, postings, fences | IndexFooter | tail |
//   +--------+------------------------------------------+-------------+------+
//
// Building is deterministic: the same rows give the same bytes, so full
// verification rebuilds an index and compares.
//
// Thread-safety: an IndexFile is immutable after Open; probes may run on any
// number of threads.
#ifndef RETL_FORMAT_INDEX_H_
#define RETL_FORMAT_INDEX_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "format/file_util.h"
#include "retl/status.h"
#include "retl/types.h"

namespace retl {
namespace fmt {
class HashIndex;
class FenceIndex;
}

inline constexpr int kFenceInterval = 64;

// The bytes of the index file for a segment holding `columns` (one per
// schema field, rows in primary-key order) whose file has checksum
// `segment_checksum`.
absl::StatusOr<std::string> BuildIndexFile(const Schema& schema, const std::vector<Column>& columns,
                                           uint64_t segment_checksum);

// The normalized keys (FORMAT.md §4.3) and key hashes of a run of rows, in
// one arena.
struct NormalizedKeys {
  std::string arena;
  std::vector<uint64_t> offsets;  // size() + 1; key r is arena[offsets[r], offsets[r+1])
  std::vector<uint64_t> hashes;
  std::vector<bool> indexed;      // false where a key column is NULL

  RowIndex size() const { return static_cast<RowIndex>(hashes.size()); }
  std::string_view key(RowIndex r) const {
    return std::string_view(arena).substr(offsets[r], offsets[r + 1] - offsets[r]);
  }
  // Appends the keys of `more` after these.
  void Append(const NormalizedKeys& more);
};

// Sets `keys` to the keys over `key_columns` of rows `rows` of `columns`.
void NormalizeKeys(const std::vector<Column>& columns, const std::vector<int>& key_columns,
                   std::span<const RowIndex> rows, NormalizedKeys* keys);

// The same in pieces, so that a segment's indexes can be built on different
// threads: one part per index, then AssembleIndexFile. The bytes are the same
// as BuildIndexFile's.
struct IndexPart {
  IndexPart();
  ~IndexPart();
  IndexPart(IndexPart&&) noexcept;
  IndexPart& operator=(IndexPart&&) noexcept;

  int which = -1;     // -1: the primary index and the fences; k: schema.indexes[k]
  std::string bytes;  // its regions, each 64-aligned from the start of `bytes`
  std::unique_ptr<fmt::HashIndex> index;
  std::unique_ptr<fmt::FenceIndex> fences;  // the primary part's
};

// Index `which` (-1: the primary index, with the fences; k:
// schema.indexes[k]) from its keys, normalized already, of a segment's rows
// in primary-key order. `primary_checked_unique`: the caller has checked that
// no two primary keys are equal, which saves grouping them.
absl::StatusOr<IndexPart> BuildIndexPart(const Schema& schema, const NormalizedKeys& keys, int which,
                                         bool primary_checked_unique);
// The index file from every part of one segment (any order).
absl::StatusOr<std::string> AssembleIndexFile(const Schema& schema, RowIndex row_count,
                                              std::vector<IndexPart> parts, uint64_t segment_checksum);

// Compares two index files of the same segment by content: every parameter
// and region the footers describe, but not the layout or created_by. Both
// must have been opened (checked) first; kDataLoss names what differs.
absl::Status CompareIndexFiles(std::string_view actual, std::string_view expected,
                               const std::string& path);

// One hash index of an open index file (FORMAT.md §12.4, §12.5).
class HashIndexReader {
 public:
  const std::vector<int>& columns() const { return columns_; }
  const std::string& name() const { return name_; }
  bool unique() const { return group_starts_ == nullptr; }
  int64_t key_count() const { return key_count_; }

  // False if the key with hash `h` is certainly not in this index.
  bool MayContain(uint64_t h) const {
    const uint8_t* block = filter_ + ((((h >> 32) * filter_blocks_) >> 32) << 5);
    const uint32_t lo = static_cast<uint32_t>(h);
    for (int i = 0; i < 8; ++i) {
      uint32_t word;
      __builtin_memcpy(&word, block + 4 * i, 4);
      if (((word >> ((lo * kSalt[i]) >> 27)) & 1) == 0) return false;
    }
    return true;
  }
  void PrefetchFilter(uint64_t h) const {
    __builtin_prefetch(filter_ + ((((h >> 32) * filter_blocks_) >> 32) << 5));
  }
  void PrefetchSlot(uint64_t h) const { __builtin_prefetch(slots_ + Home(h) * slot_bytes_); }

  // Calls fn(q) for each slot whose fingerprint matches `h`, from the home
  // slot to the first empty one, until fn returns true; q is the row (unique
  // index) or the group (grouped index). Returns what the last fn returned.
  template <typename Fn>
  bool Probe(uint64_t h, Fn&& fn) const {
    uint64_t i = Home(h);
    const uint64_t fp = h & fp_mask_;
    while (true) {
      uint64_t s = slot_bytes_ == 4 ? Load32(slots_ + i * 4) : Load64(slots_ + i * 8);
      uint64_t q = s & payload_mask_;
      if (q == 0) return false;
      if ((s >> payload_bits_) == fp && fn(static_cast<RowIndex>(q - 1))) return true;
      if (++i == slot_count_) i = 0;
    }
  }
  // Rows of group `g` of a grouped index, ascending.
  std::span<const uint32_t> GroupRows(RowIndex g) const {
    uint32_t begin = Load32(group_starts_ + g * 4), end = Load32(group_starts_ + g * 4 + 4);
    return std::span<const uint32_t>(postings_ + begin, end - begin);
  }
  // The first row of group `g` (unique: `g` itself).
  RowIndex FirstRow(RowIndex g) const {
    return unique() ? g : postings_[Load32(group_starts_ + g * 4)];
  }

 private:
  friend class IndexFile;
  static constexpr uint32_t kSalt[8] = {0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du,
                                        0x705495c7u, 0x2df1424bu, 0x9efc4947u, 0x5c6bfb31u};
  static uint32_t Load32(const uint8_t* p) {
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
  }
  static uint64_t Load64(const uint8_t* p) {
    uint64_t v;
    __builtin_memcpy(&v, p, 8);
    return v;
  }
  uint64_t Home(uint64_t h) const {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(h) * slot_count_) >> 64);
  }

  std::vector<int> columns_;
  std::string name_;
  int64_t key_count_ = 0;
  int64_t row_count_ = 0;
  uint64_t slot_count_ = 0;
  int slot_bytes_ = 4;
  int payload_bits_ = 0;
  uint64_t payload_mask_ = 0;
  uint64_t fp_mask_ = 0;
  const uint8_t* slots_ = nullptr;
  const uint8_t* group_starts_ = nullptr;  // null for a unique index
  const uint32_t* postings_ = nullptr;
  const uint8_t* filter_ = nullptr;
  uint64_t filter_blocks_ = 0;
};

class IndexFile {
 public:
  // Opens and checks an index file (FORMAT.md §12.3): envelope, the whole
  // file's checksum against `checksum`, the footer against the segment
  // (`row_count`, `segment_checksum`) and the table's `schema`, and every
  // structural rule of its regions. kDataLoss names the file and the rule.
  static absl::StatusOr<std::shared_ptr<const IndexFile>> Open(
      std::shared_ptr<const MappedFile> file, uint64_t checksum, const Schema& schema,
      RowIndex row_count, uint64_t segment_checksum);

  const std::string& path() const { return file_->path(); }
  uint64_t file_size() const { return file_->size(); }
  uint64_t checksum() const { return checksum_; }
  uint64_t segment_checksum() const { return segment_checksum_; }
  const HashIndexReader& primary() const { return primary_; }
  // The secondary index named `name`, or nullptr.
  const HashIndexReader* secondary(std::string_view name) const;

  // Fences (FORMAT.md §12.6): the normalized key of row j * interval().
  int interval() const { return fence_interval_; }
  int64_t fence_count() const { return fence_count_; }
  std::string_view fence(int64_t j) const {
    uint32_t begin, end;
    __builtin_memcpy(&begin, fence_offsets_ + j * 4, 4);
    __builtin_memcpy(&end, fence_offsets_ + j * 4 + 4, 4);
    return std::string_view(reinterpret_cast<const char*>(fence_keys_) + begin, end - begin);
  }

 private:
  IndexFile() = default;
  using LossFn = std::function<absl::Status(std::string)>;
  static absl::Status OpenHashIndex(const fmt::HashIndex& in, std::string_view file,
                                    uint64_t body_offset, RowIndex segment_rows,
                                    const std::vector<int>& columns, const std::string& name,
                                    bool primary, HashIndexReader* out, const LossFn& loss);

  std::shared_ptr<const MappedFile> file_;
  uint64_t checksum_ = 0;
  uint64_t segment_checksum_ = 0;
  HashIndexReader primary_;
  std::vector<HashIndexReader> secondary_;
  int fence_interval_ = kFenceInterval;
  int64_t fence_count_ = 0;
  const uint8_t* fence_offsets_ = nullptr;
  const uint8_t* fence_keys_ = nullptr;
};

}  // namespace retl

#endif  // RETL_FORMAT_INDEX_H_
