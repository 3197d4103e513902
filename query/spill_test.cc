// The per-query memory limit: GROUP BY, DISTINCT and ORDER BY past it spill
// to temporary files and give exactly the rows, in exactly the order, of a
// run without a limit, on any number of threads; the files are gone after
// success, failure and cancellation; settings are checked.
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "query/create_table.h"
#include "query/engine.h"
#include "query/parser.h"
#include "query/spill.h"
#include "retl/dataset.h"
#include "retl/writer.h"

namespace retl {
namespace {

using absl::StrCat;

constexpr char kSchema[] =
    "CREATE TABLE t (id BIGINT PRIMARY KEY, k STRING, g INT, x DOUBLE, d DECIMAL(12,2), "
    "w DECIMAL(30,4), ts TIMESTAMP, flag BOOLEAN)";
constexpr int kRows = 60000;

class SpillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/retl-spill-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/ds";
    temp_ = root_ + "/temp";
    ASSERT_EQ(mkdir(temp_.c_str(), 0700), 0);
    ASSERT_TRUE(DatasetWriter::Init(dir_).ok());
    Schema schema = ParseCreateTable(kSchema).value().schema;
    TableData data;
    for (const Field& f : schema.fields) data.columns.emplace_back(f.type);
    uint64_t r = 12345;
    auto next = [&r]() {
      r = r * 6364136223846793005ULL + 1442695040888963407ULL;
      return r >> 33;
    };
    for (int i = 0; i < kRows; ++i) {
      data.columns[0].AppendInt(i);
      // k: ~40,000 distinct keys, some long, in no order; NULL sometimes.
      const uint64_t key = next() % 40000;
      if (key % 97 == 0) data.columns[1].AppendNull();
      else data.columns[1].AppendBytes(absl::StrCat("key-", key, key % 5 == 0 ? std::string(40, 'z') : ""));
      if (i % 13 == 0) data.columns[2].AppendNull(); else data.columns[2].AppendInt(static_cast<int64_t>(next() % 300));
      // Doubles of very different sizes: their sums depend on the order of
      // additions.
      if (i % 11 == 0) data.columns[3].AppendNull();
      else data.columns[3].AppendDouble((static_cast<double>(next() % 100000) / 7.0) * std::pow(10.0, next() % 12));
      if (i % 17 == 0) data.columns[4].AppendNull(); else data.columns[4].AppendInt(static_cast<int64_t>(next() % 1000000));
      data.columns[5].AppendInt128(static_cast<int128>(next()) * 1000000007);
      data.columns[6].AppendInt(1700000000000000LL + static_cast<int64_t>(next() % 100000000) * 1000);
      if (i % 7 == 0) data.columns[7].AppendNull(); else data.columns[7].AppendBool(next() % 2 == 0);
    }
    WriterOptions options;
    options.block_rows = 2000;  // 30 blocks: parallel partial aggregation
    auto writer = DatasetWriter::Open(dir_, options).value();
    auto txn = writer->Begin("import").value();
    ASSERT_TRUE(txn->CreateTable("t", schema, data).ok());
    ASSERT_TRUE(txn->Commit("test").ok());
  }
  void TearDown() override { (void)system(("rm -rf " + root_).c_str()); }

  std::unique_ptr<QueryEngine> Engine(int threads, const std::string& memory_limit) {
    EngineOptions options;
    options.threads = threads;
    auto engine = std::make_unique<QueryEngine>(std::shared_ptr<const Dataset>(Dataset::Open(dir_).value()), options);
    EXPECT_TRUE(engine->Set("temp_directory", temp_).ok());
    if (!memory_limit.empty()) {
      EXPECT_TRUE(engine->Set("memory_limit", memory_limit).ok());
    }
    return engine;
  }

  static std::string Rows(const absl::StatusOr<QueryResult>& r) {
    if (!r.ok()) {
      return StrCat("error: ", r.status().message());
    }
    std::string out;
    for (size_t i = 0; i < r->row_count; ++i) {
      for (size_t c = 0; c < r->names.size(); ++c) out += r->Text(i, c).value_or("NULL") + "|";
      out += "\n";
    }
    return out;
  }

  // Spill files open in this process (unlinked files in temp_).
  int OpenSpillFiles() const {
    int n = 0;
    DIR* d = opendir("/proc/self/fd");
    while (dirent* e = readdir(d)) {
      char target[4096];
      const std::string link = StrCat("/proc/self/fd/", e->d_name);
      const ssize_t len = readlink(link.c_str(), target, sizeof(target) - 1);
      if (len <= 0) continue;
      if (absl::StartsWith(std::string(target, static_cast<size_t>(len)), temp_ + "/")) ++n;
    }
    closedir(d);
    return n;
  }
  bool TempDirEmpty() const {
    DIR* d = opendir(temp_.c_str());
    int entries = 0;
    while (dirent* e = readdir(d)) entries += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
    closedir(d);
    return entries == 0;
  }

  std::string root_, dir_, temp_;
};

