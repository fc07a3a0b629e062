#include "enrich/as_type.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace orbwatch::enrich {
namespace {

// Matched against the lower-cased name with spaces around it, so " host " is a word and
// "telecom" is a part of one. Checked in this order: hosting, residential, business.
constexpr std::array kHosting = {"hosting",      "webhost",
                                 " host ",       " hosts ",
                                 "cloud",        " vps",
                                 "server",       "datacenter",
                                 "data center",  "data centre",
                                 "datacentre",   "colocation",
                                 " colo ",       "dedicated",
                                 "amazon",       " aws",
                                 "google",       "microsoft",
                                 "digitalocean", " ovh",
                                 "hetzner",      "linode",
                                 "akamai",       "vultr",
                                 "choopa",       "contabo",
                                 "leaseweb",     " m247",
                                 "alibaba",      "tencent",
                                 "oracle",       "scaleway",
                                 "ionos",        "cloudflare",
                                 "fastly",       "hostinger",
                                 "godaddy",      "psychz",
                                 "quadranet",    "colocrossing",
                                 "datacamp",     "cdn77",
                                 "serverius",    "frantech",
                                 "hostwinds",    "kamatera",
                                 "upcloud",      "stark industries",
                                 "aeza",         "worldstream",
                                 "netcup",       "rackspace",
                                 "hivelocity",   "zenlayer",
                                 "g-core",       "gcore",
                                 "selectel",     "timeweb",
                                 " ucloud",      "huawei clouds",
                                 " cdn",         "internet archive"};
constexpr std::array kResidential = {"telecom",
                                     "telekom",
                                     "telecommunication",
                                     "broadband",
                                     "cable",
                                     "mobile",
                                     "wireless",
                                     " fiber",
                                     " fibre",
                                     " dsl",
                                     " isp",
                                     "internet service",
                                     "comcast",
                                     "charter communications",
                                     "verizon",
                                     "at&t",
                                     "cox communications",
                                     "vodafone",
                                     "orange",
                                     "telefonica",
                                     "movistar",
                                     "british telecommunications",
                                     "virgin media",
                                     "sky uk",
                                     " kpn",
                                     "ziggo",
                                     "swisscom",
                                     "telstra",
                                     "optus",
                                     "chinanet",
                                     "china unicom",
                                     "china mobile",
                                     "kddi",
                                     "softbank",
                                     "korea telecom",
                                     "rostelecom",
                                     "turk telekom",
                                     "bharti",
                                     "reliance jio",
                                     "airtel",
                                     "claro",
                                     "telmex",
                                     " vivo",
                                     "free sas",
                                     "proximus",
                                     "telenor",
                                     "telia",
                                     "bell canada",
                                     "rogers",
                                     "shaw communications",
                                     "frontier communications",
                                     "centurylink",
                                     "windstream",
                                     "viettel",
                                     "vnpt",
                                     "pldt",
                                     "globe telecom",
                                     "hinet",
                                     "chunghwa",
                                     "true internet",
                                     "spectrum",
                                     "liberty global",
                                     "altice",
                                     "jio ",
                                     "telus",
                                     "netcologne",
                                     "tele2",
                                     "telenet",
                                     "ono ",
                                     "bouygues",
                                     "sfr ",
                                     "fastweb",
                                     "wind tre",
                                     "iliad",
                                     "plusnet",
                                     "talktalk"};
constexpr std::array kBusiness = {"university", "universit", "college", "school",     "academ",
                                  "institut",   " bank",     "bank ",   "government", "ministry",
                                  "council",    "hospital",  "health",  "insurance",  "research",
                                  "education",  " nhs",      "federal", "logistics",  "manufactur",
                                  " ag ",       " plc "};

template <size_t N>
bool any_of(const std::string& s, const std::array<const char*, N>& words) {
  return std::any_of(words.begin(), words.end(),
                     [&](const char* w) { return s.find(w) != std::string::npos; });
}

}  // namespace

const char* as_type_name(AsType t) {
  switch (t) {
    case AsType::kUnknown:
      return "unknown";
    case AsType::kHosting:
      return "hosting";
    case AsType::kResidential:
      return "residential";
    case AsType::kBusiness:
      return "business";
  }
  return "unknown";
}

std::optional<AsType> parse_as_type(std::string_view name) {
  for (AsType t : {AsType::kUnknown, AsType::kHosting, AsType::kResidential, AsType::kBusiness})
    if (name == as_type_name(t)) return t;
  return std::nullopt;
}

AsType classify_org(std::string_view org) {
  std::string s = " ";
  for (char c : org) {
    // Punctuation reads as a space: "Hosting, Inc." and "Hosting-Inc" are words too.
    const auto u = static_cast<unsigned char>(c);
    s += std::isalnum(u) || c == '&' || c == '-' ? static_cast<char>(std::tolower(u)) : ' ';
  }
  s += ' ';
  if (any_of(s, kHosting)) return AsType::kHosting;
  if (any_of(s, kResidential)) return AsType::kResidential;
  if (any_of(s, kBusiness)) return AsType::kBusiness;
  return AsType::kUnknown;
}

}  // namespace orbwatch::enrich
