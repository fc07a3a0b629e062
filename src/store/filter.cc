#include "store/filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/ip_addr.h"
#include "intel/prefix_table.h"
#include "store/segment_columns.h"

namespace orbwatch::store {

namespace {

constexpr size_t kMaxDepth = 64;
constexpr size_t kMaxNodes = 1000;
constexpr size_t kMaxListEntries = 100'000;

enum class Dir : uint8_t { kEither, kSrc, kDst, kBoth };
enum class Cmp : uint8_t { kEq, kGt, kLt, kGe, kLe };

bool compare(uint64_t v, Cmp c, uint64_t x) {
  switch (c) {
    case Cmp::kEq:
      return v == x;
    case Cmp::kGt:
      return v > x;
    case Cmp::kLt:
      return v < x;
    case Cmp::kGe:
      return v >= x;
    case Cmp::kLe:
      return v <= x;
  }
  return false;
}

struct Token {
  std::string text;  // keywords lower-cased
  std::string raw;
  size_t column = 0;
};

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c)) || c == ',') {
      ++i;
      continue;
    }
    Token t;
    t.column = i + 1;
    size_t n = 1;
    if (c == '(' || c == ')' || c == '[' || c == ']') {
      n = 1;
    } else if (c == '&' || c == '|') {
      n = i + 1 < s.size() && s[i + 1] == c ? 2 : 1;
    } else if (c == '<' || c == '>' || c == '=' || c == '!') {
      n = i + 1 < s.size() && s[i + 1] == '=' ? 2 : 1;
    } else {
      while (i + n < s.size()) {
        const char d = s[i + n];
        if (std::isspace(static_cast<unsigned char>(d)) || d == ',' || d == '(' || d == ')' ||
            d == '[' || d == ']' || d == '<' || d == '>' || d == '=' || d == '!' || d == '&' ||
            d == '|') {
          break;
        }
        ++n;
      }
    }
    t.raw = std::string(s.substr(i, n));
    t.text = t.raw;
    for (auto& ch : t.text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out.push_back(std::move(t));
    i += n;
  }
  return out;
}

}  // namespace

struct Filter::Node {
  enum class Kind : uint8_t {
    kTrue,
    kAnd,
    kOr,
    kNot,
    kAddr,     // prefix (a host address is a /32 or /128)
    kAddrSet,  // table
    kPort,     // cmp value
    kPortSet,  // sorted values
    kAs,
    kAsSet,
    kIf,  // input (src) / output (dst) interface
    kProto,
    kFlags,
    kNoFlags,  // "not flags X": none of X set (nfdump's reading), not "not all of X"
    kBytes,
    kPackets,
    kDuration,
    kExporter,
    kFamily4,
    kFamily6,
  };
  Kind kind = Kind::kTrue;
  Dir dir = Dir::kEither;
  Cmp cmp = Cmp::kEq;
  uint64_t value = 0;
  Prefix prefix;
  int32_t a = -1, b = -1;  // children
  std::vector<uint32_t> values;
  std::shared_ptr<const intel::PrefixTable> table;
  std::vector<Prefix> prefixes;  // kAddrSet: the list, for address_hint()

  template <typename F>
  bool either(F&& test) const {
    switch (dir) {
      case Dir::kSrc:
        return test(true);
      case Dir::kDst:
        return test(false);
      case Dir::kBoth:
        return test(true) && test(false);
      case Dir::kEither:
        return test(true) || test(false);
    }
    return false;
  }
};

namespace {

class Parser {
 public:
  Parser(std::vector<Token> tokens, size_t end_column, FilterError& error)
      : t_(std::move(tokens)), end_(end_column), error_(error) {}

  std::optional<std::vector<Filter::Node>> run() {
    if (t_.empty()) {
      nodes_.push_back({});
      return std::move(nodes_);
    }
    int32_t root = expr(0);
    if (root < 0) return std::nullopt;
    if (pos_ != t_.size()) {
      fail(t_[pos_].column, "expected 'and', 'or' or the end, got '" + t_[pos_].raw + "'");
      return std::nullopt;
    }
    // The root last: evaluation starts at back().
    nodes_.push_back(nodes_[static_cast<size_t>(root)]);
    return std::move(nodes_);
  }

