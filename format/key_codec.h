// Normalized keys and the key hash (FORMAT.md §12.2): the byte form of a key
// that indexes hash, store in fences and compare. Comparing normalized keys
// bytewise is the key order of §3.3; equal keys have equal bytes.
//
// Thread-safety: functions are pure.
#ifndef RETL_FORMAT_KEY_CODEC_H_
#define RETL_FORMAT_KEY_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "retl/types.h"

namespace retl {

// One column of a normalized key, by physical type.
void AppendNormalizedInt(int64_t v, std::string* out);  // bool and int8..int64
void AppendNormalizedInt128(int128 v, std::string* out);
void AppendNormalizedDouble(double v, std::string* out);  // float widened
void AppendNormalizedBytes(std::string_view v, std::string* out);

// Appends the normalized form of valid row `row` of `column`.
void AppendNormalizedValue(const Column& column, RowIndex row, std::string* out);
// Appends the normalized key of `row`: the values of `key` (indices into
// `columns`) in order. False (and `out` unspecified) if one is NULL.
bool AppendNormalizedKey(const std::vector<Column>& columns, const std::vector<int>& key,
                         RowIndex row, std::string* out);

// XXH64 (seed 0) of a normalized key.
uint64_t KeyHash(std::string_view normalized);

}  // namespace retl

#endif  // RETL_FORMAT_KEY_CODEC_H_
