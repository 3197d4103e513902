// Canonical text of values (FORMAT.md §4.2). See text.h for the grammar.
//
// The parsers here are on the CSV import hot path: they work on the bytes of
// the view without copying, build no strings on success, and only format an
// error message when they fail.
#include "format/text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

#include "format/strings.h"

namespace retl {

namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kSecondsPerDay = 86'400;
constexpr int64_t kMicrosPerDay = kSecondsPerDay * kMicrosPerSecond;
constexpr int kMinYear = 1;
constexpr int kMaxYear = 9999;
// Longest input echoed in an error message; longer text is cut with "...".
constexpr size_t kMaxQuotedText = 64;

}  // namespace

void AppendEscapedText(std::string_view text, bool escape_high, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n') {
      *out += "\\n";
    } else if (c == '\r') {
      *out += "\\r";
    } else if (c == '\t') {
      *out += "\\t";
    } else if (u < 0x20 || u == 0x7f || (u >= 0x80 && escape_high)) {
      *out += "\\x";
      *out += kHex[u >> 4];
      *out += kHex[u & 15];
    } else {
      *out += c;
    }
  }
}

namespace {

// The input as it appears in an error message: cut to kMaxQuotedText bytes,
// control characters escaped so the message stays on one line.
std::string QuoteForMessage(std::string_view text) {
  std::string out;
  bool cut = text.size() > kMaxQuotedText;
  if (cut) {
    size_t n = kMaxQuotedText - 3;
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // keep whole chars
    text = text.substr(0, n);
  }
  // Bytes of invalid UTF-8 are escaped too, so the message itself is valid.
  AppendEscapedText(text, /*escape_high=*/!IsValidUtf8(text), &out);
  if (cut) out += "...";
  return out;
}

absl::Status ParseError(std::string_view text, std::string_view type_name,
                        std::string_view reason = {}) {
  return absl::InvalidArgumentError(StrCat("cannot parse '", QuoteForMessage(text), "' as ",
                                           type_name, reason.empty() ? "" : ": ", reason));
}

absl::Status ParseError(std::string_view text, TypeId id, std::string_view reason = {}) {
  return ParseError(text, DataType::Of(id).ToString(), reason);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != b[i]) return false;  // `b` is lowercase
  }
  return true;
}

// Reads exactly `n` decimal digits at `p`; false if any is not a digit.
bool ReadFixedDigits(const char* p, int n, int* value) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (!IsDigit(p[i])) return false;
    v = v * 10 + (p[i] - '0');
  }
  *value = v;
  return true;
}

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil; exact for any year that fits).
constexpr int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                   // [0, 399]
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;                                      // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

constexpr int64_t kMinDateDays = DaysFromCivil(kMinYear, 1, 1);
constexpr int64_t kMaxDateDays = DaysFromCivil(kMaxYear, 12, 31);
constexpr int64_t kMinTimestampMicros = kMinDateDays * kMicrosPerDay;
constexpr int64_t kMaxTimestampMicros = (kMaxDateDays + 1) * kMicrosPerDay - 1;
static_assert(kMinDateDays == -719162 && kMaxDateDays == 2932896);

// Parses "YYYY-MM-DD" at the start of `text` (exactly 10 bytes) into days.
// Returns an empty reason on success.
std::string_view ParseDatePrefix(std::string_view text, int64_t* days) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return "expected YYYY-MM-DD";
  int y, m, d;
  if (!ReadFixedDigits(text.data(), 4, &y) || !ReadFixedDigits(text.data() + 5, 2, &m) ||
      !ReadFixedDigits(text.data() + 8, 2, &d)) {
    return "expected YYYY-MM-DD";
  }
  if (y < kMinYear) return "year must be 0001..9999";
  if (m < 1 || m > 12) return "no such month";
  if (d < 1 || d > DaysInMonth(y, m)) return "no such day";
  *days = DaysFromCivil(y, m, d);
  return {};
}

