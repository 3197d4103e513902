// retl-query: reads rETL datasets. Today: point lookups by primary key or
// secondary index (`--lookup TABLE KEY...`); the SQL REPL comes later
// (issue 4). Parses flags and calls tools/query_commands.h; prints errors as
// "retl-query: error: ..." and exits 1 (2 for bad usage, 3 for keys that
// matched nothing under --fail-on-missing).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "tools/query_commands.h"

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitMissing = 3;

int Fail(const absl::Status& status, int code = kExitError) {
  std::fflush(stdout);
  std::fprintf(stderr, "retl-query: error: %s\n", std::string(status.message()).c_str());
  return code;
}

constexpr char kFooter[] = R"(Keys:
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
  retl-query /data/ds --lookup customers 42 43 --format json
  retl-query /data/ds --lookup customers alice@example.com --index email
  retl-query /data/ds --lookup orders 42,2024-01-31 --columns total,status --version 7
)";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "retl-query: read rows of a rETL DB dataset. For now only point lookups "
      "(--lookup); the SQL REPL is not there yet (issue 4)."};
  app.set_version_flag("--version-info", "retl-query 0.1.0 (format version 1)");
  app.footer(kFooter);

  std::string dir;
  std::optional<std::string> table;
  std::vector<std::string> keys;
  std::string format = "table", index;
  std::vector<std::string> columns;
  retl::VersionSelector which;
  bool fail_on_missing = false;
  app.add_option("DIR", dir, "Dataset directory")->required();
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
    return Fail(absl::InvalidArgumentError(
                    "give --lookup TABLE KEY...: the SQL REPL is not there yet (issue 4), so "
                    "--lookup is required for now. Run with --help for more information."),
                kExitUsage);
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
