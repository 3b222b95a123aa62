#include "nn/runtime/ckks_backend.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>


#include "fhe/ckks/complex_packing.h"
#include "fhe/rlwe/galois.h"
#include "nn/compiler/executor.h"
#include "math/ntt.h"
#include "math/vec_ops.h"
#include "math/parallel.h"
#include "nn/compiler/schedule.h"
#include "nn/runtime/linear_kernel.h"

namespace hecnn::nn::runtime {

using compiler::Instr;
using compiler::OpKind;
using compiler::Program;

namespace {

rlwe::ContextPtr make_context(const compiler::CkksParams& p) {
  rlwe::ParamsLiteral lit{rlwe::Scheme::ckks, p.poly_degree, p.coeff_modulus, 0, rlwe::Security::tc128};
  return rlwe::Context::create(lit);
}

void check_program(const Program& prog) {
  if (prog.scheme != compiler::Scheme::ckks) throw std::invalid_argument("CKKS backend: the program was compiled for BFV");
  if (prog.ckks.poly_degree == 0 || prog.ckks.coeff_modulus.size() < 2) throw std::invalid_argument("CKKS backend: program has no CKKS parameters");
}

// From the instructions, or from the keys the plan lists (a public plan, compiler/parts.h,
// has no instructions to scan).
bool lists_key(const Program& prog, const char* prefix) {
  for (const auto& k : prog.keys)
    if (k.rfind(prefix, 0) == 0) return true;
  return false;
}

bool needs_conjugation(const Program& prog) {
  if (!prog.ckks.complex_packing) return false;
  for (const auto& ins : prog.instrs)
    if (ins.op == OpKind::square || ins.op == OpKind::multiply) return true;
  return lists_key(prog, "conjugation");
}

bool needs_relin(const Program& prog) {
  for (const auto& ins : prog.instrs)
    if (ins.op == OpKind::relinearize) return true;
  return lists_key(prog, "relin");
}


}  // namespace

// ---- client ----------------------------------------------------------------

CkksClient::CkksClient(const Program& prog, math::Prng& prng) : prog_(prog), prng_(prng) {
  check_program(prog);
  ctx_ = make_context(prog.ckks);
  keygen_ = std::make_unique<rlwe::KeyGenerator>(ctx_, prng);
  pk_ = keygen_->create_public_key();
  if (needs_relin(prog)) rk_ = keygen_->create_relin_keys();
  if (needs_conjugation(prog)) gk_ = keygen_->create_galois_keys({rlwe::galois_elt_conjugate(ctx_->n())});
  encoder_ = std::make_unique<ckks::Encoder>(ctx_);
  encryptor_ = std::make_unique<ckks::Encryptor>(ctx_, pk_);
  decryptor_ = std::make_unique<ckks::Decryptor>(ctx_, keygen_->secret_key());
  packing_ = std::make_unique<ckks::ComplexPacking>(ctx_);
}

CkksClient::~CkksClient() = default;

std::size_t CkksClient::images_per_ciphertext() const { return prog_.ckks.images_per_ciphertext(); }

CkksEvaluationKeys CkksClient::evaluation_keys() const { return {ctx_, rk_, gk_}; }


std::vector<std::vector<std::uint8_t>> CkksClient::serialize_seeded(const EncryptedTensor& cts) const {
  return detail::seeded_objects(*ctx_, keygen_->secret_key(), cts);
}

EncryptedTensor CkksClient::encrypt(const std::vector<std::vector<std::int64_t>>& inputs) const {
  const std::size_t cap = images_per_ciphertext(), slots = ctx_->n() / 2;
  const bool cplx = prog_.ckks.complex_packing;
  for (const auto& v : inputs)
    if (v.size() > cap) throw std::invalid_argument("CKKS encrypt: " + std::to_string(v.size()) + " images, only " + std::to_string(cap) + " fit");
  const std::size_t level = std::size_t(prog_.instrs[0].level);
  EncryptedTensor out(inputs.size());
  // Element e is encrypted with stream e of a key drawn from the client's generator:
  // reproducible under a test generator, whatever the thread schedule.
  const math::PrngStreams streams = [&] {
    std::lock_guard<std::mutex> lock(prng_mu_);
    return math::PrngStreams(prng_);
  }();
  math::parallel_for(inputs.size(), [&](std::size_t e) {
    const auto& v = inputs[e];
    std::vector<ckks::cplx> z;
    if (cplx) {
      z = packing_->pack(std::vector<double>(v.begin(), v.end()));
    } else {
      z.assign(slots, 0.0);
      for (std::size_t i = 0; i < v.size(); ++i) z[i] = double(v[i]);
    }
    auto prng = streams.stream(e);
    out[e] = encryptor_->encrypt(encoder_->encode(z, prog_.ckks.input_factor, level), prng);
  });
  return out;
}

std::vector<std::vector<double>> CkksClient::decrypt(const EncryptedTensor& cts, std::size_t images) const {
  const bool cplx = prog_.ckks.complex_packing;
  images = std::min(images, images_per_ciphertext());
  std::vector<std::vector<double>> out(cts.size());
  math::parallel_for(cts.size(), [&](std::size_t e) {
    ckks::check_ciphertext(*ctx_, cts[e], "CKKS decrypt");
    const auto z = encoder_->decode_complex(decryptor_->decrypt(cts[e]));
    std::vector<double> v;
    if (cplx) {
      v = ckks::ComplexPacking::unpack(z, images);
    } else {
      v.resize(images);
      for (std::size_t i = 0; i < images; ++i) v[i] = z[i].real();
    }
    out[e] = std::move(v);
  });
  return out;
}

// ---- server ----------------------------------------------------------------

CkksServer::CkksServer(const Program& prog, CkksEvaluationKeys keys) : prog_(prog), keys_(std::move(keys)) {
  check_program(prog);
  const auto& p = prog.ckks;
  const auto& ctx = keys_.context;
  if (!ctx || ctx->scheme() != rlwe::Scheme::ckks || ctx->n() != p.poly_degree || ctx->literal().coeff_modulus != p.coeff_modulus) {
    throw std::invalid_argument("evaluation keys do not match the program's CKKS parameters (N or coefficient modulus)");
  }
  const std::size_t k = p.coeff_modulus.size();
  auto check_key = [&](const rlwe::KSwitchKey& key, const char* what) {
    if (key.parts.size() != k - 1) throw std::invalid_argument(std::string(what) + " are missing or do not match the parameters");
    for (const auto& part : key.parts)
      if (part.n != p.poly_degree || part.num_primes != k || part.size != 2 || part.data.size() != part.n * k * 2) {
        throw std::invalid_argument(std::string(what) + " do not match the parameters");
      }
  };
  if (needs_relin(prog)) check_key(keys_.relin.key, "relinearization keys");
  if (needs_conjugation(prog)) {
    const auto it = keys_.galois.keys.find(rlwe::galois_elt_conjugate(p.poly_degree));
    if (it == keys_.galois.keys.end()) throw std::invalid_argument("the conjugation key (Galois element 2N-1) is missing");
    check_key(it->second, "the conjugation key");
  }
  eval_ = std::make_unique<ckks::Evaluator>(ctx);
  packing_ = std::make_unique<ckks::ComplexPacking>(ctx);
}

CkksServer::~CkksServer() = default;

std::vector<EncryptedTensor> CkksServer::evaluate(EncryptedTensor input, std::vector<LayerTiming>* timings,
                                                  const Progress& progress) const {
  return run(std::move(input), false, timings, progress);
}

std::vector<EncryptedTensor> CkksServer::evaluate_all(EncryptedTensor input) const { return run(std::move(input), true, nullptr, {}); }

namespace {

// The CKKS backend of the interpreter loop (compiler/executor.h). A tensor's
// ciphertexts hold integer * factor; the exact scale before an instruction's
// rescales is its factor times the primes they drop.
struct CkksOps {
  using Value = rlwe::Ciphertext;
  static constexpr bool kHasLevels = true;
  static constexpr bool kParallel = true;
  const rlwe::Context& ctx;
  const ckks::Evaluator& ev;
  const ckks::ComplexPacking& packing;
  const CkksEvaluationKeys& keys;
  bool cplx;

