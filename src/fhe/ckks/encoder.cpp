#include "fhe/ckks/encoder.h"

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "fhe/ckks/presets.h"
#include "math/ntt.h"
#include "math/parallel.h"

namespace hecnn::ckks {

using math::u128;

namespace {

// Plain complex product (std::complex's operator* takes a slow NaN-checking path).
inline cplx cmul(const cplx& a, const cplx& b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}
inline cplx cmul_conj(const cplx& a, const cplx& b) {  // a * conj(b)
  return {a.real() * b.real() + a.imag() * b.imag(), a.imag() * b.real() - a.real() * b.imag()};
}

std::string fmt_log2(double x) {
  std::ostringstream os;
  os.precision(6);
  os << "2^" << std::log2(x);
  return os.str();
}

}  // namespace

void special_fft_forward(cplx* a, const std::vector<cplx>& roots) {
  const std::size_t n = roots.size();
  std::size_t t = n;
  for (std::size_t m = 1; m < n; m <<= 1) {
    t >>= 1;
    for (std::size_t i = 0; i < m; ++i) {
      const cplx w = roots[m + i];
      cplx* x = a + 2 * i * t;
      cplx* y = x + t;
      for (std::size_t j = 0; j < t; ++j) {
        const cplx u = x[j], v = cmul(y[j], w);
        x[j] = u + v;
        y[j] = u - v;
      }
    }
  }
}

void special_fft_inverse_unscaled(cplx* a, const std::vector<cplx>& roots) {
  const std::size_t n = roots.size();
  std::size_t t = 1;
  for (std::size_t m = n >> 1; m >= 1; m >>= 1) {
    for (std::size_t i = 0; i < m; ++i) {
      const cplx w = roots[m + i];
      cplx* x = a + 2 * i * t;
      cplx* y = x + t;
      for (std::size_t j = 0; j < t; ++j) {
        const cplx u = x[j], v = y[j];
        x[j] = u + v;
        y[j] = cmul_conj(u - v, w);
      }
    }
    t <<= 1;
  }
}

Encoder::Encoder(rlwe::ContextPtr ctx) : ctx_(std::move(ctx)) {
  if (ctx_->scheme() != rlwe::Scheme::ckks) {
    throw std::invalid_argument(std::string("CKKS encoder needs CKKS parameters, got ") +
                                rlwe::scheme_name(ctx_->scheme()));
  }
  const std::size_t n = ctx_->n();
  const int log_n = ctx_->log_n();
  const u64 m = 2 * n;
  index_map_.resize(n);
  u64 g = 1;
  for (std::size_t i = 0; i < n / 2; ++i) {
    index_map_[i] = static_cast<std::uint32_t>(math::bit_reverse((g - 1) / 2, log_n));
    index_map_[n / 2 + i] = static_cast<std::uint32_t>(math::bit_reverse((m - g - 1) / 2, log_n));
    g = (g * 3) % m;
  }
  roots_.resize(n);
  const long double pi = 3.141592653589793238462643383279502884L;
  for (std::size_t i = 0; i < n; ++i) {
    const long double angle = pi * static_cast<long double>(math::bit_reverse(i, log_n)) / static_cast<long double>(n);
    roots_[i] = cplx(static_cast<double>(std::cos(angle)), static_cast<double>(std::sin(angle)));
  }
  // CRT composition constants per level.
  compose_.resize(ctx_->max_data_primes());
  for (std::size_t k = 1; k <= ctx_->max_data_primes(); ++k) {
    const auto& base = ctx_->base(k);
    auto& L = compose_[k - 1];
    L.words = base.product().limbs().size() + 1;
    auto limbs_of = [&](const math::BigUInt& b) {
      std::vector<u64> v(L.words, 0);
      std::copy(b.limbs().begin(), b.limbs().end(), v.begin());
      return v;
    };
    L.q = limbs_of(base.product());
    math::BigUInt half = base.product();
    half.divmod(2);
    L.half_q = limbs_of(half);
    L.punctured.resize(k * L.words);
    for (std::size_t i = 0; i < k; ++i) {
      const auto p = limbs_of(base.punctured(i));
      std::copy(p.begin(), p.end(), L.punctured.begin() + i * L.words);
    }
  }
}

void Encoder::check_level_and_scale(double scale, std::size_t k, const char* what) const {
  ctx_->check_data_level(k, what);
  if (!(scale > 0) || !std::isfinite(scale)) {
    throw std::invalid_argument(std::string(what) + ": scale must be positive and finite");
  }
  const double log_q = log2_modulus(*ctx_, k);
  if (std::log2(scale) >= log_q) {
    throw std::invalid_argument(std::string(what) + ": scale " + fmt_log2(scale) + " is not below the modulus 2^" +
                                std::to_string(log_q) + " at " + std::to_string(k) + " primes");
  }
}

void integer_to_rns(const rlwe::Context& ctx, double c, std::size_t k, u64* out, std::size_t stride) {
  const bool negative = c < 0;
  const double a = std::fabs(c);
  if (a < 9.2e18) {  // fits in int64
    const u64 v = static_cast<u64>(a);
    for (std::size_t j = 0; j < k; ++j) {
      const auto& q = ctx.key_base()[j];
      const u64 r = q.reduce(v);
      out[j * stride] = negative ? q.neg(r) : r;
    }
    return;
  }
  // a = mant * 2^e exactly, mant < 2^53.
  int e = 0;
  const double frac = std::frexp(a, &e);
  const u64 mant = static_cast<u64>(std::ldexp(frac, 53));
  const u64 shift = static_cast<u64>(e - 53);
  for (std::size_t j = 0; j < k; ++j) {
    const auto& q = ctx.key_base()[j];
    const u64 r = q.mul(q.reduce(mant), q.pow(2, shift));
    out[j * stride] = negative ? q.neg(r) : r;
  }
}

Plaintext Encoder::encode_coeffs(const std::vector<cplx>& values, double scale, std::size_t k,
                                 const char* what) const {
  check_level_and_scale(scale, k, what);
  const std::size_t n = ctx_->n();
  if (values.size() > n / 2) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(values.size()) +
                                " values, at most N/2 = " + std::to_string(n / 2) + " slots");
  }
  std::vector<cplx> a(n, cplx(0, 0));
  for (std::size_t i = 0; i < values.size(); ++i) {
    const cplx z = values[i];
    if (!std::isfinite(z.real()) || !std::isfinite(z.imag())) {
      throw std::invalid_argument(std::string(what) + ": value " + std::to_string(i) + " is not finite");
    }
    a[index_map_[i]] = z;
    a[index_map_[n / 2 + i]] = std::conj(z);
  }
  special_fft_inverse_unscaled(a.data(), roots_);
  const double factor = scale / static_cast<double>(n);
  // |coeff| must stay below Q/2 so it has a unique centered representative.
  const double limit = std::exp2(log2_modulus(*ctx_, k) - 1);
  Plaintext pt;
  pt.n = n;
  pt.num_primes = k;
  pt.scale = scale;
  pt.data.assign(n * k, 0);
  double max_abs = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double c = std::nearbyint(a[i].real() * factor);
    max_abs = std::max(max_abs, std::fabs(c));
    if (!(std::fabs(c) < limit)) break;
    integer_to_rns(*ctx_, c, k, pt.data.data() + i, n);
  }
  if (!(max_abs < limit)) {
    throw std::invalid_argument(std::string(what) + ": scaled values reach " + fmt_log2(max_abs) +
                                ", too large for the modulus at " + std::to_string(k) + " primes (limit 2^" +
                                std::to_string(std::log2(limit)) + "); lower the scale or the values");
  }
  math::parallel_for(k, [&](std::size_t j) { math::ntt_forward(pt.residue(j), ctx_->ntt(j)); });
  return pt;
}

