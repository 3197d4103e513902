#include "format/csv.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "format/test_util.h"
#include "format/text.h"
#include "gtest/gtest.h"

namespace retl {
namespace {

using testing::Contains;


std::string Gzip(std::string_view data, int level = 6) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// One zstd frame that declares its content size.
std::string Zstd(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// One zstd frame with a content checksum, as the zstd command line writes.
std::string ZstdChecked(std::string_view data) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  EXPECT_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)));
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size());
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  ZSTD_freeCCtx(cctx);
  return out;
}

// One zstd frame written by the streaming API in pieces: no content size.
std::string ZstdStreamed(std::string_view data) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string out(ZSTD_compressBound(data.size()) + 1024, '\0');
  ZSTD_outBuffer output = {out.data(), out.size(), 0};
  for (size_t at = 0; at < data.size();) {
    size_t n = std::min<size_t>(1000, data.size() - at);
    ZSTD_inBuffer input = {data.data() + at, n, 0};
    while (input.pos < input.size) {
      EXPECT_FALSE(ZSTD_isError(ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_continue)));
    }
    at += n;
  }
  ZSTD_inBuffer empty = {nullptr, 0, 0};
  size_t remaining;
  do {
    remaining = ZSTD_compressStream2(cctx, &output, &empty, ZSTD_e_end);
    EXPECT_FALSE(ZSTD_isError(remaining));
  } while (remaining != 0);
  out.resize(output.pos);
  ZSTD_freeCCtx(cctx);
  return out;
}

// Text that compresses a lot but not trivially, `n` bytes.
std::string Lorem(size_t n) {
  std::mt19937 rng(5);
  static const char* const kWords[] = {"alpha", "beta", "gamma", "delta", "eps", "zeta", "eta"};
  std::string s;
  while (s.size() < n) {
    s += kWords[rng() % 7];
    s += rng() % 9 == 0 ? '\n' : ' ';
  }
  s.resize(n);
  return s;
}

class CsvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/csv_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    for (const std::string& p : written_) std::remove(p.c_str());
    rmdir(dir_.c_str());
  }

  std::string Write(const std::string& name, std::string_view content) {
    std::string path = dir_ + "/" + name;
    std::ofstream out(path, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    written_.push_back(path);
    return path;
  }

  // Reads one CSV text with `fields`; expects success.
  CsvData Read(std::string_view csv, const std::vector<Field>& fields,
               const CsvOptions& options = {},
               const std::map<std::string, std::string>& constants = {}) {
    std::string path = Write("in" + std::to_string(counter_++) + ".csv", csv);
    absl::StatusOr<CsvData> data = ReadCsvFiles({path}, fields, options, constants);
    EXPECT_TRUE(data.ok()) << data.status();
    if (data.ok()) return *std::move(data);
    CsvData empty;  // empty columns, so that later expectations fail cleanly
    for (const Field& f : fields) empty.columns.emplace_back(f.type);
    return empty;
  }

  // Reads one CSV text named `name`; expects failure and returns the status.
  absl::Status ReadError(std::string_view csv, const std::vector<Field>& fields,
                         const CsvOptions& options = {},
                         const std::map<std::string, std::string>& constants = {},
                         const std::string& name = "bad.csv") {
    std::string path = Write(name, csv);
    absl::StatusOr<CsvData> data = ReadCsvFiles({path}, fields, options, constants);
    EXPECT_FALSE(data.ok()) << "unexpectedly read " << data->num_rows() << " rows";
    return data.status();
  }

  std::vector<Field> Infer(std::string_view csv, const CsvOptions& options = {},
                           const std::map<std::string, DataType>& overrides = {}) {
    std::string path = Write("infer" + std::to_string(counter_++) + ".csv", csv);
    absl::StatusOr<std::vector<Field>> fields = InferCsvSchema({path}, options, overrides);
    EXPECT_TRUE(fields.ok()) << fields.status();
    return fields.ok() ? *std::move(fields) : std::vector<Field>{};
  }

  std::string dir_;
  std::vector<std::string> written_;
  int counter_ = 0;
};

Field F(std::string name, TypeId type, bool nullable = true) {
  return Field{std::move(name), DataType::Of(type), nullable};
}

// Column `c` as canonical texts, "NULL" for NULLs.
std::vector<std::string> Texts(const Column& c) {
  std::vector<std::string> out;
  for (RowIndex r = 0; r < c.size(); ++r) out.push_back(c.IsValid(r) ? ValueText(c, r) : "NULL");
  return out;
}

using Strings = std::vector<std::string>;

std::vector<int64_t> Lines(const CsvData& data) {
  std::vector<int64_t> lines;
  for (const RowSource& s : data.sources) lines.push_back(s.line);
  return lines;
}

// ---- ParseInputCompression / ReadInputFile ----------------------------------------

TEST(ParseInputCompressionTest, KnowsTheNames) {
  EXPECT_EQ(*ParseInputCompression("auto"), InputCompression::kAuto);
  EXPECT_EQ(*ParseInputCompression("none"), InputCompression::kNone);
  EXPECT_EQ(*ParseInputCompression("gzip"), InputCompression::kGzip);
  EXPECT_EQ(*ParseInputCompression("gz"), InputCompression::kGzip);
  EXPECT_EQ(*ParseInputCompression("zstd"), InputCompression::kZstd);
  EXPECT_EQ(*ParseInputCompression("ZST"), InputCompression::kZstd);
  absl::StatusOr<InputCompression> bad = ParseInputCompression("bzip2");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(bad.status(), "unknown compression 'bzip2'"));
}

TEST_F(CsvTest, ReadsPlainGzipAndZstdByMagicRegardlessOfName) {
  const std::string text = "id,name\n1,x\n";
  std::string plain = Write("plain.csv", text);
  std::string gz = Write("gz_named.csv", Gzip(text));
  std::string zst = Write("zst_named.gz", Zstd(text));
  for (const std::string& path : {plain, gz, zst}) {
    absl::StatusOr<std::string> got = ReadInputFile(path, InputCompression::kAuto);
    ASSERT_TRUE(got.ok()) << path << ": " << got.status();
    EXPECT_EQ(*got, text) << path;
  }
  EXPECT_EQ(*ReadInputFile(gz, InputCompression::kGzip), text);
  EXPECT_EQ(*ReadInputFile(zst, InputCompression::kZstd), text);
  // kNone hands back the compressed bytes untouched.
  EXPECT_EQ(*ReadInputFile(gz, InputCompression::kNone), Gzip(text));
  EXPECT_EQ(*ReadInputFile(Write("empty.csv", ""), InputCompression::kAuto), "");
}

TEST_F(CsvTest, ReadsConcatenatedGzipMembersAndZstdFrames) {
  const std::string a = "first part\n", b = Lorem(300000), c = "last\n";
  std::string gz = Write("multi.gz", Gzip(a) + Gzip(b, 1) + Gzip(c, 9));
  EXPECT_EQ(*ReadInputFile(gz, InputCompression::kAuto), a + b + c);
  std::string zst = Write("multi.zst", Zstd(a) + ZstdStreamed(b) + Zstd(c));
  EXPECT_EQ(*ReadInputFile(zst, InputCompression::kAuto), a + b + c);
}

