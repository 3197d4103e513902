#include "query/expr.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "format/strings.h"
#include "format/text.h"

namespace retl {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;
// DATE and TIMESTAMP range (FORMAT.md §4): years 0001..9999.
constexpr int64_t kMinDays = -719162;  // 0001-01-01
constexpr int64_t kMaxDays = 2932896;  // 9999-12-31

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

const char* RangeName(SqlKind k) {
  switch (k) {
    case SqlKind::kTinyInt: return "tinyint out of range";
    case SqlKind::kSmallInt: return "smallint out of range";
    case SqlKind::kInt: return "integer out of range";
    default: return "bigint out of range";
  }
}

void IntRange(SqlKind k, int64_t* lo, int64_t* hi) {
  switch (k) {
    case SqlKind::kTinyInt: *lo = INT8_MIN; *hi = INT8_MAX; return;
    case SqlKind::kSmallInt: *lo = INT16_MIN; *hi = INT16_MAX; return;
    case SqlKind::kInt: *lo = INT32_MIN; *hi = INT32_MAX; return;
    case SqlKind::kBoolean: *lo = 0; *hi = 1; return;
    default: *lo = INT64_MIN; *hi = INT64_MAX; return;
  }
}

int IntRank(SqlKind k) {
  switch (k) {
    case SqlKind::kTinyInt: return 1;
    case SqlKind::kSmallInt: return 2;
    case SqlKind::kInt: return 3;
    case SqlKind::kBigInt: return 4;
    default: return 0;
  }
}

// Digits an integer type needs as a DECIMAL.
int IntDigits(SqlKind k) {
  switch (k) {
    case SqlKind::kTinyInt: return 3;
    case SqlKind::kSmallInt: return 5;
    case SqlKind::kInt: return 10;
    default: return 19;
  }
}

int128 Unscaled(const Vector& v, size_t i) {
  return v.type.storage() == Storage::kInt128 ? v.i128[i] : int128{v.i64[i]};
}
void SetUnscaled(Vector* v, size_t i, int128 x) {
  if (v->type.storage() == Storage::kInt128) v->i128[i] = x;
  else v->i64[i] = static_cast<int64_t>(x);
}
bool FitsPrecision(int128 x, int precision) {
  int128 limit = Pow10(precision);
  return x < limit && x > -limit;
}
// x / 10^n rounded half away from zero.
int128 RoundDiv(int128 x, int128 d) {
  int128 q = x / d, r = x % d;
  if (r < 0) r = -r;
  if (2 * r >= d) q += x < 0 ? -1 : 1;
  return q;
}

void AndValid(const std::vector<const Vector*>& args, size_t n, Vector* out) {
  for (const Vector* a : args) {
    const uint8_t* v = a->valid.data();
    uint8_t* o = out->valid.data();
    for (size_t i = 0; i < n; ++i) o[i] &= v[i];
  }
}

// Three-way comparisons in SQL's total orders (NaN above every number and
// equal to itself, as PostgreSQL orders floats).
inline int Cmp3(int64_t a, int64_t b) { return (a > b) - (a < b); }
inline int Cmp3(int128 a, int128 b) { return (a > b) - (a < b); }
inline int Cmp3(double a, double b) {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a == b) return 0;
  bool na = std::isnan(a), nb = std::isnan(b);
  return na == nb ? 0 : (na ? 1 : -1);
}
inline int Cmp3(std::string_view a, std::string_view b) {
  int c = a.compare(b);
  return (c > 0) - (c < 0);
}
inline int128 IntervalKey(const Interval& v) {
  return (int128{v.months} * 30 + v.days) * kMicrosPerDay + v.micros;
}
inline int Cmp3(const Interval& a, const Interval& b) { return Cmp3(IntervalKey(a), IntervalKey(b)); }

using Kernel = std::function<absl::Status(const std::vector<const Vector*>& args, size_t n, Vector* out)>;

// ---------------------------------------------------------------------------
// Nodes

class ColumnRef final : public Expr {
 public:
  ColumnRef(int index, SqlType t, std::string name) : Expr(t), index_(index), name_(std::move(name)) {}
  absl::Status Eval(const Batch& in, const Vector** result) override {
    *result = &in.columns[index_];
    return absl::OkStatus();
  }
  std::string ToString() const override { return name_; }
  int column_index() const override { return index_; }

 private:
  int index_;
  std::string name_;
};

class Constant final : public Expr {
 public:
  Constant(Value v, bool unknown) : Expr(v.type), v_(std::move(v)), unknown_(unknown) {}
  absl::Status Eval(const Batch& in, const Vector** result) override {
    // Built once for a full batch; smaller batches use its first rows.
    if (buf_.valid.size() < in.size || buf_.type != type_) {
      buf_.Reset(type_, std::max(in.size, kBatchRows));
      StringHeap* heap = type_.storage() == Storage::kString ? buf_.NewHeap() : nullptr;
      std::string_view s;
      for (size_t i = 0; i < buf_.size; ++i) {
        if (heap != nullptr && i > 0) {
          buf_.valid[i] = !v_.null;
          buf_.str[i] = s;
          continue;
        }
        v_.ToVector(&buf_, i, heap);
        if (heap != nullptr) s = buf_.str[0];
      }
      buf_.constant = true;
    }
    buf_.size = in.size;
    *result = &buf_;
    return absl::OkStatus();
  }
  std::string ToString() const override {
    if (v_.null) return "NULL";
    if (type_.kind == SqlKind::kString) return StrCat("'", v_.s, "'");
    if (type_.kind == SqlKind::kDate || type_.kind == SqlKind::kTimestamp || type_.kind == SqlKind::kInterval) {
      return StrCat(type_.ToString(), " '", ValueText(v_), "'");
    }
    return ValueText(v_);
  }
  const Value* constant() const override { return &v_; }
  bool unknown_literal() const override { return unknown_; }

 private:
  Value v_;
  bool unknown_;
  Vector buf_;
};

// Evaluates `e` over the rows `sel` of `in` only.
absl::Status EvalRows(Expr* e, const Batch& in, const std::vector<uint32_t>& sel, Batch* scratch,
                      const Vector** result) {
  scratch->size = sel.size();
  scratch->columns.resize(in.columns.size());
  for (size_t c = 0; c < in.columns.size(); ++c) {
    const Vector& src = in.columns[c];
    Vector& dst = scratch->columns[c];
    dst.Reset(src.type, 0);
    if (src.size != in.size) continue;  // a column the query does not read
    dst.keep = src.keep;
    for (uint32_t r : sel) dst.Append(src, r);
  }
  return e->Eval(*scratch, result);
}

class Func final : public Expr {
 public:
  Func(std::string name, SqlType t, std::vector<ExprPtr> args, Kernel k, bool infix = false)
      : Expr(t), name_(std::move(name)), args_(std::move(args)), kernel_(std::move(k)), infix_(infix) {}
  absl::Status Eval(const Batch& in, const Vector** result) override {
    ptrs_.resize(args_.size());
    for (size_t i = 0; i < args_.size(); ++i) {
      RETL_RETURN_IF_ERROR(args_[i]->Eval(in, &ptrs_[i]));
    }
    out_.Reset(type_, in.size);
    RETL_RETURN_IF_ERROR(kernel_(ptrs_, in.size, &out_));
    if (type_.storage() == Storage::kString) {
      for (const Vector* a : ptrs_) out_.KeepFrom(*a);
    }
    *result = &out_;
    return absl::OkStatus();
  }
  std::string ToString() const override {
    std::string s;
    if (infix_ && args_.size() == 2) {
      return StrCat("(", args_[0]->ToString(), " ", name_, " ", args_[1]->ToString(), ")");
    }
    if (infix_ && args_.size() == 1) return StrCat("(", name_, " ", args_[0]->ToString(), ")");
    s = name_ + "(";
    for (size_t i = 0; i < args_.size(); ++i) {
      if (i) s += ", ";
      s += args_[i]->ToString();
    }
    return s + ")";
  }
  void Children(std::vector<Expr*>* out) override {
    for (auto& a : args_) out->push_back(a.get());
  }
  std::vector<ExprPtr>& args() { return args_; }
  const std::string& name() const { return name_; }
  // For `x LIKE 'p%'` (or a pattern without wildcards): every matching value
  // starts with this prefix, which block statistics can test.
  const std::optional<std::string>& like_prefix() const { return like_prefix_; }
  void set_like_prefix(std::string p) { like_prefix_ = std::move(p); }

 private:
  std::string name_;
  std::vector<ExprPtr> args_;
  Kernel kernel_;
  bool infix_;
  std::optional<std::string> like_prefix_;
  std::vector<const Vector*> ptrs_;
  Vector out_;
};

bool AllConstant(const std::vector<ExprPtr>& args) {
  for (const ExprPtr& a : args) {
    if (a->constant() == nullptr) return false;
  }
  return true;
}

absl::StatusOr<Value> EvalConst(Expr* e) {
  Batch one;
  one.size = 1;
  const Vector* r = nullptr;
  RETL_RETURN_IF_ERROR(e->Eval(one, &r));
  Value v = Value::FromVector(*r, 0);
  v.type = e->type();
  return v;
}

// Builds a function node, folding it into a constant when every argument is
// one (so constant errors such as 1/0 are reported before any row is read).
absl::StatusOr<ExprPtr> Finish(std::string name, SqlType t, std::vector<ExprPtr> args, Kernel k,
                               bool infix = false, bool foldable = true) {
  bool fold = foldable && AllConstant(args);
  auto f = std::make_unique<Func>(std::move(name), t, std::move(args), std::move(k), infix);
  if (!fold) return ExprPtr(std::move(f));
  absl::StatusOr<Value> v = EvalConst(f.get());
  // An error (1/0) is raised only if the expression is evaluated: CASE WHEN
  // false THEN 1/0 END and coalesce(1, 1/0) must not fail.
  if (!v.ok()) return ExprPtr(std::move(f));
  return MakeConstant(std::move(*v));
}

// ---------------------------------------------------------------------------
// Casts

absl::StatusOr<Interval> ParseIntervalText(std::string_view text);

// PostgreSQL also reads dates and times without zero padding or seconds
// ('2024-1-5', '2024-06-10 12:00', '2024-01-05 7:05:03'): rewrite those to the
// canonical form the strict parsers of format/text.h read. Other text is
// returned unchanged (and fails there with their message).
std::string LenientDateTime(std::string_view in) {
  size_t i = 0;
  auto number = [&](int max_digits, int* out) {
    int n = 0, digits = 0;
    while (i < in.size() && digits < max_digits && in[i] >= '0' && in[i] <= '9') {
      n = n * 10 + (in[i++] - '0');
      ++digits;
    }
    *out = n;
    return digits > 0;
  };
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!number(4, &y) || i >= in.size() || in[i] != '-') return std::string(in);
  ++i;
  if (!number(2, &mo) || i >= in.size() || in[i] != '-') return std::string(in);
  ++i;
  if (!number(2, &d)) return std::string(in);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, mo, d);
  std::string out = buf;
  if (i == in.size()) return out;
  if (in[i] != ' ' && in[i] != 'T') return std::string(in);
  ++i;
  if (!number(2, &h) || i >= in.size() || in[i] != ':') return std::string(in);
  ++i;
  if (!number(2, &mi)) return std::string(in);
  if (i < in.size() && in[i] == ':') {
    ++i;
    if (!number(2, &sec)) return std::string(in);
  }
  std::snprintf(buf, sizeof buf, " %02d:%02d:%02d", h, mi, sec);
  out += buf;
  out.append(in.substr(i));  // fraction and zone, as written
  return out;
}

std::string CastError(const std::string& text, SqlType to) {
  return StrCat("cannot parse '", text, "' as ", to.ToString());
}

