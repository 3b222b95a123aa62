#include "nn/runtime/inference.h"
#include "nn/runtime/output_privacy.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include <sys/resource.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "nn/compiler/ckks_plan.h"
#include "nn/compiler/compiler.h"
#include "nn/compiler/executor.h"
#include "nn/compiler/schedule.h"
#include "nn/model/forward.h"
#include "nn/runtime/simulator.h"

namespace hecnn::nn::runtime {

using compiler::Program;
using Clock = std::chrono::steady_clock;

namespace {
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }


template <typename T>
int argmax_int(const std::vector<T>& v) {
  int best = 0;
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[best]) best = int(i);
  return best;
}

class ProgressBar {
 public:
  explicit ProgressBar(bool on) : on_(on) {}
  void show(std::size_t batch, std::size_t batches, std::size_t done, std::size_t total, const std::string& what) {
    if (!on_) return;
    const int width = 30;
    const double f = total ? double(done) / double(total) : 1.0;
    const int fill = int(f * width);
    std::fprintf(stderr, "\r  batch %zu/%zu [%.*s%*s] %3d%% %-28.28s", batch, batches, fill,
                 "##############################", width - fill, "", int(f * 100), what.c_str());
    std::fflush(stderr);
  }
  void done() {
    if (on_) std::fprintf(stderr, "\r%*s\r", 80, "");
  }

 private:
  bool on_;
};
// One image's prediction `pred` against the float model's and the label (-1: none).
void tally_encrypted(OutputReport& r, int pred, int float_pred, int label) {
  r.correct += label >= 0 && pred == label;
  r.plain_correct += label >= 0 && float_pred == label;
  r.agree_float += pred == float_pred;
}

// ... and against the quantized plaintext model's prediction.
void tally_quantized(OutputReport& r, int pred, int quant_pred, int label) {
  r.agree_quantized += quant_pred == pred;
  r.quant_correct += label >= 0 && quant_pred == label;
}

// Checks the arguments of run_bfv / run_ckks; the report's counts and output names;
// `batch`: images per encrypted batch.
InferReport start_report(const Program& prog, compiler::Scheme scheme, std::span<const Model> members, std::size_t count,
                         std::size_t image_size, const InferOptions& opt, std::size_t& batch) {
  if (prog.scheme != scheme && !(compiler::integer_scheme(scheme) && compiler::integer_scheme(prog.scheme))) {
    throw std::invalid_argument(std::string("run_") + (scheme == compiler::Scheme::ckks ? "ckks" : "bfv") +
                                ": the program was compiled for " + compiler::scheme_name(prog.scheme));
  }
  if (count == 0) throw std::invalid_argument("no images to run");
  if (image_size != prog.input_shape.size()) {
    throw std::invalid_argument("images have " + std::to_string(image_size) + " values, the model expects " +
                                std::to_string(prog.input_shape.size()));
  }
  if (members.size() != std::size_t(prog.members)) throw std::invalid_argument("member count does not match the program");
  InferReport rep;
  rep.scheme = compiler::scheme_name(prog.scheme);
  const std::size_t cap = prog.batch_capacity();
  batch = opt.batch ? std::min(opt.batch, cap) : cap;
  rep.images = count;
  rep.batches = (count + batch - 1) / batch;
  for (const auto& o : prog.outputs) {
    OutputReport r;
    r.name = o.name;
    rep.outputs.push_back(std::move(r));
  }
  return rep;
}
}  // namespace

void return_freed_ciphertexts_to_the_system() {
#if defined(__GLIBC__)
  // glibc raises its mmap threshold to the size of each large block freed, after which
  // ciphertexts come from the heap arenas, whose holes (levels and part counts vary)
  // are kept; a fixed threshold maps every block of 256 KiB or more on its own and
  // unmaps it when freed.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
}


namespace {
// A "Key:   123 kB" field of a /proc file, in bytes; 0 if absent.
std::size_t proc_kib_field(const char* path, const std::string& key) {
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key, 0) == 0) return std::size_t(std::stoull(line.substr(key.size()))) * 1024;
  }
  return 0;
}
}  // namespace

std::size_t available_memory_bytes() { return proc_kib_field("/proc/meminfo", "MemAvailable:"); }

