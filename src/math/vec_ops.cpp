#include "math/vec_ops.h"

#include "math/ifma_constants.h"
#include "math/ntt.h"

namespace hecnn::math {

bool vec_ops_use_ifma(const Modulus& q, std::size_t n) { return n % 8 == 0 && q.bits() <= 50 && cpu_has_ifma(); }
bool vec_ops_use_avx2(const Modulus& q, std::size_t n) {
  return n % 4 == 0 && q.bits() <= 31 && !vec_ops_use_ifma(q, n) && cpu_has_avx2();
}

void mul_mod_vec(const u64* a, const u64* b, u64* out, std::size_t n, const Modulus& q) {
  if (vec_ops_use_ifma(q, n)) {
    detail::mul_mod_ifma(a, b, out, n, q.value(), q.bits(), ifma::barrett_factor52(q), false);
    return;
  }
  if (vec_ops_use_avx2(q, n)) {
    detail::mul_mod_avx2(a, b, out, n, q.value(), q.bits(), false);
    return;
  }
  for (std::size_t i = 0; i < n; ++i) out[i] = q.mul(a[i], b[i]);
}

void mul_add_mod_vec(const u64* a, const u64* b, u64* out, std::size_t n, const Modulus& q) {
  if (vec_ops_use_ifma(q, n)) {
    detail::mul_mod_ifma(a, b, out, n, q.value(), q.bits(), ifma::barrett_factor52(q), true);
    return;
  }
  if (vec_ops_use_avx2(q, n)) {
    detail::mul_mod_avx2(a, b, out, n, q.value(), q.bits(), true);
    return;
  }
  for (std::size_t i = 0; i < n; ++i) out[i] = q.add(out[i], q.mul(a[i], b[i]));
}

void tensor_mod_vec(const u64* x0, const u64* x1, const u64* y0, const u64* y1, u64* d0, u64* d1, u64* d2, std::size_t n,
                    const Modulus& q) {
  if (vec_ops_use_ifma(q, n)) {
    detail::tensor_mod_ifma(x0, x1, y0, y1, d0, d1, d2, n, q.value(), q.bits(), ifma::barrett_factor52(q));
    return;
  }
  if (vec_ops_use_avx2(q, n)) {  // four AVX2 passes, in the order the aliasing rule allows
    mul_mod_vec(x1, y1, d2, n, q);
    mul_mod_vec(x1, y0, d1, n, q);
    mul_add_mod_vec(x0, y1, d1, n, q);
    mul_mod_vec(x0, y0, d0, n, q);
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const u64 a0 = x0[i], a1 = x1[i], b0 = y0[i], b1 = y1[i];
    d0[i] = q.mul(a0, b0);
    d1[i] = q.reduce(static_cast<u128>(a0) * b1 + static_cast<u128>(a1) * b0);
    d2[i] = q.mul(a1, b1);
  }
}

void square_tensor_mod_vec(const u64* x0, const u64* x1, u64* d0, u64* d1, u64* d2, std::size_t n, const Modulus& q) {
  if (vec_ops_use_ifma(q, n)) {
    detail::tensor_mod_ifma(x0, x1, nullptr, nullptr, d0, d1, d2, n, q.value(), q.bits(), ifma::barrett_factor52(q));
    return;
  }
  if (vec_ops_use_avx2(q, n)) {
    mul_mod_vec(x1, x1, d2, n, q);
    mul_mod_vec(x0, x1, d1, n, q);
    add_mod_vec(d1, d1, d1, n, q);
    mul_mod_vec(x0, x0, d0, n, q);
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const u64 a0 = x0[i], a1 = x1[i];
    const u64 c = q.mul(a0, a1);
    d0[i] = q.mul(a0, a0);
    d1[i] = q.add(c, c);
    d2[i] = q.mul(a1, a1);
  }
}

void add_mod_vec(const u64* a, const u64* b, u64* out, std::size_t n, const Modulus& q) {
  if (vec_ops_use_ifma(q, n)) {
    detail::add_sub_mod_ifma(a, b, out, n, q.value(), false);
    return;
  }
  const u64 qv = q.value();
  for (std::size_t i = 0; i < n; ++i) {
    const u64 s = a[i] + b[i];
    out[i] = s >= qv ? s - qv : s;
  }
}

void sub_mod_vec(const u64* a, const u64* b, u64* out, std::size_t n, const Modulus& q) {
  if (vec_ops_use_ifma(q, n)) {
    detail::add_sub_mod_ifma(a, b, out, n, q.value(), true);
    return;
  }
  const u64 qv = q.value();
  for (std::size_t i = 0; i < n; ++i) {
    const u64 d = a[i] + qv - b[i];
    out[i] = d >= qv ? d - qv : d;
  }
}

}  // namespace hecnn::math
