// libFuzzer target: wire::read_parameters (and the chain built from them).
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto loaded = hecnn::wire::read_parameters(std::span<const std::uint8_t>(data, size));
    const hecnn::wire::Context ctx(loaded.parms);
    (void)ctx.levels();
  } catch (const hecnn::wire::FormatError&) {
  }
  return 0;
}
