// orbwatch-flowgen: a fast NetFlow v5 / v9 / IPFIX sender for ingest benchmarks (loopback only).
//
// Datagrams are built once into a ring with varied records from a seeded PRNG; sending only
// patches header sequence numbers and timestamps (and the records' times), so one core reaches
// several million v5 flows/s. v9/IPFIX templates go in their own datagram, first and then every
// --template-every data datagrams per exporter. Rate limiting is a token bucket in flows/s;
// datagrams leave in sendmmsg batches. Prints one `key=value` summary line on stdout.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

int64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
int64_t real_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
void put64(uint8_t* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

// splitmix64: small, fast, seedable; the same seed gives the same records.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>((next() >> 32) * n >> 32); }
};

enum class Proto { kV5, kV9, kIpfix };

// One flow's values before encoding.
struct Flow {
  uint32_t src, dst, next_hop;
  uint16_t sport, dport;
  uint8_t proto, flags, tos, src_mask, dst_mask;
  uint32_t in_if, out_if, src_as, dst_as;
  uint64_t packets, bytes;
  uint32_t first_ago_ms, last_ago_ms;  // before the export time
};

Flow random_flow(Rng& r) {
  static constexpr uint16_t kServices[] = {443, 443, 443, 80, 53, 22, 25, 123, 3389, 8080, 993};
  Flow f{};
  // Internal clients (10.0.0.0/16) talk to external servers and the other way round.
  uint32_t internal = 0x0A000000u | r.below(1u << 16);
  uint32_t external = 0x01000000u + r.below(0xDF000000u - 0x01000000u);  // 1.0.0.0 .. 223.x
  bool outbound = r.below(4) != 0;
  uint16_t service = kServices[r.below(sizeof(kServices) / sizeof(kServices[0]))];
  uint16_t ephemeral = static_cast<uint16_t>(1024 + r.below(64512));
  uint32_t pr = r.below(100);
  f.proto = pr < 80 ? 6 : pr < 98 ? 17 : 1;
  f.src = outbound ? internal : external;
  f.dst = outbound ? external : internal;
  f.sport = outbound ? ephemeral : service;
  f.dport = outbound ? service : ephemeral;
  if (f.proto == 1) {
    f.sport = 0;
    f.dport = r.below(2) ? 0x0800 : 0x0000;  // echo request / reply
  }
  static constexpr uint8_t kFlags[] = {0x1b, 0x1b, 0x1a, 0x02, 0x12, 0x14, 0x19};
  f.flags = f.proto == 6 ? kFlags[r.below(sizeof(kFlags))] : 0;
  f.tos = r.below(8) == 0 ? 0xb8 : 0;
  f.next_hop = 0xC0A80001u;
  f.src_mask = outbound ? 16 : 24;
  f.dst_mask = outbound ? 24 : 16;
  f.in_if = 1 + r.below(48);
  f.out_if = 1 + r.below(48);
  f.src_as = outbound ? 0 : 1 + r.below(64000);
  f.dst_as = outbound ? 1 + r.below(64000) : 0;
  // Heavy-tailed sizes: most flows are a few packets, a few are large.
  uint32_t shift = r.below(12);
  f.packets = 1 + r.below(1u << shift);
  f.bytes = f.packets * (40 + r.below(1460));
  f.last_ago_ms = r.below(30000);
  f.first_ago_ms = f.last_ago_ms + r.below(60000);
  return f;
}

// v9 (RFC 3954) and IPFIX (RFC 7011) templates: {element id, length}.
struct Field {
  uint16_t id, len;
};
constexpr Field kV9Fields[] = {{8, 4},  {12, 4}, {7, 2}, {11, 2}, {4, 1},  {6, 1},
                               {5, 1},  {1, 4},  {2, 4}, {10, 2}, {14, 2}, {15, 4},
                               {16, 4}, {17, 4}, {9, 1}, {13, 1}, {22, 4}, {21, 4}};
