// The SQL engine's types and its unit of execution.
//
// SqlType extends the storable types (retl::DataType) with the two types that
// exist only while a query runs: the type of a bare NULL literal and INTERVAL.
// A Vector holds up to kBatchRows values of one SqlType in one of five
// storages (every integer-like type is widened to int64, so kernels need one
// loop per storage rather than one per width); a Batch is the columns of some
// rows flowing between operators.
//
// Thread-safety: values; no sharing.
#ifndef RETL_QUERY_VECTOR_H_
#define RETL_QUERY_VECTOR_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "retl/types.h"

namespace retl {

// Rows per batch between operators: small enough to stay in L2 for a few
// columns, large enough that per-batch overhead vanishes.
inline constexpr size_t kBatchRows = 2048;

enum class SqlKind : uint8_t {
  kNull,  // the type of a bare NULL literal; converts to any type
  kBoolean,
  kTinyInt,
  kSmallInt,
  kInt,
  kBigInt,
  kFloat,
  kDouble,
  kDecimal,
  kString,
  kBinary,
  kDate,
  kTimestamp,
  kInterval,
};

// How a Vector stores values of a type.
enum class Storage : uint8_t { kInt64, kInt128, kDouble, kString, kInterval };

struct Interval {
  int32_t months = 0;
  int32_t days = 0;
  int64_t micros = 0;
  friend bool operator==(const Interval&, const Interval&) = default;
};

struct SqlType {
  SqlKind kind = SqlKind::kNull;
  int precision = 0;  // DECIMAL only
  int scale = 0;      // DECIMAL only

  static SqlType Of(SqlKind k) { return SqlType{k, 0, 0}; }
  static SqlType Decimal(int precision, int scale) {
    return SqlType{SqlKind::kDecimal, precision, scale};
  }
  static SqlType FromData(const DataType& t);
  // The storable type, for kinds that have one.
  DataType ToData() const;

  Storage storage() const {
    switch (kind) {
      case SqlKind::kFloat:
      case SqlKind::kDouble: return Storage::kDouble;
      case SqlKind::kDecimal:
        return precision > kMaxInt64DecimalPrecision ? Storage::kInt128 : Storage::kInt64;
      case SqlKind::kString:
      case SqlKind::kBinary: return Storage::kString;
      case SqlKind::kInterval: return Storage::kInterval;
      default: return Storage::kInt64;
    }
  }
  bool IsInteger() const {
    return kind == SqlKind::kTinyInt || kind == SqlKind::kSmallInt || kind == SqlKind::kInt ||
           kind == SqlKind::kBigInt;
  }
  bool IsFloating() const { return kind == SqlKind::kFloat || kind == SqlKind::kDouble; }
  bool IsNumeric() const { return IsInteger() || IsFloating() || kind == SqlKind::kDecimal; }
  bool IsTemporal() const { return kind == SqlKind::kDate || kind == SqlKind::kTimestamp; }
  bool IsText() const { return kind == SqlKind::kString; }
  // "BIGINT", "DECIMAL(10,2)", "NULL", "INTERVAL".
  std::string ToString() const;
  friend bool operator==(const SqlType&, const SqlType&) = default;
};

// Owns the bytes of strings that operators create (lower(), casts, group
// keys); vectors that point into it keep it alive.
class StringHeap {
 public:
  std::string_view Add(std::string_view s);

 private:
  struct Block {
    std::unique_ptr<char[]> data;  // not zero-filled
    size_t size;
    Block(std::unique_ptr<char[]> d, size_t n) : data(std::move(d)), size(n) {}
    Block(Block&&) = default;
    Block& operator=(Block&&) = default;
    Block(const Block& other) : data(new char[other.size]), size(other.size) {
      std::copy(other.data.get(), other.data.get() + size, data.get());
    }
    Block& operator=(const Block& other) { return *this = Block(other); }
  };
  std::deque<Block> blocks_;
  size_t used_ = 0;  // in blocks_.back()
};

struct Vector {
  SqlType type;
  size_t size = 0;
  std::vector<uint8_t> valid;  // size entries, 1 = not NULL
  std::vector<int64_t> i64;    // kInt64 (booleans as 0/1)
  std::vector<int128> i128;    // kInt128
  std::vector<double> f64;     // kDouble
  std::vector<std::string_view> str;  // kString, pointing into `keep`
  std::vector<Interval> iv;    // kInterval
  // Whatever the string views point into (decoded chunks, heaps, the mmap).
  std::vector<std::shared_ptr<const void>> keep;
  // Optional, for kString vectors read from a dictionary-encoded chunk: row
  // i's value is (*dictionary)[codes[i]] (str[i] holds it too). Kernels may
  // compute on the dictionary's entries once and map the codes; codes of
  // NULL rows are 0. A dictionary is immutable, and a shared_ptr to it
  // keeps its address from being reused, so it can key caches.
  std::shared_ptr<const std::vector<std::string_view>> dictionary;
  std::vector<uint32_t> codes;
  // Every row holds row 0's value and validity (a literal's vector).
  bool constant = false;

