#include "format/input_util.h"

#include "absl/strings/match.h"
#include "format/strings.h"
#include "format/text.h"

namespace retl {

int FindFieldByName(const std::vector<Field>& fields, std::string_view name) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string CaseSuggestion(const std::vector<Field>& fields, std::string_view name) {
  for (const Field& f : fields) {
    if (absl::EqualsIgnoreCase(ToAbsl(f.name), ToAbsl(name))) return StrCat(" (did you mean '", f.name, "'?)");
  }
  return "";
}

absl::Status ApplyTypeOverrides(const std::map<std::string, DataType>& overrides, std::vector<Field>* fields) {
  for (const auto& [name, type] : overrides) {
    const int f = FindFieldByName(*fields, name);
    if (f < 0) {
      return absl::InvalidArgumentError(
          StrCat("type given for unknown column '", name, "'", CaseSuggestion(*fields, name)));
    }
    absl::Status s = type.Validate();
    if (!s.ok()) return absl::InvalidArgumentError(StrCat("type given for column '", name, "': ", s.message()));
    (*fields)[f].type = type;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::optional<Column>>> ConstantColumns(
    const std::vector<Field>& fields, const std::map<std::string, std::string>& constants) {
  std::vector<std::optional<Column>> out(fields.size());
  for (const auto& [name, text] : constants) {
    const int f = FindFieldByName(fields, name);
    if (f < 0) {
      return absl::InvalidArgumentError(
          StrCat("constant for unknown column '", name, "'", CaseSuggestion(fields, name)));
    }
    Column column(fields[f].type);
    absl::Status s = AppendParsedValue(text, &column);
    if (!s.ok()) return absl::InvalidArgumentError(StrCat("constant for column '", name, "': ", s.message()));
    out[f] = std::move(column);
  }
  return out;
}

}  // namespace retl
