// The syntax tree of SQL statements, as the parser (query/parser.h) builds it
// and the binder (query/planner.cc) reads it. Nodes carry the position of
// their first token so errors can name line and column.
#ifndef RETL_QUERY_AST_H_
#define RETL_QUERY_AST_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "query/create_table.h"
#include "query/vector.h"
#include "retl/status.h"

namespace retl {

struct SourcePos {
  int line = 1;
  int column = 1;
  std::string Location() const;  // "line L, column C"
};

// kInvalidArgument "line L, column C: <message>".
absl::Status ErrorAtPos(SourcePos pos, std::string_view message);

struct AstExpr;
using AstPtr = std::unique_ptr<AstExpr>;

enum class AstKind : uint8_t {
  kLiteral,    // value (a string literal has type STRING and `unknown_literal`)
  kColumn,     // name, optional qualifier
  kStar,       // * in SELECT or count(*)
  kParameter,  // index (0-based)
  kUnary,      // op: "-", "+", "not"
  kBinary,     // op: + - * / % || = <> < <= > >= and or
  kFunction,   // name(args) [distinct]; aggregates too
  kCase,       // children: [operand?] then (when, then)* [else]; see flags
  kCast,       // children[0]; cast_type
  kIn,         // children[0] IN (children[1..]); negated
  kBetween,    // children: x, low, high; negated; distinct = SYMMETRIC
  kLike,       // children: x, pattern; op "like"/"ilike"; negated
  kIsNull,     // children[0]; negated = IS NOT NULL
  kIsDistinct, // children: a, b; negated = IS NOT DISTINCT FROM
  kExtract,    // name = field; children[0]
  kInterval,   // value (INTERVAL literal)
};

struct AstExpr {
  AstKind kind;
  SourcePos pos;
  std::string op;
  std::string name;       // column, function, extract field
  std::string qualifier;  // table alias for a column
  Value value;            // literal
  bool unknown_literal = false;  // a quoted string literal: typed by context
  int index = 0;          // parameter
  bool distinct = false;  // aggregate DISTINCT
  bool negated = false;
  bool case_has_operand = false;
  bool case_has_else = false;
  SqlType cast_type;
  std::vector<AstPtr> children;

  AstExpr(AstKind k, SourcePos p) : kind(k), pos(p) {}
  // SQL text of the expression (used for column names and error messages).
  std::string ToSql() const;
  AstPtr Clone() const;
};

struct SelectItem {
  AstPtr expr;
  std::string alias;  // empty if none
};

struct OrderItem {
  AstPtr expr;
  bool descending = false;
  std::optional<bool> nulls_first;
};

struct TableRef {
  std::string name;
  std::string alias;
  SourcePos pos;
  std::optional<int64_t> as_of_version;
  AstPtr as_of_timestamp;  // an expression giving a TIMESTAMP (or text)
};

struct SelectStatement {
  bool distinct = false;
  std::vector<SelectItem> items;
  std::optional<TableRef> from;
  AstPtr where;
  std::vector<AstPtr> group_by;
  bool group_by_all = false;
  bool has_group_by = false;
  AstPtr having;
  std::vector<OrderItem> order_by;
  AstPtr limit;
  AstPtr offset;
};

enum class StatementKind : uint8_t {
  kSelect,
  kExplain,
  kShowTables,
  kDescribe,
  kShowVersions,
  kCreateTable,
  kSet,          // SET name = value, RESET name
  kShowSetting,  // SHOW name
};

struct Statement {
  StatementKind kind = StatementKind::kSelect;
  SourcePos pos;
  std::unique_ptr<SelectStatement> select;  // kSelect, kExplain
  bool analyze = false;                     // EXPLAIN ANALYZE
  std::string table;                        // kDescribe
  SourcePos table_pos;
  std::optional<CreateTableStatement> create_table;
  std::string set_name;  // kSet, kShowSetting (lower case)
  Value set_value;       // kSet: the value as text; NULL for DEFAULT / RESET
  int parameter_count = 0;  // highest parameter number used
};

}  // namespace retl

#endif  // RETL_QUERY_AST_H_
