// Element-wise modular arithmetic on word arrays, the inner loops of polynomial
// arithmetic in NTT form. With AVX-512 IFMA and q < 2^50 they run 8 lanes wide
// (52-bit Barrett, see vec_ops_ifma.cpp); without it, products for q < 2^31 run 4 lanes
// wide with AVX2 (vec_ops_avx2.cpp); otherwise portable scalar loops.
// Inputs must be reduced (< q); outputs are reduced. Output may alias inputs.
#pragma once

#include <cstddef>

#include "math/modulus.h"

namespace hecnn::math {

void mul_mod_vec(const u64* a, const u64* b, u64* out, std::size_t n, const Modulus& q);
// out = out + a * b
void mul_add_mod_vec(const u64* a, const u64* b, u64* out, std::size_t n, const Modulus& q);
void add_mod_vec(const u64* a, const u64* b, u64* out, std::size_t n, const Modulus& q);
void sub_mod_vec(const u64* a, const u64* b, u64* out, std::size_t n, const Modulus& q);

// The tensor product of two 2-part ciphertext residues (x0 + x1 X)(y0 + y1 X):
// d0 = x0 y0, d1 = x0 y1 + x1 y0, d2 = x1 y1. Each word of x and y is read before the same
// position of d is written, so d0 may alias x0 and d1 x1 (in place); d2 must not alias an
// input. The square: d0 = x0^2, d1 = 2 x0 x1, d2 = x1^2, under the same rule. One pass with
// IFMA (q < 2^50), else portable loops.
void tensor_mod_vec(const u64* x0, const u64* x1, const u64* y0, const u64* y1, u64* d0, u64* d1, u64* d2, std::size_t n,
                    const Modulus& q);
void square_tensor_mod_vec(const u64* x0, const u64* x1, u64* d0, u64* d1, u64* d2, std::size_t n, const Modulus& q);

// True when the vector kernels are used for this modulus and length.
bool vec_ops_use_ifma(const Modulus& q, std::size_t n);
// Without IFMA: products by the AVX2 kernel when the CPU has it and q < 2^31.
bool vec_ops_use_avx2(const Modulus& q, std::size_t n);

namespace detail {
void mul_mod_ifma(const u64* a, const u64* b, u64* out, std::size_t n, u64 q, int bits, u64 mu, bool accumulate);
void add_sub_mod_ifma(const u64* a, const u64* b, u64* out, std::size_t n, u64 q, bool subtract);
// tensor_mod_vec / square_tensor_mod_vec's IFMA kernels (n a multiple of 8, q < 2^50;
// mu = ifma::barrett_factor52(q)); square when y0 and y1 are null.
void tensor_mod_ifma(const u64* x0, const u64* x1, const u64* y0, const u64* y1, u64* d0, u64* d1, u64* d2, std::size_t n,
                     u64 q, int bits, u64 mu);
// n a multiple of 4, q < 2^31, inputs reduced; only call when the CPU has AVX2.
void mul_mod_avx2(const u64* a, const u64* b, u64* out, std::size_t n, u64 q, int bits, bool accumulate);
}  // namespace detail

}  // namespace hecnn::math
