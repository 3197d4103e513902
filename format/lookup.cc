#include "retl/lookup.h"
#include "format/strings.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>

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
};

struct LookupState {
  std::shared_ptr<const Snapshot> snapshot;
  const TableInfo* table = nullptr;
  std::vector<int> projection;  // schema indices
  std::vector<Field> fields;
  std::vector<int> key_columns;  // schema indices
  std::vector<Field> key_fields;
  bool primary = true;
  std::vector<LookupSegment> segments;

  // The normalized key of `key`; false if a value is NULL or cannot equal
  // any stored value (a double that no FLOAT holds).
  // `has_null` (if given) tells a NULL value from an unmatchable double.
  absl::StatusOr<bool> Normalize(std::span<const KeyValue> key, std::string* out,
                                 bool* has_null = nullptr) const;
  // The normalized key of `row` of a segment into `out` (cleared first).
  absl::Status RowKey(const LookupSegment& s, RowIndex row, const std::vector<int>& columns,
                      std::string* out) const;
  // The row (unique index) or group whose key is `nkey`, or -1.
  absl::StatusOr<RowIndex> Probe(const LookupSegment& s, std::string_view nkey, uint64_t h) const;
  // Prefetches the projected values of `row` whose chunks are readable.
  void PrefetchRow(const LookupSegment& s, RowIndex row) const {
    const size_t block = s.segment->BlockOf(row);
    const RowIndex in_block = row - s.segment->block_start(block);
    for (int c : projection) {
      if (const ChunkReader* reader = s.segment->ReadyReader(block, c)) reader->Prefetch(in_block);
    }
  }
  // Makes every projected chunk of the row's block readable and fills `view`.
  // With `prefetch`, also starts loading the row's values.
  absl::Status MakeView(const LookupSegment& s, RowIndex row, RowView* view,
                        bool prefetch = true) const;
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

absl::StatusOr<RowIndex> LookupState::Probe(const LookupSegment& s, std::string_view nkey,
                                            uint64_t h) const {
  if (s.hash == nullptr) {
    // No index file: binary search the key order (primary key only).
    RETL_ASSIGN_OR_RETURN(RowIndex row, LowerBound(s, nkey, true));
    if (row >= s.segment->row_count()) return -1;
    std::string key;
    RETL_RETURN_IF_ERROR(RowKey(s, row, key_columns, &key));
    return key == nkey ? row : -1;
  }
  absl::Status status;
  RowIndex found = -1;
  std::string key;
  s.hash->Probe(h, [&](RowIndex q) {
    if (static_cast<uint64_t>(s.hash->FirstRow(q)) >= static_cast<uint64_t>(s.segment->row_count())) {
      status = absl::DataLossError(StrCat("index file '", s.index_file->path(),
                                          "' points past the rows of its segment"));
      return true;
    }
    status = RowKey(s, s.hash->FirstRow(q), key_columns, &key);
    if (!status.ok()) return true;
    if (key != nkey) return false;
    found = q;
    return true;
  });
  RETL_RETURN_IF_ERROR(status);
  return found;
}

absl::Status LookupState::MakeView(const LookupSegment& s, RowIndex row, RowView* view,
                                   bool prefetch) const {
  const size_t block = s.segment->BlockOf(row);
  const RowIndex in_block = row - s.segment->block_start(block);
  // The caller reads these values next: start every cache miss now, in
  // parallel, rather than one per getter.
  for (int c : projection) {
    const ChunkReader* reader = s.segment->ReadyReader(block, c);
    if (reader == nullptr) {
      RETL_ASSIGN_OR_RETURN(reader, s.segment->Reader(block, c));
    }
    if (prefetch) reader->Prefetch(in_block);
  }
  view->state_ = this;
  view->segment_ = &s;
  view->block_ = static_cast<int32_t>(block);
  view->row_ = in_block;
  return absl::OkStatus();
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

#define RETL_ROW_READER()                                                               \
  Seg(segment_).segment->ReadyReader(static_cast<size_t>(block_), state_->projection[column])

int RowView::num_columns() const { return static_cast<int>(state_->fields.size()); }
const Field& RowView::field(int column) const { return state_->fields[column]; }
int RowView::column_index(std::string_view name) const {
  for (size_t i = 0; i < state_->fields.size(); ++i) {
    if (state_->fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}
const PartitionInfo& RowView::partition() const { return *Seg(segment_).partition; }
bool RowView::IsNull(int column) const { return RETL_ROW_READER()->IsNull(row_); }
bool RowView::GetBool(int column) const { return RETL_ROW_READER()->GetBool(row_); }
int64_t RowView::GetInt(int column) const { return RETL_ROW_READER()->GetInt(row_); }
int128 RowView::GetInt128(int column) const { return RETL_ROW_READER()->GetInt128(row_); }
double RowView::GetDouble(int column) const { return RETL_ROW_READER()->GetDouble(row_); }
std::string_view RowView::GetBytes(int column) const { return RETL_ROW_READER()->GetBytes(row_); }

std::string RowView::GetText(int column) const {
  const ChunkReader* r = RETL_ROW_READER();
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

#undef RETL_ROW_READER

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
  for (int i : state->projection) state->fields.push_back(schema.fields[i]);
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
  for (int c : state->key_columns) state->key_fields.push_back(schema.fields[c]);
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
      if (seg->row_count() > 0) state->segments.push_back(s);
    }
  }
  state->snapshot = std::move(snapshot);
  return Lookup(std::move(state));
}

absl::StatusOr<bool> Lookup::Get(std::span<const KeyValue> key, RowView* row) const {
  const LookupState& st = *state_;
  std::string nkey;
  RETL_ASSIGN_OR_RETURN(bool matchable, st.Normalize(key, &nkey));
  *row = RowView();
  if (!matchable) return false;
  const uint64_t h = KeyHash(nkey);
  // Start every independent cache miss at once: each segment's filter block
  // and home slot, rather than one miss after another.
  for (const LookupSegment& s : st.segments) {
    if (s.hash != nullptr) {
      s.hash->PrefetchFilter(h);
      s.hash->PrefetchSlot(h);
    }
  }
  std::string row_key;
  for (const LookupSegment& s : st.segments) {
    if (s.hash == nullptr) {
      RETL_ASSIGN_OR_RETURN(RowIndex r, st.Probe(s, nkey, h));
      if (r < 0) continue;
      RETL_RETURN_IF_ERROR(st.MakeView(s, r, row));
      return true;
    }
    if (!s.hash->MayContain(h)) continue;
    absl::Status status;
    RowIndex found = -1;
    s.hash->Probe(h, [&](RowIndex q) {
      const RowIndex r = s.hash->FirstRow(q);
      // A fingerprint match is almost always the key: fetch the row's values
      // while its key is read and compared.
      st.PrefetchRow(s, r);
      status = st.RowKey(s, r, st.key_columns, &row_key);
      if (!status.ok() || row_key != nkey) return !status.ok();
      found = r;
      return true;
    });
    RETL_RETURN_IF_ERROR(status);
    if (found < 0) continue;
    RETL_RETURN_IF_ERROR(st.MakeView(s, found, row, /*prefetch=*/false));  // done above
    return true;
  }
  return false;
}

absl::Status Lookup::Find(std::span<const KeyValue> key, std::vector<RowView>* rows) const {
  const LookupState& st = *state_;
  std::string nkey;
  RETL_ASSIGN_OR_RETURN(bool matchable, st.Normalize(key, &nkey));
  if (!matchable) return absl::OkStatus();
  const uint64_t h = KeyHash(nkey);
  for (const LookupSegment& s : st.segments) {
    if (s.hash != nullptr) s.hash->PrefetchFilter(h);
  }
  for (const LookupSegment& s : st.segments) {
    if (s.hash != nullptr && !s.hash->MayContain(h)) continue;
    RETL_ASSIGN_OR_RETURN(RowIndex q, st.Probe(s, nkey, h));
    if (q < 0) continue;
    if (s.hash == nullptr || s.hash->unique()) {
      RowView v;
      RETL_RETURN_IF_ERROR(st.MakeView(s, s.hash != nullptr ? s.hash->FirstRow(q) : q, &v));
      rows->push_back(v);
    } else {
      std::string row_key;
      for (uint32_t r : s.hash->GroupRows(q)) {
        // Probe compared the group's first row; a damaged file must not slip
        // other keys into the group.
        RETL_RETURN_IF_ERROR(st.RowKey(s, r, st.key_columns, &row_key));
        if (row_key != nkey) {
          return absl::DataLossError(StrCat("index file '", s.index_file->path(), "': row ", r,
                                            " is in the group of another key"));
        }
        RowView v;
        RETL_RETURN_IF_ERROR(st.MakeView(s, r, &v));
        rows->push_back(v);
      }
    }
    if (st.primary) break;  // unique across the table (FORMAT.md §12.7)
  }
  return absl::OkStatus();
}

absl::Status Lookup::GetBatch(std::span<const KeyValue> keys, std::vector<RowView>* rows) const {
  const LookupState& st = *state_;
  const size_t width = st.key_fields.size();
  if (width == 0 || keys.size() % width != 0) {
    return absl::InvalidArgumentError(StrCat("GetBatch: ", keys.size(),
                                             " key values is not a multiple of the key's ", width,
                                             " column(s)"));
  }
  const size_t n = keys.size() / width;
  rows->assign(n, RowView());
  std::vector<std::string> nkeys(n);
  std::vector<uint64_t> hashes(n);
  std::vector<bool> matchable(n);
  // Stage 1: normalize and hash every key; prefetch the filter blocks.
  for (size_t i = 0; i < n; ++i) {
    RETL_ASSIGN_OR_RETURN(bool m, st.Normalize(keys.subspan(i * width, width), &nkeys[i]));
    matchable[i] = m;
    hashes[i] = KeyHash(nkeys[i]);
    if (m) {
      for (const LookupSegment& s : st.segments) {
        if (s.hash != nullptr) s.hash->PrefetchFilter(hashes[i]);
      }
    }
  }
  // Stage 2: filters; prefetch the home slots of the segments that pass.
  struct Candidate {
    uint32_t key;
    uint32_t segment;
  };
  std::vector<Candidate> candidates;
  candidates.reserve(n + n / 4);
  // A key's first segment whose filter passes almost always holds it (about
  // 1% false positives): stop there, and let the few keys it does not
  // verify resume after it (`resume`, stage 5).
  std::vector<uint32_t> resume(n, static_cast<uint32_t>(st.segments.size()));
  for (size_t i = 0; i < n; ++i) {
    if (!matchable[i]) continue;
    for (size_t j = 0; j < st.segments.size(); ++j) {
      const LookupSegment& s = st.segments[j];
      if (s.hash != nullptr && !s.hash->MayContain(hashes[i])) continue;
      candidates.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(j)});
      if (s.hash != nullptr) {
        s.hash->PrefetchSlot(hashes[i]);
        resume[i] = static_cast<uint32_t>(j + 1);
        break;
      }
    }
  }
  // Stage 3: walk the probe sequences (slots now in cache) and collect the
  // rows whose fingerprints match; prefetch their key values.
  struct Hit {
    uint32_t key;
    uint32_t segment;
    RowIndex row;
  };
  std::vector<Hit> hits;
  hits.reserve(candidates.size());
  for (const Candidate& cand : candidates) {
    const LookupSegment& s = st.segments[cand.segment];
    if (s.hash == nullptr) {  // no index file: binary search now
      RETL_ASSIGN_OR_RETURN(RowIndex r, st.Probe(s, nkeys[cand.key], hashes[cand.key]));
      if (r >= 0) hits.push_back({cand.key, cand.segment, r});
      continue;
    }
    const RowIndex rows_in_segment = s.segment->row_count();
    s.hash->Probe(hashes[cand.key], [&](RowIndex q) {
      const RowIndex r = s.hash->FirstRow(q);
      if (r >= rows_in_segment) return false;  // cannot happen: IndexFile::Open checked payloads
      hits.push_back({cand.key, cand.segment, r});
      const size_t block = s.segment->BlockOf(r);
      for (int c : st.key_columns) {
        if (const ChunkReader* reader = s.segment->ReadyReader(block, c)) {
          reader->Prefetch(r - s.segment->block_start(block));
        }
      }
      return false;
    });
  }
  // Stage 4: verify the keys; MakeView prefetches the values of the rows found.
  std::string key;
  for (const Hit& hit : hits) {
    RowView& out = (*rows)[hit.key];
    if (out.valid()) continue;
    const LookupSegment& s = st.segments[hit.segment];
    RETL_RETURN_IF_ERROR(st.RowKey(s, hit.row, st.key_columns, &key));
    if (key != nkeys[hit.key]) continue;
    RETL_RETURN_IF_ERROR(st.MakeView(s, hit.row, &out));  // prefetches the row's values
  }
  // Stage 5: keys whose first candidate segment was a false positive.
  for (size_t i = 0; i < n; ++i) {
    if ((*rows)[i].valid() || !matchable[i] || resume[i] >= st.segments.size()) continue;
    for (size_t j = resume[i]; j < st.segments.size() && !(*rows)[i].valid(); ++j) {
      const LookupSegment& s = st.segments[j];
      if (s.hash != nullptr && !s.hash->MayContain(hashes[i])) continue;
      RETL_ASSIGN_OR_RETURN(RowIndex q, st.Probe(s, nkeys[i], hashes[i]));
      if (q < 0) continue;
      RETL_RETURN_IF_ERROR(st.MakeView(s, s.hash != nullptr ? s.hash->FirstRow(q) : q, &(*rows)[i]));
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
                                        k.partition});
  }
  const RowIndex n = columns.empty() ? 0 : columns[0].size();
  std::string nkey;
  for (RowIndex r = 0; r < n; ++r) {
    nkey.clear();
    if (!AppendNormalizedKey(columns, schema.primary_key, r, &nkey)) continue;
    const uint64_t h = KeyHash(nkey);
    for (size_t i = 0; i < st.segments.size(); ++i) {
      const LookupSegment& s = st.segments[i];
      if (s.segment == nullptr || (s.hash != nullptr && !s.hash->MayContain(h))) continue;
      RETL_ASSIGN_OR_RETURN(RowIndex q, st.Probe(s, nkey, h));
      if (q >= 0) return std::make_pair(r, i);
    }
  }
  return std::nullopt;
}

}  // namespace retl
