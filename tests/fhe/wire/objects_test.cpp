// Readers/writers of every object type on synthetic data: round trips in every
// compression mode and both versions, sizes equal the specification's formulas,
// and malformed input of each kind gives a FormatError naming the problem.
#include "fhe/wire/objects.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "fhe/wire/bomb_util.h"
#include "fhe/wire/error.h"
#include "fhe/wire/prng.h"
#include "math/ntt.h"

namespace hecnn::wire {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const FormatError& e) {
    return e.what();
  }
  return "(no error)";
}
#define EXPECT_ERROR(stmt, text)                                   \
  do {                                                             \
    const std::string msg_ = error_of([&] { stmt; });              \
    EXPECT_NE(msg_.find(text), std::string::npos) << msg_;         \
  } while (0)

// A ternary secret key in NTT form at the key level (coefficients in {-1, 0, 1}).
std::vector<std::uint64_t> ternary_secret(const Context& ctx, std::uint64_t seed) {
  const std::size_t n = ctx.n(), k = ctx.key_prime_count();
  std::mt19937_64 rng(seed);
  std::vector<int> c(n);
  for (auto& v : c) v = int(rng() % 3) - 1;
  std::vector<std::uint64_t> out(n * k);
  for (std::size_t j = 0; j < k; ++j) {
    const std::uint64_t q = ctx.parms().coeff_modulus[j];
    for (std::size_t i = 0; i < n; ++i) out[j * n + i] = c[i] < 0 ? q - 1 : std::uint64_t(c[i]);
    math::ntt_forward(out.data() + j * n, math::NttTables(n, math::Modulus(q)));
  }
  return out;
}

const Context& bfv() {
  static const Context c(EncryptionParameters{Scheme::bfv, 4096, bfv_default_coeff_modulus(4096),
                                              batching_plain_modulus(4096, 20)});
  return c;
}
const Context& ckks() {
  static const Context c(EncryptionParameters{Scheme::ckks, 4096, create_coeff_modulus(4096, std::vector<int>{40, 30, 38}), 0});
  return c;
}

std::mt19937_64& rng() {
  static std::mt19937_64 r(12345);
  return r;
}

CiphertextData random_ct(const Context& ctx, const Level& level, std::size_t size, bool ntt) {
  CiphertextData ct;
  ct.parms_id = level.parms_id;
  ct.is_ntt_form = ntt;
  ct.size = size;
  ct.n = ctx.n();
  ct.prime_count = level.prime_count;
  ct.scale = ctx.scheme() == Scheme::ckks && level.chain_index != 0 ? 1048576.0 : 1.0;
  ct.data.resize(size * ct.prime_count * ct.n);
  const auto q = ctx.primes(level);
  for (std::size_t p = 0; p < size; ++p)
    for (std::size_t j = 0; j < q.size(); ++j)
      for (std::size_t i = 0; i < ct.n; ++i) ct.data[(p * q.size() + j) * ct.n + i] = rng()() % q[j];
  return ct;
}

// c1 replaced by the expansion of a fresh seed.
CiphertextData seeded(const Context& ctx, CiphertextData ct) {
  ct.seed = PrngInfo{PrngType::blake2xb, random_seed()};
  expand_seed(ctx, *ctx.find(ct.parms_id), *ct.seed, ct.poly(1));
  return ct;
}

PublicKeyData random_pk(const Context& ctx, bool with_seed) {
  auto ct = random_ct(ctx, ctx.key_level(), 2, true);
  ct.scale = 1.0;
  return PublicKeyData{with_seed ? seeded(ctx, ct) : ct};
}

KSwitchKeysData random_ks(const Context& ctx, std::size_t dim1, std::vector<std::size_t> present, bool with_seed) {
  KSwitchKeysData ks;
  ks.parms_id = ctx.key_level().parms_id;
  ks.keys.resize(dim1);
  for (auto e : present)
    for (std::size_t c = 0; c + 1 < ctx.key_prime_count(); ++c) ks.keys[e].push_back(random_pk(ctx, with_seed));
  return ks;
}

const Compression kModes[] = {Compression::none, Compression::zlib, Compression::zstd};

