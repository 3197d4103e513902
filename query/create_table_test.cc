#include "query/create_table.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace retl {
namespace {

CreateTableStatement Parse(std::string_view sql) {
  absl::StatusOr<CreateTableStatement> statement = ParseCreateTable(sql);
  EXPECT_TRUE(statement.ok()) << statement.status() << "\nin: " << sql;
  return statement.ok() ? *std::move(statement) : CreateTableStatement{};
}

// The message of the error ParseCreateTable() returns, or "OK".
std::string ErrorOf(std::string_view sql) {
  absl::StatusOr<CreateTableStatement> statement = ParseCreateTable(sql);
  if (statement.ok()) return "OK";
  EXPECT_EQ(statement.status().code(), absl::StatusCode::kInvalidArgument) << statement.status();
  return std::string(statement.status().message());
}

Field F(std::string name, DataType type, bool nullable) {
  return Field{std::move(name), type, nullable};
}

TEST(CreateTableTest, ColumnsKeyAndNullability) {
  CreateTableStatement s = Parse(
      "CREATE TABLE users (\n"
      "  id BIGINT PRIMARY KEY,\n"
      "  email TEXT NOT NULL,\n"
      "  score DOUBLE,\n"
      "  note VARCHAR(20) NULL\n"
      ");");
  EXPECT_EQ(s.table_name, "users");
  EXPECT_FALSE(s.if_not_exists);
  Schema expected;
  expected.fields = {F("id", DataType::Of(TypeId::kBigInt), false),
                     F("email", DataType::Of(TypeId::kString), false),
                     F("score", DataType::Of(TypeId::kDouble), true),
                     F("note", DataType::Of(TypeId::kString), true)};
  expected.primary_key = {0};
  EXPECT_EQ(s.schema, expected);
  EXPECT_FALSE(s.schema.partition_column.has_value());
}

TEST(CreateTableTest, KeywordsAreCaseInsensitive) {
  CreateTableStatement s =
      Parse("cReAtE tAbLe If NoT eXiStS t (a int pRiMaRy KeY, b text nOt NuLl) pArTiTiOn By b");
  EXPECT_TRUE(s.if_not_exists);
  EXPECT_EQ(s.table_name, "t");
  ASSERT_EQ(s.schema.fields.size(), 2u);
  EXPECT_FALSE(s.schema.fields[1].nullable);
  EXPECT_EQ(s.schema.partition_column, 1);
}

TEST(CreateTableTest, IfNotExists) {
  EXPECT_TRUE(Parse("CREATE TABLE IF NOT EXISTS t (a INT PRIMARY KEY)").if_not_exists);
  EXPECT_FALSE(Parse("CREATE TABLE t (a INT PRIMARY KEY)").if_not_exists);
  // IF is the table's name when no name follows it.
  CreateTableStatement s = Parse("CREATE TABLE if (a INT PRIMARY KEY)");
  EXPECT_EQ(s.table_name, "if");
  EXPECT_FALSE(s.if_not_exists);
  s = Parse("CREATE TABLE IF NOT EXISTS if (a INT PRIMARY KEY)");
  EXPECT_EQ(s.table_name, "if");
  EXPECT_TRUE(s.if_not_exists);
}

TEST(CreateTableTest, EveryTypeAlias) {
  struct Case {
    std::string sql;
    DataType type;
  };
  const std::vector<Case> cases = {
      {"BOOLEAN", DataType::Of(TypeId::kBoolean)},
      {"BOOL", DataType::Of(TypeId::kBoolean)},
      {"TINYINT", DataType::Of(TypeId::kTinyInt)},
      {"INT1", DataType::Of(TypeId::kTinyInt)},
      {"SMALLINT", DataType::Of(TypeId::kSmallInt)},
      {"INT2", DataType::Of(TypeId::kSmallInt)},
      {"INT", DataType::Of(TypeId::kInt)},
      {"INTEGER", DataType::Of(TypeId::kInt)},
      {"INT4", DataType::Of(TypeId::kInt)},
      {"BIGINT", DataType::Of(TypeId::kBigInt)},
      {"INT8", DataType::Of(TypeId::kBigInt)},
      {"LONG", DataType::Of(TypeId::kBigInt)},
      {"FLOAT", DataType::Of(TypeId::kFloat)},
      {"REAL", DataType::Of(TypeId::kFloat)},
      {"FLOAT4", DataType::Of(TypeId::kFloat)},
      {"DOUBLE", DataType::Of(TypeId::kDouble)},
      {"FLOAT8", DataType::Of(TypeId::kDouble)},
      {"DOUBLE PRECISION", DataType::Of(TypeId::kDouble)},
      {"double\n  /* comment */ precision", DataType::Of(TypeId::kDouble)},
      {"DECIMAL", DataType::Decimal(18, 3)},
      {"DECIMAL(10, 2)", DataType::Decimal(10, 2)},
      {"DECIMAL(5)", DataType::Decimal(5, 0)},
      {"DECIMAL ( 38 , 38 )", DataType::Decimal(38, 38)},
      {"NUMERIC", DataType::Decimal(18, 3)},
      {"NUMERIC(20,4)", DataType::Decimal(20, 4)},
      {"DEC(3,1)", DataType::Decimal(3, 1)},
      {"STRING", DataType::Of(TypeId::kString)},
      {"TEXT", DataType::Of(TypeId::kString)},
      {"VARCHAR", DataType::Of(TypeId::kString)},
      {"VARCHAR(255)", DataType::Of(TypeId::kString)},
      {"CHAR", DataType::Of(TypeId::kString)},
      {"CHAR(3)", DataType::Of(TypeId::kString)},
      {"CHARACTER", DataType::Of(TypeId::kString)},
      {"CHARACTER VARYING", DataType::Of(TypeId::kString)},
      {"CHARACTER VARYING(10)", DataType::Of(TypeId::kString)},
      {"BINARY", DataType::Of(TypeId::kBinary)},
      {"BLOB", DataType::Of(TypeId::kBinary)},
      {"BYTEA", DataType::Of(TypeId::kBinary)},
      {"VARBINARY", DataType::Of(TypeId::kBinary)},
      {"DATE", DataType::Of(TypeId::kDate)},
      {"TIMESTAMP", DataType::Of(TypeId::kTimestamp)},
      {"DATETIME", DataType::Of(TypeId::kTimestamp)},
      {"TIMESTAMPTZ", DataType::Of(TypeId::kTimestamp)},
      {"TIMESTAMP WITH TIME ZONE", DataType::Of(TypeId::kTimestamp)},
      {"timestamp without time zone", DataType::Of(TypeId::kTimestamp)},
      {"bigint", DataType::Of(TypeId::kBigInt)},
      {"Varchar(8)", DataType::Of(TypeId::kString)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sql);
    for (std::string_view suffix : {"", " NOT NULL"}) {
      CreateTableStatement s =
          Parse("CREATE TABLE t (k INT PRIMARY KEY, c " + c.sql + std::string(suffix) + ")");
      ASSERT_EQ(s.schema.fields.size(), 2u);
      EXPECT_EQ(s.schema.fields[1].type, c.type);
      EXPECT_EQ(s.schema.fields[1].nullable, suffix.empty());
    }
  }
}

TEST(CreateTableTest, TypeErrorsAreReportedAtTheType) {
  const std::string prefix = "CREATE TABLE t (k INT PRIMARY KEY,\n  c ";  // type at line 2, col 5
  EXPECT_EQ(ErrorOf(prefix + "STRNG)"),
            "line 2, column 5: column 'c': unknown type 'STRNG': expected BOOLEAN, TINYINT, "
            "SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p,s), STRING, BINARY, DATE or "
            "TIMESTAMP");
  EXPECT_EQ(ErrorOf(prefix + "DECIMAL(39, 2))"),
            "line 2, column 5: column 'c': DECIMAL precision must be 1..38, got 39");
  EXPECT_EQ(ErrorOf(prefix + "DECIMAL(5, 6))"),
            "line 2, column 5: column 'c': DECIMAL scale must be 0..5, got 6");
  EXPECT_EQ(ErrorOf(prefix + "DECIMAL(0))"),
            "line 2, column 5: column 'c': DECIMAL precision must be 1..38, got 0");
  EXPECT_EQ(ErrorOf(prefix + "DECIMAL(1,2,3))"),
            "line 2, column 5: column 'c': malformed DECIMAL arguments in 'DECIMAL(1,2,3)': "
            "expected DECIMAL(precision, scale)");
  EXPECT_EQ(ErrorOf(prefix + "INT(5))"),
            "line 2, column 5: column 'c': type 'INT(5)' takes no arguments");
  EXPECT_EQ(ErrorOf(prefix + "TIMESTAMP(3) WITH TIME ZONE)"),
            "line 2, column 5: column 'c': malformed type 'TIMESTAMP(3) WITH TIME ZONE'");
  EXPECT_EQ(ErrorOf(prefix + "DOUBLE WITH TIME ZONE)"),
            "line 2, column 5: column 'c': unknown type 'DOUBLE WITH TIME ZONE': expected BOOLEAN, "
            "TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p,s), STRING, BINARY, DATE or "
            "TIMESTAMP");
}

TEST(CreateTableTest, MalformedTypes) {
  const std::string prefix = "CREATE TABLE t (k INT PRIMARY KEY, c ";  // type at column 38
  EXPECT_EQ(ErrorOf(prefix + "DECIMAL(x))"),
            "line 1, column 46: expected integer in type arguments of column 'c', found 'x'");
  EXPECT_EQ(ErrorOf(prefix + "DECIMAL(-1))"),
            "line 1, column 46: expected integer in type arguments of column 'c', found '-'");
  EXPECT_EQ(ErrorOf(prefix + "DECIMAL(1.5))"),
            "line 1, column 46: expected integer in type arguments of column 'c', found '1.5'");
  EXPECT_EQ(ErrorOf(prefix + "DECIMAL())"),
            "line 1, column 46: expected integer in type arguments of column 'c', found ')'");
  EXPECT_EQ(ErrorOf(prefix + "DECIMAL(10 2))"),
            "line 1, column 49: expected ')' or ',' after type argument, found '2'");
  EXPECT_EQ(ErrorOf(prefix + "DECIMAL(10,"),
            "line 1, column 49: expected integer in type arguments of column 'c', found end of "
            "input");
  EXPECT_EQ(ErrorOf(prefix + ")"), "line 1, column 38: expected type for column 'c', found ')'");
  EXPECT_EQ(ErrorOf(prefix + ", d INT)"),
            "line 1, column 38: expected type for column 'c', found ','");
  EXPECT_EQ(ErrorOf(prefix + "NOT NULL)"),
            "line 1, column 38: expected type for column 'c', found 'NOT'");
  EXPECT_EQ(ErrorOf(prefix + "PRIMARY KEY)"),
            "line 1, column 38: expected type for column 'c', found 'PRIMARY'");
  EXPECT_EQ(ErrorOf(prefix + "DEFAULT 1)"),
            "line 1, column 38: expected type for column 'c', found 'DEFAULT'");
  EXPECT_EQ(ErrorOf(prefix + "'INT')"),
            "line 1, column 38: expected type for column 'c', found string literal 'INT'");
  EXPECT_EQ(ErrorOf(prefix + "\"INT\")"),
            "line 1, column 38: expected type for column 'c', found '\"INT\"'");
  EXPECT_EQ(ErrorOf(prefix + "INT[])"), "line 1, column 41: unexpected character '['");
}

TEST(CreateTableTest, ColumnConstraintsInAnyOrder) {
  CreateTableStatement s = Parse(
      "CREATE TABLE t (a INT NOT NULL PRIMARY KEY, b INT NULL, c INT NOT NULL, d INT)");
  EXPECT_EQ(s.schema.primary_key, std::vector<int>{0});
  EXPECT_FALSE(s.schema.fields[0].nullable);
  EXPECT_TRUE(s.schema.fields[1].nullable);
  EXPECT_FALSE(s.schema.fields[2].nullable);
  EXPECT_TRUE(s.schema.fields[3].nullable);
  s = Parse("CREATE TABLE t (a INT PRIMARY KEY NOT NULL)");
  EXPECT_FALSE(s.schema.fields[0].nullable);
}

TEST(CreateTableTest, ColumnConstraintErrors) {
  const std::string prefix = "CREATE TABLE t (k INT PRIMARY KEY, c INT ";  // constraint at col 42
  EXPECT_EQ(ErrorOf(prefix + "NOT NULL NULL)"),
            "line 1, column 51: conflicting or redundant NULL/NOT NULL declarations for column "
            "'c'");
  EXPECT_EQ(ErrorOf(prefix + "NULL NOT NULL)"),
            "line 1, column 47: conflicting or redundant NULL/NOT NULL declarations for column "
            "'c'");
  EXPECT_EQ(ErrorOf(prefix + "NOT NULL NOT NULL)"),
            "line 1, column 51: conflicting or redundant NULL/NOT NULL declarations for column "
            "'c'");
  EXPECT_EQ(ErrorOf(prefix + "NULL NULL)"),
            "line 1, column 47: conflicting or redundant NULL/NOT NULL declarations for column "
            "'c'");
  EXPECT_EQ(ErrorOf(prefix + "NOT foo)"),
            "line 1, column 46: expected NULL after NOT, found 'foo'");
  EXPECT_EQ(ErrorOf(prefix + "NOT)"), "line 1, column 45: expected NULL after NOT, found ')'");
  EXPECT_EQ(ErrorOf(prefix + "PRIMARY)"),
            "line 1, column 49: expected KEY after PRIMARY, found ')'");
}

TEST(CreateTableTest, UnexpectedTokenAfterColumnDefinition) {
  EXPECT_EQ(ErrorOf("CREATE TABLE t (\n"
                    "  id INT PRIMARY KEY,\n"
                    "  name TEXT  foo\n"
                    ")"),
            "line 3, column 14: expected ')' or ',' after column definition, found 'foo'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY b INT)"),
            "line 1, column 35: expected ')' or ',' after column definition, found 'b'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT UNSIGNED)"),
            "line 1, column 23: expected ')' or ',' after column definition, found 'UNSIGNED'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY"),
            "line 1, column 34: expected ')' or ',' after column definition, found end of input");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a VARCHAR(3) 4)"),
            "line 1, column 30: expected ')' or ',' after column definition, found '4'");
}

