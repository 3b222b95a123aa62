#include "fhe/ckks/evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "fhe/ckks/encoder.h"
#include "fhe/ckks/encryptor.h"
#include "fhe/ckks/presets.h"
#include "fhe/rlwe/galois.h"
#include "fhe/rlwe/keyswitch.h"
#include "fhe/rlwe/poly_ops.h"
#include "math/parallel.h"
#include "math/vec_ops.h"

namespace hecnn::ckks {

using math::u128;

namespace {

std::string fmt_scale(double s) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "2^%.10g (%.17g)", std::log2(s), s);
  return buf;
}

bool scales_equal(double a, double b) { return std::fabs(a - b) <= std::max(std::fabs(a), std::fabs(b)) * 0x1p-48; }

// Copies residues [0, new_k) of each polynomial into a dense layout with new_k primes.
void drop_primes(const rlwe::Context& ctx, Ciphertext& a, std::size_t new_k) {
  const std::size_t n = a.n, k = a.num_primes;
  for (std::size_t c = 1; c < a.size; ++c) {
    const u64* src = a.data.data() + c * k * n;
    std::copy(src, src + new_k * n, a.data.data() + c * new_k * n);
  }
  a.num_primes = new_k;
  a.data.resize(a.size * new_k * n);
  a.data.shrink_to_fit();  // release the dropped primes' memory (rlwe::Ciphertext::resize)
  ctx.stamp(a);
}

}  // namespace

Evaluator::Evaluator(rlwe::ContextPtr ctx) : ctx_(std::move(ctx)) {
  if (ctx_->scheme() != rlwe::Scheme::ckks) {
    throw std::invalid_argument(std::string("CKKS Evaluator needs CKKS parameters, got ") +
                                rlwe::scheme_name(ctx_->scheme()));
  }
}

void Evaluator::check(const Ciphertext& a, const char* op) const { check_ciphertext(*ctx_, a, op); }

void Evaluator::check_pair(const Ciphertext& a, const Ciphertext& b, const char* op) const {
  check(a, op);
  check(b, op);
  if (a.num_primes != b.num_primes) {
    throw std::invalid_argument(std::string(op) + ": operands are at different levels (" +
                                std::to_string(a.num_primes) + " primes vs " + std::to_string(b.num_primes) +
                                " primes); mod_switch the higher one down first");
  }
}

void Evaluator::check_plain(const Ciphertext& a, const Plaintext& p, const char* op, bool same_scale) const {
  check(a, op);
  check_plaintext(*ctx_, p, op);
  if (a.num_primes != p.num_primes) {
    throw std::invalid_argument(std::string(op) + ": ciphertext and plaintext are at different levels (" +
                                std::to_string(a.num_primes) + " primes vs " + std::to_string(p.num_primes) +
                                " primes); mod_switch the higher one down first");
  }
  if (same_scale && !scales_equal(a.scale, p.scale)) {
    throw std::invalid_argument(std::string(op) + ": scales differ (ciphertext " + fmt_scale(a.scale) +
                                " vs plaintext " + fmt_scale(p.scale) + ")");
  }
}

void Evaluator::check_product_scale(double scale, std::size_t k, const char* op) const {
  const double log_q = log2_modulus(*ctx_, k);
  if (!(scale > 0) || !std::isfinite(scale) || std::log2(scale) >= log_q) {
    throw std::invalid_argument(std::string(op) + ": result scale " + fmt_scale(scale) +
                                " is out of bounds for the modulus 2^" + std::to_string(log_q) + " at " +
                                std::to_string(k) + " primes; rescale first");
  }
}

void Evaluator::add_inplace(Ciphertext& a, const Ciphertext& b) const {
  check_pair(a, b, "CKKS add");
  if (!scales_equal(a.scale, b.scale)) {
    throw std::invalid_argument("CKKS add: scales differ (" + fmt_scale(a.scale) + " vs " + fmt_scale(b.scale) + ")");
  }
  if (b.size > a.size) a.resize(b.size);
  for (std::size_t c = 0; c < b.size; ++c) rlwe::add_poly(*ctx_, a.poly(c), b.poly(c), a.poly(c), a.num_primes);
}

