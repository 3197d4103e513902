// The SQL engine through its C++ API: plans (index probe, partition pruning,
// block skipping), prepared statements, snapshots and errors. Result values
// are covered by the SQL logic tests (tests/sql).
#include "query/engine.h"

#include <stdlib.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "query/create_table.h"
#include "query/parser.h"
#include "retl/dataset.h"
#include "retl/writer.h"

namespace retl {
namespace {

constexpr char kSchema[] =
    "CREATE TABLE customers (customer_id BIGINT PRIMARY KEY, email STRING NOT NULL, "
    "region STRING, orders INT, ltv DOUBLE, INDEX (email)) PARTITION BY (region)";

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/retl-engine-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/ds";
    ASSERT_TRUE(DatasetWriter::Init(dir_).ok());
    Import(1000, "create");
    std::shared_ptr<const Dataset> ds(Dataset::Open(dir_).value());
    engine_ = std::make_unique<QueryEngine>(ds, EngineOptions{});
  }
  void TearDown() override { (void)system(("rm -rf " + root_).c_str()); }

  // Rows 0..n-1: customer_id = 10 * i, region one of three, orders = i % 50.
  void Import(int n, const std::string& mode) {
    Schema schema = ParseCreateTable(kSchema).value().schema;
    TableData data;
    for (const Field& f : schema.fields) data.columns.emplace_back(f.type);
    const char* regions[] = {"eu", "us", "apac"};
    for (int i = 0; i < n; ++i) {
      data.columns[0].AppendInt(10 * i);
      data.columns[1].AppendBytes("user" + std::to_string(i) + "@example.com");
      data.columns[2].AppendBytes(regions[i % 3]);
      data.columns[3].AppendInt(i % 50);
      if (i % 10 == 0) data.columns[4].AppendNull(); else data.columns[4].AppendDouble(i * 1.5);
    }
    WriterOptions options;
    options.block_rows = 100;
    auto writer = DatasetWriter::Open(dir_, options).value();
    auto txn = writer->Begin("import").value();
    if (mode == "create") ASSERT_TRUE(txn->CreateTable("customers", schema, data).ok());
    else ASSERT_TRUE(txn->ReplaceTable("customers", schema, data).ok());
    ASSERT_TRUE(txn->Commit("test").ok());
  }

  std::string Plan(const std::string& sql) {
    absl::StatusOr<QueryResult> r = engine_->ExecuteSql(sql);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    std::string out;
    for (size_t i = 0; i < r->row_count; ++i) out += r->Text(i, 0).value_or("NULL") + "\n";
    return out;
  }

  std::string One(const std::string& sql, const std::vector<Value>& params = {}) {
    absl::StatusOr<QueryResult> r = engine_->ExecuteSql(sql, params);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->row_count == 0) return "<none>";
    return r->Text(0, 0).value_or("NULL");
  }

  std::string root_, dir_;
  std::unique_ptr<QueryEngine> engine_;
};

TEST_F(EngineTest, PrimaryKeyEqualityIsAnIndexProbe) {
  std::string plan = Plan("EXPLAIN SELECT * FROM customers WHERE customer_id = 420");
  EXPECT_TRUE(absl::StrContains(plan, "INDEX PROBE customers using primary key (1 key)")) << plan;
  EXPECT_EQ(One("SELECT email FROM customers WHERE customer_id = 420"), "user42@example.com");
  // IN is a probe too, each key once.
  plan = Plan("EXPLAIN SELECT * FROM customers WHERE customer_id IN (10, 20, 10, 7)");
  EXPECT_TRUE(absl::StrContains(plan, "(3 keys)")) << plan;
  EXPECT_EQ(One("SELECT count(*) FROM customers WHERE customer_id IN (10, 20, 10, 7)"), "2");
  // A computed key is not a probe, and gives the same answer.
  plan = Plan("EXPLAIN SELECT * FROM customers WHERE customer_id + 0 = 420");
  EXPECT_TRUE(absl::StrContains(plan, "TABLE SCAN")) << plan;
  EXPECT_EQ(One("SELECT email FROM customers WHERE customer_id + 0 = 420"), "user42@example.com");
}

