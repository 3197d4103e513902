// Random access to the values of one column chunk (FORMAT.md §5), in place:
// point lookups read one row's value without decoding its block. Every
// encoding keeps values addressable: fixed widths, bit-packed deltas or
// dictionary codes, offsets arrays, and run ends found by binary search.
//
// A ChunkReader is built only over a chunk that DecodeChunk() accepted (its
// checksum and every structural rule checked), so its getters do no bounds
// checks. Segment::Reader() builds them.
//
// Thread-safety: immutable; any number of threads may read.
#ifndef RETL_FORMAT_CHUNK_READER_H_
#define RETL_FORMAT_CHUNK_READER_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "format/encoding.h"
#include "retl/types.h"

namespace retl {

class ChunkReader {
 public:
  // `bytes` is the uncompressed chunk; for a compressed chunk pass the
  // decompressed bytes as `owned` (and an empty `bytes`), kept alive here.
  ChunkReader(const ChunkLayout& layout, const DataType& type, RowIndex rows,
              std::string_view bytes, std::string owned);
  ChunkReader(const ChunkReader&) = delete;
  ChunkReader& operator=(const ChunkReader&) = delete;

  RowIndex rows() const { return rows_; }
  const DataType& type() const { return type_; }

  bool IsNull(RowIndex i) const {
    return validity_ != nullptr && ((validity_[i >> 3] >> (i & 7)) & 1) == 0;
  }
  bool GetBool(RowIndex i) const;
  // Integer-like types (and BOOLEAN as 0/1), widened to int64.
  int64_t GetInt(RowIndex i) const;
  int128 GetInt128(RowIndex i) const;
  double GetDouble(RowIndex i) const;
  std::string_view GetBytes(RowIndex i) const;
  // Rows [begin, begin + n) at once, for scans (the caller checks the range):
  // 1 for valid and 0 for NULL; integer-like values (BOOLEAN as 0/1) widened
  // to int64; FLOAT or DOUBLE values as double. Values of NULL rows are
  // unspecified.
  void ReadValidity(RowIndex begin, size_t n, uint8_t* out) const;
  void ReadInts(RowIndex begin, size_t n, int64_t* out) const;
  void ReadDoubles(RowIndex begin, size_t n, double* out) const;
  // Dictionary-encoded STRING or BINARY chunks (FORMAT.md §5): the entries,
  // and the codes of rows [begin, begin + n) (a NULL row's code is
  // unchecked: it may be dictionary_size() or more).
  bool dictionary_encoded() const { return encoding_ == Encoding::kDictionary; }
  int32_t dictionary_size() const { return dictionary_size_; }
  std::string_view DictionaryEntry(int32_t j) const {
    const uint32_t begin = Load<uint32_t>(b1_ + j * 4), end = Load<uint32_t>(b1_ + j * 4 + 4);
    return std::string_view(reinterpret_cast<const char*>(b2_) + begin, end - begin);
  }
  void ReadCodes(RowIndex begin, size_t n, uint32_t* out) const {
    for (size_t k = 0; k < n; ++k) out[k] = static_cast<uint32_t>(Unpack(b3_, begin + static_cast<RowIndex>(k)));
  }
  // As ReadValidity / ReadInts / ReadDoubles / ReadCodes for rows
  // begin + sel[j], j < m (a filter's survivors): the encoding is dispatched
  // once, not per row. Values of NULL rows are unspecified.
  void GatherValidity(RowIndex begin, const uint32_t* sel, size_t m, uint8_t* out) const;
  void GatherInts(RowIndex begin, const uint32_t* sel, size_t m, int64_t* out) const;
  void GatherDoubles(RowIndex begin, const uint32_t* sel, size_t m, double* out) const;
  void GatherCodes(RowIndex begin, const uint32_t* sel, size_t m, uint32_t* out) const {
    for (size_t j = 0; j < m; ++j) out[j] = static_cast<uint32_t>(Unpack(b3_, begin + sel[j]));
  }
  // Whether some row may be NULL (the chunk has a validity bitmap).
  bool may_have_nulls() const { return validity_ != nullptr; }
  // Appends the normalized form (FORMAT.md §12.2) of valid row i.
  void AppendNormalized(RowIndex i, std::string* out) const;
  // Hints the CPU to load what reading row i touches first. Deliberately
  // out of line: inlined, the compiler may schedule the prefetches after the
  // key comparison they are meant to overlap (measured: lookups twice as slow).
  void Prefetch(RowIndex i) const;
  // For STRING and BINARY chunks, once what Prefetch(i) loaded is in cache:
  // hints the CPU to load row i's bytes (or its dictionary entry). A no-op
  // for other types.
  void PrefetchBytes(RowIndex i) const;