TEST_F(CsvTest, ReadsLargeInputsAndZstdWithoutContentSize) {
  const std::string big = Lorem(5'000'000);
  std::string streamed = ZstdStreamed(big);
  ASSERT_EQ(ZSTD_getFrameContentSize(streamed.data(), streamed.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  EXPECT_EQ(*ReadInputFile(Write("big.zst", streamed), InputCompression::kAuto), big);
  EXPECT_EQ(*ReadInputFile(Write("big.gz", Gzip(big)), InputCompression::kAuto), big);
  // A gzip stream whose trailer size is wrong (as after concatenation) still reads fully.
  std::string two = Gzip(big) + Gzip("x");
  EXPECT_EQ(*ReadInputFile(Write("two.gz", two), InputCompression::kAuto), big + "x");
}

TEST_F(CsvTest, DamagedCompressedInputIsAnErrorNamingTheFile) {
  const std::string text = Lorem(100000);
  std::string gz = Gzip(text);
  std::string zst = Zstd(text);

  auto expect_damaged = [&](const std::string& name, const std::string& bytes,
                            std::string_view codec, InputCompression compression) {
    std::string path = Write(name, bytes);
    absl::StatusOr<std::string> got = ReadInputFile(path, compression);
    ASSERT_FALSE(got.ok()) << name;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_TRUE(Contains(got.status(), path)) << name;
    EXPECT_TRUE(Contains(got.status(), std::string("damaged ") + std::string(codec))) << name;
  };
  std::string flipped = gz;
  flipped[flipped.size() / 2] ^= 0x55;
  expect_damaged("flipped.gz", flipped, "gzip", InputCompression::kAuto);
  expect_damaged("truncated.gz", gz.substr(0, gz.size() / 2), "gzip", InputCompression::kAuto);
  expect_damaged("no_trailer.gz", gz.substr(0, gz.size() - 4), "gzip", InputCompression::kAuto);
  expect_damaged("garbage_after.gz", gz + "garbage!", "gzip", InputCompression::kAuto);
  expect_damaged("header_only.gz", gz.substr(0, 10), "gzip", InputCompression::kAuto);
  expect_damaged("not_gzip.csv", "a,b\n1,2\n", "gzip", InputCompression::kGzip);
  expect_damaged("empty.gz", "", "gzip", InputCompression::kGzip);

  // Without a checksum a flipped literal byte goes unnoticed, as zstd itself
  // cannot tell; with one (the zstd tool's default) it is caught.
  std::string zflipped = ZstdChecked(text);
  zflipped[zflipped.size() / 2] ^= 0x55;
  expect_damaged("flipped.zst", zflipped, "zstd", InputCompression::kAuto);
  expect_damaged("truncated.zst", zst.substr(0, zst.size() / 2), "zstd", InputCompression::kAuto);
  expect_damaged("truncated_stream.zst", ZstdStreamed(text).substr(0, 200), "zstd",
                 InputCompression::kAuto);
  expect_damaged("garbage_after.zst", zst + "garbage!", "zstd", InputCompression::kAuto);
  expect_damaged("not_zstd.csv", "a,b\n1,2\n", "zstd", InputCompression::kZstd);
  expect_damaged("empty.zst", "", "zstd", InputCompression::kZstd);
}

TEST_F(CsvTest, MissingFileIsNotFound) {
  std::string path = dir_ + "/nope.csv";
  absl::StatusOr<std::string> got = ReadInputFile(path, InputCompression::kAuto);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(got.status().message(), "cannot open '" + path + "': No such file or directory");

  // ReadCsvFiles checks every file before reading any.
  std::string good = Write("good.csv", "a\n1\n");
  absl::StatusOr<CsvData> data = ReadCsvFiles({good, path}, {F("a", TypeId::kInt)}, {});
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(data.status().message(), "cannot open '" + path + "': No such file or directory");
  absl::StatusOr<std::vector<Field>> inferred = InferCsvSchema({path}, {}, {});
  ASSERT_FALSE(inferred.ok());
  EXPECT_EQ(inferred.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CsvTest, ReadsFromAPipe) {
  // As `--input <(zcat big.csv.gz)` gives: a FIFO can be opened and read once.
  std::string fifo = dir_ + "/fifo.csv";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  written_.push_back(fifo);
  std::string csv = "id,s\n";
  for (int i = 0; i < 20000; ++i) csv += std::to_string(i) + ",row\n";  // more than a pipe holds
  std::thread writer([&] {
    std::ofstream out(fifo, std::ios::binary);  // blocks until the reader opens
    out << Gzip(csv);
  });
  absl::StatusOr<CsvData> data =
      ReadCsvFiles({fifo}, {F("id", TypeId::kInt), F("s", TypeId::kString)}, {});
  writer.join();
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ(data->num_rows(), 20000);
  EXPECT_EQ(data->columns[0].GetInt(19999), 19999);
}

// ---- Reading typed columns ---------------------------------------------------------

TEST_F(CsvTest, ReadsEveryTypeIntoColumns) {
  std::vector<Field> fields = {
      F("b", TypeId::kBoolean),    F("i8", TypeId::kTinyInt),  F("i16", TypeId::kSmallInt),
      F("i32", TypeId::kInt),      F("i64", TypeId::kBigInt),  F("f", TypeId::kFloat),
      F("d", TypeId::kDouble),     {"dec", DataType::Decimal(10, 2), true},
      {"big", DataType::Decimal(38, 3), true},
      F("s", TypeId::kString),     F("bin", TypeId::kBinary),  F("day", TypeId::kDate),
      F("ts", TypeId::kTimestamp)};
  CsvData data = Read(
      "b,i8,i16,i32,i64,f,d,dec,big,s,bin,day,ts\n"
      "true,-128,32767,-2147483648,9223372036854775807,0.1,-0.0,12.345,"
      "-99999999999999999999999999999999999.999,h\xc3\xa9llo,\\xff00,0001-01-01,"
      "2024-02-29T12:00:00.5+01:00\n"
      "N,,,,,,,,,,,,\n",
      fields);
  ASSERT_EQ(data.num_rows(), 2);
  ASSERT_EQ(data.columns.size(), fields.size());
  const Strings first = {"true", "-128", "32767", "-2147483648", "9223372036854775807", "0.1",
                         "-0", "12.35", "-99999999999999999999999999999999999.999",
                         "h\xc3\xa9llo", "\\xff00", "0001-01-01", "2024-02-29 11:00:00.5"};
  for (size_t k = 0; k < fields.size(); ++k) {
    EXPECT_EQ(data.columns[k].type(), fields[k].type);
    EXPECT_EQ(ValueText(data.columns[k], 0), first[k]) << fields[k].name;
    EXPECT_EQ(data.columns[k].size(), 2);
    if (k > 0) {
      EXPECT_FALSE(data.columns[k].IsValid(1)) << fields[k].name;
    }
  }
  EXPECT_FALSE(data.columns[0].GetBool(1));
  EXPECT_EQ(data.paths.size(), 1u);
  EXPECT_EQ(Lines(data), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(data.Describe(1), data.paths[0] + ":3");
}

TEST_F(CsvTest, MatchesHeaderNamesInAnyOrder) {
  std::vector<Field> fields = {F("id", TypeId::kInt), F("name", TypeId::kString),
                               F("score", TypeId::kDouble)};
  CsvData data = Read("score,id,name\n1.5,1,a\n-2,2,b\n", fields);
  EXPECT_EQ(Texts(data.columns[0]), (Strings{"1", "2"}));
  EXPECT_EQ(Texts(data.columns[1]), (Strings{"a", "b"}));
  EXPECT_EQ(Texts(data.columns[2]), (Strings{"1.5", "-2"}));
}

// ---- Quoting and record splitting -----------------------------------------------------

TEST_F(CsvTest, HandlesQuotingEscapingAndEmbeddedLineBreaks) {
  std::vector<Field> fields = {F("a", TypeId::kString), F("b", TypeId::kString),
                               F("c", TypeId::kInt)};
  CsvData data = Read(
      "a,b,c\n"
      "\"x,y\",\"say \"\"hi\"\"\",1\n"
      "\"a\"\"b\",\"c\"\"\"\"d\",2\n"  // two fields needing unescaping in one record
      "\"\"\"\",\"\",3\n"              // a lone quote; the empty string
      "\"multi\nline\r\nfield\",plain,4\n"
      "5'11\",it's,5\n"                // a quote not at the start is data
      "\"\",,6\n",
      fields);
  EXPECT_EQ(Texts(data.columns[0]),
            (Strings{"x,y", "a\"b", "\"", "multi\nline\r\nfield", "5'11\"", ""}));
  EXPECT_EQ(Texts(data.columns[1]), (Strings{"say \"hi\"", "c\"\"d", "", "plain", "it's", "NULL"}));
  EXPECT_EQ(Texts(data.columns[2]), (Strings{"1", "2", "3", "4", "5", "6"}));
  EXPECT_EQ(Lines(data), (std::vector<int64_t>{2, 3, 4, 5, 8, 9}));
}

TEST_F(CsvTest, FieldsOfEveryLengthSplitCorrectly) {
  // Fields end at every offset within and across 8-byte words.
  std::vector<Field> fields = {F("a", TypeId::kString), F("b", TypeId::kString),
                               F("c", TypeId::kInt)};
  std::string csv = "a,b,c\n";
  Strings a, b;
  for (int n = 0; n < 40; ++n) {
    std::string x(n, static_cast<char>('a' + n % 26)), y(39 - n, 'z');
    a.push_back(n == 0 ? "NULL" : x);
    b.push_back(n == 39 ? "NULL" : y);
    csv += x + "," + y + "," + std::to_string(n) + (n % 3 == 0 ? "\r\n" : "\n");
  }
  csv += "\xc3\xa9t\xc3\xa9,;|\t \"x,40";  // last record: no line end
  a.push_back("\xc3\xa9t\xc3\xa9");
  b.push_back(";|\t \"x");
  CsvData data = Read(csv, fields);
  EXPECT_EQ(Texts(data.columns[0]), a);
  EXPECT_EQ(Texts(data.columns[1]), b);
  ASSERT_EQ(data.num_rows(), 41);
  EXPECT_EQ(data.columns[2].GetInt(40), 40);
  EXPECT_EQ(data.sources[40].line, 42);
}

TEST_F(CsvTest, QuotedEmptyStringIsNotNull) {
  std::vector<Field> fields = {F("s", TypeId::kString), F("n", TypeId::kInt)};
  CsvData data = Read("s,n\n\"\",\n,7\n", fields);
  ASSERT_EQ(data.num_rows(), 2);
  EXPECT_TRUE(data.columns[0].IsValid(0));
  EXPECT_EQ(data.columns[0].GetBytes(0), "");
  EXPECT_FALSE(data.columns[0].IsValid(1));
  EXPECT_FALSE(data.columns[1].IsValid(0));
  EXPECT_EQ(data.columns[1].GetInt(1), 7);
  // A quoted empty field is an empty string, which is no INT.
  absl::Status s = ReadError("s,n\nx,\"\"\n", fields);
  EXPECT_TRUE(Contains(s, "bad.csv:2: column 'n': cannot parse '' as INT")) << s;
}

TEST_F(CsvTest, CustomNullMarker) {
  CsvOptions options;
  options.null_marker = "\\N";
  std::vector<Field> fields = {F("s", TypeId::kString), F("n", TypeId::kInt)};
  CsvData data = Read("s,n\n\\N,\\N\n,1\n\"\\N\",2\n", fields, options);
  EXPECT_EQ(Texts(data.columns[0]), (Strings{"NULL", "", "\\N"}));
  EXPECT_EQ(Texts(data.columns[1]), (Strings{"NULL", "1", "2"}));
  // With a non-empty marker, an empty INT field is a parse error, not NULL.
  absl::Status s = ReadError("s,n\na,\n", fields, options);
  EXPECT_TRUE(Contains(s, "bad.csv:2: column 'n': cannot parse '' as INT")) << s;
}

TEST_F(CsvTest, CrlfBomCustomDelimiterAndQuote) {
  std::vector<Field> fields = {F("id", TypeId::kInt), F("txt", TypeId::kString)};
  CsvOptions options;
  options.delimiter = '|';
  options.quote = '\'';
  CsvData data = Read("\xEF\xBB\xBFid|txt\r\n1|'a|b'\r\n2|'it''s'\r\n3|\"q\"\r\n4|x\ry\r\n", fields,
                      options);
  EXPECT_EQ(Texts(data.columns[0]), (Strings{"1", "2", "3", "4"}));
  EXPECT_EQ(Texts(data.columns[1]), (Strings{"a|b", "it's", "\"q\"", "x\ry"}));
  options.delimiter = '\t';
  options.quote = '"';
  data = Read("id\ttxt\n5\t\"tab\there\"\n6\tlast", fields, options);
  EXPECT_EQ(Texts(data.columns[0]), (Strings{"5", "6"}));
  EXPECT_EQ(Texts(data.columns[1]), (Strings{"tab\there", "last"}));
}

TEST_F(CsvTest, FinalRecordWithoutNewlineAndTrailingEmptyField) {
  std::vector<Field> fields = {F("a", TypeId::kInt), F("b", TypeId::kString)};
  EXPECT_EQ(Texts(Read("a,b\n1,x", fields).columns[1]), (Strings{"x"}));
  EXPECT_EQ(Texts(Read("a,b\n1,\"x\"", fields).columns[1]), (Strings{"x"}));
  EXPECT_EQ(Texts(Read("a,b\n1,\"x\"\r", fields).columns[1]), (Strings{"x"}));
  EXPECT_EQ(Texts(Read("a,b\n1,", fields).columns[1]), (Strings{"NULL"}));
  EXPECT_EQ(Texts(Read("a,b\n1,\r\n", fields).columns[1]), (Strings{"NULL"}));
  EXPECT_EQ(Read("a,b\n", fields).num_rows(), 0);
  EXPECT_EQ(Read("a,b", fields).num_rows(), 0);
}

TEST_F(CsvTest, BlankLinesAreSkippedOnlyWithSeveralColumns) {
  std::vector<Field> two = {F("a", TypeId::kInt), F("b", TypeId::kInt)};
  CsvData data = Read("a,b\n\n1,2\r\n\r\n3,4\n\n", two);
  EXPECT_EQ(Texts(data.columns[0]), (Strings{"1", "3"}));
  EXPECT_EQ(Lines(data), (std::vector<int64_t>{3, 5}));
  std::vector<Field> one = {F("a", TypeId::kInt)};
  data = Read("a\n1\n\n2\n", one);
  EXPECT_EQ(Texts(data.columns[0]), (Strings{"1", "NULL", "2"}));
}

TEST_F(CsvTest, LineNumbersCountPhysicalLinesOfMultiLineRecords) {
  std::vector<Field> fields = {F("id", TypeId::kInt), F("note", TypeId::kString)};
  const std::string csv =
      "id,note\n"             // 1
      "1,\"one\ntwo\nthree\"\n"  // 2-4
      "2,plain\n"             // 5
      "3,\"a\r\nb\"\n"        // 6-7
      "x,oops\n";             // 8
  absl::Status s = ReadError(csv, fields);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "bad.csv:8: column 'id': cannot parse 'x' as INT")) << s;
  CsvData data = Read(csv.substr(0, csv.size() - 7), fields);
  ASSERT_EQ(data.num_rows(), 3);
  EXPECT_EQ(Lines(data), (std::vector<int64_t>{2, 5, 6}));
  EXPECT_TRUE(Contains(data.Describe(2), ".csv:6"));
}

// ---- Errors ------------------------------------------------------------------------

TEST_F(CsvTest, WrongFieldCountNamesFileAndLine) {
  std::vector<Field> fields = {F("a", TypeId::kInt), F("b", TypeId::kInt), F("c", TypeId::kInt)};
  absl::Status s = ReadError("a,b,c\n1,2,3\n4,5\n", fields, {}, {}, "short.csv");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "short.csv:3: expected 3 fields, found 2")) << s;
  s = ReadError("a,b,c\n1,2,3,4\n", fields, {}, {}, "long.csv");
  EXPECT_TRUE(Contains(s, "long.csv:2: expected 3 fields, found 4")) << s;
  // A quoted delimiter does not count.
  s = ReadError("a,b,c\n1,\"2,3\"\n", fields, {}, {}, "quoted.csv");
  EXPECT_TRUE(Contains(s, "quoted.csv:2: expected 3 fields, found 2")) << s;
}

