// The orbwatch subcommands. Each file in src/cli/ adds one to the app; main.cpp only calls these.
#pragma once

#include <CLI/CLI.hpp>

namespace orbwatch::cli {

// Each registers its subcommand, options and callback. The callback sets `exit_code`.
void add_alerts_command(CLI::App& app, int& exit_code);
void add_analyze_command(CLI::App& app, int& exit_code);
void add_check_config_command(CLI::App& app, int& exit_code);
void add_collect_command(CLI::App& app, int& exit_code);
void add_demo_command(CLI::App& app, int& exit_code);
void add_eval_command(CLI::App& app, int& exit_code);
void add_export_command(CLI::App& app, int& exit_code);
void add_feeds_command(CLI::App& app, int& exit_code);
void add_hunt_command(CLI::App& app, int& exit_code);
void add_import_command(CLI::App& app, int& exit_code);
void add_inventory_command(CLI::App& app, int& exit_code);
void add_query_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);
void add_simulate_command(CLI::App& app, int& exit_code);
void add_store_command(CLI::App& app, int& exit_code);

}  // namespace orbwatch::cli
