#include "ingest/pcap_source.h"

#include <poll.h>

#include <pcap/pcap.h>

#include <string_view>

namespace orbwatch::ingest {

std::optional<LinkType> link_type_from_dlt(int dlt) {
  switch (dlt) {
    case DLT_NULL:
      return LinkType::kNull;
    case DLT_EN10MB:
      return LinkType::kEthernet;
    // DLT_RAW is 12 on most systems, 14 on OpenBSD; LINKTYPE_RAW is 101 in files.
    case 12:
    case 14:
    case 101:
      return LinkType::kRaw;
    case 108:
      return LinkType::kLoop;  // DLT_LOOP on non-OpenBSD
    case DLT_LINUX_SLL:
      return LinkType::kLinuxSll;
    case 276:
      return LinkType::kLinuxSll2;
    case 228:
      return LinkType::kIpv4;
    case 229:
      return LinkType::kIpv6;
    default:
      return std::nullopt;
  }
}

PacketSource::PacketSource(pcap* handle, std::string name, bool live)
    : handle_(handle), name_(std::move(name)), live_(live) {}

PacketSource::~PacketSource() {
  if (handle_ != nullptr) pcap_close(handle_);
}

PacketSource::Opened PacketSource::finish_open(pcap* handle, std::string name, bool live) {
  int dlt = pcap_datalink(handle);
  std::optional<LinkType> link = link_type_from_dlt(dlt);
  if (!link) {
    const char* dlt_name = pcap_datalink_val_to_name(dlt);
    std::string msg = name + ": unsupported link type " + std::to_string(dlt);
    if (dlt_name != nullptr) msg += std::string(" (") + dlt_name + ")";
    pcap_close(handle);
    return {nullptr, msg};
  }
  std::unique_ptr<PacketSource> src(new PacketSource(handle, std::move(name), live));
  src->link_ = *link;
  src->dlt_ = dlt;
  src->nano_ = pcap_get_tstamp_precision(handle) == PCAP_TSTAMP_PRECISION_NANO;
  return {std::move(src), {}};
}

PacketSource::Opened PacketSource::open_file(const std::string& path) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap* h =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (h == nullptr) return {nullptr, path + ": " + errbuf};
  return finish_open(h, path, false);
}

PacketSource::Opened PacketSource::open_stream(FILE* file, const std::string& name) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap* h = pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (h == nullptr) {
    std::fclose(file);  // libpcap leaves the FILE open when it fails
    return {nullptr, name + ": " + errbuf};
  }
  return finish_open(h, name, false);
}

PacketSource::Opened PacketSource::open_live(const std::string& iface, const LiveOptions& opts) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap* h = pcap_create(iface.c_str(), errbuf);
  if (h == nullptr) return {nullptr, iface + ": " + errbuf};
  auto fail = [&](const std::string& what) -> Opened {
    std::string msg = iface + ": " + what + ": " + pcap_geterr(h);
    pcap_close(h);
    return {nullptr, msg};
  };
  pcap_set_snaplen(h, opts.snaplen);
  pcap_set_promisc(h, opts.promiscuous ? 1 : 0);
  pcap_set_timeout(h, opts.timeout_ms);
  pcap_set_immediate_mode(h, 1);
  // Nanoseconds where the platform offers them; otherwise micro (finish_open reads which).
  (void)pcap_set_tstamp_precision(h, PCAP_TSTAMP_PRECISION_NANO);
  if (pcap_activate(h) < 0) return fail("activate");
  if (!opts.filter.empty()) {
    bpf_program prog{};
    if (pcap_compile(h, &prog, opts.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      return fail("filter \"" + opts.filter + "\"");
    }
    int set = pcap_setfilter(h, &prog);
    pcap_freecode(&prog);
    if (set != 0) return fail("setfilter");
  }
  // Linux TPACKET_V3 polls without a timeout when no packet comes, so pcap_next_ex would block
  // forever on a quiet interface: read non-blocking and wait in poll() ourselves (next()).
  char nb_err[PCAP_ERRBUF_SIZE] = {};
  if (pcap_setnonblock(h, 1, nb_err) != 0) return fail("setnonblock");
  auto opened = finish_open(h, iface, true);
  if (opened.source) opened.source->timeout_ms_ = opts.timeout_ms;
  return opened;
}

PacketSource::Next PacketSource::next(PacketView& out) {
  if (done_) return error_.empty() ? Next::kEnd : Next::kError;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  int rc = pcap_next_ex(handle_, &hdr, &data);
  if (rc == 0 && live_) {
    pollfd pfd{pcap_get_selectable_fd(handle_), POLLIN, 0};
    if (pfd.fd >= 0 && poll(&pfd, 1, timeout_ms_) > 0) rc = pcap_next_ex(handle_, &hdr, &data);
  }
  if (rc == 1) {
    ++packets_;
    // Hostile files carry any 64-bit time (pcapng): saturate instead of overflowing.
    int64_t sub = hdr->ts.tv_usec, sec = hdr->ts.tv_sec, ns = 0;
    if ((!nano_ && __builtin_mul_overflow(sub, 1000, &sub)) ||
        __builtin_mul_overflow(sec, 1000000000, &ns) || __builtin_add_overflow(ns, sub, &ns)) {
      ns = sec < 0 ? INT64_MIN : INT64_MAX;
    }
    out.ts_ns = ns;
    out.caplen = hdr->caplen;
    out.wire_len = hdr->len;
    out.data = data;
    out.link = link_;
    return Next::kPacket;
  }
  if (rc == 0) return Next::kTimeout;
  done_ = true;
  if (rc == PCAP_ERROR_BREAK) return Next::kEnd;  // -2: end of file (or pcap_breakloop)
  std::string_view msg = pcap_geterr(handle_);
  truncated_ = msg.find("truncated") != std::string_view::npos;
  error_ = name_ + ": packet " + std::to_string(packets_ + 1) + ": " + std::string(msg);
  return Next::kError;
}

uint64_t PacketSource::dropped() const {
  pcap_stat st{};
  if (!live_ || pcap_stats(handle_, &st) != 0) return 0;
  return uint64_t{st.ps_drop} + st.ps_ifdrop;
}

}  // namespace orbwatch::ingest