TEST_F(CsvTest, ParseErrorNamesFileLineColumnAndValue) {
  std::vector<Field> fields = {F("id", TypeId::kInt), F("price", TypeId::kDouble),
                               F("day", TypeId::kDate)};
  absl::Status s = ReadError("id,price,day\n1,2.5,2024-01-01\n2,abc,2024-01-02\n", fields);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "bad.csv:3: column 'price': cannot parse 'abc' as DOUBLE")) << s;
  s = ReadError("id,price,day\n1,2.5,2024-02-30\n", fields, {}, {}, "date.csv");
  EXPECT_TRUE(Contains(s, "date.csv:2: column 'day': cannot parse '2024-02-30' as DATE")) << s;
  s = ReadError("id,price,day\n1.5,2.5,2024-01-01\n", fields, {}, {}, "int.csv");
  EXPECT_TRUE(Contains(s, "int.csv:2: column 'id': cannot parse '1.5' as INT")) << s;
  std::vector<Field> tiny = {F("t", TypeId::kTinyInt)};
  s = ReadError("t\n127\n128\n", tiny, {}, {}, "tiny.csv");
  EXPECT_TRUE(Contains(s, "tiny.csv:3: column 't': cannot parse '128' as TINYINT: out of range"))
      << s;
}

TEST_F(CsvTest, NullInNotNullColumnIsAnError) {
  std::vector<Field> fields = {F("id", TypeId::kInt, /*nullable=*/false), F("s", TypeId::kString)};
  absl::Status s = ReadError("id,s\n1,a\n,b\n", fields);
  EXPECT_TRUE(Contains(s, "bad.csv:3: column 'id' is NOT NULL but the field is NULL")) << s;
  std::vector<Field> strings = {F("id", TypeId::kInt), F("s", TypeId::kString, false)};
  s = ReadError("id,s\n1,\n", strings);
  EXPECT_TRUE(Contains(s, "bad.csv:2: column 's' is NOT NULL but the field is NULL")) << s;
  // A quoted empty string is a value.
  EXPECT_EQ(Texts(Read("id,s\n1,\"\"\n", strings).columns[1]), (Strings{""}));
}