Plaintext Encoder::encode(const std::vector<cplx>& values, double scale, std::size_t k) const {
  return encode_coeffs(values, scale, k, "CKKS encode");
}

Plaintext Encoder::encode(const std::vector<double>& values, double scale, std::size_t k) const {
  std::vector<cplx> v(values.begin(), values.end());
  return encode_coeffs(v, scale, k, "CKKS encode");
}

Plaintext Encoder::encode(const std::vector<cplx>& values, double scale) const {
  return encode(values, scale, ctx_->max_data_primes());
}
Plaintext Encoder::encode(const std::vector<double>& values, double scale) const {
  return encode(values, scale, ctx_->max_data_primes());
}

Plaintext Encoder::encode_scalar(double value, double scale, std::size_t k) const {
  check_level_and_scale(scale, k, "CKKS encode_scalar");
  if (!std::isfinite(value)) throw std::invalid_argument("CKKS encode_scalar: value is not finite");
  const double c = std::nearbyint(value * scale);
  const double limit = std::exp2(log2_modulus(*ctx_, k) - 1);
  if (!(std::fabs(c) < limit)) {
    throw std::invalid_argument("CKKS encode_scalar: scaled value " + fmt_log2(std::fabs(c)) +
                                " is too large for the modulus at " + std::to_string(k) + " primes");
  }
  const std::size_t n = ctx_->n();
  Plaintext pt;
  pt.n = n;
  pt.num_primes = k;
  pt.scale = scale;
  std::vector<u64> r(k);
  integer_to_rns(*ctx_, c, k, r.data(), 1);
  pt.data.reserve(n * k);  // one write pass: no zero-fill first
  for (std::size_t j = 0; j < k; ++j) pt.data.insert(pt.data.end(), n, r[j]);
  return pt;
}