TEST(CreateTableTest, TableLevelCompositePrimaryKey) {
  CreateTableStatement s = Parse(
      "CREATE TABLE events (\n"
      "  tenant TEXT,\n"
      "  ts TIMESTAMP,\n"
      "  seq INT,\n"
      "  payload BLOB,\n"
      "  PRIMARY KEY (tenant, seq, ts)\n"
      ")");
  EXPECT_EQ(s.schema.primary_key, (std::vector<int>{0, 2, 1}));
  EXPECT_FALSE(s.schema.fields[0].nullable);
  EXPECT_FALSE(s.schema.fields[1].nullable);
  EXPECT_FALSE(s.schema.fields[2].nullable);
  EXPECT_TRUE(s.schema.fields[3].nullable);
}

TEST(CreateTableTest, PrimaryKeyElementMayComeFirst) {
  CreateTableStatement s = Parse("CREATE TABLE t (PRIMARY KEY (b), a INT, b TEXT)");
  EXPECT_EQ(s.schema.primary_key, std::vector<int>{1});
  EXPECT_TRUE(s.schema.fields[0].nullable);
  EXPECT_FALSE(s.schema.fields[1].nullable);
}

TEST(CreateTableTest, ExactlyOnePrimaryKey) {
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY, b INT PRIMARY KEY)"),
            "line 1, column 42: multiple primary keys for table 't' are not allowed (the first "
            "is at line 1, column 23)");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY,\n  PRIMARY KEY (a))"),
            "line 2, column 3: multiple primary keys for table 't' are not allowed (the first is "
            "at line 1, column 23)");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (PRIMARY KEY (a), a INT PRIMARY KEY)"),
            "line 1, column 40: multiple primary keys for table 't' are not allowed (the first is "
            "at line 1, column 17)");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT, PRIMARY KEY (a), PRIMARY KEY (a))"),
            "line 1, column 41: multiple primary keys for table 't' are not allowed (the first is "
            "at line 1, column 24)");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY PRIMARY KEY)"),
            "line 1, column 35: multiple primary keys for table 't' are not allowed (the first is "
            "at line 1, column 23)");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (\n  a INT,\n  b INT\n)"),
            "line 4, column 1: table 't' has no primary key: declare a column PRIMARY KEY or add "
            "PRIMARY KEY (column, ...)");
}

