// retl-lookup-bench: point lookups of the reference `customers` table
// (/work/shared/WORKLOAD.md) through rETL's Lookup API and through SQLite's C
// API, in one process, on one thread, with warm caches. Prints one JSON object
// on stdout; bench/lookup_bench.py builds the inputs, runs it repeatedly and
// reports medians (bench/README.md describes both).
//
// What is timed (every lookup reads all 12 columns of a found row into a
// checksum, so no work can be optimised away):
//   retl.get     Lookup::Get by customer_id;
//   retl.batch   Lookup::GetBatch of --batch-size keys, each row read in the callback;
//   retl.batch_rows  the same into a vector of RowViews, rows read after each batch;
//   retl.email   Lookup::Get through the secondary index --email-index;
//   sqlite.get   prepared SELECT * FROM customers WHERE customer_id = ?;
//   sqlite.email prepared SELECT * FROM customers WHERE email = ?.
// Each runs three passes over the same keys in the same order: an untimed
// warm-up, a latency pass (steady_clock around each lookup: p50, p99, mean,
// max) and a throughput pass (one clock around the whole loop: lookups/s).
// The latency figures include one clock read (timer_overhead_ns reports it).
//
// Agreement: both systems must find the same keys and return the same values
// (sums over every column but the dates, whose representations differ); any
// difference, or any error, exits 1 with a message on stderr.
#include <CLI/CLI.hpp>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "retl/dataset.h"
#include "retl/lookup.h"

namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------- columns

// How a column is read and summed. Dates are integers in rETL (days,
// microseconds) and ISO-8601 text in SQLite, so they are summed apart and
// never compared.
enum class Kind { kInt, kDouble, kBytes, kBool, kDate };

struct ColumnSpec {
  std::string_view name;
  Kind kind;
};

// The 12 columns of WORKLOAD.md, in table order.
constexpr ColumnSpec kColumns[] = {
    {"customer_id", Kind::kInt},    {"email", Kind::kBytes},     {"country", Kind::kBytes},
    {"region", Kind::kBytes},       {"plan", Kind::kBytes},      {"signup_date", Kind::kDate},
    {"last_seen", Kind::kDate},     {"ltv", Kind::kDouble},      {"orders", Kind::kInt},
    {"churn_score", Kind::kDouble}, {"segment", Kind::kInt},     {"is_active", Kind::kBool},
};
constexpr int kNumColumns = static_cast<int>(std::size(kColumns));
constexpr int kIdColumn = 0;

// What the lookups found, summed. Sums (not hashes) so that the order of rows
// does not matter and the accumulation costs one add per value.
struct Accum {
  uint64_t hits = 0;
  uint64_t id_sum = 0;   // customer_id of found rows
  uint64_t values = 0;   // every column but the dates, comparable across systems
  uint64_t dates = 0;    // the date columns, per system

  void Null(int c) { values += uint64_t{0x9E3779B97F4A7C15} * static_cast<uint64_t>(c + 1); }
  friend bool operator==(const Accum&, const Accum&) = default;
};

// Length, first 8 bytes and last byte: touches the string without hashing it all.
inline uint64_t BytesSum(const char* p, size_t n) {
  if (n == 0) return 0;
  uint64_t head = 0;
  std::memcpy(&head, p, n < 8 ? n : 8);
  return n + head + (static_cast<uint64_t>(static_cast<unsigned char>(p[n - 1])) << 56);
}

// ---------------------------------------------------------------- errors

[[noreturn]] void Die(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "retl-lookup-bench: error: %s\n", message.c_str());
  std::exit(1);
}

std::string ToString(const absl::Status& s) { return std::string(s.ToString()); }

// ---------------------------------------------------------------- inputs

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) Die("cannot open " + path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(std::move(line));
  }
  if (in.bad()) Die("cannot read " + path);
  if (lines.empty()) Die(path + " holds no lines");
  return lines;
}

std::vector<int64_t> ReadKeys(const std::string& path) {
  std::vector<std::string> lines = ReadLines(path);
  std::vector<int64_t> keys;
  keys.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    int64_t v = 0;
    const char* end = lines[i].data() + lines[i].size();
    auto [ptr, ec] = std::from_chars(lines[i].data(), end, v);
    if (ec != std::errc() || ptr != end) {
      Die(path + ":" + std::to_string(i + 1) + ": not an integer: '" + lines[i] + "'");
    }
    keys.push_back(v);
  }
  return keys;
}

