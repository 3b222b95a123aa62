// A CKKS plaintext: a polynomial over the first num_primes primes of the
// Context, in NTT form (SEAL's convention), with the scale it was encoded at.
// Layout: residue j at data[j * N .. (j + 1) * N).
#pragma once

#include <cstddef>
#include <vector>

#include "fhe/rlwe/ciphertext.h"

namespace hecnn::ckks {

using rlwe::Ciphertext;
using rlwe::u64;

struct Plaintext {
  std::size_t n = 0;
  std::size_t num_primes = 0;
  double scale = 1.0;
  std::vector<u64> data;

  u64* residue(std::size_t prime) { return data.data() + prime * n; }
  const u64* residue(std::size_t prime) const { return data.data() + prime * n; }
};

}  // namespace hecnn::ckks
