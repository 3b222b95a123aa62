#include "nn/runtime/bfv_backend.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>


#include "math/modulus.h"
#include "math/parallel.h"
#include "nn/compiler/executor.h"
#include "nn/compiler/schedule.h"
#include "nn/runtime/linear_kernel.h"

namespace hecnn::nn::runtime {

using compiler::Instr;
using compiler::OpKind;
using compiler::Program;

// ---- client ----------------------------------------------------------------

struct BfvClient::Residue {
  rlwe::ContextPtr ctx;
  std::unique_ptr<rlwe::KeyGenerator> keygen;
  rlwe::PublicKey pk;
  rlwe::RelinKeys rk;
  std::unique_ptr<bfv::BatchEncoder> encoder;
  // BFV
  bfv::BfvTablesPtr tables;
  std::unique_ptr<bfv::Encryptor> encryptor;
  std::unique_ptr<bfv::Decryptor> decryptor;
  // BGV
  bgv::BgvTablesPtr bgv_tables;
  std::unique_ptr<bgv::Encryptor> bgv_encryptor;
  std::unique_ptr<bgv::Decryptor> bgv_decryptor;
};

BfvClient::BfvClient(const compiler::BfvParams& params, bool need_relin, math::Prng& prng, compiler::Scheme scheme)
    : scheme_(scheme), prng_(prng) {
  if (!compiler::integer_scheme(scheme)) throw std::invalid_argument("BFV/BGV client: the program's scheme is CKKS");
  const bool bgv = scheme == compiler::Scheme::bgv;
  if (params.plain_moduli.empty()) throw std::invalid_argument("BFV/BGV client: no plaintext modulus");
  for (auto t : params.plain_moduli) {
    auto r = std::make_unique<Residue>();
    rlwe::ParamsLiteral lit{bgv ? rlwe::Scheme::bgv : rlwe::Scheme::bfv, params.poly_degree, params.coeff_modulus, t,
                            rlwe::Security::tc128};
    r->ctx = rlwe::Context::create(lit);
    r->keygen = std::make_unique<rlwe::KeyGenerator>(r->ctx, prng_);
    r->pk = r->keygen->create_public_key();
    if (need_relin) r->rk = r->keygen->create_relin_keys();
    r->encoder = std::make_unique<bfv::BatchEncoder>(r->ctx);
    if (bgv) {
      r->bgv_tables = bgv::make_tables(r->ctx);
      r->bgv_encryptor = std::make_unique<bgv::Encryptor>(r->bgv_tables, r->pk);
      r->bgv_decryptor = std::make_unique<bgv::Decryptor>(r->bgv_tables, r->keygen->secret_key());
    } else {
      r->tables = bfv::make_tables(r->ctx);
      r->encryptor = std::make_unique<bfv::Encryptor>(r->tables, r->pk);
      r->decryptor = std::make_unique<bfv::Decryptor>(r->tables, r->keygen->secret_key());
    }
    res_.push_back(std::move(r));
  }
}

BfvClient::~BfvClient() = default;

std::size_t BfvClient::residues() const { return res_.size(); }
std::size_t BfvClient::slot_count() const { return res_[0]->ctx->n(); }
std::uint64_t BfvClient::plain_modulus(std::size_t r) const { return res_.at(r)->ctx->plain_modulus().value(); }

BfvEvaluationKeys BfvClient::evaluation_keys() const {
  BfvEvaluationKeys k;
  for (const auto& r : res_) {
    k.contexts.push_back(r->ctx);
    k.relin.push_back(r->rk);
  }
  return k;
}


std::vector<std::vector<std::uint8_t>> BfvClient::serialize_seeded(std::size_t residue, const EncryptedTensor& cts) const {
  const Residue& r = *res_.at(residue);
  return detail::seeded_objects(*r.ctx, r.keygen->secret_key(), cts);
}

EncryptedTensor BfvClient::encrypt(std::size_t residue, const std::vector<std::vector<std::int64_t>>& inputs, int level) const {
  const Residue& r = *res_.at(residue);
  const std::size_t n = r.ctx->n();
  const std::uint64_t t = r.ctx->plain_modulus().value();
  for (const auto& v : inputs)
    if (v.size() > n) throw std::invalid_argument(std::string(r.bgv_encryptor ? "BGV" : "BFV") + " encrypt: " + std::to_string(v.size()) + " images, only " + std::to_string(n) + " slots");
  r.ctx->check_data_level(std::size_t(level), r.bgv_encryptor ? "BGV encrypt" : "BFV encrypt");
  EncryptedTensor out(inputs.size());
  // Element e is encrypted with stream e of a key drawn from the client's generator:
  // reproducible under a test generator, whatever the thread schedule.
  const math::PrngStreams streams = [&] {
    std::lock_guard<std::mutex> lock(prng_mu_);
    return math::PrngStreams(prng_);
  }();
  math::parallel_for(inputs.size(), [&](std::size_t e) {
    std::vector<std::uint64_t> v(n, 0);
    for (std::size_t s = 0; s < inputs[e].size(); ++s) {
      const std::int64_t x = inputs[e][s] % std::int64_t(t);
      v[s] = std::uint64_t(x < 0 ? x + std::int64_t(t) : x);
    }
    auto prng = streams.stream(e);
    const auto pt = r.encoder->encode(v);
    out[e] = r.bgv_encryptor ? r.bgv_encryptor->encrypt_at(pt, std::size_t(level), prng) : r.encryptor->encrypt_at(pt, std::size_t(level), prng);
  });
  return out;
}

std::vector<std::vector<std::uint64_t>> BfvClient::decrypt(std::size_t residue, const EncryptedTensor& cts, std::size_t slots) const {
  const Residue& r = *res_.at(residue);
  std::vector<std::vector<std::uint64_t>> out(cts.size());
  math::parallel_for(cts.size(), [&](std::size_t e) {
    auto v = r.encoder->decode(r.bgv_decryptor ? r.bgv_decryptor->decrypt(cts[e]) : r.decryptor->decrypt(cts[e]));
    v.resize(std::min(slots, v.size()));
    out[e] = std::move(v);
  });
  return out;
}

int BfvClient::noise_budget(std::size_t residue, const rlwe::Ciphertext& ct) const {
  const Residue& r = *res_.at(residue);
  return r.bgv_decryptor ? r.bgv_decryptor->invariant_noise_budget(ct) : r.decryptor->invariant_noise_budget(ct);
}

// ---- server ----------------------------------------------------------------

BfvServer::BfvServer(const Program& prog, BfvEvaluationKeys keys) : prog_(prog), keys_(std::move(keys)) {
  if (!compiler::integer_scheme(prog.scheme)) throw std::invalid_argument("BFV/BGV server: the program was compiled for CKKS");
  bgv_ = prog.scheme == compiler::Scheme::bgv;
  const rlwe::Scheme want = bgv_ ? rlwe::Scheme::bgv : rlwe::Scheme::bfv;
  const auto& p = prog.params;
  if (keys_.contexts.size() != p.plain_moduli.size()) {
    throw std::invalid_argument("evaluation keys are for " + std::to_string(keys_.contexts.size()) +
                                " plaintext primes, the program uses " + std::to_string(p.plain_moduli.size()));
  }
  bool need_relin = false;
  for (const auto& ins : prog.instrs) need_relin |= ins.op == OpKind::relinearize;
  for (std::size_t r = 0; r < keys_.contexts.size(); ++r) {
    const auto& ctx = keys_.contexts[r];
    if (!ctx || ctx->n() != p.poly_degree || ctx->literal().coeff_modulus != p.coeff_modulus ||
        ctx->plain_modulus().value() != p.plain_moduli[r] || ctx->scheme() != want) {
      throw std::invalid_argument("evaluation keys for plaintext prime " + std::to_string(r) + " do not match the program's " +
                                  compiler::scheme_name(prog.scheme) + " parameters (scheme, N, coefficient or plaintext modulus)");
    }
    if (need_relin) {
      if (r >= keys_.relin.size() || keys_.relin[r].key.parts.size() != std::size_t(p.data_primes())) {
        throw std::invalid_argument("relinearization keys for plaintext prime " + std::to_string(r) +
                                    " are missing or do not match the parameters");
      }
      for (const auto& part : keys_.relin[r].key.parts) {
        if (part.n != p.poly_degree || part.num_primes != p.coeff_modulus.size()) {
          throw std::invalid_argument("relinearization keys do not match the parameters");
        }
      }
    }
    if (bgv_) {
      bgv_tables_.push_back(bgv::make_tables(ctx));
      bgv_eval_.push_back(std::make_unique<bgv::Evaluator>(bgv_tables_.back()));
    } else {
      tables_.push_back(bfv::make_tables(ctx));
      eval_.push_back(std::make_unique<bfv::Evaluator>(tables_.back()));
    }
  }
}

BfvServer::~BfvServer() = default;

std::vector<EncryptedTensor> BfvServer::evaluate(std::size_t residue, EncryptedTensor input, std::vector<LayerTiming>* timings,
                                                 const Progress& progress) const {
  return run(residue, std::move(input), false, timings, progress);
}

std::vector<EncryptedTensor> BfvServer::evaluate_all(std::size_t residue, EncryptedTensor input) const {
  return run(residue, std::move(input), true, nullptr, {});
}

namespace {

// What the BFV and BGV backends share: products, relinearization, nothing after an
// instruction (Ev: bfv::Evaluator or bgv::Evaluator).
template <class Ev>
struct IntegerOps {
  using Value = rlwe::Ciphertext;
  static constexpr bool kHasLevels = true;
  static constexpr bool kParallel = true;
  const Ev& ev;
  const rlwe::RelinKeys* rk;

