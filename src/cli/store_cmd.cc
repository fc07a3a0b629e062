// `orbwatch store check|repair`: verifies the flow archive block by block and repairs it.
#include <fmt/core.h>

#include <memory>
#include <string>

#include "cli/commands.h"
#include "store/archive.h"

namespace orbwatch::cli {

namespace {

int run_store(const std::string& dir, bool repair) {
  const auto c = store::archive::check(dir, repair);
  for (const auto& p : c.problems) fmt::print("{}\n", p);
  fmt::print(
      "{} segment files ({} open), {} blocks, {} flows verified; {} damaged blocks in {} files\n",
      c.files, c.open_files, c.blocks, c.records, c.damaged_blocks, c.damaged_files);
  if (!repair) {
    if (c.damaged_files != 0)
      fmt::print("run 'orbwatch store repair --store {}' to keep the intact blocks\n", dir);
    return c.damaged_files == 0 ? 0 : 1;
  }
  fmt::print(
      "repair: {} files rewritten without their damaged blocks, {} open segments sealed, {} "
      "unreadable files moved to {}/quarantine\n",
      c.repaired, c.sealed, c.quarantined, dir);
  const auto after = store::archive::check(dir, false);
  return after.damaged_files == 0 ? 0 : 1;
}

}  // namespace

void add_store_command(CLI::App& app, int& exit_code) {
  auto dir = std::make_shared<std::string>("/var/lib/orbwatch");
  CLI::App* cmd = app.add_subcommand("store", "Check or repair the flow archive");
  cmd->require_subcommand(1);
  CLI::App* check = cmd->add_subcommand(
      "check",
      "Verify every block of every segment (checksums, decoding); exit 1 when one is damaged");
  CLI::App* repair = cmd->add_subcommand(
      "repair",
      "Seal segments a crash left open, rewrite damaged segments with their intact blocks, move "
      "unreadable files to DIR/quarantine");
  for (CLI::App* sub : {check, repair}) {
    sub->add_option("--store", *dir, "data directory of the archive (default /var/lib/orbwatch)");
  }
  check->callback([dir, &exit_code] { exit_code = run_store(*dir, false); });
  repair->callback([dir, &exit_code] { exit_code = run_store(*dir, true); });
}

}  // namespace orbwatch::cli
