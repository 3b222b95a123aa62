// Entry point of `hecnn` and `hecnn-train` (apps/CMakeLists.txt): dispatches to the
// registered subcommands. `hecnn` hands the training subcommands (libtorch) to the
// `hecnn-train` program beside it, so that nothing else loads libtorch.
#include "hecnn/command.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace hecnn::app {

static std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}

bool register_command(Command command) {
  registry().push_back(std::move(command));
  return true;
}

const std::vector<Command>& commands() { return registry(); }

}  // namespace hecnn::app

namespace {

#if HECNN_MAIN_PROGRAM && HECNN_HAS_TRAIN
struct Delegated {
  const char* name;
  const char* summary;
};
// Registered by cmd_train*.cpp in hecnn-train; listed here so `hecnn --help` shows them.
constexpr Delegated kTrainCommands[] = {
    {"train", "Train an HE-friendly CNN (libtorch) and write a model file"},
    {"report-approx", "Reproduce CryptoDL Tables 1-2 (approximation methods; ReLU/Sigmoid/Tanh vs polynomials)"},
    {"report-splits", "Train 3 members per skewed split and setting; report member and ensemble accuracy"},
};

// Replaces this process by hecnn-train (same directory as this program) with the same arguments.
int exec_train(int argc, char** argv) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string path = ((ec ? std::filesystem::path(argv[0]) : self).parent_path() / "hecnn-train").string();
  std::vector<char*> args(argv, argv + argc);
  args[0] = const_cast<char*>(path.c_str());
  args.push_back(nullptr);
  ::execv(path.c_str(), args.data());
  std::fprintf(stderr, "hecnn %s: error: cannot run the training program %s: %s\n", argv[1], path.c_str(), std::strerror(errno));
  return 1;
}
#endif

// `s` for a terminal: control characters (ANSI escapes included) and bytes >= 0x7f shown as
// \xNN, at most 64 characters.
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 64)) {
    if (c < 0x20 || c >= 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else {
      out += char(c);
    }
  }
  if (s.size() > 64) out += "...";
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> d(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) d[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t prev = d[0];
    d[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cur = d[j];
      d[j] = std::min({d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
      prev = cur;
    }
  }
  return d[b.size()];
}

}  // namespace

int main(int argc, char** argv) {
#if HECNN_MAIN_PROGRAM && HECNN_HAS_TRAIN
  if (argc >= 2)
    for (const auto& d : kTrainCommands)
      if (std::string_view(argv[1]) == d.name) return exec_train(argc, argv);
#endif
  CLI::App app{"hecnn: private CNN inference over homomorphic encryption (BFV, CKKS)", "hecnn"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "hecnn 0.1.0");
  auto cmds = hecnn::app::commands();
  std::sort(cmds.begin(), cmds.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  // An unknown subcommand is named (CLI11 would only say that one is required).
  if (argc >= 2 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const auto& c : cmds) names.push_back(c.name);
#if HECNN_MAIN_PROGRAM && HECNN_HAS_TRAIN
    for (const auto& d : kTrainCommands) names.push_back(d.name);
#endif
    const std::string_view given(argv[1]);
    if (std::find(names.begin(), names.end(), given) == names.end()) {
      std::string best;
      std::size_t best_d = 3;  // suggest only close names
      for (const auto& n : names) {
        const std::size_t d = edit_distance(given, n);
        if (d < best_d) best_d = d, best = n;
      }
      std::fprintf(stderr, "hecnn: error: unknown command '%s'%s; `hecnn --help` lists the commands\n", printable(given).c_str(),
                   best.empty() ? "" : (" (did you mean '" + best + "'?)").c_str());
      return 2;
    }
  }
  for (const auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    c.setup(*sub);
  }
#if HECNN_MAIN_PROGRAM && HECNN_HAS_TRAIN
  for (const auto& d : kTrainCommands) app.add_subcommand(d.name, std::string(d.summary) + " [runs hecnn-train]");
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::string which = app.get_subcommands().empty() ? "" : app.get_subcommands()[0]->get_name();
    std::fprintf(stderr, "hecnn %s: error: %s\n", which.c_str(), e.what());
    return 1;
  }
  return 0;
}
