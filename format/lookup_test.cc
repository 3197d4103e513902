// Tests of indexes and lookups (FORMAT.md §12): every key of randomized
// datasets found with the same values a scan returns, misses, NULL keys,
// composite keys, block and partition boundaries, every key type, secondary
// indexes with duplicates, ordered scans, old snapshots after newer commits,
// and damaged index files.
#include "retl/lookup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "format/index.h"
#include "format/key_codec.h"
#include "format/row_key.h"
#include "format/test_util.h"
#include "format/text.h"
#include "retl/dataset.h"
#include "retl/verify.h"
#include "retl/writer.h"

namespace retl {
namespace {

namespace fs = std::filesystem;
using testing::Contains;
using testing::TempDir;

std::unique_ptr<DatasetWriter> OpenWriter(const std::string& dir, RowIndex block_rows, bool zstd) {
  WriterOptions o;
  o.block_rows = block_rows;
  o.zstd = zstd;
  return DatasetWriter::Open(dir, o).value();
}

absl::Status CommitChange(const std::string& dir, RowIndex block_rows, bool zstd,
                          const std::function<absl::Status(Transaction*)>& change) {
  auto w = OpenWriter(dir, block_rows, zstd);
  RETL_ASSIGN_OR_RETURN(auto txn, w->Begin("test"));
  RETL_RETURN_IF_ERROR(change(txn.get()));
  return txn->Commit("msg").status();
}

// Every row of a table as canonical text per column ("\N" for NULL), keyed
// by the text of its primary key columns joined with '\x1f'.
using RowText = std::vector<std::string>;
std::map<std::string, RowText> ScanRows(const Snapshot& snap, const std::string& table) {
  std::map<std::string, RowText> out;
  const TableInfo* t = snap.GetTable(table).value();
  absl::Status s = snap.Scan(table, {}, [&](const RowBatch& b) {
    for (RowIndex r = 0; r < b.num_rows; ++r) {
      RowText row;
      for (const Column& c : b.columns) row.push_back(c.IsValid(r) ? ValueText(c, r) : "\\N");
      std::string key;
      for (int k : t->schema.primary_key) key += row[k] + "\x1f";
      out[key] = row;
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

RowText ViewText(const RowView& v) {
  RowText row;
  for (int c = 0; c < v.num_columns(); ++c) row.push_back(v.IsNull(c) ? "\\N" : v.GetText(c));
  return row;
}

// Distinct random values of `type`, as single-row columns' canonical text.
std::vector<std::string> DistinctValues(const DataType& type, size_t n, std::mt19937_64& rng) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (int attempt = 0; out.size() < n && attempt < 100000; ++attempt) {
    Column c(type);
    testing::AppendRandom(&c, rng, attempt % 7 == 0 ? 3 : 0, 0);
    std::string text = ValueText(c, 0);
    if (type.physical() == PhysicalType::kFloat || type.physical() == PhysicalType::kDouble) {
      if (text == "nan" || text == "-0") continue;  // NaN and -0 have their own tests of text
    }
    if (seen.insert(text).second) out.push_back(text);
  }
  return out;
}

TEST(LookupTest, EveryKeyOfEveryKeyTypeMatchesAScan) {
  std::mt19937_64 rng(7);
  for (const DataType& key_type : testing::AllTypes()) {
    for (bool zstd : {false, true}) {
      SCOPED_TRACE(key_type.ToString() + (zstd ? " zstd" : ""));
      TempDir tmp;
      const std::string dir = tmp.Sub("ds");
      ASSERT_OK(DatasetWriter::Init(dir));
      std::vector<std::string> keys = DistinctValues(key_type, 700, rng);
      const size_t n = keys.size() > 40 ? keys.size() - 40 : keys.size() / 2;  // the rest: misses
      Schema schema;
      schema.fields = {{"k", key_type, false},
                       {"part", DataType::Of(TypeId::kInt), true},
                       {"s", DataType::Of(TypeId::kString), true},
                       {"d", DataType::Of(TypeId::kDouble), true},
                       {"dec", DataType::Decimal(30, 4), true}};
      schema.primary_key = {0};
      schema.partition_column = 1;
      TableData data;
      for (const Field& f : schema.fields) data.columns.emplace_back(f.type);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_OK(AppendParsedValue(keys[i], &data.columns[0]));
        if (i % 11 == 0) data.columns[1].AppendNull(); else data.columns[1].AppendInt(i % 4);
        for (int c = 2; c < 5; ++c) testing::AppendRandom(&data.columns[c], rng, i % 4, 0.1);
      }
      ASSERT_OK(CommitChange(dir, 16, zstd,
                             [&](Transaction* t) { return t->CreateTable("t", schema, data); }));
      auto snap = Dataset::Open(dir).value()->Latest().value();
      auto expected = ScanRows(*snap, "t");
      ASSERT_EQ(expected.size(), n);
      auto lookup = Lookup::Open(snap, "t");
      ASSERT_TRUE(lookup.ok()) << lookup.status();
      for (const auto& [key, row] : expected) {
        RowView v;
        auto found = lookup->Get(KeyValue::Text(row[0]), &v);
        ASSERT_TRUE(found.ok()) << found.status();
        ASSERT_TRUE(*found) << "key " << row[0];
        EXPECT_EQ(ViewText(v), row);
        EXPECT_EQ(v.partition().value.value_or("\\N"), row[1]);
      }
      for (size_t i = n; i < keys.size(); ++i) {
        RowView v;
        auto found = lookup->Get(KeyValue::Text(keys[i]), &v);
        ASSERT_TRUE(found.ok()) << found.status();
        EXPECT_FALSE(*found) << "absent key " << keys[i] << " found";
        EXPECT_FALSE(v.valid());
      }
      // The batch path agrees with Get, hits and misses interleaved.
      std::vector<KeyValue> batch;
      for (const std::string& k : keys) batch.push_back(KeyValue::Text(k));
      std::vector<RowView> rows;
      ASSERT_OK(lookup->GetBatch(batch, &rows));
      ASSERT_EQ(rows.size(), keys.size());
      for (size_t i = 0; i < keys.size(); ++i) {
        EXPECT_EQ(rows[i].valid(), i < n) << keys[i];
        if (rows[i].valid()) {
          EXPECT_EQ(ViewText(rows[i])[0], keys[i]);
        }
      }
    }
  }
}

TEST(LookupTest, TypedKeyValuesAndBadKeys) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  Schema schema;
  schema.fields = {{"id", DataType::Of(TypeId::kBigInt), false},
                   {"day", DataType::Of(TypeId::kDate), false},
                   {"f", DataType::Of(TypeId::kFloat), true}};
  schema.primary_key = {0, 1};
  TableData data;
  for (const Field& f : schema.fields) data.columns.emplace_back(f.type);
  for (int i = 0; i < 300; ++i) {
    data.columns[0].AppendInt(i / 3);
    data.columns[1].AppendInt(19000 + i % 3);
    data.columns[2].AppendDouble(i * 0.5);
  }
  ASSERT_OK(CommitChange(dir, 64, false,
                         [&](Transaction* t) { return t->CreateTable("t", schema, data); }));
  auto lookup = Lookup::Open(Dataset::Open(dir).value()->Latest().value(), "t").value();
  RowView v;
  std::vector<KeyValue> key = {KeyValue::Int(42), KeyValue::Int(19001)};
  ASSERT_TRUE(lookup.Get(key, &v).value());
  EXPECT_EQ(v.GetInt(0), 42);
  EXPECT_EQ(v.GetInt(1), 19001);
  EXPECT_EQ(v.GetDouble(2), (42 * 3 + 1) * 0.5);
  key = {KeyValue::Text("42"), KeyValue::Text("2022-01-08")};  // day 19000
  ASSERT_TRUE(lookup.Get(key, &v).value());
  EXPECT_EQ(v.GetText(1), "2022-01-08");
  // NULL never matches; wrong arity, kinds and ranges are errors naming the column.
  key = {KeyValue::Int(42), KeyValue::Null()};
  EXPECT_FALSE(lookup.Get(key, &v).value());
  EXPECT_EQ(lookup.Get(KeyValue::Int(42), &v).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(lookup.Get(KeyValue::Int(42), &v).status(), "2 column(s) (id, day)"));
  key = {KeyValue::Bytes("42"), KeyValue::Int(1)};
  EXPECT_TRUE(Contains(lookup.Get(key, &v).status(), "key column 'id' is BIGINT; got bytes"));
  key = {KeyValue::Int(1), KeyValue::Int(int64_t{1} << 40)};
  EXPECT_TRUE(Contains(lookup.Get(key, &v).status(), "out of its range"));
  key = {KeyValue::Text("x"), KeyValue::Int(1)};
  EXPECT_TRUE(Contains(lookup.Get(key, &v).status(), "key column 'id': cannot parse 'x'"));
  // Unknown table, column and index name what exists.
  auto snap = Dataset::Open(dir).value()->Latest().value();
  EXPECT_EQ(Lookup::Open(snap, "nope").status().code(), absl::StatusCode::kNotFound);
  LookupOptions o;
  o.columns = {"id", "zzz"};
  EXPECT_TRUE(Contains(Lookup::Open(snap, "t", o).status(), "no column 'zzz' (columns: id, day, f)"));
  o.columns = {};
  o.index = "email";
  EXPECT_TRUE(Contains(Lookup::Open(snap, "t", o).status(), "has no index 'email'"));
  // Projection.
  o.index = "";
  o.columns = {"f", "id"};
  auto projected = Lookup::Open(snap, "t", o).value();
  key = {KeyValue::Int(7), KeyValue::Int(19002)};
  ASSERT_TRUE(projected.Get(key, &v).value());
  EXPECT_EQ(v.num_columns(), 2);
  EXPECT_EQ(v.field(0).name, "f");
  EXPECT_EQ(v.GetInt(v.column_index("id")), 7);
  EXPECT_EQ(v.GetDouble(0), (7 * 3 + 2) * 0.5);
}

// A composite key (STRING, INT) with keys crossing block (16 rows) and
// partition boundaries; Scan agrees with the sorted keys for random bounds.
TEST(LookupTest, CompositeKeysAndOrderedScans) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  Schema schema;
  schema.fields = {{"name", DataType::Of(TypeId::kString), false},
                   {"n", DataType::Of(TypeId::kInt), false},
                   {"region", DataType::Of(TypeId::kString), true}};
  schema.primary_key = {0, 1};
  schema.partition_column = 2;
  TableData data;
  for (const Field& f : schema.fields) data.columns.emplace_back(f.type);
  std::mt19937_64 rng(3);
  std::vector<std::pair<std::string, int>> keys;
  const std::vector<std::string> names = {"", "a", std::string("a\0b", 3), "ab", "b",
                                          "\xc3\xa9t\xc3\xa9", "zz"};
  for (const std::string& name : names) {
    for (int n = -20; n < 20; ++n) {
      if (rng() % 3 == 0) continue;
      keys.emplace_back(name, n * 7);
      data.columns[0].AppendBytes(name);
      data.columns[1].AppendInt(n * 7);
      const char* regions[] = {"eu", "us", "apac"};
      if (rng() % 10 == 0) data.columns[2].AppendNull(); else data.columns[2].AppendBytes(regions[rng() % 3]);
    }
  }
  ASSERT_OK(CommitChange(dir, 16, false,
                         [&](Transaction* t) { return t->CreateTable("t", schema, data); }));
  auto lookup = Lookup::Open(Dataset::Open(dir).value()->Latest().value(), "t").value();
  std::sort(keys.begin(), keys.end());
  for (const auto& [name, n] : keys) {
    RowView v;
    std::vector<KeyValue> key = {KeyValue::Bytes(name), KeyValue::Int(n)};
    ASSERT_TRUE(lookup.Get(key, &v).value()) << name << "," << n;
    EXPECT_EQ(v.GetBytes(0), name);
    EXPECT_EQ(v.GetInt(1), n);
    key = {KeyValue::Bytes(name), KeyValue::Int(n + 1)};
    EXPECT_FALSE(lookup.Get(key, &v).value());
  }
  auto scan = [&](std::optional<KeyBound> lo, std::optional<KeyBound> hi) {
    std::vector<std::pair<std::string, int>> out;
    absl::Status s = lookup.Scan(lo, hi, [&](const RowView& v) {
      out.emplace_back(std::string(v.GetBytes(0)), static_cast<int>(v.GetInt(1)));
      return true;
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  };
  EXPECT_EQ(scan(std::nullopt, std::nullopt), keys);
  for (int trial = 0; trial < 200; ++trial) {
    const std::string& lo_name = names[rng() % names.size()];
    const std::string& hi_name = names[rng() % names.size()];
    int lo_n = static_cast<int>(rng() % 300) - 150, hi_n = static_cast<int>(rng() % 300) - 150;
    bool lo_prefix = rng() % 3 == 0, hi_prefix = rng() % 3 == 0;
    bool lo_inc = rng() % 2, hi_inc = rng() % 2;
    KeyBound lo{{KeyValue::Bytes(lo_name)}, lo_inc}, hi{{KeyValue::Bytes(hi_name)}, hi_inc};
    if (!lo_prefix) lo.key.push_back(KeyValue::Int(lo_n));
    if (!hi_prefix) hi.key.push_back(KeyValue::Int(hi_n));
    std::vector<std::pair<std::string, int>> want;
    for (const auto& k : keys) {
      int c_lo = k.first != lo_name ? (k.first < lo_name ? -1 : 1)
                                    : (lo_prefix ? 0 : (k.second < lo_n ? -1 : k.second > lo_n));
      int c_hi = k.first != hi_name ? (k.first < hi_name ? -1 : 1)
                                    : (hi_prefix ? 0 : (k.second < hi_n ? -1 : k.second > hi_n));
      if ((lo_inc ? c_lo >= 0 : c_lo > 0) && (hi_inc ? c_hi <= 0 : c_hi < 0)) want.push_back(k);
    }
    EXPECT_EQ(scan(lo, hi), want) << "trial " << trial;
  }
  // Stopping early.
  int seen = 0;
  ASSERT_OK(lookup.Scan(std::nullopt, std::nullopt, [&](const RowView&) { return ++seen < 5; }));
  EXPECT_EQ(seen, 5);
}

// A secondary index on a column with duplicates and NULLs: Find returns
// every matching row across partitions; NULLs are never matched.
TEST(LookupTest, SecondaryIndexesReturnEveryMatchingRow) {
  for (bool composite : {false, true}) {
    TempDir tmp;
    const std::string dir = tmp.Sub("ds");
    ASSERT_OK(DatasetWriter::Init(dir));
    Schema schema;
    schema.fields = {{"id", DataType::Of(TypeId::kBigInt), false},
                     {"color", DataType::Of(TypeId::kString), true},
                     {"size", DataType::Of(TypeId::kSmallInt), true},
                     {"email", DataType::Of(TypeId::kString), true}};
    schema.primary_key = {0};
    schema.partition_column = 2;
    schema.indexes.push_back(composite ? IndexDef{"color_size", {1, 2}} : IndexDef{"color", {1}});
    schema.indexes.push_back(IndexDef{"email", {3}});
    TableData data;
    for (const Field& f : schema.fields) data.columns.emplace_back(f.type);
    std::mt19937_64 rng(11);
    const char* colors[] = {"red", "green", "blue", "", "cyan"};
    std::multimap<std::string, int64_t> by_value;  // "color|size" or "color"
    std::map<std::string, int64_t> by_email;
    for (int64_t i = 0; i < 2000; ++i) {
      data.columns[0].AppendInt(i * 13);
      bool null_color = rng() % 17 == 0, null_size = rng() % 13 == 0;
      std::string color = colors[rng() % 5];
      int size = static_cast<int>(rng() % 3);
      if (null_color) data.columns[1].AppendNull(); else data.columns[1].AppendBytes(color);
      if (null_size) data.columns[2].AppendNull(); else data.columns[2].AppendInt(size);
      if (!null_color && (!composite || !null_size)) {
        by_value.emplace(composite ? color + "|" + std::to_string(size) : color, i * 13);
      }
      std::string email = "user" + std::to_string(i) + "@x.com";
      if (i % 50 == 0) {
        data.columns[3].AppendNull();
      } else {
        data.columns[3].AppendBytes(email);
        by_email[email] = i * 13;
      }
    }
    ASSERT_OK(CommitChange(dir, 64, false,
                           [&](Transaction* t) { return t->CreateTable("t", schema, data); }));
    auto snap = Dataset::Open(dir).value()->Latest().value();
    LookupOptions o;
    o.index = composite ? "color_size" : "color";
    auto lookup = Lookup::Open(snap, "t", o).value();
    EXPECT_FALSE(lookup.unique());
    for (const char* color : colors) {
      for (int size = 0; size < (composite ? 3 : 1); ++size) {
        std::vector<KeyValue> key = {KeyValue::Bytes(color)};
        if (composite) key.push_back(KeyValue::Int(size));
        std::vector<RowView> rows;
        ASSERT_OK(lookup.Find(key, &rows));
        std::multiset<int64_t> got, want;
        for (const RowView& v : rows) got.insert(v.GetInt(0));
        auto [b, e] = by_value.equal_range(composite ? std::string(color) + "|" + std::to_string(size) : std::string(color));
        for (auto it = b; it != e; ++it) want.insert(it->second);
        EXPECT_EQ(got, want) << color << " " << size;
        EXPECT_FALSE(want.empty());
      }
    }
    std::vector<RowView> rows;
    std::vector<KeyValue> null_key = {KeyValue::Null()};
    if (composite) null_key.push_back(KeyValue::Int(1));
    ASSERT_OK(lookup.Find(null_key, &rows));
    EXPECT_TRUE(rows.empty());
    o.index = "email";
    auto emails = Lookup::Open(snap, "t", o).value();
    for (const auto& [email, id] : by_email) {
      RowView v;
      ASSERT_TRUE(emails.Get(KeyValue::Bytes(email), &v).value()) << email;
      EXPECT_EQ(v.GetInt(0), id);
    }
    RowView v;
    EXPECT_FALSE(emails.Get(KeyValue::Bytes("user50@x.com"), &v).value());  // NULL email row
  }
}

// A Lookup keeps its snapshot: after newer versions replace and drop rows,
// the old Lookup still returns the old rows while a new one sees the new.
TEST(LookupTest, OldSnapshotsKeepTheirRowsAfterNewerCommits) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  Schema schema;
  schema.fields = {{"id", DataType::Of(TypeId::kInt), false},
                   {"region", DataType::Of(TypeId::kString), true},
                   {"v", DataType::Of(TypeId::kString), true}};
  schema.primary_key = {0};
  schema.partition_column = 1;
  auto make = [&](int from, int to, const std::string& region, const std::string& v) {
    TableData d;
    for (const Field& f : schema.fields) d.columns.emplace_back(f.type);
    for (int i = from; i < to; ++i) {
      d.columns[0].AppendInt(i);
      d.columns[1].AppendBytes(region);
      d.columns[2].AppendBytes(v + std::to_string(i));
    }
    return d;
  };
  ASSERT_OK(CommitChange(dir, 64, false, [&](Transaction* t) {
    return t->CreateTable("t", schema, make(0, 100, "eu", "old"));
  }));
  auto ds = Dataset::Open(dir).value();
  auto first = ds->Latest().value();
  EXPECT_EQ(ds->Latest().value(), first);  // unchanged version: the same snapshot
  auto old_lookup = Lookup::Open(first, "t").value();
  ASSERT_OK(CommitChange(dir, 64, false, [&](Transaction* t) {
    return t->ReplacePartitions("t", make(0, 50, "eu", "new"), std::optional<std::string>("eu"));
  }));
  auto second = ds->Latest().value();
  EXPECT_NE(second, first);
  auto new_lookup = Lookup::Open(second, "t").value();
  RowView v;
  ASSERT_TRUE(old_lookup.Get(KeyValue::Int(70), &v).value());
  EXPECT_EQ(v.GetBytes(2), "old70");
  ASSERT_TRUE(old_lookup.Get(KeyValue::Int(10), &v).value());
  EXPECT_EQ(v.GetBytes(2), "old10");
  EXPECT_FALSE(new_lookup.Get(KeyValue::Int(70), &v).value());
  ASSERT_TRUE(new_lookup.Get(KeyValue::Int(10), &v).value());
  EXPECT_EQ(v.GetBytes(2), "new10");
  // A duplicate key across partitions is refused, naming key and partitions.
  auto w = OpenWriter(dir, 64, false);
  auto txn = w->Begin("test").value();
  absl::Status s = txn->Append("t", make(49, 51, "us", "dup"));
  EXPECT_TRUE(Contains(s, "duplicate primary key (id)=(49)")) << s;
  EXPECT_TRUE(Contains(s, "partition 'eu'")) << s;
}

// Hot swap: readers take fresh snapshots and look keys up while a writer
// replaces the table again and again. Every row a reader sees belongs to
// the version of the snapshot it used (rows carry their version), and no
// reader ever sees a key missing or an error.
TEST(LookupTest, ReadersSeeWholeVersionsWhileWritersCommit) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  Schema schema;
  schema.fields = {{"id", DataType::Of(TypeId::kInt), false},
                   {"region", DataType::Of(TypeId::kString), true},
                   {"written_in", DataType::Of(TypeId::kBigInt), true}};
  schema.primary_key = {0};
  schema.partition_column = 1;
  auto make = [&](int64_t version) {
    TableData d;
    for (const Field& f : schema.fields) d.columns.emplace_back(f.type);
    for (int i = 0; i < 3000; ++i) {
      d.columns[0].AppendInt(i);
      d.columns[1].AppendBytes(i % 3 == 0 ? "eu" : "us");
      d.columns[2].AppendInt(version);
    }
    return d;
  };
  ASSERT_OK(CommitChange(dir, 256, false,
                         [&](Transaction* t) { return t->CreateTable("t", schema, make(2)); }));
  auto ds = Dataset::Open(dir).value();
  std::atomic<bool> stop{false};
  std::atomic<int64_t> lookups{0}, versions_seen{0};
  std::vector<std::string> failures;
  std::mutex failures_mu;
  auto reader = [&](int seed) {
    std::mt19937_64 rng(seed);
    int64_t last_version = 0;
    while (!stop.load()) {
      auto snap = ds->Latest();
      auto lookup = snap.ok() ? Lookup::Open(*snap, "t") : absl::StatusOr<Lookup>(snap.status());
      if (!lookup.ok()) {
        std::lock_guard<std::mutex> lock(failures_mu);
        failures.push_back(std::string(lookup.status().message()));
        return;
      }
      const int64_t version = lookup->snapshot().version();
      if (version != last_version) ++versions_seen, last_version = version;
      for (int i = 0; i < 200; ++i) {
        RowView v;
        const int id = static_cast<int>(rng() % 3000);
        auto found = lookup->Get(KeyValue::Int(id), &v);
        ++lookups;
        if (!found.ok() || !*found || v.GetInt(2) != version) {
          std::lock_guard<std::mutex> lock(failures_mu);
          failures.push_back("id " + std::to_string(id) + " in version " + std::to_string(version) +
                             ": " + (found.ok() ? (*found ? "written_in " + std::to_string(v.GetInt(2)) : "missing")
                                                : std::string(found.status().message())));
          return;
        }
      }
    }
  };
  std::thread r1(reader, 1), r2(reader, 2);
  for (int64_t version = 3; version <= 12; ++version) {
    ASSERT_OK(CommitChange(dir, 256, false, [&](Transaction* t) {
      return version % 2 == 0 ? t->ReplaceTable("t", schema, make(version))
                              : t->ReplacePartitions("t", make(version), std::nullopt);
    }));
  }
  stop = true;
  r1.join();
  r2.join();
  EXPECT_TRUE(failures.empty()) << failures.front();
  EXPECT_GT(lookups.load(), 0);
  auto last = Lookup::Open(ds->Latest().value(), "t").value();
  RowView v;
  ASSERT_TRUE(last.Get(KeyValue::Int(7), &v).value());
  EXPECT_EQ(v.GetInt(2), 12);
}

// Many partitions: a key's first segment whose filter passes is often a
// false positive; GetBatch must resume and agree with Get for every key.
TEST(LookupTest, GetBatchAgreesWithGetAcrossManyPartitions) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  Schema schema;
  schema.fields = {{"id", DataType::Of(TypeId::kBigInt), false},
                   {"part", DataType::Of(TypeId::kInt), true}};
  schema.primary_key = {0};
  schema.partition_column = 1;
  TableData data;
  for (const Field& f : schema.fields) data.columns.emplace_back(f.type);
  for (int64_t i = 0; i < 6000; ++i) {
    data.columns[0].AppendInt(i * 7919);
    data.columns[1].AppendInt(i % 40);
  }
  ASSERT_OK(CommitChange(dir, 512, false,
                         [&](Transaction* t) { return t->CreateTable("t", schema, data); }));
  auto lookup = Lookup::Open(Dataset::Open(dir).value()->Latest().value(), "t").value();
  std::vector<KeyValue> keys;
  for (int64_t i = 0; i < 7000; ++i) keys.push_back(KeyValue::Int(i * 7919));  // 1000 misses
  std::vector<RowView> rows;
  ASSERT_OK(lookup.GetBatch(keys, &rows));
  for (int64_t i = 0; i < 7000; ++i) {
    ASSERT_EQ(rows[i].valid(), i < 6000) << i;
    if (i < 6000) {
      EXPECT_EQ(rows[i].GetInt(0), i * 7919);
      EXPECT_EQ(rows[i].GetInt(1), i % 40);
    }
  }
}

// The callback form of GetBatch: called once per key that has a row, in
// ascending key order, with the row Get returns; projections without the key
// column and string keys holding NUL bytes (escaped in normalized keys) too.
TEST(LookupTest, GetBatchCallbackVisitsFoundKeysInOrder) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  Schema schema;
  schema.fields = {{"id", DataType::Of(TypeId::kBigInt), false},
                   {"name", DataType::Of(TypeId::kString), true},
                   {"part", DataType::Of(TypeId::kInt), true}};
  schema.primary_key = {0};
  schema.partition_column = 2;
  schema.indexes.push_back(IndexDef{"name", {1}});
  TableData data;
  for (const Field& f : schema.fields) data.columns.emplace_back(f.type);
  auto name_of = [](int64_t i) {
    std::string name = "n" + std::to_string(i);
    if (i % 5 == 0) name += std::string("\0x", 2);  // NUL inside the key
    if (i % 7 == 0) name = std::string("\0", 1) + name;
    return name;
  };
  for (int64_t i = 0; i < 3000; ++i) {
    data.columns[0].AppendInt(i * 31);
    data.columns[1].AppendBytes(name_of(i));
    data.columns[2].AppendInt(i % 6);
  }
  ASSERT_OK(CommitChange(dir, 256, false,
                         [&](Transaction* t) { return t->CreateTable("t", schema, data); }));
  auto snap = Dataset::Open(dir).value()->Latest().value();
  LookupOptions only_part;
  only_part.columns = {"part"};
  auto by_id = Lookup::Open(snap, "t", only_part).value();
  std::vector<KeyValue> keys;
  std::vector<std::string> texts;  // KeyValue::Text does not copy
  texts.reserve(3500);
  for (int64_t i = 0; i < 3500; ++i) {
    // Hits and misses interleaved, integers and text.
    const int64_t id = (i * 7) % 3500 * 31 + (i % 13 == 0 ? 1 : 0);
    texts.push_back(std::to_string(id));
    keys.push_back(i % 3 == 0 ? KeyValue::Text(texts.back()) : KeyValue::Int(id));
  }
  std::vector<size_t> visited;
  ASSERT_OK(by_id.GetBatch(keys, [&](size_t i, const RowView& row) {
    visited.push_back(i);
    RowView single;
    auto found = by_id.Get(keys[i], &single);
    ASSERT_TRUE(found.ok() && *found) << i;
    EXPECT_EQ(row.GetInt(0), single.GetInt(0));
    const int64_t id = keys[i].kind() == KeyValue::Kind::kInt ? keys[i].int_value()
                                                               : std::stoll(std::string(keys[i].bytes_value()));
    EXPECT_EQ(row.GetInt(0), id / 31 % 6) << i;
  }));
  std::vector<size_t> expected;
  for (size_t i = 0; i < keys.size(); ++i) {
    RowView v;
    if (by_id.Get(keys[i], &v).value()) expected.push_back(i);
  }
  EXPECT_EQ(visited, expected);
  EXPECT_GT(expected.size(), 2500u);
  EXPECT_LT(expected.size(), keys.size());

