#include "nn/runtime/packed_backend.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

#include "fhe/rlwe/galois.h"
#include "fhe/wire/core_convert.h"
#include "fhe/wire/objects.h"
#include "math/parallel.h"

namespace hecnn::nn::runtime {

using compiler::PackedOp;
using compiler::PackedOpKind;
using compiler::PackedProgram;

rlwe::ContextPtr packed_context(const PackedProgram& prog) {
  if (prog.poly_degree == 0 || prog.coeff_modulus.size() < 2) throw std::invalid_argument("packed plan has no CKKS parameters");
  rlwe::ParamsLiteral lit{rlwe::Scheme::ckks, prog.poly_degree, prog.coeff_modulus, 0, rlwe::Security::tc128};
  return rlwe::Context::create(lit);
}

namespace {

wire::Context wire_context(const PackedProgram& prog) {
  rlwe::ParamsLiteral lit{rlwe::Scheme::ckks, prog.poly_degree, prog.coeff_modulus, 0, rlwe::Security::tc128};
  return wire::Context(wire::to_wire(lit));
}

}  // namespace

// ---- client ----------------------------------------------------------------

PackedClient::PackedClient(const PackedProgram& prog, math::Prng& prng)
    : PackedClient(prog, prng, std::vector<int>(prog.rotation_steps.begin(), prog.rotation_steps.end())) {}

PackedClient::PackedClient(const PackedProgram& prog, math::Prng& prng, const std::vector<int>& steps)
    : prog_(prog), prng_(prng) {
  ctx_ = packed_context(prog);
  keygen_ = std::make_unique<rlwe::KeyGenerator>(ctx_, prng);
  if (prog.needs_relin) rk_ = keygen_->create_relin_keys();
  gk_ = keygen_->create_galois_keys_for_steps(steps);
  encoder_ = std::make_unique<ckks::Encoder>(ctx_);
  encryptor_ = std::make_unique<ckks::Encryptor>(ctx_, keygen_->secret_key());
  decryptor_ = std::make_unique<ckks::Decryptor>(ctx_, keygen_->secret_key());
}

PackedClient::~PackedClient() = default;

PackedEvaluationKeys PackedClient::evaluation_keys() const {
  if (keys_taken_) throw std::logic_error("packed client: the evaluation keys were already handed out");
  return {ctx_, rk_, gk_};
}

PackedEvaluationKeys PackedClient::take_evaluation_keys() {
  if (keys_taken_) throw std::logic_error("packed client: the evaluation keys were already handed out");
  keys_taken_ = true;
  return {ctx_, std::move(rk_), std::move(gk_)};
}

std::vector<rlwe::Ciphertext> PackedClient::encrypt(const std::uint8_t* raw, std::size_t bytes) const {
  return encrypt_images({raw}, bytes);
}

std::vector<rlwe::Ciphertext> PackedClient::encrypt_images(const std::vector<const std::uint8_t*>& raws, std::size_t bytes) const {
  const auto slots = prog_.pack_inputs(raws, bytes);
  std::vector<rlwe::Ciphertext> out;
  out.reserve(slots.size());
  std::lock_guard<std::mutex> lock(prng_mu_);
  for (const auto& v : slots)
    out.push_back(encryptor_->encrypt(encoder_->encode(v, prog_.input_scale, std::size_t(prog_.data_primes())), prng_));
  return out;
}

std::vector<std::vector<std::uint8_t>> PackedClient::serialize(const std::vector<rlwe::Ciphertext>& cts,
                                                               wire::Compression compression) const {
  const wire::Context wctx = wire_context(prog_);
  std::vector<std::vector<std::uint8_t>> files;
  for (const auto& ct : cts) {
    wire::CiphertextData d = wire::to_wire(wctx, ct);
    wire::reseed(wctx, *ctx_, keygen_->secret_key(), d);
    wire::WriteOptions w;
    w.compression = compression;
    files.push_back(wire::write_ciphertext(wctx, d, w));
  }
  return files;
}

std::vector<std::vector<double>> PackedClient::decrypt_slots(const std::vector<rlwe::Ciphertext>& cts) const {
  std::vector<std::vector<double>> out;
  for (const auto& ct : cts) {
    ckks::check_ciphertext(*ctx_, ct, "packed decrypt");
    out.push_back(encoder_->decode(decryptor_->decrypt(ct)));
  }
  return out;
}

std::vector<double> PackedClient::decrypt(const std::vector<rlwe::Ciphertext>& out) const {
  if (out.size() != prog_.output_layout.cts) {
    throw std::invalid_argument("packed decrypt: " + std::to_string(out.size()) + " ciphertexts, the plan's output has " +
                                std::to_string(prog_.output_layout.cts));
  }
  return prog_.unpack_output(decrypt_slots(out));
}

std::vector<std::vector<double>> PackedClient::decrypt_images(const std::vector<rlwe::Ciphertext>& out, std::size_t count) const {
  if (out.size() != prog_.output_layout.cts) throw std::invalid_argument("packed decrypt: wrong number of output ciphertexts");
  if (count > prog_.images_per_ciphertext) throw std::invalid_argument("packed decrypt: more images than the plan stacks");
  const auto slots = decrypt_slots(out);
  std::vector<std::vector<double>> r;
  for (std::size_t i = 0; i < count; ++i) r.push_back(prog_.unpack_output(slots, i));
  return r;
}

std::vector<rlwe::Ciphertext> read_packed_ciphertexts(const PackedProgram& prog, const std::vector<std::vector<std::uint8_t>>& files) {
  const wire::Context wctx = wire_context(prog);
  std::vector<rlwe::Ciphertext> out;
  for (const auto& f : files) out.push_back(wire::to_core(wctx, wire::read_ciphertext(wctx, f).value));
  return out;
}

std::size_t packed_wire_bytes(const PackedProgram& prog, const std::vector<rlwe::Ciphertext>& cts, wire::Compression compression) {
  const wire::Context wctx = wire_context(prog);
  std::size_t total = 0;
  for (const auto& ct : cts) {
    wire::WriteOptions w;
    w.compression = compression;
    total += wire::write_ciphertext(wctx, wire::to_wire(wctx, ct), w).size();
  }
  return total;
}

// ---- server ----------------------------------------------------------------

class PackedServer::Backend {
 public:
  using Value = rlwe::Ciphertext;
  explicit Backend(const PackedServer& s) : s_(s) {}

