#include "tools/query_commands.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_join.h"
#include "format/strings.h"
#include "format/text.h"
#include "retl/dataset.h"
#include "retl/lookup.h"

namespace retl {

namespace {

// "the primary key (a, b) of table 't'" / "index 'email' (email) of table 't'".
std::string DescribeIndex(const Lookup& lookup, const LookupCommandOptions& options) {
  std::vector<std::string> names;
  for (const Field& f : lookup.key_fields()) names.push_back(f.name);
  return StrCat(options.index.empty() ? "the primary key" : StrCat("index '", options.index, "'"),
                " (", absl::StrJoin(names, ", "), ") of table '", lookup.table().name, "'");
}

bool IsNumeric(const DataType& type) {
  switch (type.id) {
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kInt:
    case TypeId::kBigInt:
    case TypeId::kFloat:
    case TypeId::kDouble:
    case TypeId::kDecimal: return true;
    default: return false;
  }
}

void AppendJsonValue(const DataType& type, const std::optional<std::string>& text,
                     std::string* out) {
  if (!text.has_value()) {
    out->append("null");
    return;
  }
  switch (type.id) {
    case TypeId::kBoolean:
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kInt:
    case TypeId::kBigInt: out->append(*text); return;
    case TypeId::kFloat:
    case TypeId::kDouble:
      // Canonical text of a finite value is a valid JSON number (1.5, -0,
      // 1e+10); inf, -inf and nan are not, so they become strings.
      if (*text == "inf" || *text == "-inf" || *text == "nan") {
        AppendJsonString(*text, out);
      } else {
        out->append(*text);
      }
      return;
    default: AppendJsonString(*text, out); return;
  }
}

void AppendJsonObject(const TextTable& t, size_t row, std::string* out) {
  out->push_back('{');
  for (size_t c = 0; c < t.fields.size(); ++c) {
    if (c > 0) out->push_back(',');
    AppendJsonString(t.fields[c].name, out);
    out->push_back(':');
    AppendJsonValue(t.fields[c].type, t.rows[row][c], out);
  }
  out->push_back('}');
}

// Text for a table cell: control characters escaped so a row stays one line.
std::string TableCell(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendEscapedText(text, /*escape_high=*/false, &out);
  return out;
}

// Display width: one per UTF-8 code point (wide East Asian characters are
// counted as one, so they misalign; the data is valid UTF-8).
size_t DisplayWidth(std::string_view text) {
  size_t n = 0;
  for (char ch : text) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

void AppendPadded(std::string_view text, size_t width, bool right, std::string* out) {
  size_t pad = width - std::min(width, DisplayWidth(text));
  if (right) out->append(pad, ' ');
  out->append(text);
  if (!right) out->append(pad, ' ');
}

// psql's aligned format: " a | b " cells, a "---+---" rule, "(N rows)".
void FormatTable(const TextTable& t, std::string* out) {
  const size_t n = t.fields.size();
  std::vector<std::vector<std::string>> cells(t.rows.size(), std::vector<std::string>(n));
  std::vector<size_t> width(n);
  std::vector<bool> right(n);
  for (size_t c = 0; c < n; ++c) {
    width[c] = DisplayWidth(TableCell(t.fields[c].name));
    right[c] = IsNumeric(t.fields[c].type);
  }
  const bool typed = t.type_labels.size() == n;
  for (size_t c = 0; c < n && typed; ++c) width[c] = std::max(width[c], DisplayWidth(t.type_labels[c]));
  for (size_t r = 0; r < t.rows.size(); ++r) {
    for (size_t c = 0; c < n; ++c) {
      cells[r][c] = t.rows[r][c].has_value() ? TableCell(*t.rows[r][c]) : "NULL";
      if (t.max_cell_width > 0 && DisplayWidth(cells[r][c]) > t.max_cell_width) {
        // Cut at a character boundary and mark the cut.
        std::string& cell = cells[r][c];
        size_t chars = 0, i = 0;
        while (i < cell.size() && chars + 1 < t.max_cell_width) {
          ++i;
          while (i < cell.size() && (static_cast<unsigned char>(cell[i]) & 0xC0) == 0x80) ++i;
          ++chars;
        }
        cell = cell.substr(0, i) + "\u2026";
      }
      width[c] = std::max(width[c], DisplayWidth(cells[r][c]));
    }
  }
  // Cells are " value " joined by '|'; the last one gets no padding after
  // its value, so lines carry no trailing blanks of ours.
  auto line = [&](const std::vector<std::string>& values, bool header) {
    for (size_t c = 0; c < n; ++c) {
      if (c > 0) out->push_back('|');
      out->push_back(' ');
      bool align_right = right[c] && !header;
      if (c + 1 == n && !align_right) {
        out->append(values[c]);
      } else {
        AppendPadded(values[c], width[c], align_right, out);
        if (c + 1 < n) out->push_back(' ');
      }
    }
    out->push_back('\n');
  };
  std::vector<std::string> names(n);
  for (size_t c = 0; c < n; ++c) names[c] = TableCell(t.fields[c].name);
  line(names, true);
  if (typed) line(t.type_labels, true);
  for (size_t c = 0; c < n; ++c) {
    if (c > 0) out->push_back('+');
    out->append(width[c] + 2, '-');
  }
  out->push_back('\n');
  for (const auto& row : cells) line(row, false);
  StrAppend(out, "(", t.rows.size(), t.rows.size() == 1 ? " row)\n" : " rows)\n");
}

void FormatCsv(const TextTable& t, std::string* out) {
  for (size_t c = 0; c < t.fields.size() && t.header; ++c) {
    if (c > 0) out->push_back(',');
    AppendCsvField(t.fields[c].name, ',', out);
  }
  if (t.header) out->push_back('\n');
  for (const auto& row : t.rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (c > 0) out->push_back(',');
      if (row[c].has_value()) AppendCsvField(*row[c], ',', out);  // NULL: empty, unquoted
    }
    out->push_back('\n');
  }
}

void FormatJson(const TextTable& t, bool lines, std::string* out) {
  if (lines) {
    for (size_t r = 0; r < t.rows.size(); ++r) {
      AppendJsonObject(t, r, out);
      out->push_back('\n');
    }
    return;
  }
  if (t.rows.empty()) {
    out->append("[]\n");
    return;
  }
  out->append("[\n");
  for (size_t r = 0; r < t.rows.size(); ++r) {
    AppendJsonObject(t, r, out);
    out->append(r + 1 < t.rows.size() ? ",\n" : "\n");
  }
  out->append("]\n");
}

}  // namespace

void FormatTextTable(const TextTable& t, OutputFormat format, std::string* out) {
  switch (format) {
    case OutputFormat::kTable: FormatTable(t, out); break;
    case OutputFormat::kCsv: FormatCsv(t, out); break;
    case OutputFormat::kJson: FormatJson(t, /*lines=*/false, out); break;
    case OutputFormat::kJsonl: FormatJson(t, /*lines=*/true, out); break;
  }
}

absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "json") return OutputFormat::kJson;
  if (name == "jsonl") return OutputFormat::kJsonl;
  return absl::InvalidArgumentError(
      StrCat("unknown --format '", name, "': expected table, csv, json or jsonl"));
}

