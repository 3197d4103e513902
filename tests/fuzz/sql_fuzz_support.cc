#include "tests/fuzz/sql_fuzz_support.h"

#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "query/create_table.h"
#include "query/engine.h"
#include "query/parser.h"
#include "retl/dataset.h"
#include "retl/writer.h"

namespace retl {
namespace {

// t: every type, NULLs, a partition column and a secondary index.
constexpr char kSchema[] =
    "CREATE TABLE t (id BIGINT PRIMARY KEY, name STRING, region STRING, n INT, x DOUBLE, "
    "d DECIMAL(10,2), big DECIMAL(30,4), day DATE, ts TIMESTAMP, ok BOOLEAN, b BINARY, "
    "INDEX (name)) PARTITION BY (region)";

QueryEngine* Engine() {
  static QueryEngine* engine = [] {
    char tmpl[] = "/tmp/retl-fuzz-XXXXXX";
    std::string dir = std::string(mkdtemp(tmpl)) + "/ds";
    if (!DatasetWriter::Init(dir).ok()) abort();
    Schema schema = ParseCreateTable(kSchema).value().schema;
    TableData data;
    for (const Field& f : schema.fields) data.columns.emplace_back(f.type);
    const char* names[] = {"alpha", "Beta", "", "gamma delta", "Zürich"};
    const char* regions[] = {"eu", "us", "apac"};
    for (int i = 0; i < 300; ++i) {
      auto& c = data.columns;
      c[0].AppendInt(i * 7 - 100);
      if (i % 11 == 0) c[1].AppendNull(); else c[1].AppendBytes(names[i % 5]);
      if (i % 13 == 0) c[2].AppendNull(); else c[2].AppendBytes(regions[i % 3]);
      if (i % 5 == 0) c[3].AppendNull(); else c[3].AppendInt(i % 2 ? i : -i);
      if (i % 7 == 0) c[4].AppendNull(); else c[4].AppendDouble(i * 0.25 - 10);
      if (i % 9 == 0) c[5].AppendNull(); else c[5].AppendInt(i * 101);
      if (i % 4 == 0) c[6].AppendNull(); else c[6].AppendInt128(static_cast<int128>(i) * 1000000007);
      if (i % 6 == 0) c[7].AppendNull(); else c[7].AppendInt(18000 + i * 3);
      if (i % 8 == 0) c[8].AppendNull(); else c[8].AppendInt(int64_t{1600000000} * 1000000 + i * 3600000000LL);
      if (i % 3 == 0) c[9].AppendNull(); else c[9].AppendBool(i % 2 == 0);
      if (i % 10 == 0) c[10].AppendNull(); else c[10].AppendBytes(std::string(static_cast<size_t>(i % 4), '\x01'));
    }
    WriterOptions options;
    options.block_rows = 32;
    auto writer = DatasetWriter::Open(dir, options).value();
    auto txn = writer->Begin("import").value();
    if (!txn->CreateTable("t", schema, data).ok()) abort();
    if (!txn->Commit("fuzz dataset").ok()) abort();
    std::shared_ptr<const Dataset> ds(Dataset::Open(dir).value());
    return new QueryEngine(ds, EngineOptions{});
  }();
  return engine;
}

}  // namespace

void RunFuzzInput(std::string_view sql) {
  absl::StatusOr<std::vector<Statement>> statements = ParseStatements(sql);
  if (!statements.ok()) return;
  std::vector<Value> params = {Value::Int(SqlKind::kBigInt, 7), Value::String("alpha")};
  for (const Statement& st : *statements) {
    if (st.parameter_count > 2) continue;
    (void)Engine()->Execute(st, params);
  }
}

}  // namespace retl
