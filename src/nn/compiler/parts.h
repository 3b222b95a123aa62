// A compiled ensemble plan split between the parties that run it (seed 001, Algorithm 1):
// each model holder runs its member's instructions on the encrypted input, the
// coordinator runs the combiner's instructions on the members' encrypted outputs, and the
// client needs only the public part of the plan (parameters, input quantization, output
// scales, keys), never the weights.
//
//   auto part = compiler::member_part(prog, 1);      // what holder 1 runs
//   auto sch = compiler::restrict_schedule(compiler::make_schedule(prog, false), part);
//   auto pub = compiler::public_plan(prog);          // what the client receives
//
// The parts are the plan's own instructions (Instr::member); running every member part
// and then the combiner part computes exactly what running the whole plan does.
#pragma once

#include <string>
#include <vector>

#include "nn/compiler/program.h"
#include "nn/compiler/schedule.h"

namespace hecnn::nn::compiler {

struct ProgramPart {
  int member = -1;                 // the member it runs, -1: the coordinator's combiner
  std::vector<bool> runs;          // runs[i]: instruction i belongs to this part (never the input)
  std::vector<int> given;          // tensors it reads but does not compute (the input, or members' outputs)
  std::vector<int> outputs;        // indices into Program::outputs that it produces
};

// Member k's instructions (0 <= k < prog.members). Throws PlanError when the plan reads
// another member's tensors from them (a plan the compiler did not make).
ProgramPart member_part(const Program& prog, int member);

// The combiner's instructions (Instr::member == -1 but the input). given: the member
// outputs it reads. For a single model the part is empty (no instruction runs).
ProgramPart combiner_part(const Program& prog);

// The schedule's groups of the part's instructions only; frees of dropped steps move to
// the next kept step. Cost: one pass over the schedule.
Schedule restrict_schedule(const Schedule& sch, const ProgramPart& part);

// The plan without its weights: the input instruction and, per output, one instruction
// with the output's size, level, scale, factor and bound (reading the input with unit
// weights, never run). It keeps what a client needs to quantize, encrypt, make keys and
// decrypt (parameters, input quantization, outputs, keys, member digests) and passes
// validate_program. Member weights, biases and the architecture are dropped.
Program public_plan(const Program& prog);

// BLAKE2b-256 (64 hex digits) of the plan's serialization (plan_io.h): identifies a plan
// between parties (a session, a request and a holder's loaded plan must agree on it).
std::string plan_id(const Program& prog);

}  // namespace hecnn::nn::compiler
