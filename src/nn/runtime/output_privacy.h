// Differentially private ensemble answers (compiler/program.h OutputPrivacy).
//
// Sensitivity: the ensemble's answer for one image is a sum over members of each member's
// contribution (every combiner here is separable: y = c + sum_i f_i(z_i)). Neighbouring
// answers are those where one member's contribution changes (member-level privacy, as in
// CaPC's per-party votes); its L1 (Laplace) or L2 (Gaussian) sensitivity is taken as the
// diameter of that member's contributions over the coordinator's validation images,
// max over image pairs of |f_i(z_in) - f_i(z_in')| in that norm, the largest over members
// (images^2 / 2 distances: a second for 5,000 images). This is measured, not a worst-case
// bound: logits outside the validation range exceed it (the report says so).
//
// Noise: drawn from a CSPRNG (math::SystemPrng outside tests), continuous Laplace or
// Gaussian by inversion / Box-Muller over 53-bit uniforms, truncated at the output's
// dp_noise_bound, then rounded to the output's fixed-point grid (BFV/BGV) by the backend.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <vector>

#include "math/prng.h"
#include "nn/compiler/compiler.h"
#include "nn/compiler/program.h"
#include "nn/runtime/combiners.h"

namespace hecnn::nn::runtime {

// The plan's combiner instructions run in doubles on the members' real logits
// (member_logits[i] for member i): the combined outputs in Program::outputs order
// (members skipped). float_reference uses it.
std::vector<std::vector<double>> combine_float(const compiler::Program& prog, const std::vector<std::vector<double>>& member_logits);

// Each combiner output's member-level sensitivity (above) on validation logits v, for
// `mechanism` ("laplace": L1, "gaussian": L2). Keyed by combiner.
std::map<compiler::Combiner, double> measure_sensitivity(const compiler::Program& prog, const MemberLogits& v,
                                                         const std::string& mechanism);

// `count` noise samples of output o (score units), truncated at o.dp_noise_bound.
std::vector<double> sample_noise(const compiler::OutputPrivacy& p, const compiler::Output& o, std::size_t count, math::Prng& prng);

}  // namespace hecnn::nn::runtime
