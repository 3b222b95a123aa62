// libFuzzer target: compiled plan files (nn::compiler::parse_plan, what
// `hecnn infer --load-plan` reads). First byte bit 0 set: the
// target fixes the payload length and appends the right BLAKE2b-256 digest, so
// mutations reach the parser and validate_program instead of stopping at the
// digest. A PlanError is the expected outcome.
#include <blake2.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "nn/compiler/compiler.h"
#include "nn/compiler/plan_io.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::vector<std::uint8_t> bytes(data + 1, data + size);
  if ((data[0] & 1) && bytes.size() >= 24) {
    const std::uint64_t payload = bytes.size() - 24;
    std::memcpy(bytes.data() + 16, &payload, 8);  // little-endian host
    std::uint8_t d[32];
    blake2b(d, bytes.data(), nullptr, 32, bytes.size(), 0);
    bytes.insert(bytes.end(), d, d + 32);
  }
  try {
    const auto p = hecnn::nn::compiler::parse_plan(bytes);
    (void)hecnn::nn::compiler::cost(p);
  } catch (const hecnn::nn::compiler::PlanError&) {
  }
  return 0;
}
