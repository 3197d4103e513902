// retl-query: reads rETL datasets with SQL (an interactive REPL on a
// terminal, `-c SQL`, or statements on stdin) and point lookups by primary
// key or secondary index (`--lookup TABLE KEY...`). Parses flags and calls
// tools/sql_shell.h and tools/query_commands.h; prints errors as
// "retl-query: error: ..." and exits 1 (2 for bad usage, 3 for keys that
// matched nothing under --fail-on-missing).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <sstream>

#include "format/text.h"
#include "tools/query_commands.h"
#include "tools/sql_shell.h"

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitMissing = 3;

int Fail(const absl::Status& status, int code = kExitError) {
  std::fflush(stdout);
  std::fprintf(stderr, "retl-query: error: %s\n", std::string(status.message()).c_str());
  return code;
}

constexpr char kFooter[] = R"(SQL:
  Without --lookup, retl-query runs SQL (docs/sql.md): `-c "SQL"`, or the
  statements on stdin when it is not a terminal, or an interactive shell
  (line editing, history in ~/.retl_query_history, statements end with ';',
  .help lists the dot commands). Statements run on the live version unless
  --version/--as-of or AS OF in the query pick another. Output: table
  (aligned, with column types), csv, json or jsonl as for lookups. The first
  failing statement stops the run with exit status 1.

Keys:
  Each KEY is one key. A key of a one-column index is taken verbatim (it may
  contain commas and quotes). A key of a composite index joins its column
  values with commas, in key column order: `--lookup orders 42,2024-01-31`; a
  value containing a comma or starting with a quote is quoted CSV-style:
  `'"Smith, John",3'` (a quote inside is doubled). Values are canonical text
  (spec/FORMAT.md section 4.2): 42, 12.50, true, 2024-01-31,
  '2024-01-31 06:00:00', \x00ff for BINARY. A negative number is a key
  (-5); a key that looks like a flag goes after `--`: `--lookup t -- --x`.

Output:
  The rows of every key, in the order the keys are given (a non-unique
  secondary index may give several rows per key). table: aligned, NULL shown
  as NULL, control characters escaped, for reading. csv: header row, NULL as
  an empty unquoted field, as `retl-build dump` writes. json / jsonl: numbers
  for integer, FLOAT and DOUBLE columns (inf, -inf and nan as strings),
  true/false, null for NULL; DECIMAL, DATE, TIMESTAMP, STRING and BINARY as
  strings of their canonical text. Nothing is written to stdout on an error.

Exit status:
  0  every key was looked up (keys that matched nothing are reported on
     stderr as "retl-query: key K: not found", and their rows are absent)
  1  error: unknown table, index or column, a key with the wrong number of
     values or a value that does not parse, not a dataset, damaged files
  2  usage error
  3  with --fail-on-missing: some key matched nothing (the rows of the other
     keys are still printed)

