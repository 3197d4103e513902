#include "query/lexer.h"

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace retl {
namespace {

std::vector<Token> Lex(std::string_view sql) {
  absl::StatusOr<std::vector<Token>> tokens = Tokenize(sql);
  EXPECT_TRUE(tokens.ok()) << tokens.status();
  return tokens.ok() ? *std::move(tokens) : std::vector<Token>{};
}

// The tokens of `sql` before kEnd as "kind:text" words, e.g. "id:SELECT op:(".
std::string Summary(std::string_view sql) {
  std::string out;
  for (const Token& token : Lex(sql)) {
    std::string_view kind;
    switch (token.kind) {
      case TokenKind::kEnd: continue;
      case TokenKind::kIdentifier: kind = "id"; break;
      case TokenKind::kQuotedIdentifier: kind = "qid"; break;
      case TokenKind::kInteger: kind = "int"; break;
      case TokenKind::kDecimal: kind = "dec"; break;
      case TokenKind::kString: kind = "str"; break;
      case TokenKind::kParameter: kind = "param"; break;
      case TokenKind::kOperator: kind = "op"; break;
    }
    if (!out.empty()) out += ' ';
    out.append(kind);
    out += ':';
    out += token.text;
  }
  return out;
}

// The message of the error Tokenize() returns, or "OK".
std::string LexError(std::string_view sql) {
  absl::StatusOr<std::vector<Token>> tokens = Tokenize(sql);
  if (tokens.ok()) return "OK";
  EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument) << tokens.status();
  return std::string(tokens.status().message());
}

Token MakeToken(TokenKind kind, std::string text) {
  Token token;
  token.kind = kind;
  token.text = std::move(text);
  return token;
}

TEST(LexerTest, EmptyInputIsOneEndToken) {
  std::vector<Token> tokens = Lex("");
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].kind, TokenKind::kEnd);
  EXPECT_EQ(tokens[0].text, "");
  EXPECT_EQ(tokens[0].offset, 0u);
  EXPECT_EQ(tokens[0].line, 1);
  EXPECT_EQ(tokens[0].column, 1);
}

TEST(LexerTest, EndTokenIsPlacedAfterTrailingBlanksAndComments) {
  std::vector<Token> tokens = Lex("x -- note\n /* c */ ");
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[1].kind, TokenKind::kEnd);
  EXPECT_EQ(tokens[1].offset, 19u);
  EXPECT_EQ(tokens[1].line, 2);
  EXPECT_EQ(tokens[1].column, 10);
  EXPECT_EQ(tokens[1].length, 0u);
}

TEST(LexerTest, IdentifiersKeepTheirSpelling) {
  EXPECT_EQ(Summary("select Foo _x a1$b x_Y_9"), "id:select id:Foo id:_x id:a1$b id:x_Y_9");
  EXPECT_EQ(Summary("été 日本 naïve"), "id:été id:日本 id:naïve");
}

TEST(LexerTest, KeywordsAreRecognisedCaseInsensitivelyOnUnquotedIdentifiersOnly) {
  std::vector<Token> tokens = Lex("SeLeCt \"select\" selects 'select'");
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_TRUE(tokens[0].IsKeyword("select"));
  EXPECT_TRUE(tokens[0].IsKeyword("SELECT"));
  EXPECT_FALSE(tokens[0].IsKeyword("selec"));
  EXPECT_FALSE(tokens[0].IsKeyword("from"));
  EXPECT_FALSE(tokens[1].IsKeyword("select"));  // quoted
  EXPECT_FALSE(tokens[2].IsKeyword("select"));
  EXPECT_FALSE(tokens[3].IsKeyword("select"));  // a string
  EXPECT_FALSE(tokens[4].IsKeyword(""));        // kEnd
  EXPECT_TRUE(tokens[0].IsIdentifier());
  EXPECT_TRUE(tokens[1].IsIdentifier());
  EXPECT_FALSE(tokens[3].IsIdentifier());
}

TEST(LexerTest, QuotedIdentifiers) {
  EXPECT_EQ(Summary(R"("a b" "say ""hi""" "select" "x--y" "/*" "'" """")"),
            R"(qid:a b qid:say "hi" qid:select qid:x--y qid:/* qid:' qid:")");
  EXPECT_EQ(Summary("\"line\nbreak\""), "qid:line\nbreak");
  EXPECT_EQ(Summary("\"MixedCase\""), "qid:MixedCase");
}

