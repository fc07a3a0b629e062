#include "intel/stix_pattern.h"

#include <string>
#include <utility>

namespace orbwatch::intel {

namespace {

enum class Tok : uint8_t {
  kEnd,
  kLBracket,
  kRBracket,
  kLParen,
  kRParen,
  kColon,
  kDot,
  kStar,
  kComma,
  kOp,            // = != < <= > >=
  kString,        // '...' (text holds the unescaped value)
  kTypedLiteral,  // t'...', h'...', b'...'
  kNumber,
  kWord,  // identifiers and keywords (AND, OR, NOT, LIKE, WITHIN, true, ...)
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;
  size_t offset = 0;
};

bool is_word_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_word_char(char c) {
  return is_word_start(c) || (c >= '0' && c <= '9') || c == '-';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::string at(size_t offset) {
  return "at offset " + std::to_string(offset);
}

// Splits the pattern into tokens; false (with `error`) on text that is no STIX token.
bool tokenize(std::string_view s, std::vector<Token>& out, std::string& error) {
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    Token t;
    t.offset = i;
    auto single = [&](Tok k) {
      t.kind = k;
      t.text.assign(1, c);
      ++i;
    };
    switch (c) {
      case '[':
        single(Tok::kLBracket);
        break;
      case ']':
        single(Tok::kRBracket);
        break;
      case '(':
        single(Tok::kLParen);
        break;
      case ')':
        single(Tok::kRParen);
        break;
      case ':':
        single(Tok::kColon);
        break;
      case '.':
        single(Tok::kDot);
        break;
      case '*':
        single(Tok::kStar);
        break;
      case ',':
        single(Tok::kComma);
        break;
      case '=':
        single(Tok::kOp);
        if (i < s.size() && s[i] == '=') {  // "==" is not STIX, but some producers write it
          error = "'==' is not a STIX operator " + at(t.offset);
          return false;
        }
        break;
      case '!':
      case '<':
      case '>':
        t.kind = Tok::kOp;
        t.text.assign(1, c);
        ++i;
        if (i < s.size() && s[i] == '=') {
          t.text += '=';
          ++i;
        } else if (c == '!') {
          error = "'!' without '=' " + at(t.offset);
          return false;
        }
        break;
      default:
        break;
    }
    if (t.kind != Tok::kEnd) {
      out.push_back(std::move(t));
      continue;
    }
    bool typed = (c == 't' || c == 'h' || c == 'b') && i + 1 < s.size() && s[i + 1] == '\'';
    if (c == '\'' || typed) {
      t.kind = typed ? Tok::kTypedLiteral : Tok::kString;
      if (typed) ++i;
      ++i;  // opening quote
      bool closed = false;
      while (i < s.size()) {
        char d = s[i++];
        if (d == '\'') {
          closed = true;
          break;
        }
        if (d == '\\') {
          // STIX 2.1 9.4: only \' and \\ are escapes in string literals.
          if (i >= s.size() || (s[i] != '\'' && s[i] != '\\')) {
            error = "invalid escape in string " + at(i - 1);
            return false;
          }
          d = s[i++];
        }
        t.text += d;
      }
      if (!closed) {
        error = "unterminated string starting " + at(t.offset);
        return false;
      }
    } else if (is_word_start(c)) {
      t.kind = Tok::kWord;
      while (i < s.size() && is_word_char(s[i])) t.text += s[i++];
    } else if (is_digit(c) || ((c == '-' || c == '+') && i + 1 < s.size() && is_digit(s[i + 1]))) {
      t.kind = Tok::kNumber;
      t.text += s[i++];
      while (i < s.size() && (is_digit(s[i]) || s[i] == '.')) t.text += s[i++];
    } else {
      auto u = static_cast<unsigned char>(c);
      static constexpr char kHex[] = "0123456789abcdef";
      std::string shown = u >= 0x20 && u < 0x7f
                              ? std::string(1, c)
                              : std::string{'\\', 'x', kHex[u >> 4], kHex[u & 15]};
      error = "unexpected character '" + shown + "' " + at(i);
      return false;
    }
    out.push_back(std::move(t));
  }
  out.push_back(Token{Tok::kEnd, "", s.size()});
  return true;
}

constexpr int kMaxParenDepth = 32;

class PatternParser {
 public:
  explicit PatternParser(std::vector<Token> toks) : toks_(std::move(toks)) {}

