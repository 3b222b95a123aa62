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