  void product(const Instr&, std::vector<Value>& a, const std::vector<Value>* b) const {
    math::parallel_for(a.size(), [&](std::size_t e) {
      if (b) ev.multiply_inplace(a[e], (*b)[e]);
      else ev.square_inplace(a[e]);
    });
  }
  void relinearize(const Instr&, std::vector<Value>& a) const {
    if (!rk) throw std::invalid_argument("no relinearization keys");
    math::parallel_for(a.size(), [&](std::size_t e) {
      if (a[e].size == 3) ev.relinearize_inplace(a[e], *rk);
    });
  }
  void finish(const Instr&, std::vector<Value>&) const {}
};

// The BFV backend of the interpreter loop (compiler/executor.h): one residue's evaluator.
struct BfvOps : IntegerOps<bfv::Evaluator> {
  const bfv::BfvTables& tables;

  void align(Value& x, std::size_t level) const {
    while (x.num_primes > level) ev.mod_switch_to_next_inplace(x);
  }
  std::vector<Value> linear(const Instr& ins, const std::vector<const std::vector<Value>*>& srcs) const {
    return linear_combine(tables, ins, srcs);
  }
};

// The BGV backend: the same operations on NTT-form ciphertexts with correction factors.
// A linear instruction whose inputs carry different factors folds the ratios into its
// weights (the compiler's noise model charges for it); biases are added times the
// output's factor.
struct BgvOps : IntegerOps<bgv::Evaluator> {