void Evaluator::sub_inplace(Ciphertext& a, const Ciphertext& b) const {
  check_pair(a, b, "CKKS sub");
  if (!scales_equal(a.scale, b.scale)) {
    throw std::invalid_argument("CKKS sub: scales differ (" + fmt_scale(a.scale) + " vs " + fmt_scale(b.scale) + ")");
  }
  if (b.size > a.size) a.resize(b.size);
  for (std::size_t c = 0; c < b.size; ++c) rlwe::sub_poly(*ctx_, a.poly(c), b.poly(c), a.poly(c), a.num_primes);
}

void Evaluator::negate_inplace(Ciphertext& a) const {
  check(a, "CKKS negate");
  for (std::size_t c = 0; c < a.size; ++c) rlwe::negate_poly(*ctx_, a.poly(c), a.poly(c), a.num_primes);
}

void Evaluator::add_plain_inplace(Ciphertext& a, const Plaintext& p) const {
  check_plain(a, p, "CKKS add_plain", true);
  rlwe::add_poly(*ctx_, a.poly(0), p.data.data(), a.poly(0), a.num_primes);
}

void Evaluator::sub_plain_inplace(Ciphertext& a, const Plaintext& p) const {
  check_plain(a, p, "CKKS sub_plain", true);
  rlwe::sub_poly(*ctx_, a.poly(0), p.data.data(), a.poly(0), a.num_primes);
}

void Evaluator::multiply_plain_inplace(Ciphertext& a, const Plaintext& p) const {
  check_plain(a, p, "CKKS multiply_plain", false);
  const double scale = a.scale * p.scale;
  check_product_scale(scale, a.num_primes, "CKKS multiply_plain");
  const std::size_t n = a.n, k = a.num_primes, size = a.size;
  math::parallel_for(k, [&](std::size_t j) {
    const auto& q = ctx_->key_base()[j];
    for (std::size_t c = 0; c < size; ++c) math::mul_mod_vec(a.residue(c, j), p.residue(j), a.residue(c, j), n, q);
  });
  a.scale = scale;
}

void Evaluator::add_scalar_inplace(Ciphertext& a, double value) const {
  check(a, "CKKS add_scalar");
  if (!std::isfinite(value)) throw std::invalid_argument("CKKS add_scalar: value is not finite");
  const std::size_t n = a.n, k = a.num_primes;
  const double c = std::nearbyint(value * a.scale);
  if (!(std::log2(std::fabs(c) + 1) < log2_modulus(*ctx_, k) - 1)) {
    throw std::invalid_argument("CKKS add_scalar: value times the scale (" + fmt_scale(std::fabs(c)) +
                                ") is too large for the modulus at " + std::to_string(k) + " primes");
  }
  std::vector<u64> r(k);
  integer_to_rns(*ctx_, c, k, r.data(), 1);
  // A constant polynomial is the same constant at every NTT position.
  for (std::size_t j = 0; j < k; ++j) {
    const u64 q = ctx_->key_base()[j].value(), rj = r[j];
    u64* x = a.residue(0, j);
    for (std::size_t i = 0; i < n; ++i) {
      const u64 s = x[i] + rj;
      x[i] = s >= q ? s - q : s;
    }
  }
}

namespace {
void multiply_by_residues(const rlwe::Context& ctx, Ciphertext& a, const std::vector<u64>& r) {
  const std::size_t n = a.n, k = a.num_primes, size = a.size;
  math::parallel_for(k, [&](std::size_t j) {
    const auto& mod = ctx.key_base()[j];
    const u64 q = mod.value();
    const math::ShoupOperand w(r[j], mod);
    for (std::size_t c = 0; c < size; ++c) {
      u64* x = a.residue(c, j);
      for (std::size_t i = 0; i < n; ++i) x[i] = math::mul_shoup(x[i], w, q);
    }
  });
}
}  // namespace

