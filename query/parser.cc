#include "query/parser.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "format/strings.h"
#include "format/text.h"
#include "query/lexer.h"

namespace retl {

std::string SourcePos::Location() const { return StrCat("line ", line, ", column ", column); }

absl::Status ErrorAtPos(SourcePos pos, std::string_view message) {
  return absl::InvalidArgumentError(StrCat(pos.Location(), ": ", message));
}

namespace {

SourcePos PosOf(const Token& t) { return SourcePos{t.line, t.column}; }

// Words that end an expression or a select item, so never an implicit alias.
constexpr std::string_view kReserved[] = {
    "from",  "where", "group",  "having", "order",  "limit",  "offset", "union", "as",
    "and",   "or",    "not",    "on",     "join",   "select", "asc",    "desc",  "nulls",
    "when",  "then",  "else",   "end",    "is",     "in",     "between", "like", "ilike",
    "window", "qualify", "intersect", "except", "fetch", "for", "into",
};

bool IsReserved(const Token& t) {
  if (t.kind != TokenKind::kIdentifier) return false;
  for (std::string_view w : kReserved) {
    if (t.IsKeyword(w)) return true;
  }
  return false;
}

// Expressions deeper than this (nesting plus the length of left-deep chains
// such as a + b + c) are refused: binding and evaluation recurse once per
// level, and the stack must not overflow, sanitizers included.
constexpr int kMaxDepth = 500;
constexpr int kNestingWeight = 5;  // so at most 100 nested parentheses
constexpr char kTooDeep[] = "expression nested too deeply (simplify it, or use IN (...) for long OR lists)";

class Parser {
 public:
  Parser(std::string_view sql, std::vector<Token> tokens) : sql_(sql), c_(std::move(tokens)) {}

  absl::StatusOr<std::vector<Statement>> ParseAll() {
    std::vector<Statement> out;
    while (true) {
      while (c_.ConsumeOperator(";")) {
      }
      if (c_.AtEnd()) break;
      RETL_ASSIGN_OR_RETURN(Statement s, ParseOne());
      s.parameter_count = max_param_;
      max_param_ = 0;
      next_param_ = 0;
      out.push_back(std::move(s));
      if (!c_.AtEnd() && !c_.Peek().IsOperator(";")) {
        return c_.Expected("';' or end of input after the statement");
      }
    }
    return out;
  }

 private:
  absl::StatusOr<Statement> ParseOne() {
    Statement st;
    const Token& first = c_.Peek();
    st.pos = PosOf(first);
    if (first.IsKeyword("select")) {
      st.kind = StatementKind::kSelect;
      RETL_ASSIGN_OR_RETURN(st.select, ParseSelect());
      return st;
    }
    if (c_.ConsumeKeyword("explain")) {
      st.kind = StatementKind::kExplain;
      st.analyze = c_.ConsumeKeyword("analyze");
      if (!c_.Peek().IsKeyword("select")) return c_.Expected("SELECT after EXPLAIN");
      RETL_ASSIGN_OR_RETURN(st.select, ParseSelect());
      return st;
    }
    if (c_.ConsumeKeyword("show")) {
      if (c_.ConsumeKeyword("tables")) {
        st.kind = StatementKind::kShowTables;
        return st;
      }
      if (c_.ConsumeKeyword("versions")) {
        st.kind = StatementKind::kShowVersions;
        return st;
      }
      if (c_.Peek().IsIdentifier()) {
        st.kind = StatementKind::kShowSetting;
        st.set_name = absl::AsciiStrToLower(c_.Next().text);
        return st;
      }
      return c_.Expected("TABLES, VERSIONS or a setting name after SHOW");
    }
    if (c_.ConsumeKeyword("set")) {
      // SET name = value | SET name TO value | SET name = DEFAULT
      st.kind = StatementKind::kSet;
      if (!c_.Peek().IsIdentifier()) return c_.Expected("a setting name after SET");
      st.set_name = absl::AsciiStrToLower(c_.Next().text);
      if (!c_.ConsumeOperator("=") && !c_.ConsumeKeyword("to")) return c_.Expected("'=' or TO after the setting name");
      const Token& v = c_.Peek();
      if (v.IsKeyword("default")) {
        st.set_value = Value::Null();
      } else if (v.kind == TokenKind::kString || v.kind == TokenKind::kInteger || v.kind == TokenKind::kDecimal ||
                 v.kind == TokenKind::kIdentifier || v.kind == TokenKind::kQuotedIdentifier) {
        st.set_value = Value::String(v.text);
        if ((v.kind == TokenKind::kInteger || v.kind == TokenKind::kDecimal) && c_.Peek(1).IsIdentifier() &&
            !c_.Peek(1).IsKeyword("to")) {
          c_.Next();  // SET memory_limit = 512MB: the number and its unit
          st.set_value.s += c_.Peek().text;
        }
      } else {
        return c_.Expected("a value ('512MB', 4, DEFAULT) for the setting");
      }
      c_.Next();
      return st;
    }
    if (c_.ConsumeKeyword("reset")) {
      st.kind = StatementKind::kSet;
      if (!c_.Peek().IsIdentifier()) return c_.Expected("a setting name after RESET");
      st.set_name = absl::AsciiStrToLower(c_.Next().text);
      st.set_value = Value::Null();
      return st;
    }
    if (c_.ConsumeKeyword("describe") || c_.ConsumeKeyword("desc")) {
      st.kind = StatementKind::kDescribe;
      c_.ConsumeKeyword("table");
      if (!c_.Peek().IsIdentifier()) return c_.Expected("a table name after DESCRIBE");
      st.table_pos = PosOf(c_.Peek());
      st.table = c_.Next().text;
      return st;
    }
    if (first.IsKeyword("create")) {
      // One parser for schemas: hand the statement's text to CREATE TABLE's,
      // padded so its line and column numbers stay those of the whole input.
      size_t begin = first.offset, end = sql_.size();
      while (!c_.AtEnd() && !c_.Peek().IsOperator(";")) c_.Next();
      if (!c_.AtEnd()) end = c_.Peek().offset;
      std::string text;
      for (size_t i = 0; i < begin; ++i) {
        unsigned char ch = static_cast<unsigned char>(sql_[i]);
        if (ch == '\n') text += '\n';
        else if ((ch & 0xC0) != 0x80) text += ' ';
      }
      text.append(sql_.substr(begin, end - begin));
      RETL_ASSIGN_OR_RETURN(CreateTableStatement ct, ParseCreateTable(text));
      st.kind = StatementKind::kCreateTable;
      st.create_table = std::move(ct);
      return st;
    }
    return c_.Expected("a statement (SELECT, EXPLAIN, SHOW TABLES, SHOW VERSIONS, DESCRIBE, SET, RESET, SHOW name)");
  }

