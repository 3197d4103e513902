// Bound, typed expressions evaluated a batch at a time, and the rules that
// type them (docs/sql.md "Types and casts"): implicit casts only where
// PostgreSQL allows them, an error naming line and column otherwise.
//
// Evaluation never calls a virtual function per value: each node runs one
// kernel loop over the batch. A node may return a pointer to an input column
// instead of copying it.
//
// Thread-safety: an Expr keeps scratch vectors, so one evaluation at a time.
#ifndef RETL_QUERY_EXPR_H_
#define RETL_QUERY_EXPR_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "query/ast.h"
#include "query/vector.h"
#include "retl/status.h"

namespace retl {

class Expr {
 public:
  explicit Expr(SqlType t) : type_(t) {}
  virtual ~Expr() = default;
  const SqlType& type() const { return type_; }
  // Evaluates over the `in.size` rows of `in`; *result points either to a
  // column of `in` or to a vector this node owns (valid until the next call).
  virtual absl::Status Eval(const Batch& in, const Vector** result) = 0;
  // Canonical text (for EXPLAIN and for matching GROUP BY expressions).
  virtual std::string ToString() const = 0;
  // The input column this node reads directly, or -1.
  virtual int column_index() const { return -1; }
  // The value of a constant node, or nullptr.
  virtual const Value* constant() const { return nullptr; }
  // A string literal whose type is still open (PostgreSQL's "unknown").
  virtual bool unknown_literal() const { return false; }
  virtual void Children(std::vector<Expr*>* out) { (void)out; }

 protected:
  SqlType type_;
};
using ExprPtr = std::unique_ptr<Expr>;

ExprPtr MakeColumnRef(int index, SqlType type, std::string name);
ExprPtr MakeConstant(Value v, bool unknown_literal = false);

// Casts: explicit (CAST, ::) or implicit (inserted by the binder).
// kInvalidArgument "cannot cast X to Y" for pairs with no conversion.
absl::StatusOr<ExprPtr> MakeCast(ExprPtr x, SqlType target, SourcePos pos);
// The type both sides convert to for comparisons, IN, CASE, COALESCE...;
// error "operator does not exist" (with `what`) if none.
absl::StatusOr<SqlType> CommonType(const SqlType& a, const SqlType& b, SourcePos pos,
                                   std::string_view what);
// Casts x to t unless it has that type already.
absl::StatusOr<ExprPtr> CoerceTo(ExprPtr x, SqlType t, SourcePos pos);

// Operators: + - * / % || = <> < <= > >= and or, unary - and not.
absl::StatusOr<ExprPtr> MakeBinary(const std::string& op, ExprPtr a, ExprPtr b, SourcePos pos);
absl::StatusOr<ExprPtr> MakeUnary(const std::string& op, ExprPtr x, SourcePos pos);
absl::StatusOr<ExprPtr> MakeIsNull(ExprPtr x, bool negated);
absl::StatusOr<ExprPtr> MakeIsDistinct(ExprPtr a, ExprPtr b, bool negated, SourcePos pos);
// Every item of `list` must be a constant (the binder rewrites other lists
// into ORed comparisons).
absl::StatusOr<ExprPtr> MakeIn(ExprPtr x, std::vector<ExprPtr> list, bool negated, SourcePos pos);
absl::StatusOr<ExprPtr> MakeLike(ExprPtr x, ExprPtr pattern, ExprPtr escape, bool ilike,
                                 bool negated, SourcePos pos);
// CASE WHEN c THEN v ... [ELSE e] END (operand forms are rewritten by the
// binder into conditions).
absl::StatusOr<ExprPtr> MakeCase(std::vector<ExprPtr> conditions, std::vector<ExprPtr> values,
                                 ExprPtr otherwise, SourcePos pos);
// Scalar functions by name (lower case); "function "x" does not exist".
absl::StatusOr<ExprPtr> MakeFunction(const std::string& name, std::vector<ExprPtr> args,
                                     SourcePos pos);
absl::StatusOr<ExprPtr> MakeExtract(const std::string& field, ExprPtr x, SourcePos pos);

// Evaluates a constant-only expression to its value.
absl::StatusOr<Value> EvaluateConstant(Expr* e);

// Parses INTERVAL text: "3 days", "1 year 2 months", "2 hours 30 minutes",
// "-1 day", "10:00:00", "1 day 02:00".
absl::StatusOr<Interval> ParseInterval(std::string_view text);

// Introspection for the planner.
// `e` is `column op constant` (op one of = < <= > >=, sides in either order:
// `op` is given as if the column were on the left).
bool MatchColumnComparison(Expr* e, int* column, std::string* op, Value* constant);
// `e` is `column IN (constants)` (not negated; NULL items dropped).
bool MatchColumnIn(Expr* e, int* column, std::vector<Value>* values);
// `column LIKE 'prefix%'` (or a pattern without wildcards; not ILIKE or NOT
// LIKE): every value it accepts starts with *prefix.
bool MatchColumnLikePrefix(Expr* e, int* column, std::string* prefix);
// `e` is `column IS NULL`.
bool MatchColumnIsNull(Expr* e, int* column);
// The operands of `e`'s top-level ANDs (e itself if it is not an AND).
void CollectConjuncts(Expr* e, std::vector<Expr*>* out);
// Every input column `e` reads.
void CollectColumns(Expr* e, std::vector<int>* out);

// The values an integer kind (or BOOLEAN) holds.
void IntegerRange(SqlKind k, int64_t* lo, int64_t* hi);

// Calendar helpers shared with the planner.
int64_t AddMonthsToMicros(int64_t micros, int32_t months, bool* overflow);

// Lower/upper case for ASCII and Latin-1 letters (UTF-8).
std::string FoldCase(std::string_view s, bool upper);

// SQL LIKE: '%' any sequence, '_' one character, `escape` makes the next
// character literal (0 = none).
bool LikeMatch(std::string_view s, std::string_view pattern, char32_t escape);

}  // namespace retl

#endif  // RETL_QUERY_EXPR_H_
