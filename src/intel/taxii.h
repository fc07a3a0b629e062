// TAXII 2.1 collection polling (OASIS TAXII 2.1, 5.3 "Get Objects"): GET the collection's
// objects added after a time, following pagination (`more` / `next`), with time, page and size
// limits so a broken or hostile server cannot hang or flood the feed manager.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "intel/feed_fetch.h"
#include "intel/indicator.h"

namespace orbwatch::intel {

struct TaxiiRequest {
  // The collection URL, e.g. https://taxii.example/api1/collections/91a7b528-.../
  // ("objects/" is appended). http:// and https:// are accepted.
  std::string collection_url;
  std::string added_after;  // RFC 3339; empty: everything
  std::string bearer_token;
  std::string user, password;  // HTTP basic authentication when user is set
  size_t page_limit = 1000;    // objects per page asked of the server (`limit`)
  size_t max_pages = 100;
  size_t max_bytes = 64u << 20;   // all pages together
  int timeout_s = 30;             // connect, read and write, per request
  int64_t max_total_ms = 300000;  // the whole poll
  FetchCancel* cancel = nullptr;  // set: another thread may abort the poll (FeedManager)
};

struct TaxiiPoll {
  ParsedFeed feed;  // indicators of every page (Indicator::line counts across pages)
  size_t pages = 0;
  std::string added_last;  // X-TAXII-Date-Added-Last of the last page: the next added_after
  bool complete = false;   // the server said there is nothing more
  std::string error;       // why the poll stopped early; what came before is kept in `feed`
};

TaxiiPoll poll_taxii(const TaxiiRequest& req);

}  // namespace orbwatch::intel
