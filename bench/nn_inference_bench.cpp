// Encrypted batch inference throughput: the CryptoNets network (models/cryptonets-x2-mnist.hecnn)
// on one full batch of MNIST test images, BFV at 128-bit security, and the default 3-member
// ensemble (models/default/member{0,1,2}.hecnn); CryptoNets also with CKKS (complex packing:
// N images per ciphertext, and real packing: N/2), one full batch of prog.batch_capacity()
// images (the 10,000 test images repeated). Server evaluation only (keys and the encrypted
// batch are made outside the timed region); counters: images/s, CPU seconds, peak RSS (reset at the start of each
// benchmark where the kernel allows it, so it is that benchmark's own high-water mark).
//
//   ./build/bench/nn_inference_bench --benchmark_filter=cryptonets
//   HECNN_BENCH_DEEP=1 ./build/bench/nn_inference_bench --benchmark_filter=cryptodl2   (streaming, ~1 h)
// Needs the model files and data/mnist (bash scripts/setup.sh); skipped otherwise.
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <malloc.h>

#include <filesystem>
#include <fstream>
#include <cstdlib>
#include <memory>
#include <string>

#include "nn/compiler/compiler.h"
#include "nn/model/dataset.h"
#include "nn/model/model_io.h"
#include "nn/runtime/bfv_backend.h"
#include "nn/runtime/ckks_backend.h"
#include "nn/runtime/inference.h"
#include "nn/runtime/pipeline.h"
#include "nn/runtime/simulator.h"