// VmRSS, RssAnon and RssFile of this process, in bytes.
struct Rss {
  uint64_t total = 0, anon = 0, file = 0;
};

Rss ReadRss() {
  std::ifstream in("/proc/self/status");
  Rss rss;
  std::string line;
  while (std::getline(in, line)) {
    auto field = [&](std::string_view name, uint64_t* out) {
      if (line.rfind(name, 0) == 0) {
        *out = std::strtoull(line.c_str() + name.size(), nullptr, 10) * 1024;
      }
    };
    field("VmRSS:", &rss.total);
    field("RssAnon:", &rss.anon);
    field("RssFile:", &rss.file);
  }
  return rss;
}

// ---------------------------------------------------------------- measuring

struct Figures {
  size_t ops = 0;          // lookups (or batches) per pass
  size_t keys = 0;         // keys per pass
  double p50_ns = 0, p99_ns = 0, mean_ns = 0, max_ns = 0;  // per op, latency pass
  double ops_per_s = 0;    // throughput pass
  double keys_per_s = 0;   // throughput pass
  Accum accum;             // of the throughput pass (all passes must agree)
};

// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<int64_t>& sorted, double p) {
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1]);
}

// Runs `op(i, &accum)` for i in [0, ops): once untimed (warm-up), once with
// the clock read around each op, once with the clock read around the loop.
template <typename Op>
Figures Measure(const char* what, size_t ops, size_t keys, Op op) {
  Accum warm, timed, bulk;
  for (size_t i = 0; i < ops; ++i) op(i, &warm);

  std::vector<int64_t> ns(ops);
  for (size_t i = 0; i < ops; ++i) {
    const Clock::time_point t0 = Clock::now();
    op(i, &timed);
    const Clock::time_point t1 = Clock::now();
    ns[i] = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
  }

  const Clock::time_point start = Clock::now();
  for (size_t i = 0; i < ops; ++i) op(i, &bulk);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  if (!(warm == timed && timed == bulk)) {
    Die(std::string(what) + ": the passes over the same keys found different rows");
  }
  Figures f;
  f.ops = ops;
  f.keys = keys;
  double sum = 0;
  for (int64_t v : ns) sum += static_cast<double>(v);
  f.mean_ns = sum / static_cast<double>(ops);
  std::sort(ns.begin(), ns.end());
  f.p50_ns = Percentile(ns, 0.50);
  f.p99_ns = Percentile(ns, 0.99);
  f.max_ns = static_cast<double>(ns.back());
  f.ops_per_s = static_cast<double>(ops) / seconds;
  f.keys_per_s = static_cast<double>(keys) / seconds;
  f.accum = bulk;
  return f;
}

// Median cost of one Clock::now() pair, the floor of every latency figure.
double TimerOverheadNs() {
  constexpr int kSamples = 100000;
  std::vector<int64_t> ns(kSamples);
  for (int i = 0; i < kSamples; ++i) {
    const Clock::time_point t0 = Clock::now();
    const Clock::time_point t1 = Clock::now();
    ns[i] = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
  }
  std::sort(ns.begin(), ns.end());
  return Percentile(ns, 0.5);
}

// ---------------------------------------------------------------- rETL

// Projection positions of kColumns in a Lookup's rows, checked against the
// types the readers below use.
struct RetlColumns {
  int index[kNumColumns];
};

