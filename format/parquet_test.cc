#include "format/parquet.h"

#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "format/test_util.h"
#include "format/text.h"
#include "gtest/gtest.h"

namespace retl {
namespace {

using testing::Contains;
using testing::TempDir;

// Written by tests/data/parquet/make.py (pyarrow): the same 200 rows, 70-row
// row groups, 512-byte pages, page CRCs, in three encodings.
const char* const kFiles[] = {"dict_snappy_v1.parquet", "plain_none_v2.parquet",
                              "delta_zstd_v2.parquet"};

std::string DataFile(const std::string& name) { return std::string(RETL_PARQUET_DATA_DIR) + "/" + name; }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteAll(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::vector<Field> Inferred(const std::string& path) {
  auto fields = InferParquetSchema({path}, {});
  EXPECT_TRUE(fields.ok()) << fields.status();
  return fields.ok() ? *fields : std::vector<Field>{};
}

TEST(ParquetTest, InfersTypes) {
  std::vector<Field> fields = Inferred(DataFile(kFiles[0]));
  std::vector<std::string> got;
  for (const Field& f : fields) {
    got.push_back(f.name + " " + f.type.ToString());
    EXPECT_TRUE(f.nullable) << f.name;
  }
  EXPECT_EQ(got, (std::vector<std::string>{"id BIGINT", "small TINYINT", "n INT", "x DOUBLE", "f FLOAT",
                                           "name STRING", "raw BINARY", "ok BOOLEAN", "day DATE",
                                           "ts TIMESTAMP", "price DECIMAL(9,2)", "big DECIMAL(38,0)"}));
  // Every file has the same schema; a type override applies.
  auto over = InferParquetSchema({DataFile(kFiles[1]), DataFile(kFiles[2])},
                                 {{"n", DataType::Of(TypeId::kBigInt)}});
  ASSERT_TRUE(over.ok()) << over.status();
  EXPECT_EQ((*over)[2].type, DataType::Of(TypeId::kBigInt));
  auto unknown = InferParquetSchema({DataFile(kFiles[1])}, {{"N", DataType::Of(TypeId::kBigInt)}});
  EXPECT_TRUE(Contains(unknown.status(), "unknown column 'N' (did you mean 'n'?)")) << unknown.status();
}

TEST(ParquetTest, EveryEncodingReadsTheSameValues) {
  const std::vector<Field> fields = Inferred(DataFile(kFiles[0]));
  std::vector<ParquetData> all;
  for (const char* name : kFiles) {
    auto data = ReadParquetFiles({DataFile(name)}, fields);
    ASSERT_TRUE(data.ok()) << name << ": " << data.status();
    ASSERT_EQ(data->num_rows(), 200) << name;
    all.push_back(std::move(*data));
  }
  for (size_t k = 1; k < all.size(); ++k) {
    for (size_t c = 0; c < fields.size(); ++c) {
      EXPECT_TRUE(all[k].columns[c].Equals(all[0].columns[c])) << kFiles[k] << " column " << fields[c].name;
    }
  }
  const ParquetData& d = all[0];
  for (RowIndex i = 0; i < 200; ++i) {
    ASSERT_EQ(d.columns[0].GetInt(i), i);
    EXPECT_EQ(d.columns[1].IsValid(i), i % 7 != 0) << i;
    if (i % 7 != 0) {
      EXPECT_EQ(d.columns[1].GetInt(i), i % 100 - 50);
    }
    EXPECT_EQ(d.columns[2].GetInt(i), (i * 7919) % 100000 - 50000);
    EXPECT_EQ(d.columns[5].IsValid(i), i % 5 != 0);
    if (i % 5 != 0) {
      EXPECT_EQ(d.columns[5].GetBytes(i), "name_" + std::to_string(i / 4));
    }
    EXPECT_EQ(d.columns[6].GetBytes(i).size(), static_cast<size_t>(i % 5));
    EXPECT_EQ(d.columns[7].IsValid(i), i % 9 != 0);
    if (i % 9 != 0) {
      EXPECT_EQ(d.columns[7].GetBool(i), i % 2 == 0);
    }
    // Nanoseconds truncate toward negative infinity.
    const int64_t ns = -1500 + 1000003 * i;
    EXPECT_EQ(d.columns[9].GetInt(i), ns >= 0 ? ns / 1000 : -((-ns + 999) / 1000)) << i;
    EXPECT_EQ(d.columns[10].GetInt(i), i - 100);
    EXPECT_TRUE(d.columns[11].GetInt128(i) == -static_cast<int128>(i) * 100000000000000000LL * 1000) << i;
  }
  EXPECT_EQ(ValueText(d.columns[8], 0), "1969-12-01");
  EXPECT_EQ(ValueText(d.columns[9], 0), "1969-12-31 23:59:59.999998");
  EXPECT_EQ(d.Describe(150), DataFile(kFiles[0]) + ": row 151");
}

TEST(ParquetTest, ResultDoesNotDependOnThreads) {
  const std::vector<Field> fields = Inferred(DataFile(kFiles[0]));
  std::vector<std::string> paths;
  for (const char* name : kFiles) paths.push_back(DataFile(name));
  auto one = ReadParquetFiles(paths, fields, {}, {}, 1);
  auto four = ReadParquetFiles(paths, fields, {}, {}, 4);
  ASSERT_TRUE(one.ok() && four.ok());
  ASSERT_EQ(one->num_rows(), 600);
  for (size_t c = 0; c < fields.size(); ++c) EXPECT_TRUE(one->columns[c].Equals(four->columns[c]));
  EXPECT_EQ(one->Describe(450), DataFile(kFiles[2]) + ": row 51");
}

TEST(ParquetTest, ConvertsToDeclaredTypesAndNamesTheRowOnError) {
  std::vector<Field> fields = Inferred(DataFile(kFiles[1]));
  fields[2].type = DataType::Of(TypeId::kBigInt);       // n: INT -> BIGINT
  fields[1].type = DataType::Of(TypeId::kDouble);       // small: TINYINT -> DOUBLE
  fields[8].type = DataType::Of(TypeId::kTimestamp);    // day: DATE -> TIMESTAMP
  fields[10].type = DataType::Decimal(12, 4);           // price: rescaled through text
  fields[5].type = DataType::Of(TypeId::kBinary);       // name: STRING -> BINARY
  auto data = ReadParquetFiles({DataFile(kFiles[1])}, fields, {}, {}, 2);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->columns[2].GetInt(3), (3 * 7919) % 100000 - 50000);
  EXPECT_EQ(ValueText(data->columns[1], 1), "-49");
  EXPECT_EQ(ValueText(data->columns[8], 31), "1970-01-01 00:00:00");
  EXPECT_EQ(ValueText(data->columns[10], 1), "-0.9900");
  EXPECT_EQ(data->columns[5].GetBytes(1), "name_0");

  // Out of range: n is -50000 in row 1, beyond SMALLINT.
  std::vector<Field> narrow = Inferred(DataFile(kFiles[1]));
  narrow[2].type = DataType::Of(TypeId::kSmallInt);
  auto bad = ReadParquetFiles({DataFile(kFiles[1])}, narrow);
  EXPECT_TRUE(Contains(bad.status(), DataFile(kFiles[1]) + ": row 1 (row group 0): column 'n': -50000 is out of range for SMALLINT"))
      << bad.status();

  // NULL in a NOT NULL column: row 1 of `small` (i % 7 == 0), found on any thread count.
  std::vector<Field> strict = Inferred(DataFile(kFiles[1]));
  strict[1].nullable = false;
  strict[3].nullable = false;  // x: NULL at row 1 too, a later column
  for (int threads : {1, 3}) {
    auto null = ReadParquetFiles({DataFile(kFiles[1])}, strict, {}, {}, threads);
    EXPECT_TRUE(Contains(null.status(), ": row 1 (row group 0): column 'small': NULL in NOT NULL column"))
        << null.status();
  }
}

TEST(ParquetTest, MatchesColumnsByNameWithConstants) {
  std::vector<Field> fields = Inferred(DataFile(kFiles[0]));
  std::reverse(fields.begin(), fields.end());
  fields.push_back(Field{"region", DataType::Of(TypeId::kString), true});
  auto missing = ReadParquetFiles({DataFile(kFiles[0])}, fields);
  EXPECT_TRUE(Contains(missing.status(), "the file has no column 'region' of the table")) << missing.status();
  auto data = ReadParquetFiles({DataFile(kFiles[0])}, fields, {{"region", "emea"}});
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->columns.back().GetBytes(199), "emea");
  EXPECT_EQ(data->columns[fields.size() - 2].GetInt(5), 5);  // id, now second to last

