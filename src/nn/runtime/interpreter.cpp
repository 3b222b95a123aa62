#include "nn/runtime/interpreter.h"

#include "fhe/wire/core_convert.h"
#include "fhe/wire/objects.h"
#include "math/parallel.h"

#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace hecnn::nn::runtime::detail {

std::vector<EncryptedTensor> collect_outputs(const compiler::Program& prog, std::vector<EncryptedTensor>& val) {
  std::vector<EncryptedTensor> outs;
  for (std::size_t k = 0; k < prog.outputs.size(); ++k) {
    const auto t = std::size_t(prog.outputs[k].tensor);
    bool again = false;
    for (std::size_t m = k + 1; m < prog.outputs.size(); ++m) again |= std::size_t(prog.outputs[m].tensor) == t;
    outs.push_back(again ? val[t] : std::move(val[t]));
  }
  return outs;
}

void check_tensor(const compiler::Program& prog, int t, const EncryptedTensor& cts, std::size_t n) {
  if (t < 0 || std::size_t(t) >= prog.instrs.size()) throw std::invalid_argument("tensor " + std::to_string(t) + " is not in the plan");
  const compiler::Instr& ins = prog.instrs[std::size_t(t)];
  const bool ckks = prog.scheme == compiler::Scheme::ckks;
  const bool ntt = prog.scheme != compiler::Scheme::bfv;  // CKKS and BGV ciphertexts are in NTT form
  const std::string what = t == 0 ? std::string("encrypted input") : "encrypted tensor " + ins.label;
  if (cts.size() != ins.size) {
    throw std::invalid_argument(what + " has " + std::to_string(cts.size()) + " ciphertexts, the plan expects " + std::to_string(ins.size) +
                                (t == 0 ? " (one per input value)" : ""));
  }
  const std::size_t parts = t == 0 ? 2 : std::size_t(ins.parts);
  for (const auto& ct : cts) {
    if (ct.n != n || ct.num_primes != std::size_t(ins.level) || ct.size != parts || ct.ntt_form != ntt ||
        ct.data.size() != ct.n * ct.num_primes * ct.size) {
      throw std::invalid_argument(what + " does not match the plan: expected " + std::string(compiler::scheme_name(prog.scheme)) + " ciphertexts with N = " +
                                  std::to_string(n) + ", " + std::to_string(parts) + " parts at " + std::to_string(ins.level) +
                                  " data primes; got N = " + std::to_string(ct.n) + ", " + std::to_string(ct.size) + " parts at " +
                                  std::to_string(ct.num_primes));
    }
    if (ckks && !(std::fabs(ct.scale / ins.factor - 1) < 1e-9)) throw std::invalid_argument(what + " is not at the plan's scale");
  }
}

std::vector<std::vector<std::uint8_t>> seeded_objects(const rlwe::Context& ctx, const rlwe::SecretKey& sk, const EncryptedTensor& cts) {
  const wire::Context wctx(wire::to_wire(ctx.literal()));
  std::vector<std::vector<std::uint8_t>> out(cts.size());
  math::parallel_for(cts.size(), [&](std::size_t i) {
    wire::CiphertextData d = wire::to_wire(wctx, cts[i]);
    wire::reseed(wctx, ctx, sk, d);
    wire::WriteOptions w;
    w.compression = wire::Compression::zstd;  // words hold fewer bits than 64
    out[i] = wire::write_ciphertext(wctx, d, w);
  });
  return out;
}

}  // namespace hecnn::nn::runtime::detail