  absl::StatusOr<std::unique_ptr<SelectStatement>> ParseSelect() {
    RETL_RETURN_IF_ERROR(c_.ExpectKeyword("select", ""));
    auto s = std::make_unique<SelectStatement>();
    if (c_.ConsumeKeyword("distinct")) s->distinct = true;
    else c_.ConsumeKeyword("all");
    while (true) {
      SelectItem item;
      RETL_ASSIGN_OR_RETURN(item.expr, ParseExpr());
      if (c_.ConsumeKeyword("as")) {
        if (!c_.Peek().IsIdentifier()) return c_.Expected("a column alias after AS");
        item.alias = c_.Next().text;
      } else if (c_.Peek().IsIdentifier() && !IsReserved(c_.Peek())) {
        item.alias = c_.Next().text;
      }
      s->items.push_back(std::move(item));
      if (!c_.ConsumeOperator(",")) break;
    }
    if (c_.ConsumeKeyword("from")) {
      TableRef t;
      if (!c_.Peek().IsIdentifier()) return c_.Expected("a table name after FROM");
      t.pos = PosOf(c_.Peek());
      t.name = c_.Next().text;
      if (c_.Peek().IsOperator(".")) {
        return ErrorAt(c_.Peek(), "schema-qualified table names are not supported");
      }
      if (c_.Peek().IsKeyword("as") && c_.Peek(1).IsKeyword("of")) {
        c_.Next();
        c_.Next();
        if (c_.ConsumeKeyword("version")) {
          const Token& v = c_.Peek();
          if (v.kind != TokenKind::kInteger) return c_.Expected("a version number after AS OF VERSION");
          int64_t n = 0;
          if (!absl::SimpleAtoi(ToAbsl(v.text), &n)) return ErrorAt(v, "version number out of range");
          c_.Next();
          t.as_of_version = n;
        } else if (c_.ConsumeKeyword("timestamp")) {
          RETL_ASSIGN_OR_RETURN(t.as_of_timestamp, ParsePrimary());
        } else {
          return c_.Expected("VERSION or TIMESTAMP after AS OF");
        }
      }
      if (c_.ConsumeKeyword("as")) {
        if (!c_.Peek().IsIdentifier()) return c_.Expected("a table alias after AS");
        t.alias = c_.Next().text;
      } else if (c_.Peek().IsIdentifier() && !IsReserved(c_.Peek())) {
        t.alias = c_.Next().text;
      }
      if (c_.Peek().IsOperator(",") || c_.Peek().IsKeyword("join")) {
        return ErrorAt(c_.Peek(), "queries over more than one table (joins) are not supported");
      }
      s->from = std::move(t);
    }
    if (c_.ConsumeKeyword("where")) {
      RETL_ASSIGN_OR_RETURN(s->where, ParseExpr());
    }
    if (c_.Peek().IsKeyword("group")) {
      c_.Next();
      RETL_RETURN_IF_ERROR(c_.ExpectKeyword("by", "after GROUP"));
      s->has_group_by = true;
      if (c_.ConsumeKeyword("all")) {
        s->group_by_all = true;
      } else {
        while (true) {
          RETL_ASSIGN_OR_RETURN(AstPtr e, ParseExpr());
          s->group_by.push_back(std::move(e));
          if (!c_.ConsumeOperator(",")) break;
        }
      }
    }
    if (c_.ConsumeKeyword("having")) {
      RETL_ASSIGN_OR_RETURN(s->having, ParseExpr());
    }
    if (c_.Peek().IsKeyword("order")) {
      c_.Next();
      RETL_RETURN_IF_ERROR(c_.ExpectKeyword("by", "after ORDER"));
      while (true) {
        OrderItem item;
        RETL_ASSIGN_OR_RETURN(item.expr, ParseExpr());
        if (c_.ConsumeKeyword("desc")) item.descending = true;
        else c_.ConsumeKeyword("asc");
        if (c_.ConsumeKeyword("nulls")) {
          if (c_.ConsumeKeyword("first")) item.nulls_first = true;
          else if (c_.ConsumeKeyword("last")) item.nulls_first = false;
          else return c_.Expected("FIRST or LAST after NULLS");
        }
        s->order_by.push_back(std::move(item));
        if (!c_.ConsumeOperator(",")) break;
      }
    }
    for (int i = 0; i < 2; ++i) {
      if (!s->limit && c_.ConsumeKeyword("limit")) {
        if (c_.ConsumeKeyword("all")) continue;
        RETL_ASSIGN_OR_RETURN(s->limit, ParseExpr());
      } else if (!s->offset && c_.ConsumeKeyword("offset")) {
        RETL_ASSIGN_OR_RETURN(s->offset, ParseExpr());
        if (!c_.ConsumeKeyword("rows")) c_.ConsumeKeyword("row");
      }
    }
    return s;
  }

