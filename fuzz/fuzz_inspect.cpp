// libFuzzer target: wire::describe (`hecnn inspect`) on arbitrary bytes, with
// and without parameters (first byte: bit 1 = give parameters, bit 0 = which).
#include "fuzz_common.h"
#include "fhe/wire/inspect.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const hecnn::wire::Context* ctx = (data[0] & 2) ? &hecnn::wire::fuzz::context(data[0]) : nullptr;
  try {
    const auto d = hecnn::wire::describe(std::span<const std::uint8_t>(data + 1, size - 1), ctx, 1u << 24);
    (void)hecnn::wire::to_text(d);
  } catch (const hecnn::wire::FormatError&) {
  }
  return 0;
}
