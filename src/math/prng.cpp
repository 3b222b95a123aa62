#include "math/prng.h"

#include <sys/random.h>

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace hecnn::math {

static const std::array<std::uint8_t, 64 * 64> kZeros{};

ChaCha20Stream::ChaCha20Stream(const std::array<std::uint8_t, 32>& key, std::uint64_t nonce) {
  // OpenSSL's IV for ChaCha20 is the 32-bit block counter followed by a 96-bit
  // nonce; we use the first 32 bits of the nonce field as the counter's high
  // half, i.e. a 64-bit counter and a 64-bit nonce (the original ChaCha layout).
  std::uint8_t iv[16] = {};
  for (int i = 0; i < 8; ++i) iv[8 + i] = static_cast<std::uint8_t>(nonce >> (8 * i));
  auto* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr || EVP_EncryptInit_ex(ctx, EVP_chacha20(), nullptr, key.data(), iv) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    throw std::runtime_error("ChaCha20 initialisation failed (OpenSSL)");
  }
  cipher_ctx_ = ctx;
}

ChaCha20Stream::~ChaCha20Stream() {
  EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(cipher_ctx_));
  std::memset(buffer_.data(), 0, buffer_.size());
}

void ChaCha20Stream::refill() {
  int len = 0;
  if (EVP_EncryptUpdate(static_cast<EVP_CIPHER_CTX*>(cipher_ctx_), buffer_.data(), &len, kZeros.data(),
                        static_cast<int>(kZeros.size())) != 1 ||
      len != static_cast<int>(buffer_.size())) {
    throw std::runtime_error("ChaCha20 key stream generation failed (OpenSSL)");
  }
  counter_ += buffer_.size() / 64;
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

PrngStreams::PrngStreams(Prng& parent) { parent.fill(key_.data(), key_.size()); }

PrngStreams::~PrngStreams() {
  volatile std::uint8_t* p = key_.data();
  for (std::size_t i = 0; i < key_.size(); ++i) p[i] = 0;
}

}  // namespace hecnn::math