  // expr := or
  absl::StatusOr<AstPtr> ParseExpr() {
    // A nested expression costs a dozen parser frames (one per precedence
    // level), a chain element one: weigh them so both fit the stack.
    depth_ += kNestingWeight;
    if (depth_ > kMaxDepth) return ErrorAt(c_.Peek(), kTooDeep);
    auto r = ParseOr();
    depth_ -= kNestingWeight;
    return r;
  }

  AstPtr Binary(std::string op, SourcePos pos, AstPtr a, AstPtr b) {
    auto e = std::make_unique<AstExpr>(AstKind::kBinary, pos);
    e->op = std::move(op);
    e->children.push_back(std::move(a));
    e->children.push_back(std::move(b));
    return e;
  }

  // AND and OR are associative (in three-valued logic too): long chains
  // become balanced trees, so 20,000 ORed conditions nest only 15 deep.
  AstPtr Balanced(const std::string& op, std::vector<AstPtr>& items, std::vector<SourcePos>& pos,
                  size_t begin, size_t end) {
    if (end - begin == 1) return std::move(items[begin]);
    size_t mid = begin + (end - begin) / 2;
    AstPtr l = Balanced(op, items, pos, begin, mid);
    AstPtr r = Balanced(op, items, pos, mid, end);
    return Binary(op, pos[mid], std::move(l), std::move(r));
  }

  absl::StatusOr<AstPtr> ParseOr() {
    std::vector<AstPtr> items;
    std::vector<SourcePos> pos;
    RETL_ASSIGN_OR_RETURN(AstPtr first, ParseAnd());
    items.push_back(std::move(first));
    pos.push_back(SourcePos{});
    while (c_.Peek().IsKeyword("or")) {
      pos.push_back(PosOf(c_.Next()));
      RETL_ASSIGN_OR_RETURN(AstPtr right, ParseAnd());
      items.push_back(std::move(right));
    }
    return Balanced("or", items, pos, 0, items.size());
  }

  absl::StatusOr<AstPtr> ParseAnd() {
    std::vector<AstPtr> items;
    std::vector<SourcePos> pos;
    RETL_ASSIGN_OR_RETURN(AstPtr first, ParseNot());
    items.push_back(std::move(first));
    pos.push_back(SourcePos{});
    while (c_.Peek().IsKeyword("and")) {
      pos.push_back(PosOf(c_.Next()));
      RETL_ASSIGN_OR_RETURN(AstPtr right, ParseNot());
      items.push_back(std::move(right));
    }
    return Balanced("and", items, pos, 0, items.size());
  }

  // Counts one more level of a left-deep chain against kMaxDepth; the
  // caller gives the levels back when the chain ends.
  absl::Status ChainLevel(int* levels) {
    ++*levels;
    if (++depth_ > kMaxDepth) return ErrorAt(c_.Peek(), kTooDeep);
    return absl::OkStatus();
  }

  absl::StatusOr<AstPtr> ParseNot() {
    if (c_.Peek().IsKeyword("not")) {
      SourcePos pos = PosOf(c_.Next());
      if (++depth_ > kMaxDepth) return ErrorAt(c_.Peek(), kTooDeep);
      RETL_ASSIGN_OR_RETURN(AstPtr x, ParseNot());
      --depth_;
      auto e = std::make_unique<AstExpr>(AstKind::kUnary, pos);
      e->op = "not";
      e->children.push_back(std::move(x));
      return e;
    }
    return ParseIs();
  }

  absl::StatusOr<AstPtr> ParseIs() {
    RETL_ASSIGN_OR_RETURN(AstPtr left, ParseComparison());
    while (c_.Peek().IsKeyword("is")) {
      SourcePos pos = PosOf(c_.Next());
      bool negated = c_.ConsumeKeyword("not");
      if (c_.ConsumeKeyword("null")) {
        auto e = std::make_unique<AstExpr>(AstKind::kIsNull, pos);
        e->negated = negated;
        e->children.push_back(std::move(left));
        left = std::move(e);
      } else if (c_.ConsumeKeyword("distinct")) {
        RETL_RETURN_IF_ERROR(c_.ExpectKeyword("from", "after IS DISTINCT"));
        RETL_ASSIGN_OR_RETURN(AstPtr right, ParseComparison());
        auto e = std::make_unique<AstExpr>(AstKind::kIsDistinct, pos);
        e->negated = negated;
        e->children.push_back(std::move(left));
        e->children.push_back(std::move(right));
        left = std::move(e);
      } else if (c_.Peek().IsKeyword("true") || c_.Peek().IsKeyword("false")) {
        // x IS [NOT] TRUE/FALSE == x IS [NOT] DISTINCT FROM TRUE/FALSE
        const Token& t = c_.Next();
        auto lit = std::make_unique<AstExpr>(AstKind::kLiteral, PosOf(t));
        lit->value = Value::Bool(t.IsKeyword("true"));
        auto e = std::make_unique<AstExpr>(AstKind::kIsDistinct, pos);
        e->negated = !negated;
        e->children.push_back(std::move(left));
        e->children.push_back(std::move(lit));
        left = std::move(e);
      } else {
        return c_.Expected("NULL, NOT NULL, TRUE, FALSE or DISTINCT FROM after IS");
      }
    }
    return left;
  }