 private:
  using Node = Filter::Node;
  using K = Node::Kind;

  bool fail(size_t column, std::string message) {
    if (error_.message.empty()) error_ = {column, std::move(message)};
    return false;
  }
  const Token* peek(size_t ahead = 0) const {
    return pos_ + ahead < t_.size() ? &t_[pos_ + ahead] : nullptr;
  }
  bool is(const char* word, size_t ahead = 0) const {
    const Token* t = peek(ahead);
    return t != nullptr && t->text == word;
  }
  size_t column() const { return pos_ < t_.size() ? t_[pos_].column : end_; }
  std::string got() const { return pos_ < t_.size() ? "'" + t_[pos_].raw + "'" : "the end"; }

  int32_t add(Node n) {
    if (nodes_.size() >= kMaxNodes) {
      fail(column(), "filter too long (more than 1000 terms)");
      return -1;
    }
    nodes_.push_back(std::move(n));
    return static_cast<int32_t>(nodes_.size() - 1);
  }

  int32_t expr(size_t depth) { return chain(depth, true); }

  // A left-associative chain: "or" of "and" chains, "and" of factors ("and" binds tighter).
  int32_t chain(size_t depth, bool is_or) {
    auto operand = [&] { return is_or ? chain(depth, false) : factor(depth); };
    auto joiner = [&] { return is_or ? is("or") || is("||") : is("and") || is("&&"); };
    int32_t left = operand();
    while (left >= 0 && joiner()) {
      ++pos_;
      int32_t right = operand();
      if (right < 0) return -1;
      Node n;
      n.kind = is_or ? K::kOr : K::kAnd;
      n.a = left;
      n.b = right;
      left = add(std::move(n));
    }
    return left;
  }

  int32_t factor(size_t depth) {
    if (depth >= kMaxDepth) {
      fail(column(), "nested too deeply (more than 64 levels)");
      return -1;
    }
    if (is("not") || is("!")) {
      ++pos_;
      int32_t inner = factor(depth + 1);
      if (inner < 0) return -1;
      // As nfdump: "not flags AFRPU" means none of them is set (so "flags S and not flags
      // AFRPU" is a bare SYN), not "not all of them".
      if (nodes_[static_cast<size_t>(inner)].kind == K::kFlags) {
        nodes_[static_cast<size_t>(inner)].kind = K::kNoFlags;
        return inner;
      }
      Node n;
      n.kind = K::kNot;
      n.a = inner;
      return add(std::move(n));
    }
    if (is("(")) {
      const size_t open = column();
      ++pos_;
      int32_t inner = expr(depth + 1);
      if (inner < 0) return -1;
      if (!is(")")) {
        fail(column(),
             "expected ')' to close the '(' at column " + std::to_string(open) + ", got " + got());
        return -1;
      }
      ++pos_;
      return inner;
    }
    return primitive();
  }

  Dir direction() {
    if (is("src") && is("or", 1) && is("dst", 2)) {
      pos_ += 3;
      return Dir::kEither;
    }
    if (is("src") && is("and", 1) && is("dst", 2)) {
      pos_ += 3;
      return Dir::kBoth;
    }
    // "in if N" / "out if N": the input and output interface as the two directions.
    if (is("src") || (is("in") && is("if", 1))) {
      ++pos_;
      return Dir::kSrc;
    }
    if (is("out") && is("if", 1)) {
      ++pos_;
      return Dir::kDst;
    }
    if (is("dst")) {
      ++pos_;
      return Dir::kDst;
    }
    return Dir::kEither;
  }

