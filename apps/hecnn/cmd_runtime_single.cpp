#include "hecnn/cmd_runtime_single.h"
#include "nn/compiler/packed_io.h"
#include "nn/compiler/plan_io.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "fhe/wire/core_convert.h"
#include "fhe/wire/objects.h"
#include "math/prng.h"
#include "nn/compiler/packed.h"
#include "nn/model/dataset.h"
#include "nn/model/forward.h"
#include "nn/runtime/inference.h"
#include "nn/runtime/packed_backend.h"

namespace hecnn::app {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * double(v.size() - 1);
  const std::size_t lo = std::size_t(std::floor(pos)), hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

}  // namespace

void run_single(const SingleArgs& a, const std::vector<nn::Model>& members, const std::vector<std::uint8_t>& images,
                const std::vector<std::uint8_t>& labels, std::size_t count, const std::vector<std::string>& image_names) {
  using namespace nn;
  const nn::Model& model = members.at(0);
  const std::size_t image_size = model.input.shape.size();
  compiler::PackedOptions opt;
  opt.poly_degree = a.poly_degree;
  opt.images_per_ciphertext = a.images_per_ciphertext;
  opt.max_galois_key_bytes = a.max_galois_key_mib << 20;
  if (a.packing != "auto" && a.packing != "im2col" && a.packing != "chw")
    throw std::invalid_argument("--packing " + a.packing + ": use auto, im2col or chw");
  opt.im2col = a.packing != "chw";
  if (!a.json && !a.quiet) {
    opt.progress = [](std::size_t n, const std::string& label, std::size_t done, std::size_t total) {
      std::fprintf(stderr, "\r  compiling for N = %zu: %-24s (%zu/%zu)   ", n, label.c_str(), done + 1, total);
      std::fflush(stderr);
    };
  }
  // Calibration on training images (never the images being scored).
  const double t_compile0 = now_s();
  if (a.calibrate > 0 && a.load_plan.empty()) {
    Dataset train = load_named_dataset(a.dataset.empty() ? model.meta.dataset : a.dataset, true);
    if (train.image_size() != image_size) throw std::invalid_argument("calibration dataset has images of another size");
    const std::size_t n = std::min(a.calibrate, train.count());
    for (std::size_t i = 0; i < n; ++i) opt.calibration.emplace_back(train.image(i), train.image(i) + image_size);
  }
  const bool ensemble = members.size() > 1;
  compiler::PackedEnsemble ens;
  if (!a.load_plan.empty()) {
    ens = compiler::read_packed_plan(a.load_plan);
    if (ens.members.size() != members.size() || ens.members[0].ops.empty())
      throw std::invalid_argument(a.load_plan + ": the plan has " + std::to_string(ens.members.size()) + " member(s)" +
                                  (ens.members[0].ops.empty() ? " and no ops (a public plan)" : "") + ", " + std::to_string(members.size()) + " --model given");
    for (std::size_t i = 0; i < members.size(); ++i) {
      const auto& d = ens.members[i].member_digests;
      if (d.size() != 1 || d[0] != compiler::model_fingerprint(members[i]))
        throw std::invalid_argument(a.load_plan + ": member " + std::to_string(i) + " of the plan was compiled from a different model than " +
                                    members[i].meta.name);
      if (!(ens.members[i].input_shape == members[i].input.shape)) throw std::invalid_argument(a.load_plan + ": the plan's input shape differs from the model's");
    }
  } else if (ensemble) {
    std::vector<double> w = a.weights;
    if (a.combiner == "weighted" && w.empty())
      for (const auto& m : members) w.push_back(m.meta.test_accuracy > 0 ? m.meta.test_accuracy : 1.0);
    ens = compiler::compile_packed_ensemble(members, a.combiner, w, opt);
  } else {
    ens.members.push_back(compiler::compile_packed(model, opt));
    ens.weights = {1.0};
    ens.combiner = "mean";
    ens.rotation_steps = ens.members[0].rotation_steps;
  }
  if (!a.save_plan.empty()) {
    compiler::write_packed_plan(ens, a.save_plan);
    if (!a.json) std::fprintf(stderr, "wrote packed plan %s\n", a.save_plan.c_str());
  }
  const compiler::PackedProgram& prog = ens.members[0];
  const double compile_s = now_s() - t_compile0;
  if (opt.progress) std::fprintf(stderr, "\n");
  compiler::PackedCounts counts;
  for (const auto& p : ens.members) counts += compiler::count_packed(p);
  if (!a.json) {
    std::printf("%s", compiler::describe_packed(prog).c_str());
    if (ensemble) {
      std::printf("ensemble of %zu members (%s combiner, weights", members.size(), a.combiner.c_str());
      for (double w : ens.weights) std::printf(" %.4f", w);
      std::printf(" folded into each member's last layer), %zu Galois keys for all members; the server adds the members' outputs\n",
                  ens.rotation_steps.size());
    }
  }

  nlohmann::json ops = nlohmann::json::array();
  for (std::size_t oi = 0; oi < prog.ops.size(); ++oi) {
    const auto& op = prog.ops[oi];
    const compiler::PackedCounts oc = compiler::count_packed_op(prog, oi);
    std::size_t diags = 0, giants = 0;
    std::set<std::pair<std::uint32_t, std::int32_t>> babies;
    for (const auto& out : op.outs)
      for (const auto& g : out) {
        diags += g.diags.size();
        giants += g.step != 0;
        for (const auto& d : g.diags)
          if (d.baby != 0) babies.insert({d.in_ct, d.baby});
      }
    const std::size_t folds = op.folds.size() * op.out_cts + op.steps.size() * op.out_cts;
    const std::size_t relins = op.kind == compiler::PackedOpKind::poly ? op.out_cts * std::size_t(op.degree == 2 ? 1 : 2) : 0;
    ops.push_back({{"label", op.label}, {"kind", compiler::packed_op_name(op.kind)}, {"lowering", op.lowering},
                   {"level_in", op.level_in}, {"level_out", op.level_out}, {"ciphertexts_in", op.in_cts},
                   {"ciphertexts_out", op.out_cts}, {"diagonals", diags}, {"hoisted_rotations", babies.size()},
                   {"giant_rotations", giants}, {"folds", folds},
                   {"key_switches", oc.rotations + relins}, {"composed_key_switches", oc.composed}});
  }
  nlohmann::json j = {{"mode", "single"},
                      {"model", prog.description},
                      {"scheme", "ckks"},
                      {"security_bits", 128},
                      {"poly_degree", prog.poly_degree},
                      {"coeff_modulus", prog.coeff_modulus},
                      {"data_primes", prog.data_primes()},
                      {"images_per_ciphertext", prog.images_per_ciphertext},
                      {"input_packing", prog.input_packing},
                      {"input_ciphertexts", prog.input_layout.cts},
                      {"members", members.size()},
                      {"combiner", ensemble ? a.combiner : ""},
                      {"member_weights", ens.weights},
                      {"galois_keys", ens.rotation_steps.size()},
                      {"rotation_steps", ens.rotation_steps},
                      {"composed_steps", prog.rotation_paths.size()},
                      {"max_galois_key_mib", a.max_galois_key_mib},
                      {"composed_key_switches", counts.composed},
                      {"galois_key_bytes_uncompressed", compiler::packed_galois_key_bytes(prog)},
                      {"relin_key_bytes_uncompressed", compiler::packed_relin_key_bytes(prog)},
                      {"rotations", counts.rotations},
                      {"hoisted_rotations", counts.hoisted},
                      {"plain_mults", counts.plain_mults},
                      {"ct_mults", counts.ct_mults},
                      {"predicted_latency_s", counts.predicted_seconds},
                      {"predicted_precision_bits", prog.predicted_precision_bits},
                      {"compile_s", compile_s},
                      {"ops", ops}};
  if (a.plan) {
    if (a.json) std::cout << j.dump(2) << "\n";
    return;
  }

  // Keys: the client's secret stays here; the server gets evaluation keys only.
  math::SystemPrng prng;
  const double tk0 = now_s();
  runtime::PackedClient client(prog, prng, std::vector<int>(ens.rotation_steps.begin(), ens.rotation_steps.end()));
  const double keygen_s = now_s() - tk0;
  auto keys = client.take_evaluation_keys();
  std::size_t galois_bytes = 0, relin_bytes = 0;
  bool galois_chunked = false;
  {
    rlwe::ParamsLiteral lit{rlwe::Scheme::ckks, prog.poly_degree, prog.coeff_modulus, 0, rlwe::Security::tc128};
    const wire::Context wctx(wire::to_wire(lit));
    wire::WriteOptions w;
    w.compression = wire::Compression::zstd;
    // Serialized as one object; a set over 1 GiB is measured in objects of at most
    // 256 MiB (the sum of their sizes), so that no copy of the whole set is made.
    const std::size_t per_key = keys.galois.keys.empty() ? 0 : compiler::packed_galois_key_bytes(prog) / std::max<std::size_t>(1, prog.rotation_steps.size());
    const std::size_t chunk = per_key * keys.galois.keys.size() > (std::size_t(1) << 30) ? std::max<std::size_t>(1, (std::size_t(256) << 20) / per_key)
                                                                                          : keys.galois.keys.size();
    galois_chunked = chunk < keys.galois.keys.size();
    for (auto it = keys.galois.keys.begin(); it != keys.galois.keys.end();) {
      rlwe::GaloisKeys part;
      for (std::size_t i = 0; i < chunk && it != keys.galois.keys.end(); ++i, ++it) part.keys.emplace(it->first, it->second);
      galois_bytes += wire::write_galois_keys(wctx, wire::to_wire(wctx, part), w).size();
    }
    if (prog.needs_relin) relin_bytes = wire::write_relin_keys(wctx, wire::to_wire(wctx, keys.relin), w).size();
  }
  const double ts0 = now_s();
  // Plaintexts cached up to half of the memory left (at least the library's default).
  const std::size_t cache = std::max(runtime::PackedServer::kDefaultPlaintextCacheBytes, runtime::available_memory_bytes() / 2);
  runtime::PackedEnsembleServer server(ens, std::move(keys), cache);
  const double server_setup_s = now_s() - ts0;

  std::vector<double> server_s, encrypt_s, decrypt_s;
  std::size_t up_bytes = 0, down_bytes = 0, correct = 0, float_correct = 0, agree = 0;
  std::vector<int> predictions, float_predictions;
  std::map<std::string, std::vector<double>> op_times;
  const bool bar = !a.json && !a.quiet;
  const std::size_t K = prog.images_per_ciphertext;
  std::size_t requests = 0;
  for (std::size_t i0 = 0; i0 < count; i0 += K) {
    const std::size_t m = std::min(K, count - i0);
    std::vector<const std::uint8_t*> raws;
    for (std::size_t i = i0; i < i0 + m; ++i) raws.push_back(images.data() + i * image_size);
    double t0 = now_s();
    const auto cts = client.encrypt_images(raws, image_size);
    const auto files = client.serialize(cts, wire::Compression::zstd);
    encrypt_s.push_back(now_s() - t0);
    for (const auto& f : files) up_bytes += f.size();
    // Server: reads the uploaded objects (bounded readers) and evaluates.
    t0 = now_s();
    auto in = runtime::read_packed_ciphertexts(prog, files);
    std::vector<compiler::LayerTiming> timings;
    auto out = server.evaluate(in, &timings);
    for (const auto& t : timings) op_times[t.layer].push_back(t.seconds);
    server_s.push_back(now_s() - t0);
    down_bytes += runtime::packed_wire_bytes(prog, out, wire::Compression::zstd);
    t0 = now_s();
    const auto scores = client.decrypt_images(out, m);
    decrypt_s.push_back(now_s() - t0);
    ++requests;
    for (std::size_t k = 0; k < m; ++k) {
      const std::size_t i = i0 + k;
      const int pred = argmax(scores[k]);
      predictions.push_back(pred);
      std::vector<double> fsum(prog.num_classes, 0.0);
      for (std::size_t mi = 0; mi < members.size(); ++mi) {
        const auto f = forward(members[mi], prepare_input(members[mi], std::span<const std::uint8_t>(raws[k], image_size)));
        for (std::size_t c = 0; c < fsum.size(); ++c) fsum[c] += ens.weights[mi] * f[c];
      }
      const int fpred = argmax(fsum);
      float_predictions.push_back(fpred);
      agree += pred == fpred;
      if (!labels.empty()) {
        correct += pred == labels[i];
        float_correct += fpred == labels[i];
      }
    }
    if (bar && (i0 + m == count || (requests % 10) == 1)) {
      const int width = 30, filled = int(double(width) * double(i0 + m) / double(count));
      std::fprintf(stderr, "\r  image %zu/%zu [%s%s] server median %.3f s per request   ", i0 + m, count,
                   std::string(std::size_t(filled), '#').c_str(), std::string(std::size_t(width - filled), ' ').c_str(),
                   quantile(server_s, 0.5));
      std::fflush(stderr);
    }
  }
  if (bar) std::fprintf(stderr, "\n");
  const double n = double(count);
  j["images"] = count;
  j["keygen_s"] = keygen_s;
  j["server_setup_s"] = server_setup_s;
  j["plaintext_bytes"] = server.plaintext_bytes();
  j["galois_key_bytes"] = galois_bytes;
  j["galois_key_bytes_in_parts"] = galois_chunked;
  j["plaintext_cached_bytes"] = server.cached_plaintext_bytes();
  j["relin_key_bytes"] = relin_bytes;
  j["server_latency_s"] = server_s;  // per request, in order (the latency histogram)
  j["server_latency_median_s"] = quantile(server_s, 0.5);
  j["server_latency_p90_s"] = quantile(server_s, 0.9);
  j["encrypt_median_s"] = quantile(encrypt_s, 0.5);
  j["decrypt_median_s"] = quantile(decrypt_s, 0.5);
  j["requests"] = requests;
  j["images_per_ciphertext"] = K;
  j["server_images_per_s"] = double(count) / std::max(1e-12, [&] { double t = 0; for (double x : server_s) t += x; return t; }());
  j["upload_bytes_per_request"] = double(up_bytes) / double(requests);
  j["upload_bytes_per_image"] = double(up_bytes) / n;
  j["download_bytes_per_image"] = double(down_bytes) / n;
  j["agreement_with_float"] = double(agree) / n;
  j["predictions"] = predictions;
  j["float_predictions"] = float_predictions;
  nlohmann::json per_op = nlohmann::json::object();
  for (const auto& [label, v] : op_times) per_op[label] = quantile(v, 0.5);
  j["server_op_median_s"] = per_op;
  if (!labels.empty()) {
    j["accuracy"] = double(correct) / n;
    j["float_accuracy"] = double(float_correct) / n;
  }
  if (a.json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::printf("\n%zu image(s), %zu request(s) of up to %zu image(s) (N = %zu, %d primes, 128-bit):\n", count, requests, K,
              prog.poly_degree, prog.data_primes() + 1);
  std::printf("  server latency per request: median %.4f s, 90th percentile %.4f s (predicted %.4f s); %.1f images/s\n",
              quantile(server_s, 0.5), quantile(server_s, 0.9), counts.predicted_seconds, j["server_images_per_s"].get<double>());
  std::printf("  per op (median):");
  for (const auto& [label, v] : op_times) std::printf(" %s %.4f s;", label.c_str(), quantile(v, 0.5));
  std::printf("\n");
  std::printf("  client: encrypt + serialize median %.4f s, decrypt median %.4f s\n", quantile(encrypt_s, 0.5), quantile(decrypt_s, 0.5));
  std::printf("  bytes per image: up %.1f KiB, down %.1f KiB; keys once: Galois %.1f MiB (%zu steps), relinearization %.1f MiB\n",
              double(up_bytes) / n / 1024, double(down_bytes) / n / 1024, double(galois_bytes) / 1048576.0, prog.rotation_steps.size(),
              double(relin_bytes) / 1048576.0);
  std::printf("  set-up: compile %.2f s, keygen %.2f s, server plaintexts %.2f s (%.1f MiB)\n", compile_s, keygen_s, server_setup_s,
              double(server.plaintext_bytes()) / 1048576.0);
  if (!labels.empty()) {
    std::printf("  accuracy %.2f%% on encrypted data (float model %.2f%%), agreement with the float model %.2f%%\n", 100.0 * correct / n,
                100.0 * float_correct / n, 100.0 * agree / n);
  } else {
    std::printf("  agreement with the float model %.2f%%\n", 100.0 * agree / n);
    for (std::size_t i = 0; i < image_names.size() && i < predictions.size(); ++i)
      std::printf("  %s: %d\n", image_names[i].c_str(), predictions[i]);
  }
}

}  // namespace hecnn::app
