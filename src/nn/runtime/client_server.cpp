#include "nn/runtime/client_server.h"

#include <stdexcept>
#include <string>

#include "nn/compiler/plan_io.h"
#include "nn/runtime/simulator.h"

namespace hecnn::nn::runtime {

namespace {
bool is_ckks(const compiler::Program& p) { return p.scheme == compiler::Scheme::ckks; }
}  // namespace

Client::Client(const compiler::Program& prog, math::Prng& prng) : prog_(prog) {
  try {
    compiler::validate_program(prog);
  } catch (const compiler::PlanError& e) {
    throw std::invalid_argument(std::string("Client: ") + e.what());
  }
  if (is_ckks(prog)) ckks_ = std::make_unique<CkksClient>(prog, prng);
  else bfv_ = std::make_unique<BfvClient>(prog.params, !prog.keys.empty(), prng, prog.scheme);
}

Client::~Client() = default;

std::size_t Client::batch_capacity() const { return prog_.batch_capacity(); }

EvaluationKeys Client::evaluation_keys() const {
  EvaluationKeys k;
  k.scheme = prog_.scheme;
  if (ckks_) k.ckks = ckks_->evaluation_keys();
  else k.bfv = bfv_->evaluation_keys();
  return k;
}

EncryptedBatch Client::encrypt(const std::uint8_t* images, std::size_t count) const {
  if (count == 0 || count > batch_capacity())
    throw std::invalid_argument("Client::encrypt: " + std::to_string(count) + " images; a batch holds 1.." + std::to_string(batch_capacity()));
  if (!images) throw std::invalid_argument("Client::encrypt: no image data");
  const std::size_t size = prog_.input_shape.size();
  std::vector<std::vector<std::int64_t>> q(count);
  for (std::size_t i = 0; i < count; ++i) q[i] = prog_.quantize_input(images + i * size, size);
  const auto slots = to_slots(q);
  EncryptedBatch b;
  b.images = count;
  if (ckks_) {
    b.residues.push_back(ckks_->encrypt(slots));
  } else {
    for (std::size_t r = 0; r < bfv_->residues(); ++r) b.residues.push_back(bfv_->encrypt(r, slots, prog_.instrs[0].level));
  }
  return b;
}

std::vector<std::vector<std::vector<std::uint8_t>>> Client::serialize_input(const EncryptedBatch& batch) const {
  std::vector<std::vector<std::vector<std::uint8_t>>> out;
  for (std::size_t r = 0; r < batch.residues.size(); ++r)
    out.push_back(ckks_ ? ckks_->serialize_seeded(batch.residues[r]) : bfv_->serialize_seeded(r, batch.residues[r]));
  return out;
}

std::vector<std::vector<std::vector<double>>> Client::decrypt(const EncryptedResult& res) const {
  const std::size_t residues = ckks_ ? 1 : bfv_->residues();
  if (res.residues.size() != residues) throw std::invalid_argument("Client::decrypt: result has the wrong number of CRT residues");
  if (res.images == 0 || res.images > batch_capacity()) throw std::invalid_argument("Client::decrypt: bad image count");
  for (const auto& outs : res.residues)
    if (outs.size() != prog_.outputs.size()) throw std::invalid_argument("Client::decrypt: result has the wrong number of outputs");
  std::vector<std::vector<std::vector<double>>> scores(prog_.outputs.size());
  for (std::size_t k = 0; k < prog_.outputs.size(); ++k) {
    const double scale = prog_.outputs[k].scale;
    const std::size_t classes = prog_.instrs[std::size_t(prog_.outputs[k].tensor)].size;
    if (res.residues[0][k].size() != classes) throw std::invalid_argument("Client::decrypt: output " + prog_.outputs[k].name + " has the wrong size");
    scores[k].assign(res.images, std::vector<double>(classes));
    if (ckks_) {
      const auto v = ckks_->decrypt(res.residues[0][k], res.images);  // [class][image]
      for (std::size_t c = 0; c < classes; ++c)
        for (std::size_t i = 0; i < res.images; ++i) scores[k][i][c] = v[c][i] / scale;
    } else {
      std::vector<std::vector<std::vector<std::uint64_t>>> v(residues);  // [residue][class][image]
      for (std::size_t r = 0; r < residues; ++r) v[r] = bfv_->decrypt(r, res.residues[r][k], res.images);
      std::vector<std::uint64_t> rs(residues);
      const bool wide = needs_wide_integers(prog_);
      for (std::size_t c = 0; c < classes; ++c)
        for (std::size_t i = 0; i < res.images; ++i) {
          for (std::size_t r = 0; r < residues; ++r) rs[r] = v[r][c][i];
          scores[k][i][c] = (wide ? crt_centered_wide(rs, prog_.params.plain_moduli).to_double()
                                  : double(crt_centered(rs, prog_.params.plain_moduli))) / scale;
        }
    }
  }
  return scores;
}

Server::Server(const compiler::Program& prog, EvaluationKeys keys) : prog_(prog) {
  try {
    compiler::validate_program(prog);
  } catch (const compiler::PlanError& e) {
    throw std::invalid_argument(std::string("Server: ") + e.what());
  }
  if (keys.scheme != prog.scheme) {
    throw std::invalid_argument(std::string("Server: the evaluation keys are for ") + compiler::scheme_name(keys.scheme) + ", the plan is " +
                                compiler::scheme_name(prog.scheme));
  }
  if (is_ckks(prog)) ckks_ = std::make_unique<CkksServer>(prog, std::move(keys.ckks));
  else bfv_ = std::make_unique<BfvServer>(prog, std::move(keys.bfv));
}

Server::~Server() = default;

void Server::set_streaming(bool on) {
  if (ckks_) ckks_->set_streaming(on);
}

EncryptedResult Server::evaluate(EncryptedBatch batch, std::vector<LayerTiming>* timings, const Progress& progress) const {
  const std::size_t residues = ckks_ ? 1 : prog_.params.plain_moduli.size();
  if (batch.residues.size() != residues)
    throw std::invalid_argument("Server::evaluate: the batch has " + std::to_string(batch.residues.size()) + " CRT residues, the plan " +
                                std::to_string(residues));
  EncryptedResult out;
  out.images = batch.images;
  for (std::size_t r = 0; r < residues; ++r) {
    Progress p;
    if (progress)
      p = [&, r](std::size_t done, std::size_t total, const std::string& what) { progress(r * total + done, residues * total, what); };
    if (ckks_) out.residues.push_back(ckks_->evaluate(std::move(batch.residues[r]), timings, p));
    else out.residues.push_back(bfv_->evaluate(r, std::move(batch.residues[r]), timings, p));
  }
  return out;
}

EncryptedResult Server::evaluate_member(int member, EncryptedBatch batch, std::vector<LayerTiming>* timings,
                                        const Progress& progress) const {
  const std::size_t residues = ckks_ ? 1 : prog_.params.plain_moduli.size();
  if (batch.residues.size() != residues)
    throw std::invalid_argument("Server::evaluate_member: the batch has " + std::to_string(batch.residues.size()) + " CRT residues, the plan " +
                                std::to_string(residues));
  if (batch.images == 0 || batch.images > prog_.batch_capacity()) throw std::invalid_argument("Server::evaluate_member: bad image count");
  const compiler::ProgramPart part = compiler::member_part(prog_, member);
  EncryptedResult out;
  out.images = batch.images;
  for (std::size_t r = 0; r < residues; ++r) {
    Progress p;
    if (progress)
      p = [&, r](std::size_t done, std::size_t total, const std::string& what) { progress(r * total + done, residues * total, what); };
    std::vector<std::pair<int, EncryptedTensor>> given;
    given.emplace_back(0, std::move(batch.residues[r]));
    auto outs = ckks_ ? ckks_->evaluate_part(part, std::move(given), timings, p) : bfv_->evaluate_part(r, part, std::move(given), timings, p);
    std::vector<EncryptedTensor> all(prog_.outputs.size());
    for (std::size_t j = 0; j < part.outputs.size(); ++j) all[std::size_t(part.outputs[j])] = std::move(outs[j]);
    out.residues.push_back(std::move(all));
  }
  return out;
}

EncryptedResult Server::combine(std::vector<EncryptedResult> members, std::vector<LayerTiming>* timings) const {
  const std::size_t residues = ckks_ ? 1 : prog_.params.plain_moduli.size();
  if (members.size() != std::size_t(prog_.members))
    throw std::invalid_argument("Server::combine: " + std::to_string(members.size()) + " member results for a plan of " +
                                std::to_string(prog_.members) + " members");
  const std::size_t images = members[0].images;
  for (std::size_t m = 0; m < members.size(); ++m) {
    if (members[m].images != images) throw std::invalid_argument("Server::combine: member results for different image counts");
    if (members[m].residues.size() != residues)
      throw std::invalid_argument("Server::combine: member " + std::to_string(m) + " returned " + std::to_string(members[m].residues.size()) +
                                  " CRT residues, the plan has " + std::to_string(residues));
    for (const auto& outs : members[m].residues)
      if (outs.size() != prog_.outputs.size()) throw std::invalid_argument("Server::combine: member " + std::to_string(m) + " result has the wrong number of outputs");
  }
  const compiler::ProgramPart part = compiler::combiner_part(prog_);
  EncryptedResult out;
  out.images = images;
  const std::size_t n = prog_.poly_degree();
  for (std::size_t r = 0; r < residues; ++r) {
    std::vector<EncryptedTensor> all(prog_.outputs.size());
    // Member outputs: from the member that owns them, checked against the plan.
    for (std::size_t k = 0; k < prog_.outputs.size(); ++k) {
      const auto& o = prog_.outputs[k];
      if (o.member < 0) continue;
      all[k] = std::move(members[std::size_t(o.member)].residues[r][k]);
      detail::check_tensor(prog_, o.tensor, all[k], n);
    }
    if (!part.outputs.empty()) {
      std::vector<std::pair<int, EncryptedTensor>> given;
      for (int t : part.given) {
        for (std::size_t k = 0; k < prog_.outputs.size(); ++k)
          if (prog_.outputs[k].tensor == t && prog_.outputs[k].member >= 0) {
            given.emplace_back(t, all[k]);
            break;
          }
      }
      auto outs = ckks_ ? ckks_->evaluate_part(part, std::move(given), timings) : bfv_->evaluate_part(r, part, std::move(given), timings);
      for (std::size_t j = 0; j < part.outputs.size(); ++j) all[std::size_t(part.outputs[j])] = std::move(outs[j]);
    }
    out.residues.push_back(std::move(all));
  }
  return out;
}

}  // namespace hecnn::nn::runtime
