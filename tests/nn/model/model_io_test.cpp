#include "nn/model/model_io.h"

#include "nn/model/arch.h"
#include "nn/model/forward.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <random>

namespace hecnn::nn {
namespace {

Model sample_model() {
  ArchSpec spec = builtin_arch("tenseal2");
  Model m = export_model(spec, testing::random_params(spec, 7), {0.1, 0.5, 0.25}, InputSpec{{1, 28, 28}, 1 / 255.0, -0.5});
  m.meta.name = "round-trip";
  m.meta.dataset = "mnist";
  m.meta.activation = {"relu", "derivative", 2, -4, 4};
  m.meta.split = {"regular", 3, 0.8, 1, 3, "012|345|6789", 42};
  m.meta.training = {5, 64, 1e-3, "adam", 9, 12.5, 2, 20000};
  m.meta.test_accuracy = 0.9876;
  m.meta.test_samples = 10000;
  return m;
}

// A (patched) file with its checksum recomputed, so that the structural checks behind
// the checksum are reached (a forger can compute the checksum too).
std::string resealed(const std::string& file) { return with_model_checksum(std::string_view(file).substr(0, file.size() - 32)); }

void expect_same(const Model& a, const Model& b, double tol) {
  ASSERT_EQ(a.layers.size(), b.layers.size());
  std::vector<std::uint8_t> img(28 * 28);
  for (std::size_t i = 0; i < img.size(); ++i) img[i] = std::uint8_t(i * 37 % 256);
  auto ya = forward(a, prepare_input(a, img));
  auto yb = forward(b, prepare_input(b, img));
  ASSERT_EQ(ya.size(), yb.size());
  for (std::size_t i = 0; i < ya.size(); ++i) EXPECT_NEAR(ya[i], yb[i], tol * (1 + std::abs(ya[i])));
}

TEST(ModelIo, RoundTripF64IsExact) {
  Model m = sample_model();
  Model r = parse_model(serialize_model(m, DType::f64));
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    if (auto* c = std::get_if<Conv2d>(&m.layers[i])) {
      EXPECT_EQ(c->weight, std::get<Conv2d>(r.layers[i]).weight);
    }
    if (auto* d = std::get_if<Dense>(&m.layers[i])) {
      EXPECT_EQ(d->weight, std::get<Dense>(r.layers[i]).weight);
    }
    if (auto* p = std::get_if<Poly>(&m.layers[i])) {
      EXPECT_EQ(p->coeffs, std::get<Poly>(r.layers[i]).coeffs);
    }
  }
  EXPECT_EQ(r.meta.name, "round-trip");
  EXPECT_EQ(r.meta.architecture, "tenseal2");
  EXPECT_EQ(r.meta.split.groups, "012|345|6789");
  EXPECT_EQ(r.meta.split.seed, 42u);
  EXPECT_EQ(r.meta.activation.method, "derivative");
  EXPECT_DOUBLE_EQ(r.meta.test_accuracy, 0.9876);
  EXPECT_EQ(r.meta.training.train_samples, 20000);
  EXPECT_DOUBLE_EQ(r.input.offset, -0.5);
  expect_same(m, r, 0);
}

TEST(ModelIo, RoundTripF32WithinFloatPrecision) {
  Model m = sample_model();
  std::string bytes = serialize_model(m, DType::f32);
  EXPECT_LT(bytes.size(), serialize_model(m, DType::f64).size());
  expect_same(m, parse_model(bytes), 1e-5);
}

TEST(ModelIo, FileRoundTrip) {
  auto dir = testing::temp_dir("io");
  Model m = sample_model();
  write_model(m, (dir / "m.hecnn").string());
  expect_same(m, read_model((dir / "m.hecnn").string()), 1e-5);
  EXPECT_THROW(read_model((dir / "missing.hecnn").string()), ModelError);
  std::filesystem::remove_all(dir);
}

TEST(ModelIo, EveryTruncationIsAClearError) {
  std::string bytes = serialize_model(sample_model());
  for (std::size_t cut = 0; cut < bytes.size(); cut += (cut < 4096 ? 1 : 997)) {
    try {
      parse_model(std::string_view(bytes).substr(0, cut));
      ADD_FAILURE() << "no error at cut " << cut;
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find("model file"), std::string::npos);
    }
  }
}

