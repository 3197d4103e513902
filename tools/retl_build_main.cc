// retl-build: builds and maintains rETL datasets offline. Parses flags and
// calls tools/build_commands.h; prints errors as "retl-build: error: ..." and
// exits 1 (2 for bad usage).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "format/strings.h"
#include "query/spill.h"
#include "tools/build_commands.h"

namespace {

int Fail(const absl::Status& status) {
  std::fflush(stdout);
  std::fprintf(stderr, "retl-build: error: %s\n", std::string(status.message()).c_str());
  return 1;
}

struct WriterFlags {
  bool wait = false;
  void Add(CLI::App* cmd) {
    cmd->add_flag("--wait", wait, "Wait for another writer to finish instead of failing");
  }
};

void AddThreadsOption(CLI::App* cmd, int* threads) {
  cmd->add_option("--threads", *threads,
                  "Threads for parsing, sorting, encoding and indexing (0: one per core); the files "
                  "written are the same for any number")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
}

void AddMemoryLimitOption(CLI::App* cmd, std::string* limit) {
  cmd->add_option("--memory-limit", *limit,
                  "Memory for the rows of one table (as 4GiB or 512MB; default: a quarter of physical "
                  "memory); larger inputs are sorted in runs spilled to disk")
      ->type_name("SIZE");
}

// Sets options->memory_limit from --memory-limit's text (empty: the default).
absl::Status ApplyMemoryLimit(const std::string& text, retl::WriterOptions* options) {
  if (text.empty()) return absl::OkStatus();
  auto bytes = retl::ParseByteSize(text);
  if (!bytes.ok()) return absl::InvalidArgumentError("--memory-limit: " + std::string(bytes.status().message()));
  if (*bytes < (int64_t{1} << 20)) {
    return absl::InvalidArgumentError("--memory-limit must be at least 1MiB, got '" + text + "'");
  }
  options->memory_limit = *bytes;
  return absl::OkStatus();
}

void AddVersionFlags(CLI::App* cmd, retl::VersionSelector* which) {
  cmd->add_option("--version", which->version, "Use this version instead of the live one");
  cmd->add_option("--as-of", which->as_of,
                  "Use the newest version committed at or before this time "
                  "(YYYY-MM-DD HH:MM:SS[.ffffff], UTC unless an offset is given)");
}

absl::Status ParseSingleChar(const std::string& flag, const std::string& text, char* out) {
  std::string t = text == "\\t" || text == "tab" ? "\t" : text;
  if (t.size() != 1) {
    return absl::InvalidArgumentError(retl::StrCat(flag, " must be a single character, got '", text, "'"));
  }
  *out = t[0];
  return absl::OkStatus();
}

// The options of one import: `retl-build import`'s flags, and the lines of a
// release SPEC (without DIR and without the flags a release sets once).
struct ImportFlags {
  retl::ImportOptions imp;
  std::string mode = "create", input_compression = "auto", delimiter = ",", compression = "none";
  std::string input_format = "auto", expect_rows, max_row_drop, memory_limit;
  std::vector<std::string> primary_key, types;
  WriterFlags writer;
  bool no_header = false, no_progress = false;
  CLI::App* app = nullptr;

