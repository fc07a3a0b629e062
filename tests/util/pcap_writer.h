// PcapWriter: writes Ethernet/IPv4|IPv6 + TCP|UDP|ICMP packets into a classic pcap file, for
// tests that feed orbwatch (or a peer such as softflowd) a capture they built themselves.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace orbwatch::test {

// "192.0.2.7" as 4 network-order bytes, for PcapWriter::packet.
inline std::vector<uint8_t> ipv4_bytes(const std::string& text) {
  std::vector<uint8_t> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t dot = text.find('.', start);
    if (dot == std::string::npos) dot = text.size();
    out.push_back(static_cast<uint8_t>(std::stoi(text.substr(start, dot - start))));
    start = dot + 1;
  }
  return out;
}

// A DNS message: one question (A) for `name`, and when `answer` is set the response with one A
// record for it (TTL 60).
inline std::vector<uint8_t> dns_message(const std::string& name, const std::string& answer = {}) {
  std::vector<uint8_t> m = {0x12, 0x34, static_cast<uint8_t>(answer.empty() ? 0x01 : 0x81), 0x80, 0,
                            1,    0,    static_cast<uint8_t>(answer.empty() ? 0 : 1),       0,    0,
                            0,    0};
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    m.push_back(static_cast<uint8_t>(dot - start));
    m.insert(m.end(), name.begin() + static_cast<long>(start),
             name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  m.insert(m.end(), {0, 0, 1, 0, 1});
  if (!answer.empty()) {
    m.insert(m.end(), {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4});
    auto a = ipv4_bytes(answer);
    m.insert(m.end(), a.begin(), a.end());
  }
  return m;
}

class PcapWriter {
 public:
  explicit PcapWriter(const std::string& path, int64_t base_ms = 1700000000000)
      : base_ms_(base_ms),
        dead_(pcap_open_dead(DLT_EN10MB, 65535)),
        d_(pcap_dump_open(dead_, path.c_str())) {}
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;
  ~PcapWriter() {
    if (d_ != nullptr) pcap_dump_close(d_);
    pcap_close(dead_);
  }
  bool ok() const { return d_ != nullptr; }

  // One packet at `ms` after the start: L4 header + `payload` zero bytes.
  void packet(int64_t ms, bool v6, const uint8_t* src, const uint8_t* dst, uint8_t proto,
              uint16_t sport, uint16_t dport, uint8_t flags, size_t payload) {
    packet(ms, v6, src, dst, proto, sport, dport, flags, std::vector<uint8_t>(payload, 0));
  }
  // The same with the payload given (a DNS message, a TLS ClientHello).
  void packet(int64_t ms, bool v6, const uint8_t* src, const uint8_t* dst, uint8_t proto,
              uint16_t sport, uint16_t dport, uint8_t flags, const std::vector<uint8_t>& data) {
    const size_t payload = data.size();
    std::vector<uint8_t> l4;
    if (proto == 6) {
      l4.assign(20, 0);
      put16(&l4[0], sport);
      put16(&l4[2], dport);
      l4[12] = 5 << 4;
      l4[13] = flags;
      put16(&l4[14], 65535);
    } else if (proto == 17) {
      l4.assign(8, 0);
      put16(&l4[0], sport);
      put16(&l4[2], dport);
      put16(&l4[4], static_cast<uint16_t>(8 + payload));
    } else {  // ICMP / ICMPv6 echo: type in sport, code 0
      l4.assign(8, 0);
      l4[0] = static_cast<uint8_t>(sport);
    }
    l4.insert(l4.end(), data.begin(), data.end());
    std::vector<uint8_t> f(14, 0);
    f[0] = 0x02, f[6] = 0x02, f[11] = 1;  // locally administered MACs
    if (!v6) {
      f[12] = 0x08;
      std::vector<uint8_t> ip(20, 0);
      ip[0] = 0x45;
      put16(&ip[2], static_cast<uint16_t>(20 + l4.size()));
      ip[8] = 64;
      ip[9] = proto;
      std::memcpy(&ip[12], src, 4);
      std::memcpy(&ip[16], dst, 4);
      uint32_t sum = 0;
      for (size_t i = 0; i < 20; i += 2) sum += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
      while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
      put16(&ip[10], static_cast<uint16_t>(~sum));
      f.insert(f.end(), ip.begin(), ip.end());
    } else {
      f[12] = 0x86, f[13] = 0xdd;
      std::vector<uint8_t> ip(40, 0);
      ip[0] = 0x60;
      put16(&ip[4], static_cast<uint16_t>(l4.size()));
      ip[6] = proto == 1 ? 58 : proto;
      ip[7] = 64;
      std::memcpy(&ip[8], src, 16);
      std::memcpy(&ip[24], dst, 16);
      f.insert(f.end(), ip.begin(), ip.end());
    }
    f.insert(f.end(), l4.begin(), l4.end());
    pcap_pkthdr h{};
    int64_t t = base_ms_ + ms;
    h.ts.tv_sec = t / 1000;
    h.ts.tv_usec = static_cast<suseconds_t>((t % 1000) * 1000);
    h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
    pcap_dump(reinterpret_cast<u_char*>(d_), &h, f.data());
  }

 private:
  static void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
  }
  int64_t base_ms_;
  pcap_t* dead_;
  pcap_dumper_t* d_;
};

}  // namespace orbwatch::test