  LookupOptions by_name_options;
  by_name_options.index = "name";
  auto by_name = Lookup::Open(snap, "t", by_name_options).value();
  std::vector<std::string> names;
  for (int64_t i = 0; i < 3300; i += 3) names.push_back(i < 3000 ? name_of(i) : name_of(i) + "?");
  names.push_back(std::string("n5", 2));  // a prefix of "n5\0x": no match
  std::vector<KeyValue> name_keys;
  for (const std::string& n : names) name_keys.push_back(KeyValue::Bytes(n));
  std::vector<RowView> rows;
  ASSERT_OK(by_name.GetBatch(name_keys, &rows));
  for (size_t i = 0; i < names.size(); ++i) {
    const bool hit = i < 1000;
    ASSERT_EQ(rows[i].valid(), hit) << i;
    if (hit) {
      EXPECT_EQ(rows[i].GetBytes(1), names[i]);
      EXPECT_EQ(rows[i].GetInt(0), static_cast<int64_t>(i) * 3 * 31);
    }
  }
}

// A unique secondary index over a column that is mostly NULL: payloads are
// rows of the whole segment, not of the indexed rows only.
TEST(LookupTest, SparseUniqueSecondaryIndexes) {
  for (int rows : {2, 1000}) {
    TempDir tmp;
    const std::string dir = tmp.Sub("ds");
    ASSERT_OK(DatasetWriter::Init(dir));
    Schema schema;
    schema.fields = {{"id", DataType::Of(TypeId::kBigInt), false},
                     {"email", DataType::Of(TypeId::kString), true}};
    schema.primary_key = {0};
    schema.indexes.push_back(IndexDef{"email", {1}});
    TableData data;
    for (const Field& f : schema.fields) data.columns.emplace_back(f.type);
    for (int i = 0; i < rows; ++i) {
      data.columns[0].AppendInt(i);
      if (i % 10 == 9 || (rows == 2 && i == 1)) {
        data.columns[1].AppendBytes("u" + std::to_string(i));
      } else {
        data.columns[1].AppendNull();
      }
    }
    ASSERT_OK(CommitChange(dir, 64, false,
                           [&](Transaction* t) { return t->CreateTable("t", schema, data); }));
    LookupOptions o;
    o.index = "email";
    auto lookup = Lookup::Open(Dataset::Open(dir).value()->Latest().value(), "t", o);
    ASSERT_TRUE(lookup.ok()) << lookup.status();
    for (int i = 0; i < rows; ++i) {
      if (!(i % 10 == 9 || (rows == 2 && i == 1))) continue;
      RowView v;
      ASSERT_TRUE(lookup->Get(KeyValue::Bytes("u" + std::to_string(i)), &v).value()) << i;
      EXPECT_EQ(v.GetInt(0), i);
    }
    EXPECT_TRUE(VerifyVersion(dir, 2).value().ok());
  }
}

