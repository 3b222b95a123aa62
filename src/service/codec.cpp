#include "service/codec.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "fhe/rlwe/galois.h"
#include "fhe/wire/core_convert.h"
#include "fhe/wire/objects.h"

namespace hecnn::service {

namespace {
bool is_ckks(const nn::compiler::Program& p) { return p.scheme == nn::compiler::Scheme::ckks; }
bool needs_relin(const nn::compiler::Program& p) {
  for (const auto& ins : p.instrs)
    if (ins.op == nn::compiler::OpKind::relinearize) return true;
  for (const auto& k : p.keys)
    if (k.rfind("relin", 0) == 0) return true;
  return false;
}
// Batch plans: the conjugation key of complex packing is the only Galois key.
bool needs_galois(const nn::compiler::Program& p) {
  for (const auto& k : p.keys)
    if (k.rfind("conjugation", 0) == 0) return true;
  return false;
}
std::size_t key_primes(const nn::compiler::Program& p) {
  return is_ckks(p) ? p.ckks.coeff_modulus.size() : p.params.coeff_modulus.size();
}
}  // namespace

// Keys travel zstd-compressed (SEAL's container compression): the words of a key hold
// fewer bits than 64, so about a third of the bytes go; readers inflate within the bound.
wire::WriteOptions compressed() {
  wire::WriteOptions w;
  w.compression = wire::Compression::zstd;
  return w;
}

std::size_t residues(const nn::compiler::Program& prog) { return is_ckks(prog) ? 1 : prog.params.plain_moduli.size(); }

PlanContexts plan_contexts(const nn::compiler::Program& prog) {
  PlanContexts c;
  for (std::size_t r = 0; r < residues(prog); ++r) {
    rlwe::ParamsLiteral lit = is_ckks(prog)
                                  ? rlwe::ParamsLiteral{rlwe::Scheme::ckks, prog.ckks.poly_degree, prog.ckks.coeff_modulus, 0, rlwe::Security::tc128}
                                  : rlwe::ParamsLiteral{prog.scheme == nn::compiler::Scheme::bgv ? rlwe::Scheme::bgv : rlwe::Scheme::bfv,
                                                        prog.params.poly_degree, prog.params.coeff_modulus,
                                                        prog.params.plain_moduli[r], rlwe::Security::tc128};
    c.core.push_back(rlwe::Context::create(lit));
    c.wire.emplace_back(wire::to_wire(lit));
  }
  return c;
}

std::uint64_t key_bytes_bound(const nn::compiler::Program& prog) {
  const std::uint64_t n = prog.poly_degree(), k = key_primes(prog);
  std::uint64_t total = 0;
  if (needs_relin(prog)) total += residues(prog) * wire::relin_keys_bound(n, k, 1);
  if (needs_galois(prog)) total += wire::galois_keys_size(n, k, 1, false);
  return total;
}

std::uint64_t ciphertext_bytes_bound(const nn::compiler::Program& prog) {
  return wire::ciphertext_size(3, prog.poly_degree(), key_primes(prog) - 1);
}

std::vector<KeyObject> serialize_keys(const nn::compiler::Program& prog, const PlanContexts& ctx, const nn::runtime::EvaluationKeys& keys) {
  std::vector<KeyObject> out;
  if (is_ckks(prog)) {
    if (needs_relin(prog))
      out.push_back({KeyKind::relin, 0, wire::write_relin_keys(ctx.wire[0], wire::to_wire(ctx.wire[0], keys.ckks.relin), compressed())});
    if (needs_galois(prog))
      out.push_back({KeyKind::galois, 0, wire::write_galois_keys(ctx.wire[0], wire::to_wire(ctx.wire[0], keys.ckks.galois), compressed())});
    return out;
  }
  if (needs_relin(prog))
    for (std::size_t r = 0; r < residues(prog); ++r)
      out.push_back({KeyKind::relin, std::uint32_t(r), wire::write_relin_keys(ctx.wire[r], wire::to_wire(ctx.wire[r], keys.bfv.relin.at(r)), compressed())});
  return out;
}

nn::runtime::EvaluationKeys parse_keys(const nn::compiler::Program& prog, const PlanContexts& ctx, const std::vector<KeyObject>& objects) {
  nn::runtime::EvaluationKeys k;
  k.scheme = prog.scheme;
  const std::size_t res = residues(prog);
  std::map<std::pair<std::uint32_t, std::uint32_t>, const KeyObject*> seen;
  for (const auto& o : objects) {
    const char* what = o.kind == KeyKind::relin ? "relinearization keys" : o.kind == KeyKind::galois ? "Galois keys" : nullptr;
    if (!what) throw std::invalid_argument("keys: unknown key kind " + std::to_string(std::uint32_t(o.kind)));
    if (o.residue >= res) throw std::invalid_argument(std::string("keys: ") + what + " for residue " + std::to_string(o.residue) + "; the plan has " + std::to_string(res));
    if (o.kind == KeyKind::relin && !needs_relin(prog)) throw std::invalid_argument("keys: the plan needs no relinearization keys");
    if (o.kind == KeyKind::galois && (!is_ckks(prog) || !needs_galois(prog))) throw std::invalid_argument("keys: the plan needs no Galois keys");
    if (!seen.emplace(std::pair(std::uint32_t(o.kind), o.residue), &o).second)
      throw std::invalid_argument(std::string("keys: ") + what + " for residue " + std::to_string(o.residue) + " sent twice");
  }
  auto find = [&](KeyKind kind, std::uint32_t r) -> const KeyObject& {
    const auto it = seen.find({std::uint32_t(kind), r});
    if (it == seen.end())
      throw std::invalid_argument(std::string("keys: ") + (kind == KeyKind::relin ? "relinearization keys" : "Galois keys") + " for residue " +
                                  std::to_string(r) + " are missing");
    return *it->second;
  };
  wire::ReadOptions ro;
  ro.max_galois_keys = 1;  // the conjugation key is the only Galois key of a batch plan
  try {
    if (is_ckks(prog)) {
      k.ckks.context = ctx.core[0];
      if (needs_relin(prog)) k.ckks.relin = wire::to_core(ctx.wire[0], wire::read_relin_keys(ctx.wire[0], find(KeyKind::relin, 0).bytes, ro).value);
      if (needs_galois(prog)) k.ckks.galois = wire::to_core(ctx.wire[0], wire::read_galois_keys(ctx.wire[0], find(KeyKind::galois, 0).bytes, ro).value);
    } else {
      k.bfv.contexts = ctx.core;
      if (needs_relin(prog))
        for (std::size_t r = 0; r < res; ++r)
          k.bfv.relin.push_back(wire::to_core(ctx.wire[r], wire::read_relin_keys(ctx.wire[r], find(KeyKind::relin, std::uint32_t(r)).bytes, ro).value));
    }
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("keys: ") + e.what());
  }
  return k;
}