  StixPattern run() {
    if (observation_expression() && peek().kind != Tok::kEnd) {
      syntax("unexpected '" + peek().text + "' " + at(peek().offset) + " after the pattern");
    }
    if (out_.status == StixPattern::Status::kOk && out_.comparisons.empty()) {
      out_.status = StixPattern::Status::kUnsupported;
      for (const auto& r : out_.skipped) out_.reason += (out_.reason.empty() ? "" : "; ") + r;
      out_.skipped.clear();
    }
    if (out_.status != StixPattern::Status::kOk) {
      out_.comparisons.clear();
      out_.skipped.clear();
    }
    return std::move(out_);
  }

 private:
  const Token& peek() const { return toks_[pos_]; }
  const Token& next() { return toks_[pos_ < toks_.size() - 1 ? pos_++ : pos_]; }
  bool is_word(std::string_view w) const { return peek().kind == Tok::kWord && peek().text == w; }

  bool syntax(std::string reason) {
    if (out_.status == StixPattern::Status::kOk) {
      out_.status = StixPattern::Status::kSyntax;
      out_.reason = std::move(reason);
    }
    return false;
  }
  bool unsupported(std::string reason) {
    if (out_.status == StixPattern::Status::kOk) {
      out_.status = StixPattern::Status::kUnsupported;
      out_.reason = std::move(reason);
    }
    return false;
  }
  bool expect(Tok k, const char* what) {
    if (peek().kind != k) {
      return syntax(std::string("expected ") + what + " " + at(peek().offset) + ", got '" +
                    peek().text + "'");
    }
    next();
    return true;
  }
  bool enter() {
    if (++depth_ > kMaxParenDepth) {
      return syntax("parentheses nested deeper than " + std::to_string(kMaxParenDepth));
    }
    return true;
  }

  // observation-expression: term (OR term)*; AND and FOLLOWEDBY cannot be represented.
  bool observation_expression() {
    if (!observation_term()) return false;
    for (;;) {
      if (is_word("OR")) {
        next();
        if (!observation_term()) return false;
      } else if (is_word("AND") || is_word("FOLLOWEDBY")) {
        return unsupported(peek().text + " between observation expressions");
      } else {
        return true;
      }
    }
  }

  bool observation_term() {
    if (peek().kind == Tok::kLParen) {
      next();
      if (!enter() || !observation_expression() || !expect(Tok::kRParen, "')'")) return false;
      --depth_;
    } else if (peek().kind == Tok::kLBracket) {
      next();
      if (!comparison_expression() || !expect(Tok::kRBracket, "']'")) return false;
    } else {
      return syntax("expected '[' or '(' " + at(peek().offset) + ", got '" + peek().text + "'");
    }
    if (is_word("WITHIN") || is_word("START") || is_word("STOP") || is_word("REPEATS")) {
      return unsupported("qualifier " + peek().text);
    }
    return true;
  }

  bool comparison_expression() {
    if (!comparison_term()) return false;
    for (;;) {
      if (is_word("OR")) {
        next();
        if (!comparison_term()) return false;
      } else if (is_word("AND")) {
        return unsupported("AND inside an observation expression");
      } else {
        return true;
      }
    }
  }

  bool comparison_term() {
    if (peek().kind == Tok::kLParen) {
      next();
      if (!enter() || !comparison_expression() || !expect(Tok::kRParen, "')'")) return false;
      --depth_;
      return true;
    }
    return comparison();
  }

  // object-type ':' component ( '.' component | '[' index ']' )*
  bool object_path(std::string& path) {
    if (peek().kind != Tok::kWord) {
      return syntax("expected an object path " + at(peek().offset) + ", got '" + peek().text + "'");
    }
    path = next().text;
    if (!expect(Tok::kColon, "':' after the object type")) return false;
    path += ':';
    bool first = true;
    for (;;) {
      if (first || peek().kind == Tok::kDot) {
        if (!first) {
          next();
          path += '.';
        }
        first = false;
        if (peek().kind == Tok::kWord) {
          path += next().text;
        } else if (peek().kind == Tok::kString) {
          path += "'" + next().text + "'";
        } else {
          return syntax("expected a property name " + at(peek().offset));
        }
      } else if (peek().kind == Tok::kLBracket) {
        next();
        if (peek().kind != Tok::kNumber && peek().kind != Tok::kStar) {
          return syntax("expected a list index or '*' " + at(peek().offset));
        }
        path += "[" + next().text;
        if (!expect(Tok::kRBracket, "']' after the list index")) return false;
        path += ']';
      } else {
        return true;
      }
    }
  }