// Key checks see the transaction's own earlier changes, not only the base.
TEST(LookupTest, KeyChecksSeeEarlierChangesOfTheTransaction) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  Schema schema;
  schema.fields = {{"k", DataType::Of(TypeId::kDouble), false},
                   {"region", DataType::Of(TypeId::kString), true}};
  schema.primary_key = {0};
  schema.partition_column = 1;
  auto make = [&](std::vector<double> keys, const std::string& region) {
    TableData d;
    for (const Field& f : schema.fields) d.columns.emplace_back(f.type);
    for (double k : keys) {
      d.columns[0].AppendDouble(k);
      d.columns[1].AppendBytes(region);
    }
    return d;
  };
  auto w = OpenWriter(dir, 64, false);
  {
    auto txn = w->Begin("test").value();
    ASSERT_OK(txn->CreateTable("t", schema, make({1, 2}, "a")));
    ASSERT_OK(txn->Append("t", make({3}, "b")));  // the table exists only in this transaction
    absl::Status s = txn->Append("t", make({3}, "c"));
    EXPECT_TRUE(Contains(s, "duplicate primary key (k)=(3)")) << s;
    EXPECT_TRUE(Contains(s, "partition 'b'")) << s;
    ASSERT_OK(txn->ReplacePartitions("t", make({5}, "a"), std::optional<std::string>("a")));
    ASSERT_OK(txn->Append("t", make({1}, "c")));  // 1 left with the old partition 'a'
    s = txn->Append("t", make({5}, "d"));
    EXPECT_TRUE(Contains(s, "partition 'a'")) << s;
    ASSERT_TRUE(txn->Commit("msg").ok());
  }
  // NaNs are one key, whatever their payload.
  uint64_t bits = 0x7ff8000000000001ull;
  double odd_nan;
  std::memcpy(&odd_nan, &bits, sizeof odd_nan);
  auto txn = w->Begin("test").value();
  TableData nans = make({std::numeric_limits<double>::quiet_NaN(), odd_nan}, "n");
  EXPECT_TRUE(Contains(txn->Append("t", nans), "duplicate primary key"));
  ASSERT_OK(txn->Append("t", make({odd_nan}, "n")));
  EXPECT_TRUE(Contains(txn->Append("t", make({-std::numeric_limits<double>::quiet_NaN()}, "m")),
                       "duplicate primary key"));
  ASSERT_TRUE(txn->Commit("msg").ok());
  auto lookup = Lookup::Open(Dataset::Open(dir).value()->Latest().value(), "t").value();
  RowView v;
  EXPECT_TRUE(lookup.Get(KeyValue::Double(std::numeric_limits<double>::quiet_NaN()), &v).value());
  EXPECT_EQ(v.partition().value, "n");
  // A bound no FLOAT-exact double still orders keys.
  int seen = 0;
  ASSERT_OK(lookup.Scan(KeyBound{{KeyValue::Double(1.5)}, true}, KeyBound{{KeyValue::Double(4.9)}, false},
                        [&](const RowView& row) {
                          EXPECT_EQ(row.GetDouble(0), 3);
                          return ++seen > 0;
                        }));
  EXPECT_EQ(seen, 1);
  EXPECT_TRUE(VerifyVersion(dir, Dataset::Open(dir).value()->CurrentVersion().value()).value().ok());
}

