// The edge inventory in state.db (SQLite, WAL): loaded when a run starts so discovery continues
// across runs and restarts, saved when it ends (the daemon will save periodically).
#pragma once

#include <string>

#include "netmodel/inventory.h"

namespace orbwatch::store {

// The state database of a store directory: DIR/state.db.
std::string state_db_path(const std::string& store_dir);

// Loads what state.db holds into `inv` (a missing file is an empty inventory when `create`).
bool load_inventory(const std::string& db_path, netmodel::EdgeInventory& inv, bool create,
                    std::string& error);
// Writes every entry of `inv` (insert or replace) in one transaction.
bool save_inventory(const std::string& db_path, const netmodel::EdgeInventory& inv,
                    std::string& error);

// A detector's saved state (Detector::save_state), by detector name; empty when none was saved.
bool load_detector_state(const std::string& db_path, const std::string& detector, std::string& out,
                         std::string& error);
bool save_detector_state(const std::string& db_path, const std::string& detector,
                         const std::string& text, int64_t saved_ms, std::string& error);

}  // namespace orbwatch::store
