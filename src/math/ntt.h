// Negacyclic number-theoretic transform over Z_q[X]/(X^N + 1), SEAL's convention.
//
// psi is the smallest primitive 2N-th root of unity mod q. The forward transform
// takes natural-order coefficients to bit-reversed evaluations:
//     ntt(a)[j] = a(psi^(2 * bitrev_logN(j) + 1)),
// so a product of polynomials is the slot-wise product of their transforms.
// Both directions use Harvey's lazy butterflies with Shoup precomputed twiddles
// (values stay below 4q inside, q < 2^61) and return fully reduced values.
// Cost: (N/2) log2 N butterflies, each one high and two low multiplies.
// Tables are immutable once built and safe to share between threads.
#pragma once

#include <cstddef>
#include <vector>

#include "math/modulus.h"

namespace hecnn::math {

class NttTables {
 public:
  // Throws std::invalid_argument if N is not a power of two in [2, 2^17] or
  // q is not ≡ 1 mod 2N.
  NttTables(std::size_t n, const Modulus& q);

  std::size_t n() const { return n_; }
  int log_n() const { return log_n_; }
  const Modulus& modulus() const { return q_; }
  u64 root() const { return root_; }
  // psi^bitrev(i), i = 0 .. N-1 (index 0 unused by the butterflies).
  const std::vector<ShoupOperand>& root_powers() const { return roots_; }
  // psi^-bitrev(i).
  const std::vector<ShoupOperand>& inv_root_powers() const { return inv_roots_; }
  const ShoupOperand& inv_n() const { return inv_n_; }

  // AVX-512 IFMA path (52-bit multiplies): used when the CPU has it and q < 2^50.
  // Twiddles and their 52-bit Shoup quotients floor(w 2^52 / q), struct-of-arrays.
  bool use_ifma() const { return use_ifma_; }
  const std::vector<u64>& ifma_roots() const { return ifma_w_; }
  const std::vector<u64>& ifma_roots_quot() const { return ifma_wq_; }
  const std::vector<u64>& ifma_inv_roots() const { return ifma_iw_; }
  const std::vector<u64>& ifma_inv_roots_quot() const { return ifma_iwq_; }

  // AVX2 path (32-bit Shoup multiplies in 64-bit lanes): used when IFMA is not, the CPU
  // has AVX2, q < 2^31 and N >= 8. Quotients floor(w 2^32 / q) of the twiddles above.
  bool use_avx2() const { return use_avx2_; }
  const std::vector<u64>& avx2_roots_quot() const { return avx2_wq_; }
  const std::vector<u64>& avx2_inv_roots_quot() const { return avx2_iwq_; }
  u64 avx2_inv_n_quot() const { return avx2_inv_nq_; }

 private:
  std::size_t n_;
  int log_n_;
  Modulus q_;
  u64 root_;
  std::vector<ShoupOperand> roots_, inv_roots_;
  ShoupOperand inv_n_;
  bool use_ifma_ = false;
  std::vector<u64> ifma_w_, ifma_wq_, ifma_iw_, ifma_iwq_;
  bool use_avx2_ = false;
  std::vector<u64> avx2_wq_, avx2_iwq_;
  u64 avx2_inv_nq_ = 0;
};

// True if this CPU runs the AVX-512 IFMA kernels (and HECNN_DISABLE_AVX512 is unset).
bool cpu_has_ifma();
// True if this CPU runs the AVX2 kernels (and HECNN_DISABLE_AVX2 is unset).
bool cpu_has_avx2();

namespace detail {
// The portable kernels, always available (also used by tests as the reference).
void ntt_forward_scalar(u64* a, const NttTables& t);
void ntt_inverse_scalar(u64* a, const NttTables& t);
// One stage of them (m butterfly groups at distance t; values below 4q, lazily reduced).
void ntt_forward_stage_scalar(u64* a, const NttTables& tab, std::size_t m, std::size_t t);
void ntt_inverse_stage_scalar(u64* a, const NttTables& tab, std::size_t m, std::size_t t);
// The IFMA kernels; only call when t.use_ifma().
void ntt_forward_ifma(u64* a, const NttTables& t);
void ntt_inverse_ifma(u64* a, const NttTables& t);
// The AVX2 kernels; only call when the CPU has AVX2 and q < 2^31 (t.use_avx2() or a test).
void ntt_forward_avx2(u64* a, const NttTables& t);
void ntt_inverse_avx2(u64* a, const NttTables& t);
}  // namespace detail

// In place; input values must be < 4q (any reduced input is fine).
void ntt_forward(u64* a, const NttTables& t);
// In place; input values must be < 2q. Includes the 1/N factor.
void ntt_inverse(u64* a, const NttTables& t);

// Reference O(N^2) negacyclic product c = a * b mod (X^N + 1, q), for tests.
std::vector<u64> negacyclic_multiply_schoolbook(const std::vector<u64>& a, const std::vector<u64>& b,
                                                const Modulus& q);

inline std::size_t bit_reverse(std::size_t x, int bits) {
  std::size_t r = 0;
  for (int i = 0; i < bits; ++i) {
    r = (r << 1) | (x & 1);
    x >>= 1;
  }
  return r;
}

}  // namespace hecnn::math
