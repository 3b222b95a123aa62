// Encrypted batch inference end to end (Algorithm 1 of seed 001), in one process:
// the client quantizes and encrypts a batch of images, the model holders and the
// coordinator evaluate the compiled program (members, then the ensemble combiner)
// on ciphertexts with evaluation keys only, and the client decrypts, recombines the
// CRT residues and takes the argmax. Each batch is also checked against the
// quantized plaintext model (the same program on exact integers) and the float model.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "nn/compiler/compiler.h"
#include "nn/compiler/program.h"
#include "nn/model/model.h"
#include "nn/runtime/bfv_backend.h"
#include "nn/runtime/ckks_backend.h"

namespace hecnn::nn::runtime {

struct InferOptions {
  std::size_t batch = 0;         // images per encrypted batch; 0: a full ciphertext (Program::batch_capacity)
  bool check_quantized = true;   // compare every output integer with the exact quantized model
  bool progress = false;         // progress bar on stderr
  bool noise_budget = true;      // client measures the remaining noise budget of the outputs
  // CKKS execution order (compiler/schedule.h): -1 automatic (layer order when its memory
  // estimate fits memory_limit, else streaming), 0 layer order, 1 streaming.
  int streaming = -1;
  std::size_t memory_limit = 0;  // bytes for ciphertexts and keys; 0: 80% of MemAvailable
};

struct OutputReport {
  std::string name;              // "m0", ..., "ensemble"
  std::size_t correct = 0;       // encrypted prediction == label
  std::size_t plain_correct = 0; // float model prediction == label
  std::size_t quant_correct = 0; // quantized plaintext model prediction == label
  std::size_t agree_float = 0;   // encrypted prediction == float model prediction
  std::size_t agree_quantized = 0;  // encrypted prediction == quantized plaintext prediction
  std::size_t exact_scores = 0;  // images whose every decrypted score equals the quantized model's
  int min_noise_budget = 1 << 30;  // BFV
  double max_error = 0;          // CKKS: largest |decrypted - quantized model| over all scores (real units)
  double max_score = 0;          // CKKS: largest |quantized model score| seen (real units)
  std::vector<int> predictions;  // encrypted prediction per image, in input order
  std::vector<std::vector<double>> scores;  // decrypted class scores (real units) of the first kReportedScores images
};

inline constexpr std::size_t kReportedScores = 100;

struct InferReport {
  std::string scheme = "BFV";
  bool streaming = false;            // CKKS: streaming execution order was used
  std::size_t estimated_bytes = 0;   // CKKS: the schedule's ciphertext estimate plus the keys
  std::size_t images = 0, batches = 0;
  std::vector<OutputReport> outputs;
  std::vector<LayerTiming> layers;   // server time per layer, summed over batches and CRT residues
  double keygen_s = 0, encrypt_s = 0, evaluate_s = 0, decrypt_s = 0, total_s = 0;
  double evaluate_cpu_s = 0;         // CPU time of the server evaluation, all threads (robust to a busy machine)
  std::size_t input_bytes = 0, output_bytes = 0, key_bytes = 0;
  std::size_t peak_rss_bytes = 0;
  double images_per_second() const { return evaluate_s > 0 ? double(images) / evaluate_s : 0; }
};

// The float reference for one image: member logits and the combined scores: the plan's
// combiner instructions (any combiner) run in double precision on the float logits, in
// the program's units (the mean combiner's scores are sums over the members).
std::vector<std::vector<double>> float_reference(const compiler::Program& prog, std::span<const Model> members,
                                                 const std::uint8_t* image);

// Runs `count` images (CHW bytes, image_size each) with labels. Throws on bad input.
InferReport run_bfv(const compiler::Program& prog, std::span<const Model> members, const std::uint8_t* images,
                    std::size_t count, std::size_t image_size, const std::uint8_t* labels, const InferOptions& opt);

// The same with CKKS (prog.scheme == ckks): predictions are compared with the float
// model (agree_float) and the quantized integer model (agree_quantized, max_error).
InferReport run_ckks(const compiler::Program& prog, std::span<const Model> members, const std::uint8_t* images,
                     std::size_t count, std::size_t image_size, const std::uint8_t* labels, const InferOptions& opt);

// Dispatches on prog.scheme.
InferReport run_encrypted(const compiler::Program& prog, std::span<const Model> members, const std::uint8_t* images,
                          std::size_t count, std::size_t image_size, const std::uint8_t* labels, const InferOptions& opt);

// The quantized plaintext model alone (exact integers, no encryption): accuracy and
// agreement with the float model. Fills the outputs' correct / plain_correct / agree_float
// (agree_quantized and exact_scores are trivially all images). Fast: for choosing precision.
InferReport run_quantized(const compiler::Program& prog, std::span<const Model> members, const std::uint8_t* images,
                          std::size_t count, std::size_t image_size, const std::uint8_t* labels);

// CKKS calibration: runs the quantized program on `count` images (in doubles), records
// each tensor's largest |integer| (Instr::log2_calibrated) and replans the CKKS
// parameters so precision is kept relative to those ranges (compiler/ckks_plan.h).
// Use images the test set does not contain (e.g. a few hundred training images).
void calibrate_ckks(compiler::Program& prog, const compiler::CompileOptions& opt, const std::uint8_t* images,
                    std::size_t count, std::size_t image_size);

// Memory the kernel reports as available (MemAvailable, bytes); 0 if unknown.
std::size_t available_memory_bytes();

// Peak resident memory of this process so far (bytes), from /proc/self/status.
std::size_t peak_rss_bytes();

// Memory-bounded (streaming) runs, whose estimate counts live ciphertexts: makes freed
// ciphertexts leave the process at once (glibc: a fixed mmap threshold of 256 KiB; no
// effect elsewhere). Process-wide; run_ckks calls it for streaming runs. Cost: page
// faults on every new ciphertext, a few percent at N = 16384.
void return_freed_ciphertexts_to_the_system();

}  // namespace hecnn::nn::runtime