  std::optional<Cmp> comparator() {
    static constexpr std::pair<const char*, Cmp> kOps[] = {
        {"=", Cmp::kEq},  {"==", Cmp::kEq}, {"eq", Cmp::kEq}, {">", Cmp::kGt},
        {"gt", Cmp::kGt}, {"<", Cmp::kLt},  {"lt", Cmp::kLt}, {">=", Cmp::kGe},
        {"ge", Cmp::kGe}, {"<=", Cmp::kLe}, {"le", Cmp::kLe}};
    for (const auto& [word, c] : kOps) {
      if (is(word)) {
        ++pos_;
        return c;
      }
    }
    return std::nullopt;
  }

  // A number with an optional k/m/g scale (x1000 each, as nfdump).
  std::optional<uint64_t> number(const char* what, uint64_t max, bool scaled) {
    const Token* t = peek();
    if (t == nullptr) {
      fail(column(), std::string("expected ") + what + ", got the end");
      return std::nullopt;
    }
    std::string_view s = t->text;
    uint64_t scale = 1;
    if (scaled && !s.empty()) {
      const char u = s.back();
      scale = u == 'k' ? 1000 : u == 'm' ? 1'000'000 : u == 'g' ? 1'000'000'000 : 1;
      if (scale != 1) s.remove_suffix(1);
    }
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || s.empty() || v > max / scale) {
      fail(t->column, std::string("expected ") + what + ", got '" + t->raw + "'");
      return std::nullopt;
    }
    ++pos_;
    return v * scale;
  }

  std::optional<Prefix> address(bool allow_cidr) {
    const Token* t = peek();
    if (t == nullptr) {
      fail(column(), "expected an address, got the end");
      return std::nullopt;
    }
    std::optional<Prefix> p;
    if (t->raw.find('/') != std::string::npos) {
      if (allow_cidr) p = Prefix::parse(t->raw);
    } else if (auto a = IpAddr::parse(t->raw)) {
      p = Prefix::make(*a, 128);
    }
    if (!p) {
      fail(t->column, std::string("expected an address") + (allow_cidr ? " or a prefix" : "") +
                          ", got '" + t->raw + "'");
      return std::nullopt;
    }
    ++pos_;
    return p;
  }

  // "[" item ... "]": calls `item()` until "]".
  template <typename F>
  bool list(F&& item) {
    if (!is("[")) {
      fail(column(), "expected '[' to open a list, got " + got());
      return false;
    }
    ++pos_;
    size_t n = 0;
    while (!is("]")) {
      if (peek() == nullptr) return fail(column(), "expected ']' to close the list, got the end");
      if (++n > kMaxListEntries) return fail(column(), "list too long (more than 100000 entries)");
      if (!item()) return false;
    }
    ++pos_;
    return true;
  }

