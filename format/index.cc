#include "format/index.h"
#include "format/strings.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "format/encoding.h"
#include "format/key_codec.h"
#include "format/metadata.h"


namespace retl {

namespace {

template <typename T>
void PutLE(std::string* out, T v) {
  char b[sizeof(T)];
  __builtin_memcpy(b, &v, sizeof(T));
  out->append(b, sizeof(T));
}

// Appends a region to the file body under construction, 64-aligned.
fmt::IndexRegion AddRegion(std::string* file, std::string_view bytes) {
  file->resize((file->size() + kChunkAlignment - 1) / kChunkAlignment * kChunkAlignment, '\0');
  fmt::IndexRegion r;
  r.offset = static_cast<int64_t>(file->size());
  r.length = static_cast<int64_t>(bytes.size());
  file->append(bytes);
  return r;
}

constexpr uint32_t kSalt[8] = {0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du,
                               0x705495c7u, 0x2df1424bu, 0x9efc4947u, 0x5c6bfb31u};

// Builds one hash index over `keys` (rows not indexed are skipped) and
// appends its regions to `file`. `known_unique`: the caller has checked that
// no two keys are equal, so no grouping is needed.
fmt::HashIndex BuildHashIndex(const NormalizedKeys& keys, bool known_unique, std::string* file) {
  const RowIndex n = keys.size();
  // Groups in order of first row; group_of[r] for indexed rows.
  std::vector<uint32_t> group_of(known_unique ? 0 : n, 0);
  std::vector<RowIndex> first_row;
  std::vector<uint32_t> group_size;
  RowIndex rows = 0;
  if (known_unique) {
    first_row.reserve(n);
    for (RowIndex r = 0; r < n; ++r) {
      if (keys.indexed[r]) first_row.push_back(r);
    }
    rows = static_cast<RowIndex>(first_row.size());
  } else {
    // An open-addressing table of groups, found by the key hashes computed
    // already: each entry is (high 32 bits of the hash, group + 1). The
    // entry for a row some rows ahead is prefetched: the table is large and
    // rows hash anywhere.
    uint64_t cap = 16;
    while (cap < 2 * static_cast<uint64_t>(n)) cap *= 2;
    const uint64_t mask = cap - 1;
    std::vector<uint64_t> table(cap, 0);
    constexpr RowIndex kAhead = 16;
    for (RowIndex r = 0; r < n; ++r) {
      if (r + kAhead < n) __builtin_prefetch(&table[keys.hashes[r + kAhead] & mask]);
      if (!keys.indexed[r]) continue;
      ++rows;
      const uint64_t h = keys.hashes[r];
      const uint64_t tag = h >> 32;
      uint32_t g = 0;
      for (uint64_t i = h & mask;; i = (i + 1) & mask) {
        const uint64_t e = table[i];
        if (e == 0) {
          g = static_cast<uint32_t>(first_row.size());
          first_row.push_back(r);
          group_size.push_back(0);
          table[i] = (tag << 32) | (g + 1);
          break;
        }
        if ((e >> 32) == tag) {
          const RowIndex first = first_row[(e & 0xffffffffu) - 1];
          if (keys.hashes[first] == h && keys.key(first) == keys.key(r)) {
            g = static_cast<uint32_t>((e & 0xffffffffu) - 1);
            break;
          }
        }
      }
      group_of[r] = g;
      ++group_size[g];
    }
  }
  const RowIndex k = static_cast<RowIndex>(first_row.size());
  const bool unique = k == rows;
  const uint64_t m = static_cast<uint64_t>(k + k / 4 + 1);
  // Unique: the payload is row + 1 for any row of the segment (rows with a
  // NULL key are skipped, so `rows` may be fewer than n).
  const int p = BitWidth(static_cast<uint64_t>(unique ? n : k));
  const int slot_bytes = p <= 24 ? 4 : 8;
  const int f = slot_bytes * 8 - p;
  const uint64_t fp_mask = f >= 64 ? ~uint64_t{0} : (uint64_t{1} << f) - 1;
  std::vector<uint64_t> slots(m, 0);
  const uint64_t blocks = std::max<uint64_t>(1, (static_cast<uint64_t>(k) * 10 + 255) / 256);
  std::vector<uint32_t> filter(blocks * 8, 0);
  constexpr RowIndex kAhead = 16;
  for (RowIndex g = 0; g < k; ++g) {
    if (g + kAhead < k) {
      const uint64_t ah = keys.hashes[first_row[g + kAhead]];
      __builtin_prefetch(&slots[static_cast<uint64_t>((static_cast<unsigned __int128>(ah) * m) >> 64)]);
      __builtin_prefetch(&filter[(((ah >> 32) * blocks) >> 32) * 8]);
    }
    const RowIndex r = first_row[g];
    const uint64_t h = keys.hashes[r];
    const uint64_t q = static_cast<uint64_t>(unique ? r : g) + 1;
    uint64_t i = static_cast<uint64_t>((static_cast<unsigned __int128>(h) * m) >> 64);
    while (slots[i] != 0) i = i + 1 == m ? 0 : i + 1;
    slots[i] = ((h & fp_mask) << p) | q;
    const uint64_t b = ((h >> 32) * blocks) >> 32;
    const uint32_t lo = static_cast<uint32_t>(h);
    for (int w = 0; w < 8; ++w) filter[b * 8 + w] |= uint32_t{1} << ((lo * kSalt[w]) >> 27);
  }
  fmt::HashIndex out;
  out.key_count = k;
  out.row_count = rows;
  out.slot_count = static_cast<int64_t>(m);
  out.slot_bytes = slot_bytes;
  out.payload_bits = p;
  std::string bytes;
  bytes.reserve(m * slot_bytes);
  for (uint64_t s : slots) {
    if (slot_bytes == 4) PutLE<uint32_t>(&bytes, static_cast<uint32_t>(s)); else PutLE<uint64_t>(&bytes, s);
  }
  out.slots = AddRegion(file, bytes);
  if (!unique) {
    std::vector<uint32_t> starts(k + 1, 0);
    for (RowIndex g = 0; g < k; ++g) starts[g + 1] = starts[g] + group_size[g];
    std::vector<uint32_t> postings(rows);
    std::vector<uint32_t> next(starts.begin(), starts.end() - 1);
    for (RowIndex r = 0; r < n; ++r) {
      if (keys.indexed[r]) postings[next[group_of[r]]++] = static_cast<uint32_t>(r);
    }
    bytes.clear();
    for (uint32_t v : starts) PutLE<uint32_t>(&bytes, v);
    out.__set_group_starts(AddRegion(file, bytes));
    bytes.clear();
    for (uint32_t v : postings) PutLE<uint32_t>(&bytes, v);
    out.__set_postings(AddRegion(file, bytes));
  }
  bytes.clear();
  for (uint32_t v : filter) PutLE<uint32_t>(&bytes, v);
  out.filter.block_count = static_cast<int64_t>(blocks);
  out.filter.blocks = AddRegion(file, bytes);
  return out;
}

}  // namespace

void NormalizeKeys(const std::vector<Column>& columns, const std::vector<int>& key_columns,
                   std::span<const RowIndex> rows, NormalizedKeys* keys) {
  const RowIndex n = static_cast<RowIndex>(rows.size());
  keys->arena.clear();
  // About the size the keys need, so the arena is rarely copied as it grows.
  size_t estimate = 0;
  for (int k : key_columns) {
    const Column& c = columns[k];
    estimate += c.type().physical() != PhysicalType::kBytes
                    ? (c.type().physical() == PhysicalType::kInt128 ? 16 : 8) * static_cast<size_t>(n)
                    : (c.size() == 0 ? 0 : c.bytes().size() / static_cast<size_t>(c.size()) + 3) * n;
  }
  keys->arena.reserve(estimate + estimate / 16);
  keys->offsets.assign(1, 0);
  keys->offsets.reserve(n + 1);
  keys->hashes.assign(n, 0);
  keys->indexed.assign(n, true);
  for (RowIndex r = 0; r < n; ++r) {
    const size_t start = keys->arena.size();
    if (!AppendNormalizedKey(columns, key_columns, rows[r], &keys->arena)) {
      keys->arena.resize(start);
      keys->indexed[r] = false;
    }
    keys->offsets.push_back(keys->arena.size());
    keys->hashes[r] = KeyHash(std::string_view(keys->arena).substr(start));
  }
}

void NormalizedKeys::Append(const NormalizedKeys& more) {
  const uint64_t base = arena.size();
  arena += more.arena;
  if (offsets.empty()) offsets.push_back(0);
  for (size_t r = 1; r < more.offsets.size(); ++r) offsets.push_back(base + more.offsets[r]);
  hashes.insert(hashes.end(), more.hashes.begin(), more.hashes.end());
  indexed.insert(indexed.end(), more.indexed.begin(), more.indexed.end());
}

IndexPart::IndexPart() = default;
IndexPart::~IndexPart() = default;
IndexPart::IndexPart(IndexPart&&) noexcept = default;
IndexPart& IndexPart::operator=(IndexPart&&) noexcept = default;

absl::StatusOr<IndexPart> BuildIndexPart(const Schema& schema, const NormalizedKeys& keys, int which,
                                         bool primary_checked_unique) {
  const RowIndex n = keys.size();
  if (n > static_cast<RowIndex>(UINT32_MAX)) {
    return absl::ResourceExhaustedError(StrCat("a segment of ", n,
                                               " rows is too large to index (at most 2^32-1 rows)"));
  }
  IndexPart part;
  part.which = which;
  if (which >= 0) {
    const IndexDef& def = schema.indexes.at(which);
    part.index = std::make_unique<fmt::HashIndex>(BuildHashIndex(keys, false, &part.bytes));
    part.index->columns.assign(def.columns.begin(), def.columns.end());
    part.index->__set_name(def.name);
    return part;
  }
  part.index = std::make_unique<fmt::HashIndex>(BuildHashIndex(keys, primary_checked_unique, &part.bytes));
  part.index->columns.assign(schema.primary_key.begin(), schema.primary_key.end());
  // Fences from the primary keys just normalized.
  std::string offsets, fence_keys;
  const int64_t count = (n + kFenceInterval - 1) / kFenceInterval;
  PutLE<uint32_t>(&offsets, 0);
  for (int64_t j = 0; j < count; ++j) {
    fence_keys += keys.key(j * kFenceInterval);
    if (fence_keys.size() > UINT32_MAX) {
      return absl::ResourceExhaustedError("primary keys too long to index (fences over 4 GiB)");
    }
    PutLE<uint32_t>(&offsets, static_cast<uint32_t>(fence_keys.size()));
  }
  part.fences = std::make_unique<fmt::FenceIndex>();
  part.fences->interval = kFenceInterval;
  part.fences->count = count;
  part.fences->offsets = AddRegion(&part.bytes, offsets);
  part.fences->keys = AddRegion(&part.bytes, fence_keys);
  return part;
}

absl::StatusOr<std::string> AssembleIndexFile(const Schema& schema, RowIndex row_count,
                                              std::vector<IndexPart> parts, uint64_t segment_checksum) {
  std::sort(parts.begin(), parts.end(),
            [](const IndexPart& a, const IndexPart& b) { return a.which < b.which; });
  if (parts.size() != schema.indexes.size() + 1 || parts[0].which != -1 || parts[0].fences == nullptr) {
    return absl::InvalidArgumentError("an index file needs the primary index and every secondary index");
  }
  std::string file = EncodeHeader(kIndexMagic);
  fmt::IndexFooter footer;
  footer.format_version = kFormatVersion;
  footer.row_count = row_count;
  footer.segment_checksum = static_cast<int64_t>(segment_checksum);
  footer.__set_created_by(kCreatedBy);
  for (IndexPart& part : parts) {
    // Every region is 64-aligned within its part, so placing the part at a
    // 64-aligned offset shifts each region by that offset.
    file.resize((file.size() + kChunkAlignment - 1) / kChunkAlignment * kChunkAlignment, '\0');
    const int64_t shift = static_cast<int64_t>(file.size());
    file += part.bytes;
    fmt::HashIndex& h = *part.index;
    h.slots.offset += shift;
    h.filter.blocks.offset += shift;
    if (h.__isset.group_starts) h.group_starts.offset += shift;
    if (h.__isset.postings) h.postings.offset += shift;
    if (part.which < 0) {
      part.fences->offsets.offset += shift;
      part.fences->keys.offset += shift;
      footer.primary = std::move(h);
      footer.fences = std::move(*part.fences);
    } else {
      footer.secondary.push_back(std::move(h));
    }
  }
  std::string body = SerializeThrift(footer);
  file.resize((file.size() + 7) / 8 * 8, '\0');
  file += body;
  file += EncodeTail(kIndexMagic, body);
  return file;
}

absl::StatusOr<std::string> BuildIndexFile(const Schema& schema, const std::vector<Column>& columns,
                                           uint64_t segment_checksum) {
  const RowIndex n = columns.empty() ? 0 : columns[0].size();
  std::vector<RowIndex> rows(n);
  for (RowIndex r = 0; r < n; ++r) rows[r] = r;
  std::vector<IndexPart> parts;
  for (int which = -1; which < static_cast<int>(schema.indexes.size()); ++which) {
    NormalizedKeys keys;
    NormalizeKeys(columns, which >= 0 ? schema.indexes[which].columns : schema.primary_key, rows, &keys);
    RETL_ASSIGN_OR_RETURN(IndexPart part, BuildIndexPart(schema, keys, which, false));
    parts.push_back(std::move(part));
  }
  return AssembleIndexFile(schema, n, std::move(parts), segment_checksum);
}

namespace {

uint32_t U32At(std::string_view file, uint64_t offset) {
  uint32_t v;
  __builtin_memcpy(&v, file.data() + offset, 4);
  return v;
}

}  // namespace

absl::Status IndexFile::OpenHashIndex(const fmt::HashIndex& in, std::string_view file,
                                      uint64_t body_offset, RowIndex segment_rows,
                                      const std::vector<int>& columns, const std::string& name,
                                      bool primary, HashIndexReader* out, const LossFn& loss) {
  const std::string what = primary ? std::string("primary index") : StrCat("index '", name, "'");
  auto region = [&](const fmt::IndexRegion& r, std::string_view field,
                    int64_t expected_length) -> absl::StatusOr<const uint8_t*> {
    if (r.offset < static_cast<int64_t>(kHeaderSize) || r.offset % 8 != 0 || r.length < 0 ||
        static_cast<uint64_t>(r.offset) > body_offset ||
        static_cast<uint64_t>(r.length) > body_offset - static_cast<uint64_t>(r.offset)) {
      return loss(StrCat(what, ": ", field, " region [", r.offset, ", +", r.length,
                         ") is not 8-aligned inside the file"));
    }
    if (expected_length >= 0 && r.length != expected_length) {
      return loss(StrCat(what, ": ", field, " has ", r.length, " bytes, expected ", expected_length));
    }
    return reinterpret_cast<const uint8_t*>(file.data()) + r.offset;
  };
  if (std::vector<int>(in.columns.begin(), in.columns.end()) != columns ||
      in.__isset.name != !primary || (!primary && in.name != name)) {
    return loss(StrCat(what, ": columns or name differ from the table schema"));
  }
  const bool grouped = in.__isset.group_starts || in.__isset.postings;
  if (in.__isset.group_starts != in.__isset.postings || (primary && grouped)) {
    return loss(StrCat(what, ": group_starts and postings must both be present, or both absent",
                       primary ? " (absent for the primary index)" : ""));
  }
  const int64_t k = in.key_count, r = in.row_count;
  if (k < 0 || r < 0 || r > segment_rows || k > r || (!grouped && k != r) ||
      (primary && r != segment_rows)) {
    return loss(StrCat(what, ": key_count ", k, " and row_count ", r, " do not fit a segment of ",
                       segment_rows, " rows"));
  }
  const int p = BitWidth(static_cast<uint64_t>(grouped ? k : segment_rows));
  if ((in.slot_bytes != 4 && in.slot_bytes != 8) || in.payload_bits != p ||
      in.slot_bytes * 8 - p < 8) {
    return loss(StrCat(what, ": slot_bytes ", in.slot_bytes, " / payload_bits ", in.payload_bits,
                       " invalid (payload_bits must be ", p, ", leaving at least 8 fingerprint bits)"));
  }
  const int64_t m = in.slot_count;
  if (m <= k || m > 2 * k + 64) {
    return loss(StrCat(what, ": slot_count ", m, " invalid for ", k, " keys"));
  }
  out->columns_ = columns;
  out->name_ = primary ? std::string() : name;
  out->key_count_ = k;
  out->row_count_ = r;
  out->slot_count_ = static_cast<uint64_t>(m);
  out->slot_bytes_ = in.slot_bytes;
  out->payload_bits_ = p;
  out->payload_mask_ = (uint64_t{1} << p) - 1;
  const int f = in.slot_bytes * 8 - p;
  out->fp_mask_ = f >= 64 ? ~uint64_t{0} : (uint64_t{1} << f) - 1;
  RETL_ASSIGN_OR_RETURN(out->slots_, region(in.slots, "slots", m * in.slot_bytes));
  const uint64_t max_payload = static_cast<uint64_t>(grouped ? k : segment_rows);
  int64_t used = 0;
  for (int64_t i = 0; i < m; ++i) {
    uint64_t s = in.slot_bytes == 4 ? HashIndexReader::Load32(out->slots_ + i * 4)
                                    : HashIndexReader::Load64(out->slots_ + i * 8);
    uint64_t q = s & out->payload_mask_;
    if (q == 0) {
      if (s != 0) return loss(StrCat(what, ": empty slot ", i, " is not zero"));
      continue;
    }
    if (q > max_payload) return loss(StrCat(what, ": slot ", i, " points past the rows"));
    ++used;
  }
  if (used != k) return loss(StrCat(what, ": ", used, " slots in use, key_count says ", k));
  if (grouped) {
    RETL_ASSIGN_OR_RETURN(out->group_starts_, region(in.group_starts, "group_starts", (k + 1) * 4));
    RETL_ASSIGN_OR_RETURN(const uint8_t* postings, region(in.postings, "postings", r * 4));
    out->postings_ = reinterpret_cast<const uint32_t*>(postings);
    const uint64_t gs = static_cast<uint64_t>(in.group_starts.offset);
    if (U32At(file, gs) != 0 || U32At(file, gs + k * 4) != static_cast<uint32_t>(r)) {
      return loss(StrCat(what, ": group_starts must run from 0 to ", r));
    }
    for (int64_t g = 0; g < k; ++g) {  // strictly increasing, so all within [0, r]
      if (U32At(file, gs + g * 4 + 4) <= U32At(file, gs + g * 4)) {
        return loss(StrCat(what, ": group ", g, " is empty or reversed"));
      }
    }
    for (int64_t g = 0; g < k; ++g) {
      uint32_t begin = U32At(file, gs + g * 4), end = U32At(file, gs + g * 4 + 4);
      for (uint32_t j = begin; j < end; ++j) {
        if (out->postings_[j] >= segment_rows || (j > begin && out->postings_[j] <= out->postings_[j - 1])) {
          return loss(StrCat(what, ": postings of group ", g, " are not ascending rows"));
        }
      }
    }
  }
  if (in.filter.block_count < 1 || in.filter.block_count > (k + 1) * 2 + 64) {
    return loss(StrCat(what, ": filter block_count ", in.filter.block_count, " invalid"));
  }
  out->filter_blocks_ = static_cast<uint64_t>(in.filter.block_count);
  RETL_ASSIGN_OR_RETURN(out->filter_, region(in.filter.blocks, "filter", in.filter.block_count * 32));
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const IndexFile>> IndexFile::Open(
    std::shared_ptr<const MappedFile> file, uint64_t checksum, const Schema& schema,
    RowIndex row_count, uint64_t segment_checksum) {
  const std::string& path = file->path();
  LossFn loss = [&](std::string what) {
    return absl::DataLossError(StrCat("index file '", path, "' is damaged: ", what));
  };
  if (Checksum64(file->view()) != checksum) {
    return loss("checksum mismatch with its manifest entry");
  }
  uint64_t body_offset = 0;
  RETL_ASSIGN_OR_RETURN(std::string_view body,
                        LocateBody(file->view(), kIndexMagic, "index", path, &body_offset));
  fmt::IndexFooter footer;
  RETL_RETURN_IF_ERROR(DeserializeThrift(body, &footer, StrCat("index file '", path, "'")));
  if (footer.format_version < 1 || footer.format_version > kFormatVersion) {
    return absl::UnimplementedError(StrCat("index file '", path, "' has format version ",
                                           footer.format_version, ": upgrade rETL DB to read it"));
  }
  RETL_RETURN_IF_ERROR(CheckRequiredFeatures(footer.required_features, "index file", path));
  if (footer.row_count != row_count ||
      static_cast<uint64_t>(footer.segment_checksum) != segment_checksum) {
    return loss(StrCat("it indexes a segment of ", footer.row_count, " rows with checksum ",
                       static_cast<uint64_t>(footer.segment_checksum), ", not this segment (",
                       row_count, " rows, checksum ", segment_checksum, ")"));
  }
  std::shared_ptr<IndexFile> index(new IndexFile());
  index->file_ = file;
  index->checksum_ = checksum;
  index->segment_checksum_ = segment_checksum;
  const std::string_view bytes = file->view();
  RETL_RETURN_IF_ERROR(OpenHashIndex(footer.primary, bytes, body_offset, row_count,
                                     schema.primary_key, "", true, &index->primary_, loss));
  if (footer.secondary.size() != schema.indexes.size()) {
    return loss(StrCat("it has ", footer.secondary.size(), " secondary indexes, the schema ",
                       schema.indexes.size()));
  }
  index->secondary_.resize(schema.indexes.size());
  for (size_t i = 0; i < schema.indexes.size(); ++i) {
    RETL_RETURN_IF_ERROR(OpenHashIndex(footer.secondary[i], bytes, body_offset, row_count,
                                       schema.indexes[i].columns, schema.indexes[i].name, false,
                                       &index->secondary_[i], loss));
  }
  const fmt::FenceIndex& fences = footer.fences;
  const int64_t count = fences.interval < 1 ? -1 : (row_count + fences.interval - 1) / fences.interval;
  if (fences.interval < 1 || fences.count != count) {
    return loss(StrCat("fence interval ", fences.interval, " and count ", fences.count,
                       " do not fit ", row_count, " rows"));
  }
  auto check_region = [&](const fmt::IndexRegion& r) {
    return r.offset >= static_cast<int64_t>(kHeaderSize) && r.offset % 8 == 0 && r.length >= 0 &&
           static_cast<uint64_t>(r.offset) <= body_offset &&
           static_cast<uint64_t>(r.length) <= body_offset - static_cast<uint64_t>(r.offset);
  };
  if (!check_region(fences.offsets) || !check_region(fences.keys) ||
      fences.offsets.length != (count + 1) * 4) {
    return loss("fence regions are not inside the file or have the wrong size");
  }
  index->fence_interval_ = fences.interval;
  index->fence_count_ = count;
  index->fence_offsets_ = reinterpret_cast<const uint8_t*>(bytes.data()) + fences.offsets.offset;
  index->fence_keys_ = reinterpret_cast<const uint8_t*>(bytes.data()) + fences.keys.offset;
  const uint64_t fo = static_cast<uint64_t>(fences.offsets.offset);
  if (U32At(bytes, fo) != 0 || U32At(bytes, fo + count * 4) != static_cast<uint64_t>(fences.keys.length)) {
    return loss("fence offsets must run from 0 to the length of the keys");
  }
  for (int64_t j = 0; j < count; ++j) {  // non-decreasing, so all within the keys
    if (U32At(bytes, fo + j * 4 + 4) < U32At(bytes, fo + j * 4)) {
      return loss(StrCat("fence offsets decrease at fence ", j));
    }
  }
  for (int64_t j = 1; j < count; ++j) {
    if (!(index->fence(j - 1) < index->fence(j))) {
      return loss(StrCat("fences are not strictly ascending at fence ", j));
    }
  }
  return std::shared_ptr<const IndexFile>(std::move(index));
}

namespace {

std::string_view RegionBytes(std::string_view file, const fmt::IndexRegion& r) {
  return file.substr(static_cast<size_t>(r.offset), static_cast<size_t>(r.length));
}

// The first difference between two hash indexes, or "".
std::string CompareHashIndexes(std::string_view fa, const fmt::HashIndex& a, std::string_view fb,
                               const fmt::HashIndex& b) {
  if (a.columns != b.columns || a.__isset.name != b.__isset.name || a.name != b.name ||
      a.key_count != b.key_count || a.row_count != b.row_count || a.slot_count != b.slot_count ||
      a.slot_bytes != b.slot_bytes || a.payload_bits != b.payload_bits ||
      a.filter.block_count != b.filter.block_count ||
      a.__isset.group_starts != b.__isset.group_starts) {
    return "parameters";
  }
  if (RegionBytes(fa, a.slots) != RegionBytes(fb, b.slots)) return "slots";
  if (RegionBytes(fa, a.filter.blocks) != RegionBytes(fb, b.filter.blocks)) return "filter";
  if (a.__isset.group_starts &&
      (RegionBytes(fa, a.group_starts) != RegionBytes(fb, b.group_starts) ||
       RegionBytes(fa, a.postings) != RegionBytes(fb, b.postings))) {
    return "groups";
  }
  return "";
}

}  // namespace

absl::Status CompareIndexFiles(std::string_view actual, std::string_view expected,
                               const std::string& path) {
  fmt::IndexFooter fa, fb;
  uint64_t body_a = 0, body_b = 0;
  RETL_ASSIGN_OR_RETURN(std::string_view a, LocateBody(actual, kIndexMagic, "index", path, &body_a));
  RETL_ASSIGN_OR_RETURN(std::string_view b, LocateBody(expected, kIndexMagic, "index", path, &body_b));
  RETL_RETURN_IF_ERROR(DeserializeThrift(a, &fa, path));
  RETL_RETURN_IF_ERROR(DeserializeThrift(b, &fb, path));
  auto differs = [&](std::string_view what) {
    return absl::DataLossError(StrCat("index file '", path, "': ", what,
                                      " differ from the index rebuilt from its segment's rows"));
  };
  if (fa.row_count != fb.row_count || fa.segment_checksum != fb.segment_checksum) {
    return differs("row count or segment checksum");
  }
  if (std::string d = CompareHashIndexes(actual, fa.primary, expected, fb.primary); !d.empty()) {
    return differs(StrCat("primary index ", d));
  }
  if (fa.secondary.size() != fb.secondary.size()) return differs("secondary indexes");
  for (size_t i = 0; i < fa.secondary.size(); ++i) {
    std::string d = CompareHashIndexes(actual, fa.secondary[i], expected, fb.secondary[i]);
    if (!d.empty()) return differs(StrCat("index '", fb.secondary[i].name, "' ", d));
  }
  if (fa.fences.interval != fb.fences.interval || fa.fences.count != fb.fences.count ||
      RegionBytes(actual, fa.fences.offsets) != RegionBytes(expected, fb.fences.offsets) ||
      RegionBytes(actual, fa.fences.keys) != RegionBytes(expected, fb.fences.keys)) {
    return differs("fences");
  }
  return absl::OkStatus();
}

const HashIndexReader* IndexFile::secondary(std::string_view name) const {
  for (const HashIndexReader& h : secondary_) {
    if (h.name() == name) return &h;
  }
  return nullptr;
}

}  // namespace retl
