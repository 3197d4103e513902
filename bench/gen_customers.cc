// retl-gen-customers: writes the reference `customers` table of
// /work/shared/WORKLOAD.md as CSV (header row, NULL as an empty field, DATE as
// YYYY-MM-DD, TIMESTAMP as YYYY-MM-DD HH:MM:SS, booleans true/false), and
// optionally the 100,000 reference lookup keys.
//
// Determinism: everything random comes from std::mt19937_64 (whose output
// sequence the standard fixes) through the samplers below, never from the
// <random> distributions (whose algorithms differ between standard libraries).
// Each row consumes exactly kDrawsPerRow draws from the row stream, in i order,
// so a row's content depends only on (seed, i): --shuffle emits a permutation of
// the unshuffled output, and --keys does not change the rows (the shuffle and
// the keys use streams of their own).
#include <CLI/CLI.hpp>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <numbers>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

// ---------------------------------------------------------------- reference data

constexpr std::uint64_t kIdMultiplier = 2654435761ULL;
constexpr std::uint64_t kIdOffset = 12345;
constexpr std::uint64_t kIdMask = (std::uint64_t{1} << 40) - 1;  // mod 2^40
constexpr std::uint64_t kLookupKeys = 100000;
constexpr std::uint64_t kLookupHits = 90000;  // 90% existing, 10% absent

enum Region : std::uint8_t {
  kNorthAmerica,
  kSouthAmerica,
  kWesternEurope,
  kEasternEurope,
  kMiddleEastAfrica,
  kSouthAsia,  // South and South-East Asia
  kEastAsia,
  kOceania,
  kRegionCount
};

constexpr std::array<std::string_view, kRegionCount> kRegionNames = {
    "north_america", "south_america", "western_europe", "eastern_europe",
    "middle_east_africa", "south_asia", "east_asia", "oceania"};

struct Country {
  std::string_view code;
  Region region;
};

// Zipf rank order: index 0 is the most common country. The order loosely
// follows the customer base of a US-based SaaS company.
constexpr std::array<Country, 50> kCountries = {{
    {"US", kNorthAmerica},     {"GB", kWesternEurope},    {"DE", kWesternEurope},
    {"FR", kWesternEurope},    {"CA", kNorthAmerica},     {"IN", kSouthAsia},
    {"BR", kSouthAmerica},     {"AU", kOceania},          {"JP", kEastAsia},
    {"NL", kWesternEurope},    {"ES", kWesternEurope},    {"IT", kWesternEurope},
    {"MX", kNorthAmerica},     {"SE", kWesternEurope},    {"PL", kEasternEurope},
    {"CH", kWesternEurope},    {"KR", kEastAsia},         {"SG", kSouthAsia},
    {"IE", kWesternEurope},    {"BE", kWesternEurope},    {"AE", kMiddleEastAfrica},
    {"IL", kMiddleEastAfrica}, {"ZA", kMiddleEastAfrica}, {"AR", kSouthAmerica},
    {"CN", kEastAsia},         {"AT", kWesternEurope},    {"DK", kWesternEurope},
    {"NO", kWesternEurope},    {"FI", kWesternEurope},    {"NZ", kOceania},
    {"PT", kWesternEurope},    {"TR", kMiddleEastAfrica}, {"CZ", kEasternEurope},
    {"RO", kEasternEurope},    {"CO", kSouthAmerica},     {"CL", kSouthAmerica},
    {"ID", kSouthAsia},        {"PH", kSouthAsia},        {"MY", kSouthAsia},
    {"TH", kSouthAsia},        {"VN", kSouthAsia},        {"HK", kEastAsia},
    {"TW", kEastAsia},         {"SA", kMiddleEastAfrica}, {"HU", kEasternEurope},
    {"UA", kEasternEurope},    {"PE", kSouthAmerica},     {"NG", kMiddleEastAfrica},
    {"BG", kEasternEurope},    {"SK", kEasternEurope},
}};
constexpr double kZipfS = 1.1;

