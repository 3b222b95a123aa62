// CKKS homomorphic operations on NTT-form ciphertexts. Stateless after
// construction: every method is const and safe to call from several threads at
// once; per-prime work is spread over the cores (math::parallel_for).
//
// Scale bookkeeping is exact and follows SEAL: add/sub need equal levels and
// equal scales (equal up to one part in 2^48); multiplications multiply the
// scales; rescale_to_next divides the scale by the dropped prime as a double
// (scale^2 / q_last after a multiply); mod_switch keeps the scale. Mismatched
// levels or scales throw std::invalid_argument naming both; a product whose
// scale reaches the level's modulus throws too.
// Costs at k primes (N-word passes unless stated):
//   add / sub / negate / add_plain / add_scalar   O(k N) additions
//   multiply_scalar / multiply_integer            one Shoup multiply per word
//   multiply_plain                                2 k N modular multiplies
//   multiply (2 x 2 -> 3) / square                3 reductions per word of the result
//   relinearize / rotate / conjugate              one key switch: ~k (k + 1) + 2 + 2k NTTs
//   rescale_to_next                               2 (1 + (k - 1)) NTTs
//   mod_switch_to_next                            a copy (drops the last prime)
#pragma once

#include <cstdint>
#include <vector>

#include "fhe/ckks/plaintext.h"
#include "fhe/rlwe/ciphertext.h"
#include "fhe/rlwe/params.h"

namespace hecnn::ckks {

class Evaluator {
 public:
  explicit Evaluator(rlwe::ContextPtr ctx);
  const rlwe::Context& context() const { return *ctx_; }

  // Sizes may differ (e.g. a size-3 product plus a size-2 ciphertext).
  void add_inplace(Ciphertext& a, const Ciphertext& b) const;
  void sub_inplace(Ciphertext& a, const Ciphertext& b) const;
  void negate_inplace(Ciphertext& a) const;

  void add_plain_inplace(Ciphertext& a, const Plaintext& p) const;
  void sub_plain_inplace(Ciphertext& a, const Plaintext& p) const;
  // Scale becomes a.scale * p.scale.
  void multiply_plain_inplace(Ciphertext& a, const Plaintext& p) const;

  // Adds `value` to every slot (encoded at a's scale as one integer per prime).
  void add_scalar_inplace(Ciphertext& a, double value) const;
  // Multiplies every slot by `value`, encoded as round(value * scalar_scale):
  // the scale becomes a.scale * scalar_scale (rescale afterwards as usual).
  void multiply_scalar_inplace(Ciphertext& a, double value, double scalar_scale) const;
  // Multiplies every slot by an integer; the scale is unchanged.
  void multiply_integer_inplace(Ciphertext& a, std::int64_t value) const;

  // Size-2 operands give size 3; larger sizes are convolved (size a + b - 1).
  void multiply_inplace(Ciphertext& a, const Ciphertext& b) const;
  void square_inplace(Ciphertext& a) const;
  void relinearize_inplace(Ciphertext& a, const rlwe::RelinKeys& rk) const;

  // Divides by the last prime with rounding; scale /= q_last. Throws at one prime.
  void rescale_to_next_inplace(Ciphertext& a) const;
  // Drops primes without dividing (scale unchanged), down to num_primes.
  void mod_switch_to_next_inplace(Ciphertext& a) const;
  void mod_switch_to_inplace(Ciphertext& a, std::size_t num_primes) const;
  void mod_switch_to_next_inplace(Plaintext& p) const;
  void mod_switch_to_inplace(Plaintext& p, std::size_t num_primes) const;

  // Rotates the slots left by `step` (right if negative), any step: reduced mod
  // N/2; uses the key for the step if present, otherwise composes the rotation
  // from power-of-two steps (signed binary form) whose keys are present. Throws
  // std::invalid_argument naming the step and a missing Galois element.
  void rotate_inplace(Ciphertext& a, int step, const rlwe::GaloisKeys& gk) const;
  // Rotations of one ciphertext by several steps, hoisted: the key-switching
  // decomposition is computed once and shared (keyswitch.h), so each rotation after the
  // first costs about 2 + 2k NTTs instead of k (k + 1) + 2 + 2k. Every nonzero step
  // (mod N/2) needs its own Galois key (no composition); step 0 is a copy. Throws
  // std::invalid_argument naming the first step without a key, before any work.
  std::vector<Ciphertext> rotate_hoisted(const Ciphertext& a, const std::vector<int>& steps,
                                         const rlwe::GaloisKeys& gk) const;
  // Complex conjugation of every slot (Galois element 2N - 1).
  void conjugate_inplace(Ciphertext& a, const rlwe::GaloisKeys& gk) const;

  Ciphertext add(Ciphertext a, const Ciphertext& b) const { add_inplace(a, b); return a; }
  Ciphertext sub(Ciphertext a, const Ciphertext& b) const { sub_inplace(a, b); return a; }
  Ciphertext multiply(Ciphertext a, const Ciphertext& b) const { multiply_inplace(a, b); return a; }
  Ciphertext square(Ciphertext a) const { square_inplace(a); return a; }
  Ciphertext multiply_plain(Ciphertext a, const Plaintext& p) const { multiply_plain_inplace(a, p); return a; }
  Ciphertext rescale_to_next(Ciphertext a) const { rescale_to_next_inplace(a); return a; }
  Ciphertext rotate(Ciphertext a, int step, const rlwe::GaloisKeys& gk) const { rotate_inplace(a, step, gk); return a; }

 private:
  void check(const Ciphertext& a, const char* op) const;
  void check_pair(const Ciphertext& a, const Ciphertext& b, const char* op) const;
  void check_plain(const Ciphertext& a, const Plaintext& p, const char* op, bool same_scale) const;
  void check_product_scale(double scale, std::size_t num_primes, const char* op) const;
  rlwe::ContextPtr ctx_;
};

}  // namespace hecnn::ckks
