#include "query/create_table.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "query/lexer.h"

namespace retl {
namespace {

// Debian's Abseil defines its own absl::string_view, which std::string_view
// does not convert to; this bridges the two (a no-op where they are one).
absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

struct UnsupportedClause {
  std::string_view keyword;
  std::string_view message;
};

// Column constraints we recognise only to reject them clearly.
constexpr UnsupportedClause kUnsupportedColumnConstraints[] = {
    {"default", "DEFAULT values are not supported"},
    {"unique", "UNIQUE constraints are not supported"},
    {"check", "CHECK constraints are not supported"},
    {"references", "REFERENCES (foreign key) constraints are not supported"},
    {"collate", "COLLATE is not supported"},
    {"generated", "generated columns are not supported"},
    {"constraint", "named constraints (CONSTRAINT name ...) are not supported"},
};

const UnsupportedClause* FindUnsupportedColumnConstraint(const Token& token) {
  for (const UnsupportedClause& clause : kUnsupportedColumnConstraints) {
    if (token.IsKeyword(clause.keyword)) return &clause;
  }
  return nullptr;
}

// True for the words that begin a column constraint, so cannot be a type.
bool StartsColumnConstraint(const Token& token) {
  return token.IsKeyword("not") || token.IsKeyword("null") || token.IsKeyword("primary") ||
         FindUnsupportedColumnConstraint(token) != nullptr;
}

// The words that continue the standard multi-word type names: DOUBLE
// PRECISION, CHARACTER VARYING, TIMESTAMP WITH[OUT] TIME ZONE. Any other word
// after a type ends it, so "a INT foo" reports 'foo' as unexpected after the
// column definition rather than as part of an unknown type "INT foo".
bool ContinuesTypeName(const Token& token) {
  for (std::string_view word : {"precision", "varying", "with", "without", "time", "zone"}) {
    if (token.IsKeyword(word)) return true;
  }
  return false;
}

// Parses one statement in two steps so that ParseCreateTable() can reject
// trailing input before reporting errors about names: first the syntax
// (ParseSyntax), then name resolution and validation (Finish).
class CreateTableParser {
 public:
  explicit CreateTableParser(TokenCursor* cursor) : cursor_(*cursor) {}

  // From CREATE through the element list and the PARTITION BY clause; stops
  // before a ';'.
  absl::Status ParseSyntax();
  // Resolves the columns named in PRIMARY KEY and PARTITION BY, applies NOT
  // NULL to the key and validates the schema. Call once, after ParseSyntax().
  absl::StatusOr<CreateTableStatement> Finish();

  bool has_partition_by() const { return partition_column_.has_value(); }

 private:
  // Returns what the element was ("column definition") for the error when
  // neither ',' nor ')' follows it.
  absl::StatusOr<std::string_view> ParseElement();
  absl::Status ParseColumnDefinition();
  absl::StatusOr<DataType> ParseType(const Token& column_name);
  absl::Status ParseTablePrimaryKey();
  absl::Status ParsePartitionBy();
  absl::Status ParseIndex();
  absl::Status SetPrimaryKey(const Token& primary, std::vector<Token> columns);
  absl::StatusOr<int> ResolveColumn(const Token& name, std::string_view clause) const;

