// Segment files (FORMAT.md §6): immutable columnar files holding rows of one
// partition sorted by primary key, split into blocks; each block has one
// column chunk per column with its own encoding, statistics and checksum.
//
//   +--------+---------+---------+-----+---------+---------------+------+
//   | header | chunk 0 | chunk 1 | ... | chunk k | footer        | tail |
//   | 16 B   | 64-aligned chunks, block by block | Thrift compact| 24 B |
//   +--------+-----------------------------------+---------------+------+
//
// Thread-safety: a Segment is immutable after Open and may be read from any
// number of threads.
#ifndef RETL_FORMAT_SEGMENT_H_
#define RETL_FORMAT_SEGMENT_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <string>
#include <vector>

#include "format/chunk_reader.h"
#include "format/encoding.h"
#include "format/file_util.h"
#include "retl/status.h"
#include "retl/types.h"

namespace retl {
namespace fmt {
class SegmentFooter;
}

// Rows per block by default: large enough for fast scans, small enough that
// per-block statistics prune well.
inline constexpr RowIndex kDefaultBlockRows = 65536;
// The most rows a block may hold; readers reject larger blocks as damaged, which
// bounds what decoding one chunk can allocate.
inline constexpr RowIndex kMaxBlockRows = RowIndex{1} << 24;
// A block also ends before its largest string column passes this many bytes,
// so every chunk's u32 offsets fit.
inline constexpr uint64_t kMaxBlockBytes = 256ull << 20;

struct SegmentWriteOptions {
  // Rows per block. Default: kDefaultBlockRows. Must be 1..kMaxBlockRows.
  RowIndex block_rows = kDefaultBlockRows;
  // kZstd compresses each chunk whose compressed form is at least 10% smaller;
  // reads of such chunks must decompress them. Default: kNone, which keeps every
  // value addressable in place through mmap.
  Compression compression = Compression::kNone;
  int zstd_level = 3;
};

struct SegmentWriteResult {
  uint64_t size = 0;
  uint64_t checksum = 0;  // XXH64 of the whole file
  RowIndex row_count = 0;
};

// Writing a segment, in three steps so that its blocks can be encoded on
// several threads: plan the blocks, encode each (any order, any thread), then
// write them in order. The segment's rows are `rows` of `columns` (one column
// per schema field), in that order, which must be primary-key order.

// The blocks, as [begin, end) positions in `rows`: at most `block_rows` rows
// each, and fewer where a string column would pass kMaxBlockBytes.
// kInvalidArgument if block_rows is out of range or one value is 4 GiB or
// larger.
absl::StatusOr<std::vector<std::pair<RowIndex, RowIndex>>> PlanSegmentBlocks(
    const std::vector<Column>& columns, std::span<const RowIndex> rows, RowIndex block_rows);

// One column chunk ready to write: `chunk.bytes` as stored.
struct StoredChunk {
  EncodedChunk chunk;
  Compression compression = Compression::kNone;
  uint64_t uncompressed_length = 0;
};
struct EncodedBlock {
  RowIndex row_count = 0;
  std::vector<StoredChunk> chunks;  // one per column
};

// `chunk` compressed as `options` ask, where that saves a tenth or more;
// `scratch` is a buffer the caller may reuse from call to call.
absl::StatusOr<StoredChunk> StoreChunk(EncodedChunk chunk, const SegmentWriteOptions& options,
                                       std::string* scratch);

// Encodes (and compresses, as `options` ask) rows [begin, end) of `columns`,
// which are in key order.
absl::StatusOr<EncodedBlock> EncodeSegmentBlock(const std::vector<Column>& columns, RowIndex begin,
                                                RowIndex end, const SegmentWriteOptions& options);

// Writes `blocks`, in order, as a new segment file at `path`, and fsyncs it.
absl::StatusOr<SegmentWriteResult> WriteEncodedSegment(const std::string& path, const Schema& schema,
                                                       const std::vector<EncodedBlock>& blocks);

// A segment file written block by block, so that a large segment never has
// all its encoded blocks in memory: the file WriteEncodedSegment writes for
// the same blocks.
class SegmentFileWriter {
 public:
  static absl::StatusOr<std::unique_ptr<SegmentFileWriter>> Create(const std::string& path,
                                                                   const Schema& schema);
  ~SegmentFileWriter();
  // Appends the next block.
  absl::Status Append(const EncodedBlock& block);
  RowIndex row_count() const;
  // Writes the footer, fsyncs and closes the file.
  absl::StatusOr<SegmentWriteResult> Finish();

