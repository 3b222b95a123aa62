// The packed (single-image) plan file (.hpplan), format version 1: a PackedProgram or a
// PackedEnsemble (packed.h) as the compiler and calibration left it, so that a single-image
// plan compiled once can be run later, shipped to a model holder, or published to a client
// without its weights (public_packed: ops dropped). Same framing as plan files (magic
// "HECNNPKD", u32 version, u32 flags, u64 payload length, payload, BLAKE2b-256; plan_io.h).
//
// Reading is bounded (counts against the bytes left before anything is allocated, digest
// before parsing) and the result is validated (validate_packed) so that the packed
// interpreter can index it without further checks. Failures are PlanError naming the field.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nn/compiler/packed.h"

namespace hecnn::nn::compiler {

inline constexpr std::uint32_t kPackedPlanFormatVersion = 2;  // 2: rotation paths (key budget); 1 is read

std::vector<std::uint8_t> serialize_packed(const PackedEnsemble& ens);
PackedEnsemble parse_packed(std::span<const std::uint8_t> bytes);
void write_packed_plan(const PackedEnsemble& ens, const std::string& path);  // atomically
PackedEnsemble read_packed_plan(const std::string& path);

// A single model as a one-member ensemble (weight 1, combiner "mean").
PackedEnsemble as_ensemble(const PackedProgram& prog);

// Structural invariants the packed interpreter and client rely on: 128-bit secure
// parameters, levels inside the chain, op chaining (each op reads what the previous one
// writes), diagonal and bias lengths equal to the lane, rotation steps inside the lane,
// layouts inside their ciphertexts, input sources inside the image. `public_only`: a plan
// without ops (what a client gets). Throws PlanError naming the first violation.
void validate_packed(const PackedProgram& prog, bool public_only = false);

// What a client needs of a packed plan (parameters, input packing, output layout and map,
// rotation steps): every op dropped. The ensemble keeps its weights' count and combiner.
PackedEnsemble public_packed(const PackedEnsemble& ens);

// BLAKE2b-256 (hex) of the serialized ensemble.
std::string packed_plan_id(const PackedEnsemble& ens);

}  // namespace hecnn::nn::compiler