constexpr std::array<std::string_view, 5> kPlans = {"free", "starter", "pro", "business",
                                                    "enterprise"};
constexpr std::array<std::uint32_t, 5> kPlanCumulativePercent = {50, 75, 90, 97, 100};

constexpr double kLtvMu = 4.0;
constexpr double kLtvSigma = 1.2;
constexpr double kOrdersP = 0.1;  // geometric: P(k) = p (1-p)^k, mean 9, capped at 200
constexpr std::uint32_t kOrdersMax = 200;

// ---------------------------------------------------------------- calendar

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
constexpr std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t y;
  unsigned m, d;
};

constexpr Civil CivilFromDays(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

constexpr std::int64_t kSignupFirstDay = DaysFromCivil(2018, 1, 1);
constexpr std::int64_t kSignupLastDay = DaysFromCivil(2026, 10, 31);
constexpr std::uint32_t kSignupDays = kSignupLastDay - kSignupFirstDay + 1;
// last_seen is strictly after signup_date 00:00:00 and strictly before this.
constexpr std::int64_t kLastSeenEndDay = DaysFromCivil(2026, 11, 1);
constexpr std::uint32_t kSecondsPerDay = 86400;
static_assert(CivilFromDays(kSignupLastDay).d == 31 && CivilFromDays(kSignupLastDay).m == 10);

// ---------------------------------------------------------------- samplers

std::uint64_t SplitMix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Independent streams for the rows, the shuffle and the keys.
std::mt19937_64 Stream(std::uint64_t seed, std::uint64_t stream) {
  return std::mt19937_64(SplitMix64(seed ^ SplitMix64(stream)));
}

// Uniform in [0, 1) with 53 random bits.
double Unit(std::uint64_t r) { return static_cast<double>(r >> 11) * 0x1.0p-53; }

// Uniform integer in [0, n), multiply-high (bias at most n / 2^64).
std::uint64_t Below(std::uint64_t r, std::uint64_t n) {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(r) * n) >> 64);
}

// Like Below, but leaves the unused randomness of r in r, so one 64-bit draw yields
// several small uniform integers (keep the product of the n's well below 2^40).
std::uint64_t Take(std::uint64_t& r, std::uint64_t n) {
  const unsigned __int128 m = static_cast<unsigned __int128>(r) * n;
  r = static_cast<std::uint64_t>(m);
  return static_cast<std::uint64_t>(m >> 64);
}

struct ZipfTable {
  std::array<double, kCountries.size()> cdf{};
  ZipfTable() {
    double sum = 0;
    for (std::size_t k = 0; k < cdf.size(); ++k) {
      sum += std::pow(static_cast<double>(k + 1), -kZipfS);
      cdf[k] = sum;
    }
    for (double& c : cdf) c /= sum;
  }
  // Inverse CDF: the first rank whose cumulative probability exceeds u.
  std::uint8_t Sample(double u) const {
    std::size_t k = 0;
    while (k + 1 < cdf.size() && u >= cdf[k]) ++k;
    return static_cast<std::uint8_t>(k);
  }
};

// ---------------------------------------------------------------- rows

// The random part of one row, compact so that --shuffle can hold all of them.
struct Row {
  std::int32_t ltv_cents;      // -1 = NULL
  std::uint32_t last_seen;     // seconds after signup_date 00:00:00, >= 1
  std::uint16_t signup_day;    // days after 2018-01-01
  std::uint16_t churn;         // churn_score * 10000
  std::uint8_t country;        // Zipf rank
  std::uint8_t plan;
  std::uint8_t orders;
  std::uint8_t segment;
  bool active;
};

constexpr int kDrawsPerRow = 7;

