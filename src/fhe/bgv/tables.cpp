#include "fhe/bgv/tables.h"

#include <stdexcept>
#include <string>

namespace hecnn::bgv {

BgvTables::BgvTables(rlwe::ContextPtr ctx) : ctx_(std::move(ctx)) {
  if (!ctx_ || ctx_->scheme() != rlwe::Scheme::bgv) throw std::invalid_argument("BGV objects need BGV parameters");
  const auto& tm = ctx_->plain_modulus();
  for (std::size_t k = 1; k <= ctx_->max_data_primes(); ++k) {
    const auto& base = ctx_->base(k);
    BgvLevel L;
    L.k = k;
    L.q_mod_t = base.product().mod(tm.value());
    for (std::size_t i = 0; i < k; ++i) {
      L.inv_q.push_back(bfv::Fraction128::of(1, base[i].value()));
      L.punctured_mod_t.push_back(base.punctured(i).mod(tm.value()));
    }
    levels_.push_back(std::move(L));
  }
}

const BgvLevel& BgvTables::level(std::size_t num_primes) const {
  if (num_primes < 1 || num_primes > levels_.size()) {
    throw std::invalid_argument("BGV: " + std::to_string(num_primes) + " primes is not a data level");
  }
  return levels_[num_primes - 1];
}

BgvTablesPtr make_tables(rlwe::ContextPtr ctx) { return std::make_shared<const BgvTables>(std::move(ctx)); }

}  // namespace hecnn::bgv
