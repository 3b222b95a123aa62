// libFuzzer target: seal-eval's evaluation path (wire::evaluate: read the SEAL
// objects, convert them to the core's types, apply one operation, write the
// result), what a model holder does with a client's bytes.
//   byte 0: context (fuzz_common.h); byte 1: operation (low 4 bits), bit 4 =
//   rescale; byte 2: rotation step (signed); then up to five length-prefixed
//   (u32 LE) objects: ciphertext, second ciphertext, plaintext, relin keys,
//   Galois keys (a zero length leaves an optional one out).
// Expected outcomes: FormatError (malformed object) or std::invalid_argument
// (the request does not fit); anything else is a bug.
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "fhe/wire/core_eval.h"
#include "fuzz_common.h"

namespace {

const char* const kOps[16] = {"add",      "sub",         "negate",         "multiply",    "square",   "relinearize",
                              "add_plain", "multiply_plain", "rotate_rows", "rotate",     "rotate_columns",
                              "conjugate", "mod_switch",  "rescale",        "add",         "multiply"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hecnn::wire;
  if (size < 3) return 0;
  // One EvalContext per parameter set, as a model holder keeps one per session.
  static const EvalContext* contexts[8] = {};
  const EvalContext*& ectx = contexts[data[0] & 7];
  if (!ectx) ectx = new EvalContext(write_parameters(fuzz::context(data[0]).parms()));
  std::vector<std::span<const std::uint8_t>> parts;
  std::size_t pos = 3;
  while (parts.size() < 5 && pos + 4 <= size) {
    std::uint32_t len;
    std::memcpy(&len, data + pos, 4);
    pos += 4;
    len = static_cast<std::uint32_t>(std::min<std::size_t>(len, size - pos));
    parts.emplace_back(data + pos, len);
    pos += len;
  }
  if (parts.empty() || parts[0].empty()) return 0;
  EvalInputs in;
  in.ciphertexts.push_back(parts[0]);
  if (parts.size() > 1 && !parts[1].empty()) in.ciphertexts.push_back(parts[1]);
  if (parts.size() > 2 && !parts[2].empty()) in.plaintext = parts[2];
  if (parts.size() > 3 && !parts[3].empty()) in.relin_keys = parts[3];
  if (parts.size() > 4 && !parts[4].empty()) in.galois_keys = parts[4];
  EvalRequest req;
  req.op = kOps[data[1] & 15];
  req.rescale = (data[1] & 16) != 0;
  req.step = static_cast<std::int8_t>(data[2]);
  try {
    (void)evaluate(*ectx, in, req);
  } catch (const FormatError&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
