// `hecnn seal-eval`: applies one homomorphic operation to SEAL-format files and
// writes the result as SEAL bytes (the version of the first input is echoed).
//
//   hecnn seal-eval --params parms.bin --op multiply --in a.ct --in b.ct \
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

namespace {

std::vector<std::uint8_t> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

struct Options {
  std::string params, op, out, plain, relin, galois, compression;
  std::vector<std::string> in;
  int step = 0;
  bool rescale = false;
  bool insecure = false;
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
  app.callback([o] {
    const auto params = slurp(o->params);
    std::vector<std::vector<std::uint8_t>> cts;
    for (const auto& f : o->in) cts.push_back(slurp(f));
    std::vector<std::uint8_t> pt, rk, gk;
    hecnn::wire::EvalInputs in;
    in.parameters = params;
    for (const auto& c : cts) in.ciphertexts.emplace_back(c);
    if (!o->plain.empty()) in.plaintext = std::span<const std::uint8_t>(pt = slurp(o->plain));
    if (!o->relin.empty()) in.relin_keys = std::span<const std::uint8_t>(rk = slurp(o->relin));
    if (!o->galois.empty()) in.galois_keys = std::span<const std::uint8_t>(gk = slurp(o->galois));
    hecnn::wire::EvalRequest req;
    req.op = o->op;
    req.step = o->step;
    req.rescale = o->rescale;
    req.enforce_128bit_security = !o->insecure;
    if (!o->compression.empty()) req.compression = hecnn::wire::compression_from_string(o->compression);
    const auto t0 = std::chrono::steady_clock::now();
    const auto res = hecnn::wire::evaluate(in, req);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::ofstream f(o->out, std::ios::binary);
    f.write(reinterpret_cast<const char*>(res.bytes.data()), static_cast<std::streamsize>(res.bytes.size()));
    if (!f) throw std::runtime_error("cannot write " + o->out);
    std::printf("%s: wrote %s (%zu bytes, size %llu, %llu primes, scale %.17g) in %.1f ms\n", o->op.c_str(),
                o->out.c_str(), res.bytes.size(), static_cast<unsigned long long>(res.ciphertext.size),
                static_cast<unsigned long long>(res.ciphertext.prime_count), res.ciphertext.scale, ms);
  });
}

const bool registered = hecnn::app::register_command(
    {"seal-eval", "Apply one homomorphic operation to SEAL-format files and write SEAL bytes", &setup});

}  // namespace