TEST_F(SpillTest, SpillingGivesTheSameRowsInTheSameOrder) {
  const char* queries[] = {
      // Every aggregate, NULL keys and NULL arguments, many groups.
      "SELECT k, count(*), count(x), sum(x), avg(x), min(x), max(x), stddev(x), sum(g), avg(g), sum(d), avg(d), "
      "sum(w), min(k), max(ts), min(flag), count(DISTINCT g), approx_count_distinct(id) FROM t GROUP BY k",
      "SELECT k, sum(DISTINCT x), avg(DISTINCT d), count(DISTINCT w), min(DISTINCT ts) FROM t GROUP BY k",
      // Two keys (the id-pair path) and an expression key (the generic one).
      "SELECT g, k, count(*), sum(x) FROM t GROUP BY g, k",
      "SELECT k || '/' || g AS kg, flag, d, max(x) FROM t GROUP BY kg, flag, d",
      // HAVING and ORDER BY above a spilled aggregate.
      "SELECT k, count(*) AS n, sum(x) FROM t GROUP BY k HAVING count(*) > 2 ORDER BY n DESC, k",
      "SELECT DISTINCT k, g FROM t",
      "SELECT DISTINCT k FROM t WHERE id % 3 = 0",
      // Full sorts (stable: ties keep input order) and a large top-N.
      "SELECT id, k, x FROM t ORDER BY k DESC NULLS FIRST, x",
      "SELECT id, g, flag FROM t ORDER BY g, flag",
      "SELECT id, k FROM t ORDER BY k LIMIT 20000 OFFSET 5",
      // Errors in the last block, after spilling began.
      "SELECT k, sum(10 / (id - 59000)) FROM t GROUP BY k",
      "SELECT id FROM t ORDER BY 10 / (id - 59000)",
  };
  for (const char* q : queries) {
    const std::string expected = Rows(Engine(1, "")->ExecuteSql(q));
    ASSERT_GT(expected.size(), 10u) << q;
    for (int threads : {1, 3}) {
      auto engine = Engine(threads, "1MB");
      EXPECT_EQ(Rows(engine->ExecuteSql(q)), expected) << q << " on " << threads << " threads";
      // The temporary files are gone, after success or failure.
      EXPECT_EQ(OpenSpillFiles(), 0) << q;
      EXPECT_TRUE(TempDirEmpty());
      if (absl::StartsWith(expected, "error: ") || threads != 3) continue;
      // It did spill, and says so.
      const std::string plan = Rows(engine->ExecuteSql(StrCat("EXPLAIN ANALYZE ", q)));
      EXPECT_TRUE(absl::StrContains(plan, "spilled")) << q << "\n" << plan;
      EXPECT_TRUE(absl::StrContains(plan, "of memory_limit 1.0 MiB")) << plan;
    }
  }
}

TEST_F(SpillTest, PartitionsThatStillDoNotFitAreSplitAgain) {
  const std::string q = "SELECT k, g, sum(x), min(k), count(DISTINCT id) FROM t GROUP BY k, g";
  const std::string expected = Rows(Engine(2, "")->ExecuteSql(q));
  auto engine = Engine(2, "1MB");
  EXPECT_EQ(Rows(engine->ExecuteSql(q)), expected);
  const std::string plan = Rows(engine->ExecuteSql("EXPLAIN ANALYZE " + q));
  EXPECT_TRUE(absl::StrContains(plan, " levels")) << plan;
}

// Two keys with small ids index an array, which moves to a hash map when
// the ids grow; both must group as the general path (three keys) does.
TEST_F(SpillTest, TwoKeyGroupIdsAgreeWithTheGeneralPath) {
  // id % 5000: ids past the array's limit that repeat after it moved.
  for (const char* keys : {"flag, g", "g, k", "k, flag", "id % 5000, flag", "flag, id % 3000"}) {
    for (int threads : {1, 3}) {
      auto engine = Engine(threads, "");
      const std::string fast = Rows(engine->ExecuteSql(StrCat("SELECT ", keys, ", count(*), sum(x) FROM t GROUP BY ", keys)));
      const std::string general = Rows(engine->ExecuteSql(
          StrCat("SELECT ", keys, ", count(*), sum(x) FROM t GROUP BY ", keys, ", id IS NULL")));
      EXPECT_EQ(fast, general) << keys;
      EXPECT_GT(fast.size(), 100u) << keys;
    }
  }
}

TEST_F(SpillTest, WithoutALimitNothingSpills) {
  auto engine = Engine(2, "");
  const std::string plan = Rows(engine->ExecuteSql("EXPLAIN ANALYZE SELECT k, count(*) FROM t GROUP BY k ORDER BY k"));
  EXPECT_FALSE(absl::StrContains(plan, "spilled")) << plan;
  EXPECT_TRUE(absl::StrContains(plan, "memory: peak ")) << plan;
}

