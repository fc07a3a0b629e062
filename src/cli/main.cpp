// orbwatch entry point: parses the command line and hands over to one subcommand. Wiring only.
#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"orbwatch: network-flow security monitor for covert-network traffic"};
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
