#include "fhe/ckks/complex_packing.h"

#include <cmath>
#include <stdexcept>

#include "math/ntt.h"
#include "math/vec_ops.h"

namespace hecnn::ckks {

ComplexPacking::ComplexPacking(rlwe::ContextPtr ctx) : ctx_(std::move(ctx)) {
  if (!ctx_ || ctx_->scheme() != rlwe::Scheme::ckks) throw std::invalid_argument("complex packing: needs a CKKS context");
  const std::size_t n = ctx_->n(), L = ctx_->max_data_primes();
  mu_ntt_.assign(L * n, 0);
  one_plus_mu_ntt_.assign(L * n, 0);
  for (std::size_t j = 0; j < L; ++j) {
    std::uint64_t* r = mu_ntt_.data() + j * n;
    r[n / 2] = 1;
    math::ntt_forward(r, ctx_->ntt(j));
    const math::Modulus& q = ctx_->key_base()[j];
    for (std::size_t k = 0; k < n; ++k) one_plus_mu_ntt_[j * n + k] = q.add(1, r[k]);
  }
}

std::vector<cplx> ComplexPacking::pack(const std::vector<double>& v) const {
  const std::size_t slots = ctx_->n() / 2;
  if (v.size() > 2 * slots) throw std::invalid_argument("complex packing: " + std::to_string(v.size()) + " values, only " + std::to_string(2 * slots) + " fit");
  std::vector<cplx> z(slots, 0.0);
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::size_t s = i / 2;
    if (i % 2 == 0) z[s].real(v[i]);
    else z[s].imag(mu_sign(s) * v[i]);
  }
  return z;
}

std::vector<double> ComplexPacking::unpack(const std::vector<cplx>& z, std::size_t count) {
  if (count > 2 * z.size()) throw std::invalid_argument("complex packing: asked for more values than the slots hold");
  std::vector<double> v(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t s = i / 2;
    v[i] = i % 2 == 0 ? z[s].real() : mu_sign(s) * z[s].imag();
  }
  return v;
}

void ComplexPacking::times_mu_inplace(Ciphertext& a) const {
  if (!a.ntt_form || a.n != ctx_->n() || a.num_primes > ctx_->max_data_primes()) throw std::invalid_argument("complex packing: ciphertext does not match the context");
  const std::size_t n = ctx_->n();
  for (std::size_t c = 0; c < a.size; ++c)
    for (std::size_t j = 0; j < a.num_primes; ++j) {
      std::uint64_t* x = a.residue(c, j);
      math::mul_mod_vec(x, mu_ntt_.data() + j * n, x, n, ctx_->key_base()[j]);
    }
}

void ComplexPacking::split(const Evaluator& ev, const rlwe::GaloisKeys& gk, const Ciphertext& z, Ciphertext& re, Ciphertext& im) const {
  Ciphertext zc = z;
  ev.conjugate_inplace(zc, gk);
  re = z;
  ev.add_inplace(re, zc);  // 2a
  im = std::move(zc);
  ev.sub_inplace(im, z);   // conj z - z = -2 mu b
  times_mu_inplace(im);    // -2 mu^2 b = 2b
}

void ComplexPacking::multiply_parts_inplace(const Evaluator& ev, const rlwe::GaloisKeys& gk, Ciphertext& a, const Ciphertext* b) const {
  Ciphertext ar, ai;
  split(ev, gk, a, ar, ai);
  if (!b) {
    ev.square_inplace(ar);
    ev.square_inplace(ai);
  } else {
    Ciphertext br, bi;
    split(ev, gk, *b, br, bi);
    ev.multiply_inplace(ar, br);
    ev.multiply_inplace(ai, bi);
  }
  times_mu_inplace(ai);
  ev.add_inplace(ar, ai);
  a = std::move(ar);
}

void ComplexPacking::add_constant_both_inplace(Ciphertext& a, double c) const {
  if (c == 0) return;
  if (!std::isfinite(c) || std::fabs(c) >= 0x1p1000) throw std::invalid_argument("complex packing: constant is not a finite number below 2^1000");
  if (!a.ntt_form || a.n != ctx_->n() || a.num_primes > ctx_->max_data_primes()) throw std::invalid_argument("complex packing: ciphertext does not match the context");
  const std::size_t n = ctx_->n(), level = a.num_primes;
  std::vector<std::uint64_t> r(level), rv(n);
  integer_to_rns(*ctx_, std::round(c), level, r.data(), 1);
  for (std::size_t j = 0; j < level; ++j) {
    std::fill(rv.begin(), rv.end(), r[j]);
    math::mul_add_mod_vec(rv.data(), one_plus_mu_ntt_.data() + j * n, a.residue(0, j), n, ctx_->key_base()[j]);  // c0 += c (1 + mu)
  }
}

}  // namespace hecnn::ckks
