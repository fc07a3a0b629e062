// Fuzzes a whole capture: the input is a pcap/pcapng file read through libpcap from memory,
// then parsed, split between export datagrams and the flow meter, and flushed.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "ingest/capture_ingest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace orbwatch::ingest;
  if (size == 0) return 0;
  std::vector<uint8_t> copy(data, data + size);  // fmemopen wants a writable buffer
  FILE* f = fmemopen(copy.data(), copy.size(), "rb");
  if (f == nullptr) return 0;
  auto opened = PacketSource::open_stream(f, "fuzz");
  if (!opened.source) return 0;
  CaptureOptions opt;
  opt.meter.max_flows = 256;  // exercise emergency expiry
  opt.batch_size = 64;
  size_t datagram_bytes = 0;
  uint64_t names = 0;
  CaptureIngest ingest(
      opt, [&](const Datagram& d) { datagram_bytes += d.data.size(); },
      [&](orbwatch::FlowBatch& b) {
        for (const auto& r : b.records) names += b.name(r.name_ref).size();
        for (const auto& d : b.dns) names += b.name(d.name).size() + (d.record < b.size() ? 0 : 1);
      });
  ingest.run(*opened.source);
  ingest.finish();
  return static_cast<int>((datagram_bytes + names) & 0);
}
