#include "core/time.h"

#include <chrono>
#include <cstdint>
#include <utility>

namespace orbwatch {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

namespace {

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

inline void put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

size_t format_rfc3339_ms(int64_t unix_ms, char* buf) {
  int64_t days = unix_ms >= 0 ? unix_ms / 86400000 : (unix_ms - 86399999) / 86400000;
  auto ms_of_day = static_cast<unsigned>(unix_ms - days * 86400000);
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  if (y < 0 || y > 9999) y = y < 0 ? 0 : 9999;  // keep the fixed width on absurd inputs
  auto yy = static_cast<unsigned>(y);
  put2(buf, yy / 100);
  put2(buf + 2, yy % 100);
  buf[4] = '-';
  put2(buf + 5, m);
  buf[7] = '-';
  put2(buf + 8, d);
  buf[10] = 'T';
  put2(buf + 11, ms_of_day / 3600000);
  buf[13] = ':';
  put2(buf + 14, ms_of_day / 60000 % 60);
  buf[16] = ':';
  put2(buf + 17, ms_of_day / 1000 % 60);
  buf[19] = '.';
  unsigned frac = ms_of_day % 1000;
  buf[20] = static_cast<char>('0' + frac / 100);
  put2(buf + 21, frac % 100);
  buf[23] = 'Z';
  return 24;
}

std::string rfc3339_ms(int64_t unix_ms) {
  char buf[32];
  return std::string(buf, format_rfc3339_ms(unix_ms, buf));
}

std::optional<int64_t> parse_rfc3339_ms(std::string_view s) {
  auto num = [&](size_t pos, size_t n) -> std::optional<unsigned> {
    if (pos + n > s.size()) return std::nullopt;
    unsigned v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + static_cast<unsigned>(s[i] - '0');
    }
    return v;
  };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2);
  if (!y || !mo || !d || s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31) return std::nullopt;
  int64_t ms = days_from_civil(*y, *mo, *d) * 86400000;
  size_t pos = 10;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    auto h = num(11, 2), mi = num(14, 2), sec = num(17, 2);
    if (!h || !mi || !sec || s[13] != ':' || s[16] != ':' || *h > 23 || *mi > 59 || *sec > 60) {
      return std::nullopt;
    }
    ms += (*h * 3600 + *mi * 60 + *sec) * int64_t{1000};
    pos = 19;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int64_t scale = 100;
      size_t digits = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        ms += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
        ++digits;
      }
      if (digits == 0) return std::nullopt;
    }
    if (pos < s.size()) {
      if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
      } else if (s[pos] == '+' || s[pos] == '-') {
        auto oh = num(pos + 1, 2), om = num(pos + 4, 2);
        if (!oh || !om || pos + 3 >= s.size() || s[pos + 3] != ':') return std::nullopt;
        int64_t off = (*oh * 60 + *om) * int64_t{60000};
        ms += s[pos] == '+' ? -off : off;
        pos += 6;
      }
    }
  }
  if (pos != s.size()) return std::nullopt;
  return ms;
}

int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace orbwatch

namespace orbwatch {

std::optional<int64_t> parse_duration_ms(std::string_view text) {
  if (text.empty()) return std::nullopt;
  constexpr int64_t kMax = INT64_MAX / 2;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (n > kMax / 10) return std::nullopt;
      n = n * 10 + (text[i++] - '0');
    }
    size_t u = i;
    while (i < text.size() && (text[i] < '0' || text[i] > '9')) ++i;
    std::string_view unit = text.substr(u, i - u);
    int64_t scale = 0;
    if (unit == "ms") {
      scale = 1;
    } else if (unit.empty() || unit == "s") {
      if (unit.empty() && i != text.size()) return std::nullopt;
      scale = 1000;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "h") {
      scale = 3'600'000;
    } else if (unit == "d") {
      scale = 86'400'000;
    } else if (unit == "w") {
      scale = 604'800'000;
    } else {
      return std::nullopt;
    }
    if (n > (kMax - total) / scale) return std::nullopt;
    total += n * scale;
  }
  return total;
}

std::string format_duration_ms(int64_t ms) {
  if (ms <= 0) return "0s";
  static constexpr std::pair<int64_t, const char*> kUnits[] = {
      {604'800'000, "w"}, {86'400'000, "d"}, {3'600'000, "h"},
      {60'000, "m"},      {1000, "s"},       {1, "ms"}};
  std::string out;
  for (const auto& [scale, name] : kUnits) {
    if (ms >= scale) {
      out += std::to_string(ms / scale);
      out += name;
      ms %= scale;
    }
  }
  return out;
}

bool parse_time_arg(std::string_view text, int64_t reference_ms, int64_t& out) {
  if (auto d = parse_duration_ms(text)) {
    out = reference_ms - *d;
    return true;
  }
  if (auto t = parse_rfc3339_ms(text)) {
    out = *t;
    return true;
  }
  return false;
}

}  // namespace orbwatch
