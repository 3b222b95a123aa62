// Single-image CKKS inference (compiler/packed.h): the client (keys, packing,
// encryption, decryption; the only holder of the secret key) and the server (the
// packed interpreter loop on ciphertexts, with evaluation keys only).
//
// The server encodes every diagonal and bias of the plan once, at construction, at
// the level and exact scale the plan fixes (a linear op's diagonals at the scale of the
// prime it drops, so that the scale is unchanged after the rescale), unless they would
// take more than `max_plaintext_bytes`; then they are encoded on the fly per image.
// Costs per op: see describe_packed(); babies of one ciphertext are hoisted.
// Thread safety: evaluate() is const and may run concurrently (one image each).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "fhe/ckks/encoder.h"
#include "fhe/ckks/encryptor.h"
#include "fhe/ckks/evaluator.h"
#include "fhe/rlwe/keygen.h"
#include "fhe/wire/container.h"
#include "math/prng.h"
#include "nn/compiler/packed.h"
#include "nn/compiler/packed_executor.h"

namespace hecnn::nn::runtime {

struct PackedEvaluationKeys {
  rlwe::ContextPtr context;
  rlwe::RelinKeys relin;     // empty when the plan has no products
  rlwe::GaloisKeys galois;   // exactly the plan's rotation steps
};

// The CKKS context of a packed plan (128-bit checked by the core).
rlwe::ContextPtr packed_context(const compiler::PackedProgram& prog);

class PackedClient {
 public:
  // Secret key from `prng` (a SystemPrng outside tests); relinearization and the Galois
  // keys of the plan's steps (`steps` overrides them: tests of missing keys).
  PackedClient(const compiler::PackedProgram& prog, math::Prng& prng);
  PackedClient(const compiler::PackedProgram& prog, math::Prng& prng, const std::vector<int>& steps);
  ~PackedClient();
  PackedEvaluationKeys evaluation_keys() const;
  // The same, moved out of the client (no copy: deep plans have GiBs of Galois keys);
  // evaluation_keys() throws std::logic_error afterwards.
  PackedEvaluationKeys take_evaluation_keys();
  // One raw image (bytes, CHW) -> the plan's input ciphertexts (symmetric encryption).
  std::vector<rlwe::Ciphertext> encrypt(const std::uint8_t* raw, std::size_t bytes) const;
  // Up to K images (the plan's images_per_ciphertext) in one request.
  std::vector<rlwe::Ciphertext> encrypt_images(const std::vector<const std::uint8_t*>& raws, std::size_t bytes) const;
  // The input ciphertexts as SEAL 4.x objects, seeded (c1 from a 64-byte seed) and
  // compressed as asked: what a client uploads. Round trip with read_input().
  std::vector<std::vector<std::uint8_t>> serialize(const std::vector<rlwe::Ciphertext>& cts,
                                                   wire::Compression compression) const;
  // Class scores (the trailing affine map applied) of image 0, or of the first `count` images.
  std::vector<double> decrypt(const std::vector<rlwe::Ciphertext>& out) const;
  std::vector<std::vector<double>> decrypt_images(const std::vector<rlwe::Ciphertext>& out, std::size_t count) const;
  // Every slot of each ciphertext (tests).
  std::vector<std::vector<double>> decrypt_slots(const std::vector<rlwe::Ciphertext>& cts) const;

