// A program's linear instruction on ciphertexts: out[o] = bias[o] + sum_k w_k * ct_k.
// The kernel itself is rlwe::linear_combinations (fhe/rlwe/linear_combination.h); this
// maps an instruction's rows onto it and adds BFV biases.
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
// folded_factor: see rlwe::linear_combinations (BGV, weights already folded).
std::vector<rlwe::Ciphertext> linear_terms(const rlwe::Context& ctx, const compiler::Instr& ins,
                                           const std::vector<const std::vector<rlwe::Ciphertext>*>& srcs, std::uint64_t folded_factor = 0);

// BFV: the weighted sums plus the bias (encoded as a constant plaintext).
std::vector<rlwe::Ciphertext> linear_combine(const bfv::BfvTables& tables, const compiler::Instr& ins,
                                             const std::vector<const std::vector<rlwe::Ciphertext>*>& srcs);

}  // namespace hecnn::nn::runtime