  TokenCursor& cursor_;
  CreateTableStatement statement_;
  Token create_;       // the CREATE keyword
  Token close_paren_;  // the ')' that ends the element list
  // Per field, in order: its name token, and its NULL keyword if declared NULL.
  std::vector<Token> column_names_;
  std::vector<std::optional<Token>> explicit_nulls_;
  std::optional<Token> primary_key_;  // PRIMARY of the one key definition
  std::vector<Token> primary_key_columns_;
  std::optional<Token> partition_column_;
  // INDEX elements: keyword, name (empty: derived from the columns), columns.
  struct IndexElement {
    Token keyword;
    std::string name;
    std::vector<Token> columns;
  };
  std::vector<IndexElement> indexes_;
};

absl::Status CreateTableParser::ParseSyntax() {
  create_ = cursor_.Peek();
  RETL_RETURN_IF_ERROR(cursor_.ExpectKeyword("create", ""));
  RETL_RETURN_IF_ERROR(cursor_.ExpectKeyword("table", "after CREATE"));
  // IF NOT EXISTS, unless IF is the table's name: CREATE TABLE if (...).
  if (cursor_.Peek().IsKeyword("if") && cursor_.Peek(1).IsIdentifier()) {
    cursor_.Next();
    RETL_RETURN_IF_ERROR(cursor_.ExpectKeyword("not", "after IF"));
    RETL_RETURN_IF_ERROR(cursor_.ExpectKeyword("exists", "after IF NOT"));
    statement_.if_not_exists = true;
  }
  if (!cursor_.Peek().IsIdentifier()) return cursor_.Expected("table name after CREATE TABLE");
  statement_.table_name = cursor_.Next().text;
  if (cursor_.Peek().IsOperator(".")) {
    return ErrorAt(cursor_.Peek(), "schema-qualified table names are not supported");
  }
  RETL_RETURN_IF_ERROR(cursor_.ExpectOperator("(", "after table name"));
  while (true) {
    RETL_ASSIGN_OR_RETURN(std::string_view element, ParseElement());
    if (cursor_.ConsumeOperator(",")) continue;
    if (!cursor_.Peek().IsOperator(")")) {
      return cursor_.Expected(absl::StrCat("')' or ',' after ", ToAbsl(element)));
    }
    close_paren_ = cursor_.Next();
    break;
  }
  if (cursor_.ConsumeKeyword("partition")) RETL_RETURN_IF_ERROR(ParsePartitionBy());
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> CreateTableParser::ParseElement() {
  const Token& token = cursor_.Peek();
  const Token& next = cursor_.Peek(1);
  if (token.IsKeyword("primary") && next.IsKeyword("key")) {
    RETL_RETURN_IF_ERROR(ParseTablePrimaryKey());
    return "PRIMARY KEY constraint";
  }
  // INDEX [name] (column, ...). A column named "index" has a type after its
  // name, and a type's arguments are integers, never names.
  if (token.IsKeyword("index") &&
      (next.IsOperator("(") || (next.IsIdentifier() && cursor_.Peek(2).IsOperator("(") &&
                                cursor_.Peek(3).IsIdentifier()))) {
    RETL_RETURN_IF_ERROR(ParseIndex());
    return "INDEX definition";
  }
  // Table constraints we reject. A column may be named like any of these
  // words, but its type, an identifier, never follows as '(' or KEY does.
  if (token.IsKeyword("unique") && next.IsOperator("(")) {
    return ErrorAt(token, "UNIQUE constraints are not supported");
  }
  if (token.IsKeyword("check") && next.IsOperator("(")) {
    return ErrorAt(token, "CHECK constraints are not supported");
  }
  if (token.IsKeyword("foreign") && next.IsKeyword("key")) {
    return ErrorAt(token, "FOREIGN KEY constraints are not supported");
  }
  if (token.IsKeyword("constraint") && next.IsIdentifier()) {
    // CONSTRAINT name PRIMARY KEY (...), but not a column "constraint"
    // declared PRIMARY KEY without '('.
    const Token& third = cursor_.Peek(2);
    if (third.IsKeyword("unique") || third.IsKeyword("check") || third.IsKeyword("foreign") ||
        third.IsKeyword("exclude") ||
        (third.IsKeyword("primary") && cursor_.Peek(3).IsKeyword("key") &&
         cursor_.Peek(4).IsOperator("("))) {
      return ErrorAt(token, "named constraints (CONSTRAINT name ...) are not supported");
    }
  }
  if (!token.IsIdentifier()) return cursor_.Expected("column definition or PRIMARY KEY");
  RETL_RETURN_IF_ERROR(ParseColumnDefinition());
  return "column definition";
}

absl::Status CreateTableParser::ParseColumnDefinition() {
  Token name = cursor_.Next();
  RETL_ASSIGN_OR_RETURN(DataType type, ParseType(name));
  // Schema::Validate() owns the rules for names; validating a schema of this
  // column alone applies them here, where the error can carry a position.
  Schema alone;
  alone.fields.push_back(Field{name.text, type, /*nullable=*/false});
  alone.primary_key.push_back(0);
  if (absl::Status status = alone.Validate(); !status.ok()) {
    return ErrorAt(name, std::string(status.message()));
  }
  for (size_t i = 0; i < column_names_.size(); ++i) {
    if (column_names_[i].text == name.text) {
      return ErrorAt(name, absl::StrCat("duplicate column name '", name.text,
                                        "' (first defined at ", column_names_[i].Location(), ")"));
    }
  }

  Field field{name.text, type, /*nullable=*/true};
  std::optional<Token> explicit_null;
  bool nullability_declared = false;
  while (true) {
    const Token& token = cursor_.Peek();
    if (token.IsKeyword("not") || token.IsKeyword("null")) {
      Token declaration = cursor_.Next();
      bool not_null = declaration.IsKeyword("not");
      if (not_null) RETL_RETURN_IF_ERROR(cursor_.ExpectKeyword("null", "after NOT"));
      if (nullability_declared) {
        return ErrorAt(declaration,
                       absl::StrCat("conflicting or redundant NULL/NOT NULL declarations for "
                                    "column '",
                                    name.text, "'"));
      }
      nullability_declared = true;
      if (not_null) {
        field.nullable = false;
      } else {
        explicit_null = declaration;
      }
    } else if (token.IsKeyword("primary")) {
      Token primary = cursor_.Next();
      RETL_RETURN_IF_ERROR(cursor_.ExpectKeyword("key", "after PRIMARY"));
      RETL_RETURN_IF_ERROR(SetPrimaryKey(primary, {name}));
    } else if (const UnsupportedClause* clause = FindUnsupportedColumnConstraint(token)) {
      return ErrorAt(token, clause->message);
    } else {
      break;
    }
  }
  statement_.schema.fields.push_back(std::move(field));
  column_names_.push_back(std::move(name));
  explicit_nulls_.push_back(std::move(explicit_null));
  return absl::OkStatus();
}

absl::StatusOr<DataType> CreateTableParser::ParseType(const Token& column_name) {
  if (cursor_.Peek().kind != TokenKind::kIdentifier || StartsColumnConstraint(cursor_.Peek())) {
    return cursor_.Expected(absl::StrCat("type for column '", column_name.text, "'"));
  }
  Token first = cursor_.Next();
  std::string text = first.text;
  auto append_words = [&] {
    while (ContinuesTypeName(cursor_.Peek())) absl::StrAppend(&text, " ", cursor_.Next().text);
  };
  append_words();
  if (cursor_.ConsumeOperator("(")) {
    text += "(";
    while (true) {
      if (cursor_.Peek().kind != TokenKind::kInteger) {
        return cursor_.Expected(
            absl::StrCat("integer in type arguments of column '", column_name.text, "'"));
      }
      text += cursor_.Next().text;
      if (cursor_.ConsumeOperator(",")) {
        text += ",";
        continue;
      }
      if (!cursor_.ConsumeOperator(")")) return cursor_.Expected("')' or ',' after type argument");
      break;
    }
    text += ")";
    // "TIMESTAMP(3) WITH TIME ZONE": gathered so ParseDataType() rejects the
    // whole type, rather than WITH being unexpected after the definition.
    append_words();
  }
  absl::StatusOr<DataType> type = ParseDataType(text);
  if (!type.ok()) {
    return ErrorAt(first,
                   absl::StrCat("column '", column_name.text, "': ", type.status().message()));
  }
  return type;
}

absl::Status CreateTableParser::ParseTablePrimaryKey() {
  Token primary = cursor_.Next();
  cursor_.Next();  // KEY
  RETL_RETURN_IF_ERROR(cursor_.ExpectOperator("(", "after PRIMARY KEY"));
  std::vector<Token> columns;
  while (true) {
    if (!cursor_.Peek().IsIdentifier()) return cursor_.Expected("column name in PRIMARY KEY");
    columns.push_back(cursor_.Next());
    if (cursor_.ConsumeOperator(",")) continue;
    if (!cursor_.ConsumeOperator(")")) {
      return cursor_.Expected("')' or ',' after primary key column");
    }
    break;
  }
  return SetPrimaryKey(primary, std::move(columns));
}

absl::Status CreateTableParser::ParseIndex() {
  IndexElement index;
  index.keyword = cursor_.Next();
  if (cursor_.Peek().IsIdentifier()) index.name = cursor_.Next().text;
  RETL_RETURN_IF_ERROR(cursor_.ExpectOperator("(", "after INDEX name"));
  while (true) {
    if (!cursor_.Peek().IsIdentifier()) return cursor_.Expected("column name in INDEX");
    index.columns.push_back(cursor_.Next());
    if (cursor_.ConsumeOperator(",")) continue;
    if (!cursor_.ConsumeOperator(")")) return cursor_.Expected("')' or ',' after index column");
    break;
  }
  indexes_.push_back(std::move(index));
  return absl::OkStatus();
}

absl::Status CreateTableParser::ParsePartitionBy() {
  RETL_RETURN_IF_ERROR(cursor_.ExpectKeyword("by", "after PARTITION"));
  bool parenthesized = cursor_.ConsumeOperator("(");
  if (!cursor_.Peek().IsIdentifier()) return cursor_.Expected("column name after PARTITION BY");
  partition_column_ = cursor_.Next();
  if (cursor_.Peek().IsOperator(",")) {
    return ErrorAt(cursor_.Peek(), "PARTITION BY takes exactly one column");
  }
  if (parenthesized) {
    RETL_RETURN_IF_ERROR(cursor_.ExpectOperator(")", "after partition column"));
  }
  return absl::OkStatus();
}

absl::Status CreateTableParser::SetPrimaryKey(const Token& primary, std::vector<Token> columns) {
  if (primary_key_.has_value()) {
    return ErrorAt(primary, absl::StrCat("multiple primary keys for table '", statement_.table_name,
                                         "' are not allowed (the first is at ",
                                         primary_key_->Location(), ")"));
  }
  primary_key_ = primary;
  primary_key_columns_ = std::move(columns);
  return absl::OkStatus();
}

absl::StatusOr<int> CreateTableParser::ResolveColumn(const Token& name,
                                                     std::string_view clause) const {
  const Schema& schema = statement_.schema;
  int index = schema.FindField(name.text);
  if (index >= 0) return index;
  std::string hint;
  for (const Field& field : schema.fields) {
    if (absl::EqualsIgnoreCase(field.name, name.text)) {
      hint = absl::StrCat(" (did you mean '", field.name, "'? column names are case-sensitive)");
      break;
    }
  }
  return ErrorAt(name, absl::StrCat("unknown column '", name.text, "' in ", ToAbsl(clause), hint));
}

absl::StatusOr<CreateTableStatement> CreateTableParser::Finish() {
  Schema& schema = statement_.schema;
  if (!primary_key_.has_value()) {
    return ErrorAt(close_paren_,
                   absl::StrCat("table '", statement_.table_name,
                                "' has no primary key: declare a column PRIMARY KEY or add "
                                "PRIMARY KEY (column, ...)"));
  }
  for (const Token& column : primary_key_columns_) {
    RETL_ASSIGN_OR_RETURN(int index, ResolveColumn(column, "PRIMARY KEY"));
    if (std::find(schema.primary_key.begin(), schema.primary_key.end(), index) !=
        schema.primary_key.end()) {
      return ErrorAt(column,
                     absl::StrCat("column '", column.text, "' appears twice in the primary key"));
    }
    if (explicit_nulls_[index].has_value()) {
      return ErrorAt(*explicit_nulls_[index],
                     absl::StrCat("column '", column.text,
                                  "' is in the primary key, so it cannot be declared NULL"));
    }
    schema.fields[index].nullable = false;
    schema.primary_key.push_back(index);
  }
  if (partition_column_.has_value()) {
    RETL_ASSIGN_OR_RETURN(schema.partition_column,
                          ResolveColumn(*partition_column_, "PARTITION BY"));
  }
  for (const IndexElement& element : indexes_) {
    IndexDef index;
    std::vector<std::string> names;
    for (const Token& column : element.columns) {
      RETL_ASSIGN_OR_RETURN(int c, ResolveColumn(column, "INDEX"));
      if (std::find(index.columns.begin(), index.columns.end(), c) != index.columns.end()) {
        return ErrorAt(column, absl::StrCat("column '", column.text, "' appears twice in the index"));
      }
      index.columns.push_back(c);
      names.push_back(column.text);
    }
    index.name = element.name.empty() ? absl::StrJoin(names, "_") : element.name;
    if (schema.FindIndex(index.name) != nullptr) {
      return ErrorAt(element.keyword, absl::StrCat("duplicate index name '", index.name, "'"));
    }
    schema.indexes.push_back(std::move(index));
    if (absl::Status status = schema.Validate(); !status.ok()) {
      return ErrorAt(element.keyword, std::string(status.message()));
    }
  }
  // The checks above cover what Validate() checks; this guards the contract.
  if (absl::Status status = schema.Validate(); !status.ok()) {
    return ErrorAt(create_, std::string(status.message()));
  }
  return std::move(statement_);
}

}  // namespace

absl::StatusOr<CreateTableStatement> ParseCreateTable(std::string_view sql) {
  RETL_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(sql));
  TokenCursor cursor(std::move(tokens));
  CreateTableParser parser(&cursor);
  RETL_RETURN_IF_ERROR(parser.ParseSyntax());
  bool semicolon = cursor.ConsumeOperator(";");
  if (!cursor.AtEnd()) {
    std::string_view expected = semicolon                   ? "end of input"
                                : parser.has_partition_by() ? "';' or end of input"
                                                            : "PARTITION BY, ';' or end of input";
    return cursor.Expected(absl::StrCat(ToAbsl(expected), " after CREATE TABLE statement"));
  }
  return parser.Finish();
}

}  // namespace retl
