// A thin RAII layer over SQLite for orbwatch's durable state (state.db in the store directory:
// edge inventory, later alerts and baselines). WAL journal so readers (`orbwatch inventory`)
// never block the writer; every call reports errors as text naming the statement.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace orbwatch::store {

class Statement;

class Database {
 public:
  Database() = default;
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Opens (creating when `create`) the database file; WAL mode, a 5 s busy timeout.
  bool open(const std::string& path, bool create, std::string& error);
  bool exec(std::string_view sql, std::string& error);  // statements without results
  bool prepare(std::string_view sql, Statement& out, std::string& error);
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement() = default;
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds are 1-based like SQLite's.
  void bind(int i, int64_t v) { sqlite3_bind_int64(st_, i, v); }
  void bind(int i, std::string_view v) {
    sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind_blob(int i, const void* p, size_t n) {
    sqlite3_bind_blob(st_, i, p, static_cast<int>(n), SQLITE_TRANSIENT);
  }
  // True while there is a row; false at the end or on an error (then error() says which).
  bool step();
  // Runs a statement that returns no rows, then resets it for the next binds.
  bool run();
  void reset();
  const std::string& error() const { return error_; }

  int64_t int64(int col) const { return sqlite3_column_int64(st_, col); }
  std::string_view text(int col) const;
  std::string_view blob(int col) const;

 private:
  friend class Database;
  sqlite3_stmt* st_ = nullptr;
  std::string error_;
};

}  // namespace orbwatch::store
