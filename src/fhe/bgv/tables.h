// Per-level constants of BGV decryption, built once per Context and shared (immutable).
//
// BGV keeps the message in the low bits: the phase c0 + c1 s + ... of a ciphertext is
// cf m + t e over Q, with cf its correction factor. Decryption composes the phase centered
// in (-Q/2, Q/2] from its residues, x = sum_i y_i (Q / q_i) - v Q with y_i = [x_i (Q/q_i)^-1]_{q_i}
// and v = round(sum_i y_i / q_i), and reduces it mod t: no big integers.
#pragma once

#include <memory>
#include <vector>

#include "fhe/bfv/level_tables.h"
#include "fhe/rlwe/params.h"

namespace hecnn::bgv {

using rlwe::u64;

struct BgvLevel {
  std::size_t k = 0;
  std::vector<bfv::Fraction128> inv_q;  // 1 / q_i in 128-bit fixed point
  std::vector<u64> punctured_mod_t;     // (Q / q_i) mod t
  u64 q_mod_t = 0;
};

class BgvTables {
 public:
  // Throws std::invalid_argument unless ctx is a BGV context.
  explicit BgvTables(rlwe::ContextPtr ctx);
  const rlwe::Context& context() const { return *ctx_; }
  const BgvLevel& level(std::size_t num_primes) const;

 private:
  rlwe::ContextPtr ctx_;
  std::vector<BgvLevel> levels_;
};

using BgvTablesPtr = std::shared_ptr<const BgvTables>;
BgvTablesPtr make_tables(rlwe::ContextPtr ctx);

}  // namespace hecnn::bgv