namespace {

using namespace hecnn::nn;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Peak RSS (VmHWM) is per process: without a reset, a benchmark would report the high-water
// mark of an earlier, bigger one. Returns memory freed by earlier benchmarks to the OS, then
// resets VmHWM to the current RSS (Linux >= 4.0; silently a no-op where not allowed).
void reset_peak_rss() {
  malloc_trim(0);
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
}

// Loads the models and the MNIST test set; false (benchmark skipped) if any is missing.
bool load_inputs(benchmark::State& state, const std::vector<std::string>& paths, Dataset& test, std::vector<Model>& members) {
  for (const auto& p : paths) {
    if (!std::filesystem::exists(p)) {
      state.SkipWithError(("missing " + p).c_str());
      return false;
    }
  }
  try {
    test = load_named_dataset("mnist", false);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return false;
  }
  for (const auto& p : paths) members.push_back(read_model(p));
  return true;
}

// The integer schemes (BFV, BGV): one batch of N images per CRT prime's run.
void run_bench(benchmark::State& state, const std::vector<std::string>& paths,
               compiler::Scheme scheme = compiler::Scheme::bfv) {
  reset_peak_rss();
  Dataset test;
  std::vector<Model> members;
  if (!load_inputs(state, paths, test, members)) return;
  runtime::PlanRequest req;
  req.scheme = scheme;
  req.input_bits = int(state.range(0));
  req.weight_bits = int(state.range(1));
  const auto prog = runtime::make_plan(members, req, nullptr);
  const std::size_t n = prog.params.poly_degree, images = std::min(n, test.count());
  std::vector<std::vector<std::int64_t>> imgs;
  for (std::size_t i = 0; i < images; ++i) imgs.push_back(prog.quantize_input(test.image(i), test.image_size()));
  const auto slots = runtime::to_slots(imgs);
  hecnn::math::SystemPrng prng;
  runtime::BfvClient client(prog.params, !prog.keys.empty(), prng, prog.scheme);
  runtime::BfvServer server(prog, client.evaluation_keys());
  std::vector<runtime::EncryptedTensor> inputs;
  for (std::size_t r = 0; r < client.residues(); ++r) inputs.push_back(client.encrypt(r, slots, prog.instrs[0].level));
  double cpu = 0;
  for (auto _ : state) {
    const double c0 = cpu_seconds();
    for (std::size_t r = 0; r < client.residues(); ++r) {
      auto out = server.evaluate(r, inputs[r]);
      benchmark::DoNotOptimize(out);
    }
    cpu += cpu_seconds() - c0;
  }
  state.counters["images_per_s"] = benchmark::Counter(double(images) * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["cpu_s_per_batch"] = cpu / double(state.iterations());
  state.counters["crt_primes"] = double(prog.params.plain_moduli.size());
  state.counters["N"] = double(n);
  state.counters["peak_rss_MiB"] = double(runtime::peak_rss_bytes()) / (1024.0 * 1024.0);
  state.SetLabel(prog.description);
}

// CKKS: one ciphertext per input element holds prog.batch_capacity() images (N with complex
// packing, N/2 with real packing); the batch is filled by repeating the test images.
// Unlike the BFV benchmark (which copies its kept input into evaluate inside the timed loop),
// each iteration encrypts a fresh batch outside the timed region and moves it into evaluate.
void run_ckks_bench(benchmark::State& state, const std::vector<std::string>& paths, bool complex_packing, bool streaming = false) {
  reset_peak_rss();
  Dataset test;
  std::vector<Model> members;
  if (!load_inputs(state, paths, test, members)) return;
  runtime::PlanRequest req;
  req.scheme = compiler::Scheme::ckks;
  req.input_bits = int(state.range(0));
  req.weight_bits = int(state.range(1));
  req.coeff_bits = int(state.range(2));
  req.ckks_precision_bits = int(state.range(3));
  req.calibrate = std::size_t(state.range(4));  // as hecnn infer --calibrate k
  req.complex_packing = complex_packing;
  Dataset train;
  if (req.calibrate > 0) {
    try {
      train = load_named_dataset("mnist", true);
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return;
    }
  }
  const auto prog = runtime::make_plan(members, req, &train);
  const std::size_t images = prog.batch_capacity();
  std::vector<std::vector<std::int64_t>> imgs;
  for (std::size_t i = 0; i < images; ++i) {
    imgs.push_back(prog.quantize_input(test.image(i % test.count()), test.image_size()));
  }
  const auto slots = runtime::to_slots(imgs);
  imgs.clear();
  imgs.shrink_to_fit();
  hecnn::math::SystemPrng prng;
  runtime::CkksClient client(prog, prng);
  runtime::CkksServer server(prog, client.evaluation_keys());
  if (streaming) {
    server.set_streaming(true);
    runtime::return_freed_ciphertexts_to_the_system();  // as hecnn infer does for streaming runs
  }
  std::size_t input_bytes = 0;
  double cpu = 0;
  std::vector<runtime::LayerTiming> layers;
  for (auto _ : state) {
    // Encryption is not timed; evaluate consumes its input, as a server would (no second copy
    // of the 784-ciphertext batch in memory, so peak_rss_MiB is one batch's working set).
    state.PauseTiming();
    runtime::EncryptedTensor in = client.encrypt(slots);
    input_bytes = 0;
    for (const auto& ct : in) input_bytes += ct.data.size() * 8;
    state.ResumeTiming();
    const double c0 = cpu_seconds();
    auto out = server.evaluate(std::move(in), streaming ? &layers : nullptr);
    benchmark::DoNotOptimize(out);
    cpu += cpu_seconds() - c0;
  }
  // Per-layer wall seconds per batch (CryptoDL Table 3's breakdown).
  for (const auto& l : layers) state.counters["s_" + l.layer] = l.seconds / double(state.iterations());
  state.counters["images_per_s"] = benchmark::Counter(double(images) * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["cpu_s_per_batch"] = cpu / double(state.iterations());
  state.counters["N"] = double(prog.ckks.poly_degree);
  state.counters["data_primes"] = double(prog.ckks.data_primes());
  state.counters["images_per_ct"] = double(prog.ckks.images_per_ciphertext());
  state.counters["input_MiB"] = double(input_bytes) / (1024.0 * 1024.0);
  state.counters["peak_rss_MiB"] = double(runtime::peak_rss_bytes()) / (1024.0 * 1024.0);
  state.SetLabel(prog.description);
}

void BM_cryptonets(benchmark::State& state) { run_bench(state, {"models/cryptonets-x2-mnist.hecnn"}); }
void BM_cryptonets_bgv(benchmark::State& state) { run_bench(state, {"models/cryptonets-x2-mnist.hecnn"}, compiler::Scheme::bgv); }
void BM_cryptonets_ckks_complex(benchmark::State& state) {
  run_ckks_bench(state, {"models/cryptonets-x2-mnist.hecnn"}, true);
}
void BM_cryptonets_ckks_real(benchmark::State& state) {
  run_ckks_bench(state, {"models/cryptonets-x2-mnist.hecnn"}, false);
}
void BM_cryptodl2_ckks(benchmark::State& state) {
  run_ckks_bench(state, {"models/cryptodl2-relu3-mnist.hecnn"}, true, true);
}
void BM_ensemble3(benchmark::State& state) {
  run_bench(state, {"models/default/member0.hecnn", "models/default/member1.hecnn", "models/default/member2.hecnn"});
}

// Args: input bits, weight bits.
BENCHMARK(BM_cryptonets)->Name("nn/cryptonets/bfv/128bit")->Args({4, 5})->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_cryptonets_bgv)->Name("nn/cryptonets/bgv/128bit")->Args({4, 5})->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_ensemble3)->Name("nn/ensemble3/bfv/128bit")->Args({4, 5})->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
// Args: input bits, weight bits, activation coefficient bits, precision bits, calibration images
// (0: precision relative to the worst-case bounds; 8/10/12/20/512 are hecnn infer --scheme ckks's defaults).
BENCHMARK(BM_cryptonets_ckks_complex)
    ->Name("nn/cryptonets/ckks/complex/128bit")
    ->Args({8, 10, 12, 24, 0})
    ->Args({8, 10, 12, 20, 512})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();
BENCHMARK(BM_cryptonets_ckks_real)
    ->Name("nn/cryptonets/ckks/real/128bit")
    ->Args({8, 10, 12, 24, 0})
    ->Args({8, 10, 12, 20, 512})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace

// CryptoDL Model 2, streaming (an hour of 2 cores and ~12 GiB per batch): registered only
// with HECNN_BENCH_DEEP=1. Args as above, the defaults of hecnn infer --scheme ckks.
int main(int argc, char** argv) {
  if (const char* deep = std::getenv("HECNN_BENCH_DEEP"); deep && std::string(deep) == "1") {
    benchmark::RegisterBenchmark("nn/cryptodl2/ckks/complex/streaming/128bit", BM_cryptodl2_ckks)
        ->Args({8, 10, 12, 20, 512})
        ->Iterations(1)
        ->Unit(benchmark::kSecond)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
