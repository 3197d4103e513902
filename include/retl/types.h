// Logical types, table schemas and in-memory columns: the vocabulary shared by
// the writer, the reader, the SQL engine and the bindings.
//
// Thread-safety: all types here are values; const methods may be called from
// any number of threads at once, mutation needs external synchronisation.
#ifndef RETL_TYPES_H_
#define RETL_TYPES_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "retl/export.h"
#include "retl/status.h"

namespace retl {

// Row counts and row positions, everywhere.
using RowIndex = int64_t;
// DECIMAL values with more than 18 digits.
using int128 = __int128;

// Logical types of FORMAT.md §4. The numbers are stored in files: never reuse.
enum class TypeId : uint8_t {
  kBoolean = 1,
  kTinyInt = 2,    // int8
  kSmallInt = 3,   // int16
  kInt = 4,        // int32
  kBigInt = 5,     // int64
  kFloat = 6,      // IEEE 754 binary32
  kDouble = 7,     // IEEE 754 binary64
  kDecimal = 8,    // DECIMAL(p,s), 1 <= p <= 38, 0 <= s <= p
  kString = 9,     // UTF-8 text
  kBinary = 10,    // arbitrary bytes
  kDate = 11,      // days since 1970-01-01
  kTimestamp = 12, // microseconds since 1970-01-01 00:00:00 UTC
};

// How values of a logical type are laid out in memory and in PLAIN encoding.
enum class PhysicalType : uint8_t {
  kBool,    // one byte in memory (0/1), one bit in files
  kInt8,
  kInt16,
  kInt32,   // INT, DATE
  kInt64,   // BIGINT, TIMESTAMP, DECIMAL(p<=18) as unscaled integer
  kInt128,  // DECIMAL(p>18) as unscaled integer
  kFloat,
  kDouble,
  kBytes,   // STRING, BINARY
};

inline constexpr int kMaxDecimalPrecision = 38;
inline constexpr int kMaxInt64DecimalPrecision = 18;

struct RETL_EXPORT DataType {
  TypeId id = TypeId::kBigInt;
  int precision = 0;  // DECIMAL only
  int scale = 0;      // DECIMAL only

  static DataType Of(TypeId id) { return DataType{id, 0, 0}; }
  static DataType Decimal(int precision, int scale) {
    return DataType{TypeId::kDecimal, precision, scale};
  }

  PhysicalType physical() const {  // inline: called per value on hot paths
    switch (id) {
      case TypeId::kBoolean: return PhysicalType::kBool;
      case TypeId::kTinyInt: return PhysicalType::kInt8;
      case TypeId::kSmallInt: return PhysicalType::kInt16;
      case TypeId::kInt:
      case TypeId::kDate: return PhysicalType::kInt32;
      case TypeId::kBigInt:
      case TypeId::kTimestamp: return PhysicalType::kInt64;
      case TypeId::kDecimal:
        return precision <= kMaxInt64DecimalPrecision ? PhysicalType::kInt64 : PhysicalType::kInt128;
      case TypeId::kFloat: return PhysicalType::kFloat;
      case TypeId::kDouble: return PhysicalType::kDouble;
      case TypeId::kString:
      case TypeId::kBinary: return PhysicalType::kBytes;
    }
    return PhysicalType::kBytes;
  }
  // Bytes per value in memory and in PLAIN encoding; 0 for kBytes, 1 for kBool.
  int FixedWidth() const;
  // True for types whose physical type is an integer (including DATE,
  // TIMESTAMP and DECIMAL).
  bool IsIntegerLike() const;
  // SQL spelling: "BIGINT", "DECIMAL(18,2)", "TIMESTAMP".
  std::string ToString() const;
  // OK for a type that can be stored (DECIMAL precision/scale in range).
  absl::Status Validate() const;

  friend bool operator==(const DataType&, const DataType&) = default;
};

// Parses a SQL type name, case-insensitively, with the usual aliases:
// BOOLEAN/BOOL, TINYINT/INT1, SMALLINT/INT2, INT/INTEGER/INT4, BIGINT/INT8,
// FLOAT/REAL/FLOAT4, DOUBLE/FLOAT8/DOUBLE PRECISION, DECIMAL(p[,s])/NUMERIC,
// STRING/TEXT/VARCHAR[(n)]/CHAR[(n)], BINARY/BLOB/BYTEA/VARBINARY, DATE,
// TIMESTAMP/DATETIME/TIMESTAMPTZ. DECIMAL without arguments is DECIMAL(18,3).
RETL_EXPORT absl::StatusOr<DataType> ParseDataType(std::string_view text);

struct RETL_EXPORT Field {
  std::string name;
  DataType type;
  bool nullable = true;

  friend bool operator==(const Field&, const Field&) = default;
};

// A secondary index (FORMAT.md §12): a hash index over one or more columns
// for equality lookups; values need not be unique, rows with a NULL in any
// of its columns are not indexed.
struct RETL_EXPORT IndexDef {
  std::string name;          // unique among a table's indexes
  std::vector<int> columns;  // indices into Schema::fields, in key order

  friend bool operator==(const IndexDef&, const IndexDef&) = default;
};

// The schema of a table: its columns, its primary key (rows are unique by it
// and stored sorted by it, FORMAT.md §3), an optional partition column and
// its secondary indexes.
struct RETL_EXPORT Schema {
  std::vector<Field> fields;
  std::vector<int> primary_key;         // indices into fields, in key order
  std::optional<int> partition_column;  // index into fields
  std::vector<IndexDef> indexes;        // secondary indexes