// Appends `v` zero-padded to `width` digits.
void AppendPadded(std::string* out, int64_t v, int width) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v < 0 ? -v : v);
  int len = static_cast<int>(end - buf);
  if (v < 0) out->push_back('-');
  for (int i = len; i < width; ++i) out->push_back('0');
  out->append(buf, len);
}

void AppendDate(std::string* out, int64_t days) {
  int64_t y;
  int m, d;
  CivilFromDays(days, &y, &m, &d);
  AppendPadded(out, y, 4);
  out->push_back('-');
  AppendPadded(out, m, 2);
  out->push_back('-');
  AppendPadded(out, d, 2);
}

template <typename T>
void AppendShortest(std::string* out, T value) {
  if (std::isnan(value)) {
    out->append("nan");
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out->append(buf, end - buf);
}

// Parses a FLOAT or DOUBLE. `T` decides the rounding, so a FLOAT is rounded
// once (from the text), not twice (text -> double -> float).
template <typename T>
absl::StatusOr<T> ParseFloating(std::string_view text, TypeId id) {
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    negative = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest.empty()) return ParseError(text, id);
  if (!IsDigit(rest[0]) && rest[0] != '.') {
    T special;
    if (EqualsIgnoreCase(rest, "inf") || EqualsIgnoreCase(rest, "infinity")) {
      special = std::numeric_limits<T>::infinity();
    } else if (EqualsIgnoreCase(rest, "nan")) {
      return std::numeric_limits<T>::quiet_NaN();  // one NaN: no sign, no payload
    } else {
      return ParseError(text, id);
    }
    return negative ? -special : special;
  }
  T value;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value,
                                   std::chars_format::general);
  if (ec == std::errc::result_out_of_range) return ParseError(text, id, "out of range");
  if (ec != std::errc() || end != rest.data() + rest.size()) return ParseError(text, id);
  return negative ? -value : value;
}

constexpr int128 Pow10(int n) {
  int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

struct Pow10Table {
  int128 v[kMaxDecimalPrecision + 1];
  constexpr Pow10Table() : v() {
    for (int i = 0; i <= kMaxDecimalPrecision; ++i) v[i] = Pow10(i);
  }
};
constexpr Pow10Table kPow10;

using uint128 = unsigned __int128;

// Appends the decimal digits of `v`.
void AppendUnsigned128(std::string* out, uint128 v) {
  if (v <= std::numeric_limits<uint64_t>::max()) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), static_cast<uint64_t>(v));
    out->append(buf, end - buf);
    return;
  }
  // Peel 19-digit chunks so that only two 128-bit divisions are needed.
  constexpr uint64_t kChunk = 10'000'000'000'000'000'000ULL;  // 10^19
  uint64_t low = static_cast<uint64_t>(v % kChunk);  // may exceed INT64_MAX
  AppendUnsigned128(out, v / kChunk);
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), low);
  out->append(19 - (end - buf), '0');
  out->append(buf, end - buf);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// ---- Parsing -------------------------------------------------------------------

absl::StatusOr<bool> ParseBoolean(std::string_view text) {
  switch (text.size()) {
    case 1:
      switch (LowerAscii(text[0])) {
        case 't': case 'y': case '1': return true;
        case 'f': case 'n': case '0': return false;
      }
      break;
    case 2:
      if (EqualsIgnoreCase(text, "no")) return false;
      break;
    case 3:
      if (EqualsIgnoreCase(text, "yes")) return true;
      break;
    case 4:
      if (EqualsIgnoreCase(text, "true")) return true;
      break;
    case 5:
      if (EqualsIgnoreCase(text, "false")) return false;
      break;
  }
  return ParseError(text, TypeId::kBoolean);
}

