// Who opened a flow: the client (initiator) and server (responder) sides of one record.
// Used by every detector that needs direction: intel (to or from an indicator), the edge map
// (which internal address serves the outside), allow-lists.
#pragma once

#include "core/flow_record.h"
#include "detect/detector.h"
#include "netmodel/model_index.h"

namespace orbwatch::detect {

// Judged in this order (the first that decides wins):
//  1. TCP flags: SYN without ACK means the record holds only the client's opening packets.
//  2. RFC 5103 biflow halves: the forward half's source initiated.
//  3. Ports: a well-known service port (< 1024, or a registered service port such as 3389,
//     8080, 1194) against an ephemeral one (>= 1024 and not a service port) marks the server;
//     with both well-known the lower one is the service; ICMP echo request/reply decide too.
//  Otherwise kUnknown.
Initiator guess_initiator(const FlowRecord& r);

// Whether this record proves that the responder answered: it is the responder's own record and
// carries packets (a bare TCP reset is a refusal, not an answer), or it is the initiator's TCP
// record holding both its SYN and later ACKs (the handshake completed). False when `initiator`
// is unknown.
bool responder_answered(const FlowRecord& r, Initiator initiator);

// A port that a server listens on: < 1024 or one of the registered services orbwatch knows
// (remote access, VPN, admin, IoT, databases).
bool is_service_port(uint8_t proto, uint16_t port);

// The host whose state a flow feeds: its internal side, or its initiator when both or neither
// side is internal (so both directions of a conversation meet), the lower address when the
// record does not tell. Detect shards and Kafka partitions are chosen by it.
const IpAddr& state_host(const FlowRecord& r, const netmodel::ModelIndex& model);

}  // namespace orbwatch::detect
