// retl-sql-lookup-bench: point lookups through SQL — a prepared statement
// (`SELECT * FROM customers WHERE customer_id = $1`, parsed once) and the same
// text parsed on every call — against rETL's Lookup API, over the reference
// lookup keys. Prints per-lookup medians of --runs passes, in microseconds, so
// the cost the SQL layer adds to a lookup is visible.
//
//   retl-sql-lookup-bench --dataset DIR --keys keys.txt [--runs 5]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "query/engine.h"
#include "retl/dataset.h"
#include "retl/lookup.h"

namespace {

template <typename F>
double MedianMicrosPerCall(int runs, size_t calls, F f) {
  std::vector<double> per;
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    per.push_back(us / static_cast<double>(calls));
  }
  std::sort(per.begin(), per.end());
  return per[per.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Point lookups through SQL against the Lookup API"};
  std::string dir, keys_path;
  int runs = 5;
  size_t limit = 20000;
  app.add_option("--dataset", dir)->required();
  app.add_option("--keys", keys_path)->required();
  app.add_option("--runs", runs);
  app.add_option("--limit", limit, "Keys per pass");
  CLI11_PARSE(app, argc, argv);

  std::vector<int64_t> keys;
  std::ifstream in(keys_path);
  for (int64_t k; keys.size() < limit && in >> k;) keys.push_back(k);
  std::shared_ptr<const retl::Dataset> ds(retl::Dataset::Open(dir).value());
  retl::QueryEngine engine(ds, retl::EngineOptions{});
  const std::string sql = "SELECT * FROM customers WHERE customer_id = $1";
  auto prepared = retl::PreparedStatement::Prepare(&engine, sql).value();
  size_t found = 0;
  // Warm-up: opens the index files and touches the data once.
  for (int64_t k : keys) found += prepared.Execute({retl::Value::Int(retl::SqlKind::kBigInt, k)}).value().row_count;

  double prep = MedianMicrosPerCall(runs, keys.size(), [&] {
    for (int64_t k : keys) found += prepared.Execute({retl::Value::Int(retl::SqlKind::kBigInt, k)}).value().row_count;
  });
  double text = MedianMicrosPerCall(runs, keys.size(), [&] {
    for (int64_t k : keys) {
      found += engine.ExecuteSql("SELECT * FROM customers WHERE customer_id = " + std::to_string(k)).value().row_count;
    }
  });
  auto lookup = retl::Lookup::Open(ds->Latest().value(), "customers").value();
  double api = MedianMicrosPerCall(runs, keys.size(), [&] {
    for (int64_t k : keys) {
      retl::RowView row;
      retl::KeyValue kv = retl::KeyValue::Int(k);
      found += lookup.Get({&kv, 1}, &row).value();
    }
  });
  std::printf("{\"keys\": %zu, \"runs\": %d, \"prepared_us\": %.2f, \"sql_text_us\": %.2f, \"lookup_api_us\": %.3f, \"found\": %zu}\n",
              keys.size(), runs, prep, text, api, found);
  return 0;
}
