// The Must-show interop with node-seal (SEAL 4.1), through the HE core:
//  - node-seal generates parameters, keys (seeded) and ciphertexts; hecnn
//    evaluates them (wire::evaluate, what `hecnn seal-eval` runs); node-seal
//    decrypts the results (BFV exactly, CKKS within 1e-4).
//  - hecnn generates keys and encrypts (seeded, half size); node-seal decrypts.
//  - node-seal encrypts with hecnn's (seeded) public key; hecnn decrypts.
#include <gtest/gtest.h>

#include <cmath>

#include "fhe/bfv/batch_encoder.h"
#include "fhe/bfv/encryptor.h"
#include "fhe/ckks/encoder.h"
#include "fhe/ckks/encryptor.h"
#include "fhe/rlwe/keygen.h"
#include "fhe/wire/core_convert.h"
#include "fhe/wire/core_eval.h"
#include "math/prng.h"
#include "oracle_util.h"

namespace hecnn::wire {
namespace {

namespace t = testing;

const std::vector<std::string> kBfv{"--scheme", "bfv", "--n", "4096"};
const std::vector<std::string> kCkks{"--scheme", "ckks", "--n", "8192", "--bits", "60,40,40,60"};

struct Fixture {
  t::fs::path dir;
  nlohmann::json manifest;
  std::vector<std::uint8_t> params;
  std::vector<std::uint8_t> file(const std::string& name) const { return t::read_file(dir / name); }
};

Fixture load(const std::vector<std::string>& config) {
  Fixture f;
  f.dir = t::fixtures(config);
  f.manifest = t::manifest(f.dir);
  f.params = f.file("params.none.bin");
  return f;
}

// Writes `bytes`, asks node-seal to decrypt them (with DIR's key or `sk`) and returns the JSON.
nlohmann::json node_decrypt(const Fixture& f, const std::string& name, const std::vector<std::uint8_t>& bytes,
                            const std::string& sk = "") {
  const auto p = t::scratch_dir() / name;
  t::write_file(p, bytes);
  std::vector<std::string> args{"decrypt", "--dir", f.dir.string(), "--file", p.string()};
  if (!sk.empty()) args.insert(args.end(), {"--sk", sk});
  const auto r = t::run_oracle(args);
  EXPECT_TRUE(r.json.value("ok", false)) << name << ": " << r.out;
  return r.json;
}

// Decrypts several results in one node process (each node start costs ~1 s).
std::vector<nlohmann::json> node_decrypt_many(const Fixture& f,
                                              const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& items,
                                              const std::string& sk = "") {
  std::string list;
  for (const auto& [name, bytes] : items) {
    const auto p = t::scratch_dir() / name;
    t::write_file(p, bytes);
    list += (list.empty() ? "" : ",") + p.string();
  }
  std::vector<std::string> args{"decryptmany", "--dir", f.dir.string(), "--files", list};
  if (!sk.empty()) args.insert(args.end(), {"--sk", sk});
  const auto r = t::run_oracle(args);
  EXPECT_TRUE(r.json.value("ok", false)) << r.out;
  std::vector<nlohmann::json> out;
  if (r.json.contains("results")) out = r.json["results"].get<std::vector<nlohmann::json>>();
  out.resize(items.size(), nlohmann::json::object());
  return out;
}

std::vector<std::uint64_t> ints(const nlohmann::json& j) { return j.get<std::vector<std::uint64_t>>(); }
std::vector<double> reals(const nlohmann::json& j) { return j.get<std::vector<double>>(); }

// BFV slot matrix 2 x N/2: rotate both rows left by `step`.
std::vector<std::uint64_t> rotate_rows(const std::vector<std::uint64_t>& v, int step) {
  const std::size_t h = v.size() / 2;
  std::vector<std::uint64_t> out(v.size());
  for (std::size_t r = 0; r < 2; ++r)
    for (std::size_t i = 0; i < h; ++i) out[r * h + i] = v[r * h + (i + h + step) % h];
  return out;
}

TEST(CoreInterop, BfvNodeSealInputsHecnnEvaluatesNodeSealDecrypts) {
  HECNN_REQUIRE_ORACLE();
  const Fixture f = load(kBfv);
  const auto v = ints(f.manifest["values"]);
  const std::uint64_t tm = std::stoull(f.manifest["plain_modulus"].get<std::string>());
  const auto ct_seeded = f.file("ct.seeded.zstd.bin");
  const auto ct_full = f.file("ct.full.zlib.bin");
  const auto rk = f.file("rk.seeded.zstd.bin");
  const auto gk = f.file("gk.seeded.none.bin");
  const auto pt = f.file("pt.zlib.bin");
  std::vector<std::uint64_t> sq(v.size()), twice(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    sq[i] = static_cast<std::uint64_t>(static_cast<unsigned __int128>(v[i]) * v[i] % tm);
    twice[i] = (2 * v[i]) % tm;
  }
  std::vector<std::uint64_t> swapped(v.begin() + v.size() / 2, v.end());
  swapped.insert(swapped.end(), v.begin(), v.begin() + v.size() / 2);

  struct Case {
    std::string op;
    int step;
    std::vector<std::uint64_t> expect;
  };
  const std::vector<Case> cases{{"multiply", 0, sq},           {"rotate_rows", 1, rotate_rows(v, 1)},
                                {"rotate_rows", -1, rotate_rows(v, -1)}, {"rotate_columns", 0, swapped},
                                {"mod_switch", 0, v},         {"add_plain", 0, twice},
                                {"multiply_plain", 0, sq},    {"add", 0, twice}};
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> results;
  for (const auto& c : cases) {
    EvalInputs in;
    in.parameters = f.params;
    in.ciphertexts = {ct_seeded};
    if (c.op == "multiply" || c.op == "add") in.ciphertexts.push_back(ct_full);
    in.relin_keys = std::span<const std::uint8_t>(rk);
    in.galois_keys = std::span<const std::uint8_t>(gk);
    in.plaintext = std::span<const std::uint8_t>(pt);
    EvalRequest req;
    req.op = c.op;
    req.step = c.step;
    const auto res = evaluate(in, req);
    EXPECT_EQ(res.ciphertext.size, 2u) << c.op;
    EXPECT_EQ(res.bytes[5], 2) << "compression echoed from the zstd input";
    results.emplace_back("bfv." + c.op + std::to_string(c.step), res.bytes);
  }
  const auto decrypted = node_decrypt_many(f, results);
  for (std::size_t ci = 0; ci < cases.size(); ++ci) {
    const auto& c = cases[ci];
    const auto& d = decrypted[ci];
    ASSERT_TRUE(d.contains("values")) << c.op << ": " << d.dump();
    EXPECT_EQ(ints(d["values"]), c.expect) << c.op << " " << c.step;
    EXPECT_GT(d["noise_budget"].get<int>(), 0) << c.op;
    if (c.op == "mod_switch") { EXPECT_EQ(d["parms_id"].get<std::string>(), f.manifest["chain"][2]["parms_id"].get<std::string>()); }
  }
}

TEST(CoreInterop, CkksNodeSealInputsHecnnEvaluatesNodeSealDecrypts) {
  HECNN_REQUIRE_ORACLE();
  const Fixture f = load(kCkks);
  const auto v = reals(f.manifest["values"]);
  const auto ct = f.file("ct.seeded.none.bin");
  const auto ct2 = f.file("ct.full.zstd.bin");
  const auto rk = f.file("rk.seeded.none.bin");
  const auto gk = f.file("gk.seeded.zlib.bin");
  const auto pt = f.file("pt.zstd.bin");  // node-seal's encoding of v at scale 2^40 (NTT form)
  const std::size_t h = v.size();
  std::vector<double> sq(h), rot(h), rotm(h), twice(h);
  for (std::size_t i = 0; i < h; ++i) {
    twice[i] = 2 * v[i];
    sq[i] = v[i] * v[i];
    rot[i] = v[(i + 1) % h];
    rotm[i] = v[(i + h - 1) % h];
  }
  struct Case {
    std::string op;
    int step;
    bool rescale;
    std::vector<double> expect;
  };
  const std::vector<Case> cases{{"multiply", 0, true, sq}, {"rotate", 1, false, rot}, {"rotate", -1, false, rotm},
                                {"conjugate", 0, false, v}, {"mod_switch", 0, false, v}, {"square", 0, true, sq},
                                {"add_plain", 0, false, twice}, {"multiply_plain", 0, true, sq}};
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> results;
  std::vector<double> scales;
  for (const auto& c : cases) {
    EvalInputs in;
    in.parameters = f.params;
    in.ciphertexts = {ct};
    if (c.op == "multiply") in.ciphertexts.push_back(ct2);
    in.relin_keys = std::span<const std::uint8_t>(rk);
    in.galois_keys = std::span<const std::uint8_t>(gk);
    in.plaintext = std::span<const std::uint8_t>(pt);
    EvalRequest req;
    req.op = c.op;
    req.step = c.step;
    req.rescale = c.rescale;
    const auto res = evaluate(in, req);
    results.emplace_back("ckks." + c.op + std::to_string(c.step), res.bytes);
    scales.push_back(res.ciphertext.scale);
  }
  const auto decrypted = node_decrypt_many(f, results);
  for (std::size_t ci = 0; ci < cases.size(); ++ci) {
    const auto& c = cases[ci];
    const auto& d = decrypted[ci];
    ASSERT_TRUE(d.contains("values")) << c.op << ": " << d.dump();
    const auto got = reals(d["values"]);
    ASSERT_EQ(got.size(), h);
    double worst = 0;
    for (std::size_t i = 0; i < h; ++i) worst = std::max(worst, std::abs(got[i] - c.expect[i]));
    EXPECT_LT(worst, 1e-4) << c.op << " " << c.step;
    // node-seal sees exactly the scale hecnn wrote (scale^2 / q_last after a rescale).
    EXPECT_EQ(d["scale"].get<double>(), scales[ci]) << c.op;
    if (c.rescale) {
      const double q2 = static_cast<double>(read_parameters(f.params).parms.coeff_modulus[2]);
      EXPECT_EQ(scales[ci], f.manifest["scale"].get<double>() * f.manifest["scale"].get<double>() / q2);
    }
  }
}

TEST(CoreInterop, BfvHecnnKeysAndSeededCiphertextsNodeSealDecrypts) {
  HECNN_REQUIRE_ORACLE();
  const Fixture f = load(kBfv);
  const Context wctx(read_parameters(f.params).parms);
  const auto core = make_core_context(wctx);
  math::SystemPrng prng;
  rlwe::KeyGenerator kg(core, prng);
  const auto tables = bfv::make_tables(core);
  const bfv::BatchEncoder enc(core);
  std::vector<std::uint64_t> values(wctx.n());
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = (i * 31 + 7) % wctx.parms().plain_modulus;
  const auto pt = enc.encode(values);

  const auto sk_path = (t::scratch_dir() / "hecnn.sk").string();
  t::write_file(sk_path, write_secret_key(wctx, to_wire(wctx, kg.secret_key()), {kVersion41, Compression::zstd}));

  // Symmetric, seeded: half size, node-seal decrypts with hecnn's secret key.
  auto sym = to_wire(wctx, bfv::Encryptor(tables, kg.secret_key()).encrypt(pt, prng));
  reseed(wctx, *core, kg.secret_key(), sym);
  const auto seeded_bytes = write_ciphertext(wctx, sym);
  EXPECT_EQ(seeded_bytes.size(), seeded_ciphertext_size(wctx.n(), sym.prime_count));
  // hecnn itself decrypts the reseeded ciphertext too.
  EXPECT_EQ(enc.decode(bfv::Decryptor(tables, kg.secret_key()).decrypt(to_core(wctx, sym))), values);

  // Public-key encryption with hecnn's public key.
  const auto pk = kg.create_public_key();
  auto asym = to_wire(wctx, bfv::Encryptor(tables, pk).encrypt(pt, prng));

  // hecnn's seeded public key / relin / Galois keys: node-seal loads them, and
  // node-seal encrypts with the seeded public key; hecnn decrypts.
  auto pkw = to_wire(wctx, pk);
  reseed(wctx, *core, kg.secret_key(), pkw.ct);
  auto rkw = to_wire(wctx, kg.create_relin_keys());
  reseed(wctx, *core, kg.secret_key(), rkw.ks);
  auto gkw = to_wire(wctx, kg.create_galois_keys_for_steps({1, -1}, true));
  reseed(wctx, *core, kg.secret_key(), gkw.ks);
  const auto pk_path = t::scratch_dir() / "hecnn.pk.seeded";
  const auto rk_path = t::scratch_dir() / "hecnn.rk.seeded";
  const auto gk_path = t::scratch_dir() / "hecnn.gk.seeded";
  t::write_file(pk_path, write_public_key(wctx, pkw));
  t::write_file(rk_path, write_relin_keys(wctx, rkw, {kVersion41, Compression::zstd}));
  t::write_file(gk_path, write_galois_keys(wctx, gkw));
  EXPECT_EQ(t::fs::file_size(pk_path), public_key_size(wctx.n(), wctx.key_prime_count(), true));
  EXPECT_EQ(t::fs::file_size(gk_path), galois_keys_size(wctx.n(), wctx.key_prime_count(), 3, true));
  auto r = t::run_oracle({"checkmany", "--dir", f.dir.string(), "--files",
                          "pk:" + pk_path.string() + ",rk:" + rk_path.string() + ",gk:" + gk_path.string()});
  EXPECT_TRUE(r.json.value("ok", false)) << r.out;
  const auto out = t::scratch_dir() / "node.enc.with.hecnn.pk";
  r = t::run_oracle({"encrypt", "--dir", f.dir.string(), "--pk", pk_path.string(), "--out", out.string(),
                     "--values", "5,6,7,1032192", "--compr", "zstd"});
  ASSERT_TRUE(r.json.value("ok", false)) << r.out;
  const auto node_ct = read_ciphertext(wctx, t::read_file(out));
  const auto dec = enc.decode(bfv::Decryptor(tables, kg.secret_key()).decrypt(to_core(wctx, node_ct.value)));
  EXPECT_EQ(std::vector<std::uint64_t>(dec.begin(), dec.begin() + 5), (std::vector<std::uint64_t>{5, 6, 7, 1032192, 0}));

  // hecnn's reseeded relin + Galois keys work in hecnn's evaluator (the reseed kept c0 + c1 s).
  EvalInputs in;
  in.parameters = f.params;
  const auto ctb = write_ciphertext(wctx, sym);
  in.ciphertexts = {ctb};
  const auto rkb = t::read_file(rk_path), gkb = t::read_file(gk_path);
  in.relin_keys = std::span<const std::uint8_t>(rkb);
  in.galois_keys = std::span<const std::uint8_t>(gkb);
  EvalRequest sq_req;
  sq_req.op = "square";
  EvalRequest rot_req;
  rot_req.op = "rotate_rows";
  rot_req.step = 1;
  const auto d = node_decrypt_many(f,
                                   {{"hecnn.sym.seeded", seeded_bytes},
                                    {"hecnn.pk.ct", write_ciphertext(wctx, asym, {kVersion41, Compression::zlib})},
                                    {"hecnn.square", evaluate(in, sq_req).bytes},
                                    {"hecnn.rot", evaluate(in, rot_req).bytes}},
                                   sk_path);
  std::vector<std::uint64_t> sq(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) sq[i] = values[i] * values[i] % wctx.parms().plain_modulus;
  EXPECT_EQ(ints(d[0]["values"]), values) << d[0].dump().substr(0, 300);
  EXPECT_EQ(ints(d[1]["values"]), values);
  EXPECT_EQ(ints(d[2]["values"]), sq);
  EXPECT_EQ(ints(d[3]["values"]), rotate_rows(values, 1));
}

TEST(CoreInterop, CkksHecnnSeededCiphertextNodeSealDecrypts) {
  HECNN_REQUIRE_ORACLE();
  const Fixture f = load(kCkks);
  const Context wctx(read_parameters(f.params).parms);
  const auto core = make_core_context(wctx);
  math::SystemPrng prng;
  rlwe::KeyGenerator kg(core, prng);
  const auto sk_path = (t::scratch_dir() / "hecnn.ckks.sk").string();
  t::write_file(sk_path, write_secret_key(wctx, to_wire(wctx, kg.secret_key())));
  std::vector<double> values(wctx.n() / 2);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = std::sin(0.01 * static_cast<double>(i));
  const ckks::Encoder encoder(core);
  const auto pt = encoder.encode(values, std::ldexp(1.0, 40));
  auto ct = to_wire(wctx, ckks::Encryptor(core, kg.secret_key()).encrypt(pt, prng));
  reseed(wctx, *core, kg.secret_key(), ct);
  const auto d = node_decrypt(f, "hecnn.ckks.seeded", write_ciphertext(wctx, ct, {kVersion41, Compression::zstd}), sk_path);
  const auto got = reals(d["values"]);
  ASSERT_EQ(got.size(), values.size());
  double worst = 0;
  for (std::size_t i = 0; i < values.size(); ++i) worst = std::max(worst, std::abs(got[i] - values[i]));
  EXPECT_LT(worst, 1e-5);
}

}  // namespace
}  // namespace hecnn::wire

namespace hecnn::wire {
namespace {

// A SEAL 4.0 client (older TenSEAL / SEAL 4.0): same layout, version byte 4.0
// in every header. hecnn answers in 4.0, else that client refuses the result.
TEST(CoreInterop, Version40InputIsEchoed) {
  HECNN_REQUIRE_ORACLE();
  const Fixture f = load(kBfv);
  auto ct = f.file("ct.full.none.bin");
  ASSERT_EQ(ct[4], 1);
  ASSERT_EQ(ct[89 + 4], 1);  // the coefficient DynArray's own header
  ct[4] = 0;
  ct[89 + 4] = 0;
  EvalInputs in;
  in.parameters = f.params;
  in.ciphertexts = {ct};
  EvalRequest req;
  req.op = "negate";
  const auto res = evaluate(in, req);
  EXPECT_EQ(res.bytes[3], 4);
  EXPECT_EQ(res.bytes[4], 0);
  EXPECT_EQ(res.bytes[89 + 4], 0);
  const Context wctx(read_parameters(f.params).parms);
  EXPECT_EQ(read_ciphertext(wctx, res.bytes).header.version, kVersion40);
}

}  // namespace
}  // namespace hecnn::wire
