#include "format/chunk_reader.h"

#include <algorithm>

#include "format/key_codec.h"

namespace retl {

ChunkReader::ChunkReader(const ChunkLayout& layout, const DataType& type, RowIndex rows,
                         std::string_view bytes, std::string owned)
    : type_(type),
      physical_(type.physical()),
      encoding_(layout.encoding),
      rows_(rows),
      width_(type.FixedWidth()),
      bit_width_(layout.bit_width),
      reference_(layout.reference),
      run_count_(layout.run_count),
      dictionary_size_(layout.dictionary_size),
      owned_(std::move(owned)) {
  if (!owned_.empty()) bytes = owned_;
  base_ = reinterpret_cast<const uint8_t*>(bytes.data());
  if (!layout.buffers.empty() && layout.buffers[0].length > 0) validity_ = Buffer(layout, 0);
  b1_ = Buffer(layout, 1);
  b2_ = Buffer(layout, 2);
  b3_ = Buffer(layout, 3);
}

const uint8_t* ChunkReader::Buffer(const ChunkLayout& layout, size_t k) const {
  return k < layout.buffers.size() ? base_ + layout.buffers[k].offset : nullptr;
}

RowIndex ChunkReader::Run(RowIndex i) const {
  // Run j covers [end[j-1], end[j]): the first end above i.
  const uint8_t* ends = b1_;
  RowIndex lo = 0, hi = run_count_ - 1;
  while (lo < hi) {
    RowIndex mid = lo + (hi - lo) / 2;
    if (Load<uint32_t>(ends + mid * 4) > static_cast<uint64_t>(i)) hi = mid; else lo = mid + 1;
  }
  return lo;
}

bool ChunkReader::GetBool(RowIndex i) const {
  if (encoding_ == Encoding::kPlain) return (b1_[i >> 3] >> (i & 7)) & 1;
  return *Slot(i) != 0;  // RLE: one byte per run
}

int64_t ChunkReader::GetInt(RowIndex i) const {
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

int128 ChunkReader::GetInt128(RowIndex i) const {
  if (physical_ == PhysicalType::kInt128 && encoding_ != Encoding::kForBitpack) {
    return Load<int128>(Slot(i));
  }
  return GetInt(i);
}

double ChunkReader::GetDouble(RowIndex i) const {
  if (physical_ == PhysicalType::kFloat) return Load<float>(Slot(i));
  return Load<double>(Slot(i));
}

std::string_view ChunkReader::GetBytes(RowIndex i) const {
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

void ChunkReader::AppendNormalized(RowIndex i, std::string* out) const {
  switch (physical_) {
    case PhysicalType::kInt128: AppendNormalizedInt128(GetInt128(i), out); break;
    case PhysicalType::kFloat:
    case PhysicalType::kDouble: AppendNormalizedDouble(GetDouble(i), out); break;
    case PhysicalType::kBytes: AppendNormalizedBytes(GetBytes(i), out); break;
    default: AppendNormalizedInt(GetInt(i), out); break;
  }
}

void ChunkReader::Prefetch(RowIndex i) const {
  if (validity_ != nullptr) __builtin_prefetch(validity_ + (i >> 3));
  switch (encoding_) {
    case Encoding::kPlain:
      if (physical_ == PhysicalType::kBytes) {
        __builtin_prefetch(b1_ + i * 4);
      } else if (physical_ == PhysicalType::kBool) {
        __builtin_prefetch(b1_ + (i >> 3));
      } else {
        __builtin_prefetch(b1_ + i * width_);
      }
      break;
    case Encoding::kForBitpack:
      __builtin_prefetch(b1_ + ((static_cast<uint64_t>(i) * bit_width_) >> 6) * 8);
      break;
    case Encoding::kDictionary:
      __builtin_prefetch(b3_ + ((static_cast<uint64_t>(i) * bit_width_) >> 6) * 8);
      break;
    case Encoding::kRle: break;
  }
}

}  // namespace retl