absl::StatusOr<std::vector<std::string>> SplitKeyText(std::string_view text, int num_columns) {
  std::vector<std::string> parts;
  if (num_columns == 1) {
    parts.emplace_back(text);
    return parts;
  }
  size_t i = 0;
  while (true) {
    std::string part;
    if (i < text.size() && text[i] == '"') {
      size_t open = i++;
      while (true) {
        if (i >= text.size()) {
          return absl::InvalidArgumentError(
              StrCat("the quote at offset ", open, " is not closed (a quoted value ends with '\"', "
                     "a quote inside it is doubled: \"\")"));
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            part.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        part.push_back(text[i++]);
      }
      if (i < text.size() && text[i] != ',') {
        return absl::InvalidArgumentError(
            StrCat("unexpected text after the closing quote at offset ", i - 1,
                   " (a quoted value must be followed by ',' or the end of the key)"));
      }
    } else {
      size_t comma = text.find(',', i);
      size_t end = comma == std::string_view::npos ? text.size() : comma;
      part.assign(text.substr(i, end - i));
      i = end;
    }
    parts.push_back(std::move(part));
    if (i >= text.size()) break;
    ++i;  // the comma
  }
  if (static_cast<int>(parts.size()) != num_columns) {
    return absl::InvalidArgumentError(StrCat("expected ", num_columns,
                                             " comma-separated values, one per key column, found ",
                                             parts.size()));
  }
  return parts;
}

void AppendJsonString(std::string_view bytes, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char ch : bytes) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

absl::StatusOr<LookupCommandResult> RunLookup(const std::string& dir,
                                              const VersionSelector& which,
                                              const LookupCommandOptions& options,
                                              std::ostream& out) {
  if (options.keys.empty()) return absl::InvalidArgumentError("give at least one key to look up");
  RETL_ASSIGN_OR_RETURN(auto ds, Dataset::Open(dir));
  RETL_ASSIGN_OR_RETURN(auto snap, SelectSnapshot(*ds, which));
  LookupOptions lookup_options;
  lookup_options.columns = options.columns;
  lookup_options.index = options.index;
  RETL_ASSIGN_OR_RETURN(Lookup lookup, Lookup::Open(snap, options.table, lookup_options));

  const int num_key_columns = static_cast<int>(lookup.key_fields().size());
  TextTable text;
  text.fields = lookup.fields();
  LookupCommandResult result;
  std::vector<KeyValue> key;
  std::vector<RowView> rows;
  for (const std::string& key_text : options.keys) {
    auto parts = SplitKeyText(key_text, num_key_columns);
    if (!parts.ok()) {
      return Annotate(parts.status(),
                      StrCat("key '", key_text, "' for ", DescribeIndex(lookup, options), ": "));
    }
    key.clear();
    for (const std::string& part : *parts) key.push_back(KeyValue::Text(part));
    rows.clear();
    absl::Status s = lookup.Find(key, &rows);
    if (!s.ok()) return Annotate(s, StrCat("key '", key_text, "': "));
    if (rows.empty()) result.missing.push_back(key_text);
    for (const RowView& row : rows) {
      auto& values = text.rows.emplace_back(text.fields.size());
      for (int c = 0; c < static_cast<int>(text.fields.size()); ++c) {
        if (!row.IsNull(c)) values[c] = row.GetText(c);
      }
    }
  }
  result.rows = static_cast<RowIndex>(text.rows.size());

  std::string buf;
  FormatTextTable(text, options.format, &buf);
  out << buf;
  out.flush();
  if (!out) return absl::InternalError("cannot write the output");
  return result;
}

}  // namespace retl