TEST(LexerTest, QuotedIdentifierErrors) {
  EXPECT_EQ(LexError("SELECT \"\""), "line 1, column 8: zero-length quoted identifier");
  EXPECT_EQ(LexError("x\n  \"abc"), "unterminated quoted identifier starting at line 2, column 3");
  // The closing quote of "a"" is read as half of an escaped quote.
  EXPECT_EQ(LexError("\"a\"\""), "unterminated quoted identifier starting at line 1, column 1");
}

TEST(LexerTest, IntegerAndDecimalLiterals) {
  EXPECT_EQ(Summary("0 42 007 18446744073709551616"),
            "int:0 int:42 int:007 int:18446744073709551616");
  EXPECT_EQ(Summary("3.14 .5 1. 1e10 1E+5 2.5e-3 1.e2 .5E1"),
            "dec:3.14 dec:.5 dec:1. dec:1e10 dec:1E+5 dec:2.5e-3 dec:1.e2 dec:.5E1");
}

TEST(LexerTest, NumbersNextToOperators) {
  EXPECT_EQ(Summary("1+2"), "int:1 op:+ int:2");
  EXPECT_EQ(Summary("1-1"), "int:1 op:- int:1");
  EXPECT_EQ(Summary("3.5*x"), "dec:3.5 op:* id:x");
  EXPECT_EQ(Summary("1e3-2"), "dec:1e3 op:- int:2");
  EXPECT_EQ(Summary("a.b"), "id:a op:. id:b");
  EXPECT_EQ(Summary("t.\"c\""), "id:t op:. qid:c");
  EXPECT_EQ(Summary("1.5.3"), "dec:1.5 dec:.3");
  EXPECT_EQ(Summary("f(1,2)"), "id:f op:( int:1 op:, int:2 op:)");
  EXPECT_EQ(Summary("x::int"), "id:x op::: id:int");
}

TEST(LexerTest, MalformedNumbers) {
  EXPECT_EQ(LexError("12abc"), "line 1, column 1: invalid numeric literal '12abc'");
  EXPECT_EQ(LexError("x = 1e"), "line 1, column 5: invalid numeric literal '1e'");
  EXPECT_EQ(LexError("1e+ 2"), "line 1, column 1: invalid numeric literal '1e+'");
  EXPECT_EQ(LexError("1e-x"), "line 1, column 1: invalid numeric literal '1e-x'");
  EXPECT_EQ(LexError("1ex"), "line 1, column 1: invalid numeric literal '1ex'");
  EXPECT_EQ(LexError("1.5x"), "line 1, column 1: invalid numeric literal '1.5x'");
  EXPECT_EQ(LexError("1_000"), "line 1, column 1: invalid numeric literal '1_000'");
  EXPECT_EQ(LexError("\n  .5e"), "line 2, column 3: invalid numeric literal '.5e'");
  EXPECT_EQ(LexError("2$"), "line 1, column 1: invalid numeric literal '2$'");
}

TEST(LexerTest, StringLiterals) {
  EXPECT_EQ(Summary("'' 'abc' 'it''s' '--no comment' '/* nor */' '\"'"),
            "str: str:abc str:it's str:--no comment str:/* nor */ str:\"");
  EXPECT_EQ(Summary("'two\nlines'"), "str:two\nlines");
  EXPECT_EQ(Summary("''''"), "str:'");
  EXPECT_EQ(Summary("DATE '2024-01-01'"), "id:DATE str:2024-01-01");
  EXPECT_EQ(Summary("'a''b''''c'"), "str:a'b''c");
}

TEST(LexerTest, UnterminatedStringLiteral) {
  EXPECT_EQ(LexError("SELECT\n    'abc"),
            "unterminated string literal starting at line 2, column 5");
  EXPECT_EQ(LexError("'it''"), "unterminated string literal starting at line 1, column 1");
  EXPECT_EQ(LexError("'"), "unterminated string literal starting at line 1, column 1");
}

