// Integer linear combinations of ciphertexts: out[o] = sum_t w_t * ct_t for signed 64-bit
// weights, the dense / convolution / pooling kernel of batch-mode inference, for either
// scheme and either form (a scalar multiplies every coefficient or NTT value alike, so no
// plaintext is encoded and no NTT is run). One implementation: bfv::Evaluator::dot_scalar,
// the CKKS runtime and the BFV runtime call it.
//
// Cost: one multiply-add per weight per coefficient per prime per polynomial. Products
// accumulate lazily in signed 64-bit words (folded back to [0, q) before the sum of |w| * q
// could pass 2^63; weights too large for that are reduced per product); outputs are grouped
// 32 at a time over 1024-coefficient blocks so that each input block is read once per group
// (rows that read the same inputs should be adjacent or share their first input); AVX-512
// when the CPU has it; spread over the cores.
#pragma once

#include <cstdint>
#include <vector>

#include "fhe/rlwe/ciphertext.h"
#include "fhe/rlwe/params.h"

namespace hecnn::rlwe {

struct ScalarTerm {
  const Ciphertext* ct = nullptr;
  std::int64_t weight = 0;  // zero terms are skipped
};

// rows[o] are the terms of output o. Every ciphertext must be made under ctx at `num_primes`
// primes (parms_id checked) and in `ntt_form`; outputs have the largest input size (at
// least 2 polynomials), that level and form, scale 1 and the inputs' common BGV correction
// factor (inputs with different factors are refused). Throws std::invalid_argument otherwise.
// folded_factor != 0 (BGV): the caller has folded the inputs' factors into the weights
// (w_t cf_t = w'_t folded_factor mod t); the inputs' factors are then not compared and the
// outputs carry folded_factor.
std::vector<Ciphertext> linear_combinations(const Context& ctx, std::size_t num_primes, bool ntt_form,
                                            const std::vector<std::vector<ScalarTerm>>& rows, std::uint64_t folded_factor = 0);

}  // namespace hecnn::rlwe
