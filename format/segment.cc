#include "format/segment.h"
#include "format/strings.h"

#include <zstd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "format/metadata.h"

namespace retl {

namespace {

fmt::StatValue StatToThrift(const StatValue& v) {
  fmt::StatValue out;
  switch (v.kind) {
    case StatValue::Kind::kInt: out.__set_int_value(v.int_value); break;
    case StatValue::Kind::kDouble: out.__set_double_value(v.double_value); break;
    case StatValue::Kind::kBytes: out.__set_bytes_value(v.bytes_value); break;
  }
  return out;
}

absl::StatusOr<StatValue> StatFromThrift(const fmt::StatValue& in, PhysicalType p) {
  StatValue v;
  switch (p) {
    case PhysicalType::kFloat:
    case PhysicalType::kDouble:
      if (!in.__isset.double_value) break;
      v.kind = StatValue::Kind::kDouble;
      v.double_value = in.double_value;
      return v;
    case PhysicalType::kBytes:
    case PhysicalType::kInt128:
      if (!in.__isset.bytes_value) break;
      if (p == PhysicalType::kInt128 && in.bytes_value.size() != 16) break;
      v.kind = StatValue::Kind::kBytes;
      v.bytes_value = in.bytes_value;
      return v;
    default:
      if (!in.__isset.int_value) break;
      v.int_value = in.int_value;
      return v;
  }
  return absl::DataLossError("statistics value of the wrong kind for the column type");
}

}  // namespace


absl::StatusOr<std::vector<std::pair<RowIndex, RowIndex>>> PlanSegmentBlocks(
    const std::vector<Column>& columns, std::span<const RowIndex> rows, RowIndex block_rows) {
  if (block_rows < 1 || block_rows > kMaxBlockRows) {
    return absl::InvalidArgumentError(
        StrCat("block rows must be 1..", kMaxBlockRows, ", got ", block_rows));
  }
  const RowIndex n = static_cast<RowIndex>(rows.size());
  // Only a string column with more than kMaxBlockBytes in all can make a
  // block end early.
  std::vector<const Column*> large;
  for (const Column& c : columns) {
    if (c.type().physical() == PhysicalType::kBytes && c.bytes().size() > kMaxBlockBytes) large.push_back(&c);
  }
  std::vector<std::pair<RowIndex, RowIndex>> blocks;
  for (RowIndex start = 0; start < n;) {
    RowIndex stop = std::min(n, start + block_rows);
    for (const Column* c : large) {
      const auto& off = c->offsets();
      uint64_t bytes = 0;
      for (RowIndex k = start; k < stop; ++k) {
        const uint64_t len = off[rows[k] + 1] - off[rows[k]];
        if (len > UINT32_MAX) {
          return absl::InvalidArgumentError("a single STRING or BINARY value is 4 GiB or larger");
        }
        bytes += len;
        if (bytes > kMaxBlockBytes && k > start) {
          stop = k;  // at least one row, even if that row alone is larger
          break;
        }
      }
    }
    blocks.emplace_back(start, stop);
    start = stop;
  }
  return blocks;
}

absl::StatusOr<StoredChunk> StoreChunk(EncodedChunk chunk, const SegmentWriteOptions& options,
                                       std::string* scratch) {
  StoredChunk out;
  out.chunk = std::move(chunk);
  out.uncompressed_length = out.chunk.bytes.size();
  if (options.compression == Compression::kZstd && !out.chunk.bytes.empty()) {
    scratch->resize(ZSTD_compressBound(out.chunk.bytes.size()));
    size_t n = ZSTD_compress(scratch->data(), scratch->size(), out.chunk.bytes.data(),
                             out.chunk.bytes.size(), options.zstd_level);
    if (ZSTD_isError(n)) return absl::InternalError(StrCat("zstd: ", ZSTD_getErrorName(n)));
    if (n * 10 <= out.chunk.bytes.size() * 9) {
      out.chunk.bytes.assign(scratch->data(), n);
      out.compression = Compression::kZstd;
    }
  }
  return out;
}

absl::StatusOr<EncodedBlock> EncodeSegmentBlock(const std::vector<Column>& columns, RowIndex begin,
                                                RowIndex end, const SegmentWriteOptions& options) {
  EncodedBlock block;
  block.row_count = end - begin;
  block.chunks.reserve(columns.size());
  std::string scratch;
  for (const Column& column : columns) {
    RETL_ASSIGN_OR_RETURN(StoredChunk out, StoreChunk(EncodeChunk(column, begin, end), options, &scratch));
    block.chunks.push_back(std::move(out));
  }
  return block;
}

absl::StatusOr<std::unique_ptr<SegmentFileWriter>> SegmentFileWriter::Create(const std::string& path,
                                                                          const Schema& schema) {
  RETL_ASSIGN_OR_RETURN(auto file, WritableFile::Create(path));
  std::unique_ptr<SegmentFileWriter> w(new SegmentFileWriter(std::move(file), schema));
  w->footer_ = std::make_unique<fmt::SegmentFooter>();
  w->footer_->format_version = kFormatVersion;
  w->footer_->schema = SchemaToThrift(schema);
  w->footer_->row_count = 0;
  w->footer_->__set_created_by(kCreatedBy);
  RETL_RETURN_IF_ERROR(w->Write(EncodeHeader(kSegmentMagic)));
  return w;
}

SegmentFileWriter::SegmentFileWriter(std::unique_ptr<WritableFile> file, const Schema& schema)
    : file_(std::move(file)), columns_(schema.fields.size()) {}

SegmentFileWriter::~SegmentFileWriter() = default;

absl::Status SegmentFileWriter::Write(std::string_view data) {
  checksum_.Update(data.data(), data.size());
  return file_->Append(data);
}

absl::Status SegmentFileWriter::Append(const EncodedBlock& eb) {
  if (eb.chunks.size() != columns_) {
    return absl::InvalidArgumentError(StrCat("segment needs ", columns_, " columns, got ", eb.chunks.size()));
  }
  fmt::SegmentFooter& footer = *footer_;
  fmt::Block block;
  block.first_row = footer.row_count;
  block.row_count = static_cast<int32_t>(eb.row_count);
  footer.row_count += eb.row_count;
  for (const StoredChunk& stored : eb.chunks) {
    const EncodedChunk& chunk = stored.chunk;
    fmt::ColumnChunk tc;
    tc.compression = stored.compression == Compression::kZstd ? fmt::Compression::ZSTD
                                                               : fmt::Compression::NONE;
    if (const uint64_t rem = file_->size() % kChunkAlignment; rem != 0) {
      RETL_RETURN_IF_ERROR(Write(std::string(kChunkAlignment - rem, '\0')));
    }
    tc.encoding = static_cast<fmt::Encoding::type>(chunk.layout.encoding);
    tc.offset = static_cast<int64_t>(file_->size());
    tc.stored_length = static_cast<int64_t>(chunk.bytes.size());
    tc.uncompressed_length = static_cast<int64_t>(stored.uncompressed_length);
    tc.checksum = static_cast<int64_t>(Checksum64(chunk.bytes));
    for (const BufferRange& r : chunk.layout.buffers) {
      fmt::BufferRef ref;
      ref.offset = static_cast<int64_t>(r.offset);
      ref.length = static_cast<int64_t>(r.length);
      tc.buffers.push_back(ref);
    }
    tc.stats.null_count = chunk.stats.null_count;
    if (chunk.stats.min) tc.stats.__set_min(StatToThrift(*chunk.stats.min));
    if (chunk.stats.max) tc.stats.__set_max(StatToThrift(*chunk.stats.max));
    switch (chunk.layout.encoding) {
      case Encoding::kForBitpack:
        tc.__set_bit_width(chunk.layout.bit_width);
        tc.__set_reference(chunk.layout.reference);
        break;
      case Encoding::kDictionary:
        tc.__set_bit_width(chunk.layout.bit_width);
        tc.__set_dictionary_size(chunk.layout.dictionary_size);
        break;
      case Encoding::kRle: tc.__set_run_count(chunk.layout.run_count); break;
      case Encoding::kPlain: break;
    }
    RETL_RETURN_IF_ERROR(Write(chunk.bytes));
    block.columns.push_back(std::move(tc));
  }
  footer.blocks.push_back(std::move(block));
  return absl::OkStatus();
}

RowIndex SegmentFileWriter::row_count() const { return footer_->row_count; }

absl::StatusOr<SegmentWriteResult> SegmentFileWriter::Finish() {
  std::string body = SerializeThrift(*footer_);
  RETL_RETURN_IF_ERROR(Write(body));
  RETL_RETURN_IF_ERROR(Write(EncodeTail(kSegmentMagic, body)));
  RETL_RETURN_IF_ERROR(file_->Sync());
  RETL_RETURN_IF_ERROR(file_->Close());
  SegmentWriteResult result;
  result.size = file_->size();
  result.checksum = checksum_.Digest();
  result.row_count = footer_->row_count;
  return result;
}

absl::StatusOr<SegmentWriteResult> WriteEncodedSegment(const std::string& path, const Schema& schema,
                                                       const std::vector<EncodedBlock>& blocks) {
  RETL_ASSIGN_OR_RETURN(auto writer, SegmentFileWriter::Create(path, schema));
  for (const EncodedBlock& block : blocks) RETL_RETURN_IF_ERROR(writer->Append(block));
  return writer->Finish();
}

absl::StatusOr<std::shared_ptr<const Segment>> Segment::Open(const std::string& path) {
  RETL_ASSIGN_OR_RETURN(auto file, MappedFile::Open(path));
  return Open(std::move(file));
}

absl::StatusOr<std::shared_ptr<const Segment>> Segment::Open(
    std::shared_ptr<const MappedFile> file) {
  const std::string& path = file->path();
  uint64_t body_offset = 0;
  RETL_ASSIGN_OR_RETURN(std::string_view body,
                        LocateBody(file->view(), kSegmentMagic, "segment", path, &body_offset));
  auto loss = [&](const auto& what) {
    return absl::DataLossError(StrCat("segment '", path, "' is damaged: ", what));
  };
  fmt::SegmentFooter footer;
  RETL_RETURN_IF_ERROR(DeserializeThrift(
      body, &footer, StrCat("segment '", path, "' footer at offset ", body_offset)));
  if (footer.format_version < 1 || footer.format_version > kFormatVersion) {
    return absl::UnimplementedError(StrCat("segment '", path, "' footer has format version ",
                                                 footer.format_version));
  }
  RETL_RETURN_IF_ERROR(CheckRequiredFeatures(footer.required_features, "segment", path));
  std::shared_ptr<Segment> seg(new Segment());
  seg->file_ = std::move(file);
  auto schema = SchemaFromThrift(footer.schema);
  // Invalid schema: kDataLoss; unknown type: kUnimplemented (SchemaFromThrift).
  if (!schema.ok()) return Annotate(schema.status(), StrCat("segment '", path, "': "));
  seg->schema_ = std::move(schema).value();
  seg->row_count_ = footer.row_count;
  if (footer.row_count < 0) return loss("negative row count");

  const size_t ncols = seg->schema_.fields.size();
  RowIndex next_row = 0;
  uint64_t min_offset = kHeaderSize;  // chunks are in file order, non-overlapping
  for (size_t b = 0; b < footer.blocks.size(); ++b) {
    const fmt::Block& tb = footer.blocks[b];
    if (tb.first_row != next_row || tb.row_count <= 0 || tb.row_count > kMaxBlockRows) {
      return loss(StrCat("block ", b, " covers rows [", tb.first_row, ", +", tb.row_count,
                               "), expected to start at row ", next_row));
    }
    if (tb.columns.size() != ncols) {
      return loss(StrCat("block ", b, " has ", tb.columns.size(), " column chunks for ",
                               ncols, " columns"));
    }
    BlockInfo block;
    block.first_row = tb.first_row;
    block.row_count = tb.row_count;
    next_row += tb.row_count;
    for (size_t c = 0; c < ncols; ++c) {
      const fmt::ColumnChunk& tc = tb.columns[c];
      ChunkInfo chunk;
      auto where = [&] { return StrCat("block ", b, " column '", seg->schema_.fields[c].name, "': "); };
      int enc = static_cast<int>(tc.encoding);
      if (enc < 0 || enc >= kNumEncodings) {
        return absl::UnimplementedError(StrCat("segment '", path, "' ", where(),
                                                     "unknown encoding ", enc));
      }
      int comp = static_cast<int>(tc.compression);
      if (comp != 0 && comp != 1) {
        return absl::UnimplementedError(StrCat("segment '", path, "' ", where(),
                                                     "unknown compression ", comp));
      }
      if (tc.offset < 0 || static_cast<uint64_t>(tc.offset) < min_offset ||
          static_cast<uint64_t>(tc.offset) > body_offset ||
          tc.offset % kChunkAlignment != 0 || tc.stored_length < 0 ||
          static_cast<uint64_t>(tc.stored_length) > body_offset - tc.offset ||
          tc.uncompressed_length < 0 || tc.uncompressed_length > (int64_t{1} << 40) ||
          (comp == 0 && tc.uncompressed_length != tc.stored_length)) {
        return loss(StrCat(where(), "chunk [", tc.offset, ", +", tc.stored_length,
                                 ") is outside the data region or misaligned"));
      }
      min_offset = tc.offset + tc.stored_length;
      chunk.layout.encoding = static_cast<Encoding>(enc);
      chunk.compression = static_cast<Compression>(comp);
      chunk.offset = tc.offset;
      chunk.stored_length = tc.stored_length;
      chunk.uncompressed_length = tc.uncompressed_length;
      chunk.checksum = static_cast<uint64_t>(tc.checksum);
      for (const fmt::BufferRef& r : tc.buffers) {
        if (r.offset < 0 || r.length < 0) return loss(StrCat(where(), "negative buffer range"));
        chunk.layout.buffers.push_back({static_cast<uint64_t>(r.offset), static_cast<uint64_t>(r.length)});
      }
      chunk.layout.bit_width = tc.__isset.bit_width ? tc.bit_width : 0;
      chunk.layout.reference = tc.__isset.reference ? tc.reference : 0;
      chunk.layout.dictionary_size = tc.__isset.dictionary_size ? tc.dictionary_size : 0;
      chunk.layout.run_count = tc.__isset.run_count ? tc.run_count : 0;
      chunk.stats.null_count = tc.stats.null_count;
      if (tc.stats.null_count < 0 || tc.stats.null_count > tb.row_count) {
        return loss(StrCat(where(), "null count ", tc.stats.null_count, " out of range"));
      }
      PhysicalType p = seg->schema_.fields[c].type.physical();
      if (tc.stats.__isset.min) {
        auto v = StatFromThrift(tc.stats.min, p);
        if (!v.ok()) return loss(StrCat(where(), v.status().message()));
        chunk.stats.min = std::move(v).value();
      }
      if (tc.stats.__isset.max) {
        auto v = StatFromThrift(tc.stats.max, p);
        if (!v.ok()) return loss(StrCat(where(), v.status().message()));
        chunk.stats.max = std::move(v).value();
      }
      block.columns.push_back(std::move(chunk));
    }
    seg->blocks_.push_back(std::move(block));
  }
  if (next_row != seg->row_count_) {
    return loss(StrCat("blocks hold ", next_row, " rows, footer says ", seg->row_count_));
  }
  for (const BlockInfo& b : seg->blocks_) seg->block_starts_.push_back(b.first_row);
  const size_t chunks = seg->blocks_.size() * seg->schema_.fields.size();
  seg->readers_.reset(new std::atomic<const ChunkReader*>[chunks]);
  for (size_t i = 0; i < chunks; ++i) seg->readers_[i].store(nullptr, std::memory_order_relaxed);
  return std::shared_ptr<const Segment>(std::move(seg));
}

absl::Status Segment::ReadChunk(size_t block, size_t column, Column* out) const {
  if (block >= blocks_.size() || column >= schema_.fields.size()) {
    return absl::OutOfRangeError(StrCat("no block ", block, " column ", column, " in '",
                                              path(), "'"));
  }
  const BlockInfo& b = blocks_[block];
  const ChunkInfo& c = b.columns[column];
  auto context = [&] {
    return StrCat("segment '", path(), "' block ", block, " column '",
                        schema_.fields[column].name, "' chunk at offset ", c.offset);
  };
  std::string decompressed;
  std::string_view bytes;
  RETL_RETURN_IF_ERROR(LoadChunk(block, column, &decompressed, &bytes));
  // On error `out` holds a partial block; callers discard it with the error.
  absl::Status s = DecodeChunk(c.layout, bytes, b.row_count, c.stats.null_count, out);
  if (!s.ok()) return absl::DataLossError(StrCat(context(), ": ", s.message()));
  return absl::OkStatus();
}

absl::Status Segment::LoadChunk(size_t block, size_t column, std::string* owned,
                               std::string_view* bytes) const {
  const ChunkInfo& c = blocks_[block].columns[column];
  auto context = [&] {
    return StrCat("segment '", path(), "' block ", block, " column '",
                  schema_.fields[column].name, "' chunk at offset ", c.offset);
  };
  std::string_view stored(reinterpret_cast<const char*>(file_->data()) + c.offset, c.stored_length);
  if (Checksum64(stored) != c.checksum) {
    return absl::DataLossError(StrCat(context(), ": checksum mismatch"));
  }
  *bytes = stored;
  if (c.compression == Compression::kZstd) {
    unsigned long long frame_size = ZSTD_getFrameContentSize(stored.data(), stored.size());
    if (frame_size != c.uncompressed_length) {
      return absl::DataLossError(StrCat(context(), ": zstd frame does not declare ",
                                        c.uncompressed_length, " bytes"));
    }
    owned->resize(c.uncompressed_length);
    size_t n = ZSTD_decompress(owned->data(), owned->size(), stored.data(), stored.size());
    if (ZSTD_isError(n) || n != c.uncompressed_length) {
      return absl::DataLossError(StrCat(context(), ": zstd data does not decompress to ",
                                        c.uncompressed_length, " bytes"));
    }
    *bytes = *owned;
  }
  return absl::OkStatus();
}

absl::StatusOr<const ChunkReader*> Segment::MakeReader(size_t block, size_t column) const {
  if (block >= blocks_.size() || column >= schema_.fields.size()) {
    return absl::OutOfRangeError(StrCat("no block ", block, " column ", column, " in '",
                                        path(), "'"));
  }
  std::lock_guard<std::mutex> lock(readers_mu_);
  std::atomic<const ChunkReader*>& slot = readers_[block * schema_.fields.size() + column];
  if (const ChunkReader* r = slot.load(std::memory_order_acquire)) return r;
  const BlockInfo& b = blocks_[block];
  const ChunkInfo& c = b.columns[column];
  std::string owned;
  std::string_view bytes;
  RETL_RETURN_IF_ERROR(LoadChunk(block, column, &owned, &bytes));
  {
    // Decoding checks every structural rule once; the reader then trusts them.
    Column scratch(schema_.fields[column].type);
    absl::Status s = DecodeChunk(c.layout, bytes, b.row_count, c.stats.null_count, &scratch);
    if (!s.ok()) {
      return absl::DataLossError(StrCat("segment '", path(), "' block ", block, " column '",
                                        schema_.fields[column].name, "' chunk at offset ",
                                        c.offset, ": ", s.message()));
    }
  }
  if (c.compression == Compression::kNone) owned.clear();
  auto reader = std::make_unique<const ChunkReader>(
      c.layout, schema_.fields[column].type, b.row_count,
      c.compression == Compression::kNone ? bytes : std::string_view(), std::move(owned));
  const ChunkReader* r = reader.get();
  owned_readers_.push_back(std::move(reader));
  slot.store(r, std::memory_order_release);
  return r;
}

size_t Segment::BlockOf(RowIndex row) const {
  auto it = std::upper_bound(block_starts_.begin(), block_starts_.end(), row);
  return static_cast<size_t>(it - block_starts_.begin()) - 1;
}

absl::StatusOr<Column> Segment::ReadColumn(size_t column) const {
  if (column >= schema_.fields.size()) {
    return absl::OutOfRangeError(StrCat("no column ", column, " in '", path(), "'"));
  }
  Column out(schema_.fields[column].type);
  out.Reserve(row_count_);
  for (size_t b = 0; b < blocks_.size(); ++b) RETL_RETURN_IF_ERROR(ReadChunk(b, column, &out));
  return out;
}



}  // namespace retl
