// Random generators.
//
// All secret randomness (secret keys, encryption masks and errors) comes from
// SystemPrng: ChaCha20 keyed with 32 bytes from the operating system
// (getrandom), re-keyed from the OS every 2^32 blocks. DeterministicPrngForTests
// is the same stream cipher under a caller-chosen seed; it exists so that tests
// and benchmarks are reproducible and must never be used for real keys.
// A Prng is not thread-safe; give each thread its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace hecnn::math {

class Prng {
 public:
  virtual ~Prng() = default;
  virtual void fill(void* out, std::size_t bytes) = 0;
  std::uint64_t next_u64() {
    std::uint64_t v;
    fill(&v, sizeof v);
    return v;
  }
};

class ChaCha20Stream {
 public:
  explicit ChaCha20Stream(const std::array<std::uint8_t, 32>& key, std::uint64_t nonce = 0);
  void fill(void* out, std::size_t bytes);
  std::uint64_t blocks_used() const { return counter_; }

 private:
  void refill();
  std::array<std::uint32_t, 16> state_{};
  std::array<std::uint8_t, 64 * 4> buffer_{};
  std::size_t pos_ = sizeof(buffer_);
  std::uint64_t counter_ = 0;
};

class SystemPrng final : public Prng {
 public:
  SystemPrng();  // throws std::runtime_error if the OS has no entropy to give
  void fill(void* out, std::size_t bytes) override;

 private:
  std::unique_ptr<ChaCha20Stream> stream_;
};

class DeterministicPrngForTests final : public Prng {
 public:
  explicit DeterministicPrngForTests(std::uint64_t seed);
  void fill(void* out, std::size_t bytes) override { stream_.fill(out, bytes); }

 private:
  ChaCha20Stream stream_;
};

// Fills `bytes` from the operating system's CSPRNG (getrandom). Throws on failure.
void os_random(void* out, std::size_t bytes);

}  // namespace hecnn::math
