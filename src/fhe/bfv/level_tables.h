// Per-level constants for BFV's scalings between mod Q and mod t, built once
// per Context and shared (immutable) by the encryptor, decryptor and evaluator.
//
// Fractions are kept as 128-bit fixed point (hi + lo / 2^64) so the rounding in
// decryption and multiplication needs no floating point and no big integers.
#pragma once

#include <memory>
#include <vector>

#include "fhe/rlwe/params.h"
#include "math/ntt.h"
#include "math/rns.h"

namespace hecnn::bfv {

using rlwe::u64;

// x / d for 0 <= x < d as a 128-bit fixed-point fraction.
struct Fraction128 {
  u64 hi = 0, lo = 0;
  static Fraction128 of(u64 x, u64 d);
};

struct LevelTables {
  std::size_t k = 0;                 // data primes at this level
  // Encryption: round(Q m / t) = delta * m + floor((q_mod_t * m + (t + 1) / 2) / t).
  std::vector<u64> delta;            // floor(Q / t) mod q_i
  u64 q_mod_t = 0;
  // Decryption: m = sum_i y_i omega_i + round(sum_i y_i theta_i) mod t, with
  // y_i = [x_i (Q/q_i)^-1]_{q_i} and t / q_i = omega_i + theta_i.
  std::vector<u64> dec_omega;        // floor(t / q_i) mod t
  std::vector<Fraction128> dec_theta;

  // Multiplication (HPS): auxiliary base P with P > 4 t N Q.
  math::RnsBase aux;
  std::vector<math::NttTables> aux_ntt;
  std::unique_ptr<math::BaseConverter> q_to_aux, aux_to_q;
  std::vector<math::ShoupOperand> mul_y;   // [(Q/q_i)^-1 P^-1]_{q_i}
  std::vector<Fraction128> mul_theta;      // frac(t P / q_i)
  std::vector<u64> mul_omega;              // [j * k + i] = floor(t P / q_i) mod p_j
  std::vector<math::ShoupOperand> mul_t_over_q;  // [t Q^-1]_{p_j}

  // AVX-512 IFMA variants (all primes of Q and P below 2^50, k <= 16): 52-bit
  // Shoup quotients of the constants above, the fractions in 2 x 52-bit fixed
  // point, and Barrett factors floor(2^(L+51) / m) for every modulus of Q u P.
  bool ifma = false;
  std::vector<u64> mul_y_q52, mul_omega_q52, mul_t_over_q_q52;
  std::vector<u64> mul_theta52_hi, mul_theta52_lo;
  std::vector<u64> barrett52;  // [r], r over Q then P
};

class BfvTables {
 public:
  explicit BfvTables(rlwe::ContextPtr ctx);
  const rlwe::Context& context() const { return *ctx_; }
  const LevelTables& level(std::size_t num_primes) const;

 private:
  rlwe::ContextPtr ctx_;
  std::vector<LevelTables> levels_;
};

using BfvTablesPtr = std::shared_ptr<const BfvTables>;
BfvTablesPtr make_tables(rlwe::ContextPtr ctx);

}  // namespace hecnn::bfv