constexpr Field kIpfixFields[] = {{8, 4},  {12, 4}, {7, 2},   {11, 2}, {4, 1},  {6, 1},
                                  {5, 1},  {1, 8},  {2, 8},   {10, 4}, {14, 4}, {16, 4},
                                  {17, 4}, {61, 1}, {152, 8}, {153, 8}};
constexpr uint16_t kTemplateId = 256;

template <size_t N>
constexpr size_t record_len(const Field (&f)[N]) {
  size_t n = 0;
  for (const Field& x : f) n += x.len;
  return n;
}
constexpr size_t kV5Header = 24, kV5Record = 48, kV5PerDatagram = 30;
constexpr size_t kV9Header = 20, kV9Record = record_len(kV9Fields);
constexpr size_t kIpfixHeader = 16, kIpfixRecord = record_len(kIpfixFields);
constexpr size_t kTargetBytes = 1400;  // typical exporter datagram (fits a 1500-byte MTU)

struct Format {
  Proto proto;
  size_t header, record, per_datagram;
  size_t first_off, last_off;  // offsets of the flow's times inside a record
  bool abs_times;              // IPFIX: 64-bit epoch ms; v5/v9: 32-bit sysUpTime ms
};

Format format_for(Proto p) {
  switch (p) {
    case Proto::kV5:
      return {p, kV5Header, kV5Record, kV5PerDatagram, 24, 28, false};
    case Proto::kV9: {
      size_t n = (kTargetBytes - kV9Header - 4) / kV9Record;
      return {p, kV9Header + 4, kV9Record, n, kV9Record - 8, kV9Record - 4, false};
    }
    case Proto::kIpfix: {
      size_t n = (kTargetBytes - kIpfixHeader - 4) / kIpfixRecord;
      return {p, kIpfixHeader + 4, kIpfixRecord, n, kIpfixRecord - 16, kIpfixRecord - 8, true};
    }
  }
  return {};
}

void encode_record(Proto p, const Flow& f, uint8_t* o) {
  if (p == Proto::kV5) {
    put32(o, f.src);
    put32(o + 4, f.dst);
    put32(o + 8, f.next_hop);
    put16(o + 12, static_cast<uint16_t>(f.in_if));
    put16(o + 14, static_cast<uint16_t>(f.out_if));
    put32(o + 16, static_cast<uint32_t>(f.packets));
    put32(o + 20, static_cast<uint32_t>(f.bytes));
    // 24, 28: First / Last, patched at send time
    put16(o + 32, f.sport);
    put16(o + 34, f.dport);
    o[36] = 0;
    o[37] = f.flags;
    o[38] = f.proto;
    o[39] = f.tos;
    put16(o + 40, static_cast<uint16_t>(f.src_as));
    put16(o + 42, static_cast<uint16_t>(f.dst_as));
    o[44] = f.src_mask;
    o[45] = f.dst_mask;
    o[46] = o[47] = 0;
    return;
  }
  const bool v9 = p == Proto::kV9;
  put32(o, f.src);
  put32(o + 4, f.dst);
  put16(o + 8, f.sport);
  put16(o + 10, f.dport);
  o[12] = f.proto;
  o[13] = f.flags;
  o[14] = f.tos;
  o += 15;
  if (v9) {
    put32(o, static_cast<uint32_t>(f.bytes));
    put32(o + 4, static_cast<uint32_t>(f.packets));
    put16(o + 8, static_cast<uint16_t>(f.in_if));
    put16(o + 10, static_cast<uint16_t>(f.out_if));
    put32(o + 12, f.next_hop);
    put32(o + 16, f.src_as);
    put32(o + 20, f.dst_as);
    o[24] = f.src_mask;
    o[25] = f.dst_mask;
  } else {
    put64(o, f.bytes);
    put64(o + 8, f.packets);
    put32(o + 16, f.in_if);
    put32(o + 20, f.out_if);
    put32(o + 24, f.src_as);
    put32(o + 28, f.dst_as);
    o[32] = f.src_as != 0 ? 0 : 1;  // flowDirection: 0 ingress, 1 egress
  }
}

