// CKKS backend: the client (keys, encoding, encryption, decryption; the only code
// holding the secret key) and the server (evaluation with public keys only).
//
// The server runs the compiled integer program approximately (ckks_plan.h): a
// ciphertext of tensor t holds integer * factor(t). Linear layers multiply by the
// integer weights in the NTT domain (no level), products multiply factors, and
// each instruction's `rescale` primes are dropped after it.
//
// Complex packing (the default, fhe/ckks/complex_packing.h) puts images 2s and 2s+1
// in slot s as a + mu b, so one ciphertext carries N images; products are taken
// part-wise (the factor gains 4, which the plan accounts for). Costs per element of
// a product: 1 (square) or 2 conjugations, 2 tensor products.
// The server runs the interpreter loop (compiler/executor.h) with CKKS operations.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "fhe/ckks/complex_packing.h"
#include "fhe/ckks/encoder.h"
#include "fhe/ckks/encryptor.h"
#include "fhe/ckks/evaluator.h"
#include "fhe/rlwe/keygen.h"
#include "math/prng.h"
#include "nn/compiler/program.h"
#include "nn/runtime/bfv_backend.h"

namespace hecnn::nn::runtime {

// What the server may see: parameters, relinearization and conjugation keys.
struct CkksEvaluationKeys {
  rlwe::ContextPtr context;
  rlwe::RelinKeys relin;      // empty if the program has no products
  rlwe::GaloisKeys galois;    // the conjugation key (complex packing with products)
};

class CkksClient {
 public:
  // Generates the secret key from `prng` (a SystemPrng outside tests) and the keys the program lists.
  CkksClient(const compiler::Program& prog, math::Prng& prng);
  ~CkksClient();
  std::size_t images_per_ciphertext() const;
  CkksEvaluationKeys evaluation_keys() const;
  // inputs[element][image] (at most images_per_ciphertext images; the rest are zero) ->
  // one ciphertext per element at the program's input level and factor. Spreads over the cores.
  EncryptedTensor encrypt(const std::vector<std::vector<std::int64_t>>& inputs) const;
  // -> values[element][image]: the program's integers, approximately (message / factor).
  std::vector<std::vector<double>> decrypt(const EncryptedTensor& cts, std::size_t images) const;
  // The ciphertexts as seeded SEAL 4.x objects (see BfvClient::serialize_seeded).
  std::vector<std::vector<std::uint8_t>> serialize_seeded(const EncryptedTensor& cts) const;

 private:
  const compiler::Program& prog_;
  math::Prng& prng_;          // must outlive the client; each encrypt draws one stream key from it
  mutable std::mutex prng_mu_;
  rlwe::ContextPtr ctx_;
  std::unique_ptr<rlwe::KeyGenerator> keygen_;
  rlwe::PublicKey pk_;
  rlwe::RelinKeys rk_;
  rlwe::GaloisKeys gk_;
  std::unique_ptr<ckks::Encoder> encoder_;
  std::unique_ptr<ckks::Encryptor> encryptor_;
  std::unique_ptr<ckks::Decryptor> decryptor_;
  std::unique_ptr<ckks::ComplexPacking> packing_;
};

class CkksServer {
 public:
  // Checks the keys against the program's parameters; throws std::invalid_argument otherwise.
  CkksServer(const compiler::Program& prog, CkksEvaluationKeys keys);
  ~CkksServer();
  // Runs the program on an encrypted batch; outputs in Program::outputs order.
  std::vector<EncryptedTensor> evaluate(EncryptedTensor input, std::vector<LayerTiming>* timings = nullptr,
                                        const Progress& progress = {}) const;
  // Every tensor after every instruction (tests: layer-by-layer comparison; keeps all memory).
  std::vector<EncryptedTensor> evaluate_all(EncryptedTensor input) const;
  // One party's part of the plan (compiler/parts.h) on its given tensors, each checked
  // against the plan first; the part's outputs in part.outputs order.
  std::vector<EncryptedTensor> evaluate_part(const compiler::ProgramPart& part, std::vector<std::pair<int, EncryptedTensor>> given,
                                             std::vector<LayerTiming>* timings = nullptr, const Progress& progress = {}) const;
  // Execution order (compiler/schedule.h): layer order (default, fastest) or streaming
  // (bounded memory for deep networks). The results are the same either way.
  void set_streaming(bool on) { streaming_ = on; }
  bool streaming() const { return streaming_; }
  // Adds values[element][image] (real, the tensor's units) to t, encoded at each
  // ciphertext's scale and level: the coordinator's DP noise. O(elements) encodes.
  void add_values(EncryptedTensor& t, const std::vector<std::vector<double>>& values) const;

 private:
  std::vector<EncryptedTensor> run(EncryptedTensor input, bool keep_all, std::vector<LayerTiming>* timings,
                                   const Progress& progress) const;
  const compiler::Program& prog_;
  CkksEvaluationKeys keys_;
  bool streaming_ = false;
  std::unique_ptr<ckks::Evaluator> eval_;
  std::unique_ptr<ckks::ComplexPacking> packing_;
};

}  // namespace hecnn::nn::runtime
