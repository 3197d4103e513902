#include "tools/build_commands.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "format/encoding.h"
#include "format/file_util.h"
#include "format/manifest.h"
#include "format/jsonl.h"
#include "format/parquet.h"
#include "format/segment.h"
#include "format/strings.h"
#include "format/text.h"
#include "query/create_table.h"
#include "query/spill.h"
#include "retl/dataset.h"
#include "retl/verify.h"

namespace retl {

namespace {

std::string FormatTime(int64_t micros) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S UTC", absl::FromUnixMicros(micros),
                          absl::UTCTimeZone());
}

std::string HumanBytes(uint64_t n) {
  if (n < 1024) return StrCat(n, " B");
  if (n < (1 << 20)) return absl::StrFormat("%.1f KiB", n / 1024.0);
  if (n < (1ull << 30)) return absl::StrFormat("%.1f MiB", n / 1048576.0);
  return absl::StrFormat("%.2f GiB", n / 1073741824.0);
}

std::string WithCommas(int64_t n) {
  std::string digits = StrCat(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}


// The partition a selector names, as the canonical text of its value
// (nullopt inside: the NULL partition); nullopt outside when none is given.
absl::StatusOr<std::optional<std::optional<std::string>>> ResolvePartition(
    const Schema& schema, const PartitionSelector& selector) {
  if (!selector.given()) return std::nullopt;
  if (!schema.partition_column.has_value()) {
    return absl::InvalidArgumentError(
        "--partition and --null-partition need a partitioned table: create it with "
        "--partition-by COLUMN or PARTITION BY in the schema");
  }
  if (selector.null_partition) {
    return std::optional<std::optional<std::string>>(std::in_place, std::nullopt);
  }
  const Field& f = schema.fields[*schema.partition_column];
  Column c(f.type);
  absl::Status s = AppendParsedValue(*selector.value, &c);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        StrCat("--partition '", *selector.value, "' for column '", f.name, "': ", s.message()));
  }
  return std::optional<std::optional<std::string>>(ValueText(c, 0));
}

bool HasSuffix(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsParquetName(std::string_view name) {
  return HasSuffix(name, ".parquet") || HasSuffix(name, ".parq");
}

bool IsJsonlName(std::string_view name) {
  for (std::string_view ext : {".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson", ".ndjson.gz", ".ndjson.zst"}) {
    if (HasSuffix(name, ext)) return true;
  }
  return false;
}

bool IsCsvName(std::string_view name) {
  for (std::string_view ext : {".csv", ".csv.gz", ".csv.zst", ".tsv", ".tsv.gz", ".tsv.zst"}) {
    if (HasSuffix(name, ext)) return true;
  }
  return false;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// "--index a,b": an index on columns a and b named "a_b".
absl::StatusOr<IndexDef> ParseIndexOption(const Schema& schema, const std::string& spec) {
  IndexDef index;
  std::vector<std::string> names = absl::StrSplit(ToAbsl(spec), ',');
  for (const std::string& name : names) {
    int i = schema.FindField(name);
    if (i < 0) {
      return absl::InvalidArgumentError(
          StrCat("--index ", spec, ": '", name, "' is not a column of the table"));
    }
    if (std::find(index.columns.begin(), index.columns.end(), i) != index.columns.end()) {
      return absl::InvalidArgumentError(StrCat("--index ", spec, ": column '", name, "' appears twice"));
    }
    index.columns.push_back(i);
  }
  index.name = absl::StrJoin(names, "_");
  return index;
}

// Bytes at the start of each CSV input whose records choose the inferred
// types (see StageImport).
constexpr int64_t kCsvSampleBytes = 4 << 20;

// The schema of a table the import creates or replaces. `settled`, if given,
// asks for a CSV schema inferred from a sample (InferCsvSchemaFromSample) and
// receives which types are final; it is left empty when that does not apply.
absl::StatusOr<Schema> SchemaForNewTable(const ImportOptions& o, std::vector<bool>* settled = nullptr) {
  Schema schema;
  if (!o.schema_file.empty()) {
    if (!o.types.empty()) return absl::InvalidArgumentError("--type applies only without --schema");
    RETL_ASSIGN_OR_RETURN(std::string sql, ReadFile(o.schema_file));
    auto stmt = ParseCreateTable(sql);
    if (!stmt.ok()) {
      return absl::InvalidArgumentError(StrCat(o.schema_file, ": ", stmt.status().message()));
    }
    if (stmt->table_name != o.table) {
      return absl::InvalidArgumentError(StrCat(o.schema_file, " declares table '",
                                               stmt->table_name, "' but --table is '", o.table,
                                               "'"));
    }
    schema = stmt->schema;
    if (!o.primary_key.empty()) {
      std::vector<std::string> declared;
      for (int k : schema.primary_key) declared.push_back(schema.fields[k].name);
      if (declared != o.primary_key) {
        return absl::InvalidArgumentError(StrCat(
            "--primary-key ", absl::StrJoin(o.primary_key, ","), " differs from the schema's key (",
            absl::StrJoin(declared, ","), "); drop one of them"));
      }
    }
  } else {
    std::map<std::string, DataType> overrides;
    for (const auto& [name, type] : o.types) {
      auto t = ParseDataType(type);
      if (!t.ok()) return absl::InvalidArgumentError(StrCat("--type ", name, "=", type, ": ", t.status().message()));
      overrides[name] = *t;
    }
    if (o.format == InputFormat::kParquet) {
      RETL_ASSIGN_OR_RETURN(schema.fields, InferParquetSchema(o.inputs, overrides));
    } else if (o.format == InputFormat::kJsonl) {
      RETL_ASSIGN_OR_RETURN(schema.fields, InferJsonlSchema(o.inputs, overrides));
    } else if (settled != nullptr) {
      RETL_ASSIGN_OR_RETURN(schema.fields,
                            InferCsvSchemaFromSample(o.inputs, o.csv, overrides, kCsvSampleBytes, settled));
    } else {
      RETL_ASSIGN_OR_RETURN(schema.fields, InferCsvSchema(o.inputs, o.csv, overrides));
    }
    if (o.primary_key.empty()) {
      return absl::InvalidArgumentError(
          "the table needs a primary key: pass --primary-key COLUMN[,COLUMN...] or --schema FILE "
          "with a PRIMARY KEY");
    }
    for (const std::string& name : o.primary_key) {
      int i = schema.FindField(name);
      if (i < 0) {
        return absl::InvalidArgumentError(
            StrCat("--primary-key column '", name, "' is not in the input's header"));
      }
      schema.fields[i].nullable = false;
      schema.primary_key.push_back(i);
    }
  }
  if (o.partition_by.has_value()) {
    int i = schema.FindField(*o.partition_by);
    if (i < 0) {
      return absl::InvalidArgumentError(
          StrCat("--partition-by column '", *o.partition_by, "' is not a column of the table"));
    }
    if (schema.partition_column.has_value() && *schema.partition_column != i) {
      return absl::InvalidArgumentError("--partition-by differs from the schema's PARTITION BY");
    }
    schema.partition_column = i;
  }
  for (const std::string& spec : o.indexes) {
    RETL_ASSIGN_OR_RETURN(IndexDef index, ParseIndexOption(schema, spec));
    const IndexDef* same = schema.FindIndex(index.name);
    if (same != nullptr) {
      if (same->columns != index.columns) {
        return absl::InvalidArgumentError(StrCat("--index ", spec, ": the schema already has an index named '",
                                                 index.name, "' on other columns"));
      }
      continue;  // declared in the schema file too
    }
    schema.indexes.push_back(std::move(index));
  }
  RETL_RETURN_IF_ERROR(schema.Validate());
  return schema;
}

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO)) {}
  ~ProgressLine() { Done(); }
  void Update(int64_t done, int64_t total, RowIndex rows) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    // Time left to read, at the byte rate so far.
    std::string eta = "";
    if (done > 0 && total > done && secs > 0) eta = StrCat(", ", static_cast<int64_t>((total - done) * secs / done + 0.5), " s left");
    std::fprintf(stderr, "\rreading input: %s of %s (%.0f%%), %s rows, %.0f rows/s%s   ",
                 HumanBytes(done).c_str(), HumanBytes(total).c_str(),
                 total > 0 ? 100.0 * done / total : 100.0, WithCommas(rows).c_str(),
                 secs > 0 ? rows / secs : 0.0, eta.c_str());
    shown_ = true;
  }
  void Done() {
    if (shown_) std::fprintf(stderr, "\n");
    shown_ = false;
  }
  // A line saying what happens next (on a terminal only).
  void Note(const std::string& text) {
    if (enabled_) std::fprintf(stderr, "%s\n", text.c_str());
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_ = start_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const Snapshot>> SelectSnapshot(const Dataset& ds,
                                                               const VersionSelector& which) {
  if (which.version.has_value() && which.as_of.has_value()) {
    return absl::InvalidArgumentError("give --version or --as-of, not both");
  }
  if (which.version.has_value()) return ds.AtVersion(*which.version);
  if (which.as_of.has_value()) {
    auto micros = ParseTimestamp(*which.as_of);
    if (!micros.ok()) {
      return absl::InvalidArgumentError(StrCat("--as-of: ", micros.status().message(),
                                               " (expected YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM])"));
    }
    return ds.AsOf(*micros);
  }
  return ds.Latest();
}

absl::StatusOr<ImportMode> ParseImportMode(std::string_view name) {
  if (name == "create") return ImportMode::kCreate;
  if (name == "replace-table") return ImportMode::kReplaceTable;
  if (name == "replace-partition") return ImportMode::kReplacePartition;
  if (name == "append") return ImportMode::kAppend;
  return absl::InvalidArgumentError(StrCat(
      "unknown --mode '", name, "': expected create, replace-table, replace-partition or append"));
}

absl::Status ParseRowRange(std::string_view text, std::optional<int64_t>* min, std::optional<int64_t>* max) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(StrCat("--expect-rows '", text, "': use MIN..MAX, MIN.. or ..MAX "
                                             "(as in 1900000..2100000)"));
  };
  const size_t dots = text.find("..");
  if (dots == std::string_view::npos) return bad();
  auto number = [&](std::string_view part, std::optional<int64_t>* out) -> bool {
    if (part.empty()) return true;
    std::string digits;
    for (char c : part) {
      if (c == ',' || c == '_') continue;
      if (c < '0' || c > '9') return false;
      digits += c;
    }
    int64_t v;
    if (digits.empty() || !absl::SimpleAtoi(digits, &v)) return false;
    *out = v;
    return true;
  };
  if (!number(text.substr(0, dots), min) || !number(text.substr(dots + 2), max)) return bad();
  if (!min->has_value() && !max->has_value()) return bad();
  if (min->has_value() && max->has_value() && **min > **max) return bad();
  return absl::OkStatus();
}

