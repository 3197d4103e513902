// JSON Lines input for `retl-build import` (.jsonl, .ndjson, and their .gz /
// .zst forms): one JSON object per line, parsed with simdjson. Keys are
// matched to columns by exact name; a missing key or a JSON null is NULL.
// docs/import.md lists how JSON values become typed values.
//
// Errors name the file, the line (1-based) and the key:
// "events.jsonl:17: key 'ts': cannot parse 'yesterday' as TIMESTAMP".
//
// Thread-safety: functions are reentrant.
#ifndef RETL_FORMAT_JSONL_H_
#define RETL_FORMAT_JSONL_H_

#include <map>
#include <string>
#include <vector>

#include "format/csv.h"
#include "retl/status.h"
#include "retl/types.h"

namespace retl {

// Reads `paths` into columns of `fields` (rows described as "path:line").
// Every key of every object must be a field (else an error naming it); a
// field no object has is filled from `constants` when it has an entry, else
// it is NULL (an error for a NOT NULL field). Blank lines are skipped.
absl::StatusOr<CsvData> ReadJsonlFiles(const std::vector<std::string>& paths, const std::vector<Field>& fields,
                                       const std::map<std::string, std::string>& constants = {},
                                       const CsvProgress& progress = {});

// Fields for the keys of all objects, in order of first appearance, all
// nullable: BOOLEAN (only true/false), BIGINT (only integers), DOUBLE
// (numbers), DATE or TIMESTAMP (only strings that parse as one), else
// STRING (mixed kinds, other strings, nested objects and arrays kept as JSON
// text, or only nulls). `overrides` replaces the type of the named keys.
absl::StatusOr<std::vector<Field>> InferJsonlSchema(const std::vector<std::string>& paths,
                                                    const std::map<std::string, DataType>& overrides);

}  // namespace retl

#endif  // RETL_FORMAT_JSONL_H_