 private:
  template <typename T>
  static T Load(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
  }
  uint64_t Unpack(const uint8_t* words, RowIndex i) const {
    if (bit_width_ == 0) return 0;
    uint64_t bit = static_cast<uint64_t>(i) * bit_width_;
    uint64_t word = bit >> 6, shift = bit & 63;
    uint64_t v = Load<uint64_t>(words + word * 8) >> shift;
    if (shift + bit_width_ > 64) v |= Load<uint64_t>(words + (word + 1) * 8) << (64 - shift);
    return bit_width_ == 64 ? v : v & ((uint64_t{1} << bit_width_) - 1);
  }
  // RLE: the run holding row i.
  RowIndex Run(RowIndex i) const;
  // PLAIN and RLE fixed-width: where row i's value is stored.
  const uint8_t* Slot(RowIndex i) const {
    return encoding_ == Encoding::kRle ? b2_ + Run(i) * width_ : b1_ + i * width_;
  }
  const uint8_t* Buffer(const ChunkLayout& layout, size_t k) const;

  DataType type_;
  PhysicalType physical_;
  Encoding encoding_;
  RowIndex rows_;
  int width_;
  int bit_width_;
  int64_t reference_;
  int32_t run_count_;
  int32_t dictionary_size_;
  std::string owned_;
  const uint8_t* base_ = nullptr;
  const uint8_t* validity_ = nullptr;  // null when the chunk has no NULL
  const uint8_t* b1_ = nullptr;
  const uint8_t* b2_ = nullptr;
  const uint8_t* b3_ = nullptr;
};

// Getters are inline: a lookup calls one per column of every row it reads.
inline RowIndex ChunkReader::Run(RowIndex i) const {
  // Run j covers [end[j-1], end[j]): the first end above i.
  const uint8_t* ends = b1_;
  RowIndex lo = 0, hi = run_count_ - 1;
  while (lo < hi) {
    RowIndex mid = lo + (hi - lo) / 2;
    if (Load<uint32_t>(ends + mid * 4) > static_cast<uint64_t>(i)) hi = mid; else lo = mid + 1;
  }
  return lo;
}

inline bool ChunkReader::GetBool(RowIndex i) const {
  if (encoding_ == Encoding::kPlain) return (b1_[i >> 3] >> (i & 7)) & 1;
  return *Slot(i) != 0;  // RLE: one byte per run
}

inline int64_t ChunkReader::GetInt(RowIndex i) const {
  if (encoding_ == Encoding::kForBitpack) {
    return static_cast<int64_t>(static_cast<uint64_t>(reference_) + Unpack(b1_, i));
  }
  switch (physical_) {
    case PhysicalType::kBool: return GetBool(i) ? 1 : 0;
    case PhysicalType::kInt8: return static_cast<int8_t>(*Slot(i));
    case PhysicalType::kInt16: return Load<int16_t>(Slot(i));
    case PhysicalType::kInt32: return Load<int32_t>(Slot(i));
    case PhysicalType::kInt64: return Load<int64_t>(Slot(i));
    case PhysicalType::kInt128: return static_cast<int64_t>(Load<int128>(Slot(i)));
    default: return 0;
  }
}

inline int128 ChunkReader::GetInt128(RowIndex i) const {
  if (physical_ == PhysicalType::kInt128 && encoding_ != Encoding::kForBitpack) {
    return Load<int128>(Slot(i));
  }
  return GetInt(i);
}

inline double ChunkReader::GetDouble(RowIndex i) const {
  if (physical_ == PhysicalType::kFloat) return Load<float>(Slot(i));
  return Load<double>(Slot(i));
}

inline std::string_view ChunkReader::GetBytes(RowIndex i) const {
  const uint8_t* offsets;
  const uint8_t* data;
  RowIndex j;
  switch (encoding_) {
    case Encoding::kDictionary:
      offsets = b1_, data = b2_, j = static_cast<RowIndex>(Unpack(b3_, i));
      // Codes of NULL rows are unchecked (FORMAT.md §5.1): never follow one.
      if (j >= dictionary_size_) return std::string_view();
      break;
    case Encoding::kRle: offsets = b2_, data = b3_, j = Run(i); break;
    default: offsets = b1_, data = b2_, j = i; break;
  }
  uint32_t begin = Load<uint32_t>(offsets + j * 4), end = Load<uint32_t>(offsets + j * 4 + 4);
  return std::string_view(reinterpret_cast<const char*>(data) + begin, end - begin);
}

}  // namespace retl

#endif  // RETL_FORMAT_CHUNK_READER_H_