  std::vector<Value> rotate_many(const Value& v, const std::vector<int>& steps) const {
    return s_.eval_->rotate_hoisted(v, steps, s_.keys_->galois);
  }
  Value rotate(const Value& v, int step) const {
    Value r = v;
    s_.eval_->rotate_inplace(r, step, s_.keys_->galois);
    return r;
  }
  Value mul_diag(const Value& x, std::size_t op, std::size_t u, std::size_t g, std::size_t d) const {
    Value r = x;
    if (s_.op_cached_[op]) {
      s_.eval_->multiply_plain_inplace(r, s_.diag_pts_[op][u][g][d]);
    } else {
      s_.eval_->multiply_plain_inplace(r, s_.encode_diag(op, u, g, d));
    }
    return r;
  }
  void add(Value& a, const Value& b) const { s_.eval_->add_inplace(a, b); }
  void rescale(Value& v) const { s_.eval_->rescale_to_next_inplace(v); }
  void add_bias(Value& v, std::size_t op, std::size_t u) const {
    if (s_.op_cached_[op]) {
      s_.eval_->add_plain_inplace(v, s_.bias_pts_[op][u]);
    } else {
      const PackedOp& o = s_.prog_.ops[op];
      auto pt = s_.encoder_->encode(o.bias[u], v.scale, v.num_primes);
      s_.eval_->add_plain_inplace(v, pt);
    }
  }
  void poly(Value& x, std::size_t op) const {
    const PackedOp& o = s_.prog_.ops[op];
    const auto& ev = *s_.eval_;
    if (o.degree == 2) {
      Value t = x;
      if (o.a != 0) ev.add_scalar_inplace(t, o.a);
      ev.multiply_inplace(x, t);
      ev.relinearize_inplace(x, s_.keys_->relin);
      ev.rescale_to_next_inplace(x);
      return;
    }
    // degree 3: x (x^2 + a x + b), two levels.
    Value x2 = ev.square(x);
    ev.relinearize_inplace(x2, s_.keys_->relin);
    ev.rescale_to_next_inplace(x2);
    if (o.a != 0) {
      Value ax = x;
      ev.multiply_scalar_inplace(ax, o.a, o.scalar_scale);
      ev.rescale_to_next_inplace(ax);
      ev.add_inplace(x2, ax);
    }
    if (o.b != 0) ev.add_scalar_inplace(x2, o.b);
    Value xm = x;
    ev.mod_switch_to_inplace(xm, x2.num_primes);
    ev.multiply_inplace(x2, xm);
    ev.relinearize_inplace(x2, s_.keys_->relin);
    ev.rescale_to_next_inplace(x2);
    x = std::move(x2);
  }
  void align(Value& v, int level) const { s_.eval_->mod_switch_to_inplace(v, std::size_t(level)); }