  int32_t primitive() {
    const size_t start = column();
    const Dir dir = direction();
    const Token* t = peek();
    if (t == nullptr) {
      fail(column(), "expected a filter term such as 'ip', 'port' or 'proto', got the end");
      return -1;
    }
    const std::string word = t->text;
    Node n;
    n.dir = dir;
    auto no_dir = [&] {
      if (dir == Dir::kEither && t->column == start) return true;
      return fail(start, "'" + word + "' takes no src/dst");
    };
    ++pos_;
    if (word == "ip" || word == "host") {
      if (is("in")) {
        ++pos_;
        intel::PrefixTable::Builder b;
        if (!list([&] {
              auto p = address(true);
              if (p) {
                b.add(*p, 0);
                n.prefixes.push_back(*p);
              }
              return p.has_value();
            })) {
          return -1;
        }
        n.kind = K::kAddrSet;
        n.table = b.build();
      } else {
        auto p = address(false);
        if (!p) return -1;
        n.kind = K::kAddr;
        n.prefix = *p;
      }
    } else if (word == "net") {
      auto p = address(true);
      if (!p) return -1;
      // "net 10.0.0.0 255.0.0.0": a mask in dotted form.
      if (const Token* m = peek(); m != nullptr && p->len == 128 && p->addr.is_v4()) {
        if (auto mask = IpAddr::parse(m->raw); mask && mask->is_v4()) {
          const uint32_t v = mask->v4_value();
          const unsigned bits = static_cast<unsigned>(__builtin_popcount(v));
          if (bits != 32 && v != (bits == 0 ? 0u : ~0u << (32 - bits))) {
            fail(m->column, "expected a netmask like 255.255.0.0, got '" + m->raw + "'");
            return -1;
          }
          ++pos_;
          p = Prefix::make(p->addr, 96 + bits);
        }
      }
      n.kind = K::kAddr;
      n.prefix = *p;
    } else if (word == "port" || word == "as") {
      const bool port = word == "port";
      if (is("in")) {
        ++pos_;
        if (!list([&] {
              auto v =
                  number(port ? "a port number" : "an AS number", port ? 65535 : UINT32_MAX, false);
              if (v) n.values.push_back(static_cast<uint32_t>(*v));
              return v.has_value();
            })) {
          return -1;
        }
        std::sort(n.values.begin(), n.values.end());
        n.kind = port ? K::kPortSet : K::kAsSet;
      } else {
        n.cmp = comparator().value_or(Cmp::kEq);
        auto v = number(port ? "a port number" : "an AS number", port ? 65535 : UINT32_MAX, false);
        if (!v) return -1;
        n.kind = port ? K::kPort : K::kAs;
        n.value = *v;
      }
    } else if (word == "if") {
      n.cmp = comparator().value_or(Cmp::kEq);
      auto v = number("an interface number", UINT32_MAX, false);
      if (!v) return -1;
      n.kind = K::kIf;
      n.value = *v;
    } else if (word == "proto") {
      if (!no_dir()) return -1;
      static constexpr std::pair<const char*, uint8_t> kProtos[] = {
          {"icmp", 1}, {"igmp", 2}, {"tcp", 6},    {"udp", 17},       {"gre", 47},
          {"esp", 50}, {"ah", 51},  {"icmp6", 58}, {"ipv6-icmp", 58}, {"sctp", 132}};
      n.kind = K::kProto;
      bool named = false;
      for (const auto& [name, num] : kProtos) {
        if (is(name)) {
          n.value = num;
          named = true;
          ++pos_;
          break;
        }
      }
      if (!named) {
        auto v = number("a protocol name (tcp, udp, icmp, ...) or number", 255, false);
        if (!v) return -1;
        n.value = *v;
      }
    } else if (word == "flags") {
      if (!no_dir()) return -1;
      const Token* f = peek();
      uint64_t mask = 0;
      for (char c : f != nullptr ? f->text : std::string()) {
        // FIN, SYN, RST, PSH, ACK, URG: bits 0..5 of the TCP flags byte.
        const size_t bit = std::string_view("fsrpau").find(c);
        if (c == 'x') {
          mask |= 0x3f;
        } else if (bit != std::string_view::npos) {
          mask |= uint64_t{1} << bit;
        } else {
          mask = 0;
          break;
        }
      }
      if (mask == 0) {
        fail(column(), "expected TCP flags from A, S, F, R, P, U, X, got " + got());
        return -1;
      }
      ++pos_;
      n.kind = K::kFlags;
      n.value = mask;
    } else if (word == "bytes" || word == "packets" || word == "duration") {
      if (!no_dir()) return -1;
      n.cmp = comparator().value_or(Cmp::kEq);
      auto v = number(word == "duration" ? "milliseconds" : "a number like 10k", UINT64_MAX,
                      word != "duration");
      if (!v) return -1;
      n.kind = word == "bytes" ? K::kBytes : word == "packets" ? K::kPackets : K::kDuration;
      n.value = *v;
    } else if (word == "router" || word == "exporter") {
      if (!no_dir()) return -1;
      if (is("ip")) ++pos_;
      auto p = address(false);
      if (!p) return -1;
      n.kind = K::kExporter;
      n.prefix = *p;
    } else if (word == "inet" || word == "ipv4" || word == "inet6" || word == "ipv6") {
      if (!no_dir()) return -1;
      n.kind = word == "inet" || word == "ipv4" ? K::kFamily4 : K::kFamily6;
    } else if (word == "any") {
      if (!no_dir()) return -1;
      n.kind = K::kTrue;
    } else {
      fail(t->column,
           "expected a filter term such as 'ip', 'net', 'port', 'proto', 'flags', "
           "'bytes', got '" +
               t->raw + "'");
      return -1;
    }
    return add(std::move(n));
  }