void Evaluator::multiply_scalar_inplace(Ciphertext& a, double value, double scalar_scale) const {
  check(a, "CKKS multiply_scalar");
  if (!std::isfinite(value)) throw std::invalid_argument("CKKS multiply_scalar: value is not finite");
  if (!(scalar_scale > 0) || !std::isfinite(scalar_scale)) {
    throw std::invalid_argument("CKKS multiply_scalar: scalar scale must be positive and finite");
  }
  const std::size_t k = a.num_primes;
  const double scale = a.scale * scalar_scale;
  check_product_scale(scale, k, "CKKS multiply_scalar");
  const double c = std::nearbyint(value * scalar_scale);
  if (!(std::log2(std::fabs(c) + 1) < log2_modulus(*ctx_, k) - 1)) {
    throw std::invalid_argument("CKKS multiply_scalar: value times the scalar scale (" + fmt_scale(std::fabs(c)) +
                                ") is too large for the modulus at " + std::to_string(k) + " primes");
  }
  std::vector<u64> r(k);
  integer_to_rns(*ctx_, c, k, r.data(), 1);
  multiply_by_residues(*ctx_, a, r);
  a.scale = scale;
}

void Evaluator::multiply_integer_inplace(Ciphertext& a, std::int64_t value) const {
  check(a, "CKKS multiply_integer");
  const std::size_t k = a.num_primes;
  std::vector<u64> r(k);
  for (std::size_t j = 0; j < k; ++j) {
    const auto& q = ctx_->key_base()[j];
    const u64 mag = value < 0 ? static_cast<u64>(-(value + 1)) + 1 : static_cast<u64>(value);
    const u64 m = q.reduce(mag);
    r[j] = value < 0 ? q.neg(m) : m;
  }
  multiply_by_residues(*ctx_, a, r);
}

void Evaluator::multiply_inplace(Ciphertext& a, const Ciphertext& b) const {
  check_pair(a, b, "CKKS multiply");
  const double scale = a.scale * b.scale;
  check_product_scale(scale, a.num_primes, "CKKS multiply");
  const std::size_t n = a.n, k = a.num_primes;
  if (a.size == 2 && b.size == 2) {
    if (&a == &b) {
      square_inplace(a);
      return;
    }
    a.resize(3);
    math::parallel_for(k, [&](std::size_t j) {
      const auto& q = ctx_->key_base()[j];
      u64* a0 = a.residue(0, j);
      u64* a1 = a.residue(1, j);
      u64* a2 = a.residue(2, j);
      const u64* b0 = b.residue(0, j);
      const u64* b1 = b.residue(1, j);
      math::tensor_mod_vec(a0, a1, b0, b1, a0, a1, a2, n, q);  // in place: c0 = a0 b0, c1 = a0 b1 + a1 b0, c2 = a1 b1
    });
  } else {
    const std::size_t sa = a.size, sb = b.size, sr = sa + sb - 1;
    Ciphertext r(n, k, sr, true);
    r.parms_id = a.parms_id;
    math::parallel_for(k, [&](std::size_t j) {
      const auto& q = ctx_->key_base()[j];
      for (std::size_t x = 0; x < sa; ++x) {
        for (std::size_t y = 0; y < sb; ++y) {
          const u64* ax = a.residue(x, j);
          const u64* by = b.residue(y, j);
          u64* out = r.residue(x + y, j);
          for (std::size_t i = 0; i < n; ++i) out[i] = q.add(out[i], q.reduce(static_cast<u128>(ax[i]) * by[i]));
        }
      }
    });
    r.scale = a.scale;
    a = std::move(r);
  }
  a.scale = scale;
}

void Evaluator::square_inplace(Ciphertext& a) const {
  check(a, "CKKS square");
  if (a.size != 2) {
    const Ciphertext b = a;
    multiply_inplace(a, b);
    return;
  }
  const double scale = a.scale * a.scale;
  check_product_scale(scale, a.num_primes, "CKKS square");
  const std::size_t n = a.n, k = a.num_primes;
  a.resize(3);
  math::parallel_for(k, [&](std::size_t j) {
    const auto& q = ctx_->key_base()[j];
    u64* a0 = a.residue(0, j);
    u64* a1 = a.residue(1, j);
    u64* a2 = a.residue(2, j);
    math::square_tensor_mod_vec(a0, a1, a0, a1, a2, n, q);  // in place: a0^2, 2 a0 a1, a1^2
  });
  a.scale = scale;
}

