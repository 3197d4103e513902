#include "retl/types.h"
#include "format/strings.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace retl {

int DataType::FixedWidth() const {
  switch (physical()) {
    case PhysicalType::kBool:
    case PhysicalType::kInt8: return 1;
    case PhysicalType::kInt16: return 2;
    case PhysicalType::kInt32:
    case PhysicalType::kFloat: return 4;
    case PhysicalType::kInt64:
    case PhysicalType::kDouble: return 8;
    case PhysicalType::kInt128: return 16;
    case PhysicalType::kBytes: return 0;
  }
  return 0;
}

bool DataType::IsIntegerLike() const {
  switch (physical()) {
    case PhysicalType::kInt8:
    case PhysicalType::kInt16:
    case PhysicalType::kInt32:
    case PhysicalType::kInt64:
    case PhysicalType::kInt128: return true;
    default: return false;
  }
}

std::string DataType::ToString() const {
  switch (id) {
    case TypeId::kBoolean: return "BOOLEAN";
    case TypeId::kTinyInt: return "TINYINT";
    case TypeId::kSmallInt: return "SMALLINT";
    case TypeId::kInt: return "INT";
    case TypeId::kBigInt: return "BIGINT";
    case TypeId::kFloat: return "FLOAT";
    case TypeId::kDouble: return "DOUBLE";
    case TypeId::kDecimal: return StrCat("DECIMAL(", precision, ",", scale, ")");
    case TypeId::kString: return "STRING";
    case TypeId::kBinary: return "BINARY";
    case TypeId::kDate: return "DATE";
    case TypeId::kTimestamp: return "TIMESTAMP";
  }
  return StrCat("TYPE#", static_cast<int>(id));
}

absl::Status DataType::Validate() const {
  if (id < TypeId::kBoolean || id > TypeId::kTimestamp) {
    return absl::InvalidArgumentError(StrCat("unknown type id ", static_cast<int>(id)));
  }
  if (id == TypeId::kDecimal) {
    if (precision < 1 || precision > kMaxDecimalPrecision) {
      return absl::InvalidArgumentError(
          StrCat("DECIMAL precision must be 1..38, got ", precision));
    }
    if (scale < 0 || scale > precision) {
      return absl::InvalidArgumentError(
          StrCat("DECIMAL scale must be 0..", precision, ", got ", scale));
    }
  } else if (precision != 0 || scale != 0) {
    return absl::InvalidArgumentError(StrCat(ToString(), " takes no precision or scale"));
  }
  return absl::OkStatus();
}

absl::StatusOr<DataType> ParseDataType(std::string_view text) {
  std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(ToAbsl(text)));
  std::string args;
  if (size_t open = t.find('('); open != std::string::npos) {
    if (t.back() != ')') {
      return absl::InvalidArgumentError(StrCat("malformed type '", text, "'"));
    }
    args = t.substr(open + 1, t.size() - open - 2);
    t = std::string(absl::StripAsciiWhitespace(t.substr(0, open)));
  }
  // Fold runs of spaces ("double   precision").
  t = absl::StrJoin(absl::StrSplit(t, ' ', absl::SkipEmpty()), " ");
  auto no_args = [&](TypeId id) -> absl::StatusOr<DataType> {
    if (!args.empty()) {
      return absl::InvalidArgumentError(StrCat("type '", text, "' takes no arguments"));
    }
    return DataType::Of(id);
  };
  if (t == "boolean" || t == "bool") return no_args(TypeId::kBoolean);
  if (t == "tinyint" || t == "int1") return no_args(TypeId::kTinyInt);
  if (t == "smallint" || t == "int2") return no_args(TypeId::kSmallInt);
  if (t == "int" || t == "integer" || t == "int4") return no_args(TypeId::kInt);
  if (t == "bigint" || t == "int8" || t == "long") return no_args(TypeId::kBigInt);
  if (t == "float" || t == "real" || t == "float4") return no_args(TypeId::kFloat);
  if (t == "double" || t == "float8" || t == "double precision") return no_args(TypeId::kDouble);
  if (t == "date") return no_args(TypeId::kDate);
  if (t == "timestamp" || t == "datetime" || t == "timestamptz" ||
      t == "timestamp with time zone" || t == "timestamp without time zone") {
    return no_args(TypeId::kTimestamp);
  }
  if (t == "string" || t == "text" || t == "varchar" || t == "char" || t == "character varying" ||
      t == "character") {
    // A length limit is accepted and not enforced (as in DuckDB).
    return DataType::Of(TypeId::kString);
  }
  if (t == "binary" || t == "blob" || t == "bytea" || t == "varbinary") {
    return DataType::Of(TypeId::kBinary);
  }
  if (t == "decimal" || t == "numeric" || t == "dec") {
    if (args.empty()) return DataType::Decimal(18, 3);
    std::vector<std::string> parts = absl::StrSplit(args, ',');
    int p = 0, s = 0;
    if (parts.size() > 2 || !absl::SimpleAtoi(parts[0], &p) ||
        (parts.size() == 2 && !absl::SimpleAtoi(parts[1], &s))) {
      return absl::InvalidArgumentError(StrCat("malformed DECIMAL arguments in '", text,
                                                     "': expected DECIMAL(precision, scale)"));
    }
    DataType type = DataType::Decimal(p, s);
    RETL_RETURN_IF_ERROR(type.Validate());
    return type;
  }
  return absl::InvalidArgumentError(StrCat(
      "unknown type '", text,
      "': expected BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p,s), STRING, "
      "BINARY, DATE or TIMESTAMP"));
}

