// BFV primitive benchmarks, SEAL's BFVDefault primes, 128-bit security, t a 20-bit
// batching prime, ciphertexts at the top data level. Names carry the parameters:
//   bfv/<op>/N=<N>/logq=<bits>
// Run pinned to one core with OMP_NUM_THREADS=1 to compare with SEAL (single-threaded).
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <random>

#include "fhe/bfv/batch_encoder.h"
#include "fhe/bfv/encryptor.h"
#include "fhe/bfv/evaluator.h"
#include "fhe/bfv/presets.h"
#include "fhe/rlwe/keygen.h"
#include "math/ntt.h"

namespace {

using namespace hecnn;

struct Fixture {
  rlwe::ContextPtr ctx;
  bfv::BfvTablesPtr tables;
  math::DeterministicPrngForTests prng{42};
  std::unique_ptr<rlwe::KeyGenerator> keygen;
  rlwe::PublicKey pk;
  rlwe::RelinKeys rk;
  rlwe::GaloisKeys gk;
  std::unique_ptr<bfv::BatchEncoder> encoder;
  std::unique_ptr<bfv::Encryptor> encryptor;
  std::unique_ptr<bfv::Decryptor> decryptor;
  std::unique_ptr<bfv::Evaluator> evaluator;
  std::vector<rlwe::u64> slots;
  bfv::Plaintext pt;
  rlwe::Ciphertext ct, ct2, ct3;

  explicit Fixture(std::size_t n) {
    const auto t = bfv::batching_plain_modulus(n, 20);
    ctx = rlwe::Context::create(bfv::preset_default(n, t));
    tables = bfv::make_tables(ctx);
    keygen = std::make_unique<rlwe::KeyGenerator>(ctx, prng);
    pk = keygen->create_public_key();
    rk = keygen->create_relin_keys();
    gk = keygen->create_galois_keys_for_steps({1});
    encoder = std::make_unique<bfv::BatchEncoder>(ctx);
    encryptor = std::make_unique<bfv::Encryptor>(tables, pk);
    decryptor = std::make_unique<bfv::Decryptor>(tables, keygen->secret_key());
    evaluator = std::make_unique<bfv::Evaluator>(tables);
    std::mt19937_64 rng(1);
    slots.resize(n);
    for (auto& s : slots) s = rng() % t;
    pt = encoder->encode(slots);
    ct = encryptor->encrypt(pt, prng);
    ct2 = encryptor->encrypt(pt, prng);
    ct3 = evaluator->multiply(ct, ct2);
  }
  static Fixture& get(std::size_t n) {
    static std::map<std::size_t, std::unique_ptr<Fixture>> cache;
    auto& f = cache[n];
    if (!f) f = std::make_unique<Fixture>(n);
    return *f;
  }
};

std::size_t n_of(const benchmark::State& s) { return static_cast<std::size_t>(s.range(0)); }

void ntt_forward(benchmark::State& s) {
  auto& f = Fixture::get(n_of(s));
  std::vector<rlwe::u64> a(f.ct.data.begin(), f.ct.data.begin() + static_cast<long>(f.ctx->n()));
  for (auto _ : s) math::ntt_forward(a.data(), f.ctx->ntt(0));
}
void ntt_inverse(benchmark::State& s) {
  auto& f = Fixture::get(n_of(s));
  std::vector<rlwe::u64> a(f.ct.data.begin(), f.ct.data.begin() + static_cast<long>(f.ctx->n()));
  for (auto _ : s) math::ntt_inverse(a.data(), f.ctx->ntt(0));
}
void encode(benchmark::State& s) {
  auto& f = Fixture::get(n_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.encoder->encode(f.slots));
}
void decode(benchmark::State& s) {
  auto& f = Fixture::get(n_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.encoder->decode(f.pt));
}
void encrypt(benchmark::State& s) {
  auto& f = Fixture::get(n_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.encryptor->encrypt(f.pt, f.prng));
}
void decrypt(benchmark::State& s) {
  auto& f = Fixture::get(n_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.decryptor->decrypt(f.ct));
}
void noise_budget(benchmark::State& s) {
  auto& f = Fixture::get(n_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.decryptor->invariant_noise_budget(f.ct));
}
void add(benchmark::State& s) {
  auto& f = Fixture::get(n_of(s));
  auto c = f.ct;
  for (auto _ : s) f.evaluator->add_inplace(c, f.ct2);
}
void multiply_plain(benchmark::State& s) {
  auto& f = Fixture::get(n_of(s));
  for (auto _ : s) {
    auto c = f.ct;
    f.evaluator->multiply_plain_inplace(c, f.pt);
  }
}
void multiply(benchmark::State& s) {
  auto& f = Fixture::get(n_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.evaluator->multiply(f.ct, f.ct2));
}
void relinearize(benchmark::State& s) {
  auto& f = Fixture::get(n_of(s));
  for (auto _ : s) {
    auto c = f.ct3;
    f.evaluator->relinearize_inplace(c, f.rk);
  }
}
void mul_relin(benchmark::State& s) {
  auto& f = Fixture::get(n_of(s));
  for (auto _ : s) {
    auto c = f.evaluator->multiply(f.ct, f.ct2);
    f.evaluator->relinearize_inplace(c, f.rk);
  }
}
void rotate_rows(benchmark::State& s) {
  auto& f = Fixture::get(n_of(s));
  for (auto _ : s) {
    auto c = f.ct;
    f.evaluator->rotate_rows_inplace(c, 1, f.gk);
  }
}
void mod_switch(benchmark::State& s) {
  auto& f = Fixture::get(n_of(s));
  for (auto _ : s) {
    auto c = f.ct;
    f.evaluator->mod_switch_to_next_inplace(c);
  }
}
void copy_baseline(benchmark::State& s) {  // the ciphertext copy included in the in-place ops above
  auto& f = Fixture::get(n_of(s));
  for (auto _ : s) {
    auto c = f.ct;
    benchmark::DoNotOptimize(c.data.data());
  }
}

void register_all() {
  const std::pair<const char*, void (*)(benchmark::State&)> ops[] = {
      {"ntt_forward", ntt_forward}, {"ntt_inverse", ntt_inverse}, {"encode", encode},
      {"decode", decode},           {"encrypt", encrypt},         {"decrypt", decrypt},
      {"noise_budget", noise_budget},
      {"add", add},                 {"multiply_plain", multiply_plain}, {"multiply", multiply},
      {"relinearize", relinearize}, {"mul_relin", mul_relin},     {"rotate_rows", rotate_rows},
      {"mod_switch", mod_switch},   {"copy_baseline", copy_baseline}};
  const std::pair<int, int> sizes[] = {{4096, 109}, {8192, 218}, {16384, 438}};
  for (auto [n, logq] : sizes) {
    for (auto [name, fn] : ops) {
      const std::string full = std::string("bfv/") + name + "/N=" + std::to_string(n) + "/logq=" + std::to_string(logq);
      benchmark::RegisterBenchmark(full.c_str(), fn)->Arg(n)->Unit(benchmark::kMicrosecond);
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
