// The state tables of the behavioural detectors hold one entry per host, pair, device or
// service, up to a cap: a flood of new keys is refused and counted, never grown into.
#pragma once

#include <cstddef>
#include <cstdint>

namespace orbwatch::detect {

// The entry of `key`, default-constructed when new and the map has room (`added` tells); null
// with `refused` counted when the map is full.
template <class Map, class Key>
typename Map::mapped_type* find_or_add(Map& map, const Key& key, size_t max, uint64_t& refused,
                                       bool& added) {
  added = false;
  auto it = map.find(key);
  if (it != map.end()) return &it->second;
  if (map.size() >= max) {
    ++refused;
    return nullptr;
  }
  added = true;
  return &map.try_emplace(key).first->second;
}

}  // namespace orbwatch::detect
