// A BFV plaintext: N coefficients mod t (coefficient form), as SEAL stores it.
#pragma once

#include <vector>

#include "fhe/rlwe/ciphertext.h"

namespace hecnn::bfv {

using rlwe::Ciphertext;
using rlwe::u64;

struct Plaintext {
  std::vector<u64> coeffs;
};

}  // namespace hecnn::bfv