  std::vector<Token> t_;
  size_t end_;
  FilterError& error_;
  size_t pos_ = 0;
  std::vector<Node> nodes_;
};

// Calls f(pred) with the predicate over FlowRecord of leaf `n`; the switch stays outside the
// loops that batch evaluation runs over pred.
template <typename F>
auto with_leaf(const Filter::Node& n, F&& f) {
  using K = Filter::Node::Kind;
  switch (n.kind) {
    case K::kAddr:
      return f([&n](const FlowRecord& r) {
        return n.either([&](bool src) { return n.prefix.contains(src ? r.src : r.dst); });
      });
    case K::kAddrSet:
      return f([&n](const FlowRecord& r) {
        return n.either([&](bool src) {
          return n.table->lookup_set(src ? r.src : r.dst) != intel::PrefixTable::kEmptySet;
        });
      });
    case K::kPort:
      return f([&n](const FlowRecord& r) {
        return n.either(
            [&](bool src) { return compare(src ? r.src_port : r.dst_port, n.cmp, n.value); });
      });
    case K::kPortSet:
      return f([&n](const FlowRecord& r) {
        return n.either([&](bool src) {
          return std::binary_search(n.values.begin(), n.values.end(),
                                    uint32_t{src ? r.src_port : r.dst_port});
        });
      });
    case K::kAs:
      return f([&n](const FlowRecord& r) {
        return n.either(
            [&](bool src) { return compare(src ? r.src_as : r.dst_as, n.cmp, n.value); });
      });
    case K::kAsSet:
      return f([&n](const FlowRecord& r) {
        return n.either([&](bool src) {
          return std::binary_search(n.values.begin(), n.values.end(), src ? r.src_as : r.dst_as);
        });
      });
    case K::kIf:
      return f([&n](const FlowRecord& r) {
        return n.either([&](bool in) { return compare(in ? r.in_if : r.out_if, n.cmp, n.value); });
      });
    case K::kProto:
      return f([&n](const FlowRecord& r) { return r.proto == n.value; });
    case K::kFlags:
      return f([&n](const FlowRecord& r) { return (r.tcp_flags & n.value) == n.value; });
    case K::kNoFlags:
      return f([&n](const FlowRecord& r) { return (r.tcp_flags & n.value) == 0; });
    case K::kBytes:
      return f([&n](const FlowRecord& r) { return compare(r.bytes, n.cmp, n.value); });
    case K::kPackets:
      return f([&n](const FlowRecord& r) { return compare(r.packets, n.cmp, n.value); });
    case K::kDuration:
      return f([&n](const FlowRecord& r) {
        return compare(static_cast<uint64_t>(std::max<int64_t>(0, r.end_ms - r.start_ms)), n.cmp,
                       n.value);
      });
    case K::kExporter:
      return f([&n](const FlowRecord& r) { return n.prefix.contains(r.exporter); });
    case K::kFamily4:
      return f([](const FlowRecord& r) { return r.src.is_v4() && r.dst.is_v4(); });
    case K::kFamily6:
      return f([](const FlowRecord& r) { return !r.src.is_v4() && !r.dst.is_v4(); });
    case K::kTrue:
    case K::kAnd:
    case K::kOr:
    case K::kNot:
      break;  // not leaves
  }
  return f([](const FlowRecord&) { return true; });
}

