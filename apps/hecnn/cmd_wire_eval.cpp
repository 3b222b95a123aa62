// `hecnn seal-eval`: applies one homomorphic operation to SEAL-format files and
// writes the result as SEAL bytes (the version of the first input is echoed).
//
//   hecnn seal-eval --params parms.bin --op multiply --in a.ct --in b.ct
//                   --relin-keys rk.bin --out ab.ct
//   hecnn seal-eval --params parms.bin --op rotate_rows --step 1 --in a.ct --galois-keys gk.bin --out r.ct
//   hecnn seal-eval --params parms.bin --op multiply --rescale ...   (CKKS)
// Operations: add sub negate multiply square relinearize add_plain multiply_plain
// rotate_rows/rotate rotate_columns/conjugate mod_switch rescale (see fhe/wire/core_eval.h).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

#include "fhe/wire/core_eval.h"
#include "hecnn/command.h"
#include "hecnn/wire_files.h"

namespace {

using hecnn::app::read_wire_file;
using hecnn::app::stored_bound;

struct Options {
  std::string params, op, out, plain, relin, galois, compression;
  std::vector<std::string> in;
  int step = 0;
  bool rescale = false;
  bool insecure = false;
  std::size_t max_galois_keys = 0;
};

void setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("--params", o->params, "SEAL EncryptionParameters file")->required();
  app.add_option("--op", o->op, "operation (add, sub, negate, multiply, square, relinearize, add_plain, "
                                "multiply_plain, rotate_rows, rotate, rotate_columns, conjugate, mod_switch, rescale)")
      ->required();
  app.add_option("--in", o->in, "input ciphertext file (once or twice)")->required();
  app.add_option("--out", o->out, "output ciphertext file")->required();
  app.add_option("--plain", o->plain, "plaintext file (add_plain, multiply_plain)");
  app.add_option("--relin-keys", o->relin, "RelinKeys file (multiply/square relinearize when given)");
  app.add_option("--galois-keys", o->galois, "GaloisKeys file (rotations, conjugation)");
  app.add_option("--step", o->step, "rotation step (negative: right)");
  app.add_flag("--rescale", o->rescale, "CKKS: rescale after multiply / square / multiply_plain");
  app.add_option("--compression", o->compression, "none, zlib or zstd (default: that of the first input)");
  app.add_flag("--allow-insecure", o->insecure, "accept parameters above the 128-bit security bound");
  app.add_option("--max-galois-keys", o->max_galois_keys,
                 "most Galois keys accepted (default: SEAL's default set for N, 2*log2(N/2)+1; bounds memory)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 16));
  app.callback([o] {
    if (o->in.size() > 2) throw std::invalid_argument("--in: give one or two ciphertexts, not " + std::to_string(o->in.size()));
    namespace wire = hecnn::wire;
    const auto params = read_wire_file(o->params, stored_bound(wire::parameters_size(wire::kMaxPrimeCount)), "--params");
    // The parameters bound every other input before it is read.
    const wire::Context ctx(wire::read_parameters(params, wire::ValidationOptions{!o->insecure}).parms,
                            wire::ValidationOptions{!o->insecure});
    wire::ReadOptions quotas;
    quotas.max_galois_keys = o->max_galois_keys;
    const std::uint64_t n = ctx.n(), k = ctx.key_prime_count();
    auto slurp = [&](const std::string& path, std::string_view what, std::uint64_t largest) {
      return read_wire_file(path, stored_bound(largest), what);
    };
    std::vector<std::vector<std::uint8_t>> cts;
    for (const auto& f : o->in) {
      cts.push_back(slurp(f, "--in", wire::ciphertext_size(wire::kCiphertextSizeMax, n, ctx.first_data_level().prime_count)));
    }
    std::vector<std::uint8_t> pt, rk, gk;
    hecnn::wire::EvalInputs in;
    in.parameters = params;
    for (const auto& c : cts) in.ciphertexts.emplace_back(c);
    if (!o->plain.empty()) in.plaintext = std::span<const std::uint8_t>(pt = slurp(o->plain, "--plain", wire::plaintext_size(n * k)));
    if (!o->relin.empty()) {
      in.relin_keys = std::span<const std::uint8_t>(
          rk = slurp(o->relin, "--relin-keys", wire::relin_keys_bound(n, k, quotas.max_relin_powers)));
    }
    if (!o->galois.empty()) {
      in.galois_keys = std::span<const std::uint8_t>(
          gk = slurp(o->galois, "--galois-keys", wire::galois_keys_size(n, k, wire::galois_key_limit(n, quotas), false)));
    }
    hecnn::wire::EvalRequest req;
    req.read = quotas;
    req.op = o->op;
    req.step = o->step;
    req.rescale = o->rescale;
    req.enforce_128bit_security = !o->insecure;
    if (!o->compression.empty()) req.compression = hecnn::wire::compression_from_string(o->compression);
    const auto t0 = std::chrono::steady_clock::now();
    const auto res = hecnn::wire::evaluate(in, req);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    hecnn::app::write_wire_file(o->out, res.bytes);
    std::printf("%s: wrote %s (%zu bytes, size %llu, %llu primes, scale %.17g) in %.1f ms\n", o->op.c_str(),
                o->out.c_str(), res.bytes.size(), static_cast<unsigned long long>(res.ciphertext.size),
                static_cast<unsigned long long>(res.ciphertext.prime_count), res.ciphertext.scale, ms);
  });
}

const bool registered = hecnn::app::register_command(
    {"seal-eval", "Apply one homomorphic operation to SEAL-format files and write SEAL bytes", &setup});

}  // namespace
