// cpp-httplib 0.11's Server::stop() does nothing when it runs before listen_after_bind() has
// started its loop, and the listening thread then never returns: tests wait for the loop first.
#pragma once

#include <httplib.h>

#include <chrono>
#include <thread>

namespace orbwatch::test {

inline void wait_until_listening(const httplib::Server& server) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server.is_running() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // namespace orbwatch::test