bool eval(const std::vector<Filter::Node>& nodes, int32_t i, const FlowRecord& r) {
  using K = Filter::Node::Kind;
  const Filter::Node& n = nodes[static_cast<size_t>(i)];
  switch (n.kind) {
    case K::kTrue:
      return true;
    case K::kAnd:
      return eval(nodes, n.a, r) && eval(nodes, n.b, r);
    case K::kOr:
      return eval(nodes, n.a, r) || eval(nodes, n.b, r);
    case K::kNot:
      return !eval(nodes, n.a, r);
    default:
      return with_leaf(n, [&](auto pred) { return pred(r); });
  }
}

// Keeps the indexes in `sel` whose record passes `pred`.
template <typename P>
void keep_if(const FlowRecord* rs, std::vector<uint32_t>& sel, P pred) {
  size_t out = 0;
  for (uint32_t i : sel) {
    sel[out] = i;
    out += pred(rs[i]) ? 1 : 0;
  }
  sel.resize(out);
}

// `sel` minus `drop` (both ascending).
void subtract(std::vector<uint32_t>& sel, const std::vector<uint32_t>& drop) {
  size_t out = 0, d = 0;
  for (uint32_t i : sel) {
    while (d < drop.size() && drop[d] < i) ++d;
    if (d < drop.size() && drop[d] == i) continue;
    sel[out++] = i;
  }
  sel.resize(out);
}

// Batch eval: narrows `sel` to the records node i matches, with the same short-circuits as
// eval (the right side of "and" sees only the left's survivors, of "or" only its rejects).
void narrow(const std::vector<Filter::Node>& nodes, int32_t i, const FlowRecord* rs,
            std::vector<uint32_t>& sel) {
  using K = Filter::Node::Kind;
  const Filter::Node& n = nodes[static_cast<size_t>(i)];
  switch (n.kind) {
    case K::kTrue:
      return;
    case K::kAnd:
      narrow(nodes, n.a, rs, sel);
      if (!sel.empty()) narrow(nodes, n.b, rs, sel);
      return;
    case K::kOr: {
      std::vector<uint32_t> left = sel;
      narrow(nodes, n.a, rs, left);
      subtract(sel, left);  // the rejects
      if (!sel.empty()) narrow(nodes, n.b, rs, sel);
      std::vector<uint32_t> both(left.size() + sel.size());
      std::merge(left.begin(), left.end(), sel.begin(), sel.end(), both.begin());
      sel.swap(both);
      return;
    }
    case K::kNot: {
      std::vector<uint32_t> inner = sel;
      narrow(nodes, n.a, rs, inner);
      subtract(sel, inner);
      return;
    }
    default:
      with_leaf(n, [&](auto pred) { keep_if(rs, sel, pred); });
  }
}

}  // namespace

std::string FilterError::to_string() const {
  return "column " + std::to_string(column) + ": " + message;
}

std::optional<Filter> Filter::parse(std::string_view text, FilterError& error) {
  error = {};
  Parser p(tokenize(text), text.size() + 1, error);
  auto nodes = p.run();
  if (!nodes) return std::nullopt;
  Filter f;
  f.text_ = std::string(text);
  f.nodes_ = std::make_shared<const std::vector<Node>>(std::move(*nodes));
  return f;
}

bool Filter::match(const FlowRecord& r) const {
  return eval(*nodes_, static_cast<int32_t>(nodes_->size() - 1), r);
}

void Filter::select(const FlowRecord* records, std::vector<uint32_t>& sel) const {
  narrow(*nodes_, static_cast<int32_t>(nodes_->size() - 1), records, sel);
}

