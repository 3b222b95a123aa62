// One homomorphic evaluation applied to SEAL-format files: what a user
// scripting an interop check needs (`hecnn seal-eval`), and what the server
// does with a client's SEAL objects. Inputs are SEAL bytes (parameters,
// ciphertexts, optional plaintext / relinearization keys / Galois keys);
// the result is a SEAL ciphertext written with the version of the first input
// ciphertext (echoed to the client) and its compression unless overridden.
//
// Operations (BFV and BGV alike / CKKS):
//   add, sub              two ciphertexts
//   multiply              two ciphertexts; relinearized when relin keys are given;
//                         CKKS: then rescaled if `rescale`
//   square                one ciphertext, same rules as multiply
//   relinearize           needs relin keys
//   negate
//   add_plain, multiply_plain   needs a plaintext (BFV: coefficient form mod t;
//                         CKKS: NTT form at the ciphertext's level)
//   rotate_rows (BFV, BGV) / rotate (CKKS)  by `step`, needs Galois keys
//   rotate_columns (BFV, BGV) / conjugate (CKKS)  needs the Galois key 2N-1
//   mod_switch            drop the last data prime (CKKS: scale unchanged; BGV: the
//                         correction factor follows)
//   rescale               CKKS only: divide by the last data prime
// Errors: FormatError for malformed input, std::invalid_argument for a
// request that does not fit (missing key, wrong level, unknown operation).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fhe/bfv/level_tables.h"
#include "fhe/bgv/tables.h"
#include "fhe/rlwe/params.h"
#include "fhe/wire/objects.h"

namespace hecnn::wire {

struct EvalInputs {
  std::span<const std::uint8_t> parameters;
  std::vector<std::span<const std::uint8_t>> ciphertexts;  // 1 or 2
  std::optional<std::span<const std::uint8_t>> plaintext;
  std::optional<std::span<const std::uint8_t>> relin_keys;
  std::optional<std::span<const std::uint8_t>> galois_keys;
};

struct EvalRequest {
  std::string op;
  int step = 0;
  bool rescale = false;                       // CKKS multiply/square: rescale after
  std::optional<Compression> compression;     // default: that of the first ciphertext
  bool enforce_128bit_security = true;
  ReadOptions read;                           // quotas for the inputs
};

struct EvalResult {
  std::vector<std::uint8_t> bytes;
  CiphertextData ciphertext;  // what was written (metadata + data)
};

// The parameters, read and validated once, with the core's tables: what a
// model holder keeps for a session's many requests (building the NTT and RNS
// tables is most of a small request's cost). Immutable; usable from many
// threads.
class EvalContext {
 public:
  EvalContext(std::span<const std::uint8_t> parameters, bool enforce_128bit_security = true);
  const Context& wire() const { return wire_; }
  const rlwe::ContextPtr& core() const { return core_; }
  const bfv::BfvTablesPtr& bfv_tables() const { return bfv_; }  // BFV only
  const bgv::BgvTablesPtr& bgv_tables() const { return bgv_; }  // BGV only

 private:
  Context wire_;
  rlwe::ContextPtr core_;
  bfv::BfvTablesPtr bfv_;
  bgv::BgvTablesPtr bgv_;
};

// `in.parameters` is ignored here: the context's parameters apply.
EvalResult evaluate(const EvalContext& ctx, const EvalInputs& in, const EvalRequest& req);
// Reads in.parameters (req.enforce_128bit_security) and evaluates.
EvalResult evaluate(const EvalInputs& in, const EvalRequest& req);

}  // namespace hecnn::wire