TEST(CreateTableTest, PrimaryKeyListErrors) {
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT, PRIMARY KEY (a, x))"),
            "line 1, column 40: unknown column 'x' in PRIMARY KEY");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (Id INT, PRIMARY KEY (id))"),
            "line 1, column 38: unknown column 'id' in PRIMARY KEY (did you mean 'Id'? column "
            "names are case-sensitive)");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT, PRIMARY KEY (a, a))"),
            "line 1, column 40: column 'a' appears twice in the primary key");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT, PRIMARY KEY ())"),
            "line 1, column 37: expected column name in PRIMARY KEY, found ')'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT, PRIMARY KEY a)"),
            "line 1, column 36: expected '(' after PRIMARY KEY, found 'a'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT, b INT, PRIMARY KEY (a b))"),
            "line 1, column 46: expected ')' or ',' after primary key column, found 'b'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT, PRIMARY KEY (a,))"),
            "line 1, column 39: expected column name in PRIMARY KEY, found ')'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT, PRIMARY KEY (a) b INT)"),
            "line 1, column 40: expected ')' or ',' after PRIMARY KEY constraint, found 'b'");
}

TEST(CreateTableTest, PrimaryKeyColumnsCannotBeDeclaredNull) {
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT NULL PRIMARY KEY)"),
            "line 1, column 23: column 'a' is in the primary key, so it cannot be declared NULL");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT,\n b INT NULL, PRIMARY KEY (a, b))"),
            "line 2, column 8: column 'b' is in the primary key, so it cannot be declared NULL");
}