TEST_F(SpillTest, TemporaryFilesAreGoneAfterCancellation) {
  for (const char* q : {"SELECT id, k FROM t ORDER BY k, id", "SELECT k, count(*) FROM t GROUP BY k"}) {
    auto engine = Engine(2, "1MB");
    absl::StatusOr<Statement> st = ParseStatement(q);
    ASSERT_TRUE(st.ok());
    int open_while_running = -1;
    ResultSink sink;
    sink.rows = [&](const Batch&) {
      // The first batch comes from the merge of the spilled files: they are
      // open (and already unlinked); stop the statement here.
      open_while_running = OpenSpillFiles();
      EXPECT_TRUE(TempDirEmpty());
      return absl::CancelledError("stopped by the client");
    };
    absl::StatusOr<QueryResult> r = engine->Execute(*st, {}, &sink);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled) << q;
    EXPECT_GT(open_while_running, 0) << q;
    EXPECT_EQ(OpenSpillFiles(), 0) << q;
    EXPECT_TRUE(TempDirEmpty());
  }
}

TEST_F(SpillTest, WhatCannotSpillFailsWithAClearError) {
  auto engine = Engine(2, "1MB");
  // One group's DISTINCT values cannot be split by partitioning groups.
  absl::StatusOr<QueryResult> r = engine->ExecuteSql("SELECT count(DISTINCT id), count(DISTINCT x) FROM t");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "memory_limit (1.0 MiB)")) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "approx_count_distinct")) << r.status();
  EXPECT_EQ(OpenSpillFiles(), 0);
  // A temporary directory that went away: the error names it.
  auto gone = Engine(2, "1MB");
  ASSERT_EQ(rmdir(temp_.c_str()), 0);
  r = gone->ExecuteSql("SELECT DISTINCT k, g FROM t");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), temp_)) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "SET temp_directory")) << r.status();
  ASSERT_EQ(mkdir(temp_.c_str(), 0700), 0);
}

TEST_F(SpillTest, Settings) {
  auto engine = Engine(1, "");
  auto text = [&](const std::string& sql) { return Rows(engine->ExecuteSql(sql)); };
  EXPECT_EQ(text("SET memory_limit = '512MB'"), "memory_limit|512.0 MiB|\n");
  EXPECT_EQ(text("SET memory_limit TO 2 GB"), "memory_limit|2.0 GiB|\n");
  EXPECT_EQ(text("SHOW memory_limit"), "memory_limit|2.0 GiB|\n");
  EXPECT_EQ(text("set Memory_Limit = 3000000"), "memory_limit|2.9 MiB|\n");
  EXPECT_TRUE(absl::StrContains(text("RESET memory_limit"), "(default: 80% of RAM)"));
  EXPECT_TRUE(absl::StrContains(text("SET memory_limit = DEFAULT"), "(default: 80% of RAM)"));
  EXPECT_EQ(text("SET threads = 3"), "threads|3|\n");
  EXPECT_EQ(text("SET temp_directory = '" + temp_ + "'"), "temp_directory|" + temp_ + "|\n");
  EXPECT_EQ(text("SET memory_limit = '12 parsecs'"),
            "error: line 1, column 1: memory_limit: invalid size \"12 parsecs\": unknown unit \"parsecs\" (use B, "
            "KB, MB, GB or TB)");
  EXPECT_TRUE(absl::StrContains(text("SET memory_limit = '100kB'"), "too small; give at least 1MB"));
  EXPECT_TRUE(absl::StrContains(text("SET memory_limit = 'lots'"), "expected a number of bytes"));
  EXPECT_TRUE(absl::StrContains(text("SET threads = 0"), "expected a number from 1 to 1024"));
  EXPECT_TRUE(absl::StrContains(text("SET temp_directory = '/nonexistent/dir'"), "is not a directory"));
  EXPECT_EQ(text("SET work_mem = '1GB'"),
            "error: line 1, column 1: unknown setting \"work_mem\" (settings: memory_limit, temp_directory, "
            "threads)");
  EXPECT_TRUE(absl::StrContains(text("SET memory_limit"), "expected '=' or TO after the setting name"));
  EXPECT_TRUE(absl::StrContains(text("SHOW nothing"), "unknown setting \"nothing\""));
  // The settings held: 3 threads, the temporary directory.
  EXPECT_EQ(text("SHOW threads"), "threads|3|\n");
}

TEST(ByteSizeTest, ParsesUnitsAsPowersOf1024) {
  EXPECT_EQ(ParseByteSize("1024").value(), 1024);
  EXPECT_EQ(ParseByteSize("1kb").value(), 1024);
  EXPECT_EQ(ParseByteSize(" 1.5 GiB ").value(), int64_t{3} << 29);
  EXPECT_EQ(ParseByteSize("2T").value(), int64_t{2} << 40);
  EXPECT_FALSE(ParseByteSize("").ok());
  EXPECT_FALSE(ParseByteSize("-5MB").ok());
  EXPECT_FALSE(ParseByteSize("1e99 TB").ok());
  EXPECT_EQ(FormatBytes(1), "1 byte");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
}

}  // namespace
}  // namespace retl