  Vector() = default;
  explicit Vector(SqlType t) : type(t) {}
  // Sets the type and size; every value valid and zero (empty).
  void Reset(SqlType t, size_t n);
  // Sets the type and size, leaving validity and values unspecified: for
  // producers that write every row (cheaper than Reset when the vector is
  // reused at the same size, as batches are).
  void Resize(SqlType t, size_t n);
  bool IsValid(size_t i) const { return valid[i] != 0; }
  // Appends row `i` of `src` (same storage).
  void Append(const Vector& src, size_t i);
  // Sets row `row` to row `i` of `src` (same storage), validity included.
  void Set(size_t row, const Vector& src, size_t i) {
    if (dictionary != nullptr) dictionary.reset();  // codes no longer describe the rows
    constant = false;
    valid[row] = src.valid[i];
    switch (type.storage()) {
      case Storage::kInt64: i64[row] = src.i64[i]; break;
      case Storage::kInt128: i128[row] = src.i128[i]; break;
      case Storage::kDouble: f64[row] = src.f64[i]; break;
      case Storage::kString: str[row] = src.str[i]; break;
      case Storage::kInterval: iv[row] = src.iv[i]; break;
    }
  }
  void AppendNull();
  // Adopts src's keep list (after copying views from it).
  void KeepFrom(const Vector& src);
  // A heap this vector keeps alive, for new strings.
  StringHeap* NewHeap();
};

struct Batch {
  std::vector<Vector> columns;
  size_t size = 0;
};

// One value of a SqlType: constants, parameters, aggregate states, results.
struct Value {
  SqlType type;
  bool null = true;
  int64_t i = 0;
  int128 i128 = 0;
  double d = 0;
  std::string s;
  Interval iv;

  static Value Null(SqlType t = SqlType{}) { Value v; v.type = t; return v; }
  static Value Bool(bool b) { Value v; v.type = SqlType::Of(SqlKind::kBoolean); v.null = false; v.i = b; return v; }
  static Value Int(SqlKind k, int64_t x) { Value v; v.type = SqlType::Of(k); v.null = false; v.i = x; return v; }
  static Value Double(double x) { Value v; v.type = SqlType::Of(SqlKind::kDouble); v.null = false; v.d = x; return v; }
  static Value String(std::string x) { Value v; v.type = SqlType::Of(SqlKind::kString); v.null = false; v.s = std::move(x); return v; }
  // A DECIMAL of either storage.
  static Value Decimal(SqlType t, int128 unscaled);

  // Reads row `i` of `v`.
  static Value FromVector(const Vector& v, size_t i);
  // Writes this value (of v's storage) into row `i` of `v`; strings are
  // copied into `heap`.
  void ToVector(Vector* v, size_t row, StringHeap* heap) const;
  // DECIMAL's unscaled value whatever its storage.
  int128 unscaled() const { return type.storage() == Storage::kInt128 ? i128 : int128{i}; }
};

// The canonical text of row `i` of `v` (retl-build dump's form,
// FORMAT.md §4.2; INTERVAL as PostgreSQL prints it). Callers show NULL.
std::string ValueText(const Vector& v, size_t i);
std::string ValueText(const Value& v);
std::string IntervalText(const Interval& iv);

// 10^n for 0 <= n <= 38.
int128 Pow10(int n);

}  // namespace retl

#endif  // RETL_QUERY_VECTOR_H_
