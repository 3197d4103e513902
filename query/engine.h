// The SQL engine: binds a parsed statement against a snapshot, plans it and
// runs it (docs/sql.md).
//
//   parse (query/parser.h) -> bind names and types (query/expr.h)
//     -> plan: index probe for key equality / IN, partition pruning from the
//        partition column, block skipping from chunk statistics
//     -> execute: a tree of operators passing column batches (query/vector.h)
//
// Every statement runs on one snapshot, so it never sees a half-committed
// version; AS OF picks an older one.
//
// Thread-safety: a QueryEngine may be used by one thread at a time; separate
// engines over one Dataset may run in parallel.
#ifndef RETL_QUERY_ENGINE_H_
#define RETL_QUERY_ENGINE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "query/ast.h"
#include "query/vector.h"
#include "retl/dataset.h"
#include "retl/status.h"

namespace retl {

struct QueryResult {
  std::vector<std::string> names;
  std::vector<SqlType> types;
  std::vector<Batch> batches;  // rows in order
  size_t row_count = 0;
  // The statement's kind, for callers that print differently (EXPLAIN).
  StatementKind kind = StatementKind::kSelect;

  // Row `r`'s value of column `c` as canonical text (nullopt for NULL);
  // linear in the number of batches.
  std::optional<std::string> Text(size_t r, size_t c) const;
};

// Receives a SELECT's rows as they are produced, instead of collecting them
// in the QueryResult: `start` once (column names and types), then `rows` per
// batch. An error returned by either stops the statement.
struct ResultSink {
  std::function<absl::Status(const std::vector<std::string>& names, const std::vector<SqlType>& types)> start;
  std::function<absl::Status(const Batch& batch)> rows;
};

struct EngineOptions {
  // The snapshot queries use when they have no AS OF: nullopt = the latest
  // version at the time of each statement.
  std::optional<int64_t> version;
  std::optional<int64_t> as_of_micros;
  // Threads a table scan (and the WHERE filter above it) runs on: 0 = one per
  // core. Results, their order included, are the same for any number.
  int threads = 0;
  // The most memory a statement's growing state (GROUP BY, DISTINCT, ORDER
  // BY) may take before it spills to temporary files: 0 = 80% of RAM.
  int64_t memory_limit = 0;
  // Where spill files go: "" = $TMPDIR, else /tmp.
  std::string temp_directory;
};

class LookupCache;  // engine.cc: open Lookups, reused across statements

class QueryEngine {
 public:
  QueryEngine(std::shared_ptr<const Dataset> dataset, EngineOptions options);
  ~QueryEngine();

  // Runs one statement. `params` fill $1.. / ? in order.
  absl::StatusOr<QueryResult> Execute(const Statement& statement,
                                      const std::vector<Value>& params = {});
  // As Execute; a SELECT's rows go to `sink` as they are produced (the
  // result then has names, types and row_count but no batches). Other
  // statements return their result as Execute does.
  absl::StatusOr<QueryResult> Execute(const Statement& statement, const std::vector<Value>& params,
                                      const ResultSink* sink);
  // Parses and runs every statement of `sql`; returns the last result.
  absl::StatusOr<QueryResult> ExecuteSql(std::string_view sql,
                                         const std::vector<Value>& params = {});

  // As SQL's SET name = 'value': memory_limit, temp_directory, threads.
  absl::Status Set(const std::string& name, const std::string& value) { return ApplySetting(name, Value::String(value)); }

  const Dataset& dataset() const { return *dataset_; }
  // The snapshot statements without AS OF read now (options.version /
  // as_of_micros, else the live version).
  absl::StatusOr<std::shared_ptr<const Snapshot>> DefaultSnapshot() const;

 private:

  // SET name = value (a null value: DEFAULT), and a setting's current value.
  absl::Status ApplySetting(const std::string& name, const Value& value);
  std::string SettingText(const std::string& name) const;

  std::shared_ptr<const Dataset> dataset_;
  EngineOptions options_;
  std::unique_ptr<LookupCache> lookups_;
};

// A statement parsed once and run many times with different parameters.
class PreparedStatement {
 public:
  static absl::StatusOr<PreparedStatement> Prepare(QueryEngine* engine, std::string_view sql);
  int parameter_count() const { return statement_->parameter_count; }
  absl::StatusOr<QueryResult> Execute(const std::vector<Value>& params) const;

 private:
  PreparedStatement(QueryEngine* engine, std::shared_ptr<Statement> s)
      : engine_(engine), statement_(std::move(s)) {}
  QueryEngine* engine_;
  std::shared_ptr<Statement> statement_;
};

}  // namespace retl

#endif  // RETL_QUERY_ENGINE_H_
