#include "retl/lookup.h"
#include "format/strings.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <mutex>
#include <cmath>
#include <limits>
#include <queue>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "format/index.h"
#include "format/key_codec.h"
#include "format/lookup_internal.h"
#include "format/segment.h"
#include "format/text.h"

namespace retl {

// One segment of the table with the index a Lookup probes.
struct LookupSegment {
  const Segment* segment = nullptr;
  const IndexFile* index_file = nullptr;   // null: the segment has no index file
  const HashIndexReader* hash = nullptr;  // the chosen index in index_file
  const PartitionInfo* partition = nullptr;
  // Per block: the readers of the projected columns, in projection order,
  // published once all of them are made (LookupState::BlockReaders).
  std::unique_ptr<std::atomic<const ChunkReader* const*>[]> block_readers;
};

// A key being looked up: its normalized bytes and hash, and what the fast
// comparisons need.
struct ProbeKey {
  std::string_view normalized() const {
    return int_form ? std::string_view(int_bytes, 8) : std::string_view(bytes);
  }
  uint64_t hash = 0;
  int64_t int_value = 0;  // the value, for a single integer-like key column
  // The normalized key: int_bytes if int_form (a single integer-like key
  // column, no allocation or string building), else bytes.
  bool int_form = false;
  char int_bytes[8];
  std::string bytes;
};

// Where a row is: its segment's block, and its position in that block.
struct RowPosition {
  size_t block = 0;
  RowIndex in_block = 0;
};

struct LookupState {
  std::shared_ptr<const Snapshot> snapshot;
  const TableInfo* table = nullptr;
  std::vector<int> projection;  // schema indices
  std::vector<Field> fields;
  std::vector<int> key_columns;  // schema indices
  std::vector<Field> key_fields;
  std::vector<int> key_columns_outside_projection;  // schema indices
  std::vector<int> bytes_projection;  // projection positions of STRING and BINARY columns
  bool primary = true;
  // How a stored key is compared with a ProbeKey (KeyEquals).
  enum class KeyCompare : uint8_t { kInt, kBytes, kNormalized } key_compare = KeyCompare::kNormalized;
  std::vector<LookupSegment> segments;
  // The order in which Get and GetBatch try segments: largest first for the
  // primary key (a key is in at most one, so the likeliest goes first), the
  // order of `segments` otherwise (Get returns the first matching row).
  std::vector<uint32_t> probe_order;
  mutable std::mutex block_readers_mu;  // serializes BlockReaders' slow path
  mutable std::vector<std::unique_ptr<const ChunkReader*[]>> owned_block_readers;

