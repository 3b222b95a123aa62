// CKKS parameter and scale planning for a lowered program (compiler internals).
//
// A CKKS program is a real-number program (program.h): real weights and biases,
// every tensor but the input at scale 1. The planner gives every tensor a factor
// (message = value * factor), turns each linear input's real weights into integers
// round(w * input_mult) (input_mult = output factor before rescaling / input factor,
// chosen so rounding stays below 2^-(weight_bits - 1) of the layer's largest
// contribution), and places rescales so messages stay bounded: depth costs levels.
//
// Plan (greedy, in program order; M = log2 of a tensor's |message| bound, where the
// bound is the worst-case one, or with calibration the calibrated range plus
// CompileOptions::ckks_overflow_margin_bits when smaller):
//   input     M = noise + ckks_precision_bits (the client encodes at that factor)
//   (with calibration, Instr::log2_calibrated, every target below is raised by the
//   gap between the fit range and the calibrated range + 2 bits, so the precision
//   holds for the values that occur)
//   linear    inputs brought to one level (mod switch, no division); factor of the
//             output = max_k factor_k * 2^e_k (e_k: the weight exponent above)
//   square / multiply   factors multiply (x4 more with complex packing, whose
//             split into real and imaginary parts doubles each operand)
//   any 2-part result whose M passed noise + precision by >= 22 bits is rescaled back
//             (and at outputs, to precision + 1), with primes of <= 50 bits.
//             3-part ciphertexts are never rescaled: rounding their third part
//             adds noise times s^2, about 7 bits more than a 2-part rescale
// The chain is then [primes holding the largest output M, ..., the last rescale's
// primes, ..., the first rescale's primes, special prime] and N is the smallest
// power of two up to 32768 whose 128-bit bound (HE standard) fits it. A second pass
// with the real primes computes the exact factors and checks every tensor fits
// (|message| < Q / 4 at its level).
#pragma once

#include "nn/compiler/compiler.h"

namespace hecnn::nn::compiler {

// Fills prog.ckks, prog.keys, and every instruction's rescale / factor / level /
// input_mult and every linear term's integer weight. Throws CompileError if no
// 128-bit parameters fit, or a realigned weight would pass 62 bits.
// May be called again on a planned program (e.g. after calibration): it replans.
void plan_ckks(Program& prog, const CompileOptions& opt);

}  // namespace hecnn::nn::compiler