  absl::StatusOr<AstPtr> ParseComparison() {
    int levels = 0;
    RETL_ASSIGN_OR_RETURN(AstPtr left, ParsePredicate());
    while (true) {
      const Token& t = c_.Peek();
      std::string op;
      for (std::string_view o : {"=", "<>", "!=", "<", "<=", ">", ">="}) {
        if (t.IsOperator(o)) op = std::string(o);
      }
      if (op.empty()) break;
      if (op == "!=") op = "<>";
      SourcePos pos = PosOf(c_.Next());
      RETL_RETURN_IF_ERROR(ChainLevel(&levels));
      RETL_ASSIGN_OR_RETURN(AstPtr right, ParsePredicate());
      left = Binary(op, pos, std::move(left), std::move(right));
    }
    depth_ -= levels;
    return left;
  }

  absl::StatusOr<AstPtr> ParsePredicate() {
    RETL_ASSIGN_OR_RETURN(AstPtr left, ParseConcat());
    while (true) {
      bool negated = false;
      size_t ahead = 0;
      if (c_.Peek().IsKeyword("not")) {
        negated = true;
        ahead = 1;
      }
      const Token& t = c_.Peek(ahead);
      SourcePos pos = PosOf(t);
      if (t.IsKeyword("between")) {
        for (size_t i = 0; i <= ahead; ++i) c_.Next();
        bool symmetric = c_.ConsumeKeyword("symmetric");
        if (!symmetric) c_.ConsumeKeyword("asymmetric");
        RETL_ASSIGN_OR_RETURN(AstPtr low, ParseConcat());
        RETL_RETURN_IF_ERROR(c_.ExpectKeyword("and", "in BETWEEN"));
        RETL_ASSIGN_OR_RETURN(AstPtr high, ParseConcat());
        auto e = std::make_unique<AstExpr>(AstKind::kBetween, pos);
        e->negated = negated;
        e->distinct = symmetric;  // BETWEEN SYMMETRIC: the bounds in either order
        e->children.push_back(std::move(left));
        e->children.push_back(std::move(low));
        e->children.push_back(std::move(high));
        left = std::move(e);
      } else if (t.IsKeyword("in")) {
        for (size_t i = 0; i <= ahead; ++i) c_.Next();
        RETL_RETURN_IF_ERROR(c_.ExpectOperator("(", "after IN"));
        if (c_.Peek().IsKeyword("select")) {
          return ErrorAt(c_.Peek(), "subqueries are not supported");
        }
        auto e = std::make_unique<AstExpr>(AstKind::kIn, pos);
        e->negated = negated;
        e->children.push_back(std::move(left));
        while (true) {
          RETL_ASSIGN_OR_RETURN(AstPtr x, ParseExpr());
          e->children.push_back(std::move(x));
          if (!c_.ConsumeOperator(",")) break;
        }
        RETL_RETURN_IF_ERROR(c_.ExpectOperator(")", "to close the IN list"));
        left = std::move(e);
      } else if (t.IsKeyword("like") || t.IsKeyword("ilike")) {
        for (size_t i = 0; i <= ahead; ++i) c_.Next();
        RETL_ASSIGN_OR_RETURN(AstPtr pattern, ParseConcat());
        auto e = std::make_unique<AstExpr>(AstKind::kLike, pos);
        e->op = absl::AsciiStrToLower(ToAbsl(t.text));
        e->negated = negated;
        e->children.push_back(std::move(left));
        e->children.push_back(std::move(pattern));
        if (c_.ConsumeKeyword("escape")) {
          RETL_ASSIGN_OR_RETURN(AstPtr esc, ParseConcat());
          e->children.push_back(std::move(esc));
        }
        left = std::move(e);
      } else {
        break;
      }
    }
    return left;
  }

  absl::StatusOr<AstPtr> ParseConcat() {
    int levels = 0;
    RETL_ASSIGN_OR_RETURN(AstPtr left, ParseAdditive());
    while (c_.Peek().IsOperator("||")) {
      SourcePos pos = PosOf(c_.Next());
      RETL_RETURN_IF_ERROR(ChainLevel(&levels));
      RETL_ASSIGN_OR_RETURN(AstPtr right, ParseAdditive());
      left = Binary("||", pos, std::move(left), std::move(right));
    }
    depth_ -= levels;
    return left;
  }

  absl::StatusOr<AstPtr> ParseAdditive() {
    int levels = 0;
    RETL_ASSIGN_OR_RETURN(AstPtr left, ParseMultiplicative());
    while (c_.Peek().IsOperator("+") || c_.Peek().IsOperator("-")) {
      const Token& t = c_.Next();
      std::string op = t.text;
      RETL_RETURN_IF_ERROR(ChainLevel(&levels));
      RETL_ASSIGN_OR_RETURN(AstPtr right, ParseMultiplicative());
      left = Binary(op, PosOf(t), std::move(left), std::move(right));
    }
    depth_ -= levels;
    return left;
  }