absl::StatusOr<int64_t> ParseInteger(std::string_view text, TypeId type) {
  uint64_t max_positive;
  switch (type) {
    case TypeId::kTinyInt: max_positive = std::numeric_limits<int8_t>::max(); break;
    case TypeId::kSmallInt: max_positive = std::numeric_limits<int16_t>::max(); break;
    case TypeId::kInt: max_positive = std::numeric_limits<int32_t>::max(); break;
    default:
      type = TypeId::kBigInt;
      max_positive = std::numeric_limits<int64_t>::max();
      break;
  }
  const char* p = text.data();
  const char* end = p + text.size();
  bool negative = false;
  if (p < end && (*p == '-' || *p == '+')) {
    negative = *p == '-';
    ++p;
  }
  if (p == end) return ParseError(text, type);
  // |min| is max + 1 in two's complement.
  const uint64_t limit = max_positive + (negative ? 1 : 0);
  uint64_t v = 0;
  bool overflow = false;
  for (; p < end; ++p) {
    unsigned digit = static_cast<unsigned char>(*p) - '0';
    if (digit > 9) return ParseError(text, type);
    if (v > (limit - digit) / 10) overflow = true;  // keep scanning for garbage
    v = v * 10 + digit;
  }
  if (overflow) return ParseError(text, type, "out of range");
  return negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

absl::StatusOr<double> ParseDouble(std::string_view text) {
  return ParseFloating<double>(text, TypeId::kDouble);
}

absl::StatusOr<int128> ParseDecimal(std::string_view text, int precision, int scale) {
  const DataType type = DataType::Decimal(precision, scale);
  if (precision < 1 || precision > kMaxDecimalPrecision || scale < 0 || scale > precision) {
    return type.Validate();  // the error saying which bound is broken
  }
  auto error = [&](std::string_view reason = {}) {
    return ParseError(text, type.ToString(), reason);
  };
  // Syntax: [sign] digits [. digits] [e [sign] digits], at least one mantissa
  // digit on either side of the point.
  const char* p = text.data();
  const char* end = p + text.size();
  bool negative = false;
  if (p < end && (*p == '-' || *p == '+')) {
    negative = *p == '-';
    ++p;
  }
  const char* int_begin = p;
  while (p < end && IsDigit(*p)) ++p;
  const char* int_end = p;
  const char* frac_begin = p;
  const char* frac_end = p;
  if (p < end && *p == '.') {
    frac_begin = ++p;
    while (p < end && IsDigit(*p)) ++p;
    frac_end = p;
  }
  const int64_t int_digits = int_end - int_begin;
  const int64_t frac_digits = frac_end - frac_begin;
  if (int_digits + frac_digits == 0) return error();
  int64_t exponent = 0;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    bool exp_negative = false;
    if (p < end && (*p == '-' || *p == '+')) {
      exp_negative = *p == '-';
      ++p;
    }
    if (p == end) return error();
    for (; p < end && IsDigit(*p); ++p) {
      // Saturate: any exponent this large over- or underflows every DECIMAL.
      if (exponent < 1'000'000) exponent = exponent * 10 + (*p - '0');
    }
    if (exp_negative) exponent = -exponent;
  }
  if (p != end) return error();

  // The mantissa digits D (integer then fraction digits) make the unscaled
  // value D * 10^shift; a negative shift drops digits, rounding half away
  // from zero on the first dropped one.
  const int64_t n = int_digits + frac_digits;
  const int64_t shift = scale + exponent - frac_digits;
  auto digit_at = [&](int64_t k) -> int {
    return k < int_digits ? int_begin[k] - '0' : frac_begin[k - int_digits] - '0';
  };
  const int64_t kept = shift >= 0 ? n : std::max<int64_t>(0, n + shift);
  // Kept digits accumulate in 64 bits while they fit (18 significant
  // digits), then in 128.
  const int64_t kept_int = std::min(kept, int_digits);
  const std::string_view ranges[2] = {std::string_view(int_begin, kept_int),
                                      std::string_view(frac_begin, kept - kept_int)};
  uint64_t small = 0;
  int128 big = 0;
  int significant = 0;
  for (std::string_view range : ranges) {
    for (char c : range) {
      unsigned digit = static_cast<unsigned>(c - '0');
      if (significant == 0 && digit == 0) continue;
      if (++significant > precision) {
        return error(StrCat("more than ", precision - scale, " integer digits"));
      }
      if (significant <= kMaxInt64DecimalPrecision) {
        small = small * 10 + digit;
      } else {
        if (significant == kMaxInt64DecimalPrecision + 1) big = small;
        big = big * 10 + digit;
      }
    }
  }
  int128 value = significant <= kMaxInt64DecimalPrecision ? int128(small) : big;
  if (shift > 0 && value != 0) {
    if (significant + shift > precision) {
      return error(StrCat("more than ", precision - scale, " integer digits"));
    }
    value *= kPow10.v[shift];
  }
  if (shift < 0 && n + shift >= 0 && digit_at(n + shift) >= 5) {
    ++value;
    if (value >= kPow10.v[precision]) {
      return error(StrCat("more than ", precision - scale, " integer digits"));
    }
  }
  return negative ? -value : value;
}

