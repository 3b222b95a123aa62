#include "nn/runtime/linear_kernel.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "fhe/bfv/encryptor.h"
#include "fhe/rlwe/linear_combination.h"
#include "math/parallel.h"

namespace hecnn::nn::runtime {

using u64 = std::uint64_t;

std::vector<rlwe::Ciphertext> linear_terms(const rlwe::Context& ctx, const compiler::Instr& ins,
                                           const std::vector<const std::vector<rlwe::Ciphertext>*>& srcs, std::uint64_t folded_factor) {
  if (ins.rows.size() != ins.size) throw std::invalid_argument("linear: malformed instruction");
  // Only the ciphertexts the rows read (streaming runs pass tensors with other elements absent).
  std::vector<std::vector<rlwe::ScalarTerm>> rows(ins.rows.size());
  for (std::size_t o = 0; o < ins.rows.size(); ++o) {
    rows[o].reserve(ins.rows[o].size());
    for (const auto& t : ins.rows[o]) {
      const auto& tensor = *srcs.at(std::size_t(t.input));
      if (std::size_t(t.index) >= tensor.size()) throw std::invalid_argument("linear: term reads beyond its input tensor");
      if (t.weight != 0) rows[o].push_back({&tensor[std::size_t(t.index)], t.weight});
    }
  }
  // CKKS and BGV ciphertexts are in NTT form, BFV ones in coefficient form.
  return rlwe::linear_combinations(ctx, std::size_t(ins.level + ins.rescale), ctx.scheme() != rlwe::Scheme::bfv, rows, folded_factor);
}

std::vector<rlwe::Ciphertext> linear_combine(const bfv::BfvTables& tables, const compiler::Instr& ins,
                                             const std::vector<const std::vector<rlwe::Ciphertext>*>& srcs) {
  const auto& ctx = tables.context();
  const std::size_t n = ctx.n();
  const std::size_t outs = ins.size;
  if (ins.bias.size() != outs) throw std::invalid_argument("linear: malformed instruction (bias)");
  std::vector<rlwe::Ciphertext> out = linear_terms(ctx, ins, srcs);

  // Bias: add round(Q b / t) to c0, i.e. encode the constant b and add it as a plaintext.
  const u64 t = ctx.plain_modulus().value();
  math::parallel_for(outs, [&](std::size_t o) {
    const __int128 b = ins.bias[o];
    if (b == 0) return;
    bfv::Plaintext pt;
    pt.coeffs.assign(n, 0);
    const __int128 r = b % __int128(t);
    pt.coeffs[0] = u64(r < 0 ? r + __int128(t) : r);
    bfv::add_scaled_plain(tables, pt, out[o]);
  });
  return out;
}

}  // namespace hecnn::nn::runtime
