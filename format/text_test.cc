#include "format/test_util.h"
#include "format/text.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace retl {
namespace {

using testing::Contains;

template <typename T>
T ValueOrDie(absl::StatusOr<T> v) {
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *std::move(v) : T{};
}

// The error message of a failed parse, or "<ok>".
template <typename T>
std::string ErrorOf(const absl::StatusOr<T>& v) {
  if (v.ok()) return "<ok>";
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(v.status().message());
}

uint64_t DoubleBits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, 8);
  return u;
}

std::string I128ToString(int128 v) { return FormatDecimal(v, 0); }

int128 Pow10(int n) {
  int128 v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

// ---- BOOLEAN ---------------------------------------------------------------------

TEST(ParseBooleanTest, AcceptsAllSpellingsInAnyCase) {
  for (const char* t : {"true", "TRUE", "True", "t", "T", "yes", "YES", "y", "Y", "1"}) {
    EXPECT_TRUE(ValueOrDie(ParseBoolean(t))) << t;
  }
  for (const char* f : {"false", "FALSE", "fAlSe", "f", "F", "no", "No", "n", "N", "0"}) {
    EXPECT_FALSE(ValueOrDie(ParseBoolean(f))) << f;
  }
}

TEST(ParseBooleanTest, RejectsEverythingElse) {
  for (const char* bad : {"", "tru", "truee", "2", " true", "true ", "on", "off", "-1", "10"}) {
    EXPECT_FALSE(ParseBoolean(bad).ok()) << bad;
  }
  EXPECT_EQ(ErrorOf(ParseBoolean("maybe")), "cannot parse 'maybe' as BOOLEAN");
}

// ---- Integers --------------------------------------------------------------------

TEST(ParseIntegerTest, ParsesSignsAndLeadingZeros) {
  EXPECT_EQ(ValueOrDie(ParseInteger("0", TypeId::kInt)), 0);
  EXPECT_EQ(ValueOrDie(ParseInteger("-0", TypeId::kInt)), 0);
  EXPECT_EQ(ValueOrDie(ParseInteger("+42", TypeId::kInt)), 42);
  EXPECT_EQ(ValueOrDie(ParseInteger("-42", TypeId::kSmallInt)), -42);
  EXPECT_EQ(ValueOrDie(ParseInteger("007", TypeId::kTinyInt)), 7);
}

TEST(ParseIntegerTest, RangeIsCheckedPerType) {
  struct Case {
    TypeId type;
    int64_t min, max;
    const char* below;
    const char* above;
  };
  const Case cases[] = {
      {TypeId::kTinyInt, -128, 127, "-129", "128"},
      {TypeId::kSmallInt, -32768, 32767, "-32769", "32768"},
      {TypeId::kInt, INT32_MIN, INT32_MAX, "-2147483649", "2147483648"},
      {TypeId::kBigInt, INT64_MIN, INT64_MAX, "-9223372036854775809", "9223372036854775808"},
  };
  for (const Case& c : cases) {
    std::string name = DataType::Of(c.type).ToString();
    EXPECT_EQ(ValueOrDie(ParseInteger(std::to_string(c.min), c.type)), c.min) << name;
    EXPECT_EQ(ValueOrDie(ParseInteger(std::to_string(c.max), c.type)), c.max) << name;
    EXPECT_EQ(ErrorOf(ParseInteger(c.below, c.type)),
              "cannot parse '" + std::string(c.below) + "' as " + name + ": out of range");
    EXPECT_EQ(ErrorOf(ParseInteger(c.above, c.type)),
              "cannot parse '" + std::string(c.above) + "' as " + name + ": out of range");
  }
  // Far beyond 64 bits must not wrap around into range.
  EXPECT_FALSE(ParseInteger("18446744073709551616", TypeId::kBigInt).ok());      // 2^64
  EXPECT_FALSE(ParseInteger("18446744073709551615", TypeId::kBigInt).ok());      // 2^64 - 1
  EXPECT_FALSE(ParseInteger("-18446744073709551616", TypeId::kBigInt).ok());
  EXPECT_FALSE(ParseInteger("99999999999999999999999999999", TypeId::kBigInt).ok());
  EXPECT_FALSE(ParseInteger("256", TypeId::kTinyInt).ok());
  EXPECT_FALSE(ParseInteger("65536", TypeId::kSmallInt).ok());
  EXPECT_FALSE(ParseInteger("4294967296", TypeId::kInt).ok());
}

TEST(ParseIntegerTest, RejectsMalformedText) {
  for (const char* bad : {"", "-", "+", "1.5", "1.", ".5", " 1", "1 ", "1e3", "0x10", "12a",
                          "--1", "+-1", "1,000", "one", "\xd9\xa1", "1\n"}) {
    EXPECT_FALSE(ParseInteger(bad, TypeId::kBigInt).ok()) << bad;
  }
  EXPECT_EQ(ErrorOf(ParseInteger("1.5", TypeId::kInt)), "cannot parse '1.5' as INT");
  EXPECT_EQ(ErrorOf(ParseInteger("", TypeId::kBigInt)), "cannot parse '' as BIGINT");
}

TEST(ParseIntegerTest, LongAndControlTextIsShortenedAndEscapedInMessages) {
  std::string long_text(1000, '7');
  long_text += "x";
  std::string message = ErrorOf(ParseInteger(long_text, TypeId::kInt));
  EXPECT_LT(message.size(), 120u);
  EXPECT_TRUE(Contains(message, "...' as INT"));
  EXPECT_EQ(ErrorOf(ParseInteger("1\t2\n", TypeId::kInt)), "cannot parse '1\\t2\\n' as INT");
  EXPECT_EQ(ErrorOf(ParseInteger(std::string_view("\x01", 1), TypeId::kInt)),
            "cannot parse '\\x01' as INT");
}

// ---- FLOAT and DOUBLE ------------------------------------------------------------

TEST(ParseDoubleTest, ParsesDecimalAndExponentForms) {
  EXPECT_EQ(ValueOrDie(ParseDouble("1.5")), 1.5);
  EXPECT_EQ(ValueOrDie(ParseDouble("-2.25e3")), -2250.0);
  EXPECT_EQ(ValueOrDie(ParseDouble("+7")), 7.0);
  EXPECT_EQ(ValueOrDie(ParseDouble(".5")), 0.5);
  EXPECT_EQ(ValueOrDie(ParseDouble("5.")), 5.0);
  EXPECT_EQ(ValueOrDie(ParseDouble("1E-2")), 0.01);
  EXPECT_EQ(ValueOrDie(ParseDouble("0.1")), 0.1);
  EXPECT_EQ(ValueOrDie(ParseDouble("5e-324")), std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(ValueOrDie(ParseDouble("1.7976931348623157e308")), std::numeric_limits<double>::max());
  double neg_zero = ValueOrDie(ParseDouble("-0"));
  EXPECT_EQ(DoubleBits(neg_zero), DoubleBits(-0.0));
  EXPECT_EQ(DoubleBits(ValueOrDie(ParseDouble("-0.0e10"))), DoubleBits(-0.0));
}

TEST(ParseDoubleTest, ParsesSpecialValuesInAnyCase) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(ValueOrDie(ParseDouble("inf")), inf);
  EXPECT_EQ(ValueOrDie(ParseDouble("INF")), inf);
  EXPECT_EQ(ValueOrDie(ParseDouble("+Infinity")), inf);
  EXPECT_EQ(ValueOrDie(ParseDouble("-inf")), -inf);
  EXPECT_EQ(ValueOrDie(ParseDouble("-INFINITY")), -inf);
  for (const char* nan : {"nan", "NaN", "NAN", "-nan", "+nan"}) {
    double v = ValueOrDie(ParseDouble(nan));
    EXPECT_TRUE(std::isnan(v)) << nan;
    // One canonical NaN, so that text round trips are bit-exact.
    EXPECT_EQ(DoubleBits(v), DoubleBits(std::numeric_limits<double>::quiet_NaN())) << nan;
  }
}

TEST(ParseDoubleTest, RejectsMalformedAndOutOfRangeText) {
  for (const char* bad : {"", "-", "+", ".", "e5", "1e", "1e+", "1.5x", "abc", " 1", "1 ",
                          "0x1p3", "nan(1)", "infinit", "infinityy", "--1", "+-1", "1,5",
                          "1..2", "in f"}) {
    EXPECT_FALSE(ParseDouble(bad).ok()) << bad;
  }
  EXPECT_EQ(ErrorOf(ParseDouble("abc")), "cannot parse 'abc' as DOUBLE");
  EXPECT_EQ(ErrorOf(ParseDouble("1e400")), "cannot parse '1e400' as DOUBLE: out of range");
  EXPECT_EQ(ErrorOf(ParseDouble("-1e400")), "cannot parse '-1e400' as DOUBLE: out of range");
  EXPECT_FALSE(ParseDouble("1e-400").ok());  // underflows to zero
}

TEST(FormatDoubleTest, WritesShortestRoundTripText) {
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(1.5), "1.5");
  EXPECT_EQ(FormatDouble(-2.0), "-2");
  EXPECT_EQ(FormatDouble(0.0), "0");
  EXPECT_EQ(FormatDouble(-0.0), "-0");
  EXPECT_EQ(FormatDouble(1e20), "1e+20");
  EXPECT_EQ(FormatDouble(123456.0), "123456");
  EXPECT_EQ(FormatDouble(1e-7), "1e-07");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::denorm_min()), "5e-324");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::lowest()), "-1.7976931348623157e+308");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(FormatDouble(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(FormatDouble(-std::numeric_limits<double>::quiet_NaN()), "nan");
}

TEST(FormatDoubleTest, RandomBitPatternsRoundTripExactly) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200000; ++i) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, 8);
    if (std::isnan(d)) continue;
    std::string text = FormatDouble(d);
    absl::StatusOr<double> back = ParseDouble(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status();
    ASSERT_EQ(DoubleBits(*back), bits) << text;
    ASSERT_EQ(FormatDouble(*back), text);
  }
}

