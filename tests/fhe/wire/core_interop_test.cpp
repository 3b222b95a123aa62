// The Must-show interop with node-seal (SEAL 4.1), through the HE core:
//  - node-seal generates parameters, keys (seeded) and ciphertexts; hecnn
//    evaluates them (wire::evaluate, what `hecnn seal-eval` runs); node-seal
//    decrypts the results (BFV exactly, CKKS within 1e-4).
//  - hecnn generates keys and encrypts (seeded, half size); node-seal decrypts.
//  - node-seal encrypts with hecnn's (seeded) public key; hecnn decrypts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>

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

// Decrypts several results in one node process.
std::vector<nlohmann::json> node_decrypt_many(const Fixture& f,
                                              const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& items,
                                              const std::string& sk = "") {
  return t::node_decrypt_many(f.dir, items, sk);
}

std::vector<std::uint64_t> ints(const nlohmann::json& j) { return j.get<std::vector<std::uint64_t>>(); }
std::vector<double> reals(const nlohmann::json& j) { return j.get<std::vector<double>>(); }

using t::rotate_rows;

// One seal-eval step: op on the named operands ("ct" = node-seal's first ciphertext,
// "ct2" its second, independent one, "prev" = the previous step's result).
struct Step {
  std::string op;
  int step = 0;
  std::vector<std::string> operands{"ct"};
  bool relin_keys = true;  // false: multiply leaves 3 parts (a later "relinearize" step)
  bool rescale = false;
};

// A case: its steps, the slot values expected, the result's size and chain index
// (manifest chain: [key level, top data level, next, ...]).
template <class V>
struct EvalCase {
  std::string name;
  std::vector<Step> steps;
  V expect;
  std::size_t size = 2;
  int chain_at = 1;
};

template <class V>
std::vector<std::vector<std::uint8_t>> run_cases(const Fixture& f, const std::vector<EvalCase<V>>& cases,
                                                 const std::vector<std::uint8_t>& ct, const std::vector<std::uint8_t>& ct2,
                                                 const std::vector<std::uint8_t>& rk, const std::vector<std::uint8_t>& gk,
                                                 const std::vector<std::uint8_t>& pt, std::vector<double>* scales = nullptr) {
  std::vector<std::vector<std::uint8_t>> out;
  for (const auto& c : cases) {
    std::vector<std::uint8_t> prev;
    EvalResult res;
    for (const auto& st : c.steps) {
      EvalInputs in;
      in.parameters = f.params;
      for (const auto& o : st.operands) in.ciphertexts.push_back(o == "ct" ? ct : o == "ct2" ? ct2 : prev);
      if (st.relin_keys) in.relin_keys = std::span<const std::uint8_t>(rk);
      in.galois_keys = std::span<const std::uint8_t>(gk);
      in.plaintext = std::span<const std::uint8_t>(pt);
      EvalRequest req;
      req.op = st.op;
      req.step = st.step;
      req.rescale = st.rescale;
      res = evaluate(in, req);
      prev = res.bytes;
    }
    EXPECT_EQ(res.ciphertext.size, c.size) << c.name;
    if (scales) scales->push_back(res.ciphertext.scale);
    out.push_back(res.bytes);
  }
  return out;
}

