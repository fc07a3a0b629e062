// How many cores this process may run on (taskset, cgroup cpusets), not how many the machine
// has: the default thread counts of collect and run are shared out of these.
#pragma once

#include <sched.h>

#include <algorithm>
#include <cstddef>
#include <thread>

namespace orbwatch {

inline size_t usable_cores() {
  cpu_set_t allowed;
  return sched_getaffinity(0, sizeof allowed, &allowed) == 0
             ? static_cast<size_t>(CPU_COUNT(&allowed))
             : std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace orbwatch