std::vector<cplx> Encoder::decode_complex(const Plaintext& pt) const {
  const std::size_t n = ctx_->n(), k = pt.num_primes;
  ctx_->check_data_level(k, "CKKS decode");
  if (pt.n != n || pt.data.size() != n * k) {
    throw std::invalid_argument("CKKS decode: plaintext does not match the parameters (N or size)");
  }
  if (!(pt.scale > 0) || !std::isfinite(pt.scale)) throw std::invalid_argument("CKKS decode: scale must be positive");
  std::vector<u64> x(pt.data);
  math::parallel_for(k, [&](std::size_t j) { math::ntt_inverse(x.data() + j * n, ctx_->ntt(j)); });
  std::vector<cplx> a(n);
  const double inv_scale = 1.0 / pt.scale;
  if (k == 1) {
    const u64 q = ctx_->key_base()[0].value();
    for (std::size_t c = 0; c < n; ++c) {
      const u64 v = x[c];
      const double d = v > q / 2 ? -static_cast<double>(q - v) : static_cast<double>(v);
      a[c] = cplx(d * inv_scale, 0);
    }
  } else {
    const auto& L = compose_[k - 1];
    const auto& base = ctx_->base(k);
    const std::size_t W = L.words;
    std::vector<u64> acc(W);
    for (std::size_t c = 0; c < n; ++c) {
      std::fill(acc.begin(), acc.end(), 0);
      for (std::size_t i = 0; i < k; ++i) {
        const u64 y = math::mul_shoup(x[i * n + c], base.inv_punctured(i), base[i].value());
        const u64* p = L.punctured.data() + i * W;
        u64 carry = 0;
        for (std::size_t w = 0; w < W; ++w) {
          const u128 t = static_cast<u128>(y) * p[w] + acc[w] + carry;
          acc[w] = static_cast<u64>(t);
          carry = static_cast<u64>(t >> 64);
        }
      }
      auto geq = [&](const std::vector<u64>& b) {
        for (std::size_t w = W; w-- > 0;) {
          if (acc[w] != b[w]) return acc[w] > b[w];
        }
        return true;
      };
      auto sub_from = [&](const std::vector<u64>& a_, const std::vector<u64>& b_, std::vector<u64>& out) {
        u64 borrow = 0;
        for (std::size_t w = 0; w < W; ++w) {
          const u64 d = a_[w] - b_[w] - borrow;
          borrow = (a_[w] < b_[w] || (a_[w] == b_[w] && borrow)) ? 1 : 0;
          out[w] = d;
        }
      };
      while (geq(L.q)) sub_from(acc, L.q, acc);
      bool negative = false;
      if (!geq(L.half_q) || acc == L.half_q) {
        // acc <= floor(Q/2): non-negative
      } else {
        negative = true;
        sub_from(L.q, acc, acc);
      }
      double d = 0;
      for (std::size_t w = W; w-- > 0;) d = d * 18446744073709551616.0 + static_cast<double>(acc[w]);
      a[c] = cplx((negative ? -d : d) * inv_scale, 0);
    }
  }
  special_fft_forward(a.data(), roots_);
  std::vector<cplx> out(n / 2);
  for (std::size_t i = 0; i < n / 2; ++i) out[i] = a[index_map_[i]];
  return out;
}

std::vector<double> Encoder::decode(const Plaintext& pt) const {
  const auto z = decode_complex(pt);
  std::vector<double> out(z.size());
  for (std::size_t i = 0; i < z.size(); ++i) out[i] = z[i].real();
  return out;
}

}  // namespace hecnn::ckks