void Evaluator::relinearize_inplace(Ciphertext& a, const rlwe::RelinKeys& rk) const {
  check(a, "CKKS relinearize");
  rlwe::relinearize_inplace(*ctx_, a, rk);
}

void Evaluator::rescale_to_next_inplace(Ciphertext& a) const {
  check(a, "CKKS rescale_to_next");
  const std::size_t k = a.num_primes;
  if (k < 2) throw std::invalid_argument("CKKS rescale_to_next: the ciphertext is at the last level (1 prime)");
  const double q_last = static_cast<double>(ctx_->key_base()[k - 1].value());
  for (std::size_t c = 0; c < a.size; ++c) rlwe::divide_and_round_by_last(*ctx_, a.poly(c), k, true);
  drop_primes(*ctx_, a, k - 1);
  a.scale = a.scale / q_last;
}

void Evaluator::mod_switch_to_next_inplace(Ciphertext& a) const {
  check(a, "CKKS mod_switch_to_next");
  if (a.num_primes < 2) throw std::invalid_argument("CKKS mod_switch_to_next: the ciphertext is at the last level");
  drop_primes(*ctx_, a, a.num_primes - 1);
}

void Evaluator::mod_switch_to_inplace(Ciphertext& a, std::size_t num_primes) const {
  check(a, "CKKS mod_switch_to");
  if (num_primes < 1 || num_primes > a.num_primes) {
    throw std::invalid_argument("CKKS mod_switch_to: cannot switch a ciphertext at " + std::to_string(a.num_primes) +
                                " primes to " + std::to_string(num_primes) + " primes (only down)");
  }
  if (num_primes < a.num_primes) drop_primes(*ctx_, a, num_primes);
}

void Evaluator::mod_switch_to_next_inplace(Plaintext& p) const {
  check_plaintext(*ctx_, p, "CKKS mod_switch_to_next");
  if (p.num_primes < 2) throw std::invalid_argument("CKKS mod_switch_to_next: the plaintext is at the last level");
  mod_switch_to_inplace(p, p.num_primes - 1);
}

void Evaluator::mod_switch_to_inplace(Plaintext& p, std::size_t num_primes) const {
  check_plaintext(*ctx_, p, "CKKS mod_switch_to");
  if (num_primes < 1 || num_primes > p.num_primes) {
    throw std::invalid_argument("CKKS mod_switch_to: cannot switch a plaintext at " + std::to_string(p.num_primes) +
                                " primes to " + std::to_string(num_primes) + " primes (only down)");
  }
  // Residues are prime-major, so dropping the last primes is a truncation.
  p.num_primes = num_primes;
  p.data.resize(num_primes * p.n);
}

void Evaluator::rotate_inplace(Ciphertext& a, int step, const rlwe::GaloisKeys& gk) const {
  check(a, "CKKS rotate");
  rlwe::rotate_inplace(*ctx_, a, step, gk);
}

std::vector<Ciphertext> Evaluator::rotate_hoisted(const Ciphertext& a, const std::vector<int>& steps,
                                                 const rlwe::GaloisKeys& gk) const {
  check(a, "CKKS rotate_hoisted");
  const std::size_t n = ctx_->n();
  const long half = long(n / 2);
  std::vector<u64> elts;
  elts.reserve(steps.size());
  for (int step : steps) {
    const long r = ((long(step) % half) + half) % half;
    const u64 g = r == 0 ? 1 : rlwe::galois_elt_from_step(int(r), n);
    if (g != 1 && !gk.has(g)) {
      throw std::invalid_argument("CKKS rotate_hoisted: no Galois key for rotation step " + std::to_string(step) +
                                  " (Galois element " + std::to_string(g) + "); hoisted rotations need one key per step");
    }
    elts.push_back(g);
  }
  return rlwe::apply_galois_hoisted(*ctx_, a, elts, gk);
}

void Evaluator::conjugate_inplace(Ciphertext& a, const rlwe::GaloisKeys& gk) const {
  check(a, "CKKS conjugate");
  rlwe::apply_galois_inplace(*ctx_, a, rlwe::galois_elt_conjugate(ctx_->n()), gk);
}

}  // namespace hecnn::ckks
