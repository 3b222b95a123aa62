// Runtime objects <-> SEAL 4.x bytes (the wire layer) for the service: what travels
// between client, coordinator and holders. Every reader is bounded by the plan: an
// object larger than its parameters allow is refused before it is inflated or
// allocated, and a parsed ciphertext is checked against the tensor it claims to be.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fhe/rlwe/params.h"
#include "fhe/wire/params.h"
#include "nn/compiler/program.h"
#include "nn/compiler/packed.h"
#include "nn/runtime/client_server.h"
#include "nn/runtime/packed_backend.h"

namespace hecnn::service {

// The contexts of a plan, one per CRT residue (CKKS: one), 128-bit checked.
struct PlanContexts {
  std::vector<wire::Context> wire;
  std::vector<rlwe::ContextPtr> core;
};
PlanContexts plan_contexts(const nn::compiler::Program& prog);

enum class KeyKind : std::uint32_t { relin = 2, galois = 3 };  // the proto's Kind values

struct KeyObject {
  KeyKind kind = KeyKind::relin;
  std::uint32_t residue = 0;
  std::vector<std::uint8_t> bytes;
};

// The evaluation keys as the objects a client uploads (one relinearization key set per
// residue, the Galois keys of CKKS) and back. parse_keys refuses objects the plan does not
// need, duplicates, missing ones, and anything larger than the plan's keys can be.
std::vector<KeyObject> serialize_keys(const nn::compiler::Program& prog, const PlanContexts& ctx, const nn::runtime::EvaluationKeys& keys);
nn::runtime::EvaluationKeys parse_keys(const nn::compiler::Program& prog, const PlanContexts& ctx, const std::vector<KeyObject>& objects);

// Largest serialized evaluation key set of the plan (bytes), and of one ciphertext.
std::uint64_t key_bytes_bound(const nn::compiler::Program& prog);
std::uint64_t ciphertext_bytes_bound(const nn::compiler::Program& prog);

std::vector<std::uint8_t> write_ciphertext(const PlanContexts& ctx, std::size_t residue, const rlwe::Ciphertext& ct);
// Bounded by the plan's parameters; the result is not yet checked against a tensor
// (nn::runtime::detail::check_tensor does that).
rlwe::Ciphertext read_ciphertext(const PlanContexts& ctx, std::size_t residue, const std::vector<std::uint8_t>& bytes);

std::size_t residues(const nn::compiler::Program& prog);

// Single-image (packed) plans: one CKKS context; keys are relinearization (when the plan
// multiplies) and one Galois key per rotation step of the ensemble.
PlanContexts packed_contexts(const nn::compiler::PackedProgram& prog);
std::uint64_t packed_key_bytes_bound(const nn::compiler::PackedEnsemble& ens);
std::uint64_t packed_ciphertext_bytes_bound(const nn::compiler::PackedProgram& prog);
std::vector<KeyObject> serialize_packed_keys(const PlanContexts& ctx, const nn::runtime::PackedEvaluationKeys& keys);
nn::runtime::PackedEvaluationKeys parse_packed_keys(const nn::compiler::PackedEnsemble& ens, const PlanContexts& ctx,
                                                    const std::vector<KeyObject>& objects);

}  // namespace hecnn::service