  // Index of the field named `name` (exact match), or -1.
  int FindField(std::string_view name) const;
  // Checks names (non-empty, unique, at most 128 bytes, no control
  // characters), types, and that key and partition indices are in range,
  // distinct and that key columns are NOT NULL; index names (same rules as
  // table names) unique, their columns in range and distinct.
  absl::Status Validate() const;
  // The index named `name`, or nullptr.
  const IndexDef* FindIndex(std::string_view name) const;
  // A CREATE TABLE statement that ParseCreateTable() reads back to this schema.
  std::string ToSql(std::string_view table_name) const;

  friend bool operator==(const Schema&, const Schema&) = default;
};

// A growable, typed column of values with NULLs, in memory. The writer takes
// batches of Columns; the reader decodes blocks into Columns.
//
// Layout: fixed-width types keep values contiguously (NULL slots hold 0);
// kBytes keeps `offsets()` (size()+1 entries) into `bytes()`. Validity is one
// byte per row (1 = valid).
class RETL_EXPORT Column {
 public:
  explicit Column(DataType type);

  const DataType& type() const { return type_; }
  RowIndex size() const { return size_; }
  RowIndex null_count() const { return null_count_; }

  // Room for `rows` rows in all, and for STRING and BINARY `bytes` bytes of
  // values in all, so that appending up to that many does not reallocate.
  void Reserve(RowIndex rows, uint64_t bytes = 0);
  // The same, but a buffer that must grow at least doubles, so that calls for
  // ever larger sizes cost amortized linear time.
  void Grow(RowIndex rows, uint64_t bytes = 0);
  void AppendNull();
  void AppendBool(bool v);
  // Any integer-like type; the value must fit the physical width.
  void AppendInt(int64_t v);
  void AppendInt128(int128 v);
  // FLOAT (narrowed to float) and DOUBLE.
  void AppendDouble(double v);
  void AppendBytes(std::string_view v);
  // Appends row `row` of `other`, which must have the same type.
  void AppendFrom(const Column& other, RowIndex row);
  // Appends every row of `other`, which must have the same type.
  void AppendColumn(const Column& other);
  // Appends `n` fixed-width values (FixedWidth() bytes each; NULL slots must
  // hold zero bytes) with their validity (one byte per row, 1 = valid;
  // nullptr = all valid). Not for kBytes.
  void AppendFixedValues(const uint8_t* values, RowIndex n, const uint8_t* validity);

  bool IsValid(RowIndex i) const { return validity_.empty() || validity_[i] != 0; }
  bool GetBool(RowIndex i) const { return fixed_[i] != 0; }
  // Integer-like types widened to int64 (not DECIMAL(p>18)).
  int64_t GetInt(RowIndex i) const {
    const uint8_t* p = fixed_.data() + i * width_;
    switch (physical_) {
      case PhysicalType::kBool: return *p;
      case PhysicalType::kInt8: return static_cast<int8_t>(*p);
      case PhysicalType::kInt16: return Load<int16_t>(p);
      case PhysicalType::kInt32: return Load<int32_t>(p);
      case PhysicalType::kInt64: return Load<int64_t>(p);
      case PhysicalType::kInt128: return static_cast<int64_t>(Load<int128>(p));
      default: return 0;
    }
  }
  // Any integer-like type widened to int128.
  int128 GetInt128(RowIndex i) const;
  // FLOAT or DOUBLE.
  double GetDouble(RowIndex i) const;
  std::string_view GetBytes(RowIndex i) const {
    return std::string_view(bytes_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]);
  }

  // Raw storage for encoders. `validity()` is empty when no row is NULL.
  const std::vector<uint8_t>& validity() const { return validity_; }
  const uint8_t* fixed_data() const { return fixed_.data(); }
  uint8_t* mutable_fixed_data() { return fixed_.data(); }
  const std::vector<uint64_t>& offsets() const { return offsets_; }
  const std::string& bytes() const { return bytes_; }
  template <typename T>
  const T* values() const {
    return reinterpret_cast<const T*>(fixed_.data());
  }

  // Rows `rows` in that order.
  Column Take(std::span<const RowIndex> rows) const;
  // Rows [begin, end).
  Column Slice(RowIndex begin, RowIndex end) const;
  // Same type, size, NULLs and values (floating point compared bitwise).
  bool Equals(const Column& other) const;
  // Three-way comparison of two valid values of this column (and of `other`,
  // of the same type): strings and binary by bytes, floats by total order.
  int CompareValues(RowIndex i, const Column& other, RowIndex j) const;

 private:
  void AppendValidity(bool valid);
  // Sets out's validity and null count to those of `rows` of this column.
  void TakeValidity(std::span<const RowIndex> rows, Column* out) const;

  DataType type_;
  template <typename T>
  static T Load(const uint8_t* p) {
    T v;
    __builtin_memcpy(&v, p, sizeof(T));
    return v;
  }

  PhysicalType physical_;
  int width_;
  RowIndex size_ = 0;
  RowIndex null_count_ = 0;
  std::vector<uint8_t> validity_;  // empty while every row is valid
  std::vector<uint8_t> fixed_;
  std::vector<uint64_t> offsets_;
  std::string bytes_;
};

}  // namespace retl

#endif  // RETL_TYPES_H_