absl::StatusOr<double> ParsePercent(std::string_view text) {
  double v;
  if (text.size() < 2 || text.back() != '%' || !absl::SimpleAtod(ToAbsl(text.substr(0, text.size() - 1)), &v) ||
      !(v >= 0 && v <= 100)) {
    return absl::InvalidArgumentError(StrCat("--max-row-drop '", text, "': use a percentage from 0% to 100%, as in 10%"));
  }
  return v / 100;
}

namespace {

// The rows `after` (the table as this import leaves it) against the import's
// expectations and the table it replaces (`before`, null for a new table).
absl::Status CheckQualityGates(const ImportOptions& o, const TableInfo* before, const TableInfo* after) {
  const RowIndex rows = after == nullptr ? 0 : after->row_count();
  const std::string none = " Nothing was committed.";
  if ((o.expect_rows_min.has_value() && rows < *o.expect_rows_min) ||
      (o.expect_rows_max.has_value() && rows > *o.expect_rows_max)) {
    return absl::FailedPreconditionError(StrCat(
        "quality gate: table '", o.table, "' would have ", WithCommas(rows), " rows; --expect-rows wants ",
        !o.expect_rows_max.has_value()   ? StrCat("at least ", WithCommas(*o.expect_rows_min))
        : !o.expect_rows_min.has_value() ? StrCat("at most ", WithCommas(*o.expect_rows_max))
                                         : StrCat(WithCommas(*o.expect_rows_min), " to ", WithCommas(*o.expect_rows_max)),
        ".", none));
  }
  if (o.max_row_drop.has_value() && before != nullptr && before->row_count() > 0) {
    const RowIndex was = before->row_count();
    const double drop = rows >= was ? 0.0 : static_cast<double>(was - rows) / static_cast<double>(was);
    if (drop > *o.max_row_drop + 1e-12) {
      return absl::FailedPreconditionError(StrCat(
          "quality gate: table '", o.table, "' would drop from ", WithCommas(was), " to ", WithCommas(rows),
          " rows (", absl::StrFormat("%.1f%%", drop * 100), "), more than --max-row-drop ",
          absl::StrFormat("%g%%", *o.max_row_drop * 100), " allows.", none));
    }
  }
  return absl::OkStatus();
}

// Lineage of one input file: its size and checksum. Stops early, with
// Cancelled, once `cancel` is set.
absl::StatusOr<InputFileInfo> DescribeInput(const std::string& path, const std::atomic<bool>& cancel) {
  InputFileInfo info;
  info.path = path;
  RETL_ASSIGN_OR_RETURN(info.size, FileSize(path));
  if (info.size == 0) {
    info.checksum = Checksum64("", 0);
    return info;
  }
  // Read in pieces, so that a file larger than memory never is resident.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(StrCat("cannot open '", path, "': ", std::strerror(errno)));
  Checksum64Stream checksum;
  std::string buffer(4 << 20, '\0');
  while (true) {
    if (cancel.load(std::memory_order_relaxed)) {
      ::close(fd);
      return absl::CancelledError("the import failed");
    }
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return absl::InternalError(StrCat("cannot read '", path, "': ", std::strerror(err)));
    }
    if (n == 0) break;
    checksum.Update(buffer.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  info.checksum = checksum.Digest();
  return info;
}

// The lineage of an import's inputs, read on a thread of its own while the
// import parses, sorts and writes (a core is often idle then), and waited for
// at the end. An import that fails stops it.
class InputLineage {
 public:
  explicit InputLineage(std::vector<std::string> paths)
      : thread_([this, paths = std::move(paths)] {
          for (const std::string& path : paths) {
            auto info = DescribeInput(path, cancel_);
            if (!info.ok()) {
              status_ = info.status();
              return;
            }
            inputs_.push_back(*std::move(info));
          }
        }) {}
  ~InputLineage() {
    cancel_ = true;
    if (thread_.joinable()) thread_.join();
  }
  absl::StatusOr<std::vector<InputFileInfo>> Wait() {
    thread_.join();
    if (!status_.ok()) return status_;
    return std::move(inputs_);
  }

 private:
  std::atomic<bool> cancel_{false};
  std::vector<InputFileInfo> inputs_;
  absl::Status status_;
  std::thread thread_;  // last: starts once the members it uses exist
};

}  // namespace

absl::StatusOr<InputFormat> ParseInputFormat(std::string_view name) {
  if (name == "auto") return InputFormat::kAuto;
  if (name == "csv") return InputFormat::kCsv;
  if (name == "parquet") return InputFormat::kParquet;
  if (name == "jsonl" || name == "ndjson") return InputFormat::kJsonl;
  return absl::InvalidArgumentError(StrCat("--format must be auto, csv, parquet or jsonl, got '", name, "'"));
}

absl::StatusOr<std::vector<std::string>> ExpandInputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    if (IsDirectory(input)) {
      RETL_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(input));
      std::sort(names.begin(), names.end());
      const size_t before = files.size();
      for (const std::string& name : names) {
        if (name.empty() || name[0] == '.' || name[0] == '_') continue;
        if (!IsParquetName(name) && !IsCsvName(name) && !IsJsonlName(name)) continue;
        std::string path = StrCat(input, HasSuffix(input, "/") ? "" : "/", name);
        if (IsRegularFile(path)) files.push_back(std::move(path));
      }
      if (files.size() == before) {
        return absl::InvalidArgumentError(StrCat("--input '", input, "': the directory has no ",
                                                 ".parquet, .jsonl or .csv file (nor .gz or .zst forms)"));
      }
    } else if (input.find_first_of("*?[") != std::string::npos && !IsRegularFile(input)) {
      glob_t g{};
      const int rc = ::glob(input.c_str(), 0, nullptr, &g);
      std::vector<std::string> matched;
      for (size_t k = 0; rc == 0 && k < g.gl_pathc; ++k) {
        if (IsRegularFile(g.gl_pathv[k])) matched.emplace_back(g.gl_pathv[k]);
      }
      ::globfree(&g);
      if (matched.empty()) {
        return absl::NotFoundError(StrCat("--input '", input, "': no file matches the pattern"));
      }
      std::sort(matched.begin(), matched.end());
      files.insert(files.end(), matched.begin(), matched.end());
    } else {
      files.push_back(input);
    }
  }
  return files;
}