TEST_F(EngineTest, SecondaryIndexEqualityIsAnIndexProbe) {
  std::string plan = Plan("EXPLAIN SELECT * FROM customers WHERE email = 'user7@example.com'");
  EXPECT_TRUE(absl::StrContains(plan, "using index email")) << plan;
  EXPECT_EQ(One("SELECT customer_id FROM customers WHERE email = 'user7@example.com'"), "70");
  EXPECT_EQ(One("SELECT count(*) FROM customers WHERE email = 'nobody'"), "0");
  // The rest of WHERE still applies to probed rows.
  EXPECT_EQ(One("SELECT count(*) FROM customers WHERE email = 'user7@example.com' AND orders > 7"), "0");
}

TEST_F(EngineTest, CountStarAloneIsAnsweredFromBlockMetadata) {
  std::string plan = Plan("EXPLAIN ANALYZE SELECT count(*), count(*) FROM customers");
  EXPECT_TRUE(absl::StrContains(plan, "rows counted from block metadata")) << plan;
  EXPECT_TRUE(absl::StrContains(plan, "columns none")) << plan;
  EXPECT_EQ(One("SELECT count(*) FROM customers"), "1000");
  // Anything more reads rows.
  plan = Plan("EXPLAIN ANALYZE SELECT count(*) FROM customers WHERE orders > 10");
  EXPECT_FALSE(absl::StrContains(plan, "from block metadata")) << plan;
  EXPECT_EQ(One("SELECT count(*) FROM customers WHERE orders > 10"), "780");
  plan = Plan("EXPLAIN ANALYZE SELECT count(*), count(ltv) FROM customers");
  EXPECT_FALSE(absl::StrContains(plan, "from block metadata")) << plan;
  EXPECT_EQ(One("SELECT count(*) - count(ltv) FROM customers"), "100");
  EXPECT_EQ(One("SELECT count(*) FROM customers GROUP BY region ORDER BY 1 LIMIT 1"), "333");
  // Conditions partition pruning decides leave no filter, and no column to read.
  plan = Plan("EXPLAIN ANALYZE SELECT count(*) FROM customers WHERE region IN ('eu', 'us')");
  EXPECT_TRUE(absl::StrContains(plan, "rows counted from block metadata")) << plan;
  EXPECT_FALSE(absl::StrContains(plan, "FILTER")) << plan;
  EXPECT_EQ(One("SELECT count(*) FROM customers WHERE region IN ('eu', 'us')"), "667");
  // Mixed with others, only the others are filtered.
  plan = Plan("EXPLAIN SELECT count(*) FROM customers WHERE region = 'eu' AND orders > 40");
  EXPECT_TRUE(absl::StrContains(plan, "FILTER (orders > 40)")) << plan;
  EXPECT_EQ(One("SELECT count(*) FROM customers WHERE region = 'eu' AND orders > 40"), "60");
  // A condition on the partition column and another column stays a filter.
  EXPECT_EQ(One("SELECT count(*) FROM customers WHERE region = 'eu' OR orders = 1"), "347");
}

