// BFV and BGV backend (the exact integer programs): the client (keys, encryption,
// decryption; the only code holding the secret key) and the server (evaluation with
// public evaluation keys only). The scheme is the program's (Program::scheme); BGV
// ciphertexts are in NTT form and carry a correction factor, which decryption removes.
//
// One context per CRT plaintext prime ("residue"); the program runs once per
// residue. The server runs the interpreter loop (compiler/executor.h) layer by layer
// (or streaming) and frees every tensor after its last use, so memory stays near the
// compiler's peak estimate for one residue.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fhe/bfv/batch_encoder.h"
#include "fhe/bfv/encryptor.h"
#include "fhe/bfv/evaluator.h"
#include "fhe/bgv/encryptor.h"
#include "fhe/bgv/evaluator.h"
#include "fhe/rlwe/keygen.h"
#include "math/prng.h"
#include "nn/compiler/parts.h"
#include "nn/compiler/executor.h"
#include "nn/compiler/program.h"
#include "nn/runtime/interpreter.h"

namespace hecnn::nn::runtime {

// Everything the server may see for one residue: parameters and relinearization keys.
struct BfvEvaluationKeys {
  std::vector<rlwe::ContextPtr> contexts;    // one per plaintext prime
  std::vector<rlwe::RelinKeys> relin;        // one per plaintext prime (empty if not needed)
};

class BfvClient {
 public:
  // Generates one secret key per plaintext prime from `prng` (a SystemPrng outside tests).
  // scheme: bfv or bgv (std::invalid_argument otherwise).
  BfvClient(const compiler::BfvParams& params, bool need_relin, math::Prng& prng, compiler::Scheme scheme = compiler::Scheme::bfv);
  ~BfvClient();
  std::size_t residues() const;
  std::size_t slot_count() const;
  BfvEvaluationKeys evaluation_keys() const;
  // inputs[element][slot] (at most N slots; the rest are zero) -> one ciphertext per element,
  // encrypted with the public key at `level` data primes. Spreads over the cores.
  EncryptedTensor encrypt(std::size_t residue, const std::vector<std::vector<std::int64_t>>& inputs, int level) const;
  // -> values[element][slot] in [0, t).
  std::vector<std::vector<std::uint64_t>> decrypt(std::size_t residue, const EncryptedTensor& cts, std::size_t slots) const;
  int noise_budget(std::size_t residue, const rlwe::Ciphertext& ct) const;
  // The ciphertexts as SEAL 4.x objects, seeded (c1 from a 64-byte seed, c0 adjusted with the
  // secret key, so they decrypt the same): about half the bytes. Spreads over the cores.
  std::vector<std::vector<std::uint8_t>> serialize_seeded(std::size_t residue, const EncryptedTensor& cts) const;
  std::uint64_t plain_modulus(std::size_t residue) const;
  compiler::Scheme scheme() const { return scheme_; }

 private:
  struct Residue;
  compiler::Scheme scheme_;
  std::vector<std::unique_ptr<Residue>> res_;
  math::Prng& prng_;          // must outlive the client; each encrypt draws one stream key from it
  mutable std::mutex prng_mu_;
};

// An integer-valued double (any magnitude below 2^1000) mod t, exactly.
std::uint64_t integer_double_mod(double v, std::uint64_t t);

class BfvServer {
 public:
  // Checks that the keys' parameters (and scheme) are the program's; throws
  // std::invalid_argument otherwise.
  BfvServer(const compiler::Program& prog, BfvEvaluationKeys keys);
  ~BfvServer();
  // Runs the whole program on one residue's encrypted input. Returns the outputs in
  // Program::outputs order. `timings` gets one entry per layer (accumulated).
  std::vector<EncryptedTensor> evaluate(std::size_t residue, EncryptedTensor input, std::vector<LayerTiming>* timings = nullptr,
                                        const Progress& progress = {}) const;
  // Every tensor after every instruction (tests: layer-by-layer comparison; keeps all memory).
  std::vector<EncryptedTensor> evaluate_all(std::size_t residue, EncryptedTensor input) const;
  // One party's part of the plan (compiler/parts.h) on its given tensors (the input for a
  // member, the members' outputs for the combiner), each checked against the plan first.
  // Returns the part's outputs in part.outputs order.
  std::vector<EncryptedTensor> evaluate_part(std::size_t residue, const compiler::ProgramPart& part,
                                             std::vector<std::pair<int, EncryptedTensor>> given,
                                             std::vector<LayerTiming>* timings = nullptr, const Progress& progress = {}) const;
  // Execution order (compiler/schedule.h): layer order (default) or streaming (bounded
  // memory). The results are the same either way.
  void set_streaming(bool on) { streaming_ = on; }
  bool streaming() const { return streaming_; }
  // Adds values[element][slot] (integer-valued doubles of any magnitude, reduced exactly mod
  // the residue's t) to t: the coordinator's DP noise. One encode and plaintext addition per element.
  void add_values(std::size_t residue, EncryptedTensor& t, const std::vector<std::vector<double>>& values) const;

 private:
  std::vector<EncryptedTensor> run(std::size_t residue, EncryptedTensor input, bool keep_all, std::vector<LayerTiming>* timings,
                                   const Progress& progress) const;
  std::vector<EncryptedTensor> execute_given(std::size_t residue, const compiler::Schedule& sch,
                                             std::vector<std::pair<int, EncryptedTensor>> given, const compiler::ExecOptions& opt) const;
  const compiler::Program& prog_;
  BfvEvaluationKeys keys_;
  bool streaming_ = false;
  bool bgv_ = false;
  std::vector<bfv::BfvTablesPtr> tables_;            // BFV
  std::vector<std::unique_ptr<bfv::Evaluator>> eval_;
  std::vector<bgv::BgvTablesPtr> bgv_tables_;        // BGV
  std::vector<std::unique_ptr<bgv::Evaluator>> bgv_eval_;
};

}  // namespace hecnn::nn::runtime
