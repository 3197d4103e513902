#include "format/chunk_reader.h"

#include <algorithm>
#include <cstring>

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

void ChunkReader::ReadValidity(RowIndex begin, size_t n, uint8_t* out) const {
  if (validity_ == nullptr) {
    std::memset(out, 1, n);
    return;
  }
  for (size_t k = 0; k < n; ++k) {
    const RowIndex i = begin + static_cast<RowIndex>(k);
    out[k] = (validity_[i >> 3] >> (i & 7)) & 1;
  }
}

namespace {
template <typename T>
void Widen(const uint8_t* p, size_t n, int64_t* out) {
  for (size_t k = 0; k < n; ++k) {
    T v;
    std::memcpy(&v, p + k * sizeof(T), sizeof(T));
    out[k] = static_cast<int64_t>(v);
  }
}
}  // namespace

void ChunkReader::ReadInts(RowIndex begin, size_t n, int64_t* out) const {
  switch (encoding_) {
    case Encoding::kForBitpack:
      for (size_t k = 0; k < n; ++k) {
        out[k] = static_cast<int64_t>(static_cast<uint64_t>(reference_) +
                                      Unpack(b1_, begin + static_cast<RowIndex>(k)));
      }
      return;
    case Encoding::kPlain:
      switch (physical_) {
        case PhysicalType::kBool:
          for (size_t k = 0; k < n; ++k) {
            const RowIndex i = begin + static_cast<RowIndex>(k);
            out[k] = (b1_[i >> 3] >> (i & 7)) & 1;
          }
          return;
        case PhysicalType::kInt8: Widen<int8_t>(b1_ + begin, n, out); return;
        case PhysicalType::kInt16: Widen<int16_t>(b1_ + begin * 2, n, out); return;
        case PhysicalType::kInt32: Widen<int32_t>(b1_ + begin * 4, n, out); return;
        case PhysicalType::kInt64: std::memcpy(out, b1_ + begin * 8, n * 8); return;
        default: break;
      }
      break;
    default:
      break;
  }
  for (size_t k = 0; k < n; ++k) out[k] = GetInt(begin + static_cast<RowIndex>(k));
}

void ChunkReader::GatherValidity(RowIndex begin, const uint32_t* sel, size_t m, uint8_t* out) const {
  if (validity_ == nullptr) {
    std::memset(out, 1, m);
    return;
  }
  for (size_t j = 0; j < m; ++j) {
    const RowIndex i = begin + sel[j];
    out[j] = (validity_[i >> 3] >> (i & 7)) & 1;
  }
}

namespace {
template <typename T>
void GatherWiden(const uint8_t* p, RowIndex begin, const uint32_t* sel, size_t m, int64_t* out) {
  for (size_t j = 0; j < m; ++j) {
    T v;
    std::memcpy(&v, p + (begin + sel[j]) * sizeof(T), sizeof(T));
    out[j] = static_cast<int64_t>(v);
  }
}
}  // namespace

void ChunkReader::GatherInts(RowIndex begin, const uint32_t* sel, size_t m, int64_t* out) const {
  switch (encoding_) {
    case Encoding::kForBitpack:
      for (size_t j = 0; j < m; ++j) {
        out[j] = static_cast<int64_t>(static_cast<uint64_t>(reference_) + Unpack(b1_, begin + sel[j]));
      }
      return;
    case Encoding::kPlain:
      switch (physical_) {
        case PhysicalType::kInt8: GatherWiden<int8_t>(b1_, begin, sel, m, out); return;
        case PhysicalType::kInt16: GatherWiden<int16_t>(b1_, begin, sel, m, out); return;
        case PhysicalType::kInt32: GatherWiden<int32_t>(b1_, begin, sel, m, out); return;
        case PhysicalType::kInt64: GatherWiden<int64_t>(b1_, begin, sel, m, out); return;
        default: break;
      }
      break;
    default:
      break;
  }
  for (size_t j = 0; j < m; ++j) out[j] = GetInt(begin + sel[j]);
}

void ChunkReader::GatherDoubles(RowIndex begin, const uint32_t* sel, size_t m, double* out) const {
  if (encoding_ == Encoding::kPlain && physical_ == PhysicalType::kDouble) {
    for (size_t j = 0; j < m; ++j) std::memcpy(&out[j], b1_ + (begin + sel[j]) * 8, 8);
    return;
  }
  for (size_t j = 0; j < m; ++j) out[j] = GetDouble(begin + sel[j]);
}

void ChunkReader::ReadDoubles(RowIndex begin, size_t n, double* out) const {
  if (encoding_ == Encoding::kPlain && physical_ == PhysicalType::kDouble) {
    std::memcpy(out, b1_ + begin * 8, n * 8);
    return;
  }
  for (size_t k = 0; k < n; ++k) out[k] = GetDouble(begin + static_cast<RowIndex>(k));
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

void ChunkReader::PrefetchBytes(RowIndex i) const {
  if (physical_ != PhysicalType::kBytes) return;
  switch (encoding_) {
    case Encoding::kPlain: __builtin_prefetch(b2_ + Load<uint32_t>(b1_ + i * 4)); break;
    case Encoding::kDictionary: {
      const uint64_t j = Unpack(b3_, i);
      if (j < static_cast<uint64_t>(dictionary_size_)) __builtin_prefetch(b1_ + j * 4);
      break;
    }
    default: break;
  }
}

}  // namespace retl
