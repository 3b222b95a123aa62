#include "math/prng.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace hecnn::math {

namespace {
inline std::uint32_t rotl(std::uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
inline void quarter(std::uint32_t* s, int a, int b, int c, int d) {
  s[a] += s[b]; s[d] ^= s[a]; s[d] = rotl(s[d], 16);
  s[c] += s[d]; s[b] ^= s[c]; s[b] = rotl(s[b], 12);
  s[a] += s[b]; s[d] ^= s[a]; s[d] = rotl(s[d], 8);
  s[c] += s[d]; s[b] ^= s[c]; s[b] = rotl(s[b], 7);
}
std::uint32_t load32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}
}  // namespace

ChaCha20Stream::ChaCha20Stream(const std::array<std::uint8_t, 32>& key, std::uint64_t nonce) {
  state_[0] = 0x61707865; state_[1] = 0x3320646e; state_[2] = 0x79622d32; state_[3] = 0x6b206574;
  for (int i = 0; i < 8; ++i) state_[4 + i] = load32(key.data() + 4 * i);
  state_[12] = 0;
  state_[13] = 0;
  state_[14] = static_cast<std::uint32_t>(nonce);
  state_[15] = static_cast<std::uint32_t>(nonce >> 32);
}

void ChaCha20Stream::refill() {
  for (std::size_t b = 0; b < buffer_.size() / 64; ++b) {
    state_[12] = static_cast<std::uint32_t>(counter_);
    state_[13] = static_cast<std::uint32_t>(counter_ >> 32);
    ++counter_;
    std::uint32_t x[16];
    std::memcpy(x, state_.data(), sizeof x);
    for (int i = 0; i < 10; ++i) {
      quarter(x, 0, 4, 8, 12); quarter(x, 1, 5, 9, 13); quarter(x, 2, 6, 10, 14); quarter(x, 3, 7, 11, 15);
      quarter(x, 0, 5, 10, 15); quarter(x, 1, 6, 11, 12); quarter(x, 2, 7, 8, 13); quarter(x, 3, 4, 9, 14);
    }
    for (int i = 0; i < 16; ++i) {
      const std::uint32_t v = x[i] + state_[i];
      std::uint8_t* o = buffer_.data() + 64 * b + 4 * i;
      o[0] = v; o[1] = v >> 8; o[2] = v >> 16; o[3] = v >> 24;
    }
  }
  pos_ = 0;
}

void ChaCha20Stream::fill(void* out, std::size_t bytes) {
  auto* dst = static_cast<std::uint8_t*>(out);
  while (bytes) {
    if (pos_ == buffer_.size()) refill();
    const std::size_t take = std::min(bytes, buffer_.size() - pos_);
    std::memcpy(dst, buffer_.data() + pos_, take);
    // Erase consumed key stream so a memory dump cannot replay it.
    std::memset(buffer_.data() + pos_, 0, take);
    pos_ += take;
    dst += take;
    bytes -= take;
  }
}

void os_random(void* out, std::size_t bytes) {
  auto* p = static_cast<std::uint8_t*>(out);
  while (bytes) {
    const ssize_t got = getrandom(p, bytes, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("getrandom failed: ") + std::strerror(errno));
    }
    p += got;
    bytes -= static_cast<std::size_t>(got);
  }
}

namespace {
std::unique_ptr<ChaCha20Stream> fresh_system_stream() {
  std::array<std::uint8_t, 32> key;
  os_random(key.data(), key.size());
  auto s = std::make_unique<ChaCha20Stream>(key);
  std::memset(key.data(), 0, key.size());
  return s;
}
}  // namespace

SystemPrng::SystemPrng() : stream_(fresh_system_stream()) {}

void SystemPrng::fill(void* out, std::size_t bytes) {
  if (stream_->blocks_used() > (std::uint64_t{1} << 32)) stream_ = fresh_system_stream();
  stream_->fill(out, bytes);
}

DeterministicPrngForTests::DeterministicPrngForTests(std::uint64_t seed)
    : stream_([seed] {
        std::array<std::uint8_t, 32> key{};
        for (int i = 0; i < 8; ++i) key[i] = static_cast<std::uint8_t>(seed >> (8 * i));
        return key;
      }(), 0x7465737473ull /* "tests" */) {}

}  // namespace hecnn::math