absl::StatusOr<InputFormat> DetectInputFormat(const std::vector<std::string>& files,
                                              InputFormat forced) {
  if (forced != InputFormat::kAuto) return forced;
  const char* kNames[] = {"", "CSV", "Parquet", "JSON Lines"};
  std::optional<InputFormat> format;
  std::string first;
  for (const std::string& f : files) {
    const InputFormat mine = IsParquetName(f)                      ? InputFormat::kParquet
                             : IsJsonlName(f)                      ? InputFormat::kJsonl
                             : !IsCsvName(f) && HasParquetMagic(f) ? InputFormat::kParquet
                                                                   : InputFormat::kCsv;
    if (format.has_value() && *format != mine) {
      return absl::InvalidArgumentError(StrCat("the inputs mix formats: '", first, "' is ",
                                               kNames[static_cast<int>(*format)], " and '", f, "' is ",
                                               kNames[static_cast<int>(mine)], "; import them separately"));
    }
    if (!format.has_value()) format = mine, first = f;
  }
  return format.value_or(InputFormat::kCsv);
}

namespace {

// Checks the options of one import and expands its inputs.
absl::StatusOr<ImportOptions> PrepareImport(const ImportOptions& options) {
  RETL_RETURN_IF_ERROR(ValidateTableName(options.table));
  if (options.inputs.empty()) return absl::InvalidArgumentError("give at least one --input file");
  ImportOptions o = options;
  RETL_ASSIGN_OR_RETURN(o.inputs, ExpandInputs(options.inputs));
  RETL_ASSIGN_OR_RETURN(o.format, DetectInputFormat(o.inputs, options.format));
  o.csv.temp_dir = JoinPath(o.dir, kDataDir);  // compressed CSV read in batches is decompressed there
  if (o.format != InputFormat::kCsv) {
    const CsvOptions defaults;
    if (o.csv.delimiter != defaults.delimiter || o.csv.header != defaults.header ||
        o.csv.null_marker != defaults.null_marker || o.csv.compression != defaults.compression) {
      return absl::InvalidArgumentError(
          StrCat("--delimiter, --null-marker, --no-header and --input-compression apply to CSV inputs; "
                 "the inputs are ", o.format == InputFormat::kParquet ? "Parquet" : "JSON Lines"));
    }
  }
  return o;
}

// About the bytes the inputs of `o` take once read into columns: their sizes,
// four times for compressed ones (Parquet, gzip, zstd). Inputs above a quarter
// of the memory limit are read in batches.
int64_t InMemoryBytes(const ImportOptions& o) {
  int64_t bytes = 0;
  for (const std::string& path : o.inputs) {
    auto size = FileSize(path);
    if (!size.ok()) continue;  // the read names the file
    const bool compressed = o.format == InputFormat::kParquet || HasSuffix(path, ".gz") || HasSuffix(path, ".zst");
    bytes += static_cast<int64_t>(*size) * (compressed ? 4 : 1);
  }
  return bytes;
}

// Adds one (prepared) import to `txn`; returns the rows read. `existing` is
// the table as the transaction has it so far (a release may change a table
// twice); quality gates compare with the version the transaction replaces.
absl::StatusOr<RowIndex> StageImport(Transaction* txn, const ImportOptions& o) {
  InputLineage lineage(o.inputs);
  const bool parquet = o.format == InputFormat::kParquet;
  const TableInfo* existing = txn->pending().FindTable(o.table);

  Schema schema;
  // A CSV schema inferred from a sample: which of its types are final (empty
  // when the schema is not such).
  std::vector<bool> settled;
  auto check_schema_change = [&](const Schema& schema) -> absl::Status {
    if (existing != nullptr && !(existing->schema == schema) && !o.allow_schema_change) {
      return absl::FailedPreconditionError(StrCat(
          "quality gate: the import changes the schema of table '", o.table,
          "'; pass --allow-schema-change if that is intended. Nothing was committed. The table is:\n",
          existing->schema.ToSql(o.table), "\nthe import's schema is:\n", schema.ToSql(o.table)));
    }
    return absl::OkStatus();
  };
  if (o.mode == ImportMode::kCreate || o.mode == ImportMode::kReplaceTable) {
    if (o.mode == ImportMode::kCreate && existing != nullptr) {
      return absl::AlreadyExistsError(StrCat(
          "table '", o.table, "' already exists in version ", txn->base().info.version,
          "; choose --mode replace-table, replace-partition or append"));
    }
    if (o.mode == ImportMode::kReplaceTable && existing == nullptr) {
      return absl::NotFoundError(StrCat("table '", o.table, "' does not exist; use --mode create"));
    }
    RETL_ASSIGN_OR_RETURN(schema, SchemaForNewTable(o, o.format == InputFormat::kCsv ? &settled : nullptr));
    // A schema from a sample is checked once the input is read.
    if (settled.empty()) RETL_RETURN_IF_ERROR(check_schema_change(schema));
  } else {
    if (existing == nullptr) {
      return absl::NotFoundError(StrCat("table '", o.table, "' does not exist; use --mode create"));
    }
    schema = existing->schema;
    if (!o.schema_file.empty()) {
      ImportOptions copy = o;
      copy.partition_by.reset();
      RETL_ASSIGN_OR_RETURN(Schema declared, SchemaForNewTable(copy));
      if (!(declared == schema)) {
        return absl::InvalidArgumentError(StrCat(
            o.schema_file, " does not match the schema of table '", o.table,
            "'; to change the schema, use --mode replace-table --allow-schema-change. The table is:\n",
            schema.ToSql(o.table)));
      }
    }
    for (const std::string& spec : o.indexes) {
      RETL_ASSIGN_OR_RETURN(IndexDef index, ParseIndexOption(schema, spec));
      const IndexDef* same = schema.FindIndex(index.name);
      if (same == nullptr || same->columns != index.columns) {
        return absl::InvalidArgumentError(StrCat(
            "table '", o.table, "' has no index '", index.name,
            "'; every partition of a table has the same indexes, so adding one needs "
            "--mode replace-table --allow-schema-change"));
      }
    }
    if (o.partition_by.has_value() &&
        (!schema.partition_column.has_value() ||
         schema.fields[*schema.partition_column].name != *o.partition_by)) {
      return absl::InvalidArgumentError(StrCat("table '", o.table, "' is not partitioned by '",
                                               *o.partition_by, "'"));
    }
  }

  RETL_ASSIGN_OR_RETURN(auto only_partition, ResolvePartition(schema, o.partition));
  if (only_partition.has_value() && o.mode == ImportMode::kReplaceTable) {
    return absl::InvalidArgumentError(
        "--partition goes with --mode replace-partition, append or create");
  }
  std::map<std::string, std::string> constants;
  if (only_partition.has_value() && only_partition->has_value()) {
    constants[schema.fields[*schema.partition_column].name] = **only_partition;
  }

  ProgressLine progress(o.progress);
  auto report = [&](int64_t done, int64_t total, RowIndex rows) { progress.Update(done, total, rows); };
  // Every row must belong to the one partition named, whatever the mode.
  auto check_partition = [&](const TableData& data) -> absl::Status {
    if (!only_partition.has_value()) return absl::OkStatus();
    const Column& pc = data.columns[*schema.partition_column];
    for (RowIndex r = 0; r < pc.size(); ++r) {
      std::optional<std::string> v;
      if (pc.IsValid(r)) v = ValueText(pc, r);
      if (v != *only_partition) {
        return absl::InvalidArgumentError(StrCat(
            data.describe_row(r), ": partition column '", schema.fields[*schema.partition_column].name,
            "' is ", v.has_value() ? StrCat("'", *v, "'") : "NULL",
            " but the import writes only partition ",
            only_partition->has_value() ? StrCat("'", **only_partition, "'") : "NULL"));
      }
    }
    return absl::OkStatus();
  };
  // Writes the rows of `data`, or of `feed`, as the mode says.
  auto write = [&](const TableData* data, const RowFeed* feed) -> absl::StatusOr<RowIndex> {
    if (data != nullptr) {
      switch (o.mode) {
        case ImportMode::kCreate: RETL_RETURN_IF_ERROR(txn->CreateTable(o.table, schema, *data)); break;
        case ImportMode::kReplaceTable: RETL_RETURN_IF_ERROR(txn->ReplaceTable(o.table, schema, *data)); break;
        case ImportMode::kReplacePartition:
          RETL_RETURN_IF_ERROR(txn->ReplacePartitions(o.table, *data, only_partition));
          break;
        case ImportMode::kAppend: RETL_RETURN_IF_ERROR(txn->Append(o.table, *data)); break;
      }
      return data->num_rows();
    }
    switch (o.mode) {
      case ImportMode::kCreate: return txn->CreateTable(o.table, schema, *feed);
      case ImportMode::kReplaceTable: return txn->ReplaceTable(o.table, schema, *feed);
      case ImportMode::kReplacePartition: return txn->ReplacePartitions(o.table, *feed, only_partition);
      case ImportMode::kAppend: return txn->Append(o.table, *feed);
    }
    return absl::InternalError("unknown import mode");
  };

  RowIndex rows = 0;
  const int64_t batch_bytes = BatchBytes(o.writer);
  if (o.format != InputFormat::kJsonl && InMemoryBytes(o) > batch_bytes) {
    // Larger than memory: read in batches, which the writer sorts into runs
    // spilled to disk. A CSV schema from a sample must then be final before
    // reading: columns the sample leaves open are inferred from all records.
    if (std::find(settled.begin(), settled.end(), false) != settled.end()) {
      RETL_ASSIGN_OR_RETURN(schema, SchemaForNewTable(o));
      settled.clear();
    }
    if (!settled.empty()) RETL_RETURN_IF_ERROR(check_schema_change(schema));
    progress.Note(StrCat("the input is larger than a quarter of the memory limit (", FormatBytes(batch_bytes),
                         "): sorting it in runs spilled to disk"));
    // Where a row came from, after its batch is gone: file and line (CSV) or
    // row (Parquet).
    constexpr int kFileShift = 40;
    constexpr uint64_t kLineMask = (uint64_t{1} << kFileShift) - 1;
    bool add_failed = false;
    RowFeed feed;
    auto add_checked = [&](const RowFeed::Add& add, TableData batch) -> absl::Status {
      absl::Status s = check_partition(batch);
      if (s.ok()) s = add(std::move(batch));
      add_failed = !s.ok();
      return s;
    };
    if (parquet) {
      feed.read = [&](const RowFeed::Add& add) {
        return ReadParquetBatches(o.inputs, schema.fields, constants, report, o.writer.threads, batch_bytes,
                                  [&](ParquetData batch) {
                                    auto source = std::make_shared<ParquetData>(std::move(batch));
                                    TableData data;
                                    data.columns = std::move(source->columns);
                                    const uint64_t file = static_cast<uint64_t>(source->batch_file);
                                    const uint64_t first = static_cast<uint64_t>(source->batch_first_row);
                                    data.origin = [file, first](RowIndex r) { return file << kFileShift | (first + r); };
                                    data.describe_row = [source](RowIndex r) { return source->Describe(r); };
                                    data.utf8_checked = true;  // by the reader
                                    return add_checked(add, std::move(data));
                                  });
      };
      feed.describe = [&](uint64_t origin) {
        return StrCat(o.inputs[origin >> kFileShift], ": row ", (origin & kLineMask) + 1);
      };
    } else {
      feed.read = [&](const RowFeed::Add& add) {
        return ReadCsvBatches(o.inputs, schema.fields, o.csv, constants, report, batch_bytes, [&](CsvData batch) {
          auto source = std::make_shared<CsvData>(std::move(batch));
          TableData data;
          data.columns = std::move(source->columns);
          data.origin = [source](RowIndex r) {
            return static_cast<uint64_t>(source->sources[r].file) << kFileShift | static_cast<uint64_t>(source->sources[r].line);
          };
          data.describe_row = [source](RowIndex r) { return source->Describe(r); };
          data.utf8_checked = true;  // by the reader
          return add_checked(add, std::move(data));
        });
      };
      feed.describe = [&](uint64_t origin) { return StrCat(o.inputs[origin >> kFileShift], ":", origin & kLineMask); };
    }
    // Whether the input failed to read (rather than the rows to write).
    bool read_failed = false;
    feed.read = [&, read = std::move(feed.read)](const RowFeed::Add& add) {
      absl::Status s = read(add);
      read_failed = !s.ok() && !add_failed;
      return s;
    };
    auto written = write(nullptr, &feed);
    if (!written.ok() && read_failed && !settled.empty()) {
      // A record the sampled types cannot read: the types of all records,
      // and the input read again.
      progress.Done();
      RETL_ASSIGN_OR_RETURN(schema, SchemaForNewTable(o));
      RETL_RETURN_IF_ERROR(check_schema_change(schema));
      written = write(nullptr, &feed);
    }
    progress.Done();
    RETL_ASSIGN_OR_RETURN(rows, std::move(written));
  } else {
    TableData data;
    std::optional<CsvData> csv;
    std::optional<ParquetData> pq;
    if (parquet) {
      RETL_ASSIGN_OR_RETURN(pq, ReadParquetFiles(o.inputs, schema.fields, constants, report, o.writer.threads));
      data.columns = std::move(pq->columns);
      const ParquetData* source = &*pq;
      data.describe_row = [source](RowIndex r) { return source->Describe(r); };
      data.utf8_checked = true;  // by the reader
    } else if (o.format == InputFormat::kJsonl) {
      RETL_ASSIGN_OR_RETURN(csv, ReadJsonlFiles(o.inputs, schema.fields, constants, report));
      data.columns = std::move(csv->columns);
      const CsvData* source = &*csv;
      data.describe_row = [source](RowIndex r) { return source->Describe(r); };
      data.utf8_checked = true;  // by the reader
    } else {
      // With types from a sample (`settled` not empty), unsettled columns are
      // read as text: when every record reads, the types are those all records
      // give; when one does not, the types come from all records and the input
      // is read again.
      std::vector<Field> read_fields = schema.fields;
      for (size_t k = 0; k < settled.size(); ++k) {
        if (!settled[k]) read_fields[k].type = DataType::Of(TypeId::kString);
      }
      auto read = ReadCsvFiles(o.inputs, read_fields, o.csv, constants, report);
      if (!settled.empty()) {
        if (read.ok()) {
          RETL_RETURN_IF_ERROR(SettleCsvColumns(settled, &schema.fields, &read->columns, o.csv.threads));
          RETL_RETURN_IF_ERROR(schema.Validate());
        } else {
          progress.Done();
          RETL_ASSIGN_OR_RETURN(schema, SchemaForNewTable(o));
          read = ReadCsvFiles(o.inputs, schema.fields, o.csv, constants, report);
        }
        RETL_RETURN_IF_ERROR(check_schema_change(schema));
      }
      RETL_ASSIGN_OR_RETURN(csv, std::move(read));
      data.columns = std::move(csv->columns);
      const CsvData* source = &*csv;
      data.describe_row = [source](RowIndex r) { return source->Describe(r); };
      data.utf8_checked = true;  // by the reader
    }
    progress.Done();
    RETL_RETURN_IF_ERROR(check_partition(data));
    progress.Note(StrCat("sorting, encoding and indexing ", WithCommas(data.num_rows()), " rows"));
    RETL_ASSIGN_OR_RETURN(rows, write(&data, nullptr));
  }
  RETL_RETURN_IF_ERROR(CheckQualityGates(o, txn->base().FindTable(o.table), txn->pending().FindTable(o.table)));
  if (!o.source.empty()) txn->SetSource(o.source);
  RETL_ASSIGN_OR_RETURN(std::vector<InputFileInfo> inputs, lineage.Wait());
  for (InputFileInfo& input : inputs) {
    input.table = o.table;
    txn->AddInput(std::move(input));
  }
  return rows;
}

}  // namespace

