// What the HE backends (bfv_backend, ckks_backend) share: the tensor type, and the
// names of the interpreter loop's timing and progress types (compiler/executor.h,
// which runs every backend).
#pragma once

#include <string>
#include <vector>

#include "fhe/rlwe/ciphertext.h"
#include "fhe/rlwe/params.h"
#include "nn/compiler/executor.h"
#include "nn/compiler/program.h"

namespace hecnn::nn::runtime {

using EncryptedTensor = std::vector<rlwe::Ciphertext>;
using compiler::LayerTiming;
using compiler::Progress;
using compiler::layer_of;

namespace detail {

// The program's outputs, moved out of `val` (copied where one tensor is listed twice).
std::vector<EncryptedTensor> collect_outputs(const compiler::Program& prog, std::vector<EncryptedTensor>& val);

// Checks that `cts` is what tensor `t` of the program holds: its element count and, per
// ciphertext, N, level, part count, NTT form (CKKS: NTT form and the planned scale).
// Throws std::invalid_argument naming the tensor (what a server does before any work on
// received ciphertexts).
void check_tensor(const compiler::Program& prog, int t, const EncryptedTensor& cts, std::size_t n);

// Size-2 ciphertexts as seeded SEAL 4.x objects under `ctx` (c1 replaced by the expansion
// of a fresh 64-byte seed, c0 adjusted with the secret key so that c0 + c1 s is unchanged),
// zstd-compressed: about a third of the plain objects' bytes. What clients upload. Spreads
// over the cores.
std::vector<std::vector<std::uint8_t>> seeded_objects(const rlwe::Context& ctx, const rlwe::SecretKey& sk, const EncryptedTensor& cts);

}  // namespace detail
}  // namespace hecnn::nn::runtime