// A template datagram (its header is patched like any other).
std::vector<uint8_t> template_datagram(Proto p) {
  const bool v9 = p == Proto::kV9;
  const Field* fields = v9 ? kV9Fields : kIpfixFields;
  size_t n = v9 ? std::size(kV9Fields) : std::size(kIpfixFields);
  size_t hdr = v9 ? kV9Header : kIpfixHeader;
  std::vector<uint8_t> d(hdr + 4 + 4 + n * 4);
  uint8_t* s = d.data() + hdr;
  put16(s, v9 ? 0 : 2);  // template (flow)set id
  put16(s + 2, static_cast<uint16_t>(d.size() - hdr));
  put16(s + 4, kTemplateId);
  put16(s + 6, static_cast<uint16_t>(n));
  for (size_t i = 0; i < n; ++i) {
    put16(s + 8 + i * 4, fields[i].id);
    put16(s + 10 + i * 4, fields[i].len);
  }
  put16(d.data(), v9 ? 9 : 10);
  put16(d.data() + 2, static_cast<uint16_t>(v9 ? 1 : d.size()));  // v9: record count
  return d;
}

// Per exporter: its own socket (source port), sequence numbers and template schedule.
struct Exporter {
  int fd = -1;
  uint32_t id = 0;       // v9 source id / IPFIX observation domain
  uint32_t packets = 0;  // v9 sequence: export packets sent
  uint64_t records = 0;  // v5/IPFIX sequence: records sent
  uint64_t since_template = 0;
  bool template_sent = false;
};

struct Options {
  Proto proto = Proto::kV5;
  std::string host = "127.0.0.1";
  uint16_t port = 2055;
  double rate = 0;      // flows/s; 0 = as fast as possible
  double duration = 0;  // seconds; 0 = until --flows or a signal
  uint64_t flows = 0;   // stop after this many flows
  uint64_t seed = 1;
  unsigned exporters = 1;
  unsigned batch = 64;
  unsigned ring = 1024;
  unsigned template_every = 20;
  int sndbuf = 4 << 20;
  bool quiet = false;
};

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: orbwatch-flowgen [options]\n"
               "  --proto v5|v9|ipfix   export format (default v5)\n"
               "  --host 127.0.0.1|::1  destination (loopback only; default 127.0.0.1)\n"
               "  --port N              destination port (default 2055)\n"
               "  --rate FLOWS/S        token-bucket rate; 0 = as fast as possible (default)\n"
               "  --duration SECONDS    stop after this long\n"
               "  --flows N             stop after exactly N flows\n"
               "  --seed N              PRNG seed for the records (default 1)\n"
               "  --exporters N         distinct source sockets / source ids (default 1)\n"
               "  --template-every N    v9/IPFIX: resend templates every N datagrams (default 20)\n"
               "  --batch N             datagrams per sendmmsg (default 64)\n"
               "  --ring N              distinct precomputed datagrams (default 1024)\n"
               "  --quiet               no progress on stderr\n"
               "prints: proto= datagrams= template_datagrams= flows= seconds= flows_per_s= ...\n");
  std::exit(code);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto val = [&]() -> std::string_view {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "flowgen: %s needs a value\n", argv[i]);
        usage(2);
      }
      return argv[++i];
    };
    auto num = [&]() { return std::strtod(std::string(val()).c_str(), nullptr); };
    if (a == "--proto") {
      std::string_view v = val();
      if (v == "v5" || v == "5")
        o.proto = Proto::kV5;
      else if (v == "v9" || v == "9")
        o.proto = Proto::kV9;
      else if (v == "ipfix" || v == "10")
        o.proto = Proto::kIpfix;
      else
        usage(2);
    } else if (a == "--host")
      o.host = val();
    else if (a == "--port")
      o.port = static_cast<uint16_t>(num());
    else if (a == "--rate")
      o.rate = num();
    else if (a == "--duration")
      o.duration = num();
    else if (a == "--flows")
      o.flows = static_cast<uint64_t>(num());
    else if (a == "--seed")
      o.seed = static_cast<uint64_t>(num());
    else if (a == "--exporters")
      o.exporters = std::max(1u, static_cast<unsigned>(num()));
    else if (a == "--template-every")
      o.template_every = std::max(1u, static_cast<unsigned>(num()));
    else if (a == "--batch")
      o.batch = std::clamp(static_cast<unsigned>(num()), 1u, 1024u);
    else if (a == "--ring")
      o.ring = std::max(1u, static_cast<unsigned>(num()));
    else if (a == "--quiet")
      o.quiet = true;
    else if (a == "-h" || a == "--help")
      usage(0);
    else {
      std::fprintf(stderr, "flowgen: unknown option %s\n", argv[i]);
      usage(2);
    }
  }
  o.ring = std::max(o.ring, o.batch);  // a batch never patches one ring slot twice
  if (o.host != "127.0.0.1" && o.host != "::1") {
    std::fprintf(stderr, "flowgen: --host must be 127.0.0.1 or ::1 (loopback only)\n");
    std::exit(2);
  }
  return o;
}

