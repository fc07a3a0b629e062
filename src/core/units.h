// Sizes as users write them in options and the config file.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace orbwatch {

// "500G", "20 MiB", "1000000": bytes (k, M, G, T: powers of 1024).
std::optional<uint64_t> parse_size(std::string_view text);

}  // namespace orbwatch