  void Add(CLI::App* cmd, bool release_line) {
    app = cmd;
    cmd->add_option("--table", imp.table, "Table name")->required();
    cmd->add_option("--input", imp.inputs,
                    "Input files (.parquet, .jsonl, .csv; .gz/.zst for text), directories of them, or "
                    "glob patterns ('exports/*.parquet')")
        ->required()
        ->expected(1, -1);
    cmd->add_option("--format", input_format, "Input format: auto (by file name, else content) | csv | parquet | jsonl")
        ->capture_default_str();
    cmd->add_option("--schema", imp.schema_file, "File with a CREATE TABLE statement (default: infer from the data)");
    cmd->add_option("--primary-key", primary_key, "Primary key column(s), comma-separated")->delimiter(',');
    cmd->add_option("--index", imp.indexes,
                    "Build a secondary hash index on COLUMN[,COLUMN...] (repeatable); named "
                    "after its columns joined by '_'")
        ->expected(1)
        ->take_all();
    auto* pby = cmd->add_option("--partition-by", imp.partition_by, "Partition the table by this column");
    auto* ipart = cmd->add_option("--partition", imp.partition.value, "Write only the partition with this value")
                      ->excludes(pby);
    cmd->add_flag("--null-partition", imp.partition.null_partition,
                  "Write only the NULL partition (rows whose partition column is NULL)")
        ->excludes(pby)
        ->excludes(ipart);
    cmd->add_option("--mode", mode, "create | replace-table | replace-partition | append")->capture_default_str();
    cmd->add_option("--type", types, "Override an inferred type: COLUMN=TYPE (repeatable)");
    cmd->add_option("--delimiter", delimiter, "Field delimiter (one character; \\t for tab)")->capture_default_str();
    cmd->add_option("--null-marker", imp.csv.null_marker, "Unquoted text that means NULL (default: the empty field)");
    cmd->add_flag("--no-header", no_header, "Inputs have no header row; columns in schema order");
    cmd->add_option("--input-compression", input_compression, "auto | none | gzip | zstd")->capture_default_str();
    cmd->add_option("--expect-rows", expect_rows,
                    "Refuse to commit unless the table then has MIN..MAX rows (MIN.. or ..MAX)");
    cmd->add_option("--max-row-drop", max_row_drop,
                    "Refuse to commit if the table loses more than this share of its rows, as in 10%");
    cmd->add_flag("--allow-schema-change", imp.allow_schema_change, "Let --mode replace-table change the table's schema");
    if (release_line) return;  // the release gives these once
    cmd->add_option("--message", imp.message, "A note recorded in the version history");
    cmd->add_option("--compression", compression,
                    "Compress column chunks: none (every value addressable in place) | zstd")
        ->capture_default_str();
    cmd->add_option("--block-rows", imp.writer.block_rows, "Rows per block")->capture_default_str();
    AddThreadsOption(cmd, &imp.writer.threads);
    AddMemoryLimitOption(cmd, &memory_limit);
    cmd->add_flag("--no-progress", no_progress, "No progress line on a terminal");
    cmd->add_option("--source", imp.source, "A label recorded in the version's lineage, e.g. the warehouse export id");
    writer.Add(cmd);
  }

