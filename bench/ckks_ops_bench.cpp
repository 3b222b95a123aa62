// CKKS primitive benchmarks, 128-bit security, full complex slot vectors at
// scale 2^40, ciphertexts at the top data level. Names carry the parameters:
//   ckks/<op>/N=<N>/logq=<bits>
// Parameter sets: N=8192 [60, 40, 40, 60] (logq=200), N=8192 with SEAL's default
// primes [43, 43, 44, 44, 44] (logq=218, what anchors.md measured SEAL with) and
// N=16384 [60, 40 x 7, 60] (logq=400; 8 data primes like SEAL's 438-bit default).
// Run pinned to one core with OMP_NUM_THREADS=1 to compare with SEAL (single-threaded).
// In-place operations that consume their input copy a ciphertext first; that copy
// is timed too and measured separately as copy_baseline.
#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "fhe/ckks/encoder.h"
#include "fhe/ckks/encryptor.h"
#include "fhe/ckks/evaluator.h"
#include "fhe/ckks/presets.h"
#include "fhe/rlwe/keygen.h"

namespace {

using namespace hecnn;
using ckks::cplx;

struct Fixture {
  rlwe::ContextPtr ctx;
  double scale = std::exp2(40);
  math::DeterministicPrngForTests prng{43};
  std::unique_ptr<rlwe::KeyGenerator> keygen;
  rlwe::PublicKey pk;
  rlwe::RelinKeys rk;
  rlwe::GaloisKeys gk;
  std::unique_ptr<ckks::Encoder> encoder;
  std::unique_ptr<ckks::Encryptor> encryptor, sym_encryptor;
  std::unique_ptr<ckks::Decryptor> decryptor;
  std::unique_ptr<ckks::Evaluator> evaluator;
  std::vector<cplx> values;
  ckks::Plaintext pt;
  rlwe::Ciphertext ct, ct2, ct3, prod;  // prod: relinearized product at scale^2

  explicit Fixture(int logq) {
    const auto lit = logq == 200   ? ckks::preset_n8192_q200()
                     : logq == 218 ? ckks::preset_n8192_q218()
                                   : ckks::preset_n16384_q400();
    ctx = rlwe::Context::create(lit);
    keygen = std::make_unique<rlwe::KeyGenerator>(ctx, prng);
    pk = keygen->create_public_key();
    rk = keygen->create_relin_keys();
    gk = keygen->create_galois_keys_for_steps({1}, true);
    encoder = std::make_unique<ckks::Encoder>(ctx);
    encryptor = std::make_unique<ckks::Encryptor>(ctx, pk);
    sym_encryptor = std::make_unique<ckks::Encryptor>(ctx, keygen->secret_key());
    decryptor = std::make_unique<ckks::Decryptor>(ctx, keygen->secret_key());
    evaluator = std::make_unique<ckks::Evaluator>(ctx);
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> d(-1, 1);
    values.resize(encoder->slot_count());
    for (auto& v : values) v = cplx(d(rng), d(rng));
    pt = encoder->encode(values, scale);
    ct = encryptor->encrypt(pt, prng);
    ct2 = encryptor->encrypt(pt, prng);
    ct3 = evaluator->multiply(ct, ct2);
    prod = ct3;
    evaluator->relinearize_inplace(prod, rk);
  }
  static Fixture& get(int logq) {
    static std::map<int, std::unique_ptr<Fixture>> cache;
    auto& f = cache[logq];
    if (!f) f = std::make_unique<Fixture>(logq);
    return *f;
  }
};

int logq_of(const benchmark::State& s) { return static_cast<int>(s.range(0)); }

void encode(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.encoder->encode(f.values, f.scale));
}
void encode_scalar(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  const std::size_t k = f.ctx->max_data_primes();
  for (auto _ : s) benchmark::DoNotOptimize(f.encoder->encode_scalar(0.375, f.scale, k));
}
void decode(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.encoder->decode_complex(f.pt));
}
void encrypt_public(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.encryptor->encrypt(f.pt, f.prng));
}
void encrypt_symmetric(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.sym_encryptor->encrypt(f.pt, f.prng));
}
void decrypt(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.decryptor->decrypt(f.ct));
}
void add(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  auto c = f.ct;
  for (auto _ : s) f.evaluator->add_inplace(c, f.ct2);
}
void multiply_plain(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) {
    auto c = f.ct;
    f.evaluator->multiply_plain_inplace(c, f.pt);
  }
}
void multiply_scalar(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) {
    auto c = f.ct;
    f.evaluator->multiply_scalar_inplace(c, 0.375, f.scale);
  }
}
void multiply(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.evaluator->multiply(f.ct, f.ct2));
}
void square(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.evaluator->square(f.ct));
}
void relinearize(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) {
    auto c = f.ct3;
    f.evaluator->relinearize_inplace(c, f.rk);
  }
}
void mul_relin(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) {
    auto c = f.evaluator->multiply(f.ct, f.ct2);
    f.evaluator->relinearize_inplace(c, f.rk);
  }
}
void rescale(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) {
    auto c = f.prod;
    f.evaluator->rescale_to_next_inplace(c);
  }
}
void mod_switch(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) {
    auto c = f.ct;
    f.evaluator->mod_switch_to_next_inplace(c);
  }
}
void rotate(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) {
    auto c = f.ct;
    f.evaluator->rotate_inplace(c, 1, f.gk);
  }
}
void conjugate(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) {
    auto c = f.ct;
    f.evaluator->conjugate_inplace(c, f.gk);
  }
}
void copy_baseline(benchmark::State& s) {
  auto& f = Fixture::get(logq_of(s));
  for (auto _ : s) {
    auto c = f.ct;
    benchmark::DoNotOptimize(c.data.data());
  }
}

void register_all() {
  const std::pair<const char*, void (*)(benchmark::State&)> ops[] = {
      {"encode", encode},
      {"encode_scalar", encode_scalar},
      {"decode", decode},
      {"encrypt_public", encrypt_public},
      {"encrypt_symmetric", encrypt_symmetric},
      {"decrypt", decrypt},
      {"add", add},
      {"multiply_plain", multiply_plain},
      {"multiply_scalar", multiply_scalar},
      {"multiply", multiply},
      {"square", square},
      {"relinearize", relinearize},
      {"mul_relin", mul_relin},
      {"rescale", rescale},
      {"mod_switch", mod_switch},
      {"rotate", rotate},
      {"conjugate", conjugate},
      {"copy_baseline", copy_baseline}};
  const std::pair<int, int> sizes[] = {{8192, 200}, {8192, 218}, {16384, 400}};
  for (auto [n, logq] : sizes) {
    for (auto [name, fn] : ops) {
      const std::string full =
          std::string("ckks/") + name + "/N=" + std::to_string(n) + "/logq=" + std::to_string(logq);
      benchmark::RegisterBenchmark(full.c_str(), fn)->Arg(logq)->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
