// IFMA kernels for BFV multiplication (see multiply_ifma.cpp). Call only when
// LevelTables::ifma is set; n and block bounds must be multiples of 8.
#pragma once

#include "fhe/bfv/level_tables.h"
#include "fhe/rlwe/params.h"

namespace hecnn::bfv::detail {

// d0 = x0 y0, d1 = x0 y1 + x1 y0, d2 = x1 y1 mod m (one residue of n words).
void tensor_ifma(const u64* x0, const u64* x1, const u64* y0, const u64* y1, u64* d0, u64* d1, u64* d2,
                 std::size_t n, u64 modulus, int bits, u64 mu);
// z = round(t d / Q) mod P for coefficients [c0, c1) of d (over Q u P).
void scale_round_ifma(const LevelTables& L, const rlwe::Context& ctx, const u64* d, u64* z, std::size_t n,
                      std::size_t c0, std::size_t c1);

}  // namespace hecnn::bfv::detail
