// A capture of a small site's edge whose flows touch Raptor Train tier-2 infrastructure from the
// real Black Lotus Labs IOC file (../shared/intel): the intel end-to-end test checks the alerts
// `orbwatch analyze --feed` raises for it, the hunt interop test that `orbwatch hunt` over its
// archive finds the same hosts and indicators.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "util/pcap_writer.h"

namespace orbwatch::test {

struct RaptorTrainIocs {
  std::vector<std::string> tier2_ips;  // the first three
  std::string tier2_domain;            // the first
};

inline RaptorTrainIocs read_raptor_train(const std::filesystem::path& path) {
  RaptorTrainIocs ioc;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::istringstream row(line);
    std::string col;
    while (std::getline(row, col, '\t')) cols.push_back(col);
    if (cols.size() < 5 || cols[4].rfind("Tier 2", 0) != 0) continue;
    if (cols[1] == "IP" && ioc.tier2_ips.size() < 3) ioc.tier2_ips.push_back(cols[0]);
    if (cols[1] == "Domain" && ioc.tier2_domain.empty()) ioc.tier2_domain = cols[0];
  }
  return ioc;
}

// Writes the capture (from 2026-04-20T08:00:00Z); needs three tier-2 IPs and a tier-2 domain.
//   10.20.5.7  camera: TLS with tier-2 node 0, answered (two flows)
//   10.20.5.8  NAS: three SYNs to tier-2 node 1, unanswered (one flow)
//   10.20.1.1  VPN gateway: a SYN to its SSH from tier-2 node 2, unanswered
//   10.20.5.9  laptop: resolves api.DOMAIN at 10.20.0.53 (192.0.2.77) and talks to the answer
//   ordinary traffic from the camera to 192.0.2.10
inline bool write_raptor_train_capture(const std::string& pcap, const RaptorTrainIocs& ioc) {
  constexpr uint8_t kSyn = 0x02, kAck = 0x10, kPsh = 0x08, kFin = 0x01;
  PcapWriter w(pcap, 1776672000000);
  if (!w.ok() || ioc.tier2_ips.size() < 3 || ioc.tier2_domain.empty()) return false;
  auto cam = ipv4_bytes("10.20.5.7"), nas = ipv4_bytes("10.20.5.8"), vpn = ipv4_bytes("10.20.1.1");
  auto laptop = ipv4_bytes("10.20.5.9"), resolver = ipv4_bytes("10.20.0.53");
  auto c2 = ipv4_bytes(ioc.tier2_ips[0]), c2b = ipv4_bytes(ioc.tier2_ips[1]),
       scanner = ipv4_bytes(ioc.tier2_ips[2]);
  auto web = ipv4_bytes("192.0.2.10"), resolved = ipv4_bytes("192.0.2.77");
  // The camera talks TLS to a tier-2 node and gets data back.
  w.packet(0, false, cam.data(), c2.data(), 6, 50000, 443, kSyn, 0);
  w.packet(10, false, c2.data(), cam.data(), 6, 443, 50000, kSyn | kAck, 0);
  w.packet(20, false, cam.data(), c2.data(), 6, 50000, 443, kAck | kPsh, 300);
  w.packet(30, false, c2.data(), cam.data(), 6, 443, 50000, kAck | kPsh, 1200);
  w.packet(40, false, cam.data(), c2.data(), 6, 50000, 443, kAck | kFin, 0);
  w.packet(50, false, c2.data(), cam.data(), 6, 443, 50000, kAck | kFin, 0);
  // The NAS tries another tier-2 node three times; nobody answers.
  for (int i = 0; i < 3; ++i) {
    w.packet(100 + i * 1000, false, nas.data(), c2b.data(), 6, 50001, 443, kSyn, 0);
  }
  // A third tier-2 node knocks on the VPN gateway's SSH; the gateway stays silent.
  w.packet(5000, false, scanner.data(), vpn.data(), 6, 41000, 22, kSyn, 0);
  // The laptop resolves a tier-2 C2 domain, then exchanges data with the answer.
  const std::string name = "api." + ioc.tier2_domain;
  w.packet(6000, false, laptop.data(), resolver.data(), 17, 53000, 53, 0, dns_message(name));
  w.packet(6010, false, resolver.data(), laptop.data(), 17, 53, 53000, 0,
           dns_message(name, "192.0.2.77"));
  w.packet(6100, false, laptop.data(), resolved.data(), 6, 50002, 443, kSyn, 0);
  w.packet(6110, false, resolved.data(), laptop.data(), 6, 443, 50002, kSyn | kAck, 0);
  w.packet(6120, false, laptop.data(), resolved.data(), 6, 50002, 443, kAck | kPsh, 200);
  w.packet(6130, false, resolved.data(), laptop.data(), 6, 443, 50002, kAck | kPsh, 900);
  // Ordinary traffic.
  w.packet(7000, false, cam.data(), web.data(), 6, 50003, 443, kSyn, 0);
  w.packet(7010, false, web.data(), cam.data(), 6, 443, 50003, kSyn | kAck, 0);
  w.packet(7020, false, cam.data(), web.data(), 6, 50003, 443, kAck | kPsh, 100);
  return true;
}

}  // namespace orbwatch::test