 private:
  const compiler::PackedProgram& prog_;
  math::Prng& prng_;
  mutable std::mutex prng_mu_;
  rlwe::ContextPtr ctx_;
  std::unique_ptr<rlwe::KeyGenerator> keygen_;
  rlwe::RelinKeys rk_;
  rlwe::GaloisKeys gk_;
  bool keys_taken_ = false;
  std::unique_ptr<ckks::Encoder> encoder_;
  std::unique_ptr<ckks::Encryptor> encryptor_;
  std::unique_ptr<ckks::Decryptor> decryptor_;
};

// Serialized ciphertexts (SEAL 4.x) back to core ciphertexts under the plan's
// parameters; every reader bound applies. Throws wire errors naming the problem.
std::vector<rlwe::Ciphertext> read_packed_ciphertexts(const compiler::PackedProgram& prog,
                                                      const std::vector<std::vector<std::uint8_t>>& files);
// Serialized size of ciphertexts as the server returns them (compressed as asked).
std::size_t packed_wire_bytes(const compiler::PackedProgram& prog, const std::vector<rlwe::Ciphertext>& cts,
                              wire::Compression compression);

class PackedServer {
 public:
  // Checks the keys against the plan: parameters, relinearization when needed, and a
  // Galois key for every rotation step; throws std::invalid_argument naming the first
  // missing step (and the op that needs it) before any work.
  PackedServer(const compiler::PackedProgram& prog, PackedEvaluationKeys keys,
               std::size_t max_plaintext_bytes = kDefaultPlaintextCacheBytes);
  // Keys shared with other servers (an ensemble's members): no copy.
  PackedServer(const compiler::PackedProgram& prog, std::shared_ptr<const PackedEvaluationKeys> keys,
               std::size_t max_plaintext_bytes = kDefaultPlaintextCacheBytes);
  static constexpr std::size_t kDefaultPlaintextCacheBytes = std::size_t(2) << 30;
  ~PackedServer();
  std::vector<rlwe::Ciphertext> evaluate(std::vector<rlwe::Ciphertext> input,
                                         const compiler::PackedExecOptions& opt = {}) const;
  // The result of every op (tests: op-by-op comparison with the simulator).
  std::vector<std::vector<rlwe::Ciphertext>> evaluate_all(std::vector<rlwe::Ciphertext> input) const;
  std::size_t plaintext_bytes() const { return plaintext_bytes_; }
  // Every op's plaintexts encoded at construction (else the ops beyond the cache
  // budget encode theirs per image).
  bool plaintexts_cached() const { return cached_; }
  std::size_t cached_plaintext_bytes() const { return cached_bytes_; }

  // The backend of the interpreter loop (compiler/packed_executor.h).
  class Backend;

 private:
  ckks::Plaintext encode_diag(std::size_t op, std::size_t u, std::size_t g, std::size_t d) const;
  const compiler::PackedProgram& prog_;
  std::shared_ptr<const PackedEvaluationKeys> keys_;
  std::unique_ptr<ckks::Encoder> encoder_;
  std::unique_ptr<ckks::Evaluator> eval_;
  // diagonals [op][out_ct][giant][diag]; bias [op][out_ct] (an op's lists are empty when
  // its plaintexts are encoded on the fly)
  std::vector<std::vector<std::vector<std::vector<ckks::Plaintext>>>> diag_pts_;
  std::vector<std::vector<ckks::Plaintext>> bias_pts_;
  std::vector<char> op_cached_;
  std::size_t plaintext_bytes_ = 0, cached_bytes_ = 0;
  bool cached_ = false;
  std::unique_ptr<Backend> backend_;
};

// The members of a single-image ensemble (compiler::PackedEnsemble) on one input: each
// member's server, then the sum of their outputs (equal levels and scales by
// construction). The keys must cover the union of the members' rotation steps.
class PackedEnsembleServer {
 public:
  // The members share the keys (one copy).
  // `max_plaintext_bytes`: the plaintext cache of all members together (each member gets
  // what the ones before it left).
  PackedEnsembleServer(const compiler::PackedEnsemble& ens, PackedEvaluationKeys keys,
                       std::size_t max_plaintext_bytes = PackedServer::kDefaultPlaintextCacheBytes);
  std::vector<rlwe::Ciphertext> evaluate(const std::vector<rlwe::Ciphertext>& input,
                                         std::vector<compiler::LayerTiming>* timings = nullptr) const;
  std::size_t plaintext_bytes() const;
  std::size_t cached_plaintext_bytes() const;

 private:
  const compiler::PackedEnsemble& ens_;
  std::vector<std::unique_ptr<PackedServer>> servers_;
  std::unique_ptr<ckks::Evaluator> eval_;
};

}  // namespace hecnn::nn::runtime
