// RNS polynomial helpers shared by BFV and CKKS. A "poly" is num_primes
// residues of N words, prime-major, over the first num_primes primes of the
// Context. Work over primes is spread over cores.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fhe/rlwe/params.h"

namespace hecnn::rlwe {

void ntt_forward_poly(const Context& ctx, u64* poly, std::size_t num_primes);
void ntt_inverse_poly(const Context& ctx, u64* poly, std::size_t num_primes);

void add_poly(const Context& ctx, const u64* a, const u64* b, u64* out, std::size_t num_primes);
void sub_poly(const Context& ctx, const u64* a, const u64* b, u64* out, std::size_t num_primes);
void negate_poly(const Context& ctx, const u64* a, u64* out, std::size_t num_primes);
// a *= c for a signed integer c, every residue word (either form). Cost: k N Shoup products.
void mul_scalar_poly(const Context& ctx, u64* a, std::int64_t c, std::size_t num_primes);
// Slot-wise product (both in NTT form).
void mul_poly(const Context& ctx, const u64* a, const u64* b, u64* out, std::size_t num_primes);
// out += a * b (NTT form).
void mul_add_poly(const Context& ctx, const u64* a, const u64* b, u64* out, std::size_t num_primes);

// Replaces a (num_primes residues) by round(a / q_last) over the first
// num_primes - 1 primes, in place (the result occupies the first residues).
// ntt_form selects the form of input and output. Cost: 1 inverse NTT, and
// num_primes - 1 forward NTTs when in NTT form.
// BGV parameters: the exact (a - delta) / q_last instead (BgvDelta below), so a
// polynomial that is 0 mod t stays 0 mod t and the message is multiplied by q_last^-1 mod t.
void divide_and_round_by_last(const Context& ctx, u64* a, std::size_t num_primes, bool ntt_form);

// BGV's division by a prime q_l that keeps the message mod t (SEAL's
// mod_t_and_divide_q_last): from x's residue mod q_l (coefficient form) it gives delta mod
// any modulus r, where delta = c + k q_l with c the centered residue and k = [-c q_l^-1]_t
// centered, so delta ≡ x (mod q_l), delta ≡ 0 (mod t) and |delta| <= q_l (t + 1) / 2:
// (x - delta) / q_l is exact and ≡ x q_l^-1 (mod t). Uses per-thread scratch (one live
// BgvDelta per call site and thread). Cost: O(N) per residue.
class BgvDelta {
 public:
  // ql_inv_t: q_l^-1 mod t (Context::inv_last_mod_t).
  BgvDelta(const Context& ctx, const u64* x_last, const math::Modulus& ql, u64 ql_inv_t, std::int64_t* c_buf,
           std::int64_t* k_buf);
  // out[i] = delta_i mod r (coefficient form).
  void mod(const math::Modulus& r, u64* out) const;

 private:
  std::size_t n_;
  u64 ql_;
  const std::int64_t* c_;
  const std::int64_t* k_;
};

}  // namespace hecnn::rlwe
