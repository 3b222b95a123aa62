// wire::describe (behind `hecnn inspect`): type recognition with and without
// parameters, validation verdicts, refusal of non-SEAL bytes.
#include "fhe/wire/inspect.h"

#include <gtest/gtest.h>

#include "fhe/wire/error.h"

namespace hecnn::wire {
namespace {

const Context& ctx() {
  static const Context c(EncryptionParameters{Scheme::bfv, 4096, bfv_default_coeff_modulus(4096),
                                              batching_plain_modulus(4096, 20)});
  return c;
}

std::string field(const Description& d, const std::string& k) {
  for (const auto& [key, v] : d.fields)
    if (key == k) return v;
  return "(missing)";
}

CiphertextData zero_ct(const Level& l, bool ntt) {
  CiphertextData ct;
  ct.parms_id = l.parms_id;
  ct.is_ntt_form = ntt;
  ct.size = 2;
  ct.n = ctx().n();
  ct.prime_count = l.prime_count;
  ct.data.assign(2 * l.prime_count * ct.n, 0);
  return ct;
}

TEST(Inspect, RecognisesEveryTypeWithAndWithoutParameters) {
  const auto params = write_parameters(ctx().parms(), {kVersion40, Compression::zstd});
  auto d = describe(params);
  EXPECT_EQ(d.type, "parameters");
  EXPECT_EQ(d.header.version, kVersion40);
  EXPECT_EQ(field(d, "N"), "4096");
  EXPECT_EQ(d.validation, "valid (128-bit security)");

  const auto ct = write_ciphertext(ctx(), zero_ct(ctx().first_data_level(), false), {kVersion41, Compression::zlib});
  EXPECT_EQ(describe(ct).type, "ciphertext or public key");
  d = describe(ct, &ctx());
  EXPECT_EQ(d.type, "ciphertext");
  EXPECT_EQ(d.validation, "valid");
  EXPECT_EQ(field(d, "primes at this level"), "2");
  EXPECT_EQ(field(d, "seeded"), "no");

  const auto pk = write_public_key(ctx(), PublicKeyData{zero_ct(ctx().key_level(), true)});
  EXPECT_EQ(describe(pk, &ctx()).type, "public key");

  KSwitchKeysData ks;
  ks.parms_id = ctx().key_level().parms_id;
  ks.keys.resize(ctx().n());
  ks.keys[1] = {PublicKeyData{zero_ct(ctx().key_level(), true)}, PublicKeyData{zero_ct(ctx().key_level(), true)}};
  d = describe(write_galois_keys(ctx(), GaloisKeysData{ks}));
  EXPECT_EQ(d.type, "galois keys");
  EXPECT_EQ(field(d, "galois elements"), "3 ");
  ks.keys.resize(1);
  ks.keys[0] = {PublicKeyData{zero_ct(ctx().key_level(), true)}, PublicKeyData{zero_ct(ctx().key_level(), true)}};
  EXPECT_EQ(describe(write_relin_keys(ctx(), RelinKeysData{ks}), &ctx()).type, "relin keys");

  const auto pt = write_plaintext(ctx(), PlaintextData{kZeroParmsId, 3, 1.0, {1, 2, 3}});
  EXPECT_EQ(describe(pt).type, "plaintext");
  const auto& kl = ctx().key_level();
  const auto sk = write_secret_key(ctx(), SecretKeyData{PlaintextData{kl.parms_id, 3 * 4096, 1.0, std::vector<std::uint64_t>(3 * 4096, 0)}});
  EXPECT_EQ(describe(sk, &ctx()).type, "secret key");
}

TEST(Inspect, ReportsInvalidObjectsAndRefusesJunk) {
  auto ct = zero_ct(ctx().first_data_level(), false);
  auto bytes = write_ciphertext(ctx(), ct);
  bytes[113] = 0xFF;  // first coefficient far above q_0
  bytes[114] = 0xFF;
  bytes[120] = 0xFF;
  const auto d = describe(bytes, &ctx());
  EXPECT_NE(d.validation.find("INVALID: ciphertext: coefficient word 0/0/0"), std::string::npos) << d.validation;
  std::vector<std::uint8_t> junk(100, 0x41);
  EXPECT_THROW(describe(junk), FormatError);
}

}  // namespace
}  // namespace hecnn::wire