// Per-row conversion for one (from, to) pair.
absl::Status CastRows(const Vector& a, size_t n, Vector* out) {
  const SqlType from = a.type, to = out->type;
  StringHeap* heap = nullptr;
  auto h = [&]() {
    if (heap == nullptr) heap = out->NewHeap();
    return heap;
  };
  int64_t lo = 0, hi = 0;
  IntRange(to.kind, &lo, &hi);
  for (size_t i = 0; i < n; ++i) {
    if (!a.valid[i]) {
      out->valid[i] = 0;
      continue;
    }
    if (from.kind == SqlKind::kNull) {
      out->valid[i] = 0;
      continue;
    }
    // To text: the canonical text.
    if (to.kind == SqlKind::kString) {
      if (from.kind == SqlKind::kString || from.kind == SqlKind::kBinary) out->str[i] = a.str[i];
      else out->str[i] = h()->Add(ValueText(a, i));
      continue;
    }
    if (from.kind == SqlKind::kString) {
      std::string_view s = a.str[i];
      std::string trimmed(absl::StripAsciiWhitespace(ToAbsl(s)));
      switch (to.kind) {
        case SqlKind::kBoolean: {
          absl::StatusOr<bool> b = ParseBoolean(trimmed);
          if (!b.ok()) return absl::InvalidArgumentError(CastError(std::string(s), to));
          out->i64[i] = *b;
          break;
        }
        case SqlKind::kTinyInt:
        case SqlKind::kSmallInt:
        case SqlKind::kInt:
        case SqlKind::kBigInt: {
          absl::StatusOr<int64_t> v = ParseInteger(trimmed, to.ToData().id);
          if (!v.ok()) {
            if (absl::StrContains(v.status().message(), "range")) {
              return absl::InvalidArgumentError(StrCat("value '", s, "' is ", RangeName(to.kind)));
            }
            return absl::InvalidArgumentError(CastError(std::string(s), to));
          }
          out->i64[i] = *v;
          break;
        }
        case SqlKind::kFloat:
        case SqlKind::kDouble: {
          absl::StatusOr<double> v = ParseDouble(trimmed);
          if (!v.ok()) return absl::InvalidArgumentError(CastError(std::string(s), to));
          out->f64[i] = to.kind == SqlKind::kFloat ? static_cast<float>(*v) : *v;
          break;
        }
        case SqlKind::kDecimal: {
          absl::StatusOr<int128> v = ParseDecimal(trimmed, to.precision, to.scale);
          if (!v.ok()) return absl::InvalidArgumentError(CastError(std::string(s), to));
          SetUnscaled(out, i, *v);
          break;
        }
        case SqlKind::kBinary:
          out->str[i] = s;
          break;
        case SqlKind::kDate: {
          absl::StatusOr<int32_t> v = ParseDate(trimmed);
          if (!v.ok()) {
            trimmed = LenientDateTime(trimmed);
            v = ParseDate(trimmed);
          }
          if (!v.ok()) {
            absl::StatusOr<int64_t> ts = ParseTimestamp(trimmed);
            if (!ts.ok()) return absl::InvalidArgumentError(CastError(std::string(s), to));
            out->i64[i] = FloorDiv(*ts, kMicrosPerDay);
            break;
          }
          out->i64[i] = *v;
          break;
        }
        case SqlKind::kTimestamp: {
          absl::StatusOr<int64_t> v = ParseTimestamp(trimmed);
          if (!v.ok()) v = ParseTimestamp(LenientDateTime(trimmed));
          if (!v.ok()) return absl::InvalidArgumentError(CastError(std::string(s), to));
          out->i64[i] = *v;
          break;
        }
        case SqlKind::kInterval: {
          absl::StatusOr<Interval> v = ParseIntervalText(trimmed);
          if (!v.ok()) return absl::InvalidArgumentError(CastError(std::string(s), to));
          out->iv[i] = *v;
          break;
        }
        default:
          return absl::InvalidArgumentError(StrCat("cannot cast STRING to ", to.ToString()));
      }
      continue;
    }
    switch (to.kind) {
      case SqlKind::kBoolean:
        if (from.kind == SqlKind::kBoolean || from.IsInteger()) out->i64[i] = a.i64[i] != 0;
        else return absl::InvalidArgumentError(StrCat("cannot cast ", from.ToString(), " to BOOLEAN"));
        break;
      case SqlKind::kTinyInt:
      case SqlKind::kSmallInt:
      case SqlKind::kInt:
      case SqlKind::kBigInt: {
        int64_t v = 0;
        if (from.IsInteger() || from.kind == SqlKind::kBoolean) {
          v = a.i64[i];
        } else if (from.IsFloating()) {
          double d = std::nearbyint(a.f64[i]);  // PostgreSQL rounds half to even
          if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
            return absl::InvalidArgumentError(RangeName(to.kind));
          }
          v = static_cast<int64_t>(d);
        } else if (from.kind == SqlKind::kDecimal) {
          int128 q = RoundDiv(Unscaled(a, i), Pow10(from.scale));
          if (q < INT64_MIN || q > INT64_MAX) return absl::InvalidArgumentError(RangeName(to.kind));
          v = static_cast<int64_t>(q);
        } else {
          return absl::InvalidArgumentError(StrCat("cannot cast ", from.ToString(), " to ", to.ToString()));
        }
        if (v < lo || v > hi) return absl::InvalidArgumentError(RangeName(to.kind));
        out->i64[i] = v;
        break;
      }
      case SqlKind::kFloat:
      case SqlKind::kDouble: {
        double d = 0;
        if (from.IsInteger()) d = static_cast<double>(a.i64[i]);
        else if (from.IsFloating()) d = a.f64[i];
        else if (from.kind == SqlKind::kDecimal)
          d = static_cast<double>(Unscaled(a, i)) / static_cast<double>(Pow10(from.scale));
        else return absl::InvalidArgumentError(StrCat("cannot cast ", from.ToString(), " to ", to.ToString()));
        out->f64[i] = to.kind == SqlKind::kFloat ? static_cast<double>(static_cast<float>(d)) : d;
        break;
      }
      case SqlKind::kDecimal: {
        int128 v = 0;
        if (from.IsInteger()) {
          if (__builtin_mul_overflow(int128{a.i64[i]}, Pow10(to.scale), &v)) {
            return absl::InvalidArgumentError(StrCat("numeric field overflow: ", a.i64[i], " is out of range for ",
                                                     to.ToString()));
          }
        } else if (from.kind == SqlKind::kDecimal) {
          int128 x = Unscaled(a, i);
          if (to.scale >= from.scale) {
            int128 m = Pow10(to.scale - from.scale);
            if (!FitsPrecision(x, 38 - (to.scale - from.scale))) return absl::InvalidArgumentError("numeric field overflow (out of range)");
            v = x * m;
          } else {
            v = RoundDiv(x, Pow10(from.scale - to.scale));
          }
        } else if (from.IsFloating()) {
          double d = a.f64[i];
          if (std::isnan(d) || std::isinf(d)) {
            return absl::InvalidArgumentError(StrCat("cannot cast ", FormatDouble(d), " to ", to.ToString()));
          }
          // Through the shortest text that round-trips, as PostgreSQL does,
          // so 0.1 becomes 0.1000... and not the binary value's expansion.
          std::string text = from.kind == SqlKind::kFloat ? FormatFloat(static_cast<float>(d)) : FormatDouble(d);
          absl::StatusOr<int128> parsed = ParseDecimal(text, 38, to.scale);
          if (!parsed.ok()) {
            return absl::InvalidArgumentError(StrCat("numeric field overflow: ", text, " is out of range for ",
                                                     to.ToString()));
          }
          v = *parsed;
        } else {
          return absl::InvalidArgumentError(StrCat("cannot cast ", from.ToString(), " to ", to.ToString()));
        }
        if (!FitsPrecision(v, to.precision)) {
          return absl::InvalidArgumentError(StrCat("numeric field overflow: value ", ValueText(a, i),
                                                   " is out of range for ", to.ToString()));
        }
        SetUnscaled(out, i, v);
        break;
      }
      case SqlKind::kDate:
        if (from.kind == SqlKind::kDate) out->i64[i] = a.i64[i];
        else if (from.kind == SqlKind::kTimestamp) out->i64[i] = FloorDiv(a.i64[i], kMicrosPerDay);
        else return absl::InvalidArgumentError(StrCat("cannot cast ", from.ToString(), " to DATE"));
        break;
      case SqlKind::kTimestamp:
        if (from.kind == SqlKind::kTimestamp) out->i64[i] = a.i64[i];
        else if (from.kind == SqlKind::kDate) out->i64[i] = a.i64[i] * kMicrosPerDay;
        else return absl::InvalidArgumentError(StrCat("cannot cast ", from.ToString(), " to TIMESTAMP"));
        break;
      case SqlKind::kBinary:
        if (from.kind == SqlKind::kBinary) out->str[i] = a.str[i];
        else return absl::InvalidArgumentError(StrCat("cannot cast ", from.ToString(), " to BINARY"));
        break;
      case SqlKind::kInterval:
        if (from.kind == SqlKind::kInterval) out->iv[i] = a.iv[i];
        else return absl::InvalidArgumentError(StrCat("cannot cast ", from.ToString(), " to INTERVAL"));
        break;
      default:
        return absl::InvalidArgumentError(StrCat("cannot cast ", from.ToString(), " to ", to.ToString()));
    }
  }
  return absl::OkStatus();
}

bool CastAllowed(SqlType from, SqlType to) {
  if (from.kind == SqlKind::kNull || from == to) return true;
  if (from.kind == SqlKind::kString || to.kind == SqlKind::kString) {
    return !(to.kind == SqlKind::kNull);
  }
  if (to.kind == SqlKind::kBoolean) return from.kind == SqlKind::kBoolean || from.IsInteger();
  if (to.IsNumeric()) return from.IsNumeric() || (from.kind == SqlKind::kBoolean && to.IsInteger());
  if (to.IsTemporal()) return from.IsTemporal();
  if (to.kind == SqlKind::kBinary) return from.kind == SqlKind::kBinary;
  if (to.kind == SqlKind::kInterval) return from.kind == SqlKind::kInterval;
  return false;
}

// ---------------------------------------------------------------------------
// Arithmetic

Kernel IntArith(char op, SqlKind kind) {
  int64_t lo, hi;
  IntRange(kind, &lo, &hi);
  return [=](const std::vector<const Vector*>& args, size_t n, Vector* out) -> absl::Status {
    AndValid(args, n, out);
    const int64_t* a = args[0]->i64.data();
    const int64_t* b = args[1]->i64.data();
    int64_t* o = out->i64.data();
    const uint8_t* v = out->valid.data();
    for (size_t i = 0; i < n; ++i) {
      if (!v[i]) continue;
      int64_t r = 0;
      bool overflow = false;
      switch (op) {
        case '+': overflow = __builtin_add_overflow(a[i], b[i], &r); break;
        case '-': overflow = __builtin_sub_overflow(a[i], b[i], &r); break;
        case '*': overflow = __builtin_mul_overflow(a[i], b[i], &r); break;
        case '/':
          if (b[i] == 0) return absl::InvalidArgumentError("division by zero");
          if (b[i] == -1) overflow = __builtin_sub_overflow(int64_t{0}, a[i], &r);
          else r = a[i] / b[i];
          break;
        case '%':
          if (b[i] == 0) return absl::InvalidArgumentError("division by zero");
          r = b[i] == -1 ? 0 : a[i] % b[i];
          break;
      }
      if (overflow || r < lo || r > hi) return absl::InvalidArgumentError(RangeName(kind));
      o[i] = r;
    }
    return absl::OkStatus();
  };
}

Kernel DoubleArith(char op) {
  return [=](const std::vector<const Vector*>& args, size_t n, Vector* out) -> absl::Status {
    AndValid(args, n, out);
    const double* a = args[0]->f64.data();
    const double* b = args[1]->f64.data();
    double* o = out->f64.data();
    const uint8_t* v = out->valid.data();
    switch (op) {
      case '+': for (size_t i = 0; i < n; ++i) o[i] = a[i] + b[i]; break;
      case '-': for (size_t i = 0; i < n; ++i) o[i] = a[i] - b[i]; break;
      case '*': for (size_t i = 0; i < n; ++i) o[i] = a[i] * b[i]; break;
      case '/':
      case '%':
        for (size_t i = 0; i < n; ++i) {
          if (!v[i]) continue;
          if (b[i] == 0) return absl::InvalidArgumentError("division by zero");
          o[i] = op == '/' ? a[i] / b[i] : std::fmod(a[i], b[i]);
        }
        break;
    }
    return absl::OkStatus();
  };
}

Kernel DecimalArith(char op, SqlType ta, SqlType tb, SqlType result) {
  return [=](const std::vector<const Vector*>& args, size_t n, Vector* out) -> absl::Status {
    AndValid(args, n, out);
    const Vector& a = *args[0];
    const Vector& b = *args[1];
    for (size_t i = 0; i < n; ++i) {
      if (!out->valid[i]) continue;
      int128 x = Unscaled(a, i), y = Unscaled(b, i), r = 0;
      bool overflow = false;
      if (op == '+' || op == '-' || op == '%') {
        int s = result.scale;
        overflow = __builtin_mul_overflow(x, Pow10(s - ta.scale), &x) ||
                   __builtin_mul_overflow(y, Pow10(s - tb.scale), &y);
        if (op == '+') overflow = overflow || __builtin_add_overflow(x, y, &r);
        else if (op == '-') overflow = overflow || __builtin_sub_overflow(x, y, &r);
        else {
          if (y == 0) return absl::InvalidArgumentError("division by zero");
          r = x % y;
        }
      } else {  // '*'
        overflow = __builtin_mul_overflow(x, y, &r);
      }
      if (overflow || !FitsPrecision(r, result.precision)) {
        return absl::InvalidArgumentError(StrCat("numeric field overflow: result out of range for ", result.ToString()));
      }
      SetUnscaled(out, i, r);
    }
    return absl::OkStatus();
  };
}

absl::Status IntervalRangeError() { return absl::InvalidArgumentError("interval out of range"); }

// An interval of fractional months, days and microseconds, cascading
// fractions down as PostgreSQL does: a month is 30 days, a day 24 hours.
absl::StatusOr<Interval> MakeInterval(double months, double days, double micros) {
  double whole_months = std::trunc(months);
  days += (months - whole_months) * 30;
  double whole_days = std::trunc(days);
  micros += (days - whole_days) * 86400e6;
  micros = std::nearbyint(micros);
  if (!(std::fabs(whole_months) <= INT32_MAX) || !(std::fabs(whole_days) <= INT32_MAX) ||
      !(std::fabs(micros) < 9.2e18)) {
    return IntervalRangeError();
  }
  return Interval{static_cast<int32_t>(whole_months), static_cast<int32_t>(whole_days),
                  static_cast<int64_t>(micros)};
}

absl::StatusOr<Interval> AddIntervals(const Interval& a, const Interval& b, int sign) {
  Interval r;
  int32_t bm = b.months, bd = b.days;
  int64_t bu = b.micros;
  if (sign < 0 && (bm == INT32_MIN || bd == INT32_MIN || bu == INT64_MIN)) return IntervalRangeError();
  if (sign < 0) {
    bm = -bm;
    bd = -bd;
    bu = -bu;
  }
  if (__builtin_add_overflow(a.months, bm, &r.months) || __builtin_add_overflow(a.days, bd, &r.days) ||
      __builtin_add_overflow(a.micros, bu, &r.micros)) {
    return IntervalRangeError();
  }
  return r;
}