TEST(FloatColumnTest, RoundsOnceAndPrintsShortestFloatText) {
  Column c(DataType::Of(TypeId::kFloat));
  ASSERT_TRUE(AppendParsedValue("0.1", &c).ok());
  ASSERT_TRUE(AppendParsedValue("-0", &c).ok());
  ASSERT_TRUE(AppendParsedValue("3.4028235e38", &c).ok());
  ASSERT_TRUE(AppendParsedValue("-inf", &c).ok());
  ASSERT_TRUE(AppendParsedValue("nan", &c).ok());
  EXPECT_EQ(static_cast<float>(c.GetDouble(0)), 0.1f);
  EXPECT_EQ(ValueText(c, 0), "0.1");  // not 0.10000000149011612
  EXPECT_EQ(ValueText(c, 1), "-0");
  EXPECT_EQ(ValueText(c, 2), "3.4028235e+38");
  EXPECT_EQ(ValueText(c, 3), "-inf");
  EXPECT_EQ(ValueText(c, 4), "nan");
  Column bad(DataType::Of(TypeId::kFloat));
  absl::Status s = AppendParsedValue("3.5e38", &bad);  // above FLT_MAX
  EXPECT_EQ(s.message(), "cannot parse '3.5e38' as FLOAT: out of range");
  EXPECT_EQ(bad.size(), 0);
}

TEST(FloatColumnTest, RandomFloatsRoundTripExactly) {
  std::mt19937 rng(7);
  Column c(DataType::Of(TypeId::kFloat));
  for (int i = 0; i < 100000; ++i) {
    uint32_t bits = rng();
    float f;
    std::memcpy(&f, &bits, 4);
    if (std::isnan(f)) continue;
    c.AppendDouble(f);
  }
  Column back(DataType::Of(TypeId::kFloat));
  for (RowIndex r = 0; r < c.size(); ++r) {
    ASSERT_TRUE(AppendParsedValue(ValueText(c, r), &back).ok()) << ValueText(c, r);
  }
  EXPECT_TRUE(back.Equals(c));
}