const char* proto_name(Proto p) {
  return p == Proto::kV5 ? "v5" : p == Proto::kV9 ? "v9" : "ipfix";
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);
  const Format fmt = format_for(opt.proto);
  const bool templated = opt.proto != Proto::kV5;
  const size_t dgram_len = fmt.header + fmt.per_datagram * fmt.record;

  // The ring: datagrams with fixed record contents; per record the two times to patch.
  Rng rng{opt.seed};
  std::vector<uint8_t> ring(size_t{opt.ring} * dgram_len);
  std::vector<uint32_t> ago(size_t{opt.ring} * fmt.per_datagram * 2);
  for (size_t d = 0; d < opt.ring; ++d) {
    uint8_t* base = ring.data() + d * dgram_len;
    for (size_t r = 0; r < fmt.per_datagram; ++r) {
      Flow f = random_flow(rng);
      encode_record(opt.proto, f, base + fmt.header + r * fmt.record);
      ago[(d * fmt.per_datagram + r) * 2] = f.first_ago_ms;
      ago[(d * fmt.per_datagram + r) * 2 + 1] = f.last_ago_ms;
    }
    switch (opt.proto) {
      case Proto::kV5:
        put16(base, 5);
        put16(base + 2, static_cast<uint16_t>(fmt.per_datagram));
        base[20] = 0;  // engine type
        base[21] = 0;  // engine id
        put16(base + 22, 0);
        break;
      case Proto::kV9:
        put16(base, 9);
        put16(base + 2, static_cast<uint16_t>(fmt.per_datagram));
        put16(base + kV9Header, kTemplateId);
        put16(base + kV9Header + 2, static_cast<uint16_t>(dgram_len - kV9Header));
        break;
      case Proto::kIpfix:
        put16(base, 10);
        put16(base + 2, static_cast<uint16_t>(dgram_len));
        put16(base + kIpfixHeader, kTemplateId);
        put16(base + kIpfixHeader + 2, static_cast<uint16_t>(dgram_len - kIpfixHeader));
        break;
    }
  }
  std::vector<uint8_t> tmpl = templated ? template_datagram(opt.proto) : std::vector<uint8_t>{};

  sockaddr_storage dst{};
  socklen_t dst_len;
  const bool v6 = opt.host == "::1";
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&dst);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(opt.port);
    a->sin6_addr = in6addr_loopback;
    dst_len = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&dst);
    a->sin_family = AF_INET;
    a->sin_port = htons(opt.port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    dst_len = sizeof(sockaddr_in);
  }
  std::vector<Exporter> exporters(opt.exporters);
  for (unsigned i = 0; i < opt.exporters; ++i) {
    Exporter& e = exporters[i];
    e.id = i + 1;
    e.fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (e.fd < 0) {
      std::perror("flowgen: socket");
      return 1;
    }
    setsockopt(e.fd, SOL_SOCKET, SO_SNDBUF, &opt.sndbuf, sizeof(opt.sndbuf));
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  // Scratch for the batch: per slot either a ring datagram or the template / a trimmed copy.
  std::vector<mmsghdr> msgs(opt.batch);
  std::vector<iovec> iov(opt.batch);
  std::vector<uint8_t> tail(dgram_len);  // the last, partial datagram of a --flows run
  // One template copy per slot: a batch may carry several, each with its own sequence number.
  std::vector<uint8_t> tmpl_slots(tmpl.size() * opt.batch);

  const int64_t start_mono = mono_ns();
  const int64_t start_real = real_ns();
  const int64_t deadline =
      opt.duration > 0 ? start_mono + static_cast<int64_t>(opt.duration * 1e9) : INT64_MAX;
  // Exporter uptime at start: one hour, so every record's First/Last stays positive.
  const uint32_t uptime_base_ms = 3'600'000;

  // Token bucket in flows. The pacing quantum keeps batches
  // at least ~200 us apart so sleeping works at every rate.
  const double per_dgram = static_cast<double>(fmt.per_datagram);
  double tokens = 0;
  // Four batches of burst let a sender that was descheduled catch up without exceeding the rate
  // on average (a few hundred KiB, far below the receivers' 8 MiB buffers).
  const double burst = per_dgram * opt.batch * 4;
  const unsigned quantum =
      opt.rate > 0 ? std::clamp(static_cast<unsigned>(opt.rate / per_dgram * 200e-6), 1u, opt.batch)
                   : opt.batch;
  int64_t last_refill = start_mono;

  uint64_t sent_dgrams = 0, sent_templates = 0, sent_flows = 0, send_errors = 0, bytes = 0;
  size_t ring_pos = 0;
  unsigned next_exporter = 0;
  int64_t next_report = start_mono + 1'000'000'000;
  bool done = false;

  while (!done && !g_stop) {
    int64_t now = mono_ns();
    if (now >= deadline) break;
    unsigned n_data = opt.batch;
    if (opt.rate > 0) {
      tokens = std::min(burst, tokens + opt.rate * static_cast<double>(now - last_refill) * 1e-9);
      last_refill = now;
      unsigned avail = static_cast<unsigned>(tokens / per_dgram);
      if (avail < quantum) {
        double need_s = (quantum * per_dgram - tokens) / opt.rate;
        timespec ts{static_cast<time_t>(need_s),
                    static_cast<long>((need_s - static_cast<time_t>(need_s)) * 1e9)};
        nanosleep(&ts, nullptr);
        continue;
      }
      n_data = std::min(avail, opt.batch);
    }

    Exporter& e = exporters[next_exporter];
    next_exporter = (next_exporter + 1) % opt.exporters;
    const int64_t now_real = start_real + (now - start_mono);
    const uint64_t now_ms = static_cast<uint64_t>(now_real / 1'000'000);
    const uint32_t secs = static_cast<uint32_t>(now_real / 1'000'000'000);
    const uint32_t nsecs = static_cast<uint32_t>(now_real % 1'000'000'000);
    const uint32_t uptime = uptime_base_ms + static_cast<uint32_t>((now - start_mono) / 1'000'000);

    unsigned slots = 0, data_in_batch = 0;
    uint64_t flows_in_batch = 0;
    while (slots < opt.batch && data_in_batch < n_data) {
      uint8_t* d;
      size_t len = dgram_len;
      size_t nrec = fmt.per_datagram;
      bool is_template = false;
      if (templated && (!e.template_sent || e.since_template >= opt.template_every)) {
        d = tmpl_slots.data() + size_t{slots} * tmpl.size();
        std::memcpy(d, tmpl.data(), tmpl.size());
        len = tmpl.size();
        nrec = 0;
        is_template = true;
        e.template_sent = true;
        e.since_template = 0;
      } else {
        d = ring.data() + ring_pos * dgram_len;
        if (opt.flows > 0 && sent_flows + flows_in_batch + nrec >= opt.flows) {
          // Last datagram: exactly the flows still owed, in a trimmed copy.
          nrec = opt.flows - sent_flows - flows_in_batch;
          std::memcpy(tail.data(), d, dgram_len);
          d = tail.data();
          len = fmt.header + nrec * fmt.record;
          done = true;
        }
        // Record times relative to the export time.
        const uint32_t* a = &ago[ring_pos * fmt.per_datagram * 2];
        for (size_t r = 0; r < nrec; ++r) {
          uint8_t* rec = d + fmt.header + r * fmt.record;
          if (fmt.abs_times) {
            put64(rec + fmt.first_off, now_ms - a[r * 2]);
            put64(rec + fmt.last_off, now_ms - a[r * 2 + 1]);
          } else {
            put32(rec + fmt.first_off, uptime - a[r * 2]);
            put32(rec + fmt.last_off, uptime - a[r * 2 + 1]);
          }
        }
        ring_pos = (ring_pos + 1) % opt.ring;
        ++data_in_batch;
        ++e.since_template;
      }
      switch (opt.proto) {
        case Proto::kV5:
          put16(d + 2, static_cast<uint16_t>(nrec));
          put32(d + 4, uptime);
          put32(d + 8, secs);
          put32(d + 12, nsecs);
          put32(d + 16, static_cast<uint32_t>(e.records));
          d[21] = static_cast<uint8_t>(e.id);  // engine id tells exporters apart
          break;
        case Proto::kV9:
          if (!is_template) {
            put16(d + 2, static_cast<uint16_t>(nrec));
            put16(d + kV9Header + 2, static_cast<uint16_t>(len - kV9Header));
          }
          put32(d + 4, uptime);
          put32(d + 8, secs);
          put32(d + 12, e.packets);
          put32(d + 16, e.id);
          break;
        case Proto::kIpfix:
          put16(d + 2, static_cast<uint16_t>(len));
          if (!is_template) put16(d + kIpfixHeader + 2, static_cast<uint16_t>(len - kIpfixHeader));
          put32(d + 4, secs);
          put32(d + 8, static_cast<uint32_t>(e.records));
          put32(d + 12, e.id);
          break;
      }
      ++e.packets;
      e.records += nrec;
      flows_in_batch += nrec;
      if (is_template) ++sent_templates;
      iov[slots] = {d, len};
      msghdr& h = msgs[slots].msg_hdr;
      h = msghdr{};
      h.msg_name = &dst;
      h.msg_namelen = dst_len;
      h.msg_iov = &iov[slots];
      h.msg_iovlen = 1;
      bytes += len;
      ++slots;
      if (done) break;
    }

    // The ring slots are not reused within a batch (ring >= batch), so patching is safe.
    unsigned off = 0;
    while (off < slots) {
      int r = sendmmsg(e.fd, msgs.data() + off, slots - off, 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        ++send_errors;
        if (errno == ENOBUFS || errno == EAGAIN) continue;
        std::perror("flowgen: sendmmsg");
        return 1;
      }
      off += static_cast<unsigned>(r);
    }
    sent_dgrams += slots;
    sent_flows += flows_in_batch;
    if (opt.rate > 0) tokens -= static_cast<double>(flows_in_batch);
    if (opt.flows > 0 && sent_flows >= opt.flows) done = true;
    if (!opt.quiet && now >= next_report) {
      double s = static_cast<double>(now - start_mono) * 1e-9;
      std::fprintf(stderr, "flowgen: %.0f s, %llu flows, %.0f flows/s\n", s,
                   static_cast<unsigned long long>(sent_flows),
                   static_cast<double>(sent_flows) / s);
      next_report += 1'000'000'000;
    }
  }

  const double secs = static_cast<double>(mono_ns() - start_mono) * 1e-9;
  std::printf(
      "proto=%s datagrams=%llu template_datagrams=%llu flows=%llu bytes=%llu seconds=%.3f "
      "flows_per_s=%.0f datagrams_per_s=%.0f send_errors=%llu exporters=%u\n",
      proto_name(opt.proto), static_cast<unsigned long long>(sent_dgrams),
      static_cast<unsigned long long>(sent_templates), static_cast<unsigned long long>(sent_flows),
      static_cast<unsigned long long>(bytes), secs, static_cast<double>(sent_flows) / secs,
      static_cast<double>(sent_dgrams) / secs, static_cast<unsigned long long>(send_errors),
      opt.exporters);
  for (Exporter& e : exporters) ::close(e.fd);
  return 0;
}