absl::StatusOr<Interval> ParseIntervalText(std::string_view text) {
  Interval iv;
  std::string s = absl::AsciiStrToLower(ToAbsl(text));
  std::vector<std::string> words;
  for (absl::string_view w : absl::StrSplit(s, ' ', absl::SkipEmpty())) words.emplace_back(w);
  if (words.empty()) return absl::InvalidArgumentError("empty interval");
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.find(':') != std::string::npos) {
      bool neg = w[0] == '-';
      std::vector<std::string> parts = absl::StrSplit(neg || w[0] == '+' ? w.substr(1) : w, ':');
      if (parts.size() < 2 || parts.size() > 3) return absl::InvalidArgumentError("bad time");
      int64_t hh = 0, mm = 0;
      double ss = 0;
      if (!absl::SimpleAtoi(parts[0], &hh) || !absl::SimpleAtoi(parts[1], &mm)) return absl::InvalidArgumentError("bad time");
      if (parts.size() == 3 && !absl::SimpleAtod(parts[2], &ss)) return absl::InvalidArgumentError("bad time");
      int64_t m = (hh * 3600 + mm * 60) * kMicrosPerSecond + static_cast<int64_t>(std::llround(ss * 1e6));
      iv.micros += neg ? -m : m;
      continue;
    }
    double qty = 0;
    if (!absl::SimpleAtod(w, &qty) || !std::isfinite(qty)) return absl::InvalidArgumentError("bad quantity");
    std::string unit = "second";  // a bare number is seconds
    if (i + 1 < words.size()) unit = words[++i];
    if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
    double months = 0, days = 0, micros = 0;
    if (unit == "year" || unit == "yr" || unit == "y") months = qty * 12;
    else if (unit == "month" || unit == "mon") months = qty;
    else if (unit == "week" || unit == "w") days = qty * 7;
    else if (unit == "day" || unit == "d") days = qty;
    else if (unit == "hour" || unit == "h" || unit == "hr") micros = qty * 3600e6;
    else if (unit == "minute" || unit == "min" || unit == "m") micros = qty * 60e6;
    else if (unit == "second" || unit == "sec" || unit == "s") micros = qty * 1e6;
    else if (unit == "millisecond" || unit == "ms") micros = qty * 1e3;
    else if (unit == "microsecond" || unit == "us") micros = qty;
    else return absl::InvalidArgumentError("unknown unit");
    RETL_ASSIGN_OR_RETURN(Interval part, MakeInterval(months, days, micros));
    RETL_ASSIGN_OR_RETURN(iv, AddIntervals(iv, part, 1));
  }
  return iv;
}

absl::Status TimeRangeError() { return absl::InvalidArgumentError("timestamp out of range"); }

// Adds an interval to a timestamp (micros): months by calendar (clamping the
// day to the month's end, as PostgreSQL does), then days and time.
absl::StatusOr<int64_t> AddInterval(int64_t micros, const Interval& iv, int sign) {
  bool overflow = false;
  int64_t t = AddMonthsToMicros(micros, sign * iv.months, &overflow);
  int64_t delta = 0;
  overflow = overflow || __builtin_mul_overflow(int64_t{iv.days} * sign, kMicrosPerDay, &delta) ||
             __builtin_add_overflow(t, delta, &t) ||
             __builtin_add_overflow(t, iv.micros * sign, &t);
  if (overflow || t < kMinDays * kMicrosPerDay || t >= (kMaxDays + 1) * kMicrosPerDay) return TimeRangeError();
  return t;
}

absl::Status OperatorError(SourcePos pos, const SqlType& a, const std::string& op, const SqlType& b) {
  return ErrorAtPos(pos, StrCat("operator does not exist: ", a.ToString(), " ", op, " ", b.ToString(),
                                " (add an explicit CAST)"));
}

absl::StatusOr<ExprPtr> MakeArithmetic(const std::string& op, ExprPtr a, ExprPtr b, SourcePos pos) {
  SqlType ta = a->type(), tb = b->type();
  // Unknown literals take the other side's type (numbers) as in PostgreSQL.
  if (a->unknown_literal() && b->unknown_literal()) {
    return OperatorError(pos, ta, op, tb);
  }
  if (a->unknown_literal() && tb.kind != SqlKind::kNull) {
    SqlType target = tb.IsTemporal() ? SqlType::Of(SqlKind::kInterval) : tb;
    if (tb.IsTemporal() && op == "-" ) target = tb;
    RETL_ASSIGN_OR_RETURN(a, MakeCast(std::move(a), target, pos));
    ta = a->type();
  }
  if (b->unknown_literal() && ta.kind != SqlKind::kNull) {
    SqlType target = ta;
    // date + 'text' adds an interval; date - 'text' subtracts a date, as
    // PostgreSQL resolves an unknown literal to the other side's type first.
    if (ta.IsTemporal() && op != "-") target = SqlType::Of(SqlKind::kInterval);
    RETL_ASSIGN_OR_RETURN(b, MakeCast(std::move(b), target, pos));
    tb = b->type();
  }
  if (ta.kind == SqlKind::kNull || tb.kind == SqlKind::kNull) {
    SqlType t = ta.kind == SqlKind::kNull ? tb : ta;
    if (t.kind == SqlKind::kNull) t = SqlType::Of(SqlKind::kInt);
    return MakeConstant(Value::Null(t));
  }
  const char c = op[0];
  std::vector<ExprPtr> args;
  if (ta.IsInteger() && tb.IsInteger()) {
    SqlKind k = IntRank(ta.kind) >= IntRank(tb.kind) ? ta.kind : tb.kind;
    // Narrow types compute at least as INT, like PostgreSQL's int2 + int2 -> int2? No:
    // PostgreSQL keeps int2 + int2 as int2; we do the same.
    args.push_back(std::move(a));
    args.push_back(std::move(b));
    return Finish(op, SqlType::Of(k), std::move(args), IntArith(c, k), true);
  }
  if (ta.IsNumeric() && tb.IsNumeric()) {
    if (ta.IsFloating() || tb.IsFloating() || (c == '/' && (ta.kind == SqlKind::kDecimal || tb.kind == SqlKind::kDecimal))) {
      SqlType d = SqlType::Of(SqlKind::kDouble);
      RETL_ASSIGN_OR_RETURN(a, CoerceTo(std::move(a), d, pos));
      RETL_ASSIGN_OR_RETURN(b, CoerceTo(std::move(b), d, pos));
      args.push_back(std::move(a));
      args.push_back(std::move(b));
      return Finish(op, d, std::move(args), DoubleArith(c), true);
    }
    // DECIMAL with DECIMAL or an integer.
    if (ta.IsInteger()) {
      ta = SqlType::Decimal(IntDigits(ta.kind), 0);
      RETL_ASSIGN_OR_RETURN(a, MakeCast(std::move(a), ta, pos));
    }
    if (tb.IsInteger()) {
      tb = SqlType::Decimal(IntDigits(tb.kind), 0);
      RETL_ASSIGN_OR_RETURN(b, MakeCast(std::move(b), tb, pos));
    }
    SqlType r;
    if (c == '*') {
      int s = ta.scale + tb.scale;
      if (s > 38) return ErrorAtPos(pos, "DECIMAL product scale exceeds 38; CAST to DOUBLE first");
      r = SqlType::Decimal(std::min(38, ta.precision + tb.precision), s);
    } else {
      int s = std::max(ta.scale, tb.scale);
      int ints = std::max(ta.precision - ta.scale, tb.precision - tb.scale);
      r = SqlType::Decimal(std::min(38, ints + s + 1), s);
    }
    args.push_back(std::move(a));
    args.push_back(std::move(b));
    return Finish(op, r, std::move(args), DecimalArith(c, ta, tb, r), true);
  }
  // Dates, timestamps and intervals.
  SqlKind ka = ta.kind, kb = tb.kind;
  if (ka == SqlKind::kDate && tb.IsInteger() && (c == '+' || c == '-')) {
    args.push_back(std::move(a));
    args.push_back(std::move(b));
    return Finish(op, SqlType::Of(SqlKind::kDate), std::move(args),
                  [c](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
                    AndValid(v, n, out);
                    for (size_t i = 0; i < n; ++i) {
                      if (!out->valid[i]) continue;
                      int64_t d = c == '+' ? v[0]->i64[i] + v[1]->i64[i] : v[0]->i64[i] - v[1]->i64[i];
                      if (d < INT32_MIN || d > INT32_MAX) return absl::InvalidArgumentError("date out of range");
                      out->i64[i] = d;
                    }
                    return absl::OkStatus();
                  }, true);
  }
  if (ta.IsInteger() && kb == SqlKind::kDate && c == '+') return MakeArithmetic(op, std::move(b), std::move(a), pos);
  if (ka == SqlKind::kDate && kb == SqlKind::kDate && c == '-') {
    args.push_back(std::move(a));
    args.push_back(std::move(b));
    return Finish(op, SqlType::Of(SqlKind::kInt), std::move(args),
                  [](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
                    AndValid(v, n, out);
                    for (size_t i = 0; i < n; ++i) out->i64[i] = v[0]->i64[i] - v[1]->i64[i];
                    return absl::OkStatus();
                  }, true);
  }
  if (ta.IsTemporal() && kb == SqlKind::kInterval && (c == '+' || c == '-')) {
    RETL_ASSIGN_OR_RETURN(a, CoerceTo(std::move(a), SqlType::Of(SqlKind::kTimestamp), pos));
    args.push_back(std::move(a));
    args.push_back(std::move(b));
    int sign = c == '+' ? 1 : -1;
    return Finish(op, SqlType::Of(SqlKind::kTimestamp), std::move(args),
                  [sign](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
                    AndValid(v, n, out);
                    for (size_t i = 0; i < n; ++i) {
                      if (!out->valid[i]) continue;
                      RETL_ASSIGN_OR_RETURN(out->i64[i], AddInterval(v[0]->i64[i], v[1]->iv[i], sign));
                    }
                    return absl::OkStatus();
                  }, true);
  }
  if (ka == SqlKind::kInterval && tb.IsTemporal() && c == '+') return MakeArithmetic(op, std::move(b), std::move(a), pos);
  if (ka == SqlKind::kTimestamp && kb == SqlKind::kTimestamp && c == '-') {
    args.push_back(std::move(a));
    args.push_back(std::move(b));
    return Finish(op, SqlType::Of(SqlKind::kInterval), std::move(args),
                  [](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
                    AndValid(v, n, out);
                    for (size_t i = 0; i < n; ++i) {
                      int64_t d = v[0]->i64[i] - v[1]->i64[i];
                      out->iv[i] = Interval{0, static_cast<int32_t>(d / kMicrosPerDay), d % kMicrosPerDay};
                    }
                    return absl::OkStatus();
                  }, true);
  }
  if (ka == SqlKind::kInterval && kb == SqlKind::kInterval && (c == '+' || c == '-')) {
    args.push_back(std::move(a));
    args.push_back(std::move(b));
    int sign = c == '+' ? 1 : -1;
    return Finish(op, SqlType::Of(SqlKind::kInterval), std::move(args),
                  [sign](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
                    AndValid(v, n, out);
                    for (size_t i = 0; i < n; ++i) {
                      if (!out->valid[i]) continue;
                      RETL_ASSIGN_OR_RETURN(out->iv[i], AddIntervals(v[0]->iv[i], v[1]->iv[i], sign));
                    }
                    return absl::OkStatus();
                  }, true);
  }
  if (ka == SqlKind::kInterval && tb.IsNumeric() && (c == '*' || c == '/')) {
    RETL_ASSIGN_OR_RETURN(b, CoerceTo(std::move(b), SqlType::Of(SqlKind::kDouble), pos));
    args.push_back(std::move(a));
    args.push_back(std::move(b));
    return Finish(op, SqlType::Of(SqlKind::kInterval), std::move(args),
                  [c](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
                    AndValid(v, n, out);
                    for (size_t i = 0; i < n; ++i) {
                      if (!out->valid[i]) continue;
                      double f = v[1]->f64[i];
                      if (c == '/') {
                        if (f == 0) return absl::InvalidArgumentError("division by zero");
                        f = 1 / f;
                      }
                      const Interval& x = v[0]->iv[i];
                      RETL_ASSIGN_OR_RETURN(out->iv[i], MakeInterval(x.months * f, x.days * f,
                                                                     static_cast<double>(x.micros) * f));
                    }
                    return absl::OkStatus();
                  }, true);
  }
  if (ta.IsNumeric() && kb == SqlKind::kInterval && c == '*') return MakeArithmetic(op, std::move(b), std::move(a), pos);
  return OperatorError(pos, ta, op, tb);
}

// ---------------------------------------------------------------------------
// Comparison and logic

enum class CmpOp { kEq, kNe, kLt, kLe, kGt, kGe };


template <typename T, typename Get>
void CompareLoop(CmpOp op, size_t n, Get get, int64_t* o) {
  switch (op) {
    case CmpOp::kEq: for (size_t i = 0; i < n; ++i) { auto [x, y] = get(i); o[i] = Cmp3(x, y) == 0; } break;
    case CmpOp::kNe: for (size_t i = 0; i < n; ++i) { auto [x, y] = get(i); o[i] = Cmp3(x, y) != 0; } break;
    case CmpOp::kLt: for (size_t i = 0; i < n; ++i) { auto [x, y] = get(i); o[i] = Cmp3(x, y) < 0; } break;
    case CmpOp::kLe: for (size_t i = 0; i < n; ++i) { auto [x, y] = get(i); o[i] = Cmp3(x, y) <= 0; } break;
    case CmpOp::kGt: for (size_t i = 0; i < n; ++i) { auto [x, y] = get(i); o[i] = Cmp3(x, y) > 0; } break;
    case CmpOp::kGe: for (size_t i = 0; i < n; ++i) { auto [x, y] = get(i); o[i] = Cmp3(x, y) >= 0; } break;
  }
}

// A string column from a dictionary chunk compared with a literal: each
// dictionary entry is compared once (per dictionary), and the rows take
// their code's result.
struct DictionaryCompare {
  std::shared_ptr<const std::vector<std::string_view>> dictionary;
  std::string literal;
  std::vector<uint8_t> result;  // per entry

  const uint8_t* For(CmpOp op, const Vector& column, std::string_view lit) {
    if (column.dictionary != dictionary || lit != literal) {
      dictionary = column.dictionary;
      literal = std::string(lit);
      result.resize(dictionary->size());
      int64_t r = 0;
      for (size_t j = 0; j < dictionary->size(); ++j) {
        CompareLoop<std::string_view>(op, 1, [&](size_t) { return std::pair((*dictionary)[j], lit); }, &r);
        result[j] = static_cast<uint8_t>(r);
      }
    }
    return result.data();
  }
};

// The operator with its operands swapped: a < b is b > a.
CmpOp Mirror(CmpOp op) {
  switch (op) {
    case CmpOp::kLt: return CmpOp::kGt;
    case CmpOp::kLe: return CmpOp::kGe;
    case CmpOp::kGt: return CmpOp::kLt;
    case CmpOp::kGe: return CmpOp::kLe;
    default: return op;
  }
}

