// retl-sql-bench: analytical SQL over a dataset, timed in one process. Runs
// each query of a file (one per line; blank lines and `--` comments
// skipped) --warmup times untimed, then --runs times, each timed with one
// clock around QueryEngine::ExecuteSql and the reading of every result row
// as text. Prints one JSON object: per query its times in milliseconds and
// its rows as text (so a driver can compare systems). bench/analytics_bench.py
// runs it against DuckDB and SQLite (bench/README.md).
//
//   retl-sql-bench --dataset DIR --queries FILE [--runs 5] [--warmup 1] [--threads N]
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "query/engine.h"
#include "retl/dataset.h"

namespace {

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "retl-sql-bench: error: %s\n", message.c_str());
  std::exit(1);
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times SQL queries over a rETL dataset in one process; prints JSON"};
  std::string dir, queries_path;
  int runs = 5, warmup = 1, threads = 0;
  app.add_option("--dataset", dir, "Dataset directory")->required();
  app.add_option("--queries", queries_path, "File of queries, one per line")->required();
  app.add_option("--runs", runs, "Timed runs per query")->check(CLI::Range(1, 1000));
  app.add_option("--warmup", warmup, "Untimed runs per query first")->check(CLI::Range(0, 1000));
  app.add_option("--threads", threads, "Threads per query (0: one per core)")->check(CLI::Range(0, 1024));
  CLI11_PARSE(app, argc, argv);

  std::ifstream in(queries_path);
  if (!in) Die("cannot open " + queries_path);
  std::vector<std::string> queries;
  for (std::string line; std::getline(in, line);) {
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line.compare(start, 2, "--") == 0) continue;
    queries.push_back(line.substr(start));
  }
  if (queries.empty()) Die(queries_path + " holds no queries");

  absl::StatusOr<std::unique_ptr<retl::Dataset>> ds = retl::Dataset::Open(dir);
  if (!ds.ok()) Die(std::string(ds.status().message()));
  retl::EngineOptions options;
  options.threads = threads;
  retl::QueryEngine engine(std::shared_ptr<const retl::Dataset>(std::move(*ds)), options);

  std::printf("{\"queries\": [");
  for (size_t q = 0; q < queries.size(); ++q) {
    std::vector<double> times;
    std::vector<std::vector<std::string>> rows;
    for (int r = 0; r < warmup + runs; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      absl::StatusOr<retl::QueryResult> result = engine.ExecuteSql(queries[q]);
      if (!result.ok()) Die("query " + std::to_string(q + 1) + ": " + std::string(result.status().message()));
      rows.assign(result->row_count, {});
      for (size_t i = 0; i < result->row_count; ++i) {
        for (size_t c = 0; c < result->names.size(); ++c) {
          std::optional<std::string> text = result->Text(i, c);
          rows[i].push_back(text.value_or("NULL"));
        }
      }
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (r >= warmup) times.push_back(ms);
    }
    std::printf("%s\n  {\"sql\": %s, \"times_ms\": [", q ? "," : "", JsonString(queries[q]).c_str());
    for (size_t i = 0; i < times.size(); ++i) std::printf("%s%.3f", i ? ", " : "", times[i]);
    std::printf("], \"rows\": [");
    for (size_t i = 0; i < rows.size(); ++i) {
      std::printf("%s[", i ? ", " : "");
      for (size_t c = 0; c < rows[i].size(); ++c) {
        std::printf("%s%s", c ? ", " : "", JsonString(rows[i][c]).c_str());
      }
      std::printf("]");
    }
    std::printf("]}");
  }
  std::printf("\n]}\n");
  return 0;
}
