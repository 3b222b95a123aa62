// The scheme-agnostic client and server of a compiled plan: what a C++ user needs to run
// a model encrypted in a few lines, whatever the scheme (BFV with CRT over several
// plaintext primes, or CKKS).
//
//   auto prog = runtime::make_plan(models, req, &train);        // pipeline.h
//   math::SystemPrng prng;
//   runtime::Client client(prog, prng);                          // secret key stays here
//   runtime::Server server(prog, client.evaluation_keys());      // evaluation keys only
//   auto result = server.evaluate(client.encrypt(pixels, count));
//   auto scores = client.decrypt(result);                        // [output][image][class]
//
// The client quantizes raw CHW bytes the way the plan says, encrypts one ciphertext per
// input element per CRT residue (all images of the batch in its slots), and decrypts and
// CRT-recombines the outputs into real scores (logits, or the ensemble combiner's scores).
// The server never holds secret material. Both spread their work over the cores; call
// each from one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "math/prng.h"
#include "nn/compiler/parts.h"
#include "nn/compiler/program.h"
#include "nn/runtime/bfv_backend.h"
#include "nn/runtime/ckks_backend.h"
#include "nn/runtime/interpreter.h"

namespace hecnn::nn::runtime {

// One encrypted batch: one tensor (a ciphertext per input element) per CRT residue (BFV;
// CKKS has one). `images` of the batch's slots are used.
struct EncryptedBatch {
  std::vector<EncryptedTensor> residues;
  std::size_t images = 0;
};

// The encrypted outputs: outputs[residue][k] is Program::outputs[k] (a ciphertext per class).
struct EncryptedResult {
  std::vector<std::vector<EncryptedTensor>> residues;
  std::size_t images = 0;
};

// What the client sends to the server: public evaluation keys of the plan's scheme.
struct EvaluationKeys {
  compiler::Scheme scheme = compiler::Scheme::bfv;
  BfvEvaluationKeys bfv;
  CkksEvaluationKeys ckks;
};

class Client {
 public:
  // Generates the secret key(s) from `prng` (a SystemPrng outside tests; it must outlive the
  // client). Throws std::invalid_argument on an invalid plan.
  Client(const compiler::Program& prog, math::Prng& prng);
  ~Client();
  EvaluationKeys evaluation_keys() const;
  // Images one batch holds (Program::batch_capacity()).
  std::size_t batch_capacity() const;
  // `count` images of Program::input_shape bytes each (CHW, 0..255). Throws on count = 0
  // or count > batch_capacity().
  EncryptedBatch encrypt(const std::uint8_t* images, std::size_t count) const;
  // The batch as SEAL 4.x objects, seeded (about half the bytes of the plain objects):
  // objects[residue][element], what a client uploads (service/, docs/protocol.md).
  std::vector<std::vector<std::vector<std::uint8_t>>> serialize_input(const EncryptedBatch& batch) const;
  // scores[k][image][class] in real units for each Program::outputs[k].
  std::vector<std::vector<std::vector<double>>> decrypt(const EncryptedResult& result) const;

 private:
  const compiler::Program& prog_;
  std::unique_ptr<BfvClient> bfv_;
  std::unique_ptr<CkksClient> ckks_;
};

class Server {
 public:
  // Checks the keys against the plan; throws std::invalid_argument otherwise.
  Server(const compiler::Program& prog, EvaluationKeys keys);
  ~Server();
  // Runs the plan on the batch (every residue); optional per-layer timings and progress.
  EncryptedResult evaluate(EncryptedBatch batch, std::vector<LayerTiming>* timings = nullptr, const Progress& progress = {}) const;
  // CKKS: streaming execution order (compiler/schedule.h); BFV ignores it.
  void set_streaming(bool on);

  // The plan split between parties (compiler/parts.h). A model holder runs its member on
  // the batch: the result holds member `member`'s outputs, every other output empty.
  // The coordinator combines the members' results (one per member, in member order):
  // the result holds every output, the members' moved over and the combiner's computed.
  // Running every member and then combine() gives exactly what evaluate() does. Every
  // received ciphertext is checked against the plan before any work (std::invalid_argument).
  EncryptedResult evaluate_member(int member, EncryptedBatch batch, std::vector<LayerTiming>* timings = nullptr,
                                  const Progress& progress = {}) const;
  EncryptedResult combine(std::vector<EncryptedResult> members, std::vector<LayerTiming>* timings = nullptr) const;

 private:
  const compiler::Program& prog_;
  std::unique_ptr<BfvServer> bfv_;
  std::unique_ptr<CkksServer> ckks_;
};

}  // namespace hecnn::nn::runtime
