// Fuzzes the ASN/country database readers: the first byte picks CSV (even) or MaxMind DB (odd),
// the rest is the file. Whatever loads must answer lookups; a hostile MMDB search tree must be
// refused or walked in bounded time, never followed around a loop.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "enrich/geo_db.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace orbwatch;
  if (size < 1) return 0;
  enrich::GeoDb::Builder b({{64500, enrich::AsType::kHosting}});
  std::vector<std::string> warnings;
  std::string error;
  if (data[0] % 2 == 0) {
    b.add_csv(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), "fuzz.csv",
              warnings, error);
  } else {
    static const std::string path = "/tmp/orbwatch_fuzz_geo_" + std::to_string(getpid()) + ".mmdb";
    FILE* f = fopen(path.c_str(), "wb");
    if (f == nullptr) return 0;
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    b.add_mmdb(path, warnings, error);
  }
  if (warnings.size() > 10) __builtin_trap();  // the first few only
  auto db = b.build();
  const IpAddr probes[] = {IpAddr::v4(0x01000001), IpAddr::v4(0x0a000001), IpAddr::v4(0xffffffff),
                           *IpAddr::parse("2001:db8::1"), *IpAddr::parse("::")};
  enrich::Geo out[5];
  db->lookup_batch(probes, 5, out);
  for (const auto& g : out) {
    if (g.org != 0 && db->org(g.org).empty()) __builtin_trap();
  }
  return 0;
}
