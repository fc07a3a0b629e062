// UdpListener: the UDP receive path for NetFlow/IPFIX/sFlow exports.
//
// Each listen address gets N sockets bound with SO_REUSEPORT, so the kernel spreads exporters
// (by source address/port hash) across N receive threads. Each thread reads with recvmmsg in
// batches and hands the batch to a consumer on that same thread: a consumer keeps one decoder
// per socket index and needs no locks. Threading: open() and start() from one thread; stats()
// from any thread; stop() from the thread that called start() (never from a consumer).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/ip_addr.h"
#include "ingest/datagram.h"

namespace orbwatch::ingest {

// A parsed listen URL: udp://127.0.0.1:2055, udp://[::1]:4739, udp://0.0.0.0:6343, udp://[::]:2055.
struct ListenAddress {
  IpAddr addr;        // IPv4 mapped when v6 is false
  uint16_t port = 0;  // 0 = ephemeral (tests)
  bool v6 = false;
  std::string to_string() const;  // canonical "udp://host:port"
};

// Parses a listen URL. On failure returns false and sets `error` to a one-line reason.
bool parse_listen_url(std::string_view url, ListenAddress& out, std::string& error);

// Datagrams the listener received but did not hand on, by reason.
enum class UdpDrop : uint8_t {
  kNotAllowed,  // source not in the exporter allow-list
  kBadSource,   // source port 0 or unspecified/multicast source address (spoofed or broken)
  kTruncated,   // larger than the receive buffer slot (MSG_TRUNC)
  kEmpty,       // zero-length payload
  kCount
};
const char* udp_drop_name(UdpDrop d);

// Receives one batch of datagrams on receive thread `socket_index` (0 .. sockets()-1). The
// datagram bytes are valid only during the call. Never called concurrently for one index.
class DatagramConsumer {
 public:
  virtual ~DatagramConsumer() = default;
  virtual void on_datagrams(size_t socket_index, std::span<const Datagram> batch) = 0;
  // Called on the receive thread when the socket was idle for the wake interval and once after
  // the final drain (`final` true): the place to flush buffered output.
  virtual void on_idle(size_t socket_index, bool final) {
    (void)socket_index;
    (void) final;
  }
};

struct UdpListenerOptions {
  std::vector<ListenAddress> listen;
  unsigned sockets_per_listen = 1;     // SO_REUSEPORT sockets (and threads) per address
  int rcvbuf_bytes = 8 << 20;          // requested SO_RCVBUF; <= 0 keeps the system default
  std::vector<Prefix> exporter_allow;  // empty: every source is accepted
  unsigned batch = 64;                 // datagrams per recvmmsg call
  size_t max_datagram_bytes = 65535;   // per-slot buffer; larger datagrams count as truncated
  int wake_ms = 100;                   // SO_RCVTIMEO: how soon a thread notices stop()
};

// Counters of one socket, written by its receive thread and readable from any thread.
struct UdpSocketCounters {
  std::atomic<uint64_t> datagrams{0};  // received from the kernel, including dropped ones
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> kernel_drops{0};  // SO_RXQ_OVFL: cumulative drops on the socket queue
  std::atomic<uint64_t> drops[static_cast<size_t>(UdpDrop::kCount)]{};
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> recv_errors{0};
};

// A plain snapshot (summed over sockets, or one socket).
struct UdpStats {
  uint64_t datagrams = 0;
  uint64_t bytes = 0;
  uint64_t kernel_drops = 0;
  uint64_t drops[static_cast<size_t>(UdpDrop::kCount)]{};
  uint64_t batches = 0;
  uint64_t recv_errors = 0;
  uint64_t drop(UdpDrop d) const { return drops[static_cast<size_t>(d)]; }
  uint64_t total_drops() const;
  void add(const UdpSocketCounters& c);
};

class UdpListener {
 public:
  explicit UdpListener(UdpListenerOptions options);
  ~UdpListener();  // stops and joins
  UdpListener(const UdpListener&) = delete;
  UdpListener& operator=(const UdpListener&) = delete;

  // Creates and binds every socket. Returns false with a one-line reason naming the address.
  // Non-fatal problems (receive buffer smaller than asked, ...) go to warnings().
  bool open(std::string& error);
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Starts one receive thread per socket; `consumer` must outlive stop().
  void start(DatagramConsumer& consumer);
  // Wakes the threads (within wake_ms), lets each drain what is already queued in its socket,
  // hands that on, then joins. Idempotent.
  void stop();

  size_t sockets() const { return sockets_.size(); }
  // The bound port of listen address `i` (resolves port 0).
  uint16_t port(size_t listen_index) const;
  // Receive buffer the kernel granted on socket `i` (usable bytes, see udp_listener.cc).
  int granted_rcvbuf(size_t socket_index) const;
  UdpStats stats() const;
  UdpStats socket_stats(size_t socket_index) const;

 private:
  struct Socket;
  void run(Socket& s, DatagramConsumer& consumer);

  UdpListenerOptions opt_;
  std::vector<std::unique_ptr<Socket>> sockets_;
  std::vector<uint16_t> ports_;
  std::vector<std::string> warnings_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
};

}  // namespace orbwatch::ingest
