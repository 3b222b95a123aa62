// Test helpers: node-seal oracle (tests/fhe/wire/js/oracle.js), fixture cache,
// file I/O. Tests that need node call HECNN_REQUIRE_ORACLE() first; it skips
// with the reason when node or node-seal is missing.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace hecnn::wire::testing {

namespace fs = std::filesystem;

inline fs::path js_dir() { return fs::path(__FILE__).parent_path() / "js"; }

inline std::vector<std::uint8_t> read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + p.string());
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline void write_file(const fs::path& p, const std::vector<std::uint8_t>& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

struct OracleResult {
  int status = -1;
  std::string out;
  nlohmann::json json;
};

inline OracleResult run_oracle(const std::vector<std::string>& args) {
  std::string cmd = "node " + shell_quote((js_dir() / "oracle.js").string());
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " 2>&1";
  OracleResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 65536> buf;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  r.status = pclose(p);
  // The oracle prints its JSON result as the last line.
  std::size_t end = r.out.find_last_not_of('\n');
  if (end != std::string::npos) {
    const std::size_t start = r.out.rfind('\n', end);
    r.json = nlohmann::json::parse(r.out.substr(start == std::string::npos ? 0 : start + 1), nullptr, false);
    if (!r.json.is_object()) r.json = nlohmann::json::object();
  } else {
    r.json = nlohmann::json::object();
  }
  return r;
}

// Empty when node and node-seal are usable, else the reason.
inline const std::string& oracle_missing() {
  static const std::string why = [] {
    if (std::system("node --version > /dev/null 2>&1") != 0) return std::string("node is not installed");
    if (!fs::exists(js_dir() / "node_modules" / "node-seal" / "package.json")) {
      return "node-seal is not installed in " + (js_dir() / "node_modules").string() +
             " (run scripts/setup.d/wire.sh)";
    }
    return std::string();
  }();
  return why;
}

#define HECNN_REQUIRE_ORACLE()                                                            \
  do {                                                                                    \
    if (!::hecnn::wire::testing::oracle_missing().empty())                                \
      GTEST_SKIP() << "node-seal oracle unavailable: " << ::hecnn::wire::testing::oracle_missing(); \
  } while (0)

// node-seal fixtures for a configuration ("--scheme bfv --n 4096 ..."),
// generated at test time once per configuration and oracle version and shared
// by the test processes of one run (each ctest test is its own process).
inline fs::path fixtures(const std::vector<std::string>& config) {
  std::string key;
  for (const auto& c : config) key += c + " ";
  // The cache key covers the oracle script and the installed node-seal version.
  auto oracle = read_file(js_dir() / "oracle.js");
  const auto pkg = read_file(js_dir() / "node_modules" / "node-seal" / "package.json");
  oracle.insert(oracle.end(), pkg.begin(), pkg.end());
  key += std::to_string(std::hash<std::string>{}(std::string(oracle.begin(), oracle.end())));
  const fs::path root = fs::temp_directory_path() / ("hecnn-wire-fixtures-" + std::to_string(getuid()));
  const fs::path dir = root / std::to_string(std::hash<std::string>{}(key));
  if (fs::exists(dir / "manifest.json")) return dir;
  fs::create_directories(root);
  const fs::path tmp = root / ("tmp-" + std::to_string(getpid()));
  fs::remove_all(tmp);
  std::vector<std::string> args{"gen", "--out", tmp.string()};
  args.insert(args.end(), config.begin(), config.end());
  const auto r = run_oracle(args);
  if (r.status != 0) throw std::runtime_error("oracle gen failed: " + r.out);
  std::error_code ec;
  fs::rename(tmp, dir, ec);  // another process may have won the race
  if (ec) fs::remove_all(tmp);
  return dir;
}

inline nlohmann::json manifest(const fs::path& dir) {
  std::ifstream f(dir / "manifest.json");
  return nlohmann::json::parse(f);
}

// A per-process scratch folder, removed when the process exits.
inline fs::path scratch_dir() {
  struct Scratch {
    fs::path path = fs::temp_directory_path() / ("hecnn-wire-scratch-" + std::to_string(getpid()));
    Scratch() { fs::create_directories(path); }
    ~Scratch() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  };
  static const Scratch s;
  return s.path;
}

// Writes each item to the scratch folder and has node-seal decrypt them all in one process
// (each node start costs ~1 s), with the fixture folder's secret key or `sk`. One JSON per
// item (empty objects where node failed, with a test failure).
inline std::vector<nlohmann::json> node_decrypt_many(const fs::path& dir,
                                                     const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& items,
                                                     const std::string& sk = "") {
  std::string list;
  for (const auto& [name, bytes] : items) {
    const auto p = scratch_dir() / name;
    write_file(p, bytes);
    list += (list.empty() ? "" : ",") + p.string();
  }
  std::vector<std::string> args{"decryptmany", "--dir", dir.string(), "--files", list};
  if (!sk.empty()) args.insert(args.end(), {"--sk", sk});
  const auto r = run_oracle(args);
  EXPECT_TRUE(r.json.value("ok", false)) << r.out;
  std::vector<nlohmann::json> out;
  if (r.json.contains("results")) out = r.json["results"].get<std::vector<nlohmann::json>>();
  out.resize(items.size(), nlohmann::json::object());
  return out;
}

// The batch slot matrix 2 x N/2 (BFV, BGV): both rows rotated left by `step`.
inline std::vector<std::uint64_t> rotate_rows(const std::vector<std::uint64_t>& v, int step) {
  const std::size_t h = v.size() / 2;
  std::vector<std::uint64_t> out(v.size());
  for (std::size_t r = 0; r < 2; ++r)
    for (std::size_t i = 0; i < h; ++i) out[r * h + i] = v[r * h + (i + h + step) % h];
  return out;
}

}  // namespace hecnn::wire::testing
