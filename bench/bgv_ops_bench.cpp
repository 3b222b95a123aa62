// BGV primitive benchmarks with BFV's operation list: bgv/<op>/N=<N>/logq=<bits>
// (integer_ops_bench.h; ciphertexts in NTT form, SEAL's BGV convention). Run pinned to
// one core with OMP_NUM_THREADS=1 to compare with SEAL's BGV (optionally with HEXL):
// scripts/bench-vs-seal.sh SEAL_DIR ROUNDS CPU bgv.
#include "fhe/bgv/encryptor.h"
#include "fhe/bgv/evaluator.h"
#include "integer_ops_bench.h"

namespace {
struct Bgv {
  static constexpr const char* kPrefix = "bgv";
  using TablesPtr = hecnn::bgv::BgvTablesPtr;
  using Encryptor = hecnn::bgv::Encryptor;
  using Decryptor = hecnn::bgv::Decryptor;
  using Evaluator = hecnn::bgv::Evaluator;
  static hecnn::rlwe::ParamsLiteral params(std::size_t n, hecnn::rlwe::u64 t) {
    return {hecnn::rlwe::Scheme::bgv, n, hecnn::bfv::bfv_default_primes(n), t, hecnn::rlwe::Security::tc128};
  }
  static TablesPtr make_tables(hecnn::rlwe::ContextPtr ctx) { return hecnn::bgv::make_tables(std::move(ctx)); }
};
}  // namespace

int main(int argc, char** argv) { return hecnn::bench::run_main<Bgv>(argc, argv); }
