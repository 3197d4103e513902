#include "query/lexer.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace retl {
namespace {

// Debian's Abseil defines its own absl::string_view, which std::string_view
// does not convert to; this bridges the two (a no-op where they are one).
absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
// Describe() cuts token text longer than this many bytes.
constexpr size_t kMaxDescribedBytes = 40;

// Multi-character operators, tried before single characters (longest match).
constexpr std::string_view kTwoCharOperators[] = {"<>", "!=", "<=", ">=", "||", "::"};
constexpr std::string_view kOneCharOperators = "=<>+-*/%.,;()";

bool IsIdentifierStart(unsigned char c) {
  return absl::ascii_isalpha(c) || c == '_' || c >= 0x80;
}
bool IsIdentifierPart(unsigned char c) {
  return IsIdentifierStart(c) || absl::ascii_isdigit(c) || c == '$';
}
bool IsContinuationByte(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length (1..4) of the well-formed UTF-8 sequence at s[i], or 0 if it is not
// one (stray continuation byte, truncated, overlong, surrogate, > U+10FFFF).
int Utf8SequenceLength(std::string_view s, size_t i) {
  unsigned char c = s[i];
  if (c < 0x80) return 1;
  int n;
  uint32_t code_point;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    code_point = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    code_point = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    code_point = c & 0x07;
  } else {
    return 0;
  }
  if (s.size() - i < static_cast<size_t>(n)) return 0;
  for (int k = 1; k < n; ++k) {
    unsigned char b = s[i + k];
    if (!IsContinuationByte(b)) return 0;
    code_point = (code_point << 6) | (b & 0x3F);
  }
  constexpr uint32_t kMinCodePoint[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kMinCodePoint[n] || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return 0;
  }
  return n;
}

// `text` for an error message: control characters escaped, cut at
// kMaxDescribedBytes on a character boundary.
std::string Printable(std::string_view text) {
  bool cut = false;
  if (text.size() > kMaxDescribedBytes) {
    size_t end = kMaxDescribedBytes;
    while (end > 0 && IsContinuationByte(text[end])) --end;
    text = text.substr(0, end);
    cut = true;
  }
  std::string out;
  for (unsigned char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += absl::StrFormat("\\x%02x", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (cut) out += "...";
  return out;
}

// Doubles every `quote` in `text` (the inverse of the lexer's unescaping).
std::string Requote(std::string_view text, char quote) {
  std::string out(1, quote);
  for (char c : text) {
    if (c == quote) out += quote;
    out += c;
  }
  out += quote;
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string_view sql) : sql_(sql) {}

  absl::StatusOr<std::vector<Token>> Run() {
    if (sql_.starts_with(kByteOrderMark)) pos_ = kByteOrderMark.size();  // column stays 1
    RETL_RETURN_IF_ERROR(CheckUtf8());
    std::vector<Token> tokens;
    while (true) {
      RETL_RETURN_IF_ERROR(SkipWhitespaceAndComments());
      Token token = StartToken();
      if (pos_ == sql_.size()) {
        tokens.push_back(std::move(token));  // kEnd
        return tokens;
      }
      RETL_RETURN_IF_ERROR(LexToken(&token));
      token.length = pos_ - token.offset;
      tokens.push_back(std::move(token));
    }
  }

 private:
  // The byte `ahead` positions after the current one, or -1 past the end.
  int Byte(size_t ahead = 0) const {
    return pos_ + ahead < sql_.size() ? static_cast<unsigned char>(sql_[pos_ + ahead]) : -1;
  }
  bool IsDigitAt(size_t ahead) const {
    int c = Byte(ahead);
    return c >= '0' && c <= '9';
  }
  bool IsIdentifierPartAt(size_t ahead) const {
    int c = Byte(ahead);
    return c >= 0 && IsIdentifierPart(static_cast<unsigned char>(c));
  }

  // Moves past `n` bytes, keeping line and column up to date.
  void Advance(size_t n = 1) {
    for (size_t end = pos_ + n; pos_ < end; ++pos_) {
      unsigned char c = sql_[pos_];
      if (c == '\n') {
        ++line_;
        column_ = 1;
      } else if (!IsContinuationByte(c)) {
        ++column_;
      }
    }
  }

  Token StartToken() const {
    Token token;
    token.offset = pos_;
    token.line = line_;
    token.column = column_;
    return token;
  }

  static std::string At(const Token& start) {
    return absl::StrCat("line ", start.line, ", column ", start.column);
  }

  absl::Status CheckUtf8() {
    for (size_t i = pos_; i < sql_.size();) {
      int n = Utf8SequenceLength(sql_, i);
      if (n == 0) {
        Advance(i - pos_);
        return ErrorAt(StartToken(), absl::StrFormat("invalid UTF-8 byte 0x%02X",
                                                     static_cast<unsigned char>(sql_[i])));
      }
      i += n;
    }
    return absl::OkStatus();
  }

  absl::Status SkipWhitespaceAndComments() {
    while (pos_ < sql_.size()) {
      int c = Byte();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        Advance();
      } else if (c == '-' && Byte(1) == '-') {
        while (pos_ < sql_.size() && Byte() != '\n') Advance();
      } else if (c == '/' && Byte(1) == '*') {
        Token start = StartToken();
        Advance(2);
        int depth = 1;
        while (depth > 0) {
          if (pos_ == sql_.size()) {
            return absl::InvalidArgumentError(
                absl::StrCat("unterminated block comment starting at ", At(start)));
          }
          if (Byte() == '/' && Byte(1) == '*') {
            ++depth;
            Advance(2);
          } else if (Byte() == '*' && Byte(1) == '/') {
            --depth;
            Advance(2);
          } else {
            Advance();
          }
        }
      } else {
        break;
      }
    }
    return absl::OkStatus();
  }

  // Lexes the token starting at the current (non-blank) byte into `token`,
  // whose position is already set.
  absl::Status LexToken(Token* token) {
    unsigned char c = sql_[pos_];
    if (IsIdentifierStart(c)) {
      size_t n = 1;
      while (IsIdentifierPartAt(n)) ++n;
      token->kind = TokenKind::kIdentifier;
      token->text = std::string(sql_.substr(pos_, n));
      Advance(n);
      return absl::OkStatus();
    }
    if (c == '"') return LexQuoted('"', TokenKind::kQuotedIdentifier, "quoted identifier", token);
    if (c == '\'') return LexQuoted('\'', TokenKind::kString, "string literal", token);
    if (absl::ascii_isdigit(c) || (c == '.' && IsDigitAt(1))) return LexNumber(token);
    if (c == '?' || (c == '$' && IsDigitAt(1))) {
      size_t n = 1;
      if (c == '$') {
        while (IsDigitAt(n)) ++n;
        if (IsIdentifierPartAt(n)) return JunkError(*token, n, "parameter");
      }
      token->kind = TokenKind::kParameter;
      token->text = std::string(sql_.substr(pos_, n));
      Advance(n);
      return absl::OkStatus();
    }
    for (std::string_view op : kTwoCharOperators) {
      if (sql_.substr(pos_, 2) == op) {
        token->kind = TokenKind::kOperator;
        token->text = std::string(op);
        Advance(2);
        return absl::OkStatus();
      }
    }
    if (kOneCharOperators.find(static_cast<char>(c)) != std::string_view::npos) {
      token->kind = TokenKind::kOperator;
      token->text = std::string(1, static_cast<char>(c));
      Advance();
      return absl::OkStatus();
    }
    std::string shown = c >= 0x20 && c < 0x7F ? std::string(1, static_cast<char>(c))
                                               : absl::StrFormat("\\x%02x", c);
    return ErrorAt(*token, absl::StrCat("unexpected character '", shown, "'"));
  }

  // A quoted string or identifier starting at the current byte `quote`.
  absl::Status LexQuoted(char quote, TokenKind kind, std::string_view what, Token* token) {
    Advance();  // opening quote
    std::string value;
    while (true) {
      size_t close = sql_.find(quote, pos_);
      if (close == std::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("unterminated ", ToAbsl(what), " starting at ", At(*token)));
      }
      value.append(sql_.substr(pos_, close - pos_));
      Advance(close - pos_ + 1);
      if (Byte() != quote) break;
      value += quote;  // a doubled quote stands for one
      Advance();
    }
    if (kind == TokenKind::kQuotedIdentifier && value.empty()) {
      return ErrorAt(*token, "zero-length quoted identifier");
    }
    token->kind = kind;
    token->text = std::move(value);
    return absl::OkStatus();
  }

