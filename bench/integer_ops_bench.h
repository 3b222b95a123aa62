// The integer schemes' primitive benchmarks (bfv_ops_bench.cpp, bgv_ops_bench.cpp): one
// operation list, SEAL's BFVDefault primes, 128-bit security, t a 20-bit batching prime,
// ciphertexts at the top data level. Names carry the parameters:
//   <scheme>/<op>/N=<N>/logq=<bits>
// S provides kPrefix, params(n, t), make_tables(ctx) and the TablesPtr, Encryptor,
// Decryptor and Evaluator types of the scheme.
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <random>
#include <string>

#include "fhe/bfv/batch_encoder.h"
#include "fhe/bfv/presets.h"
#include "fhe/rlwe/keygen.h"
#include "math/ntt.h"

namespace hecnn::bench {

using namespace hecnn;

template <class S>
struct Fixture {
  rlwe::ContextPtr ctx;
  typename S::TablesPtr tables;
  math::DeterministicPrngForTests prng{42};
  std::unique_ptr<rlwe::KeyGenerator> keygen;
  rlwe::PublicKey pk;
  rlwe::RelinKeys rk;
  rlwe::GaloisKeys gk;
  std::unique_ptr<bfv::BatchEncoder> encoder;
  std::unique_ptr<typename S::Encryptor> encryptor;
  std::unique_ptr<typename S::Decryptor> decryptor;
  std::unique_ptr<typename S::Evaluator> evaluator;
  std::vector<rlwe::u64> slots;
  bfv::Plaintext pt;
  rlwe::Ciphertext ct, ct2, ct3;

  explicit Fixture(std::size_t n) {
    const auto t = bfv::batching_plain_modulus(n, 20);
    ctx = rlwe::Context::create(S::params(n, t));
    tables = S::make_tables(ctx);
    keygen = std::make_unique<rlwe::KeyGenerator>(ctx, prng);
    pk = keygen->create_public_key();
    rk = keygen->create_relin_keys();
    gk = keygen->create_galois_keys_for_steps({1});
    encoder = std::make_unique<bfv::BatchEncoder>(ctx);
    encryptor = std::make_unique<typename S::Encryptor>(tables, pk);
    decryptor = std::make_unique<typename S::Decryptor>(tables, keygen->secret_key());
    evaluator = std::make_unique<typename S::Evaluator>(tables);
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

inline std::size_t n_of(const benchmark::State& s) { return static_cast<std::size_t>(s.range(0)); }

template <class S>
void ntt_forward(benchmark::State& s) {
  auto& f = Fixture<S>::get(n_of(s));
  std::vector<rlwe::u64> a(f.ct.data.begin(), f.ct.data.begin() + static_cast<long>(f.ctx->n()));
  for (auto _ : s) math::ntt_forward(a.data(), f.ctx->ntt(0));
}
template <class S>
void ntt_inverse(benchmark::State& s) {
  auto& f = Fixture<S>::get(n_of(s));
  std::vector<rlwe::u64> a(f.ct.data.begin(), f.ct.data.begin() + static_cast<long>(f.ctx->n()));
  for (auto _ : s) math::ntt_inverse(a.data(), f.ctx->ntt(0));
}
template <class S>
void encode(benchmark::State& s) {
  auto& f = Fixture<S>::get(n_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.encoder->encode(f.slots));
}
template <class S>
void decode(benchmark::State& s) {
  auto& f = Fixture<S>::get(n_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.encoder->decode(f.pt));
}
template <class S>
void encrypt(benchmark::State& s) {
  auto& f = Fixture<S>::get(n_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.encryptor->encrypt(f.pt, f.prng));
}
template <class S>
void decrypt(benchmark::State& s) {
  auto& f = Fixture<S>::get(n_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.decryptor->decrypt(f.ct));
}
template <class S>
void noise_budget(benchmark::State& s) {
  auto& f = Fixture<S>::get(n_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.decryptor->invariant_noise_budget(f.ct));
}
template <class S>
void add(benchmark::State& s) {
  auto& f = Fixture<S>::get(n_of(s));
  auto c = f.ct;
  for (auto _ : s) f.evaluator->add_inplace(c, f.ct2);
}
template <class S>
void multiply_plain(benchmark::State& s) {
  auto& f = Fixture<S>::get(n_of(s));
  for (auto _ : s) {
    auto c = f.ct;
    f.evaluator->multiply_plain_inplace(c, f.pt);
  }
}
template <class S>
void multiply(benchmark::State& s) {
  auto& f = Fixture<S>::get(n_of(s));
  for (auto _ : s) benchmark::DoNotOptimize(f.evaluator->multiply(f.ct, f.ct2));
}
template <class S>
void relinearize(benchmark::State& s) {
  auto& f = Fixture<S>::get(n_of(s));
  for (auto _ : s) {
    auto c = f.ct3;
    f.evaluator->relinearize_inplace(c, f.rk);
  }
}
template <class S>
void mul_relin(benchmark::State& s) {
  auto& f = Fixture<S>::get(n_of(s));
  for (auto _ : s) {
    auto c = f.evaluator->multiply(f.ct, f.ct2);
    f.evaluator->relinearize_inplace(c, f.rk);
  }
}
template <class S>
void rotate_rows(benchmark::State& s) {
  auto& f = Fixture<S>::get(n_of(s));
  for (auto _ : s) {
    auto c = f.ct;
    f.evaluator->rotate_rows_inplace(c, 1, f.gk);
  }
}
template <class S>
void mod_switch(benchmark::State& s) {
  auto& f = Fixture<S>::get(n_of(s));
  for (auto _ : s) {
    auto c = f.ct;
    f.evaluator->mod_switch_to_next_inplace(c);
  }
}
template <class S>
void copy_baseline(benchmark::State& s) {  // the ciphertext copy included in the in-place ops above
  auto& f = Fixture<S>::get(n_of(s));
  for (auto _ : s) {
    auto c = f.ct;
    benchmark::DoNotOptimize(c.data.data());
  }
}

template <class S>
void register_all() {
  const std::pair<const char*, void (*)(benchmark::State&)> ops[] = {
      {"ntt_forward", ntt_forward<S>}, {"ntt_inverse", ntt_inverse<S>}, {"encode", encode<S>},
      {"decode", decode<S>},           {"encrypt", encrypt<S>},         {"decrypt", decrypt<S>},
      {"noise_budget", noise_budget<S>},
      {"add", add<S>},                 {"multiply_plain", multiply_plain<S>}, {"multiply", multiply<S>},
      {"relinearize", relinearize<S>}, {"mul_relin", mul_relin<S>},     {"rotate_rows", rotate_rows<S>},
      {"mod_switch", mod_switch<S>},   {"copy_baseline", copy_baseline<S>}};
  const std::pair<int, int> sizes[] = {{4096, 109}, {8192, 218}, {16384, 438}};
  for (auto [n, logq] : sizes) {
    for (auto [name, fn] : ops) {
      const std::string full = std::string(S::kPrefix) + "/" + name + "/N=" + std::to_string(n) + "/logq=" + std::to_string(logq);
      benchmark::RegisterBenchmark(full.c_str(), fn)->Arg(n)->Unit(benchmark::kMicrosecond);
    }
  }
}

template <class S>
int run_main(int argc, char** argv) {
  register_all<S>();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace hecnn::bench