  absl::StatusOr<AstPtr> ParseMultiplicative() {
    int levels = 0;
    RETL_ASSIGN_OR_RETURN(AstPtr left, ParseUnary());
    while (c_.Peek().IsOperator("*") || c_.Peek().IsOperator("/") || c_.Peek().IsOperator("%")) {
      const Token& t = c_.Next();
      std::string op = t.text;
      RETL_RETURN_IF_ERROR(ChainLevel(&levels));
      RETL_ASSIGN_OR_RETURN(AstPtr right, ParseUnary());
      left = Binary(op, PosOf(t), std::move(left), std::move(right));
    }
    depth_ -= levels;
    return left;
  }

  absl::StatusOr<AstPtr> ParseUnary() {
    if (c_.Peek().IsOperator("-") || c_.Peek().IsOperator("+")) {
      const Token& t = c_.Next();
      std::string op = t.text;
      if (++depth_ > kMaxDepth) return ErrorAt(c_.Peek(), kTooDeep);
      RETL_ASSIGN_OR_RETURN(AstPtr x, ParseUnary());
      --depth_;
      // Fold "-<number>" into the literal, typed as PostgreSQL 15 types it:
      // -2147483648 is INT, -9223372036854775808 is DECIMAL (NUMERIC).
      if (op == "-" && x->kind == AstKind::kLiteral && !x->value.null && x->children.empty() &&
          !x->unknown_literal && !(x->value.type.IsInteger() && x->value.i == INT64_MIN) &&
          (x->value.type.IsInteger() || x->value.type.kind == SqlKind::kDecimal ||
           x->value.type.kind == SqlKind::kDouble)) {
        Value& v = x->value;
        if (v.type.IsInteger()) {  // not INT64_MIN (- -9223372036854775808 overflows at run time)
          v.i = -v.i;
        } else if (v.type.kind == SqlKind::kDouble) {
          v.d = -v.d;
        } else {
          v = Value::Decimal(v.type, -v.unscaled());  // -9223372036854775808 is DECIMAL, as in PostgreSQL 15
        }
        if (v.type.IsInteger()) v.type = SqlType::Of(v.i >= INT32_MIN && v.i <= INT32_MAX ? SqlKind::kInt : SqlKind::kBigInt);
        x->pos = PosOf(t);
        return x;
      }
      auto e = std::make_unique<AstExpr>(AstKind::kUnary, PosOf(t));
      e->op = op;
      e->children.push_back(std::move(x));
      return e;
    }
    return ParsePostfix();
  }

  absl::StatusOr<AstPtr> ParsePostfix() {
    RETL_ASSIGN_OR_RETURN(AstPtr x, ParsePrimary());
    while (c_.Peek().IsOperator("::")) {
      SourcePos pos = PosOf(c_.Next());
      RETL_ASSIGN_OR_RETURN(SqlType type, ParseTypeName());
      auto e = std::make_unique<AstExpr>(AstKind::kCast, pos);
      e->cast_type = type;
      e->children.push_back(std::move(x));
      x = std::move(e);
    }
    return x;
  }

  absl::StatusOr<SqlType> ParseTypeName() {
    const Token& first = c_.Peek();
    if (!first.IsIdentifier()) return c_.Expected("a type name");
    if (first.IsKeyword("interval")) {
      c_.Next();
      return SqlType::Of(SqlKind::kInterval);
    }
    std::string text = c_.Next().text;
    while (c_.Peek().kind == TokenKind::kIdentifier) {
      bool continues = false;
      for (std::string_view w : {"precision", "varying", "with", "without", "time", "zone"}) {
        continues = continues || c_.Peek().IsKeyword(w);
      }
      if (!continues) break;
      text += " " + c_.Next().text;
    }
    if (c_.Peek().IsOperator("(")) {
      text += c_.Next().text;
      while (!c_.AtEnd() && !c_.Peek().IsOperator(")")) text += c_.Next().text;
      RETL_RETURN_IF_ERROR(c_.ExpectOperator(")", "after the type's arguments"));
      text += ")";
    }
    absl::StatusOr<DataType> t = ParseDataType(text);
    if (!t.ok()) return ErrorAt(first, ToStd(t.status().message()));
    return SqlType::FromData(*t);
  }

