// Runs a command line through the shell and returns its exit code with stdout and stderr.
#pragma once

#include <string>

#include "util/interop.h"

namespace orbwatch::test {

struct CommandResult {
  int rc = -1;
  std::string out;  // stdout and stderr, interleaved
};

inline CommandResult run_command(const std::string& command) {
  CommandResult r;
  orbwatch::test::for_each_output_line(command + " 2>&1; echo \"rc=$?\"",
                                       [&](const std::string& line) {
                                         if (line.rfind("rc=", 0) == 0) {
                                           r.rc = std::stoi(line.substr(3));
                                         } else {
                                           r.out += line + "\n";
                                         }
                                       });
  return r;
}

}  // namespace orbwatch::test