absl::StatusOr<ImportResult> RunImport(const ImportOptions& options) {
  RETL_ASSIGN_OR_RETURN(ImportOptions o, PrepareImport(options));
  // Lock first: the import then builds on the version it read its schema from.
  RETL_ASSIGN_OR_RETURN(auto writer, DatasetWriter::Open(o.dir, o.writer));
  RETL_ASSIGN_OR_RETURN(auto txn, writer->Begin("import"));
  ImportResult result;
  RETL_ASSIGN_OR_RETURN(result.rows, StageImport(txn.get(), o));
  result.summary = txn->Summary();
  RETL_ASSIGN_OR_RETURN(result.version, txn->Commit(o.message));
  return result;
}

absl::StatusOr<ImportResult> RunRelease(const std::string& dir, const std::vector<ReleaseStep>& steps,
                                        const std::string& message, const std::string& source,
                                        const WriterOptions& writer_options) {
  if (steps.empty()) return absl::InvalidArgumentError("the release lists no import");
  std::vector<ImportOptions> prepared;
  for (const ReleaseStep& step : steps) {
    auto o = PrepareImport(step.options);
    if (!o.ok()) return absl::Status(o.status().code(), StrCat(step.where, ": ", o.status().message()));
    o->dir = dir;
    o->csv.temp_dir = JoinPath(dir, kDataDir);
    o->writer.threads = o->csv.threads = writer_options.threads;
    o->writer.memory_limit = writer_options.memory_limit;
    prepared.push_back(*std::move(o));
  }
  RETL_ASSIGN_OR_RETURN(auto writer, DatasetWriter::Open(dir, writer_options));
  RETL_ASSIGN_OR_RETURN(auto txn, writer->Begin("release"));
  txn->SetSource(source);
  ImportResult result;
  for (size_t k = 0; k < prepared.size(); ++k) {
    auto rows = StageImport(txn.get(), prepared[k]);
    if (!rows.ok()) {
      return absl::Status(rows.status().code(), StrCat(steps[k].where, ": ", rows.status().message()));
    }
    result.rows += *rows;
  }
  result.summary = txn->Summary();
  RETL_ASSIGN_OR_RETURN(result.version, txn->Commit(message));
  return result;
}