// ---- DECIMAL ---------------------------------------------------------------------

TEST(FormatDecimalTest, WritesExactlyScaleFractionDigits) {
  EXPECT_EQ(FormatDecimal(1234, 2), "12.34");
  EXPECT_EQ(FormatDecimal(-5, 2), "-0.05");
  EXPECT_EQ(FormatDecimal(5, 2), "0.05");
  EXPECT_EQ(FormatDecimal(0, 2), "0.00");
  EXPECT_EQ(FormatDecimal(0, 0), "0");
  EXPECT_EQ(FormatDecimal(-7, 0), "-7");
  EXPECT_EQ(FormatDecimal(100, 2), "1.00");
  EXPECT_EQ(FormatDecimal(-100, 2), "-1.00");
  EXPECT_EQ(FormatDecimal(1, 5), "0.00001");
  const int128 max38 = Pow10(38) - 1;
  EXPECT_EQ(FormatDecimal(max38, 0), std::string(38, '9'));
  EXPECT_EQ(FormatDecimal(-max38, 0), "-" + std::string(38, '9'));
  EXPECT_EQ(FormatDecimal(max38, 38), "0." + std::string(38, '9'));
  EXPECT_EQ(FormatDecimal(-max38, 38), "-0." + std::string(38, '9'));
  EXPECT_EQ(FormatDecimal(max38, 10), std::string(28, '9') + "." + std::string(10, '9'));
  // Values around the 64-bit boundary take the 128-bit path.
  EXPECT_EQ(FormatDecimal(int128(UINT64_MAX), 0), "18446744073709551615");
  EXPECT_EQ(FormatDecimal(int128(UINT64_MAX) + 1, 0), "18446744073709551616");
  EXPECT_EQ(FormatDecimal(Pow10(19), 0), "10000000000000000000");
  EXPECT_EQ(FormatDecimal(Pow10(19) + 7, 19), "1.0000000000000000007");
  EXPECT_EQ(FormatDecimal(int128(INT64_MIN), 0), "-9223372036854775808");
}

TEST(ParseDecimalTest, ParsesAndScales) {
  EXPECT_EQ(ValueOrDie(ParseDecimal("12.34", 5, 2)), 1234);
  EXPECT_EQ(ValueOrDie(ParseDecimal("-0.05", 5, 2)), -5);
  EXPECT_EQ(ValueOrDie(ParseDecimal("12", 5, 2)), 1200);
  EXPECT_EQ(ValueOrDie(ParseDecimal("+1.5", 5, 2)), 150);
  EXPECT_EQ(ValueOrDie(ParseDecimal(".5", 5, 2)), 50);
  EXPECT_EQ(ValueOrDie(ParseDecimal("5.", 5, 2)), 500);
  EXPECT_EQ(ValueOrDie(ParseDecimal("999.99", 5, 2)), 99999);
  EXPECT_EQ(ValueOrDie(ParseDecimal("-999.99", 5, 2)), -99999);
  EXPECT_EQ(ValueOrDie(ParseDecimal("0000000000000000000000000000000000000000012.5", 5, 2)), 1250);
  EXPECT_EQ(ValueOrDie(ParseDecimal("-0", 5, 2)), 0);
  EXPECT_EQ(ValueOrDie(ParseDecimal("1e2", 5, 2)), 10000);
  EXPECT_EQ(ValueOrDie(ParseDecimal("1.5E-1", 5, 2)), 15);
  EXPECT_EQ(ValueOrDie(ParseDecimal("12345e-2", 5, 2)), 12345);
  EXPECT_EQ(ValueOrDie(ParseDecimal("0.00e50", 5, 2)), 0);
  EXPECT_EQ(ValueOrDie(ParseDecimal("1e-50", 5, 2)), 0);
  EXPECT_EQ(ValueOrDie(ParseDecimal("7", 1, 0)), 7);
}

TEST(ParseDecimalTest, RoundsExtraFractionDigitsHalfAwayFromZero) {
  EXPECT_EQ(ValueOrDie(ParseDecimal("12.345", 5, 2)), 1235);
  EXPECT_EQ(ValueOrDie(ParseDecimal("12.344999", 5, 2)), 1234);
  EXPECT_EQ(ValueOrDie(ParseDecimal("-12.345", 5, 2)), -1235);
  EXPECT_EQ(ValueOrDie(ParseDecimal("-12.3449", 5, 2)), -1234);
  EXPECT_EQ(ValueOrDie(ParseDecimal("0.005", 5, 2)), 1);
  EXPECT_EQ(ValueOrDie(ParseDecimal("-0.005", 5, 2)), -1);
  EXPECT_EQ(ValueOrDie(ParseDecimal("0.0049", 5, 2)), 0);
  EXPECT_EQ(ValueOrDie(ParseDecimal("2.5", 3, 0)), 3);
  EXPECT_EQ(ValueOrDie(ParseDecimal("-2.5", 3, 0)), -3);
  EXPECT_EQ(ValueOrDie(ParseDecimal("1.000000000000000000000000000000000000000000005", 5, 2)),
            100);
  EXPECT_EQ(ValueOrDie(ParseDecimal("0.5e-2", 5, 2)), 1);    // exponent moves the point first
  EXPECT_EQ(ValueOrDie(ParseDecimal("5e-3", 5, 2)), 1);
  EXPECT_EQ(ValueOrDie(ParseDecimal("4.9e-3", 5, 2)), 0);
}