TEST_F(CsvTest, InvalidUtf8InStringIsAnError) {
  std::vector<Field> fields = {F("id", TypeId::kInt), F("s", TypeId::kString)};
  absl::Status s = ReadError("id,s\n1,ok\n2,bad\xff\xfe\n", fields);
  EXPECT_TRUE(Contains(s, "bad.csv:3: column 's': ")) << s;
  EXPECT_TRUE(Contains(s, "invalid UTF-8")) << s;
}

TEST_F(CsvTest, UnterminatedQuoteAndTextAfterClosingQuote) {
  std::vector<Field> fields = {F("id", TypeId::kInt), F("s", TypeId::kString)};
  absl::Status s = ReadError("id,s\n1,ok\n2,\"never\nclosed\n3,x\n", fields);
  EXPECT_TRUE(Contains(s, "bad.csv:3: unterminated quoted field")) << s;
  s = ReadError("id,s\n1,\"ab\"cd\n", fields, {}, {}, "after.csv");
  EXPECT_TRUE(Contains(s, "after.csv:2: field 2 has text after its closing quote")) << s;
  s = ReadError("id,s\n1,\"a\nb\"\n2,\"x\" \n", fields, {}, {}, "after2.csv");
  EXPECT_TRUE(Contains(s, "after2.csv:4:")) << s;
}

TEST_F(CsvTest, HeaderErrors) {
  std::vector<Field> fields = {F("id", TypeId::kInt), F("foo", TypeId::kString)};
  absl::Status s = ReadError("id,Foo\n1,a\n", fields, {}, {}, "case.csv");
  EXPECT_TRUE(Contains(s, "case.csv: header has unknown column 'Foo' (did you mean 'foo'?)"))
      << s;
  s = ReadError("id,bar\n1,a\n", fields, {}, {}, "unknown.csv");
  EXPECT_EQ(s.message(), "" + dir_ + "/unknown.csv: header has unknown column 'bar'");
  s = ReadError("id,foo,id\n1,a,1\n", fields, {}, {}, "dup.csv");
  EXPECT_TRUE(Contains(s, "dup.csv: header names column 'id' twice")) << s;
  s = ReadError("id\n1\n", fields, {}, {}, "missing.csv");
  EXPECT_TRUE(Contains(s, "missing.csv: header has no column 'foo' of the table")) << s;
  s = ReadError("", fields, {}, {}, "empty.csv");
  EXPECT_TRUE(Contains(s, "empty.csv: the file is empty")) << s;
  s = ReadError("\xEF\xBB\xBF", fields, {}, {}, "bom_only.csv");
  EXPECT_TRUE(Contains(s, "bom_only.csv: the file is empty")) << s;
}

