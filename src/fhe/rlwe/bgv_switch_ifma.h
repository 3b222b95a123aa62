// IFMA kernels of the division by the last prime (poly_ops.cpp: divide_and_round_by_last;
// BGV's exact division and CKKS's rounded rescale), 8 coefficients at a time. Call only
// when math::cpu_has_ifma(), n is a multiple of 8 and q_last, t and the target prime are
// below 2^50. Results are the scalar path's, word for word (BGV: delta = c + k q_last with
// c and k centred).
#pragma once

#include <cstddef>
#include <cstdint>

namespace hecnn::rlwe::detail {

using u64 = std::uint64_t;

// k[i] = -c_i q_last^-1 mod t in [0, t), c_i = x[i] centred mod q_last (x reduced).
void bgv_delta_k_ifma(const u64* x, u64* k, std::size_t n, u64 q_last, u64 t, u64 q_last_inv_t);
// a[i] <- (a[i] - d[i]) q_last^-1 mod q, d = the NTT of delta mod q: see bgv_delta_mod_ifma.
void bgv_delta_mod_ifma(const u64* x, const u64* k, u64* delta, std::size_t n, u64 q_last, u64 t, u64 q);
void bgv_sub_scale_ifma(u64* a, const u64* d, std::size_t n, u64 q, u64 q_last_inv_q);
// out[i] = (x[i] mod q + add) mod q for x[i] < 2^52, add < q (the rounding's shifted last residue).
void reduce_add_ifma(const u64* x, u64* out, std::size_t n, u64 q, u64 add);

}  // namespace hecnn::rlwe::detail