TEST_F(EngineTest, LikePrefixSkipsBlocks) {
  // Emails are user<i>@example.com, rows in customer_id (10 * i) order.
  std::string plan = Plan("EXPLAIN SELECT count(*) FROM customers WHERE email LIKE 'user15%'");
  EXPECT_TRUE(absl::StrContains(plan, "blocks 3/12")) << plan;
  EXPECT_EQ(One("SELECT count(*) FROM customers WHERE email LIKE 'user15%'"), "11");
  EXPECT_EQ(One("SELECT count(*) FROM customers WHERE email LIKE 'user15@example.com'"), "1");
  // Not prefixes: every block is read.
  for (const char* sql : {"SELECT count(*) FROM customers WHERE email NOT LIKE 'user15%'",
                          "SELECT count(*) FROM customers WHERE email LIKE '%user15%'",
                          "SELECT count(*) FROM customers WHERE email ILIKE 'USER15%'",
                          "SELECT count(*) FROM customers WHERE email LIKE 'user1_0%'"}) {
    plan = Plan(std::string("EXPLAIN ") + sql);
    EXPECT_TRUE(absl::StrContains(plan, "blocks 12/12")) << sql << "\n" << plan;
  }
  EXPECT_EQ(One("SELECT count(*) FROM customers WHERE email NOT LIKE 'user15%'"), "989");
  EXPECT_EQ(One("SELECT count(*) FROM customers WHERE email LIKE 'user1_0%'"), "10");
  // An escaped wildcard is a literal character of the prefix.
  EXPECT_EQ(One("SELECT count(*) FROM customers WHERE email LIKE 'user15#%%' ESCAPE '#'"), "0");
}

TEST_F(EngineTest, PartitionPruningAndBlockSkipping) {
  std::string plan = Plan("EXPLAIN SELECT count(*) FROM customers WHERE region = 'eu'");
  EXPECT_TRUE(absl::StrContains(plan, "partitions 1/3 (eu)")) << plan;
  EXPECT_EQ(One("SELECT count(*) FROM customers WHERE region = 'eu'"), "334");
  plan = Plan("EXPLAIN SELECT count(*) FROM customers WHERE region IN ('eu', 'us') OR region IS NULL");
  EXPECT_TRUE(absl::StrContains(plan, "partitions 2/3")) << plan;
  plan = Plan("EXPLAIN SELECT count(*) FROM customers WHERE lower(region) LIKE 'a%'");
  EXPECT_TRUE(absl::StrContains(plan, "partitions 1/3 (apac)")) << plan;
  // Rows are stored by key: a key range reads only the blocks that hold it.
  plan = Plan("EXPLAIN SELECT count(*) FROM customers WHERE customer_id < 500");
  EXPECT_TRUE(absl::StrContains(plan, "blocks 3/")) << plan;
  EXPECT_EQ(One("SELECT count(*) FROM customers WHERE customer_id < 500"), "50");
  // BETWEEN binds to an AND; each side still skips blocks.
  plan = Plan("EXPLAIN SELECT count(*) FROM customers WHERE customer_id BETWEEN 100 AND 400");
  EXPECT_TRUE(absl::StrContains(plan, "blocks 3/12")) << plan;
  EXPECT_EQ(One("SELECT count(*) FROM customers WHERE customer_id BETWEEN 100 AND 400"), "31");
}

TEST_F(EngineTest, ExplainAnalyzeCountsRows) {
  std::string plan = Plan("EXPLAIN ANALYZE SELECT region, count(*) FROM customers GROUP BY region");
  EXPECT_TRUE(absl::StrContains(plan, "HASH AGGREGATE")) << plan;
  EXPECT_TRUE(absl::StrContains(plan, "rows=1000")) << plan;
  EXPECT_TRUE(absl::StrContains(plan, "3 groups")) << plan;
  EXPECT_TRUE(absl::StrContains(plan, "total: 3 rows")) << plan;
}

TEST_F(EngineTest, PreparedStatementsBindParameters) {
  absl::StatusOr<PreparedStatement> p =
      PreparedStatement::Prepare(engine_.get(), "SELECT email FROM customers WHERE customer_id = $1");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->parameter_count(), 1);
  for (int i : {0, 5, 999}) {
    absl::StatusOr<QueryResult> r = p->Execute({Value::Int(SqlKind::kBigInt, 10 * i)});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->row_count, 1u);
    EXPECT_EQ(r->Text(0, 0), "user" + std::to_string(i) + "@example.com");
  }
  // A text parameter is typed by its context, as a literal would be.
  absl::StatusOr<PreparedStatement> q =
      PreparedStatement::Prepare(engine_.get(), "SELECT count(*) FROM customers WHERE region = ? AND orders < ?");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->parameter_count(), 2);
  absl::StatusOr<QueryResult> r = q->Execute({Value::String("us"), Value::String("10")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->Text(0, 0), "66");
  // Too few values is an error naming the count.
  r = q->Execute({Value::String("us")});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "2 parameter(s)")) << r.status();
}

