// Subcommand registry for the `hecnn` program.
//
// Each subcommand lives in apps/hecnn/cmd_<layer>[_<name>].cpp and registers
// itself at static-initialisation time:
//
//   static const bool registered = hecnn::app::register_command(
//       {"demo", "Encrypt, evaluate and decrypt a BFV example", &setup_demo});
//
// `setup` adds the subcommand's options to the CLI11 app it is given and sets
// its callback. A command reports failure by throwing; main() prints the
// message as "hecnn <cmd>: error: ..." and exits with status 1.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace hecnn::app {

struct Command {
  std::string name;
  std::string summary;
  std::function<void(CLI::App&)> setup;
};

bool register_command(Command command);
const std::vector<Command>& commands();

}  // namespace hecnn::app
