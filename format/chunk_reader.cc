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
  prefetch_base_ = base_;  // RLE: the run ends are searched; nothing to hint
  switch (encoding_) {
    case Encoding::kPlain:
      prefetch_base_ = b1_;
      if (physical_ == PhysicalType::kBytes) {
        prefetch_mul_ = 4;  // the offsets
      } else if (physical_ == PhysicalType::kBool) {
        prefetch_mul_ = 1, prefetch_shift_ = 3;
      } else {
        prefetch_mul_ = static_cast<uint32_t>(width_);
      }
      break;
    case Encoding::kForBitpack:
    case Encoding::kDictionary:
      prefetch_base_ = encoding_ == Encoding::kForBitpack ? b1_ : b3_;
      prefetch_mul_ = static_cast<uint32_t>(bit_width_), prefetch_shift_ = 6, prefetch_scale_ = 3;
      break;
    case Encoding::kRle: break;
  }
  if (prefetch_base_ == nullptr) prefetch_base_ = base_;
}

const uint8_t* ChunkReader::Buffer(const ChunkLayout& layout, size_t k) const {
  return k < layout.buffers.size() ? base_ + layout.buffers[k].offset : nullptr;
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


}  // namespace retl