TEST(Objects, CiphertextRoundTripsWithFormulaSizes) {
  for (const Context* ctx : {&bfv(), &ckks()}) {
    const bool ntt = ctx->scheme() == Scheme::ckks;
    for (const Level& level : ctx->levels().subspan(1)) {
      for (std::size_t size : {2u, 3u}) {
        const auto ct = random_ct(*ctx, level, size, ntt);
        for (Version v : {kVersion40, kVersion41}) {
          for (Compression c : kModes) {
            const auto bytes = write_ciphertext(*ctx, ct, {v, c});
            if (c == Compression::none) { EXPECT_EQ(bytes.size(), ciphertext_size(size, ctx->n(), level.prime_count)); }
            const auto back = read_ciphertext(*ctx, bytes);
            EXPECT_EQ(back.value.data, ct.data);
            EXPECT_EQ(back.value.parms_id, ct.parms_id);
            EXPECT_EQ(back.value.scale, ct.scale);
            EXPECT_EQ(back.header.version, v);
            EXPECT_EQ(back.header.compression, c);
          }
        }
      }
      const auto s = seeded(*ctx, random_ct(*ctx, level, 2, ntt));
      for (Compression c : kModes) {
        const auto bytes = write_ciphertext(*ctx, s, {kVersion41, c});
        if (c == Compression::none) { EXPECT_EQ(bytes.size(), seeded_ciphertext_size(ctx->n(), level.prime_count)); }
        const auto back = read_ciphertext(*ctx, bytes);
        EXPECT_EQ(back.value.data, s.data);
        ASSERT_TRUE(back.value.seed.has_value());
        EXPECT_EQ(back.value.seed->seed, s.seed->seed);
      }
    }
  }
}

TEST(Objects, KeysAndPlaintextsRoundTripWithFormulaSizes) {
  const Context& ctx = bfv();
  const std::size_t n = ctx.n(), k = ctx.key_prime_count();
  for (bool with_seed : {false, true}) {
    for (Compression c : kModes) {
      const WriteOptions o{kVersion41, c};
      const auto pk = random_pk(ctx, with_seed);
      auto b = write_public_key(ctx, pk, o);
      if (c == Compression::none) { EXPECT_EQ(b.size(), public_key_size(n, k, with_seed)); }
      EXPECT_EQ(read_public_key(ctx, b).value.ct.data, pk.ct.data);
      const RelinKeysData rk{random_ks(ctx, 1, {0}, with_seed)};
      b = write_relin_keys(ctx, rk, o);
      if (c == Compression::none) { EXPECT_EQ(b.size(), relin_keys_size(n, k, with_seed)); }
      const auto rk2 = read_relin_keys(ctx, b).value;
      EXPECT_EQ(rk2.ks.keys[0][1].ct.data, rk.ks.keys[0][1].ct.data);
      const GaloisKeysData gk{random_ks(ctx, n, {1, 4, n - 1}, with_seed)};
      b = write_galois_keys(ctx, gk, o);
      if (c == Compression::none) { EXPECT_EQ(b.size(), galois_keys_size(n, k, 3, with_seed)); }
      const auto gk2 = read_galois_keys(ctx, b).value;
      EXPECT_TRUE(gk2.has(3) && gk2.has(9) && gk2.has(2 * n - 1) && !gk2.has(5));
      EXPECT_EQ(gk2.key(9)[0].ct.data, gk.ks.keys[4][0].ct.data);
    }
  }
  SecretKeyData sk{PlaintextData{ctx.key_level().parms_id, n * k, 1.0, ternary_secret(ctx, 5)}};
  auto b = write_secret_key(ctx, sk);
  EXPECT_EQ(b.size(), secret_key_size(n, k));
  EXPECT_EQ(read_secret_key(ctx, b).value.plain.data, sk.plain.data);
  PlaintextData pt{kZeroParmsId, 100, 1.0, std::vector<std::uint64_t>(100, 7)};
  b = write_plaintext(ctx, pt, {kVersion40, Compression::zstd});
  EXPECT_EQ(read_plaintext(ctx, b).value.data, pt.data);
  EXPECT_EQ(write_plaintext(ctx, pt).size(), plaintext_size(100));
}

