#include "query/vector.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "format/strings.h"
#include "format/text.h"

namespace retl {

SqlType SqlType::FromData(const DataType& t) {
  switch (t.id) {
    case TypeId::kBoolean: return Of(SqlKind::kBoolean);
    case TypeId::kTinyInt: return Of(SqlKind::kTinyInt);
    case TypeId::kSmallInt: return Of(SqlKind::kSmallInt);
    case TypeId::kInt: return Of(SqlKind::kInt);
    case TypeId::kBigInt: return Of(SqlKind::kBigInt);
    case TypeId::kFloat: return Of(SqlKind::kFloat);
    case TypeId::kDouble: return Of(SqlKind::kDouble);
    case TypeId::kDecimal: return Decimal(t.precision, t.scale);
    case TypeId::kString: return Of(SqlKind::kString);
    case TypeId::kBinary: return Of(SqlKind::kBinary);
    case TypeId::kDate: return Of(SqlKind::kDate);
    case TypeId::kTimestamp: return Of(SqlKind::kTimestamp);
  }
  return Of(SqlKind::kNull);
}

DataType SqlType::ToData() const {
  switch (kind) {
    case SqlKind::kBoolean: return DataType::Of(TypeId::kBoolean);
    case SqlKind::kTinyInt: return DataType::Of(TypeId::kTinyInt);
    case SqlKind::kSmallInt: return DataType::Of(TypeId::kSmallInt);
    case SqlKind::kInt: return DataType::Of(TypeId::kInt);
    case SqlKind::kBigInt: return DataType::Of(TypeId::kBigInt);
    case SqlKind::kFloat: return DataType::Of(TypeId::kFloat);
    case SqlKind::kDouble: return DataType::Of(TypeId::kDouble);
    case SqlKind::kDecimal: return DataType::Decimal(precision, scale);
    case SqlKind::kBinary: return DataType::Of(TypeId::kBinary);
    case SqlKind::kDate: return DataType::Of(TypeId::kDate);
    case SqlKind::kTimestamp: return DataType::Of(TypeId::kTimestamp);
    default: return DataType::Of(TypeId::kString);
  }
}

std::string SqlType::ToString() const {
  switch (kind) {
    case SqlKind::kNull: return "NULL";
    case SqlKind::kInterval: return "INTERVAL";
    default: return ToData().ToString();
  }
}

std::string_view StringHeap::Add(std::string_view s) {
  constexpr size_t kBlock = 64 * 1024;
  if (s.size() > kBlock / 4) {
    // Large strings get a block of their own, put before the current one so
    // the current block's free space is not wasted.
    blocks_.push_front(Block{std::unique_ptr<char[]>(new char[s.size()]), s.size()});
    std::memcpy(blocks_.front().data.get(), s.data(), s.size());
    return std::string_view(blocks_.front().data.get(), s.size());
  }
  if (blocks_.empty() || used_ + s.size() > blocks_.back().size) {
    // Not zero-filled: only what Add copies in is ever read.
    blocks_.push_back(Block{std::unique_ptr<char[]>(new char[kBlock]), kBlock});
    used_ = 0;
  }
  char* p = blocks_.back().data.get() + used_;
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  used_ += s.size();
  return std::string_view(p, s.size());
}

void Vector::Reset(SqlType t, size_t n) {
  type = t;
  size = n;
  valid.assign(n, 1);
  i64.clear();
  i128.clear();
  f64.clear();
  str.clear();
  iv.clear();
  keep.clear();
  dictionary.reset();
  constant = false;
  switch (t.storage()) {
    case Storage::kInt64: i64.assign(n, 0); break;
    case Storage::kInt128: i128.assign(n, 0); break;
    case Storage::kDouble: f64.assign(n, 0); break;
    case Storage::kString: str.assign(n, std::string_view()); break;
    case Storage::kInterval: iv.assign(n, Interval{}); break;
  }
}

void Vector::Resize(SqlType t, size_t n) {
  const Storage old_storage = type.storage();
  type = t;
  size = n;
  valid.resize(n);
  keep.clear();
  dictionary.reset();
  constant = false;
  if (old_storage != t.storage()) {
    i64.clear();
    i128.clear();
    f64.clear();
    str.clear();
    iv.clear();
  }
  switch (t.storage()) {
    case Storage::kInt64: i64.resize(n); break;
    case Storage::kInt128: i128.resize(n); break;
    case Storage::kDouble: f64.resize(n); break;
    case Storage::kString: str.resize(n); break;
    case Storage::kInterval: iv.resize(n); break;
  }
}

void Vector::Append(const Vector& src, size_t i) {
  dictionary.reset();  // codes no longer describe the rows
  constant = false;
  valid.push_back(src.valid[i]);
  switch (type.storage()) {
    case Storage::kInt64: i64.push_back(src.i64[i]); break;
    case Storage::kInt128: i128.push_back(src.i128[i]); break;
    case Storage::kDouble: f64.push_back(src.f64[i]); break;
    case Storage::kString: str.push_back(src.str[i]); break;
    case Storage::kInterval: iv.push_back(src.iv[i]); break;
  }
  ++size;
}

void Vector::AppendNull() {
  dictionary.reset();
  constant = false;
  valid.push_back(0);
  switch (type.storage()) {
    case Storage::kInt64: i64.push_back(0); break;
    case Storage::kInt128: i128.push_back(0); break;
    case Storage::kDouble: f64.push_back(0); break;
    case Storage::kString: str.emplace_back(); break;
    case Storage::kInterval: iv.emplace_back(); break;
  }
  ++size;
}

void Vector::KeepFrom(const Vector& src) {
  for (const auto& k : src.keep) {
    bool have = false;
    for (const auto& mine : keep) have = have || mine == k;
    if (!have) keep.push_back(k);
  }
}

StringHeap* Vector::NewHeap() {
  auto heap = std::make_shared<StringHeap>();
  StringHeap* raw = heap.get();
  keep.push_back(std::move(heap));
  return raw;
}

Value Value::Decimal(SqlType t, int128 unscaled) {
  Value v;
  v.type = t;
  v.null = false;
  if (t.storage() == Storage::kInt128) v.i128 = unscaled;
  else v.i = static_cast<int64_t>(unscaled);
  return v;
}

Value Value::FromVector(const Vector& vec, size_t i) {
  Value v;
  v.type = vec.type;
  v.null = !vec.valid[i];
  if (v.null) return v;
  switch (vec.type.storage()) {
    case Storage::kInt64: v.i = vec.i64[i]; break;
    case Storage::kInt128: v.i128 = vec.i128[i]; break;
    case Storage::kDouble: v.d = vec.f64[i]; break;
    case Storage::kString: v.s = std::string(vec.str[i]); break;
    case Storage::kInterval: v.iv = vec.iv[i]; break;
  }
  return v;
}

void Value::ToVector(Vector* vec, size_t row, StringHeap* heap) const {
  vec->valid[row] = !null;
  if (null) return;
  switch (vec->type.storage()) {
    case Storage::kInt64: vec->i64[row] = i; break;
    case Storage::kInt128: vec->i128[row] = i128; break;
    case Storage::kDouble: vec->f64[row] = d; break;
    case Storage::kString: vec->str[row] = heap->Add(s); break;
    case Storage::kInterval: vec->iv[row] = iv; break;
  }
}

int128 Pow10(int n) {
  int128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

std::string IntervalText(const Interval& iv) {
  // PostgreSQL's style: "1 year 2 mons 3 days 04:05:06".
  std::string out;
  auto part = [&](int64_t n, const char* one, const char* many) {
    if (n == 0) return;
    if (!out.empty()) out += ' ';
    StrAppend(&out, n, " ", n == 1 ? one : many);
  };
  part(iv.months / 12, "year", "years");
  part(iv.months % 12, "mon", "mons");
  part(iv.days, "day", "days");
  if (iv.micros != 0 || out.empty()) {
    if (!out.empty()) out += ' ';
    int64_t m = iv.micros;
    if (m < 0) {
      out += '-';
      m = -m;
    }
    int64_t secs = m / 1000000, frac = m % 1000000;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                  static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
    out += buf;
    if (frac != 0) {
      std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(frac));
      std::string f = buf;
      while (f.back() == '0') f.pop_back();
      out += f;
    }
  }
  return out;
}

namespace {
std::string ScalarText(SqlType t, int64_t i, int128 i128, double d, std::string_view s,
                       const Interval& iv) {
  switch (t.kind) {
    case SqlKind::kNull: return "NULL";
    case SqlKind::kBoolean: return i ? "true" : "false";
    case SqlKind::kTinyInt:
    case SqlKind::kSmallInt:
    case SqlKind::kInt:
    case SqlKind::kBigInt: return StrCat(i);
    case SqlKind::kFloat: return FormatFloat(static_cast<float>(d));
    case SqlKind::kDouble: return FormatDouble(d);
    case SqlKind::kDecimal:
      return FormatDecimal(t.storage() == Storage::kInt128 ? i128 : int128{i}, t.scale);
    case SqlKind::kString: return std::string(s);
    case SqlKind::kBinary: return FormatBinary(s);
    case SqlKind::kDate: return FormatDate(static_cast<int32_t>(i));
    case SqlKind::kTimestamp: return FormatTimestamp(i);
    case SqlKind::kInterval: return IntervalText(iv);
  }
  return "";
}
}  // namespace

std::string ValueText(const Vector& v, size_t i) {
  const Storage st = v.type.storage();
  return ScalarText(v.type, st == Storage::kInt64 ? v.i64[i] : 0,
                    st == Storage::kInt128 ? v.i128[i] : 0, st == Storage::kDouble ? v.f64[i] : 0,
                    st == Storage::kString ? v.str[i] : std::string_view(),
                    st == Storage::kInterval ? v.iv[i] : Interval{});
}

std::string ValueText(const Value& v) {
  if (v.null) return "NULL";
  return ScalarText(v.type, v.i, v.i128, v.d, v.s, v.iv);
}

}  // namespace retl