// Damaged, truncated or missing index files are errors, never wrong rows.
TEST(LookupTest, DamagedIndexFilesAreErrors) {
  TempDir tmp;
  const std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  Schema schema;
  schema.fields = {{"id", DataType::Of(TypeId::kBigInt), false},
                   {"email", DataType::Of(TypeId::kString), true}};
  schema.primary_key = {0};
  schema.indexes.push_back(IndexDef{"email", {1}});
  TableData data;
  for (const Field& f : schema.fields) data.columns.emplace_back(f.type);
  for (int i = 0; i < 1000; ++i) {
    data.columns[0].AppendInt(i);
    data.columns[1].AppendBytes("u" + std::to_string(i));
  }
  ASSERT_OK(CommitChange(dir, 64, false,
                         [&](Transaction* t) { return t->CreateTable("t", schema, data); }));
  std::string idx;
  for (const auto& e : fs::directory_iterator(dir + "/data")) {
    if (e.path().extension() == ".idx") idx = e.path().string();
  }
  ASSERT_FALSE(idx.empty());
  std::string original;
  {
    std::ifstream in(idx, std::ios::binary);
    original.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& bytes) {
    fs::remove(idx);  // new inode: readers never see the change on a mapped file
    std::ofstream(idx, std::ios::binary) << bytes;
  };
  // Index files are opened by the first lookup: scans never need them.
  auto open_lookup = [&]() -> absl::Status {
    auto snap = Dataset::Open(dir).value()->Latest();
    if (!snap.ok()) return snap.status();
    absl::Status scan = (*snap)->Scan("t", {}, [](const RowBatch&) { return absl::OkStatus(); });
    EXPECT_TRUE(scan.ok()) << scan;
    return Lookup::Open(*snap, "t").status();
  };
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 30; ++trial) {
    std::string bad = original;
    size_t at = rng() % bad.size();
    bad[at] = static_cast<char>(bad[at] ^ (1 + rng() % 255));
    write(bad);
    absl::Status s = open_lookup();
    ASSERT_FALSE(s.ok()) << "flipped byte " << at;
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_TRUE(Contains(s, idx)) << s;
  }
  write(original.substr(0, original.size() / 2));
  EXPECT_TRUE(Contains(open_lookup(), "truncated or replaced"));
  fs::remove(idx);
  EXPECT_TRUE(Contains(open_lookup(), "is missing"));
  write(original);
  auto lookup = Lookup::Open(Dataset::Open(dir).value()->Latest().value(), "t").value();
  RowView v;
  EXPECT_TRUE(lookup.Get(KeyValue::Int(999), &v).value());
}

