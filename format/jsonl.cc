#include "format/jsonl.h"

#include <simdjson.h>

#include <optional>
#include <string_view>

#include "format/input_util.h"
#include "format/strings.h"
#include "format/text.h"

namespace retl {

namespace {

namespace dom = simdjson::dom;

int FindField(const std::vector<Field>& fields, std::string_view name) { return FindFieldByName(fields, name); }

// Calls fn(line_number, object) for every non-blank line of the file; a line
// that is not a JSON object is an error naming it.
template <typename Fn>
absl::Status ForEachObject(const std::string& path, const std::string& text, dom::parser* parser, Fn&& fn) {
  // simdjson reads a few bytes past a document: one padded copy of the file
  // serves every line.
  const simdjson::padded_string padded(text);
  const char* base = padded.data();
  const size_t size = text.size();
  size_t pos = 0;
  int64_t line = 0;
  if (size >= 3 && std::string_view(base, 3) == "\xEF\xBB\xBF") pos = 3;  // UTF-8 byte-order mark
  while (pos < size) {
    ++line;
    size_t end = std::string_view(base, size).find('\n', pos);
    if (end == std::string_view::npos) end = size;
    size_t stop = end;
    if (stop > pos && base[stop - 1] == '\r') --stop;
    std::string_view content(base + pos, stop - pos);
    const size_t first = content.find_first_not_of(" \t");
    if (first != std::string_view::npos) {
      dom::element doc;
      auto error = parser->parse(content.data(), content.size(), /*realloc_if_needed=*/false).get(doc);
      if (error) {
        return absl::InvalidArgumentError(
            StrCat(path, ":", line, ": not valid JSON (", simdjson::error_message(error), ")"));
      }
      dom::object object;
      if (doc.get_object().get(object)) {
        return absl::InvalidArgumentError(StrCat(path, ":", line, ": expected a JSON object, one per line"));
      }
      RETL_RETURN_IF_ERROR(fn(line, object));
    }
    pos = end + 1;
  }
  return absl::OkStatus();
}

const char* KindName(dom::element_type t) {
  switch (t) {
    case dom::element_type::ARRAY: return "an array";
    case dom::element_type::OBJECT: return "an object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64: return "an integer";
    case dom::element_type::DOUBLE: return "a number";
    case dom::element_type::STRING: return "a string";
    case dom::element_type::BOOL: return "a boolean";
    case dom::element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

// Appends JSON value `v` to `column` (its field's type); an error message
// (without file and line) when it does not fit.
absl::Status AppendJson(const dom::element& v, Column* column) {
  const DataType& type = column->type();
  const dom::element_type kind = v.type();
  auto mismatch = [&](std::string_view hint = "") {
    return absl::InvalidArgumentError(StrCat("expected ", type.ToString(), ", found ", KindName(kind), hint));
  };
  switch (kind) {
    case dom::element_type::NULL_VALUE: column->AppendNull(); return absl::OkStatus();
    case dom::element_type::BOOL: {
      const bool b = v.get_bool().value_unsafe();
      if (type.id == TypeId::kBoolean) {
        column->AppendBool(b);
        return absl::OkStatus();
      }
      if (type.id == TypeId::kString) {
        column->AppendBytes(b ? "true" : "false");
        return absl::OkStatus();
      }
      return mismatch();
    }
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: {
      std::string text;
      if (kind == dom::element_type::INT64) {
        text = StrCat(v.get_int64().value_unsafe());
      } else if (kind == dom::element_type::UINT64) {
        text = StrCat(v.get_uint64().value_unsafe());
      } else {
        text = FormatDouble(v.get_double().value_unsafe());
      }
      if (type.id == TypeId::kDate || type.id == TypeId::kTimestamp) {
        return mismatch("; give dates and timestamps as strings (\"2024-01-31\", \"2024-01-31 12:00:00\")");
      }
      if (type.id == TypeId::kBoolean) return mismatch();
      if (type.physical() == PhysicalType::kBytes) {
        column->AppendBytes(text);
        return absl::OkStatus();
      }
      // Numbers parse as the column's type: range, integrality and DECIMAL
      // scale are checked as for any canonical text.
      return AppendParsedValue(text, column);
    }
    case dom::element_type::STRING: {
      const std::string_view s = v.get_string().value_unsafe();
      if (type.id == TypeId::kString) {
        column->AppendBytes(s);  // simdjson checked the UTF-8
        return absl::OkStatus();
      }
      return AppendParsedValue(s, column);
    }
    case dom::element_type::ARRAY:
    case dom::element_type::OBJECT:
      if (type.id == TypeId::kString) {
        column->AppendBytes(simdjson::minify(v));
        return absl::OkStatus();
      }
      return mismatch("; nested values go into STRING columns as JSON text");
  }
  return mismatch();
}

// What the values of one key have been so far, for inference.
struct Guess {
  bool any = false, booleans = false, integers = false, doubles = false, strings = false, nested = false;
  bool all_dates = true, all_timestamps = true;
  DataType Type() const {
    const int kinds = booleans + (integers || doubles) + strings + nested;
    if (!any || kinds != 1) return DataType::Of(TypeId::kString);
    if (booleans) return DataType::Of(TypeId::kBoolean);
    if (integers && !doubles) return DataType::Of(TypeId::kBigInt);
    if (integers || doubles) return DataType::Of(TypeId::kDouble);
    if (strings && all_dates) return DataType::Of(TypeId::kDate);
    if (strings && all_timestamps) return DataType::Of(TypeId::kTimestamp);
    return DataType::Of(TypeId::kString);
  }
};

}  // namespace

absl::StatusOr<CsvData> ReadJsonlFiles(const std::vector<std::string>& paths, const std::vector<Field>& fields,
                                       const std::map<std::string, std::string>& constants,
                                       const CsvProgress& progress) {
  RETL_ASSIGN_OR_RETURN(std::vector<std::optional<Column>> constant_columns, ConstantColumns(fields, constants));
  CsvData data;
  data.paths = paths;
  for (const Field& f : fields) data.columns.emplace_back(f.type);
  dom::parser parser;
  std::vector<char> seen(fields.size());
  int64_t done = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    RETL_ASSIGN_OR_RETURN(std::string text, ReadInputFile(paths[i], InputCompression::kAuto));
    RETL_RETURN_IF_ERROR(ForEachObject(paths[i], text, &parser, [&](int64_t line, dom::object object) {
      std::fill(seen.begin(), seen.end(), 0);
      const size_t row = data.sources.size();
      for (dom::key_value_pair kv : object) {
        const int f = FindField(fields, kv.key);
        if (f < 0) {
          return absl::InvalidArgumentError(StrCat(paths[i], ":", line, ": key '", kv.key,
                                                   "' is not a column of the table", CaseSuggestion(fields, kv.key)));
        }
        if (seen[f]) {
          return absl::InvalidArgumentError(StrCat(paths[i], ":", line, ": key '", kv.key, "' appears twice"));
        }
        seen[f] = 1;
        Column& column = data.columns[f];
        absl::Status s = AppendJson(kv.value, &column);
        if (!s.ok()) return absl::InvalidArgumentError(StrCat(paths[i], ":", line, ": key '", kv.key, "': ", s.message()));
      }
      for (size_t f = 0; f < fields.size(); ++f) {
        if (!seen[f]) {
          if (constant_columns[f].has_value()) {
            data.columns[f].AppendFrom(*constant_columns[f], 0);
          } else {
            data.columns[f].AppendNull();
          }
        }
        if (!fields[f].nullable && !data.columns[f].IsValid(static_cast<RowIndex>(row))) {
          return absl::InvalidArgumentError(StrCat(paths[i], ":", line, ": key '", fields[f].name, "' is ",
                                                   seen[f] ? "null" : "missing", " but the column is NOT NULL"));
        }
      }
      data.sources.push_back(RowSource{static_cast<int>(i), line});
      return absl::OkStatus();
    }));
    done += static_cast<int64_t>(text.size());
    if (progress) progress(done, done, data.num_rows());
  }
  return data;
}

absl::StatusOr<std::vector<Field>> InferJsonlSchema(const std::vector<std::string>& paths,
                                                    const std::map<std::string, DataType>& overrides) {
  if (paths.empty()) return absl::InvalidArgumentError("no input files to infer a schema from");
  std::vector<std::string> names;
  std::vector<Guess> guesses;
  dom::parser parser;
  for (const std::string& path : paths) {
    RETL_ASSIGN_OR_RETURN(std::string text, ReadInputFile(path, InputCompression::kAuto));
    RETL_RETURN_IF_ERROR(ForEachObject(path, text, &parser, [&](int64_t, dom::object object) {
      for (dom::key_value_pair kv : object) {
        size_t k = std::find(names.begin(), names.end(), kv.key) - names.begin();
        if (k == names.size()) {
          names.emplace_back(kv.key);
          guesses.emplace_back();
        }
        Guess& g = guesses[k];
        switch (kv.value.type()) {
          case dom::element_type::NULL_VALUE: continue;
          case dom::element_type::BOOL: g.booleans = true; break;
          case dom::element_type::INT64: g.integers = true; break;
          case dom::element_type::UINT64:
          case dom::element_type::DOUBLE: g.doubles = true; break;
          case dom::element_type::STRING: {
            g.strings = true;
            const std::string_view s = kv.value.get_string().value_unsafe();
            if (g.all_dates && !ParseDate(s).ok()) g.all_dates = false;
            if (g.all_timestamps && !ParseTimestamp(s).ok()) g.all_timestamps = false;
            break;
          }
          case dom::element_type::ARRAY:
          case dom::element_type::OBJECT: g.nested = true; break;
        }
        g.any = true;
      }
      return absl::OkStatus();
    }));
  }
  if (names.empty()) return absl::InvalidArgumentError("cannot infer a schema: the input has no objects with keys");
  std::vector<Field> fields;
  for (size_t k = 0; k < names.size(); ++k) fields.push_back(Field{names[k], guesses[k].Type(), true});
  RETL_RETURN_IF_ERROR(ApplyTypeOverrides(overrides, &fields));
  return fields;
}

}  // namespace retl
