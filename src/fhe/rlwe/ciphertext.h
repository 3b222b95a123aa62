// Ciphertexts and keys as plain data, in SEAL's memory layout.
//
// A Ciphertext holds `size` polynomials, each with `num_primes` residues of N
// coefficients: word ((poly * num_primes) + prime) * N + coeff. BFV ciphertexts
// are in coefficient form, CKKS ciphertexts and every key in NTT form. The
// primes are always the first `num_primes` primes of the Context.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <stdexcept>
#include <vector>

#include "math/modulus.h"
#include "math/secure.h"

namespace hecnn::rlwe {

using math::u64;

// SEAL's parms_id: BLAKE2b-256 of [scheme, N, the primes of one level, t] (params.h).
using ParmsId = std::array<u64, 4>;

struct Ciphertext {
  std::size_t n = 0;
  std::size_t num_primes = 0;
  std::size_t size = 0;
  bool ntt_form = false;
  double scale = 1.0;  // CKKS only; BFV keeps 1.0
  // BGV only (1 otherwise): the phase c0 + c1 s + ... is correction_factor * m + t e, so the
  // message is m = phase * correction_factor^-1 mod t. A modulus switch from k primes
  // multiplies it by q_{k-1}^-1 mod t, a product multiplies the factors (SEAL 4.x's field).
  u64 correction_factor = 1;
  // The parameters and level it was made under (Context::parms_id(num_primes)), set by
  // whatever creates or re-levels a ciphertext and checked by every evaluator call and
  // decryption: ciphertexts of different parameters (e.g. two BFV CRT residues, whose
  // contexts differ only in t) cannot be mixed silently.
  ParmsId parms_id{};
  std::vector<u64> data;

  Ciphertext() = default;
  Ciphertext(std::size_t n_, std::size_t primes, std::size_t polys, bool ntt)
      : n(n_), num_primes(primes), size(polys), ntt_form(ntt), data(n_ * primes * polys, 0) {}

  // Grows with zero polynomials or drops the last ones. Shrinking releases the memory
  // (one copy of what is kept): a ciphertext's buffer is its size, so memory estimates
  // that count ciphertexts at their level and part count hold (a relinearized 2-part
  // ciphertext would otherwise keep its 3-part buffer).
  void resize(std::size_t polys) {
    const bool shrink = polys < size;
    size = polys;
    data.resize(n * num_primes * polys, 0);
    if (shrink) data.shrink_to_fit();
  }
  u64* poly(std::size_t i) { return data.data() + i * num_primes * n; }
  const u64* poly(std::size_t i) const { return data.data() + i * num_primes * n; }
  u64* residue(std::size_t i, std::size_t prime) { return poly(i) + prime * n; }
  const u64* residue(std::size_t i, std::size_t prime) const { return poly(i) + prime * n; }
  std::size_t poly_words() const { return num_primes * n; }
};

// The secret s, uniform ternary, stored in NTT form at the key level (all primes).
// The secret s in NTT form at the key level; its storage is wiped when released.
struct SecretKey {
  math::SecretVector<u64> data;  // key_primes * N
};

// pk = (-(a s + e), a) in NTT form at the key level.
struct PublicKey {
  Ciphertext ct;
};

// Key-switching key from s' to s (SEAL semantics): parts[j] is a fresh
// encryption of zero under s at the key level, NTT form, with (P mod q_j) * s'
// added to residue j of its first polynomial. One part per data prime.
struct KSwitchKey {
  std::vector<Ciphertext> parts;
};

// Relinearization key: switches from s^2 to s.
struct RelinKeys {
  KSwitchKey key;
};

// Galois keys indexed by Galois element g (odd, < 2N): each switches from s(X^g) to s.
struct GaloisKeys {
  std::map<u64, KSwitchKey> keys;
  bool has(u64 galois_elt) const { return keys.count(galois_elt) != 0; }
  const KSwitchKey& at(u64 galois_elt) const;
};

}  // namespace hecnn::rlwe