// o[i] = x[i] op c.
void ScalarCompare(CmpOp op, const int64_t* x, int64_t c, size_t n, int64_t* o) {
  switch (op) {
    case CmpOp::kEq: for (size_t i = 0; i < n; ++i) o[i] = x[i] == c; break;
    case CmpOp::kNe: for (size_t i = 0; i < n; ++i) o[i] = x[i] != c; break;
    case CmpOp::kLt: for (size_t i = 0; i < n; ++i) o[i] = x[i] < c; break;
    case CmpOp::kLe: for (size_t i = 0; i < n; ++i) o[i] = x[i] <= c; break;
    case CmpOp::kGt: for (size_t i = 0; i < n; ++i) o[i] = x[i] > c; break;
    case CmpOp::kGe: for (size_t i = 0; i < n; ++i) o[i] = x[i] >= c; break;
  }
}

// o[i] = x[i] op c for a c that is not NaN, in Cmp3's order: NaN above every
// number (so NaN > c and NaN <> c hold, the others not).
void ScalarCompareDouble(CmpOp op, const double* x, double c, size_t n, int64_t* o) {
  switch (op) {
    case CmpOp::kEq: for (size_t i = 0; i < n; ++i) o[i] = x[i] == c; break;
    case CmpOp::kNe: for (size_t i = 0; i < n; ++i) o[i] = !(x[i] == c); break;
    case CmpOp::kLt: for (size_t i = 0; i < n; ++i) o[i] = x[i] < c; break;
    case CmpOp::kLe: for (size_t i = 0; i < n; ++i) o[i] = x[i] <= c; break;
    case CmpOp::kGt: for (size_t i = 0; i < n; ++i) o[i] = !(x[i] <= c); break;
    case CmpOp::kGe: for (size_t i = 0; i < n; ++i) o[i] = !(x[i] < c); break;
  }
}

Kernel CompareKernel(CmpOp op, Storage st) {
  auto cache = std::make_shared<DictionaryCompare>();
  return [op, st, cache](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
    AndValid(v, n, out);
    const Vector& a = *v[0];
    const Vector& b = *v[1];
    int64_t* o = out->i64.data();
    // A column against a literal (the common WHERE shape): a plain loop over
    // the column that the compiler vectorizes.
    if ((st == Storage::kInt64 || st == Storage::kDouble) && n > 0 && (a.constant != b.constant)) {
      const bool column_left = b.constant;
      const Vector& column = column_left ? a : b;
      const CmpOp o2 = column_left ? op : Mirror(op);
      if (st == Storage::kInt64) {
        ScalarCompare(o2, column.i64.data(), (column_left ? b : a).i64[0], n, o);
        return absl::OkStatus();
      }
      const double c = (column_left ? b : a).f64[0];
      if (!std::isnan(c)) {
        ScalarCompareDouble(o2, column.f64.data(), c, n, o);
        return absl::OkStatus();
      }
    }
    if (st == Storage::kString && n > 0) {
      const Vector* column = a.dictionary != nullptr && b.constant ? &a
                             : b.dictionary != nullptr && a.constant ? &b
                                                                     : nullptr;
      if (column != nullptr && !column->dictionary->empty()) {
        const Vector& literal = column == &a ? b : a;
        const uint8_t* r = cache->For(column == &a ? op : Mirror(op), *column, literal.str[0]);
        const uint32_t* codes = column->codes.data();
        for (size_t i = 0; i < n; ++i) o[i] = r[codes[i]];  // NULL rows: code 0, invalid anyway
        return absl::OkStatus();
      }
    }
    switch (st) {
      case Storage::kInt64: {
        const int64_t* x = a.i64.data();
        const int64_t* y = b.i64.data();
        CompareLoop<int64_t>(op, n, [&](size_t i) { return std::pair(x[i], y[i]); }, o);
        break;
      }
      case Storage::kInt128:
        CompareLoop<int128>(op, n, [&](size_t i) { return std::pair(a.i128[i], b.i128[i]); }, o);
        break;
      case Storage::kDouble: {
        const double* x = a.f64.data();
        const double* y = b.f64.data();
        CompareLoop<double>(op, n, [&](size_t i) { return std::pair(x[i], y[i]); }, o);
        break;
      }
      case Storage::kString:
        CompareLoop<std::string_view>(op, n, [&](size_t i) { return std::pair(a.str[i], b.str[i]); }, o);
        break;
      case Storage::kInterval:
        CompareLoop<Interval>(op, n, [&](size_t i) { return std::pair(a.iv[i], b.iv[i]); }, o);
        break;
    }
    return absl::OkStatus();
  };
}

// Casts unknown literals to the other side's type, then both to their common type.
absl::Status Unify(ExprPtr* a, ExprPtr* b, SourcePos pos, const std::string& what) {
  if ((*a)->unknown_literal() && !(*b)->unknown_literal() && (*b)->type().kind != SqlKind::kNull) {
    RETL_ASSIGN_OR_RETURN(*a, MakeCast(std::move(*a), (*b)->type(), pos));
  } else if ((*b)->unknown_literal() && !(*a)->unknown_literal() && (*a)->type().kind != SqlKind::kNull) {
    RETL_ASSIGN_OR_RETURN(*b, MakeCast(std::move(*b), (*a)->type(), pos));
  }
  RETL_ASSIGN_OR_RETURN(SqlType t, CommonType((*a)->type(), (*b)->type(), pos, what));
  RETL_ASSIGN_OR_RETURN(*a, CoerceTo(std::move(*a), t, pos));
  RETL_ASSIGN_OR_RETURN(*b, CoerceTo(std::move(*b), t, pos));
  return absl::OkStatus();
}

absl::StatusOr<ExprPtr> MakeComparison(const std::string& op, ExprPtr a, ExprPtr b, SourcePos pos) {
  RETL_RETURN_IF_ERROR(Unify(&a, &b, pos, StrCat(a->type().ToString(), " ", op, " ", b->type().ToString())));
  CmpOp c = op == "=" ? CmpOp::kEq : op == "<>" ? CmpOp::kNe : op == "<" ? CmpOp::kLt
          : op == "<=" ? CmpOp::kLe : op == ">" ? CmpOp::kGt : CmpOp::kGe;
  Storage st = a->type().storage();
  std::vector<ExprPtr> args;
  args.push_back(std::move(a));
  args.push_back(std::move(b));
  return Finish(op, SqlType::Of(SqlKind::kBoolean), std::move(args), CompareKernel(c, st), true);
}

absl::StatusOr<ExprPtr> ToBoolean(ExprPtr x, SourcePos pos, std::string_view context) {
  if (x->type().kind == SqlKind::kBoolean) return x;
  if (x->type().kind == SqlKind::kNull || x->unknown_literal()) {
    return MakeCast(std::move(x), SqlType::Of(SqlKind::kBoolean), pos);
  }
  return ErrorAtPos(pos, StrCat("argument of ", context, " must be BOOLEAN, not ", x->type().ToString()));
}

// Three-valued AND / OR of (av, x) and (bv, y): a valid false decides AND,
// a valid true decides OR; otherwise NULL unless both are valid.
inline void AndOr3(bool is_and, bool av, int64_t x, bool bv, int64_t y, uint8_t* valid, int64_t* out) {
  const int64_t decides = is_and ? 0 : 1;
  if ((av && x == decides) || (bv && y == decides) || (av && bv)) {
    *valid = 1;
    *out = (av && x == decides) || (bv && y == decides) ? decides : 1 - decides;
  } else {
    *valid = 0;
  }
}

Kernel AndOrKernel(bool is_and) {
  return [is_and](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
    const Vector& a = *v[0];
    const Vector& b = *v[1];
    for (size_t i = 0; i < n; ++i) {
      AndOr3(is_and, a.valid[i], a.i64[i], b.valid[i], b.i64[i], &out->valid[i], &out->i64[i]);
    }
    return absl::OkStatus();
  };
}

// AND / OR. Both sides are evaluated over the whole batch (the fast path);
// if the right side fails (10 / x with x = 0), it is evaluated again on only
// the rows the left side does not decide, so the guard idiom
// `x <> 0 AND 10 / x > 1` works as it does in PostgreSQL.
class AndOrExpr final : public Expr {
 public:
  AndOrExpr(bool is_and, ExprPtr a, ExprPtr b)
      : Expr(SqlType::Of(SqlKind::kBoolean)), is_and_(is_and), a_(std::move(a)), b_(std::move(b)),
        kernel_(AndOrKernel(is_and)) {}
  absl::Status Eval(const Batch& in, const Vector** result) override {
    const Vector* a = nullptr;
    RETL_RETURN_IF_ERROR(a_->Eval(in, &a));
    out_.Reset(type_, in.size);
    const Vector* b = nullptr;
    absl::Status s = b_->Eval(in, &b);
    if (s.ok()) {
      RETL_RETURN_IF_ERROR(kernel_({a, b}, in.size, &out_));
      *result = &out_;
      return absl::OkStatus();
    }
    // Rows the left side decides: false for AND, true for OR.
    std::vector<uint32_t> open;
    for (size_t i = 0; i < in.size; ++i) {
      bool decided = a->valid[i] && (a->i64[i] != 0) != is_and_;
      if (!decided) open.push_back(static_cast<uint32_t>(i));
    }
    if (open.size() == in.size) return s;
    left_.Reset(type_, in.size);
    for (size_t i = 0; i < in.size; ++i) left_.Set(i, *a, i);
    const Vector* part = nullptr;
    if (!open.empty()) RETL_RETURN_IF_ERROR(EvalRows(b_.get(), in, open, &sub_, &part));
    for (size_t i = 0; i < in.size; ++i) {
      out_.valid[i] = 1;
      out_.i64[i] = is_and_ ? 0 : 1;
    }
    for (size_t k = 0; k < open.size(); ++k) {
      const uint32_t r = open[k];
      AndOr3(is_and_, left_.valid[r], left_.i64[r], part->valid[k], part->i64[k], &out_.valid[r], &out_.i64[r]);
    }
    *result = &out_;
    return absl::OkStatus();
  }
  std::string ToString() const override {
    return StrCat("(", a_->ToString(), is_and_ ? " AND " : " OR ", b_->ToString(), ")");
  }
  bool is_and() const { return is_and_; }
  void Children(std::vector<Expr*>* out) override {
    out->push_back(a_.get());
    out->push_back(b_.get());
  }

 private:
  bool is_and_;
  ExprPtr a_, b_;
  Kernel kernel_;
  Vector out_, left_;
  Batch sub_;
};

// ---------------------------------------------------------------------------
// CASE

class CaseExpr final : public Expr {
 public:
  CaseExpr(SqlType t, std::vector<ExprPtr> conds, std::vector<ExprPtr> values, ExprPtr otherwise)
      : Expr(t), conds_(std::move(conds)), values_(std::move(values)), else_(std::move(otherwise)) {}

  absl::Status Eval(const Batch& in, const Vector** result) override {
    out_.Reset(type_, in.size);
    std::fill(out_.valid.begin(), out_.valid.end(), 0);
    std::vector<uint32_t> remaining(in.size);
    for (size_t i = 0; i < in.size; ++i) remaining[i] = static_cast<uint32_t>(i);
    for (size_t w = 0; w < conds_.size() && !remaining.empty(); ++w) {
      const Vector* c = nullptr;
      RETL_RETURN_IF_ERROR(EvalOn(conds_[w].get(), in, remaining, &c));
      std::vector<uint32_t> taken, rest;
      for (size_t k = 0; k < remaining.size(); ++k) {
        if (c->valid[k] && c->i64[k]) taken.push_back(remaining[k]);
        else rest.push_back(remaining[k]);
      }
      if (!taken.empty()) {
        const Vector* v = nullptr;
        RETL_RETURN_IF_ERROR(EvalOn(values_[w].get(), in, taken, &v));
        Scatter(*v, taken);
      }
      remaining = std::move(rest);
    }
    if (else_ != nullptr && !remaining.empty()) {
      const Vector* v = nullptr;
      RETL_RETURN_IF_ERROR(EvalOn(else_.get(), in, remaining, &v));
      Scatter(*v, remaining);
    }
    *result = &out_;
    return absl::OkStatus();
  }
  std::string ToString() const override {
    std::string s = "CASE";
    for (size_t i = 0; i < conds_.size(); ++i) {
      s += StrCat(" WHEN ", conds_[i]->ToString(), " THEN ", values_[i]->ToString());
    }
    if (else_) s += " ELSE " + else_->ToString();
    return s + " END";
  }
  void Children(std::vector<Expr*>* out) override {
    for (auto& c : conds_) out->push_back(c.get());
    for (auto& v : values_) out->push_back(v.get());
    if (else_) out->push_back(else_.get());
  }

 private:
  absl::Status EvalOn(Expr* e, const Batch& in, const std::vector<uint32_t>& rows, const Vector** r) {
    if (rows.size() == in.size) return e->Eval(in, r);  // every row: no gather
    return EvalRows(e, in, rows, &sub_, r);
  }
  void Scatter(const Vector& v, const std::vector<uint32_t>& rows) {
    out_.KeepFrom(v);
    for (size_t k = 0; k < rows.size(); ++k) {
      out_.Set(rows[k], v, k);
    }
  }
  std::vector<ExprPtr> conds_, values_;
  ExprPtr else_;
  Vector out_;
  Batch sub_;
};

// ---------------------------------------------------------------------------
// IN with a constant list

// Equal doubles (SQL's equality: every NaN equal, -0 = 0) give equal keys.
uint64_t DoubleKey(double d) {
  if (std::isnan(d)) return 0x7ff8000000000000ULL;
  if (d == 0) d = 0;
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  return bits;
}

