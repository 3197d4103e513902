// End-to-end tests of the writer and reader: round trips of random schemas,
// every change operation, time travel, the writer lock, crash leftovers,
// readers racing writers, and damaged files.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "format/file_util.h"
#include "format/manifest.h"
#include "format/row_key.h"
#include "format/test_util.h"
#include "format/text.h"
#include "retl/dataset.h"
#include "retl/verify.h"
#include "retl/writer.h"

namespace retl {
namespace {

namespace fs = std::filesystem;
using testing::AllTypes;
using testing::TempDir;

// A table with an id key, a partition column and one column of every type.
Schema WideSchema(bool partitioned) {
  Schema s;
  s.fields.push_back({"id", DataType::Of(TypeId::kBigInt), false});
  s.fields.push_back({"region", DataType::Of(TypeId::kString), true});
  int i = 0;
  for (const DataType& t : AllTypes()) s.fields.push_back({"c" + std::to_string(i++), t, true});
  s.primary_key = {0};
  if (partitioned) s.partition_column = 1;
  return s;
}

TableData RandomData(const Schema& schema, RowIndex rows, uint64_t seed, int64_t id_base = 0) {
  std::mt19937_64 rng(seed);
  TableData data;
  for (const Field& f : schema.fields) data.columns.emplace_back(f.type);
  std::vector<int64_t> ids(rows);
  for (RowIndex i = 0; i < rows; ++i) ids[i] = id_base + i * 3;
  std::shuffle(ids.begin(), ids.end(), rng);
  const char* regions[] = {"eu", "us", "apac"};
  for (RowIndex r = 0; r < rows; ++r) {
    data.columns[0].AppendInt(ids[r]);
    if (rng() % 20 == 0) {
      data.columns[1].AppendNull();
    } else {
      data.columns[1].AppendBytes(regions[rng() % 3]);
    }
    for (size_t c = 2; c < schema.fields.size(); ++c) {
      testing::AppendRandom(&data.columns[c], rng, static_cast<int>(rng() % 4), 0.1);
    }
  }
  return data;
}

// All rows of a table in a snapshot, in scan order.
std::vector<Column> ReadTable(const Snapshot& snap, const std::string& table) {
  std::vector<Column> out;
  const TableInfo* t = snap.GetTable(table).value();
  for (const Field& f : t->schema.fields) out.emplace_back(f.type);
  absl::Status s = snap.Scan(table, {}, [&](const RowBatch& b) {
    for (size_t c = 0; c < b.columns.size(); ++c) {
      for (RowIndex r = 0; r < b.num_rows; ++r) out[c].AppendFrom(b.columns[c], r);
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// `data`'s rows ordered as a scan returns them: by partition value, then key.
std::vector<Column> Expected(const Schema& schema, const TableData& data) {
  std::vector<RowIndex> order = SortByKey(data.columns, schema.primary_key);
  if (schema.partition_column) {
    const Column& pc = data.columns[*schema.partition_column];
    std::stable_sort(order.begin(), order.end(), [&](RowIndex a, RowIndex b) {
      std::optional<std::string> va, vb;
      if (pc.IsValid(a)) va = ValueText(pc, a);
      if (pc.IsValid(b)) vb = ValueText(pc, b);
      return va < vb;
    });
  }
  std::vector<Column> out;
  for (const Column& c : data.columns) out.push_back(c.Take(order));
  return out;
}

void ExpectSameRows(const std::vector<Column>& a, const std::vector<Column>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t c = 0; c < a.size(); ++c) EXPECT_TRUE(a[c].Equals(b[c])) << "column " << c;
}

std::unique_ptr<DatasetWriter> OpenWriter(const std::string& dir, RowIndex block_rows = 64,
                                          bool zstd = false) {
  WriterOptions o;
  o.block_rows = block_rows;
  o.zstd = zstd;
  auto w = DatasetWriter::Open(dir, o);
  EXPECT_TRUE(w.ok()) << w.status();
  return std::move(w).value();
}

int64_t Commit(DatasetWriter* w, const std::function<absl::Status(Transaction*)>& change) {
  auto txn = w->Begin("test").value();
  absl::Status s = change(txn.get());
  EXPECT_TRUE(s.ok()) << s;
  auto v = txn->Commit("msg");
  EXPECT_TRUE(v.ok()) << v.status();
  return v.value_or(-1);
}

TEST(DatasetTest, InitCreatesVersionOneAndRefusesToRunTwice) {
  TempDir tmp;
  std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  auto ds = Dataset::Open(dir).value();
  EXPECT_EQ(ds->CurrentVersion().value(), 1);
  EXPECT_TRUE(ds->Latest().value()->tables().empty());
  EXPECT_EQ(DatasetWriter::Init(dir).code(), absl::StatusCode::kAlreadyExists);
  std::ofstream(tmp.Sub("other")) << "x";
  EXPECT_EQ(DatasetWriter::Init(tmp.path()).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Dataset::Open(tmp.Sub("missing")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Dataset::Open(tmp.path()).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(DatasetTest, RoundTripsRandomDataOfEveryType) {
  for (bool partitioned : {false, true}) {
    for (bool zstd : {false, true}) {
      TempDir tmp;
      std::string dir = tmp.Sub("ds");
      ASSERT_OK(DatasetWriter::Init(dir));
      Schema schema = WideSchema(partitioned);
      TableData data = RandomData(schema, 1000, 5);
      auto w = OpenWriter(dir, 64, zstd);
      EXPECT_EQ(Commit(w.get(), [&](Transaction* t) { return t->CreateTable("t", schema, data); }), 2);
      auto snap = Dataset::Open(dir).value()->Latest().value();
      const TableInfo* info = snap->GetTable("t").value();
      EXPECT_EQ(info->schema, schema);
      EXPECT_EQ(info->row_count(), 1000);
      EXPECT_EQ(info->partitions.size(), partitioned ? 4u : 1u);  // NULL, apac, eu, us
      ExpectSameRows(ReadTable(*snap, "t"), Expected(schema, data));
      VerifyReport report = VerifyVersion(dir, 2).value();
      EXPECT_TRUE(report.ok()) << report.problems[0];
      EXPECT_EQ(report.rows, 1000);
    }
  }
}

TEST(DatasetTest, CompositeKeysAndEmptyTables) {
  TempDir tmp;
  std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  Schema s;
  s.fields = {{"a", DataType::Of(TypeId::kString), false},
              {"b", DataType::Of(TypeId::kDate), false},
              {"v", DataType::Decimal(20, 4), true}};
  s.primary_key = {1, 0};
  TableData data;
  for (const Field& f : s.fields) data.columns.emplace_back(f.type);
  for (int i = 0; i < 300; ++i) {
    data.columns[0].AppendBytes(std::string(1, static_cast<char>('a' + i % 7)));
    data.columns[1].AppendInt(i / 7);
    data.columns[2].AppendInt128(static_cast<int128>(i) * 1000000000000ll);
  }
  auto w = OpenWriter(dir);
  Commit(w.get(), [&](Transaction* t) { return t->CreateTable("t", s, data); });
  TableData empty;
  for (const Field& f : s.fields) empty.columns.emplace_back(f.type);
  Commit(w.get(), [&](Transaction* t) { return t->CreateTable("e", s, empty); });
  auto snap = Dataset::Open(dir).value()->Latest().value();
  ExpectSameRows(ReadTable(*snap, "t"), Expected(s, data));
  EXPECT_EQ(snap->GetTable("e").value()->row_count(), 0);
  EXPECT_TRUE(VerifyVersion(dir, 3).value().ok());
}

TEST(DatasetTest, ChangesMakeVersionsAndOldVersionsStayReadable) {
  TempDir tmp;
  std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  Schema schema = WideSchema(true);
  TableData v2 = RandomData(schema, 600, 1);
  auto w = OpenWriter(dir);
  Commit(w.get(), [&](Transaction* t) { return t->CreateTable("t", schema, v2); });

  // Replace partition 'eu' only, with new rows (ids from another range).
  TableData eu;
  for (const Field& f : schema.fields) eu.columns.emplace_back(f.type);
  TableData src = RandomData(schema, 200, 9, 1000000);
  for (RowIndex r = 0; r < 200; ++r) {
    for (size_t c = 0; c < schema.fields.size(); ++c) {
      if (c == 1) {
        eu.columns[c].AppendBytes("eu");
      } else {
        eu.columns[c].AppendFrom(src.columns[c], r);
      }
    }
  }
  Commit(w.get(), [&](Transaction* t) {
    return t->ReplacePartitions("t", eu, std::optional<std::string>("eu"));
  });
  auto ds = Dataset::Open(dir).value();
  auto s3 = ds->Latest().value();
  EXPECT_EQ(s3->version(), 3);
  const TableInfo* t3 = s3->GetTable("t").value();
  RowIndex eu_rows_v2 = 0;
  {
    auto s2 = ds->AtVersion(2).value();  // keep the snapshot alive while using its catalog
    eu_rows_v2 = s2->GetTable("t").value()->FindPartition("eu")->row_count();
  }
  EXPECT_EQ(t3->FindPartition("eu")->row_count(), 200);
  EXPECT_EQ(t3->row_count(), 600 - eu_rows_v2 + 200);

  // Append to 'us', then drop 'apac', then drop the table.
  TableData more = RandomData(schema, 50, 3, 5000000);
  Commit(w.get(), [&](Transaction* t) { return t->Append("t", more); });
  EXPECT_EQ(ds->Latest().value()->GetTable("t").value()->row_count(), t3->row_count() + 50);
  Commit(w.get(), [&](Transaction* t) { return t->DropPartition("t", "apac"); });
  EXPECT_EQ(ds->Latest().value()->GetTable("t").value()->FindPartition("apac"), nullptr);
  Commit(w.get(), [&](Transaction* t) { return t->DropTable("t"); });
  EXPECT_TRUE(ds->Latest().value()->tables().empty());

  // Every version is still readable, exactly as it was.
  ExpectSameRows(ReadTable(*ds->AtVersion(2).value(), "t"), Expected(schema, v2));
  auto versions = ds->Versions().value();
  ASSERT_EQ(versions.size(), 6u);
  for (size_t i = 0; i < versions.size(); ++i) {
    EXPECT_EQ(versions[i].version, static_cast<int64_t>(i + 1));
    EXPECT_EQ(versions[i].parent_version, static_cast<int64_t>(i));
    if (i > 0) {
      EXPECT_GE(versions[i].commit_time_micros, versions[i - 1].commit_time_micros);
    }
    EXPECT_TRUE(VerifyVersion(dir, versions[i].version).value().ok());
  }
  EXPECT_EQ(versions[1].message, "msg");
  EXPECT_NE(versions[2].summary.find("replaced 1 partition (eu)"), std::string::npos)
      << versions[2].summary;
  // AsOf picks the newest version committed at or before a time.
  for (const VersionInfo& v : versions) {
    int64_t newest = 0;
    for (const VersionInfo& w : versions) {
      if (w.commit_time_micros <= v.commit_time_micros) newest = w.version;
    }
    EXPECT_EQ(ds->AsOf(v.commit_time_micros).value()->version(), newest);
  }
  EXPECT_EQ(ds->AsOf(versions[0].commit_time_micros - 1).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ds->AtVersion(99).status().code(), absl::StatusCode::kNotFound);
}

TEST(DatasetTest, BadRowsFailWithoutCommittingOrLeavingFiles) {
  TempDir tmp;
  std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  Schema schema = WideSchema(true);
  TableData data = RandomData(schema, 100, 1);
  auto w = OpenWriter(dir);
  Commit(w.get(), [&](Transaction* t) { return t->CreateTable("t", schema, data); });
  auto files_before = ListDirectory(JoinPath(dir, "data")).value();

  // Duplicate key inside one import.
  TableData dup = RandomData(schema, 10, 2, 9000000);
  for (size_t c = 0; c < schema.fields.size(); ++c) dup.columns[c].AppendFrom(dup.columns[c], 3);
  dup.describe_row = [](RowIndex r) { return "in.csv:" + std::to_string(r + 2); };
  {
    auto txn = w->Begin("import").value();
    absl::Status s = txn->Append("t", dup);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("duplicate primary key (id)=("), std::string::npos) << s;
    EXPECT_NE(s.message().find(") at in.csv:5 and in.csv:12"), std::string::npos)
        << s;
  }
  // A key that exists already.
  TableData clash = RandomData(schema, 5, 4, 0);
  {
    auto txn = w->Begin("import").value();
    absl::Status s = txn->Append("t", clash);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("already exists in partition"), std::string::npos) << s;
  }
  // NULL key.
  TableData null_key = RandomData(schema, 5, 4, 7000000);
  null_key.columns[0] = Column(DataType::Of(TypeId::kBigInt));
  for (int i = 0; i < 5; ++i) {
    if (i == 2) null_key.columns[0].AppendNull(); else null_key.columns[0].AppendInt(7000000 + i);
  }
  {
    auto txn = w->Begin("import").value();
    absl::Status s = txn->Append("t", null_key);
    EXPECT_NE(s.message().find("row 3: column 'id' is NULL"), std::string::npos) << s;
  }
  // A transaction that wrote segments and was then abandoned.
  {
    auto txn = w->Begin("import").value();
    ASSERT_OK(txn->CreateTable("u", schema, RandomData(schema, 50, 8)));
    EXPECT_GT(ListDirectory(JoinPath(dir, "data")).value().size(), files_before.size());
  }
  EXPECT_EQ(ListDirectory(JoinPath(dir, "data")).value().size(), files_before.size());
  EXPECT_EQ(ReadCurrent(dir).value(), 2);
  EXPECT_EQ(ListManifestVersions(dir).value().size(), 2u);
}

// Rows [begin, end) of `data`, as a batch of a feed.
TableData Rows(const TableData& data, RowIndex begin, RowIndex end) {
  TableData batch;
  for (const Column& c : data.columns) batch.columns.push_back(c.Slice(begin, end));
  batch.describe_row = [begin](RowIndex r) { return "input row " + std::to_string(begin + r + 1); };
  return batch;
}

// `data` as a feed of batches of `batch_rows` rows.
RowFeed FeedOf(const TableData& data, RowIndex batch_rows) {
  RowFeed feed;
  feed.read = [&data, batch_rows](const RowFeed::Add& add) {
    for (RowIndex b = 0; b < data.num_rows(); b += batch_rows) {
      RETL_RETURN_IF_ERROR(add(Rows(data, b, std::min(data.num_rows(), b + batch_rows))));
    }
    return absl::OkStatus();
  };
  feed.describe = [](uint64_t origin) { return "input row " + std::to_string(origin + 1); };
  return feed;
}

// Name -> contents of every file under DIR/data.
std::map<std::string, std::string> DataFiles(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir + "/data")) {
    files[e.path().filename().string()] = ReadFile(e.path().string()).value();
  }
  return files;
}

TEST(DatasetTest, BuildsLargerThanTheMemoryLimitSpillAndWriteTheSameFiles) {
  Schema schema = WideSchema(true);
  schema.indexes.push_back(IndexDef{"by_c0", {2}});
  const TableData data = RandomData(schema, 20000, 41);
  TempDir in_memory, spilled, cut;
  for (const TempDir* d : {&in_memory, &spilled, &cut}) ASSERT_OK(DatasetWriter::Init(d->path()));
  {
    auto w = OpenWriter(in_memory.path(), 250);
    Commit(w.get(), [&](Transaction* t) { return t->CreateTable("t", schema, data); });
  }
  const RowFeed feed = FeedOf(data, 700);
  auto build = [&](const std::string& dir, int64_t memory_limit) {
    WriterOptions o;
    o.block_rows = 250;
    o.memory_limit = memory_limit;
    auto w = DatasetWriter::Open(dir, o).value();
    Commit(w.get(), [&](Transaction* t) { return t->CreateTable("t", schema, feed).status(); });
  };
  // 3 MB of rows: with 4 MiB, batches of 2 MiB spill, and the partitions'
  // unfinished blocks (about 40 KB each) and the index keys (under 1 MB) fit
  // in a quarter.
  build(spilled.path(), 4 << 20);
  const auto expected = DataFiles(in_memory.path()), actual = DataFiles(spilled.path());
  ASSERT_EQ(expected.size(), actual.size());
  for (const auto& [name, bytes] : expected) {
    ASSERT_TRUE(actual.count(name)) << name;
    EXPECT_TRUE(actual.at(name) == bytes) << name << " differs";
  }
  // With 64 KiB they do not: blocks are cut short and segments end early;
  // the rows are the same.
  build(cut.path(), 64 << 10);
  EXPECT_NE(DataFiles(cut.path()), expected);
  for (const TempDir* d : {&spilled, &cut}) {
    auto ds = Dataset::Open(d->path()).value();
    ExpectSameRows(ReadTable(*ds->Latest().value(), "t"), Expected(schema, data));
    EXPECT_TRUE(VerifyVersion(d->path(), 2).value().ok());
  }
}

TEST(DatasetTest, SpilledBuildsFindDuplicateKeysAcrossBatchesAndExistingRows) {
  const Schema schema = WideSchema(true);
  TableData data = RandomData(schema, 5000, 43);
  TempDir dir;
  ASSERT_OK(DatasetWriter::Init(dir.path()));
  WriterOptions o;
  o.memory_limit = 64 << 10;
  auto w = DatasetWriter::Open(dir.path(), o).value();
  {
    // Rows 101 and 4001 share a key: in different batches, so different runs.
    TableData dup = RandomData(schema, 5000, 43);
    Column ids(dup.columns[0].type());
    for (RowIndex r = 0; r < 5000; ++r) ids.AppendInt(r == 4000 ? dup.columns[0].GetInt(100) : dup.columns[0].GetInt(r));
    dup.columns[0] = std::move(ids);
    auto txn = w->Begin("test").value();
    const RowFeed feed = FeedOf(dup, 500);
    auto rows = txn->CreateTable("t", schema, feed);
    ASSERT_FALSE(rows.ok());
    EXPECT_TRUE(testing::Contains(rows.status(), "duplicate primary key (id)=(" +
                                                     std::to_string(dup.columns[0].GetInt(100)) +
                                                     ") at input row 101 and input row 4001"))
        << rows.status();
  }
  const RowFeed feed = FeedOf(data, 500);
  Commit(w.get(), [&](Transaction* t) { return t->CreateTable("t", schema, feed).status(); });
  {
    // Appending rows whose keys exist fails naming the row; nothing changes.
    TableData more = RandomData(schema, 3000, 44, /*id_base=*/3 * 4000);
    auto txn = w->Begin("test").value();
    const RowFeed more_feed = FeedOf(more, 400);
    auto rows = txn->Append("t", more_feed);
    ASSERT_FALSE(rows.ok());
    EXPECT_TRUE(testing::Contains(rows.status(), "already exists in partition")) << rows.status();
    EXPECT_TRUE(testing::Contains(rows.status(), "the row at input row ")) << rows.status();
  }
  // Replacing the partitions the rows name keeps the others.
  TableData fresh = RandomData(schema, 3000, 45, /*id_base=*/1);
  Column regions(fresh.columns[1].type());
  for (RowIndex r = 0; r < 3000; ++r) regions.AppendBytes(r % 2 ? "eu" : "us");
  fresh.columns[1] = std::move(regions);
  const RowFeed fresh_feed = FeedOf(fresh, 300);
  Commit(w.get(), [&](Transaction* t) { return t->ReplacePartitions("t", fresh_feed, std::nullopt).status(); });
  auto ds = Dataset::Open(dir.path()).value();
  auto snap = ds->Latest().value();
  const TableInfo* t = snap->GetTable("t").value();
  RowIndex kept = 0;
  for (RowIndex r = 0; r < data.num_rows(); ++r) {
    const Column& pc = data.columns[1];
    if (!pc.IsValid(r) || pc.GetBytes(r) == "apac") ++kept;
  }
  EXPECT_EQ(t->row_count(), kept + 3000);
}

TEST(DatasetTest, OneWriterAtATime) {
  TempDir tmp;
  std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  auto w = OpenWriter(dir);
  // flock is per open file description, so a second open in this process conflicts too.
  auto second = DatasetWriter::Open(dir, WriterOptions{});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("--wait"), std::string::npos);
  w.reset();
  EXPECT_TRUE(DatasetWriter::Open(dir, WriterOptions{}).ok());
}

TEST(DatasetTest, WriterRemovesWhatACrashedWriterLeft) {
  TempDir tmp;
  std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  Schema schema = WideSchema(false);
  {
    auto w = OpenWriter(dir);
    Commit(w.get(), [&](Transaction* t) { return t->CreateTable("t", schema, RandomData(schema, 10, 1)); });
  }
  // Leftovers of a writer killed while building version 3.
  std::ofstream(JoinPath(dir, SegmentPath(3, 1))) << "partial";
  std::ofstream(JoinPath(dir, ManifestPath(3))) << "partial";
  std::ofstream(JoinPath(dir, "CURRENT.tmp")) << "000";
  auto ds = Dataset::Open(dir).value();
  EXPECT_EQ(ds->Latest().value()->version(), 2);  // readers ignore them
  EXPECT_EQ(ds->Versions().value().size(), 2u);
  auto w = OpenWriter(dir);
  EXPECT_FALSE(PathExists(JoinPath(dir, SegmentPath(3, 1))));
  EXPECT_FALSE(PathExists(JoinPath(dir, ManifestPath(3))));
  EXPECT_FALSE(PathExists(JoinPath(dir, "CURRENT.tmp")));
  EXPECT_TRUE(PathExists(JoinPath(dir, SegmentPath(2, 1))));
  EXPECT_EQ(Commit(w.get(), [&](Transaction* t) { return t->DropTable("t"); }), 3);
}

TEST(DatasetTest, SnapshotStaysUnchangedWhileWritersCommit) {
  TempDir tmp;
  std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  Schema schema = WideSchema(true);
  TableData first = RandomData(schema, 500, 1);
  auto w = OpenWriter(dir);
  Commit(w.get(), [&](Transaction* t) { return t->CreateTable("t", schema, first); });
  auto ds = Dataset::Open(dir).value();
  auto held = ds->Latest().value();
  std::vector<Column> expected = Expected(schema, first);

  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, mismatches{0}, newest_seen{0};
  std::thread reader([&] {
    while (!stop) {
      if (!ReadTable(*held, "t")[0].Equals(expected[0])) ++mismatches;
      auto latest = ds->Latest();
      if (!latest.ok()) {
        ++mismatches;
      } else {
        newest_seen = static_cast<int>((*latest)->version());
        // A fresh snapshot is always internally consistent.
        RowIndex rows = 0;
        absl::Status s = (*latest)->Scan("t", {}, [&](const RowBatch& b) {
          rows += b.num_rows;
          return absl::OkStatus();
        });
        if (!s.ok() || rows != (*latest)->GetTable("t").value()->row_count()) ++mismatches;
      }
      ++reads;
    }
  });
  for (int i = 0; i < 15; ++i) {
    Commit(w.get(), [&](Transaction* t) {
      return t->ReplaceTable("t", schema, RandomData(schema, 300 + i, 100 + i, i * 100000));
    });
  }
  // Remove the files of the held version: the mapping keeps it readable.
  for (const auto& p : held->GetTable("t").value()->partitions) {
    for (const auto& s : p.segments) ASSERT_OK(RemoveFile(JoinPath(dir, s.path)));
  }
  int after = reads.load();
  while (reads.load() < after + 3) std::this_thread::yield();
  stop = true;
  reader.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_GT(reads.load(), 3);
  ExpectSameRows(ReadTable(*held, "t"), expected);
  EXPECT_EQ(ds->Latest().value()->version(), 17);
}

// Flips every byte (and truncates at many lengths) of each file kind: every
// damage is reported by verify, and reads either fail or return the original
// data — never a crash, never wrong rows.
TEST(DatasetTest, DamagedFilesGiveErrorsNeverWrongData) {
  TempDir tmp;
  std::string dir = tmp.Sub("ds");
  ASSERT_OK(DatasetWriter::Init(dir));
  Schema schema = WideSchema(false);
  TableData data = RandomData(schema, 120, 77);
  {
    auto w = OpenWriter(dir, 50);
    Commit(w.get(), [&](Transaction* t) { return t->CreateTable("t", schema, data); });
  }
  std::vector<Column> expected = Expected(schema, data);
  std::string seg = JoinPath(dir, SegmentPath(2, 1));
  std::string manifest = JoinPath(dir, ManifestPath(2));
  std::string current = JoinPath(dir, "CURRENT");
  int checked = 0;
  for (const std::string& file : {seg, manifest, current}) {
    std::string original = ReadFile(file).value();
    auto check = [&](const std::string& damaged, const std::string& what) {
      ASSERT_OK(WriteFileDurably(file, damaged));
      ++checked;
      auto ds = Dataset::Open(dir);
      if (ds.ok()) {
        // Through CURRENT, as a reader of the live version would.
        auto snap = (*ds)->Latest();
        if (snap.ok()) {
          std::vector<Column> out;
          for (const Field& f : schema.fields) out.emplace_back(f.type);
          absl::Status s = (*snap)->Scan("t", {}, [&](const RowBatch& b) {
            for (size_t c = 0; c < b.columns.size(); ++c) {
              for (RowIndex r = 0; r < b.num_rows; ++r) out[c].AppendFrom(b.columns[c], r);
            }
            return absl::OkStatus();
          });
          if (s.ok()) {
            ASSERT_EQ((*snap)->version(), 2) << what;
            for (size_t c = 0; c < out.size(); ++c) {
              ASSERT_TRUE(out[c].Equals(expected[c])) << what << ": wrong data in column " << c;
            }
          } else {
            EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << what << ": " << s;
          }
        }
      }
      auto live = ReadCurrent(dir);
      auto report = live.ok() ? VerifyVersion(dir, *live) : absl::StatusOr<VerifyReport>(live.status());
      EXPECT_TRUE(!report.ok() || !report->ok()) << what << ": verify found nothing";
    };
    for (size_t i = 0; i < original.size(); ++i) {
      std::string damaged = original;
      damaged[i] ^= static_cast<char>(1 << (i % 8));
      check(damaged, file + " byte " + std::to_string(i));
    }
    for (size_t len = 0; len < original.size(); len += 1 + original.size() / 40) {
      check(original.substr(0, len), file + " truncated to " + std::to_string(len));
    }
    ASSERT_OK(WriteFileDurably(file, original));
  }
  EXPECT_GT(checked, 1000);
  EXPECT_TRUE(VerifyVersion(dir, 2).value().ok());
}

}  // namespace
}  // namespace retl