TEST_F(EngineTest, StatementsSeeOneSnapshotAndAsOfPicksOlderOnes) {
  EXPECT_EQ(One("SELECT count(*) FROM customers"), "1000");
  Import(10, "replace");
  // The engine reads the latest version at each statement.
  EXPECT_EQ(One("SELECT count(*) FROM customers"), "10");
  EXPECT_EQ(One("SELECT count(*) FROM customers AS OF VERSION 2"), "1000");
  absl::StatusOr<QueryResult> r = engine_->ExecuteSql("SELECT * FROM customers AS OF VERSION 99");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "line 1, column 15")) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "version")) << r.status();
}

TEST_F(EngineTest, ErrorsNameLineAndColumn) {
  absl::StatusOr<QueryResult> r = engine_->ExecuteSql("SELECT customer_id,\n  nope FROM customers");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "line 2, column 3: column \"nope\" does not exist");
  r = engine_->ExecuteSql("SELECT 1 FROM nowhere");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "line 1, column 15: table \"nowhere\" does not exist")) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "tables: customers")) << r.status();
  r = engine_->ExecuteSql("SELECT orders / (orders - orders) FROM customers");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "division by zero")) << r.status();
  EXPECT_TRUE(absl::StartsWith(r.status().message(), "line 1, column 15")) << r.status();  // the operator
  r = engine_->ExecuteSql("SELECT region, orders FROM customers GROUP BY region");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "column \"orders\" must appear in the GROUP BY clause"))
      << r.status();
  r = engine_->ExecuteSql("SELECT 'a' + 1");
  ASSERT_FALSE(r.ok());
  r = engine_->ExecuteSql("SELECT email + 1 FROM customers");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "operator does not exist: STRING + INT")) << r.status();
  r = engine_->ExecuteSql("SELECT 2147483647 + 1");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "integer out of range")) << r.status();
}

TEST_F(EngineTest, CatalogStatements) {
  EXPECT_EQ(Plan("SHOW TABLES"), "customers\n");
  absl::StatusOr<QueryResult> r = engine_->ExecuteSql("DESCRIBE customers");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->row_count, 5u);
  EXPECT_EQ(r->Text(0, 0), "customer_id");
  EXPECT_EQ(r->Text(0, 3), "PRI");
  EXPECT_EQ(r->Text(2, 3), "PART");
  r = engine_->ExecuteSql("SHOW VERSIONS");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->row_count, 2u);
  r = engine_->ExecuteSql("CREATE TABLE x (a INT PRIMARY KEY)");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "retl-build import --schema")) << r.status();
}

TEST(ParserTest, PrecedenceAndPositions) {
  absl::StatusOr<Statement> s = ParseStatement("SELECT 1 + 2 * 3 = 7 AND NOT x IS NULL OR y");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->select->items[0].expr->ToSql(), "((((1 + (2 * 3)) = 7) AND NOT x IS NULL) OR y)");
  absl::StatusOr<std::vector<Statement>> all = ParseStatements("SELECT 1; SELECT 2;; SHOW TABLES");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  s = ParseStatement("SELECT a,\n  FROM t");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "line 2, column 3: expected an expression, found 'FROM'");
  s = ParseStatement("SELECT * FROM t WHERE a = $2 OR b = $1");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->parameter_count, 2);
  s = ParseStatement("SELECT (1");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.status().message(), "expected ')'")) << s.status();
  // Nesting is bounded, not a stack overflow.
  s = ParseStatement("SELECT " + std::string(100000, '(') + "1");
  ASSERT_FALSE(s.ok());
  s = ParseStatement("SELECT " + std::string(100000, '-') + "1");
  ASSERT_FALSE(s.ok());
  // CREATE TABLE goes through the schema parser, keeping positions.
  s = ParseStatement("\n\nCREATE TABLE t (a INT PRIMARY KEY, b FOO)");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StartsWith(s.status().message(), "line 3, column ")) << s.status();
}

