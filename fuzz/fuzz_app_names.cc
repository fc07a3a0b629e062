// Fuzzes the name extractors (SNI, HTTP Host, DNS over UDP and TCP) on one payload.
#include <cstddef>
#include <cstdint>
#include <span>

#include "ingest/app_names.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace orbwatch::ingest;
  std::span<const uint8_t> p(data, size);
  volatile size_t sink = 0;
  if (auto n = tls_client_hello_sni(p)) sink = sink + n->len;
  if (auto n = http_request_host(p)) sink = sink + n->len;
  for (bool tcp : {false, true}) {
    if (auto d = parse_dns(p, tcp)) {
      sink = sink + d->query.len + d->answer_count;
      for (size_t i = 0; i < d->answer_count; ++i) sink = sink + d->answers[i].name.len;
    }
  }
  return 0;
}
