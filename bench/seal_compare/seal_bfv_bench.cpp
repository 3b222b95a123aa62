// SEAL counterpart of bench/bfv_ops_bench.cpp: same operations, parameters and names.
// Built by scripts/bench-vs-seal.sh against a SEAL checkout outside this repository;
// not part of the CMake build. seal_bgv_bench.cpp is this file for SEAL's BGV.
#ifndef HECNN_SEAL_SCHEME
#define HECNN_SEAL_SCHEME bfv
#endif
#define HECNN_STR2(x) #x
#define HECNN_STR(x) HECNN_STR2(x)
#include <benchmark/benchmark.h>
#include <seal/seal.h>
#include <map>
#include <memory>
#include <random>
using namespace seal;
struct F {
  std::unique_ptr<SEALContext> ctx; std::unique_ptr<KeyGenerator> kg; PublicKey pk; RelinKeys rk; GaloisKeys gk;
  std::unique_ptr<BatchEncoder> enc; std::unique_ptr<Encryptor> encr; std::unique_ptr<Decryptor> decr; std::unique_ptr<Evaluator> ev;
  std::vector<uint64_t> slots; Plaintext pt; Ciphertext ct, ct2, ct3;
  explicit F(size_t n) {
    EncryptionParameters p(scheme_type::HECNN_SEAL_SCHEME); p.set_poly_modulus_degree(n);
    p.set_coeff_modulus(CoeffModulus::BFVDefault(n)); p.set_plain_modulus(PlainModulus::Batching(n, 20));
    ctx = std::make_unique<SEALContext>(p); kg = std::make_unique<KeyGenerator>(*ctx);
    kg->create_public_key(pk); kg->create_relin_keys(rk); kg->create_galois_keys(std::vector<int>{1}, gk);
    enc = std::make_unique<BatchEncoder>(*ctx); encr = std::make_unique<Encryptor>(*ctx, pk);
    decr = std::make_unique<Decryptor>(*ctx, kg->secret_key()); ev = std::make_unique<Evaluator>(*ctx);
    std::mt19937_64 rng(1); slots.resize(n); uint64_t t = p.plain_modulus().value(); for (auto &s : slots) s = rng() % t;
    enc->encode(slots, pt); encr->encrypt(pt, ct); encr->encrypt(pt, ct2); ev->multiply(ct, ct2, ct3);
  }
  static F &get(size_t n) { static std::map<size_t, std::unique_ptr<F>> c; auto &f = c[n]; if (!f) f = std::make_unique<F>(n); return *f; }
};
size_t N(const benchmark::State &s) { return s.range(0); }
void ntt_forward(benchmark::State &s) { auto &f = F::get(N(s)); auto cd = f.ctx->first_context_data(); std::vector<uint64_t> a(f.ct.data(), f.ct.data() + N(s));
  for (auto _ : s) util::ntt_negacyclic_harvey(a.data(), cd->small_ntt_tables()[0]); }
void ntt_inverse(benchmark::State &s) { auto &f = F::get(N(s)); auto cd = f.ctx->first_context_data(); std::vector<uint64_t> a(f.ct.data(), f.ct.data() + N(s));
  for (auto _ : s) util::inverse_ntt_negacyclic_harvey(a.data(), cd->small_ntt_tables()[0]); }
void encode(benchmark::State &s) { auto &f = F::get(N(s)); Plaintext p; for (auto _ : s) f.enc->encode(f.slots, p); }
void decode(benchmark::State &s) { auto &f = F::get(N(s)); std::vector<uint64_t> v; for (auto _ : s) f.enc->decode(f.pt, v); }
void encrypt(benchmark::State &s) { auto &f = F::get(N(s)); Ciphertext c; for (auto _ : s) f.encr->encrypt(f.pt, c); }
void decrypt(benchmark::State &s) { auto &f = F::get(N(s)); Plaintext p; for (auto _ : s) f.decr->decrypt(f.ct, p); }
void add(benchmark::State &s) { auto &f = F::get(N(s)); Ciphertext c = f.ct; for (auto _ : s) f.ev->add_inplace(c, f.ct2); }
void multiply_plain(benchmark::State &s) { auto &f = F::get(N(s)); for (auto _ : s) { Ciphertext c = f.ct; f.ev->multiply_plain_inplace(c, f.pt); } }
void multiply(benchmark::State &s) { auto &f = F::get(N(s)); Ciphertext c; for (auto _ : s) f.ev->multiply(f.ct, f.ct2, c); }
void relinearize(benchmark::State &s) { auto &f = F::get(N(s)); for (auto _ : s) { Ciphertext c = f.ct3; f.ev->relinearize_inplace(c, f.rk); } }
void mul_relin(benchmark::State &s) { auto &f = F::get(N(s)); for (auto _ : s) { Ciphertext c; f.ev->multiply(f.ct, f.ct2, c); f.ev->relinearize_inplace(c, f.rk); } }
void rotate_rows(benchmark::State &s) { auto &f = F::get(N(s)); for (auto _ : s) { Ciphertext c = f.ct; f.ev->rotate_rows_inplace(c, 1, f.gk); } }
void mod_switch(benchmark::State &s) { auto &f = F::get(N(s)); for (auto _ : s) { Ciphertext c = f.ct; f.ev->mod_switch_to_next_inplace(c); } }
void copy_baseline(benchmark::State &s) { auto &f = F::get(N(s)); for (auto _ : s) { Ciphertext c = f.ct; benchmark::DoNotOptimize(c.data()); } }
int main(int argc, char **argv) {
  std::pair<const char *, void (*)(benchmark::State &)> ops[] = {{"ntt_forward", ntt_forward}, {"ntt_inverse", ntt_inverse}, {"encode", encode}, {"decode", decode}, {"encrypt", encrypt}, {"decrypt", decrypt}, {"add", add}, {"multiply_plain", multiply_plain}, {"multiply", multiply}, {"relinearize", relinearize}, {"mul_relin", mul_relin}, {"rotate_rows", rotate_rows}, {"mod_switch", mod_switch}, {"copy_baseline", copy_baseline}};
  std::pair<int, int> sizes[] = {{4096, 109}, {8192, 218}, {16384, 438}};
  for (auto [n, lq] : sizes) for (auto [name, fn] : ops) {
    std::string full = std::string(HECNN_STR(HECNN_SEAL_SCHEME)) + "/" + name + "/N=" + std::to_string(n) + "/logq=" + std::to_string(lq);
    benchmark::RegisterBenchmark(full.c_str(), fn)->Arg(n)->Unit(benchmark::kMicrosecond); }
  benchmark::Initialize(&argc, argv); benchmark::RunSpecifiedBenchmarks(); return 0;
}