Row GenerateRow(std::mt19937_64& rng, const ZipfTable& zipf) {
  std::uint64_t r[kDrawsPerRow];
  for (auto& x : r) x = rng();
  Row row{};
  row.country = zipf.Sample(Unit(r[0]));
  // Small uniform integers, several per draw.
  row.signup_day = static_cast<std::uint16_t>(Take(r[1], kSignupDays));
  row.churn = static_cast<std::uint16_t>(Take(r[1], 10001));
  const auto pct = static_cast<std::uint32_t>(Take(r[1], 100));
  while (pct >= kPlanCumulativePercent[row.plan]) ++row.plan;
  row.segment = static_cast<std::uint8_t>(Take(r[2], 100));
  row.active = Take(r[2], 10) < 7;            // 70%
  const bool ltv_null = Take(r[2], 20) == 0;  // 5%
  // last_seen: uniform over the seconds strictly between signup_date 00:00:00 and
  // 2026-11-01 00:00:00.
  const std::uint64_t window =
      static_cast<std::uint64_t>(kLastSeenEndDay - kSignupFirstDay - row.signup_day) *
      kSecondsPerDay;
  row.last_seen = static_cast<std::uint32_t>(1 + Below(r[3], window - 1));
  // ltv: lognormal via Box-Muller (one normal of the pair), drawn even when NULL so
  // every row consumes the same draws.
  const double u1 = 1.0 - Unit(r[4]);  // (0, 1]
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * Unit(r[5]));
  const double ltv = std::exp(kLtvMu + kLtvSigma * z);  // < 2e6: z <= sqrt(2 ln 2^53) < 8.6
  row.ltv_cents = ltv_null ? -1 : static_cast<std::int32_t>(std::llround(ltv * 100));
  // orders: geometric by inverse CDF, capped.
  const double g = std::floor(std::log(1.0 - Unit(r[6])) / std::log1p(-kOrdersP));
  row.orders = static_cast<std::uint8_t>(g < kOrdersMax ? g : kOrdersMax);
  return row;
}

std::uint64_t CustomerId(std::uint64_t i) { return (i * kIdMultiplier + kIdOffset) & kIdMask; }

// The row index of a customer_id (the id map is a bijection of Z/2^40: the multiplier is odd).
std::uint64_t IndexOfId(std::uint64_t id) {
  std::uint64_t inv = kIdMultiplier;  // Newton: each step doubles the correct low bits
  for (int k = 0; k < 5; ++k) inv *= 2 - kIdMultiplier * inv;
  return ((id - kIdOffset) * inv) & kIdMask;
}

// ---------------------------------------------------------------- output

class Output {
 public:
  static constexpr std::size_t kCapacity = std::size_t{4} << 20;
  static constexpr std::size_t kMaxRecord = 512;  // no line we write is longer

  explicit Output(std::string path) : path_(std::move(path)), buf_(new char[kCapacity]) {}
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  ~Output() {
    if (file_ != nullptr && file_ != stdout) std::fclose(file_);
  }

  bool Open() {
    if (path_.empty() || path_ == "-") {
      file_ = stdout;
      return true;
    }
    file_ = std::fopen(path_.c_str(), "wb");
    if (file_ == nullptr) return Error("cannot open for writing");
    struct stat st {};
    regular_file_ = fstat(fileno(file_), &st) == 0 && S_ISREG(st.st_mode);
    std::setvbuf(file_, nullptr, _IONBF, 0);  // we buffer ourselves
    return true;
  }

  // Room for one record; call Commit with the end pointer afterwards.
  char* Reserve() {
    if (kCapacity - used_ < kMaxRecord) Flush();
    return buf_.get() + used_;
  }
  void Commit(char* end) { used_ = static_cast<std::size_t>(end - buf_.get()); }

  bool Flush() {
    if (failed_) return false;
    if (used_ > 0 && std::fwrite(buf_.get(), 1, used_, file_) != used_) {
      used_ = 0;
      return Error("write failed");
    }
    used_ = 0;
    return true;
  }