absl::StatusOr<int32_t> ParseDate(std::string_view text) {
  int64_t days;
  std::string_view reason = ParseDatePrefix(text, &days);
  if (!reason.empty()) return ParseError(text, TypeId::kDate, reason);
  if (text.size() != 10) return ParseError(text, TypeId::kDate, "expected YYYY-MM-DD");
  return static_cast<int32_t>(days);
}

absl::StatusOr<int64_t> ParseTimestamp(std::string_view text) {
  auto error = [&](std::string_view reason) {
    return ParseError(text, TypeId::kTimestamp, reason);
  };
  constexpr std::string_view kExpected = "expected YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]";
  int64_t days;
  std::string_view reason = ParseDatePrefix(text, &days);
  if (!reason.empty()) return error(reason);
  if (text.size() == 10) return days * kMicrosPerDay;  // a bare date: midnight
  // Time of day: [ T]HH:MM:SS
  if (text.size() < 19 || (text[10] != ' ' && text[10] != 'T' && text[10] != 't') ||
      text[13] != ':' || text[16] != ':') {
    return error(kExpected);
  }
  int hh, mm, ss;
  if (!ReadFixedDigits(text.data() + 11, 2, &hh) || !ReadFixedDigits(text.data() + 14, 2, &mm) ||
      !ReadFixedDigits(text.data() + 17, 2, &ss)) {
    return error(kExpected);
  }
  if (hh > 23 || mm > 59 || ss > 59) return error("no such time of day");
  size_t i = 19;
  int64_t fraction = 0;  // microseconds
  if (i < text.size() && text[i] == '.') {
    ++i;
    size_t begin = i;
    while (i < text.size() && IsDigit(text[i])) {
      if (i - begin < 6) fraction = fraction * 10 + (text[i] - '0');
      ++i;
    }
    size_t digits = i - begin;
    if (digits == 0 || digits > 9) return error("expected 1 to 9 fraction digits");
    for (size_t k = digits; k < 6; ++k) fraction *= 10;
  }
  // Zone: nothing (UTC), Z, or an offset +HH, +HH:MM, +HHMM.
  int64_t offset_seconds = 0;
  if (i < text.size()) {
    std::string_view zone = text.substr(i);
    if (zone == "Z" || zone == "z") {
      // UTC
    } else if (zone[0] == '+' || zone[0] == '-') {
      int oh = 0, om = 0;
      bool ok;
      switch (zone.size()) {
        case 3: ok = ReadFixedDigits(zone.data() + 1, 2, &oh); break;  // +HH
        case 5:  // +HHMM
          ok = ReadFixedDigits(zone.data() + 1, 2, &oh) && ReadFixedDigits(zone.data() + 3, 2, &om);
          break;
        case 6:  // +HH:MM
          ok = zone[3] == ':' && ReadFixedDigits(zone.data() + 1, 2, &oh) &&
               ReadFixedDigits(zone.data() + 4, 2, &om);
          break;
        default: ok = false;
      }
      if (!ok) return error("expected a zone offset +HH:MM");
      if (oh > 23 || om > 59) return error("zone offset out of range");
      offset_seconds = (oh * 3600 + om * 60) * (zone[0] == '-' ? -1 : 1);
    } else {
      return error(kExpected);
    }
  }
  // Local time minus its offset is UTC.
  int64_t micros = days * kMicrosPerDay +
                   (hh * 3600 + mm * 60 + ss - offset_seconds) * kMicrosPerSecond + fraction;
  if (micros < kMinTimestampMicros || micros > kMaxTimestampMicros) {
    return error("out of range (years 0001..9999 in UTC)");
  }
  return micros;
}

