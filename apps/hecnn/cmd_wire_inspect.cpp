// `hecnn inspect FILE [--params PARAMS]`: what a SEAL/hecnn object file is
// (type, version, compression, scheme, N, primes, level, scale, size, seeded).
// With the parameters file the object is validated by its reader too.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>

#include "fhe/wire/inspect.h"
#include "hecnn/command.h"

namespace {

std::vector<std::uint8_t> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

struct Options {
  std::string file;
  std::string params;
};

void setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("file", o->file, "SEAL object file (parameters, ciphertext, plaintext or key)")->required();
  app.add_option("--params", o->params, "SEAL parameters file: also validate the object against them");
  app.callback([o] {
    const auto bytes = slurp(o->file);
    std::optional<hecnn::wire::Context> ctx;
    if (!o->params.empty()) {
      const auto p = slurp(o->params);
      ctx.emplace(hecnn::wire::read_parameters(p, hecnn::wire::ValidationOptions{false}).parms,
                  hecnn::wire::ValidationOptions{false});
    }
    const auto d = hecnn::wire::describe(bytes, ctx ? &*ctx : nullptr);
    std::printf("file: %s (%zu bytes)\n%s", o->file.c_str(), bytes.size(), hecnn::wire::to_text(d).c_str());
    if (d.header.size != bytes.size()) {
      std::printf("note: %zu bytes follow the object\n", bytes.size() - static_cast<std::size_t>(d.header.size));
    }
  });
}

const bool registered = hecnn::app::register_command(
    {"inspect", "Describe a SEAL/hecnn object file (type, scheme, N, primes, level, scale, size, compression)", &setup});

}  // namespace