int Schema::FindField(std::string_view name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

absl::Status Schema::Validate() const {
  if (fields.empty()) return absl::InvalidArgumentError("a table needs at least one column");
  std::set<std::string> names;
  for (const Field& f : fields) {
    if (f.name.empty()) return absl::InvalidArgumentError("column names must not be empty");
    if (f.name.size() > 128) {
      return absl::InvalidArgumentError(StrCat("column name '", f.name.substr(0, 32),
                                                     "...' is longer than 128 bytes"));
    }
    for (unsigned char c : f.name) {
      if (c < 0x20 || c == 0x7f) {
        return absl::InvalidArgumentError(
            StrCat("column name '", absl::CHexEscape(ToAbsl(f.name)), "' has a control character"));
      }
    }
    if (!names.insert(f.name).second) {
      return absl::InvalidArgumentError(StrCat("duplicate column name '", f.name, "'"));
    }
    absl::Status s = f.type.Validate();
    if (!s.ok()) {
      return absl::InvalidArgumentError(StrCat("column '", f.name, "': ", s.message()));
    }
  }
  if (primary_key.empty()) {
    return absl::InvalidArgumentError("a table needs a primary key (one or more columns)");
  }
  std::set<int> key_cols;
  for (int k : primary_key) {
    if (k < 0 || k >= static_cast<int>(fields.size())) {
      return absl::InvalidArgumentError(StrCat("primary key column index ", k, " out of range"));
    }
    if (!key_cols.insert(k).second) {
      return absl::InvalidArgumentError(
          StrCat("column '", fields[k].name, "' appears twice in the primary key"));
    }
    if (fields[k].nullable) {
      return absl::InvalidArgumentError(
          StrCat("primary key column '", fields[k].name, "' must be NOT NULL"));
    }
  }
  if (partition_column.has_value() &&
      (*partition_column < 0 || *partition_column >= static_cast<int>(fields.size()))) {
    return absl::InvalidArgumentError(
        StrCat("partition column index ", *partition_column, " out of range"));
  }
  std::set<std::string> index_names;
  for (const IndexDef& index : indexes) {
    if (index.name.empty() || index.name.size() > 128 ||
        !(absl::ascii_isalpha(index.name[0]) || index.name[0] == '_') ||
        !std::all_of(index.name.begin(), index.name.end(),
                     [](char c) { return absl::ascii_isalnum(c) || c == '_'; })) {
      return absl::InvalidArgumentError(StrCat(
          "invalid index name '", absl::CHexEscape(ToAbsl(index.name)),
          "': use 1..128 letters, digits and '_', not starting with a digit"));
    }
    if (!index_names.insert(index.name).second) {
      return absl::InvalidArgumentError(StrCat("duplicate index name '", index.name, "'"));
    }
    if (index.columns.empty()) {
      return absl::InvalidArgumentError(StrCat("index '", index.name, "' has no columns"));
    }
    std::set<int> cols;
    for (int c : index.columns) {
      if (c < 0 || c >= static_cast<int>(fields.size())) {
        return absl::InvalidArgumentError(
            StrCat("index '", index.name, "': column index ", c, " out of range"));
      }
      if (!cols.insert(c).second) {
        return absl::InvalidArgumentError(
            StrCat("index '", index.name, "': column '", fields[c].name, "' appears twice"));
      }
    }
  }
  return absl::OkStatus();
}

const IndexDef* Schema::FindIndex(std::string_view name) const {
  for (const IndexDef& index : indexes) {
    if (index.name == name) return &index;
  }
  return nullptr;
}

namespace {
std::string QuoteIdentifier(std::string_view name) {
  bool plain = !name.empty() && (absl::ascii_islower(name[0]) || name[0] == '_');
  for (char c : name) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_')) plain = false;
  }
  if (plain) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}
}  // namespace