TEST(CreateTableTest, PartitionBy) {
  CreateTableStatement s =
      Parse("CREATE TABLE t (a INT PRIMARY KEY, region TEXT) PARTITION BY region");
  EXPECT_EQ(s.schema.partition_column, 1);
  s = Parse("CREATE TABLE t (a INT PRIMARY KEY, region TEXT) PARTITION BY (region);");
  EXPECT_EQ(s.schema.partition_column, 1);
  s = Parse(
      "CREATE TABLE t (a INT PRIMARY KEY, \"the Region\" TEXT) partition by (\"the Region\")");
  EXPECT_EQ(s.schema.partition_column, 1);
  s = Parse("CREATE TABLE t (a INT PRIMARY KEY, b TEXT) PARTITION BY a");
  EXPECT_EQ(s.schema.partition_column, 0);  // the key may be the partition column
  EXPECT_TRUE(s.schema.fields[1].nullable);
}

TEST(CreateTableTest, PartitionByErrors) {
  const std::string prefix = "CREATE TABLE t (a INT PRIMARY KEY, b INT) ";  // next at column 43
  EXPECT_EQ(ErrorOf(prefix + "PARTITION BY x"),
            "line 1, column 56: unknown column 'x' in PARTITION BY");
  EXPECT_EQ(ErrorOf(prefix + "PARTITION BY (B)"),
            "line 1, column 57: unknown column 'B' in PARTITION BY (did you mean 'b'? column names "
            "are case-sensitive)");
  EXPECT_EQ(ErrorOf(prefix + "PARTITION BY (a, b)"),
            "line 1, column 58: PARTITION BY takes exactly one column");
  EXPECT_EQ(ErrorOf(prefix + "PARTITION BY a, b"),
            "line 1, column 57: PARTITION BY takes exactly one column");
  EXPECT_EQ(ErrorOf(prefix + "PARTITION a"),
            "line 1, column 53: expected BY after PARTITION, found 'a'");
  EXPECT_EQ(ErrorOf(prefix + "PARTITION BY"),
            "line 1, column 55: expected column name after PARTITION BY, found end of input");
  EXPECT_EQ(ErrorOf(prefix + "PARTITION BY 1"),
            "line 1, column 56: expected column name after PARTITION BY, found '1'");
  EXPECT_EQ(ErrorOf(prefix + "PARTITION BY (a"),
            "line 1, column 58: expected ')' after partition column, found end of input");
  EXPECT_EQ(ErrorOf(prefix + "PARTITION BY ()"),
            "line 1, column 57: expected column name after PARTITION BY, found ')'");
}

