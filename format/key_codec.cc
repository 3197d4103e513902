#include "format/key_codec.h"

#include <cstring>
#include <limits>

#include "format/file_util.h"

namespace retl {

namespace {
void AppendBigEndian64(uint64_t v, std::string* out) {
  char b[8];
  for (int i = 7; i >= 0; --i) {  // compilers turn this into one byte swap
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(b, 8);
}
}  // namespace

void AppendNormalizedInt(int64_t v, std::string* out) {
  AppendBigEndian64(static_cast<uint64_t>(v) ^ (uint64_t{1} << 63), out);
}

void AppendNormalizedInt128(int128 v, std::string* out) {
  unsigned __int128 u = static_cast<unsigned __int128>(v) ^ (static_cast<unsigned __int128>(1) << 127);
  AppendBigEndian64(static_cast<uint64_t>(u >> 64), out);
  AppendBigEndian64(static_cast<uint64_t>(u), out);
}

void AppendNormalizedDouble(double v, std::string* out) {
  if (v != v) v = std::numeric_limits<double>::quiet_NaN();  // stored canonically (§2.1)
  int64_t b;
  std::memcpy(&b, &v, sizeof b);
  int64_t t = b ^ ((b >> 63) & INT64_MAX);  // FORMAT.md §4.3
  AppendNormalizedInt(t, out);
}

void AppendNormalizedBytes(std::string_view v, std::string* out) {
  const char* p = v.data();
  const char* const end = p + v.size();
  while (p != end) {
    const char* zero = static_cast<const char*>(std::memchr(p, 0, end - p));
    if (zero == nullptr) break;
    out->append(p, zero - p);
    out->append("\0\xff", 2);
    p = zero + 1;
  }
  out->append(p, end - p);
  out->append("\0\0", 2);
}

void AppendNormalizedValue(const Column& column, RowIndex row, std::string* out) {
  switch (column.type().physical()) {
    case PhysicalType::kBool: AppendNormalizedInt(column.GetBool(row) ? 1 : 0, out); break;
    case PhysicalType::kInt8:
    case PhysicalType::kInt16:
    case PhysicalType::kInt32:
    case PhysicalType::kInt64: AppendNormalizedInt(column.GetInt(row), out); break;
    case PhysicalType::kInt128: AppendNormalizedInt128(column.GetInt128(row), out); break;
    case PhysicalType::kFloat:
    case PhysicalType::kDouble: AppendNormalizedDouble(column.GetDouble(row), out); break;
    case PhysicalType::kBytes: AppendNormalizedBytes(column.GetBytes(row), out); break;
  }
}

bool AppendNormalizedKey(const std::vector<Column>& columns, const std::vector<int>& key,
                         RowIndex row, std::string* out) {
  for (int k : key) {
    if (!columns[k].IsValid(row)) return false;
    AppendNormalizedValue(columns[k], row, out);
  }
  return true;
}

uint64_t KeyHash(std::string_view normalized) {
  return Checksum64(normalized.data(), normalized.size());
}

}  // namespace retl
