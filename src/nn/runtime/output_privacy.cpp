#include "nn/runtime/output_privacy.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "math/parallel.h"

namespace hecnn::nn::runtime {

std::vector<std::vector<double>> combine_float(const compiler::Program& prog, const std::vector<std::vector<double>>& member_logits) {
  std::vector<std::vector<double>> val(prog.instrs.size());
  for (const auto& o : prog.outputs)
    if (o.member >= 0) val.at(std::size_t(o.tensor)) = member_logits.at(std::size_t(o.member));
  const bool ckks = prog.scheme == compiler::Scheme::ckks;
  for (std::size_t t = 0; t < prog.instrs.size(); ++t) {
    const auto& ins = prog.instrs[t];
    if (!val[t].empty() || ins.op == compiler::OpKind::input) continue;
    bool ready = !ins.inputs.empty();
    for (int u : ins.inputs) ready = ready && !val[std::size_t(u)].empty();
    if (!ready) {
      if (ins.member < 0) throw std::logic_error("float reference: combiner instruction " + ins.label + " reads a tensor of no member output");
      continue;
    }
    if (ins.member >= 0 && ins.op != compiler::OpKind::relinearize && ins.op != compiler::OpKind::mod_switch) continue;
    const auto& a = val[std::size_t(ins.inputs[0])];
    std::vector<double> y(ins.size, 0.0);
    switch (ins.op) {
      case compiler::OpKind::linear:
        for (std::size_t o = 0; o < ins.size; ++o) {
          double acc = 0;
          for (const auto& term : ins.rows[o]) {
            const int u = ins.inputs[std::size_t(term.input)];
            acc += term.real * val[std::size_t(u)][std::size_t(term.index)] * (ckks ? 1.0 : prog.instrs[std::size_t(u)].scale);
          }
          y[o] = ckks ? acc + (ins.bias_real.empty() ? 0.0 : ins.bias_real[o])
                      : (acc + (ins.bias.empty() ? 0.0 : double(ins.bias[o]))) / ins.scale;
        }
        break;
      case compiler::OpKind::square:
        for (std::size_t i = 0; i < ins.size; ++i) y[i] = a[i] * a[i];
        break;
      case compiler::OpKind::multiply:
        for (std::size_t i = 0; i < ins.size; ++i) y[i] = a[i] * val[std::size_t(ins.inputs.at(1))][i];
        break;
      default:
        y = a;
    }
    val[t] = std::move(y);
  }
  std::vector<std::vector<double>> out;
  for (const auto& o : prog.outputs)
    if (!o.combiner.empty()) out.push_back(val.at(std::size_t(o.tensor)));
  return out;
}

std::map<compiler::Combiner, double> measure_sensitivity(const compiler::Program& prog, const MemberLogits& v,
                                                         const std::string& mechanism) {
  if (mechanism != "laplace" && mechanism != "gaussian")
    throw std::invalid_argument("differential privacy: unknown mechanism '" + mechanism + "' (laplace, gaussian)");
  const std::size_t M = v.members, C = v.classes;
  if (std::size_t(prog.members) != M) throw std::invalid_argument("measure_sensitivity: the logits are not the plan's members'");
  const std::vector<std::vector<double>> zero(M, std::vector<double>(C, 0.0));
  const auto base = combine_float(prog, zero);
  std::vector<std::size_t> outs;
  for (std::size_t k = 0; k < prog.outputs.size(); ++k)
    if (!prog.outputs[k].combiner.empty()) outs.push_back(k);
  // contrib[output][member][image * C + class]: member i's contribution.
  std::vector<std::vector<std::vector<double>>> contrib(outs.size(), std::vector<std::vector<double>>(M, std::vector<double>(v.images * C)));
  for (std::size_t n = 0; n < v.images; ++n)
    for (std::size_t i = 0; i < M; ++i) {
      auto z = zero;
      for (std::size_t c = 0; c < C; ++c) z[i][c] = v.at(n, i, c);
      const auto y = combine_float(prog, z);
      for (std::size_t k = 0; k < outs.size(); ++k)
        for (std::size_t c = 0; c < C; ++c) contrib[k][i][n * C + c] = y[k][c] - base[k][c];
    }
  // The diameter over pairs of validation images (images^2 / 2 distances per member).
  const bool l1 = mechanism == "laplace";
  std::map<compiler::Combiner, double> s;
  for (std::size_t k = 0; k < outs.size(); ++k) {
    double worst = 0;
    for (std::size_t i = 0; i < M; ++i) {
      const auto& f = contrib[k][i];
      std::vector<double> best(v.images, 0.0);
      math::parallel_for(v.images, [&](std::size_t n) {
        double d_max = 0;
        for (std::size_t m = n + 1; m < v.images; ++m) {
          double d = 0;
          for (std::size_t c = 0; c < C; ++c) {
            const double x = f[n * C + c] - f[m * C + c];
            d += l1 ? std::fabs(x) : x * x;
          }
          d_max = std::max(d_max, d);
        }
        best[n] = d_max;
      });
      const double d = *std::max_element(best.begin(), best.end());
      worst = std::max(worst, l1 ? d : std::sqrt(d));
    }
    s[compiler::parse_combiner(prog.outputs[outs[k]].combiner)] = worst;
  }
  return s;
}

namespace {
// Uniform in (0, 1): 53 random bits, never 0 or 1.
double open_uniform(math::Prng& prng) { return (double(prng.next_u64() >> 11) + 0.5) * 0x1p-53; }
}  // namespace

std::vector<double> sample_noise(const compiler::OutputPrivacy& p, const compiler::Output& o, std::size_t count, math::Prng& prng) {
  if (!(o.dp_noise_scale > 0) || !(o.dp_noise_bound > 0)) throw std::invalid_argument("output " + o.name + " has no noise parameters");
  std::vector<double> out(count);
  const double b = o.dp_noise_scale;
  for (auto& x : out) {
    do {
      if (p.mechanism == "laplace") {
        const double u = open_uniform(prng) - 0.5;  // (-1/2, 1/2)
        x = -b * std::copysign(1.0, u) * std::log(1 - 2 * std::fabs(u));
      } else if (p.mechanism == "gaussian") {
        const double u1 = open_uniform(prng), u2 = open_uniform(prng);
        x = b * std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
      } else {
        throw std::invalid_argument("unknown privacy mechanism '" + p.mechanism + "'");
      }
    } while (std::fabs(x) > o.dp_noise_bound);
  }
  return out;
}

}  // namespace hecnn::nn::runtime
