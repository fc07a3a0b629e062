// What the HTTP handlers share: JSON answers and errors, parameter parsing (docs/api.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/flow_source.h"
#include "store/alert_store.h"
#include "store/archive_scan.h"
#include "store/filter.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace orbwatch::server {

void send_json(httplib::Response& res, std::string body, int status = 200);
void send_error(httplib::Response& res, int status, std::string_view message);  // {"error":...}

// The parameters below leave `out` as it is when absent; false with `error` naming the
// parameter when malformed.
// A time: RFC 3339, or a duration back from `reference_ms` ("24h").
bool time_param(const httplib::Request& req, const char* name, int64_t reference_ms, int64_t& out,
                std::string& error);
bool size_param(const httplib::Request& req, const char* name, size_t max, size_t& out,
                std::string& error);
// The filters of /api/v1/alerts and /api/v1/alerts/summary (since/until back from now).
bool alert_query(const httplib::Request& req, store::AlertQuery& q, std::string& error);
// since/until of the flow endpoints: a duration counts back from the archive's newest flow (a
// replayed capture keeps its own clock), as `orbwatch query --since` does. `newest`, when
// given, receives that time (archive::newest_ms: the wall clock for an empty archive).
bool flow_range(const httplib::Request& req, const FlowSource& flows, store::ScanSpec& spec,
                int64_t default_since_ms, std::string& error, int64_t* newest = nullptr);
std::optional<store::Filter> filter_param(const httplib::Request& req, std::string& error);

void append_scan(std::string& out, const store::ScanStats& s);  // "scan":{...}
// ,"key":"RFC 3339" (null for 0).
void append_ms(std::string& out, const char* key, int64_t ms, bool comma = true);

}  // namespace orbwatch::server
