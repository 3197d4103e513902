// retl-query's SQL front end: runs statements from -c, stdin or the
// interactive REPL and prints their results (docs/sql.md "retl-query").
//
// Thread-safety: functions are reentrant; a QueryEngine is not shared.
#ifndef RETL_TOOLS_SQL_SHELL_H_
#define RETL_TOOLS_SQL_SHELL_H_

#include <ostream>
#include <string>
#include <string_view>

#include "query/engine.h"
#include "retl/status.h"
#include "tools/query_commands.h"

namespace retl {

struct ShellOptions {
  OutputFormat format = OutputFormat::kTable;
  // Print "Time: X ms" after each statement (to stderr unless the format is
  // table, so machine-readable output stays clean).
  bool timer = false;
};

// The rows of `result` as text, with column types as labels.
TextTable ResultTable(const QueryResult& result);

// Writes one result in `options.format` (EXPLAIN output in table format is
// printed as its plain lines).
void PrintResult(const QueryResult& result, const ShellOptions& options, std::string* out);

// Runs every statement of `sql` in order, writing each result to `out` as
// soon as it is complete. Stops at the first error and returns it.
absl::Status RunStatements(QueryEngine* engine, std::string_view sql, const ShellOptions& options,
                           std::ostream& out, std::ostream& err);

// The interactive shell on a terminal: line editing and history (libedit),
// statements ending in ';' over several lines, and dot commands (.help).
// Returns the process exit status.
int RunRepl(QueryEngine* engine, const std::string& dir, ShellOptions options);

}  // namespace retl

#endif  // RETL_TOOLS_SQL_SHELL_H_
