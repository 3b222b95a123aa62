// RNS polynomial helpers shared by BFV and CKKS. A "poly" is num_primes
// residues of N words, prime-major, over the first num_primes primes of the
// Context. Work over primes is spread over cores.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fhe/rlwe/params.h"

namespace hecnn::rlwe {

void ntt_forward_poly(const Context& ctx, u64* poly, std::size_t num_primes);
void ntt_inverse_poly(const Context& ctx, u64* poly, std::size_t num_primes);

void add_poly(const Context& ctx, const u64* a, const u64* b, u64* out, std::size_t num_primes);
void sub_poly(const Context& ctx, const u64* a, const u64* b, u64* out, std::size_t num_primes);
void negate_poly(const Context& ctx, const u64* a, u64* out, std::size_t num_primes);
// Slot-wise product (both in NTT form).
void mul_poly(const Context& ctx, const u64* a, const u64* b, u64* out, std::size_t num_primes);
// out += a * b (NTT form).
void mul_add_poly(const Context& ctx, const u64* a, const u64* b, u64* out, std::size_t num_primes);

// Replaces a (num_primes residues) by round(a / q_last) over the first
// num_primes - 1 primes, in place (the result occupies the first residues).
// ntt_form selects the form of input and output. Cost: 1 inverse NTT, and
// num_primes - 1 forward NTTs when in NTT form.
void divide_and_round_by_last(const Context& ctx, u64* a, std::size_t num_primes, bool ntt_form);

}  // namespace hecnn::rlwe
