// `hecnn seal-params`: writes SEAL EncryptionParameters (the file `seal-eval`,
// `inspect --params` and node-seal's EncryptionParameters.load read).
//
//   hecnn seal-params --scheme bfv --n 8192 --out parms.bin           (SEAL's BFVDefault primes, t for batching)
//   hecnn seal-params --scheme bgv --n 8192 --out parms.bin           (the same for BGV)
//   hecnn seal-params --scheme ckks --n 16384 --bits 60,40,40,60 --out parms.bin
// The primes are the ones SEAL's CoeffModulus::Create picks for the bit sizes.
// Parameters beyond SEAL's 128-bit table are refused unless --allow-insecure.
#include <bit>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "fhe/wire/params.h"
#include "hecnn/command.h"
#include "hecnn/wire_files.h"

namespace {

namespace wire = hecnn::wire;

struct Options {
  std::string scheme, out, compression = "none";
  std::uint64_t n = 8192;
  std::vector<int> bits;
  int plain_bits = 20;
  bool insecure = false;
};

// CKKS default: a 60-bit first prime, 40-bit primes, a 60-bit special prime,
// as many as the 128-bit budget holds (N < 8192: SEAL's BFV default primes).
std::vector<std::uint64_t> ckks_default(std::uint64_t n) {
  const int budget = wire::max_coeff_modulus_bits_128(n);
  if (budget < 160) return wire::bfv_default_coeff_modulus(n);
  std::vector<int> bits{60};
  for (int used = 120; used + 40 <= budget; used += 40) bits.push_back(40);
  bits.push_back(60);
  return wire::create_coeff_modulus(n, bits);
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("--scheme", o->scheme, "bfv, bgv or ckks")->required()->check(CLI::IsMember({"bfv", "bgv", "ckks"}));
  app.add_option("--n", o->n, "polynomial modulus degree N (1024..32768, a power of two)")
      ->check(CLI::IsMember({1024, 2048, 4096, 8192, 16384, 32768}));
  app.add_option("--bits", o->bits, "bit sizes of the coefficient primes, last = special prime (default: 128-bit defaults)")
      ->delimiter(',')
      ->check(CLI::Range(2, 60));
  app.add_option("--plain-bits", o->plain_bits, "BFV and BGV: bits of the batching plain modulus t (default 20)")
      ->check(CLI::Range(2, 60));
  app.add_option("--compression", o->compression, "none, zlib or zstd")->check(CLI::IsMember({"none", "zlib", "zstd"}));
  app.add_option("--out", o->out, "output file")->required();
  app.add_flag("--allow-insecure", o->insecure, "accept primes beyond the 128-bit security bound");
  app.callback([o] {
    if (o->bits.size() > wire::kMaxPrimeCount) throw std::invalid_argument("--bits: at most 64 primes");
    wire::EncryptionParameters p;
    p.scheme = o->scheme == "bfv" ? wire::Scheme::bfv : o->scheme == "bgv" ? wire::Scheme::bgv : wire::Scheme::ckks;
    const bool integer = p.scheme != wire::Scheme::ckks;
    p.poly_modulus_degree = o->n;
    if (!o->bits.empty()) p.coeff_modulus = wire::create_coeff_modulus(o->n, o->bits);
    else p.coeff_modulus = integer ? wire::bfv_default_coeff_modulus(o->n) : ckks_default(o->n);
    if (integer) p.plain_modulus = wire::batching_plain_modulus(o->n, o->plain_bits);
    wire::validate(p, wire::ValidationOptions{!o->insecure});  // FormatError naming the problem
    const auto bytes = wire::write_parameters(p, wire::WriteOptions{wire::kVersion41, wire::compression_from_string(o->compression)});
    hecnn::app::write_wire_file(o->out, bytes);
    std::string primes;
    for (auto q : p.coeff_modulus) primes += (primes.empty() ? "" : ",") + std::to_string(std::bit_width(q));
    std::printf("wrote %s: %s, N = %llu, primes of %s bits (%d bits in all, 128-bit bound %d)%s\n", o->out.c_str(),
                o->scheme.c_str(), static_cast<unsigned long long>(o->n), primes.c_str(),
                wire::product_bit_count(p.coeff_modulus), wire::max_coeff_modulus_bits_128(o->n),
                p.plain_modulus ? (", t = " + std::to_string(p.plain_modulus)).c_str() : "");
  });
}

const bool registered = hecnn::app::register_command(
    {"seal-params", "Write SEAL EncryptionParameters (BFV or CKKS, 128-bit defaults) for seal-eval and node-seal", &setup});

}  // namespace
