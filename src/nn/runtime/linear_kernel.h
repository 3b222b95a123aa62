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

// srcs[i] is the tensor of ins.inputs[i], all at level ins.level. Result: ins.size
// ciphertexts at ins.level with max(input parts) polynomials.
std::vector<rlwe::Ciphertext> linear_combine(const bfv::BfvTables& tables, const compiler::Instr& ins,
                                             const std::vector<const std::vector<rlwe::Ciphertext>*>& srcs);

}  // namespace hecnn::nn::runtime