TEST(CreateTableTest, CommentsAndLayoutAnywhere) {
  CreateTableStatement s = Parse(
      "/* schema for\n   the orders table */\n"
      "-- leading line comment\n"
      "CREATE/**/TABLE -- the table\n"
      "  orders /* name */ (\r\n"
      "    id /* key */ BIGINT -- the id\n"
      "      PRIMARY /* x */ KEY,\n"
      "\tamount DECIMAL /* p */ ( 12 /* , */ , 2 ) NOT -- really\n NULL,\n"
      "    region TEXT\n"
      "  ) PARTITION /* */ BY -- x\n (region) -- done\n"
      "; -- after the end\n/* trailing */");
  EXPECT_EQ(s.table_name, "orders");
  Schema expected;
  expected.fields = {F("id", DataType::Of(TypeId::kBigInt), false),
                     F("amount", DataType::Decimal(12, 2), false),
                     F("region", DataType::Of(TypeId::kString), true)};
  expected.primary_key = {0};
  expected.partition_column = 2;
  EXPECT_EQ(s.schema, expected);
  // Without blanks at all where the grammar allows it.
  s = Parse("CREATE TABLE\"t\"(\"a\"INT PRIMARY KEY,b DECIMAL(3,1))PARTITION BY(b);");
  EXPECT_EQ(s.table_name, "t");
  EXPECT_EQ(s.schema.fields[1].type, DataType::Decimal(3, 1));
  EXPECT_EQ(s.schema.partition_column, 1);
}

TEST(CreateTableTest, NamesKeepTheirSpelling) {
  CreateTableStatement s = Parse(
      "CREATE TABLE \"My Table\" (\n"
      "  UserId BIGINT,\n"
      "  userid TEXT,\n"
      "  \"select\" INT,\n"
      "  \"a \"\"quoted\"\" name\" INT,\n"
      "  \"日本 語\" INT,\n"
      "  naïve INT,\n"
      "  \"--not a comment\" INT,\n"
      "  PRIMARY KEY (UserId, \"a \"\"quoted\"\" name\")\n"
      ") PARTITION BY \"日本 語\"");
  EXPECT_EQ(s.table_name, "My Table");
  std::vector<std::string> names;
  for (const Field& field : s.schema.fields) names.push_back(field.name);
  EXPECT_EQ(names, (std::vector<std::string>{"UserId", "userid", "select", "a \"quoted\" name",
                                             "日本 語", "naïve", "--not a comment"}));
  EXPECT_EQ(s.schema.primary_key, (std::vector<int>{0, 3}));
  EXPECT_EQ(s.schema.partition_column, 4);
}

TEST(CreateTableTest, KeywordsAreNamesWhereANameIsExpected) {
  CreateTableStatement s = Parse(
      "CREATE TABLE create (select INT, from TEXT, primary INT, key INT, not INT, null INT, "
      "partition INT, table INT, constraint INT, unique INT, check INT, foreign INT, "
      "default INT, if INT, by INT, time INT, PRIMARY KEY (select, primary)) "
      "PARTITION BY partition");
  EXPECT_EQ(s.table_name, "create");
  std::vector<std::string> names;
  for (const Field& field : s.schema.fields) names.push_back(field.name);
  EXPECT_EQ(names, (std::vector<std::string>{"select", "from", "primary", "key", "not", "null",
                                             "partition", "table", "constraint", "unique",
                                             "check", "foreign", "default", "if", "by", "time"}));
  EXPECT_EQ(s.schema.primary_key, (std::vector<int>{0, 2}));
  EXPECT_EQ(s.schema.partition_column, 6);
  // A column named "constraint" may itself be the key.
  s = Parse("CREATE TABLE t (constraint INT PRIMARY KEY)");
  EXPECT_EQ(s.schema.fields[0].name, "constraint");
}