std::size_t peak_rss_bytes() { return proc_kib_field("/proc/self/status", "VmHWM:"); }

std::vector<std::vector<double>> float_reference(const Program& prog, std::span<const Model> members, const std::uint8_t* image) {
  std::vector<std::vector<double>> out;
  const std::size_t sz = members[0].input.shape.size();
  for (const auto& m : members) out.push_back(forward(m, prepare_input(m, std::span<const std::uint8_t>(image, sz))));
  if (members.size() == 1) return out;
  for (auto& y : combine_float(prog, out)) out.push_back(std::move(y));
  return out;
}

namespace {
// The coordinator's DP noise for one batch of m images: noise[output][class][image] in the
// decrypted units of each output (score * scale), empty for outputs without noise. Integer
// schemes: rounded to the output's grid.
std::vector<std::vector<std::vector<double>>> batch_noise(const Program& prog, std::size_t m, math::Prng& prng, bool round) {
  std::vector<std::vector<std::vector<double>>> noise(prog.outputs.size());
  if (!prog.privacy.active()) return noise;
  for (std::size_t o = 0; o < prog.outputs.size(); ++o) {
    const auto& out = prog.outputs[o];
    if (!(out.dp_noise_scale > 0)) continue;
    const std::size_t classes = prog.instrs[std::size_t(out.tensor)].size;
    for (std::size_t c = 0; c < classes; ++c) {
      auto v = sample_noise(prog.privacy, out, m, prng);
      for (double& x : v) x = round ? std::nearbyint(x * out.scale) : x * out.scale;
      noise[o].push_back(std::move(v));
    }
  }
  return noise;
}
}  // namespace

