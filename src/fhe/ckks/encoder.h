// CKKS encoder: complex (or real) vectors of up to N/2 slots <-> plaintexts.
//
// Slot i is the canonical embedding at zeta^(3^i mod 2N), zeta = e^(i pi / N),
// and slot N/2 + i holds its conjugate (SEAL's CKKSEncoder order), so rotating
// by k (Galois element 3^k) moves slot i + k to slot i. Encoding is an inverse
// "special FFT" (a negacyclic complex transform with the NTT's bit-reversed
// layout), times the scale, rounding, reduction per prime and a forward NTT per
// prime; decoding reverses it, composing the residues exactly (CRT) before
// converting to double. Vectors shorter than N/2 are padded with zeros.
//
// Errors (std::invalid_argument): more than N/2 values; a non-finite value; a
// scale that is not positive or not below the level's modulus; scaled
// coefficients too large for the modulus at that level (|coeff| >= Q/2).
// Cost: encode (N/2) log2 N complex butterflies + k NTTs; decode k inverse NTTs,
// O(k^2) word multiplies per coefficient to compose, and the same FFT.
// Encoder is immutable after construction and safe to share between threads.
#pragma once

#include <complex>
#include <cstdint>
#include <vector>

#include "fhe/ckks/plaintext.h"
#include "fhe/rlwe/params.h"

namespace hecnn::ckks {

using cplx = std::complex<double>;

class Encoder {
 public:
  explicit Encoder(rlwe::ContextPtr ctx);

  std::size_t slot_count() const { return ctx_->n() / 2; }
  const rlwe::Context& context() const { return *ctx_; }

  // At num_primes data primes (1 .. max_data_primes).
  Plaintext encode(const std::vector<cplx>& values, double scale, std::size_t num_primes) const;
  Plaintext encode(const std::vector<double>& values, double scale, std::size_t num_primes) const;
  // At the top data level.
  Plaintext encode(const std::vector<cplx>& values, double scale) const;
  Plaintext encode(const std::vector<double>& values, double scale) const;
  // The same real value in every slot: a constant polynomial, no FFT and no NTT
  // (a constant's NTT is itself). Cost O(k N) word writes.
  Plaintext encode_scalar(double value, double scale, std::size_t num_primes) const;

  std::vector<cplx> decode_complex(const Plaintext& pt) const;
  // Real parts of the slots.
  std::vector<double> decode(const Plaintext& pt) const;

  // Position in the bit-reversed evaluation array of slot i (i < N; i >= N/2 are the conjugates).
  std::size_t slot_position(std::size_t i) const { return index_map_[i]; }

 private:
  struct LevelCompose {
    std::size_t words = 0;         // limbs of Q plus one
    std::vector<u64> q, half_q;    // Q and floor(Q / 2), `words` limbs each
    std::vector<u64> punctured;    // [i * words + w] = limb w of Q / q_i
  };
  Plaintext encode_coeffs(const std::vector<cplx>& fft_values, double scale, std::size_t num_primes,
                          const char* what) const;
  void check_level_and_scale(double scale, std::size_t num_primes, const char* what) const;

  rlwe::ContextPtr ctx_;
  std::vector<std::uint32_t> index_map_;  // N entries
  std::vector<cplx> roots_;               // zeta^bitrev(i), i < N
  std::vector<LevelCompose> compose_;     // per prime count - 1
};

// Residues of the integer-valued double c (any magnitude below 2^1023) modulo
// the first num_primes primes: out[j * stride] = c mod q_j. Exact.
void integer_to_rns(const rlwe::Context& ctx, double c, std::size_t num_primes, u64* out, std::size_t stride);

// In place, length N = roots.size(), natural-order coefficients to bit-reversed
// evaluations: a[j] <- a(zeta^(2 bitrev(j) + 1)). Exposed for tests.
void special_fft_forward(cplx* a, const std::vector<cplx>& roots);
// The exact inverse, without the 1/N factor.
void special_fft_inverse_unscaled(cplx* a, const std::vector<cplx>& roots);

}  // namespace hecnn::ckks