TEST(Objects, CiphertextReaderRejectsMalformed) {
  const Context& ctx = bfv();
  const auto ct = random_ct(ctx, ctx.first_data_level(), 2, false);
  const auto good = write_ciphertext(ctx, ct);
  auto patch_u64 = [&](std::size_t off, std::uint64_t v) {
    auto b = good;
    std::memcpy(b.data() + off, &v, 8);
    return b;
  };
  // Offsets after the 16-byte header: parms_id 16..47, ntt 48, size 49, N 57, k 65, scale 73, cf 81, array 89.
  EXPECT_ERROR(read_ciphertext(ctx, patch_u64(16, 1)), "ciphertext: parms_id");
  EXPECT_ERROR(read_ciphertext(ctx, patch_u64(16, 1)), "is not in the parameter chain");
  EXPECT_ERROR(read_ciphertext(ctx, patch_u64(49, 17)), "size 17 is not in 2..16");
  EXPECT_ERROR(read_ciphertext(ctx, patch_u64(57, 8192)), "poly modulus degree 8192 does not match N = 4096");
  EXPECT_ERROR(read_ciphertext(ctx, patch_u64(65, 3)), "coefficient prime count 3 does not match the level's 2");
  EXPECT_ERROR(read_ciphertext(ctx, patch_u64(73, 0x4000000000000000ull)), "scale is 2.000000 (must be exactly 1)");
  EXPECT_ERROR(read_ciphertext(ctx, patch_u64(81, 2)), "correction factor is 2");
  auto b = good;
  b[48] = 1;
  EXPECT_ERROR(read_ciphertext(ctx, b), "BFV ciphertexts must be in coefficient form");
  b[48] = 7;
  EXPECT_ERROR(read_ciphertext(ctx, b), "is_ntt_form byte is 7");
  // Count: header size and count of the coefficient array changed together.
  b = patch_u64(89 + 16, 123);
  std::uint64_t arr = 24 + 8 * 123;
  std::memcpy(b.data() + 89 + 8, &arr, 8);
  EXPECT_ERROR(read_ciphertext(ctx, b), "ciphertext: coefficient count 123 does not match N*k*size = 16384");
  // Out-of-range coefficient (prime 1 of poly 1).
  const std::uint64_t q1 = ctx.parms().coeff_modulus[1];
  b = patch_u64(113 + 8 * (1 * 2 * 4096 + 1 * 4096 + 5), q1);
  EXPECT_ERROR(read_ciphertext(ctx, b), "word 1/1/5 = " + std::to_string(q1) + " is not reduced modulo q_1");
  // Key-level parms_id: not a data ciphertext.
  auto kl = random_ct(ctx, ctx.key_level(), 2, false);
  EXPECT_ERROR(write_ciphertext(ctx, kl), "is the key level");
  // Truncation anywhere, and trailing bytes.
  for (std::size_t cut = 0; cut < good.size(); cut += (cut < 200 ? 1 : 997)) {
    std::vector<std::uint8_t> t(good.begin(), good.begin() + cut);
    EXPECT_ERROR(read_ciphertext(ctx, t), "ciphertext: ");
  }
  b = good;
  b.push_back(0);
  EXPECT_ERROR(read_ciphertext(ctx, b), "1 trailing bytes");
  ReadOptions stream;
  stream.allow_trailing = true;
  EXPECT_EQ(read_ciphertext(ctx, b, stream).consumed, good.size());
  // Caller's quota.
  ReadOptions small;
  small.max_size = 1000;
  EXPECT_ERROR(read_ciphertext(ctx, good, small), "exceeds the maximum");
}

TEST(Objects, SeededCiphertextRejectsBadSeedRecords) {
  const Context& ctx = bfv();
  const auto s = seeded(ctx, random_ct(ctx, ctx.first_data_level(), 2, false));
  const auto good = write_ciphertext(ctx, s);
  auto b = good;
  b[b.size() - 65] = 3;
  EXPECT_ERROR(read_ciphertext(ctx, b), "PRNG type 3 is not supported");
  b = good;
  b[b.size() - 81] = 0;  // magic of the PRNG record
  EXPECT_ERROR(read_ciphertext(ctx, b), "PRNG info record at offset");
  // A writer refuses a seed that does not generate c1.
  auto wrong = s;
  wrong.seed->seed[0] ^= 1;
  EXPECT_ERROR(write_ciphertext(ctx, wrong), "c1 is not the expansion of the attached seed");
  // Seeded form with size 3 is not allowed: count N*k with size 3 is a count mismatch.
  auto three = random_ct(ctx, ctx.first_data_level(), 3, false);
  three.seed = s.seed;
  EXPECT_ERROR(write_ciphertext(ctx, three), "only size-2");
}