absl::StatusOr<std::string> ParseBinary(std::string_view text) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x') {
    return ParseError(text, TypeId::kBinary, "expected \\x followed by hex digits");
  }
  if (text.size() % 2 != 0) return ParseError(text, TypeId::kBinary, "odd number of hex digits");
  std::string out(text.size() / 2 - 1, '\0');
  for (size_t i = 2, o = 0; i < text.size(); i += 2, ++o) {
    int hi = HexValue(text[i]);
    int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) return ParseError(text, TypeId::kBinary, "not a hex digit");
    out[o] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

absl::Status AppendParsedValue(std::string_view text, Column* column) {
  const DataType& type = column->type();
  switch (type.id) {
    case TypeId::kBoolean: {
      RETL_ASSIGN_OR_RETURN(bool v, ParseBoolean(text));
      column->AppendBool(v);
      return absl::OkStatus();
    }
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kInt:
    case TypeId::kBigInt: {
      RETL_ASSIGN_OR_RETURN(int64_t v, ParseInteger(text, type.id));
      column->AppendInt(v);
      return absl::OkStatus();
    }
    case TypeId::kFloat: {
      RETL_ASSIGN_OR_RETURN(float v, ParseFloating<float>(text, TypeId::kFloat));
      column->AppendDouble(v);
      return absl::OkStatus();
    }
    case TypeId::kDouble: {
      RETL_ASSIGN_OR_RETURN(double v, ParseFloating<double>(text, TypeId::kDouble));
      column->AppendDouble(v);
      return absl::OkStatus();
    }
    case TypeId::kDecimal: {
      RETL_ASSIGN_OR_RETURN(int128 v, ParseDecimal(text, type.precision, type.scale));
      column->AppendInt128(v);
      return absl::OkStatus();
    }
    case TypeId::kString:
      if (!IsValidUtf8(text)) {
        return absl::InvalidArgumentError(StrCat("cannot parse '", QuoteForMessage(text),
                                                 "' as STRING: invalid UTF-8"));
      }
      column->AppendBytes(text);
      return absl::OkStatus();
    case TypeId::kBinary: {
      RETL_ASSIGN_OR_RETURN(std::string v, ParseBinary(text));
      column->AppendBytes(v);
      return absl::OkStatus();
    }
    case TypeId::kDate: {
      RETL_ASSIGN_OR_RETURN(int32_t v, ParseDate(text));
      column->AppendInt(v);
      return absl::OkStatus();
    }
    case TypeId::kTimestamp: {
      RETL_ASSIGN_OR_RETURN(int64_t v, ParseTimestamp(text));
      column->AppendInt(v);
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(StrCat("cannot parse values of type ", type.ToString()));
}

// ---- Formatting ----------------------------------------------------------------

std::string FormatDecimal(int128 unscaled, int scale) {
  std::string out;
  if (unscaled < 0) out.push_back('-');
  uint128 magnitude = unscaled < 0 ? uint128(0) - static_cast<uint128>(unscaled)
                                   : static_cast<uint128>(unscaled);
  std::string digits;
  AppendUnsigned128(&digits, magnitude);
  if (scale <= 0) return out + digits;
  if (digits.size() <= static_cast<size_t>(scale)) {
    digits.insert(0, scale + 1 - digits.size(), '0');
  }
  out.append(digits, 0, digits.size() - scale);
  out.push_back('.');
  out.append(digits, digits.size() - scale, std::string::npos);
  return out;
}

std::string FormatDate(int32_t days) {
  std::string out;
  AppendDate(&out, days);
  return out;
}

std::string FormatTimestamp(int64_t micros) {
  // Floor division, so times before 1970 get a positive time of day.
  int64_t days = micros / kMicrosPerDay;
  int64_t rem = micros % kMicrosPerDay;
  if (rem < 0) {
    --days;
    rem += kMicrosPerDay;
  }
  std::string out;
  AppendDate(&out, days);
  int64_t seconds = rem / kMicrosPerSecond;
  int64_t fraction = rem % kMicrosPerSecond;
  out.push_back(' ');
  AppendPadded(&out, seconds / 3600, 2);
  out.push_back(':');
  AppendPadded(&out, seconds / 60 % 60, 2);
  out.push_back(':');
  AppendPadded(&out, seconds % 60, 2);
  if (fraction != 0) {
    int digits = 6;
    while (fraction % 10 == 0) {
      fraction /= 10;
      --digits;
    }
    out.push_back('.');
    AppendPadded(&out, fraction, digits);
  }
  return out;
}

std::string FormatDouble(double value) {
  std::string out;
  AppendShortest(&out, value);
  return out;
}

std::string FormatFloat(float value) {
  std::string out;
  AppendShortest(&out, value);
  return out;
}

std::string FormatBinary(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 + 2 * bytes.size());
  out += "\\x";
  for (char c : bytes) {
    unsigned char u = static_cast<unsigned char>(c);
    out += kHex[u >> 4];
    out += kHex[u & 15];
  }
  return out;
}

void AppendValueText(const Column& column, RowIndex row, std::string* out) {
  const DataType& type = column.type();
  switch (type.id) {
    case TypeId::kBoolean:
      out->append(column.GetBool(row) ? "true" : "false");
      return;
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kInt:
    case TypeId::kBigInt: {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), column.GetInt(row));
      out->append(buf, end - buf);
      return;
    }
    case TypeId::kFloat:
      AppendShortest(out, static_cast<float>(column.GetDouble(row)));
      return;
    case TypeId::kDouble:
      AppendShortest(out, column.GetDouble(row));
      return;
    case TypeId::kDecimal:
      out->append(FormatDecimal(column.GetInt128(row), type.scale));
      return;
    case TypeId::kString: {
      std::string_view v = column.GetBytes(row);
      out->append(v.data(), v.size());
      return;
    }
    case TypeId::kBinary:
      out->append(FormatBinary(column.GetBytes(row)));
      return;
    case TypeId::kDate:
      AppendDate(out, column.GetInt(row));
      return;
    case TypeId::kTimestamp:
      out->append(FormatTimestamp(column.GetInt(row)));
      return;
  }
}

std::string ValueText(const Column& column, RowIndex row) {
  std::string out;
  AppendValueText(column, row, &out);
  return out;
}

bool IsValidUtf8(std::string_view bytes) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const unsigned char* end = p + bytes.size();
  while (p < end) {
    // ASCII fast path, eight bytes at a time.
    if (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c < 0xC2) {
      return false;  // a continuation byte, or an overlong 2-byte form
    } else if (c < 0xE0) {
      extra = 1;
    } else if (c < 0xF0) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
    } else if (c < 0xF5) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (int k = 2; k <= extra; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
    }
    p += extra + 1;
  }
  return true;
}

}  // namespace retl