  // Flushes and closes; false (after printing why) if anything failed.
  bool Close() {
    bool ok = Flush() && std::fflush(file_) == 0;
    if (!ok && !failed_) Error("write failed");
    if (file_ != stdout) {
      if (std::fclose(file_) != 0 && ok) ok = Error("close failed");
      file_ = nullptr;
      // No truncated CSV left behind (but never unlink a device such as /dev/full).
      if (!ok && regular_file_) std::remove(path_.c_str());
    }
    return ok && !failed_;
  }

  bool failed() const { return failed_; }

 private:
  bool Error(const char* what) {
    if (!failed_) {
      std::fprintf(stderr, "retl-gen-customers: error: %s: %s: %s\n",
                   path_.empty() ? "<stdout>" : path_.c_str(), what, std::strerror(errno));
    }
    failed_ = true;
    return false;
  }

  std::string path_;
  std::unique_ptr<char[]> buf_;
  std::size_t used_ = 0;
  std::FILE* file_ = nullptr;
  bool regular_file_ = false;
  bool failed_ = false;
};

char* Put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

char* PutUint(char* p, std::uint64_t v) { return std::to_chars(p, p + 24, v).ptr; }

// v in [0, 10^width), zero-padded.
char* PutPadded(char* p, std::uint32_t v, int width) {
  for (int k = width - 1; k >= 0; --k) {
    p[k] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

class RowFormatter {
 public:
  RowFormatter() {
    dates_.resize(std::size_t{kSignupDays} * 10);
    for (std::uint32_t d = 0; d < kSignupDays; ++d) {
      const Civil c = CivilFromDays(kSignupFirstDay + d);
      char* p = dates_.data() + std::size_t{d} * 10;
      p = PutPadded(p, static_cast<std::uint32_t>(c.y), 4);
      *p++ = '-';
      p = PutPadded(p, c.m, 2);
      *p++ = '-';
      PutPadded(p, c.d, 2);
    }
  }

  static constexpr std::string_view kHeader =
      "customer_id,email,country,region,plan,signup_date,last_seen,ltv,orders,churn_score,"
      "segment,is_active\n";

  char* Format(char* p, std::uint64_t i, const Row& row) const {
    p = PutUint(p, CustomerId(i));
    p = Put(p, ",user");
    p = PutUint(p, i);
    p = Put(p, "@example");
    p = PutUint(p, i % 97);
    p = Put(p, ".com,");
    const Country& country = kCountries[row.country];
    p = Put(p, country.code);
    *p++ = ',';
    p = Put(p, kRegionNames[country.region]);
    *p++ = ',';
    p = Put(p, kPlans[row.plan]);
    *p++ = ',';
    p = Put(p, Date(row.signup_day));
    *p++ = ',';
    const std::uint32_t seen_day = row.signup_day + row.last_seen / kSecondsPerDay;
    const std::uint32_t secs = row.last_seen % kSecondsPerDay;
    p = Put(p, Date(seen_day));
    *p++ = ' ';
    p = PutPadded(p, secs / 3600, 2);
    *p++ = ':';
    p = PutPadded(p, secs / 60 % 60, 2);
    *p++ = ':';
    p = PutPadded(p, secs % 60, 2);
    *p++ = ',';
    if (row.ltv_cents >= 0) {
      const auto cents = static_cast<std::uint32_t>(row.ltv_cents);
      p = PutUint(p, cents / 100);
      *p++ = '.';
      p = PutPadded(p, cents % 100, 2);
    }
    *p++ = ',';
    p = PutUint(p, row.orders);
    *p++ = ',';
    *p++ = row.churn == 10000 ? '1' : '0';
    *p++ = '.';
    p = PutPadded(p, row.churn % 10000, 4);
    *p++ = ',';
    p = PutUint(p, row.segment);
    p = Put(p, row.active ? ",true\n" : ",false\n");
    return p;
  }

 private:
  // day < kSignupDays also for last_seen, which ends before 2026-11-01 00:00:00.
  std::string_view Date(std::uint32_t day) const {
    return {dates_.data() + std::size_t{day} * 10, 10};
  }

  std::vector<char> dates_;
};

bool WriteKeys(const std::string& path, std::uint64_t rows, std::uint64_t seed) {
  std::mt19937_64 rng = Stream(seed, 2);
  std::vector<std::uint64_t> keys;
  keys.reserve(kLookupKeys);
  for (std::uint64_t k = 0; k < kLookupHits; ++k) keys.push_back(CustomerId(Below(rng(), rows)));
  while (keys.size() < kLookupKeys) {  // absent: ids of the 40-bit space that no row has
    const std::uint64_t id = rng() & kIdMask;
    if (IndexOfId(id) >= rows) keys.push_back(id);
  }
  for (std::size_t k = keys.size() - 1; k > 0; --k) std::swap(keys[k], keys[Below(rng(), k + 1)]);

  Output out(path);
  if (!out.Open()) return false;
  for (std::uint64_t key : keys) {
    char* p = out.Reserve();
    p = PutUint(p, key);
    *p++ = '\n';
    out.Commit(p);
  }
  return out.Close();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "retl-gen-customers: writes the reference `customers` table (WORKLOAD.md) as CSV, "
      "deterministically for a seed."};
  std::uint64_t rows = 200000;
  std::uint64_t seed = 42;
  std::string output;
  std::string keys_path;
  bool shuffle = false;
  constexpr std::uint64_t kMaxRows = std::uint64_t{1} << 32;
  app.add_option("--rows", rows, "Number of rows")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, kMaxRows));
  app.add_option("--seed", seed, "Random seed")->capture_default_str();
  app.add_option("--output,-o", output, "CSV output file (default: stdout)");
  app.add_option("--keys", keys_path,
                 "Also write the 100,000 reference lookup keys to this file, one per line "
                 "(90% existing customer_ids drawn uniformly, 10% absent ids)");
  app.add_flag("--shuffle", shuffle,
               "Emit the rows in a seeded random order instead of row order");
  CLI11_PARSE(app, argc, argv);

  if (!keys_path.empty()) {
    if (rows == 0) {
      std::fprintf(stderr, "retl-gen-customers: error: --keys needs --rows of at least 1\n");
      return 2;
    }
    if (keys_path == output || keys_path == "-") {
      std::fprintf(stderr,
                   "retl-gen-customers: error: --keys must name a file other than the output\n");
      return 2;
    }
  }

  const ZipfTable zipf;
  const RowFormatter fmt;
  std::mt19937_64 rng = Stream(seed, 0);

  // --shuffle holds every row (20 bytes) and the order (4 bytes) in memory; both are
  // made before the output is opened, so running out of memory truncates nothing.
  std::vector<Row> all;
  std::vector<std::uint32_t> order;
  if (shuffle) {
    try {
      all.resize(rows);
      order.resize(rows);
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "retl-gen-customers: error: not enough memory to --shuffle %llu rows\n",
                   static_cast<unsigned long long>(rows));
      return 1;
    }
    for (Row& row : all) row = GenerateRow(rng, zipf);
    for (std::uint64_t i = 0; i < rows; ++i) order[i] = static_cast<std::uint32_t>(i);
    std::mt19937_64 shuffle_rng = Stream(seed, 1);
    for (std::uint64_t k = rows; k > 1; --k) {
      std::swap(order[k - 1], order[Below(shuffle_rng(), k)]);
    }
  }

  Output out(output);
  if (!out.Open()) return 1;
  char* p = out.Reserve();
  out.Commit(Put(p, RowFormatter::kHeader));
  if (!shuffle) {
    for (std::uint64_t i = 0; i < rows && !out.failed(); ++i) {
      const Row row = GenerateRow(rng, zipf);
      out.Commit(fmt.Format(out.Reserve(), i, row));
    }
  } else {
    for (std::uint64_t k = 0; k < rows && !out.failed(); ++k) {
      out.Commit(fmt.Format(out.Reserve(), order[k], all[order[k]]));
    }
  }
  if (!out.Close()) return 1;
  if (!keys_path.empty() && !WriteKeys(keys_path, rows, seed)) return 1;
  return 0;
}
