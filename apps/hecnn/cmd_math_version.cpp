// `hecnn version`: prints the library version.
#include "hecnn/command.h"
#include "math/version.h"

#include <cstdio>

namespace {
void setup(CLI::App& app) {
  app.callback([] { std::printf("hecnn %s\n", hecnn::kVersion); });
}
const bool registered = hecnn::app::register_command({"version", "Print the hecnn version", &setup});
}  // namespace
