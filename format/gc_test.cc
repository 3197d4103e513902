#include "format/gc.h"

#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "format/lease.h"
#include "format/manifest.h"
#include "format/test_util.h"
#include "gtest/gtest.h"
#include "retl/dataset.h"
#include "retl/writer.h"

namespace retl {
namespace {

using testing::Contains;
using testing::TempDir;

Schema KeyValueSchema() {
  Schema s;
  s.fields = {Field{"id", DataType::Of(TypeId::kBigInt), false}, Field{"v", DataType::Of(TypeId::kString), true}};
  s.primary_key = {0};
  return s;
}

TableData Rows(int n, const std::string& tag) {
  TableData d;
  d.columns.emplace_back(DataType::Of(TypeId::kBigInt));
  d.columns.emplace_back(DataType::Of(TypeId::kString));
  for (int i = 0; i < n; ++i) {
    d.columns[0].AppendInt(i);
    d.columns[1].AppendBytes(tag + std::to_string(i));
  }
  d.describe_row = [](RowIndex r) { return "row " + std::to_string(r); };
  return d;
}

// Versions 2..(1 + count): table t created, then replaced each time.
void Commit(const std::string& dir, int count) {
  for (int i = 0; i < count; ++i) {
    auto w = DatasetWriter::Open(dir, WriterOptions{});
    ASSERT_TRUE(w.ok()) << w.status();
    auto txn = (*w)->Begin("test");
    ASSERT_TRUE(txn.ok());
    absl::Status s = (*txn)->base().FindTable("t") == nullptr
                         ? (*txn)->CreateTable("t", KeyValueSchema(), Rows(10, "v" + std::to_string(i)))
                         : (*txn)->ReplaceTable("t", KeyValueSchema(), Rows(10, "v" + std::to_string(i)));
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_TRUE((*txn)->Commit("").ok());
  }
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(GcTest, KeepsTheNewestVersionsAndRemovesTheRest) {
  TempDir dir;
  const std::string ds = dir.Sub("ds");
  ASSERT_TRUE(DatasetWriter::Init(ds).ok());
  Commit(ds, 4);  // versions 2..5
  ASSERT_EQ(Names(ds + "/data").size(), 8u);
  GcOptions o;
  o.keep_versions = 2;
  o.dry_run = true;
  auto dry = CollectGarbage(ds, o);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->expired, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(dry->files_removed, 4);
  EXPECT_EQ(Names(ds + "/data").size(), 8u);  // nothing removed
  o.dry_run = false;
  auto r = CollectGarbage(ds, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->retained, (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(Names(ds + "/data").size(), 4u);
  auto again = CollectGarbage(ds, o);  // idempotent
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->expired.empty());
  EXPECT_EQ(again->files_removed, 0);
  auto opened = Dataset::Open(ds);
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(Contains((*opened)->AtVersion(3).status(), "version 3 of '" + ds + "' is no longer retained"));
  auto v4 = (*opened)->AtVersion(4);
  ASSERT_TRUE(v4.ok()) << v4.status();
}

TEST(GcTest, KeepForUsesCommitTimes) {
  TempDir dir;
  const std::string ds = dir.Sub("ds");
  ASSERT_TRUE(DatasetWriter::Init(ds).ok());
  Commit(ds, 3);
  auto m3 = ReadManifest(ds, 3);
  ASSERT_TRUE(m3.ok());
  GcOptions o;
  o.keep_for_micros = 1000000;                            // 1 s before `now`
  o.now_micros = m3->info.commit_time_micros + 1000000;  // version 3 is exactly 1 s old
  auto r = CollectGarbage(ds, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->retained, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(r->expired, (std::vector<int64_t>{1, 2}));
}

TEST(GcTest, AReaderLeaseKeepsItsVersionUntilReleased) {
  TempDir dir;
  const std::string ds = dir.Sub("ds");
  ASSERT_TRUE(DatasetWriter::Init(ds).ok());
  Commit(ds, 1);  // version 2
  auto opened = Dataset::Open(ds);
  ASSERT_TRUE(opened.ok());
  auto held = (*opened)->Latest();
  ASSERT_TRUE(held.ok());
  ASSERT_EQ((*held)->version(), 2);
  ASSERT_EQ(Names(ds + "/leases").size(), 1u);
  EXPECT_EQ(Names(ds + "/leases")[0].substr(0, 2), "2-");
  Commit(ds, 2);  // versions 3, 4: version 2 is no longer live
  GcOptions o;
  o.keep_versions = 1;
  auto r = CollectGarbage(ds, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->retained, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(r->kept_for_leases, (std::vector<int64_t>{2}));
  // The reader still reads every row of version 2, index files included.
  const TableInfo* t = *(*held)->GetTable("t");
  for (const PartitionInfo& p : t->partitions) {
    for (const SegmentInfo& s : p.segments) {
      auto index = (*held)->index(*t, s);
      EXPECT_TRUE(index.ok()) << index.status();
    }
  }
  held->reset();
  opened->reset();  // the dataset's cached latest snapshot held the lease too
  EXPECT_TRUE(Names(ds + "/leases").empty());
  auto after = CollectGarbage(ds, o);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->expired, (std::vector<int64_t>{2}));
  EXPECT_EQ(after->retained, (std::vector<int64_t>{4}));
}

TEST(GcTest, ACrashedReadersLeaseExpires) {
  TempDir dir;
  const std::string ds = dir.Sub("ds");
  ASSERT_TRUE(DatasetWriter::Init(ds).ok());
  Commit(ds, 3);
  std::filesystem::create_directories(ds + "/leases");
  const std::string stale = ds + "/leases/2-4242-dead.lease";
  std::ofstream(stale) << "version=2\npid=4242\nttl_seconds=120\n";
  const std::string fresh = ds + "/leases/3-4243-live.lease";
  std::ofstream(fresh) << "version=3\npid=4243\nttl_seconds=120\n";
  struct utimbuf old_times {0, 1000};
  ASSERT_EQ(::utime(stale.c_str(), &old_times), 0);
  GcOptions o;
  o.keep_versions = 1;
  auto r = CollectGarbage(ds, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->retained, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(r->stale_leases_removed, 1);
  EXPECT_EQ(Names(ds + "/leases"), (std::vector<std::string>{"3-4243-live.lease"}));
}

TEST(GcTest, NeedsARetentionRuleAndLeavesForeignFilesAlone) {
  TempDir dir;
  const std::string ds = dir.Sub("ds");
  ASSERT_TRUE(DatasetWriter::Init(ds).ok());
  Commit(ds, 2);
  std::ofstream(ds + "/data/README.txt") << "not ours";
  EXPECT_TRUE(Contains(CollectGarbage(ds, GcOptions{}).status(), "--keep-versions K, --keep-for DURATION"));
  GcOptions zero;
  zero.keep_versions = 0;
  EXPECT_TRUE(Contains(CollectGarbage(ds, zero).status(), "at least 1"));
  GcOptions o;
  o.keep_versions = 1;
  ASSERT_TRUE(CollectGarbage(ds, o).ok());
  EXPECT_EQ(Names(ds + "/data").size(), 3u);  // version 3's two files and README.txt
  // A second writer holding the lock makes gc fail at once (or wait).
  auto w = DatasetWriter::Open(ds, WriterOptions{});
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(CollectGarbage(ds, o).ok());
}

}  // namespace
}  // namespace retl