InferReport run_bfv(const Program& prog, std::span<const Model> members, const std::uint8_t* images, std::size_t count,
                    std::size_t image_size, const std::uint8_t* labels, const InferOptions& opt) {
  const auto t_all = Clock::now();
  std::size_t batch = 0;
  InferReport rep = start_report(prog, compiler::Scheme::bfv, members, count, image_size, opt, batch);
  const auto cost = compiler::cost(prog);
  rep.key_bytes = cost.key_bytes;

  // Client: keys (secret keys stay inside BfvClient).
  auto t0 = Clock::now();
  math::SystemPrng prng;
  bool need_relin = !prog.keys.empty();
  BfvClient client(prog.params, need_relin, prng, prog.scheme);
  // Model holders + coordinator: evaluation keys only.
  BfvServer server(prog, client.evaluation_keys());
  rep.keygen_s = since(t0);

  const std::size_t residues = prog.params.plain_moduli.size();
  math::SystemPrng noise_prng;  // the coordinator's, apart from the client's
  ProgressBar bar(opt.progress);
  for (std::size_t b = 0; b < rep.batches; ++b) {
    const std::size_t first = b * batch, m = std::min(batch, count - first);
    std::vector<std::vector<std::int64_t>> imgs(m);
    for (std::size_t i = 0; i < m; ++i) imgs[i] = prog.quantize_input(images + (first + i) * image_size, image_size);
    const auto slots = to_slots(imgs);
    const auto noise = batch_noise(prog, m, noise_prng, true);
    // residue_out[output][residue][class][slot]
    std::vector<std::vector<std::vector<std::vector<std::uint64_t>>>> dec(prog.outputs.size(),
                                                                          std::vector<std::vector<std::vector<std::uint64_t>>>(residues));
    for (std::size_t r = 0; r < residues; ++r) {
      t0 = Clock::now();
      EncryptedTensor in = client.encrypt(r, slots, prog.instrs[0].level);
      rep.encrypt_s += since(t0);
      for (const auto& ct : in) rep.input_bytes += ct.data.size() * 8;
      t0 = Clock::now();
      const double c0 = compiler::process_cpu_seconds();
      auto outs = server.evaluate(r, std::move(in), &rep.layers, [&](std::size_t done, std::size_t total, const std::string& what) {
        bar.show(b + 1, rep.batches, r * total + done, residues * total, what);
      });
      for (std::size_t o = 0; o < outs.size(); ++o)
        if (!noise[o].empty()) server.add_values(r, outs[o], noise[o]);
      rep.evaluate_s += since(t0);
      rep.evaluate_cpu_s += compiler::process_cpu_seconds() - c0;
      t0 = Clock::now();
      for (std::size_t o = 0; o < outs.size(); ++o) {
        for (const auto& ct : outs[o]) rep.output_bytes += ct.data.size() * 8;
        dec[o][r] = client.decrypt(r, outs[o], m);
        if (opt.noise_budget) {
          for (const auto& ct : outs[o]) rep.outputs[o].min_noise_budget = std::min(rep.outputs[o].min_noise_budget, client.noise_budget(r, ct));
        }
      }
      rep.decrypt_s += since(t0);
    }
    // Quantized plaintext model on the same batch, exactly: in 128-bit integers, or,
    // where values pass 125 bits (poly-softmax), modulo each plaintext prime (what
    // BFV computes), decoded like the encrypted scores.
    const bool wide = needs_wide_integers(prog);
    TensorValues<i128> exact;
    std::vector<TensorValues<std::uint64_t>> exact_mod;
    if (opt.check_quantized) {
      if (!wide) exact = simulate_exact(prog, slots);
      else
        for (std::size_t r = 0; r < residues; ++r) exact_mod.push_back(simulate_mod(prog, slots, prog.params.plain_moduli[r]));
      // The reference of a noisy output is the quantized program's plus the same noise.
      for (std::size_t o = 0; o < prog.outputs.size(); ++o) {
        if (noise[o].empty()) continue;
        const std::size_t t = std::size_t(prog.outputs[o].tensor);
        for (std::size_t c = 0; c < noise[o].size(); ++c)
          for (std::size_t i = 0; i < m; ++i) {
            const double v = noise[o][c][i];
            if (!wide) {
              exact[t][c][i] += i128(v);  // |v| < 2^126: the output's bound holds it
            } else {
              for (std::size_t r = 0; r < residues; ++r) {
                const std::uint64_t tm = prog.params.plain_moduli[r];
                exact_mod[r][t][c][i] = std::uint64_t((unsigned __int128)(exact_mod[r][t][c][i] + integer_double_mod(v, tm)) % tm);
              }
            }
          }
      }
    }
    // Prediction from residues res(c, r) of each class.
    std::vector<std::uint64_t> rs(residues);
    auto predict = [&](std::size_t classes, auto&& res) {
      if (!wide) {
        std::vector<i128> scores(classes);
        for (std::size_t c = 0; c < classes; ++c) {
          for (std::size_t r = 0; r < residues; ++r) rs[r] = res(c, r);
          scores[c] = crt_centered(rs, prog.params.plain_moduli);
        }
        return argmax_int(scores);
      }
      std::vector<WideInt> scores(classes);
      for (std::size_t c = 0; c < classes; ++c) {
        for (std::size_t r = 0; r < residues; ++r) rs[r] = res(c, r);
        scores[c] = crt_centered_wide(rs, prog.params.plain_moduli);
      }
      return argmax_int(scores);
    };
    for (std::size_t i = 0; i < m; ++i) {
      const auto ref = float_reference(prog, members, images + (first + i) * image_size);
      for (std::size_t o = 0; o < prog.outputs.size(); ++o) {
        const std::size_t classes = dec[o][0].size();
        const int pred = predict(classes, [&](std::size_t c, std::size_t r) { return dec[o][r][c][i]; });
        const int fpred = nn::argmax(ref[o]);
        auto& orep = rep.outputs[o];
        orep.predictions.push_back(pred);
        if (orep.scores.size() < kReportedScores) {
          std::vector<double> sc(classes);
          for (std::size_t c = 0; c < classes; ++c) {
            for (std::size_t r = 0; r < residues; ++r) rs[r] = dec[o][r][c][i];
            sc[c] = (wide ? crt_centered_wide(rs, prog.params.plain_moduli).to_double() : double(crt_centered(rs, prog.params.plain_moduli))) /
                    prog.outputs[o].scale;
          }
          orep.scores.push_back(std::move(sc));
        }
        tally_encrypted(orep, pred, fpred, labels ? int(labels[first + i]) : -1);
        if (opt.check_quantized) {
          const std::size_t t = std::size_t(prog.outputs[o].tensor);
          bool same = true;
          int qpred;
          if (!wide) {
            const auto& ex = exact[t];
            std::vector<i128> q(classes);
            for (std::size_t c = 0; c < classes; ++c) {
              for (std::size_t r = 0; r < residues; ++r) rs[r] = dec[o][r][c][i];
              q[c] = ex[c][i];
              same &= q[c] == crt_centered(rs, prog.params.plain_moduli);
            }
            qpred = argmax_int(q);
          } else {
            // Both sides are centered values mod the same product: equal residues, equal values.
            for (std::size_t c = 0; c < classes; ++c)
              for (std::size_t r = 0; r < residues; ++r) same &= exact_mod[r][t][c][i] == dec[o][r][c][i];
            qpred = predict(classes, [&](std::size_t c, std::size_t r) { return exact_mod[r][t][c][i]; });
          }
          orep.exact_scores += same;
          tally_quantized(orep, pred, qpred, labels ? int(labels[first + i]) : -1);
        }
      }
    }
  }
  bar.done();
  rep.total_s = since(t_all);
  rep.peak_rss_bytes = peak_rss_bytes();
  return rep;
}

