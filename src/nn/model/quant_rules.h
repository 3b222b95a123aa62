// The BFV quantization rules of a model's numbers, shared by the compiler (which turns a
// model into integers with them, compiler.h) and quantization-aware training (which trains
// through them and exports values that they leave unchanged, train/qat.h).
//
//   input    X = round(raw * 2^(input_bits - 8)) for 8-bit raw values
//   weights  per conv/dense layer W = round(w * 2^k), k = weight_exponent(w, bits)
//   poly     c_j (j >= 1) rounded at 2^-coeff_bits
// round() is half away from zero (std::llround) everywhere.
#pragma once

#include <cstdint>
#include <span>

namespace hecnn::nn {

// The largest power-of-two exponent k with max|w| * 2^k <= 2^(bits - 1) - 1, clamped to
// [-60, 60]; 0 for an all-zero layer. Values must be finite (not checked here).
int weight_exponent(std::span<const double> w, int bits);

// The 8-bit raw value as the quantized program sees it, in raw units:
// round(raw * 2^(input_bits - 8)) * 2^(8 - input_bits). input_bits in 1..8.
double quantized_raw(std::uint8_t raw, int input_bits);

// w on the grid of 2^-k: round(w * 2^k) / 2^k.
double on_grid(double w, int k);

// The fewest weight bits (2..24) whose grid holds every w exactly (w * 2^k an integer at
// k = weight_exponent(w, bits)); at more bits the grid is finer and holds them too. 0 when
// none does (any trained float layer); the layers quantization-aware training wrote have one.
int grid_bits(std::span<const double> w);

}  // namespace hecnn::nn