RetlColumns ResolveRetlColumns(const retl::Lookup& lookup) {
  RetlColumns cols;
  const std::vector<retl::Field>& fields = lookup.fields();
  for (int c = 0; c < kNumColumns; ++c) {
    cols.index[c] = -1;
    for (size_t k = 0; k < fields.size(); ++k) {
      if (fields[k].name == kColumns[c].name) cols.index[c] = static_cast<int>(k);
    }
    const std::string name(kColumns[c].name);
    if (cols.index[c] < 0) Die("rETL table has no column '" + name + "'");
    const retl::DataType& type = fields[cols.index[c]].type;
    bool ok = false;
    switch (kColumns[c].kind) {
      case Kind::kInt:
      case Kind::kDate:
        ok = type.IsIntegerLike() && type.physical() != retl::PhysicalType::kInt128;
        break;
      case Kind::kDouble:
        ok = type.id == retl::TypeId::kDouble || type.id == retl::TypeId::kFloat;
        break;
      case Kind::kBytes: ok = type.physical() == retl::PhysicalType::kBytes; break;
      case Kind::kBool: ok = type.id == retl::TypeId::kBoolean; break;
    }
    if (!ok) Die("rETL column '" + name + "' has unexpected type " + type.ToString());
  }
  return cols;
}

inline void ReadRetlRow(const retl::RowView& row, const RetlColumns& cols, Accum* acc) {
  ++acc->hits;
  for (int c = 0; c < kNumColumns; ++c) {
    const int k = cols.index[c];
    if (row.IsNull(k)) {
      acc->Null(c);
      continue;
    }
    switch (kColumns[c].kind) {
      case Kind::kInt: {
        const auto v = static_cast<uint64_t>(row.GetInt(k));
        acc->values += v;
        if (c == kIdColumn) acc->id_sum += v;
        break;
      }
      case Kind::kDouble: acc->values += std::bit_cast<uint64_t>(row.GetDouble(k)); break;
      case Kind::kBytes: {
        const std::string_view s = row.GetBytes(k);
        acc->values += BytesSum(s.data(), s.size());
        break;
      }
      case Kind::kBool: acc->values += row.GetBool(k) ? 1 : 2; break;
      case Kind::kDate: acc->dates += static_cast<uint64_t>(row.GetInt(k)); break;
    }
  }
}

retl::Lookup OpenLookup(const std::shared_ptr<const retl::Snapshot>& snapshot,
                        const std::string& table, const std::string& index) {
  retl::LookupOptions options;
  options.index = index;  // every column: options.columns stays empty
  absl::StatusOr<retl::Lookup> lookup = retl::Lookup::Open(snapshot, table, options);
  if (!lookup.ok()) {
    Die("opening a lookup on " + table + (index.empty() ? "" : " by index " + index) + ": " +
        ToString(lookup.status()));
  }
  return std::move(*lookup);
}

// ---------------------------------------------------------------- SQLite

class Sqlite {
 public:
  // Read-only, single-threaded, with a page cache and a memory map as large
  // as the file (bench/README.md explains the choices).
  Sqlite(const std::string& path, bool autocommit) : path_(path) {
    // Before any other call: no mutexes and no memory statistics (rETL takes
    // no lock and keeps no statistics either; this thread is SQLite's only user).
    if (sqlite3_config(SQLITE_CONFIG_SINGLETHREAD) != SQLITE_OK ||
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK ||
        sqlite3_initialize() != SQLITE_OK) {
      Die("cannot configure SQLite");
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) Die("cannot stat " + path + ": " + std::strerror(errno));
    file_bytes_ = static_cast<uint64_t>(st.st_size);
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      Die("cannot open " + path + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
    }
    cache_kib_ = static_cast<int64_t>(file_bytes_ / 1024) + 1024;  // the whole file + 1 MiB
    Exec("PRAGMA cache_size = -" + std::to_string(cache_kib_));
    mmap_bytes_ = QueryInt("PRAGMA mmap_size = " + std::to_string(file_bytes_));
    page_size_ = QueryInt("PRAGMA page_size");
    if (!autocommit) Exec("BEGIN");  // one read transaction, like holding a snapshot
    autocommit_ = autocommit;
  }
  ~Sqlite() {
    for (sqlite3_stmt* s : statements_) sqlite3_finalize(s);
    if (!autocommit_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }
  Sqlite(const Sqlite&) = delete;
  Sqlite& operator=(const Sqlite&) = delete;

  // A statement whose result columns are kColumns (found by name); `plan`
  // receives its EXPLAIN QUERY PLAN.
  sqlite3_stmt* Prepare(const std::string& sql, std::string* plan) {
    *plan = QueryPlan(sql);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
        SQLITE_OK) {
      Die("SQLite: cannot prepare '" + sql + "': " + sqlite3_errmsg(db_));
    }
    statements_.push_back(stmt);
    if (sqlite3_column_count(stmt) != kNumColumns) {
      Die("SQLite: '" + sql + "' returns " + std::to_string(sqlite3_column_count(stmt)) +
          " columns, expected " + std::to_string(kNumColumns));
    }
    for (int c = 0; c < kNumColumns; ++c) {
      if (kColumns[c].name != sqlite3_column_name(stmt, c)) {
        Die("SQLite: column " + std::to_string(c) + " of " + path_ + " is '" +
            sqlite3_column_name(stmt, c) + "', expected '" + std::string(kColumns[c].name) + "'");
      }
    }
    return stmt;
  }