  absl::StatusOr<retl::ImportOptions> Finish() {
    RETL_ASSIGN_OR_RETURN(imp.mode, retl::ParseImportMode(mode));
    imp.primary_key = primary_key;
    for (const std::string& t : types) {
      size_t eq = t.find('=');
      if (eq == std::string::npos || eq == 0) {
        return absl::InvalidArgumentError("--type takes COLUMN=TYPE, got '" + t + "'");
      }
      imp.types[t.substr(0, eq)] = t.substr(eq + 1);
    }
    RETL_RETURN_IF_ERROR(ParseSingleChar("--delimiter", delimiter, &imp.csv.delimiter));
    imp.csv.header = !no_header;
    RETL_ASSIGN_OR_RETURN(imp.format, retl::ParseInputFormat(input_format));
    RETL_ASSIGN_OR_RETURN(imp.csv.compression, retl::ParseInputCompression(input_compression));
    if (compression != "none" && compression != "zstd") {
      return absl::InvalidArgumentError("--compression must be none or zstd, got '" + compression + "'");
    }
    imp.writer.zstd = compression == "zstd";
    imp.writer.wait_for_lock = writer.wait;
    RETL_RETURN_IF_ERROR(ApplyMemoryLimit(memory_limit, &imp.writer));
    imp.csv.threads = imp.writer.threads;
    imp.progress = !no_progress;
    if (!expect_rows.empty()) {
      RETL_RETURN_IF_ERROR(retl::ParseRowRange(expect_rows, &imp.expect_rows_min, &imp.expect_rows_max));
    }
    if (!max_row_drop.empty()) {
      RETL_ASSIGN_OR_RETURN(imp.max_row_drop, retl::ParsePercent(max_row_drop));
    }
    return imp;
  }
};

// Splits a SPEC line as a POSIX shell would split words: blanks separate,
// '...' quotes literally, "..." quotes with \" and \\ escapes, \ escapes a
// character outside quotes. An unterminated quote is an error.
absl::StatusOr<std::vector<std::string>> SplitWords(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(std::move(word)), word.clear(), in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      const size_t end = line.find('\'', i + 1);
      if (end == std::string_view::npos) return absl::InvalidArgumentError("unterminated ' quote");
      word.append(line.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size() && (line[j + 1] == '"' || line[j + 1] == '\\')) ++j;
        word += line[j];
      }
      if (j >= line.size()) return absl::InvalidArgumentError("unterminated \" quote");
      i = j;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
    } else {
      word += c;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

// The imports of a release SPEC file, one per logical line.
absl::StatusOr<std::vector<retl::ReleaseStep>> ReadReleaseSpec(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot open release spec '" + path + "'");
  std::vector<retl::ReleaseStep> steps;
  std::string line, logical;
  int number = 0, first = 0;
  while (std::getline(in, line)) {
    ++number;
    if (logical.empty()) first = number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const bool continued = !line.empty() && line.back() == '\\';
    if (continued) line.pop_back();
    logical += line;
    if (continued) {
      logical += ' ';
      continue;
    }
    std::string text = logical;
    logical.clear();
    const size_t start = text.find_first_not_of(" \t");
    if (start == std::string::npos || text[start] == '#') continue;
    const std::string where = path + ":" + std::to_string(first);
    auto words = SplitWords(text);
    if (!words.ok()) return absl::InvalidArgumentError(where + ": " + std::string(words.status().message()));
    CLI::App line_app{"release line"};
    ImportFlags flags;
    flags.Add(&line_app, /*release_line=*/true);
    std::vector<std::string> args(words->rbegin(), words->rend());  // CLI11 takes them reversed
    try {
      line_app.parse(args);
    } catch (const CLI::ParseError& e) {
      return absl::InvalidArgumentError(where + ": " + e.what() +
                                        " (a line holds the options of `retl-build import` without DIR; "
                                        "--message, --source, --compression and --block-rows go on the "
                                        "release command)");
    }
    auto options = flags.Finish();
    if (!options.ok()) return absl::InvalidArgumentError(where + ": " + std::string(options.status().message()));
    steps.push_back(retl::ReleaseStep{*std::move(options), where});
  }
  if (!logical.empty()) return absl::InvalidArgumentError(path + ": the last line ends with a \\ continuation");
  return steps;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"retl-build: build rETL DB datasets from warehouse exports (Parquet, CSV), offline."};
  app.require_subcommand(1);
  app.set_version_flag("--version-info", "retl-build 0.1.0 (format version 1)");

  // init
  std::string init_dir;
  auto* init = app.add_subcommand("init", "Create an empty dataset (version 1)");
  init->add_option("DIR", init_dir, "Dataset directory (must not exist or be empty)")->required();

  // import
  ImportFlags imp_flags;
  auto* import = app.add_subcommand("import", "Import CSV or Parquet files into a table as one new version");
  import->add_option("DIR", imp_flags.imp.dir, "Dataset directory")->required();
  imp_flags.Add(import, /*release_line=*/false);

  // release
  std::string rel_dir, rel_spec, rel_message, rel_source, rel_compression = "none";
  int64_t rel_block_rows = retl::WriterOptions{}.block_rows;
  WriterFlags rel_writer;
  auto* release = app.add_subcommand(
      "release", "Run several imports (one per line of SPEC) and commit them as one version");
  release->add_option("DIR", rel_dir, "Dataset directory")->required();
  release->add_option("SPEC", rel_spec,
                      "File with one import per line: the options of `retl-build import` without DIR "
                      "(# comments, quotes and trailing \\ continuations as in a shell)")
      ->required();
  release->add_option("--message", rel_message, "A note recorded in the version history");
  release->add_option("--source", rel_source, "A label recorded in the version's lineage");
  release->add_option("--compression", rel_compression, "none | zstd, for every table written")
      ->capture_default_str();
  release->add_option("--block-rows", rel_block_rows, "Rows per block")->capture_default_str();
  int rel_threads = 0;
  AddThreadsOption(release, &rel_threads);
  std::string rel_memory_limit;
  AddMemoryLimitOption(release, &rel_memory_limit);
  rel_writer.Add(release);

  // gc
  std::string gc_dir, gc_keep_for;
  retl::GcOptions gc_options;
  WriterFlags gc_writer;
  auto* gc = app.add_subcommand(
      "gc", "Expire old versions and remove the files no retained version needs");
  gc->add_option("DIR", gc_dir, "Dataset directory")->required();
  gc->add_option("--keep-versions", gc_options.keep_versions,
                 "Keep the K newest versions (the live one included)");
  gc->add_option("--keep-for", gc_keep_for,
                 "Keep versions committed within this duration (90s, 12h, 7d, 2w)");
  gc->add_flag("--dry-run", gc_options.dry_run, "Print what would be removed; remove nothing");
  gc_writer.Add(gc);

  // ship
  std::string ship_src, ship_dest;
  retl::ShipOptions ship_options;
  WriterFlags ship_writer;
  auto* ship = app.add_subcommand(
      "ship", "Copy a version to another dataset directory: data files, then manifest, then CURRENT");
  ship->add_option("DIR", ship_src, "Dataset directory to ship from")->required();
  ship->add_option("DEST", ship_dest, "Destination dataset directory (created if missing)")->required();
  ship->add_option("--version", ship_options.version, "Ship this version (default: the live one)");
  ship->add_flag("--copy", ship_options.copy, "Copy files even where hard links would do");
  ship_writer.Add(ship);

  // compact
  retl::CompactOptions cp;
  WriterFlags cp_writer;
  auto* compact = app.add_subcommand(
      "compact", "Merge a partition's segments (appends add one each) into target-sized ones, as a new version");
  compact->add_option("DIR", cp.dir, "Dataset directory")->required();
  compact->add_option("--table", cp.table, "Table name")->required();
  auto* cpart = compact->add_option("--partition", cp.partition.value, "Only this partition");
  compact->add_flag("--null-partition", cp.partition.null_partition, "Only the NULL partition")->excludes(cpart);
  compact->add_option("--target-rows", cp.target_rows, "Rows per segment written (at most)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  compact->add_flag("--auto", cp.automatic,
                    "Only partitions with at least --min-segments segments (default: any with 2 or more)");
  compact->add_option("--min-segments", cp.auto_min_segments, "The --auto threshold")->capture_default_str();
  compact->add_option("--message", cp.message, "A note recorded in the version history");
  AddThreadsOption(compact, &cp.writer.threads);
  cp_writer.Add(compact);

  // backup / restore
  std::string bk_src, bk_dest;
  auto* backup = app.add_subcommand(
      "backup", "Copy every retained version to DEST (online: imports may run), then verify the copy");
  backup->add_option("DIR", bk_src, "Dataset directory")->required();
  backup->add_option("DEST", bk_dest, "Backup directory: new, empty, or an earlier backup of DIR")->required();
  std::string rs_src, rs_dest;
  auto* restore = app.add_subcommand(
      "restore", "Copy a backup into a new dataset directory, then verify it");
  restore->add_option("BACKUP", rs_src, "Backup directory (made by retl-build backup)")->required();
  restore->add_option("DIR", rs_dest, "New dataset directory (must not be a dataset)")->required();

  // rollback
  std::string rb_dir, rb_message;
  int64_t rb_version = 0;
  WriterFlags rb_writer;
  auto* rollback = app.add_subcommand(
      "rollback", "Make the data of an earlier version live again, as a new version");
  rollback->add_option("DIR", rb_dir, "Dataset directory")->required();
  rollback->add_option("--to-version", rb_version, "The version whose tables become live")
      ->required();
  rollback->add_option("--message", rb_message, "A note recorded in the version history");
  rb_writer.Add(rollback);

  // drop-partition / drop-table
  std::string drop_dir, drop_table, drop_message;
  retl::PartitionSelector drop_partition;
  WriterFlags drop_writer;
  auto* drop_part = app.add_subcommand("drop-partition", "Drop one partition of a table");
  drop_part->add_option("DIR", drop_dir, "Dataset directory")->required();
  drop_part->add_option("--table", drop_table, "Table name")->required();
  auto* dpart = drop_part->add_option("--partition", drop_partition.value, "Partition value");
  drop_part->add_flag("--null-partition", drop_partition.null_partition,
                      "Drop the NULL partition")
      ->excludes(dpart);
  drop_part->add_option("--message", drop_message, "A note recorded in the version history");
  drop_writer.Add(drop_part);
  auto* drop_tab = app.add_subcommand("drop-table", "Drop a table");
  drop_tab->add_option("DIR", drop_dir, "Dataset directory")->required();
  drop_tab->add_option("--table", drop_table, "Table name")->required();
  drop_tab->add_option("--message", drop_message, "A note recorded in the version history");
  drop_writer.Add(drop_tab);

  // info / versions / verify / dump
  std::string read_dir;
  retl::VersionSelector which;
  auto* info = app.add_subcommand("info", "Tables, partitions, rows, bytes and encodings");
  info->add_option("DIR", read_dir, "Dataset directory")->required();
  AddVersionFlags(info, &which);
  auto* versions = app.add_subcommand("versions", "The history of versions");
  versions->add_option("DIR", read_dir, "Dataset directory")->required();
  bool verify_all = false;
  auto* verify = app.add_subcommand("verify", "Re-check every checksum and structure of a version");
  verify->add_option("DIR", read_dir, "Dataset directory")->required();
  AddVersionFlags(verify, &which);
  verify->add_flag("--all", verify_all, "Verify every retained version");
  retl::DumpOptions dump_opts;
  std::string dump_delimiter = ",", output;
  bool dump_no_header = false;
  auto* dump = app.add_subcommand("dump", "Print rows of a table or partition as CSV");
  dump->add_option("DIR", read_dir, "Dataset directory")->required();
  dump->add_option("--table", dump_opts.table, "Table name")->required();
  auto* dump_part = dump->add_option("--partition", dump_opts.partition.value,
                                     "Only the partition with this value");
  dump->add_flag("--null-partition", dump_opts.partition.null_partition, "Only the NULL partition")
      ->excludes(dump_part);
  dump->add_option("--columns", dump_opts.columns, "Only these columns, comma-separated")
      ->delimiter(',');
  dump->add_option("--limit", dump_opts.limit, "At most this many rows");
  dump->add_option("--delimiter", dump_delimiter, "Field delimiter")->capture_default_str();
  dump->add_flag("--no-header", dump_no_header, "Omit the header row");
  dump->add_option("--output", output, "Write to this file instead of standard output");
  AddVersionFlags(dump, &which);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  absl::Status status;
  if (*init) {
    status = retl::RunInit(init_dir, std::cout);
  } else if (*import) {
    auto imp = imp_flags.Finish();
    if (!imp.ok()) return Fail(imp.status());
    auto result = retl::RunImport(*imp);
    if (!result.ok()) return Fail(result.status());
    std::cout << "committed version " << result->version << ": " << result->summary << "\n";
  } else if (*release) {
    if (rel_compression != "none" && rel_compression != "zstd") {
      return Fail(absl::InvalidArgumentError("--compression must be none or zstd, got '" + rel_compression + "'"));
    }
    auto steps = ReadReleaseSpec(rel_spec);
    if (!steps.ok()) return Fail(steps.status());
    retl::WriterOptions w;
    w.wait_for_lock = rel_writer.wait;
    w.zstd = rel_compression == "zstd";
    w.block_rows = rel_block_rows;
    w.threads = rel_threads;
    if (absl::Status s = ApplyMemoryLimit(rel_memory_limit, &w); !s.ok()) return Fail(s);
    auto result = retl::RunRelease(rel_dir, *steps, rel_message, rel_source, w);
    if (!result.ok()) return Fail(result.status());
    std::cout << "committed version " << result->version << ": " << result->summary << "\n";
  } else if (*gc) {
    if (!gc_keep_for.empty()) {
      auto d = retl::ParseDuration(gc_keep_for);
      if (!d.ok()) return Fail(d.status());
      gc_options.keep_for_micros = *d;
    }
    gc_options.writer.wait_for_lock = gc_writer.wait;
    status = retl::RunGc(gc_dir, gc_options, std::cout);
  } else if (*ship) {
    ship_options.wait_for_lock = ship_writer.wait;
    status = retl::RunShip(ship_src, ship_dest, ship_options, std::cout);
  } else if (*compact) {
    cp.writer.wait_for_lock = cp_writer.wait;
    status = retl::RunCompact(cp, std::cout);
  } else if (*backup) {
    status = retl::RunBackup(bk_src, bk_dest, /*restore=*/false, std::cout);
  } else if (*restore) {
    status = retl::RunBackup(rs_src, rs_dest, /*restore=*/true, std::cout);
  } else if (*rollback) {
    retl::WriterOptions w;
    w.wait_for_lock = rb_writer.wait;
    status = retl::RunRollback(rb_dir, rb_version, rb_message, w, std::cout);
  } else if (*drop_part) {
    retl::WriterOptions w;
    w.wait_for_lock = drop_writer.wait;
    status = retl::RunDropPartition(drop_dir, drop_table, drop_partition, drop_message, w, std::cout);
  } else if (*drop_tab) {
    retl::WriterOptions w;
    w.wait_for_lock = drop_writer.wait;
    status = retl::RunDropTable(drop_dir, drop_table, drop_message, w, std::cout);
  } else if (*info) {
    status = retl::RunInfo(read_dir, which, std::cout);
  } else if (*versions) {
    status = retl::RunVersions(read_dir, std::cout);
  } else if (*verify) {
    status = retl::RunVerify(read_dir, which, verify_all, std::cout);
  } else if (*dump) {
    if (absl::Status s = ParseSingleChar("--delimiter", dump_delimiter, &dump_opts.delimiter); !s.ok()) {
      return Fail(s);
    }
    dump_opts.header = !dump_no_header;
    if (output.empty()) {
      std::ios::sync_with_stdio(false);
      status = retl::RunDump(read_dir, which, dump_opts, std::cout);
    } else {
      std::ofstream file(output, std::ios::binary | std::ios::trunc);
      if (!file) return Fail(absl::InternalError("cannot create '" + output + "'"));
      status = retl::RunDump(read_dir, which, dump_opts, file);
    }
  }
  if (!status.ok()) return Fail(status);
  return 0;
}
