// SEAL counterpart of bench/ckks_ops_bench.cpp: same operations, parameters and names.
// Built by bench/seal_compare/ckks_vs_seal.sh against a SEAL checkout outside this
// repository; not part of the CMake build. SEAL has no cheap scalar multiply:
// multiply_scalar is encode(double) + multiply_plain, as SEAL users write it.
#include <benchmark/benchmark.h>
#include <seal/seal.h>

#include <cmath>
#include <complex>
#include <map>
#include <memory>
#include <random>
#include <string>
using namespace seal;
using cplx = std::complex<double>;

struct F {
  std::unique_ptr<SEALContext> ctx;
  std::unique_ptr<KeyGenerator> kg;
  PublicKey pk;
  RelinKeys rk;
  GaloisKeys gk;
  std::unique_ptr<CKKSEncoder> enc;
  std::unique_ptr<Encryptor> encr;
  std::unique_ptr<Decryptor> decr;
  std::unique_ptr<Evaluator> ev;
  double scale = std::pow(2.0, 40);
  std::vector<cplx> values;
  Plaintext pt;
  Ciphertext ct, ct2, ct3, prod;
  explicit F(int logq) {
    const size_t n = logq == 400 ? 16384 : 8192;
    std::vector<int> bits = logq == 200   ? std::vector<int>{60, 40, 40, 60}
                            : logq == 218 ? std::vector<int>{43, 43, 44, 44, 44}
                                          : std::vector<int>{60, 40, 40, 40, 40, 40, 40, 40, 60};
    EncryptionParameters p(scheme_type::ckks);
    p.set_poly_modulus_degree(n);
    p.set_coeff_modulus(CoeffModulus::Create(n, bits));
    ctx = std::make_unique<SEALContext>(p);
    kg = std::make_unique<KeyGenerator>(*ctx);
    kg->create_public_key(pk);
    kg->create_relin_keys(rk);
    kg->create_galois_keys(std::vector<int>{1, 0}, gk);  // step 0: conjugation (2N - 1)
    enc = std::make_unique<CKKSEncoder>(*ctx);
    encr = std::make_unique<Encryptor>(*ctx, pk, kg->secret_key());
    decr = std::make_unique<Decryptor>(*ctx, kg->secret_key());
    ev = std::make_unique<Evaluator>(*ctx);
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> d(-1, 1);
    values.resize(enc->slot_count());
    for (auto &v : values) v = cplx(d(rng), d(rng));
    enc->encode(values, scale, pt);
    encr->encrypt(pt, ct);
    encr->encrypt(pt, ct2);
    ev->multiply(ct, ct2, ct3);
    ev->relinearize(ct3, rk, prod);
  }
  static F &get(int logq) {
    static std::map<int, std::unique_ptr<F>> c;
    auto &f = c[logq];
    if (!f) f = std::make_unique<F>(logq);
    return *f;
  }
};
int L(const benchmark::State &s) { return static_cast<int>(s.range(0)); }

void encode(benchmark::State &s) { auto &f = F::get(L(s)); Plaintext p; for (auto _ : s) f.enc->encode(f.values, f.scale, p); }
void encode_scalar(benchmark::State &s) { auto &f = F::get(L(s)); Plaintext p; for (auto _ : s) f.enc->encode(0.375, f.scale, p); }
void decode(benchmark::State &s) { auto &f = F::get(L(s)); std::vector<cplx> out; for (auto _ : s) f.enc->decode(f.pt, out); }
void encrypt_public(benchmark::State &s) { auto &f = F::get(L(s)); Ciphertext c; for (auto _ : s) f.encr->encrypt(f.pt, c); }
void encrypt_symmetric(benchmark::State &s) { auto &f = F::get(L(s)); Ciphertext c; for (auto _ : s) f.encr->encrypt_symmetric(f.pt, c); }
void decrypt(benchmark::State &s) { auto &f = F::get(L(s)); Plaintext p; for (auto _ : s) f.decr->decrypt(f.ct, p); }
void add(benchmark::State &s) { auto &f = F::get(L(s)); Ciphertext c = f.ct; for (auto _ : s) f.ev->add_inplace(c, f.ct2); }
void multiply_plain(benchmark::State &s) { auto &f = F::get(L(s)); for (auto _ : s) { Ciphertext c = f.ct; f.ev->multiply_plain_inplace(c, f.pt); } }
void multiply_scalar(benchmark::State &s) { auto &f = F::get(L(s)); Plaintext p;
  for (auto _ : s) { Ciphertext c = f.ct; f.enc->encode(0.375, f.scale, p); f.ev->multiply_plain_inplace(c, p); } }
void multiply(benchmark::State &s) { auto &f = F::get(L(s)); Ciphertext c; for (auto _ : s) f.ev->multiply(f.ct, f.ct2, c); }
void square(benchmark::State &s) { auto &f = F::get(L(s)); Ciphertext c; for (auto _ : s) f.ev->square(f.ct, c); }
void relinearize(benchmark::State &s) { auto &f = F::get(L(s)); for (auto _ : s) { Ciphertext c = f.ct3; f.ev->relinearize_inplace(c, f.rk); } }
void mul_relin(benchmark::State &s) { auto &f = F::get(L(s)); Ciphertext c;
  for (auto _ : s) { f.ev->multiply(f.ct, f.ct2, c); f.ev->relinearize_inplace(c, f.rk); } }
void rescale(benchmark::State &s) { auto &f = F::get(L(s)); for (auto _ : s) { Ciphertext c = f.prod; f.ev->rescale_to_next_inplace(c); } }
void mod_switch(benchmark::State &s) { auto &f = F::get(L(s)); for (auto _ : s) { Ciphertext c = f.ct; f.ev->mod_switch_to_next_inplace(c); } }
void rotate(benchmark::State &s) { auto &f = F::get(L(s)); for (auto _ : s) { Ciphertext c = f.ct; f.ev->rotate_vector_inplace(c, 1, f.gk); } }
void conjugate(benchmark::State &s) { auto &f = F::get(L(s)); for (auto _ : s) { Ciphertext c = f.ct; f.ev->complex_conjugate_inplace(c, f.gk); } }
void copy_baseline(benchmark::State &s) { auto &f = F::get(L(s)); for (auto _ : s) { Ciphertext c = f.ct; benchmark::DoNotOptimize(c.data()); } }

int main(int argc, char **argv) {
  const std::pair<const char *, void (*)(benchmark::State &)> ops[] = {
      {"encode", encode}, {"encode_scalar", encode_scalar}, {"decode", decode},
      {"encrypt_public", encrypt_public}, {"encrypt_symmetric", encrypt_symmetric}, {"decrypt", decrypt},
      {"add", add}, {"multiply_plain", multiply_plain}, {"multiply_scalar", multiply_scalar},
      {"multiply", multiply}, {"square", square}, {"relinearize", relinearize}, {"mul_relin", mul_relin},
      {"rescale", rescale}, {"mod_switch", mod_switch}, {"rotate", rotate}, {"conjugate", conjugate},
      {"copy_baseline", copy_baseline}};
  const std::pair<int, int> sizes[] = {{8192, 200}, {8192, 218}, {16384, 400}};
  for (auto [n, logq] : sizes)
    for (auto [name, fn] : ops) {
      const std::string full = std::string("ckks/") + name + "/N=" + std::to_string(n) + "/logq=" + std::to_string(logq);
      benchmark::RegisterBenchmark(full.c_str(), fn)->Arg(logq)->Unit(benchmark::kMicrosecond);
    }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
