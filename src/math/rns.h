// Residue number system bases and base conversion.
//
// An RnsBase is an ordered list of pairwise coprime word-sized moduli q_i with
// Q = prod q_i. A value x in [0, Q) is stored as its residues x mod q_i; an RNS
// polynomial of N coefficients is stored prime-major: residue i of coefficient c
// at index i * N + c (SEAL's layout).
//
// BaseConverter maps residues in base Q to base P:
//   fast():  y_i = [x_i * (Q/q_i)^-1]_{q_i};  out_j = sum_i y_i * (Q/q_i) mod p_j,
//            i.e. x + a*Q for some 0 <= a < |Q| (HPS / BEHZ "fast base conversion").
//   exact(): subtracts round(sum_i y_i / q_i) * Q as well, so out = x centered
//            into (-Q/2, Q/2] (wrong only when x/Q is within |Q| * 2^-52 of 1/2).
// Cost: |Q| Shoup multiplies plus |Q| * |P| multiply-accumulates per coefficient.
#pragma once

#include <cstddef>
#include <vector>

#include "math/biguint.h"
#include "math/modulus.h"

namespace hecnn::math {

class RnsBase {
 public:
  RnsBase() = default;
  // Throws std::invalid_argument if the moduli are empty or not pairwise coprime.
  explicit RnsBase(std::vector<Modulus> moduli);
  explicit RnsBase(const std::vector<u64>& values);

  std::size_t size() const { return moduli_.size(); }
  const Modulus& operator[](std::size_t i) const { return moduli_[i]; }
  const std::vector<Modulus>& moduli() const { return moduli_; }
  const BigUInt& product() const { return product_; }
  // [(Q/q_i)^-1]_{q_i} in Shoup form.
  const ShoupOperand& inv_punctured(std::size_t i) const { return inv_punctured_[i]; }
  // Q/q_i as a big integer.
  const BigUInt& punctured(std::size_t i) const { return punctured_[i]; }

  // Reconstructs x in [0, Q) from residues[i * stride] (CRT).
  BigUInt compose(const u64* residues, std::size_t stride = 1) const;
  // The first `count` moduli as a new base.
  RnsBase prefix(std::size_t count) const;

 private:
  std::vector<Modulus> moduli_;
  BigUInt product_;
  std::vector<BigUInt> punctured_;
  std::vector<ShoupOperand> inv_punctured_;
};

class BaseConverter {
 public:
  BaseConverter(RnsBase from, RnsBase to);
  const RnsBase& from() const { return from_; }
  const RnsBase& to() const { return to_; }

  // in: from().size() x n residues (prime-major); out: to().size() x n residues.
  void fast(const u64* in, u64* out, std::size_t n) const;
  void exact(const u64* in, u64* out, std::size_t n) const;

 private:
  void convert(const u64* in, u64* out, std::size_t n, bool exact) const;
  void convert_ifma(const u64* in, u64* out, std::size_t n, bool exact) const;
  void convert_ifma_block(const u64* in, u64* out, std::size_t n, bool exact, std::size_t c0, std::size_t c1) const;
  RnsBase from_, to_;
  // AVX-512 IFMA path: all moduli < 2^50, |from| < 16; 52-bit Shoup quotients.
  bool use_ifma_ = false;
  std::vector<u64> inv_punctured_q52_;  // floor([(Q/q_i)^-1] 2^52 / q_i)
  std::vector<u64> punctured_q52_;      // [j * |from| + i] = floor(((Q/q_i) mod p_j) 2^52 / p_j)
  std::vector<u64> punctured_mod_to_;   // [j * |from| + i] = (Q/q_i) mod p_j
  std::vector<u64> vq_mod_to_;          // [j * (|from| + 1) + v] = v Q mod p_j, v = 0 .. |from|
  std::vector<double> inv_from_;        // 1 / q_i
};

}  // namespace hecnn::math
