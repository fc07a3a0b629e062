#include "store/inventory_store.h"

#include <cstring>
#include <filesystem>

#include "store/sqlite.h"

namespace orbwatch::store {

namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inventory_services(
  addr TEXT NOT NULL, proto INTEGER NOT NULL, port INTEGER NOT NULL,
  first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,
  flows INTEGER NOT NULL, bytes INTEGER NOT NULL, peer_bits BLOB NOT NULL,
  PRIMARY KEY(addr, proto, port));
CREATE TABLE IF NOT EXISTS inventory_devices(
  addr TEXT PRIMARY KEY, first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS inventory_exporters(
  addr TEXT PRIMARY KEY, first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,
  flows INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS detector_state(
  detector TEXT PRIMARY KEY, state BLOB NOT NULL, saved_ms INTEGER NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1');
)";

bool open(Database& db, const std::string& path, bool create, std::string& error) {
  return db.open(path, create, error) && db.exec(kSchema, error);
}

}  // namespace

std::string state_db_path(const std::string& store_dir) {
  return (std::filesystem::path(store_dir) / "state.db").string();
}

bool load_inventory(const std::string& db_path, netmodel::EdgeInventory& inv, bool create,
                    std::string& error) {
  Database db;
  if (!open(db, db_path, create, error)) return false;
  Statement st;
  if (!db.prepare("SELECT value FROM meta WHERE key = 'learning_start_ms'", st, error)) {
    return false;
  }
  if (st.step()) inv.set_learning_start_ms(std::stoll(std::string(st.text(0))));
  Statement services;
  if (!db.prepare("SELECT addr, proto, port, first_seen_ms, last_seen_ms, flows, bytes, peer_bits "
                  "FROM inventory_services",
                  services, error)) {
    return false;
  }
  while (services.step()) {
    auto addr = IpAddr::parse(services.text(0));
    if (!addr) continue;  // not written by orbwatch
    netmodel::ServiceKey k{*addr, static_cast<uint8_t>(services.int64(1)),
                           static_cast<uint16_t>(services.int64(2))};
    netmodel::ServiceRecord r;
    r.first_seen_ms = services.int64(3);
    r.last_seen_ms = services.int64(4);
    r.flows = static_cast<uint64_t>(services.int64(5));
    r.bytes = static_cast<uint64_t>(services.int64(6));
    auto bits = services.blob(7);
    if (bits.size() == sizeof(r.peer_bits))
      std::memcpy(r.peer_bits.data(), bits.data(), bits.size());
    inv.put(k, r);
  }
  Statement devices;
  if (!db.prepare("SELECT addr, first_seen_ms, last_seen_ms FROM inventory_devices", devices,
                  error)) {
    return false;
  }
  while (devices.step()) {
    if (auto addr = IpAddr::parse(devices.text(0))) {
      inv.put_device(*addr, {devices.int64(1), devices.int64(2)});
    }
  }
  Statement exporters;
  if (!db.prepare("SELECT addr, first_seen_ms, last_seen_ms, flows FROM inventory_exporters",
                  exporters, error)) {
    return false;
  }
  while (exporters.step()) {
    if (auto addr = IpAddr::parse(exporters.text(0))) {
      inv.put_exporter(*addr, {exporters.int64(1), exporters.int64(2),
                               static_cast<uint64_t>(exporters.int64(3))});
    }
  }
  for (const Statement* s : {&services, &devices, &exporters}) {
    if (!s->error().empty()) {
      error = db_path + ": " + s->error();
      return false;
    }
  }
  return true;
}

bool save_inventory(const std::string& db_path, const netmodel::EdgeInventory& inv,
                    std::string& error) {
  Database db;
  if (!open(db, db_path, true, error) || !db.exec("BEGIN IMMEDIATE", error)) return false;
  Statement meta, service, device, exporter;
  if (!db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES ('learning_start_ms', ?)", meta,
                  error) ||
      !db.prepare("INSERT OR REPLACE INTO inventory_services VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  service, error) ||
      !db.prepare("INSERT OR REPLACE INTO inventory_devices VALUES (?, ?, ?)", device, error) ||
      !db.prepare("INSERT OR REPLACE INTO inventory_exporters VALUES (?, ?, ?, ?)", exporter,
                  error)) {
    return false;
  }
  bool ok = true;
  if (inv.learning_start_ms() != 0) {
    meta.bind(1, std::to_string(inv.learning_start_ms()));
    ok &= meta.run();
  }
  for (const auto& [k, r] : inv.services()) {
    service.bind(1, k.addr.to_string());
    service.bind(2, int64_t{k.proto});
    service.bind(3, int64_t{k.port});
    service.bind(4, r.first_seen_ms);
    service.bind(5, r.last_seen_ms);
    service.bind(6, static_cast<int64_t>(r.flows));
    service.bind(7, static_cast<int64_t>(r.bytes));
    service.bind_blob(8, r.peer_bits.data(), sizeof(r.peer_bits));
    ok &= service.run();
  }
  for (const auto& [a, r] : inv.devices()) {
    device.bind(1, a.to_string());
    device.bind(2, r.first_seen_ms);
    device.bind(3, r.last_seen_ms);
    ok &= device.run();
  }
  for (const auto& [a, r] : inv.exporters()) {
    exporter.bind(1, a.to_string());
    exporter.bind(2, r.first_seen_ms);
    exporter.bind(3, r.last_seen_ms);
    exporter.bind(4, static_cast<int64_t>(r.flows));
    ok &= exporter.run();
  }
  if (!ok) {
    for (const Statement* s : {&meta, &service, &device, &exporter}) {
      if (!s->error().empty()) error = db_path + ": " + s->error();
    }
    db.exec("ROLLBACK", error);
    return false;
  }
  return db.exec("COMMIT", error);
}

bool load_detector_state(const std::string& db_path, const std::string& detector, std::string& out,
                         std::string& error) {
  Database db;
  if (!open(db, db_path, true, error)) return false;
  Statement st;
  if (!db.prepare("SELECT state FROM detector_state WHERE detector = ?", st, error)) return false;
  st.bind(1, detector);
  out.clear();
  if (st.step()) out = std::string(st.blob(0));
  return true;
}

bool save_detector_state(const std::string& db_path, const std::string& detector,
                         const std::string& text, int64_t saved_ms, std::string& error) {
  Database db;
  if (!open(db, db_path, true, error)) return false;
  Statement st;
  if (!db.prepare(
          "INSERT OR REPLACE INTO detector_state(detector, state, saved_ms) VALUES (?, ?, ?)", st,
          error)) {
    return false;
  }
  st.bind(1, detector);
  st.bind_blob(2, text.data(), text.size());
  st.bind(3, saved_ms);
  if (!st.run()) {
    error = st.error();
    return false;
  }
  return true;
}

}  // namespace orbwatch::store
