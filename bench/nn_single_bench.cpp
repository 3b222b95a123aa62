// Single-image (packed) CKKS inference latency (compiler/packed.h, runtime/packed_backend.h):
// server evaluation of one image per iteration, keys and plaintexts made outside the timed
// region, at 128-bit security; names carry the model, N, primes and the Galois keys. Also
// the rotation primitives the plans are made of, at the CryptoNets plan's parameters:
// one rotation, and one of a hoisted group.
//
//   taskset -c 0,1 ./build/bench/nn_single_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   ... --benchmark_filter='cryptonets|tenseal1|rotate'   # the quick ones (the deep networks take minutes)
// Needs the model files and the datasets (bash scripts/setup.sh); skipped otherwise.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "fhe/ckks/encoder.h"
#include "fhe/ckks/encryptor.h"
#include "fhe/ckks/evaluator.h"
#include "fhe/ckks/presets.h"
#include "fhe/rlwe/keygen.h"
#include "math/prng.h"
#include "nn/compiler/packed.h"
#include "nn/model/dataset.h"
#include "nn/model/forward.h"
#include "nn/model/model_io.h"
#include "nn/runtime/inference.h"
#include "nn/runtime/packed_backend.h"

namespace {

using namespace hecnn;
using namespace hecnn::nn;

struct Loaded {
  Model model;
  Dataset test, train;
};

bool load(benchmark::State& state, const std::string& path, const std::string& dataset, Loaded& out) {
  if (!std::filesystem::exists(path)) {
    state.SkipWithError(("missing " + path).c_str());
    return false;
  }
  try {
    out.model = read_model(path);
    out.test = load_named_dataset(dataset, false);
    out.train = load_named_dataset(dataset, true);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return false;
  }
  return true;
}

void BM_single(benchmark::State& state, const std::string& path, const std::string& dataset) {
  Loaded in;
  if (!load(state, path, dataset, in)) return;
  compiler::PackedOptions opt;
  for (std::size_t i = 0; i < 256; ++i)
    opt.calibration.emplace_back(in.train.image(i), in.train.image(i) + in.train.image_size());
  const auto prog = compiler::compile_packed(in.model, opt);
  math::DeterministicPrngForTests prng(1);
  runtime::PackedClient client(prog, prng);
  // Keys moved into the server (deep plans have GiBs); plaintexts cached up to half the memory.
  runtime::PackedServer server(prog, client.take_evaluation_keys(),
                               std::max(runtime::PackedServer::kDefaultPlaintextCacheBytes, runtime::available_memory_bytes() / 2));
  std::size_t i = 0;
  std::size_t correct = 0, n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto cts = client.encrypt(in.test.image(i % in.test.count()), in.test.image_size());
    state.ResumeTiming();
    auto out = server.evaluate(std::move(cts));
    state.PauseTiming();
    correct += argmax(client.decrypt(out)) == in.test.labels[i % in.test.count()];
    ++n;
    ++i;
    state.ResumeTiming();
  }
  double logq = 0;
  for (auto q : prog.coeff_modulus) logq += std::log2(double(q));
  state.counters["N"] = double(prog.poly_degree);
  state.counters["primes"] = double(prog.coeff_modulus.size());
  state.counters["log2q"] = logq;
  state.counters["galois_keys"] = double(prog.rotation_steps.size());
  state.counters["galois_MiB"] = double(compiler::packed_galois_key_bytes(prog)) / 1048576.0;
  state.counters["rotations"] = double(compiler::count_packed(prog).rotations);
  state.counters["accuracy"] = n ? double(correct) / double(n) : 0.0;
  state.SetLabel("N=" + std::to_string(prog.poly_degree) + " primes=" + std::to_string(prog.coeff_modulus.size()) + " logq=" +
                 std::to_string(int(std::lround(logq))) + " galois_keys=" + std::to_string(prog.rotation_steps.size()) + " (" +
                 std::to_string(compiler::packed_galois_key_bytes(prog) >> 20) + " MiB), " + prog.input_packing + " input, " +
                 std::to_string(prog.input_layout.cts) + " ct");
}

// Rotation primitives at N = 8192 with the CryptoNets plan's chain (7 primes, 218 bits).
struct RotSetup {
  rlwe::ContextPtr ctx;
  std::unique_ptr<math::DeterministicPrngForTests> prng;
  std::unique_ptr<rlwe::KeyGenerator> keygen;
  rlwe::GaloisKeys gk;
  std::unique_ptr<ckks::Evaluator> eval;
  rlwe::Ciphertext ct;
  std::vector<int> steps;
  static RotSetup& get() {
    static RotSetup s;
    return s;
  }

 private:
  RotSetup() {
    ctx = rlwe::Context::create(ckks::ckks_literal(8192, {38, 28, 28, 28, 28, 28, 40}));
    prng = std::make_unique<math::DeterministicPrngForTests>(3);
    keygen = std::make_unique<rlwe::KeyGenerator>(ctx, *prng);
    for (int s = 1; s <= 32; ++s) steps.push_back(s * 97);
    gk = keygen->create_galois_keys_for_steps(steps);
    eval = std::make_unique<ckks::Evaluator>(ctx);
    ckks::Encoder enc(ctx);
    ckks::Encryptor encr(ctx, keygen->secret_key());
    std::vector<double> v(4096, 0.25);
    ct = encr.encrypt(enc.encode(v, std::ldexp(1.0, 28)), *prng);
  }
};

void BM_rotate(benchmark::State& state) {
  auto& s = RotSetup::get();
  for (auto _ : state) {
    auto r = s.eval->rotate(s.ct, 97, s.gk);
    benchmark::DoNotOptimize(r.data.data());
  }
}

void BM_rotate_hoisted(benchmark::State& state) {
  auto& s = RotSetup::get();
  const std::vector<int> steps(s.steps.begin(), s.steps.begin() + state.range(0));
  for (auto _ : state) {
    auto r = s.eval->rotate_hoisted(s.ct, steps, s.gk);
    benchmark::DoNotOptimize(r.data());
  }
  state.counters["per_rotation_s"] = benchmark::Counter(double(state.range(0)), benchmark::Counter::kIsIterationInvariantRate |
                                                                                     benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK_CAPTURE(BM_single, cryptonets, std::string("models/cryptonets-x2-mnist.hecnn"), std::string("mnist"))
    ->Name("nn/single/cryptonets-mnist/ckks/128bit")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(5.0);
BENCHMARK_CAPTURE(BM_single, tenseal1, std::string("models/fashion-tenseal1-x2.hecnn"), std::string("fashion-mnist"))
    ->Name("nn/single/tenseal1-fashion/ckks/128bit")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(5.0);
// The deep networks: a minute of set-up (compile, keys, plaintexts), a few seconds per image.
BENCHMARK_CAPTURE(BM_single, tenseal2, std::string("models/fashion-tenseal2-x2.hecnn"), std::string("fashion-mnist"))
    ->Name("nn/single/tenseal2-fashion/ckks/128bit")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(5);
BENCHMARK_CAPTURE(BM_single, cryptodl2, std::string("models/cryptodl2-relu3-mnist.hecnn"), std::string("mnist"))
    ->Name("nn/single/cryptodl2-mnist/ckks/128bit")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK(BM_rotate)->Name("ckks/rotate/N=8192/primes=7/logq=218")->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_rotate_hoisted)->Name("ckks/rotate_hoisted/N=8192/primes=7/logq=218")->Arg(1)->Arg(8)->Arg(32)->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK_MAIN();
