// Uses only include/retl/ and links only the shared libretl: a user's view.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "retl/dataset.h"
#include "retl/verify.h"
#include "retl/writer.h"

namespace {

TEST(PublicApiTest, WriteThenReadThroughTheSharedLibrary) {
  char tmpl[] = "/tmp/retl_api_XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  std::string dir = root + "/ds";
  ASSERT_TRUE(retl::DatasetWriter::Init(dir).ok());

  auto schema_type = retl::ParseDataType("decimal(12, 2)");
  ASSERT_TRUE(schema_type.ok());
  retl::Schema schema;
  schema.fields = {{"id", retl::DataType::Of(retl::TypeId::kBigInt), false},
                   {"name", retl::DataType::Of(retl::TypeId::kString), true},
                   {"amount", *schema_type, true}};
  schema.primary_key = {0};
  retl::TableData data;
  for (const auto& f : schema.fields) data.columns.emplace_back(f.type);
  for (int i = 0; i < 1000; ++i) {
    data.columns[0].AppendInt(999 - i);
    data.columns[1].AppendBytes("name" + std::to_string(i % 10));
    if (i % 7 == 0) data.columns[2].AppendNull(); else data.columns[2].AppendInt(i * 100 + 1);
  }
  {
    auto writer = retl::DatasetWriter::Open(dir, retl::WriterOptions{});
    ASSERT_TRUE(writer.ok()) << writer.status();
    auto txn = (*writer)->Begin("import");
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->CreateTable("accounts", schema, data).ok());
    auto version = (*txn)->Commit("first load");
    ASSERT_TRUE(version.ok()) << version.status();
    EXPECT_EQ(*version, 2);
  }
  auto ds = retl::Dataset::Open(dir);
  ASSERT_TRUE(ds.ok());
  auto snap = (*ds)->Latest();
  ASSERT_TRUE(snap.ok());
  retl::ScanOptions opts;
  opts.columns = {"id", "amount"};
  int64_t next_id = 0, rows = 0;
  absl::Status s = (*snap)->Scan("accounts", opts, [&](const retl::RowBatch& b) {
    for (retl::RowIndex r = 0; r < b.num_rows; ++r, ++rows) {
      EXPECT_EQ(b.columns[0].GetInt(r), next_id++);  // stored in key order
      int i = 999 - static_cast<int>(b.columns[0].GetInt(r));
      EXPECT_EQ(b.columns[1].IsValid(r), i % 7 != 0);
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(rows, 1000);
  auto report = retl::VerifyVersion(dir, 2);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ((*snap)->GetTable("missing").status().code(), absl::StatusCode::kNotFound);
  std::filesystem::remove_all(root);
}

}  // namespace
