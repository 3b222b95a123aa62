// Cleartext slot simulator: runs a compiled Program on plain integers, either
// modulo one plaintext prime t (exactly what BFV computes, slot by slot: the test
// oracle for the HE backend) or exactly in 128-bit integers (the quantized
// plaintext model; throws if a guaranteed bound could overflow), or in doubles
// (the CKKS reference).
#pragma once

#include <cstdint>
#include <vector>

#include "math/biguint.h"
#include "nn/compiler/program.h"

namespace hecnn::nn::runtime {

using i128 = __int128;

// values[tensor][element][slot]
template <typename T>
using TensorValues = std::vector<std::vector<std::vector<T>>>;

struct SimulationOptions {
  bool keep_all = false;  // keep every tensor (layer-by-layer comparison); else outputs only
};

// inputs[element][slot]: the quantized images (Program::quantize_input), one image per slot.
// Returns values for every tensor (empty vectors for the ones not kept). Residues in [0, t).
TensorValues<std::uint64_t> simulate_mod(const compiler::Program& prog, const std::vector<std::vector<std::int64_t>>& inputs,
                                         std::uint64_t t, const SimulationOptions& opt = {});
TensorValues<i128> simulate_exact(const compiler::Program& prog, const std::vector<std::vector<std::int64_t>>& inputs,
                                  const SimulationOptions& opt = {});

// In double precision: a BFV program's integers (no bound on their size; relative
// error ~2^-50), or a CKKS program's real values with the weights its plan quantized
// (W / input_mult): the reference for CKKS.
TensorValues<double> simulate_real(const compiler::Program& prog, const std::vector<std::vector<std::int64_t>>& inputs,
                                   const SimulationOptions& opt = {});

// Transposes images (count x pixels) into the slot layout (pixels x count).
std::vector<std::vector<std::int64_t>> to_slots(const std::vector<std::vector<std::int64_t>>& images);

// CRT: residues r_i mod t_i -> the centered integer mod prod t_i (requires prod < 2^126).
i128 crt_centered(const std::vector<std::uint64_t>& residues, const std::vector<std::uint64_t>& moduli);

// The same for any number of primes (BFV programs whose outputs pass 125 bits,
// e.g. the poly-softmax combiner): sign and magnitude, compared exactly.
struct WideInt {
  bool negative = false;
  math::BigUInt magnitude;
  double to_double() const { return negative ? -magnitude.to_double() : magnitude.to_double(); }
  friend bool operator<(const WideInt& a, const WideInt& b);
  friend bool operator>(const WideInt& a, const WideInt& b) { return b < a; }
  friend bool operator==(const WideInt& a, const WideInt& b) {
    return a.magnitude == b.magnitude && (a.negative == b.negative || a.magnitude.is_zero());
  }
};
WideInt crt_centered_wide(const std::vector<std::uint64_t>& residues, const std::vector<std::uint64_t>& moduli);
// Whether a BFV program's plaintext primes or tensors need more than 125 bits
// (then simulate_exact refuses and outputs are decoded with crt_centered_wide).
bool needs_wide_integers(const compiler::Program& prog);

}  // namespace hecnn::nn::runtime