// An index file whose checksums are right but whose slots point at the
// wrong rows (a buggy writer): lookups still return only matching rows.
TEST(LookupTest, IndexBuildIsDeterministicAndFingerprintsAreVerified) {
  Schema schema;
  schema.fields = {{"id", DataType::Of(TypeId::kBigInt), false}};
  schema.primary_key = {0};
  std::vector<Column> cols;
  cols.emplace_back(DataType::Of(TypeId::kBigInt));
  for (int i = 0; i < 5000; ++i) cols[0].AppendInt(i * 2);
  std::string a = BuildIndexFile(schema, cols, 123).value();
  std::string b = BuildIndexFile(schema, cols, 123).value();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, BuildIndexFile(schema, cols, 124).value());
  // Normalized keys order as values do.
  std::string x, y;
  AppendNormalizedInt(-1, &x);
  AppendNormalizedInt(1, &y);
  EXPECT_LT(x, y);
  x.clear(), y.clear();
  AppendNormalizedBytes(std::string("a\0b", 3), &x);
  AppendNormalizedBytes("a", &y);
  EXPECT_GT(x, y);
  x.clear(), y.clear();
  AppendNormalizedDouble(-0.5, &x);
  AppendNormalizedDouble(0.25, &y);
  EXPECT_LT(x, y);
}

}  // namespace
}  // namespace retl
