// BGV interop with node-seal (SEAL 4.1's scheme_type::bgv), both directions, N = 8192:
//  - hecnn decrypts node-seal's BGV ciphertexts (symmetric full and seeded, public key) and
//    node-seal's own results after square / relinearize / modulus switch / rotations (SEAL's
//    correction factor on the wire);
//  - node-seal decrypts hecnn's BGV results computed with node-seal's keys (products,
//    switches with factors != 1, balanced additions, own and hoisted rotations) and hecnn's
//    encryptions under its own keys; hecnn decrypts node-seal's encryption under hecnn's key.
#include <gtest/gtest.h>

#include "fhe/bfv/batch_encoder.h"
#include "fhe/bgv/encryptor.h"
#include "fhe/bgv/evaluator.h"
#include "fhe/rlwe/keygen.h"
#include "fhe/wire/core_convert.h"
#include "fhe/wire/core_eval.h"
#include "math/prng.h"
#include "oracle_util.h"

namespace hecnn::wire {
namespace {

namespace t = testing;
using t::rotate_rows;
using Slots = std::vector<std::uint64_t>;

const std::vector<std::string> kBgv{"--scheme", "bgv", "--n", "8192", "--steps", "0,1,-1,3,4"};

struct Bgv {
  t::fs::path dir;
  nlohmann::json manifest;
  std::vector<std::uint8_t> params;
  std::unique_ptr<Context> wctx;
  rlwe::ContextPtr core;
  bgv::BgvTablesPtr tables;
  std::unique_ptr<bfv::BatchEncoder> enc;
  math::Modulus tm;
  std::vector<std::uint8_t> file(const std::string& name) const { return t::read_file(dir / name); }
  rlwe::Ciphertext ct(const std::string& name) const { return to_core(*wctx, read_ciphertext(*wctx, file(name)).value); }
  std::vector<std::uint8_t> bytes(const rlwe::Ciphertext& c) const { return write_ciphertext(*wctx, to_wire(*wctx, c)); }
  Slots values(const char* key) const { return manifest[key].get<Slots>(); }
};

Bgv load() {
  Bgv b;
  b.dir = t::fixtures(kBgv);
  b.manifest = t::manifest(b.dir);
  b.params = b.file("params.none.bin");
  b.wctx = std::make_unique<Context>(read_parameters(b.params).parms);
  b.core = make_core_context(*b.wctx);
  b.tables = bgv::make_tables(b.core);
  b.enc = std::make_unique<bfv::BatchEncoder>(b.core);
  b.tm = b.core->plain_modulus();
  return b;
}

template <typename F>
Slots zip(const Slots& a, const Slots& b, F f) {
  Slots out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = f(a[i], b[i]);
  return out;
}

std::vector<nlohmann::json> node_decrypt_many(const Bgv& b, const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& items,
                                              const std::string& sk = "") {
  return t::node_decrypt_many(b.dir, items, sk);
}

TEST(BgvInterop, HecnnDecryptsNodeSealCiphertextsAndResults) {
  HECNN_REQUIRE_ORACLE();
  const Bgv b = load();
  const auto sk = to_core(*b.wctx, read_secret_key(*b.wctx, b.file("sk.none.bin")).value);
  const bgv::Decryptor dec(b.tables, sk);
  const Slots v = b.values("values");
  for (const char* name : {"ct.full.none.bin", "ct.seeded.zstd.bin", "ct.pk.zlib.bin"}) {
    const auto c = b.ct(name);
    EXPECT_EQ(b.enc->decode(dec.decrypt(c)), v) << name;
    EXPECT_GT(dec.invariant_noise_budget(c), 0) << name;
  }
  // SEAL's own square, relinearization, modulus switches (correction factor != 1), rotation,
  // product and an addition of operands with different factors.
  const auto out = t::scratch_dir() / "node.bgv.ops";
  const auto r = t::run_oracle({"sealeval", "--dir", b.dir.string(), "--file", (b.dir / "ct.full.none.bin").string(), "--ops",
                                "square,relin,modswitch,rot:1,mulct2,relin,modswitch,addct2", "--out", out.string()});
  ASSERT_TRUE(r.json.value("ok", false)) << r.out;
  const auto loaded = read_ciphertext(*b.wctx, t::read_file(out)).value;
  EXPECT_NE(loaded.correction_factor, 1u);  // SEAL tracks q_last^-1 as hecnn does
  const auto sq = zip(v, v, [&](std::uint64_t x, std::uint64_t y) { return b.tm.mul(x, y); });
  const Slots v2 = b.values("values2");
  const auto prod = zip(rotate_rows(sq, 1), v2, [&](std::uint64_t x, std::uint64_t y) { return b.tm.mul(x, y); });
  const auto expect = zip(prod, v2, [&](std::uint64_t x, std::uint64_t y) { return b.tm.add(x, y); });
  EXPECT_EQ(b.enc->decode(dec.decrypt(to_core(*b.wctx, loaded))), expect);
}

TEST(BgvInterop, NodeSealDecryptsHecnnResultsUnderItsKeys) {
  HECNN_REQUIRE_ORACLE();
  const Bgv b = load();
  const auto& w = *b.wctx;
  const auto pk = to_core(w, read_public_key(w, b.file("pk.seeded.zstd.bin")).value);
  const auto rk = to_core(w, read_relin_keys(w, b.file("rk.seeded.none.bin")).value);
  const auto gk = to_core(w, read_galois_keys(w, b.file("gk.seeded.zlib.bin")).value);
  const bgv::Evaluator ev(b.tables);
  const auto ct = b.ct("ct.full.none.bin"), ct2 = b.ct("ct2.full.none.bin");
  const Slots v = b.values("values"), v2 = b.values("values2");
  auto mul = [&](std::uint64_t x, std::uint64_t y) { return b.tm.mul(x, y); };
  auto add = [&](std::uint64_t x, std::uint64_t y) { return b.tm.add(x, y); };

  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> items;
  std::vector<Slots> want;
  // Product, relinearized, switched down twice (factor q_k^-1 q_{k-1}^-1).
  auto p = ev.multiply(ct, ct2);
  ev.relinearize_inplace(p, rk);
  ev.mod_switch_to_next_inplace(p);
  ev.mod_switch_to_next_inplace(p);
  ASSERT_NE(p.correction_factor, 1u);
  items.emplace_back("hecnn.bgv.mul", b.bytes(p));
  want.push_back(zip(v, v2, mul));
  // A switched product plus a switched fresh ciphertext: different factors, balanced.
  auto low = ct;
  ev.mod_switch_to_inplace(low, p.num_primes);
  auto s = ev.add(p, low);
  items.emplace_back("hecnn.bgv.balanced", b.bytes(s));
  want.push_back(zip(zip(v, v2, mul), v, add));
  // Rotations with node-seal's Galois keys: own keys, composed (5 = 4 + 1), hoisted, columns.
  for (int step : {1, -1, 5}) {
    auto r = ct;
    ev.rotate_rows_inplace(r, step, gk);
    items.emplace_back("hecnn.bgv.rot" + std::to_string(step), b.bytes(r));
    want.push_back(rotate_rows(v, step));
  }
  const auto hoisted = ev.rotate_rows_hoisted(low, {3, -1}, gk);
  items.emplace_back("hecnn.bgv.hoisted3", b.bytes(hoisted[0]));
  want.push_back(rotate_rows(v, 3));
  items.emplace_back("hecnn.bgv.hoisted-1", b.bytes(hoisted[1]));
  want.push_back(rotate_rows(v, -1));
  auto cols = ct;
  ev.rotate_columns_inplace(cols, gk);
  items.emplace_back("hecnn.bgv.cols", b.bytes(cols));
  Slots swapped(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) swapped[i] = v[(i + v.size() / 2) % v.size()];
  want.push_back(swapped);
  // Plaintext and scalar operations on a factor != 1.
  auto q = p;
  ev.add_plain_inplace(q, b.enc->encode(v));
  ev.multiply_scalar_inplace(q, -3);
  ev.add_scalar_inplace(q, 7);
  items.emplace_back("hecnn.bgv.plain", b.bytes(q));
  want.push_back(zip(zip(v, v2, mul), v, [&](std::uint64_t x, std::uint64_t y) {
    return b.tm.add(b.tm.mul(b.tm.add(x, y), b.tm.neg(3)), 7);
  }));
  // hecnn's public-key encryption with node-seal's public key.
  math::SystemPrng prng;
  items.emplace_back("hecnn.bgv.enc", b.bytes(bgv::Encryptor(b.tables, pk).encrypt(b.enc->encode(v2), prng)));
  want.push_back(v2);

  const auto d = node_decrypt_many(b, items);
  for (std::size_t i = 0; i < items.size(); ++i) {
    ASSERT_TRUE(d[i].contains("values")) << items[i].first << ": " << d[i].dump().substr(0, 300);
    EXPECT_EQ(d[i]["values"].get<Slots>(), want[i]) << items[i].first;
    EXPECT_GT(d[i].value("noise_budget", 0), 0) << items[i].first;
  }
}

// `hecnn seal-eval`'s library call on BGV files: node-seal's ciphertexts and keys in, SEAL
// bytes out, node-seal decrypts.
TEST(BgvInterop, SealEvalOnBgvFiles) {
  HECNN_REQUIRE_ORACLE();
  const Bgv b = load();
  const auto ct = b.file("ct.full.none.bin"), ct2 = b.file("ct2.seeded.zstd.bin");
  const auto rk = b.file("rk.seeded.none.bin"), gk = b.file("gk.seeded.zlib.bin");
  const Slots v = b.values("values"), v2 = b.values("values2");
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> items;
  std::vector<Slots> want;
  for (const std::string op : {"multiply", "rotate_rows", "mod_switch", "sub"}) {
    EvalInputs in;
    in.parameters = b.params;
    in.ciphertexts = {ct};
    if (op == "multiply" || op == "sub") in.ciphertexts.push_back(ct2);
    in.relin_keys = std::span<const std::uint8_t>(rk);
    in.galois_keys = std::span<const std::uint8_t>(gk);
    EvalRequest req;
    req.op = op;
    req.step = 3;
    items.emplace_back("seal-eval.bgv." + op, evaluate(in, req).bytes);
  }
  want.push_back(zip(v, v2, [&](std::uint64_t x, std::uint64_t y) { return b.tm.mul(x, y); }));
  want.push_back(rotate_rows(v, 3));
  want.push_back(v);
  want.push_back(zip(v, v2, [&](std::uint64_t x, std::uint64_t y) { return b.tm.sub(x, y); }));
  const auto d = node_decrypt_many(b, items);
  for (std::size_t i = 0; i < items.size(); ++i) EXPECT_EQ(d[i]["values"].get<Slots>(), want[i]) << items[i].first;
  // A CKKS-only operation names the scheme.
  EvalInputs in;
  in.parameters = b.params;
  in.ciphertexts = {ct};
  EvalRequest req;
  req.op = "rescale";
  try {
    evaluate(in, req);
    ADD_FAILURE() << "rescale on BGV was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown BGV operation 'rescale'"), std::string::npos) << e.what();
  }
}