std::vector<std::uint8_t> write_ciphertext(const PlanContexts& ctx, std::size_t residue, const rlwe::Ciphertext& ct) {
  const auto& w = ctx.wire.at(residue);
  return wire::write_ciphertext(w, wire::to_wire(w, ct));
}

rlwe::Ciphertext read_ciphertext(const PlanContexts& ctx, std::size_t residue, const std::vector<std::uint8_t>& bytes) {
  if (residue >= ctx.wire.size()) throw std::invalid_argument("ciphertext for residue " + std::to_string(residue) + "; the plan has " + std::to_string(ctx.wire.size()));
  const auto& w = ctx.wire[residue];
  try {
    return wire::to_core(w, wire::read_ciphertext(w, bytes).value);
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("ciphertext: ") + e.what());
  }
}

PlanContexts packed_contexts(const nn::compiler::PackedProgram& prog) {
  PlanContexts c;
  const rlwe::ParamsLiteral lit{rlwe::Scheme::ckks, prog.poly_degree, prog.coeff_modulus, 0, rlwe::Security::tc128};
  c.core.push_back(rlwe::Context::create(lit));
  c.wire.emplace_back(wire::to_wire(lit));
  return c;
}

std::uint64_t packed_key_bytes_bound(const nn::compiler::PackedEnsemble& ens) {
  const auto& p = ens.members.at(0);
  const std::uint64_t n = p.poly_degree, k = p.coeff_modulus.size();
  bool relin = false;
  for (const auto& m : ens.members) relin |= m.needs_relin;
  return (relin ? wire::relin_keys_bound(n, k, 1) : 0) + wire::galois_keys_size(n, k, ens.rotation_steps.size(), false);
}

std::uint64_t packed_ciphertext_bytes_bound(const nn::compiler::PackedProgram& prog) {
  return wire::ciphertext_size(3, prog.poly_degree, prog.coeff_modulus.size() - 1);
}

std::vector<KeyObject> serialize_packed_keys(const PlanContexts& ctx, const nn::runtime::PackedEvaluationKeys& keys) {
  std::vector<KeyObject> out;
  if (!keys.relin.key.parts.empty()) out.push_back({KeyKind::relin, 0, wire::write_relin_keys(ctx.wire[0], wire::to_wire(ctx.wire[0], keys.relin), compressed())});
  if (!keys.galois.keys.empty()) out.push_back({KeyKind::galois, 0, wire::write_galois_keys(ctx.wire[0], wire::to_wire(ctx.wire[0], keys.galois), compressed())});
  return out;
}

nn::runtime::PackedEvaluationKeys parse_packed_keys(const nn::compiler::PackedEnsemble& ens, const PlanContexts& ctx,
                                                    const std::vector<KeyObject>& objects) {
  nn::runtime::PackedEvaluationKeys k;
  k.context = ctx.core[0];
  bool relin = false;
  for (const auto& m : ens.members) relin |= m.needs_relin;
  bool seen_relin = false, seen_galois = false;
  wire::ReadOptions ro;
  ro.max_galois_keys = std::max<std::size_t>(1, ens.rotation_steps.size());
  try {
    for (const auto& o : objects) {
      if (o.residue != 0) throw std::invalid_argument("keys: a single-image plan has one residue");
      if (o.kind == KeyKind::relin) {
        if (!relin) throw std::invalid_argument("keys: the plan needs no relinearization keys");
        if (seen_relin) throw std::invalid_argument("keys: relinearization keys sent twice");
        seen_relin = true;
        k.relin = wire::to_core(ctx.wire[0], wire::read_relin_keys(ctx.wire[0], o.bytes, ro).value);
      } else if (o.kind == KeyKind::galois) {
        if (seen_galois) throw std::invalid_argument("keys: Galois keys sent twice");
        seen_galois = true;
        k.galois = wire::to_core(ctx.wire[0], wire::read_galois_keys(ctx.wire[0], o.bytes, ro).value);
      } else {
        throw std::invalid_argument("keys: unknown key kind");
      }
    }
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("keys: ") + e.what());
  }
  if (relin && !seen_relin) throw std::invalid_argument("keys: relinearization keys are missing");
  if (!ens.rotation_steps.empty() && !seen_galois) throw std::invalid_argument("keys: Galois keys are missing");
  return k;
}

}  // namespace hecnn::service