TEST(CoreInterop, BfvNodeSealInputsHecnnEvaluatesNodeSealDecrypts) {
  HECNN_REQUIRE_ORACLE();
  const Fixture f = load(kBfv);
  const auto v = ints(f.manifest["values"]);
  const auto w = ints(f.manifest["values2"]);
  ASSERT_EQ(w.size(), v.size());
  ASSERT_NE(w, v);
  const std::uint64_t tm = std::stoull(f.manifest["plain_modulus"].get<std::string>());
  const auto ct_seeded = f.file("ct.seeded.zstd.bin");
  const auto ct2 = f.file("ct2.full.zlib.bin");
  const auto rk = f.file("rk.seeded.zstd.bin");
  const auto gk = f.file("gk.seeded.none.bin");
  const auto pt = f.file("pt.zlib.bin");
  auto map2 = [&](auto fn) {
    std::vector<std::uint64_t> r(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) r[i] = fn(v[i], w[i]);
    return r;
  };
  const auto mul = [&](std::uint64_t x, std::uint64_t y) { return std::uint64_t(static_cast<unsigned __int128>(x) * y % tm); };
  const auto vw = map2(mul);
  const auto vv = map2([&](std::uint64_t x, std::uint64_t) { return mul(x, x); });
  const auto sum = map2([&](std::uint64_t x, std::uint64_t y) { return (x + y) % tm; });
  const auto diff = map2([&](std::uint64_t x, std::uint64_t y) { return (x + tm - y) % tm; });
  const auto neg = map2([&](std::uint64_t x, std::uint64_t) { return (tm - x) % tm; });
  const auto twice = map2([&](std::uint64_t x, std::uint64_t) { return (2 * x) % tm; });
  std::vector<std::uint64_t> swapped(v.begin() + v.size() / 2, v.end());
  swapped.insert(swapped.end(), v.begin(), v.begin() + v.size() / 2);

  using C = EvalCase<std::vector<std::uint64_t>>;
  const std::vector<C> cases{
      {"multiply", {{"multiply", 0, {"ct", "ct2"}}}, vw},
      {"multiply_then_relinearize", {{"multiply", 0, {"ct", "ct2"}, false}, {"relinearize", 0, {"prev"}}}, vw},
      {"multiply_unrelinearized", {{"multiply", 0, {"ct", "ct2"}, false}}, vw, 3},
      {"square", {{"square"}}, vv},
      {"add", {{"add", 0, {"ct", "ct2"}}}, sum},
      {"sub", {{"sub", 0, {"ct", "ct2"}}}, diff},
      {"negate", {{"negate"}}, neg},
      {"rotate_rows+1", {{"rotate_rows", 1}}, rotate_rows(v, 1)},
      {"rotate_rows-1", {{"rotate_rows", -1}}, rotate_rows(v, -1)},
      {"rotate_columns", {{"rotate_columns"}}, swapped},
      {"mod_switch", {{"mod_switch"}}, v, 2, 2},
      {"add_plain", {{"add_plain"}}, twice},
      {"multiply_plain", {{"multiply_plain"}}, vv},
  };
  const auto bytes = run_cases(f, cases, ct_seeded, ct2, rk, gk, pt);
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> results;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(bytes[i][5], 2) << cases[i].name << ": compression echoed from the zstd input";
    results.emplace_back("bfv." + cases[i].name, bytes[i]);
  }
  const auto decrypted = node_decrypt_many(f, results);
  // SEAL's budget of the fresh input: results must not report more than the input had.
  const int fresh = f.manifest["noise_budget"].get<int>();
  // hecnn's noise budget of the same ciphertexts under node-seal's secret key: equal to
  // SEAL's, bit for bit (the README's claim), not merely close.
  const Context wctx(read_parameters(f.params).parms);
  const auto core = make_core_context(wctx);
  const bfv::Decryptor hdec(bfv::make_tables(core), to_core(wctx, read_secret_key(wctx, f.file("sk.none.bin")).value));
  for (std::size_t ci = 0; ci < cases.size(); ++ci) {
    const auto& c = cases[ci];
    const auto& d = decrypted[ci];
    ASSERT_TRUE(d.contains("values")) << c.name << ": " << d.dump();
    EXPECT_EQ(ints(d["values"]), c.expect) << c.name;
    EXPECT_GT(d["noise_budget"].get<int>(), 0) << c.name;
    EXPECT_LE(d["noise_budget"].get<int>(), fresh) << c.name;
    EXPECT_EQ(hdec.invariant_noise_budget(to_core(wctx, read_ciphertext(wctx, bytes[ci]).value)), d["noise_budget"].get<int>())
        << c.name << ": hecnn's noise budget differs from SEAL's";
    EXPECT_EQ(d["parms_id"].get<std::string>(), f.manifest["chain"][std::size_t(c.chain_at)]["parms_id"].get<std::string>()) << c.name;
    EXPECT_EQ(d["size"].get<std::size_t>(), c.size) << c.name;
  }
}

// CKKS precision the core claims (README, docs/benchmarks.md): 20 bits or more at these
// parameters for values of magnitude <= 1, i.e. |error| <= 2^-20; fresh encryptions carry
// noise (an exact result would mean no noise was added).
constexpr double kCkksClaimedError = 0x1p-20;