  fields.erase(fields.begin());  // drop `big`: the file has a column the table lacks
  fields.back().name = "Region";
  auto extra = ReadParquetFiles({DataFile(kFiles[0])}, fields, {{"Region", "x"}});
  EXPECT_TRUE(Contains(extra.status(), "column 'big' is not a column of the table")) << extra.status();
}

TEST(ParquetTest, BatchesHoldRowGroupsOfOneFile) {
  std::vector<Field> fields = Inferred(DataFile(kFiles[0]));
  fields.push_back(Field{"region", DataType::Of(TypeId::kString), true});
  std::vector<std::string> paths;
  for (const char* name : kFiles) paths.push_back(DataFile(name));
  const std::map<std::string, std::string> constants = {{"region", "emea"}};
  auto whole = ReadParquetFiles(paths, fields, constants, {}, 2);
  ASSERT_TRUE(whole.ok()) << whole.status();
  for (const int64_t batch_bytes : {int64_t{1}, int64_t{1} << 30}) {
    std::vector<Column> joined;
    for (const Field& f : fields) joined.emplace_back(f.type);
    std::vector<std::string> described;
    int batches = 0;
    ASSERT_OK(ReadParquetBatches(paths, fields, constants, {}, 2, batch_bytes, [&](ParquetData batch) {
      ++batches;
      for (size_t c = 0; c < fields.size(); ++c) joined[c].AppendColumn(batch.columns[c]);
      for (RowIndex r = 0; r < batch.columns[0].size(); ++r) described.push_back(batch.Describe(r));
      return absl::OkStatus();
    }));
    // 200 rows in 70-row groups per file: a batch per group, or per file.
    EXPECT_EQ(batches, batch_bytes == 1 ? 9 : 3);
    ASSERT_EQ(static_cast<RowIndex>(described.size()), whole->num_rows());
    for (size_t c = 0; c < fields.size(); ++c) EXPECT_TRUE(joined[c].Equals(whole->columns[c])) << c;
    for (RowIndex r = 0; r < whole->num_rows(); ++r) ASSERT_EQ(described[r], whole->Describe(r));
  }
}

TEST(ParquetTest, NotParquetOrMissing) {
  TempDir dir;
  WriteAll(dir.Sub("a.csv"), "id,name\n1,x\n");
  auto csv = InferParquetSchema(std::vector<std::string>{dir.Sub("a.csv")}, {});
  EXPECT_TRUE(Contains(csv.status(), "a.csv: not a Parquet file")) << csv.status();
  auto gone = InferParquetSchema(std::vector<std::string>{dir.Sub("nope.parquet")}, {});
  EXPECT_TRUE(Contains(gone.status(), "nope.parquet")) << gone.status();
  EXPECT_FALSE(HasParquetMagic(dir.Sub("a.csv")));
  EXPECT_TRUE(HasParquetMagic(DataFile(kFiles[0])));
  const std::string good = ReadAll(DataFile(kFiles[0]));
  WriteAll(dir.Sub("cut.parquet"), good.substr(0, good.size() - 100));
  auto cut = InferParquetSchema(std::vector<std::string>{dir.Sub("cut.parquet")}, {});
  EXPECT_TRUE(Contains(cut.status(), "truncated")) << cut.status();
}

// Damaged files: random byte changes and truncations must end in an error
// or in a successful read, never in a crash, a hang or a sanitizer report.
// Page CRCs catch every change inside page data.
TEST(ParquetTest, DamagedFilesNeverCrash) {
  TempDir dir;
  const std::string path = dir.Sub("m.parquet");
  std::mt19937_64 rng(20261124);
  int errors = 0, total = 0;
  for (const char* name : kFiles) {
    const std::string good = ReadAll(DataFile(name));
    const std::vector<Field> fields = Inferred(DataFile(name));
    for (int iter = 0; iter < 400; ++iter) {
      std::string bad = good;
      const int kind = iter % 4;
      if (kind == 0) {
        bad.resize(rng() % bad.size());
      } else {
        // Flip 1 to 4 bytes; every other time near the end, where the footer is.
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < flips; ++k) {
          size_t at = rng() % bad.size();
          if (kind == 2) at = bad.size() - 1 - rng() % std::min<size_t>(bad.size(), 3000);
          bad[at] = static_cast<char>(bad[at] ^ (1 + rng() % 255));
        }
      }
      WriteAll(path, bad);
      ++total;
      auto schema = InferParquetSchema({path}, {});
      auto data = ReadParquetFiles({path}, schema.ok() ? *schema : fields, {}, {}, 2);
      if (!data.ok()) {
        ++errors;
        EXPECT_TRUE(Contains(data.status(), path)) << data.status();
      }
    }
  }
  // Most changes must be noticed (CRCs, sizes, the footer's structure).
  EXPECT_GT(errors, total * 3 / 4) << errors << " of " << total;
}

}  // namespace
}  // namespace retl
