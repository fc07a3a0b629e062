// Reading a feed's source, without parsing it: a file (read again only when its modification time
// or size changed) or an http:// / https:// URL (conditional GET with the last version's ETag and
// Last-Modified, redirects, a byte cap that aborts the download, connect/read/total timeouts).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace orbwatch::intel {

struct FetchRequest {
  std::string source;  // a file path or an http(s) URL
  // The version read last: HTTP sends them as If-None-Match / If-Modified-Since; a file whose
  // "mtime_ns-size" equals etag is not read again.
  std::string etag;
  std::string last_modified;
  std::string bearer_token;  // sent only to the source's own scheme, host and port
  std::vector<std::pair<std::string, std::string>> headers;  // likewise
  int64_t timeout_ms = 30'000;  // connect and each read; the whole download gets 10 times this
  uint64_t max_bytes = 64u << 20;
};

struct FetchResult {
  enum class Kind : uint8_t { kNew, kNotModified, kFailed };
  Kind kind = Kind::kFailed;
  std::string body;            // kNew
  std::string etag;            // kNew: the new version (ETag, or "mtime_ns-size" of a file)
  std::string last_modified;   // kNew (HTTP)
  std::string error;           // kFailed: what went wrong, naming the source
  int64_t retry_after_ms = 0;  // the server's Retry-After on a failure, 0 when none
};

// Lets another thread abort downloads (the updater's stop()): a blocked connect or read is
// interrupted at once instead of waiting for its timeout.
class FetchCancel {
 public:
  void cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  // For fetch_feed: registers how to stop the download in flight (false when already
  // cancelled), and forgets it again.
  bool attach(std::function<void()> stop);
  void detach();

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::function<void()> stop_;  // guarded by mutex_
};

// Never throws. Sends "User-Agent: orbwatch/<version>". Follows up to 5 redirects (credentials
// and extra headers are dropped when one leaves the original scheme, host and port).
FetchResult fetch_feed(const FetchRequest& req, FetchCancel* cancel = nullptr);

// The whole file, or nullopt with `error` when it cannot be read or is larger than max_bytes.
std::optional<std::string> read_file_capped(const std::string& path, uint64_t max_bytes,
                                            std::string& error);

}  // namespace orbwatch::intel
