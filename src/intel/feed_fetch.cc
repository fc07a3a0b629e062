#include "intel/feed_fetch.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

#include <httplib.h>

#include "intel/feed_config.h"

#ifndef ORBWATCH_VERSION
#define ORBWATCH_VERSION "dev"
#endif

namespace orbwatch::intel {

void FetchCancel::cancel() {
  cancelled_.store(true, std::memory_order_release);
  // Under the lock: the fetch cannot destroy its client while it is being stopped.
  std::lock_guard lock(mutex_);
  if (stop_) stop_();
}

bool FetchCancel::attach(std::function<void()> stop) {
  std::lock_guard lock(mutex_);
  if (cancelled()) return false;
  stop_ = std::move(stop);
  return true;
}

void FetchCancel::detach() {
  std::lock_guard lock(mutex_);
  stop_ = nullptr;
}

std::optional<std::string> read_file_capped(const std::string& path, uint64_t max_bytes,
                                            std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open (" + std::strerror(errno) + ")";
    return std::nullopt;
  }
  std::string out;
  char buf[65536];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > max_bytes) {
      error = path + ": larger than " + std::to_string(max_bytes) + " bytes (max_bytes)";
      return std::nullopt;
    }
  }
  if (in.bad()) {
    error = path + ": cannot read";
    return std::nullopt;
  }
  return out;
}

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxRedirects = 5;
constexpr int64_t kMaxRetryAfterMs = 86'400'000;

FetchResult failed(std::string error) {
  FetchResult r;
  r.error = std::move(error);
  return r;
}