TEST_F(CsvTest, InvalidOptionsAreRejected) {
  CsvOptions options;
  options.quote = ',';
  absl::Status s = ReadError("a\n1\n", {F("a", TypeId::kInt)}, options);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "must differ")) << s;
  options = {};
  options.delimiter = '\n';
  EXPECT_FALSE(ReadCsvFiles({Write("x.csv", "a\n")}, {F("a", TypeId::kInt)}, options).ok());
}

// ---- No header, constants, several files ---------------------------------------------

TEST_F(CsvTest, NoHeaderModeReadsFieldsInOrder) {
  CsvOptions options;
  options.header = false;
  std::vector<Field> fields = {F("a", TypeId::kInt), F("b", TypeId::kString)};
  CsvData data = Read("1,x\n2,y\n", fields, options);
  EXPECT_EQ(Texts(data.columns[0]), (Strings{"1", "2"}));
  EXPECT_EQ(Texts(data.columns[1]), (Strings{"x", "y"}));
  EXPECT_EQ(Lines(data), (std::vector<int64_t>{1, 2}));
  // The first line is data: "a" is no INT.
  absl::Status s = ReadError("a,b\n1,x\n", fields, options);
  EXPECT_TRUE(Contains(s, "bad.csv:1: column 'a': cannot parse 'a' as INT")) << s;
  // An empty file has no records, which is fine without a header.
  EXPECT_EQ(Read("", fields, options).num_rows(), 0);
}

TEST_F(CsvTest, ConstantsFillFieldsMissingFromTheFile) {
  std::vector<Field> fields = {F("region", TypeId::kString, false), F("id", TypeId::kInt),
                               F("day", TypeId::kDate)};
  CsvData data = Read("id\n1\n2\n3\n", fields, {}, {{"region", "EU"}, {"day", "2024-05-01"}});
  EXPECT_EQ(Texts(data.columns[0]), (Strings{"EU", "EU", "EU"}));
  EXPECT_EQ(Texts(data.columns[1]), (Strings{"1", "2", "3"}));
  EXPECT_EQ(Texts(data.columns[2]), (Strings{"2024-05-01", "2024-05-01", "2024-05-01"}));

  // Without a header, the file has the fields without constants, in order.
  CsvOptions no_header;
  no_header.header = false;
  data = Read("1,2024-01-01\n2,2024-01-02\n", fields, no_header, {{"region", "US"}});
  EXPECT_EQ(Texts(data.columns[0]), (Strings{"US", "US"}));
  EXPECT_EQ(Texts(data.columns[2]), (Strings{"2024-01-01", "2024-01-02"}));

  absl::Status s = ReadError("id,day\n1,2024-01-01\n", fields, {}, {{"region", "EU"}, {"x", "1"}});
  EXPECT_TRUE(Contains(s, "constant for unknown column 'x'")) << s;
  s = ReadError("id,day\n1,2024-01-01\n", fields, {}, {{"Region", "EU"}});
  EXPECT_TRUE(Contains(s, "(did you mean 'region'?)")) << s;
  s = ReadError("id,day\n1,2024-01-01\n", fields, {}, {{"region", "EU"}, {"day", "soon"}});
  EXPECT_TRUE(Contains(s, "constant for column 'day': cannot parse 'soon' as DATE")) << s;
  // A column in the header is read from the file even when it has a constant.
  std::string both = Write("both.csv", "region,id,day\nUS,1,2024-01-01\n");
  absl::StatusOr<CsvData> read = ReadCsvFiles({both}, fields, {}, {{"region", "EU"}});
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->columns[0].GetBytes(0), "US");
}

TEST_F(CsvTest, ReadsSeveralFilesWithTheirOwnHeaderOrder) {
  std::vector<Field> fields = {F("id", TypeId::kBigInt), F("name", TypeId::kString),
                               F("src", TypeId::kString)};
  std::string a = Write("a.csv", "id,name\n1,x\n2,y\n");
  std::string b = Write("b.csv.gz", Gzip("name,id\nz,3\n"));
  std::string c = Write("c.csv.zst", Zstd("id,name,src\n4,w,own\n"));
  absl::StatusOr<CsvData> data =
      ReadCsvFiles({a, b, c}, fields, {}, {{"src", "const"}});
  // c has "src" in its header: its rows take the file's value, the others the constant.
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ(data->num_rows(), 4);
  EXPECT_EQ(data->columns[2].GetBytes(0), "const");
  EXPECT_EQ(data->columns[2].GetBytes(3), "own");

  std::vector<Field> two = {fields[0], fields[1]};
  std::string c2 = Write("c2.csv.zst", Zstd("id,name\n4,w\n"));
  data = ReadCsvFiles({a, b, c2}, two, {});
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(Texts(data->columns[0]), (Strings{"1", "2", "3", "4"}));
  EXPECT_EQ(Texts(data->columns[1]), (Strings{"x", "y", "z", "w"}));
  ASSERT_EQ(data->num_rows(), 4);
  EXPECT_EQ(data->sources[0].file, 0);
  EXPECT_EQ(data->sources[2].file, 1);
  EXPECT_EQ(data->sources[3].file, 2);
  EXPECT_EQ(data->Describe(2), b + ":2");
  EXPECT_EQ(data->Describe(3), c2 + ":2");
  EXPECT_EQ(data->paths, (Strings{a, b, c2}));
}

TEST_F(CsvTest, ErrorsInLaterFilesNameThatFile) {
  std::vector<Field> fields = {F("id", TypeId::kInt)};
  std::string a = Write("ok.csv", "id\n1\n");
  std::string b = Write("broken.csv.gz", Gzip("id\n1\n2\nthree\n"));
  absl::StatusOr<CsvData> data = ReadCsvFiles({a, b}, fields, {});
  ASSERT_FALSE(data.ok());
  EXPECT_TRUE(Contains(data.status(), b + ":4: column 'id': cannot parse 'three' as INT"))
      << data.status();
}

// ---- Progress ----------------------------------------------------------------------

TEST_F(CsvTest, ReportsProgressAboutEveryMegabyte) {
  std::string csv = "id,text\n";
  for (int i = 0; i < 120000; ++i) csv += std::to_string(i) + ",some text to make it longer\n";
  ASSERT_GT(csv.size(), 3u << 20);
  std::string plain = Write("progress.csv", csv);
  std::string gz = Write("progress.csv.gz", Gzip(csv));
  struct Call {
    int64_t done, total;
    RowIndex rows;
  };
  std::vector<Call> calls;
  absl::StatusOr<CsvData> data = ReadCsvFiles(
      {plain, gz}, {F("id", TypeId::kInt), F("text", TypeId::kString)}, {}, {},
      [&](int64_t done, int64_t total, RowIndex rows) { calls.push_back({done, total, rows}); });
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->num_rows(), 240000);
  ASSERT_GE(calls.size(), 6u);
  ASSERT_LE(calls.size(), 20u);
  for (size_t i = 1; i < calls.size(); ++i) {
    EXPECT_GE(calls[i].done, calls[i - 1].done);
    EXPECT_GE(calls[i].rows, calls[i - 1].rows);
    EXPECT_LE(calls[i].done, calls[i].total);
  }
  const int64_t total = 2 * static_cast<int64_t>(csv.size());
  EXPECT_EQ(calls.front().total, total);  // the gzip trailer gives the exact size
  EXPECT_EQ(calls.back().done, total);
  EXPECT_EQ(calls.back().total, total);
  EXPECT_EQ(calls.back().rows, 240000);
}

