// The commands of `retl-build`, as functions: the CLI in retl_build_main.cc
// only parses flags and calls these, so tests and bindings reach the same
// behaviour. Output goes to the given stream; errors come back as statuses.
#ifndef RETL_TOOLS_BUILD_COMMANDS_H_
#define RETL_TOOLS_BUILD_COMMANDS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "format/csv.h"
#include "format/gc.h"
#include "format/ship.h"
#include "retl/dataset.h"
#include "retl/status.h"
#include "retl/writer.h"

namespace retl {

// Which partition a command addresses: a value (any text, including "NULL",
// is a value), or the NULL partition (rows whose partition column is NULL).
struct PartitionSelector {
  std::optional<std::string> value;
  bool null_partition = false;
  bool given() const { return value.has_value() || null_partition; }
};

enum class ImportMode { kCreate, kReplaceTable, kReplacePartition, kAppend };
absl::StatusOr<ImportMode> ParseImportMode(std::string_view name);

// The format of import inputs: kAuto decides by file name (.parquet, .parq;
// .jsonl, .ndjson; .csv, .tsv; the text formats also .gz and .zst), else by
// content (the Parquet magic PAR1; anything else is CSV).
enum class InputFormat { kAuto, kCsv, kParquet, kJsonl };
absl::StatusOr<InputFormat> ParseInputFormat(std::string_view name);  // auto | csv | parquet | jsonl

// The files `--input` arguments name: a file as is; a directory, its files
// with an input extension (names starting with '.' or '_', such as
// _SUCCESS, skipped), sorted by name; a glob pattern (* ? [), the files it
// matches, sorted. A directory or pattern matching no file is an error.
absl::StatusOr<std::vector<std::string>> ExpandInputs(const std::vector<std::string>& inputs);

// The one format of all `files` (an error if they mix formats).
absl::StatusOr<InputFormat> DetectInputFormat(const std::vector<std::string>& files,
                                              InputFormat forced);

struct ImportOptions {
  std::string dir;
  std::string table;
  std::vector<std::string> inputs;
  std::string schema_file;                // CREATE TABLE statement; empty: infer
  std::vector<std::string> primary_key;   // column names
  std::optional<std::string> partition_by;
  // Secondary indexes, each "col[,col...]"; named after the columns joined
  // by '_' (FORMAT.md §12.1).
  std::vector<std::string> indexes;
  PartitionSelector partition;            // the single partition to write
  ImportMode mode = ImportMode::kCreate;
  std::string message;
  std::map<std::string, std::string> types;  // --type col=TYPE for inference
  InputFormat format = InputFormat::kAuto;
  CsvOptions csv;
  WriterOptions writer;
  bool progress = false;  // progress line on stderr
  // Release safety (docs/import.md, "Quality gates"): refuse to commit when
  // the table's rows after the change fall outside [min, max], or drop by
  // more than this fraction from the version replaced, or (replace-table)
  // when the schema changes without allow_schema_change.
  std::optional<int64_t> expect_rows_min, expect_rows_max;
  std::optional<double> max_row_drop;  // 0.1 = 10%
  bool allow_schema_change = false;
  std::string source;  // lineage label recorded in the version
};

// "MIN..MAX", "MIN..", "..MAX" (digits, optional commas or underscores).
absl::Status ParseRowRange(std::string_view text, std::optional<int64_t>* min, std::optional<int64_t>* max);
// "10%" as 0.1.
absl::StatusOr<double> ParsePercent(std::string_view text);

struct ImportResult {
  int64_t version = 0;
  RowIndex rows = 0;
  std::string summary;
};

// Imports CSV or Parquet files as one new version. On any error nothing is committed and
// no file written by the import remains.
absl::StatusOr<ImportResult> RunImport(const ImportOptions& options);

// One import of a release, and where it was declared ("release.spec:3").
struct ReleaseStep {
  ImportOptions options;
  std::string where;
};
// Runs every step's import into one transaction and commits them as one
// version (operation "release"): all or nothing. Quality gates apply per
// step, against the version the release replaces.
absl::StatusOr<ImportResult> RunRelease(const std::string& dir, const std::vector<ReleaseStep>& steps,
                                        const std::string& message, const std::string& source,
                                        const WriterOptions& writer_options);


// Which version a read-only command looks at: the live one by default.
struct VersionSelector {
  std::optional<int64_t> version;
  std::optional<std::string> as_of;  // timestamp text, UTC unless it has an offset
};
// The snapshot `which` names in `ds`; kInvalidArgument for both or a bad time.
absl::StatusOr<std::shared_ptr<const Snapshot>> SelectSnapshot(const Dataset& ds,
                                                               const VersionSelector& which);

absl::Status RunInit(const std::string& dir, std::ostream& out);
// "90s", "30m", "12h", "7d", "2w" as microseconds.
absl::StatusOr<int64_t> ParseDuration(std::string_view text);
// Expires versions and removes unreferenced files (format/gc.h), printing
// what it did.
absl::Status RunGc(const std::string& dir, const GcOptions& options, std::ostream& out);
// Ships a version to another directory (format/ship.h), printing what it did.
absl::Status RunShip(const std::string& src, const std::string& dest, const ShipOptions& options,
                     std::ostream& out);
// `retl-build backup DIR DEST` and `retl-build restore BACKUP DIR`: copies
// every retained version (format/ship.h CopyDataset) and verifies the copy;
// a copy that fails verification is an error listing the problems.
absl::Status RunBackup(const std::string& src, const std::string& dest, bool restore, std::ostream& out);
// `retl-build compact`: rewrites partitions' segments (Transaction::
// CompactPartition) as one new version. Without `partition`, every
// partition with at least `min_segments` segments (2, or `auto_min_segments`
// with `automatic`). Commits nothing when no partition qualifies.
struct CompactOptions {
  std::string dir, table, message;
  PartitionSelector partition;
  int64_t target_rows = 4000000;
  bool automatic = false;
  int auto_min_segments = 4;
  WriterOptions writer;
};
absl::Status RunCompact(const CompactOptions& options, std::ostream& out);
// Commits a new version whose tables are those of version `to_version`.
absl::Status RunRollback(const std::string& dir, int64_t to_version, const std::string& message,
                         const WriterOptions& writer_options, std::ostream& out);
absl::Status RunDropPartition(const std::string& dir, const std::string& table,
                              const PartitionSelector& partition,
                              const std::string& message, const WriterOptions& writer,
                              std::ostream& out);
absl::Status RunDropTable(const std::string& dir, const std::string& table,
                          const std::string& message, const WriterOptions& writer,
                          std::ostream& out);
absl::Status RunInfo(const std::string& dir, const VersionSelector& which, std::ostream& out);
absl::Status RunVersions(const std::string& dir, std::ostream& out);
// kDataLoss if any problem is found (after printing all of them).
absl::Status RunVerify(const std::string& dir, const VersionSelector& which, bool all_versions,
                       std::ostream& out);

struct DumpOptions {
  std::string table;
  PartitionSelector partition;           // none given: every partition
  std::vector<std::string> columns;      // empty: all
  char delimiter = ',';
  bool header = true;
  std::optional<RowIndex> limit;
};
absl::Status RunDump(const std::string& dir, const VersionSelector& which,
                     const DumpOptions& options, std::ostream& out);

// Appends `field` to `out` as one CSV field, quoted when it contains the
// delimiter, a quote, CR or LF, or is empty (an unquoted empty field is NULL).
void AppendCsvField(std::string_view field, char delimiter, std::string* out);

}  // namespace retl

#endif  // RETL_TOOLS_BUILD_COMMANDS_H_