  // digits [. digits*] [e [+-] digits] | . digits [e [+-] digits]
  absl::Status LexNumber(Token* token) {
    size_t n = 0;
    bool decimal = false;
    while (IsDigitAt(n)) ++n;
    if (Byte(n) == '.') {
      decimal = true;
      ++n;
      while (IsDigitAt(n)) ++n;
    }
    if (Byte(n) == 'e' || Byte(n) == 'E') {
      size_t digits = n + 1;
      if (Byte(digits) == '+' || Byte(digits) == '-') ++digits;
      if (!IsDigitAt(digits)) {
        // "1e", "1e+", "1ex": no exponent digits.
        return JunkError(*token, digits, "numeric literal");
      }
      decimal = true;
      n = digits;
      while (IsDigitAt(n)) ++n;
    }
    if (IsIdentifierPartAt(n)) return JunkError(*token, n, "numeric literal");
    token->kind = decimal ? TokenKind::kDecimal : TokenKind::kInteger;
    token->text = std::string(sql_.substr(pos_, n));
    Advance(n);
    return absl::OkStatus();
  }

  // "line L, column C: invalid <what> '<text>'" where the text is the first
  // `n` bytes of the token plus any letters, digits, '_' or '$' after them.
  absl::Status JunkError(const Token& token, size_t n, std::string_view what) const {
    while (IsIdentifierPartAt(n)) ++n;
    return ErrorAt(token, absl::StrCat("invalid ", ToAbsl(what), " '",
                                       Printable(sql_.substr(pos_, n)), "'"));
  }

