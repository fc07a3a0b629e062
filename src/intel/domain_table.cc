#include "intel/domain_table.h"

#include <algorithm>
#include <map>

namespace orbwatch::intel {

std::string normalize_domain(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return {};
  std::string out;
  out.reserve(name.size());
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return {};
      label = 0;
    } else {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_';
      if (!ok || ++label > 63) return {};
    }
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return label == 0 ? std::string{} : out;
}

void DomainTable::Builder::add(std::string_view domain, uint32_t indicator_id) {
  std::string d = normalize_domain(domain);
  if (!d.empty()) entries_.emplace_back(std::move(d), indicator_id);
}

std::shared_ptr<const DomainTable> DomainTable::Builder::build() const {
  std::map<std::string, std::vector<uint32_t>> own;  // ordered: parents before children
  for (const auto& [d, id] : entries_) own[d].push_back(id);
  auto table = std::make_shared<DomainTable>();
  table->index_.reserve(own.size());
  for (const auto& [domain, ids] : own) {
    std::vector<uint32_t> all = ids;
    // Add every parent's ids: walk the suffixes after each dot.
    for (size_t dot = domain.find('.'); dot != std::string::npos; dot = domain.find('.', dot + 1)) {
      auto it = own.find(domain.substr(dot + 1));
      if (it != own.end()) all.insert(all.end(), it->second.begin(), it->second.end());
    }
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    auto begin = static_cast<uint32_t>(table->ids_.size());
    table->ids_.insert(table->ids_.end(), all.begin(), all.end());
    table->index_.emplace(domain, std::pair{begin, static_cast<uint32_t>(table->ids_.size())});
  }
  return table;
}

std::span<const uint32_t> DomainTable::lookup(std::string_view name) const {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (index_.empty() || name.empty() || name.size() > 253) return {};
  char buf[253];
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    buf[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  std::string_view s(buf, name.size());
  for (;;) {
    auto it = index_.find(s);
    if (it != index_.end()) {
      return {ids_.data() + it->second.first, it->second.second - it->second.first};
    }
    size_t dot = s.find('.');
    if (dot == std::string_view::npos) return {};
    s.remove_prefix(dot + 1);
  }
}

}  // namespace orbwatch::intel
