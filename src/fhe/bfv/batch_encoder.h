// BatchEncoder: N integers mod t <-> one plaintext, SEAL's slot layout.
//
// Slots form a 2 x N/2 matrix. Slot i < N/2 holds m(psi_t^(3^i)), slot N/2 + i
// holds m(psi_t^(-3^i)); rotate_rows by k shifts each row left by k and
// rotate_columns swaps the rows. Requires t prime with t ≡ 1 mod 2N.
// Cost: one NTT mod t.
#pragma once

#include <cstdint>
#include <vector>

#include "fhe/bfv/plaintext.h"
#include "fhe/rlwe/params.h"
#include "math/ntt.h"

namespace hecnn::bfv {

class BatchEncoder {
 public:
  // Throws std::invalid_argument if t does not support batching for this N.
  explicit BatchEncoder(rlwe::ContextPtr ctx);

  std::size_t slot_count() const { return ctx_->n(); }
  // values.size() <= N, each < t; missing slots are zero.
  Plaintext encode(const std::vector<u64>& values) const;
  // Signed values in (-t/2, t/2].
  Plaintext encode_signed(const std::vector<std::int64_t>& values) const;
  std::vector<u64> decode(const Plaintext& pt) const;
  std::vector<std::int64_t> decode_signed(const Plaintext& pt) const;

 private:
  rlwe::ContextPtr ctx_;
  math::NttTables tables_;
  std::vector<std::uint32_t> index_map_;
};

}  // namespace hecnn::bfv
