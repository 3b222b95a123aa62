// Complex packing (fhe/ckks/complex_packing.h) at N = 8192, primes [60, 40, 40, 60],
// scale 2^40. Expectations are derived from the definitions, not from the code under
// test: slot s is the root zeta^(3^s), so X^(N/2) takes the value i^(3^s mod 4) there;
// two real values (a, b) live in slot s as a + mu_s b. Precision bounds as in
// evaluator_test.cpp: ~28 bits fresh, ~21 bits after a conjugation key switch.
#include "fhe/ckks/complex_packing.h"

#include "ckks_fixture.h"
#include "fhe/rlwe/galois.h"

namespace hecnn::ckks {
namespace {

using testing::CkksSetup;
using testing::precision_bits;

CkksSetup& S8() { return CkksSetup::get("n8192_q200"); }

// The value of X^(N/2) at slot s: (zeta^(3^s))^(N/2) = i^(3^s) with zeta a primitive 2N-th root.
cplx mu_at(std::size_t s) {
  int e = 1;  // 3^s mod 4
  for (std::size_t k = 0; k < s % 2; ++k) e = (e * 3) % 4;
  return std::pow(cplx(0, 1), double(e));
}

std::vector<double> random_reals(std::mt19937_64& rng, std::size_t n, double lo = -1, double hi = 1) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

double max_error(const std::vector<double>& got, const std::vector<double>& want) {
  double e = 0;
  for (std::size_t i = 0; i < want.size(); ++i) e = std::max(e, std::fabs(got[i] - want[i]));
  return e;
}

struct Packed {
  CkksSetup& S = S8();
  ComplexPacking packing{S.ctx};
  rlwe::GaloisKeys gk = S.keygen->create_galois_keys({rlwe::galois_elt_conjugate(S.ctx->n())});
  std::vector<double> decrypt(const Ciphertext& ct, std::size_t count) const { return ComplexPacking::unpack(S.decrypt(ct), count); }
};

TEST(ComplexPacking, PackPutsPairsInSlotsAsAPlusMuB) {
  Packed P;
  std::mt19937_64 rng(1);
  const auto v = random_reals(rng, P.S.ctx->n());
  const auto z = P.packing.pack(v);
  ASSERT_EQ(z.size(), P.S.slots());
  for (std::size_t s = 0; s < z.size(); ++s) {
    const cplx want = v[2 * s] + mu_at(s) * v[2 * s + 1];
    ASSERT_LT(std::abs(z[s] - want), 1e-15) << "slot " << s;
  }
  EXPECT_EQ(ComplexPacking::unpack(z, v.size()), v);
  // Fewer values: the rest are zero; too many are refused.
  const auto z3 = P.packing.pack({1.0, 2.0, 3.0});
  EXPECT_EQ(z3[1], cplx(3.0, 0.0));
  EXPECT_EQ(z3[2], cplx(0.0, 0.0));
  EXPECT_THROW(P.packing.pack(std::vector<double>(P.S.ctx->n() + 1, 0.0)), std::invalid_argument);
  EXPECT_THROW(ComplexPacking::unpack(z, P.S.ctx->n() + 1), std::invalid_argument);
}

TEST(ComplexPacking, TimesMuMultipliesEverySlotByMuExactly) {
  Packed P;
  std::mt19937_64 rng(2);
  const auto z = P.S.random_values(rng);
  auto ct = P.S.encrypt(z);
  const auto before = P.S.decrypt(ct);
  P.packing.times_mu_inplace(ct);
  std::vector<cplx> want(z.size());
  for (std::size_t s = 0; s < z.size(); ++s) want[s] = mu_at(s) * before[s];
  // A monomial product adds no noise: the decryption is mu times the previous one.
  EXPECT_GT(precision_bits(P.S.decrypt(ct), want), 40.0);
  EXPECT_GT(precision_bits(P.S.decrypt(ct), [&] {
    std::vector<cplx> w(z.size());
    for (std::size_t s = 0; s < z.size(); ++s) w[s] = mu_at(s) * z[s];
    return w;
  }()), 26.0);
}

TEST(ComplexPacking, SplitGivesTwiceEachImage) {
  Packed P;
  std::mt19937_64 rng(3);
  const auto v = random_reals(rng, P.S.ctx->n());
  const auto ct = P.S.encrypt(P.packing.pack(v));
  Ciphertext re, im;
  P.packing.split(*P.S.evaluator, P.gk, ct, re, im);
  const auto zr = P.S.decrypt(re), zi = P.S.decrypt(im);
  std::vector<cplx> want_re(zr.size()), want_im(zi.size());
  for (std::size_t s = 0; s < zr.size(); ++s) {
    want_re[s] = 2 * v[2 * s];      // both real, imaginary parts zero
    want_im[s] = 2 * v[2 * s + 1];
  }
  EXPECT_GT(precision_bits(zr, want_re, 4.0), 20.0);
  EXPECT_GT(precision_bits(zi, want_im, 4.0), 20.0);
}

TEST(ComplexPacking, MultiplyPartsIsThePartwiseProductTimesFour) {
  Packed P;
  auto& ev = *P.S.evaluator;
  std::mt19937_64 rng(4);
  const std::size_t n = P.S.ctx->n();
  const auto x = random_reals(rng, n), y = random_reals(rng, n);
  const auto cx = P.S.encrypt(P.packing.pack(x)), cy = P.S.encrypt(P.packing.pack(y));
  for (bool square : {false, true}) {
    Ciphertext a = cx;
    P.packing.multiply_parts_inplace(ev, P.gk, a, square ? nullptr : &cy);
    EXPECT_EQ(a.size, 3u);
    ev.relinearize_inplace(a, P.S.rk);
    ev.rescale_to_next_inplace(a);
    std::vector<double> want(n);
    for (std::size_t i = 0; i < n; ++i) want[i] = 4 * x[i] * (square ? x[i] : y[i]);
    const double err = max_error(P.decrypt(a, n), want);
    EXPECT_LT(err, std::exp2(-16)) << (square ? "square" : "multiply") << ": max error " << err;
    // Not the other image's product, and not the unpaired product.
    if (!square) {
      std::vector<double> xx(n);
      for (std::size_t i = 0; i < n; ++i) xx[i] = 4 * x[i] * x[i];
      EXPECT_GT(max_error(P.decrypt(a, n), xx), 0.5);
    }
  }
}

TEST(ComplexPacking, AddConstantReachesBothImagesOfEverySlot) {
  Packed P;
  std::mt19937_64 rng(5);
  const std::size_t n = P.S.ctx->n();
  const auto v = random_reals(rng, n);
  auto ct = P.S.encrypt(P.packing.pack(v));
  P.packing.add_constant_both_inplace(ct, 0.75 * ct.scale);
  std::vector<double> want(v);
  for (auto& w : want) w += 0.75;
  EXPECT_LT(max_error(P.decrypt(ct, n), want), std::exp2(-24));
  EXPECT_THROW(P.packing.add_constant_both_inplace(ct, std::nan("")), std::invalid_argument);
}

TEST(ComplexPacking, RefusesForeignContextsAndCiphertexts) {
  Packed P;
  EXPECT_THROW(ComplexPacking(nullptr), std::invalid_argument);
  rlwe::ParamsLiteral bfv = preset_n8192_q200();
  bfv.scheme = rlwe::Scheme::bfv;
  bfv.plain_modulus = 65537;
  EXPECT_THROW(ComplexPacking(rlwe::Context::create(bfv)), std::invalid_argument);
  std::mt19937_64 rng(6);
  Ciphertext c = P.S.encrypt(P.S.random_values(rng));
  c.ntt_form = false;
  EXPECT_THROW(P.packing.times_mu_inplace(c), std::invalid_argument);
}

}  // namespace
}  // namespace hecnn::ckks
