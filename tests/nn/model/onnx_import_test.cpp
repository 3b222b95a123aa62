#include "nn/model/onnx_import.h"

#include "nn/model/arch.h"
#include "nn/model/forward.h"
#include "nn/test_models.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <string>

// The test builds ONNX graphs with the protobuf classes when the headers are there
// (hecnn_model links onnx_proto privately; its link dependency reaches this executable).
#if __has_include(<onnx/onnx_pb.h>)
#define HECNN_TEST_ONNX 1
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#define ONNX_ML 1
#endif
#include <onnx/onnx_pb.h>
#else
#define HECNN_TEST_ONNX 0
#endif

namespace hecnn::nn {
namespace {

#if HECNN_TEST_ONNX

// Builds a small ONNX graph in code: the equivalent of an ArchSpec with random parameters.
struct Builder {
  onnx::ModelProto model;
  onnx::GraphProto* g = model.mutable_graph();
  std::string cur = "input";
  int id = 0;
  Builder(int c, int h, int w) {
    model.set_ir_version(8);
    model.add_opset_import()->set_version(13);
    auto* in = g->add_input();
    in->set_name("input");
    auto* shape = in->mutable_type()->mutable_tensor_type()->mutable_shape();
    in->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    for (int d : {1, c, h, w}) shape->add_dim()->set_dim_value(d);
  }
  std::string init(const std::vector<double>& v, std::vector<std::int64_t> dims) {
    auto* t = g->add_initializer();
    t->set_name("w" + std::to_string(id++));
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    for (double x : v) t->add_float_data(float(x));
    return t->name();
  }
  onnx::NodeProto* node(const std::string& op, std::vector<std::string> extra = {}) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(op + std::to_string(id));
    n->add_input(cur);
    for (auto& e : extra) n->add_input(e);
    cur = "t" + std::to_string(id++);
    n->add_output(cur);
    return n;
  }
  static void ints(onnx::NodeProto* n, const char* name, std::vector<std::int64_t> v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
  static void integer(onnx::NodeProto* n, const char* name, std::int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  std::string bytes() {
    g->add_output()->set_name(cur);
    std::string s;
    model.SerializeToString(&s);
    return s;
  }
};

// Rounds parameters to float, as the ONNX file stores them.
// (Through a volatile: GCC 12 at -O3 -march=x86-64-v2 dropped the round trip in this file.)
std::vector<double> f32(std::vector<double> v) {
  for (double& x : v) {
    volatile float f = float(x);
    x = double(f);
  }
  return v;
}

TEST(Onnx, ConvBnSquarePoolGemmMatchesExport) {
  if (!onnx_supported()) {
    if (testing::data_required()) FAIL() << "hecnn_model built without ONNX (HECNN_REQUIRE_DATA is set)";
    GTEST_SKIP() << "hecnn_model built without ONNX";
  }
  const ArchSpec spec = parse_arch("input 1 8 8\nconv 3 3 stride 1 pad 1\nbn\nact\npool 2\ndense 5\nact\ndense 3\n");
  auto p = testing::random_params(spec, 21);
  for (auto& lp : p) {
    lp.weight = f32(lp.weight), lp.bias = f32(lp.bias), lp.gamma = f32(lp.gamma), lp.beta = f32(lp.beta);
    lp.mean = f32(lp.mean), lp.var = f32(lp.var);
  }
  Model want = export_model(spec, p, {0, 0, 1}, InputSpec{{1, 8, 8}, 1.0, 0.0});

  Builder b(1, 8, 8);
  auto* conv = b.node("Conv", {b.init(p[0].weight, {3, 1, 3, 3}), b.init(p[0].bias, {3})});
  Builder::ints(conv, "pads", {1, 1, 1, 1});
  Builder::ints(conv, "strides", {1, 1});
  b.node("BatchNormalization", {b.init(p[1].gamma, {3}), b.init(p[1].beta, {3}), b.init(p[1].mean, {3}),
                                b.init(p[1].var, {3})});
  auto* sq = b.node("Mul");
  sq->add_input(sq->input(0));
  Builder::ints(b.node("AveragePool"), "kernel_shape", {2, 2});
  b.node("Flatten");
  auto* gemm = b.node("Gemm", {b.init(p[4].weight, {5, 48}), b.init(p[4].bias, {5})});
  Builder::integer(gemm, "transB", 1);
  auto* pow_two = b.node("Pow", {b.init({2.0}, {})});
  (void)pow_two;
  // MatMul (weight stored [in, out]) + Add bias, then a final Softmax (dropped).
  std::vector<double> wt(p[6].weight.size());
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 5; ++i) wt[std::size_t(i) * 3 + o] = p[6].weight[std::size_t(o) * 5 + i];
  b.node("MatMul", {b.init(wt, {5, 3})});
  b.node("Add", {b.init(p[6].bias, {3})});
  b.node("Softmax");
  Model got = import_onnx_bytes(b.bytes(), InputSpec{{1, 1, 1}, 1.0, 0.0});
  EXPECT_EQ(got.input.shape, (Shape{1, 8, 8}));
  ASSERT_EQ(got.layers.size(), want.layers.size());
  std::mt19937_64 rng(2);
  auto x = testing::random_vector(64, rng, 1.0);
  auto a = forward(want, x), c = forward(got, x);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(c[i], a[i], 1e-4 * (1 + std::abs(a[i])));
}

TEST(Onnx, UnsupportedOperatorsAndBadFilesAreClearErrors) {
  if (!onnx_supported()) {
    if (testing::data_required()) FAIL() << "hecnn_model built without ONNX (HECNN_REQUIRE_DATA is set)";
    GTEST_SKIP() << "hecnn_model built without ONNX";
  }
  Builder b(1, 4, 4);
  b.node("Flatten");
  Builder::integer(b.node("Gemm", {b.init(std::vector<double>(32, 0.1), {2, 16})}), "transB", 1);
  b.node("Relu");
  try {
    import_onnx_bytes(b.bytes());
    ADD_FAILURE();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported operator Relu"), std::string::npos) << e.what();
  }
  EXPECT_THROW(import_onnx_bytes("this is not protobuf \x01\x02\xff"), ModelError);
  std::string good;
  {
    Builder ok(1, 4, 4);
    ok.node("Flatten");
    auto* g = ok.node("Gemm", {ok.init(std::vector<double>(32, 0.1), {2, 16})});
    Builder::integer(g, "transB", 1);
    good = ok.bytes();
  }
  EXPECT_EQ(import_onnx_bytes(good).layers.size(), 1u);
  {
    Builder wrong(1, 4, 4);  // Gemm weight read as [in = 2, out = 16]: shape error naming the node
    wrong.node("Flatten");
    wrong.node("Gemm", {wrong.init(std::vector<double>(32, 0.1), {2, 16})});
    try {
      import_onnx_bytes(wrong.bytes());
      ADD_FAILURE();
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find("(Gemm)"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(import_onnx_bytes(good.substr(0, good.size() / 2)), ModelError);
  EXPECT_THROW(import_onnx("/nonexistent/model.onnx"), ModelError);
}

// A node with explicit inputs (for graphs that are not a single chain).
onnx::NodeProto* raw_node(Builder& b, const std::string& op, std::vector<std::string> inputs, const std::string& out) {
  auto* n = b.g->add_node();
  n->set_op_type(op);
  n->set_name(op + "_" + out);
  for (auto& i : inputs) n->add_input(i);
  n->add_output(out);
  b.cur = out;
  return n;
}

void expect_import_error(const std::string& bytes, const std::string& needle) {
  try {
    import_onnx_bytes(bytes);
    ADD_FAILURE() << "imported; expected an error containing '" << needle << "'";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// What PyTorch emits: Pad (pads computed by Concat / Slice / Transpose / Reshape on constants)
// before a Conv, a polynomial written as arithmetic, and x.view(x.size(0), -1) as
// Shape / Gather / Unsqueeze / Concat / Reshape. The import is one Conv (pad folded), one Poly
// and one Dense, and computes what the graph computes.
TEST(Onnx, ExporterPatternsFoldIntoLayers) {
  if (!onnx_supported()) GTEST_SKIP() << "hecnn_model built without ONNX";
  std::mt19937_64 rng(5);
  const std::vector<double> w = f32(testing::random_vector(2 * 9, rng, 0.5));
  const std::vector<double> bias = f32(testing::random_vector(2, rng, 0.1));
  const std::vector<double> dw = f32(testing::random_vector(3 * 72, rng, 0.2));
  const std::vector<double> db = f32(testing::random_vector(3, rng, 0.1));
  Builder b(1, 6, 6);
  // pads [0, 0, 1, 1, 0, 0, 1, 1], computed the way torch's ZeroPad2d export does: a [4, 2]
  // table of (begin, end) per axis, reversed (Slice with step -1), transposed and flattened.
  const std::string table = b.init({1, 1, 1, 1, 0, 0, 0, 0}, {4, 2});
  raw_node(b, "Slice", {table, b.init({-1}, {1}), b.init({-1e18}, {1}), b.init({0}, {1}), b.init({-1}, {1})}, "rev");
  auto* tr = raw_node(b, "Transpose", {"rev"}, "tr");
  Builder::ints(tr, "perm", {1, 0});
  raw_node(b, "Reshape", {"tr", b.init({-1}, {1})}, "pads");
  raw_node(b, "Pad", {"input", "pads"}, "padded");
  raw_node(b, "Conv", {"padded", b.init(w, {2, 1, 3, 3}), b.init(bias, {2})}, "c");
  raw_node(b, "Mul", {"c", b.init({0.5}, {})}, "half");
  raw_node(b, "Mul", {"c", "c"}, "sq");
  raw_node(b, "Mul", {b.init({0.25}, {}), "sq"}, "quarter");
  raw_node(b, "Add", {"half", "quarter"}, "sum");
  raw_node(b, "Add", {"sum", b.init({0.125}, {})}, "act");
  raw_node(b, "Shape", {"act"}, "shape");
  raw_node(b, "Gather", {"shape", b.init({0}, {})}, "n");
  raw_node(b, "Unsqueeze", {"n", b.init({0}, {1})}, "n1");
  raw_node(b, "Concat", {"n1", b.init({-1}, {1})}, "target");
  Builder::integer(b.g->mutable_node(b.g->node_size() - 1), "axis", 0);
  raw_node(b, "Reshape", {"act", "target"}, "flat");
  Builder::integer(raw_node(b, "Gemm", {"flat", b.init(dw, {3, 72}), b.init(db, {3})}, "scores"), "transB", 1);
  b.node("Softmax");
  const Model got = import_onnx_bytes(b.bytes(), InputSpec{{1, 1, 1}, 1.0, 0.0});
  ASSERT_EQ(got.layers.size(), 3u) << describe(got);
  const auto* conv = std::get_if<Conv2d>(&got.layers[0]);
  ASSERT_TRUE(conv);
  EXPECT_EQ(conv->pad_h, 1);
  EXPECT_EQ(conv->pad_w, 1);
  const auto* poly = std::get_if<Poly>(&got.layers[1]);
  ASSERT_TRUE(poly);
  EXPECT_EQ(poly->coeffs, (std::vector<double>{0.125, 0.5, 0.25}));
  EXPECT_EQ(got.meta.activation.function, "custom");
  // Oracle: the graph's arithmetic written out directly.
  Model want;
  want.input = InputSpec{{1, 6, 6}, 1.0, 0.0};
  Conv2d c{1, 2, 3, 3, 1, 1, 1, 1, w, bias};
  want.layers = {c, Poly{{0.125, 0.5, 0.25}}, Dense{72, 3, dw, db}};
  EXPECT_EQ(conv->weight, w);
  EXPECT_EQ(conv->bias, bias);
  EXPECT_EQ(std::get<Dense>(got.layers[2]).weight, dw);
  EXPECT_EQ(std::get<Dense>(got.layers[2]).bias, db);
  auto x = testing::random_vector(36, rng, 1.0);
  auto a = forward(want, x), r = forward(got, x);
  ASSERT_EQ(a.size(), r.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_DOUBLE_EQ(r[i], a[i]);
}

// Keras / tf2onnx layout: an N, H, W, C input transposed to N, C, H, W, and transposed back
// before flattening into the dense layer. Oracle: the graph's arithmetic in N, H, W, C written
// out with loops (not nn::forward); hecnn's model file takes the input as C, H, W.
TEST(Onnx, KerasChannelsLastLayoutIsTransposedAway) {
  if (!onnx_supported()) GTEST_SKIP() << "hecnn_model built without ONNX";
  const int H = 6, W = 5, C = 2, O = 3, K = 4;
  std::mt19937_64 rng(9);
  const auto cw = f32(testing::random_vector(std::size_t(O) * C * 9, rng, 0.5)), cb = f32(testing::random_vector(O, rng, 0.1));
  const auto dw = f32(testing::random_vector(std::size_t(H) * W * O * K, rng, 0.2)), db = f32(testing::random_vector(K, rng, 0.1));
  Builder b(H, W, C);  // declared [1, H, W, C]
  Builder::ints(raw_node(b, "Transpose", {"input"}, "nchw"), "perm", {0, 3, 1, 2});
  Builder::ints(raw_node(b, "Conv", {"nchw", b.init(cw, {O, C, 3, 3}), b.init(cb, {O})}, "conv"), "pads", {1, 1, 1, 1});
  raw_node(b, "Mul", {"conv", "conv"}, "sq");
  Builder::ints(raw_node(b, "Transpose", {"sq"}, "nhwc"), "perm", {0, 2, 3, 1});
  raw_node(b, "Reshape", {"nhwc", b.init({-1, double(H * W * O)}, {2})}, "flat");
  raw_node(b, "MatMul", {"flat", b.init(dw, {H * W * O, K})}, "mm");
  raw_node(b, "Add", {"mm", b.init(db, {K})}, "scores");
  const Model got = import_onnx_bytes(b.bytes(), InputSpec{{1, 1, 1}, 1.0, 0.0});
  EXPECT_EQ(got.input.shape, (Shape{C, H, W}));
  const auto x = testing::random_vector(std::size_t(H) * W * C, rng, 1.0);  // x[h][w][c]
  auto at = [&](int h, int w, int c) { return (h < 0 || h >= H || w < 0 || w >= W) ? 0.0 : x[(std::size_t(h) * W + w) * C + c]; };
  std::vector<double> flat(std::size_t(H) * W * O);
  for (int h = 0; h < H; ++h)
    for (int w = 0; w < W; ++w)
      for (int o = 0; o < O; ++o) {
        double s = cb[std::size_t(o)];
        for (int c = 0; c < C; ++c)
          for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) s += cw[((std::size_t(o) * C + c) * 3 + i) * 3 + j] * at(h + i - 1, w + j - 1, c);
        flat[(std::size_t(h) * W + w) * O + o] = s * s;
      }
  std::vector<double> want(K);
  for (int k = 0; k < K; ++k) {
    want[std::size_t(k)] = db[std::size_t(k)];
    for (std::size_t j = 0; j < flat.size(); ++j) want[std::size_t(k)] += flat[j] * dw[j * K + std::size_t(k)];
  }
  std::vector<double> chw(x.size());
  for (int c = 0; c < C; ++c)
    for (int h = 0; h < H; ++h)
      for (int w = 0; w < W; ++w) chw[(std::size_t(c) * H + h) * W + w] = x[(std::size_t(h) * W + w) * C + c];
  const auto r = forward(got, chw);
  ASSERT_EQ(r.size(), want.size());
  for (int k = 0; k < K; ++k) EXPECT_NEAR(r[std::size_t(k)], want[std::size_t(k)], 1e-12 * (1 + std::abs(want[std::size_t(k)])));
  // A Transpose that leaves the graph in N, H, W, C, and one with another permutation: refused.
  Builder e(H, W, C);
  Builder::ints(raw_node(e, "Transpose", {"input"}, "t"), "perm", {0, 1, 3, 2});
  expect_import_error(e.bytes(), "only N, H, W, C <-> N, C, H, W transposes");
}

TEST(Onnx, GraphsOutsideTheLayerSetNameTheNode) {
  if (!onnx_supported()) GTEST_SKIP() << "hecnn_model built without ONNX";
  const std::vector<double> w(9, 0.1), w2(9, 0.2);
  {  // residual connection
    Builder b(1, 6, 6);
    raw_node(b, "Conv", {"input", b.init(w, {1, 1, 3, 3})}, "c1");
    raw_node(b, "Mul", {"c1", "c1"}, "a1");
    auto* c2 = raw_node(b, "Conv", {"a1", b.init(w2, {1, 1, 3, 3})}, "c2");
    Builder::ints(c2, "pads", {1, 1, 1, 1});
    raw_node(b, "Add", {"c2", "c1"}, "res");
    expect_import_error(b.bytes(), "branches are not supported");
  }
  {  // a Pad that no Conv or pooling consumes
    Builder b(1, 6, 6);
    raw_node(b, "Pad", {"input", b.init({0, 0, 1, 1, 0, 0, 1, 1}, {8})}, "p");
    raw_node(b, "Mul", {"p", "p"}, "sq");
    raw_node(b, "Flatten", {"sq"}, "f");
    expect_import_error(b.bytes(), "Pad is only supported directly before Conv or AveragePool");
  }
  {  // reflect padding
    Builder b(1, 6, 6);
    auto* p = raw_node(b, "Pad", {"input", b.init({0, 0, 1, 1, 0, 0, 1, 1}, {8})}, "p");
    auto* a = p->add_attribute();
    a->set_name("mode");
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s("reflect");
    raw_node(b, "Conv", {"p", b.init(w, {1, 1, 3, 3})}, "c");
    expect_import_error(b.bytes(), "only constant (zero) padding");
  }
  {  // a non-integer power
    Builder b(1, 6, 6);
    raw_node(b, "Pow", {"input", b.init({2.5}, {})}, "p");
    expect_import_error(b.bytes(), "(Pow): only a constant integer exponent");
  }
  {  // division by the image
    Builder b(1, 6, 6);
    raw_node(b, "Div", {b.init({1.0}, {}), "input"}, "d");
    expect_import_error(b.bytes(), "not a polynomial");
  }
  {  // reshape that moves the batch axis
    Builder b(1, 6, 6);
    raw_node(b, "Reshape", {"input", b.init({36, -1}, {2})}, "r");
    expect_import_error(b.bytes(), "(Reshape)");
  }
  {  // an input that nothing produced
    Builder b(1, 6, 6);
    raw_node(b, "Mul", {"input", "ghost"}, "m");
    expect_import_error(b.bytes(), "input ghost is not produced by an earlier node");
  }
}

#endif

// CI (HECNN_REQUIRE_DATA) runs the importer tests or fails: neither the headers nor the
// library may be missing silently.
TEST(Onnx, ImporterTestsAreBuiltWhereRequired) {
  if (!testing::data_required()) GTEST_SKIP() << "only checked under HECNN_REQUIRE_DATA";
  EXPECT_TRUE(HECNN_TEST_ONNX) << "the ONNX headers were missing: the importer tests compiled out";
  EXPECT_TRUE(onnx_supported()) << "hecnn_model was built without ONNX";
}

TEST(Onnx, DisabledBuildSaysSo) {
  if (onnx_supported()) GTEST_SKIP() << "ONNX support is built in";
  EXPECT_THROW(import_onnx_bytes(""), ModelError);
}

}  // namespace
}  // namespace hecnn::nn
