// EncryptionParameters: format, validation, parms_id, modulus chain.
#include "fhe/wire/params.h"

#include <gtest/gtest.h>

#include "fhe/wire/error.h"
#include "fhe/wire/records.h"
#include "oracle_util.h"

namespace hecnn::wire {
namespace {

EncryptionParameters bfv8192() {
  return {Scheme::bfv, 8192, bfv_default_coeff_modulus(8192), batching_plain_modulus(8192, 20)};
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const FormatError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Params, SealPrimeHelpersMatchSpec) {
  EXPECT_EQ(bfv_default_coeff_modulus(8192),
            (std::vector<std::uint64_t>{0x7fffffd8001, 0x7fffffc8001, 0xfffffffc001, 0xffffff6c001, 0xfffffebc001}));
  EXPECT_EQ(batching_plain_modulus(8192, 20), 1032193u);
}

// Known answer, taken from node-seal 6.0.3 (SEAL 4.1):
// context.keyContextData.parmsId / firstContextData.parmsId for
// BFVDefault(8192), PlainModulus.Batching(8192, 20).
TEST(Params, ParmsIdKnownAnswerFromNodeSeal) {
  const Context ctx(bfv8192());
  EXPECT_EQ(to_hex(ctx.key_level().parms_id), "f9ece899e98dc76c461b0a7748fa8c6188e468603ecbbd8e75feb3e1288c08b8");
  EXPECT_EQ(to_hex(ctx.first_data_level().parms_id), "23ae23fc1ed2a1b690ae48e187641b71d7611ddf0056f6a7d4ce43eef038575f");
  EXPECT_EQ(ctx.levels().size(), 5u);
  EXPECT_EQ(ctx.levels().back().prime_count, 1u);
  EXPECT_TRUE(ctx.batching());
}

TEST(Params, RoundTripsEveryCompressionAndVersion) {
  const auto p = bfv8192();
  for (Version v : {kVersion40, kVersion41}) {
    for (Compression c : {Compression::none, Compression::zlib, Compression::zstd}) {
      const auto bytes = write_parameters(p, {v, c});
      if (c == Compression::none) { EXPECT_EQ(bytes.size(), parameters_size(5)); }
      const auto loaded = read_parameters(bytes);
      EXPECT_EQ(loaded.parms, p);
      EXPECT_EQ(loaded.header.version, v);
      EXPECT_EQ(loaded.header.compression, c);
    }
  }
  EncryptionParameters ckks{Scheme::ckks, 8192, create_coeff_modulus(8192, std::vector<int>{60, 40, 40, 60}), 0};
  EXPECT_EQ(read_parameters(write_parameters(ckks)).parms, ckks);
}

TEST(Params, ValidationNamesTheProblem) {
  auto err = [](EncryptionParameters p, ValidationOptions o = {}) { return error_of([&] { validate(p, o); }); };
  auto p = bfv8192();
  EXPECT_EQ(err(p), "(no error)");
  p.poly_modulus_degree = 3000;
  EXPECT_NE(err(p).find("poly modulus degree 3000 is not a power of two"), std::string::npos);
  p = bfv8192();
  p.poly_modulus_degree = 65536;
  EXPECT_NE(err(p).find("is not a power of two in 1024..32768"), std::string::npos);
  p = bfv8192();
  p.coeff_modulus[1] += 2 * 8192;  // still = 1 mod 2N, but composite or not? check the message names q_1
  EXPECT_NE(err(p).find("q_1"), std::string::npos);
  p = bfv8192();
  p.coeff_modulus[2] = 0xfffffffc003;
  EXPECT_NE(err(p).find("is not 1 mod 2N"), std::string::npos);
  p = bfv8192();
  p.coeff_modulus[2] = p.coeff_modulus[0];
  EXPECT_NE(err(p).find("is not coprime to q_0"), std::string::npos);
  p = bfv8192();
  p.coeff_modulus.push_back(create_coeff_modulus(8192, std::vector<int>{50})[0]);
  EXPECT_NE(err(p).find("above the 128-bit security limit of 218 bits"), std::string::npos);
  EXPECT_EQ(err(p, ValidationOptions{false}), "(no error)");
  p = bfv8192();
  p.coeff_modulus[0] = std::uint64_t{1} << 61;
  EXPECT_NE(err(p).find("has 62 bits"), std::string::npos);
  p = bfv8192();
  p.plain_modulus = 0x7fffffd8001;
  EXPECT_NE(err(p).find("plain modulus 8796092858369 is not coprime to q_0"), std::string::npos);
  p = bfv8192();
  p.plain_modulus = 1;
  EXPECT_NE(err(p).find("plain modulus 1 has 1 bits"), std::string::npos);
  p = bfv8192();
  p.scheme = Scheme::ckks;
  EXPECT_NE(err(p).find("CKKS plain modulus must be 0"), std::string::npos);
  p = bfv8192();
  p.scheme = static_cast<Scheme>(0);
  EXPECT_NE(err(p).find("scheme 0 is not supported"), std::string::npos);
  p = bfv8192();
  p.coeff_modulus.clear();
  EXPECT_NE(err(p).find("has 0 primes"), std::string::npos);
}

TEST(Params, ReaderRejectsMalformedBytes) {
  const auto good = write_parameters(bfv8192());
  auto b = good;
  b[16] = 9;  // scheme byte
  EXPECT_NE(error_of([&] { read_parameters(b); }).find("parameters: scheme 9 is not a SEAL scheme"), std::string::npos);
  b = good;
  b[17 + 8] = 65;  // prime count -> 65
  EXPECT_NE(error_of([&] { read_parameters(b); }).find("coefficient prime count 65 exceeds 64"), std::string::npos);
  b = good;
  b.push_back(0);
  EXPECT_NE(error_of([&] { read_parameters(b); }).find("1 trailing bytes"), std::string::npos);
  b = good;
  b.resize(b.size() - 3);
  EXPECT_NE(error_of([&] { read_parameters(b); }).find("truncated"), std::string::npos);
  b = good;
  b[4] = 0;  // version 4.0 header is fine
  EXPECT_EQ(read_parameters(b).header.version, kVersion40);
  b[3] = 3;
  EXPECT_NE(error_of([&] { read_parameters(b); }).find("SEAL 3.x format"), std::string::npos);
}

// node-seal: the same parameters in every compression mode, and its chain's parms_ids.
TEST(ParamsOracle, NodeSealParametersAndChainMatch) {
  HECNN_REQUIRE_ORACLE();
  for (const auto& config : std::vector<std::vector<std::string>>{
           {"--scheme", "bfv", "--n", "4096"}, {"--scheme", "ckks", "--n", "8192", "--bits", "60,40,40,60"}}) {
    const auto dir = testing::fixtures(config);
    const auto m = testing::manifest(dir);
    LoadedParameters first;
    for (std::string mode : {"none", "zlib", "zstd"}) {
      const auto bytes = testing::read_file(dir / ("params." + mode + ".bin"));
      const auto loaded = read_parameters(bytes);
      EXPECT_EQ(loaded.header.version, kVersion41);
      EXPECT_EQ(to_string(loaded.header.compression), mode);
      if (mode == "none") {
        first = loaded;
        // Byte-exact writer.
        EXPECT_EQ(write_parameters(loaded.parms), bytes);
      } else {
        EXPECT_EQ(loaded.parms, first.parms);
      }
    }
    const Context ctx(first.parms);
    ASSERT_EQ(ctx.levels().size(), m["chain"].size()) << config[1];
    for (std::size_t i = 0; i < ctx.levels().size(); ++i) {
      EXPECT_EQ(to_hex(ctx.levels()[i].parms_id), m["chain"][i]["parms_id"].get<std::string>()) << config[1] << " level " << i;
      EXPECT_EQ(ctx.levels()[i].prime_count, m["chain"][i]["primes"].get<std::size_t>());
    }
    for (std::size_t j = 0; j < first.parms.coeff_modulus.size(); ++j) {
      EXPECT_EQ(std::to_string(first.parms.coeff_modulus[j]), m["coeff_modulus"][j].get<std::string>());
    }
  }
}

TEST(ParamsOracle, NodeSealLoadsWhatHecnnWrites) {
  HECNN_REQUIRE_ORACLE();
  const auto dir = testing::fixtures({"--scheme", "bfv", "--n", "4096"});
  const auto p = read_parameters(testing::read_file(dir / "params.none.bin")).parms;
  for (Compression c : {Compression::none, Compression::zlib, Compression::zstd}) {
    const auto file = testing::scratch_dir() / ("params." + std::string(to_string(c)) + ".bin");
    testing::write_file(file, write_parameters(p, {kVersion41, c}));
    const auto r = testing::run_oracle({"check", "--dir", dir.string(), "--type", "params", "--file", file.string()});
    EXPECT_EQ(r.json.value("ok", false), true) << r.out;
  }
}

}  // namespace
}  // namespace hecnn::wire