TEST(LexerTest, EveryOperator) {
  EXPECT_EQ(Summary("= <> != < <= > >= + - * / % || :: . , ; ( )"),
            "op:= op:<> op:!= op:< op:<= op:> op:>= op:+ op:- op:* op:/ op:% op:|| op::: op:. "
            "op:, op:; op:( op:)");
  // Longest match, without blanks.
  EXPECT_EQ(Summary("a<>b!=c<=d>=e||f::g"),
            "id:a op:<> id:b op:!= id:c op:<= id:d op:>= id:e op:|| id:f op::: id:g");
  EXPECT_EQ(Summary("<=>"), "op:<= op:>");
  EXPECT_EQ(Summary("<<"), "op:< op:<");
  EXPECT_EQ(Summary("*/"), "op:* op:/");
  EXPECT_EQ(Summary("(*)"), "op:( op:* op:)");
  std::vector<Token> tokens = Lex("<=");
  EXPECT_TRUE(tokens[0].IsOperator("<="));
  EXPECT_FALSE(tokens[0].IsOperator("<"));
  EXPECT_FALSE(Lex("'('")[0].IsOperator("("));
}

TEST(LexerTest, Parameters) {
  EXPECT_EQ(Summary("? $1 $23 a=?"), "param:? param:$1 param:$23 id:a op:= param:?");
  EXPECT_EQ(LexError("$"), "line 1, column 1: unexpected character '$'");
  EXPECT_EQ(LexError("x = $a"), "line 1, column 5: unexpected character '$'");
  EXPECT_EQ(LexError("$1a"), "line 1, column 1: invalid parameter '$1a'");
}

TEST(LexerTest, UnexpectedCharacters) {
  EXPECT_EQ(LexError("a # b"), "line 1, column 3: unexpected character '#'");
  EXPECT_EQ(LexError("!"), "line 1, column 1: unexpected character '!'");
  EXPECT_EQ(LexError("a | b"), "line 1, column 3: unexpected character '|'");
  EXPECT_EQ(LexError("a:b"), "line 1, column 2: unexpected character ':'");
  EXPECT_EQ(LexError("a[1]"), "line 1, column 2: unexpected character '['");
  EXPECT_EQ(LexError("\n\n   @"), "line 3, column 4: unexpected character '@'");
  EXPECT_EQ(LexError("a\x01"), "line 1, column 2: unexpected character '\\x01'");
  EXPECT_EQ(LexError(std::string_view("a\0b", 3)),
            "line 1, column 2: unexpected character '\\x00'");
}

TEST(LexerTest, CommentsAreDropped) {
  EXPECT_EQ(Summary("a -- comment ' \" /*\nb"), "id:a id:b");
  EXPECT_EQ(Summary("a --"), "id:a");
  EXPECT_EQ(Summary("a--b"), "id:a");
  EXPECT_EQ(Summary("--only\n--comments"), "");
  EXPECT_EQ(Summary("a/* x */b"), "id:a id:b");
  EXPECT_EQ(Summary("a /* multi\nline ' \" -- */ b"), "id:a id:b");
  EXPECT_EQ(Summary("/* outer /* inner */ still comment */ c"), "id:c");
  EXPECT_EQ(Summary("/**/x/***/y"), "id:x id:y");
  EXPECT_EQ(Summary("a - - b"), "id:a op:- op:- id:b");
  EXPECT_EQ(Summary("a / * b"), "id:a op:/ op:* id:b");
  EXPECT_EQ(Summary("'--' \"/*\""), "str:-- qid:/*");
}

TEST(LexerTest, UnterminatedBlockComment) {
  EXPECT_EQ(LexError("x\n  /* abc"), "unterminated block comment starting at line 2, column 3");
  EXPECT_EQ(LexError("/* a /* b */"), "unterminated block comment starting at line 1, column 1");
  EXPECT_EQ(LexError("/*/"), "unterminated block comment starting at line 1, column 1");
}