class InSet final : public Expr {
 public:
  InSet(ExprPtr x, std::vector<Value> values, bool has_null, bool negated)
      : Expr(SqlType::Of(SqlKind::kBoolean)), x_(std::move(x)), values_(std::move(values)),
        has_null_(has_null), negated_(negated) {
    for (const Value& v : values_) {
      switch (x_->type().storage()) {
        case Storage::kInt64: ints_.insert(v.i); break;
        case Storage::kString: strings_.insert(v.s); break;
        case Storage::kDouble: doubles_.insert(DoubleKey(v.d)); break;
        default: break;
      }
    }
  }
  absl::Status Eval(const Batch& in, const Vector** result) override {
    const Vector* x = nullptr;
    RETL_RETURN_IF_ERROR(x_->Eval(in, &x));
    out_.Reset(type_, in.size);
    // x IN (...): true if found, else NULL if the list holds NULL, else false.
    auto put = [&](size_t i, bool found) {
      if (found) {
        out_.i64[i] = !negated_;
      } else if (has_null_) {
        out_.valid[i] = 0;
      } else {
        out_.i64[i] = negated_;
      }
    };
    if (x->dictionary != nullptr && !x->dictionary->empty()) {
      // Each dictionary entry once, then the codes.
      if (x->dictionary != dictionary_) {
        dictionary_ = x->dictionary;
        entry_found_.resize(dictionary_->size());
        for (size_t j = 0; j < dictionary_->size(); ++j) {
          entry_found_[j] = strings_.contains(ToAbsl((*dictionary_)[j]));
        }
      }
      for (size_t i = 0; i < in.size; ++i) {
        if (!x->valid[i]) {
          out_.valid[i] = 0;
        } else {
          put(i, entry_found_[x->codes[i]]);
        }
      }
      *result = &out_;
      return absl::OkStatus();
    }
    for (size_t i = 0; i < in.size; ++i) {
      if (!x->valid[i]) {
        out_.valid[i] = 0;
        continue;
      }
      bool found = false;
      switch (x->type.storage()) {
        case Storage::kInt64: found = ints_.contains(x->i64[i]); break;
        case Storage::kString: found = strings_.contains(ToAbsl(x->str[i])); break;
        case Storage::kDouble: {
          found = doubles_.contains(DoubleKey(x->f64[i]));
          break;
        }
        case Storage::kInt128:
          for (const Value& v : values_) found = found || v.i128 == x->i128[i];
          break;
        case Storage::kInterval:
          for (const Value& v : values_) found = found || Cmp3(v.iv, x->iv[i]) == 0;
          break;
      }
      put(i, found);
    }
    *result = &out_;
    return absl::OkStatus();
  }
  std::string ToString() const override {
    std::string s = x_->ToString() + (negated_ ? " NOT IN (" : " IN (");
    for (size_t i = 0; i < values_.size(); ++i) {
      if (i) s += ", ";
      s += values_[i].type.kind == SqlKind::kString ? StrCat("'", values_[i].s, "'") : ValueText(values_[i]);
    }
    if (has_null_) s += values_.empty() ? "NULL" : ", NULL";
    return s + ")";
  }
  void Children(std::vector<Expr*>* out) override { out->push_back(x_.get()); }
  Expr* input() const { return x_.get(); }
  const std::vector<Value>& values() const { return values_; }
  bool negated() const { return negated_; }

 private:
  ExprPtr x_;
  std::vector<Value> values_;
  bool has_null_;
  bool negated_;
  absl::flat_hash_set<int64_t> ints_;
  absl::flat_hash_set<std::string> strings_;
  // The last dictionary seen, and whether each of its entries is in the set.
  std::shared_ptr<const std::vector<std::string_view>> dictionary_;
  std::vector<uint8_t> entry_found_;
  absl::flat_hash_set<uint64_t> doubles_;  // DoubleKey()s
  Vector out_;
};

// ---------------------------------------------------------------------------
// LIKE

size_t Utf8Len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 6) return 2;
  if ((c >> 4) == 14) return 3;
  if ((c >> 3) == 30) return 4;
  return 1;
}

// A pattern without '_' and with '%' only at its ends runs as a substring test.
struct LikePlan {
  enum Kind { kGeneral, kExact, kPrefix, kSuffix, kContains, kAll } kind = kGeneral;
  std::string literal;
};

LikePlan PlanLike(std::string_view p, char32_t escape) {
  LikePlan plan;
  if (escape != 0 && p.find(static_cast<char>(escape)) != std::string_view::npos) return plan;
  if (p.find('_') != std::string_view::npos) return plan;
  size_t b = 0, e = p.size();
  bool lead = false, trail = false;
  while (b < e && p[b] == '%') { ++b; lead = true; }
  while (e > b && p[e - 1] == '%') { --e; trail = true; }
  std::string_view mid = p.substr(b, e - b);
  if (mid.find('%') != std::string_view::npos) return plan;
  plan.literal = std::string(mid);
  if (mid.empty() && (lead || trail)) plan.kind = LikePlan::kAll;
  else if (lead && trail) plan.kind = LikePlan::kContains;
  else if (lead) plan.kind = LikePlan::kSuffix;
  else if (trail) plan.kind = LikePlan::kPrefix;
  else plan.kind = LikePlan::kExact;
  return plan;
}

bool RunLike(const LikePlan& plan, std::string_view s, std::string_view pattern, char32_t escape) {
  switch (plan.kind) {
    case LikePlan::kAll: return true;
    case LikePlan::kExact: return s == plan.literal;
    case LikePlan::kPrefix: return absl::StartsWith(ToAbsl(s), plan.literal);
    case LikePlan::kSuffix: return absl::EndsWith(ToAbsl(s), plan.literal);
    case LikePlan::kContains: return ToAbsl(s).find(plan.literal) != absl::string_view::npos;
    case LikePlan::kGeneral: return LikeMatch(s, pattern, escape);
  }
  return false;
}

// ---------------------------------------------------------------------------
// Scalar function helpers

template <typename F>
Kernel StringUnary(F f) {
  return [f](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
    AndValid(v, n, out);
    StringHeap* heap = out->NewHeap();
    std::string buf;
    for (size_t i = 0; i < n; ++i) {
      if (!out->valid[i]) continue;
      buf.clear();
      f(v[0]->str[i], &buf);
      out->str[i] = heap->Add(buf);
    }
    return absl::OkStatus();
  };
}

size_t CharCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Byte offset of character `k` (0-based) in s, clamped to s.size().
size_t CharOffset(std::string_view s, int64_t k) {
  size_t i = 0;
  while (k > 0 && i < s.size()) {
    i += Utf8Len(static_cast<unsigned char>(s[i]));
    --k;
  }
  return std::min(i, s.size());
}


absl::Status ArgCount(const std::string& name, const std::vector<ExprPtr>& args, size_t lo, size_t hi,
                      SourcePos pos) {
  if (args.size() < lo || args.size() > hi) {
    std::string want = lo == hi ? StrCat(lo) : StrCat(lo, " to ", hi);
    return ErrorAtPos(pos, StrCat("function ", name, " takes ", want, " argument(s), got ", args.size()));
  }
  return absl::OkStatus();
}

absl::Status NeedText(const std::string& name, std::vector<ExprPtr>& args, size_t i, SourcePos pos) {
  SqlType t = args[i]->type();
  if (t.kind == SqlKind::kString || t.kind == SqlKind::kNull || args[i]->unknown_literal()) {
    RETL_ASSIGN_OR_RETURN(args[i], CoerceTo(std::move(args[i]), SqlType::Of(SqlKind::kString), pos));
    return absl::OkStatus();
  }
  return ErrorAtPos(pos, StrCat("function \"", name, "\" does not exist for argument type ", t.ToString(),
                                " (add an explicit CAST to STRING)"));
}

absl::Status NeedNumber(const std::string& name, std::vector<ExprPtr>& args, size_t i, SourcePos pos) {
  SqlType t = args[i]->type();
  if (t.IsNumeric()) return absl::OkStatus();
  if (t.kind == SqlKind::kNull || args[i]->unknown_literal()) {
    RETL_ASSIGN_OR_RETURN(args[i], CoerceTo(std::move(args[i]), SqlType::Of(SqlKind::kDouble), pos));
    return absl::OkStatus();
  }
  return ErrorAtPos(pos, StrCat("function \"", name, "\" does not exist for argument type ", t.ToString()));
}

int64_t Micros(const Vector& v, size_t i) {
  return v.type.kind == SqlKind::kDate ? v.i64[i] * kMicrosPerDay : v.i64[i];
}

absl::StatusOr<int64_t> TruncMicros(const std::string& unit, int64_t micros) {
  int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (unit == "year") return DaysFromCivil(y, 1, 1) * kMicrosPerDay;
  if (unit == "quarter") return DaysFromCivil(y, (m - 1) / 3 * 3 + 1, 1) * kMicrosPerDay;
  if (unit == "month") return DaysFromCivil(y, m, 1) * kMicrosPerDay;
  if (unit == "week") {
    int64_t dow = ((days % 7) + 7 + 3) % 7;  // 0 = Monday (1970-01-01 was a Thursday)
    return (days - dow) * kMicrosPerDay;
  }
  if (unit == "day") return days * kMicrosPerDay;
  if (unit == "hour") return FloorDiv(micros, 3600 * kMicrosPerSecond) * 3600 * kMicrosPerSecond;
  if (unit == "minute") return FloorDiv(micros, 60 * kMicrosPerSecond) * 60 * kMicrosPerSecond;
  if (unit == "second") return FloorDiv(micros, kMicrosPerSecond) * kMicrosPerSecond;
  if (unit == "decade") return DaysFromCivil(y - ((y % 10) + 10) % 10, 1, 1) * kMicrosPerDay;
  if (unit == "century") return DaysFromCivil((y - 1) / 100 * 100 + 1, 1, 1) * kMicrosPerDay;
  return absl::InvalidArgumentError(StrCat("unit \"", unit, "\" not recognized for date_trunc"));
}

// ISO 8601 week number.
int64_t IsoWeek(int64_t days) {
  int64_t dow = ((days % 7) + 7 + 3) % 7;  // Monday = 0
  int64_t thursday = days - dow + 3;
  int64_t y;
  unsigned m, d;
  CivilFromDays(thursday, &y, &m, &d);
  int64_t jan1 = DaysFromCivil(y, 1, 1);
  return (thursday - jan1) / 7 + 1;
}

}  // namespace

// ---------------------------------------------------------------------------
// Public entry points

ExprPtr MakeColumnRef(int index, SqlType type, std::string name) {
  return std::make_unique<ColumnRef>(index, type, std::move(name));
}

ExprPtr MakeConstant(Value v, bool unknown_literal) {
  return std::make_unique<Constant>(std::move(v), unknown_literal);
}

absl::StatusOr<Value> EvaluateConstant(Expr* e) { return EvalConst(e); }

absl::StatusOr<Interval> ParseInterval(std::string_view text) { return ParseIntervalText(text); }

int64_t AddMonthsToMicros(int64_t micros, int32_t months, bool* overflow) {
  if (months == 0) return micros;
  int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t tod = micros - days * kMicrosPerDay;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  int64_t total = y * 12 + (m - 1) + months;
  int64_t ny = FloorDiv(total, 12);
  unsigned nm = static_cast<unsigned>(total - ny * 12) + 1;
  if (ny < 1 || ny > 9999) {
    *overflow = true;
    return 0;
  }
  unsigned nd = std::min(d, DaysInMonth(ny, nm));
  return DaysFromCivil(ny, nm, nd) * kMicrosPerDay + tod;
}

std::string FoldCase(std::string_view s, bool upper) {
  std::string out(s);
  for (size_t i = 0; i < out.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    if (c < 0x80) {
      out[i] = upper ? absl::ascii_toupper(c) : absl::ascii_tolower(c);
    } else if (c == 0xC3 && i + 1 < out.size()) {
      // U+00C0..U+00DE <-> U+00E0..U+00FE, except U+00D7 / U+00F7.
      unsigned char c2 = static_cast<unsigned char>(out[i + 1]);
      if (upper && c2 >= 0xA0 && c2 <= 0xBE && c2 != 0xB7) out[i + 1] = static_cast<char>(c2 - 0x20);
      if (!upper && c2 >= 0x80 && c2 <= 0x9E && c2 != 0x97) out[i + 1] = static_cast<char>(c2 + 0x20);
      ++i;
    }
  }
  return out;
}

