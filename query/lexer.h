// The SQL lexer shared by every parser in query/ (CREATE TABLE now; SELECT,
// EXPLAIN and the rest of the SQL engine later). The dialect is PostgreSQL's,
// as DuckDB also speaks it:
//
//   identifier         [A-Za-z_][A-Za-z0-9_$]*, plus any non-ASCII character.
//                      Kept as written (no case folding). Keywords are plain
//                      identifiers: parsers recognise them case-insensitively
//                      with Token::IsKeyword("select"), so a new statement
//                      never needs a lexer change and any word that is not in
//                      a keyword's position stays usable as a name.
//   quoted identifier  "any text", with "" for one quote; never a keyword;
//                      must not be empty.
//   integer            123
//   decimal            1.5  .5  1.  1e10  2.5E-3 (a '.' or an exponent)
//                      A number directly followed by a letter, '_' or '$'
//                      (12abc, 1e) is an error, not two tokens.
//   string             'text', with '' for one quote; may span lines.
//   parameter          ?  $1  $2 ...
//   operator           = <> != < <= > >= + - * / % || :: . , ; ( )
//                      (longest match: "<=" is one token, "<=>" is "<=" ">")
//   comments           -- to the end of the line, /* ... */ (nesting, as in
//                      PostgreSQL); both are dropped like whitespace.
//
// The input must be valid UTF-8; a leading byte-order mark is ignored. Every
// token carries its byte offset, 1-based line and 1-based column, where the
// column counts characters (code points; a tab counts as one). Errors are
// kInvalidArgument values: "line L, column C: ..." for a bad token, and
// "unterminated string literal starting at line L, column C" (or quoted
// identifier, or block comment) when the input ends inside one.
//
// Thread-safety: all functions are pure; a TokenCursor is not shared.
#ifndef RETL_QUERY_LEXER_H_
#define RETL_QUERY_LEXER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "retl/status.h"

namespace retl {

enum class TokenKind : uint8_t {
  kEnd,               // end of input, always the last token; text is empty
  kIdentifier,        // unquoted word, keywords included
  kQuotedIdentifier,  // "..."
  kInteger,           // digits only
  kDecimal,           // with a '.' or an exponent
  kString,            // '...'
  kParameter,         // ? or $N
  kOperator,          // punctuation and operators
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  // kIdentifier, numbers, kParameter, kOperator: the spelling as written
  // ("Select", "1.5e3", "$1", "<>"). kQuotedIdentifier and kString: the value,
  // without the quotes and with doubled quotes made single.
  std::string text;
  size_t offset = 0;  // byte offset of the token's first byte in the input
  size_t length = 0;  // bytes the token spans in the input, quotes included
  int line = 1;       // 1-based
  int column = 1;     // 1-based, in characters

  // True for an unquoted identifier equal to `keyword` ignoring ASCII case.
  // `"select"` (quoted) is never a keyword.
  bool IsKeyword(std::string_view keyword) const;
  // True for the operator token spelled exactly `op` (e.g. "(" or "<=").
  bool IsOperator(std::string_view op) const;
  // True for a token usable as a name: quoted or unquoted identifier.
  bool IsIdentifier() const {
    return kind == TokenKind::kIdentifier || kind == TokenKind::kQuotedIdentifier;
  }
  // How error messages show the token: "end of input", 'foo', '"my col"',
  // string literal 'it''s', '('. Long text is cut to 40 bytes plus "...";
  // control characters are escaped.
  std::string Describe() const;
  // "line L, column C".
  std::string Location() const;
};

// Splits `sql` into tokens, comments and whitespace dropped, ending with one
// kEnd token positioned just past the last character. The whole input is
// lexed before returning, so a lexical error anywhere wins over a syntax
// error that a parser would find earlier.
absl::StatusOr<std::vector<Token>> Tokenize(std::string_view sql);

// kInvalidArgument "line L, column C: <message>" at `token`.
absl::Status ErrorAt(const Token& token, std::string_view message);

// A read position over the tokens of one input, for recursive-descent
// parsers. Reading past the end keeps returning the kEnd token.
class TokenCursor {
 public:
  // `tokens` as returned by Tokenize(): non-empty, ending with kEnd.
  explicit TokenCursor(std::vector<Token> tokens);

  // The token `ahead` positions after the current one (0 = current).
  const Token& Peek(size_t ahead = 0) const;
  // Returns the current token and moves past it (never past kEnd).
  const Token& Next();
  bool AtEnd() const { return Peek().kind == TokenKind::kEnd; }

  // Consume the current token and return true if it is `keyword` (as
  // Token::IsKeyword) or the operator `op`; otherwise return false.
  bool ConsumeKeyword(std::string_view keyword);
  bool ConsumeOperator(std::string_view op);

  // As ConsumeKeyword/ConsumeOperator, but a mismatch is the error
  // "line L, column C: expected KEYWORD <context>, found X" (the keyword in
  // upper case, the operator quoted: expected '(' after table name).
  absl::Status ExpectKeyword(std::string_view keyword, std::string_view context);
  absl::Status ExpectOperator(std::string_view op, std::string_view context);

  // "line L, column C: expected <what>, found X" at the current token.
  absl::Status Expected(std::string_view what) const;

 private:
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace retl

#endif  // RETL_QUERY_LEXER_H_
