#include "math/rns.h"

#include <algorithm>
#include <cmath>

#include "math/ifma_constants.h"
#include "math/ntt.h"
#include "math/parallel.h"
#include <numeric>
#include <stdexcept>
#include <string>

namespace hecnn::math {

RnsBase::RnsBase(const std::vector<u64>& values)
    : RnsBase([&] {
        std::vector<Modulus> m;
        for (u64 v : values) m.emplace_back(v);
        return m;
      }()) {}

RnsBase::RnsBase(std::vector<Modulus> moduli) : moduli_(std::move(moduli)) {
  if (moduli_.empty()) throw std::invalid_argument("RNS base is empty");
  for (std::size_t i = 0; i < moduli_.size(); ++i) {
    for (std::size_t j = i + 1; j < moduli_.size(); ++j) {
      if (std::gcd(moduli_[i].value(), moduli_[j].value()) != 1) {
        throw std::invalid_argument("RNS moduli " + std::to_string(moduli_[i].value()) + " and " +
                                    std::to_string(moduli_[j].value()) + " are not coprime");
      }
    }
  }
  product_ = math::product(moduli_);
  for (std::size_t i = 0; i < moduli_.size(); ++i) {
    BigUInt p(1);
    u64 p_mod = 1;
    for (std::size_t j = 0; j < moduli_.size(); ++j) {
      if (j == i) continue;
      p.mul(moduli_[j].value());
      p_mod = moduli_[i].mul(p_mod, moduli_[i].reduce(moduli_[j].value()));
    }
    punctured_.push_back(p);
    inv_punctured_.emplace_back(moduli_[i].inv(p_mod), moduli_[i]);
  }
}

BigUInt RnsBase::compose(const u64* residues, std::size_t stride) const {
  BigUInt acc;
  for (std::size_t i = 0; i < size(); ++i) {
    const u64 y = mul_shoup(residues[i * stride], inv_punctured_[i], moduli_[i].value());
    BigUInt term = punctured_[i];
    term.mul(y);
    acc.add(term);
  }
  // acc < size() * Q: subtract Q until reduced.
  while (!(acc < product_)) acc.sub(product_);
  return acc;
}

RnsBase RnsBase::prefix(std::size_t count) const {
  return RnsBase(std::vector<Modulus>(moduli_.begin(), moduli_.begin() + count));
}

BaseConverter::BaseConverter(RnsBase from, RnsBase to) : from_(std::move(from)), to_(std::move(to)) {
  const std::size_t k = from_.size();
  punctured_mod_to_.resize(to_.size() * k);
  for (std::size_t j = 0; j < to_.size(); ++j) {
    for (std::size_t i = 0; i < k; ++i) {
      punctured_mod_to_[j * k + i] = from_.punctured(i).mod(to_[j].value());
    }
    const u64 q_mod = from_.product().mod(to_[j].value());
    for (std::size_t v = 0; v <= k; ++v) vq_mod_to_.push_back(to_[j].mul(q_mod, v));
  }
  for (std::size_t i = 0; i < k; ++i) inv_from_.push_back(1.0 / static_cast<double>(from_[i].value()));
  bool small = k < 16;
  for (const auto& m : from_.moduli()) small &= m.bits() <= 50;
  for (const auto& m : to_.moduli()) small &= m.bits() <= 50;
  use_ifma_ = small && cpu_has_ifma();
  vq_mod_to_.resize(vq_mod_to_.size() + 16, 0);  // 16-entry table loads stay in bounds
  if (use_ifma_) {
    const auto quot52 = ifma::shoup_quotient52;
    for (std::size_t i = 0; i < k; ++i) inv_punctured_q52_.push_back(quot52(from_.inv_punctured(i).operand, from_[i].value()));
    for (std::size_t j = 0; j < to_.size(); ++j)
      for (std::size_t i = 0; i < k; ++i) punctured_q52_.push_back(quot52(punctured_mod_to_[j * k + i], to_[j].value()));
  }
}

void BaseConverter::fast(const u64* in, u64* out, std::size_t n) const { convert(in, out, n, false); }
void BaseConverter::exact(const u64* in, u64* out, std::size_t n) const { convert(in, out, n, true); }

void BaseConverter::convert(const u64* in, u64* out, std::size_t n, bool exact) const {
  if (use_ifma_ && n % 8 == 0) {
    convert_ifma(in, out, n, exact);
    return;
  }
  const std::size_t k = from_.size();
  const std::size_t kp = to_.size();
  constexpr std::size_t kBlock = 256;
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  parallel_for(blocks, [&](std::size_t b) {
    const std::size_t c0 = b * kBlock, len = std::min(kBlock, n - c0);
    std::vector<u64> y(k * kBlock);
    std::vector<u64> v(kBlock, 0);
    for (std::size_t i = 0; i < k; ++i) {
      const u64 q = from_[i].value();
      const ShoupOperand w = from_.inv_punctured(i);
      const u64* src = in + i * n + c0;
      u64* dst = y.data() + i * kBlock;
      for (std::size_t c = 0; c < len; ++c) dst[c] = mul_shoup(src[c], w, q);
    }
    if (exact) {
      for (std::size_t c = 0; c < len; ++c) {
        double s = 0;
        for (std::size_t i = 0; i < k; ++i) s += static_cast<double>(y[i * kBlock + c]) * inv_from_[i];
        v[c] = std::min<u64>(static_cast<u64>(s + 0.5), k);
      }
    }
    for (std::size_t j = 0; j < kp; ++j) {
      const Modulus& p = to_[j];
      const u64* w = punctured_mod_to_.data() + j * k;
      const u64* vq = vq_mod_to_.data() + j * (k + 1);
      u64* dst = out + j * n + c0;
      for (std::size_t c = 0; c < len; ++c) {
        u128 acc = 0;
        for (std::size_t i = 0; i < k; ++i) acc += static_cast<u128>(y[i * kBlock + c]) * w[i];
        dst[c] = p.sub(p.reduce(acc), vq[v[c]]);
      }
    }
  });
}

}  // namespace hecnn::math