InferReport run_ckks(const Program& prog, std::span<const Model> members, const std::uint8_t* images, std::size_t count,
                     std::size_t image_size, const std::uint8_t* labels, const InferOptions& opt) {
  const auto t_all = Clock::now();
  std::size_t batch = 0;
  InferReport rep = start_report(prog, compiler::Scheme::ckks, members, count, image_size, opt, batch);
  rep.key_bytes = compiler::cost(prog).key_bytes;
  // Execution order and memory, decided before any key is made.
  {
    const std::size_t avail = available_memory_bytes();
    const std::size_t limit = opt.memory_limit ? opt.memory_limit : (avail ? avail / 10 * 8 : ~std::size_t(0));
    const std::size_t layer = compiler::schedule_peak_bytes(prog, false) + rep.key_bytes;
    std::size_t stream = 0;
    if (opt.streaming == 1 || (opt.streaming == -1 && layer > limit)) {
      stream = compiler::schedule_peak_bytes(prog, true) + rep.key_bytes;
      rep.streaming = true;
    }
    rep.estimated_bytes = rep.streaming ? stream : layer;
    if (rep.estimated_bytes > limit) {
      auto gib = [](std::size_t b) {
        char buf[32];
        if (b < (std::size_t(1) << 30)) std::snprintf(buf, sizeof buf, "%.1f MiB", double(b) / double(std::size_t(1) << 20));
        else std::snprintf(buf, sizeof buf, "%.1f GiB", double(b) / double(std::size_t(1) << 30));
        return std::string(buf);
      };
      throw std::runtime_error("this run needs about " + gib(rep.estimated_bytes) + " for ciphertexts and keys (layer order " + gib(layer) +
                               (stream ? ", streaming " + gib(stream) : std::string()) + "), more than the " + gib(limit) +
                               " allowed (" + (opt.memory_limit ? std::string("--memory-limit") : "80% of available memory") +
                               "); ciphertexts are N = " + std::to_string(prog.poly_degree()) +
                               " whatever the batch, so fewer images do not help: use a smaller network or lower --ckks-precision");
    }
  }

  auto t0 = Clock::now();
  math::SystemPrng prng;
  CkksClient client(prog, prng);
  CkksServer server(prog, client.evaluation_keys());
  server.set_streaming(rep.streaming);
  if (rep.streaming) return_freed_ciphertexts_to_the_system();
  rep.keygen_s = since(t0);
  math::SystemPrng noise_prng;  // the coordinator's, apart from the client's

  ProgressBar bar(opt.progress);
  for (std::size_t b = 0; b < rep.batches; ++b) {
    const std::size_t first = b * batch, m = std::min(batch, count - first);
    std::vector<std::vector<std::int64_t>> imgs(m);
    for (std::size_t i = 0; i < m; ++i) imgs[i] = prog.quantize_input(images + (first + i) * image_size, image_size);
    const auto slots = to_slots(imgs);
    t0 = Clock::now();
    EncryptedTensor in = client.encrypt(slots);
    rep.encrypt_s += since(t0);
    for (const auto& ct : in) rep.input_bytes += ct.data.size() * 8;
    t0 = Clock::now();
    const double c0 = compiler::process_cpu_seconds();
    auto outs = server.evaluate(std::move(in), &rep.layers, [&](std::size_t done, std::size_t total, const std::string& what) {
      bar.show(b + 1, rep.batches, done, total, what);
    });
    const auto noise = batch_noise(prog, m, noise_prng, false);
    for (std::size_t o = 0; o < outs.size(); ++o)
      if (!noise[o].empty()) server.add_values(outs[o], noise[o]);
    rep.evaluate_s += since(t0);
    rep.evaluate_cpu_s += compiler::process_cpu_seconds() - c0;
    t0 = Clock::now();
    std::vector<std::vector<std::vector<double>>> dec(outs.size());
    for (std::size_t o = 0; o < outs.size(); ++o) {
      for (const auto& ct : outs[o]) rep.output_bytes += ct.data.size() * 8;
      dec[o] = client.decrypt(outs[o], m);
    }
    rep.decrypt_s += since(t0);
    TensorValues<double> exact;
    if (opt.check_quantized) {
      exact = simulate_real(prog, slots);
      for (std::size_t o = 0; o < prog.outputs.size(); ++o)
        for (std::size_t c = 0; c < noise[o].size(); ++c)
          for (std::size_t i = 0; i < m; ++i) exact[std::size_t(prog.outputs[o].tensor)][c][i] += noise[o][c][i];
    }
    for (std::size_t i = 0; i < m; ++i) {
      const auto ref = float_reference(prog, members, images + (first + i) * image_size);
      for (std::size_t o = 0; o < prog.outputs.size(); ++o) {
        const std::size_t classes = dec[o].size();
        const double scale = prog.outputs[o].scale;
        std::vector<double> scores(classes);
        for (std::size_t c = 0; c < classes; ++c) scores[c] = dec[o][c][i];
        const int pred = argmax_int(scores);
        const int fpred = nn::argmax(ref[o]);
        auto& orep = rep.outputs[o];
        orep.predictions.push_back(pred);
        if (orep.scores.size() < kReportedScores) {
          orep.scores.push_back(scores);
          for (auto& x : orep.scores.back()) x /= scale;
        }
        tally_encrypted(orep, pred, fpred, labels ? int(labels[first + i]) : -1);
        if (opt.check_quantized) {
          const auto& ex = exact[std::size_t(prog.outputs[o].tensor)];
          std::vector<double> q(classes);
          for (std::size_t c = 0; c < classes; ++c) {
            q[c] = ex[c][i];
            orep.max_error = std::max(orep.max_error, std::fabs(scores[c] - q[c]) / scale);
            orep.max_score = std::max(orep.max_score, std::fabs(q[c]) / scale);
          }
          tally_quantized(orep, pred, argmax_int(q), labels ? int(labels[first + i]) : -1);
        }
      }
    }
  }
  bar.done();
  rep.total_s = since(t_all);
  rep.peak_rss_bytes = peak_rss_bytes();
  return rep;
}