TEST(ParseDecimalTest, RejectsTooManyIntegerDigits) {
  EXPECT_EQ(ErrorOf(ParseDecimal("1000", 5, 2)),
            "cannot parse '1000' as DECIMAL(5,2): more than 3 integer digits");
  EXPECT_EQ(ErrorOf(ParseDecimal("-1000.00", 5, 2)),
            "cannot parse '-1000.00' as DECIMAL(5,2): more than 3 integer digits");
  // Rounding up can carry into one digit too many.
  EXPECT_FALSE(ParseDecimal("999.995", 5, 2).ok());
  EXPECT_FALSE(ParseDecimal("-999.995", 5, 2).ok());
  EXPECT_FALSE(ParseDecimal("1e3", 5, 2).ok());
  EXPECT_FALSE(ParseDecimal("1e999999999999", 5, 2).ok());
  EXPECT_FALSE(ParseDecimal("1", 2, 2).ok());
  EXPECT_EQ(ValueOrDie(ParseDecimal("0.99", 2, 2)), 99);
  EXPECT_FALSE(ParseDecimal("0.995", 2, 2).ok());
}

TEST(ParseDecimalTest, HandlesThirtyEightDigitExtremes) {
  const int128 max38 = Pow10(38) - 1;
  const std::string nines(38, '9');
  EXPECT_TRUE(ValueOrDie(ParseDecimal(nines, 38, 0)) == max38);
  EXPECT_TRUE(ValueOrDie(ParseDecimal("-" + nines, 38, 0)) == -max38);
  EXPECT_TRUE(ValueOrDie(ParseDecimal("0." + nines, 38, 38)) == max38);
  EXPECT_TRUE(ValueOrDie(ParseDecimal("-." + nines, 38, 38)) == -max38);
  EXPECT_TRUE(ValueOrDie(ParseDecimal(nines.substr(0, 20) + "." + nines.substr(0, 18), 38, 18)) ==
              max38);
  EXPECT_FALSE(ParseDecimal("1" + std::string(38, '0'), 38, 0).ok());   // 10^38
  EXPECT_FALSE(ParseDecimal(nines + "9", 38, 0).ok());                  // 39 digits
  EXPECT_FALSE(ParseDecimal("0." + nines + "9", 38, 38).ok());          // rounds to 1
  EXPECT_FALSE(ParseDecimal("1", 38, 38).ok());
  EXPECT_FALSE(ParseDecimal(std::string(80, '9'), 38, 0).ok());
  EXPECT_TRUE(ValueOrDie(ParseDecimal("1e37", 38, 0)) == Pow10(37));
  EXPECT_FALSE(ParseDecimal("1e38", 38, 0).ok());
}

TEST(ParseDecimalTest, CrossesFromSixtyFourToOneHundredTwentyEightBitAccumulation) {
  EXPECT_TRUE(ValueOrDie(ParseDecimal("999999999999999999", 18, 0)) == 999999999999999999LL);
  EXPECT_TRUE(ValueOrDie(ParseDecimal("1234567890123456789", 19, 0)) ==
              int128(1234567890123456789LL));
  EXPECT_TRUE(ValueOrDie(ParseDecimal("00012345678901234567890", 20, 0)) ==
              int128(1234567890123456789LL) * 10);
  EXPECT_TRUE(ValueOrDie(ParseDecimal("-12345678901234567.891", 20, 3)) ==
              -(int128(1234567890123456789LL) * 10 + 1));
  EXPECT_TRUE(ValueOrDie(ParseDecimal("18446744073709551615", 20, 0)) == int128(UINT64_MAX));
  EXPECT_TRUE(ValueOrDie(ParseDecimal("18446744073709551616.5", 21, 0)) ==
              int128(UINT64_MAX) + 2);
}

TEST(ParseDecimalTest, RejectsMalformedText) {
  for (const char* bad : {"", "-", "+", ".", "-.", "1.2.3", "abc", "1e", "1e+", "e5", "--1",
                          " 1", "1 ", "1,5", "nan", "inf", "0x10", "1.5f", "1e5.5"}) {
    EXPECT_FALSE(ParseDecimal(bad, 10, 2).ok()) << bad;
  }
  EXPECT_EQ(ErrorOf(ParseDecimal("x", 18, 3)), "cannot parse 'x' as DECIMAL(18,3)");
  EXPECT_FALSE(ParseDecimal("1", 0, 0).ok());   // invalid type
  EXPECT_FALSE(ParseDecimal("1", 39, 0).ok());
  EXPECT_FALSE(ParseDecimal("1", 5, 6).ok());
}

TEST(DecimalTest, RandomValuesRoundTripForEveryPrecisionAndScale) {
  std::mt19937_64 rng(1234);
  for (int precision = 1; precision <= 38; ++precision) {
    for (int scale = 0; scale <= precision; ++scale) {
      const int128 bound = Pow10(precision);
      for (int i = 0; i < 20; ++i) {
        int128 v = (static_cast<int128>(rng()) << 64 | rng()) % bound;  // may be negative
        if (i == 0) v = bound - 1;
        if (i == 1) v = -(bound - 1);
        if (i == 2) v = 0;
        std::string text = FormatDecimal(v, scale);
        absl::StatusOr<int128> back = ParseDecimal(text, precision, scale);
        ASSERT_TRUE(back.ok()) << text << " " << back.status();
        ASSERT_TRUE(*back == v) << text << " -> " << I128ToString(*back);
      }
    }
  }
}

TEST(DecimalTest, ParseThenFormatGivesCanonicalText) {
  struct Case {
    const char* in;
    int p, s;
    const char* canonical;
  };
  for (const Case& c : {Case{"1.5", 5, 2, "1.50"}, Case{"+0012.3", 5, 2, "12.30"},
                        Case{"-0.004", 5, 2, "0.00"}, Case{"1e2", 5, 0, "100"},
                        Case{".1", 3, 3, "0.100"}, Case{"-00", 3, 1, "0.0"}}) {
    EXPECT_EQ(FormatDecimal(ValueOrDie(ParseDecimal(c.in, c.p, c.s)), c.s), c.canonical) << c.in;
  }
}