TEST(BgvInterop, HecnnKeysBothWays) {
  HECNN_REQUIRE_ORACLE();
  const Bgv b = load();
  const auto& w = *b.wctx;
  math::SystemPrng prng;
  rlwe::KeyGenerator kg(b.core, prng);
  const auto sk_path = (t::scratch_dir() / "hecnn.bgv.sk").string();
  t::write_file(sk_path, write_secret_key(w, to_wire(w, kg.secret_key())));
  Slots v(w.n());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = (i * 131 + 17) % b.tm.value();
  // Symmetric, seeded (half size) and public-key encryptions: node-seal decrypts them.
  auto sym = to_wire(w, bgv::Encryptor(b.tables, kg.secret_key()).encrypt(b.enc->encode(v), prng));
  reseed(w, *b.core, kg.secret_key(), sym);
  const auto pk = kg.create_public_key();
  auto pkw = to_wire(w, pk);
  reseed(w, *b.core, kg.secret_key(), pkw.ct);
  const auto pk_path = t::scratch_dir() / "hecnn.bgv.pk";
  t::write_file(pk_path, write_public_key(w, pkw));
  const auto asym = bgv::Encryptor(b.tables, pk).encrypt(b.enc->encode(v), prng);
  // hecnn's own relinearization key after a product, then a switch.
  auto p = bgv::Evaluator(b.tables).multiply(to_core(w, sym), asym);
  bgv::Evaluator(b.tables).relinearize_inplace(p, kg.create_relin_keys());
  bgv::Evaluator(b.tables).mod_switch_to_next_inplace(p);
  const auto d = node_decrypt_many(b, {{"hecnn.bgv.sym.seeded", write_ciphertext(w, sym)},
                                       {"hecnn.bgv.asym", b.bytes(asym)},
                                       {"hecnn.bgv.own.mul", b.bytes(p)}},
                                   sk_path);
  EXPECT_EQ(d[0]["values"].get<Slots>(), v);
  EXPECT_EQ(d[1]["values"].get<Slots>(), v);
  EXPECT_EQ(d[2]["values"].get<Slots>(), zip(v, v, [&](std::uint64_t x, std::uint64_t y) { return b.tm.mul(x, y); }));
  // node-seal encrypts with hecnn's seeded public key; hecnn decrypts.
  const auto out = t::scratch_dir() / "node.bgv.enc.with.hecnn.pk";
  const auto r = t::run_oracle({"encrypt", "--dir", b.dir.string(), "--pk", pk_path.string(), "--out", out.string(), "--values",
                                "5,6,7,1032192"});
  ASSERT_TRUE(r.json.value("ok", false)) << r.out;
  const auto got = b.enc->decode(bgv::Decryptor(b.tables, kg.secret_key()).decrypt(to_core(w, read_ciphertext(w, t::read_file(out)).value)));
  EXPECT_EQ(Slots(got.begin(), got.begin() + 5), (Slots{5, 6, 7, 1032192, 0}));
}

}  // namespace
}  // namespace hecnn::wire
