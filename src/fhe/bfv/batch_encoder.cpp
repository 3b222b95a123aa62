#include "fhe/bfv/batch_encoder.h"

#include <stdexcept>
#include <string>

#include "math/primes.h"

namespace hecnn::bfv {

namespace {
math::NttTables make_tables(const rlwe::Context& ctx) {
  if (ctx.scheme() != rlwe::Scheme::bfv && ctx.scheme() != rlwe::Scheme::bgv) {
    throw std::invalid_argument("BatchEncoder needs BFV or BGV parameters");
  }
  const u64 t = ctx.plain_modulus().value();
  if (!math::is_prime(t) || t % (2 * ctx.n()) != 1) {
    throw std::invalid_argument("plain_modulus t = " + std::to_string(t) + " does not support batching: it must be a prime ≡ 1 mod 2N = " +
                                std::to_string(2 * ctx.n()));
  }
  return math::NttTables(ctx.n(), ctx.plain_modulus());
}
}  // namespace

BatchEncoder::BatchEncoder(rlwe::ContextPtr ctx) : ctx_(std::move(ctx)), tables_(make_tables(*ctx_)) {
  const std::size_t n = ctx_->n(), row = n / 2;
  const u64 m = 2 * n;
  index_map_.resize(n);
  u64 pos = 1;
  for (std::size_t i = 0; i < row; ++i) {
    index_map_[i] = static_cast<std::uint32_t>(math::bit_reverse((pos - 1) >> 1, ctx_->log_n()));
    index_map_[row + i] = static_cast<std::uint32_t>(math::bit_reverse((m - pos - 1) >> 1, ctx_->log_n()));
    pos = (pos * 3) % m;
  }
}

Plaintext BatchEncoder::encode(const std::vector<u64>& values) const {
  const std::size_t n = ctx_->n();
  if (values.size() > n) {
    throw std::invalid_argument("BatchEncoder: " + std::to_string(values.size()) + " values exceed " +
                                std::to_string(n) + " slots");
  }
  const u64 t = ctx_->plain_modulus().value();
  Plaintext pt;
  pt.coeffs.assign(n, 0);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] >= t) {
      throw std::invalid_argument("BatchEncoder: value " + std::to_string(values[i]) + " in slot " + std::to_string(i) +
                                  " is not below t = " + std::to_string(t));
    }
    pt.coeffs[index_map_[i]] = values[i];
  }
  math::ntt_inverse(pt.coeffs.data(), tables_);
  return pt;
}

Plaintext BatchEncoder::encode_signed(const std::vector<std::int64_t>& values) const {
  const auto& t = ctx_->plain_modulus();
  const auto half = static_cast<std::int64_t>(t.value() / 2);
  std::vector<u64> u(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] > half || values[i] < -half) {
      throw std::invalid_argument("BatchEncoder: value " + std::to_string(values[i]) + " outside (-t/2, t/2]");
    }
    u[i] = math::from_signed(values[i], t);
  }
  return encode(u);
}

std::vector<u64> BatchEncoder::decode(const Plaintext& pt) const {
  const std::size_t n = ctx_->n();
  if (pt.coeffs.size() != n) throw std::invalid_argument("BatchEncoder: plaintext has the wrong size");
  std::vector<u64> tmp = pt.coeffs;
  const u64 t = ctx_->plain_modulus().value();
  for (u64& v : tmp)
    if (v >= t) throw std::invalid_argument("BatchEncoder: plaintext coefficient not reduced mod t");
  math::ntt_forward(tmp.data(), tables_);
  std::vector<u64> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = tmp[index_map_[i]];
  return out;
}

std::vector<std::int64_t> BatchEncoder::decode_signed(const Plaintext& pt) const {
  const u64 t = ctx_->plain_modulus().value();
  auto u = decode(pt);
  std::vector<std::int64_t> out(u.size());
  for (std::size_t i = 0; i < u.size(); ++i) {
    out[i] = u[i] > t / 2 ? static_cast<std::int64_t>(u[i]) - static_cast<std::int64_t>(t) : static_cast<std::int64_t>(u[i]);
  }
  return out;
}

}  // namespace hecnn::bfv
