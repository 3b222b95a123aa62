#include "fhe/rlwe/params.h"

#include <gtest/gtest.h>

#include "math/primes.h"

namespace hecnn::rlwe {
namespace {

std::string error_of(const ParamsLiteral& lit) {
  try {
    Context::create(lit);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

struct BoundCase {
  std::size_t n;
  int max_bits;
};

class SecurityBound : public ::testing::TestWithParam<BoundCase> {};

TEST_P(SecurityBound, AcceptsAtTheBoundRejectsAboveUnlessInsecureIsExplicit) {
  const auto [n, max_bits] = GetParam();
  EXPECT_EQ(max_coeff_bits_128(n), max_bits);
  // Primes of total size above the bound: ceil((max+1)/50) primes of ~50 bits.
  const std::size_t count = static_cast<std::size_t>((max_bits + 50) / 50) + 1;
  ParamsLiteral over{Scheme::ckks, n, math::ntt_primes(50, n, count), 0};
  const std::string err = error_of(over);
  EXPECT_NE(err.find("exceeds the 128-bit security bound of " + std::to_string(max_bits)), std::string::npos) << err;
  over.security = Security::none_insecure;
  EXPECT_NO_THROW(Context::create(over));
}

INSTANTIATE_TEST_SUITE_P(HeStandard, SecurityBound,
                         ::testing::Values(BoundCase{1024, 27}, BoundCase{2048, 54}, BoundCase{4096, 109},
                                           BoundCase{8192, 218}, BoundCase{16384, 438}, BoundCase{32768, 881}),
                         [](const auto& info) { return "N" + std::to_string(info.param.n); });

TEST(Params, ClearErrorsForMalformedLiterals) {
  const auto primes = math::ntt_primes(40, 4096, 2);
  EXPECT_NE(error_of({Scheme::bfv, 3000, primes, 65537}).find("power of two"), std::string::npos);
  EXPECT_NE(error_of({Scheme::bfv, 4096, {}, 65537}).find("empty"), std::string::npos);
  EXPECT_NE(error_of({Scheme::bfv, 4096, {primes[0], primes[0]}, 65537}).find("repeated"), std::string::npos);
  EXPECT_NE(error_of({Scheme::bfv, 4096, {primes[0], 1000001}, 65537}).find("not prime"), std::string::npos);
  EXPECT_NE(error_of({Scheme::bfv, 4096, {primes[0], 12289}, 65537}).find("≡ 1 mod 2N"), std::string::npos);
  EXPECT_NE(error_of({Scheme::bfv, 4096, primes, 1}).find("plain_modulus"), std::string::npos);
  EXPECT_NE(error_of({Scheme::ckks, 4096, primes, 65537}).find("CKKS takes no plain_modulus"), std::string::npos);
  EXPECT_NE(error_of({Scheme::bfv, 4096, primes, primes[1]}).find("shares a factor"), std::string::npos);
}

TEST(Params, LevelsAndSpecialPrime) {
  const auto primes = math::create_coeff_modulus(8192, {43, 43, 44, 44, 44});
  auto ctx = Context::create({Scheme::bfv, 8192, primes, 1032193});
  EXPECT_EQ(ctx->key_primes(), 5u);
  EXPECT_EQ(ctx->max_data_primes(), 4u);
  EXPECT_EQ(ctx->special_prime().value(), primes.back());
  EXPECT_LE(ctx->coeff_bits(), 218);
  EXPECT_THROW(ctx->check_data_level(5, "test"), std::invalid_argument);
  EXPECT_NO_THROW(ctx->check_data_level(1, "test"));
}

TEST(Params, ParmsIdIsBlake2bOfTheParameterWords) {
  // Consistency only: different levels and different t give different ids, and the id is the
  // one compute_parms_id gives. The independent check of the value is against node-seal's
  // chain (tests/fhe/wire/params_test.cpp, "its chain's parms_ids").
  const auto primes = math::create_coeff_modulus(8192, {43, 43, 44, 44, 44});
  auto a = Context::create({Scheme::bfv, 8192, primes, 1032193});
  auto b = Context::create({Scheme::bfv, 8192, primes, 786433});
  EXPECT_EQ(a->parms_id(5), compute_parms_id(Scheme::bfv, 8192, primes, 1032193));
  EXPECT_NE(a->parms_id(5), b->parms_id(5));
  EXPECT_NE(a->parms_id(4), a->parms_id(5));
  EXPECT_EQ(a->parms_id(3), compute_parms_id(Scheme::bfv, 8192, {primes[0], primes[1], primes[2]}, 1032193));
}

}  // namespace
}  // namespace hecnn::rlwe
