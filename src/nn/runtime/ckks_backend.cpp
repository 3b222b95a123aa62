#include "nn/runtime/ckks_backend.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>


#include "fhe/rlwe/galois.h"
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

// X^(N/2) evaluates to mu_s = i at slot s when 3^s = 1 (mod 4), i.e. s even, and
// to -i when s is odd. Complex packing stores image pair (a, b) in slot s as
// a + mu_s b, so that "times X^(N/2)" is "times mu" in every slot.
inline double mu_sign(std::size_t s) { return (s & 1) ? -1.0 : 1.0; }

rlwe::ContextPtr make_context(const compiler::CkksParams& p) {
  rlwe::ParamsLiteral lit{rlwe::Scheme::ckks, p.poly_degree, p.coeff_modulus, 0, rlwe::Security::tc128};
  return rlwe::Context::create(lit);
}

void check_program(const Program& prog) {
  if (prog.scheme != compiler::Scheme::ckks) throw std::invalid_argument("CKKS backend: the program was compiled for BFV");
  if (prog.ckks.poly_degree == 0 || prog.ckks.coeff_modulus.size() < 2) throw std::invalid_argument("CKKS backend: program has no CKKS parameters");
}

bool needs_conjugation(const Program& prog) {
  if (!prog.ckks.complex_packing) return false;
  for (const auto& ins : prog.instrs)
    if (ins.op == OpKind::square || ins.op == OpKind::multiply) return true;
  return false;
}

bool needs_relin(const Program& prog) {
  for (const auto& ins : prog.instrs)
    if (ins.op == OpKind::relinearize) return true;
  return false;
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
}

CkksClient::~CkksClient() = default;

std::size_t CkksClient::images_per_ciphertext() const { return prog_.ckks.images_per_ciphertext(); }

CkksEvaluationKeys CkksClient::evaluation_keys() const { return {ctx_, rk_, gk_}; }

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
    std::vector<ckks::cplx> z(slots, 0.0);
    const auto& v = inputs[e];
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (cplx) {
        const std::size_t s = i / 2;
        if (i % 2 == 0) z[s].real(double(v[i]));
        else z[s].imag(mu_sign(s) * double(v[i]));
      } else {
        z[i] = double(v[i]);
      }
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
    std::vector<double> v(images);
    for (std::size_t i = 0; i < images; ++i) {
      if (cplx) {
        const std::size_t s = i / 2;
        v[i] = i % 2 == 0 ? z[s].real() : mu_sign(s) * z[s].imag();
      } else {
        v[i] = z[i].real();
      }
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
  // NTT of X^(N/2) per data prime.
  const std::size_t n = ctx->n(), L = ctx->max_data_primes();
  i_ntt_.assign(L * n, 0);
  one_plus_i_ntt_.assign(L * n, 0);
  for (std::size_t j = 0; j < L; ++j) {
    std::uint64_t* r = i_ntt_.data() + j * n;
    r[n / 2] = 1;
    math::ntt_forward(r, ctx->ntt(j));
    const math::Modulus& q = ctx->key_base()[j];
    for (std::size_t k = 0; k < n; ++k) one_plus_i_ntt_[j * n + k] = q.add(1, r[k]);
  }
}

CkksServer::~CkksServer() = default;

void CkksServer::times_i(rlwe::Ciphertext& a) const {
  const auto& ctx = *keys_.context;
  const std::size_t n = ctx.n();
  for (std::size_t c = 0; c < a.size; ++c)
    for (std::size_t j = 0; j < a.num_primes; ++j) {
      std::uint64_t* x = a.residue(c, j);
      math::mul_mod_vec(x, i_ntt_.data() + j * n, x, n, ctx.key_base()[j]);
    }
}

void CkksServer::split(const rlwe::Ciphertext& z, rlwe::Ciphertext& re, rlwe::Ciphertext& im) const {
  rlwe::Ciphertext zc = z;
  eval_->conjugate_inplace(zc, keys_.galois);
  re = z;
  eval_->add_inplace(re, zc);  // 2a
  im = zc;
  eval_->sub_inplace(im, z);   // conj z - z = -2 mu b
  times_i(im);                 // -2 mu^2 b = 2b
}

std::vector<EncryptedTensor> CkksServer::evaluate(EncryptedTensor input, std::vector<LayerTiming>* timings,
                                                  const Progress& progress) const {
  return run(std::move(input), false, timings, progress);
}

std::vector<EncryptedTensor> CkksServer::evaluate_all(EncryptedTensor input) const { return run(std::move(input), true, nullptr, {}); }

