// Helpers shared by the import readers (CSV, Parquet, JSON Lines): target
// fields by name, type overrides for inferred schemas, and constant columns.
#ifndef RETL_FORMAT_INPUT_UTIL_H_
#define RETL_FORMAT_INPUT_UTIL_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "retl/status.h"
#include "retl/types.h"

namespace retl {

// Index of the field named `name` (exact match), or -1.
int FindFieldByName(const std::vector<Field>& fields, std::string_view name);

// " (did you mean 'Name'?)" when a field's name differs from `name` only in
// case, else "".
std::string CaseSuggestion(const std::vector<Field>& fields, std::string_view name);

// Replaces the types of the named fields (`--type NAME=TYPE`); an unknown
// name or an invalid type is an error naming it.
absl::Status ApplyTypeOverrides(const std::map<std::string, DataType>& overrides, std::vector<Field>* fields);

// One single-row column per field that has a constant (canonical text);
// nullopt for the others. An unknown name or a value that does not parse is
// an error naming the column.
absl::StatusOr<std::vector<std::optional<Column>>> ConstantColumns(
    const std::vector<Field>& fields, const std::map<std::string, std::string>& constants);

}  // namespace retl

#endif  // RETL_FORMAT_INPUT_UTIL_H_
