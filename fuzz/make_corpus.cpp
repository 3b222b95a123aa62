// Writes seed inputs for each fuzz target into DIR/<target>/: valid objects
// of every type for both fuzz contexts, seeded and full, in every compression.
#include <filesystem>
#include <fstream>

#include <onnx/onnx_pb.h>
#include <random>
#include <string>

#include "fuzz_common.h"
#include "fhe/wire/prng.h"
#include "nn/compiler/compiler.h"
#include "nn/compiler/plan_io.h"
#include "nn/model/model_io.h"
#include "nn/image_files.h"
#include "nn/test_models.h"

namespace fs = std::filesystem;
using namespace hecnn::wire;

namespace {
std::mt19937_64 rng(1);

void emit_one(const fs::path& dir, const std::string& target, const std::string& name, std::uint8_t selector,
              const std::vector<std::uint8_t>& bytes) {
  fs::create_directories(dir / target);
  std::ofstream f(dir / target / name, std::ios::binary);
  f.put(static_cast<char>(selector));
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Every seed also goes to the inspect target (with parameters: selector bit 1).
void emit(const fs::path& dir, const std::string& target, const std::string& name, std::uint8_t selector,
          const std::vector<std::uint8_t>& bytes) {
  emit_one(dir, target, name, selector, bytes);
  emit_one(dir, "inspect", target + "." + name, static_cast<std::uint8_t>(selector | 2), bytes);
}

// A seal_eval input: context, operation index (fuzz_seal_eval.cpp), step, then
// length-prefixed objects.
std::vector<std::uint8_t> eval_input(std::uint8_t op, std::int8_t step,
                                     std::initializer_list<const std::vector<std::uint8_t>*> parts) {
  std::vector<std::uint8_t> v{op, static_cast<std::uint8_t>(step)};
  for (const auto* part : parts) {
    const std::uint32_t len = part ? static_cast<std::uint32_t>(part->size()) : 0;
    for (int b = 0; b < 4; ++b) v.push_back(static_cast<std::uint8_t>(len >> (8 * b)));
    if (part) v.insert(v.end(), part->begin(), part->end());
  }
  return v;
}

std::vector<std::uint8_t> as_bytes(const std::string& s) { return {s.begin(), s.end()}; }

// Model, plan and image seeds: the tests' tiny model, its plans for both schemes,
// small PGM files. Selector bit 0 = "the target appends the checksum".
void emit_nn_seeds(const fs::path& dir) {
  namespace nn = hecnn::nn;
  const nn::Model m = nn::testing::tiny_model(5);
  const std::string file = nn::serialize_model(m);
  emit_one(dir, "model", "tiny.signed", 0, as_bytes(file));
  emit_one(dir, "model", "tiny.unsigned", 1, as_bytes(file.substr(0, file.size() - 32)));
  emit_one(dir, "model", "tiny.f64.signed", 0, as_bytes(nn::serialize_model(m, nn::DType::f64)));
  for (auto scheme : {nn::compiler::Scheme::bfv, nn::compiler::Scheme::ckks}) {
    nn::compiler::CompileOptions opt;
    opt.scheme = scheme;
    const std::vector<nn::Model> members{m};
    const auto plan = nn::compiler::serialize_plan(nn::compiler::compile(members, {}, opt));
    const std::string tag = scheme == nn::compiler::Scheme::bfv ? "bfv" : "ckks";
    emit_one(dir, "plan", "tiny." + tag + ".signed", 0, plan);
    emit_one(dir, "plan", "tiny." + tag + ".unsigned", 1, {plan.begin(), plan.end() - 32});
  }
  fs::create_directories(dir / "pgm");
  const std::string header = "P5\n# a comment\n8 8\n255\n";
  std::ofstream(dir / "pgm" / "8x8.pgm", std::ios::binary) << header << std::string(64, '\x7f');
  std::ofstream(dir / "pgm" / "maxval15.pgm", std::ios::binary) << "P5 2 2 15 " << std::string(4, '\x0f');
  // Images: a small gray PNG, an RGBA PNG, a JPEG and a PGM, each with a stroke on paper.
  fs::create_directories(dir / "image");
  std::vector<std::uint8_t> px(12 * 10, 250);
  for (int y = 2; y < 9; ++y) px[std::size_t(y) * 12 + 5] = 10;
  std::ofstream(dir / "image" / "gray.png", std::ios::binary) << nn::testing::encode_png(12, 10, PNG_FORMAT_GRAY, px);
  std::vector<std::uint8_t> rgba;
  for (auto v : px) rgba.insert(rgba.end(), {v, v, v, std::uint8_t(v < 128 ? 255 : 0)});
  std::ofstream(dir / "image" / "rgba.png", std::ios::binary) << nn::testing::encode_png(12, 10, PNG_FORMAT_RGBA, rgba);
  std::ofstream(dir / "image" / "gray.jpg", std::ios::binary) << nn::testing::encode_jpeg_gray(12, 10, px, 75);
  std::ofstream(dir / "image" / "stroke.pgm", std::ios::binary) << "P5 12 10 255\n" << std::string(px.begin(), px.end());
  // ONNX: the CryptoNets shape at 8x8 as PyTorch writes it (Pad, Conv, x * x, a polynomial as
  // arithmetic, Shape/Gather/Unsqueeze/Concat/Reshape of a dynamic batch axis, Gemm).
  fs::create_directories(dir / "onnx");
  {
    onnx::ModelProto model;
    model.set_ir_version(8);
    model.add_opset_import()->set_version(13);
    auto* g = model.mutable_graph();
    auto* in = g->add_input();
    in->set_name("x");
    in->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    auto* shape = in->mutable_type()->mutable_tensor_type()->mutable_shape();
    shape->add_dim()->set_dim_param("batch");
    for (int d : {1, 8, 8}) shape->add_dim()->set_dim_value(d);
    int id = 0;
    auto init = [&](std::vector<float> v, std::vector<std::int64_t> dims, bool int64 = false) {
      auto* t = g->add_initializer();
      t->set_name("c" + std::to_string(id++));
      t->set_data_type(int64 ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT);
      for (auto d : dims) t->add_dims(d);
      for (float x : v) int64 ? t->add_int64_data(std::int64_t(x)) : t->add_float_data(x);
      return t->name();
    };
    auto node = [&](const std::string& op, std::vector<std::string> ins, const std::string& out) {
      auto* n = g->add_node();
      n->set_op_type(op);
      n->set_name(op + out);
      for (auto& i : ins) n->add_input(i);
      n->add_output(out);
      return n;
    };
    node("Pad", {"x", init({0, 0, 1, 1, 0, 0, 1, 1}, {8}, true)}, "p");
    auto* conv = node("Conv", {"p", init(std::vector<float>(2 * 9, 0.25f), {2, 1, 3, 3}), init({0.1f, -0.1f}, {2})}, "c");
    auto* a = conv->add_attribute();
    a->set_name("strides");
    a->set_type(onnx::AttributeProto::INTS);
    a->add_ints(2), a->add_ints(2);
    node("Mul", {"c", "c"}, "sq");
    node("Mul", {"c", init({0.5f}, {})}, "half");
    node("Add", {"sq", "half"}, "act");
    node("Shape", {"act"}, "s");
    node("Gather", {"s", init({0}, {}, true)}, "n");
    node("Unsqueeze", {"n", init({0}, {1}, true)}, "n1");
    node("Concat", {"n1", init({-1}, {1}, true)}, "target")->add_attribute()->set_name("axis");
    node("Reshape", {"act", "target"}, "flat");
    auto* gemm = node("Gemm", {"flat", init(std::vector<float>(3 * 32, 0.01f), {3, 32}), init({0, 0, 0}, {3})}, "y");
    auto* tb = gemm->add_attribute();
    tb->set_name("transB");
    tb->set_type(onnx::AttributeProto::INT);
    tb->set_i(1);
    g->add_output()->set_name("y");
    std::string bytes;
    model.SerializeToString(&bytes);
    std::ofstream(dir / "onnx" / "pytorch-style.onnx", std::ios::binary) << bytes;
  }
}

CiphertextData random_ct(const Context& ctx, const Level& level, bool ntt, bool seeded) {
  CiphertextData ct;
  ct.parms_id = level.parms_id;
  ct.is_ntt_form = ntt;
  ct.size = 2;
  ct.n = ctx.n();
  ct.prime_count = level.prime_count;
  ct.scale = (ctx.scheme() == Scheme::ckks && level.chain_index != 0) ? 1024.0 : 1.0;
  const auto q = ctx.primes(level);
  ct.data.resize(2 * q.size() * ct.n);
  for (std::size_t p = 0; p < 2; ++p)
    for (std::size_t j = 0; j < q.size(); ++j)
      for (std::size_t i = 0; i < ct.n; ++i) ct.data[(p * q.size() + j) * ct.n + i] = rng() % q[j];
  if (seeded) {
    ct.seed = PrngInfo{PrngType::blake2xb, random_seed()};
    expand_seed(ctx, level, *ct.seed, ct.poly(1));
  }
  return ct;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const fs::path dir = argv[1];
  for (std::uint8_t sel : {0, 1, 4, 5}) {
    const Context& ctx = fuzz::context(sel);
    const bool ckks = ctx.scheme() == Scheme::ckks;
    for (Compression c : {Compression::none, Compression::zlib, Compression::zstd}) {
      const WriteOptions o{kVersion41, c};
      const std::string tag = std::to_string(sel) + "." + std::string(to_string(c));
      emit(dir, "params", tag, 0, write_parameters(ctx.parms(), o));
      for (bool seeded : {false, true}) {
        const std::string st = tag + (seeded ? ".seeded" : ".full");
        emit(dir, "ciphertext", st, sel, write_ciphertext(ctx, random_ct(ctx, ctx.first_data_level(), ckks, seeded), o));
        const PublicKeyData pk{random_ct(ctx, ctx.key_level(), true, seeded)};
        emit(dir, "public_key", st, sel, write_public_key(ctx, pk, o));
        KSwitchKeysData ks;
        ks.parms_id = ctx.key_level().parms_id;
        ks.keys.resize(1);
        for (std::size_t c = 0; c + 1 < ctx.key_prime_count(); ++c) {
          ks.keys[0].push_back(PublicKeyData{random_ct(ctx, ctx.key_level(), true, seeded)});
        }
        emit(dir, "relin_keys", st, sel, write_relin_keys(ctx, RelinKeysData{ks}, o));
        ks.keys.resize(ctx.n());
        std::swap(ks.keys[0], ks.keys[1]);
        const auto gk_bytes = write_galois_keys(ctx, GaloisKeysData{ks}, o);
        emit(dir, "galois_keys", st, sel, gk_bytes);
        if (c == Compression::none) {
          std::swap(ks.keys[0], ks.keys[1]);
          ks.keys.resize(1);
          const auto rk_bytes = write_relin_keys(ctx, RelinKeysData{ks}, o);
          const auto a = write_ciphertext(ctx, random_ct(ctx, ctx.first_data_level(), ckks, seeded), o);
          const auto b = write_ciphertext(ctx, random_ct(ctx, ctx.first_data_level(), ckks, false), o);
          // add, multiply + relinearize (+ rescale), rotate by 1 / rows, mod_switch.
          emit_one(dir, "seal_eval", st + ".add", sel, eval_input(0, 0, {&a, &b}));
          emit_one(dir, "seal_eval", st + ".multiply", sel, eval_input(ckks ? 3 | 16 : 3, 0, {&a, &b, nullptr, &rk_bytes}));
          emit_one(dir, "seal_eval", st + ".rotate", sel,
                   eval_input(ckks ? 9 : 8, 1, {&a, nullptr, nullptr, nullptr, &gk_bytes}));
          emit_one(dir, "seal_eval", st + ".mod_switch", sel, eval_input(12, 0, {&a}));
        }
      }
      const auto& kl = ctx.key_level();
      SecretKeyData sk{PlaintextData{kl.parms_id, ctx.n() * kl.prime_count, 1.0,
                                     std::vector<std::uint64_t>(ctx.n() * kl.prime_count, 1)}};
      emit(dir, "secret_key", tag, sel, write_secret_key(ctx, sk, o));
      if (!ckks) {
        emit(dir, "plaintext", tag, sel, write_plaintext(ctx, PlaintextData{kZeroParmsId, 16, 1.0, std::vector<std::uint64_t>(16, 3)}, o));
      }
      const auto& dl = ctx.first_data_level();
      emit(dir, "plaintext", tag + ".ntt", sel,
           write_plaintext(ctx, PlaintextData{dl.parms_id, ctx.n() * dl.prime_count, ckks ? 1024.0 : 1.0,
                                              std::vector<std::uint64_t>(ctx.n() * dl.prime_count, 2)}, o));
    }
  }
  emit_nn_seeds(dir);
  return 0;
}