  static bool is_literal(Tok k) {
    return k == Tok::kString || k == Tok::kTypedLiteral || k == Tok::kNumber;
  }

  bool value(bool& is_string, std::string& text) {
    const Token& t = peek();
    if (is_literal(t.kind) || (t.kind == Tok::kWord && (t.text == "true" || t.text == "false"))) {
      is_string = t.kind == Tok::kString;
      text = next().text;
      return true;
    }
    if (t.kind == Tok::kLParen) {  // IN ('a', 'b')
      next();
      is_string = false;
      for (;;) {
        if (!is_literal(peek().kind)) return syntax("expected a literal " + at(peek().offset));
        next();
        if (peek().kind == Tok::kComma) {
          next();
          continue;
        }
        return expect(Tok::kRParen, "')' after the set");
      }
    }
    return syntax("expected a value " + at(t.offset) + ", got '" + t.text + "'");
  }

  bool comparison() {
    std::string path;
    if (!object_path(path)) return false;
    bool negated = false;
    if (is_word("NOT")) {
      next();
      negated = true;
    }
    bool is_op = peek().kind == Tok::kOp || is_word("LIKE") || is_word("MATCHES") ||
                 is_word("ISSUBSET") || is_word("ISSUPERSET") || is_word("IN");
    if (!is_op) {
      return syntax("expected a comparison operator " + at(peek().offset) + ", got '" +
                    peek().text + "'");
    }
    std::string op = next().text;
    bool is_string = false;
    std::string text;
    if (!value(is_string, text)) return false;

    std::string where = "'" + path + "'";
    if (negated) {
      out_.skipped.push_back("NOT on " + where);
    } else if (op != "=") {
      out_.skipped.push_back("operator " + op + " on " + where);
    } else if (!is_string) {
      out_.skipped.push_back("non-string value for " + where);
    } else {
      StixComparison c;
      if (path == "ipv4-addr:value") {
        c.path = StixObjectPath::kIpv4Value;
      } else if (path == "ipv6-addr:value") {
        c.path = StixObjectPath::kIpv6Value;
      } else if (path == "domain-name:value") {
        c.path = StixObjectPath::kDomainValue;
      } else if (path == "network-traffic:dst_ref.value") {
        c.path = StixObjectPath::kTrafficDstRefValue;
      } else if (path == "network-traffic:src_ref.value") {
        c.path = StixObjectPath::kTrafficSrcRefValue;
      } else {
        out_.skipped.push_back("object path " + where);
        return true;
      }
      c.value = std::move(text);
      out_.comparisons.push_back(std::move(c));
    }
    return true;
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  StixPattern out_;
};

}  // namespace

const char* stix_object_path_name(StixObjectPath p) {
  switch (p) {
    case StixObjectPath::kIpv4Value:
      return "ipv4-addr:value";
    case StixObjectPath::kIpv6Value:
      return "ipv6-addr:value";
    case StixObjectPath::kDomainValue:
      return "domain-name:value";
    case StixObjectPath::kTrafficDstRefValue:
      return "network-traffic:dst_ref.value";
    case StixObjectPath::kTrafficSrcRefValue:
      return "network-traffic:src_ref.value";
  }
  return "?";
}

StixPattern parse_stix_pattern(std::string_view pattern) {
  StixPattern out;
  if (pattern.size() > kMaxStixPatternBytes) {
    out.status = StixPattern::Status::kSyntax;
    out.reason = "pattern longer than " + std::to_string(kMaxStixPatternBytes) + " bytes";
    return out;
  }
  std::vector<Token> toks;
  std::string error;
  if (!tokenize(pattern, toks, error)) {
    out.status = StixPattern::Status::kSyntax;
    out.reason = std::move(error);
    return out;
  }
  return PatternParser(std::move(toks)).run();
}

}  // namespace orbwatch::intel