  // Steps a bound statement once: reads the row, if any, then resets it.
  inline void Probe(sqlite3_stmt* stmt, Accum* acc) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      ReadRow(stmt, acc);
    } else if (rc != SQLITE_DONE) {
      Die(std::string("SQLite: step failed: ") + sqlite3_errmsg(db_));
    }
    sqlite3_reset(stmt);
  }

  uint64_t file_bytes() const { return file_bytes_; }
  int64_t cache_kib() const { return cache_kib_; }
  int64_t mmap_bytes() const { return mmap_bytes_; }
  int64_t page_size() const { return page_size_; }

 private:
  static inline void ReadRow(sqlite3_stmt* stmt, Accum* acc) {
    ++acc->hits;
    for (int c = 0; c < kNumColumns; ++c) {
      const int type = sqlite3_column_type(stmt, c);
      if (type == SQLITE_NULL) {
        acc->Null(c);
        continue;
      }
      switch (kColumns[c].kind) {
        case Kind::kInt: {
          const auto v = static_cast<uint64_t>(sqlite3_column_int64(stmt, c));
          acc->values += v;
          if (c == kIdColumn) acc->id_sum += v;
          break;
        }
        case Kind::kDouble:
          acc->values += std::bit_cast<uint64_t>(sqlite3_column_double(stmt, c));
          break;
        case Kind::kBytes: {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          acc->values += BytesSum(p, static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
          break;
        }
        case Kind::kBool: acc->values += sqlite3_column_int64(stmt, c) != 0 ? 1 : 2; break;
        case Kind::kDate:  // ISO-8601 text as loaded, or an integer if stored so
          if (type == SQLITE_INTEGER) {
            acc->dates += static_cast<uint64_t>(sqlite3_column_int64(stmt, c));
          } else {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            acc->dates += BytesSum(p, static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
          }
          break;
      }
    }
  }

  void Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : sqlite3_errmsg(db_);
      sqlite3_free(error);
      Die("SQLite: '" + sql + "': " + message);
    }
  }

  int64_t QueryInt(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      Die("SQLite: '" + sql + "': " + sqlite3_errmsg(db_));
    }
    int64_t v = 0;
    if (sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
  }

  std::string QueryPlan(const std::string& sql) {
    const std::string explain = "EXPLAIN QUERY PLAN " + sql;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, explain.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      Die("SQLite: cannot prepare '" + sql + "': " + sqlite3_errmsg(db_));
    }
    std::string plan;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      if (!plan.empty()) plan += "; ";
      plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    }
    sqlite3_finalize(stmt);
    return plan;
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> statements_;
  uint64_t file_bytes_ = 0;
  int64_t cache_kib_ = 0, mmap_bytes_ = 0, page_size_ = 0;
  bool autocommit_ = false;
};

// ---------------------------------------------------------------- JSON

// A flat writer for one JSON object of nested objects, numbers and strings.
class Json {
 public:
  Json& Begin(std::string_view key = {}) {
    Key(key);
    out_ += '{';
    first_ = true;
    return *this;
  }
  Json& End() {
    out_ += '}';
    first_ = false;
    return *this;
  }
  Json& Num(std::string_view key, double v) {
    Key(key);
    if (!std::isfinite(v)) {
      out_ += "null";
      return *this;
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, ec == std::errc() ? end : buf);
    return *this;
  }
  Json& Int(std::string_view key, uint64_t v) {
    Key(key);
    out_ += std::to_string(v);
    return *this;
  }
  Json& Str(std::string_view key, std::string_view v) {
    Key(key);
    Quote(v);
    return *this;
  }
  Json& Bool(std::string_view key, bool v) {
    Key(key);
    out_ += v ? "true" : "false";
    return *this;
  }
  const std::string& str() const { return out_; }