// ---- A randomized round trip through CSV text -----------------------------------------

// Appends `text` as a CSV field, quoted when needed.
void AppendCsvField(std::string_view text, std::string* out) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos && !text.empty()) {
    out->append(text);
    return;
  }
  out->push_back('"');
  for (char c : text) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

TEST_F(CsvTest, RandomTablesRoundTripThroughCsvText) {
  std::vector<Field> fields = {
      F("b", TypeId::kBoolean),  F("i", TypeId::kInt),       F("l", TypeId::kBigInt),
      F("d", TypeId::kDouble),   {"m", DataType::Decimal(38, 9), true},
      F("s", TypeId::kString),   F("x", TypeId::kBinary),    F("day", TypeId::kDate),
      F("ts", TypeId::kTimestamp)};
  std::mt19937_64 rng(77);
  std::vector<Column> expected;
  for (const Field& f : fields) expected.emplace_back(f.type);
  static const char* const kPieces[] = {"a", ",", "\"", "\n", "\r\n", " ", "\xc3\xa9", "''", "x"};
  for (int row = 0; row < 5000; ++row) {
    for (size_t k = 0; k < fields.size(); ++k) {
      Column& c = expected[k];
      uint64_t r = rng();
      if (r % 10 == 0) {
        c.AppendNull();
        continue;
      }
      r >>= 4;
      switch (fields[k].type.id) {
        case TypeId::kBoolean: c.AppendBool(r & 1); break;
        case TypeId::kInt: c.AppendInt(static_cast<int32_t>(r)); break;
        case TypeId::kBigInt: c.AppendInt(static_cast<int64_t>(rng())); break;
        case TypeId::kDouble: {
          uint64_t bits = rng();
          double d;
          std::memcpy(&d, &bits, 8);
          c.AppendDouble(std::isnan(d) ? 0.5 : d);
          break;
        }
        case TypeId::kDecimal: {
          int128 bound = 1;
          for (int i = 0; i < 38; ++i) bound *= 10;
          c.AppendInt128((static_cast<int128>(rng()) << 64 | rng()) % bound);
          break;
        }
        case TypeId::kString: {
          std::string s;
          for (int n = static_cast<int>(r % 6); n > 0; --n) s += kPieces[rng() % 9];
          c.AppendBytes(s);
          break;
        }
        case TypeId::kBinary: {
          std::string s;
          for (int n = static_cast<int>(r % 5); n > 0; --n) s.push_back(static_cast<char>(rng()));
          c.AppendBytes(s);
          break;
        }
        case TypeId::kDate: c.AppendInt(-719162 + static_cast<int64_t>(r % 3652059)); break;
        case TypeId::kTimestamp:
          c.AppendInt(-62135596800000000LL + static_cast<int64_t>(r % 315537897600000000ULL));
          break;
        default: FAIL();
      }
    }
  }
  std::string csv;
  for (size_t k = 0; k < fields.size(); ++k) csv += (k ? "," : "") + fields[k].name;
  csv += "\r\n";
  for (RowIndex r = 0; r < expected[0].size(); ++r) {
    for (size_t k = 0; k < fields.size(); ++k) {
      if (k > 0) csv += ',';
      if (expected[k].IsValid(r)) AppendCsvField(ValueText(expected[k], r), &csv);
    }
    csv += r % 2 ? "\r\n" : "\n";
  }
  for (const std::string& bytes : {csv, Gzip(csv), Zstd(csv)}) {
    CsvData data = Read(bytes, fields);
    ASSERT_EQ(data.num_rows(), expected[0].size());
    for (size_t k = 0; k < fields.size(); ++k) {
      EXPECT_TRUE(data.columns[k].Equals(expected[k])) << fields[k].name;
    }
  }
}

// ---- Schema inference --------------------------------------------------------------

TEST_F(CsvTest, InfersEachType) {
  std::vector<Field> fields = Infer(
      "flag,n,x,day,ts,s,empty,onezero,huge,mixed_dt,quoted\n"
      "true,1,1,2024-01-01,2024-01-01 10:00:00,a,,1,99999999999999999999,2024-01-01,\"5\"\n"
      "FALSE,-2,2.5,2024-02-29,2024-01-01T10:00:00.5Z,1,,0,1,2024-01-01 00:00:01,\"\"\n"
      ",,,,,,,,,,6\n"
      "True,3,inf,1999-12-31,2024-01-01 10:00:00+02:00,2024-01-01,,1,2,,7\n");
  ASSERT_EQ(fields.size(), 11u);
  const std::vector<std::pair<std::string, TypeId>> expected = {
      {"flag", TypeId::kBoolean},  {"n", TypeId::kBigInt},       {"x", TypeId::kDouble},
      {"day", TypeId::kDate},      {"ts", TypeId::kTimestamp},   {"s", TypeId::kString},
      {"empty", TypeId::kString},  {"onezero", TypeId::kBigInt}, {"huge", TypeId::kDouble},
      {"mixed_dt", TypeId::kTimestamp}, {"quoted", TypeId::kString}};
  for (size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(fields[k].name, expected[k].first);
    EXPECT_EQ(fields[k].type, DataType::Of(expected[k].second)) << fields[k].name;
    EXPECT_TRUE(fields[k].nullable);
  }
}

TEST_F(CsvTest, InferenceLooksAtEveryRecordOfEveryFile) {
  std::string a = Write("a.csv", "v,w\n1,x\n2,y\n");
  std::string b = Write("b.csv.gz", Gzip("v,w\n3,z\n3.5,q\n"));
  absl::StatusOr<std::vector<Field>> fields = InferCsvSchema({a, b}, {}, {});
  ASSERT_TRUE(fields.ok()) << fields.status();
  ASSERT_EQ(fields->size(), 2u);
  EXPECT_EQ((*fields)[0].type, DataType::Of(TypeId::kDouble));
  EXPECT_EQ((*fields)[1].type, DataType::Of(TypeId::kString));
  std::string c = Write("c.csv", "v,W\n1,x\n");
  absl::StatusOr<std::vector<Field>> bad = InferCsvSchema({a, c}, {}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad.status(), c + ": header column 2 is 'W'")) << bad.status();
  std::string d = Write("d.csv", "v\n1\n");
  bad = InferCsvSchema({a, d}, {}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad.status(), d + ": header has 1 columns")) << bad.status();
  std::string e = Write("e.csv", "v,w\n1,x\n2\n");
  bad = InferCsvSchema({a, e}, {}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad.status(), e + ":3: expected 2 fields, found 1")) << bad.status();
}

