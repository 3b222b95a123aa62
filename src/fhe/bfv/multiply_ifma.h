// IFMA kernels for BFV multiplication (see multiply_ifma.cpp). Call only when
// LevelTables::ifma is set; n and block bounds must be multiples of 8.
#pragma once

#include "fhe/bfv/level_tables.h"
#include "fhe/rlwe/params.h"

namespace hecnn::bfv::detail {

// (The tensor product is math::detail::tensor_mod_ifma, shared with BGV and CKKS.)
// z = round(t d / Q) mod P for coefficients [c0, c1) of d (over Q u P).
void scale_round_ifma(const LevelTables& L, const rlwe::Context& ctx, const u64* d, u64* z, std::size_t n,
                      std::size_t c0, std::size_t c1);

}  // namespace hecnn::bfv::detail
