// The commands of `retl-query`, as functions: the CLI in retl_query_main.cc
// only parses flags and calls these, so tests and bindings reach the same
// behaviour. Output goes to the given stream, and only once the whole result
// is known: on an error nothing is written. Errors come back as statuses.
//
// Today the one command is a point lookup (`--lookup TABLE KEY...`) through
// the primary key or a secondary index (include/retl/lookup.h); the SQL REPL
// comes later (issue 4).
//
// Thread-safety: functions are reentrant.
#ifndef RETL_TOOLS_QUERY_COMMANDS_H_
#define RETL_TOOLS_QUERY_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "retl/status.h"
#include "retl/types.h"
#include "tools/build_commands.h"  // VersionSelector, AppendCsvField

namespace retl {

// How rows are printed.
//   kTable  an aligned text table for people: a header, a rule, one line per
//           row, a "(N rows)" footer. Numbers are right-aligned, NULL shows as
//           NULL, control characters in values show as \n, \r, \t or \xHH.
//           Not meant to be parsed: use csv or json for that.
//   kCsv    RFC 4180, the conventions of `retl-build dump` (which import reads
//           back): a header row, canonical text (FORMAT.md §4.2), NULL as an
//           unquoted empty field, the empty string as "".
//   kJson   one JSON array of objects, one object per line.
//   kJsonl  one JSON object per line (JSON Lines), nothing else.
// JSON values: integer types, FLOAT and DOUBLE are numbers (their canonical
// text, e.g. 1.5, -0, 1e+10), except the non-finite values, which JSON cannot
// express and which are the strings "inf", "-inf" and "nan"; BOOLEAN is
// true/false; NULL is null; DECIMAL is a string of its canonical text, so no
// precision is lost to a reader's binary floating point; STRING, DATE,
// TIMESTAMP and BINARY (\x followed by hex) are strings of their canonical
// text. Object keys are the column names, in projection order.
enum class OutputFormat { kTable, kCsv, kJson, kJsonl };

// Rows to print: canonical text per value (nullopt = NULL), row-major.
struct TextTable {
  std::vector<Field> fields;  // names; types choose alignment and JSON values
  // When set (one per column), the table format prints them as a second
  // header line (SQL results show their column types).
  std::vector<std::string> type_labels;
  // Table format only: values longer than this many characters are cut and
  // end in an ellipsis. 0: never.
  size_t max_cell_width = 0;
  // CSV only: false leaves out the header row (for rows streamed after it).
  bool header = true;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

// Writes `t` in `format` (see OutputFormat).
void FormatTextTable(const TextTable& t, OutputFormat format, std::string* out);

// Parses "table", "csv", "json", "jsonl".
absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name);

struct LookupCommandOptions {
  std::string table;
  // One key per entry, in the text a user types (see SplitKeyText).
  std::vector<std::string> keys;
  // A secondary index by name; empty: the primary key.
  std::string index;
  // Columns to print, in this order; empty: every column of the table.
  std::vector<std::string> columns;
  OutputFormat format = OutputFormat::kTable;
};

struct LookupCommandResult {
  RowIndex rows = 0;                 // rows printed
  std::vector<std::string> missing;  // the keys (as given) that matched no row
};

// Looks up every key of `options` in the table of the selected version and
// writes the matching rows to `out` in key argument order (all rows of the
// first key, then of the second, ...). A key that matches nothing is not an
// error: it is listed in the result's `missing`, for the caller to report.
// Errors, with nothing written: kNotFound for an unknown dataset, version,
// table, index or column (naming what exists); kInvalidArgument for a key
// with the wrong number of parts or a part that does not parse as its
// column's type (naming the key and the column); kFailedPrecondition for a
// directory that is not a dataset; kDataLoss for damaged files.
absl::StatusOr<LookupCommandResult> RunLookup(const std::string& dir,
                                              const VersionSelector& which,
                                              const LookupCommandOptions& options,
                                              std::ostream& out);

// Splits the text of one key into the canonical texts of its parts, one per
// column of an index with `num_columns` columns.
//   - One column: the text is the value, verbatim (it may hold commas and
//     quotes; it is never NULL).
//   - Several columns: the parts are separated by commas, with the quoting of
//     the CSV reader (format/csv.h): a part that starts with '"' is quoted, a
//     doubled quote inside is one quote, and it may then contain commas
//     (`"Smith, John",3`); a quote anywhere else is an ordinary character;
//     text between a closing quote and the next comma is an error. An empty
//     part is the empty text (there is no NULL: a key with a NULL column
//     matches nothing anyway).
// kInvalidArgument saying what is wrong when the number of parts is not
// `num_columns` or the quoting is broken; the caller names the key and the
// index ("key '42' for the primary key (order_id, day) of table 'orders': ").
absl::StatusOr<std::vector<std::string>> SplitKeyText(std::string_view text, int num_columns);

// Appends `bytes` as a JSON string, quotes included: '"' and '\' escaped,
// \b \f \n \r \t for those characters, \u00XX for the other control
// characters, everything else (UTF-8 included) as it is.
void AppendJsonString(std::string_view bytes, std::string* out);

}  // namespace retl

#endif  // RETL_TOOLS_QUERY_COMMANDS_H_
