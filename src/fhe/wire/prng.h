// SEAL's seed-expansion PRNGs and uniform sampling, bit-exact.
//
// A Prng produces a byte stream in 4096-byte refills; refill c (c = 0, 1, ...)
// is
//   BLAKE2Xb:  BLAKE2Xb(key = seed, message = u64le(c), xof length 4096)
//   SHAKE256:  SHAKE256(seed || u64le(c)), 4096 bytes
// and the stream is consumed sequentially across refills.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fhe/wire/records.h"

namespace hecnn::wire {

class Prng {
 public:
  static constexpr std::size_t kRefillBytes = 4096;
  explicit Prng(const PrngInfo& info);
  Prng(PrngType type, const PrngSeed& seed) : Prng(PrngInfo{type, seed}) {}

  // Next `out.size()` bytes of the stream.
  void generate(std::span<std::uint8_t> out);
  // Next 8 bytes as a little-endian u64.
  std::uint64_t next_u64();
  const PrngInfo& info() const { return info_; }

 private:
  void refill();
  PrngInfo info_;
  std::uint64_t counter_ = 0;
  std::vector<std::uint8_t> buffer_;
  std::size_t head_;
};

// BLAKE2Xb (reference construction) of `message` keyed with `key` (<= 64
// bytes), `out.size()` bytes (1 .. 2^32-1). Exposed for known-answer tests.
void blake2xb(std::span<std::uint8_t> out, std::span<const std::uint8_t> message,
              std::span<const std::uint8_t> key);
// SHAKE256 of `message`, `out.size()` bytes.
void shake256(std::span<std::uint8_t> out, std::span<const std::uint8_t> message);
// Unkeyed BLAKE2b with a 32-byte digest.
void blake2b_256(std::span<std::uint8_t, 32> out, std::span<const std::uint8_t> message);

// SEAL's sample_poly_uniform: fills out[j*N + i] (prime j, coefficient i) for
// out.size() == N * moduli.size(). Draws N*k words at once, then for each prime
// in order and each coefficient in order replaces a word x while
// x >= M_j = (2^64-1) - ((2^64-1) mod q_j) - 1 by the next stream word, and
// stores x mod q_j.
void sample_uniform(Prng& prng, std::span<const std::uint64_t> moduli, std::size_t n,
                    std::span<std::uint64_t> out);

// Fresh random seed from the operating system (for writers of seeded objects).
PrngSeed random_seed();

}  // namespace hecnn::wire