TEST(LexerTest, PositionsCountBytesLinesAndCharacters) {
  // Offsets are bytes; columns count characters ("é" is 2 bytes, 1 column;
  // a tab is one column); "\r\n" ends a line.
  std::string sql = "SELECT a,\n\t\"é x\" ,'ü''' -- c\r\nFROM  t1;";
  std::vector<Token> tokens = Lex(sql);
  struct Expected {
    TokenKind kind;
    std::string text;
    size_t offset;
    size_t length;
    int line;
    int column;
  };
  std::vector<Expected> expected = {
      {TokenKind::kIdentifier, "SELECT", 0, 6, 1, 1},
      {TokenKind::kIdentifier, "a", 7, 1, 1, 8},
      {TokenKind::kOperator, ",", 8, 1, 1, 9},
      {TokenKind::kQuotedIdentifier, "é x", 11, 6, 2, 2},
      {TokenKind::kOperator, ",", 18, 1, 2, 8},
      {TokenKind::kString, "ü'", 19, 6, 2, 9},
      {TokenKind::kIdentifier, "FROM", 32, 4, 3, 1},
      {TokenKind::kIdentifier, "t1", 38, 2, 3, 7},
      {TokenKind::kOperator, ";", 40, 1, 3, 9},
      {TokenKind::kEnd, "", 41, 0, 3, 10},
  };
  ASSERT_EQ(tokens.size(), expected.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(tokens[i].kind, expected[i].kind);
    EXPECT_EQ(tokens[i].text, expected[i].text);
    EXPECT_EQ(tokens[i].offset, expected[i].offset);
    EXPECT_EQ(tokens[i].length, expected[i].length);
    EXPECT_EQ(tokens[i].line, expected[i].line);
    EXPECT_EQ(tokens[i].column, expected[i].column);
    EXPECT_EQ(sql.substr(tokens[i].offset, tokens[i].length).empty(),
              expected[i].kind == TokenKind::kEnd);
  }
  // A multi-line token moves the following positions to its last line.
  tokens = Lex("'a\nbc' x");
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[1].line, 2);
  EXPECT_EQ(tokens[1].column, 5);
}

TEST(LexerTest, InputMustBeUtf8) {
  EXPECT_EQ(LexError("a \xff"), "line 1, column 3: invalid UTF-8 byte 0xFF");
  // Overlong, surrogate, above U+10FFFF, truncated, stray continuation byte.
  EXPECT_EQ(LexError("é\n  'ok' \xC0\x80"), "line 2, column 8: invalid UTF-8 byte 0xC0");
  EXPECT_EQ(LexError("'\xED\xA0\x80'"), "line 1, column 2: invalid UTF-8 byte 0xED");
  EXPECT_EQ(LexError("-- \xF4\x90\x80\x80"), "line 1, column 4: invalid UTF-8 byte 0xF4");
  EXPECT_EQ(LexError("x \xC3"), "line 1, column 3: invalid UTF-8 byte 0xC3");
  EXPECT_EQ(LexError("\x80"), "line 1, column 1: invalid UTF-8 byte 0x80");
  EXPECT_EQ(Summary("'\xF0\x9F\x98\x80'"), "str:\xF0\x9F\x98\x80");  // U+1F600 is fine
}

TEST(LexerTest, LeadingByteOrderMarkIsIgnored) {
  std::vector<Token> tokens = Lex("\xEF\xBB\xBFSELECT x");
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0].text, "SELECT");
  EXPECT_EQ(tokens[0].offset, 3u);
  EXPECT_EQ(tokens[0].column, 1);
  EXPECT_EQ(tokens[1].column, 8);
  EXPECT_EQ(LexError("\xEF\xBB\xBF#"), "line 1, column 1: unexpected character '#'");
  // Elsewhere U+FEFF is an identifier character like any non-ASCII one.
  EXPECT_EQ(Summary("a\xEF\xBB\xBF"), "id:a\xEF\xBB\xBF");
}

TEST(LexerTest, TokenizesAFullQuery) {
  EXPECT_EQ(Summary("SELECT plan, count(*) FROM customers\n"
                    "WHERE signup_date >= DATE '2024-01-01' AND ltv <> $1 -- q\n"
                    "ORDER BY 2 DESC LIMIT 10;"),
            "id:SELECT id:plan op:, id:count op:( op:* op:) id:FROM id:customers "
            "id:WHERE id:signup_date op:>= id:DATE str:2024-01-01 id:AND id:ltv op:<> param:$1 "
            "id:ORDER id:BY int:2 id:DESC id:LIMIT int:10 op:;");
}

