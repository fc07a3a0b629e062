#include "store/sqlite.h"

namespace orbwatch::store {

Database::~Database() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

bool Database::open(const std::string& path, bool create, std::string& error) {
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    error = path + ": " + (db_ != nullptr ? sqlite3_errmsg(db_) : "cannot open");
    return false;
  }
  sqlite3_busy_timeout(db_, 5000);
  return exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", error);
}

bool Database::exec(std::string_view sql, std::string& error) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    error = std::string(sql.substr(0, 60)) + ": " + (msg != nullptr ? msg : "failed");
    sqlite3_free(msg);
    return false;
  }
  return true;
}

bool Database::prepare(std::string_view sql, Statement& out, std::string& error) {
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &out.st_, nullptr) !=
      SQLITE_OK) {
    error = std::string(sql.substr(0, 60)) + ": " + sqlite3_errmsg(db_);
    return false;
  }
  return true;
}

Statement::~Statement() {
  if (st_ != nullptr) sqlite3_finalize(st_);
}

bool Statement::step() {
  const int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) error_ = sqlite3_errmsg(sqlite3_db_handle(st_));
  return false;
}

bool Statement::run() {
  error_.clear();
  while (step()) {
  }
  reset();
  return error_.empty();
}

void Statement::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

std::string_view Statement::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
  return p == nullptr ? std::string_view{}
                      : std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(st_, col)));
}

std::string_view Statement::blob(int col) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(st_, col));
  return p == nullptr ? std::string_view{}
                      : std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(st_, col)));
}

}  // namespace orbwatch::store
