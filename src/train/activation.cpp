#include "train/activation.h"

#include <sstream>
#include <stdexcept>

namespace hecnn::train {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

double number(const std::string& s) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != s.size()) throw std::invalid_argument("\"" + s + "\" is not a number");
  return v;
}

}  // namespace

std::string ActivationSpec::label() const {
  if (kind == "square") return "x^2";
  if (kind != "poly") return kind;
  std::ostringstream os;
  os << info.function << "~" << info.method << "(" << info.degree << ")";
  if (info.lo != info.hi) os << "[" << info.lo << "," << info.hi << "]";
  return os.str();
}

ActivationSpec parse_activation(const std::string& text) {
  ActivationSpec a;
  if (text == "square" || text == "x2" || text == "x^2") return a;
  if (text == "relu" || text == "sigmoid" || text == "tanh") {
    a.kind = text;
    a.coeffs.clear();
    a.info = {text, "exact", 0, 0, 0};
    return a;
  }
  const std::string usage =
      "activation \"" + text +
      "\": expected square, relu, sigmoid, tanh, poly:FUNC:METHOD:DEGREE:LO:HI or coeffs:C0,C1,...";
  if (text.rfind("coeffs:", 0) == 0) {
    a.kind = "poly";
    a.coeffs.clear();
    for (const auto& c : split(text.substr(7), ',')) a.coeffs.push_back(number(c));
    if (a.coeffs.empty() || a.coeffs.size() > 17) throw std::invalid_argument(usage);
    a.info = {"custom", "given", int(a.coeffs.size()) - 1, 0, 0};
    return a;
  }
  auto parts = split(text, ':');
  if (parts.size() != 6 || parts[0] != "poly") throw std::invalid_argument(usage);
  try {
    auto f = nn::parse_function(parts[1]);
    auto m = nn::parse_method(parts[2]);
    const int degree = int(number(parts[3]));
    const double lo = number(parts[4]), hi = number(parts[5]);
    auto ap = nn::approximate(f, m, degree, lo, hi);
    a.kind = "poly";
    a.coeffs = ap.coeffs;
    a.info = {nn::function_name(f), nn::method_name(m), degree, lo, hi};
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(usage + " (" + e.what() + ")");
  }
  return a;
}

}  // namespace hecnn::train