TEST(ParserTest, EndsStatement) {
  EXPECT_TRUE(EndsStatement("SELECT 1;"));
  EXPECT_FALSE(EndsStatement("SELECT 1"));
  EXPECT_FALSE(EndsStatement("SELECT ';"));
  EXPECT_FALSE(EndsStatement("SELECT 1 /* ; */"));
  EXPECT_TRUE(EndsStatement("SELECT 1; -- done"));
  EXPECT_TRUE(EndsStatement(""));
}

}  // namespace
}  // namespace retl

namespace retl {
namespace {

// Strings read from dictionary chunks carry their codes, and comparisons with
// literals, IN, GROUP BY and count(DISTINCT) compute on the dictionary
// entries. `(tier || '')` computes the same strings without a dictionary:
// every query must give the same rows both ways.
TEST_F(EngineTest, DictionaryStringsGiveTheSameResultsAsPlainStrings) {
  Schema schema = ParseCreateTable(
                      "CREATE TABLE t2 (id BIGINT PRIMARY KEY, tier STRING, n INT)")
                      .value()
                      .schema;
  TableData data;
  for (const Field& f : schema.fields) data.columns.emplace_back(f.type);
  const char* tiers[] = {"gold", "silver", "bronze", "", "zinc"};
  for (int i = 0; i < 1000; ++i) {
    data.columns[0].AppendInt(i);
    // Rows 200-299 (a whole block) have no tier; others every fifth.
    if ((i >= 200 && i < 300) || i % 7 == 3) data.columns[1].AppendNull();
    else data.columns[1].AppendBytes(tiers[(i * 7) % 5]);
    data.columns[2].AppendInt(i % 13);
  }
  WriterOptions options;
  options.block_rows = 100;
  auto writer = DatasetWriter::Open(dir_, options).value();
  auto txn = writer->Begin("import").value();
  ASSERT_TRUE(txn->CreateTable("t2", schema, data).ok());
  ASSERT_TRUE(txn->Commit("test").ok());

  auto rows = [&](const std::string& sql) {
    absl::StatusOr<QueryResult> r = engine_->ExecuteSql(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (size_t i = 0; i < r->row_count; ++i) {
      std::string row;
      for (size_t c = 0; c < r->names.size(); ++c) row += r->Text(i, c).value_or("NULL") + "|";
      out.push_back(row);
    }
    return out;
  };
  const char* queries[] = {
      "SELECT count(*) FROM t2 WHERE {t} = 'gold'",
      "SELECT count(*) FROM t2 WHERE 'gold' = {t}",
      "SELECT count(*) FROM t2 WHERE {t} <> 'gold'",
      "SELECT count(*) FROM t2 WHERE {t} < 'hello'",
      "SELECT count(*) FROM t2 WHERE 'hello' <= {t}",
      "SELECT count(*) FROM t2 WHERE {t} > ''",
      "SELECT count(*) FROM t2 WHERE {t} = 'nothing'",
      "SELECT count(*) FROM t2 WHERE {t} IN ('gold', 'zinc')",
      "SELECT count(*) FROM t2 WHERE {t} NOT IN ('gold', 'zinc')",
      "SELECT count(*) FROM t2 WHERE {t} NOT IN ('gold', NULL)",
      "SELECT count(*) FROM t2 WHERE {t} IN ('', 'silver') AND n > 3",
      "SELECT id FROM t2 WHERE {t} = 'silver' AND n = 5 ORDER BY id",
      "SELECT {t} AS x, count(*), sum(n) FROM t2 GROUP BY x ORDER BY x NULLS FIRST",
      "SELECT {t} AS x, n % 2 AS y, count(*) FROM t2 WHERE n < 9 GROUP BY x, y ORDER BY x, y",
      "SELECT count(DISTINCT {t}), count({t}) FROM t2",
      "SELECT n, count(DISTINCT {t}) FROM t2 GROUP BY n ORDER BY n",
      "SELECT max({t}), min({t}) FROM t2 WHERE {t} <> ''",
  };
  for (std::string q : queries) {
    std::string dict = q, plain = q;
    for (size_t p; (p = dict.find("{t}")) != std::string::npos;) dict.replace(p, 3, "tier");
    for (size_t p; (p = plain.find("{t}")) != std::string::npos;) plain.replace(p, 3, "(tier || '')");
    std::vector<std::string> a = rows(dict), b = rows(plain);
    EXPECT_EQ(a, b) << dict;
    EXPECT_FALSE(a.empty()) << dict;
  }
  // Spot checks against counts computed here.
  int gold = 0;
  for (int i = 0; i < 1000; ++i) {
    if (!((i >= 200 && i < 300) || i % 7 == 3) && (i * 7) % 5 == 0) ++gold;
  }
  EXPECT_EQ(rows("SELECT count(*) FROM t2 WHERE tier = 'gold'")[0], std::to_string(gold) + "|");
}

}  // namespace
}  // namespace retl

namespace retl {
namespace {

// Scans, filters and aggregations run on several threads, a block at a time.
// Every result, its row order and its floating-point digits included, and
// every error, must be the same for any number of threads.
TEST_F(EngineTest, ResultsAreTheSameForAnyNumberOfThreads) {
  const char* queries[] = {
      "SELECT count(*), sum(ltv), avg(ltv), min(ltv), max(ltv), stddev(ltv) FROM customers",
      "SELECT region, count(*), sum(ltv), avg(orders), stddev(ltv) FROM customers GROUP BY region",
      "SELECT orders % 7 AS k, region, sum(ltv * 1.1), max(email), min(customer_id) FROM customers "
      "WHERE ltv > 20 GROUP BY k, region",
      "SELECT orders, sum(ltv) FROM customers GROUP BY orders HAVING count(*) > 19",
      "SELECT email, ltv FROM customers WHERE orders = 7 OR ltv IS NULL",
      "SELECT customer_id, ltv FROM customers ORDER BY ltv DESC LIMIT 7",
      "SELECT DISTINCT orders % 5, region FROM customers WHERE customer_id > 300",
      "SELECT count(DISTINCT orders), count(DISTINCT region) FROM customers WHERE ltv < 900",
      "SELECT region, count(DISTINCT orders), sum(ltv) FROM customers GROUP BY region",
      "SELECT * FROM customers WHERE customer_id % 97 = 3",
      "SELECT count(*) FROM customers WHERE email LIKE '%9%'",
      "SELECT sum(10 / (orders - 33)) FROM customers",  // division by zero in a later block
      "SELECT customer_id FROM customers WHERE 10 / (orders - 33) > 1 LIMIT 3",
  };
  auto run = [&](int threads, const std::string& sql) {
    EngineOptions options;
    options.threads = threads;
    QueryEngine engine(std::shared_ptr<const Dataset>(Dataset::Open(dir_).value()), options);
    absl::StatusOr<QueryResult> r = engine.ExecuteSql(sql);
    if (!r.ok()) return std::string("error: ") + std::string(r.status().message());
    std::string out;
    for (size_t i = 0; i < r->row_count; ++i) {
      for (size_t c = 0; c < r->names.size(); ++c) out += r->Text(i, c).value_or("NULL") + "|";
      out += "\n";
    }
    return out;
  };
  for (const char* q : queries) {
    const std::string one = run(1, q);
    EXPECT_FALSE(one.empty()) << q;
    for (int threads : {2, 3, 8}) EXPECT_EQ(run(threads, q), one) << q << " on " << threads << " threads";
  }
  // The plans do run on threads.
  EngineOptions options;
  options.threads = 3;
  QueryEngine engine(std::shared_ptr<const Dataset>(Dataset::Open(dir_).value()), options);
  auto plan = [&](const std::string& sql) {
    absl::StatusOr<QueryResult> r = engine.ExecuteSql("EXPLAIN ANALYZE " + sql);
    std::string out;
    for (size_t i = 0; r.ok() && i < r->row_count; ++i) out += r->Text(i, 0).value_or("") + "\n";
    return out;
  };
  std::string p = plan("SELECT region, sum(ltv) FROM customers GROUP BY region");
  EXPECT_TRUE(absl::StrContains(p, "on 3 threads")) << p;
  EXPECT_TRUE(absl::StrContains(p, "PARTIAL HASH AGGREGATE (per block)")) << p;
  EXPECT_TRUE(absl::StrContains(p, "(rows=1000 ")) << p;  // the scan's rows, all threads summed
  p = plan("SELECT email FROM customers WHERE orders = 3");
  EXPECT_TRUE(absl::StrContains(p, "PARALLEL SCAN 3 threads")) << p;
  EXPECT_TRUE(absl::StrContains(p, "total: 20 rows")) << p;
}

}  // namespace
}  // namespace retl

namespace retl {
namespace {

// Comparisons of a column with a literal run as plain loops; they must agree
// with the general comparison (NaN above every number, -0 = 0, NULL unknown),
// which a literal hidden in a CASE forces.
TEST_F(EngineTest, ColumnLiteralComparisonsAgreeWithTheGeneralOnes) {
  Schema schema = ParseCreateTable("CREATE TABLE f (id BIGINT PRIMARY KEY, x DOUBLE, n INT)").value().schema;
  TableData data;
  for (const Field& f : schema.fields) data.columns.emplace_back(f.type);
  const double values[] = {0.5, -0.0, 0.0, std::nan(""), -1e300, 1e300, 0.25, 0.75, 0.5};
  for (int i = 0; i < 500; ++i) {
    data.columns[0].AppendInt(i);
    if (i % 10 == 9) data.columns[1].AppendNull(); else data.columns[1].AppendDouble(values[i % 9]);
    if (i % 7 == 6) data.columns[2].AppendNull(); else data.columns[2].AppendInt(i % 11 - 5);
  }
  WriterOptions options;
  options.block_rows = 64;
  auto writer = DatasetWriter::Open(dir_, options).value();
  auto txn = writer->Begin("import").value();
  ASSERT_TRUE(txn->CreateTable("f", schema, data).ok());
  ASSERT_TRUE(txn->Commit("test").ok());
  for (const char* op : {"=", "<>", "<", "<=", ">", ">="}) {
    for (const char* lit : {"0.5", "0", "-0.0", "'NaN'::double", "1e300", "-2"}) {
      for (const char* col : {"x", "n"}) {
        if (std::string(col) == "n" && std::string(lit).find("e") != std::string::npos) continue;
        const std::string fast = absl::StrCat("SELECT count(*) FROM f WHERE ", col, " ", op, " ", lit);
        const std::string mirrored = absl::StrCat("SELECT count(*) FROM f WHERE ", lit, " ", op, " ", col);
        const std::string general =
            absl::StrCat("SELECT count(*) FROM f WHERE ", col, " ", op, " (CASE WHEN id >= 0 THEN ", lit, " END)");
        const std::string general_mirrored =
            absl::StrCat("SELECT count(*) FROM f WHERE (CASE WHEN id >= 0 THEN ", lit, " END) ", op, " ", col);
        EXPECT_EQ(One(fast), One(general)) << fast;
        EXPECT_EQ(One(mirrored), One(general_mirrored)) << mirrored;
      }
    }
  }
  int big = 0;  // 1e300 and NaN rows: NaN sorts above every number
  for (int i = 0; i < 500; ++i) big += i % 10 != 9 && (i % 9 == 5 || i % 9 == 3);
  EXPECT_EQ(One("SELECT count(*) FROM f WHERE x > 1e299"), std::to_string(big));
}

}  // namespace
}  // namespace retl
