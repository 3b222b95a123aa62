// Every BGV operation checked exactly against slot-wise arithmetic mod t, at N = 4096, 8192
// and 16384 (SEAL's default primes for N, a 20-bit batching t, 128-bit security).
#include "fhe/bgv/evaluator.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>

#include "fhe/bfv/batch_encoder.h"
#include "fhe/bfv/evaluator.h"
#include "fhe/bfv/presets.h"
#include "fhe/bgv/encryptor.h"
#include "fhe/rlwe/galois.h"
#include "fhe/rlwe/keygen.h"

namespace hecnn::bgv {
namespace {

using Slots = std::vector<u64>;

struct BgvSetup {
  rlwe::ContextPtr ctx;
  BgvTablesPtr tables;
  std::unique_ptr<math::DeterministicPrngForTests> prng;
  std::unique_ptr<rlwe::KeyGenerator> keygen;
  rlwe::PublicKey pk;
  rlwe::RelinKeys rk;
  rlwe::GaloisKeys gk;
  std::unique_ptr<bfv::BatchEncoder> encoder;
  std::unique_ptr<Encryptor> encryptor;
  std::unique_ptr<Decryptor> decryptor;
  std::unique_ptr<Evaluator> evaluator;
  math::Modulus t;

  static BgvSetup& get(std::size_t n) {
    static std::map<std::size_t, std::unique_ptr<BgvSetup>> cache;
    auto& slot = cache[n];
    if (!slot) slot.reset(new BgvSetup(n));
    return *slot;
  }
  Slots random_slots(std::mt19937_64& rng) const {
    Slots v(ctx->n());
    for (auto& x : v) x = rng() % t.value();
    return v;
  }
  Ciphertext encrypt(const Slots& v) { return encryptor->encrypt(encoder->encode(v), *prng); }
  Slots decrypt(const Ciphertext& ct) const { return encoder->decode(decryptor->decrypt(ct)); }

