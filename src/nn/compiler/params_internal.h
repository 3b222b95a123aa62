// Parameter choice for compiled programs (compiler internals, exposed for tests).
#pragma once

#include "nn/compiler/compiler.h"

namespace hecnn::nn::compiler {

// Noise model (bits of invariant noise budget, SEAL's measure), deliberately
// pessimistic by a few bits; tests/nn/runtime checks it against real decryptions.
struct NoiseModel {
  std::size_t n = 0;
  std::vector<std::uint64_t> primes;   // coefficient primes, special last
  double log2_t = 0;
  double fresh(int level) const;       // after encryption at `level` data primes
  double log2_q(int level) const;
};

// Predicted budget at every tensor given each tensor's level (Instr::level), or -inf
// if infeasible. Returns the minimum over outputs.
double simulate_budget(const Program& prog, const NoiseModel& model, std::vector<double>* per_tensor = nullptr);

// Fills prog.params, levels (inserting mod_switch instructions), predicted budget and keys.
void choose_parameters(Program& prog, const CompileOptions& opt);

}  // namespace hecnn::nn::compiler