void calibrate_ckks(Program& prog, const compiler::CompileOptions& opt, const std::uint8_t* images, std::size_t count,
                    std::size_t image_size) {
  if (prog.scheme != compiler::Scheme::ckks) throw std::invalid_argument("calibrate_ckks: the program is not a CKKS program");
  if (count == 0) throw std::invalid_argument("calibrate_ckks: no calibration images");
  if (image_size != prog.input_shape.size()) throw std::invalid_argument("calibrate_ckks: image size does not match the model");
  std::vector<std::vector<std::int64_t>> imgs(count);
  for (std::size_t i = 0; i < count; ++i) imgs[i] = prog.quantize_input(images + i * image_size, image_size);
  const auto val = simulate_real(prog, to_slots(imgs), {.keep_all = true});
  for (std::size_t t = 0; t < prog.instrs.size(); ++t) {
    double mx = 0;
    for (const auto& e : val[t])
      for (double v : e) mx = std::max(mx, std::fabs(v));
    prog.instrs[t].log2_calibrated = std::log2(std::max(mx, std::exp2(compiler::kCkksMinLog2Range)));
  }
  // DP outputs carry the coordinator's noise too: their range (and the linear layer's before
  // the final relinearization) includes the noise's truncation bound.
  for (const auto& o : prog.outputs) {
    if (!(o.dp_noise_bound > 0)) continue;
    for (int t = o.tensor; t >= 0;) {
      auto& ins = prog.instrs[std::size_t(t)];
      ins.log2_calibrated = std::log2(std::exp2(*ins.log2_calibrated) + o.dp_noise_bound);
      t = ins.op == compiler::OpKind::relinearize ? ins.inputs.at(0) : -1;
    }
  }
  compiler::plan_ckks(prog, opt);
}