bool LikeMatch(std::string_view s, std::string_view p, char32_t escape) {
  // Iterative matcher with backtracking to the last '%': O(|s| * |p|) worst case.
  size_t si = 0, pi = 0, star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size()) {
      char pc = p[pi];
      if (pc == '%') {
        star_p = ++pi;
        star_s = si;
        continue;
      }
      if (pc == '_') {
        si += Utf8Len(static_cast<unsigned char>(s[si]));
        pi += Utf8Len(static_cast<unsigned char>(pc));
        continue;
      }
      if (escape != 0 && static_cast<unsigned char>(pc) == escape && pi + 1 < p.size()) {
        ++pi;
        pc = p[pi];
      }
      if (s[si] == pc) {
        ++si;
        ++pi;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p;
    star_s += Utf8Len(static_cast<unsigned char>(s[star_s]));
    si = star_s;
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

absl::StatusOr<SqlType> CommonType(const SqlType& a, const SqlType& b, SourcePos pos,
                                   std::string_view what) {
  if (a == b) return a;
  if (a.kind == SqlKind::kNull) return b;
  if (b.kind == SqlKind::kNull) return a;
  if (a.IsInteger() && b.IsInteger()) return IntRank(a.kind) >= IntRank(b.kind) ? a : b;
  if (a.IsNumeric() && b.IsNumeric()) {
    if (a.IsFloating() || b.IsFloating()) return SqlType::Of(SqlKind::kDouble);
    SqlType x = a.IsInteger() ? SqlType::Decimal(IntDigits(a.kind), 0) : a;
    SqlType y = b.IsInteger() ? SqlType::Decimal(IntDigits(b.kind), 0) : b;
    int s = std::max(x.scale, y.scale);
    int ints = std::max(x.precision - x.scale, y.precision - y.scale);
    // Beyond 38 digits no DECIMAL holds both exactly: compare as DOUBLE.
    if (ints + s > 38) return SqlType::Of(SqlKind::kDouble);
    return SqlType::Decimal(ints + s, s);
  }
  if (a.IsTemporal() && b.IsTemporal()) return SqlType::Of(SqlKind::kTimestamp);
  if (a.kind == b.kind) return a;  // e.g. two DECIMAL handled above; STRING/BINARY same kind
  return ErrorAtPos(pos, StrCat("operator does not exist: ", what, " (add an explicit CAST)"));
}

absl::StatusOr<ExprPtr> MakeCast(ExprPtr x, SqlType target, SourcePos pos) {
  SqlType from = x->type();
  if (from == target) return x;
  if (!CastAllowed(from, target)) {
    return ErrorAtPos(pos, StrCat("cannot cast ", from.ToString(), " to ", target.ToString()));
  }
  std::vector<ExprPtr> args;
  args.push_back(std::move(x));
  absl::StatusOr<ExprPtr> r = Finish(
      "CAST", target, std::move(args),
      [](const std::vector<const Vector*>& v, size_t n, Vector* out) { return CastRows(*v[0], n, out); });
  if (!r.ok()) return ErrorAtPos(pos, ToStd(r.status().message()));
  return r;
}

absl::StatusOr<ExprPtr> CoerceTo(ExprPtr x, SqlType t, SourcePos pos) {
  if (x->type() == t) return x;
  return MakeCast(std::move(x), t, pos);
}

absl::StatusOr<ExprPtr> MakeBinary(const std::string& op, ExprPtr a, ExprPtr b, SourcePos pos) {
  absl::StatusOr<ExprPtr> r;
  if (op == "and" || op == "or") {
    RETL_ASSIGN_OR_RETURN(a, ToBoolean(std::move(a), pos, op == "and" ? "AND" : "OR"));
    RETL_ASSIGN_OR_RETURN(b, ToBoolean(std::move(b), pos, op == "and" ? "AND" : "OR"));
    if (a->constant() != nullptr && b->constant() != nullptr) {
      std::vector<ExprPtr> args;
      args.push_back(std::move(a));
      args.push_back(std::move(b));
      r = Finish(op == "and" ? "AND" : "OR", SqlType::Of(SqlKind::kBoolean), std::move(args),
                 AndOrKernel(op == "and"), true);
    } else {
      r = ExprPtr(std::make_unique<AndOrExpr>(op == "and", std::move(a), std::move(b)));
    }
  } else if (op == "=" || op == "<>" || op == "<" || op == "<=" || op == ">" || op == ">=") {
    r = MakeComparison(op, std::move(a), std::move(b), pos);
  } else if (op == "||") {
    // Text concatenation; a non-text side is converted to text, as PostgreSQL does.
    for (ExprPtr* e : {&a, &b}) {
      if ((*e)->type().kind != SqlKind::kString) {
        if ((*e)->type().kind == SqlKind::kBinary) return OperatorError(pos, a->type(), op, b->type());
        RETL_ASSIGN_OR_RETURN(*e, MakeCast(std::move(*e), SqlType::Of(SqlKind::kString), pos));
      }
    }
    std::vector<ExprPtr> args;
    args.push_back(std::move(a));
    args.push_back(std::move(b));
    r = Finish("||", SqlType::Of(SqlKind::kString), std::move(args),
               [](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
                 AndValid(v, n, out);
                 StringHeap* heap = out->NewHeap();
                 std::string buf;
                 for (size_t i = 0; i < n; ++i) {
                   if (!out->valid[i]) continue;
                   buf.assign(v[0]->str[i]);
                   buf.append(v[1]->str[i]);
                   out->str[i] = heap->Add(buf);
                 }
                 return absl::OkStatus();
               }, true);
  } else {
    r = MakeArithmetic(op, std::move(a), std::move(b), pos);
  }
  if (!r.ok() && !absl::StartsWith(r.status().message(), "line ")) {
    return ErrorAtPos(pos, ToStd(r.status().message()));
  }
  return r;
}

absl::StatusOr<ExprPtr> MakeUnary(const std::string& op, ExprPtr x, SourcePos pos) {
  std::vector<ExprPtr> args;
  if (op == "not") {
    RETL_ASSIGN_OR_RETURN(x, ToBoolean(std::move(x), pos, "NOT"));
    args.push_back(std::move(x));
    return Finish("NOT", SqlType::Of(SqlKind::kBoolean), std::move(args),
                  [](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
                    AndValid(v, n, out);
                    for (size_t i = 0; i < n; ++i) out->i64[i] = !v[0]->i64[i];
                    return absl::OkStatus();
                  }, true);
  }
  if (op == "+") {
    if (!x->type().IsNumeric() && x->type().kind != SqlKind::kInterval) {
      return ErrorAtPos(pos, StrCat("operator does not exist: + ", x->type().ToString()));
    }
    return x;
  }
  // Unary minus (a kernel of its own so that -0.0 stays negative zero).
  SqlType t = x->type();
  if (t.IsInteger() || t.IsFloating() || t.kind == SqlKind::kDecimal || t.kind == SqlKind::kInterval) {
    args.push_back(std::move(x));
    return Finish("-", t, std::move(args), [t](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
      AndValid(v, n, out);
      int64_t lo, hi;
      IntRange(t.kind, &lo, &hi);
      for (size_t i = 0; i < n; ++i) {
        if (!out->valid[i]) continue;
        switch (t.storage()) {
          case Storage::kDouble: out->f64[i] = -v[0]->f64[i]; break;
          case Storage::kInt128: out->i128[i] = -v[0]->i128[i]; break;
          case Storage::kInterval: {
            const Interval& x = v[0]->iv[i];
            out->iv[i] = Interval{-x.months, -x.days, -x.micros};
            break;
          }
          default: {
            int64_t x = v[0]->i64[i];
            if (x == INT64_MIN || (t.kind != SqlKind::kDecimal && x < -hi)) {
              return absl::InvalidArgumentError(RangeName(t.kind));
            }
            out->i64[i] = -x;
          }
        }
      }
      return absl::OkStatus();
    }, true);
  }
  return ErrorAtPos(pos, StrCat("operator does not exist: - ", t.ToString()));
}

absl::StatusOr<ExprPtr> MakeIsNull(ExprPtr x, bool negated) {
  std::vector<ExprPtr> args;
  args.push_back(std::move(x));
  return Finish(negated ? "IS NOT NULL" : "IS NULL", SqlType::Of(SqlKind::kBoolean), std::move(args),
                [negated](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
                  for (size_t i = 0; i < n; ++i) out->i64[i] = (v[0]->valid[i] != 0) == negated;
                  return absl::OkStatus();
                });
}

absl::StatusOr<ExprPtr> MakeIsDistinct(ExprPtr a, ExprPtr b, bool negated, SourcePos pos) {
  RETL_RETURN_IF_ERROR(Unify(&a, &b, pos, StrCat(a->type().ToString(), " IS DISTINCT FROM ", b->type().ToString())));
  Kernel eq = CompareKernel(CmpOp::kEq, a->type().storage());
  std::vector<ExprPtr> args;
  args.push_back(std::move(a));
  args.push_back(std::move(b));
  return Finish(negated ? "IS NOT DISTINCT FROM" : "IS DISTINCT FROM", SqlType::Of(SqlKind::kBoolean),
                std::move(args),
                [eq, negated](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
                  RETL_RETURN_IF_ERROR(eq(v, n, out));
                  for (size_t i = 0; i < n; ++i) {
                    bool av = v[0]->valid[i], bv = v[1]->valid[i];
                    bool same = (!av && !bv) || (av && bv && out->i64[i]);
                    out->valid[i] = 1;
                    out->i64[i] = negated ? same : !same;
                  }
                  return absl::OkStatus();
                }, true);
}

absl::StatusOr<ExprPtr> MakeIn(ExprPtr x, std::vector<ExprPtr> list, bool negated, SourcePos pos) {
  // The common type of x and every item.
  SqlType t = x->type();
  bool x_unknown = x->unknown_literal();
  for (ExprPtr& e : list) {
    if (e->unknown_literal() && !x_unknown) continue;
    RETL_ASSIGN_OR_RETURN(t, CommonType(t, e->type(), pos, StrCat(x->type().ToString(), " IN (", e->type().ToString(), ")")));
  }
  if (t.kind == SqlKind::kNull) {
    // NULL IN ('a'): the quoted items decide, as unknown literals are text.
    for (ExprPtr& e : list) {
      if (e->unknown_literal()) t = SqlType::Of(SqlKind::kString);
    }
  }
  RETL_ASSIGN_OR_RETURN(x, CoerceTo(std::move(x), t, pos));
  bool all_constant = true;
  for (ExprPtr& e : list) {
    RETL_ASSIGN_OR_RETURN(e, CoerceTo(std::move(e), t, pos));
    all_constant = all_constant && e->constant() != nullptr;
  }
  if (!all_constant) return absl::InternalError("MakeIn: the IN list has non-constant items");
  std::vector<Value> values;
  bool has_null = false;
  for (ExprPtr& e : list) {
    if (e->constant()->null) has_null = true;
    else values.push_back(*e->constant());
  }
  const bool constant_input = x->constant() != nullptr;
  ExprPtr r = std::make_unique<InSet>(std::move(x), std::move(values), has_null, negated);
  if (constant_input) {
    RETL_ASSIGN_OR_RETURN(Value v, EvalConst(r.get()));
    return MakeConstant(v);
  }
  return r;
}

absl::StatusOr<ExprPtr> MakeLike(ExprPtr x, ExprPtr pattern, ExprPtr escape, bool ilike, bool negated,
                                 SourcePos pos) {
  std::vector<ExprPtr> args;
  args.push_back(std::move(x));
  args.push_back(std::move(pattern));
  const char* name = ilike ? "ILIKE" : "LIKE";
  for (size_t i = 0; i < 2; ++i) {
    SqlType t = args[i]->type();
    if (t.kind != SqlKind::kString && t.kind != SqlKind::kNull) {
      return ErrorAtPos(pos, StrCat("operator does not exist: ", args[0]->type().ToString(), " ", name, " ",
                                    args[1]->type().ToString()));
    }
    RETL_ASSIGN_OR_RETURN(args[i], CoerceTo(std::move(args[i]), SqlType::Of(SqlKind::kString), pos));
  }
  char32_t esc = '\\';
  if (escape != nullptr) {
    const Value* v = escape->constant();
    if (v == nullptr || v->type.kind != SqlKind::kString) return ErrorAtPos(pos, "ESCAPE must be a string literal");
    if (v->s.size() > 1) return ErrorAtPos(pos, "ESCAPE must be empty or one character");
    esc = v->s.empty() ? 0 : static_cast<unsigned char>(ilike ? FoldCase(v->s, false)[0] : v->s[0]);
  }
  std::optional<LikePlan> plan;
  std::string const_pattern;
  if (const Value* p = args[1]->constant(); p != nullptr && !p->null) {
    const_pattern = ilike ? FoldCase(p->s, false) : p->s;
    plan = PlanLike(const_pattern, esc);
  }
  std::string display = StrCat(negated ? "NOT " : "", name);
  const bool prefix = plan.has_value() && !ilike && !negated &&
                      (plan->kind == LikePlan::kPrefix || plan->kind == LikePlan::kExact);
  const std::string literal = prefix ? plan->literal : std::string();
  absl::StatusOr<ExprPtr> like = Finish(display, SqlType::Of(SqlKind::kBoolean), std::move(args),
                [=](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
                  AndValid(v, n, out);
                  std::string folded, folded_p;
                  for (size_t i = 0; i < n; ++i) {
                    if (!out->valid[i]) continue;
                    std::string_view s = v[0]->str[i];
                    bool m;
                    if (ilike) {
                      folded = FoldCase(s, false);
                      s = folded;
                    }
                    if (plan.has_value()) {
                      m = RunLike(*plan, s, const_pattern, esc);
                    } else {
                      std::string_view p = v[1]->str[i];
                      if (ilike) {
                        folded_p = FoldCase(p, false);
                        p = folded_p;
                      }
                      m = LikeMatch(s, p, esc);
                    }
                    out->i64[i] = m != negated;
                  }
                  return absl::OkStatus();
                }, true);
  if (like.ok() && prefix) {
    if (auto* f = dynamic_cast<Func*>(like->get())) f->set_like_prefix(literal);
  }
  return like;
}

absl::StatusOr<ExprPtr> MakeCase(std::vector<ExprPtr> conditions, std::vector<ExprPtr> values,
                                 ExprPtr otherwise, SourcePos pos) {
  for (ExprPtr& c : conditions) {
    RETL_ASSIGN_OR_RETURN(c, ToBoolean(std::move(c), pos, "CASE/WHEN"));
  }
  SqlType t = SqlType::Of(SqlKind::kNull);
  bool all_unknown = true;
  for (ExprPtr& v : values) {
    if (v->unknown_literal()) continue;
    all_unknown = false;
    RETL_ASSIGN_OR_RETURN(t, CommonType(t, v->type(), pos, StrCat("CASE types ", t.ToString(), " and ", v->type().ToString())));
  }
  if (otherwise && !otherwise->unknown_literal()) {
    all_unknown = false;
    RETL_ASSIGN_OR_RETURN(t, CommonType(t, otherwise->type(), pos, StrCat("CASE types ", t.ToString(), " and ", otherwise->type().ToString())));
  }
  if (all_unknown || t.kind == SqlKind::kNull) {
    t = all_unknown && (!values.empty() && values[0]->unknown_literal()) ? SqlType::Of(SqlKind::kString) : t;
    if (t.kind == SqlKind::kNull) t = SqlType::Of(SqlKind::kString);
  }
  for (ExprPtr& v : values) {
    RETL_ASSIGN_OR_RETURN(v, CoerceTo(std::move(v), t, pos));
  }
  if (otherwise) {
    RETL_ASSIGN_OR_RETURN(otherwise, CoerceTo(std::move(otherwise), t, pos));
  }
  // Constant conditions: pick the branch now.
  std::vector<ExprPtr> keep_c, keep_v;
  for (size_t i = 0; i < conditions.size(); ++i) {
    const Value* c = conditions[i]->constant();
    if (c != nullptr && keep_c.empty()) {
      if (!c->null && c->i) return std::move(values[i]);
      continue;  // false or NULL: never taken
    }
    keep_c.push_back(std::move(conditions[i]));
    keep_v.push_back(std::move(values[i]));
  }
  if (keep_c.empty()) return otherwise ? std::move(otherwise) : MakeConstant(Value::Null(t));
  return ExprPtr(std::make_unique<CaseExpr>(t, std::move(keep_c), std::move(keep_v), std::move(otherwise)));
}

absl::StatusOr<ExprPtr> MakeExtract(const std::string& field_in, ExprPtr x, SourcePos pos) {
  std::string field = absl::AsciiStrToLower(ToAbsl(field_in));
  if (x->unknown_literal()) {
    RETL_ASSIGN_OR_RETURN(x, MakeCast(std::move(x), SqlType::Of(SqlKind::kTimestamp), pos));
  }
  SqlType t = x->type();
  if (!t.IsTemporal() && t.kind != SqlKind::kNull) {
    return ErrorAtPos(pos, StrCat("function \"extract\" does not exist for argument type ", t.ToString()));
  }
  static constexpr std::string_view kFields[] = {"year", "month", "day", "hour", "minute", "second", "dow",
                                                 "isodow", "doy", "quarter", "week", "epoch", "millisecond",
                                                 "microsecond", "decade", "century", "isoyear"};
  bool known = false;
  for (std::string_view f : kFields) known = known || f == field;
  if (field == "years") field = "year";
  if (!known) return ErrorAtPos(pos, StrCat("unit \"", field, "\" not recognized for extract"));
  bool is_double = field == "second" || field == "epoch";
  SqlType rt = SqlType::Of(is_double ? SqlKind::kDouble : SqlKind::kBigInt);
  std::vector<ExprPtr> args;
  args.push_back(std::move(x));
  return Finish(StrCat("extract_", field), rt, std::move(args),
                [field, is_double](const std::vector<const Vector*>& v, size_t n, Vector* out) -> absl::Status {
                  AndValid(v, n, out);
                  for (size_t i = 0; i < n; ++i) {
                    if (!out->valid[i]) continue;
                    int64_t us = Micros(*v[0], i);
                    int64_t days = FloorDiv(us, kMicrosPerDay);
                    int64_t tod = us - days * kMicrosPerDay;
                    int64_t y;
                    unsigned m, d;
                    CivilFromDays(days, &y, &m, &d);
                    int64_t r = 0;
                    if (field == "year") r = y;
                    else if (field == "month") r = m;
                    else if (field == "day") r = d;
                    else if (field == "hour") r = tod / (3600 * kMicrosPerSecond);
                    else if (field == "minute") r = tod / (60 * kMicrosPerSecond) % 60;
                    else if (field == "dow") r = ((days % 7) + 7 + 4) % 7;  // Sunday = 0
                    else if (field == "isodow") r = (((days % 7) + 7 + 3) % 7) + 1;
                    else if (field == "doy") r = days - DaysFromCivil(y, 1, 1) + 1;
                    else if (field == "quarter") r = (m - 1) / 3 + 1;
                    else if (field == "week") r = IsoWeek(days);
                    else if (field == "isoyear") {
                      int64_t dow = ((days % 7) + 7 + 3) % 7;
                      unsigned mm, dd;
                      CivilFromDays(days - dow + 3, &r, &mm, &dd);
                    } else if (field == "millisecond") r = tod % (60 * kMicrosPerSecond) / 1000;
                    else if (field == "microsecond") r = tod % (60 * kMicrosPerSecond);
                    else if (field == "decade") r = FloorDiv(y, 10);
                    else if (field == "century") r = y > 0 ? (y + 99) / 100 : -((99 - y) / 100);
                    if (is_double) {
                      out->f64[i] = field == "epoch" ? static_cast<double>(us) / 1e6
                                                     : static_cast<double>(tod % (60 * kMicrosPerSecond)) / 1e6;
                    } else {
                      out->i64[i] = r;
                    }
                  }
                  return absl::OkStatus();
                }, false);
}

absl::StatusOr<ExprPtr> MakeFunction(const std::string& name, std::vector<ExprPtr> args, SourcePos pos) {
  using V = std::vector<const Vector*>;
  const SqlType kStr = SqlType::Of(SqlKind::kString);
  const SqlType kBig = SqlType::Of(SqlKind::kBigInt);
  const SqlType kDbl = SqlType::Of(SqlKind::kDouble);
  const SqlType kBool = SqlType::Of(SqlKind::kBoolean);

  if (name == "lower" || name == "upper") {
    RETL_RETURN_IF_ERROR(ArgCount(name, args, 1, 1, pos));
    RETL_RETURN_IF_ERROR(NeedText(name, args, 0, pos));
    bool up = name == "upper";
    return Finish(name, kStr, std::move(args),
                  StringUnary([up](std::string_view s, std::string* o) { *o = FoldCase(s, up); }));
  }
  if (name == "length" || name == "char_length" || name == "character_length" || name == "octet_length") {
    RETL_RETURN_IF_ERROR(ArgCount(name, args, 1, 1, pos));
    if (args[0]->type().kind == SqlKind::kBinary || name == "octet_length") {
      if (args[0]->type().kind != SqlKind::kBinary) RETL_RETURN_IF_ERROR(NeedText(name, args, 0, pos));
    } else {
      RETL_RETURN_IF_ERROR(NeedText(name, args, 0, pos));
    }
    bool bytes = args[0]->type().kind == SqlKind::kBinary || name == "octet_length";
    return Finish(name, kBig, std::move(args), [bytes](const V& v, size_t n, Vector* out) -> absl::Status {
      AndValid(v, n, out);
      for (size_t i = 0; i < n; ++i) {
        if (out->valid[i]) out->i64[i] = static_cast<int64_t>(bytes ? v[0]->str[i].size() : CharCount(v[0]->str[i]));
      }
      return absl::OkStatus();
    });
  }
  if (name == "substr" || name == "substring") {
    RETL_RETURN_IF_ERROR(ArgCount(name, args, 2, 3, pos));
    RETL_RETURN_IF_ERROR(NeedText(name, args, 0, pos));
    for (size_t i = 1; i < args.size(); ++i) {
      if (!args[i]->type().IsInteger() && args[i]->type().kind != SqlKind::kNull) {
        return ErrorAtPos(pos, StrCat("function \"", name, "\": start and length must be integers"));
      }
      RETL_ASSIGN_OR_RETURN(args[i], CoerceTo(std::move(args[i]), kBig, pos));
    }
    bool has_len = args.size() == 3;
    return Finish(name, kStr, std::move(args), [has_len](const V& v, size_t n, Vector* out) -> absl::Status {
      AndValid(v, n, out);
      for (size_t i = 0; i < n; ++i) {
        if (!out->valid[i]) continue;
        std::string_view s = v[0]->str[i];
        int64_t start = v[1]->i64[i];  // 1-based, may be <= 0 (PostgreSQL)
        int64_t end = INT64_MAX;
        if (has_len) {
          int64_t len = v[2]->i64[i];
          if (len < 0) return absl::InvalidArgumentError("negative substring length not allowed");
          end = __builtin_add_overflow(start, len, &end) ? INT64_MAX : end;
        }
        int64_t b = std::max<int64_t>(start, 1);
        if (end <= b) {
          out->str[i] = std::string_view();
          continue;
        }
        size_t bo = CharOffset(s, b - 1);
        size_t eo = end == INT64_MAX ? s.size() : CharOffset(s, end - 1);
        out->str[i] = s.substr(bo, eo - bo);
      }
      return absl::OkStatus();
    });
  }
  if (name == "left" || name == "right") {
    RETL_RETURN_IF_ERROR(ArgCount(name, args, 2, 2, pos));
    RETL_RETURN_IF_ERROR(NeedText(name, args, 0, pos));
    RETL_ASSIGN_OR_RETURN(args[1], CoerceTo(std::move(args[1]), kBig, pos));
    bool left = name == "left";
    return Finish(name, kStr, std::move(args), [left](const V& v, size_t n, Vector* out) -> absl::Status {
      AndValid(v, n, out);
      for (size_t i = 0; i < n; ++i) {
        if (!out->valid[i]) continue;
        std::string_view s = v[0]->str[i];
        int64_t k = v[1]->i64[i];
        int64_t len = static_cast<int64_t>(CharCount(s));
        int64_t take = k >= 0 ? std::min(k, len) : std::max<int64_t>(0, len + k);
        out->str[i] = left ? s.substr(0, CharOffset(s, take)) : s.substr(CharOffset(s, len - take));
      }
      return absl::OkStatus();
    });
  }
  if (name == "concat") {
    for (ExprPtr& a : args) {
      if (a->type().kind != SqlKind::kString) {
        RETL_ASSIGN_OR_RETURN(a, MakeCast(std::move(a), kStr, pos));
      }
    }
    return Finish(name, kStr, std::move(args), [](const V& v, size_t n, Vector* out) -> absl::Status {
      StringHeap* heap = out->NewHeap();
      std::string buf;
      for (size_t i = 0; i < n; ++i) {
        buf.clear();
        for (const Vector* a : v) {
          if (a->valid[i]) buf.append(a->str[i]);
        }
        out->str[i] = heap->Add(buf);
      }
      return absl::OkStatus();
    });
  }
  if (name == "trim" || name == "ltrim" || name == "rtrim" || name == "btrim") {
    RETL_RETURN_IF_ERROR(ArgCount(name, args, 1, 2, pos));
    for (size_t i = 0; i < args.size(); ++i) RETL_RETURN_IF_ERROR(NeedText(name, args, i, pos));
    bool l = name != "rtrim", r = name != "ltrim";
    bool has_chars = args.size() == 2;
    return Finish(name, kStr, std::move(args), [=](const V& v, size_t n, Vector* out) -> absl::Status {
      AndValid(v, n, out);
      for (size_t i = 0; i < n; ++i) {
        if (!out->valid[i]) continue;
        std::string_view s = v[0]->str[i];
        std::string_view chars = has_chars ? v[1]->str[i] : std::string_view(" ");
        // Characters, not bytes: trim('ÀÉ', 'é') must not cut a UTF-8 sequence.
        auto in_set = [&](std::string_view ch) {
          for (size_t k = 0; k < chars.size();) {
            size_t len = std::min(Utf8Len(static_cast<unsigned char>(chars[k])), chars.size() - k);
            if (chars.substr(k, len) == ch) return true;
            k += len;
          }
          return false;
        };
        size_t b = 0, e = s.size();
        while (l && b < e) {
          size_t len = std::min(Utf8Len(static_cast<unsigned char>(s[b])), e - b);
          if (!in_set(s.substr(b, len))) break;
          b += len;
        }
        while (r && e > b) {
          size_t start = e - 1;
          while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
          if (!in_set(s.substr(start, e - start))) break;
          e = start;
        }
        out->str[i] = s.substr(b, e - b);
      }
      return absl::OkStatus();
    });
  }
  if (name == "starts_with" || name == "contains" || name == "ends_with") {
    RETL_RETURN_IF_ERROR(ArgCount(name, args, 2, 2, pos));
    RETL_RETURN_IF_ERROR(NeedText(name, args, 0, pos));
    RETL_RETURN_IF_ERROR(NeedText(name, args, 1, pos));
    int mode = name == "starts_with" ? 0 : name == "contains" ? 1 : 2;
    return Finish(name, kBool, std::move(args), [mode](const V& v, size_t n, Vector* out) -> absl::Status {
      AndValid(v, n, out);
      for (size_t i = 0; i < n; ++i) {
        if (!out->valid[i]) continue;
        absl::string_view s = ToAbsl(v[0]->str[i]), x = ToAbsl(v[1]->str[i]);
        out->i64[i] = mode == 0 ? absl::StartsWith(s, x) : mode == 1 ? s.find(x) != absl::string_view::npos
                                                                      : absl::EndsWith(s, x);
      }
      return absl::OkStatus();
    });
  }
  if (name == "strpos" || name == "position") {
    RETL_RETURN_IF_ERROR(ArgCount(name, args, 2, 2, pos));
    RETL_RETURN_IF_ERROR(NeedText(name, args, 0, pos));
    RETL_RETURN_IF_ERROR(NeedText(name, args, 1, pos));
    return Finish(name, kBig, std::move(args), [](const V& v, size_t n, Vector* out) -> absl::Status {
      AndValid(v, n, out);
      for (size_t i = 0; i < n; ++i) {
        if (!out->valid[i]) continue;
        size_t p = v[0]->str[i].find(v[1]->str[i]);
        out->i64[i] = p == std::string_view::npos ? 0 : static_cast<int64_t>(CharCount(v[0]->str[i].substr(0, p))) + 1;
      }
      return absl::OkStatus();
    });
  }
  if (name == "replace") {
    RETL_RETURN_IF_ERROR(ArgCount(name, args, 3, 3, pos));
    for (size_t i = 0; i < 3; ++i) RETL_RETURN_IF_ERROR(NeedText(name, args, i, pos));
    return Finish(name, kStr, std::move(args), [](const V& v, size_t n, Vector* out) -> absl::Status {
      AndValid(v, n, out);
      StringHeap* heap = out->NewHeap();
      for (size_t i = 0; i < n; ++i) {
        if (!out->valid[i]) continue;
        std::string_view from = v[1]->str[i];
        std::string s(v[0]->str[i]);
        if (!from.empty()) s = absl::StrReplaceAll(s, {{ToAbsl(from), ToAbsl(v[2]->str[i])}});
        out->str[i] = heap->Add(s);
      }
      return absl::OkStatus();
    });
  }
  if (name == "reverse") {
    RETL_RETURN_IF_ERROR(ArgCount(name, args, 1, 1, pos));
    RETL_RETURN_IF_ERROR(NeedText(name, args, 0, pos));
    return Finish(name, kStr, std::move(args), StringUnary([](std::string_view s, std::string* o) {
      size_t i = s.size();
      while (i > 0) {
        size_t b = i - 1;
        while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
        o->append(s.substr(b, i - b));
        i = b;
      }
    }));
  }
  if (name == "abs") {
    RETL_RETURN_IF_ERROR(ArgCount(name, args, 1, 1, pos));
    RETL_RETURN_IF_ERROR(NeedNumber(name, args, 0, pos));
    SqlType t = args[0]->type();
    return Finish(name, t, std::move(args), [t](const V& v, size_t n, Vector* out) -> absl::Status {
      AndValid(v, n, out);
      for (size_t i = 0; i < n; ++i) {
        if (!out->valid[i]) continue;
        switch (t.storage()) {
          case Storage::kDouble: out->f64[i] = std::fabs(v[0]->f64[i]); break;
          case Storage::kInt128: out->i128[i] = v[0]->i128[i] < 0 ? -v[0]->i128[i] : v[0]->i128[i]; break;
          default: {
            int64_t lo, hi;
            IntRange(t.kind, &lo, &hi);
            int64_t x = v[0]->i64[i];
            if (t.kind != SqlKind::kDecimal && x == lo) return absl::InvalidArgumentError(RangeName(t.kind));
            out->i64[i] = x < 0 ? -x : x;
          }
        }
      }
      return absl::OkStatus();
    });
  }
  if (name == "round" || name == "floor" || name == "ceil" || name == "ceiling" || name == "trunc") {
    RETL_RETURN_IF_ERROR(ArgCount(name, args, 1, name == "round" || name == "trunc" ? 2 : 1, pos));
    RETL_RETURN_IF_ERROR(NeedNumber(name, args, 0, pos));
    int64_t digits = 0;
    if (args.size() == 2) {
      const Value* d = args[1]->constant();
      if (d == nullptr || !d->type.IsInteger()) {
        return ErrorAtPos(pos, StrCat(name, "(x, n): n must be an integer constant"));
      }
      if (d->null) return MakeConstant(Value::Null(args[0]->type()));
      digits = d->i;
      if (digits < -38 || digits > 38) return ErrorAtPos(pos, StrCat(name, ": n out of range"));
    }
    SqlType t = args[0]->type();
    int mode = name == "round" ? 0 : name == "floor" ? 1 : name == "trunc" ? 3 : 2;
    if (t.IsInteger()) {
      if (digits >= 0) return std::move(args[0]);
      RETL_ASSIGN_OR_RETURN(args[0], MakeCast(std::move(args[0]), SqlType::Decimal(IntDigits(t.kind), 0), pos));
      t = args[0]->type();
    }
    std::vector<ExprPtr> one;
    one.push_back(std::move(args[0]));
    if (t.IsFloating()) {
      return Finish(name, kDbl, std::move(one), [mode, digits](const V& v, size_t n, Vector* out) -> absl::Status {
        AndValid(v, n, out);
        double scale = std::pow(10.0, static_cast<double>(digits));
        for (size_t i = 0; i < n; ++i) {
          double x = v[0]->f64[i] * scale;
          double r = mode == 0 ? std::round(x) : mode == 1 ? std::floor(x) : mode == 2 ? std::ceil(x) : std::trunc(x);
          out->f64[i] = digits == 0 ? r : r / scale;
        }
        return absl::OkStatus();
      });
    }
    // DECIMAL: result scale max(0, min(scale, digits)).
    int new_scale = static_cast<int>(std::clamp<int64_t>(digits, 0, t.scale));
    SqlType rt = SqlType::Decimal(std::min(38, t.precision - t.scale + new_scale + 1), new_scale);
    return Finish(name, rt, std::move(one), [mode, digits, t, rt](const V& v, size_t n, Vector* out) -> absl::Status {
      AndValid(v, n, out);
      int drop = t.scale - static_cast<int>(digits);  // digits to remove
      for (size_t i = 0; i < n; ++i) {
        if (!out->valid[i]) continue;
        int128 x = Unscaled(*v[0], i);
        int128 r = x;
        if (drop > 0) {
          int128 d = Pow10(std::min(drop, 38));
          int128 q = x / d, rem = x % d;
          if (mode == 0) q = RoundDiv(x, d);
          else if (mode == 1 && rem < 0) q -= 1;
          else if (mode == 2 && rem > 0) q += 1;
          // q counts units of 10^-digits; the result has scale rt.scale.
          r = q;
          const int shift = static_cast<int>(rt.scale - digits);  // >= 0
          if (shift > 0 && __builtin_mul_overflow(r, Pow10(std::min(shift, 38)), &r)) {
            return absl::InvalidArgumentError("numeric field overflow (out of range)");
          }
        }
        if (!FitsPrecision(r, rt.precision)) return absl::InvalidArgumentError("numeric field overflow (out of range)");
        SetUnscaled(out, i, r);
      }
      return absl::OkStatus();
    });
  }
  if (name == "sqrt" || name == "ln" || name == "exp" || name == "log10" || name == "log" || name == "cbrt" ||
      name == "sign" || name == "power" || name == "pow") {
    bool binary = name == "power" || name == "pow";
    RETL_RETURN_IF_ERROR(ArgCount(name, args, binary ? 2 : 1, binary ? 2 : 1, pos));
    for (size_t i = 0; i < args.size(); ++i) {
      RETL_RETURN_IF_ERROR(NeedNumber(name, args, i, pos));
      RETL_ASSIGN_OR_RETURN(args[i], CoerceTo(std::move(args[i]), kDbl, pos));
    }
    std::string fn = name;
    return Finish(name, kDbl, std::move(args), [fn](const V& v, size_t n, Vector* out) -> absl::Status {
      AndValid(v, n, out);
      for (size_t i = 0; i < n; ++i) {
        if (!out->valid[i]) continue;
        double x = v[0]->f64[i];
        double r = 0;
        if (fn == "sqrt") {
          if (x < 0) return absl::InvalidArgumentError("cannot take square root of a negative number");
          r = std::sqrt(x);
        } else if (fn == "ln" || fn == "log10" || fn == "log") {
          if (x == 0) return absl::InvalidArgumentError("cannot take logarithm of zero");
          if (x < 0) return absl::InvalidArgumentError("cannot take logarithm of a negative number");
          r = fn == "ln" ? std::log(x) : std::log10(x);
        } else if (fn == "exp") r = std::exp(x);
        else if (fn == "cbrt") r = std::cbrt(x);
        else if (fn == "sign") r = (x > 0) - (x < 0);
        else r = std::pow(x, v[1]->f64[i]);
        out->f64[i] = r;
      }
      return absl::OkStatus();
    });
  }
  if (name == "coalesce" || name == "greatest" || name == "least") {
    if (args.empty()) return ErrorAtPos(pos, StrCat("function ", name, " needs at least one argument"));
    SqlType t = SqlType::Of(SqlKind::kNull);
    for (ExprPtr& a : args) {
      if (a->unknown_literal()) continue;
      RETL_ASSIGN_OR_RETURN(t, CommonType(t, a->type(), pos, StrCat(name, " types ", t.ToString(), " and ", a->type().ToString())));
    }
    if (t.kind == SqlKind::kNull) t = kStr;
    for (ExprPtr& a : args) { RETL_ASSIGN_OR_RETURN(a, CoerceTo(std::move(a), t, pos)); }
    int mode = name == "coalesce" ? 0 : name == "greatest" ? 1 : 2;
    return Finish(name, t, std::move(args), [mode, t](const V& v, size_t n, Vector* out) -> absl::Status {
      for (size_t i = 0; i < n; ++i) {
        int pick = -1;
        for (size_t k = 0; k < v.size(); ++k) {
          if (!v[k]->valid[i]) continue;
          if (pick < 0) {
            pick = static_cast<int>(k);
            if (mode == 0) break;
            continue;
          }
          Value a = Value::FromVector(*v[pick], i), b = Value::FromVector(*v[k], i);
          int c = 0;
          switch (t.storage()) {
            case Storage::kInt64: c = Cmp3(b.i, a.i); break;
            case Storage::kInt128: c = Cmp3(b.i128, a.i128); break;
            case Storage::kDouble: c = Cmp3(b.d, a.d); break;
            case Storage::kString: c = Cmp3(std::string_view(b.s), std::string_view(a.s)); break;
            case Storage::kInterval: c = Cmp3(b.iv, a.iv); break;
          }
          if ((mode == 1 && c > 0) || (mode == 2 && c < 0)) pick = static_cast<int>(k);
        }
        if (pick < 0) {
          out->valid[i] = 0;
          continue;
        }
        out->Set(i, *v[pick], i);
      }
      return absl::OkStatus();
    });
  }
  if (name == "nullif") {
    RETL_RETURN_IF_ERROR(ArgCount(name, args, 2, 2, pos));
    ExprPtr a = std::move(args[0]), b = std::move(args[1]);
    RETL_RETURN_IF_ERROR(Unify(&a, &b, pos, StrCat("NULLIF(", a->type().ToString(), ", ", b->type().ToString(), ")")));
    SqlType t = a->type();
    Kernel eq = CompareKernel(CmpOp::kEq, t.storage());
    std::vector<ExprPtr> two;
    two.push_back(std::move(a));
    two.push_back(std::move(b));
    return Finish(name, t, std::move(two), [eq](const V& v, size_t n, Vector* out) -> absl::Status {
      Vector tmp;
      tmp.Reset(SqlType::Of(SqlKind::kBoolean), n);
      RETL_RETURN_IF_ERROR(eq(v, n, &tmp));
      for (size_t i = 0; i < n; ++i) {
        out->Set(i, *v[0], i);
        if (tmp.valid[i] && tmp.i64[i]) out->valid[i] = 0;
      }
      return absl::OkStatus();
    });
  }
  if (name == "date_trunc") {
    RETL_RETURN_IF_ERROR(ArgCount(name, args, 2, 2, pos));
    const Value* unit = args[0]->constant();
    if (unit == nullptr || unit->null || unit->type.kind != SqlKind::kString) {
      return ErrorAtPos(pos, "date_trunc: the unit must be a string constant such as 'month'");
    }
    std::string u = absl::AsciiStrToLower(unit->s);
    RETL_RETURN_IF_ERROR(TruncMicros(u, 0).status());
    if (args[1]->unknown_literal()) { RETL_ASSIGN_OR_RETURN(args[1], MakeCast(std::move(args[1]), SqlType::Of(SqlKind::kTimestamp), pos)); }
    if (!args[1]->type().IsTemporal() && args[1]->type().kind != SqlKind::kNull) {
      return ErrorAtPos(pos, StrCat("function \"date_trunc\" does not exist for argument type ", args[1]->type().ToString()));
    }
    std::vector<ExprPtr> one;
    one.push_back(std::move(args[1]));
    return Finish(name, SqlType::Of(SqlKind::kTimestamp), std::move(one), [u](const V& v, size_t n, Vector* out) -> absl::Status {
      AndValid(v, n, out);
      for (size_t i = 0; i < n; ++i) {
        if (!out->valid[i]) continue;
        RETL_ASSIGN_OR_RETURN(out->i64[i], TruncMicros(u, Micros(*v[0], i)));
      }
      return absl::OkStatus();
    });
  }
  if (name == "date_part") {
    RETL_RETURN_IF_ERROR(ArgCount(name, args, 2, 2, pos));
    const Value* unit = args[0]->constant();
    if (unit == nullptr || unit->null || unit->type.kind != SqlKind::kString) {
      return ErrorAtPos(pos, "date_part: the field must be a string constant such as 'year'");
    }
    return MakeExtract(unit->s, std::move(args[1]), pos);
  }
  if (name == "current_date" || name == "current_timestamp" || name == "now") {
    RETL_RETURN_IF_ERROR(ArgCount(name, args, 0, 0, pos));
    int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    if (name == "current_date") return MakeConstant(Value::Int(SqlKind::kDate, FloorDiv(now, kMicrosPerDay)));
    return MakeConstant(Value::Int(SqlKind::kTimestamp, now));
  }
  static constexpr std::string_view kAggregates[] = {"count", "sum", "avg", "min", "max", "stddev",
                                                     "stddev_samp", "approx_count_distinct"};
  for (std::string_view a : kAggregates) {
    if (name == a) return ErrorAtPos(pos, StrCat("aggregate function ", name, "() is not allowed here"));
  }
  return ErrorAtPos(pos, StrCat("function \"", name, "\" does not exist"));
}

void IntegerRange(SqlKind k, int64_t* lo, int64_t* hi) { IntRange(k, lo, hi); }

bool MatchColumnComparison(Expr* e, int* column, std::string* op, Value* constant) {
  auto* f = dynamic_cast<Func*>(e);
  if (f == nullptr || f->args().size() != 2) return false;
  const std::string& o = f->name();
  if (o != "=" && o != "<" && o != "<=" && o != ">" && o != ">=") return false;
  Expr* l = f->args()[0].get();
  Expr* r = f->args()[1].get();
  if (l->column_index() >= 0 && r->constant() != nullptr) {
    *column = l->column_index();
    *op = o;
    *constant = *r->constant();
    return true;
  }
  if (r->column_index() >= 0 && l->constant() != nullptr) {
    *column = r->column_index();
    *op = o == "<" ? ">" : o == "<=" ? ">=" : o == ">" ? "<" : o == ">=" ? "<=" : o;
    *constant = *l->constant();
    return true;
  }
  return false;
}

bool MatchColumnLikePrefix(Expr* e, int* column, std::string* prefix) {
  auto* f = dynamic_cast<Func*>(e);
  if (f == nullptr || !f->like_prefix().has_value() || f->args().empty()) return false;
  if (f->args()[0]->column_index() < 0) return false;
  *column = f->args()[0]->column_index();
  *prefix = *f->like_prefix();
  return true;
}

bool MatchColumnIn(Expr* e, int* column, std::vector<Value>* values) {
  auto* in = dynamic_cast<InSet*>(e);
  if (in == nullptr || in->negated() || in->input()->column_index() < 0) return false;
  *column = in->input()->column_index();
  *values = in->values();
  return true;
}

bool MatchColumnIsNull(Expr* e, int* column) {
  auto* f = dynamic_cast<Func*>(e);
  if (f == nullptr || f->args().size() != 1 || f->args()[0]->column_index() < 0) return false;
  if (f->name() != "IS NULL") return false;
  *column = f->args()[0]->column_index();
  return true;
}

void CollectConjuncts(Expr* e, std::vector<Expr*>* out) {
  if (auto* a = dynamic_cast<AndOrExpr*>(e); a != nullptr && a->is_and()) {
    std::vector<Expr*> kids;
    a->Children(&kids);
    for (Expr* k : kids) CollectConjuncts(k, out);
    return;
  }
  out->push_back(e);
}

void CollectColumns(Expr* e, std::vector<int>* out) {
  if (e->column_index() >= 0) out->push_back(e->column_index());
  std::vector<Expr*> kids;
  e->Children(&kids);
  for (Expr* k : kids) CollectColumns(k, out);
}

}  // namespace retl
