// orbwatch entry point: parses the command line and hands over to one subcommand. Wiring only.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) try {
  CLI::App app{"orbwatch: network-flow security monitor for covert-network traffic"};
  app.set_version_flag("--version", "orbwatch " ORBWATCH_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  orbwatch::cli::add_alerts_command(app, exit_code);
  orbwatch::cli::add_analyze_command(app, exit_code);
  orbwatch::cli::add_check_config_command(app, exit_code);
  orbwatch::cli::add_collect_command(app, exit_code);
  orbwatch::cli::add_demo_command(app, exit_code);
  orbwatch::cli::add_eval_command(app, exit_code);
  orbwatch::cli::add_export_command(app, exit_code);
  orbwatch::cli::add_feeds_command(app, exit_code);
  orbwatch::cli::add_hunt_command(app, exit_code);
  orbwatch::cli::add_import_command(app, exit_code);
  orbwatch::cli::add_inventory_command(app, exit_code);
  orbwatch::cli::add_query_command(app, exit_code);
  orbwatch::cli::add_run_command(app, exit_code);
  orbwatch::cli::add_simulate_command(app, exit_code);
  orbwatch::cli::add_store_command(app, exit_code);
  if (argc < 2) {
    std::cout << app.help();
    return 2;
  }
  CLI11_PARSE(app, argc, argv);
  return exit_code;
} catch (const std::exception& e) {
  // Commands report their own errors; this is the last line for the unexpected (out of memory).
  std::cerr << "orbwatch: " << e.what() << "\n";
  return 1;
}
