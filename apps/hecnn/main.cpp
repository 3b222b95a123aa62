// `hecnn` entry point: dispatches to the registered subcommands.
#include "hecnn/command.h"

#include <algorithm>
#include <cstdio>
#include <exception>

namespace hecnn::app {

static std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}

bool register_command(Command command) {
  registry().push_back(std::move(command));
  return true;
}

const std::vector<Command>& commands() { return registry(); }

}  // namespace hecnn::app

int main(int argc, char** argv) {
  CLI::App app{"hecnn: private CNN inference over homomorphic encryption (BFV, CKKS)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "hecnn 0.1.0");
  auto cmds = hecnn::app::commands();
  std::sort(cmds.begin(), cmds.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    c.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::string which = app.get_subcommands().empty() ? "" : app.get_subcommands()[0]->get_name();
    std::fprintf(stderr, "hecnn %s: error: %s\n", which.c_str(), e.what());
    return 1;
  }
  return 0;
}