  absl::StatusOr<AstPtr> ParsePrimary() {
    const Token& t = c_.Peek();
    SourcePos pos = PosOf(t);
    switch (t.kind) {
      case TokenKind::kInteger: {
        c_.Next();
        auto e = std::make_unique<AstExpr>(AstKind::kLiteral, pos);
        int64_t v = 0;
        if (absl::SimpleAtoi(ToAbsl(t.text), &v)) {
          e->value = Value::Int(v >= INT32_MIN && v <= INT32_MAX ? SqlKind::kInt : SqlKind::kBigInt, v);
        } else {
          // Too big for BIGINT: a DECIMAL, as PostgreSQL makes it NUMERIC.
          size_t digits = t.text.size() - std::min(t.text.find_first_not_of('0'), t.text.size());
          if (digits > 38) return ErrorAt(t, "integer literal out of range (more than 38 digits)");
          absl::StatusOr<int128> d = ParseDecimal(t.text, 38, 0);
          if (!d.ok()) return ErrorAt(t, "integer literal out of range (more than 38 digits)");
          e->value = Value::Decimal(SqlType::Decimal(static_cast<int>(digits), 0), *d);
        }
        return e;
      }
      case TokenKind::kDecimal: {
        c_.Next();
        auto e = std::make_unique<AstExpr>(AstKind::kLiteral, pos);
        if (t.text.find_first_of("eE") != std::string::npos) {
          absl::StatusOr<double> d = ParseDouble(t.text);
          if (!d.ok()) return ErrorAt(t, ToStd(d.status().message()));
          e->value = Value::Double(*d);
          return e;
        }
        size_t dot = t.text.find('.');
        int scale = static_cast<int>(t.text.size() - dot - 1);
        int digits = 0;
        bool leading = true;
        for (char ch : t.text) {
          if (ch == '.') continue;
          if (leading && ch == '0') continue;
          leading = false;
          ++digits;
        }
        int precision = std::max(digits, scale);
        if (precision == 0) precision = 1;
        if (precision > 38) {
          absl::StatusOr<double> d = ParseDouble(t.text);
          if (!d.ok()) return ErrorAt(t, ToStd(d.status().message()));
          e->value = Value::Double(*d);
          return e;
        }
        absl::StatusOr<int128> d = ParseDecimal(t.text, precision, scale);
        if (!d.ok()) return ErrorAt(t, ToStd(d.status().message()));
        e->value = Value::Decimal(SqlType::Decimal(precision, scale), *d);
        return e;
      }
      case TokenKind::kString: {
        c_.Next();
        auto e = std::make_unique<AstExpr>(AstKind::kLiteral, pos);
        e->value = Value::String(t.text);
        e->unknown_literal = true;
        return e;
      }
      case TokenKind::kParameter: {
        c_.Next();
        auto e = std::make_unique<AstExpr>(AstKind::kParameter, pos);
        if (t.text == "?") {
          e->index = next_param_++;
        } else {
          int n = 0;
          if (!absl::SimpleAtoi(ToAbsl(t.text.substr(1)), &n) || n < 1 || n > 65535) {
            return ErrorAt(t, "parameter number out of range");
          }
          e->index = n - 1;
        }
        max_param_ = std::max(max_param_, e->index + 1);
        return e;
      }
      case TokenKind::kOperator:
        if (t.IsOperator("(")) {
          c_.Next();
          if (c_.Peek().IsKeyword("select")) return ErrorAt(c_.Peek(), "subqueries are not supported");
          RETL_ASSIGN_OR_RETURN(AstPtr x, ParseExpr());
          RETL_RETURN_IF_ERROR(c_.ExpectOperator(")", "to close '('"));
          return x;
        }
        if (t.IsOperator("*")) {
          c_.Next();
          return std::make_unique<AstExpr>(AstKind::kStar, pos);
        }
        return c_.Expected("an expression");
      case TokenKind::kEnd:
        return c_.Expected("an expression");
      case TokenKind::kIdentifier:
      case TokenKind::kQuotedIdentifier:
        break;
    }
    if (t.kind == TokenKind::kIdentifier) {
      if (t.IsKeyword("null")) {
        c_.Next();
        auto e = std::make_unique<AstExpr>(AstKind::kLiteral, pos);
        e->value = Value::Null();
        return e;
      }
      if (t.IsKeyword("true") || t.IsKeyword("false")) {
        c_.Next();
        auto e = std::make_unique<AstExpr>(AstKind::kLiteral, pos);
        e->value = Value::Bool(t.IsKeyword("true"));
        return e;
      }
      if (t.IsKeyword("case")) return ParseCase();
      if (t.IsKeyword("cast") && c_.Peek(1).IsOperator("(")) {
        c_.Next();
        c_.Next();
        RETL_ASSIGN_OR_RETURN(AstPtr x, ParseExpr());
        RETL_RETURN_IF_ERROR(c_.ExpectKeyword("as", "in CAST"));
        RETL_ASSIGN_OR_RETURN(SqlType type, ParseTypeName());
        RETL_RETURN_IF_ERROR(c_.ExpectOperator(")", "to close CAST"));
        auto e = std::make_unique<AstExpr>(AstKind::kCast, pos);
        e->cast_type = type;
        e->children.push_back(std::move(x));
        return e;
      }
      if (t.IsKeyword("extract") && c_.Peek(1).IsOperator("(")) {
        c_.Next();
        c_.Next();
        const Token& field = c_.Peek();
        if (!field.IsIdentifier() && field.kind != TokenKind::kString) {
          return c_.Expected("a field name in EXTRACT");
        }
        std::string name = absl::AsciiStrToLower(ToAbsl(c_.Next().text));
        RETL_RETURN_IF_ERROR(c_.ExpectKeyword("from", "in EXTRACT"));
        RETL_ASSIGN_OR_RETURN(AstPtr x, ParseExpr());
        RETL_RETURN_IF_ERROR(c_.ExpectOperator(")", "to close EXTRACT"));
        auto e = std::make_unique<AstExpr>(AstKind::kExtract, pos);
        e->name = name;
        e->children.push_back(std::move(x));
        return e;
      }
      // Typed literals: DATE '...', TIMESTAMP '...', INTERVAL '...'.
      if ((t.IsKeyword("date") || t.IsKeyword("timestamp") || t.IsKeyword("interval") ||
           t.IsKeyword("timestamptz")) &&
          c_.Peek(1).kind == TokenKind::kString) {
        c_.Next();
        const Token& lit = c_.Next();
        auto e = std::make_unique<AstExpr>(AstKind::kCast, pos);
        e->cast_type = t.IsKeyword("date")       ? SqlType::Of(SqlKind::kDate)
                       : t.IsKeyword("interval") ? SqlType::Of(SqlKind::kInterval)
                                                 : SqlType::Of(SqlKind::kTimestamp);
        auto s = std::make_unique<AstExpr>(AstKind::kLiteral, PosOf(lit));
        s->value = Value::String(lit.text);
        s->unknown_literal = true;
        e->children.push_back(std::move(s));
        if (t.IsKeyword("interval")) {
          // INTERVAL '3' DAY: a unit after the string.
          for (std::string_view unit : {"year", "years", "month", "months", "day", "days", "hour",
                                        "hours", "minute", "minutes", "second", "seconds"}) {
            if (c_.Peek().IsKeyword(unit)) {
              e->children[0]->value.s += " " + c_.Next().text;
              break;
            }
          }
        }
        return e;
      }
    }
    // A name: column, qualified column, or function call. Clause keywords
    // are not names here (SELECT a, FROM t is a syntax error, as in PostgreSQL).
    if (IsReserved(t) && !c_.Peek(1).IsOperator("(")) return c_.Expected("an expression");
    c_.Next();
    if (c_.Peek().IsOperator("(")) return ParseCall(t, pos);
    auto e = std::make_unique<AstExpr>(AstKind::kColumn, pos);
    e->name = t.text;
    if (c_.Peek().IsOperator(".")) {
      c_.Next();
      if (c_.Peek().IsOperator("*")) {
        c_.Next();
        auto star = std::make_unique<AstExpr>(AstKind::kStar, pos);
        star->qualifier = t.text;
        return star;
      }
      if (!c_.Peek().IsIdentifier()) return c_.Expected("a column name after '.'");
      e->qualifier = t.text;
      e->name = c_.Next().text;
      if (c_.Peek().IsOperator(".")) return ErrorAt(c_.Peek(), "too many dotted names");
    }
    return e;
  }