Examples:
  retl-query /data/ds -c "SELECT country, count(*) FROM customers GROUP BY 1 ORDER BY 2 DESC"
  echo "EXPLAIN SELECT * FROM customers WHERE customer_id = 42;" | retl-query /data/ds
  retl-query /data/ds --lookup customers 42 43 --format json
  retl-query /data/ds --lookup customers alice@example.com --index email
  retl-query /data/ds --lookup orders 42,2024-01-31 --columns total,status --version 7
)";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "retl-query: query a rETL DB dataset with SQL, or look rows up by key (--lookup)."};
  app.set_version_flag("--version-info", "retl-query 0.1.0 (format version 1)");
  app.footer(kFooter);

  std::string dir;
  std::optional<std::string> table;
  std::vector<std::string> keys;
  std::string format = "table", index;
  std::vector<std::string> columns;
  retl::VersionSelector which;
  bool fail_on_missing = false;
  std::optional<std::string> command;
  bool timer = false;
  int threads = 0;
  std::optional<std::string> memory_limit, temp_dir;
  app.add_option("DIR", dir, "Dataset directory")->required();
  app.add_option("-c,--command", command, "Run these SQL statements and exit")->type_name("SQL");
  app.add_flag("--timer", timer, "Print each statement's run time");
  app.add_option("--threads", threads,
                 "Threads a query's table scans, filters and aggregations run on "
                 "(default 0: one per core; results are the same for any number)")
      ->check(CLI::Range(0, 1024))
      ->type_name("N");
  app.add_option("--memory-limit", memory_limit,
                 "Memory a statement's GROUP BY, DISTINCT and ORDER BY may use before they spill to "
                 "temporary files, as in 512MB or 4GB (default: 80% of RAM; SQL: SET memory_limit)")
      ->type_name("SIZE");
  app.add_option("--temp-dir", temp_dir,
                 "Where spill files go (default: $TMPDIR, else /tmp; SQL: SET temp_directory)")
      ->type_name("DIR");
  app.add_option("--lookup", table,
                 "Look up rows of this table by the KEYs that follow (see Keys below)")
      ->type_name("TABLE");
  app.add_option("KEY", keys, "Keys to look up (after --lookup TABLE)")->type_name("");
  app.add_option("--index", index,
                 "Look keys up in this secondary index (default: the primary key)")
      ->type_name("NAME");
  app.add_option("--columns", columns, "Only these columns, in this order, comma-separated")
      ->delimiter(',')
      ->type_name("COLUMNS");
  app.add_option("--format", format, "Output format (see Output below)")
      ->check(CLI::IsMember({"table", "csv", "json", "jsonl"}))
      ->capture_default_str();
  auto* version = app.add_option("--version", which.version,
                                 "Read this version instead of the live one")
                     ->type_name("N");
  app.add_option("--as-of", which.as_of,
                 "Read the newest version committed at or before this time "
                 "(YYYY-MM-DD HH:MM:SS[.ffffff], UTC unless an offset is given)")
      ->type_name("TIME")
      ->excludes(version);
  app.add_flag("--fail-on-missing", fail_on_missing,
               "Exit with status 3 if some key matched no row");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  if (!table.has_value()) {
    if (!keys.empty()) {
      return Fail(absl::InvalidArgumentError(
                      "unexpected argument '" + keys[0] + "': keys follow --lookup TABLE; SQL goes in -c "
                      "\"SQL\" or on stdin. Run with --help for more information."),
                  kExitUsage);
    }
    if (!index.empty() || !columns.empty() || fail_on_missing) {
      return Fail(absl::InvalidArgumentError("--index, --columns and --fail-on-missing go with --lookup"),
                  kExitUsage);
    }
    auto f = retl::ParseOutputFormat(format);
    if (!f.ok()) return Fail(f.status(), kExitUsage);
    retl::ShellOptions shell;
    shell.format = *f;
    shell.timer = timer;
    retl::EngineOptions engine_options;
    engine_options.threads = threads;
    engine_options.version = which.version;
    if (which.as_of.has_value()) {
      auto micros = retl::ParseTimestamp(*which.as_of);
      if (!micros.ok()) {
        return Fail(absl::InvalidArgumentError("--as-of: " + std::string(micros.status().message())), kExitUsage);
      }
      engine_options.as_of_micros = *micros;
    }
    auto ds = retl::Dataset::Open(dir);
    if (!ds.ok()) return Fail(ds.status());
    std::shared_ptr<const retl::Dataset> dataset(std::move(*ds));
    if (which.version.has_value() || which.as_of.has_value()) {
      // Fail now, before reading any statement, if the version does not exist.
      auto snap = which.version.has_value() ? dataset->AtVersion(*which.version)
                                            : dataset->AsOf(*engine_options.as_of_micros);
      if (!snap.ok()) return Fail(snap.status());
    }
    retl::QueryEngine engine(dataset, engine_options);
    if (memory_limit.has_value()) {
      absl::Status s = engine.Set("memory_limit", *memory_limit);
      if (!s.ok()) {
        return Fail(absl::InvalidArgumentError("--memory-limit: " + std::string(s.message()).substr(14)), kExitUsage);
      }
    }
    if (temp_dir.has_value()) {
      absl::Status s = engine.Set("temp_directory", *temp_dir);
      if (!s.ok()) {
        return Fail(absl::InvalidArgumentError("--temp-dir: " + std::string(s.message()).substr(16)), kExitUsage);
      }
    }
    std::ios::sync_with_stdio(false);
    if (command.has_value()) {
      absl::Status s = retl::RunStatements(&engine, *command, shell, std::cout, std::cerr);
      if (!s.ok()) return Fail(s);
      return 0;
    }
    if (isatty(STDIN_FILENO)) return retl::RunRepl(&engine, dir, shell);
    std::string sql((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    absl::Status s = retl::RunStatements(&engine, sql, shell, std::cout, std::cerr);
    if (!s.ok()) return Fail(s);
    return 0;
  }
  if (keys.empty()) {
    return Fail(absl::InvalidArgumentError(
                    "give at least one KEY after --lookup " + *table +
                    ". Run with --help for more information."),
                kExitUsage);
  }

  retl::LookupCommandOptions options;
  options.table = *table;
  options.keys = std::move(keys);
  options.index = index;
  options.columns = columns;
  auto f = retl::ParseOutputFormat(format);
  if (!f.ok()) return Fail(f.status(), kExitUsage);
  options.format = *f;

  std::ios::sync_with_stdio(false);
  auto result = retl::RunLookup(dir, which, options, std::cout);
  if (!result.ok()) return Fail(result.status());
  for (const std::string& key : result->missing) {
    std::fprintf(stderr, "retl-query: key %s: not found\n", key.c_str());
  }
  if (fail_on_missing && !result->missing.empty()) return kExitMissing;
  return 0;
}
