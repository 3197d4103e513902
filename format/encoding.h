// Column chunk encodings (FORMAT.md §5): turning rows [begin, end) of a Column
// into the bytes of one column chunk, and decoding and validating them back.
//
// Every encoding keeps each value addressable without decoding its
// neighbours (fixed widths, bit-packed codes, run-end offsets), so point
// reads never decompress a block unless zstd was asked for.
//
// Thread-safety: functions are pure.
#ifndef RETL_FORMAT_ENCODING_H_
#define RETL_FORMAT_ENCODING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "retl/status.h"
#include "retl/types.h"

namespace retl {

// Numbers are stored in files (FORMAT.md §5): never reuse.
enum class Encoding : uint8_t { kPlain = 0, kDictionary = 1, kForBitpack = 2, kRle = 3 };
enum class Compression : uint8_t { kNone = 0, kZstd = 1 };

inline constexpr int kNumEncodings = 4;
const char* EncodingName(Encoding e);
const char* CompressionName(Compression c);

// Strings longer than this get no min/max statistics (FORMAT.md §6.3).
inline constexpr size_t kMaxStatBytes = 64;

// A min or max statistic (FORMAT.md §6.3); which member is used depends on
// the physical type.
struct StatValue {
  enum class Kind : uint8_t { kInt, kDouble, kBytes };
  Kind kind = Kind::kInt;
  int64_t int_value = 0;
  double double_value = 0;
  std::string bytes_value;  // STRING, BINARY; DECIMAL(p>18) as 16 LE bytes

  friend bool operator==(const StatValue&, const StatValue&) = default;
};

struct ChunkStats {
  RowIndex null_count = 0;
  std::optional<StatValue> min;
  std::optional<StatValue> max;
};

struct BufferRange {
  uint64_t offset = 0;  // from the start of the uncompressed chunk
  uint64_t length = 0;
};

// Everything about a chunk except its bytes: what the footer records.
struct ChunkLayout {
  Encoding encoding = Encoding::kPlain;
  std::vector<BufferRange> buffers;
  int bit_width = 0;          // FOR_BITPACK, DICTIONARY
  int64_t reference = 0;      // FOR_BITPACK
  int32_t dictionary_size = 0;
  int32_t run_count = 0;
};

struct EncodedChunk {
  ChunkLayout layout;
  ChunkStats stats;
  std::string bytes;  // uncompressed chunk
};

// Encodes rows [begin, end) of `column` with the smallest encoding that
// applies to its type (ties go to the simpler one).
EncodedChunk EncodeChunk(const Column& column, RowIndex begin, RowIndex end);
// Encodes with `encoding`; kInvalidArgument if it does not apply to the type.
absl::StatusOr<EncodedChunk> EncodeChunkAs(const Column& column, RowIndex begin, RowIndex end,
                                           Encoding encoding);
// Computes the statistics of rows [begin, end).
ChunkStats ComputeStats(const Column& column, RowIndex begin, RowIndex end);

// Decodes `rows` values from an uncompressed chunk and appends them to `out`
// (whose type is the column's). Checks every structural rule of FORMAT.md §5
// and returns kDataLoss naming the rule broken; never reads outside `bytes`.
// `null_count` is the statistic from the footer, checked against the bitmap.
absl::Status DecodeChunk(const ChunkLayout& layout, std::string_view bytes, RowIndex rows,
                         RowIndex null_count, Column* out);

// Bit-packing (FORMAT.md §5.2): value i occupies bits [i*w, (i+1)*w) of a
// stream of little-endian 64-bit words, least significant bit first.
size_t BitPackedSize(size_t count, int width);
void BitPack(const uint64_t* values, size_t count, int width, std::string* out);
// `words` must hold BitPackedSize(count, width) bytes.
void BitUnpack(const uint8_t* words, size_t count, int width, uint64_t* out);
// Bits needed for `max_value` (0 for 0).
int BitWidth(uint64_t max_value);

}  // namespace retl

#endif  // RETL_FORMAT_ENCODING_H_
