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
#include "hecnn/wire_files.h"

namespace {

struct Options {
  std::string file;
  std::string params;
  std::uint64_t max_size = 0;
  std::size_t max_galois_keys = 0;
};

void setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("file", o->file, "SEAL object file (parameters, ciphertext, plaintext or key)")->required();
  app.add_option("--params", o->params,
                 "SEAL parameters file: also validate the object against them (and bound its size by them)");
  app.add_option("--max-size", o->max_size,
                 "without --params: largest object inflated, in bytes (default 1 GiB)")
      ->check(CLI::Range(std::uint64_t{16}, std::uint64_t{1} << 36));
  app.add_option("--max-galois-keys", o->max_galois_keys,
                 "most Galois keys accepted (default: SEAL's default set for N, 2*log2(N/2)+1)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 16));
  app.callback([o] {
    namespace wire = hecnn::wire;
    using hecnn::app::read_wire_file;
    using hecnn::app::stored_bound;
    if (!o->params.empty() && o->max_size) {
      throw std::invalid_argument("--max-size applies without --params (the parameters bound the object)");
    }
    std::optional<wire::Context> ctx;
    wire::ReadOptions quotas;
    quotas.max_galois_keys = o->max_galois_keys;
    quotas.max_size = o->max_size;
    if (!o->params.empty()) {
      const auto p = read_wire_file(o->params, stored_bound(wire::parameters_size(wire::kMaxPrimeCount)), "--params");
      ctx.emplace(wire::read_parameters(p, wire::ValidationOptions{false}).parms, wire::ValidationOptions{false});
    }
    const std::uint64_t limit = ctx ? wire::largest_object_size(*ctx, quotas)
                                    : (o->max_size ? o->max_size : wire::kInspectLimitWithoutParameters);
    const auto bytes = read_wire_file(o->file, stored_bound(limit), "object",
                                      ctx ? "the largest object these parameters allow"
                                          : "the limit without --params; give --params or --max-size");
    const auto d = wire::describe(bytes, ctx ? &*ctx : nullptr, quotas);
    std::printf("file: %s (%zu bytes)\n%s", o->file.c_str(), bytes.size(), hecnn::wire::to_text(d).c_str());
    if (d.header.size != bytes.size()) {
      std::printf("note: %zu bytes follow the object\n", bytes.size() - static_cast<std::size_t>(d.header.size));
    }
  });
}

const bool registered = hecnn::app::register_command(
    {"inspect", "Describe a SEAL/hecnn object file (type, scheme, N, primes, level, scale, size, compression)", &setup});

}  // namespace
