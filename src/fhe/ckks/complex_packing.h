// Complex packing: two real messages per CKKS slot (N real values per ciphertext
// instead of N/2), as batch-mode inference uses for two images per slot.
//
// Slot s holds z = a + mu_s b with mu_s = +i for even s and -i for odd s: mu is the
// value the monomial X^(N/2) takes at slot s (the encoder's slot s is the root
// zeta^(3^s), and (zeta^(3^s))^(N/2) = i^(3^s)), so "times mu" in every slot at once
// is the monomial product, exact and free of noise.
//
// Linear maps with real coefficients keep a and b apart. A product is taken part-wise:
//   2a = z + conj(z),   2b = mu (conj(z) - z)   (mu^2 = -1)
//   product(z, z') = (2a)(2a') + mu (2b)(2b')  = 4 (a a' + mu b b')
// Costs: split, one conjugation key switch; multiply_parts, 1 (square) or 2 splits and
// 2 tensor products, the result 3-part with 4x the product of the input scales
// (relinearize and rescale as for any product). Needs the conjugation key (Galois
// element 2N - 1). All methods are const and safe to call from several threads.
#pragma once

#include <cstdint>
#include <vector>

#include "fhe/ckks/encoder.h"
#include "fhe/ckks/evaluator.h"
#include "fhe/rlwe/ciphertext.h"

namespace hecnn::ckks {

class ComplexPacking {
 public:
  explicit ComplexPacking(rlwe::ContextPtr ctx);

  // mu_s / i: +1 for even slots, -1 for odd ones.
  static double mu_sign(std::size_t slot) { return (slot & 1) ? -1.0 : 1.0; }
  // Real values v[0..] -> slot values: v[2s] + mu_s v[2s+1] (at most N values; the rest zero).
  std::vector<cplx> pack(const std::vector<double>& values) const;
  // Slot values -> the first `count` real values (count <= N).
  static std::vector<double> unpack(const std::vector<cplx>& slots, std::size_t count);

  // a *= mu (the monomial X^(N/2)), in place, at any level; NTT form. Noise-free.
  void times_mu_inplace(Ciphertext& a) const;
  // z -> re = 2a, im = 2b, both real-valued; one conjugation.
  void split(const Evaluator& ev, const rlwe::GaloisKeys& gk, const Ciphertext& z, Ciphertext& re, Ciphertext& im) const;
  // a <- 4 (a_re b_re + mu a_im b_im), the part-wise product, 3 parts (not relinearized).
  // b == nullptr squares a (one split). Scale: 4 * scale(a) * scale(b).
  void multiply_parts_inplace(const Evaluator& ev, const rlwe::GaloisKeys& gk, Ciphertext& a, const Ciphertext* b) const;
  // Adds round(c) (message units at a's scale, |c| < 2^1000; exact in RNS) to both
  // real values of every slot: c0 += c (1 + mu).
  void add_constant_both_inplace(Ciphertext& a, double c) const;

 private:
  rlwe::ContextPtr ctx_;
  std::vector<std::uint64_t> mu_ntt_;          // NTT of X^(N/2) per data prime (prime-major)
  std::vector<std::uint64_t> one_plus_mu_ntt_; // NTT of 1 + X^(N/2)
};

}  // namespace hecnn::ckks