 private:
  void Key(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    if (!key.empty()) {
      Quote(key);
      out_ += ':';
    }
  }
  void Quote(std::string_view s) {
    out_ += '"';
    for (char ch : s) {
      if (ch == '"' || ch == '\\') {
        out_ += '\\';
        out_ += ch;
      } else if (static_cast<unsigned char>(ch) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", ch);
        out_ += buf;
      } else {
        out_ += ch;
      }
    }
    out_ += '"';
  }

  std::string out_;
  bool first_ = true;
};

void PutFigures(Json* j, std::string_view key, const Figures& f) {
  j->Begin(key)
      .Int("ops", f.ops)
      .Int("keys", f.keys)
      .Int("hits", f.accum.hits)
      .Num("p50_ns", f.p50_ns)
      .Num("p99_ns", f.p99_ns)
      .Num("mean_ns", f.mean_ns)
      .Num("max_ns", f.max_ns)
      .Num("ops_per_s", f.ops_per_s)
      .Num("keys_per_s", f.keys_per_s)
      .Num("ns_per_key", 1e9 / f.keys_per_s)
      .End();
}

void PutRss(Json* j, std::string_view key, const Rss& rss) {
  j->Begin(key).Int("vm_rss", rss.total).Int("rss_anon", rss.anon).Int("rss_file", rss.file).End();
}