std::vector<EncryptedTensor> CkksServer::run(EncryptedTensor input, bool keep_all, std::vector<LayerTiming>* timings,
                                             const Progress& progress) const {
  const auto& ctx = *keys_.context;
  const auto& ev = *eval_;
  const std::size_t n = ctx.n();
  const bool cplx = prog_.ckks.complex_packing;
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
  const std::size_t count = prog_.instrs.size();
  const compiler::Schedule sch = compiler::make_schedule(prog_, streaming_, keep_all);

  // Runtime reference counts: a unary op may take its input when it is the last reader.
  std::vector<std::size_t> base(count + 1, 0);
  for (std::size_t i = 0; i < count; ++i) base[i + 1] = base[i] + prog_.instrs[i].size;
  std::vector<std::uint32_t> refs(base[count], 0);
  std::vector<bool> keep(count, keep_all);
  for (const auto& o : prog_.outputs) keep[std::size_t(o.tensor)] = true;
  for (const auto& step : sch.steps)
    for (const auto& g : step)
      for (std::uint32_t o : g.elements) {
        const Instr& ins = prog_.instrs[std::size_t(g.instr)];
        if (ins.op == OpKind::linear) {
          for (const auto& t : ins.rows[o]) ++refs[base[std::size_t(ins.inputs[std::size_t(t.input)])] + std::size_t(t.index)];
        } else {
          for (int t : ins.inputs) ++refs[base[std::size_t(t)] + o];
        }
      }

  std::vector<EncryptedTensor> val(count);
  val[0] = std::move(input);
  for (std::size_t i = 1; i < count; ++i) val[i].resize(prog_.instrs[i].size);

  // A copy of element e of tensor t at `level` primes (no division; the factor is unchanged),
  // or the element itself when it is at that level and this is its last reader.
  auto operand = [&](int t, std::uint32_t e, std::size_t level, bool may_take) {
    rlwe::Ciphertext& src = val[std::size_t(t)][e];
    rlwe::Ciphertext x = (may_take && !keep[std::size_t(t)] && refs[base[std::size_t(t)] + e] == 1) ? std::move(src) : src;
    if (x.num_primes > level) ev.mod_switch_to_inplace(x, level);
    return x;
  };

  std::size_t done_elements = 0;
  const std::size_t total_elements = base[count] - base[1];
  for (std::size_t s = 0; s < sch.steps.size(); ++s) {
    for (const auto& g : sch.steps[s]) {
      const std::size_t i = std::size_t(g.instr);
      const Instr& ins = prog_.instrs[i];
      const auto& els = g.elements;
      if (progress) progress(done_elements, total_elements, ins.label);
      const auto t0 = std::chrono::steady_clock::now();
      const double c0 = timings ? detail::process_cpu_seconds() : 0.0;
      const std::size_t level = std::size_t(ins.level + ins.rescale);  // before this instruction's rescales
      double factor_before = ins.factor;
      for (int k = 0; k < ins.rescale; ++k) factor_before *= double(ctx.key_base()[std::size_t(ins.level + k)].value());
      std::vector<rlwe::Ciphertext> y;
      switch (ins.op) {
        case OpKind::input: throw std::logic_error("second input instruction");
        case OpKind::mod_switch: throw std::invalid_argument("CKKS programs have no mod_switch instructions");
        case OpKind::linear: {
          // Only the rows of this group's elements; inputs above the level are switched down
          // element by element (only the elements those rows read).
          const bool whole = els.size() == ins.size;
          Instr sub;
          if (!whole) {
            sub.op = ins.op;
            sub.inputs = ins.inputs;
            sub.level = ins.level;
            sub.rescale = ins.rescale;
            sub.size = els.size();
            sub.rows.reserve(els.size());
            for (std::uint32_t o : els) sub.rows.push_back(ins.rows[o]);
          }
          const Instr& run_ins = whole ? ins : sub;
          std::vector<const EncryptedTensor*> srcs;
          std::vector<EncryptedTensor> switched;
          switched.reserve(ins.inputs.size());
          for (std::size_t k = 0; k < ins.inputs.size(); ++k) {
            const int t = ins.inputs[k];
            if (std::size_t(prog_.instrs[std::size_t(t)].level) > level) {
              EncryptedTensor x(val[std::size_t(t)].size());
              std::vector<std::uint32_t> need;
              for (const auto& row : run_ins.rows)
                for (const auto& term : row)
                  if (std::size_t(term.input) == k) need.push_back(std::uint32_t(term.index));
              std::sort(need.begin(), need.end());
              need.erase(std::unique(need.begin(), need.end()), need.end());
              math::parallel_for(need.size(), [&](std::size_t j) { x[need[j]] = operand(t, need[j], level, false); });
              switched.push_back(std::move(x));
              srcs.push_back(&switched.back());
            } else {
              srcs.push_back(&val[std::size_t(t)]);
            }
          }
          y = linear_terms(ctx, run_ins, srcs);
          // Bias: the constant round(b * factor) in every slot (times 1 + mu with complex packing).
          if (ins.bias_real.size() != ins.size) throw std::invalid_argument("CKKS linear: malformed instruction (bias)");
          math::parallel_for(y.size(), [&](std::size_t k) {
            const double b = ins.bias_real[els[k]];
            if (b == 0) return;
            std::vector<std::uint64_t> r(level), rv(cplx ? n : 0);
            ckks::integer_to_rns(ctx, std::round(b * factor_before), level, r.data(), 1);
            for (std::size_t j = 0; j < level; ++j) {
              const math::Modulus& q = ctx.key_base()[j];
              std::uint64_t* c0p = y[k].residue(0, j);
              if (cplx) {
                std::fill(rv.begin(), rv.end(), r[j]);
                math::mul_add_mod_vec(rv.data(), one_plus_i_ntt_.data() + j * n, c0p, n, q);  // c0 += r (1 + mu)
              } else {
                for (std::size_t m = 0; m < n; ++m) c0p[m] = q.add(c0p[m], r[j]);
              }
            }
          });
          for (const auto& row : run_ins.rows)
            for (const auto& term : row) --refs[base[std::size_t(ins.inputs[std::size_t(term.input)])] + std::size_t(term.index)];
          break;
        }
        case OpKind::square:
        case OpKind::multiply: {
          const int ta = ins.inputs[0], tb = ins.inputs[ins.op == OpKind::square ? 0 : 1];
          const bool same = ta == tb;
          y.resize(els.size());
          math::parallel_for(els.size(), [&](std::size_t k) {
            const std::uint32_t e = els[k];
            rlwe::Ciphertext a = operand(ta, e, level, ins.op == OpKind::square);
            rlwe::Ciphertext bcopy;
            if (!same) bcopy = operand(tb, e, level, false);
            if (!cplx) {
              if (same) ev.square_inplace(a);
              else ev.multiply_inplace(a, bcopy);
            } else {
              rlwe::Ciphertext ar, ai;
              split(a, ar, ai);
              if (same) {
                ev.square_inplace(ar);
                ev.square_inplace(ai);
              } else {
                rlwe::Ciphertext br, bi;
                split(bcopy, br, bi);
                ev.multiply_inplace(ar, br);
                ev.multiply_inplace(ai, bi);
              }
              times_i(ai);
              ev.add_inplace(ar, ai);
              a = std::move(ar);
            }
            y[k] = std::move(a);
          });
          for (std::uint32_t e : els)
            for (int t : ins.inputs) --refs[base[std::size_t(t)] + e];
          break;
        }
        case OpKind::relinearize: {
          y.resize(els.size());
          math::parallel_for(els.size(), [&](std::size_t k) {
            y[k] = operand(ins.inputs[0], els[k], level, true);
            if (y[k].size == 3) ev.relinearize_inplace(y[k], keys_.relin);
          });
          for (std::uint32_t e : els) --refs[base[std::size_t(ins.inputs[0])] + e];
          break;
        }
      }
      // Exact factor before the rescales, then rescale (each divides the scale by the dropped prime).
      math::parallel_for(y.size(), [&](std::size_t k) {
        y[k].scale = factor_before;
        for (int r = 0; r < ins.rescale; ++r) ev.rescale_to_next_inplace(y[k]);
        y[k].scale = ins.factor;
      });
      for (std::size_t k = 0; k < els.size(); ++k) val[i][els[k]] = std::move(y[k]);
      done_elements += els.size();
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (timings) detail::add_timing(*timings, ins.label, dt, detail::process_cpu_seconds() - c0, ins.size);
    }
    for (const auto& [t, e] : sch.frees[s]) val[std::size_t(t)][e] = rlwe::Ciphertext();
  }
  if (progress) progress(total_elements, total_elements, "done");
  if (keep_all) return val;
  return detail::collect_outputs(prog_, val);
}

}  // namespace hecnn::nn::runtime