std::string Schema::ToSql(std::string_view table_name) const {
  std::string out = StrCat("CREATE TABLE ", QuoteIdentifier(table_name), " (\n");
  for (const Field& f : fields) {
    StrAppend(&out, "  ", QuoteIdentifier(f.name), " ", f.type.ToString(),
                    f.nullable ? "" : " NOT NULL", ",\n");
  }
  std::vector<std::string> key;
  for (int k : primary_key) key.push_back(QuoteIdentifier(fields[k].name));
  StrAppend(&out, "  PRIMARY KEY (", absl::StrJoin(key, ", "), ")");
  for (const IndexDef& index : indexes) {
    std::vector<std::string> cols;
    for (int c : index.columns) cols.push_back(QuoteIdentifier(fields[c].name));
    StrAppend(&out, ",\n  INDEX ", QuoteIdentifier(index.name), " (", absl::StrJoin(cols, ", "), ")");
  }
  out += "\n)";
  if (partition_column.has_value()) {
    StrAppend(&out, " PARTITION BY (", QuoteIdentifier(fields[*partition_column].name), ")");
  }
  out += ";\n";
  return out;
}

// ---------------------------------------------------------------------------
// Column

Column::Column(DataType type)
    : type_(type), physical_(type.physical()), width_(type.FixedWidth()) {
  if (type_.physical() == PhysicalType::kBytes) offsets_.push_back(0);
}

void Column::Reserve(RowIndex rows, uint64_t bytes) {
  if (type_.physical() == PhysicalType::kBytes) {
    offsets_.reserve(rows + 1);
    bytes_.reserve(bytes);
  } else {
    fixed_.reserve(rows * width_);
  }
}

namespace {
template <typename Buffer>
void GrowBuffer(Buffer* b, size_t need) {
  if (b->capacity() < need) b->reserve(std::max(need, 2 * b->capacity()));
}
}  // namespace

void Column::Grow(RowIndex rows, uint64_t bytes) {
  if (type_.physical() == PhysicalType::kBytes) {
    GrowBuffer(&offsets_, rows + 1);
    GrowBuffer(&bytes_, bytes);
  } else {
    GrowBuffer(&fixed_, rows * width_);
  }
}

// `validity_` is materialised from the first NULL on (null_count_ > 0).
void Column::AppendValidity(bool valid) {
  if (!valid) {
    if (null_count_ == 0) validity_.assign(size_, 1);
    validity_.push_back(0);
    ++null_count_;
  } else if (null_count_ > 0) {
    validity_.push_back(1);
  }
  ++size_;
}

void Column::AppendNull() {
  if (type_.physical() == PhysicalType::kBytes) {
    offsets_.push_back(bytes_.size());
  } else {
    fixed_.resize(fixed_.size() + width_, 0);
  }
  AppendValidity(false);
}

void Column::AppendBool(bool v) {
  fixed_.push_back(v ? 1 : 0);
  AppendValidity(true);
}

