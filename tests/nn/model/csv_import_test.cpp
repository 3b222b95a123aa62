#include "nn/model/csv_import.h"

#include "nn/model/forward.h"
#include "nn/model/model_io.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <fstream>

namespace hecnn::nn {
namespace {

TEST(Csv, ParseNumbersAndErrors) {
  auto rows = parse_csv("# header\n1, 2.5,-3e-2\n+4,5,6\r\n\n", "t.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows[0][2], -0.03);
  EXPECT_DOUBLE_EQ(rows[1][0], 4);
  auto msg = [](const char* text) {
    try {
      parse_csv(text, "t.csv");
    } catch (const ModelError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(msg("1,2\n3\n").find("t.csv line 2"), std::string::npos);
  EXPECT_NE(msg("1,abc\n").find("not a finite number"), std::string::npos);
  EXPECT_NE(msg("1,,2\n").find("not a finite number"), std::string::npos);
  EXPECT_NE(msg("1,nan\n").find("not a finite number"), std::string::npos);
}

TEST(Csv, CryptonetsRoundTripThroughCsv) {
  const ArchSpec spec = builtin_arch("cryptonets");
  Model m = export_model(spec, testing::random_params(spec, 5), {0, 0, 1}, InputSpec{});
  auto dir = testing::temp_dir("csv");
  auto files = export_csv(m, dir.string());
  ASSERT_EQ(files.size(), 3u);
  Model r = import_csv(spec, files, {0, 0, 1}, InputSpec{});
  std::vector<std::uint8_t> img(784);
  for (std::size_t i = 0; i < img.size(); ++i) img[i] = std::uint8_t(i % 200);
  auto a = forward(m, prepare_input(m, img)), b = forward(r, prepare_input(r, img));
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_DOUBLE_EQ(a[i], b[i]);
  // Wrong file count, wrong row length.
  EXPECT_THROW(import_csv(spec, {files[0], files[1]}, {0, 0, 1}, InputSpec{}), ModelError);
  EXPECT_THROW(import_csv(spec, {files[1], files[0], files[2]}, {0, 0, 1}, InputSpec{}), ModelError);
  std::ofstream(dir / "short.csv") << "1,2,3\n";
  EXPECT_THROW(import_csv(spec, {(dir / "short.csv").string(), files[1], files[2]}, {0, 0, 1}, InputSpec{}),
               ModelError);
  EXPECT_THROW(import_csv(builtin_arch("cryptodl1"), files, {0, 0, 1}, InputSpec{}), ModelError);  // has bn
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hecnn::nn
