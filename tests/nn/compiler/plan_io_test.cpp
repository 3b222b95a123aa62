// The plan file (plan_io.h): round trips for the three schemes and ensembles, and every
// kind of damage a file can carry (truncation, flipped bytes, hostile counts with a
// valid checksum, invalid programs, insecure parameters) refused with a PlanError
// that names the problem.
#include <gtest/gtest.h>

#include <blake2.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "nn/compiler/compiler.h"
#include "math/primes.h"
#include "nn/compiler/plan_io.h"
#include "nn/test_models.h"

namespace hecnn::nn::compiler {
namespace {

Program compile_tiny(Scheme scheme, int members = 1) {
  CompileOptions opt;
  opt.scheme = scheme;
  std::vector<Model> models;
  for (int k = 0; k < members; ++k) models.push_back(testing::tiny_model(5 + std::uint64_t(k)));
  EnsembleOptions ens;
  if (members > 1) {
    ens.combiners = {Combiner::mean, Combiner::weighted_mean, Combiner::poly_softmax};
    ens.weights.assign(std::size_t(members), 0.5);
  }
  return compile(models, ens, opt);
}

// Re-signs a modified file so that the damage reaches the parser, not the checksum.
void resign(std::vector<std::uint8_t>& f) {
  ASSERT_GE(f.size(), 56u);
  const std::uint64_t payload = f.size() - 24 - 32;
  std::memcpy(f.data() + 16, &payload, 8);
  ASSERT_EQ(blake2b(f.data() + f.size() - 32, f.data(), nullptr, 32, f.size() - 32, 0), 0);
}

void expect_refused(const std::vector<std::uint8_t>& f, const std::string& needle, const std::string& what) {
  try {
    parse_plan(f);
    ADD_FAILURE() << what << ": accepted";
  } catch (const PlanError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << what << ": \"" << e.what() << "\" lacks \"" << needle << "\"";
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": wrong exception type: " << e.what();
  }
}

// A program modified by `edit`, serialized (the writer does not validate) and parsed.
void expect_invalid(const Program& base, const std::function<void(Program&)>& edit, const std::string& needle, const std::string& what) {
  Program p = base;
  edit(p);
  expect_refused(serialize_plan(p), needle, what);
}

struct RoundTripCase {
  std::string name;
  Scheme scheme;
  int members;
};

class PlanRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(PlanRoundTrip, BytesAndFieldsSurvive) {
  const Program p = compile_tiny(GetParam().scheme, GetParam().members);
  const auto bytes = serialize_plan(p);
  const Program q = parse_plan(bytes);
  EXPECT_EQ(serialize_plan(q), bytes);
  ASSERT_EQ(q.instrs.size(), p.instrs.size());
  EXPECT_EQ(q.scheme, p.scheme);
  EXPECT_EQ(q.description, p.description);
  EXPECT_EQ(q.keys, p.keys);
  EXPECT_EQ(q.poly_degree(), p.poly_degree());
  EXPECT_EQ(q.params.plain_moduli, p.params.plain_moduli);
  EXPECT_EQ(q.ckks.coeff_modulus, p.ckks.coeff_modulus);
  for (std::size_t i = 0; i < p.instrs.size(); ++i) {
    const auto &a = p.instrs[i], &b = q.instrs[i];
    EXPECT_EQ(a.label, b.label);
    EXPECT_EQ(a.inputs, b.inputs);
    EXPECT_EQ(a.level, b.level);
    EXPECT_EQ(a.rescale, b.rescale);
    EXPECT_EQ(a.factor, b.factor);
    EXPECT_EQ(a.bias, b.bias);
    EXPECT_EQ(a.bias_real, b.bias_real);
    ASSERT_EQ(a.rows.size(), b.rows.size());
    for (std::size_t o = 0; o < a.rows.size(); ++o) {
      ASSERT_EQ(a.rows[o].size(), b.rows[o].size());
      for (std::size_t k = 0; k < a.rows[o].size(); ++k) {
        EXPECT_EQ(a.rows[o][k].weight, b.rows[o][k].weight);
        EXPECT_EQ(a.rows[o][k].real, b.rows[o][k].real);
        EXPECT_EQ(a.rows[o][k].index, b.rows[o][k].index);
      }
    }
  }
  ASSERT_EQ(q.outputs.size(), p.outputs.size());
  for (std::size_t k = 0; k < p.outputs.size(); ++k) {
    EXPECT_EQ(q.outputs[k].name, p.outputs[k].name);
    EXPECT_EQ(q.outputs[k].combiner, p.outputs[k].combiner);
    EXPECT_EQ(q.outputs[k].scale, p.outputs[k].scale);
  }
}

INSTANTIATE_TEST_SUITE_P(Plans, PlanRoundTrip,
                         ::testing::Values(RoundTripCase{"bfv_one_model", Scheme::bfv, 1}, RoundTripCase{"ckks_one_model", Scheme::ckks, 1},
                                           RoundTripCase{"bfv_ensemble_3", Scheme::bfv, 3}, RoundTripCase{"ckks_ensemble_2", Scheme::ckks, 2},
                                           RoundTripCase{"bgv_one_model", Scheme::bgv, 1}, RoundTripCase{"bgv_ensemble_2", Scheme::bgv, 2}),
                         [](const auto& info) { return info.param.name; });

TEST(PlanFile, BfvBiasBeyond64BitsSurvives) {
  Program p = compile_tiny(Scheme::bfv);
  for (auto& ins : p.instrs)
    if (ins.op == OpKind::linear) ins.bias[0] = -(static_cast<__int128>(1) << 100) + 12345;
  const Program q = parse_plan(serialize_plan(p));
  for (std::size_t i = 0; i < p.instrs.size(); ++i) EXPECT_EQ(q.instrs[i].bias, p.instrs[i].bias);
}

TEST(PlanFile, EveryTruncationIsRefused) {
  const auto bytes = serialize_plan(compile_tiny(Scheme::ckks));
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n < 256; ++n) lengths.push_back(n);
  for (std::size_t n = 256; n < bytes.size(); n += 997) lengths.push_back(n);
  for (std::size_t n = bytes.size() - 64; n < bytes.size(); ++n) lengths.push_back(n);
  for (std::size_t n : lengths) {
    std::vector<std::uint8_t> f(bytes.begin(), bytes.begin() + std::ptrdiff_t(n));
    EXPECT_THROW(parse_plan(f), PlanError) << n << " of " << bytes.size() << " bytes";
  }
  // Truncated but re-signed: the parser itself sees the missing bytes.
  std::vector<std::uint8_t> f(bytes.begin(), bytes.begin() + std::ptrdiff_t(bytes.size() / 2));
  f.resize(f.size() + 32);
  resign(f);
  expect_refused(f, " left", "half a payload, re-signed");
  // Extra bytes after the program.
  f.assign(bytes.begin(), bytes.end() - 32);
  f.resize(f.size() + 8 + 32);
  resign(f);
  expect_refused(f, "", "trailing bytes");
}

TEST(PlanFile, FlippedBytesFailTheChecksum) {
  const auto bytes = serialize_plan(compile_tiny(Scheme::bfv));
  std::mt19937_64 rng(1);
  for (int k = 0; k < 200; ++k) {
    auto f = bytes;
    const std::size_t pos = 24 + rng() % (f.size() - 24);
    f[pos] ^= std::uint8_t(1 + rng() % 255);
    expect_refused(f, "checksum", "byte " + std::to_string(pos));
  }
}

TEST(PlanFile, HeaderDamage) {
  const auto bytes = serialize_plan(compile_tiny(Scheme::bfv));
  auto f = bytes;
  f[0] = 'X';
  expect_refused(f, "magic", "magic");
  f = bytes;
  f[8] = std::uint8_t(kPlanFormatVersion + 1);
  expect_refused(f, "format version " + std::to_string(kPlanFormatVersion + 1), "version");
  f = bytes;
  f[8] = 1;  // version 1 had no quantization record
  expect_refused(f, "format version 1 is not supported", "old version");
  f = bytes;
  f[12] = 1;
  expect_refused(f, "flags", "flags");
  f = bytes;
  f[16] ^= 1;
  expect_refused(f, "payload length", "length");
  expect_refused({}, "too short", "empty");
}

TEST(PlanFile, HostileCountsWithAValidChecksum) {
  Program p = compile_tiny(Scheme::ckks);
  p.description = "d";
  const auto bytes = serialize_plan(p);
  // description length: u32 at payload offset 0.
  auto f = bytes;
  const std::uint32_t big = 0xffffffffu;
  std::memcpy(f.data() + 24, &big, 4);
  resign(f);
  expect_refused(f, "description", "description of 4 GiB");
  // member_weights count: after description (4 + 1), shape (12), input_scale, input_quant (16), members (4).
  f = bytes;
  const std::uint64_t huge = std::uint64_t(1) << 61;
  std::memcpy(f.data() + 24 + 5 + 12 + 16 + 4, &huge, 8);
  resign(f);
  expect_refused(f, "needs more bytes", "2^61 member weights");
}

TEST(PlanFile, InvalidProgramsAreRefused) {
  const Program ckks = compile_tiny(Scheme::ckks), bfv = compile_tiny(Scheme::bfv);
  int lin = -1;
  for (std::size_t i = 0; i < ckks.instrs.size(); ++i)
    if (ckks.instrs[i].op == OpKind::linear) {
      lin = int(i);
      break;
    }
  ASSERT_GT(lin, 0);
  const auto L = std::size_t(lin);
  expect_invalid(ckks, [&](Program& p) { p.instrs[L].rows[0][0].index = 1 << 30; }, "reads element", "term index");
  expect_invalid(ckks, [&](Program& p) { p.instrs[L].rows[0][0].input = 3; }, "reads input", "term input");
  expect_invalid(ckks, [&](Program& p) { p.instrs[L].inputs[0] = int(L); }, "not an earlier", "self reference");
  expect_invalid(ckks, [&](Program& p) { p.instrs[L].rows.pop_back(); }, "rows for", "missing row");
  expect_invalid(ckks, [&](Program& p) { p.instrs[L].bias_real.clear(); }, "real bias", "missing bias");
  expect_invalid(ckks, [&](Program& p) { p.instrs[L].rows[0][0].real = std::nan(""); }, "finite", "NaN weight");
  expect_invalid(ckks, [&](Program& p) { p.instrs[L].level = 99; }, "prime chain", "level");
  expect_invalid(ckks, [&](Program& p) { p.instrs[L].rescale = 99; }, "prime chain", "rescale");
  expect_invalid(ckks, [&](Program& p) { p.instrs[L].rescale = 0x7fffffff; }, "prime chain", "rescale near INT_MAX");
  expect_invalid(ckks, [&](Program& p) { p.instrs[L].level = -0x7fffffff; }, "prime chain", "negative level");
  expect_invalid(ckks, [&](Program& p) { p.instrs[L].level = p.instrs[0].level, p.instrs[L].rescale = 1; }, "", "level above input");
  expect_invalid(ckks, [&](Program& p) { p.instrs[L].size += 1; }, "shape", "size");
  expect_invalid(ckks, [&](Program& p) { p.instrs[1].op = OpKind::input; }, "input", "second input");
  expect_invalid(ckks, [&](Program& p) { p.instrs[L].op = OpKind::mod_switch; }, "mod_switch", "CKKS mod switch");
  expect_invalid(ckks, [&](Program& p) { p.outputs[0].tensor = 1 << 20; }, "refers to tensor", "output");
  expect_invalid(ckks, [&](Program& p) { p.outputs.clear(); }, "no outputs", "no outputs");
  expect_invalid(ckks, [&](Program& p) { p.outputs[0].combiner = "max"; }, "combiner", "combiner");
  expect_invalid(ckks, [&](Program& p) { p.ckks.poly_degree = 12288; }, "polynomial degree", "N");
  expect_invalid(ckks, [&](Program& p) { p.ckks.coeff_modulus[0] += 2; }, "NTT prime", "composite prime");
  expect_invalid(ckks, [&](Program& p) { p.ckks.coeff_modulus[1] = p.ckks.coeff_modulus[0]; }, "twice", "repeated prime");
  expect_invalid(ckks, [&](Program& p) {
    // A larger modulus than 128-bit security allows at this N: copy primes until it is too long.
    const std::size_t n = p.ckks.poly_degree;
    for (std::uint64_t q = (std::uint64_t(1) << 60) + 1; p.ckks.coeff_modulus.size() < 30; q += 2 * n)
      if ((q - 1) % (2 * n) == 0 && math::is_prime(q)) p.ckks.coeff_modulus.insert(p.ckks.coeff_modulus.begin(), q);
  }, "128-bit", "insecure modulus");
  expect_invalid(bfv, [&](Program& p) { p.params.plain_moduli = {65536}; }, "batching prime", "plain modulus");
  expect_invalid(bfv, [&](Program& p) { p.instrs[L].rescale = 1; }, "do not rescale", "BFV rescale");
  expect_invalid(bfv, [&](Program& p) { p.instrs[L].bias.pop_back(); }, "integer bias", "BFV bias");
}

TEST(PlanFile, WriteAndReadFiles) {
  const auto dir = std::filesystem::temp_directory_path() / ("hecnn_plan_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const Program p = compile_tiny(Scheme::ckks);
  const std::string path = (dir / "a.hplan").string();
  write_plan(p, path);
  EXPECT_EQ(serialize_plan(read_plan(path)), serialize_plan(p));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  // A failed write leaves the existing file alone.
  EXPECT_THROW(write_plan(p, (dir / "missing" / "b.hplan").string()), PlanError);
  EXPECT_THROW(read_plan((dir / "missing.hplan").string()), PlanError);
  // A file above the size limit is refused before it is read (sparse, costs no disk).
  const std::string huge = (dir / "huge.hplan").string();
  { std::ofstream(huge).put('H'); }
  std::filesystem::resize_file(huge, kMaxPlanFileBytes + 1);
  try {
    read_plan(huge);
    ADD_FAILURE() << "huge file accepted";
  } catch (const PlanError& e) {
    EXPECT_NE(std::string(e.what()).find("larger than the limit"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hecnn::nn::compiler