TEST(CreateTableTest, UnsupportedColumnConstraints) {
  const std::string prefix = "CREATE TABLE t (k INT PRIMARY KEY, c INT ";  // constraint at col 42
  EXPECT_EQ(ErrorOf(prefix + "DEFAULT 0)"), "line 1, column 42: DEFAULT values are not supported");
  EXPECT_EQ(ErrorOf(prefix + "NOT NULL DEFAULT 0)"),
            "line 1, column 51: DEFAULT values are not supported");
  EXPECT_EQ(ErrorOf(prefix + "UNIQUE)"), "line 1, column 42: UNIQUE constraints are not supported");
  EXPECT_EQ(ErrorOf(prefix + "CHECK (c > 0))"),
            "line 1, column 42: CHECK constraints are not supported");
  EXPECT_EQ(ErrorOf(prefix + "REFERENCES u(id))"),
            "line 1, column 42: REFERENCES (foreign key) constraints are not supported");
  EXPECT_EQ(ErrorOf(prefix + "COLLATE \"C\")"), "line 1, column 42: COLLATE is not supported");
  EXPECT_EQ(ErrorOf(prefix + "GENERATED ALWAYS AS (k + 1) STORED)"),
            "line 1, column 42: generated columns are not supported");
  EXPECT_EQ(ErrorOf(prefix + "CONSTRAINT nn NOT NULL)"),
            "line 1, column 42: named constraints (CONSTRAINT name ...) are not supported");
}

TEST(CreateTableTest, UnsupportedTableConstraints) {
  const std::string prefix = "CREATE TABLE t (k INT PRIMARY KEY, ";  // element at column 36
  EXPECT_EQ(ErrorOf(prefix + "UNIQUE (k))"),
            "line 1, column 36: UNIQUE constraints are not supported");
  EXPECT_EQ(ErrorOf(prefix + "CHECK (k > 0))"),
            "line 1, column 36: CHECK constraints are not supported");
  EXPECT_EQ(ErrorOf(prefix + "FOREIGN KEY (k) REFERENCES u (id))"),
            "line 1, column 36: FOREIGN KEY constraints are not supported");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (k INT, CONSTRAINT t_pkey PRIMARY KEY (k))"),
            "line 1, column 24: named constraints (CONSTRAINT name ...) are not supported");
  EXPECT_EQ(ErrorOf(prefix + "CONSTRAINT u UNIQUE (k))"),
            "line 1, column 36: named constraints (CONSTRAINT name ...) are not supported");
}

TEST(CreateTableTest, StatementSyntaxErrors) {
  EXPECT_EQ(ErrorOf(""), "line 1, column 1: expected CREATE, found end of input");
  EXPECT_EQ(ErrorOf("  -- nothing\n"), "line 2, column 1: expected CREATE, found end of input");
  EXPECT_EQ(ErrorOf("SELECT 1"), "line 1, column 1: expected CREATE, found 'SELECT'");
  EXPECT_EQ(ErrorOf("CREATE VIEW v"),
            "line 1, column 8: expected TABLE after CREATE, found 'VIEW'");
  EXPECT_EQ(ErrorOf("CREATE TEMP TABLE t (a INT)"),
            "line 1, column 8: expected TABLE after CREATE, found 'TEMP'");
  EXPECT_EQ(ErrorOf("CREATE TABLE (a INT)"),
            "line 1, column 14: expected table name after CREATE TABLE, found '('");
  EXPECT_EQ(ErrorOf("CREATE TABLE 'x' (a INT)"),
            "line 1, column 14: expected table name after CREATE TABLE, found string literal 'x'");
  EXPECT_EQ(ErrorOf("CREATE TABLE"),
            "line 1, column 13: expected table name after CREATE TABLE, found end of input");
  EXPECT_EQ(ErrorOf("CREATE TABLE IF EXISTS t (a INT)"),
            "line 1, column 17: expected NOT after IF, found 'EXISTS'");
  EXPECT_EQ(ErrorOf("CREATE TABLE IF NOT t (a INT)"),
            "line 1, column 21: expected EXISTS after IF NOT, found 't'");
  EXPECT_EQ(ErrorOf("CREATE TABLE IF NOT EXISTS (a INT)"),
            "line 1, column 28: expected table name after CREATE TABLE, found '('");
  EXPECT_EQ(ErrorOf("CREATE TABLE public.t (a INT)"),
            "line 1, column 20: schema-qualified table names are not supported");
  EXPECT_EQ(ErrorOf("CREATE TABLE t AS SELECT 1"),
            "line 1, column 16: expected '(' after table name, found 'AS'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t"),
            "line 1, column 15: expected '(' after table name, found end of input");
  EXPECT_EQ(ErrorOf("CREATE TABLE t ()"),
            "line 1, column 17: expected column definition or PRIMARY KEY, found ')'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT,)"),
            "line 1, column 23: expected column definition or PRIMARY KEY, found ')'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY,"),
            "line 1, column 35: expected column definition or PRIMARY KEY, found end of input");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (1 INT)"),
            "line 1, column 17: expected column definition or PRIMARY KEY, found '1'");
}

