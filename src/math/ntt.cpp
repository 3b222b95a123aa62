#include "math/ntt.h"

#include <bit>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "math/ifma_constants.h"
#include "math/primes.h"

namespace hecnn::math {

NttTables::NttTables(std::size_t n, const Modulus& q) : n_(n), q_(q) {
  if (n < 2 || n > (std::size_t{1} << 17) || (n & (n - 1)) != 0) {
    throw std::invalid_argument("NTT size " + std::to_string(n) + " is not a power of two in [2, 2^17]");
  }
  log_n_ = std::countr_zero(n);
  root_ = minimal_primitive_root(2 * n, q.value());
  const u64 inv_root = q.inv(root_);
  roots_.resize(n);
  inv_roots_.resize(n);
  u64 p = 1, ip = 1;
  std::vector<u64> pow(n), ipow(n);
  for (std::size_t i = 0; i < n; ++i) {
    pow[i] = p;
    ipow[i] = ip;
    p = q.mul(p, root_);
    ip = q.mul(ip, inv_root);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t r = bit_reverse(i, log_n_);
    roots_[i] = ShoupOperand(pow[r], q);
    inv_roots_[i] = ShoupOperand(ipow[r], q);
  }
  inv_n_ = ShoupOperand(q.inv(n % q.value()), q);
  use_ifma_ = cpu_has_ifma() && q.bits() <= 50 && n >= 16;
  if (use_ifma_) {
    auto quot52 = [&](u64 w) { return ifma::shoup_quotient52(w, q.value()); };
    for (std::size_t i = 0; i < n; ++i) {
      ifma_w_.push_back(roots_[i].operand);
      ifma_wq_.push_back(quot52(roots_[i].operand));
      ifma_iw_.push_back(inv_roots_[i].operand);
      ifma_iwq_.push_back(quot52(inv_roots_[i].operand));
    }
    // Padding so 8-wide loads near the end stay in bounds.
    for (int i = 0; i < 8; ++i) {
      ifma_w_.push_back(0); ifma_wq_.push_back(0); ifma_iw_.push_back(0); ifma_iwq_.push_back(0);
    }
  }
  if (q.bits() <= 31 && n >= 8) {
    auto quot32 = [&](u64 w) { return static_cast<u64>((static_cast<unsigned __int128>(w) << 32) / q.value()); };
    avx2_wq_.resize(n);
    avx2_iwq_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      avx2_wq_[i] = quot32(roots_[i].operand);
      avx2_iwq_[i] = quot32(inv_roots_[i].operand);
    }
    avx2_inv_nq_ = quot32(inv_n_.operand);
    use_avx2_ = !use_ifma_ && cpu_has_avx2();
  }
}

bool cpu_has_avx2() {
  static const bool has = [] {
    if (std::getenv("HECNN_DISABLE_AVX2") != nullptr) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has;
}

bool cpu_has_ifma() {
  static const bool has = [] {
    if (std::getenv("HECNN_DISABLE_AVX512") != nullptr) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512ifma");
  }();
  return has;
}

void ntt_forward(u64* a, const NttTables& tab) {
  if (tab.use_ifma()) {
    detail::ntt_forward_ifma(a, tab);
  } else if (tab.use_avx2()) {
    detail::ntt_forward_avx2(a, tab);
  } else {
    detail::ntt_forward_scalar(a, tab);
  }
}

void ntt_inverse(u64* a, const NttTables& tab) {
  if (tab.use_ifma()) {
    detail::ntt_inverse_ifma(a, tab);
  } else if (tab.use_avx2()) {
    detail::ntt_inverse_avx2(a, tab);
  } else {
    detail::ntt_inverse_scalar(a, tab);
  }
}

void detail::ntt_forward_stage_scalar(u64* a, const NttTables& tab, std::size_t m, std::size_t t) {
  const u64 q = tab.modulus().value();
  const u64 two_q = 2 * q;
  const ShoupOperand* roots = tab.root_powers().data();
  for (std::size_t i = 0; i < m; ++i) {
    const ShoupOperand w = roots[m + i];
    u64* x = a + 2 * i * t;
    u64* y = x + t;
    for (std::size_t j = 0; j < t; ++j) {
      u64 u = x[j];
      u = u >= two_q ? u - two_q : u;
      const u64 v = mul_shoup_lazy(y[j], w, q);
      x[j] = u + v;
      y[j] = u + two_q - v;
    }
  }
}

void detail::ntt_forward_scalar(u64* a, const NttTables& tab) {
  const u64 q = tab.modulus().value();
  const u64 two_q = 2 * q;
  const std::size_t n = tab.n();
  std::size_t t = n;
  for (std::size_t m = 1; m < n; m <<= 1) {
    t >>= 1;
    ntt_forward_stage_scalar(a, tab, m, t);
  }
  for (std::size_t i = 0; i < n; ++i) {
    u64 v = a[i];
    v = v >= two_q ? v - two_q : v;
    a[i] = v >= q ? v - q : v;
  }
}

void detail::ntt_inverse_stage_scalar(u64* a, const NttTables& tab, std::size_t m, std::size_t t) {
  const u64 q = tab.modulus().value();
  const u64 two_q = 2 * q;
  const ShoupOperand* roots = tab.inv_root_powers().data();
  for (std::size_t i = 0; i < m; ++i) {
    const ShoupOperand w = roots[m + i];
    u64* x = a + 2 * i * t;
    u64* y = x + t;
    for (std::size_t j = 0; j < t; ++j) {
      const u64 u = x[j], v = y[j];
      u64 s = u + v;
      x[j] = s >= two_q ? s - two_q : s;
      y[j] = mul_shoup_lazy(u + two_q - v, w, q);
    }
  }
}

void detail::ntt_inverse_scalar(u64* a, const NttTables& tab) {
  const u64 q = tab.modulus().value();
  const std::size_t n = tab.n();
  std::size_t t = 1;
  for (std::size_t m = n >> 1; m >= 1; m >>= 1) {
    ntt_inverse_stage_scalar(a, tab, m, t);
    t <<= 1;
  }
  const ShoupOperand inv_n = tab.inv_n();
  for (std::size_t i = 0; i < n; ++i) a[i] = mul_shoup(a[i], inv_n, q);
}

std::vector<u64> negacyclic_multiply_schoolbook(const std::vector<u64>& a, const std::vector<u64>& b,
                                                const Modulus& q) {
  const std::size_t n = a.size();
  if (b.size() != n) throw std::invalid_argument("schoolbook: operand sizes differ");
  std::vector<u64> c(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const u64 prod = q.mul(a[i], b[j]);
      const std::size_t k = i + j;
      if (k < n) {
        c[k] = q.add(c[k], prod);
      } else {
        c[k - n] = q.sub(c[k - n], prod);
      }
    }
  }
  return c;
}

}  // namespace hecnn::math
