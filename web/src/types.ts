// The API's answers (docs/api.md), as far as the dashboard reads them.

export interface Alert {
  ts: string;
  id: string;
  detector: string;
  severity: string;
  summary: string;
  src_ip: string;
  dst_ip: string;
  dst_port: number;
  proto: number;
  asset?: string;
  indicator?: { feed: string; value: string; tags: string[] };
  evidence?: Record<string, unknown>;
  first_seen: string;
  last_seen: string;
  count: number;
  retro?: boolean;
}

export interface StoredAlert {
  status: string;
  note: string;
  alert: Alert;
}

export interface Flow {
  ts_start: string;
  ts_end: string;
  src_ip: string;
  dst_ip: string;
  src_port: number;
  dst_port: number;
  proto: number;
  tcp_flags: number;
  bytes: number;
  packets: number;
  exporter: string;
  src_as: number;
  dst_as: number;
  server_name?: string;
}

export interface Lookup {
  ip: string;
  internal: boolean;
  zone: string;
  asset: string;
  asn: number;
  as_org: string;
  as_type: string;
  country: string;
}

export interface Health {
  status: string;
  version: string;
  uptime_s: number;
  started: string;
  datagrams: number;
  records: number;
  flows_detected: number;
  exporters: number;
  flows_archived: number;
  newest_flow: string | null;
  state_saved: string | null;
  problems: string[];
}

export interface SeriesBucket {
  t: string;
  flows: number;
  packets: number;
  bytes: number;
}

export interface Series {
  step_s: number;
  from: string | null;
  until: string | null;
  buckets: SeriesBucket[];
}

export interface AlertSummary {
  step_s: number;
  total: number;
  by_severity: Record<string, number>;
  by_status: Record<string, number>;
  by_detector: Record<string, number>;
  buckets: ({ t: string } & Record<string, number | string>)[];
}

export interface TopRow extends Record<string, unknown> {
  flows: number;
  packets: number;
  bytes: number;
  first_seen: string;
  last_seen: string;
}

export interface Top {
  by: string;
  n: number;
  total: { flows: number; packets: number; bytes: number };
  overflowed: boolean;
  rows: TopRow[];
}

export interface Exporter {
  ip: string;
  version: string;
  datagrams: number;
  records: number;
  decode_errors: number;
  sequence_lost: number;
  templates: number;
  last_seen: string | null;
}

export interface Exporters {
  exporters_total: number;
  socket_drops: number;
  receive_drops: number;
  decode_errors: number;
  sequence_lost: number;
  exporters: Exporter[];
}

export interface Feed {
  name: string;
  source: string;
  format: string;
  entries: number;
  fetched: string | null;
  last_success: string | null;
  next_attempt: string | null;
  age_s?: number;
  last_error: string;
  consecutive_failures: number;
  rejected_updates: number;
}

export interface Service {
  proto: number;
  port: number;
  flows: number;
  bytes: number;
  peers: number;
  first_seen: string | null;
  last_seen: string | null;
}

export interface Device {
  ip: string;
  first_seen?: string | null;
  last_seen?: string | null;
  kinds: string[];
  services: Service[];
}

export interface Inventory {
  devices: Device[];
  exporters: { ip: string; flows: number; first_seen: string | null; last_seen: string | null }[];
}

export interface Asset {
  name: string;
  kind: string;
  criticality: string;
  owner: string;
  addresses: string[];
  services: string[];
  allow: { services: string[]; from: string[] }[];
}

export interface HostView {
  ip: string;
  timeline: { hour: string; flows: number; bytes_out: number; bytes_in: number }[];
  peers: { ip: string; flows: number; bytes: number }[];
  distinct_peers: number;
  ports: { proto: number; port: number; flows: number }[];
  baseline_vs_now: { hour_of_day: number; baseline_bytes: number; bytes: number }[];
  alerts: Alert[];
}
