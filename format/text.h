// Canonical text of values (FORMAT.md §4.2): the form `retl-build dump` writes,
// CSV import reads, and partition values are recorded in manifests. Parsing
// then formatting a value gives the canonical text; formatting then parsing
// gives the same value back, bit for bit.
//
//   BOOLEAN    true / false  (parse also accepts t/f, yes/no, y/n, 1/0, any case)
//   integers   decimal, optional sign; out of range is an error
//   FLOAT,     shortest text that round-trips (std::to_chars), "inf", "-inf",
//   DOUBLE     "nan"; parse accepts any decimal or exponent form, inf/infinity/nan
//   DECIMAL    unscaled integer rendered with exactly `scale` fraction digits,
//              e.g. DECIMAL(5,2) 1234 -> "12.34", -5 -> "-0.05"; parse rounds
//              extra fraction digits half away from zero and rejects values
//              with more than precision - scale integer digits
//   STRING     the bytes as they are (must be valid UTF-8)
//   BINARY     "\x" followed by lowercase hex (PostgreSQL bytea hex form)
//   DATE       YYYY-MM-DD, proleptic Gregorian, years 0001..9999
//   TIMESTAMP  YYYY-MM-DD HH:MM:SS[.ffffff] in UTC; the fraction is written
//              only when non-zero, with trailing zeros removed. Parse also
//              accepts a 'T' separator, 1..9 fraction digits (beyond 6
//              truncated), a trailing 'Z', a "+HH:MM"/"-HH:MM"/"+HHMM"/"+HH"
//              offset (converted to UTC; "+HH" is what PostgreSQL prints), and
//              a bare date (midnight). The result must lie in years 0001..9999
//              in UTC.
//
// Thread-safety: all functions are pure.
#ifndef RETL_FORMAT_TEXT_H_
#define RETL_FORMAT_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "retl/status.h"
#include "retl/types.h"

namespace retl {

// Appends the canonical text of valid row `row` of `column` to `out`.
void AppendValueText(const Column& column, RowIndex row, std::string* out);
std::string ValueText(const Column& column, RowIndex row);

// Parses `text` as a value of `column->type()` and appends it. On failure
// returns kInvalidArgument with a message such as
// "cannot parse 'abc' as DOUBLE" (the caller adds file, line and column) and
// leaves `column` unchanged.
absl::Status AppendParsedValue(std::string_view text, Column* column);

absl::StatusOr<bool> ParseBoolean(std::string_view text);
// Range-checked for `type` (TINYINT, SMALLINT, INT or BIGINT).
absl::StatusOr<int64_t> ParseInteger(std::string_view text, TypeId type);
absl::StatusOr<double> ParseDouble(std::string_view text);
// Returns the unscaled value of DECIMAL(precision, scale).
absl::StatusOr<int128> ParseDecimal(std::string_view text, int precision, int scale);
// Days since 1970-01-01.
absl::StatusOr<int32_t> ParseDate(std::string_view text);
// Microseconds since 1970-01-01 00:00:00 UTC.
absl::StatusOr<int64_t> ParseTimestamp(std::string_view text);
absl::StatusOr<std::string> ParseBinary(std::string_view text);

std::string FormatDecimal(int128 unscaled, int scale);
std::string FormatDate(int32_t days);
std::string FormatTimestamp(int64_t micros);
std::string FormatDouble(double value);
std::string FormatFloat(float value);  // shortest text that round-trips as binary32
std::string FormatBinary(std::string_view bytes);

// Appends `text` with \n, \r, \t, other control characters and DEL escaped
// (\xHH), so it stays on one line; with `escape_high`, bytes >= 0x80 too.
void AppendEscapedText(std::string_view text, bool escape_high, std::string* out);

// True if `bytes` is valid UTF-8 (no overlong forms, no surrogates).
bool IsValidUtf8(std::string_view bytes);

}  // namespace retl

#endif  // RETL_FORMAT_TEXT_H_