TEST(ModelIo, CorruptHeadersAreRejected) {
  const std::string good = serialize_model(sample_model());
  auto expect_error = [](std::string bytes, const char* needle) {
    try {
      parse_model(bytes);
      ADD_FAILURE() << "accepted; expected: " << needle;
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  std::string b = good;
  b[0] = 'X';
  expect_error(resealed(b), "bad magic");
  b = good;
  b[8] = 3;
  expect_error(resealed(b), "unsupported format version 3");
  b = good;
  b[12] = b[13] = b[14] = char(0xff);
  b[15] = 0x7f;
  expect_error(resealed(b), "header length");
  expect_error(with_model_checksum(good.substr(0, good.size() - 32) + "extra!!!"), "data section has");
  b = good;
  b[good.size() / 2] ^= 1;
  expect_error(b, "checksum mismatch");
  // A shape that claims far more data than present must not allocate it.
  b = good;
  auto pos = b.find("\"out_features\": 64");
  ASSERT_NE(pos, std::string::npos);
  b.replace(pos, 18, "\"out_features\": 65");
  expect_error(resealed(b), "");
  // Unknown layer type.
  b = good;
  pos = b.find("\"sum_pool\"");
  ASSERT_NE(pos, std::string::npos);
  b.replace(pos, 10, "\"max_pool\"");
  expect_error(resealed(b), "unknown layer type \"max_pool\"");
}

TEST(ModelIo, DeepNestingAndGarbageJson) {
  auto make = [](const std::string& header) {
    std::string out = "HECNNMDL";
    std::uint32_t v = 1, n = std::uint32_t(header.size());
    out.append(reinterpret_cast<const char*>(&v), 4);
    out.append(reinterpret_cast<const char*>(&n), 4);
    return out + header;
  };
  EXPECT_THROW(parse_model(make(std::string(100000, '['))), ModelError);
  EXPECT_THROW(parse_model(make("{not json")), ModelError);
  EXPECT_THROW(parse_model(make("[1,2,3]")), ModelError);
  EXPECT_THROW(parse_model(make("{\"format\":\"hecnn-model\",\"version\":1}")), ModelError);
}

TEST(ModelIo, HostileTensorOffsetAndShape) {
  Model m;
  m.input.shape = {1, 2, 2};
  m.layers.push_back(Dense{4, 2, std::vector<double>(8, 0.5), {0, 1}});
  std::string good = serialize_model(m, DType::f64);
  std::string b = good;
  auto pos = b.find("\"offset\": 64");  // the bias tensor
  ASSERT_NE(pos, std::string::npos) << b.substr(16, 800);
  b.replace(pos, 12, "\"offset\": 99");
  EXPECT_THROW(parse_model(resealed(b)), ModelError);  // misaligned
  b = good;
  b.replace(pos, 12, "\"offset\": 72");
  EXPECT_THROW(parse_model(resealed(b)), ModelError);  // past the end
}

TEST(ModelIo, RandomByteFlipsNeverCrash) {
  // Every mutation must give either a valid model or a ModelError (run under ASan/UBSan in CI).
  const std::string good = serialize_model(sample_model());
  std::mt19937_64 rng(99);
  int errors = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::string b = good;
    const int flips = 1 + int(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      // Mostly the header (where the structure is), sometimes the data.
      const std::size_t at = rng() % 4 ? 16 + rng() % 3000 : rng() % b.size();
      b[at % b.size()] = char(rng());
    }
    try {
      Model m = parse_model(resealed(b));
      validate(m);
    } catch (const ModelError&) {
      ++errors;
    }
    // Without resealing, the checksum names every change.
    if (b != good) {
      try {
        parse_model(b);
        ADD_FAILURE() << "a modified file was accepted";
      } catch (const ModelError& e) {
        if (b.compare(0, 12, good, 0, 12) == 0) {
          EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos) << e.what();
        }
      }
    }
  }
  EXPECT_GT(errors, 100);
}

TEST(ModelIo, VersionOneFilesWithoutChecksumStillRead) {
  // A version-1 file is a version-2 file without the checksum and with version 1.
  const std::string v2 = serialize_model(sample_model());
  std::string v1 = v2.substr(0, v2.size() - 32);
  v1[8] = 1;
  const auto pos = v1.find("\"version\": 2");
  ASSERT_NE(pos, std::string::npos);
  v1.replace(pos, 12, "\"version\": 1");
  expect_same(sample_model(), parse_model(v1), 1e-5);
}

TEST(ModelIo, ControlCharactersInNamesAreReplaced) {
  Model m = sample_model();
  m.meta.name = "evil\x1b[2J\x07name\xc2\x9b!";
  const Model r = parse_model(serialize_model(m));
  EXPECT_EQ(r.meta.name, "evil?[2J?name?!");
}

TEST(ModelIo, UnreadableModelsAreNeverWritten) {
  auto dir = testing::temp_dir("io-refuse");
  const std::string path = (dir / "m.hecnn").string();
  write_model(sample_model(), path);
  const std::string before = read_file_bounded(path, 1 << 24);
  Model bad = sample_model();
  bad.input.scale = std::numeric_limits<double>::infinity();
  EXPECT_THROW(write_model(bad, path), ModelError);
  EXPECT_EQ(read_file_bounded(path, 1 << 24), before);  // the file already there is intact
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove_all(dir);
}

TEST(Model, ValidateCatchesInconsistentLayers) {
  Model m;
  m.input.shape = {1, 4, 4};
  m.layers.push_back(Dense{15, 2, std::vector<double>(30), {0, 0}});
  EXPECT_THROW(validate(m), ModelError);
  m.layers[0] = Conv2d{2, 1, 3, 3, 1, 1, 0, 0, std::vector<double>(18), {0}};
  EXPECT_THROW(validate(m), ModelError);  // 2 input channels expected
  m.layers[0] = Conv2d{1, 1, 3, 3, 0, 1, 0, 0, std::vector<double>(9), {0}};
  EXPECT_THROW(validate(m), ModelError);  // stride 0
  m.layers[0] = Poly{{}};
  EXPECT_THROW(validate(m), ModelError);
}

}  // namespace
}  // namespace hecnn::nn
