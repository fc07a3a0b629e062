// What the interop tests share: where ../shared/testdata is, skipping cleanly when it is absent
// (a fresh clone), and reading a peer tool's output line by line.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#ifndef ORBWATCH_SHARED_DIR
#define ORBWATCH_SHARED_DIR ""
#endif

namespace orbwatch::test {

inline std::filesystem::path testdata() {
  return std::filesystem::path(ORBWATCH_SHARED_DIR) / "testdata";
}

// ../shared/intel: threat-intel samples (IOC files and feed-format samples).
inline std::filesystem::path inteldata() {
  return std::filesystem::path(ORBWATCH_SHARED_DIR) / "intel";
}

// True when `command` (e.g. "tshark --version") runs and exits 0.
inline bool tool_works(const std::string& command) {
  return std::system((command + " > /dev/null 2>&1").c_str()) == 0;
}

// Runs `cmd` through the shell and calls f(line) for each line of its stdout, without the
// trailing newline (or carriage return). False when the command could not be started.
template <class F>
bool for_each_output_line(const std::string& cmd, F&& f) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  if (!p) return false;
  std::string line;
  char buf[65536];
  while (fgets(buf, sizeof(buf), p.get()) != nullptr) {
    line += buf;
    if (line.back() != '\n') continue;  // a line longer than the buffer: keep reading
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    f(line);
    line.clear();
  }
  if (!line.empty()) f(line);
  return true;
}

}  // namespace orbwatch::test

// Skips the current test when ../shared/testdata is absent, saying so.
#define ORBWATCH_SKIP_WITHOUT_TESTDATA()                                                  \
  if (!std::filesystem::is_directory(orbwatch::test::testdata())) {                       \
    GTEST_SKIP() << "shared test data not found at " << orbwatch::test::testdata()        \
                 << " (ORBWATCH_SHARED_DIR): the interop suite needs ../shared/testdata"; \
  }
