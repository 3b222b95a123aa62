// CKKS at N = 16384, primes [60, 40 x 7, 60], scale 2^40 (slow tier): a chain
// of five squarings with rescale, every operation, and rotations by every
// power of two in both directions. Precision as in evaluator_test.cpp.
#include "fhe/ckks/evaluator.h"

#include "ckks_fixture.h"

namespace hecnn::ckks {
namespace {

using testing::CkksSetup;
using testing::precision_bits;

CkksSetup& S16() { return CkksSetup::get("n16384_q400"); }

std::vector<cplx> rotated(const std::vector<cplx>& v, long step) {
  const long m = static_cast<long>(v.size());
  std::vector<cplx> out(v.size());
  for (long i = 0; i < m; ++i) out[i] = v[((i + step) % m + m) % m];
  return out;
}

// Five squarings: z^32 for |z| in [0.9, 1], so |z^32| stays above 0.03.
// Relative error roughly doubles per squaring (2^5 = 5 bits over the chain) on
// top of fresh public-key noise (~28 bits), and each rescale divides by a prime
// that is not exactly the scale (the scale drifts, tracked exactly). Bound: >= 21 bits.
TEST(CkksSlow, FiveSquaringsWithRescaleN16384) {
  auto& S = S16();
  std::mt19937_64 rng(21);
  std::uniform_real_distribution<double> r(0.9, 1.0), th(-3.14159, 3.14159);
  std::vector<cplx> v(S.slots());
  for (auto& z : v) z = std::polar(r(rng), th(rng));
  auto ct = S.encrypt(v);
  auto want = v;
  double scale = ct.scale;
  for (int round = 1; round <= 5; ++round) {
    S.evaluator->square_inplace(ct);
    S.evaluator->relinearize_inplace(ct, S.rk);
    S.evaluator->rescale_to_next_inplace(ct);
    const double q_last = static_cast<double>(S.ctx->key_base()[S.top() - round].value());
    scale = scale * scale / q_last;
    EXPECT_EQ(ct.scale, scale) << "round " << round;
    EXPECT_EQ(ct.num_primes, S.top() - round);
    for (auto& z : want) z = z * z;
    const double bits = precision_bits(S.decrypt(ct), want);
    std::printf("squaring %d: %.2f bits, scale 2^%.6f, %zu primes\n", round, bits, std::log2(ct.scale),
                ct.num_primes);
    if (round == 5) EXPECT_GE(bits, 21.0);
  }
}

TEST(CkksSlow, AllOpsN16384) {
  auto& S = S16();
  std::mt19937_64 rng(22);
  const auto a = S.random_values(rng), b = S.random_values(rng);
  const auto ca = S.encrypt(a), cb = S.encrypt(b);
  EXPECT_GE(precision_bits(S.decrypt(ca), a), 26.5);
  Encryptor sym(S.ctx, S.keygen->secret_key());
  EXPECT_GE(precision_bits(S.decrypt(sym.encrypt(S.encoder->encode(a, S.scale), *S.prng)), a), 30.0);
  std::vector<cplx> sum(a.size()), prod(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    sum[i] = a[i] + b[i];
    prod[i] = a[i] * b[i];
  }
  EXPECT_GE(precision_bits(S.decrypt(S.evaluator->add(ca, cb)), sum, 4.0), 26.5);
  auto mp = S.evaluator->multiply_plain(ca, S.encoder->encode(b, S.scale));
  S.evaluator->rescale_to_next_inplace(mp);
  EXPECT_GE(precision_bits(S.decrypt(mp), prod, 4.0), 26.0);
  auto m = S.evaluator->multiply(ca, cb);
  S.evaluator->relinearize_inplace(m, S.rk);
  S.evaluator->rescale_to_next_inplace(m);
  EXPECT_GE(precision_bits(S.decrypt(m), prod, 4.0), 26.0);
  // Mixed levels: a fresh ciphertext at the product's scale, switched down 3 levels.
  auto cd = S.encrypt(b, m.scale, S.top());
  S.evaluator->mod_switch_to_inplace(cd, m.num_primes);
  auto s2 = S.evaluator->add(m, cd);
  std::vector<cplx> want(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) want[i] = prod[i] + b[i];
  EXPECT_GE(precision_bits(S.decrypt(s2), want, 6.0), 26.0);
}

TEST(CkksSlow, RotationsEveryPowerOfTwoBothWaysN16384) {
  auto& S = S16();
  const long half = static_cast<long>(S.slots());
  std::vector<int> steps;
  for (long p = 1; p < half; p <<= 1) {
    steps.push_back(static_cast<int>(p));
    steps.push_back(static_cast<int>(-p));
  }
  const auto gk = S.keygen->create_galois_keys_for_steps(steps, true);
  std::mt19937_64 rng(23);
  const auto v = S.random_values(rng);
  const auto ct = S.encrypt(v);
  double worst = 60;
  for (int s : steps) {
    const double bits = precision_bits(S.decrypt(S.evaluator->rotate(ct, s, gk)), rotated(v, s));
    worst = std::min(worst, bits);
    EXPECT_GE(bits, 18.5) << "step " << s;  // ~19-22 measured; see evaluator_test.cpp
  }
  std::uniform_int_distribution<int> d(1, static_cast<int>(half) - 1);
  for (int i = 0; i < 4; ++i) {
    const int s = d(rng) * (i % 2 ? -1 : 1);
    EXPECT_GE(precision_bits(S.decrypt(S.evaluator->rotate(ct, s, gk)), rotated(v, s)), 18.0) << "step " << s;
  }
  auto cj = ct;
  S.evaluator->conjugate_inplace(cj, gk);
  std::vector<cplx> want(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) want[i] = std::conj(v[i]);
  EXPECT_GE(precision_bits(S.decrypt(cj), want), 18.5);
  std::printf("N=16384 rotations by powers of two: worst %.2f bits\n", worst);
}

}  // namespace
}  // namespace hecnn::ckks
