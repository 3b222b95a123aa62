// CKKS encoder: SEAL's slot order checked against direct evaluation of the
// encoded polynomial, round-trip precision in bits, scalar encoding and errors.
#include "fhe/ckks/encoder.h"

#include "ckks_fixture.h"
#include "math/ntt.h"
#include "math/primes.h"

namespace hecnn::ckks {
namespace {

using testing::CkksSetup;
using testing::precision_bits;

constexpr double kPi = 3.141592653589793238462643383279502884;

// m(zeta^e) for the centered coefficients m, zeta = e^(i pi / N), in long double.
std::complex<long double> evaluate(const std::vector<long double>& m, std::uint64_t e) {
  const std::size_t n = m.size();
  std::complex<long double> acc(0, 0);
  for (std::size_t c = 0; c < n; ++c) {
    const long double angle = kPi * static_cast<long double>((e * c) % (2 * n)) / static_cast<long double>(n);
    acc += m[c] * std::complex<long double>(std::cos(angle), std::sin(angle));
  }
  return acc;
}

TEST(CkksEncoder, SlotOrderMatchesSealCanonicalEmbedding) {
  auto& S = CkksSetup::get("n8192_q200");
  const std::size_t n = S.ctx->n();
  std::mt19937_64 rng(1);
  const auto v = S.random_values(rng);
  // One 60-bit prime: coefficients are centered residues.
  auto pt = S.encoder->encode(v, S.scale, 1);
  std::vector<u64> x(pt.data);
  math::ntt_inverse(x.data(), S.ctx->ntt(0));
  const u64 q = S.ctx->key_base()[0].value();
  std::vector<long double> m(n);
  for (std::size_t c = 0; c < n; ++c) {
    m[c] = x[c] > q / 2 ? -static_cast<long double>(q - x[c]) : static_cast<long double>(x[c]);
  }
  // Slot i = m(zeta^(3^i mod 2N)) / scale; its conjugate sits at zeta^(-3^i).
  std::uint64_t g = 1;
  double worst = 0;
  for (std::size_t i = 0; i < 24; ++i) {
    const auto z = evaluate(m, g) / static_cast<long double>(S.scale);
    const auto zc = evaluate(m, 2 * n - g) / static_cast<long double>(S.scale);
    worst = std::max(worst, std::abs(cplx(static_cast<double>(z.real()), static_cast<double>(z.imag())) - v[i]));
    worst = std::max(worst, std::abs(cplx(static_cast<double>(zc.real()), static_cast<double>(-zc.imag())) - v[i]));
    g = (g * 3) % (2 * n);
  }
  EXPECT_LT(worst, std::exp2(-30)) << "slot values do not follow zeta^(3^i)";
}

TEST(CkksEncoder, RoundTripAtEveryLevelAtLeast32Bits) {
  auto& S = CkksSetup::get("n8192_q200");
  std::mt19937_64 rng(2);
  const auto v = S.random_values(rng);
  for (std::size_t k = 1; k <= S.top(); ++k) {
    const auto pt = S.encoder->encode(v, S.scale, k);
    EXPECT_EQ(pt.num_primes, k);
    EXPECT_EQ(pt.scale, S.scale);
    const double bits = precision_bits(S.encoder->decode_complex(pt), v);
    EXPECT_GE(bits, 32.0) << "level " << k;
  }
}

TEST(CkksEncoder, LargeScaleUsesAllPrimesExactly) {
  // Scale 2^100 at 3 primes (140 bits): coefficients beyond 64 bits.
  auto& S = CkksSetup::get("n8192_q200");
  std::mt19937_64 rng(3);
  const auto v = S.random_values(rng);
  const auto pt = S.encoder->encode(v, std::exp2(100), 3);
  EXPECT_GE(precision_bits(S.encoder->decode_complex(pt), v), 45.0);
}

TEST(CkksEncoder, RealVectorsShortVectorsAndScalars) {
  auto& S = CkksSetup::get("n8192_q200");
  std::vector<double> r = {0.5, -1.25, 3.0, 1e-3};
  const auto out = S.encoder->decode(S.encoder->encode(r, S.scale));
  ASSERT_EQ(out.size(), S.slots());
  for (std::size_t i = 0; i < r.size(); ++i) EXPECT_NEAR(out[i], r[i], 1e-9);
  for (std::size_t i = r.size(); i < out.size(); ++i) EXPECT_NEAR(out[i], 0.0, 1e-9);
  const auto z = S.encoder->decode_complex(S.encoder->encode(r, S.scale));
  for (std::size_t i = 0; i < r.size(); ++i) EXPECT_NEAR(z[i].imag(), 0.0, 1e-9);

  const auto sc = S.encoder->encode_scalar(-2.75, S.scale, 2);
  EXPECT_EQ(sc.num_primes, 2u);
  for (double x : S.encoder->decode(sc)) ASSERT_NEAR(x, -2.75, 1e-9);
  // Above 2^64 the scalar takes the exact big-integer path.
  const auto big = S.encoder->encode_scalar(-3.5, std::exp2(90), 3);
  for (double x : S.encoder->decode(big)) ASSERT_NEAR(x, -3.5, 1e-12);
}

TEST(CkksEncoder, ErrorsNameTheProblem) {
  auto& S = CkksSetup::get("n8192_q200");
  std::vector<cplx> too_many(S.slots() + 1);
  EXPECT_THROW(S.encoder->encode(too_many, S.scale), std::invalid_argument);
  // 2^34 at scale 2^40 gives coefficients near 2^62: beyond one 60-bit prime, within three.
  std::vector<double> huge = {std::exp2(34)};
  try {
    S.encoder->encode(huge, S.scale, 1);
    FAIL() << "expected an error for values too large for the modulus";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("too large for the modulus"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(S.encoder->encode(huge, S.scale, 3));
  EXPECT_THROW(S.encoder->encode(std::vector<double>{1.0}, std::exp2(200), 3), std::invalid_argument);
  EXPECT_THROW(S.encoder->encode(std::vector<double>{1.0}, -1.0, 3), std::invalid_argument);
  EXPECT_THROW(S.encoder->encode(std::vector<double>{NAN}, S.scale, 3), std::invalid_argument);
  EXPECT_THROW(S.encoder->encode(std::vector<double>{1.0}, S.scale, 4), std::invalid_argument);
  EXPECT_THROW(S.encoder->encode_scalar(std::exp2(30), S.scale, 1), std::invalid_argument);
  auto bfv = rlwe::Context::create(rlwe::ParamsLiteral{rlwe::Scheme::bfv, 4096, math::create_coeff_modulus(4096, {36, 36, 37}),
                                                       40961, rlwe::Security::tc128});
  EXPECT_THROW(Encoder{bfv}, std::invalid_argument);
}

}  // namespace
}  // namespace hecnn::ckks