TEST(Objects, CompressedCiphertextBombIsBounded) {
  const Context& ctx = bfv();
  // A header + valid-looking start followed by 40 MB of zeros, zstd-compressed.
  std::vector<std::uint8_t> body(40u << 20, 0);
  for (Compression c : {Compression::zlib, Compression::zstd}) {
    const auto packed = compress(body, c);
    ByteWriter w;
    write_header(w, Header{kVersion41, c, 16 + packed.size()});
    w.bytes(packed);
    EXPECT_ERROR(read_ciphertext(ctx, w.buffer()), "beyond the maximum");
  }
}

TEST(Objects, GaloisKeyBoundFollowsSealsDefaultCount) {
  // SEAL's create_galois_keys(): +-2^i for i < log2(N/2), and the column swap.
  EXPECT_EQ(default_galois_key_count(4096), 23u);
  EXPECT_EQ(default_galois_key_count(16384), 27u);
  EXPECT_EQ(default_galois_key_count(32768), 29u);
  const Context& ctx = bfv();
  const std::uint64_t n = ctx.n(), k = ctx.key_prime_count();
  const std::uint64_t bound = galois_keys_size(n, k, 23, false);
  EXPECT_EQ(largest_object_size(ctx, {}), bound);  // the default Galois key set is the largest object
  // A bomb as Galois keys stops at the default set's size, or at the plan's quota.
  const auto bomb = testing::enveloped(Compression::zstd, testing::zstd_rle_bomb(std::uint64_t{1} << 30));
  EXPECT_ERROR(read_galois_keys(ctx, bomb), "galois keys: zstd data inflates beyond the maximum " + std::to_string(bound - 16));
  ReadOptions plan;
  plan.max_galois_keys = 1;
  EXPECT_ERROR(read_galois_keys(ctx, bomb, plan),
               "beyond the maximum " + std::to_string(galois_keys_size(n, k, 1, false) - 16) + " bytes");
  // Every reader's bound is at most the largest object.
  EXPECT_ERROR(read_secret_key(ctx, bomb), "beyond the maximum " + std::to_string(secret_key_size(n, k) - 16));
}

TEST(Objects, KeyReadersRejectMalformed) {
  const Context& ctx = bfv();
  const std::size_t n = ctx.n();
  // Public key: not at the key level / not NTT.
  auto pk = random_pk(ctx, false);
  auto b = write_public_key(ctx, pk);
  auto bad = b;
  bad[48] = 0;
  EXPECT_ERROR(read_public_key(ctx, bad), "public key: public key is not in NTT form");
  PublicKeyData low{random_ct(ctx, ctx.first_data_level(), 2, true)};
  EXPECT_ERROR(write_public_key(ctx, low), "not at the key level");
  // Relin keys: dim1 out of range, dim2 wrong, wrong parms_id.
  const RelinKeysData rk{random_ks(ctx, 1, {0}, true)};
  b = write_relin_keys(ctx, rk);
  auto patch = [&](std::vector<std::uint8_t> x, std::size_t off, std::uint64_t v) {
    std::memcpy(x.data() + off, &v, 8);
    return x;
  };
  EXPECT_ERROR(read_relin_keys(ctx, patch(b, 48, 0)), "relinearization key count 0 is not in 1..1");
  EXPECT_ERROR(read_relin_keys(ctx, patch(b, 48, ~0ull)), "relinearization key count 18446744073709551615");
  ReadOptions more;
  more.max_relin_powers = 14;
  EXPECT_ERROR(read_relin_keys(ctx, patch(b, 48, 15), more), "relinearization key count 15 is not in 1..14");
  // A second power announced but absent: truncated.
  EXPECT_ERROR(read_relin_keys(ctx, patch(b, 48, 2), more), "truncated");
  EXPECT_ERROR(read_relin_keys(ctx, patch(b, 56, 5)), "key 0 has 5 components (expected 0 or L = 2)");
  EXPECT_ERROR(read_relin_keys(ctx, patch(b, 16, 9)), "is not the key level");
  // Nested public key claiming the wrong size.
  EXPECT_ERROR(read_relin_keys(ctx, patch(b, 64 + 8, 12345)), "claims size 12345");
  // Galois keys: dim1 must be N, and the number of keys is capped.
  const GaloisKeysData gk{random_ks(ctx, n, {0, 1, 2}, true)};
  b = write_galois_keys(ctx, gk);
  EXPECT_ERROR(read_galois_keys(ctx, patch(b, 48, n + 1)), "Galois key table has 4097 entries (expected N = 4096)");
  ReadOptions cap;
  cap.max_galois_keys = 2;
  EXPECT_ERROR(read_galois_keys(ctx, b, cap), "more than 2 Galois keys");
  // Secret key: out of range word, wrong level.
  SecretKeyData sk{PlaintextData{ctx.key_level().parms_id, n * 3, 1.0, std::vector<std::uint64_t>(n * 3, 1)}};
  b = write_secret_key(ctx, sk);
  EXPECT_ERROR(read_secret_key(ctx, patch(b, 88 + 8 * (2 * n + 1), ~0ull)), "secret key: coefficient word 0/2/1");
  // BFV plaintext: coefficient >= t, count above N.
  PlaintextData pt{kZeroParmsId, 4, 1.0, {1, 2, 3, 4}};
  b = write_plaintext(ctx, pt);
  EXPECT_ERROR(read_plaintext(ctx, patch(b, 88 + 8, 1032193)), "coefficient 1 = 1032193 is not reduced modulo t = 1032193");
  EXPECT_ERROR(read_plaintext(ctx, patch(b, 48, 5000)), "coefficient count 5000 exceeds N = 4096");
}