  absl::StatusOr<AstPtr> ParseCall(const Token& name, SourcePos pos) {
    RETL_RETURN_IF_ERROR(c_.ExpectOperator("(", ""));
    auto e = std::make_unique<AstExpr>(AstKind::kFunction, pos);
    e->name = absl::AsciiStrToLower(ToAbsl(name.text));
    if (name.kind == TokenKind::kQuotedIdentifier) e->name = name.text;
    if (c_.ConsumeOperator(")")) return e;
    if (c_.ConsumeKeyword("distinct")) e->distinct = true;
    else c_.ConsumeKeyword("all");
    while (true) {
      RETL_ASSIGN_OR_RETURN(AstPtr arg, ParseExpr());
      e->children.push_back(std::move(arg));
      if (!c_.ConsumeOperator(",")) break;
    }
    RETL_RETURN_IF_ERROR(c_.ExpectOperator(")", "to close the argument list"));
    if (c_.Peek().IsKeyword("over") || c_.Peek().IsKeyword("filter") ||
        c_.Peek().IsKeyword("within")) {
      return ErrorAt(c_.Peek(), StrCat(absl::AsciiStrToUpper(ToAbsl(c_.Peek().text)),
                                       " clauses on function calls are not supported"));
    }
    return e;
  }

  absl::StatusOr<AstPtr> ParseCase() {
    SourcePos pos = PosOf(c_.Next());
    auto e = std::make_unique<AstExpr>(AstKind::kCase, pos);
    if (!c_.Peek().IsKeyword("when")) {
      RETL_ASSIGN_OR_RETURN(AstPtr operand, ParseExpr());
      e->children.push_back(std::move(operand));
      e->case_has_operand = true;
    }
    if (!c_.Peek().IsKeyword("when")) return c_.Expected("WHEN in CASE");
    while (c_.ConsumeKeyword("when")) {
      RETL_ASSIGN_OR_RETURN(AstPtr when, ParseExpr());
      RETL_RETURN_IF_ERROR(c_.ExpectKeyword("then", "after the WHEN condition"));
      RETL_ASSIGN_OR_RETURN(AstPtr then, ParseExpr());
      e->children.push_back(std::move(when));
      e->children.push_back(std::move(then));
    }
    if (c_.ConsumeKeyword("else")) {
      RETL_ASSIGN_OR_RETURN(AstPtr other, ParseExpr());
      e->children.push_back(std::move(other));
      e->case_has_else = true;
    }
    RETL_RETURN_IF_ERROR(c_.ExpectKeyword("end", "to close CASE"));
    return e;
  }