  std::string_view sql_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

}  // namespace

bool Token::IsKeyword(std::string_view keyword) const {
  if (kind != TokenKind::kIdentifier || text.size() != keyword.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (absl::ascii_tolower(text[i]) != absl::ascii_tolower(keyword[i])) return false;
  }
  return true;
}

bool Token::IsOperator(std::string_view op) const {
  return kind == TokenKind::kOperator && text == op;
}

std::string Token::Describe() const {
  switch (kind) {
    case TokenKind::kEnd:
      return "end of input";
    case TokenKind::kQuotedIdentifier:
      return absl::StrCat("'", Printable(Requote(text, '"')), "'");
    case TokenKind::kString:
      return absl::StrCat("string literal ", Printable(Requote(text, '\'')));
    default:
      return absl::StrCat("'", Printable(text), "'");
  }
}

std::string Token::Location() const { return absl::StrCat("line ", line, ", column ", column); }

absl::StatusOr<std::vector<Token>> Tokenize(std::string_view sql) { return Lexer(sql).Run(); }

absl::Status ErrorAt(const Token& token, std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(token.Location(), ": ", ToAbsl(message)));
}

TokenCursor::TokenCursor(std::vector<Token> tokens) : tokens_(std::move(tokens)) {
  if (tokens_.empty() || tokens_.back().kind != TokenKind::kEnd) tokens_.emplace_back();
}

const Token& TokenCursor::Peek(size_t ahead) const {
  size_t i = pos_ + ahead;
  return i < tokens_.size() ? tokens_[i] : tokens_.back();
}

const Token& TokenCursor::Next() {
  const Token& token = tokens_[pos_];
  if (pos_ + 1 < tokens_.size()) ++pos_;
  return token;
}

bool TokenCursor::ConsumeKeyword(std::string_view keyword) {
  if (!Peek().IsKeyword(keyword)) return false;
  Next();
  return true;
}

bool TokenCursor::ConsumeOperator(std::string_view op) {
  if (!Peek().IsOperator(op)) return false;
  Next();
  return true;
}

namespace {
std::string ExpectedWhat(std::string_view thing, std::string_view context) {
  return context.empty() ? std::string(thing) : absl::StrCat(ToAbsl(thing), " ", ToAbsl(context));
}
}  // namespace

absl::Status TokenCursor::ExpectKeyword(std::string_view keyword, std::string_view context) {
  if (ConsumeKeyword(keyword)) return absl::OkStatus();
  return Expected(ExpectedWhat(absl::AsciiStrToUpper(ToAbsl(keyword)), context));
}

absl::Status TokenCursor::ExpectOperator(std::string_view op, std::string_view context) {
  if (ConsumeOperator(op)) return absl::OkStatus();
  return Expected(ExpectedWhat(absl::StrCat("'", ToAbsl(op), "'"), context));
}

absl::Status TokenCursor::Expected(std::string_view what) const {
  return ErrorAt(Peek(), absl::StrCat("expected ", ToAbsl(what), ", found ", Peek().Describe()));
}

}  // namespace retl
