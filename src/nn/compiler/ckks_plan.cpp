#include "nn/compiler/ckks_plan.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "fhe/rlwe/params.h"
#include "math/primes.h"

namespace hecnn::nn::compiler {

namespace {

constexpr int kMaxPrimeBits = 50;   // keeps every data prime on the 52-bit IFMA kernels
constexpr int kMinPrimeBits = 22;   // smaller drops are not worth a rescale (and primes = 1 mod 2N get rare)
constexpr double kFitMargin = 2.0;  // |message| < Q / 4
constexpr double kAlignBits = 22.0; // realigned weights keep this many bits
constexpr double kNoiseLog2 = 13.0; // rescale / encryption noise in message units (measured 10..12 bits)
constexpr int kDefaultWeightBits = 10;  // a linear instruction without Instr::weight_bits

struct Pass {
  // Chain of droppable primes from the top (position 0 is dropped first); bits or exact values.
  std::vector<double> log2_prime;     // per position
  double noise = kNoiseLog2, precision = 24;
  bool complex = true;
  double input_log2_factor = 0;
  // Outputs per instruction.
  std::vector<int> drop;              // positions dropped after the op
  std::vector<double> log2_f, m_before;
  std::vector<std::vector<double>> mult;
  double need_bottom = 0;             // bits the never-dropped primes must provide
  double margin = -1;                 // overflow margin (program.h: ckks_log2_fit)
  double fit(const Instr& ins) const { return ckks_log2_fit(ins, margin); }
};

// log2 of the values a tensor takes: its calibrated range, else its guaranteed bound.
double log2_range(const Instr& ins) { return std::min(ins.log2_bound, ins.log2_calibrated.value_or(ins.log2_bound)); }


// Bits between a tensor's guaranteed bound and its calibrated range (plus 2 bits of
// headroom for inputs larger than the calibration set's), or 0 without calibration:
// precision is then kept relative to the values that occur, not the worst case.
double range_gap(const Instr& ins, double margin) {
  if (!ins.log2_calibrated) return 0;
  return std::max(0.0, ckks_log2_fit(ins, margin) - (log2_range(ins) + 2));
}

double log2_sum(const std::vector<double>& v, std::size_t from, std::size_t to) {
  double s = 0;
  for (std::size_t i = from; i < to && i < v.size(); ++i) s += v[i];
  return s;
}

// Runs the plan over the program. Pass 1 (fixed_rescale == nullptr) appends positions
// as rescales need them; pass 2 reuses pass 1's rescale counts with the real primes.
void run_pass(const Program& prog, Pass& p, const std::vector<int>* fixed_rescale) {
  const std::size_t n = prog.instrs.size();
  p.drop.assign(n, 0);
  p.log2_f.assign(n, 0);
  p.m_before.assign(n, 0);
  p.mult.assign(n, {});
  std::vector<bool> is_output(n, false);
  for (const auto& o : prog.outputs) is_output[std::size_t(o.tensor)] = true;
  // Requirement on the total: at drop count d, message M needs M + margin <= bottom + sum(positions >= d).
  std::vector<std::pair<int, double>> needs;  // (positions dropped, bits needed)
  for (std::size_t i = 0; i < n; ++i) {
    const Instr& ins = prog.instrs[i];
    int d = 0;
    for (int t : ins.inputs) d = std::max(d, p.drop[std::size_t(t)]);
    double lf = 0;
    switch (ins.op) {
      case OpKind::input: lf = p.input_log2_factor; break;
      case OpKind::linear: {
        // Per input k: the weight exponent e_k. Exact integer weights: 0. Real weights:
        // rounding error below 2^-(weight_bits - 1) of the largest contribution
        // C = max_k max|w_k| range_k, i.e. the largest e_k with 2^e_k C / range_k below
        // 2^(weight_bits - 1) (one input: max|w| 2^e_k < 2^(weight_bits - 1)). The output
        // factor is the largest f_k 2^e_k; input k's weights are multiplied by f_out / f_k.
        const std::size_t K = ins.inputs.size();
        std::vector<double> wmax(K, 0), wmin(K, 1e300), range(K, 0);
        std::vector<bool> integral(K, true);
        for (const auto& row : ins.rows)
          for (const auto& term : row) {
            const std::size_t k = std::size_t(term.input);
            const double a = std::fabs(term.real);
            if (a == 0) continue;
            wmax[k] = std::max(wmax[k], a);
            wmin[k] = std::min(wmin[k], a);
            integral[k] = integral[k] && a == std::round(a) && a <= 0x1p20;
          }
        double contrib = -1e300;
        for (std::size_t k = 0; k < K; ++k) {
          range[k] = log2_range(prog.instrs[std::size_t(ins.inputs[k])]);
          if (wmax[k] > 0) contrib = std::max(contrib, std::log2(wmax[k]) + range[k]);
        }
        const int wb = ins.weight_bits > 0 ? ins.weight_bits : kDefaultWeightBits;
        double lf_out = -1e300, fmin = 1e300, fmax = -1e300;
        for (std::size_t k = 0; k < K; ++k) {
          const double f = p.log2_f[std::size_t(ins.inputs[k])];
          fmin = std::min(fmin, f);
          fmax = std::max(fmax, f);
          double e = 0;
          if (wmax[k] > 0 && !integral[k]) e = std::floor(std::log2(std::exp2(wb - 1) - 1) + range[k] - contrib);
          if (wmax[k] > 0) lf_out = std::max(lf_out, f + e);
        }
        if (lf_out < -1e299) lf_out = fmax;  // all weights zero
        // Inputs at different factors: integer weights multiplied by a non-power-of-two
        // ratio keep at least kAlignBits bits (e.g. the ensemble mean over members).
        if (fmax - fmin > 1e-12) {
          for (std::size_t k = 0; k < K; ++k) {
            if (!integral[k] || wmax[k] == 0) continue;
            const double f = p.log2_f[std::size_t(ins.inputs[k])];
            lf_out = std::max(lf_out, std::ceil(f + kAlignBits - std::log2(wmin[k])));
          }
        }
        for (std::size_t k = 0; k < K; ++k) p.mult[i].push_back(std::exp2(lf_out - p.log2_f[std::size_t(ins.inputs[k])]));
        lf = lf_out;
        break;
      }
      case OpKind::square: lf = 2 * p.log2_f[std::size_t(ins.inputs[0])] + (p.complex ? 2 : 0); break;
      case OpKind::multiply:
        lf = p.log2_f[std::size_t(ins.inputs[0])] + p.log2_f[std::size_t(ins.inputs[1])] + (p.complex ? 2 : 0);
        break;
      case OpKind::relinearize:
      case OpKind::mod_switch: lf = p.log2_f[std::size_t(ins.inputs[0])]; break;
    }
    const double m = p.fit(ins) + lf;
    p.m_before[i] = m;
    for (int t : ins.inputs) needs.push_back({d, p.fit(prog.instrs[std::size_t(t)]) + p.log2_f[std::size_t(t)]});  // mod-switched inputs
    needs.push_back({d, m});
    // Rescale any 2-part result whose message has grown kMinPrimeBits past its target (after
    // relinearizations, so lazily after the linear layer that follows a product, and after
    // linear layers whose weights grew the factor).
    int drops = 0;
    if (fixed_rescale) {
      drops = (*fixed_rescale)[i];
    } else if (ins.op != OpKind::input && ins.parts == 2) {
      // Only 2-part ciphertexts: rounding the third part adds noise times s^2, ~7 bits more.
      const double target = (is_output[i] ? p.precision + p.noise + 1 : p.precision + p.noise) + range_gap(ins, p.margin);
      double want = m - target;
      std::size_t pos = std::size_t(d);
      while (want >= kMinPrimeBits) {
        if (pos < p.log2_prime.size()) {
          if (p.log2_prime[pos] > want + 4) break;  // the shared prime overshoots: keep the excess
          want -= p.log2_prime[pos];
        } else {
          const int k = int(std::ceil(want / kMaxPrimeBits));
          const double bits = std::min<double>(kMaxPrimeBits, std::round(want / k));
          p.log2_prime.push_back(bits);
          want -= bits;
        }
        ++pos;
        ++drops;
      }
    }
    for (int k = 0; k < drops; ++k) lf -= p.log2_prime.at(std::size_t(d + k));
    p.drop[i] = d + drops;
    p.log2_f[i] = lf;
    if (drops) needs.push_back({d + drops, p.fit(ins) + lf});
  }
  // Bottom primes: every need, minus the droppable primes still present at that point.
  const double all = log2_sum(p.log2_prime, 0, p.log2_prime.size());
  p.need_bottom = 0;
  for (const auto& [d, m] : needs) p.need_bottom = std::max(p.need_bottom, m + kFitMargin - (all - log2_sum(p.log2_prime, 0, std::size_t(d))));
}

std::vector<int> rescale_counts(const Program& prog, const Pass& p) {
  std::vector<int> r(prog.instrs.size(), 0);
  for (std::size_t i = 0; i < prog.instrs.size(); ++i) {
    int d = 0;
    for (int t : prog.instrs[i].inputs) d = std::max(d, p.drop[std::size_t(t)]);
    r[i] = p.drop[i] - d;
  }
  return r;
}

std::vector<int> split_bits(double bits) {
  bits = std::max(bits, double(kMinPrimeBits));
  const int k = int(std::ceil(bits / kMaxPrimeBits));
  std::vector<int> out;
  double left = std::ceil(bits);
  for (int i = k; i > 0; --i) {
    const int b = int(std::ceil(left / i));
    out.push_back(std::max(b, kMinPrimeBits));
    left -= b;
  }
  return out;
}

// The two passes, the rescale counts and the prime chain they settled on.
struct ChainPlan {
  Pass p, q;
  std::vector<int> rescales;
  std::vector<std::uint64_t> chain;
  std::size_t n = 0;
};

ChainPlan plan_chain(const Program& prog, const CompileOptions& opt) {
  ChainPlan v;
  Pass& p = v.p;
  p.complex = opt.complex_packing;
  p.precision = opt.ckks_precision_bits;
  p.margin = opt.ckks_overflow_margin_bits;
  const double in_bound = prog.instrs[0].log2_bound;
  p.input_log2_factor = std::ceil(p.noise + p.precision + range_gap(prog.instrs[0], p.margin) - in_bound);
  run_pass(prog, p, nullptr);
  v.rescales = rescale_counts(prog, p);
  const std::vector<int>& rescales = v.rescales;

  // Chain: bottom primes, then the droppable positions from the last to the first, then
  // the special prime. Pass 2 uses the real primes (a little below 2^bits, so factors
  // come out a little larger); when the bottom falls short it grows and the chain is
  // rebuilt. Small primes = 1 mod 2N are rare: when they run out, they are widened.
  double bottom_need = p.need_bottom;
  int min_bits = kMinPrimeBits;
  for (int attempt = 0;; ++attempt) {
    if (attempt == 6) throw CompileError("CKKS planning: no prime chain satisfies the plan (internal error)");
    const std::vector<int> bottom = split_bits(bottom_need);
    std::vector<int> bits(bottom);
    for (std::size_t k = p.log2_prime.size(); k-- > 0;) bits.push_back(std::max(int(p.log2_prime[k]), min_bits));
    int maxb = 0;
    double total = 0;
    for (int b : bits) {
      maxb = std::max(maxb, b);
      total += b;
    }
    // The special prime at least as large as every data prime (key-switching noise / P stays
    // below the rescaling noise), and <= 50 bits where possible so its NTTs use the IFMA kernels.
    const int special = std::max(maxb + 1, kMaxPrimeBits);
    bits.push_back(special);
    total += special;
    std::size_t n = 0;
    if (opt.poly_degree) {
      if (rlwe::max_coeff_bits_128(opt.poly_degree) == 0) {
        throw CompileError("--poly-degree " + std::to_string(opt.poly_degree) + " is not supported (1024..32768, a power of two)");
      }
      if (total > rlwe::max_coeff_bits_128(opt.poly_degree)) {
        throw CompileError("--poly-degree " + std::to_string(opt.poly_degree) + ": the program needs a " + std::to_string(int(total)) +
                           "-bit coefficient modulus, 128-bit security allows " +
                           std::to_string(rlwe::max_coeff_bits_128(opt.poly_degree)) + " (use a larger N or lower precision)");
      }
      n = opt.poly_degree;
    } else {
      for (std::size_t cand : {std::size_t(4096), std::size_t(8192), std::size_t(16384), std::size_t(32768)}) {
        if (total <= rlwe::max_coeff_bits_128(cand)) {
          n = cand;
          break;
        }
      }
    }
    if (n == 0) {
      std::ostringstream os;
      os << "no 128-bit secure CKKS parameters: the program needs a " << int(total)
         << "-bit coefficient modulus (more than N = 32768 allows); try lower --weight-bits / --input-bits or "
            "--ckks-precision";
      throw CompileError(os.str());
    }
    try {
      v.chain = math::create_coeff_modulus(n, bits);
    } catch (const std::exception&) {
      min_bits += 4;  // not enough small primes = 1 mod 2N
      continue;
    }
    v.n = n;

    // Pass 2: exact factors with the real primes.
    v.q = p;
    Pass& q = v.q;
    const std::size_t L = v.chain.size() - 1;
    q.log2_prime.assign(p.log2_prime.size(), 0);
    for (std::size_t k = 0; k < q.log2_prime.size(); ++k) q.log2_prime[k] = std::log2(double(v.chain[L - 1 - k]));
    run_pass(prog, q, &rescales);
    double bottom_bits = 0;
    for (std::size_t k = 0; k < bottom.size(); ++k) bottom_bits += std::log2(double(v.chain[k]));
    if (q.need_bottom <= bottom_bits + 1e-9) break;
    bottom_need = std::ceil(std::max(bottom_need, q.need_bottom)) + 1;
  }
  return v;
}

}  // namespace

void plan_ckks(Program& prog, const CompileOptions& opt) {
  if (opt.ckks_precision_bits < 8 || opt.ckks_precision_bits > 40) throw CompileError("--ckks-precision must be in 8..40 bits");
  if (opt.ckks_overflow_margin_bits > 60) throw CompileError("--ckks-overflow-margin must be at most 60 bits (or negative: worst-case bounds)");
  for (const auto& ins : prog.instrs) {
    if (ins.op == OpKind::mod_switch) throw CompileError("CKKS planning: unexpected mod_switch instruction");
    if (!std::isfinite(ins.log2_bound) && !(ins.log2_calibrated && opt.ckks_overflow_margin_bits >= 0)) {
      throw CompileError(ins.label + ": the worst-case bound on its values overflows a double (the network is too deep for "
                         "worst-case ranges); calibrate the ranges (--calibrate N) with an overflow margin (--ckks-overflow-margin)");
    }
  }
  const ChainPlan best = plan_chain(prog, opt);
  const Pass& p = best.p;
  const Pass& q = best.q;
  const auto& chain = best.chain;
  const auto& rescales = best.rescales;
  const std::size_t n = best.n;
  const std::size_t L = chain.size() - 1;
  prog.scheme = Scheme::ckks;
  prog.params = {};
  prog.ckks.poly_degree = n;
  prog.ckks.coeff_modulus = chain;
  prog.ckks.complex_packing = opt.complex_packing;
  prog.ckks.input_factor = std::exp2(q.input_log2_factor);
  prog.ckks.noise_log2 = p.noise;
  prog.ckks.overflow_margin_bits = opt.ckks_overflow_margin_bits;
  double prec = 1e300;
  for (std::size_t i = 0; i < prog.instrs.size(); ++i) {
    Instr& ins = prog.instrs[i];
    ins.rescale = rescales[i];
    ins.factor = std::exp2(q.log2_f[i]);
    ins.log2_message = q.m_before[i];
    ins.level = int(L) - q.drop[i];
    ins.input_mult = q.mult[i];
    if (ins.op == OpKind::linear) {
      for (auto& row : ins.rows)
        for (auto& t : row) {
          const double w = t.real * ins.input_mult.at(std::size_t(t.input));
          if (!(std::fabs(w) < 0x1p62)) {
            throw CompileError(ins.label + ": CKKS weights exceed 62 bits after alignment (the inputs' factors differ too much; "
                               "try lower --weight-bits / --coeff-bits)");
          }
          t.weight = std::llround(w);
        }
    }
  }
  for (const auto& o : prog.outputs) {
    const Instr& t = prog.instrs[std::size_t(o.tensor)];
    prec = std::min(prec, log2_range(t) + q.log2_f[std::size_t(o.tensor)] - p.noise);
  }
  prog.predicted_precision_bits = prec;
  prog.keys.clear();
  bool relin = false, products = false;
  for (const auto& ins : prog.instrs) {
    relin |= ins.op == OpKind::relinearize;
    products |= ins.op == OpKind::square || ins.op == OpKind::multiply;
  }
  if (relin) prog.keys.push_back("relinearization keys");
  if (products && opt.complex_packing) prog.keys.push_back("conjugation key (Galois element 2N-1)");
}

}  // namespace hecnn::nn::compiler