TEST(Objects, CkksMetadataChecks) {
  const Context& ctx = ckks();
  auto ct = random_ct(ctx, ctx.first_data_level(), 2, true);
  ct.scale = 0;
  EXPECT_ERROR(write_ciphertext(ctx, ct), "CKKS scale 0.000000 is not in (0, 2^");
  ct.scale = std::ldexp(1.0, 80);
  EXPECT_ERROR(write_ciphertext(ctx, ct), "is not in (0, 2^70)");
  ct.scale = 1e12;
  ct.is_ntt_form = false;
  EXPECT_ERROR(write_ciphertext(ctx, ct), "CKKS ciphertexts must be in NTT form");
  PlaintextData pt{kZeroParmsId, 4, 1.0, {1, 2, 3, 4}};
  EXPECT_ERROR(write_plaintext(ctx, pt), "CKKS plaintexts must be in NTT form");
}

// Secret keys are checked to be ternary secrets, not just words below each prime.
TEST(WireObjects, SecretKeysMustBeTernary) {
  for (const Context* c : {&bfv(), &ckks()}) {
    const Context& ctx = *c;
    const std::size_t n = ctx.n(), k = ctx.key_prime_count();
    const auto real = ternary_secret(ctx, 9);
    EXPECT_EQ(read_secret_key(ctx, write_secret_key(ctx, SecretKeyData{{ctx.key_level().parms_id, n * k, 1.0, real}})).value.plain.data,
              real);
    std::mt19937_64 rng(4);
    std::vector<std::uint64_t> uniform(n * k);
    for (std::size_t j = 0; j < k; ++j)
      for (std::size_t i = 0; i < n; ++i) uniform[j * n + i] = rng() % ctx.parms().coeff_modulus[j];
    EXPECT_ERROR(read_secret_key(ctx, write_secret_key(ctx, SecretKeyData{{ctx.key_level().parms_id, n * k, 1.0, uniform}})),
                 "not a ternary secret key");
    EXPECT_ERROR(read_secret_key(ctx, write_secret_key(ctx, SecretKeyData{{ctx.key_level().parms_id, n * k, 1.0,
                                                                           std::vector<std::uint64_t>(n * k, 0)}})),
                 "every coefficient is zero");
    // Prime 0 of one key with the other primes of another: each is ternary, together not.
    auto mixed = ternary_secret(ctx, 10);
    std::copy(real.begin(), real.begin() + std::ptrdiff_t(n), mixed.begin());
    EXPECT_ERROR(read_secret_key(ctx, write_secret_key(ctx, SecretKeyData{{ctx.key_level().parms_id, n * k, 1.0, mixed}})),
                 "differs between primes");
  }
}

}  // namespace
}  // namespace hecnn::wire
