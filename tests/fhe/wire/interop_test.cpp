// Objects written by node-seal (SEAL 4.1): hecnn reads every type in every
// compression mode, regenerates seeded c1 / a exactly (BLAKE2Xb and SHAKE256),
// rewrites byte-identical files, and node-seal loads and decrypts what hecnn writes.
#include <gtest/gtest.h>

#include "fhe/wire/error.h"
#include "fhe/wire/objects.h"
#include "oracle_util.h"

namespace hecnn::wire {
namespace {

namespace t = testing;

struct Config {
  const char* name;
  std::vector<std::string> args;
};

class Interop : public ::testing::TestWithParam<Config> {
 protected:
  void SetUp() override {
    HECNN_REQUIRE_ORACLE();
    dir_ = t::fixtures(GetParam().args);
    manifest_ = t::manifest(dir_);
    ctx_.emplace(read_parameters(file("params.none.bin")).parms);
  }
  std::vector<std::uint8_t> file(const std::string& name) const { return t::read_file(dir_ / name); }
  const Context& ctx() const { return *ctx_; }

  t::fs::path dir_;
  nlohmann::json manifest_;
  std::optional<Context> ctx_;
};

const char* kModes[] = {"none", "zlib", "zstd"};

TEST_P(Interop, CiphertextsSeededAndFullAgreeAndRewriteByteExact) {
  const auto full_bytes = file("ct.full.none.bin");
  const auto full = read_ciphertext(ctx(), full_bytes);
  EXPECT_EQ(full.header.version, kVersion41);
  EXPECT_FALSE(full.value.seed.has_value());
  EXPECT_EQ(full_bytes.size(), ciphertext_size(2, ctx().n(), full.value.prime_count));
  EXPECT_EQ(write_ciphertext(ctx(), full.value), full_bytes);
  const auto seeded_bytes = file("ct.seeded.none.bin");
  EXPECT_EQ(seeded_bytes.size(), seeded_ciphertext_size(ctx().n(), full.value.prime_count));
  for (const char* mode : kModes) {
    const auto seeded = read_ciphertext(ctx(), file(std::string("ct.seeded.") + mode + ".bin"));
    ASSERT_TRUE(seeded.value.seed.has_value()) << mode;
    EXPECT_EQ(seeded.value.seed->type, PrngType::blake2xb);
    EXPECT_EQ(to_string(seeded.header.compression), mode);
    // c1 regenerated from the seed equals what SEAL expanded.
    EXPECT_EQ(seeded.value.data, full.value.data) << mode;
    if (std::string(mode) == "none") { EXPECT_EQ(write_ciphertext(ctx(), seeded.value), seeded_bytes); }
    EXPECT_EQ(read_ciphertext(ctx(), file(std::string("ct.full.") + mode + ".bin")).value.data, full.value.data);
    const auto pkenc = read_ciphertext(ctx(), file(std::string("ct.pk.") + mode + ".bin"));
    EXPECT_FALSE(pkenc.value.seed.has_value());
  }
}

TEST_P(Interop, Shake256SeedExpansionMatchesSeal) {
  if (!manifest_["shake"].value("ok", false)) GTEST_FAIL() << "node-seal refused the SHAKE256 seed: " << manifest_["shake"].dump();
  const auto seeded = read_ciphertext(ctx(), file("ct.shake.seeded.none.bin"));
  ASSERT_TRUE(seeded.value.seed.has_value());
  EXPECT_EQ(seeded.value.seed->type, PrngType::shake256);
  const auto full = read_ciphertext(ctx(), file("ct.shake.full.none.bin"));
  EXPECT_EQ(seeded.value.data, full.value.data);
}

TEST_P(Interop, KeysSeededAndFullAgreeAndRewriteByteExact) {
  const std::size_t n = ctx().n(), k = ctx().key_prime_count();
  // Secret key.
  const auto sk_bytes = file("sk.none.bin");
  EXPECT_EQ(sk_bytes.size(), secret_key_size(n, k));
  const auto sk = read_secret_key(ctx(), sk_bytes);
  EXPECT_EQ(write_secret_key(ctx(), sk.value), sk_bytes);
  EXPECT_EQ(read_secret_key(ctx(), file("sk.zstd.bin")).value.plain.data, sk.value.plain.data);
  // Public key.
  const auto pk_full_bytes = file("pk.full.none.bin");
  EXPECT_EQ(pk_full_bytes.size(), public_key_size(n, k, false));
  EXPECT_EQ(file("pk.seeded.none.bin").size(), public_key_size(n, k, true));
  const auto pk_full = read_public_key(ctx(), pk_full_bytes);
  EXPECT_EQ(write_public_key(ctx(), pk_full.value), pk_full_bytes);
  for (const char* mode : kModes) {
    const auto pk = read_public_key(ctx(), file(std::string("pk.seeded.") + mode + ".bin"));
    ASSERT_TRUE(pk.value.ct.seed.has_value());
    EXPECT_EQ(pk.value.ct.data, pk_full.value.ct.data) << mode;
    if (std::string(mode) == "none") { EXPECT_EQ(write_public_key(ctx(), pk.value), file("pk.seeded.none.bin")); }
    EXPECT_EQ(read_public_key(ctx(), file(std::string("pk.full.") + mode + ".bin")).value.ct.data, pk_full.value.ct.data);
  }
  // Relinearization keys.
  const auto rk_full_bytes = file("rk.full.none.bin");
  EXPECT_EQ(rk_full_bytes.size(), relin_keys_size(n, k, false));
  EXPECT_EQ(file("rk.seeded.none.bin").size(), relin_keys_size(n, k, true));
  const auto rk_full = read_relin_keys(ctx(), rk_full_bytes);
  ASSERT_EQ(rk_full.value.ks.keys.size(), 1u);
  ASSERT_EQ(rk_full.value.ks.keys[0].size(), k - 1);
  EXPECT_EQ(write_relin_keys(ctx(), rk_full.value), rk_full_bytes);
  for (const char* mode : kModes) {
    const auto rk = read_relin_keys(ctx(), file(std::string("rk.seeded.") + mode + ".bin"));
    for (std::size_t c = 0; c < k - 1; ++c) {
      ASSERT_TRUE(rk.value.ks.keys[0][c].ct.seed.has_value());
      EXPECT_EQ(rk.value.ks.keys[0][c].ct.data, rk_full.value.ks.keys[0][c].ct.data) << mode << " component " << c;
    }
    if (std::string(mode) == "none") { EXPECT_EQ(write_relin_keys(ctx(), rk.value), file("rk.seeded.none.bin")); }
  }
  // Galois keys (steps 0, 1, -1: elements 2N-1, 3, 3^(N/2-1) mod 2N).
  const auto gk_full_bytes = file("gk.full.none.bin");
  EXPECT_EQ(gk_full_bytes.size(), galois_keys_size(n, k, 3, false));
  EXPECT_EQ(file("gk.seeded.none.bin").size(), galois_keys_size(n, k, 3, true));
  const auto gk_full = read_galois_keys(ctx(), gk_full_bytes);
  EXPECT_TRUE(gk_full.value.has(2 * n - 1));
  EXPECT_TRUE(gk_full.value.has(3));
  EXPECT_FALSE(gk_full.value.has(5));
  EXPECT_EQ(write_galois_keys(ctx(), gk_full.value), gk_full_bytes);
  for (const char* mode : kModes) {
    const auto gk = read_galois_keys(ctx(), file(std::string("gk.seeded.") + mode + ".bin"));
    for (std::size_t e = 0; e < n; ++e) {
      ASSERT_EQ(gk.value.ks.keys[e].size(), gk_full.value.ks.keys[e].size());
      for (std::size_t c = 0; c < gk.value.ks.keys[e].size(); ++c) {
        EXPECT_EQ(gk.value.ks.keys[e][c].ct.data, gk_full.value.ks.keys[e][c].ct.data) << mode << " key " << e;
      }
    }
    if (std::string(mode) == "none") { EXPECT_EQ(write_galois_keys(ctx(), gk.value), file("gk.seeded.none.bin")); }
  }
}

TEST_P(Interop, PlaintextsReadInEveryMode) {
  const auto bytes = file("pt.none.bin");
  const auto pt = read_plaintext(ctx(), bytes);
  EXPECT_EQ(bytes.size(), plaintext_size(pt.value.coeff_count));
  EXPECT_EQ(write_plaintext(ctx(), pt.value), bytes);
  for (const char* mode : kModes) {
    EXPECT_EQ(read_plaintext(ctx(), file(std::string("pt.") + mode + ".bin")).value.data, pt.value.data);
  }
}

// hecnn writes every type in every mode (seeded where SEAL allows it);
// node-seal loads all of them and decrypts the ciphertexts to the original values.
TEST_P(Interop, NodeSealLoadsAndDecryptsWhatHecnnWrites) {
  const auto out = t::scratch_dir() / GetParam().name;
  t::fs::create_directories(out);
  std::string list;
  auto emit = [&](const std::string& type, const std::string& name, const std::vector<std::uint8_t>& bytes) {
    const auto p = out / name;
    t::write_file(p, bytes);
    list += (list.empty() ? "" : ",") + type + ":" + p.string();
  };
  const auto ct_seeded = read_ciphertext(ctx(), file("ct.seeded.none.bin")).value;
  auto ct_full = ct_seeded;
  ct_full.seed.reset();
  const auto sk = read_secret_key(ctx(), file("sk.none.bin")).value;
  const auto pk = read_public_key(ctx(), file("pk.seeded.none.bin")).value;
  const auto rk = read_relin_keys(ctx(), file("rk.seeded.none.bin")).value;
  const auto gk = read_galois_keys(ctx(), file("gk.seeded.none.bin")).value;
  const auto pt = read_plaintext(ctx(), file("pt.none.bin")).value;
  auto unseed = [](KSwitchKeysData ks) {
    for (auto& e : ks.keys)
      for (auto& p : e) p.ct.seed.reset();
    return ks;
  };
  for (Compression c : {Compression::none, Compression::zlib, Compression::zstd}) {
    const WriteOptions o{kVersion41, c};
    const std::string m = std::string(to_string(c));
    emit("ct", "ct.seeded." + m, write_ciphertext(ctx(), ct_seeded, o));
    emit("ct", "ct.full." + m, write_ciphertext(ctx(), ct_full, o));
    emit("sk", "sk." + m, write_secret_key(ctx(), sk, o));
    emit("pk", "pk.seeded." + m, write_public_key(ctx(), pk, o));
    PublicKeyData pk_full = pk;
    pk_full.ct.seed.reset();
    emit("pk", "pk.full." + m, write_public_key(ctx(), pk_full, o));
    emit("rk", "rk.seeded." + m, write_relin_keys(ctx(), rk, o));
    emit("rk", "rk.full." + m, write_relin_keys(ctx(), RelinKeysData{unseed(rk.ks)}, o));
    emit("gk", "gk.seeded." + m, write_galois_keys(ctx(), gk, o));
    emit("gk", "gk.full." + m, write_galois_keys(ctx(), GaloisKeysData{unseed(gk.ks)}, o));
    emit("pt", "pt." + m, write_plaintext(ctx(), pt, o));
  }
  const auto r = t::run_oracle({"checkmany", "--dir", dir_.string(), "--files", list});
  EXPECT_TRUE(r.json.value("ok", false)) << r.out;
  const auto d = t::run_oracle({"decryptmany", "--dir", dir_.string(), "--files",
                                (out / "ct.seeded.zstd").string() + "," + (out / "ct.full.zlib").string(), "--sk",
                                (out / "sk.zlib").string()});
  ASSERT_TRUE(d.json.value("ok", false)) << d.out;
  for (const auto& res : d.json["results"]) {
    const auto& got = res["values"];
    const auto& want = manifest_["values"];
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (manifest_["scheme"] == "ckks") {
        ASSERT_NEAR(got[i].get<double>(), want[i].get<double>(), 1e-5) << " slot " << i;
      } else {
        ASSERT_EQ(got[i].get<std::uint64_t>(), want[i].get<std::uint64_t>()) << " slot " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    NodeSeal, Interop,
    ::testing::Values(Config{"bfv_n4096", {"--scheme", "bfv", "--n", "4096"}},
                      Config{"ckks_n8192_60_40_40_60", {"--scheme", "ckks", "--n", "8192", "--bits", "60,40,40,60"}}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace hecnn::wire