TEST(DecimalTest, ColumnsStoreSmallPrecisionIn64AndLargeIn128Bits) {
  Column small(DataType::Decimal(18, 4));
  ASSERT_TRUE(AppendParsedValue("-99999999999999.9999", &small).ok());
  EXPECT_EQ(small.GetInt(0), -999999999999999999LL);
  EXPECT_EQ(ValueText(small, 0), "-99999999999999.9999");
  Column big(DataType::Decimal(38, 6));
  std::string text = std::string(32, '9') + ".999999";
  ASSERT_TRUE(AppendParsedValue(text, &big).ok());
  EXPECT_TRUE(big.GetInt128(0) == Pow10(38) - 1);
  EXPECT_EQ(ValueText(big, 0), text);
  absl::Status s = AppendParsedValue("1" + std::string(32, '0'), &big);
  EXPECT_EQ(s.message(),
            "cannot parse '100000000000000000000000000000000' as DECIMAL(38,6): more than 32 "
            "integer digits");
  EXPECT_EQ(big.size(), 1);
}

// ---- DATE ------------------------------------------------------------------------

TEST(DateTest, FormatsKnownDays) {
  EXPECT_EQ(FormatDate(0), "1970-01-01");
  EXPECT_EQ(FormatDate(-1), "1969-12-31");
  EXPECT_EQ(FormatDate(31), "1970-02-01");
  EXPECT_EQ(FormatDate(11016), "2000-02-29");
  EXPECT_EQ(FormatDate(-719162), "0001-01-01");
  EXPECT_EQ(FormatDate(2932896), "9999-12-31");
  EXPECT_EQ(FormatDate(19782), "2024-02-29");
}

TEST(DateTest, ParsesKnownDays) {
  EXPECT_EQ(ValueOrDie(ParseDate("1970-01-01")), 0);
  EXPECT_EQ(ValueOrDie(ParseDate("1969-12-31")), -1);
  EXPECT_EQ(ValueOrDie(ParseDate("0001-01-01")), -719162);
  EXPECT_EQ(ValueOrDie(ParseDate("9999-12-31")), 2932896);
  EXPECT_EQ(ValueOrDie(ParseDate("2000-02-29")), 11016);
  EXPECT_EQ(ValueOrDie(ParseDate("2024-02-29")), 19782);
}

TEST(DateTest, RejectsImpossibleAndMalformedDates) {
  EXPECT_EQ(ErrorOf(ParseDate("2024-02-30")), "cannot parse '2024-02-30' as DATE: no such day");
  EXPECT_EQ(ErrorOf(ParseDate("2023-02-29")), "cannot parse '2023-02-29' as DATE: no such day");
  EXPECT_FALSE(ParseDate("1900-02-29").ok());  // not a leap year
  EXPECT_FALSE(ParseDate("2024-04-31").ok());
  EXPECT_FALSE(ParseDate("2024-01-32").ok());
  EXPECT_FALSE(ParseDate("2024-01-00").ok());
  EXPECT_EQ(ErrorOf(ParseDate("2024-13-01")), "cannot parse '2024-13-01' as DATE: no such month");
  EXPECT_FALSE(ParseDate("2024-00-10").ok());
  EXPECT_FALSE(ParseDate("0000-12-31").ok());
  for (const char* bad : {"", "2024-1-05", "2024-01-5", "24-01-05", "2024/01/05", "20240105",
                          "2024-01-05 ", " 2024-01-05", "2024-01-05T00:00:00", "2024-01-0x",
                          "+2024-01-05", "-001-01-01", "2024-01-05Z", "abcd-ef-gh"}) {
    EXPECT_FALSE(ParseDate(bad).ok()) << bad;
  }
  EXPECT_TRUE(Contains(ErrorOf(ParseDate("2024/01/05")), "cannot parse '2024/01/05' as DATE"));
}

TEST(DateTest, AgreesWithAbseilCivilTimeOverTheWholeRange) {
  const absl::CivilDay epoch(1970, 1, 1);
  for (int32_t days = -719162; days <= 2932896; days += (days % 1000 == 0 ? 1 : 13)) {
    absl::CivilDay day = epoch + days;
    char expected[16];
    std::snprintf(expected, sizeof(expected), "%04d-%02d-%02d", static_cast<int>(day.year()),
                  day.month(), day.day());
    std::string text = FormatDate(days);
    ASSERT_EQ(text, expected) << days;
    ASSERT_EQ(ValueOrDie(ParseDate(text)), days) << text;
  }
  // Every day of a leap century and its neighbours.
  for (int32_t days = ValueOrDie(ParseDate("1999-01-01")); days < 11400; ++days) {
    ASSERT_EQ(ValueOrDie(ParseDate(FormatDate(days))), days);
  }
}

// ---- TIMESTAMP -------------------------------------------------------------------

int64_t Micros(std::string_view text) { return ValueOrDie(ParseTimestamp(text)); }