// Both systems must have found the same rows with the same values.
void CheckAgree(const char* what, const Accum& a, const char* a_name, const Accum& b,
                const char* b_name) {
  auto fail = [&](const char* field, uint64_t x, uint64_t y) {
    Die(std::string("MISMATCH in ") + what + ": " + field + " " + a_name + "=" +
        std::to_string(x) + " " + b_name + "=" + std::to_string(y));
  };
  if (a.hits != b.hits) fail("hits", a.hits, b.hits);
  if (a.id_sum != b.id_sum) fail("customer_id sum", a.id_sum, b.id_sum);
  if (a.values != b.values) fail("value sum", a.values, b.values);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "retl-lookup-bench: point lookups of the reference customers table through rETL and "
      "SQLite, in one process; prints one JSON object."};
  std::string dataset, sqlite_path, keys_path, emails_path;
  std::string table = "customers", email_index = "email";
  size_t batch_size = 100;
  bool sqlite_first = false, sqlite_autocommit = false;
  app.add_option("--dataset", dataset, "rETL dataset directory")->required();
  app.add_option("--sqlite", sqlite_path, "SQLite database file with the same table")->required();
  app.add_option("--keys", keys_path, "customer_ids to look up, one per line")->required();
  app.add_option("--emails", emails_path, "emails to look up, one per line")->required();
  app.add_option("--table", table, "Table name in both")->capture_default_str();
  app.add_option("--email-index", email_index, "rETL secondary index on email")
      ->capture_default_str();
  app.add_option("--batch-size", batch_size, "Keys per GetBatch")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  app.add_flag("--sqlite-first", sqlite_first, "Measure SQLite before rETL");
  app.add_flag("--sqlite-autocommit", sqlite_autocommit,
               "Run each SQLite lookup in its own implicit transaction (a lock per lookup) "
               "instead of one read transaction around all of them");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  // rETL: open first, so that the resident set measured after opening holds
  // nothing of SQLite's and none of the inputs.
  const Rss rss_before_open = ReadRss();
  const Clock::time_point open_start = Clock::now();
  absl::StatusOr<std::unique_ptr<retl::Dataset>> ds = retl::Dataset::Open(dataset);
  if (!ds.ok()) Die("opening " + dataset + ": " + ToString(ds.status()));
  absl::StatusOr<std::shared_ptr<const retl::Snapshot>> snapshot = (*ds)->Latest();
  if (!snapshot.ok()) Die("taking a snapshot of " + dataset + ": " + ToString(snapshot.status()));
  retl::Lookup by_id = OpenLookup(*snapshot, table, "");
  const double open_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - open_start).count();
  const Rss rss_after_open = ReadRss();
  retl::Lookup by_email = OpenLookup(*snapshot, table, email_index);
  const Rss rss_after_email_open = ReadRss();
  const RetlColumns id_cols = ResolveRetlColumns(by_id);
  const RetlColumns email_cols = ResolveRetlColumns(by_email);
  uint64_t table_rows = 0;
  if (auto t = (*snapshot)->GetTable(table); t.ok()) {
    table_rows = static_cast<uint64_t>((*t)->row_count());
  }

  const std::vector<int64_t> keys = ReadKeys(keys_path);
  const std::vector<std::string> emails = ReadLines(emails_path);
  std::vector<retl::KeyValue> id_keys, email_keys;
  id_keys.reserve(keys.size());
  for (int64_t k : keys) id_keys.push_back(retl::KeyValue::Int(k));
  email_keys.reserve(emails.size());
  for (const std::string& e : emails) email_keys.push_back(retl::KeyValue::Bytes(e));

  const double timer_ns = TimerOverheadNs();

  Figures retl_get, retl_batch, retl_batch_rows, retl_email, sqlite_get, sqlite_email;
  uint64_t find_hits = 0;
  auto run_retl = [&] {
    retl_get = Measure("rETL Get", keys.size(), keys.size(), [&](size_t i, Accum* acc) {
      retl::RowView row;
      const absl::StatusOr<bool> found = by_id.Get(id_keys[i], &row);
      if (!found.ok()) {
        Die("rETL Get(" + std::to_string(keys[i]) + "): " + ToString(found.status()));
      }
      if (*found) ReadRetlRow(row, id_cols, acc);
    });

    const size_t batches = (keys.size() + batch_size - 1) / batch_size;
    retl_batch = Measure("rETL GetBatch", batches, keys.size(), [&](size_t b, Accum* acc) {
      const size_t begin = b * batch_size, n = std::min(batch_size, keys.size() - begin);
      const absl::Status s = by_id.GetBatch(
          std::span<const retl::KeyValue>(id_keys.data() + begin, n),
          [&](size_t, const retl::RowView& row) { ReadRetlRow(row, id_cols, acc); });
      if (!s.ok()) Die("rETL GetBatch: " + ToString(s));
    });

    std::vector<retl::RowView> rows;
    retl_batch_rows = Measure("rETL GetBatch (rows)", batches, keys.size(), [&](size_t b, Accum* acc) {
      const size_t begin = b * batch_size, n = std::min(batch_size, keys.size() - begin);
      rows.clear();
      const absl::Status s =
          by_id.GetBatch(std::span<const retl::KeyValue>(id_keys.data() + begin, n), &rows);
      if (!s.ok()) Die("rETL GetBatch: " + ToString(s));
      if (rows.size() != n) {
        Die("rETL GetBatch of " + std::to_string(n) + " keys returned " +
            std::to_string(rows.size()) + " rows");
      }
      for (const retl::RowView& row : rows) {
        if (row.valid()) ReadRetlRow(row, id_cols, acc);
      }
    });

    // Find, untimed: email is unique, so Find and Get must agree.
    std::vector<retl::RowView> found_rows;
    for (const retl::KeyValue& key : email_keys) {
      found_rows.clear();
      const absl::Status s = by_email.Find(std::span<const retl::KeyValue>(&key, 1), &found_rows);
      if (!s.ok()) Die("rETL Find(" + std::string(key.bytes_value()) + "): " + ToString(s));
      if (found_rows.size() > 1) {
        Die("rETL Find(" + std::string(key.bytes_value()) + ") returned " +
            std::to_string(found_rows.size()) + " rows; emails are unique");
      }
      find_hits += found_rows.size();
    }
    const size_t n_emails = emails.size();
    retl_email = Measure("rETL Get by email", n_emails, n_emails, [&](size_t i, Accum* acc) {
      retl::RowView row;
      const absl::StatusOr<bool> found = by_email.Get(email_keys[i], &row);
      if (!found.ok()) Die("rETL Get(" + emails[i] + "): " + ToString(found.status()));
      if (*found) ReadRetlRow(row, email_cols, acc);
    });
  };

  Sqlite sqlite(sqlite_path, sqlite_autocommit);
  std::string id_plan, email_plan;
  sqlite3_stmt* by_id_stmt =
      sqlite.Prepare("SELECT * FROM " + table + " WHERE customer_id = ?", &id_plan);
  sqlite3_stmt* by_email_stmt =
      sqlite.Prepare("SELECT * FROM " + table + " WHERE email = ?", &email_plan);
  if (email_plan.find("INDEX") == std::string::npos) {
    Die("SQLite does not use an index for email lookups (plan: " + email_plan + ")");
  }
  auto run_sqlite = [&] {
    const size_t n_keys = keys.size(), n_emails = emails.size();
    sqlite_get = Measure("SQLite by customer_id", n_keys, n_keys, [&](size_t i, Accum* acc) {
      sqlite3_bind_int64(by_id_stmt, 1, keys[i]);
      sqlite.Probe(by_id_stmt, acc);
    });
    sqlite_email = Measure("SQLite by email", n_emails, n_emails, [&](size_t i, Accum* acc) {
      sqlite3_bind_text(by_email_stmt, 1, emails[i].data(), static_cast<int>(emails[i].size()),
                        SQLITE_STATIC);
      sqlite.Probe(by_email_stmt, acc);
    });
  };

  if (sqlite_first) {
    run_sqlite();
    run_retl();
  } else {
    run_retl();
    run_sqlite();
  }
  const Rss rss_end = ReadRss();

  CheckAgree("lookups by customer_id", retl_get.accum, "rETL", sqlite_get.accum, "SQLite");
  CheckAgree("GetBatch against Get", retl_batch.accum, "batch", retl_get.accum, "single");
  CheckAgree("GetBatch into rows against Get", retl_batch_rows.accum, "batch", retl_get.accum, "single");
  CheckAgree("lookups by email", retl_email.accum, "rETL", sqlite_email.accum, "SQLite");
  if (find_hits != retl_email.accum.hits) {
    Die("MISMATCH in lookups by email: Find found " + std::to_string(find_hits) + " rows, Get " +
        std::to_string(retl_email.accum.hits));
  }

  Json j;
  j.Begin()
      .Str("dataset", dataset)
      .Str("sqlite_file", sqlite_path)
      .Str("table", table)
      .Int("table_rows", table_rows)
      .Int("keys", keys.size())
      .Int("emails", emails.size())
      .Int("batch_size", batch_size)
      .Str("order", sqlite_first ? "sqlite,retl" : "retl,sqlite")
      .Num("timer_overhead_ns", timer_ns)
      .Num("open_ms", open_ms);
  PutRss(&j, "rss_before_open", rss_before_open);
  PutRss(&j, "rss_after_open", rss_after_open);
  PutRss(&j, "rss_after_email_open", rss_after_email_open);
  PutRss(&j, "rss_end", rss_end);
  j.Begin("retl");
  PutFigures(&j, "get", retl_get);
  PutFigures(&j, "batch", retl_batch);
  PutFigures(&j, "batch_rows", retl_batch_rows);
  PutFigures(&j, "email", retl_email);
  j.End();
  j.Begin("sqlite")
      .Str("version", sqlite3_libversion())
      .Int("file_bytes", sqlite.file_bytes())
      .Int("page_size", static_cast<uint64_t>(sqlite.page_size()))
      .Int("cache_size_kib", static_cast<uint64_t>(sqlite.cache_kib()))
      .Int("mmap_size", static_cast<uint64_t>(sqlite.mmap_bytes()))
      .Bool("autocommit", sqlite_autocommit)
      .Str("plan_get", id_plan)
      .Str("plan_email", email_plan);
  PutFigures(&j, "get", sqlite_get);
  PutFigures(&j, "email", sqlite_email);
  j.End();
  j.Begin("checks")
      .Bool("agree", true)
      .Int("id_hits", retl_get.accum.hits)
      .Int("email_hits", retl_email.accum.hits)
      .Int("id_sum", retl_get.accum.id_sum)
      .Int("value_sum", retl_get.accum.values)
      .Int("retl_date_sum", retl_get.accum.dates)
      .Int("sqlite_date_sum", sqlite_get.accum.dates)
      .End();
  j.End();
  std::printf("%s\n", j.str().c_str());
  return 0;
}