  double factor_before(const Instr& ins) const {
    double f = ins.factor;
    for (int k = 0; k < ins.rescale; ++k) f *= double(ctx.key_base()[std::size_t(ins.level + k)].value());
    return f;
  }
  void align(Value& x, std::size_t level) const {
    if (x.num_primes > level) ev.mod_switch_to_inplace(x, level);
  }
  std::vector<Value> linear(const Instr& ins, const std::vector<const std::vector<Value>*>& srcs) const {
    if (ins.bias_real.size() != ins.size) throw std::invalid_argument("CKKS linear: malformed instruction (bias)");
    std::vector<Value> y = linear_terms(ctx, ins, srcs);
    // Bias: the constant round(b * factor) in every slot (in both halves with complex packing).
    const double f = factor_before(ins);
    math::parallel_for(y.size(), [&](std::size_t k) {
      const double b = ins.bias_real[k];
      if (b == 0) return;
      if (cplx) {
        packing.add_constant_both_inplace(y[k], b * f);
        return;
      }
      std::vector<std::uint64_t> r(y[k].num_primes);
      ckks::integer_to_rns(ctx, std::round(b * f), r.size(), r.data(), 1);
      for (std::size_t j = 0; j < r.size(); ++j) {
        const math::Modulus& q = ctx.key_base()[j];
        std::uint64_t* c0 = y[k].residue(0, j);
        for (std::size_t m = 0; m < ctx.n(); ++m) c0[m] = q.add(c0[m], r[j]);
      }
    });
    return y;
  }
  void product(const Instr&, std::vector<Value>& a, const std::vector<Value>* b) const {
    math::parallel_for(a.size(), [&](std::size_t k) {
      const Value* bk = b ? &(*b)[k] : nullptr;
      if (cplx) packing.multiply_parts_inplace(ev, keys.galois, a[k], bk);
      else if (bk) ev.multiply_inplace(a[k], *bk);
      else ev.square_inplace(a[k]);
    });
  }
  void relinearize(const Instr&, std::vector<Value>& a) const {
    math::parallel_for(a.size(), [&](std::size_t k) {
      if (a[k].size == 3) ev.relinearize_inplace(a[k], keys.relin);
    });
  }
  // The exact factor before the rescales, then the rescales (each divides the scale by its prime).
  void finish(const Instr& ins, std::vector<Value>& y) const {
    const double f = factor_before(ins);
    math::parallel_for(y.size(), [&](std::size_t k) {
      y[k].scale = f;
      for (int r = 0; r < ins.rescale; ++r) ev.rescale_to_next_inplace(y[k]);
      y[k].scale = ins.factor;
    });
  }
};

}  // namespace

std::vector<EncryptedTensor> CkksServer::run(EncryptedTensor input, bool keep_all, std::vector<LayerTiming>* timings,
                                             const Progress& progress) const {
  const auto& ctx = *keys_.context;
  const std::size_t n = ctx.n();
  const Instr& in0 = prog_.instrs[0];
  if (input.size() != in0.size) {
    throw std::invalid_argument("encrypted input has " + std::to_string(input.size()) + " ciphertexts, the program expects " +
                                std::to_string(in0.size) + " (one per input value)");
  }
  for (const auto& ct : input) {
    if (ct.n != n || ct.num_primes != std::size_t(in0.level) || ct.size != 2 || !ct.ntt_form ||
        ct.data.size() != ct.n * ct.num_primes * ct.size || !(std::fabs(ct.scale / in0.factor - 1) < 1e-9)) {
      throw std::invalid_argument("encrypted input does not match the parameters: expected fresh CKKS ciphertexts with N = " +
                                  std::to_string(n) + " at " + std::to_string(in0.level) + " data primes and the program's input scale");
    }
  }
  const CkksOps ops{ctx, *eval_, *packing_, keys_, prog_.ckks.complex_packing};
  const compiler::Schedule sch = compiler::make_schedule(prog_, streaming_, keep_all);
  auto val = compiler::execute(prog_, sch, ops, std::move(input), {keep_all, timings, progress});
  if (keep_all) return val;
  return detail::collect_outputs(prog_, val);
}

std::vector<EncryptedTensor> CkksServer::evaluate_part(const compiler::ProgramPart& part, std::vector<std::pair<int, EncryptedTensor>> given,
                                                       std::vector<LayerTiming>* timings, const Progress& progress) const {
  const auto& ctx = *keys_.context;
  for (const auto& [t, cts] : given) detail::check_tensor(prog_, t, cts, ctx.n());
  const CkksOps ops{ctx, *eval_, *packing_, keys_, prog_.ckks.complex_packing};
  const compiler::Schedule sch = compiler::restrict_schedule(compiler::make_schedule(prog_, streaming_, false), part);
  auto val = compiler::execute_given(prog_, sch, ops, std::move(given), {false, timings, progress});
  std::vector<EncryptedTensor> outs;
  for (int k : part.outputs) outs.push_back(val[std::size_t(prog_.outputs[std::size_t(k)].tensor)]);
  return outs;
}

void CkksServer::add_values(EncryptedTensor& t, const std::vector<std::vector<double>>& values) const {
  if (values.size() != t.size()) throw std::invalid_argument("add_values: one value vector per element of the tensor");
  const ckks::Encoder enc(keys_.context);
  for (std::size_t e = 0; e < t.size(); ++e) {
    if (values[e].size() > prog_.ckks.images_per_ciphertext()) throw std::invalid_argument("add_values: more values than images per ciphertext");
    std::vector<ckks::cplx> z;
    if (prog_.ckks.complex_packing) z = packing_->pack(values[e]);
    else z.assign(values[e].begin(), values[e].end());
    eval_->add_plain_inplace(t[e], enc.encode(z, t[e].scale, t[e].num_primes));
  }
}

}  // namespace hecnn::nn::runtime