TEST_F(CsvTest, InferenceHonoursOverridesNullMarkerAndNoHeader) {
  std::vector<Field> fields =
      Infer("id,code\n1,007\n2,010\n", {},
            {{"code", DataType::Of(TypeId::kString)}, {"id", DataType::Decimal(10, 2)}});
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].type, DataType::Decimal(10, 2));
  EXPECT_EQ(fields[1].type, DataType::Of(TypeId::kString));

  std::string path = Write("o.csv", "id,code\n1,2\n");
  absl::StatusOr<std::vector<Field>> bad =
      InferCsvSchema({path}, {}, {{"Code", DataType::Of(TypeId::kInt)}});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad.status(), "unknown column 'Code' (did you mean 'code'?)"))
      << bad.status();

  CsvOptions options;
  options.null_marker = "NA";
  fields = Infer("a,b\nNA,1\n2,NA\n", options);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].type, DataType::Of(TypeId::kBigInt));
  EXPECT_EQ(fields[1].type, DataType::Of(TypeId::kBigInt));

  options = {};
  options.header = false;
  options.delimiter = ';';
  fields = Infer("1;x;2024-01-01\n2;y;2024-01-02\n", options);
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0].name, "column1");
  EXPECT_EQ(fields[2].name, "column3");
  EXPECT_EQ(fields[0].type, DataType::Of(TypeId::kBigInt));
  EXPECT_EQ(fields[1].type, DataType::Of(TypeId::kString));
  EXPECT_EQ(fields[2].type, DataType::Of(TypeId::kDate));
}

TEST_F(CsvTest, InferenceErrors) {
  std::string empty = Write("empty.csv", "");
  absl::StatusOr<std::vector<Field>> r = InferCsvSchema({empty}, {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status(), empty + ": the file is empty")) << r.status();
  CsvOptions no_header;
  no_header.header = false;
  r = InferCsvSchema({empty}, no_header, {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status(), "no records")) << r.status();
  r = InferCsvSchema({Write("dup.csv", "a,b,a\n1,2,3\n")}, {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status(), "header names column 'a' twice")) << r.status();
  r = InferCsvSchema({Write("noname.csv", "a,,c\n1,2,3\n")}, {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status(), "header column 2 has no name")) << r.status();
  r = InferCsvSchema({Write("unterminated.csv", "a\n\"x\n")}, {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status(), "unterminated.csv:2: unterminated quoted field"))
      << r.status();
  r = InferCsvSchema({}, {}, {});
  EXPECT_FALSE(r.ok());
}

TEST_F(CsvTest, InferredSchemaReadsItsOwnInput) {
  const std::string csv =
      "id,price,when,ok,label\n"
      "1,9.99,2024-01-01 08:00:00,true,\"a, b\"\n"
      "2,,2024-01-02 09:30:00.25,false,\n";
  std::vector<Field> fields = Infer(csv);
  CsvData data = Read(csv, fields);
  ASSERT_EQ(data.num_rows(), 2);
  EXPECT_EQ(Texts(data.columns[1]), (Strings{"9.99", "NULL"}));
  EXPECT_EQ(Texts(data.columns[2]), (Strings{"2024-01-01 08:00:00", "2024-01-02 09:30:00.25"}));
  EXPECT_EQ(Texts(data.columns[4]), (Strings{"a, b", "NULL"}));
}

// Inputs over 16 MiB without quote characters are cut at line ends and read
// on several threads: the columns, the sources and the first error must be
// those of reading on one thread.
TEST_F(CsvTest, ParallelReadMatchesOneThread) {
  std::string csv = "id,name,score,day\n";
  std::mt19937_64 rng(7);
  int64_t line = 1;
  while (csv.size() < (20u << 20)) {
    ++line;
    const uint64_t r = rng();
    csv += std::to_string(line) + ",name" + std::to_string(r % 1000) + "," +
           (r % 17 == 0 ? "" : std::to_string(static_cast<double>(r % 100000) / 100)) + ",2024-0" +
           std::to_string(1 + r % 9) + "-1" + std::to_string(r % 10) + (r % 5 == 0 ? "\r\n" : "\n");
    if (r % 1013 == 0) csv += "\n";  // blank lines are skipped
  }
  const std::string path = Write("big.csv", csv);
  CsvOptions one, many;
  one.threads = 1;
  many.threads = 4;
  auto inferred_one = InferCsvSchema({path}, one, {});
  auto inferred_many = InferCsvSchema({path}, many, {});
  ASSERT_TRUE(inferred_one.ok()) << inferred_one.status();
  ASSERT_TRUE(inferred_many.ok()) << inferred_many.status();
  ASSERT_EQ(*inferred_one, *inferred_many);
  EXPECT_EQ((*inferred_many)[2].type, DataType::Of(TypeId::kDouble));
  EXPECT_EQ((*inferred_many)[3].type, DataType::Of(TypeId::kDate));
  auto a = ReadCsvFiles({path}, *inferred_one, one);
  auto b = ReadCsvFiles({path}, *inferred_one, many);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(a->num_rows(), b->num_rows());
  EXPECT_GT(a->num_rows(), 500000);
  for (size_t c = 0; c < a->columns.size(); ++c) EXPECT_TRUE(a->columns[c].Equals(b->columns[c])) << c;
  for (RowIndex r = 0; r < a->num_rows(); r += 9973) EXPECT_EQ(a->Describe(r), b->Describe(r));
  EXPECT_EQ(a->Describe(a->num_rows() - 1), b->Describe(b->num_rows() - 1));
  EXPECT_EQ(b->Describe(b->num_rows() - 1), path + ":" + std::to_string(std::count(csv.begin(), csv.end(), '\n') -
                                                                            (csv.ends_with("\n\n") ? 1 : 0)));

  // Two bad values far apart: both readers report the earlier one, by line.
  std::string bad = csv;
  auto break_line = [&](int64_t n) {
    size_t at = 0;
    for (int64_t k = 1; k < n; ++k) at = bad.find('\n', at) + 1;
    bad.replace(at, bad.find(',', at) - at, "oops");
  };
  break_line(line - 10);
  break_line(400000);
  const std::string bad_path = Write("bad.csv", bad);
  auto e1 = ReadCsvFiles({bad_path}, *inferred_one, one);
  auto e2 = ReadCsvFiles({bad_path}, *inferred_one, many);
  ASSERT_FALSE(e1.ok());
  ASSERT_FALSE(e2.ok());
  EXPECT_EQ(e1.status(), e2.status());
  EXPECT_NE(e2.status().message().find(bad_path + ":400000: column 'id'"), std::string::npos) << e2.status();
}

