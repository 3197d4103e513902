// The SQL parser: text to statements (query/ast.h). Recursive descent over
// the shared lexer (query/lexer.h); the grammar is docs/sql.md's, with
// PostgreSQL's operator precedence:
//
//   OR < AND < NOT < IS < comparison (= <> != < <= > >=)
//      < BETWEEN, IN, LIKE, ILIKE < || < + - < * / % < unary + - < ::
//
// Errors are kInvalidArgument "line L, column C: expected X, found Y".
#ifndef RETL_QUERY_PARSER_H_
#define RETL_QUERY_PARSER_H_

#include <string_view>
#include <vector>

#include "query/ast.h"
#include "retl/status.h"

namespace retl {

// Every statement of `sql`, separated by ';' (a trailing ';' is optional;
// empty statements are skipped).
absl::StatusOr<std::vector<Statement>> ParseStatements(std::string_view sql);

// Exactly one statement.
absl::StatusOr<Statement> ParseStatement(std::string_view sql);

// True if `sql` holds at least one complete statement ending in ';' outside
// strings and comments, or is empty: how the REPL decides a multi-line
// statement is finished.
bool EndsStatement(std::string_view sql);

}  // namespace retl

#endif  // RETL_QUERY_PARSER_H_
