// gzip (RFC 1952) of a buffer in one call, for HTTP bodies sent with Content-Encoding: gzip.
#pragma once

#include <string>
#include <string_view>

namespace orbwatch {

// `data` compressed at `level` (1 fastest .. 9 smallest); empty only when zlib fails.
std::string gzip(std::string_view data, int level);

}  // namespace orbwatch
