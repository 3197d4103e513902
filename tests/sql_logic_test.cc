// Runs the SQL logic test files in tests/sql/*.test (format: tests/sql/README.md)
// against datasets built from tests/sql/data/<name>/build.txt. One test per
// file; every failing block is reported with its file and line, and the run
// goes on to the next block.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "format/csv.h"
#include "format/strings.h"
#include "format/text.h"
#include "gtest/gtest.h"
#include "query/create_table.h"
#include "query/engine.h"
#include "retl/dataset.h"
#include "retl/writer.h"

#ifndef RETL_SQL_TEST_DIR
#error "RETL_SQL_TEST_DIR must name tests/sql"
#endif

namespace retl {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> TestFiles() {
  std::vector<std::string> files;
  if (DIR* d = opendir(RETL_SQL_TEST_DIR)) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (absl::EndsWith(name, ".test")) files.push_back(name.substr(0, name.size() - 5));
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Builds tests/sql/data/<name> once per process.
absl::StatusOr<std::string> BuildDataset(const std::string& name) {
  static std::map<std::string, std::string>* built = new std::map<std::string, std::string>;
  if (auto it = built->find(name); it != built->end()) return it->second;
  const std::string src = StrCat(RETL_SQL_TEST_DIR, "/data/", name);
  char tmpl[] = "/tmp/retl-slt-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  const std::string dir = StrCat(tmpl, "/", name);
  RETL_RETURN_IF_ERROR(DatasetWriter::Init(dir));
  std::string script = ReadFile(src + "/build.txt");
  if (script.empty()) return absl::NotFoundError(StrCat("no ", src, "/build.txt"));
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(script, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> w = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    const std::string where = StrCat(src, "/build.txt:", line_no, ": ");
    if (w.size() != 5 || w[0] != "import") {
      return absl::InvalidArgumentError(where + "expected: import TABLE SCHEMA.sql DATA.csv MODE");
    }
    absl::StatusOr<CreateTableStatement> ct = ParseCreateTable(ReadFile(src + "/" + w[2]));
    if (!ct.ok()) return Annotate(ct.status(), where);
    absl::StatusOr<CsvData> csv = ReadCsvFiles({src + "/" + w[3]}, ct->schema.fields, CsvOptions{});
    if (!csv.ok()) return Annotate(csv.status(), where);
    TableData data;
    data.columns = std::move(csv->columns);
    WriterOptions options;
    options.block_rows = 64;  // many blocks, so block skipping is exercised
    RETL_ASSIGN_OR_RETURN(auto writer, DatasetWriter::Open(dir, options));
    RETL_ASSIGN_OR_RETURN(auto txn, writer->Begin("import"));
    absl::Status s;
    if (w[4] == "create") s = txn->CreateTable(w[1], ct->schema, data);
    else if (w[4] == "replace-table") s = txn->ReplaceTable(w[1], ct->schema, data);
    else if (w[4] == "append") s = txn->Append(w[1], data);
    else if (w[4] == "replace-partition") s = txn->ReplacePartitions(w[1], data, std::nullopt);
    else return absl::InvalidArgumentError(where + "unknown mode " + w[4]);
    if (!s.ok()) return Annotate(s, where);
    RETL_RETURN_IF_ERROR(txn->Commit(StrCat("build.txt line ", line_no)).status());
  }
  (*built)[name] = dir;
  return dir;
}

std::string Render(const QueryResult& r, size_t row, size_t col) {
  std::optional<std::string> t = r.Text(row, col);
  if (!t.has_value()) return "NULL";
  if (t->empty()) return "(empty)";
  return *t;
}

class SqlLogicTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SqlLogicTest, File) {
  const std::string path = StrCat(RETL_SQL_TEST_DIR, "/", GetParam(), ".test");
  std::vector<std::string> lines = absl::StrSplit(ReadFile(path), '\n');
  std::unique_ptr<QueryEngine> engine;
  int queries = 0;
  size_t i = 0;
  auto at = [&](size_t line) { return StrCat(path, ":", line + 1); };
  while (i < lines.size()) {
    std::string line(absl::StripAsciiWhitespace(lines[i]));
    if (line.empty() || line[0] == '#') {
      ++i;
      continue;
    }
    const size_t start = i;
    if (absl::StartsWith(line, "dataset ")) {
      std::string name(absl::StripAsciiWhitespace(line.substr(8)));
      absl::StatusOr<std::string> dir = BuildDataset(name);
      ASSERT_TRUE(dir.ok()) << at(start) << ": " << dir.status();
      absl::StatusOr<std::unique_ptr<Dataset>> ds = Dataset::Open(*dir);
      ASSERT_TRUE(ds.ok()) << ds.status();
      engine = std::make_unique<QueryEngine>(std::shared_ptr<const Dataset>(std::move(*ds)), EngineOptions{});
      ++i;
      continue;
    }
    ASSERT_NE(engine, nullptr) << at(start) << ": a block before any 'dataset' line";
    // Header, then SQL lines up to '----' or a blank line.
    std::string header = line;
    ++i;
    std::string sql;
    while (i < lines.size() && !absl::StripAsciiWhitespace(lines[i]).empty() && lines[i] != "----") {
      sql += lines[i] + "\n";
      ++i;
    }
    std::vector<std::string> expected;
    if (i < lines.size() && lines[i] == "----") {
      ++i;
      while (i < lines.size() && !lines[i].empty()) expected.push_back(lines[i++]);
    }
    absl::StatusOr<QueryResult> r = engine->ExecuteSql(sql);
    if (absl::StartsWith(header, "statement error")) {
      std::string want(absl::StripAsciiWhitespace(header.substr(15)));
      if (r.ok()) {
        ADD_FAILURE() << at(start) << ": expected an error containing '" << want << "', the statement succeeded:\n" << sql;
      } else if (!absl::StrContains(r.status().message(), want)) {
        ADD_FAILURE() << at(start) << ": expected an error containing '" << want << "', got: " << r.status() << "\n" << sql;
      }
      continue;
    }
    if (absl::StartsWith(header, "statement ok")) {
      if (!r.ok()) ADD_FAILURE() << at(start) << ": " << r.status() << "\n" << sql;
      continue;
    }
    if (!absl::StartsWith(header, "query")) {
      ADD_FAILURE() << at(start) << ": unknown block header '" << header << "'";
      continue;
    }
    ++queries;
    std::vector<std::string> h = absl::StrSplit(header, ' ', absl::SkipWhitespace());
    const size_t columns = h.size() > 1 ? h[1].size() : 0;
    const bool rowsort = h.size() > 2 && h[2] == "rowsort";
    if (!r.ok()) {
      ADD_FAILURE() << at(start) << ": " << r.status() << "\n" << sql;
      continue;
    }
    if (r->names.size() != columns) {
      ADD_FAILURE() << at(start) << ": expected " << columns << " columns, got " << r->names.size() << "\n" << sql;
      continue;
    }
    std::vector<std::string> actual;
    for (size_t row = 0; row < r->row_count; ++row) {
      std::string s;
      for (size_t c = 0; c < columns; ++c) {
        if (c) s += '\t';
        s += Render(*r, row, c);
      }
      actual.push_back(s);
    }
    if (rowsort) {
      std::sort(actual.begin(), actual.end());
      std::sort(expected.begin(), expected.end());
    }
    if (actual != expected) {
      std::string diff;
      for (size_t k = 0; k < std::max(actual.size(), expected.size()); ++k) {
        std::string a = k < actual.size() ? actual[k] : "<none>";
        std::string e = k < expected.size() ? expected[k] : "<none>";
        if (a != e) diff += StrCat("  row ", k + 1, ": expected [", e, "] got [", a, "]\n");
      }
      ADD_FAILURE() << at(start) << ": wrong result\n" << sql << diff;
    }
  }
  RecordProperty("queries", queries);
}

INSTANTIATE_TEST_SUITE_P(Files, SqlLogicTest, ::testing::ValuesIn(TestFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace retl
