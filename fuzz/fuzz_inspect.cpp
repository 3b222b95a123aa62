// libFuzzer target: wire::describe (`hecnn inspect`) on arbitrary bytes, with
// and without parameters (first byte: bit 1 = give parameters, bits 0 and 2 =
// which). With parameters the bounds are the CLI's (the largest object the
// parameters allow); without, `hecnn inspect --max-size 16777216`.
#include "fuzz_common.h"
#include "fhe/wire/inspect.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const hecnn::wire::Context* ctx = (data[0] & 2) ? &hecnn::wire::fuzz::context(data[0]) : nullptr;
  hecnn::wire::ReadOptions quotas;
  if (!ctx) quotas.max_size = 1u << 24;
  try {
    const auto d = hecnn::wire::describe(std::span<const std::uint8_t>(data + 1, size - 1), ctx, quotas);
    (void)hecnn::wire::to_text(d);
  } catch (const hecnn::wire::FormatError&) {
  }
  return 0;
}
