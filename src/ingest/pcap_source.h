// PacketSource: packets from a pcap/pcapng file or a live interface, through libpcap.
// libpcap detects pcap vs pcapng, byte order and micro/nanosecond timestamps from the file
// header (never from the name); we always ask it for nanoseconds so both precisions arrive
// the same way.
//
// Errors never throw: open_* return a message naming the file (or interface); next() returns
// kError with error() naming the file and the 1-based packet number. A file cut mid-packet
// delivers every complete packet before the cut, then kError with truncated() true.
//
// Not thread-safe; one reader per source.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "ingest/packet.h"

struct pcap;

namespace orbwatch::ingest {

struct PacketView {
  int64_t ts_ns = 0;  // capture time, Unix ns
  uint32_t caplen = 0;
  uint32_t wire_len = 0;
  const uint8_t* data = nullptr;  // valid until the next call to next()
  LinkType link = LinkType::kEthernet;

  // Floor division, so times before 1970 round down like positive ones.
  int64_t ts_ms() const {
    int64_t q = ts_ns / 1000000;
    return ts_ns % 1000000 < 0 ? q - 1 : q;
  }
};

struct LiveOptions {
  int snaplen = 65535;
  bool promiscuous = false;
  int timeout_ms = 100;  // how long next() may wait before returning kTimeout
  std::string filter;    // BPF, empty = everything
};

// Maps a libpcap DLT value to the link types parse_packet knows.
std::optional<LinkType> link_type_from_dlt(int dlt);

class PacketSource {
 public:
  enum class Next : uint8_t { kPacket, kEnd, kTimeout, kError };

  struct Opened {
    std::unique_ptr<PacketSource> source;  // null on error
    std::string error;
  };

  static Opened open_file(const std::string& path);
  // Takes ownership of `file` (closed by the source, or on failure). `name` is for messages.
  static Opened open_stream(FILE* file, const std::string& name);
  static Opened open_live(const std::string& iface, const LiveOptions& opts = {});

  ~PacketSource();
  PacketSource(const PacketSource&) = delete;
  PacketSource& operator=(const PacketSource&) = delete;

  Next next(PacketView& out);

  const std::string& error() const { return error_; }
  bool truncated() const { return truncated_; }  // the last kError was a file cut short
  const std::string& name() const { return name_; }
  uint64_t packets() const { return packets_; }  // delivered so far
  LinkType link() const { return link_; }
  int dlt() const { return dlt_; }
  bool live() const { return live_; }
  // Packets dropped by the kernel or interface (live capture only).
  uint64_t dropped() const;

 private:
  PacketSource(pcap* handle, std::string name, bool live);
  static Opened finish_open(pcap* handle, std::string name, bool live);

  pcap* handle_;
  std::string name_;
  bool live_;
  LinkType link_ = LinkType::kEthernet;
  int dlt_ = 0;
  uint64_t packets_ = 0;
  std::string error_;
  bool truncated_ = false;
  bool done_ = false;
  bool nano_ = true;    // ts.tv_usec holds nanoseconds
  int timeout_ms_ = 0;  // live: how long next() waits for a packet before kTimeout
};

}  // namespace orbwatch::ingest
