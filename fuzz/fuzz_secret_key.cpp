// libFuzzer target: wire::read_secret_key on arbitrary bytes.
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return hecnn::wire::fuzz::run(data, size, [](const auto& ctx, auto bytes) {
    hecnn::wire::ReadOptions opt;
    opt.max_galois_keys = 4;  // keep allocations small while fuzzing
    (void)hecnn::wire::read_secret_key(ctx, bytes, opt);
  });
}