FetchResult fetch_file(const FetchRequest& req) {
  struct stat st {};
  if (::stat(req.source.c_str(), &st) != 0) {
    return failed(req.source + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return failed(req.source + ": not a regular file");
  const std::string version =
      std::to_string(static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec) +
      "-" + std::to_string(st.st_size);
  FetchResult r;
  if (version == req.etag) {
    r.kind = FetchResult::Kind::kNotModified;
    return r;
  }
  auto body = read_file_capped(req.source, req.max_bytes, r.error);
  if (!body) return r;
  r.kind = FetchResult::Kind::kNew;
  r.body = std::move(*body);
  r.etag = version;
  return r;
}

struct Url {
  std::string origin;  // scheme://host[:port]
  std::string target;  // path and query
};

std::optional<Url> split_url(const std::string& url) {
  const size_t host = url.find("://");
  if (host == std::string::npos || !is_url(url)) return std::nullopt;
  const size_t path = url.find_first_of("/?#", host + 3);
  Url u{url.substr(0, path), path == std::string::npos ? "/" : url.substr(path)};
  u.target = u.target.substr(0, u.target.find('#'));
  if (u.target.empty() || u.target[0] != '/') u.target.insert(0, "/");
  if (u.origin.size() == host + 3) return std::nullopt;
  return u;
}

std::string resolve_location(const Url& base, const std::string& location) {
  if (is_url(location)) return location;
  if (location.starts_with("//"))
    return base.origin.substr(0, base.origin.find(':') + 1) + location;
  if (location.starts_with("/")) return base.origin + location;
  std::string dir = base.target.substr(0, base.target.find('?'));
  return base.origin + dir.substr(0, dir.rfind('/') + 1) + location;
}

std::string describe(httplib::Error e, int64_t timeout_ms) {
  const std::string after = std::to_string(timeout_ms) + " ms";
  switch (e) {
    case httplib::Error::Connection:
      return "cannot connect";
    case httplib::Error::ConnectionTimeout:
      return "no connection within " + after + " (timeout)";
    case httplib::Error::Read:
      return "no answer within " + after + " (timeout) or connection closed";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed";
    case httplib::Error::SSLServerVerification:
      return "TLS certificate not trusted";
    default:
      return "request failed (" + httplib::to_string(e) + ")";
  }
}

int64_t retry_after_ms(const httplib::Response& res) {
  // Only the delay-seconds form (RFC 9110 10.2.3); an HTTP date is ignored.
  const std::string v = res.get_header_value("Retry-After");
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  return std::min<int64_t>(std::stoll(v) * 1000, kMaxRetryAfterMs);
}

struct Hop {
  FetchResult result;
  std::string location;  // set: a redirect to follow
};

// One GET, without following redirects (fetch_feed decides what a redirect may carry).
Hop get_once(const Url& url, const FetchRequest& req, bool credentials, FetchCancel* cancel,
             Clock::time_point deadline) {
  Hop hop;
  FetchResult& r = hop.result;
  httplib::Client cli(url.origin);
  if (!cli.is_valid()) {
    r.error = "unusable URL";
    return hop;
  }
  const time_t sec = static_cast<time_t>(req.timeout_ms / 1000);
  const time_t usec = static_cast<time_t>(req.timeout_ms % 1000 * 1000);
  cli.set_connection_timeout(sec, usec);
  cli.set_read_timeout(sec, usec);
  cli.set_write_timeout(sec, usec);
  httplib::Headers headers{{"User-Agent", "orbwatch/" ORBWATCH_VERSION}};
  if (!req.etag.empty()) headers.emplace("If-None-Match", req.etag);
  if (!req.last_modified.empty()) headers.emplace("If-Modified-Since", req.last_modified);
  if (credentials) {
    if (!req.bearer_token.empty()) cli.set_bearer_token_auth(req.bearer_token);
    headers.insert(req.headers.begin(), req.headers.end());
  }
  int status = 0;
  uint64_t received = 0;
  bool too_big = false, too_slow = false;
  auto on_response = [&](const httplib::Response& res) {
    status = res.status;
    return cancel == nullptr || !cancel->cancelled();
  };
  // Counts every byte (an endless error page is capped too) but keeps only a 200's body.
  auto on_data = [&](const char* data, size_t n) {
    received += n;
    too_big = received > req.max_bytes;
    too_slow = Clock::now() > deadline;
    if (too_big || too_slow || (cancel != nullptr && cancel->cancelled())) return false;
    if (status == 200) r.body.append(data, n);
    return true;
  };
  if (cancel != nullptr && !cancel->attach([&cli] { cli.stop(); })) {
    r.error = "cancelled";
    return hop;
  }
  auto res = cli.Get(url.target, headers, on_response, on_data);
  if (cancel != nullptr) cancel->detach();
  if (!res) {
    r.body.clear();
    r.error = too_big    ? "larger than " + std::to_string(req.max_bytes) + " bytes (max_bytes)"
              : too_slow ? "download not done within " + std::to_string(req.timeout_ms * 10) + " ms"
              : cancel != nullptr && cancel->cancelled() ? "cancelled"
                                                         : describe(res.error(), req.timeout_ms);
    return hop;
  }
  if (res->status == 304) {
    r.kind = FetchResult::Kind::kNotModified;
  } else if (res->status == 200) {
    r.kind = FetchResult::Kind::kNew;
    r.etag = res->get_header_value("ETag");
    r.last_modified = res->get_header_value("Last-Modified");
  } else if (res->status >= 300 && res->status < 400 && res->has_header("Location")) {
    hop.location = resolve_location(url, res->get_header_value("Location"));
  } else {
    r.error = "HTTP " + std::to_string(res->status);
    r.retry_after_ms = retry_after_ms(*res);
  }
  if (r.kind != FetchResult::Kind::kNew) r.body.clear();
  return hop;
}

FetchResult fetch_http(const FetchRequest& req, FetchCancel* cancel) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(req.timeout_ms * 10);
  auto first = split_url(req.source);
  if (!first) return failed(req.source + ": not a usable http(s) URL");
  Url url = *first;
  bool credentials = true;
  for (int redirects = 0;; ++redirects) {
    Hop hop = get_once(url, req, credentials, cancel, deadline);
    const std::string where = url.origin + url.target;
    if (hop.location.empty()) {
      if (!hop.result.error.empty()) hop.result.error = where + ": " + hop.result.error;
      return std::move(hop.result);
    }
    auto next = split_url(hop.location);
    if (!next) return failed(where + ": redirect to an unusable URL '" + hop.location + "'");
    if (redirects == kMaxRedirects) return failed(where + ": more than 5 redirects");
    // Like curl: credentials meant for the source are not handed to another server.
    credentials = credentials && next->origin == first->origin;
    url = *next;
  }
}

}  // namespace

FetchResult fetch_feed(const FetchRequest& req, FetchCancel* cancel) {
  try {
    return is_url(req.source) ? fetch_http(req, cancel) : fetch_file(req);
  } catch (const std::exception& e) {  // bad_alloc, or anything cpp-httplib lets escape
    return failed(req.source + ": " + e.what());
  }
}

}  // namespace orbwatch::intel
