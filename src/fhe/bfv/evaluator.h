// BFV homomorphic operations. Stateless after construction: every method is
// const and safe to call from several threads at once; each spreads its
// independent per-prime work over the cores.
//
// Operands must share N and data level (prime count); a mismatch throws
// std::invalid_argument naming both levels. Costs at k data primes:
//   add / sub / negate / add_plain   O(k N)
//   multiply_plain                   ~5k NTTs (plaintext lift + 2 ct polys there and back)
//   multiply (HPS, aux base of k' ~ k+1 primes)  ~7 (k + k') NTTs + 2 base conversions
//   relinearize / rotate             one key switch: ~k (k + 1) + 2 (k + 1) NTTs
//   mod_switch_to_next               2 k NTT-free passes (coefficient form)
#pragma once

#include <cstdint>
#include <vector>

#include "fhe/bfv/level_tables.h"
#include "fhe/bfv/plaintext.h"
#include "fhe/rlwe/ciphertext.h"

namespace hecnn::bfv {

class Evaluator {
 public:
  explicit Evaluator(BfvTablesPtr tables);

  void add_inplace(Ciphertext& a, const Ciphertext& b) const;
  void sub_inplace(Ciphertext& a, const Ciphertext& b) const;
  void negate_inplace(Ciphertext& a) const;
  void add_plain_inplace(Ciphertext& a, const Plaintext& p) const;
  void sub_plain_inplace(Ciphertext& a, const Plaintext& p) const;
  void multiply_plain_inplace(Ciphertext& a, const Plaintext& p) const;
  // Scalar operations (every slot by the same integer, |c| < t/2): no NTT, O(k N).
  // The scalar is the constant plaintext polynomial c, so noise grows by |c|.
  void multiply_scalar_inplace(Ciphertext& a, std::int64_t c) const;
  void add_scalar_inplace(Ciphertext& a, std::int64_t c) const;
  // sum_i weights[i] * cts[i] (rlwe::linear_combinations, the dense / convolution kernel
  // of batch-mode inference). Zero weights are skipped. All ciphertexts share level and
  // size; throws otherwise.
  Ciphertext dot_scalar(const std::vector<const Ciphertext*>& cts, const std::vector<std::int64_t>& weights) const;
  // Size-2 operands; the result has size 3 (relinearize to get back to 2).
  void multiply_inplace(Ciphertext& a, const Ciphertext& b) const;
  void square_inplace(Ciphertext& a) const;
  void relinearize_inplace(Ciphertext& a, const rlwe::RelinKeys& rk) const;
  // Rotates both rows of the 2 x N/2 slot matrix left by `step` (right if negative),
  // with the step's own key or, failing that, as a product of power-of-two rotations.
  void rotate_rows_inplace(Ciphertext& a, int step, const rlwe::GaloisKeys& gk) const;
  // Swaps the two rows.
  void rotate_columns_inplace(Ciphertext& a, const rlwe::GaloisKeys& gk) const;
  // Drops the last data prime (round(c / q_last)). Throws at the lowest level.
  void mod_switch_to_next_inplace(Ciphertext& a) const;

  Ciphertext add(Ciphertext a, const Ciphertext& b) const { add_inplace(a, b); return a; }
  Ciphertext sub(Ciphertext a, const Ciphertext& b) const { sub_inplace(a, b); return a; }
  Ciphertext multiply(Ciphertext a, const Ciphertext& b) const { multiply_inplace(a, b); return a; }
  Ciphertext multiply_plain(Ciphertext a, const Plaintext& p) const { multiply_plain_inplace(a, p); return a; }

  const BfvTables& tables() const { return *tables_; }

 private:
  void check(const Ciphertext& a, const char* op) const;
  void check_pair(const Ciphertext& a, const Ciphertext& b, const char* op) const;
  BfvTablesPtr tables_;
};

}  // namespace hecnn::bfv