  // The normalized key of `key`; false if a value is NULL or cannot equal
  // any stored value (a double that no FLOAT holds).
  // `has_null` (if given) tells a NULL value from an unmatchable double.
  absl::StatusOr<bool> Normalize(std::span<const KeyValue> key, std::string* out,
                                 bool* has_null = nullptr) const;
  // Fills `out` for `key`; false if it can match no row (as Normalize).
  absl::StatusOr<bool> MakeProbeKey(std::span<const KeyValue> key, ProbeKey* out) const;
  // The normalized key of `row` of a segment into `out` (cleared first).
  absl::Status RowKey(const LookupSegment& s, RowIndex row, const std::vector<int>& columns,
                      std::string* out) const;
  // Whether the row at `pos` of `s` holds key `k`.
  absl::StatusOr<bool> KeyEquals(const LookupSegment& s, RowPosition pos, const ProbeKey& k) const;
  RowPosition Locate(const LookupSegment& s, RowIndex row) const {
    const size_t block = s.segment->BlockOf(row);
    return RowPosition{block, row - s.segment->block_start(block)};
  }
  // The row (unique index) or group whose key is `k`, or -1. With
  // `prefetch`, starts loading the projected values of a candidate row
  // before comparing its key, and its strings once the key is equal.
  // `found_at` (if given) receives the position of the found (first) row.
  absl::StatusOr<RowIndex> Probe(const LookupSegment& s, const ProbeKey& k, bool prefetch = false,
                                 RowPosition* found_at = nullptr) const;
  // The projected readers of a block, made (and their chunks checked) on
  // first use; later calls are one atomic load.
  absl::StatusOr<const ChunkReader* const*> BlockReaders(const LookupSegment& s, size_t block) const {
    const ChunkReader* const* readers = s.block_readers[block].load(std::memory_order_acquire);
    if (readers != nullptr) return readers;
    return MakeBlockReaders(s, block);
  }
  absl::StatusOr<const ChunkReader* const*> MakeBlockReaders(const LookupSegment& s, size_t block) const;
  // Starts loading the projected values of the row at `pos`, if its
  // readers exist already.
  void PrefetchRow(const LookupSegment& s, RowPosition pos) const {
    const ChunkReader* const* readers = s.block_readers[pos.block].load(std::memory_order_acquire);
    if (readers == nullptr) return;
    for (size_t c = 0; c < projection.size(); ++c) readers[c]->Prefetch(pos.in_block);
  }
  // Fills `view` for the row at `pos`; with `prefetch`, also starts loading
  // its values.
  absl::Status MakeView(const LookupSegment& s, RowPosition pos, RowView* view,
                        bool prefetch = true) const;
  absl::Status MakeView(const LookupSegment& s, RowIndex row, RowView* view) const {
    return MakeView(s, Locate(s, row), view);
  }
  // Looks `k` up in the segments from probe_order[first] on; fills `view`
  // and returns true if found.
  absl::StatusOr<bool> GetFrom(size_t first, const ProbeKey& k, RowView* view) const;
  // First row of `s` whose key satisfies the lower bound `x` (see Scan).
  absl::StatusOr<RowIndex> LowerBound(const LookupSegment& s, std::string_view x, bool inclusive) const;
};

namespace {

const char* KindName(KeyValue::Kind kind) {
  switch (kind) {
    case KeyValue::Kind::kNull: return "NULL";
    case KeyValue::Kind::kBool: return "a boolean";
    case KeyValue::Kind::kInt: return "an integer";
    case KeyValue::Kind::kInt128: return "a 128-bit integer";
    case KeyValue::Kind::kDouble: return "a floating-point number";
    case KeyValue::Kind::kBytes: return "bytes";
    case KeyValue::Kind::kText: return "text";
  }
  return "?";
}

bool FitsPhysical(int128 v, PhysicalType p) {
  switch (p) {
    case PhysicalType::kBool: return v == 0 || v == 1;
    case PhysicalType::kInt8: return v >= INT8_MIN && v <= INT8_MAX;
    case PhysicalType::kInt16: return v >= INT16_MIN && v <= INT16_MAX;
    case PhysicalType::kInt32: return v >= INT32_MIN && v <= INT32_MAX;
    case PhysicalType::kInt64: return v >= INT64_MIN && v <= INT64_MAX;
    default: return true;
  }
}

// Compares the first |x| bytes of `key` with `x` (prefix semantics, §12.6).
int ComparePrefix(std::string_view key, std::string_view x) {
  return key.substr(0, x.size()).compare(x);
}

}  // namespace

absl::StatusOr<bool> LookupState::Normalize(std::span<const KeyValue> key, std::string* out,
                                            bool* has_null) const {
  if (key.size() != key_fields.size()) {
    std::vector<std::string> names;
    for (const Field& f : key_fields) names.push_back(f.name);
    return absl::InvalidArgumentError(StrCat("a key of table '", table->name, "' has ",
                                             key_fields.size(), " column(s) (",
                                             absl::StrJoin(names, ", "), "), got ", key.size(),
                                             " value(s)"));
  }
  bool matchable = true;
  for (size_t i = 0; i < key.size(); ++i) {
    const KeyValue& v = key[i];
    const Field& f = key_fields[i];
    const PhysicalType p = f.type.physical();
    auto wrong = [&]() {
      return absl::InvalidArgumentError(
          StrCat("key column '", f.name, "' is ", f.type.ToString(), "; got ", KindName(v.kind()),
                 v.kind() == KeyValue::Kind::kText ? "" : " (KeyValue::Text parses canonical text)"));
    };
    switch (v.kind()) {
      case KeyValue::Kind::kNull:
        matchable = false;
        if (has_null != nullptr) *has_null = true;
        break;
      case KeyValue::Kind::kText: {
        Column c(f.type);
        absl::Status s = AppendParsedValue(v.bytes_value(), &c);
        if (!s.ok()) {
          return absl::InvalidArgumentError(StrCat("key column '", f.name, "': ", s.message()));
        }
        if (p == PhysicalType::kFloat || p == PhysicalType::kDouble) {
          double d = c.GetDouble(0);
          AppendNormalizedDouble(std::isnan(d) ? std::numeric_limits<double>::quiet_NaN() : d, out);
        } else {
          AppendNormalizedValue(c, 0, out);
        }
        break;
      }
      case KeyValue::Kind::kBool:
        if (p != PhysicalType::kBool) return wrong();
        AppendNormalizedInt(v.int_value(), out);
        break;
      case KeyValue::Kind::kInt:
      case KeyValue::Kind::kInt128: {
        if (p == PhysicalType::kBytes || p == PhysicalType::kFloat || p == PhysicalType::kDouble ||
            (p == PhysicalType::kBool && v.kind() == KeyValue::Kind::kInt128)) {
          return wrong();
        }
        int128 x = v.kind() == KeyValue::Kind::kInt ? int128{v.int_value()} : v.int128_value();
        if (!FitsPhysical(x, p)) {
          return absl::InvalidArgumentError(
              StrCat("key column '", f.name, "' is ", f.type.ToString(), "; ",
                     v.kind() == KeyValue::Kind::kInt ? StrCat(v.int_value()) : std::string("the value"),
                     " is out of its range"));
        }
        if (p == PhysicalType::kInt128) AppendNormalizedInt128(x, out);
        else AppendNormalizedInt(static_cast<int64_t>(x), out);
        break;
      }
      case KeyValue::Kind::kDouble: {
        if (p != PhysicalType::kFloat && p != PhysicalType::kDouble) return wrong();
        double d = v.double_value();
        if (std::isnan(d)) {
          d = std::numeric_limits<double>::quiet_NaN();  // as the writer stores NaN
        } else if (p == PhysicalType::kFloat && static_cast<double>(static_cast<float>(d)) != d) {
          matchable = false;  // no FLOAT holds this value
        }
        AppendNormalizedDouble(d, out);
        break;
      }
      case KeyValue::Kind::kBytes:
        if (p != PhysicalType::kBytes) return wrong();
        AppendNormalizedBytes(v.bytes_value(), out);
        break;
    }
  }
  return matchable;
}

absl::Status LookupState::RowKey(const LookupSegment& s, RowIndex row,
                                 const std::vector<int>& columns, std::string* out) const {
  out->clear();
  const size_t block = s.segment->BlockOf(row);
  const RowIndex in_block = row - s.segment->block_start(block);
  for (int c : columns) {
    RETL_ASSIGN_OR_RETURN(const ChunkReader* reader, s.segment->Reader(block, c));
    if (reader->IsNull(in_block)) {
      return absl::DataLossError(StrCat("segment '", s.segment->path(), "' row ", row,
                                        ": an indexed key column is NULL (index file damaged?)"));
    }
    reader->AppendNormalized(in_block, out);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> LookupState::MakeProbeKey(std::span<const KeyValue> key, ProbeKey* out) const {
  if (key_compare == KeyCompare::kInt && key.size() == 1 && key[0].kind() == KeyValue::Kind::kInt &&
      FitsPhysical(key[0].int_value(), key_fields[0].type.physical())) {
    out->int_value = key[0].int_value();
  } else {
    out->bytes.clear();
    RETL_ASSIGN_OR_RETURN(bool matchable, Normalize(key, &out->bytes));
    if (!matchable) return false;
    out->int_form = false;
    if (key_compare != KeyCompare::kInt) {
      out->hash = KeyHash(out->bytes);
      return true;
    }
    // Parsed text: the value back from its normalized form.
    uint64_t be;
    std::memcpy(&be, out->bytes.data(), 8);
    out->int_value = static_cast<int64_t>(absl::big_endian::ToHost64(be) ^ (uint64_t{1} << 63));
  }
  // FORMAT.md §12.2: u64(v) XOR 2^63, big-endian.
  const uint64_t be = absl::big_endian::FromHost64(static_cast<uint64_t>(out->int_value) ^ (uint64_t{1} << 63));
  std::memcpy(out->int_bytes, &be, 8);
  out->int_form = true;
  out->hash = KeyHash(out->normalized());
  return true;
}

namespace {

// Whether `nkey` is the normalized form (FORMAT.md §12.2) of the bytes `v`,
// without building it.
bool NormalizedBytesEqual(std::string_view v, std::string_view nkey) {
  if (nkey.size() < 2 || nkey.substr(nkey.size() - 2) != std::string_view("\0\0", 2)) return false;
  nkey.remove_suffix(2);  // the terminator
  if (v.empty() || std::memchr(v.data(), 0, v.size()) == nullptr) return v == nkey;
  size_t j = 0;
  for (char ch : v) {
    if (ch == '\0') {
      if (nkey.substr(j, 2) != std::string_view("\0\xff", 2)) return false;
      j += 2;
    } else {
      if (j >= nkey.size() || nkey[j] != ch) return false;
      ++j;
    }
  }
  return j == nkey.size();
}

}  // namespace

absl::StatusOr<bool> LookupState::KeyEquals(const LookupSegment& s, RowPosition pos,
                                            const ProbeKey& k) const {
  if (key_compare == KeyCompare::kNormalized) {
    std::string key;
    RETL_RETURN_IF_ERROR(RowKey(s, s.segment->block_start(pos.block) + pos.in_block, key_columns, &key));
    return key == k.normalized();
  }
  const ChunkReader* reader = s.segment->ReadyReader(pos.block, key_columns[0]);
  if (reader == nullptr) {
    RETL_ASSIGN_OR_RETURN(reader, s.segment->Reader(pos.block, key_columns[0]));
  }
  if (reader->IsNull(pos.in_block)) {
    return absl::DataLossError(StrCat("segment '", s.segment->path(), "' row ",
                                      s.segment->block_start(pos.block) + pos.in_block,
                                      ": an indexed key column is NULL (index file damaged?)"));
  }
  if (key_compare == KeyCompare::kInt) return reader->GetInt(pos.in_block) == k.int_value;
  return NormalizedBytesEqual(reader->GetBytes(pos.in_block), k.normalized());
}

absl::StatusOr<RowIndex> LookupState::Probe(const LookupSegment& s, const ProbeKey& k, bool prefetch,
                                            RowPosition* found_at) const {
  if (s.hash == nullptr) {
    // No index file: binary search the key order (primary key only).
    RETL_ASSIGN_OR_RETURN(RowIndex row, LowerBound(s, k.normalized(), true));
    if (row >= s.segment->row_count()) return -1;
    const RowPosition pos = Locate(s, row);
    RETL_ASSIGN_OR_RETURN(bool equal, KeyEquals(s, pos, k));
    if (equal && found_at != nullptr) *found_at = pos;
    return equal ? row : -1;
  }
  absl::Status status;
  RowIndex found = -1;
  s.hash->Probe(k.hash, [&](RowIndex q) {
    const RowIndex r = s.hash->FirstRow(q);
    if (static_cast<uint64_t>(r) >= static_cast<uint64_t>(s.segment->row_count())) {
      status = absl::DataLossError(StrCat("index file '", s.index_file->path(),
                                          "' points past the rows of its segment"));
      return true;
    }
    const RowPosition pos = Locate(s, r);
    // A fingerprint match is almost always the key: fetch the row's values
    // while its key is read and compared.
    if (prefetch) PrefetchRow(s, pos);
    absl::StatusOr<bool> equal = KeyEquals(s, pos, k);
    if (!equal.ok()) {
      status = equal.status();
      return true;
    }
    if (!*equal) return false;
    // The string offsets arrived with the key: start fetching the strings
    // while the caller reads the other values.
    if (prefetch) {
      if (const ChunkReader* const* readers = s.block_readers[pos.block].load(std::memory_order_acquire)) {
        for (int c : bytes_projection) readers[c]->PrefetchBytes(pos.in_block);
      }
    }
    found = q;
    if (found_at != nullptr) *found_at = pos;
    return true;
  });
  RETL_RETURN_IF_ERROR(status);
  return found;
}

absl::StatusOr<const ChunkReader* const*> LookupState::MakeBlockReaders(const LookupSegment& s,
                                                                        size_t block) const {
  // Make every reader first (each checks its chunk once): a damaged chunk
  // is an error here and the block is never published.
  auto readers = std::make_unique<const ChunkReader*[]>(projection.size());
  for (size_t c = 0; c < projection.size(); ++c) {
    RETL_ASSIGN_OR_RETURN(readers[c], s.segment->Reader(block, projection[c]));
  }
  std::lock_guard<std::mutex> lock(block_readers_mu);
  const ChunkReader* const* published = s.block_readers[block].load(std::memory_order_acquire);
  if (published != nullptr) return published;  // another thread won
  published = readers.get();
  owned_block_readers.push_back(std::move(readers));
  s.block_readers[block].store(published, std::memory_order_release);
  return published;
}

absl::Status LookupState::MakeView(const LookupSegment& s, RowPosition pos, RowView* view,
                                   bool prefetch) const {
  RETL_ASSIGN_OR_RETURN(const ChunkReader* const* readers, BlockReaders(s, pos.block));
  // The caller reads these values next: start every cache miss now, in
  // parallel, rather than one per getter.
  if (prefetch) {
    for (size_t c = 0; c < projection.size(); ++c) readers[c]->Prefetch(pos.in_block);
  }
  view->state_ = this;
  view->segment_ = &s;
  view->readers_ = readers;
  view->row_ = pos.in_block;
  return absl::OkStatus();
}

absl::StatusOr<bool> LookupState::GetFrom(size_t first, const ProbeKey& k, RowView* view) const {
  for (size_t j = first; j < probe_order.size(); ++j) {
    const LookupSegment& s = segments[probe_order[j]];
    if (s.hash != nullptr && !s.hash->MayContain(k.hash)) continue;
    RowPosition pos;
    RETL_ASSIGN_OR_RETURN(RowIndex q, Probe(s, k, /*prefetch=*/true, &pos));
    if (q < 0) continue;
    // Probe prefetched the row, except by binary search (no index file).
    RETL_RETURN_IF_ERROR(MakeView(s, pos, view, /*prefetch=*/s.hash == nullptr));
    return true;
  }
  return false;
}

absl::StatusOr<RowIndex> LookupState::LowerBound(const LookupSegment& s, std::string_view x,
                                                 bool inclusive) const {
  // Rows satisfy the bound from some point on: key[:|x|] >= x (inclusive)
  // or > x (exclusive).
  auto satisfies = [&](std::string_view key) {
    int c = ComparePrefix(key, x);
    return inclusive ? c >= 0 : c > 0;
  };
  RowIndex lo = 0, hi = s.segment->row_count();  // answer in [lo, hi]
  if (s.index_file != nullptr && s.index_file->fence_count() > 0) {
    const IndexFile& f = *s.index_file;
    int64_t a = 0, b = f.fence_count();  // first fence satisfying, in [a, b]
    while (a < b) {
      int64_t mid = a + (b - a) / 2;
      if (satisfies(f.fence(mid))) b = mid; else a = mid + 1;
    }
    if (a == 0) return 0;
    lo = (a - 1) * f.interval() + 1;  // fence a-1 does not satisfy
    hi = std::min<RowIndex>(hi, a * static_cast<RowIndex>(f.interval()));
  }
  std::string key;
  while (lo < hi) {
    RowIndex mid = lo + (hi - lo) / 2;
    RETL_RETURN_IF_ERROR(RowKey(s, mid, key_columns, &key));
    if (satisfies(key)) hi = mid; else lo = mid + 1;
  }
  return lo;
}

// ---------------------------------------------------------------------------
// RowView

namespace {
const LookupSegment& Seg(const void* p) { return *static_cast<const LookupSegment*>(p); }
}  // namespace

int RowView::num_columns() const { return static_cast<int>(state_->fields.size()); }
const Field& RowView::field(int column) const { return state_->fields[column]; }
int RowView::column_index(std::string_view name) const {
  for (size_t i = 0; i < state_->fields.size(); ++i) {
    if (state_->fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}
const PartitionInfo& RowView::partition() const { return *Seg(segment_).partition; }

namespace {
const ChunkReader* Reader(const void* readers, int column) {
  return static_cast<const ChunkReader* const*>(readers)[column];
}
}  // namespace

bool RowView::IsNull(int column) const { return Reader(readers_, column)->IsNull(row_); }
bool RowView::GetBool(int column) const { return Reader(readers_, column)->GetBool(row_); }
int64_t RowView::GetInt(int column) const { return Reader(readers_, column)->GetInt(row_); }
int128 RowView::GetInt128(int column) const { return Reader(readers_, column)->GetInt128(row_); }
double RowView::GetDouble(int column) const { return Reader(readers_, column)->GetDouble(row_); }
std::string_view RowView::GetBytes(int column) const {
  return Reader(readers_, column)->GetBytes(row_);
}

std::string RowView::GetText(int column) const {
  const ChunkReader* r = Reader(readers_, column);
  if (r->IsNull(row_)) return "";
  Column c(r->type());
  switch (r->type().physical()) {
    case PhysicalType::kBool: c.AppendBool(r->GetBool(row_)); break;
    case PhysicalType::kInt128: c.AppendInt128(r->GetInt128(row_)); break;
    case PhysicalType::kFloat:
    case PhysicalType::kDouble: c.AppendDouble(r->GetDouble(row_)); break;
    case PhysicalType::kBytes: c.AppendBytes(r->GetBytes(row_)); break;
    default: c.AppendInt(r->GetInt(row_)); break;
  }
  return ValueText(c, 0);
}


// ---------------------------------------------------------------------------
// Lookup

Lookup::Lookup(std::unique_ptr<LookupState> state) : state_(std::move(state)) {}
Lookup::Lookup(Lookup&&) noexcept = default;
Lookup& Lookup::operator=(Lookup&&) noexcept = default;
Lookup::~Lookup() = default;

const Snapshot& Lookup::snapshot() const { return *state_->snapshot; }
const TableInfo& Lookup::table() const { return *state_->table; }
const std::vector<Field>& Lookup::key_fields() const { return state_->key_fields; }
const std::vector<Field>& Lookup::fields() const { return state_->fields; }
bool Lookup::unique() const { return state_->primary; }

absl::StatusOr<Lookup> Lookup::Open(std::shared_ptr<const Snapshot> snapshot,
                                    std::string_view table_name, const LookupOptions& options) {
  if (snapshot == nullptr) return absl::InvalidArgumentError("Lookup::Open: no snapshot");
  auto state = std::make_unique<LookupState>();
  RETL_ASSIGN_OR_RETURN(state->table, snapshot->GetTable(table_name));
  const TableInfo& table = *state->table;
  const Schema& schema = table.schema;
  std::vector<std::string> all_names;
  for (const Field& f : schema.fields) all_names.push_back(f.name);
  for (const std::string& name : options.columns) {
    int i = schema.FindField(name);
    if (i < 0) {
      return absl::NotFoundError(StrCat("table '", table.name, "' has no column '", name,
                                        "' (columns: ", absl::StrJoin(all_names, ", "), ")"));
    }
    state->projection.push_back(i);
  }
  if (options.columns.empty()) {
    for (size_t i = 0; i < schema.fields.size(); ++i) state->projection.push_back(static_cast<int>(i));
  }
  for (int i : state->projection) {
    if (schema.fields[i].type.physical() == PhysicalType::kBytes) {
      state->bytes_projection.push_back(static_cast<int>(state->fields.size()));
    }
    state->fields.push_back(schema.fields[i]);
  }
  state->primary = options.index.empty();
  if (state->primary) {
    state->key_columns = schema.primary_key;
  } else {
    const IndexDef* def = schema.FindIndex(options.index);
    if (def == nullptr) {
      std::vector<std::string> names;
      for (const IndexDef& d : schema.indexes) names.push_back(d.name);
      return absl::NotFoundError(StrCat(
          "table '", table.name, "' has no index '", options.index, "' (",
          names.empty() ? std::string("it has no secondary indexes; add one with retl-build import --index COLUMN")
                        : StrCat("indexes: ", absl::StrJoin(names, ", ")),
          ")"));
    }
    state->key_columns = def->columns;
  }
  for (int c : state->key_columns) {
    state->key_fields.push_back(schema.fields[c]);
    if (std::find(state->projection.begin(), state->projection.end(), c) == state->projection.end()) {
      state->key_columns_outside_projection.push_back(c);
    }
  }
  for (const PartitionInfo& p : table.partitions) {
    for (const SegmentInfo& info : p.segments) {
      LookupSegment s;
      s.partition = &p;
      std::shared_ptr<const Segment> seg = snapshot->segment(info);
      if (seg == nullptr) return absl::InternalError(StrCat("segment not open: ", info.path));
      s.segment = seg.get();
      RETL_ASSIGN_OR_RETURN(std::shared_ptr<const IndexFile> index, snapshot->index(table, info));
      s.index_file = index.get();
      if (index != nullptr) {
        s.hash = state->primary ? &index->primary() : index->secondary(options.index);
      }
      if (s.hash == nullptr && !state->primary) {
        return absl::FailedPreconditionError(StrCat(
            "segment '", info.path, "' of table '", table.name, "' has no index '", options.index,
            "' (written before indexes existed); rebuild the table with retl-build import"));
      }
      if (seg->row_count() > 0) {
        s.block_readers =
            std::make_unique<std::atomic<const ChunkReader* const*>[]>(seg->blocks().size());
        state->segments.push_back(std::move(s));
      }
    }
  }
  for (size_t i = 0; i < state->segments.size(); ++i) {
    state->probe_order.push_back(static_cast<uint32_t>(i));
  }
  if (state->primary) {
    std::stable_sort(state->probe_order.begin(), state->probe_order.end(), [&](uint32_t a, uint32_t b) {
      return state->segments[a].segment->row_count() > state->segments[b].segment->row_count();
    });
  }
  if (state->key_fields.size() == 1) {
    switch (state->key_fields[0].type.physical()) {
      case PhysicalType::kBool:
      case PhysicalType::kInt8:
      case PhysicalType::kInt16:
      case PhysicalType::kInt32:
      case PhysicalType::kInt64: state->key_compare = LookupState::KeyCompare::kInt; break;
      case PhysicalType::kBytes: state->key_compare = LookupState::KeyCompare::kBytes; break;
      default: break;
    }
  }
  state->snapshot = std::move(snapshot);
  return Lookup(std::move(state));
}

absl::StatusOr<bool> Lookup::Get(std::span<const KeyValue> key, RowView* row) const {
  const LookupState& st = *state_;
  ProbeKey k;
  RETL_ASSIGN_OR_RETURN(bool matchable, st.MakeProbeKey(key, &k));
  *row = RowView();
  if (!matchable) return false;
  // Start every independent cache miss at once: each segment's filter block
  // and home slot, rather than one miss after another.
  for (const LookupSegment& s : st.segments) {
    if (s.hash != nullptr) {
      s.hash->PrefetchFilter(k.hash);
      s.hash->PrefetchSlot(k.hash);
    }
  }
  return st.GetFrom(0, k, row);
}

absl::Status Lookup::Find(std::span<const KeyValue> key, std::vector<RowView>* rows) const {
  const LookupState& st = *state_;
  ProbeKey k;
  RETL_ASSIGN_OR_RETURN(bool matchable, st.MakeProbeKey(key, &k));
  if (!matchable) return absl::OkStatus();
  for (const LookupSegment& s : st.segments) {
    if (s.hash != nullptr) s.hash->PrefetchFilter(k.hash);
  }
  for (const LookupSegment& s : st.segments) {
    if (s.hash != nullptr && !s.hash->MayContain(k.hash)) continue;
    RETL_ASSIGN_OR_RETURN(RowIndex q, st.Probe(s, k));
    if (q < 0) continue;
    if (s.hash == nullptr || s.hash->unique()) {
      RowView v;
      RETL_RETURN_IF_ERROR(st.MakeView(s, s.hash != nullptr ? s.hash->FirstRow(q) : q, &v));
      rows->push_back(v);
    } else {
      for (uint32_t r : s.hash->GroupRows(q)) {
        // Probe compared the group's first row; a damaged file must not slip
        // other keys into the group.
        const RowPosition pos = st.Locate(s, r);
        RETL_ASSIGN_OR_RETURN(bool equal, st.KeyEquals(s, pos, k));
        if (!equal) {
          return absl::DataLossError(StrCat("index file '", s.index_file->path(), "': row ", r,
                                            " is in the group of another key"));
        }
        RowView v;
        RETL_RETURN_IF_ERROR(st.MakeView(s, pos, &v));
        rows->push_back(v);
      }
    }
    if (st.primary) break;  // unique across the table (FORMAT.md §12.7)
  }
  return absl::OkStatus();
}

absl::Status Lookup::GetBatch(std::span<const KeyValue> keys, std::vector<RowView>* rows) const {
  const size_t width = state_->key_fields.size();
  rows->assign(width == 0 ? 0 : keys.size() / width, RowView());
  return GetBatch(keys, [rows](size_t i, const RowView& row) { (*rows)[i] = row; });
}

absl::Status Lookup::GetBatch(std::span<const KeyValue> keys,
                              absl::FunctionRef<void(size_t, const RowView&)> fn) const {
  const LookupState& st = *state_;
  const size_t width = st.key_fields.size();
  if (width == 0 || keys.size() % width != 0) {
    return absl::InvalidArgumentError(StrCat("GetBatch: ", keys.size(),
                                             " key values is not a multiple of the key's ", width,
                                             " column(s)"));
  }
  const size_t n = keys.size() / width;
  // A software pipeline: at step t, key t enters stage 1, key t - kDistance
  // is in stage 2, and so on. Each stage starts the cache misses of the
  // next one kDistance keys ahead of its loads, so that many misses are in
  // flight at once, and each row's values are still in cache when fn reads
  // them (a batch that prefetched every row before the first fn ran would
  // find them evicted).
  constexpr size_t kDistance = 8;
  constexpr size_t kStages = 5;
  constexpr size_t kRing = 64;  // a power of two above (kStages - 1) * kDistance
  static_assert(kRing > (kStages - 1) * kDistance);
  struct InFlight {
    ProbeKey key;
    bool live = false;       // may still match a row
    uint32_t order = 0;      // position in probe_order of the candidate segment
    RowIndex row = -1;       // the candidate row (first fingerprint match), or -1
    RowPosition pos;
    const ChunkReader* const* readers = nullptr;  // of the candidate's block, if made
  };
  std::array<InFlight, kRing> ring;
  const size_t segment_count = st.probe_order.size();
  // The key in stage `stage` (1-based) at step t, if any.
  auto at = [&](size_t t, size_t stage) -> InFlight* {
    const size_t lag = (stage - 1) * kDistance;
    if (t < lag || t - lag >= n) return nullptr;
    return &ring[(t - lag) % kRing];
  };
  for (size_t t = 0; t < n + (kStages - 1) * kDistance; ++t) {
    // Stage 1: normalize and hash the key; fetch its filter block of every segment.
    if (InFlight* x = at(t, 1)) {
      RETL_ASSIGN_OR_RETURN(x->live, st.MakeProbeKey(keys.subspan(t * width, width), &x->key));
      x->row = -1;
      x->readers = nullptr;
      if (x->live) {
        for (const LookupSegment& s : st.segments) {
          if (s.hash != nullptr) s.hash->PrefetchFilter(x->key.hash);
        }
      }
    }
    // Stage 2: the first segment whose filter passes (in probe order; about
    // 1% false positives); fetch its home slot.
    if (InFlight* x = at(t, 2); x != nullptr && x->live) {
      size_t j = 0;
      for (; j < segment_count; ++j) {
        const LookupSegment& s = st.segments[st.probe_order[j]];
        if (s.hash == nullptr) break;  // no index file: binary search in the last stage
        if (s.hash->MayContain(x->key.hash)) {
          s.hash->PrefetchSlot(x->key.hash);
          break;
        }
      }
      x->order = static_cast<uint32_t>(j);
      x->live = j < segment_count;
    }
    // Stage 3: the first slot whose fingerprint matches; fetch the row's
    // key and projected values.
    if (InFlight* x = at(t, 3); x != nullptr && x->live) {
      const LookupSegment& s = st.segments[st.probe_order[x->order]];
      if (s.hash != nullptr) {
        const RowIndex rows_in_segment = s.segment->row_count();
        s.hash->Probe(x->key.hash, [&](RowIndex q) {
          const RowIndex r = s.hash->FirstRow(q);
          if (r < rows_in_segment) x->row = r;  // else damaged: the last stage reports it
          return true;
        });
      }
      if (x->row >= 0) {
        x->pos = st.Locate(s, x->row);
        for (int c : st.key_columns_outside_projection) {
          if (const ChunkReader* reader = s.segment->ReadyReader(x->pos.block, c)) {
            reader->Prefetch(x->pos.in_block);
          }
        }
        st.PrefetchRow(s, x->pos);
        x->readers = s.block_readers[x->pos.block].load(std::memory_order_acquire);  // for stage 4
      }
    }
    // Stage 4: the string offsets are in cache now: fetch the strings.
    if (InFlight* x = at(t, 4); x != nullptr && x->readers != nullptr) {
      for (int c : st.bytes_projection) x->readers[c]->PrefetchBytes(x->pos.in_block);
    }
    // Stage 5: compare the candidate's key; if it is not the key (a filter
    // or fingerprint false positive), finish this key the slow way.
    if (InFlight* x = at(t, kStages); x != nullptr && x->live) {
      const size_t i = t - (kStages - 1) * kDistance;
      RowView view;
      bool found = false;
      if (x->row >= 0) {
        const LookupSegment& s = st.segments[st.probe_order[x->order]];
        RETL_ASSIGN_OR_RETURN(found, st.KeyEquals(s, x->pos, x->key));
        if (found) RETL_RETURN_IF_ERROR(st.MakeView(s, x->pos, &view, /*prefetch=*/false));
      }
      if (!found) {
        RETL_ASSIGN_OR_RETURN(found, st.GetFrom(x->order, x->key, &view));
      }
      if (found) fn(i, view);
    }
  }
  return absl::OkStatus();
}

absl::Status Lookup::Scan(const std::optional<KeyBound>& lower, const std::optional<KeyBound>& upper,
                          const std::function<bool(const RowView&)>& fn) const {
  const LookupState& st = *state_;
  if (!st.primary) {
    return absl::InvalidArgumentError("Scan reads in primary-key order; open the Lookup without an index");
  }
  // A bound may hold a double no FLOAT key equals: it still orders keys.
  auto normalize_bound = [&](const KeyBound& b, std::string* out) -> absl::StatusOr<bool> {
    if (b.key.size() > st.key_fields.size()) {
      return absl::InvalidArgumentError(StrCat("a scan bound has ", b.key.size(),
                                               " values; the key has ", st.key_fields.size()));
    }
    LookupState prefix_state;
    prefix_state.table = st.table;
    prefix_state.key_fields.assign(st.key_fields.begin(), st.key_fields.begin() + b.key.size());
    bool has_null = false;
    RETL_RETURN_IF_ERROR(prefix_state.Normalize(b.key, out, &has_null).status());
    return !has_null;
  };
  std::string lo, hi;
  if (lower.has_value()) {
    RETL_ASSIGN_OR_RETURN(bool ok, normalize_bound(*lower, &lo));
    if (!ok) return absl::InvalidArgumentError("a scan bound may not contain NULL");
  }
  if (upper.has_value()) {
    RETL_ASSIGN_OR_RETURN(bool ok, normalize_bound(*upper, &hi));
    if (!ok) return absl::InvalidArgumentError("a scan bound may not contain NULL");
  }
  struct Cursor {
    const LookupSegment* s;
    RowIndex row;
    std::string key;
  };
  auto greater = [](const Cursor& a, const Cursor& b) { return a.key > b.key; };
  std::priority_queue<Cursor, std::vector<Cursor>, decltype(greater)> heap(greater);
  for (const LookupSegment& s : st.segments) {
    RowIndex row = 0;
    if (lower.has_value()) {
      RETL_ASSIGN_OR_RETURN(row, st.LowerBound(s, lo, lower->inclusive));
    }
    if (row >= s.segment->row_count()) continue;
    Cursor c{&s, row, {}};
    RETL_RETURN_IF_ERROR(st.RowKey(s, row, st.key_columns, &c.key));
    heap.push(std::move(c));
  }
  while (!heap.empty()) {
    Cursor c = heap.top();
    heap.pop();
    if (upper.has_value()) {
      int cmp = ComparePrefix(c.key, hi);
      if (upper->inclusive ? cmp > 0 : cmp >= 0) break;  // every other cursor is larger
    }
    RowView v;
    RETL_RETURN_IF_ERROR(st.MakeView(*c.s, c.row, &v));
    if (!fn(v)) break;
    if (++c.row < c.s->segment->row_count()) {
      RETL_RETURN_IF_ERROR(st.RowKey(*c.s, c.row, st.key_columns, &c.key));
      heap.push(std::move(c));
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Writer probes

absl::StatusOr<std::optional<std::pair<RowIndex, size_t>>> FindExistingKey(
    const Schema& schema, const std::vector<Column>& columns,
    const std::vector<KeyProbeSegment>& segments) {
  LookupState st;
  st.key_columns = schema.primary_key;
  for (int c : schema.primary_key) st.key_fields.push_back(schema.fields[c]);
  for (const KeyProbeSegment& k : segments) {
    if (k.segment->row_count() == 0) {
      st.segments.push_back(LookupSegment{});  // keeps indices aligned; skipped below
      continue;
    }
    st.segments.push_back(LookupSegment{k.segment.get(), k.index.get(),
                                        k.index != nullptr ? &k.index->primary() : nullptr,
                                        k.partition, nullptr});
  }
  const RowIndex n = columns.empty() ? 0 : columns[0].size();
  ProbeKey key;  // compared by normalized bytes (key_compare stays kNormalized)
  for (RowIndex r = 0; r < n; ++r) {
    key.bytes.clear();
    if (!AppendNormalizedKey(columns, schema.primary_key, r, &key.bytes)) continue;
    key.hash = KeyHash(key.bytes);
    for (size_t i = 0; i < st.segments.size(); ++i) {
      const LookupSegment& s = st.segments[i];
      if (s.segment == nullptr || (s.hash != nullptr && !s.hash->MayContain(key.hash))) continue;
      RETL_ASSIGN_OR_RETURN(RowIndex q, st.Probe(s, key));
      if (q >= 0) return std::make_pair(r, i);
    }
  }
  return std::nullopt;
}

}  // namespace retl