absl::Status RunInit(const std::string& dir, std::ostream& out) {
  RETL_RETURN_IF_ERROR(DatasetWriter::Init(dir));
  out << "created dataset '" << dir << "' at version 1\n";
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ParseDuration(std::string_view text) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(StrCat("'", text, "' is not a duration: use a number and a unit, "
                                             "s, m, h, d or w (as in 90s, 12h, 7d)"));
  };
  if (text.size() < 2) return bad();
  int64_t unit;
  switch (text.back()) {
    case 's': unit = 1000000; break;
    case 'm': unit = 60LL * 1000000; break;
    case 'h': unit = 3600LL * 1000000; break;
    case 'd': unit = 86400LL * 1000000; break;
    case 'w': unit = 7 * 86400LL * 1000000; break;
    default: return bad();
  }
  int64_t n;
  if (!absl::SimpleAtoi(ToAbsl(text.substr(0, text.size() - 1)), &n) || n < 0) return bad();
  int64_t micros;
  if (__builtin_mul_overflow(n, unit, &micros)) return bad();
  return micros;
}

namespace {
std::string VersionList(const std::vector<int64_t>& v) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    parts.push_back(j == i ? StrCat(v[i]) : StrCat(v[i], "-", v[j]));
    i = j + 1;
  }
  return absl::StrJoin(parts, ", ");
}
}  // namespace