TEST(CreateTableTest, TrailingContent) {
  EXPECT_EQ(ErrorOf("CREATE TABLE t (\n"
                    "  a INT PRIMARY KEY\n"
                    ")\n"
                    ";\n"
                    "SELECT * FROM t"),
            "line 5, column 1: expected end of input after CREATE TABLE statement, found 'SELECT'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY) WITH (fillfactor=70)"),
            "line 1, column 36: expected PARTITION BY, ';' or end of input after CREATE TABLE "
            "statement, found 'WITH'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY) PARTITION BY a x"),
            "line 1, column 51: expected ';' or end of input after CREATE TABLE statement, found "
            "'x'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY);;"),
            "line 1, column 36: expected end of input after CREATE TABLE statement, found ';'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY); CREATE TABLE u (b INT PRIMARY KEY);"),
            "line 1, column 37: expected end of input after CREATE TABLE statement, found "
            "'CREATE'");
  // A misplaced key is reported where it is, not as a missing key.
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) PRIMARY KEY (a)"),
            "line 1, column 24: expected PARTITION BY, ';' or end of input after CREATE TABLE "
            "statement, found 'PRIMARY'");
  EXPECT_EQ(Parse("CREATE TABLE t (a INT PRIMARY KEY) ; -- bye\n").table_name, "t");
}

TEST(CreateTableTest, LexicalErrorsPassThrough) {
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY,\n    b 'x"),
            "unterminated string literal starting at line 2, column 7");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY) /* open"),
            "unterminated block comment starting at line 1, column 36");
  EXPECT_EQ(ErrorOf("CREATE TABLE \"\" (a INT PRIMARY KEY)"),
            "line 1, column 14: zero-length quoted identifier");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY, b# INT)"),
            "line 1, column 37: unexpected character '#'");
}

TEST(CreateTableTest, ColumnNamesAreValidatedWhereDefined) {
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY,\n  b INT,\n  a TEXT)"),
            "line 3, column 3: duplicate column name 'a' (first defined at line 1, column 17)");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY, \"b\" INT, b INT)"),
            "line 1, column 45: duplicate column name 'b' (first defined at line 1, column 36)");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY, \"x\ny\" INT)"),
            "line 1, column 36: column name 'x\\ny' has a control character");
  const std::string long_name(129, 'n');
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY, " + long_name + " INT)"),
            "line 1, column 36: column name '" + std::string(32, 'n') +
                "...' is longer than 128 bytes");
  EXPECT_EQ(Parse("CREATE TABLE t (a INT PRIMARY KEY, " + std::string(128, 'n') + " INT)")
                .schema.fields[1]
                .name,
            std::string(128, 'n'));
  // Names differing only in case are distinct.
  EXPECT_EQ(Parse("CREATE TABLE t (a INT PRIMARY KEY, A INT)").schema.fields.size(), 2u);
}

TEST(CreateTableTest, ToSqlOfATrickySchemaParsesBack) {
  Schema schema;
  schema.fields = {F("select", DataType::Of(TypeId::kBigInt), false),
                   F("Mixed Case", DataType::Decimal(38, 10), true),
                   F("say \"hi\"", DataType::Of(TypeId::kString), false),
                   F("it's -- /* */ ;", DataType::Of(TypeId::kTimestamp), true),
                   F("primary", DataType::Of(TypeId::kBoolean), true),
                   F("日本", DataType::Of(TypeId::kDate), true)};
  schema.primary_key = {2, 0};
  schema.partition_column = 5;
  ASSERT_TRUE(schema.Validate().ok());
  std::string sql = schema.ToSql("if");
  CreateTableStatement s = Parse(sql);
  EXPECT_EQ(s.table_name, "if");
  EXPECT_EQ(s.schema, schema) << sql;
}

// Every prefix and many single-byte corruptions of a valid statement either
// parse or fail with kInvalidArgument giving a position; none crashes.
TEST(CreateTableTest, DamagedStatementsFailCleanly) {
  const std::string sql =
      "CREATE TABLE IF NOT EXISTS \"t 1\" ( -- c\n"
      "  id BIGINT NOT NULL PRIMARY KEY,\n"
      "  \"na\"\"me\" VARCHAR(10) NULL, /* x */ amount DECIMAL(12, 2),\n"
      "  ts TIMESTAMP WITH TIME ZONE\n"
      ") PARTITION BY (ts);";
  ASSERT_EQ(ErrorOf(sql), "OK");
  auto check = [](const std::string& damaged) {
    absl::StatusOr<CreateTableStatement> result = ParseCreateTable(damaged);
    if (result.ok()) return;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << damaged;
    std::string message(result.status().message());
    EXPECT_TRUE(message.starts_with("line ") || message.starts_with("unterminated "))
        << message << "\nin: " << damaged;
  };
  for (size_t n = 0; n < sql.size(); ++n) check(sql.substr(0, n));
  const std::string replacements = "\"'()-/*,;. x9\n\xff\xc3";
  for (size_t i = 0; i < sql.size(); ++i) {
    for (char c : replacements) {
      std::string damaged = sql;
      damaged[i] = c;
      check(damaged);
    }
  }
}