  std::string_view sql_;
  TokenCursor c_;
  int depth_ = 0;
  int next_param_ = 0;
  int max_param_ = 0;
};

void AppendSql(const AstExpr& e, std::string* out);

std::string QuoteNameIfNeeded(const std::string& name) {
  bool plain = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (char ch : name) {
    plain = plain && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_');
  }
  if (plain) return name;
  std::string q = "\"";
  for (char ch : name) {
    if (ch == '"') q += '"';
    q += ch;
  }
  return q + "\"";
}

void AppendSql(const AstExpr& e, std::string* out) {
  auto child = [&](size_t i) { AppendSql(*e.children[i], out); };
  switch (e.kind) {
    case AstKind::kLiteral:
      if (e.value.null) {
        *out += "NULL";
      } else if (e.value.type.kind == SqlKind::kString) {
        *out += '\'';
        for (char ch : e.value.s) {
          if (ch == '\'') *out += '\'';
          *out += ch;
        }
        *out += '\'';
      } else {
        *out += ValueText(e.value);
      }
      return;
    case AstKind::kColumn:
      if (!e.qualifier.empty()) *out += QuoteNameIfNeeded(e.qualifier) + ".";
      *out += QuoteNameIfNeeded(e.name);
      return;
    case AstKind::kStar:
      if (!e.qualifier.empty()) *out += QuoteNameIfNeeded(e.qualifier) + ".";
      *out += '*';
      return;
    case AstKind::kParameter:
      StrAppend(out, "$", e.index + 1);
      return;
    case AstKind::kUnary:
      if (e.op == "not") *out += "NOT ";
      else *out += e.op;
      child(0);
      return;
    case AstKind::kBinary: {
      bool word = e.op == "and" || e.op == "or";
      *out += '(';
      child(0);
      *out += word ? (e.op == "and" ? " AND " : " OR ") : " " + e.op + " ";
      child(1);
      *out += ')';
      return;
    }
    case AstKind::kFunction:
      *out += e.name + "(";
      if (e.distinct) *out += "DISTINCT ";
      for (size_t i = 0; i < e.children.size(); ++i) {
        if (i) *out += ", ";
        child(i);
      }
      *out += ')';
      return;
    case AstKind::kCase: {
      *out += "CASE";
      size_t i = 0;
      if (e.case_has_operand) {
        *out += ' ';
        child(i++);
      }
      size_t end = e.children.size() - (e.case_has_else ? 1 : 0);
      for (; i < end; i += 2) {
        *out += " WHEN ";
        child(i);
        *out += " THEN ";
        child(i + 1);
      }
      if (e.case_has_else) {
        *out += " ELSE ";
        child(e.children.size() - 1);
      }
      *out += " END";
      return;
    }
    case AstKind::kCast:
      *out += "CAST(";
      child(0);
      *out += " AS " + e.cast_type.ToString() + ")";
      return;
    case AstKind::kIn:
      child(0);
      *out += e.negated ? " NOT IN (" : " IN (";
      for (size_t i = 1; i < e.children.size(); ++i) {
        if (i > 1) *out += ", ";
        child(i);
      }
      *out += ')';
      return;
    case AstKind::kBetween:
      child(0);
      *out += e.negated ? " NOT BETWEEN " : " BETWEEN ";
      if (e.distinct) *out += "SYMMETRIC ";
      child(1);
      *out += " AND ";
      child(2);
      return;
    case AstKind::kLike:
      child(0);
      *out += e.negated ? " NOT " : " ";
      *out += e.op == "ilike" ? "ILIKE " : "LIKE ";
      child(1);
      return;
    case AstKind::kIsNull:
      child(0);
      *out += e.negated ? " IS NOT NULL" : " IS NULL";
      return;
    case AstKind::kIsDistinct:
      child(0);
      *out += e.negated ? " IS NOT DISTINCT FROM " : " IS DISTINCT FROM ";
      child(1);
      return;
    case AstKind::kExtract:
      *out += "extract(" + e.name + " FROM ";
      child(0);
      *out += ')';
      return;
    case AstKind::kInterval:
      *out += "INTERVAL '" + IntervalText(e.value.iv) + "'";
      return;
  }
}

}  // namespace

std::string AstExpr::ToSql() const {
  std::string out;
  AppendSql(*this, &out);
  return out;
}

AstPtr AstExpr::Clone() const {
  auto e = std::make_unique<AstExpr>(kind, pos);
  e->op = op;
  e->name = name;
  e->qualifier = qualifier;
  e->value = value;
  e->unknown_literal = unknown_literal;
  e->index = index;
  e->distinct = distinct;
  e->negated = negated;
  e->case_has_operand = case_has_operand;
  e->case_has_else = case_has_else;
  e->cast_type = cast_type;
  for (const AstPtr& c : children) e->children.push_back(c->Clone());
  return e;
}

absl::StatusOr<std::vector<Statement>> ParseStatements(std::string_view sql) {
  RETL_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(sql));
  Parser p(sql, std::move(tokens));
  return p.ParseAll();
}

absl::StatusOr<Statement> ParseStatement(std::string_view sql) {
  RETL_ASSIGN_OR_RETURN(std::vector<Statement> all, ParseStatements(sql));
  if (all.empty()) return absl::InvalidArgumentError("line 1, column 1: expected a statement, found end of input");
  if (all.size() > 1) {
    return absl::InvalidArgumentError(StrCat(all[1].pos.Location(), ": expected one statement, found a second one"));
  }
  return std::move(all[0]);
}

bool EndsStatement(std::string_view sql) {
  absl::StatusOr<std::vector<Token>> tokens = Tokenize(sql);
  if (!tokens.ok()) {
    // An unterminated string or comment continues on the next line; any other
    // lexical error is reported when the statement runs.
    return absl::StrContains(tokens.status().message(), "unterminated") ? false : true;
  }
  if (tokens->size() <= 1) return true;
  return (*tokens)[tokens->size() - 2].IsOperator(";");
}

}  // namespace retl