absl::Status RunGc(const std::string& dir, const GcOptions& options, std::ostream& out) {
  RETL_ASSIGN_OR_RETURN(GcReport r, CollectGarbage(dir, options));
  const std::string would = options.dry_run ? "would " : "";
  out << (options.dry_run ? "dry run: " : "");
  if (r.expired.empty()) {
    out << "no version to expire";
  } else {
    out << would << (options.dry_run ? "expire " : "expired ") << r.expired.size() << " version"
        << (r.expired.size() == 1 ? "" : "s") << " (" << VersionList(r.expired) << ")";
  }
  out << "; " << (options.dry_run ? "would remove " : "removed ") << r.files_removed << " file"
      << (r.files_removed == 1 ? "" : "s") << " (" << HumanBytes(r.bytes_removed) << ")\n";
  out << "retained versions: " << VersionList(r.retained);
  if (!r.kept_for_leases.empty()) {
    out << " (" << VersionList(r.kept_for_leases) << " only while a reader holds "
        << (r.kept_for_leases.size() == 1 ? "it" : "them") << ")";
  }
  out << "\n";
  if (r.stale_leases_removed > 0) {
    out << (options.dry_run ? "would remove " : "removed ") << r.stale_leases_removed
        << " expired reader lease" << (r.stale_leases_removed == 1 ? "" : "s") << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunShip(const std::string& src, const std::string& dest, const ShipOptions& options,
                     std::ostream& out) {
  RETL_ASSIGN_OR_RETURN(ShipReport r, ShipVersion(src, dest, options));
  if (r.already_live) {
    out << "'" << dest << "' is at version " << r.version << " already\n";
    return absl::OkStatus();
  }
  const int64_t files = r.files_linked + r.files_copied;
  out << "shipped version " << r.version << " to '" << dest << "': " << files << " file"
      << (files == 1 ? "" : "s") << " written (" << r.files_linked << " hard-linked, " << r.files_copied
      << " copied, " << HumanBytes(r.bytes_copied) << "), " << r.files_present << " already there\n";
  return absl::OkStatus();
}

absl::Status RunBackup(const std::string& src, const std::string& dest, bool restore, std::ostream& out) {
  if (restore && Dataset::Open(dest).ok()) {
    return absl::FailedPreconditionError(StrCat("'", dest, "' is a dataset already; restore into a new or empty "
                                                "directory, then swap the directories"));
  }
  RETL_ASSIGN_OR_RETURN(CopyReport r, CopyDataset(src, dest));
  if (!r.problems.empty()) {
    return absl::DataLossError(StrCat("the copy in '", dest, "' failed verification:\n  ",
                                      absl::StrJoin(r.problems, "\n  ")));
  }
  out << (restore ? "restored" : "backed up") << " versions " << VersionList(r.versions) << " of '" << src
      << "' to '" << dest << "': " << r.files_copied << " file" << (r.files_copied == 1 ? "" : "s") << " copied ("
      << HumanBytes(r.bytes_copied) << "), " << r.files_present << " already there; verified\n";
  return absl::OkStatus();
}

absl::Status RunCompact(const CompactOptions& o, std::ostream& out) {
  if (o.auto_min_segments < 2) return absl::InvalidArgumentError("--min-segments must be at least 2");
  RETL_ASSIGN_OR_RETURN(auto writer, DatasetWriter::Open(o.dir, o.writer));
  RETL_ASSIGN_OR_RETURN(auto txn, writer->Begin("compact"));
  const TableInfo* t = txn->base().FindTable(o.table);
  if (t == nullptr) return absl::NotFoundError(StrCat("table '", o.table, "' does not exist"));
  std::vector<std::optional<std::string>> targets;
  if (o.partition.given()) {
    RETL_ASSIGN_OR_RETURN(auto value, ResolvePartition(t->schema, o.partition));
    targets.push_back(*value);
  } else {
    for (const PartitionInfo& p : t->partitions) targets.push_back(p.value);
  }
  const int min_segments = o.automatic ? o.auto_min_segments : 2;
  int compacted = 0;
  for (const auto& value : targets) {
    RETL_ASSIGN_OR_RETURN(int before, txn->CompactPartition(o.table, value, o.target_rows, min_segments));
    compacted += before > 0;
  }
  if (compacted == 0) {
    out << "nothing to compact: no partition of '" << o.table << "' has " << min_segments
        << " or more segments\n";
    return absl::OkStatus();
  }
  std::string summary = txn->Summary();
  RETL_ASSIGN_OR_RETURN(int64_t version, txn->Commit(o.message));
  out << "committed version " << version << ": " << summary << "\n";
  return absl::OkStatus();
}

absl::Status RunRollback(const std::string& dir, int64_t to_version, const std::string& message,
                         const WriterOptions& writer_options, std::ostream& out) {
  RETL_ASSIGN_OR_RETURN(auto writer, DatasetWriter::Open(dir, writer_options));
  RETL_ASSIGN_OR_RETURN(auto txn, writer->Begin("rollback"));
  const int64_t live = txn->base().info.version;
  if (to_version == live) {
    return absl::InvalidArgumentError(StrCat("version ", to_version, " is the live version already"));
  }
  if (to_version < 1 || to_version > live) {
    return absl::NotFoundError(StrCat("version ", to_version, " does not exist (versions are 1 to ",
                                      live, "; see retl-build versions)"));
  }
  auto old = ReadManifest(dir, to_version);
  if (!old.ok()) {
    return absl::Status(old.status().code(), StrCat("version ", to_version, " cannot be restored: ",
                                                    old.status().message()));
  }
  RETL_RETURN_IF_ERROR(txn->RestoreTables(*old));
  std::string summary = txn->Summary();
  RETL_ASSIGN_OR_RETURN(int64_t version, txn->Commit(message));
  out << "committed version " << version << ": " << summary << "\n";
  return absl::OkStatus();
}

absl::Status RunDropPartition(const std::string& dir, const std::string& table,
                              const PartitionSelector& partition,
                              const std::string& message, const WriterOptions& writer_options,
                              std::ostream& out) {
  RETL_ASSIGN_OR_RETURN(auto writer, DatasetWriter::Open(dir, writer_options));
  RETL_ASSIGN_OR_RETURN(auto txn, writer->Begin("drop-partition"));
  const TableInfo* t = txn->base().FindTable(table);
  if (t == nullptr) return absl::NotFoundError(StrCat("table '", table, "' does not exist"));
  RETL_ASSIGN_OR_RETURN(auto value, ResolvePartition(t->schema, partition));
  if (!value.has_value() && t->partitioned()) {
    return absl::InvalidArgumentError("give --partition VALUE or --null-partition");
  }
  RETL_RETURN_IF_ERROR(txn->DropPartition(table, value.value_or(std::nullopt)));
  std::string summary = txn->Summary();
  RETL_ASSIGN_OR_RETURN(int64_t version, txn->Commit(message));
  out << "committed version " << version << ": " << summary << "\n";
  return absl::OkStatus();
}

absl::Status RunDropTable(const std::string& dir, const std::string& table,
                          const std::string& message, const WriterOptions& writer_options,
                          std::ostream& out) {
  RETL_ASSIGN_OR_RETURN(auto writer, DatasetWriter::Open(dir, writer_options));
  RETL_ASSIGN_OR_RETURN(auto txn, writer->Begin("drop-table"));
  RETL_RETURN_IF_ERROR(txn->DropTable(table));
  std::string summary = txn->Summary();
  RETL_ASSIGN_OR_RETURN(int64_t version, txn->Commit(message));
  out << "committed version " << version << ": " << summary << "\n";
  return absl::OkStatus();
}

absl::Status RunInfo(const std::string& dir, const VersionSelector& which, std::ostream& out) {
  RETL_ASSIGN_OR_RETURN(auto ds, Dataset::Open(dir));
  RETL_ASSIGN_OR_RETURN(auto snap, SelectSnapshot(*ds, which));
  RETL_ASSIGN_OR_RETURN(int64_t current, ds->CurrentVersion());
  const VersionInfo& v = snap->info();
  out << "dataset:  " << dir << "\n";
  out << "version:  " << v.version << (v.version == current ? " (live)" : " (not live; live is " + std::to_string(current) + ")")
      << ", committed " << FormatTime(v.commit_time_micros) << " by " << v.operation << "\n";
  if (!v.message.empty()) out << "message:  " << v.message << "\n";
  out << "tables:   " << snap->tables().size() << "\n";
  for (const TableInfo& t : snap->tables()) {
    const Schema& s = t.schema;
    int64_t segments = 0;
    for (const PartitionInfo& p : t.partitions) segments += static_cast<int64_t>(p.segments.size());
    out << "\ntable " << t.name << ": " << WithCommas(t.row_count()) << " rows, "
        << t.partitions.size() << " partition" << (t.partitions.size() == 1 ? "" : "s") << ", "
        << segments << " segment" << (segments == 1 ? "" : "s") << ", " << HumanBytes(t.bytes())
        << "\n";
    std::vector<std::string> key;
    for (int k : s.primary_key) key.push_back(s.fields[k].name);
    out << "  primary key:    " << absl::StrJoin(key, ", ") << "\n";
    if (s.partition_column.has_value()) {
      out << "  partitioned by: " << s.fields[*s.partition_column].name << "\n";
    }
    {
      uint64_t index_bytes = 0;
      int64_t indexed = 0, segs = 0;
      for (const PartitionInfo& p : t.partitions) {
        for (const SegmentInfo& info : p.segments) {
          ++segs;
          if (info.index.has_value()) {
            ++indexed;
            index_bytes += info.index->size;
          }
        }
      }
      std::vector<std::string> names = {"primary key"};
      for (const IndexDef& d : s.indexes) {
        std::vector<std::string> cols;
        for (int c : d.columns) cols.push_back(s.fields[c].name);
        names.push_back(StrCat(d.name, " (", absl::StrJoin(cols, ", "), ")"));
      }
      out << "  indexes:        " << absl::StrJoin(names, ", ") << "; index files "
          << HumanBytes(index_bytes)
          << (indexed == segs ? std::string()
                              : StrCat(" (", segs - indexed, " segment(s) written without indexes)"))
          << "\n";
    }
    out << "  created in version " << t.created_version << ", last changed in version "
        << t.modified_version << "\n";
    // Per column: encodings used (chunks per encoding) and bytes stored.
    std::vector<std::map<std::string, int64_t>> encodings(s.fields.size());
    std::vector<uint64_t> stored(s.fields.size(), 0);
    for (const PartitionInfo& p : t.partitions) {
      for (const SegmentInfo& info : p.segments) {
        auto seg = snap->segment(info);
        if (seg == nullptr) continue;
        for (const BlockInfo& b : seg->blocks()) {
          for (size_t c = 0; c < b.columns.size(); ++c) {
            const ChunkInfo& ch = b.columns[c];
            std::string name = EncodingName(ch.layout.encoding);
            if (ch.compression != Compression::kNone) name += "+zstd";
            ++encodings[c][name];
            stored[c] += ch.stored_length;
          }
        }
      }
    }
    size_t width = 6;
    for (const Field& f : s.fields) width = std::max(width, f.name.size());
    out << "  columns:\n";
    for (size_t c = 0; c < s.fields.size(); ++c) {
      const Field& f = s.fields[c];
      std::vector<std::string> encs;
      for (const auto& [name, count] : encodings[c]) encs.push_back(StrCat(name, " x", count));
      out << absl::StrFormat("    %-*s  %-15s %-9s %10s  %s\n", static_cast<int>(width), f.name,
                             f.type.ToString(), f.nullable ? "" : "NOT NULL",
                             HumanBytes(stored[c]), absl::StrJoin(encs, ", "));
    }
    if (s.partition_column.has_value() || t.partitions.size() > 1) {
      out << "  partitions:\n";
      for (const PartitionInfo& p : t.partitions) {
        out << absl::StrFormat("    %-24s %14s rows  %3d segment%s  %10s\n",
                               p.DisplayName(t.partitioned()), WithCommas(p.row_count()),
                               static_cast<int>(p.segments.size()),
                               p.segments.size() == 1 ? " " : "s", HumanBytes(p.bytes()));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status RunVersions(const std::string& dir, std::ostream& out) {
  RETL_ASSIGN_OR_RETURN(auto ds, Dataset::Open(dir));
  RETL_ASSIGN_OR_RETURN(auto versions, ds->Versions());
  RETL_ASSIGN_OR_RETURN(int64_t current, ds->CurrentVersion());
  out << absl::StrFormat("%-8s %-27s %-15s %s\n", "version", "committed (UTC)", "operation",
                         "changes / message");
  for (const VersionInfo& v : versions) {
    std::string when = absl::FormatTime("%Y-%m-%d %H:%M:%E6S", absl::FromUnixMicros(v.commit_time_micros),
                                        absl::UTCTimeZone());
    out << absl::StrFormat("%-8s %-27s %-15s %s\n",
                           StrCat(v.version, v.version == current ? "*" : ""), when, v.operation,
                           v.summary);
    if (!v.message.empty()) out << absl::StrFormat("%-8s %-27s %-15s message: %s\n", "", "", "", v.message);
    if (!v.source.empty()) out << absl::StrFormat("%-8s %-27s %-15s source: %s\n", "", "", "", v.source);
    for (const InputFileInfo& in : v.inputs) {
      out << absl::StrFormat("%-8s %-27s %-15s input: %s (%s, xxh64 %016x)\n", "", "", "", in.path,
                             HumanBytes(in.size), in.checksum);
    }
  }
  out << "(* = live version)\n";
  return absl::OkStatus();
}

absl::Status RunVerify(const std::string& dir, const VersionSelector& which, bool all_versions,
                       std::ostream& out) {
  RETL_ASSIGN_OR_RETURN(auto ds, Dataset::Open(dir));
  std::vector<int64_t> versions;
  if (all_versions) {
    RETL_ASSIGN_OR_RETURN(auto infos, ds->Versions());
    for (const VersionInfo& v : infos) versions.push_back(v.version);
  } else if (which.version.has_value() || which.as_of.has_value()) {
    RETL_ASSIGN_OR_RETURN(auto snap, SelectSnapshot(*ds, which));
    versions.push_back(snap->version());
  } else {
    RETL_ASSIGN_OR_RETURN(int64_t current, ds->CurrentVersion());
    versions.push_back(current);
  }
  int64_t bad = 0;
  for (int64_t version : versions) {
    RETL_ASSIGN_OR_RETURN(VerifyReport r, VerifyVersion(dir, version));
    if (r.ok()) {
      out << "version " << version << ": OK (" << r.tables << " tables, " << r.partitions
          << " partitions, " << r.segments << " segments, " << r.blocks << " blocks, "
          << WithCommas(r.rows) << " rows, " << HumanBytes(r.bytes) << " checked)\n";
    } else {
      ++bad;
      out << "version " << version << ": " << r.problems.size() << " problem"
          << (r.problems.size() == 1 ? "" : "s") << "\n";
      for (const std::string& p : r.problems) out << "  " << p << "\n";
    }
  }
  if (bad > 0) {
    return absl::DataLossError(StrCat(bad, " of ", versions.size(), " version",
                                      versions.size() == 1 ? "" : "s",
                                      " failed verification; restore the damaged files from a copy"));
  }
  return absl::OkStatus();
}

void AppendCsvField(std::string_view field, char delimiter, std::string* out) {
  bool quote = field.empty();
  for (char c : field) {
    if (c == delimiter || c == '"' || c == '\n' || c == '\r') {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

absl::Status RunDump(const std::string& dir, const VersionSelector& which,
                     const DumpOptions& options, std::ostream& out) {
  RETL_ASSIGN_OR_RETURN(auto ds, Dataset::Open(dir));
  RETL_ASSIGN_OR_RETURN(auto snap, SelectSnapshot(*ds, which));
  RETL_ASSIGN_OR_RETURN(const TableInfo* table, snap->GetTable(options.table));
  ScanOptions scan;
  scan.columns = options.columns;
  RETL_ASSIGN_OR_RETURN(scan.partition, ResolvePartition(table->schema, options.partition));
  std::string buf;
  if (options.header) {
    std::vector<std::string> names = options.columns;
    if (names.empty()) {
      for (const Field& f : table->schema.fields) names.push_back(f.name);
    }
    for (size_t i = 0; i < names.size(); ++i) {
      if (i > 0) buf.push_back(options.delimiter);
      AppendCsvField(names[i], options.delimiter, &buf);
    }
    buf.push_back('\n');
  }
  RowIndex remaining = options.limit.value_or(INT64_MAX);
  std::string text;
  absl::Status s = snap->Scan(table->name, scan, [&](const RowBatch& batch) -> absl::Status {
    for (RowIndex r = 0; r < batch.num_rows && remaining > 0; ++r, --remaining) {
      for (size_t c = 0; c < batch.columns.size(); ++c) {
        if (c > 0) buf.push_back(options.delimiter);
        const Column& col = batch.columns[c];
        if (!col.IsValid(r)) continue;  // NULL: empty unquoted field
        text.clear();
        AppendValueText(col, r, &text);
        AppendCsvField(text, options.delimiter, &buf);
      }
      buf.push_back('\n');
      if (buf.size() > (1 << 20)) {
        out << buf;
        buf.clear();
      }
    }
    return remaining > 0 ? absl::OkStatus() : absl::CancelledError("limit reached");
  });
  if (!s.ok() && !absl::IsCancelled(s)) return s;  // nothing more, not even the header
  out << buf;
  out.flush();
  if (!out) return absl::InternalError("cannot write the output");
  return absl::OkStatus();
}

}  // namespace retl
