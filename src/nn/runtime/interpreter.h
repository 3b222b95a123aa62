// What the HE interpreters (bfv_backend, ckks_backend) share: the tensor type,
// per-layer timings, progress callbacks, and the bookkeeping of a layer-by-layer
// run (liveness, freeing, collecting the outputs).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "fhe/rlwe/ciphertext.h"
#include "nn/compiler/program.h"

namespace hecnn::nn::runtime {

using EncryptedTensor = std::vector<rlwe::Ciphertext>;

// Per-layer timing of a server run.
struct LayerTiming {
  std::string layer;   // e.g. "m0/conv1", "ensemble"
  double seconds = 0;              // wall clock
  double cpu_seconds = 0;          // process CPU time (all threads) while the layer ran
  std::size_t ciphertexts_out = 0;
};

// Progress callback: (instructions done, instructions total, label of the current one).
using Progress = std::function<void(std::size_t, std::size_t, const std::string&)>;

// Layer name of an instruction label: its first two path parts ("m0/conv1/relin" -> "m0/conv1"),
// "ensemble" for the coordinator's instructions.
std::string layer_of(const std::string& label);

namespace detail {

// Process CPU time, all threads (getrusage).
double process_cpu_seconds();

// When each tensor is read for the last time; outputs (everything with keep_all) are kept.
class Liveness {
 public:
  Liveness(const compiler::Program& prog, bool keep_all);
  // Tensor t is not needed after instruction i.
  bool dies(int t, std::size_t i) const { return !keep_[std::size_t(t)] && last_[std::size_t(t)] == i; }

 private:
  std::vector<std::size_t> last_;
  std::vector<bool> keep_;
};

// Takes tensor t if this is its last use, else copies it.
inline EncryptedTensor take(std::vector<EncryptedTensor>& val, int t, bool last_use) {
  if (last_use) return std::move(val[std::size_t(t)]);
  return val[std::size_t(t)];
}

// Adds one instruction's times to its layer's entry (created on first use).
void add_timing(std::vector<LayerTiming>& timings, const std::string& label, double wall, double cpu, std::size_t outs);

// The program's outputs, moved out of `val` (copied where one tensor is listed twice).
std::vector<EncryptedTensor> collect_outputs(const compiler::Program& prog, std::vector<EncryptedTensor>& val);

}  // namespace detail
}  // namespace hecnn::nn::runtime
