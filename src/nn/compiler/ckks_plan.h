// CKKS parameter and scale planning for a lowered program (compiler internals).
//
// The CKKS backend runs the same integer program as BFV, approximately: a
// ciphertext holds message = integer * factor, where the factor starts at the
// input's and is multiplied by squares/products and divided by every rescaled
// prime. Integer weights multiply ciphertexts without changing the factor, so
// linear layers cost no level; only the message growth has to be rescaled away.
//
// Plan (greedy, in program order; M = log2 of a tensor's worst-case |message|):
//   input     M = noise + ckks_precision_bits (the client encodes at that factor)
//   (with calibration, Instr::log2_calibrated, every target below is raised by the
//   gap between the worst-case bound and the calibrated range + 2 bits, so the
//   precision holds for the values that occur; overflow stays excluded by the bound)
//   linear    inputs brought to one level (mod switch, no division); if their
//             factors differ, each input's weights are multiplied by
//             2^e * f_max / f_i (rounded; e keeps every such product >= 2^22)
//   square / multiply   factors multiply (x4 more with complex packing, whose
//             split into real and imaginary parts doubles each operand)
//   relinearize  followed by rescales that bring M back to noise + precision
//             (and at 2-part outputs, to precision + 1), with primes of <= 50 bits.
//             3-part ciphertexts are never rescaled: rounding their third part
//             adds noise times s^2, about 7 bits more than a 2-part rescale
// The chain is then [primes holding the largest output M, ..., the last rescale's
// primes, ..., the first rescale's primes, special prime] and N is the smallest
// power of two whose 128-bit bound (HE standard) fits it. A second pass with the
// real primes computes the exact factors and checks every tensor fits
// (|message| < Q / 4 at its level).
#pragma once

#include "nn/compiler/compiler.h"

namespace hecnn::nn::compiler {

// Fills prog.ckks, prog.keys, and every instruction's rescale / factor / level /
// input_mult. Throws CompileError if no 128-bit parameters fit.
// May be called again on a planned program (e.g. after calibration): it replans.
void plan_ckks(Program& prog, const CompileOptions& opt);

}  // namespace hecnn::nn::compiler