InferReport run_encrypted(const Program& prog, std::span<const Model> members, const std::uint8_t* images, std::size_t count,
                          std::size_t image_size, const std::uint8_t* labels, const InferOptions& opt) {
  if (prog.scheme == compiler::Scheme::ckks) return run_ckks(prog, members, images, count, image_size, labels, opt);
  return run_bfv(prog, members, images, count, image_size, labels, opt);
}

InferReport run_quantized(const Program& prog, std::span<const Model> members, const std::uint8_t* images, std::size_t count,
                          std::size_t image_size, const std::uint8_t* labels) {
  if (image_size != prog.input_shape.size()) throw std::invalid_argument("image size does not match the model");
  const auto t_all = Clock::now();
  InferReport rep;
  rep.scheme = "quantized plaintext (no encryption)";
  rep.images = count;
  for (const auto& o : prog.outputs) {
    OutputReport r;
    r.name = o.name;
    rep.outputs.push_back(std::move(r));
  }
  const std::size_t batch = 4096;
  for (std::size_t first = 0; first < count; first += batch) {
    const std::size_t m = std::min(batch, count - first);
    ++rep.batches;
    std::vector<std::vector<std::int64_t>> imgs(m);
    for (std::size_t i = 0; i < m; ++i) imgs[i] = prog.quantize_input(images + (first + i) * image_size, image_size);
    // BFV programs: exact 128-bit integers; CKKS programs (integers may pass 128 bits): doubles.
    const bool real = prog.scheme == compiler::Scheme::ckks;
    const auto slots = to_slots(imgs);
    TensorValues<i128> exact;
    TensorValues<double> approx;
    const bool wide = needs_wide_integers(prog);
    std::vector<TensorValues<std::uint64_t>> exact_mod;  // wide BFV programs: per plaintext prime
    if (real) approx = simulate_real(prog, slots);
    else if (!wide) exact = simulate_exact(prog, slots);
    else
      for (auto t : prog.params.plain_moduli) exact_mod.push_back(simulate_mod(prog, slots, t));
    auto predict_wide = [&](std::size_t o, std::size_t i) {
      const std::size_t t = std::size_t(prog.outputs[o].tensor);
      const std::size_t classes = exact_mod[0][t].size();
      std::vector<WideInt> q(classes);
      std::vector<std::uint64_t> rs(exact_mod.size());
      for (std::size_t c = 0; c < classes; ++c) {
        for (std::size_t r = 0; r < exact_mod.size(); ++r) rs[r] = exact_mod[r][t][c][i];
        q[c] = crt_centered_wide(rs, prog.params.plain_moduli);
      }
      return argmax_int(q);
    };
    auto predict = [&](const auto& val, std::size_t o, std::size_t i) {
      const auto& ex = val[std::size_t(prog.outputs[o].tensor)];
      std::vector<std::decay_t<decltype(ex[0][0])>> q(ex.size());
      for (std::size_t c = 0; c < ex.size(); ++c) q[c] = ex[c][i];
      return argmax_int(q);
    };
    for (std::size_t i = 0; i < m; ++i) {
      const auto ref = float_reference(prog, members, images + (first + i) * image_size);
      for (std::size_t o = 0; o < prog.outputs.size(); ++o) {
        const int pred = real ? predict(approx, o, i) : wide ? predict_wide(o, i) : predict(exact, o, i);
        const int fpred = nn::argmax(ref[o]);
        auto& r = rep.outputs[o];
        const int label = labels ? int(labels[first + i]) : -1;
        tally_encrypted(r, pred, fpred, label);  // "encrypted" is the quantized model itself here
        tally_quantized(r, pred, pred, label);
        r.exact_scores += 1;
        r.predictions.push_back(pred);
      }
    }
  }
  rep.total_s = since(t_all);
  return rep;
}

}  // namespace hecnn::nn::runtime