 private:
  const PackedServer& s_;
};

namespace {

std::size_t op_plaintext_words(const PackedOp& op, std::size_t n) {
  std::size_t diags = 0;
  for (const auto& out : op.outs)
    for (const auto& g : out) diags += g.diags.size();
  return (diags * std::size_t(op.level_in) + op.bias.size() * std::size_t(op.level_out)) * n;
}

}  // namespace

ckks::Plaintext PackedServer::encode_diag(std::size_t op, std::size_t u, std::size_t g, std::size_t d) const {
  const PackedOp& o = prog_.ops[op];
  const double q = double(prog_.coeff_modulus[std::size_t(o.level_in - 1)]);
  return encoder_->encode(o.outs[u][g].diags[d].values, q, std::size_t(o.level_in));
}

PackedServer::PackedServer(const PackedProgram& prog, PackedEvaluationKeys keys, std::size_t max_plaintext_bytes)
    : PackedServer(prog, std::make_shared<const PackedEvaluationKeys>(std::move(keys)), max_plaintext_bytes) {}

PackedServer::PackedServer(const PackedProgram& prog, std::shared_ptr<const PackedEvaluationKeys> keys, std::size_t max_plaintext_bytes)
    : prog_(prog), keys_(std::move(keys)) {
  if (!keys_) throw std::invalid_argument("packed server: no evaluation keys");
  if (!keys_->context) throw std::invalid_argument("packed server: no parameters in the evaluation keys");
  if (keys_->context->n() != prog.poly_degree || keys_->context->literal().coeff_modulus != prog.coeff_modulus) {
    throw std::invalid_argument("packed server: the evaluation keys were made for other parameters than the plan's");
  }
  if (prog.needs_relin && keys_->relin.key.parts.empty()) {
    throw std::invalid_argument("packed server: the plan multiplies ciphertexts but no relinearization key was provided");
  }
  // Every rotation step the plan uses needs its own key or the keys of its path (a
  // composed step); name the first missing one.
  const std::size_t n = prog.poly_degree;
  auto need = [&](std::int64_t step, const std::string& where) {
    const std::int64_t lane = std::int64_t(n / 2);
    for (std::int64_t k : prog.rotation_path(step)) {
      const std::int64_t r = ((k % lane) + lane) % lane;
      if (r == 0) continue;
      const rlwe::u64 g = rlwe::galois_elt_from_step(int(r), n);
      if (!keys_->galois.has(g)) {
        throw std::invalid_argument("packed server: no Galois key for rotation step " + std::to_string(r) + " (needed by " +
                                    where + "); the client must send keys for all " +
                                    std::to_string(prog.rotation_steps.size()) + " steps the plan lists");
      }
    }
  };
  for (const auto& op : prog.ops) {
    for (const auto& out : op.outs)
      for (const auto& g : out) {
        need(g.step, op.label);
        for (const auto& d : g.diags) need(d.baby, op.label);
      }
    for (auto f : op.folds) need(f, op.label);
    for (auto s : op.steps) need(s, op.label);
  }
  encoder_ = std::make_unique<ckks::Encoder>(keys_->context);
  eval_ = std::make_unique<ckks::Evaluator>(keys_->context);
  // Plaintexts encoded once, op by op while they fit the budget; the others per image.
  plaintext_bytes_ = 0;
  diag_pts_.resize(prog.ops.size());
  bias_pts_.resize(prog.ops.size());
  op_cached_.assign(prog.ops.size(), 0);
  for (std::size_t oi = 0; oi < prog.ops.size(); ++oi) {
    const PackedOp& o = prog.ops[oi];
    if (o.kind != PackedOpKind::linear) continue;
    const std::size_t bytes = op_plaintext_words(o, prog.poly_degree) * 8;
    plaintext_bytes_ += bytes;
    if (cached_bytes_ + bytes > max_plaintext_bytes) continue;
    cached_bytes_ += bytes;
    op_cached_[oi] = 1;
    diag_pts_[oi].resize(o.outs.size());
    std::vector<std::array<std::size_t, 3>> jobs;
    for (std::size_t u = 0; u < o.outs.size(); ++u) {
      diag_pts_[oi][u].resize(o.outs[u].size());
      for (std::size_t g = 0; g < o.outs[u].size(); ++g) {
        diag_pts_[oi][u][g].resize(o.outs[u][g].diags.size());
        for (std::size_t d = 0; d < o.outs[u][g].diags.size(); ++d) jobs.push_back({u, g, d});
      }
    }
    math::parallel_for(jobs.size(), [&](std::size_t j) {
      const auto [u, g, d] = jobs[j];
      diag_pts_[oi][u][g][d] = encode_diag(oi, u, g, d);
    });
    for (const auto& b : o.bias) {
      bias_pts_[oi].push_back(b.empty() ? ckks::Plaintext{} : encoder_->encode(b, o.scale_out, std::size_t(o.level_out)));
    }
  }
  cached_ = cached_bytes_ == plaintext_bytes_;
  backend_ = std::make_unique<Backend>(*this);
}

PackedServer::~PackedServer() = default;

std::vector<rlwe::Ciphertext> PackedServer::evaluate(std::vector<rlwe::Ciphertext> input,
                                                     const compiler::PackedExecOptions& opt) const {
  for (const auto& ct : input) {
    ckks::check_ciphertext(*keys_->context, ct, "packed server input");
    if (ct.num_primes != std::size_t(prog_.data_primes()) || ct.size != 2) {
      throw std::invalid_argument("packed server: input ciphertexts must be fresh (2 parts at " +
                                  std::to_string(prog_.data_primes()) + " primes)");
    }
    if (std::abs(ct.scale / prog_.input_scale - 1) > 1e-9) {
      throw std::invalid_argument("packed server: input scale differs from the plan's");
    }
  }
  compiler::PackedExecOptions o = opt;
  o.keep_all = false;
  auto r = compiler::run_packed(prog_, *backend_, std::move(input), o);
  return std::move(r.back());
}

std::vector<std::vector<rlwe::Ciphertext>> PackedServer::evaluate_all(std::vector<rlwe::Ciphertext> input) const {
  compiler::PackedExecOptions o;
  o.keep_all = true;
  return compiler::run_packed(prog_, *backend_, std::move(input), o);
}

PackedEnsembleServer::PackedEnsembleServer(const compiler::PackedEnsemble& ens, PackedEvaluationKeys keys,
                                           std::size_t max_plaintext_bytes)
    : ens_(ens) {
  auto shared = std::make_shared<const PackedEvaluationKeys>(std::move(keys));
  std::size_t left = max_plaintext_bytes;
  for (const auto& m : ens.members) {
    servers_.push_back(std::make_unique<PackedServer>(m, shared, left));
    left -= std::min(left, servers_.back()->cached_plaintext_bytes());
  }
  eval_ = std::make_unique<ckks::Evaluator>(shared->context);
}

std::size_t PackedEnsembleServer::plaintext_bytes() const {
  std::size_t b = 0;
  for (const auto& s : servers_) b += s->plaintext_bytes();
  return b;
}

std::size_t PackedEnsembleServer::cached_plaintext_bytes() const {
  std::size_t b = 0;
  for (const auto& s : servers_) b += s->cached_plaintext_bytes();
  return b;
}

std::vector<rlwe::Ciphertext> PackedEnsembleServer::evaluate(const std::vector<rlwe::Ciphertext>& input,
                                                             std::vector<compiler::LayerTiming>* timings) const {
  std::vector<rlwe::Ciphertext> sum;
  for (std::size_t m = 0; m < servers_.size(); ++m) {
    std::vector<compiler::LayerTiming> t;
    compiler::PackedExecOptions o;
    o.timings = timings ? &t : nullptr;
    auto out = servers_[m]->evaluate(input, o);
    if (timings)
      for (auto& x : t) {
        x.layer = "m" + std::to_string(m) + "/" + x.layer;
        timings->push_back(x);
      }
    if (sum.empty()) {
      sum = std::move(out);
    } else {
      for (std::size_t c = 0; c < sum.size(); ++c) eval_->add_inplace(sum[c], out[c]);
    }
  }
  return sum;
}

}  // namespace hecnn::nn::runtime