TEST_F(CsvTest, BatchesHoldTheRowsOfOneRead) {
  // A large unquoted file (read in parallel windows), then a quoted one (read
  // record by record), then a small one without the `day` column (filled
  // from a constant): batches of about a megabyte.
  std::string big = "id,name,day\n";
  std::mt19937_64 rng(11);
  int64_t id = 0;
  while (big.size() < (40u << 20)) {
    const uint64_t r = rng();
    big += std::to_string(++id) + ",name" + std::to_string(r % 1000) + ",2024-0" + std::to_string(1 + r % 9) +
           "-1" + std::to_string(r % 10) + (r % 7 == 0 ? "\r\n" : "\n");
    if (r % 997 == 0) big += "\n";
  }
  std::string quoted = "id,name,day\n";
  for (int k = 0; k < 100000; ++k) {
    quoted += std::to_string(++id) + ",\"multi\nline " + std::to_string(k) + "\",2025-01-0" + std::to_string(1 + k % 9) + "\n";
  }
  std::string small = "name,id\n";
  for (int k = 0; k < 1000; ++k) small += "s" + std::to_string(k) + "," + std::to_string(++id) + "\n";
  const std::vector<std::string> paths = {Write("big.csv", big), Write("quoted.csv", quoted), Write("small.csv", small)};
  const std::vector<Field> fields = {{"id", DataType::Of(TypeId::kBigInt), false},
                                     {"name", DataType::Of(TypeId::kString), true},
                                     {"day", DataType::Of(TypeId::kDate), true}};
  const std::map<std::string, std::string> constants = {{"day", "2026-11-24"}};
  CsvOptions options;
  options.threads = 2;
  auto whole = ReadCsvFiles(paths, fields, options, constants);
  ASSERT_TRUE(whole.ok()) << whole.status();
  std::vector<Column> joined;
  for (const Field& f : fields) joined.emplace_back(f.type);
  std::vector<std::string> described;
  int batches = 0;
  ASSERT_OK(ReadCsvBatches(paths, fields, options, constants, {}, 1 << 20, [&](CsvData batch) {
    ++batches;
    EXPECT_EQ(batch.paths, paths);
    for (size_t c = 0; c < fields.size(); ++c) {
      EXPECT_EQ(batch.columns[c].size(), batch.num_rows());
      joined[c].AppendColumn(batch.columns[c]);
    }
    for (RowIndex r = 0; r < batch.num_rows(); ++r) described.push_back(batch.Describe(r));
    return absl::OkStatus();
  }));
  EXPECT_GT(batches, 5);  // parallel windows are 16 MiB at least
  ASSERT_EQ(static_cast<RowIndex>(described.size()), whole->num_rows());
  for (size_t c = 0; c < fields.size(); ++c) EXPECT_TRUE(joined[c].Equals(whole->columns[c])) << c;
  for (RowIndex r = 0; r < whole->num_rows(); r += 7919) EXPECT_EQ(described[r], whole->Describe(r));
  EXPECT_EQ(described.back(), whole->Describe(whole->num_rows() - 1));

  // An error in a late batch stops the read with the same message; so does
  // one `add` returns.
  std::string bad = quoted;
  bad.replace(bad.rfind("2025-01-0"), 4, "oops");
  const std::vector<std::string> bad_paths = {paths[0], Write("bad.csv", bad)};
  auto expected = ReadCsvFiles(bad_paths, fields, options, constants);
  ASSERT_FALSE(expected.ok());
  absl::Status got = ReadCsvBatches(bad_paths, fields, options, constants, {}, 1 << 20,
                                    [](CsvData) { return absl::OkStatus(); });
  EXPECT_EQ(got, expected.status());
  got = ReadCsvBatches(paths, fields, options, constants, {}, 1 << 20,
                       [](CsvData) { return absl::CancelledError("stop"); });
  EXPECT_EQ(got, absl::CancelledError("stop"));
}

// Read in batches with a temporary directory, a compressed input is
// decompressed into an unnamed file there (nothing is left behind) and gives
// the rows of the plain file; inferred from a sample, it is decompressed only
// a little past the sample, even when that cuts a quoted field in two.
TEST_F(CsvTest, CompressedInputsStreamThroughAnUnnamedFile) {
  // A sample of 6000 bytes is decompressed to 6000 bytes + 1 MiB, cut after
  // its last line end: here, one inside a quoted field (of lines of y's)
  // that starts in the sample and ends past the cut.
  std::string text = "id,note\n";
  int k = 0;
  while (text.size() < 5000) text += std::to_string(k++) + ",plain note\n";
  text += std::to_string(k++) + ",\"";
  while (text.size() < 6000 + (1 << 20) + 5000) text += std::string(99, 'y') + "\n";
  text += "\"\n";
  for (; text.size() < (3u << 20); ++k) {
    text += std::to_string(k) + (k % 5000 == 0 ? ",\"two\nlines\"\n" : ",plain note " + std::to_string(k) + "\n");
  }
  const std::string plain = Write("plain.csv", text);
  const std::vector<Field> fields = {{"id", DataType::Of(TypeId::kBigInt), false},
                                     {"note", DataType::Of(TypeId::kString), true}};
  auto whole = ReadCsvFiles({plain}, fields, {}, {});
  ASSERT_TRUE(whole.ok()) << whole.status();
  const std::string temp = dir_ + "/tmp";
  ASSERT_EQ(mkdir(temp.c_str(), 0700), 0);
  for (const std::string& path : {Write("in.csv.gz", Gzip(text)), Write("in.csv.zst", Zstd(text))}) {
    CsvOptions options;
    options.temp_dir = temp;
    std::vector<Column> joined;
    for (const Field& f : fields) joined.emplace_back(f.type);
    ASSERT_OK(ReadCsvBatches({path}, fields, options, {}, {}, 1 << 20, [&](CsvData batch) {
      for (size_t c = 0; c < fields.size(); ++c) joined[c].AppendColumn(batch.columns[c]);
      return absl::OkStatus();
    }));
    for (size_t c = 0; c < fields.size(); ++c) EXPECT_TRUE(joined[c].Equals(whole->columns[c])) << path;
    EXPECT_EQ(rmdir(temp.c_str()), 0) << "left in the temporary directory";  // then made again
    ASSERT_EQ(mkdir(temp.c_str(), 0700), 0);
    // A missing temporary directory is an error naming it.
    options.temp_dir = dir_ + "/no-such-dir";
    absl::Status missing = ReadCsvBatches({path}, fields, options, {}, {}, 1 << 20,
                                          [](CsvData) { return absl::OkStatus(); });
    EXPECT_TRUE(Contains(missing, "no-such-dir")) << missing;

    // The cut falls in a quoted field, which is not an error of the file.
    for (int64_t sample : {int64_t{100}, int64_t{6000}}) {
      std::vector<bool> settled;
      auto inferred = InferCsvSchemaFromSample({path}, {}, {}, sample, &settled);
      ASSERT_TRUE(inferred.ok()) << path << " " << sample << ": " << inferred.status();
      std::vector<bool> settled_plain;
      auto from_plain = InferCsvSchemaFromSample({plain}, {}, {}, sample, &settled_plain);
      ASSERT_TRUE(from_plain.ok());
      EXPECT_EQ(*inferred, *from_plain);
      EXPECT_EQ(settled, settled_plain);
    }
  }
  rmdir(temp.c_str());
}

}  // namespace
}  // namespace retl