TEST(CoreInterop, CkksNodeSealInputsHecnnEvaluatesNodeSealDecrypts) {
  HECNN_REQUIRE_ORACLE();
  const Fixture f = load(kCkks);
  const auto v = reals(f.manifest["values"]);
  const auto w = reals(f.manifest["values2"]);
  ASSERT_EQ(w.size(), v.size());
  const auto ct = f.file("ct.seeded.none.bin");
  const auto ct2 = f.file("ct2.full.zstd.bin");
  const auto rk = f.file("rk.seeded.none.bin");
  const auto gk = f.file("gk.seeded.zlib.bin");
  const auto pt = f.file("pt.zstd.bin");  // node-seal's encoding of v at scale 2^40 (NTT form)
  const std::size_t h = v.size();
  auto map2 = [&](auto fn) {
    std::vector<double> r(h);
    for (std::size_t i = 0; i < h; ++i) r[i] = fn(i);
    return r;
  };
  const auto vw = map2([&](std::size_t i) { return v[i] * w[i]; });
  const auto vv = map2([&](std::size_t i) { return v[i] * v[i]; });
  const auto sum = map2([&](std::size_t i) { return v[i] + w[i]; });
  const auto diff = map2([&](std::size_t i) { return v[i] - w[i]; });
  const auto neg = map2([&](std::size_t i) { return -v[i]; });
  const auto twice = map2([&](std::size_t i) { return 2 * v[i]; });
  const auto rot = map2([&](std::size_t i) { return v[(i + 1) % h]; });
  const auto rotm = map2([&](std::size_t i) { return v[(i + h - 1) % h]; });
  using C = EvalCase<std::vector<double>>;
  const std::vector<C> cases{
      {"multiply_rescale", {{"multiply", 0, {"ct", "ct2"}, true, true}}, vw, 2, 2},
      {"multiply_relinearize_rescale",
       {{"multiply", 0, {"ct", "ct2"}, false}, {"relinearize", 0, {"prev"}}, {"rescale", 0, {"prev"}}}, vw, 2, 2},
      {"multiply_unrelinearized", {{"multiply", 0, {"ct", "ct2"}, false}}, vw, 3, 1},
      {"square_rescale", {{"square", 0, {"ct"}, true, true}}, vv, 2, 2},
      {"add", {{"add", 0, {"ct", "ct2"}}}, sum},
      {"sub", {{"sub", 0, {"ct", "ct2"}}}, diff},
      {"negate", {{"negate"}}, neg},
      {"rotate+1", {{"rotate", 1}}, rot},
      {"rotate-1", {{"rotate", -1}}, rotm},
      {"conjugate", {{"conjugate"}}, v},
      {"mod_switch", {{"mod_switch"}}, v, 2, 2},
      {"add_plain", {{"add_plain"}}, twice},
      {"multiply_plain_rescale", {{"multiply_plain", 0, {"ct"}, true, true}}, vv, 2, 2},
  };
  std::vector<double> scales;
  const auto bytes = run_cases(f, cases, ct, ct2, rk, gk, pt, &scales);
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> results;
  for (std::size_t i = 0; i < cases.size(); ++i) results.emplace_back("ckks." + cases[i].name, bytes[i]);
  const auto decrypted = node_decrypt_many(f, results);
  const double s = f.manifest["scale"].get<double>();
  const double q2 = static_cast<double>(read_parameters(f.params).parms.coeff_modulus[2]);
  for (std::size_t ci = 0; ci < cases.size(); ++ci) {
    const auto& c = cases[ci];
    const auto& d = decrypted[ci];
    ASSERT_TRUE(d.contains("values")) << c.name << ": " << d.dump();
    const auto got = reals(d["values"]);
    ASSERT_EQ(got.size(), h);
    double worst = 0;
    for (std::size_t i = 0; i < h; ++i) worst = std::max(worst, std::abs(got[i] - c.expect[i]));
    EXPECT_LE(worst, kCkksClaimedError) << c.name;
    EXPECT_GT(worst, 0x1p-60) << c.name << ": no error at all (noise missing?)";
    if (std::getenv("HECNN_PRINT_BITS")) std::printf("[interop] %-30s %.1f bits\n", c.name.c_str(), -std::log2(worst));
    // node-seal sees exactly the scale hecnn wrote (scale^2 / q_last after a rescale).
    EXPECT_EQ(d["scale"].get<double>(), scales[ci]) << c.name;
    const bool rescaled = c.chain_at == 2 && c.name != "mod_switch";
    const bool product = c.name.find("multiply") != std::string::npos || c.name.find("square") != std::string::npos;
    EXPECT_EQ(scales[ci], product ? (rescaled ? s * s / q2 : s * s) : s) << c.name;
    EXPECT_EQ(d["parms_id"].get<std::string>(), f.manifest["chain"][std::size_t(c.chain_at)]["parms_id"].get<std::string>()) << c.name;
    EXPECT_EQ(d["size"].get<std::size_t>(), c.size) << c.name;
  }
}