TEST(TokenTest, Describe) {
  EXPECT_EQ(Token().Describe(), "end of input");
  EXPECT_EQ(MakeToken(TokenKind::kIdentifier, "foo").Describe(), "'foo'");
  EXPECT_EQ(MakeToken(TokenKind::kQuotedIdentifier, "my \"col\"").Describe(),
            "'\"my \"\"col\"\"\"'");
  EXPECT_EQ(MakeToken(TokenKind::kString, "it's").Describe(), "string literal 'it''s'");
  EXPECT_EQ(MakeToken(TokenKind::kInteger, "42").Describe(), "'42'");
  EXPECT_EQ(MakeToken(TokenKind::kDecimal, "1e5").Describe(), "'1e5'");
  EXPECT_EQ(MakeToken(TokenKind::kParameter, "$1").Describe(), "'$1'");
  EXPECT_EQ(MakeToken(TokenKind::kOperator, "(").Describe(), "'('");
  EXPECT_EQ(MakeToken(TokenKind::kQuotedIdentifier, "a\nb\tc\x01").Describe(),
            "'\"a\\nb\\tc\\x01\"'");
  EXPECT_EQ(MakeToken(TokenKind::kIdentifier, std::string(50, 'x')).Describe(),
            "'" + std::string(40, 'x') + "...'");
  // Cut on a character boundary: 39 x then "é" would straddle byte 40.
  EXPECT_EQ(MakeToken(TokenKind::kIdentifier, std::string(39, 'x') + "éééé").Describe(),
            "'" + std::string(39, 'x') + "...'");
}

TEST(TokenTest, ErrorAtAndLocation) {
  Token token = MakeToken(TokenKind::kIdentifier, "foo");
  token.line = 3;
  token.column = 14;
  EXPECT_EQ(token.Location(), "line 3, column 14");
  absl::Status status = ErrorAt(token, "something is wrong");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "line 3, column 14: something is wrong");
}

TEST(TokenCursorTest, PeekNextAndEnd) {
  TokenCursor cursor(Lex("a b"));
  EXPECT_EQ(cursor.Peek().text, "a");
  EXPECT_EQ(cursor.Peek(1).text, "b");
  EXPECT_EQ(cursor.Peek(2).kind, TokenKind::kEnd);
  EXPECT_EQ(cursor.Peek(100).kind, TokenKind::kEnd);
  EXPECT_FALSE(cursor.AtEnd());
  EXPECT_EQ(cursor.Next().text, "a");
  EXPECT_EQ(cursor.Next().text, "b");
  EXPECT_TRUE(cursor.AtEnd());
  EXPECT_EQ(cursor.Next().kind, TokenKind::kEnd);
  EXPECT_EQ(cursor.Next().kind, TokenKind::kEnd);
  EXPECT_TRUE(cursor.AtEnd());
}

TEST(TokenCursorTest, WithoutEndTokenGetsOne) {
  TokenCursor empty({});
  EXPECT_TRUE(empty.AtEnd());
  TokenCursor no_end({MakeToken(TokenKind::kIdentifier, "x")});
  EXPECT_EQ(no_end.Next().text, "x");
  EXPECT_TRUE(no_end.AtEnd());
}

TEST(TokenCursorTest, ConsumeAndExpect) {
  TokenCursor cursor(Lex("create TABLE ( view"));
  EXPECT_FALSE(cursor.ConsumeKeyword("table"));
  EXPECT_FALSE(cursor.ConsumeOperator("("));
  EXPECT_TRUE(cursor.ConsumeKeyword("CREATE"));
  EXPECT_TRUE(cursor.ExpectKeyword("table", "after CREATE").ok());
  EXPECT_TRUE(cursor.ConsumeOperator("("));
  absl::Status status = cursor.ExpectKeyword("table", "after CREATE");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "line 1, column 16: expected TABLE after CREATE, found 'view'");
  EXPECT_EQ(cursor.Peek().text, "view");  // not consumed
  EXPECT_EQ(cursor.ExpectOperator("(", "after name").message(),
            "line 1, column 16: expected '(' after name, found 'view'");
  EXPECT_EQ(cursor.ExpectKeyword("select", "").message(),
            "line 1, column 16: expected SELECT, found 'view'");
  EXPECT_EQ(cursor.Expected("a column name").message(),
            "line 1, column 16: expected a column name, found 'view'");
  cursor.Next();
  EXPECT_EQ(cursor.ExpectOperator(")", "").message(),
            "line 1, column 20: expected ')', found end of input");
}

}  // namespace
}  // namespace retl
