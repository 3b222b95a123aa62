// BGV homomorphic operations (SEAL 4.x semantics). Ciphertexts are in NTT form and carry a
// correction factor cf (rlwe::Ciphertext::correction_factor): the phase is cf m + t e.
// Stateless after construction: every method is const and safe to call from several
// threads at once; each spreads its independent per-prime work over the cores.
//
// Operands must share N and data level; a mismatch throws std::invalid_argument naming
// both levels. Additions of operands with different correction factors first multiply
// each by a small scalar (about sqrt(t), found by rational reconstruction) so the factors
// agree, as SEAL does; that costs noise, so a plan keeps factors equal where it can.
// Costs at k data primes:
//   add / sub / negate / scalar ops / multiply_plain_ntt   O(k N), no NTT
//   add_plain / multiply_plain                             k NTTs (the plaintext's lift)
//   multiply                                               4 k N products (NTT form: no base extension)
//   relinearize / rotate                                   one key switch: ~k (k + 1) + 2 + 2k NTTs
//   mod_switch_to_next                                     2 (1 inverse + (k - 1) forward) NTTs
#pragma once

#include <cstdint>
#include <vector>

#include "fhe/bgv/encryptor.h"
#include "fhe/bgv/tables.h"
#include "fhe/rlwe/ciphertext.h"

namespace hecnn::bgv {

// A plaintext lifted to k primes and transformed (SEAL's transform_to_ntt), for repeated
// multiply_plain_ntt at that level.
struct PlainNtt {
  std::size_t num_primes = 0;
  std::vector<u64> data;
};

class Evaluator {
 public:
  explicit Evaluator(BgvTablesPtr tables);

  void add_inplace(Ciphertext& a, const Ciphertext& b) const;
  void sub_inplace(Ciphertext& a, const Ciphertext& b) const;
  void negate_inplace(Ciphertext& a) const;
  void add_plain_inplace(Ciphertext& a, const Plaintext& p) const;
  void sub_plain_inplace(Ciphertext& a, const Plaintext& p) const;
  void multiply_plain_inplace(Ciphertext& a, const Plaintext& p) const;
  PlainNtt to_ntt(const Plaintext& p, std::size_t num_primes) const;
  void multiply_plain_ntt_inplace(Ciphertext& a, const PlainNtt& p) const;
  // Every slot by the same integer c (|c| < t/2 keeps noise growth |c|): O(k N).
  void multiply_scalar_inplace(Ciphertext& a, std::int64_t c) const;
  void add_scalar_inplace(Ciphertext& a, std::int64_t c) const;
  // sum_i weights[i] * cts[i] (rlwe::linear_combinations); inputs share level, size and
  // correction factor.
  Ciphertext dot_scalar(const std::vector<const Ciphertext*>& cts, const std::vector<std::int64_t>& weights) const;
  // Any sizes; the result has size a.size + b.size - 1 and factor cf_a cf_b mod t.
  void multiply_inplace(Ciphertext& a, const Ciphertext& b) const;
  void square_inplace(Ciphertext& a) const;
  void relinearize_inplace(Ciphertext& a, const rlwe::RelinKeys& rk) const;
  // Rotates both rows of the 2 x N/2 slot matrix left by `step` (right if negative), with
  // the step's own key or as a product of power-of-two rotations.
  void rotate_rows_inplace(Ciphertext& a, int step, const rlwe::GaloisKeys& gk) const;
  void rotate_columns_inplace(Ciphertext& a, const rlwe::GaloisKeys& gk) const;
  // Rotations of one ciphertext by many steps with one key-switch decomposition (each step
  // needs its own key; 0 gives a copy).
  std::vector<Ciphertext> rotate_rows_hoisted(const Ciphertext& a, const std::vector<int>& steps,
                                              const rlwe::GaloisKeys& gk) const;
  // Drops the last data prime exactly (the noise shrinks by about q_last; cf *= q_last^-1
  // mod t). Throws at the lowest level.
  void mod_switch_to_next_inplace(Ciphertext& a) const;
  void mod_switch_to_inplace(Ciphertext& a, std::size_t num_primes) const;
  // Multiplies a and b by small scalars so that their correction factors agree (no-op when
  // they already do).
  void balance_correction_factors(Ciphertext& a, Ciphertext& b) const;

  Ciphertext add(Ciphertext a, const Ciphertext& b) const { add_inplace(a, b); return a; }
  Ciphertext sub(Ciphertext a, const Ciphertext& b) const { sub_inplace(a, b); return a; }
  Ciphertext multiply(Ciphertext a, const Ciphertext& b) const { multiply_inplace(a, b); return a; }
  Ciphertext multiply_plain(Ciphertext a, const Plaintext& p) const { multiply_plain_inplace(a, p); return a; }

  const BgvTables& tables() const { return *tables_; }

 private:
  void check(const Ciphertext& a, const char* op) const;
  void check_pair(const Ciphertext& a, const Ciphertext& b, const char* op) const;
  void add_or_sub(Ciphertext& a, const Ciphertext& b, bool subtract, const char* op) const;
  void add_plain_impl(Ciphertext& a, const Plaintext& p, bool subtract, const char* op) const;
  BgvTablesPtr tables_;
};

// Small (e1, e2), |e1|, |e2| <= about sqrt(t), with e1 ≡ r e2 (mod t) (rational
// reconstruction of r); e2 > 0. Throws std::invalid_argument if r is 0 mod t.
std::pair<std::int64_t, std::int64_t> small_ratio(u64 r, const math::Modulus& t);

}  // namespace hecnn::bgv