  void align(Value& x, std::size_t level) const {
    if (x.num_primes > level) ev.mod_switch_to_inplace(x, level);
  }
  std::vector<Value> linear(const Instr& ins, const std::vector<const std::vector<Value>*>& srcs) const {
    const auto& ctx = ev.tables().context();
    const auto& tm = ctx.plain_modulus();
    if (ins.bias.size() != ins.size) throw std::invalid_argument("linear: malformed instruction (bias)");
    // The correction factor of each input (one per tensor: its elements share their history).
    std::vector<std::uint64_t> cf(srcs.size(), 0);
    std::uint64_t target = 0;
    bool mixed = false;
    for (const auto& row : ins.rows)
      for (const auto& term : row) {
        const auto k = std::size_t(term.input);
        if (term.weight == 0 || cf.at(k) != 0) continue;
        const auto& tensor = *srcs.at(k);
        if (std::size_t(term.index) >= tensor.size()) throw std::invalid_argument("linear: term reads beyond its input tensor");
        cf[k] = tensor[std::size_t(term.index)].correction_factor;
        if (target == 0) target = cf[k];
        mixed |= cf[k] != target;
      }
    std::vector<Value> out;
    if (!mixed) {
      out = linear_terms(ctx, ins, srcs);
    } else {
      // Every term must carry one factor C: input k's weights are multiplied by m_k with
      // m_k cf_k = C (mod t). Factors are merged one at a time with small multipliers
      // (rational reconstruction, about sqrt(t) each: bgv::small_ratio), as SEAL's
      // additions do, instead of ratios as large as t.
      std::vector<std::uint64_t> factors;   // distinct input factors, first seen first
      std::vector<std::int64_t> mult;       // their multipliers, centred mod t
      for (std::size_t k = 0; k < srcs.size(); ++k)
        if (cf[k] != 0 && std::find(factors.begin(), factors.end(), cf[k]) == factors.end()) factors.push_back(cf[k]);
      std::uint64_t common = factors[0];
      mult.push_back(1);
      auto centred = [&](std::uint64_t x) { return x > tm.value() / 2 ? std::int64_t(x) - std::int64_t(tm.value()) : std::int64_t(x); };
      for (std::size_t g = 1; g < factors.size(); ++g) {
        // common e1 = factors[g] e2 (mod t)
        const auto [e1, e2] = bgv::small_ratio(tm.mul(factors[g], tm.inv(common)), tm);
        const std::uint64_t u1 = math::reduce_signed(e1, tm);
        for (auto& m : mult) m = centred(tm.mul(math::reduce_signed(m, tm), u1));
        mult.push_back(e2);
        common = tm.mul(common, u1);
      }
      target = common;
      Instr folded = ins;
      std::vector<std::uint64_t> ratio(srcs.size(), 1);
      for (std::size_t k = 0; k < srcs.size(); ++k)
        if (cf[k] != 0) {
          const auto g = std::size_t(std::find(factors.begin(), factors.end(), cf[k]) - factors.begin());
          ratio[k] = math::reduce_signed(mult[g], tm);
        }
      for (auto& row : folded.rows)
        for (auto& term : row) {
          if (term.weight == 0) continue;
          // Nonzero: w is a nonzero integer below t and every multiplier is invertible mod t.
          term.weight = centred(tm.mul(math::reduce_signed(term.weight, tm), ratio[std::size_t(term.input)]));
        }
      out = linear_terms(ctx, folded, srcs, target);
    }
    math::parallel_for(out.size(), [&](std::size_t o) {
      const __int128 b = ins.bias[o] % __int128(tm.value());
      if (b != 0) ev.add_scalar_inplace(out[o], std::int64_t(b));
    });
    return out;
  }
};

}  // namespace

// The interpreter loop on this residue's backend (BFV or BGV, the program's scheme).
std::vector<EncryptedTensor> BfvServer::execute_given(std::size_t residue, const compiler::Schedule& sch,
                                                      std::vector<std::pair<int, EncryptedTensor>> given,
                                                      const compiler::ExecOptions& opt) const {
  const rlwe::RelinKeys* rk = residue < keys_.relin.size() ? &keys_.relin[residue] : nullptr;
  if (bgv_) return compiler::execute_given(prog_, sch, BgvOps{{*bgv_eval_[residue], rk}}, std::move(given), opt);
  return compiler::execute_given(prog_, sch, BfvOps{{*eval_[residue], rk}, *tables_[residue]}, std::move(given), opt);
}

std::vector<EncryptedTensor> BfvServer::run(std::size_t residue, EncryptedTensor input, bool keep_all,
                                            std::vector<LayerTiming>* timings, const Progress& progress) const {
  if (residue >= keys_.contexts.size()) throw std::invalid_argument("residue index out of range");
  const auto& ctx = *keys_.contexts[residue];
  const Instr& in0 = prog_.instrs[0];
  if (input.size() != in0.size) {
    throw std::invalid_argument("encrypted input has " + std::to_string(input.size()) + " ciphertexts, the program expects " +
                                std::to_string(in0.size) + " (one per input value)");
  }
  for (const auto& ct : input) {
    if (ct.n != ctx.n() || ct.num_primes != std::size_t(in0.level) || ct.size != 2 || ct.ntt_form != bgv_ ||
        ct.data.size() != ct.n * ct.num_primes * ct.size) {
      throw std::invalid_argument(std::string("encrypted input does not match the parameters: expected fresh ") +
                                  compiler::scheme_name(prog_.scheme) + " ciphertexts with N = " + std::to_string(ctx.n()) + " at " +
                                  std::to_string(in0.level) + " data primes");
    }
  }
  const compiler::Schedule sch = compiler::make_schedule(prog_, streaming_, keep_all);
  std::vector<std::pair<int, EncryptedTensor>> given;
  given.emplace_back(0, std::move(input));
  auto val = execute_given(residue, sch, std::move(given), {keep_all, timings, progress});
  if (keep_all) return val;
  return detail::collect_outputs(prog_, val);
}

std::vector<EncryptedTensor> BfvServer::evaluate_part(std::size_t residue, const compiler::ProgramPart& part,
                                                      std::vector<std::pair<int, EncryptedTensor>> given,
                                                      std::vector<LayerTiming>* timings, const Progress& progress) const {
  if (residue >= keys_.contexts.size()) throw std::invalid_argument("residue index out of range");
  const auto& ctx = *keys_.contexts[residue];
  for (const auto& [t, cts] : given) detail::check_tensor(prog_, t, cts, ctx.n());
  const compiler::Schedule sch = compiler::restrict_schedule(compiler::make_schedule(prog_, streaming_, false), part);
  const auto val = execute_given(residue, sch, std::move(given), {false, timings, progress});
  std::vector<EncryptedTensor> outs;
  for (int k : part.outputs) outs.push_back(val[std::size_t(prog_.outputs[std::size_t(k)].tensor)]);
  return outs;
}

std::uint64_t integer_double_mod(double v, std::uint64_t t) {
  if (!std::isfinite(v) || v != std::nearbyint(v)) throw std::invalid_argument("integer_double_mod: not an integer value");
  if (v == 0) return 0;
  int e = 0;
  const double f = std::frexp(std::fabs(v), &e);  // |v| = f 2^e, f in [1/2, 1)
  std::uint64_t m = std::uint64_t(std::ldexp(f, 53));
  int shift = e - 53;
  if (shift < 0) {
    m >>= -shift;  // exact: v is an integer
    shift = 0;
  }
  unsigned __int128 r = m % t;
  for (int i = 0; i < shift; ++i) r = (r * 2) % t;
  const std::uint64_t out = std::uint64_t(r);
  return v < 0 && out != 0 ? t - out : out;
}

void BfvServer::add_values(std::size_t residue, EncryptedTensor& t, const std::vector<std::vector<double>>& values) const {
  if (residue >= keys_.contexts.size()) throw std::invalid_argument("add_values: no such CRT residue");
  if (values.size() != t.size()) throw std::invalid_argument("add_values: one value vector per element of the tensor");
  const auto& ctx = keys_.contexts[residue];
  const std::uint64_t tm = ctx->plain_modulus().value();
  const bfv::BatchEncoder enc(ctx);
  for (std::size_t e = 0; e < t.size(); ++e) {
    if (values[e].size() > ctx->n()) throw std::invalid_argument("add_values: more values than slots");
    std::vector<std::uint64_t> v(values[e].size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = integer_double_mod(values[e][i], tm);
    const auto pt = enc.encode(v);
    if (bgv_) bgv_eval_[residue]->add_plain_inplace(t[e], pt);
    else eval_[residue]->add_plain_inplace(t[e], pt);
  }
}

}  // namespace hecnn::nn::runtime