// Complex values, which node-seal's encoder cannot make: hecnn encrypts them under
// node-seal's secret key, evaluates conjugate and rotations through seal-eval, and
// decrypts with node-seal's key file (read through the wire layer); node-seal decrypts
// the same results and must see the real parts. A conjugate that returned its input,
// or a rotation that moved real and imaginary parts differently, shows.
TEST(CoreInterop, CkksComplexConjugateAndRotationsWithNodeSealKeys) {
  HECNN_REQUIRE_ORACLE();
  const Fixture f = load(kCkks);
  const Context wctx(read_parameters(f.params).parms);
  const auto core = make_core_context(wctx);
  const auto sk = to_core(wctx, read_secret_key(wctx, f.file("sk.none.bin")).value);
  const std::size_t h = wctx.n() / 2;
  std::vector<ckks::cplx> z(h);
  for (std::size_t i = 0; i < h; ++i) z[i] = {std::cos(0.013 * double(i)), std::sin(0.029 * double(i) + 0.5)};
  const ckks::Encoder encoder(core);
  math::SystemPrng prng;
  const double scale = f.manifest["scale"].get<double>();
  const auto ctb = write_ciphertext(wctx, to_wire(wctx, ckks::Encryptor(core, sk).encrypt(encoder.encode(z, scale), prng)));
  const auto gk = f.file("gk.seeded.zlib.bin");
  struct Case {
    std::string op;
    int step;
    std::function<ckks::cplx(std::size_t)> expect;
  };
  const std::vector<Case> cases{{"conjugate", 0, [&](std::size_t i) { return std::conj(z[i]); }},
                                {"rotate", 1, [&](std::size_t i) { return z[(i + 1) % h]; }},
                                {"rotate", -1, [&](std::size_t i) { return z[(i + h - 1) % h]; }}};
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> results;
  const ckks::Decryptor dec(core, sk);
  for (const auto& c : cases) {
    EvalInputs in;
    in.parameters = f.params;
    in.ciphertexts = {ctb};
    in.galois_keys = std::span<const std::uint8_t>(gk);
    EvalRequest req;
    req.op = c.op;
    req.step = c.step;
    const auto res = evaluate(in, req);
    const auto got = encoder.decode_complex(dec.decrypt(to_core(wctx, read_ciphertext(wctx, res.bytes).value)));
    ASSERT_EQ(got.size(), h);
    double worst = 0;
    for (std::size_t i = 0; i < h; ++i) worst = std::max(worst, std::abs(got[i] - c.expect(i)));
    EXPECT_LE(worst, kCkksClaimedError) << c.op << " " << c.step << " (hecnn decrypts, complex)";
    results.emplace_back("ckks.complex." + c.op + std::to_string(c.step), res.bytes);
  }
  const auto d = node_decrypt_many(f, results);
  for (std::size_t ci = 0; ci < cases.size(); ++ci) {
    ASSERT_TRUE(d[ci].contains("values")) << d[ci].dump();
    const auto got = reals(d[ci]["values"]);
    double worst = 0;
    for (std::size_t i = 0; i < h; ++i) worst = std::max(worst, std::abs(got[i] - cases[ci].expect(i).real()));
    EXPECT_LE(worst, kCkksClaimedError) << cases[ci].op << " " << cases[ci].step << " (node-seal decrypts, real parts)";
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
