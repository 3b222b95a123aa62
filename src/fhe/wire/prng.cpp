#include "fhe/wire/prng.h"

#include <blake2.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace hecnn::wire {

void blake2b_256(std::span<std::uint8_t, 32> out, std::span<const std::uint8_t> message) {
  if (::blake2b(out.data(), message.data(), nullptr, 32, message.size(), 0) != 0) {
    throw std::runtime_error("blake2b failed");
  }
}

void blake2xb(std::span<std::uint8_t> out, std::span<const std::uint8_t> message,
              std::span<const std::uint8_t> key) {
  const std::uint64_t xof_length = out.size();
  if (xof_length == 0 || xof_length >= 0xFFFFFFFFull) throw std::invalid_argument("blake2xb: bad output length");
  if (key.size() > BLAKE2B_KEYBYTES) throw std::invalid_argument("blake2xb: key longer than 64 bytes");

  // Root: BLAKE2b-512 with the XOF length in the parameter block (upper half of
  // libb2's 64-bit node_offset), fanout = depth = 1, keyed.
  blake2b_param p;
  std::memset(&p, 0, sizeof p);
  p.digest_length = BLAKE2B_OUTBYTES;
  p.key_length = static_cast<std::uint8_t>(key.size());
  p.fanout = 1;
  p.depth = 1;
  p.node_offset = xof_length << 32;
  blake2b_state s;
  if (blake2b_init_param(&s, &p) != 0) throw std::runtime_error("blake2xb: init failed");
  if (!key.empty()) {
    std::uint8_t block[BLAKE2B_BLOCKBYTES] = {};
    std::memcpy(block, key.data(), key.size());
    blake2b_update(&s, block, sizeof block);
  }
  blake2b_update(&s, message.data(), message.size());
  std::uint8_t root[BLAKE2B_OUTBYTES];
  if (blake2b_final(&s, root, BLAKE2B_OUTBYTES) != 0) throw std::runtime_error("blake2xb: final failed");

  // Output blocks: BLAKE2b(root) with digest min(64, remaining), node offset i.
  p.key_length = 0;
  p.fanout = 0;
  p.depth = 0;
  p.leaf_length = BLAKE2B_OUTBYTES;
  p.inner_length = BLAKE2B_OUTBYTES;
  std::size_t done = 0;
  for (std::uint64_t i = 0; done < out.size(); ++i) {
    const std::size_t block = std::min<std::size_t>(BLAKE2B_OUTBYTES, out.size() - done);
    p.digest_length = static_cast<std::uint8_t>(block);
    p.node_offset = (xof_length << 32) | i;
    blake2b_state c;
    if (blake2b_init_param(&c, &p) != 0) throw std::runtime_error("blake2xb: init failed");
    blake2b_update(&c, root, sizeof root);
    if (blake2b_final(&c, out.data() + done, block) != 0) throw std::runtime_error("blake2xb: final failed");
    done += block;
  }
}

void shake256(std::span<std::uint8_t> out, std::span<const std::uint8_t> message) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_shake256(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, message.data(), message.size()) == 1 &&
            EVP_DigestFinalXOF(ctx, out.data(), out.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("shake256 failed (OpenSSL EVP)");
}

Prng::Prng(const PrngInfo& info) : info_(info), buffer_(kRefillBytes), head_(kRefillBytes) {
  if (info.type != PrngType::blake2xb && info.type != PrngType::shake256) {
    throw std::invalid_argument("Prng: unsupported PRNG type");
  }
}

void Prng::refill() {
  std::uint8_t counter[8];
  std::memcpy(counter, &counter_, 8);
  if (info_.type == PrngType::blake2xb) {
    blake2xb(buffer_, counter, info_.seed);
  } else {
    std::uint8_t msg[72];
    std::memcpy(msg, info_.seed.data(), 64);
    std::memcpy(msg + 64, counter, 8);
    shake256(buffer_, msg);
  }
  ++counter_;
  head_ = 0;
}

void Prng::generate(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    if (head_ == buffer_.size()) refill();
    const std::size_t n = std::min(out.size() - done, buffer_.size() - head_);
    std::memcpy(out.data() + done, buffer_.data() + head_, n);
    head_ += n;
    done += n;
  }
}

std::uint64_t Prng::next_u64() {
  std::uint64_t v;
  generate(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(&v), 8));
  return v;
}

void sample_uniform(Prng& prng, std::span<const std::uint64_t> moduli, std::size_t n,
                    std::span<std::uint64_t> out) {
  if (out.size() != n * moduli.size()) throw std::invalid_argument("sample_uniform: size mismatch");
  prng.generate(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(out.data()), out.size() * 8));
  constexpr std::uint64_t kMax = ~std::uint64_t{0};
  for (std::size_t j = 0; j < moduli.size(); ++j) {
    const std::uint64_t q = moduli[j];
    if (q < 2) throw std::invalid_argument("sample_uniform: modulus < 2");
    const std::uint64_t bound = kMax - (kMax % q) - 1;
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t x = out[j * n + i];
      while (x >= bound) x = prng.next_u64();
      out[j * n + i] = x % q;
    }
  }
}

PrngSeed random_seed() {
  PrngSeed s;
  if (RAND_bytes(s.data(), static_cast<int>(s.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  return s;
}

}  // namespace hecnn::wire
