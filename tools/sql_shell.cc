#include "tools/sql_shell.h"

#include <editline/readline.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "format/strings.h"
#include "query/parser.h"

namespace retl {

namespace {

constexpr size_t kMaxCellWidth = 48;

std::string Elapsed(std::chrono::steady_clock::time_point t0) {
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  char buf[64];
  std::snprintf(buf, sizeof buf, "Time: %.3f ms", ms);
  return buf;
}

}  // namespace

namespace {

TextTable HeaderTable(const std::vector<std::string>& names, const std::vector<SqlType>& types) {
  TextTable t;
  for (size_t c = 0; c < names.size(); ++c) {
    Field f;
    f.name = names[c];
    f.type = types[c].ToData();
    t.fields.push_back(f);
    t.type_labels.push_back(absl::AsciiStrToLower(types[c].ToString()));
  }
  t.max_cell_width = kMaxCellWidth;
  return t;
}

void AppendRows(const Batch& b, size_t columns, TextTable* t) {
  for (size_t r = 0; r < b.size; ++r) {
    auto& row = t->rows.emplace_back(columns);
    for (size_t c = 0; c < columns; ++c) {
      if (b.columns[c].IsValid(r)) row[c] = ValueText(b.columns[c], r);
    }
  }
}

}  // namespace

TextTable ResultTable(const QueryResult& result) {
  TextTable t = HeaderTable(result.names, result.types);
  for (const Batch& b : result.batches) AppendRows(b, result.names.size(), &t);
  return t;
}

void PrintResult(const QueryResult& result, const ShellOptions& options, std::string* out) {
  if (result.kind == StatementKind::kExplain && options.format == OutputFormat::kTable) {
    for (const Batch& b : result.batches) {
      for (size_t r = 0; r < b.size; ++r) StrAppend(out, ValueText(b.columns[0], r), "\n");
    }
    return;
  }
  TextTable t = ResultTable(result);
  if (options.format != OutputFormat::kTable) t.type_labels.clear();
  FormatTextTable(t, options.format, out);
}

absl::Status RunStatements(QueryEngine* engine, std::string_view sql, const ShellOptions& options,
                           std::ostream& out, std::ostream& err) {
  RETL_ASSIGN_OR_RETURN(std::vector<Statement> statements, ParseStatements(sql));
  for (const Statement& st : statements) {
    auto t0 = std::chrono::steady_clock::now();
    // csv and jsonl rows are written batch by batch, so an export of a whole
    // table needs memory for one batch, not for the result.
    const bool stream = options.format == OutputFormat::kCsv || options.format == OutputFormat::kJsonl;
    TextTable header;
    ResultSink sink;
    sink.start = [&](const std::vector<std::string>& names, const std::vector<SqlType>& types) {
      header = HeaderTable(names, types);
      header.type_labels.clear();
      std::string buf;
      FormatTextTable(header, options.format, &buf);  // csv: the header row; jsonl: nothing
      out << buf;
      header.header = false;
      return absl::OkStatus();
    };
    sink.rows = [&](const Batch& b) {
      TextTable t = header;
      AppendRows(b, t.fields.size(), &t);
      std::string buf;
      FormatTextTable(t, options.format, &buf);
      out << buf;
      if (!out) return absl::InternalError("cannot write the output");
      return absl::OkStatus();
    };
    RETL_ASSIGN_OR_RETURN(QueryResult r, engine->Execute(st, {}, stream ? &sink : nullptr));
    std::string buf;
    if (!stream || st.kind != StatementKind::kSelect) PrintResult(r, options, &buf);
    out << buf;
    if (options.timer) {
      (options.format == OutputFormat::kTable ? out : err) << Elapsed(t0) << "\n";
    }
    out.flush();
    if (!out) return absl::InternalError("cannot write the output");
  }
  return absl::OkStatus();
}

namespace {

constexpr char kHelp[] =
    "Statements end with ';' and may span lines. SQL: SELECT ... FROM t [AS OF VERSION n |\n"
    "AS OF TIMESTAMP '...'] [WHERE] [GROUP BY] [HAVING] [ORDER BY] [LIMIT]; EXPLAIN [ANALYZE];\n"
    "SHOW TABLES; SHOW VERSIONS; DESCRIBE t. See docs/sql.md.\n"
    "\n"
    ".tables                 list the tables\n"
    ".schema TABLE           the table's CREATE TABLE statement\n"
    ".versions               the dataset's history\n"
    ".mode table|csv|json|jsonl   output format\n"
    ".timer on|off           print each statement's time\n"
    ".help                   this text\n"
    ".quit                   leave (also Ctrl-D)\n";

std::string HistoryPath() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return "";
  return std::string(home) + "/.retl_query_history";
}

void PrintError(const absl::Status& s) {
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s\n", std::string(s.message()).c_str());
}

// Runs one dot command; false for .quit.
bool DotCommand(QueryEngine* engine, const std::string& line, ShellOptions* options) {
  std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipWhitespace());
  const std::string cmd = words.empty() ? "" : words[0];
  auto run = [&](const std::string& sql) {
    absl::Status s = RunStatements(engine, sql, *options, std::cout, std::cerr);
    if (!s.ok()) PrintError(s);
  };
  if (cmd == ".quit" || cmd == ".exit" || cmd == ".q") return false;
  if (cmd == ".help") {
    std::fputs(kHelp, stdout);
  } else if (cmd == ".tables") {
    run("SHOW TABLES");
  } else if (cmd == ".versions") {
    run("SHOW VERSIONS");
  } else if (cmd == ".schema") {
    if (words.size() != 2) {
      std::fprintf(stderr, "usage: .schema TABLE\n");
      return true;
    }
    absl::StatusOr<std::shared_ptr<const Snapshot>> snap = engine->DefaultSnapshot();
    if (!snap.ok()) {
      PrintError(snap.status());
      return true;
    }
    absl::StatusOr<const TableInfo*> t = (*snap)->GetTable(words[1]);
    if (!t.ok()) {
      PrintError(t.status());
      return true;
    }
    std::printf("%s\n", (*t)->schema.ToSql((*t)->name).c_str());
  } else if (cmd == ".mode") {
    absl::StatusOr<OutputFormat> f = words.size() == 2 ? ParseOutputFormat(words[1])
                                                       : absl::InvalidArgumentError("usage: .mode table|csv|json|jsonl");
    if (!f.ok()) PrintError(f.status());
    else options->format = *f;
  } else if (cmd == ".timer") {
    if (words.size() == 2 && (words[1] == "on" || words[1] == "off")) options->timer = words[1] == "on";
    else std::fprintf(stderr, "usage: .timer on|off\n");
  } else {
    std::fprintf(stderr, "unknown command %s; .help lists the commands\n", cmd.c_str());
  }
  return true;
}

}  // namespace

