// Conversion between wire structs and the rlwe core, and reseeding, checked
// with the core alone (no node-seal needed): parms_ids agree on every level,
// conversions round-trip, reseeded ciphertexts and keys still decrypt / work.
#include "fhe/wire/core_convert.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "fhe/bfv/batch_encoder.h"
#include "fhe/bfv/encryptor.h"
#include "fhe/bfv/evaluator.h"
#include "fhe/rlwe/keygen.h"
#include "fhe/wire/error.h"
#include "math/prng.h"

namespace hecnn::wire {
namespace {

struct World {
  Context wctx{EncryptionParameters{Scheme::bfv, 4096, bfv_default_coeff_modulus(4096), batching_plain_modulus(4096, 20)}};
  rlwe::ContextPtr core = make_core_context(wctx);
  math::DeterministicPrngForTests prng{7};
  rlwe::KeyGenerator kg{core, prng};
  bfv::BfvTablesPtr tables = bfv::make_tables(core);
  bfv::BatchEncoder encoder{core};
  std::vector<std::uint64_t> values;
  World() {
    values.resize(wctx.n());
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = (i * i + 3) % wctx.parms().plain_modulus;
  }
  std::vector<std::uint64_t> decrypt(const rlwe::Ciphertext& ct) const {
    return encoder.decode(bfv::Decryptor(tables, kg.secret_key()).decrypt(ct));
  }
};

TEST(CoreConvert, ParmsIdsAgreeWithTheCoreOnEveryLevel) {
  for (const auto& p : {EncryptionParameters{Scheme::bfv, 8192, bfv_default_coeff_modulus(8192), 1032193},
                        EncryptionParameters{Scheme::ckks, 8192, create_coeff_modulus(8192, std::vector<int>{60, 40, 40, 60}), 0}}) {
    const Context wctx(p);
    const auto core = make_core_context(wctx);  // throws if any level differs
    EXPECT_EQ(core->parms_id(p.coeff_modulus.size()), wctx.key_level().parms_id);
    EXPECT_EQ(to_wire(core->literal()), p);
  }
}

TEST(CoreConvert, ObjectsRoundTripThroughBytes) {
  World s;
  const auto ct = bfv::Encryptor(s.tables, s.kg.secret_key()).encrypt(s.encoder.encode(s.values), s.prng);
  const auto back = to_core(s.wctx, read_ciphertext(s.wctx, write_ciphertext(s.wctx, to_wire(s.wctx, ct))).value);
  EXPECT_EQ(back.data, ct.data);
  EXPECT_EQ(s.decrypt(back), s.values);
  const auto sk = to_core(s.wctx, read_secret_key(s.wctx, write_secret_key(s.wctx, to_wire(s.wctx, s.kg.secret_key()))).value);
  EXPECT_TRUE(std::equal(sk.data.begin(), sk.data.end(), s.kg.secret_key().data.begin(), s.kg.secret_key().data.end()));
  const auto gk = s.kg.create_galois_keys_for_steps({1, 2}, true);
  const auto gk2 = to_core(s.wctx, read_galois_keys(s.wctx, write_galois_keys(s.wctx, to_wire(s.wctx, gk))).value);
  ASSERT_EQ(gk2.keys.size(), 3u);
  for (const auto& [g, key] : gk.keys) {
    ASSERT_TRUE(gk2.has(g));
    ASSERT_EQ(gk2.at(g).parts.size(), key.parts.size());
    for (std::size_t j = 0; j < key.parts.size(); ++j) EXPECT_EQ(gk2.at(g).parts[j].data, key.parts[j].data);
  }
  // A ciphertext at a level the wire context does not know is refused.
  rlwe::Ciphertext odd(4096, 7, 2, false);
  EXPECT_THROW(to_wire(s.wctx, odd), std::invalid_argument);
}

TEST(CoreConvert, ReseededCiphertextAndKeysKeepTheirMeaning) {
  World s;
  auto ct = to_wire(s.wctx, bfv::Encryptor(s.tables, s.kg.secret_key()).encrypt(s.encoder.encode(s.values), s.prng));
  const auto before = ct.poly(1)[0];
  reseed(s.wctx, *s.core, s.kg.secret_key(), ct, PrngType::shake256);
  ASSERT_TRUE(ct.seed.has_value());
  EXPECT_NE(ct.poly(1)[0], before);
  const auto bytes = write_ciphertext(s.wctx, ct, {kVersion41, Compression::zstd});
  const auto loaded = read_ciphertext(s.wctx, bytes).value;
  EXPECT_EQ(loaded.data, ct.data);
  EXPECT_EQ(loaded.seed->type, PrngType::shake256);
  EXPECT_EQ(write_ciphertext(s.wctx, ct).size(), seeded_ciphertext_size(4096, 2));
  EXPECT_EQ(s.decrypt(to_core(s.wctx, loaded)), s.values);

  // Reseeded relinearization and Galois keys still switch keys correctly.
  auto rk = to_wire(s.wctx, s.kg.create_relin_keys());
  reseed(s.wctx, *s.core, s.kg.secret_key(), rk.ks);
  auto gk = to_wire(s.wctx, s.kg.create_galois_keys_for_steps({1}, true));
  reseed(s.wctx, *s.core, s.kg.secret_key(), gk.ks);
  const auto rk_core = to_core(s.wctx, read_relin_keys(s.wctx, write_relin_keys(s.wctx, rk)).value);
  const auto gk_core = to_core(s.wctx, read_galois_keys(s.wctx, write_galois_keys(s.wctx, gk)).value);
  const bfv::Evaluator ev(s.tables);
  auto c = to_core(s.wctx, loaded);
  ev.square_inplace(c);
  ev.relinearize_inplace(c, rk_core);
  ev.rotate_columns_inplace(c, gk_core);
  const std::uint64_t t = s.wctx.parms().plain_modulus;
  const std::size_t h = s.values.size() / 2;
  const auto got = s.decrypt(c);
  for (std::size_t i = 0; i < s.values.size(); ++i) {
    const std::uint64_t v = s.values[(i + h) % s.values.size()];
    ASSERT_EQ(got[i], v * v % t) << i;
  }
  // Reseeding a size-3 ciphertext is refused.
  auto three = to_wire(s.wctx, [&] {
    auto x = to_core(s.wctx, loaded);
    ev.square_inplace(x);
    return x;
  }());
  EXPECT_THROW(reseed(s.wctx, *s.core, s.kg.secret_key(), three), std::invalid_argument);
}

}  // namespace
}  // namespace hecnn::wire