// Random names of 1..12 characters drawn from lowercase letters (often a
// plain, unquoted name), keywords and troublesome characters.
std::string RandomName(std::mt19937& rng) {
  static const std::vector<std::string> kKeywords = {
      "select", "create", "table", "primary", "key", "not", "null", "partition", "by",
      "if", "constraint", "default", "unique", "time", "with", "_"};
  static const std::vector<std::string> kPieces = {
      "a", "b", "z", "_", "0", "9", "A", "Q", " ", "\"", "\"\"", "'", "-", "--", "/*", "*/", ";",
      "(", ")", ",", ".", "$", "é", "日", "\xF0\x9F\x98\x80"};
  std::uniform_int_distribution<int> coin(0, 3);
  if (coin(rng) == 0) return kKeywords[rng() % kKeywords.size()];
  std::string name;
  int length = 1 + static_cast<int>(rng() % 12);
  bool plain = coin(rng) == 0;
  for (int i = 0; i < length; ++i) {
    name += plain ? std::string(1, static_cast<char>('a' + rng() % 26))
                  : kPieces[rng() % kPieces.size()];
  }
  return name;
}

DataType RandomType(std::mt19937& rng) {
  auto id = static_cast<TypeId>(1 + rng() % 12);
  if (id != TypeId::kDecimal) return DataType::Of(id);
  int precision = 1 + static_cast<int>(rng() % kMaxDecimalPrecision);
  return DataType::Decimal(precision, static_cast<int>(rng() % (precision + 1)));
}

TEST(CreateTableTest, ToSqlOfRandomSchemasParsesBack) {
  std::mt19937 rng(20240611);
  for (int iteration = 0; iteration < 2000; ++iteration) {
    Schema schema;
    int columns = 1 + static_cast<int>(rng() % 8);
    while (static_cast<int>(schema.fields.size()) < columns) {
      std::string name = RandomName(rng);
      if (schema.FindField(name) >= 0) continue;
      schema.fields.push_back(F(name, RandomType(rng), rng() % 2 == 0));
    }
    std::vector<int> order(columns);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    schema.primary_key.assign(order.begin(), order.begin() + 1 + rng() % std::min(columns, 3));
    for (int k : schema.primary_key) schema.fields[k].nullable = false;
    if (rng() % 2 == 0) schema.partition_column = static_cast<int>(rng() % columns);
    ASSERT_TRUE(schema.Validate().ok()) << schema.Validate();
    std::string table = RandomName(rng);
    std::string sql = schema.ToSql(table);
    SCOPED_TRACE(sql);
    absl::StatusOr<CreateTableStatement> parsed = ParseCreateTable(sql);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->table_name, table);
    EXPECT_FALSE(parsed->if_not_exists);
    ASSERT_EQ(parsed->schema, schema);
  }
}

}  // namespace
}  // namespace retl

namespace retl {
namespace {

TEST(CreateTableTest, Indexes) {
  CreateTableStatement s = Parse(
      "CREATE TABLE t (id INT PRIMARY KEY, email TEXT, INDEX (email), a INT, b INT,\n"
      "  index by_ab (a, b), \"index\" INT, Index VARCHAR(10))");
  ASSERT_EQ(s.schema.indexes.size(), 2u);
  EXPECT_EQ(s.schema.indexes[0], (IndexDef{"email", {1}}));
  EXPECT_EQ(s.schema.indexes[1], (IndexDef{"by_ab", {2, 3}}));
  // Columns named "index": a quoted one, and one whose type has arguments.
  EXPECT_EQ(s.schema.fields[4].name, "index");
  EXPECT_EQ(s.schema.fields[5].name, "Index");
  EXPECT_EQ(Parse("CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, INDEX (a, b))")
                .schema.indexes[0].name,
            "a_b");
  // ToSql writes them back.
  EXPECT_EQ(Parse(s.schema.ToSql("t")).schema, s.schema);
}

TEST(CreateTableTest, IndexErrors) {
  EXPECT_EQ(ErrorOf("CREATE TABLE t (id INT PRIMARY KEY, INDEX (nope))"),
            "line 1, column 44: unknown column 'nope' in INDEX");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (id INT PRIMARY KEY, a INT, INDEX (a, a))"),
            "line 1, column 54: column 'a' appears twice in the index");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (id INT PRIMARY KEY, a INT, INDEX x (a), INDEX x (id))"),
            "line 1, column 57: duplicate index name 'x'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (id INT PRIMARY KEY, a INT, INDEX ())"),
            "line 1, column 51: expected column name in INDEX, found ')'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (id INT PRIMARY KEY, a INT, INDEX (a b))"),
            "line 1, column 53: expected ')' or ',' after index column, found 'b'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (id INT PRIMARY KEY, a INT, INDEX \"1x\" (a))").substr(0, 40),
            "line 1, column 44: invalid index name '1");
}

}  // namespace
}  // namespace retl