void Column::AppendInt(int64_t v) {
  size_t at = fixed_.size();
  fixed_.resize(at + width_);
  switch (type_.physical()) {
    case PhysicalType::kInt8: { int8_t x = static_cast<int8_t>(v); std::memcpy(&fixed_[at], &x, 1); break; }
    case PhysicalType::kInt16: { int16_t x = static_cast<int16_t>(v); std::memcpy(&fixed_[at], &x, 2); break; }
    case PhysicalType::kInt32: { int32_t x = static_cast<int32_t>(v); std::memcpy(&fixed_[at], &x, 4); break; }
    case PhysicalType::kInt64: std::memcpy(&fixed_[at], &v, 8); break;
    case PhysicalType::kInt128: { int128 x = v; std::memcpy(&fixed_[at], &x, 16); break; }
    case PhysicalType::kBool: fixed_[at] = v != 0; break;
    default: std::memset(&fixed_[at], 0, width_); break;
  }
  AppendValidity(true);
}

void Column::AppendInt128(int128 v) {
  if (type_.physical() != PhysicalType::kInt128) {
    AppendInt(static_cast<int64_t>(v));
    return;
  }
  size_t at = fixed_.size();
  fixed_.resize(at + 16);
  std::memcpy(&fixed_[at], &v, 16);
  AppendValidity(true);
}

void Column::AppendDouble(double v) {
  size_t at = fixed_.size();
  fixed_.resize(at + width_);
  if (type_.physical() == PhysicalType::kFloat) {
    float f = static_cast<float>(v);
    std::memcpy(&fixed_[at], &f, 4);
  } else {
    std::memcpy(&fixed_[at], &v, 8);
  }
  AppendValidity(true);
}

void Column::AppendBytes(std::string_view v) {
  bytes_.append(v.data(), v.size());
  offsets_.push_back(bytes_.size());
  AppendValidity(true);
}

void Column::AppendFrom(const Column& other, RowIndex row) {
  if (!other.IsValid(row)) {
    AppendNull();
  } else if (type_.physical() == PhysicalType::kBytes) {
    AppendBytes(other.GetBytes(row));
  } else {
    const uint8_t* src = other.fixed_.data() + row * width_;
    fixed_.insert(fixed_.end(), src, src + width_);
    AppendValidity(true);
  }
}

void Column::AppendFixedValues(const uint8_t* values, RowIndex n, const uint8_t* validity) {
  fixed_.insert(fixed_.end(), values, values + n * width_);
  RowIndex nulls = 0;
  if (validity != nullptr) {
    for (RowIndex i = 0; i < n; ++i) nulls += validity[i] == 0;
  }
  if (nulls > 0 || null_count_ > 0) {
    if (null_count_ == 0) validity_.assign(size_, 1);
    if (validity != nullptr) {
      validity_.insert(validity_.end(), validity, validity + n);
    } else {
      validity_.resize(validity_.size() + n, 1);
    }
  }
  null_count_ += nulls;
  size_ += n;
}

void Column::AppendColumn(const Column& other) {
  if (type_.physical() != PhysicalType::kBytes) {
    AppendFixedValues(other.fixed_.data(), other.size_,
                      other.validity_.empty() ? nullptr : other.validity_.data());
    return;
  }
  const uint64_t base = bytes_.size();
  bytes_ += other.bytes_;
  if (offsets_.empty()) offsets_.push_back(0);
  GrowBuffer(&offsets_, offsets_.size() + other.size_);
  for (RowIndex r = 1; r <= other.size_; ++r) offsets_.push_back(base + other.offsets_[r]);
  if (other.null_count_ > 0 || null_count_ > 0) {
    if (null_count_ == 0) validity_.assign(size_, 1);
    if (other.null_count_ > 0) {
      validity_.insert(validity_.end(), other.validity_.begin(), other.validity_.end());
    } else {
      validity_.resize(validity_.size() + other.size_, 1);
    }
  }
  null_count_ += other.null_count_;
  size_ += other.size_;
}

int128 Column::GetInt128(RowIndex i) const {
  if (type_.physical() == PhysicalType::kInt128) {
    int128 v;
    std::memcpy(&v, fixed_.data() + i * 16, 16);
    return v;
  }
  return GetInt(i);
}

double Column::GetDouble(RowIndex i) const {
  const uint8_t* p = fixed_.data() + i * width_;
  if (type_.physical() == PhysicalType::kFloat) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  double d;
  std::memcpy(&d, p, 8);
  return d;
}

void Column::TakeValidity(std::span<const RowIndex> rows, Column* out) const {
  if (validity_.empty()) return;
  out->validity_.resize(rows.size());
  for (size_t k = 0; k < rows.size(); ++k) {
    out->validity_[k] = validity_[rows[k]];
    out->null_count_ += validity_[rows[k]] == 0;
  }
  if (out->null_count_ == 0) out->validity_.clear();
}

