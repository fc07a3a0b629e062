#include "intel/taxii.h"

#include <simdjson.h>

#include <chrono>

#include <httplib.h>

#include "intel/json_feeds.h"

namespace orbwatch::intel {

namespace {

constexpr const char* kAccept = "application/taxii+json;version=2.1";

struct Url {
  std::string origin;  // scheme://host[:port]
  std::string path;    // always ends with '/'
};

bool split_url(const std::string& url, Url& out) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  std::string s = url.substr(0, scheme);
  if (s != "http" && s != "https") return false;
  size_t path = url.find('/', scheme + 3);
  out.origin = url.substr(0, path);
  out.path = path == std::string::npos ? "/" : url.substr(path);
  if (out.path.back() != '/') out.path.push_back('/');
  return out.origin.size() > scheme + 3;
}

// The envelope's paging fields (TAXII 2.1 3.7); the objects are left to parse_stix.
bool read_envelope(const std::string& body, bool& more, std::string& next, std::string& error) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(body).get(doc)) {
    error = std::string("not JSON: ") + simdjson::error_message(err);
    return false;
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) {
    error = "the envelope is not a JSON object";
    return false;
  }
  bool m = false;
  more = obj["more"].get_bool().get(m) == simdjson::SUCCESS && m;
  std::string_view n;
  next = obj["next"].get_string().get(n) == simdjson::SUCCESS ? std::string(n) : std::string();
  return true;
}

}  // namespace

TaxiiPoll poll_taxii(const TaxiiRequest& req) {
  TaxiiPoll poll;
  poll.feed.format = FeedFormat::kStix;
  Url url;
  if (!split_url(req.collection_url, url)) {
    poll.error = "invalid TAXII collection URL '" + req.collection_url + "' (want http(s)://...)";
    return poll;
  }
  httplib::Client cli(url.origin);
  cli.set_connection_timeout(req.timeout_s, 0);
  cli.set_read_timeout(req.timeout_s, 0);
  cli.set_write_timeout(req.timeout_s, 0);
  if (!req.bearer_token.empty()) cli.set_bearer_token_auth(req.bearer_token);
  if (!req.user.empty()) cli.set_basic_auth(req.user, req.password);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(req.max_total_ms);
  size_t bytes = 0;
  uint32_t line_base = 0;
  std::string next;
  for (;;) {
    if (poll.pages >= req.max_pages) {
      poll.error = "stopped after " + std::to_string(poll.pages) + " pages (max_pages)";
      break;
    }
    if (req.cancel != nullptr && req.cancel->cancelled()) {
      poll.error = "cancelled";
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      poll.error = "stopped after " + std::to_string(req.max_total_ms) + " ms (max_total_ms)";
      break;
    }
    httplib::Params params;
    if (!req.added_after.empty()) params.emplace("added_after", req.added_after);
    if (req.page_limit != 0) params.emplace("limit", std::to_string(req.page_limit));
    if (!next.empty()) params.emplace("next", next);
    std::string target = httplib::append_query_params(url.path + "objects/", params);
    size_t page_bytes = 0;
    std::string body;
    if (req.cancel != nullptr && !req.cancel->attach([&cli] { cli.stop(); })) continue;
    auto res =
        cli.Get(target, httplib::Headers{{"Accept", kAccept}}, [&](const char* data, size_t n) {
          page_bytes += n;
          if (bytes + page_bytes > req.max_bytes) return false;  // cancels the request
          body.append(data, n);
          return true;
        });
    if (req.cancel != nullptr) req.cancel->detach();
    const std::string where = "page " + std::to_string(poll.pages + 1) + " (" + target + ")";
    if (!res) {
      poll.error = where + ": " +
                   (bytes + page_bytes > req.max_bytes
                        ? "more than " + std::to_string(req.max_bytes) + " bytes (max_bytes)"
                        : httplib::to_string(res.error()));
      break;
    }
    if (res->status == 204) {  // no objects after added_after
      poll.complete = true;
      break;
    }
    if (res->status != 200) {
      poll.error = where + ": HTTP " + std::to_string(res->status);
      break;
    }
    bytes += body.size();
    ++poll.pages;
    bool more = false;
    std::string error;
    if (!read_envelope(body, more, next, error)) {
      poll.error = where + ": " + error;
      break;
    }
    ParsedFeed page = parse_stix(body);
    for (auto& ind : page.indicators) {
      ind.line += line_base;
      poll.feed.indicators.push_back(std::move(ind));
    }
    for (auto& issue : page.issues) {
      issue.line += line_base;
      if (poll.feed.issues.size() < ParsedFeed::kMaxIssues) poll.feed.issues.push_back(issue);
    }
    poll.feed.bad += page.bad;
    poll.feed.warnings += page.warnings;
    poll.feed.lines += page.lines;
    line_base += static_cast<uint32_t>(page.lines);
    if (res->has_header("X-TAXII-Date-Added-Last")) {
      poll.added_last = res->get_header_value("X-TAXII-Date-Added-Last");
    }
    if (!more) {
      poll.complete = true;
      break;
    }
    if (next.empty()) {
      poll.error = where + ": \"more\" is true but there is no \"next\" to ask for";
      break;
    }
  }
  return poll;
}

}  // namespace orbwatch::intel
