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
std::vector<double> f32(std::vector<double> v) {
  for (double& x : v) x = double(float(x));
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
