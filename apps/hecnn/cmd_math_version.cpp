// `hecnn version`: prints the library version.
#include "hecnn/command.h"

#include <cstdio>

namespace hecnn::math { const char* version(); }

namespace {
void setup(CLI::App& app) {
  app.callback([] { std::printf("hecnn %s\n", hecnn::math::version()); });
}
const bool registered = hecnn::app::register_command({"version", "Print the hecnn version", &setup});
}  // namespace