namespace {

// An address as a FixedString(16) literal: the hex of its 16 bytes.
std::string sql_addr(const IpAddr& a) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "toFixedString(unhex('";
  for (uint8_t byte : a.b) {
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
  return out + "'), 16)";
}

// `column` within `p`: a range of bytes (FixedString compares as memcmp), which the table's
// order key (src_ip, dst_ip after the minute) can use.
std::string sql_prefix(const char* column, const Prefix& p) {
  if (p.len == 0) return "1";
  if (p.len >= 128) return std::string(column) + " = " + sql_addr(p.addr);
  IpAddr last = p.addr;
  for (unsigned bit = p.len; bit < 128; ++bit) last.b[bit / 8] |= uint8_t(0x80u >> (bit % 8));
  return std::string("(") + column + " BETWEEN " + sql_addr(p.addr) + " AND " + sql_addr(last) +
         ")";
}

const char* sql_cmp(Cmp c) {
  switch (c) {
    case Cmp::kEq:
      return " = ";
    case Cmp::kGt:
      return " > ";
    case Cmp::kLt:
      return " < ";
    case Cmp::kGe:
      return " >= ";
    case Cmp::kLe:
      return " <= ";
  }
  return " = ";
}

template <typename F>
std::string sql_either(Dir dir, F&& side) {
  switch (dir) {
    case Dir::kSrc:
      return side(true);
    case Dir::kDst:
      return side(false);
    case Dir::kBoth:
      return "(" + side(true) + " AND " + side(false) + ")";
    case Dir::kEither:
      break;
  }
  return "(" + side(true) + " OR " + side(false) + ")";
}

std::string sql_list(const char* column, const std::vector<uint32_t>& values) {
  if (values.empty()) return "0";
  std::string out = std::string(column) + " IN (";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::to_string(values[i]);
  return out + ")";
}

std::string sql(const std::vector<Filter::Node>& nodes, int32_t i) {
  using K = Filter::Node::Kind;
  const Filter::Node& n = nodes[static_cast<size_t>(i)];
  const std::string v = std::to_string(n.value);
  switch (n.kind) {
    case K::kTrue:
      return "1";
    case K::kAnd:
      return "(" + sql(nodes, n.a) + " AND " + sql(nodes, n.b) + ")";
    case K::kOr:
      return "(" + sql(nodes, n.a) + " OR " + sql(nodes, n.b) + ")";
    case K::kNot:
      return "NOT " + sql(nodes, n.a);
    case K::kAddr:
      return sql_either(n.dir,
                        [&](bool src) { return sql_prefix(src ? "src_ip" : "dst_ip", n.prefix); });
    case K::kAddrSet:
      return sql_either(
          n.dir, [&](bool src) { return prefixes_sql(src ? "src_ip" : "dst_ip", n.prefixes); });
    case K::kPort:
      return sql_either(n.dir, [&](bool src) {
        return std::string(src ? "src_port" : "dst_port") + sql_cmp(n.cmp) + v;
      });
    case K::kPortSet:
      return sql_either(
          n.dir, [&](bool src) { return sql_list(src ? "src_port" : "dst_port", n.values); });
    case K::kAs:
      return sql_either(n.dir, [&](bool src) {
        return std::string(src ? "src_as" : "dst_as") + sql_cmp(n.cmp) + v;
      });
    case K::kAsSet:
      return sql_either(n.dir,
                        [&](bool src) { return sql_list(src ? "src_as" : "dst_as", n.values); });
    case K::kIf:
      return sql_either(n.dir, [&](bool in) {
        return std::string(in ? "in_if" : "out_if") + sql_cmp(n.cmp) + v;
      });
    case K::kProto:
      return "proto = " + v;
    case K::kFlags:
      return "bitAnd(tcp_flags, " + v + ") = " + v;
    case K::kNoFlags:
      return "bitAnd(tcp_flags, " + v + ") = 0";
    case K::kBytes:
      return std::string("bytes") + sql_cmp(n.cmp) + v;
    case K::kPackets:
      return std::string("packets") + sql_cmp(n.cmp) + v;
    case K::kDuration:
      // The columns are unsigned: no negative durations, as the record's clamp to 0.
      return std::string("if(ts_end > ts_start, ts_end - ts_start, 0)") + sql_cmp(n.cmp) + v;
    case K::kExporter:
      return sql_prefix("exporter", n.prefix);
    case K::kFamily4:
    case K::kFamily6: {
      const Prefix mapped = Prefix::make(IpAddr::v4(0), 96);
      std::string both =
          "(" + sql_prefix("src_ip", mapped) + " AND " + sql_prefix("dst_ip", mapped) + ")";
      if (n.kind == K::kFamily4) return both;
      return "(NOT " + sql_prefix("src_ip", mapped) + " AND NOT " + sql_prefix("dst_ip", mapped) +
             ")";
    }
  }
  return "1";
}

}  // namespace

