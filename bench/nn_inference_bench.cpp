// Encrypted batch inference throughput: the CryptoNets network (models/cryptonets-x2-mnist.hecnn)
// on one full batch of MNIST test images, BFV at 128-bit security, and the default 3-member
// ensemble (models/default/member{0,1,2}.hecnn). Server evaluation only (keys and the encrypted
// batch are made once); counters: images/s, CPU seconds, peak RSS.
//
//   ./build/bench/nn_inference_bench --benchmark_filter=cryptonets
// Needs the model files and data/mnist (bash scripts/setup.sh); skipped otherwise.
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <filesystem>
#include <memory>

#include "nn/compiler/compiler.h"
#include "nn/model/dataset.h"
#include "nn/model/model_io.h"
#include "nn/runtime/bfv_backend.h"
#include "nn/runtime/inference.h"
#include "nn/runtime/simulator.h"

namespace {

using namespace hecnn::nn;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

void run_bench(benchmark::State& state, const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    if (!std::filesystem::exists(p)) {
      state.SkipWithError(("missing " + p).c_str());
      return;
    }
  }
  Dataset test;
  try {
    test = load_named_dataset("mnist", false);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  std::vector<Model> members;
  for (const auto& p : paths) members.push_back(read_model(p));
  compiler::CompileOptions opt;
  opt.input_bits = int(state.range(0));
  opt.weight_bits = int(state.range(1));
  compiler::EnsembleOptions ens;
  const auto prog = compiler::compile(members, ens, opt);
  const std::size_t n = prog.params.poly_degree, images = std::min(n, test.count());
  std::vector<std::vector<std::int64_t>> imgs;
  for (std::size_t i = 0; i < images; ++i) imgs.push_back(prog.quantize_input(test.image(i), test.image_size()));
  const auto slots = runtime::to_slots(imgs);
  hecnn::math::SystemPrng prng;
  runtime::BfvClient client(prog.params, !prog.keys.empty(), prng);
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

void BM_cryptonets(benchmark::State& state) { run_bench(state, {"models/cryptonets-x2-mnist.hecnn"}); }
void BM_ensemble3(benchmark::State& state) {
  run_bench(state, {"models/default/member0.hecnn", "models/default/member1.hecnn", "models/default/member2.hecnn"});
}

// Args: input bits, weight bits.
BENCHMARK(BM_cryptonets)->Name("nn/cryptonets/bfv/128bit")->Args({4, 5})->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_ensemble3)->Name("nn/ensemble3/bfv/128bit")->Args({4, 5})->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
