// Helpers shared by the format tests: random columns and schemas, temporary
// directories.
#ifndef RETL_FORMAT_TEST_UTIL_H_
#define RETL_FORMAT_TEST_UTIL_H_

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "retl/types.h"

// Asserts that an absl::Status expression is OK, printing it otherwise.
#define ASSERT_OK(expr)         \
  do {                          \
    absl::Status s_ = (expr);   \
    ASSERT_TRUE(s_.ok()) << s_; \
  } while (0)

namespace retl::testing {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "retl_test_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Substring check with a readable failure message (the project does not link gmock).
inline ::testing::AssertionResult Contains(std::string_view text, std::string_view part) {
  if (text.find(part) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}
inline ::testing::AssertionResult Contains(const std::string& text, std::string_view part) {
  return Contains(std::string_view(text), part);
}
inline ::testing::AssertionResult Contains(absl::string_view text, std::string_view part) {
  return Contains(std::string_view(text.data(), text.size()), part);
}
inline ::testing::AssertionResult Contains(const absl::Status& status, std::string_view part) {
  return Contains(status.message(), part);
}
inline ::testing::AssertionResult Contains(const char* text, std::string_view part) {
  return Contains(std::string_view(text), part);
}

inline std::vector<DataType> AllTypes() {
  return {DataType::Of(TypeId::kBoolean), DataType::Of(TypeId::kTinyInt),
          DataType::Of(TypeId::kSmallInt), DataType::Of(TypeId::kInt),
          DataType::Of(TypeId::kBigInt),   DataType::Of(TypeId::kFloat),
          DataType::Of(TypeId::kDouble),   DataType::Decimal(9, 2),
          DataType::Decimal(38, 10),       DataType::Of(TypeId::kString),
          DataType::Of(TypeId::kBinary),   DataType::Of(TypeId::kDate),
          DataType::Of(TypeId::kTimestamp)};
}

// Appends a random value of the column's type. `shape` picks the value
// distribution: 0 wide random, 1 few distinct values, 2 long runs, 3 extremes.
inline void AppendRandom(Column* c, std::mt19937_64& rng, int shape, double null_rate) {
  std::uniform_real_distribution<double> u(0, 1);
  if (u(rng) < null_rate) {
    c->AppendNull();
    return;
  }
  uint64_t r = rng();
  if (shape == 1) r %= 5;
  if (shape == 2) r = (r % 1000 == 0) ? r : 7;
  const DataType& t = c->type();
  switch (t.physical()) {
    case PhysicalType::kBool: c->AppendBool(r & 1); break;
    case PhysicalType::kInt8:
      c->AppendInt(shape == 3 ? (r & 1 ? INT8_MIN : INT8_MAX) : static_cast<int8_t>(r));
      break;
    case PhysicalType::kInt16:
      c->AppendInt(shape == 3 ? (r & 1 ? INT16_MIN : INT16_MAX) : static_cast<int16_t>(r));
      break;
    case PhysicalType::kInt32:
      if (t.id == TypeId::kDate) {
        c->AppendInt(static_cast<int32_t>(r % 2900000) - 719162);  // years 0001..9999
      } else {
        c->AppendInt(shape == 3 ? (r & 1 ? INT32_MIN : INT32_MAX) : static_cast<int32_t>(r));
      }
      break;
    case PhysicalType::kInt64:
      if (t.id == TypeId::kDecimal) {
        int64_t bound = 1;
        for (int i = 0; i < t.precision; ++i) bound *= 10;
        c->AppendInt(static_cast<int64_t>(r % (2 * bound - 1)) - (bound - 1));
      } else if (t.id == TypeId::kTimestamp) {
        c->AppendInt(static_cast<int64_t>(r % 315537897600000000ull) - 62135596800000000ll);
      } else {
        c->AppendInt(shape == 3 ? (r & 1 ? INT64_MIN : INT64_MAX) : static_cast<int64_t>(r));
      }
      break;
    case PhysicalType::kInt128: {
      int128 bound = 1;
      for (int i = 0; i < t.precision; ++i) bound *= 10;
      int128 v = (static_cast<int128>(r) << 64 | rng()) % bound;
      if (shape == 3) v = bound - 1;
      c->AppendInt128(r & 2 ? -v : v);
      break;
    }
    case PhysicalType::kFloat:
    case PhysicalType::kDouble: {
      double specials[] = {0.0, -0.0, 1e308, -1e-308, std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()};
      c->AppendDouble(shape == 3 ? specials[r % 6] : (static_cast<double>(r % 1000000) / 7.0 - 5e4));
      break;
    }
    case PhysicalType::kBytes: {
      std::string s;
      size_t len = shape == 3 ? (r % 2 ? 0 : 300) : r % 24;
      const char* alphabet[] = {"a", "b", "z", "\xc3\xa9", "\xe6\x97\xa5", ",", "\"", "\n", " ",
                                "\xf0\x9f\x98\x80"};
      for (size_t i = 0; i < len; ++i) s += alphabet[(r >> (i % 60)) % 10];
      if (t.id == TypeId::kBinary && len > 0) s[0] = static_cast<char>(r & 0xff);
      c->AppendBytes(s);
      break;
    }
  }
}

inline Column RandomColumn(DataType type, RowIndex rows, std::mt19937_64& rng, int shape,
                           double null_rate) {
  Column c(type);
  for (RowIndex i = 0; i < rows; ++i) AppendRandom(&c, rng, shape, null_rate);
  return c;
}

}  // namespace retl::testing

#endif  // RETL_FORMAT_TEST_UTIL_H_