TEST(TimestampTest, FormatsWithFractionOnlyWhenNonZero) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01 00:00:00");
  EXPECT_EQ(FormatTimestamp(1), "1970-01-01 00:00:00.000001");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31 23:59:59.999999");
  EXPECT_EQ(FormatTimestamp(1'500'000), "1970-01-01 00:00:01.5");
  EXPECT_EQ(FormatTimestamp(123'000), "1970-01-01 00:00:00.123");
  EXPECT_EQ(FormatTimestamp(-86'400'000'000LL), "1969-12-31 00:00:00");
  EXPECT_EQ(FormatTimestamp(1'709'210'096'000'010LL), "2024-02-29 12:34:56.00001");
  EXPECT_EQ(FormatTimestamp(-62135596800000000LL), "0001-01-01 00:00:00");
  EXPECT_EQ(FormatTimestamp(253402300799999999LL), "9999-12-31 23:59:59.999999");
}

TEST(TimestampTest, ParsesCanonicalAndAlternativeForms) {
  EXPECT_EQ(Micros("1970-01-01 00:00:00"), 0);
  EXPECT_EQ(Micros("1970-01-01"), 0);
  EXPECT_EQ(Micros("1970-01-02"), 86'400'000'000LL);
  EXPECT_EQ(Micros("1970-01-01T00:00:01"), 1'000'000);
  EXPECT_EQ(Micros("1970-01-01 00:00:01Z"), 1'000'000);
  EXPECT_EQ(Micros("1970-01-01 00:00:00.5"), 500'000);
  EXPECT_EQ(Micros("1970-01-01 00:00:00.000001"), 1);
  EXPECT_EQ(Micros("1970-01-01 00:00:00.123456789"), 123456);  // truncated, not rounded
  EXPECT_EQ(Micros("1970-01-01 00:00:00.9999999"), 999999);
  EXPECT_EQ(Micros("1969-12-31 23:59:59.999999"), -1);
  EXPECT_EQ(Micros("1969-12-31 23:59:59.9999999"), -1);
}

TEST(TimestampTest, ConvertsOffsetsToUtc) {
  const int64_t hour = 3'600'000'000LL;
  EXPECT_EQ(Micros("1970-01-01 02:00:00+02:00"), 0);
  EXPECT_EQ(Micros("1970-01-01 02:00:00+0200"), 0);
  EXPECT_EQ(Micros("1970-01-01 02:00:00+02"), 0);
  EXPECT_EQ(Micros("1970-01-01T00:00:00-05:30"), 5 * hour + hour / 2);
  EXPECT_EQ(Micros("1970-01-01 00:00:00.25-0100"), hour + 250'000);
  EXPECT_EQ(Micros("2024-03-01 00:30:00+01:00"), Micros("2024-02-29 23:30:00"));
  EXPECT_EQ(FormatTimestamp(Micros("2024-12-31T23:00:00-02:00")), "2025-01-01 01:00:00");
}

TEST(TimestampTest, RangeIsYearsOneToNineThousandNineHundredNinetyNineInUtc) {
  EXPECT_EQ(FormatTimestamp(Micros("0001-01-01 00:00:00")), "0001-01-01 00:00:00");
  EXPECT_EQ(FormatTimestamp(Micros("9999-12-31 23:59:59.999999")), "9999-12-31 23:59:59.999999");
  EXPECT_EQ(FormatTimestamp(Micros("0001-01-01 05:00:00+05:00")), "0001-01-01 00:00:00");
  EXPECT_TRUE(Contains(ErrorOf(ParseTimestamp("0001-01-01 00:00:00+00:01")), "out of range"));
  EXPECT_FALSE(ParseTimestamp("9999-12-31 23:59:59-00:01").ok());
  EXPECT_FALSE(ParseTimestamp("0000-12-31 23:59:59").ok());
}

TEST(TimestampTest, RejectsMalformedText) {
  for (const char* bad :
       {"", "1970-01-01 ", "1970-01-01T", "1970-01-01 00:00", "1970-01-01 0:00:00",
        "1970-01-01 24:00:00", "1970-01-01 23:60:00", "1970-01-01 23:59:60",
        "1970-01-01 00:00:00.", "1970-01-01 00:00:00.1234567890", "1970-01-01 00:00:00 Z",
        "1970-01-01 00:00:00+2:00", "1970-01-01 00:00:00+02:0", "1970-01-01 00:00:00+0",
        "1970-01-01 00:00:00+24:00", "1970-01-01 00:00:00+02:60", "1970-01-01 00:00:00+02-00",
        "1970-01-01 00:00:00UTC", "1970-01-01X00:00:00", "1970-01-01 00:00:00.5x",
        "1970-02-30 00:00:00", "1970-01-01Z", "1970-01-01 00-00-00", "1970-01-01 00:00:00,5"}) {
    EXPECT_FALSE(ParseTimestamp(bad).ok()) << bad;
  }
  EXPECT_TRUE(Contains(ErrorOf(ParseTimestamp("yesterday")), "cannot parse 'yesterday' as TIMESTAMP"));
}

// "YYYY-MM-DD?HH:MM:SS" of `cs`, with `sep` between date and time.
std::string CivilText(const absl::CivilSecond& cs, char sep) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d%c%02d:%02d:%02d", static_cast<int>(cs.year()),
                cs.month(), cs.day(), sep, cs.hour(), cs.minute(), cs.second());
  return buf;
}

TEST(TimestampTest, AgreesWithAbseilAndRoundTripsRandomValues) {
  std::mt19937_64 rng(99);
  const int64_t lo = -62135596800000000LL;  // 0001-01-01
  const int64_t hi = 253402300799999999LL;  // 9999-12-31 23:59:59.999999
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  for (int i = 0; i < 200000; ++i) {
    int64_t micros = i == 0 ? lo : i == 1 ? hi : dist(rng);
    if (i % 3 == 0) micros -= micros % 1'000'000;  // whole seconds too
    std::string text = FormatTimestamp(micros);
    absl::Time t = absl::FromUnixMicros(micros);
    ASSERT_EQ(text, CivilText(absl::ToCivilSecond(t, absl::UTCTimeZone()), ' ') +
                        absl::FormatTime("%E*S", t, absl::UTCTimeZone()).substr(2))
        << micros;
    ASSERT_EQ(Micros(text), micros) << text;
    // The 'T' form with an offset names the same instant.
    absl::CivilSecond local = absl::ToCivilSecond(t, absl::FixedTimeZone(-(7 * 3600 + 1800)));
    std::string with_offset = CivilText(local, 'T') + text.substr(19) + "-07:30";
    if (local.year() >= 1) {
      ASSERT_EQ(Micros(with_offset), micros) << with_offset;
    }
  }
}

// ---- BINARY and STRING -----------------------------------------------------------

TEST(BinaryTest, UsesPostgresHexForm) {
  EXPECT_EQ(FormatBinary(""), "\\x");
  EXPECT_EQ(FormatBinary(std::string("\x00\xff\x10\xab", 4)), "\\x00ff10ab");
  EXPECT_EQ(ValueOrDie(ParseBinary("\\x00FF10ab")), std::string("\x00\xff\x10\xab", 4));
  EXPECT_EQ(ValueOrDie(ParseBinary("\\x")), "");
  for (const char* bad : {"", "00ff", "\\x0", "\\xzz", "\\X00", "x00", "\\x00 ", "\\\\x00"}) {
    EXPECT_FALSE(ParseBinary(bad).ok()) << bad;
  }
  EXPECT_TRUE(Contains(ErrorOf(ParseBinary("00ff")), "cannot parse '00ff' as BINARY"));
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(ValueOrDie(ParseBinary(FormatBinary(all))), all);
}

TEST(Utf8Test, AcceptsValidText) {
  for (std::string_view ok : {std::string_view(""), std::string_view("plain ascii text, long!"),
                              std::string_view("caf\xc3\xa9"), std::string_view("\xe2\x82\xac"),
                              std::string_view("\xf0\x9d\x84\x9e"),  // U+1D11E
                              std::string_view("\xf4\x8f\xbf\xbf"),  // U+10FFFF
                              std::string_view("\xef\xbf\xbf"),      // U+FFFF
                              std::string_view("\xed\x9f\xbf"),      // U+D7FF
                              std::string_view("\0", 1)}) {
    EXPECT_TRUE(IsValidUtf8(ok)) << ok;
  }
}

TEST(Utf8Test, RejectsOverlongSurrogatesAndTruncation) {
  for (std::string_view bad : {std::string_view("\xc0\x80"),          // overlong NUL
                               std::string_view("\xc1\xbf"),          // overlong
                               std::string_view("\xe0\x80\x80"),      // overlong 3-byte
                               std::string_view("\xe0\x9f\xbf"),      // overlong 3-byte
                               std::string_view("\xf0\x8f\xbf\xbf"),  // overlong 4-byte
                               std::string_view("\xed\xa0\x80"),      // U+D800 surrogate
                               std::string_view("\xed\xbf\xbf"),      // U+DFFF surrogate
                               std::string_view("\xf4\x90\x80\x80"),  // above U+10FFFF
                               std::string_view("\xf5\x80\x80\x80"), std::string_view("\xff"),
                               std::string_view("\x80"), std::string_view("\xe2\x82"),
                               std::string_view("\xc3"), std::string_view("\xc3\x28"),
                               std::string_view("\xe2\x28\xa1")}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << ::testing::PrintToString(std::string(bad));
    // Also after the eight-byte ASCII fast path.
    EXPECT_FALSE(IsValidUtf8("0123456789abcdef" + std::string(bad)));
    EXPECT_FALSE(IsValidUtf8("0123456789abcdef" + std::string(bad) + "0123456789abcdef"));
  }
}

TEST(StringColumnTest, RejectsInvalidUtf8AndLeavesTheColumnUnchanged) {
  Column c(DataType::Of(TypeId::kString));
  ASSERT_TRUE(AppendParsedValue("h\xc3\xa9llo", &c).ok());
  absl::Status s = AppendParsedValue("bad\xff", &c);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "cannot parse 'bad\\xff' as STRING: invalid UTF-8");
  EXPECT_EQ(c.size(), 1);
  EXPECT_EQ(ValueText(c, 0), "h\xc3\xa9llo");
}

// ---- Columns of every type -------------------------------------------------------

TEST(AppendParsedValueTest, FailureLeavesColumnUnchangedForEveryType) {
  const DataType types[] = {
      DataType::Of(TypeId::kBoolean),  DataType::Of(TypeId::kTinyInt),
      DataType::Of(TypeId::kSmallInt), DataType::Of(TypeId::kInt),
      DataType::Of(TypeId::kBigInt),   DataType::Of(TypeId::kFloat),
      DataType::Of(TypeId::kDouble),   DataType::Decimal(9, 2),
      DataType::Decimal(30, 5),        DataType::Of(TypeId::kBinary),
      DataType::Of(TypeId::kDate),     DataType::Of(TypeId::kTimestamp)};
  for (const DataType& type : types) {
    Column c(type);
    absl::Status s = AppendParsedValue("not a value", &c);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << type.ToString();
    EXPECT_TRUE(Contains(s.message(), "cannot parse 'not a value' as " + type.ToString()));
    EXPECT_EQ(c.size(), 0);
    // The empty string is no value of a non-string type either.
    EXPECT_FALSE(AppendParsedValue("", &c).ok()) << type.ToString();
    EXPECT_EQ(c.size(), 0);
  }
  Column strings(DataType::Of(TypeId::kString));
  ASSERT_TRUE(AppendParsedValue("", &strings).ok());
  EXPECT_EQ(strings.size(), 1);
  EXPECT_EQ(strings.GetBytes(0), "");
}

TEST(AppendParsedValueTest, ParseThenFormatGivesCanonicalText) {
  struct Case {
    DataType type;
    const char* in;
    const char* canonical;
  };
  const Case cases[] = {
      {DataType::Of(TypeId::kBoolean), "Y", "true"},
      {DataType::Of(TypeId::kBoolean), "0", "false"},
      {DataType::Of(TypeId::kTinyInt), "-0128", "-128"},
      {DataType::Of(TypeId::kSmallInt), "+5", "5"},
      {DataType::Of(TypeId::kInt), "-2147483648", "-2147483648"},
      {DataType::Of(TypeId::kBigInt), "-9223372036854775808", "-9223372036854775808"},
      {DataType::Of(TypeId::kBigInt), "9223372036854775807", "9223372036854775807"},
      {DataType::Of(TypeId::kDouble), "1.50E+01", "15"},
      {DataType::Of(TypeId::kDouble), "-Infinity", "-inf"},
      {DataType::Of(TypeId::kDouble), "NaN", "nan"},
      {DataType::Of(TypeId::kDouble), "-0.000", "-0"},
      {DataType::Of(TypeId::kFloat), "1e-45", "1e-45"},
      {DataType::Decimal(5, 2), "1.005", "1.01"},
      {DataType::Decimal(38, 0), "-1e37", "-10000000000000000000000000000000000000"},
      {DataType::Of(TypeId::kString), "  spaced \"text\" ", "  spaced \"text\" "},
      {DataType::Of(TypeId::kBinary), "\\xDEADbeef", "\\xdeadbeef"},
      {DataType::Of(TypeId::kDate), "0001-01-01", "0001-01-01"},
      {DataType::Of(TypeId::kTimestamp), "2024-02-29T12:00:00.120Z", "2024-02-29 12:00:00.12"},
      {DataType::Of(TypeId::kTimestamp), "2024-02-29", "2024-02-29 00:00:00"},
      {DataType::Of(TypeId::kTimestamp), "2024-03-01 01:00:00+0200", "2024-02-29 23:00:00"},
  };
  for (const Case& c : cases) {
    Column column(c.type);
    absl::Status s = AppendParsedValue(c.in, &column);
    ASSERT_TRUE(s.ok()) << c.in << ": " << s;
    EXPECT_EQ(ValueText(column, 0), c.canonical) << c.type.ToString() << " " << c.in;
    std::string appended = "prefix:";
    AppendValueText(column, 0, &appended);
    EXPECT_EQ(appended, std::string("prefix:") + c.canonical);
  }
}

// Random values of every type, including each type's extremes, survive
// format -> parse bit for bit, and formatting is idempotent.
TEST(AppendParsedValueTest, RandomValuesOfEveryTypeRoundTrip) {
  std::mt19937_64 rng(2024);
  auto random_string = [&](bool binary) {
    std::string s;
    int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
      if (binary) {
        s.push_back(static_cast<char>(rng()));
      } else {
        static const char* const kPieces[] = {"a", "Z", " ", ",", "\"", "\n", "\xc3\xa9",
                                              "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\\", "'"};
        s += kPieces[rng() % 11];
      }
    }
    return s;
  };
  const DataType types[] = {
      DataType::Of(TypeId::kBoolean), DataType::Of(TypeId::kTinyInt),
      DataType::Of(TypeId::kSmallInt), DataType::Of(TypeId::kInt),
      DataType::Of(TypeId::kBigInt), DataType::Of(TypeId::kFloat),
      DataType::Of(TypeId::kDouble), DataType::Decimal(18, 4),
      DataType::Decimal(38, 0), DataType::Decimal(38, 38), DataType::Decimal(25, 7),
      DataType::Of(TypeId::kString), DataType::Of(TypeId::kBinary),
      DataType::Of(TypeId::kDate), DataType::Of(TypeId::kTimestamp)};
  for (const DataType& type : types) {
    Column c(type);
    for (int i = 0; i < 3000; ++i) {
      uint64_t r = rng();
      switch (type.id) {
        case TypeId::kBoolean: c.AppendBool(r & 1); break;
        case TypeId::kTinyInt:
          c.AppendInt(i == 0 ? INT8_MIN : i == 1 ? INT8_MAX : static_cast<int8_t>(r));
          break;
        case TypeId::kSmallInt:
          c.AppendInt(i == 0 ? INT16_MIN : i == 1 ? INT16_MAX : static_cast<int16_t>(r));
          break;
        case TypeId::kInt:
          c.AppendInt(i == 0 ? INT32_MIN : i == 1 ? INT32_MAX : static_cast<int32_t>(r));
          break;
        case TypeId::kBigInt:
          c.AppendInt(i == 0 ? INT64_MIN : i == 1 ? INT64_MAX : static_cast<int64_t>(r >> (r % 64)));
          break;
        case TypeId::kFloat: {
          uint32_t bits = static_cast<uint32_t>(r);
          float f;
          std::memcpy(&f, &bits, 4);
          if (std::isnan(f)) f = std::numeric_limits<float>::quiet_NaN();
          if (i == 0) f = -0.0f;
          if (i == 1) f = std::numeric_limits<float>::denorm_min();
          if (i == 2) f = -std::numeric_limits<float>::infinity();
          c.AppendDouble(f);
          break;
        }
        case TypeId::kDouble: {
          double d;
          std::memcpy(&d, &r, 8);
          if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
          if (i == 0) d = -0.0;
          if (i == 1) d = std::numeric_limits<double>::infinity();
          if (i == 2) d = std::numeric_limits<double>::lowest();
          if (i == 3) d = std::numeric_limits<double>::quiet_NaN();
          c.AppendDouble(d);
          break;
        }
        case TypeId::kDecimal: {
          int128 bound = Pow10(type.precision);
          int128 v = (static_cast<int128>(r) << 64 | rng()) % bound;
          if (i == 0) v = bound - 1;
          if (i == 1) v = 1 - bound;
          c.AppendInt128(v);
          break;
        }
        case TypeId::kString: c.AppendBytes(random_string(false)); break;
        case TypeId::kBinary: c.AppendBytes(random_string(true)); break;
        case TypeId::kDate:
          c.AppendInt(i == 0 ? -719162 : i == 1 ? 2932896 : -719162 + static_cast<int64_t>(r % 3652059));
          break;
        case TypeId::kTimestamp: {
          const int64_t lo = -62135596800000000LL;
          const int64_t span = 253402300799999999LL - lo + 1;
          int64_t v = lo + static_cast<int64_t>(r % static_cast<uint64_t>(span));
          if (i == 0) v = lo;
          if (i == 1) v = lo + span - 1;
          c.AppendInt(v);
          break;
        }
      }
    }
    Column back(type);
    for (RowIndex row = 0; row < c.size(); ++row) {
      std::string text = ValueText(c, row);
      absl::Status s = AppendParsedValue(text, &back);
      ASSERT_TRUE(s.ok()) << type.ToString() << " '" << text << "': " << s;
      ASSERT_EQ(ValueText(back, row), text) << type.ToString();
    }
    EXPECT_TRUE(back.Equals(c)) << type.ToString();
  }
}

}  // namespace
}  // namespace retl
