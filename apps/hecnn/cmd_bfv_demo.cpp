// `hecnn bfv-demo`: encrypts two vectors with BFV, evaluates a * b + a and a
// rotation on the ciphertexts, decrypts, and checks every slot against the
// same computation in the clear. Prints timings and noise budgets.
#include <chrono>
#include <cstdio>
#include <random>

#include "fhe/bfv/batch_encoder.h"
#include "fhe/bfv/encryptor.h"
#include "fhe/bfv/evaluator.h"
#include "fhe/bfv/presets.h"
#include "fhe/rlwe/keygen.h"
#include "hecnn/command.h"

namespace {

using namespace hecnn;

struct Options {
  std::size_t n = 8192;
  int plain_bits = 20;
};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void run(const Options& o) {
  using clock = std::chrono::steady_clock;
  const auto t = bfv::batching_plain_modulus(o.n, o.plain_bits);
  auto ctx = rlwe::Context::create(bfv::preset_default(o.n, t));
  std::printf("BFV  N=%zu  log2(q)=%d (128-bit secure)  t=%llu  slots=%zu\n", o.n, ctx->coeff_bits(),
              static_cast<unsigned long long>(t), o.n);
  auto tables = bfv::make_tables(ctx);
  math::SystemPrng prng;
  auto t0 = clock::now();
  rlwe::KeyGenerator keygen(ctx, prng);
  const auto pk = keygen.create_public_key();
  const auto rk = keygen.create_relin_keys();
  const auto gk = keygen.create_galois_keys_for_steps({1});
  std::printf("keys (secret, public, relin, 1 Galois)   %8.1f ms\n", ms_since(t0));

  bfv::BatchEncoder encoder(ctx);
  bfv::Encryptor encryptor(tables, pk);
  bfv::Decryptor decryptor(tables, keygen.secret_key());
  bfv::Evaluator evaluator(tables);
  std::mt19937_64 rng(std::random_device{}());
  std::vector<rlwe::u64> a(o.n), b(o.n);
  for (auto& x : a) x = rng() % t;
  for (auto& x : b) x = rng() % t;

  t0 = clock::now();
  auto ca = encryptor.encrypt(encoder.encode(a), prng);
  auto cb = encryptor.encrypt(encoder.encode(b), prng);
  double ms = ms_since(t0);
  std::printf("encrypt 2 x %zu values                  %8.1f ms   noise budget %d bits\n", o.n, ms,
              decryptor.invariant_noise_budget(ca));
  t0 = clock::now();
  auto prod = evaluator.multiply(ca, cb);
  evaluator.relinearize_inplace(prod, rk);
  evaluator.add_inplace(prod, ca);
  ms = ms_since(t0);
  std::printf("a * b + a (multiply, relinearize, add)   %8.1f ms   noise budget %d bits\n", ms,
              decryptor.invariant_noise_budget(prod));
  t0 = clock::now();
  auto rot = prod;
  evaluator.rotate_rows_inplace(rot, 1, gk);
  std::printf("rotate rows by 1                         %8.1f ms\n", ms_since(t0));
  t0 = clock::now();
  const auto got = encoder.decode(decryptor.decrypt(prod));
  const auto got_rot = encoder.decode(decryptor.decrypt(rot));
  std::printf("decrypt 2 ciphertexts                    %8.1f ms\n", ms_since(t0));

  const auto& tm = ctx->plain_modulus();
  std::size_t wrong = 0;
  const std::size_t row = o.n / 2;
  for (std::size_t i = 0; i < o.n; ++i) {
    const auto expect = tm.add(tm.mul(a[i], b[i]), a[i]);
    if (got[i] != expect) ++wrong;
    const std::size_t r = i / row, c = i % row;
    if (got_rot[r * row + c] != got[r * row + (c + 1) % row]) ++wrong;
  }
  if (wrong) throw std::runtime_error(std::to_string(wrong) + " slots differ from the plaintext computation");
  std::printf("all %zu slots equal the plaintext computation (a * b + a mod t, and its rotation)\n", o.n);
}

void setup(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("-n,--poly-degree", o->n, "ring dimension N (4096, 8192, 16384)")->check(CLI::IsMember({4096, 8192, 16384}));
  app.add_option("--plain-bits", o->plain_bits, "bits of the batching plaintext modulus t")->check(CLI::Range(17, 30));
  app.callback([o] { run(*o); });
}

const bool registered = hecnn::app::register_command(
    {"bfv-demo", "Encrypt, evaluate a*b+a and a rotation with BFV, decrypt and check against plaintext", &setup});

}  // namespace
