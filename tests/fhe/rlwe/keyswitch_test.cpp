// Key switching checked through the phase c0 + c1 s: an encryption of m under
// s' switched to s must decrypt (under s) to m plus small noise.
#include "fhe/rlwe/keyswitch.h"

#include <gtest/gtest.h>

#include "fhe/rlwe/encrypt.h"
#include "fhe/rlwe/keygen.h"
#include "fhe/rlwe/poly_ops.h"
#include "math/primes.h"

namespace hecnn::rlwe {
namespace {

class KeySwitch : public ::testing::TestWithParam<bool> {};

TEST_P(KeySwitch, RelinearizationKeepsThePhaseSmall) {
  const bool ntt = GetParam();
  auto ctx = Context::create({Scheme::ckks, 4096, math::create_coeff_modulus(4096, {36, 36, 37}), 0});
  math::DeterministicPrngForTests prng(3);
  KeyGenerator kg(ctx, prng);
  const auto rk = kg.create_relin_keys();
  const auto& sk = kg.secret_key();
  // A size-3 "ciphertext" (e, 0, a) has phase e + a s^2; after relinearization it must be
  // an encryption of a s^2 + e under s, i.e. the new phase equals the old up to small noise.
  Ciphertext ct;
  encrypt_zero_symmetric(*ctx, sk, 2, ntt, prng, ct);
  ct.resize(3);
  std::copy(ct.poly(1), ct.poly(1) + ct.poly_words(), ct.poly(2));
  std::fill(ct.poly(1), ct.poly(1) + ct.poly_words(), 0);
  std::vector<u64> before(ct.poly_words()), after(ct.poly_words());
  secret_dot(*ctx, sk, ct, before.data());
  relinearize_inplace(*ctx, ct, rk);
  ASSERT_EQ(ct.size, 2u);
  secret_dot(*ctx, sk, ct, after.data());
  sub_poly(*ctx, after.data(), before.data(), after.data(), 2);
  if (ntt) ntt_inverse_poly(*ctx, after.data(), 2);
  const u64 q = ctx->key_base()[0].value();
  for (std::size_t i = 0; i < ctx->n(); ++i) {
    const u64 v = after[i];
    const u64 mag = v > q / 2 ? q - v : v;
    ASSERT_LT(mag, 1u << 14) << "coefficient " << i;  // key-switching noise ~ N * |e| * k / ... << q
  }
}

INSTANTIATE_TEST_SUITE_P(Forms, KeySwitch, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "ntt" : "coeff"; });

TEST(KeySwitch, RejectsWrongSizesAndMissingSpecialPrime) {
  auto ctx = Context::create({Scheme::ckks, 4096, math::create_coeff_modulus(4096, {36, 36, 37}), 0});
  math::DeterministicPrngForTests prng(4);
  KeyGenerator kg(ctx, prng);
  Ciphertext ct;
  encrypt_zero_symmetric(*ctx, kg.secret_key(), 2, true, prng, ct);
  EXPECT_THROW(relinearize_inplace(*ctx, ct, kg.create_relin_keys()), std::invalid_argument);
  auto single = Context::create({Scheme::ckks, 4096, math::create_coeff_modulus(4096, {50}), 0});
  KeyGenerator kg1(single, prng);
  EXPECT_THROW(kg1.create_relin_keys(), std::logic_error);
}

}  // namespace
}  // namespace hecnn::rlwe
