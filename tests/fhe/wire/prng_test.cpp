// BLAKE2Xb / SHAKE256 seed expansion and SEAL's uniform sampling.
#include "fhe/wire/prng.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace hecnn::wire {
namespace {

std::string hex(std::span<const std::uint8_t> b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (auto x : b) {
    s += d[x >> 4];
    s += d[x & 15];
  }
  return s;
}

// Reference BLAKE2Xb vectors (BLAKE2/BLAKE2 testvectors/blake2-kat.json):
// input bytes 00..ff, key bytes 00..3f (keyed) or none.
TEST(Blake2xb, MatchesReferenceVectors) {
  std::vector<std::uint8_t> in(256), key(64);
  for (int i = 0; i < 256; ++i) in[i] = static_cast<std::uint8_t>(i);
  for (int i = 0; i < 64; ++i) key[i] = static_cast<std::uint8_t>(i);
  struct Case {
    std::size_t len;
    bool keyed;
    const char* out;
  };
  const Case cases[] = {
      {1, false, "f0"},
      {65, false, "c6f0b1b66f22726cef3e4fca2325d2bb4e922b39f9df5ef548d321419c07391fc311904407f98db7d7462db1e8576138baeac2a76400b2a2f72b4497c19e239430"},
      {1, true, "64"},
      {64, true, "4324561d76c370ef35ac36a4adf8f3773a50d86504bd284f71f7ce9e2bc4c1f1d34a7fb2d67561d101955d448b67577eb30dfee96a95c7f921ef53e20be8bc44"},
      {65, true, "78f0ed6e220b3da3cc9381563b2f72c8dc830cb0f39a48c6ae479a6a78dcfa94002631dec467e9e9b47cc8f0887eb680e340aec3ec009d4a33d241533c76c8ca8c"},
      {200, true, "8ca704fe7208fe5f9c23110c0b3b4eee0ef632cae82bda68d8db2436ad409aa05cf159223586e1e6d8bdae9f316ea786809fbe7fe81ec61c61552d3a83cd6beaf652d1263862664df6aae321d0323440430f400f291c3efbe5d5c690b0cc6b0bf871b3933befb40bc870e2ee1ebb68025a2dcc11b68daadef6be29b5f21e440374301bde1e80dcfade4c9d681480e65ec494a6af48df232c3d51447b9d06be714949249c44c43cf73ed13ef0d533e770284e51369d94ae241a5fb2f163893071b2b4c118aeaf9eae"},
  };
  for (const auto& c : cases) {
    std::vector<std::uint8_t> out(c.len);
    blake2xb(out, in, c.keyed ? std::span<const std::uint8_t>(key) : std::span<const std::uint8_t>());
    EXPECT_EQ(hex(out), c.out) << "len " << c.len << (c.keyed ? " keyed" : "");
  }
}

TEST(Shake256, MatchesKnownAnswerForEmptyInput) {
  std::vector<std::uint8_t> out(32);
  shake256(out, {});
  EXPECT_EQ(hex(out), "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f");
}

TEST(Blake2b256, MatchesKnownAnswerForAbc) {
  std::array<std::uint8_t, 32> out;
  const std::uint8_t abc[] = {'a', 'b', 'c'};
  blake2b_256(out, abc);
  EXPECT_EQ(hex(out), "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(Prng, StreamIsRefillsOfCounterMessagesConsumedSequentially) {
  PrngSeed seed;
  for (int i = 0; i < 64; ++i) seed[i] = static_cast<std::uint8_t>(3 * i + 1);
  for (PrngType type : {PrngType::blake2xb, PrngType::shake256}) {
    // Expected: refill 0 || refill 1, computed directly.
    std::vector<std::uint8_t> expect(2 * Prng::kRefillBytes);
    for (std::uint64_t c = 0; c < 2; ++c) {
      std::span<std::uint8_t> dst(expect.data() + c * Prng::kRefillBytes, Prng::kRefillBytes);
      std::uint8_t ctr[8];
      std::memcpy(ctr, &c, 8);
      if (type == PrngType::blake2xb) {
        blake2xb(dst, ctr, seed);
      } else {
        std::vector<std::uint8_t> msg(seed.begin(), seed.end());
        msg.insert(msg.end(), ctr, ctr + 8);
        shake256(dst, msg);
      }
    }
    Prng prng(type, seed);
    std::vector<std::uint8_t> got(expect.size());
    // Odd-sized pieces crossing the refill boundary.
    std::size_t at = 0;
    for (std::size_t piece : {3u, 4000u, 200u, 8u}) {
      prng.generate(std::span(got).subspan(at, piece));
      at += piece;
    }
    prng.generate(std::span(got).subspan(at));
    EXPECT_EQ(got, expect) << to_string(type);
  }
}

TEST(SampleUniform, RejectsAtSealBoundAndReducesPrimeByPrime) {
  // q0 ~ 2^64 / 16.5 leaves (2^64 - 1) mod q0 ~ q0 / 2, so about 3% of the
  // words are rejected; reproduce the expected output from the raw stream
  // independently of sample_uniform.
  PrngSeed seed{};
  seed[0] = 42;
  const std::vector<std::uint64_t> q{(~std::uint64_t{0} / 33) * 2 + 1, 65537};  // sampling needs no primes
  const std::size_t n = 1024;
  Prng raw(PrngType::blake2xb, seed);
  std::vector<std::uint64_t> words(n * q.size());
  raw.generate(std::span(reinterpret_cast<std::uint8_t*>(words.data()), words.size() * 8));
  std::vector<std::uint64_t> expect(words.size());
  std::size_t rejections = 0;
  for (std::size_t j = 0; j < q.size(); ++j) {
    const std::uint64_t m = ~std::uint64_t{0} - (~std::uint64_t{0} % q[j]) - 1;
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t x = words[j * n + i];
      while (x >= m) {
        x = raw.next_u64();
        ++rejections;
      }
      expect[j * n + i] = x % q[j];
    }
  }
  EXPECT_GT(rejections, 10u);  // the path under test was exercised
  Prng prng(PrngType::blake2xb, seed);
  std::vector<std::uint64_t> got(words.size());
  sample_uniform(prng, q, n, got);
  EXPECT_EQ(got, expect);
}

}  // namespace
}  // namespace hecnn::wire
