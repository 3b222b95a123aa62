// Parameter choice for compiled programs (compiler internals, exposed for tests).
#pragma once

#include "nn/compiler/compiler.h"

namespace hecnn::nn::compiler {

// Noise model (bits of invariant noise budget, SEAL's measure), deliberately
// pessimistic by a few bits; tests/nn/runtime checks it against real decryptions.
// BFV: the budget falls by about log2 t + log2 N per multiplication and by the bits of
// every prime dropped. BGV: the model tracks log2 of a bound on |m + t e| (the phase),
// which a multiplication adds and a mod switch divides by the dropped prime (down to a
// floor of about t sqrt(N)); budget = log2 q - 1 - that. A linear instruction whose inputs
// differ in their BGV correction factor folds the ratios into its weights (up to t/2).
struct NoiseModel {
  std::size_t n = 0;
  std::vector<std::uint64_t> primes;   // coefficient primes, special last
  double log2_t = 0;
  bool bgv = false;
  double fresh(int level) const;       // BFV: budget after encryption at `level` data primes
  double log2_q(int level) const;
};

// Predicted budget at every tensor given each tensor's level (Instr::level), or -inf
// if infeasible. Returns the minimum over outputs.
double simulate_budget(const Program& prog, const NoiseModel& model, std::vector<double>* per_tensor = nullptr);

// Fills prog.params, levels (inserting mod_switch instructions), predicted budget and keys.
void choose_parameters(Program& prog, const CompileOptions& opt);

}  // namespace hecnn::nn::compiler