Column Column::Take(std::span<const RowIndex> rows) const {
  Column out(type_);
  out.Reserve(static_cast<RowIndex>(rows.size()));
  if (type_.physical() == PhysicalType::kBytes) {
    // Lengths first (independent loads), then the bytes, each copy preceded
    // by a prefetch of a value a few rows ahead: rows are usually scattered.
    const size_t n = rows.size();
    out.offsets_.resize(n + 1);
    out.offsets_[0] = 0;
    for (size_t k = 0; k < n; ++k) {
      out.offsets_[k + 1] = out.offsets_[k] + (offsets_[rows[k] + 1] - offsets_[rows[k]]);
    }
    out.bytes_.resize(out.offsets_[n]);
    char* dst = out.bytes_.data();
    const char* src = bytes_.data();
    constexpr size_t kAhead = 16;
    for (size_t k = 0; k < n; ++k) {
      if (k + kAhead < n) __builtin_prefetch(src + offsets_[rows[k + kAhead]]);
      std::memcpy(dst + out.offsets_[k], src + offsets_[rows[k]], out.offsets_[k + 1] - out.offsets_[k]);
    }
    out.size_ = static_cast<RowIndex>(n);
    TakeValidity(rows, &out);
    return out;
  }
  // Fixed width: bulk gather without per-row branching on validity.
  out.fixed_.resize(rows.size() * width_);
  uint8_t* dst = out.fixed_.data();
  const uint8_t* src = fixed_.data();
  switch (width_) {
    case 1: for (size_t k = 0; k < rows.size(); ++k) dst[k] = src[rows[k]]; break;
    case 4: for (size_t k = 0; k < rows.size(); ++k) std::memcpy(dst + 4 * k, src + 4 * rows[k], 4); break;
    case 8: for (size_t k = 0; k < rows.size(); ++k) std::memcpy(dst + 8 * k, src + 8 * rows[k], 8); break;
    default:
      for (size_t k = 0; k < rows.size(); ++k) {
        std::memcpy(dst + width_ * k, src + width_ * rows[k], width_);
      }
  }
  out.size_ = static_cast<RowIndex>(rows.size());
  TakeValidity(rows, &out);
  return out;
}

Column Column::Slice(RowIndex begin, RowIndex end) const {
  std::vector<RowIndex> rows(end - begin);
  for (RowIndex i = begin; i < end; ++i) rows[i - begin] = i;
  return Take(rows);
}

bool Column::Equals(const Column& other) const {
  if (!(type_ == other.type_) || size_ != other.size_ || null_count_ != other.null_count_) {
    return false;
  }
  for (RowIndex i = 0; i < size_; ++i) {
    bool valid = IsValid(i);
    if (valid != other.IsValid(i)) return false;
    if (!valid) continue;
    if (type_.physical() == PhysicalType::kBytes) {
      if (GetBytes(i) != other.GetBytes(i)) return false;
    } else if (std::memcmp(fixed_.data() + i * width_, other.fixed_.data() + i * width_, width_) !=
               0) {
      return false;
    }
  }
  return true;
}

namespace {
template <typename T>
int Cmp(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}
// Total order on doubles: -NaN < -inf < ... < -0 < +0 < ... < inf < NaN.
int CmpDouble(double a, double b) {
  int64_t x, y;
  std::memcpy(&x, &a, 8);
  std::memcpy(&y, &b, 8);
  x ^= (x >> 63) & INT64_MAX;
  y ^= (y >> 63) & INT64_MAX;
  return Cmp(x, y);
}
}  // namespace

int Column::CompareValues(RowIndex i, const Column& other, RowIndex j) const {
  switch (type_.physical()) {
    case PhysicalType::kBytes: {
      int c = GetBytes(i).compare(other.GetBytes(j));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case PhysicalType::kFloat:
    case PhysicalType::kDouble: return CmpDouble(GetDouble(i), other.GetDouble(j));
    case PhysicalType::kInt128: return Cmp(GetInt128(i), other.GetInt128(j));
    default: return Cmp(GetInt(i), other.GetInt(j));
  }
}

}  // namespace retl
