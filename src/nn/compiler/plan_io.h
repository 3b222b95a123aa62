// The compiled plan file (.hplan), format version 1: a Program (program.h) as the
// compiler left it (quantized weights, levels, scales, rescales, parameters, keys),
// so that a plan compiled and calibrated once can be run, shipped to a model holder
// or inspected without the compiler. Full description: docs/plan-format.md.
//
//   offset 0    8 bytes   magic "HECNNPLN"
//   offset 8    u32 LE    format version (1)
//   offset 12   u32 LE    flags (0)
//   offset 16   u64 LE    payload length P (at most kMaxPlanFileBytes)
//   offset 24   P bytes   payload: the program, field by field (little-endian)
//   offset 24+P 32 bytes  BLAKE2b-256 of bytes [0, 24 + P)
//
// Reading is bounded: the file size is checked before it is read, every count is
// checked against the bytes that remain before anything is allocated, the digest is
// checked before the payload is parsed, and the parsed program is validated
// (validate_program) so that an executor can index it without further checks. Any
// failure is a PlanError naming the field ("plan: truncated: field 'rows' ...").
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "nn/compiler/program.h"

namespace hecnn::nn::compiler {

inline constexpr std::uint32_t kPlanFormatVersion = 3;  // 2: quantization choice appended; 3: output privacy
inline constexpr std::size_t kMaxPlanFileBytes = std::size_t(4) << 30;

// A plan file that cannot be read, is corrupt, or describes an invalid program.
struct PlanError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Whole file as bytes, and back. parse_plan validates the program (throws PlanError).
std::vector<std::uint8_t> serialize_plan(const Program& prog);
Program parse_plan(std::span<const std::uint8_t> bytes);

void write_plan(const Program& prog, const std::string& path);  // atomically (temp file + rename)
Program read_plan(const std::string& path);

// The structural invariants every interpreter relies on: tensor references point to
// earlier instructions, term indices are inside their inputs, sizes match shapes,
// levels and rescales stay inside the prime chain, parameters are 128-bit secure with
// valid NTT primes, doubles are finite. Throws PlanError naming the first violation.
// Cost: one pass over the terms.
void validate_program(const Program& prog);

// BLAKE2b-256 (64 hex digits) of the model's f64 serialization (model_io.h): what
// Program::member_digests records, so that a plan and the models it came from can be matched.
std::string model_fingerprint(const Model& model);

}  // namespace hecnn::nn::compiler
