// AVX-512 IFMA base conversion (see rns.h for the algorithm); same results as the
// portable path, word for word. Requires every modulus < 2^50 and |from| < 16.
//   y_i   = [x_i (Q/q_i)^-1]_{q_i}                       52-bit Shoup, 8 lanes
//   v     = round(sum_i y_i / q_i)                        doubles (exact conversion)
//   out_j = sum_i [y_i (Q/q_i)]_{p_j} - [v Q]_{p_j}       Shoup per term, kept in [0, p_j)
#include "math/ifma.h"
#include "math/parallel.h"
#include "math/rns.h"

namespace hecnn::math {

void BaseConverter::convert_ifma(const u64* in, u64* out, std::size_t n, bool exact) const {
  constexpr std::size_t kBlock = 256;
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  parallel_for(blocks, [&](std::size_t b) {
    convert_ifma_block(in, out, n, exact, b * kBlock, std::min(n, (b + 1) * kBlock));
  });
}

HECNN_IFMA void BaseConverter::convert_ifma_block(const u64* in, u64* out, std::size_t n, bool exact, std::size_t c0,
                                                   std::size_t c1) const {
  const std::size_t k = from_.size();
  const std::size_t kp = to_.size();
  {
    for (std::size_t c = c0; c < c1; c += 8) {
      __m512i y[16];
      __m512d s = _mm512_setzero_pd();
      for (std::size_t i = 0; i < k; ++i) {
        const u64 qi = from_[i].value();
        y[i] = ifma::mul_shoup(_mm512_loadu_si512(in + i * n + c), ifma::set1(from_.inv_punctured(i).operand),
                               ifma::set1(inv_punctured_q52_[i]), ifma::set1(qi), ifma::set1((u64{1} << 52) - qi));
        // Multiply then add (no FMA) to round exactly like the portable path.
        if (exact) s = _mm512_add_pd(s, _mm512_mul_pd(_mm512_cvtepu64_pd(y[i]), _mm512_set1_pd(inv_from_[i])));
      }
      __m512i v = _mm512_setzero_si512();
      if (exact) {
        // floor(s + 0.5), as the portable path computes it (s >= 0).
        v = _mm512_cvt_roundpd_epu64(_mm512_add_pd(s, _mm512_set1_pd(0.5)), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        v = _mm512_min_epu64(v, _mm512_set1_epi64(static_cast<long long>(k)));
      }
      for (std::size_t j = 0; j < kp; ++j) {
        const u64 pj = to_[j].value();
        const __m512i p = ifma::set1(pj), neg_p = ifma::set1((u64{1} << 52) - pj);
        __m512i acc = _mm512_setzero_si512();
        for (std::size_t i = 0; i < k; ++i) {
          const __m512i t = ifma::mul_shoup(y[i], ifma::set1(punctured_mod_to_[j * k + i]),
                                            ifma::set1(punctured_q52_[j * k + i]), p, neg_p);
          acc = ifma::reduce_once(_mm512_add_epi64(acc, t), p);
        }
        if (exact) {
          const u64* t = vq_mod_to_.data() + j * (k + 1);  // k + 1 <= 16 entries
          const __m512i vq = _mm512_permutex2var_epi64(_mm512_loadu_si512(t), v, _mm512_loadu_si512(t + 8));
          const __m512i r = _mm512_sub_epi64(acc, vq);
          acc = _mm512_min_epu64(r, _mm512_add_epi64(r, p));  // r + p where r wrapped below 0
        }
        _mm512_storeu_si512(out + j * n + c, acc);
      }
    }
  }
}

}  // namespace hecnn::math