 private:
  explicit BgvSetup(std::size_t n) {
    auto lit = bfv::preset_default(n, bfv::batching_plain_modulus(n, 20));
    lit.scheme = rlwe::Scheme::bgv;
    ctx = rlwe::Context::create(lit);
    t = ctx->plain_modulus();
    tables = make_tables(ctx);
    prng = std::make_unique<math::DeterministicPrngForTests>(n + 7);
    keygen = std::make_unique<rlwe::KeyGenerator>(ctx, *prng);
    pk = keygen->create_public_key();
    rk = keygen->create_relin_keys();
    gk = keygen->create_galois_keys_for_steps({1, 2, 4, -3}, true);
    encoder = std::make_unique<bfv::BatchEncoder>(ctx);
    encryptor = std::make_unique<Encryptor>(tables, pk);
    decryptor = std::make_unique<Decryptor>(tables, keygen->secret_key());
    evaluator = std::make_unique<Evaluator>(tables);
  }
};

class BgvOps : public ::testing::TestWithParam<std::size_t> {
 protected:
  BgvSetup& s() { return BgvSetup::get(GetParam()); }
};

std::string name_n(const ::testing::TestParamInfo<std::size_t>& info) { return "N" + std::to_string(info.param); }

template <typename F>
Slots zip(const Slots& a, const Slots& b, F f) {
  Slots out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = f(a[i], b[i]);
  return out;
}

// Left rotation of both rows of the 2 x N/2 slot matrix.
Slots rotate_rows(const Slots& v, int step) {
  const std::size_t half = v.size() / 2;
  Slots out(v.size());
  const std::size_t s = static_cast<std::size_t>(((step % long(half)) + long(half)) % long(half));
  for (std::size_t r = 0; r < 2; ++r)
    for (std::size_t i = 0; i < half; ++i) out[r * half + i] = v[r * half + (i + s) % half];
  return out;
}

TEST_P(BgvOps, EncryptDecryptPublicAndSymmetric) {
  auto& S = s();
  std::mt19937_64 rng(1);
  const auto v = S.random_slots(rng);
  const auto ct = S.encrypt(v);
  EXPECT_TRUE(ct.ntt_form);
  EXPECT_EQ(ct.correction_factor, 1u);
  EXPECT_EQ(S.decrypt(ct), v);
  EXPECT_GT(S.decryptor->invariant_noise_budget(ct), 20);
  Encryptor sym(S.tables, S.keygen->secret_key());
  EXPECT_EQ(S.decrypt(sym.encrypt(S.encoder->encode(v), *S.prng)), v);
  // A lower level, both ways.
  const std::size_t low = S.ctx->max_data_primes() - 1;
  if (low >= 1) {
    EXPECT_EQ(S.decrypt(S.encryptor->encrypt_at(S.encoder->encode(v), low, *S.prng)), v);
    EXPECT_EQ(S.decrypt(sym.encrypt_at(S.encoder->encode(v), low, *S.prng)), v);
  }
}

TEST_P(BgvOps, AddSubNegateAndScalars) {
  auto& S = s();
  std::mt19937_64 rng(2);
  const auto a = S.random_slots(rng), b = S.random_slots(rng);
  const auto ca = S.encrypt(a), cb = S.encrypt(b);
  const auto& t = S.t;
  EXPECT_EQ(S.decrypt(S.evaluator->add(ca, cb)), zip(a, b, [&](u64 x, u64 y) { return t.add(x, y); }));
  EXPECT_EQ(S.decrypt(S.evaluator->sub(ca, cb)), zip(a, b, [&](u64 x, u64 y) { return t.sub(x, y); }));
  auto c = ca;
  S.evaluator->negate_inplace(c);
  EXPECT_EQ(S.decrypt(c), zip(a, a, [&](u64 x, u64) { return t.neg(x); }));
  c = ca;
  S.evaluator->multiply_scalar_inplace(c, -37);
  const u64 m37 = t.neg(37);
  EXPECT_EQ(S.decrypt(c), zip(a, a, [&](u64 x, u64) { return t.mul(x, m37); }));
  S.evaluator->add_scalar_inplace(c, -5);
  EXPECT_EQ(S.decrypt(c), zip(a, a, [&](u64 x, u64) { return t.sub(t.mul(x, m37), 5); }));
  const auto d = S.evaluator->dot_scalar({&ca, &cb}, {3, -2});
  EXPECT_EQ(S.decrypt(d), zip(a, b, [&](u64 x, u64 y) { return t.sub(t.mul(x, 3), t.mul(y, 2)); }));
}

TEST_P(BgvOps, PlainAddSubMultiply) {
  auto& S = s();
  std::mt19937_64 rng(3);
  const auto a = S.random_slots(rng), b = S.random_slots(rng);
  const auto ca = S.encrypt(a);
  const auto pb = S.encoder->encode(b);
  const auto& t = S.t;
  auto c = ca;
  S.evaluator->add_plain_inplace(c, pb);
  EXPECT_EQ(S.decrypt(c), zip(a, b, [&](u64 x, u64 y) { return t.add(x, y); }));
  c = ca;
  S.evaluator->sub_plain_inplace(c, pb);
  EXPECT_EQ(S.decrypt(c), zip(a, b, [&](u64 x, u64 y) { return t.sub(x, y); }));
  EXPECT_EQ(S.decrypt(S.evaluator->multiply_plain(ca, pb)), zip(a, b, [&](u64 x, u64 y) { return t.mul(x, y); }));
  c = ca;
  S.evaluator->multiply_plain_ntt_inplace(c, S.evaluator->to_ntt(pb, c.num_primes));
  EXPECT_EQ(S.decrypt(c), zip(a, b, [&](u64 x, u64 y) { return t.mul(x, y); }));
}

TEST_P(BgvOps, MultiplyRelinearizeSquare) {
  auto& S = s();
  std::mt19937_64 rng(4);
  const auto a = S.random_slots(rng), b = S.random_slots(rng);
  const auto ca = S.encrypt(a), cb = S.encrypt(b);
  const auto& t = S.t;
  const auto prod = zip(a, b, [&](u64 x, u64 y) { return t.mul(x, y); });
  auto c = S.evaluator->multiply(ca, cb);
  EXPECT_EQ(c.size, 3u);
  EXPECT_EQ(S.decrypt(c), prod);
  const int before = S.decryptor->invariant_noise_budget(c);
  S.evaluator->relinearize_inplace(c, S.rk);
  EXPECT_EQ(c.size, 2u);
  EXPECT_EQ(S.decrypt(c), prod);
  EXPECT_GT(S.decryptor->invariant_noise_budget(c), before - 3);  // relinearization adds little noise
  auto sq = ca;
  S.evaluator->square_inplace(sq);
  S.evaluator->relinearize_inplace(sq, S.rk);
  EXPECT_EQ(S.decrypt(sq), zip(a, a, [&](u64 x, u64 y) { return t.mul(x, y); }));
  // An unrelinearized size-3 product times a fresh ciphertext: size 4, still exact (depth 2
  // without a modulus switch: N = 4096's 72 data bits hold only one product of fresh noise).
  if (GetParam() < 8192) return;
  auto c3 = S.evaluator->multiply(ca, cb);
  S.evaluator->multiply_inplace(c3, ca);
  EXPECT_EQ(c3.size, 4u);
  EXPECT_EQ(S.decrypt(c3), zip(prod, a, [&](u64 x, u64 y) { return t.mul(x, y); }));
}

TEST_P(BgvOps, ModSwitchingTracksTheCorrectionFactorDownTheChain) {
  auto& S = s();
  std::mt19937_64 rng(5);
  const auto a = S.random_slots(rng);
  auto expect = a;
  auto c = S.encrypt(a);
  // Square, relinearize, switch down: each level keeps the exact slots, and the factor
  // changes by q_last^-1 at each switch.
  while (c.num_primes > 1) {
    S.evaluator->square_inplace(c);
    S.evaluator->relinearize_inplace(c, S.rk);
    expect = zip(expect, expect, [&](u64 x, u64 y) { return S.t.mul(x, y); });
    const u64 cf = c.correction_factor;
    const std::size_t k = c.num_primes;
    const int budget = S.decryptor->invariant_noise_budget(c);
    S.evaluator->mod_switch_to_next_inplace(c);
    EXPECT_EQ(c.correction_factor, S.t.mul(cf, S.ctx->inv_last_mod_t(k)));
    EXPECT_EQ(S.decrypt(c), expect) << "after switching to " << c.num_primes << " primes";
    // The noise shrinks with the modulus (BGV's point): the budget stays about where it was
    // until the noise reaches its floor (about t N), and the result still decrypts.
    const int after = S.decryptor->invariant_noise_budget(c);
    EXPECT_GT(after, 0);
    EXPECT_GE(after, std::min(budget, int(S.ctx->base(c.num_primes).product().bit_count()) - 45) - 3);
  }
  EXPECT_NE(c.correction_factor, 1u);
  EXPECT_THROW(S.evaluator->mod_switch_to_next_inplace(c), std::invalid_argument);
}

TEST_P(BgvOps, AddBalancesDifferentCorrectionFactors) {
  auto& S = s();
  if (S.ctx->max_data_primes() < 2) GTEST_SKIP();
  std::mt19937_64 rng(6);
  const auto a = S.random_slots(rng), b = S.random_slots(rng);
  auto ca = S.encrypt(a);
  S.evaluator->mod_switch_to_next_inplace(ca);  // cf = q_last^-1
  const auto cb = S.encryptor->encrypt_at(S.encoder->encode(b), ca.num_primes, *S.prng);  // cf = 1
  ASSERT_NE(ca.correction_factor, cb.correction_factor);
  const auto& t = S.t;
  EXPECT_EQ(S.decrypt(S.evaluator->add(ca, cb)), zip(a, b, [&](u64 x, u64 y) { return t.add(x, y); }));
  EXPECT_EQ(S.decrypt(S.evaluator->sub(cb, ca)), zip(b, a, [&](u64 x, u64 y) { return t.sub(x, y); }));
  // Plaintext and scalar additions respect the factor.
  auto c = ca;
  S.evaluator->add_plain_inplace(c, S.encoder->encode(b));
  S.evaluator->add_scalar_inplace(c, 11);
  EXPECT_EQ(S.decrypt(c), zip(a, b, [&](u64 x, u64 y) { return t.add(t.add(x, y), 11); }));
  // The linear kernel refuses mixed factors instead of mixing them silently.
  EXPECT_THROW(S.evaluator->dot_scalar({&ca, &cb}, {1, 1}), std::invalid_argument);
}

TEST_P(BgvOps, RotationsOwnKeysComposedAndHoisted) {
  auto& S = s();
  std::mt19937_64 rng(7);
  const auto a = S.random_slots(rng);
  const auto ca = S.encrypt(a);
  for (int step : {1, -3, 5}) {  // own keys, and 5 = 4 + 1
    auto c = ca;
    S.evaluator->rotate_rows_inplace(c, step, S.gk);
    EXPECT_EQ(S.decrypt(c), rotate_rows(a, step)) << "step " << step;
  }
  auto c = ca;
  S.evaluator->rotate_columns_inplace(c, S.gk);
  const std::size_t half = a.size() / 2;
  Slots swapped(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) swapped[i] = a[(i + half) % a.size()];
  EXPECT_EQ(S.decrypt(c), swapped);
  // Hoisted, on a switched-down ciphertext (cf != 1) as well.
  auto low = ca;
  if (S.ctx->max_data_primes() > 1) S.evaluator->mod_switch_to_next_inplace(low);
  const auto rots = S.evaluator->rotate_rows_hoisted(low, {0, 1, -3, 2}, S.gk);
  ASSERT_EQ(rots.size(), 4u);
  const int steps[] = {0, 1, -3, 2};
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(S.decrypt(rots[i]), rotate_rows(a, steps[i])) << "step " << steps[i];
  EXPECT_THROW(S.evaluator->rotate_rows_hoisted(ca, {7}, S.gk), std::invalid_argument);  // no key for 7
}

TEST_P(BgvOps, RefusesForeignOrMalformedCiphertexts) {
  auto& S = s();
  std::mt19937_64 rng(8);
  const auto a = S.random_slots(rng);
  auto ca = S.encrypt(a);
  auto low = ca;
  if (S.ctx->max_data_primes() > 1) {
    S.evaluator->mod_switch_to_next_inplace(low);
    EXPECT_THROW(S.evaluator->add(ca, low), std::invalid_argument);
    EXPECT_THROW(S.evaluator->multiply(ca, low), std::invalid_argument);
  }
  auto bad = ca;
  bad.correction_factor = 0;
  EXPECT_THROW(S.decrypt(bad), std::invalid_argument);
  EXPECT_THROW(S.evaluator->negate_inplace(bad), std::invalid_argument);
  bad = ca;
  bad.ntt_form = false;
  EXPECT_THROW(S.evaluator->negate_inplace(bad), std::invalid_argument);
  // A BFV ciphertext of the same primes and t has another parms_id.
  auto bfv_lit = S.ctx->literal();
  bfv_lit.scheme = rlwe::Scheme::bfv;
  auto bfv_ctx = rlwe::Context::create(bfv_lit);
  bad = ca;
  bfv_ctx->stamp(bad);
  EXPECT_THROW(S.evaluator->negate_inplace(bad), std::invalid_argument);
  EXPECT_THROW(S.decrypt(bad), std::invalid_argument);
  EXPECT_THROW(Evaluator(make_tables(bfv_ctx)), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Bgv, BgvOps, ::testing::Values(std::size_t{4096}, std::size_t{8192}, std::size_t{16384}), name_n);

TEST(BgvSmallRatio, ReconstructsSmallFactors) {
  const math::Modulus t(1032193);
  std::mt19937_64 rng(9);
  for (int i = 0; i < 1000; ++i) {
    const u64 r = 1 + rng() % (t.value() - 1);
    const auto [e1, e2] = small_ratio(r, t);
    EXPECT_GT(e2, 0);
    EXPECT_LE(std::abs(e1), 2 * 1016);  // about sqrt(t)
    EXPECT_LE(e2, 2 * 1016);
    const u64 lhs = e1 >= 0 ? u64(e1) % t.value() : t.neg(u64(-e1) % t.value());
    EXPECT_EQ(lhs, t.mul(r, u64(e2)));
  }
  EXPECT_THROW(small_ratio(0, t), std::invalid_argument);
}

TEST(BgvParams, ContextChecksThePlainModulus) {
  auto lit = bfv::preset_default(4096, bfv::batching_plain_modulus(4096, 20));
  lit.scheme = rlwe::Scheme::bgv;
  lit.plain_modulus = 0;
  EXPECT_THROW(rlwe::Context::create(lit), std::invalid_argument);
  lit.plain_modulus = lit.coeff_modulus[0];
  EXPECT_THROW(rlwe::Context::create(lit), std::invalid_argument);
}

}  // namespace
}  // namespace hecnn::bgv
