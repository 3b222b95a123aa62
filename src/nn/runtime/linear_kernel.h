// The hot loop of encrypted inference: out[o] = bias[o] + sum_k w_k * ct_k for
// small signed integer weights, on BFV ciphertexts in coefficient form.
//
// A scalar weight is a constant plaintext, so the product is a coefficient-wise
// multiplication by w in every RNS prime: no NTT, no plaintext encoding. Products
// are accumulated lazily in signed 64-bit words and reduced once per output
// (when sum |w| * q < 2^63; otherwise reduced per term). Outputs are processed in
// groups over cache-sized coefficient blocks, so each input block is read once per
// group instead of once per output. Uses AVX-512 when the CPU has it.
#pragma once

#include <vector>

#include "fhe/bfv/level_tables.h"
#include "nn/compiler/program.h"
#include "fhe/rlwe/ciphertext.h"

namespace hecnn::nn::runtime {

// The weighted sums alone, for either scheme and either form (a weight multiplies
// every coefficient or NTT value alike): out[o] = sum_k w_k * in[k] with the
// integer weights Term::weight (zero weights are skipped).
// srcs[i] is the tensor of ins.inputs[i], all at level ins.level + ins.rescale
// (the level before the instruction's rescales). Result: ins.size ciphertexts at
// that level with max(input parts) polynomials, in the inputs' form, scale 1.
std::vector<rlwe::Ciphertext> linear_terms(const rlwe::Context& ctx, const compiler::Instr& ins,
                                           const std::vector<const std::vector<rlwe::Ciphertext>*>& srcs);

// BFV: the weighted sums plus the bias (encoded as a constant plaintext).
std::vector<rlwe::Ciphertext> linear_combine(const bfv::BfvTables& tables, const compiler::Instr& ins,
                                             const std::vector<const std::vector<rlwe::Ciphertext>*>& srcs);

}  // namespace hecnn::nn::runtime