int RunRepl(QueryEngine* engine, const std::string& dir, ShellOptions options) {
  const std::string history = HistoryPath();
  using_history();
  if (!history.empty()) read_history(history.c_str());
  absl::StatusOr<std::shared_ptr<const Snapshot>> snap = engine->DefaultSnapshot();
  std::printf("retl-query on %s (version %s). Statements end with ';'. .help for help.\n", dir.c_str(),
              snap.ok() ? StrCat((*snap)->version()).c_str() : "?");
  std::string pending;
  while (true) {
    char* raw = readline(pending.empty() ? "retl> " : "  ...> ");
    if (raw == nullptr) {
      std::printf("\n");
      break;
    }
    std::string line(raw);
    std::free(raw);
    std::string trimmed(absl::StripAsciiWhitespace(line));
    if (pending.empty() && trimmed.empty()) continue;
    if (pending.empty() && trimmed[0] == '.') {
      add_history(trimmed.c_str());
      if (!DotCommand(engine, trimmed, &options)) break;
      continue;
    }
    pending += line;
    pending += '\n';
    if (!EndsStatement(pending)) continue;
    std::string sql = std::move(pending);
    pending.clear();
    std::string entry(absl::StripAsciiWhitespace(sql));
    add_history(entry.c_str());
    absl::Status s = RunStatements(engine, sql, options, std::cout, std::cerr);
    if (!s.ok()) PrintError(s);
  }
  if (!history.empty()) {
    stifle_history(1000);
    write_history(history.c_str());
  }
  return 0;  // errors in an interactive session were shown; the session itself succeeded
}

}  // namespace retl
