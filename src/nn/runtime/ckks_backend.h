// CKKS backend: the client (keys, encoding, encryption, decryption; the only code
// holding the secret key) and the server (evaluation with public keys only).
//
// The server runs the compiled integer program approximately (ckks_plan.h): a
// ciphertext of tensor t holds integer * factor(t). Linear layers multiply by the
// integer weights in the NTT domain (no level), products multiply factors, and
// each instruction's `rescale` primes are dropped after it.
//
// Complex packing (the default) puts image 2s in the real and image 2s+1 in the
// imaginary part of slot s, so one ciphertext carries N images. Linear layers
// (real weights) keep the two apart; a product of z = a + ib is taken part-wise:
//   u = z + conj(z) = 2a,  v = -i (z - conj(z)) = 2b,   out = u*u' + i v*v'
// (one conjugation key switch per operand; multiplying by +-i is the monomial
// X^(N/2), free of noise). The factor gains 4 = 2 * 2, which the plan accounts for.
// Costs per element of a product: 1 (square) or 2 conjugations, 2 tensor products.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

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
  // Execution order (compiler/schedule.h): layer order (default, fastest) or streaming
  // (bounded memory for deep networks). The results are the same either way.
  void set_streaming(bool on) { streaming_ = on; }
  bool streaming() const { return streaming_; }

 private:
  std::vector<EncryptedTensor> run(EncryptedTensor input, bool keep_all, std::vector<LayerTiming>* timings,
                                   const Progress& progress) const;
  // z -> (2 Re z, 2 Im z) as two real-valued ciphertexts (complex packing).
  void split(const rlwe::Ciphertext& z, rlwe::Ciphertext& re, rlwe::Ciphertext& im) const;
  // a *= i (the monomial X^(N/2)), in place; noise-free.
  void times_i(rlwe::Ciphertext& a) const;
  const compiler::Program& prog_;
  CkksEvaluationKeys keys_;
  bool streaming_ = false;
  std::unique_ptr<ckks::Evaluator> eval_;
  std::vector<std::uint64_t> i_ntt_;           // NTT of X^(N/2) per data prime (prime-major)
  std::vector<std::uint64_t> one_plus_i_ntt_;  // NTT of 1 + X^(N/2): a bias in both halves of every slot
};

}  // namespace hecnn::nn::runtime