std::string prefixes_sql(const char* column, const std::vector<Prefix>& prefixes) {
  std::string hosts, ranges;
  for (const Prefix& p : prefixes) {
    if (p.len >= 128) {
      hosts += (hosts.empty() ? "" : ", ") + sql_addr(p.addr);
    } else {
      ranges += " OR " + sql_prefix(column, p);
    }
  }
  if (hosts.empty() && ranges.empty()) return "0";
  // Host addresses as one IN set (a hash lookup per row), other prefixes as ranges.
  return "(" + (hosts.empty() ? std::string("0") : std::string(column) + " IN (" + hosts + ")") +
         ranges + ")";
}

std::string Filter::to_sql() const {
  return sql(*nodes_, static_cast<int32_t>(nodes_->size() - 1));
}

bool Filter::matches_all() const {
  return nodes_->back().kind == Node::Kind::kTrue;
}

namespace {

// Prefixes one of which holds src or dst of every record node i matches; nullopt when there is
// no such bound (a negation, a primitive on something other than addresses, an "or" with such a
// side).
std::optional<std::vector<Prefix>> hint(const std::vector<Filter::Node>& nodes, int32_t i) {
  using K = Filter::Node::Kind;
  const Filter::Node& n = nodes[static_cast<size_t>(i)];
  switch (n.kind) {
    case K::kAddr:
      return std::vector<Prefix>{n.prefix};
    case K::kAddrSet:
      return n.prefixes;
    case K::kAnd: {
      auto a = hint(nodes, n.a);
      auto b = hint(nodes, n.b);
      if (a && b) return a->size() <= b->size() ? a : b;  // either bounds; the smaller tests faster
      return a ? a : b;
    }
    case K::kOr: {
      auto a = hint(nodes, n.a);
      auto b = hint(nodes, n.b);
      if (!a || !b) return std::nullopt;
      a->insert(a->end(), b->begin(), b->end());
      return a;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

uint32_t Filter::columns() const {
  namespace c = segment::column;
  using K = Node::Kind;
  uint32_t m = 0;
  for (const Node& n : *nodes_) {
    switch (n.kind) {
      case K::kAddr:
      case K::kAddrSet:
      case K::kFamily4:
      case K::kFamily6:
        m |= c::kSrc | c::kDst;
        break;
      case K::kPort:
      case K::kPortSet:
        m |= c::kSrcPort | c::kDstPort;
        break;
      case K::kAs:
      case K::kAsSet:
        m |= c::kSrcAs | c::kDstAs;
        break;
      case K::kIf:
        m |= c::kInIf | c::kOutIf;
        break;
      case K::kProto:
        m |= c::kProto;
        break;
      case K::kFlags:
      case K::kNoFlags:
        m |= c::kTcpFlags;
        break;
      case K::kBytes:
        m |= c::kBytes;
        break;
      case K::kPackets:
        m |= c::kPackets;
        break;
      case K::kDuration:
        m |= c::kStart | c::kEnd;
        break;
      case K::kExporter:
        m |= c::kExporter;
        break;
      case K::kTrue:
      case K::kAnd:
      case K::kOr:
      case K::kNot:
        break;
    }
  }
  return m;
}

std::optional<std::vector<Prefix>> Filter::address_hint() const {
  return hint(*nodes_, static_cast<int32_t>(nodes_->size() - 1));
}

}  // namespace orbwatch::store