 private:
  SegmentFileWriter(std::unique_ptr<WritableFile> file, const Schema& schema);
  absl::Status Write(std::string_view data);
  std::unique_ptr<WritableFile> file_;
  size_t columns_;
  Checksum64Stream checksum_;
  std::unique_ptr<fmt::SegmentFooter> footer_;
};

struct ChunkInfo {
  ChunkLayout layout;
  Compression compression = Compression::kNone;
  uint64_t offset = 0;
  uint64_t stored_length = 0;
  uint64_t uncompressed_length = 0;
  uint64_t checksum = 0;
  ChunkStats stats;
};

struct BlockInfo {
  RowIndex first_row = 0;
  RowIndex row_count = 0;
  std::vector<ChunkInfo> columns;
};

class Segment {
 public:
  // Checks the header, tail, footer checksum and every structural rule of the
  // footer (chunk ranges inside the file, block row ranges contiguous, one
  // chunk per column). Chunk checksums are checked when chunks are read.
  static absl::StatusOr<std::shared_ptr<const Segment>> Open(std::shared_ptr<const MappedFile> file);
  static absl::StatusOr<std::shared_ptr<const Segment>> Open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  const Schema& schema() const { return schema_; }
  RowIndex row_count() const { return row_count_; }
  const std::vector<BlockInfo>& blocks() const { return blocks_; }
  uint64_t file_size() const { return file_->size(); }

  // Decodes column `column` of block `block` and appends its rows to `out`,
  // after checking the chunk's checksum. kDataLoss names file and offset.
  absl::Status ReadChunk(size_t block, size_t column, Column* out) const;
  // Every row of one column.
  absl::StatusOr<Column> ReadColumn(size_t column) const;

  // Random access to column `column` of block `block`. The first call for a
  // chunk checks it as ReadChunk does (and decompresses it if needed); the
  // reader is then kept for the segment's life and later calls are one
  // atomic load. kDataLoss names file, block, column and offset.
  absl::StatusOr<const ChunkReader*> Reader(size_t block, size_t column) const {
    const ChunkReader* r =
        readers_[block * schema_.fields.size() + column].load(std::memory_order_acquire);
    if (r != nullptr) return r;
    return MakeReader(block, column);
  }
  // The reader of a chunk that Reader() already made (else nullptr).
  const ChunkReader* ReadyReader(size_t block, size_t column) const {
    return readers_[block * schema_.fields.size() + column].load(std::memory_order_acquire);
  }
  // The block holding `row` (0 <= row < row_count()), and its first row.
  size_t BlockOf(RowIndex row) const;
  RowIndex block_start(size_t block) const { return block_starts_[block]; }

 private:
  Segment() = default;
  // The chunk's uncompressed bytes after checking its checksum; `owned`
  // holds them if they had to be decompressed.
  absl::Status LoadChunk(size_t block, size_t column, std::string* owned,
                         std::string_view* bytes) const;
  absl::StatusOr<const ChunkReader*> MakeReader(size_t block, size_t column) const;

  std::shared_ptr<const MappedFile> file_;
  Schema schema_;
  RowIndex row_count_ = 0;
  std::vector<BlockInfo> blocks_;
  std::vector<RowIndex> block_starts_;  // first_row of each block
  mutable std::mutex readers_mu_;  // serializes MakeReader
  mutable std::unique_ptr<std::atomic<const ChunkReader*>[]> readers_;  // block-major
  mutable std::vector<std::unique_ptr<const ChunkReader>> owned_readers_;
};

}  // namespace retl

#endif  // RETL_FORMAT_SEGMENT_H_
