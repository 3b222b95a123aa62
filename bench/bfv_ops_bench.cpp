// BFV primitive benchmarks: bfv/<op>/N=<N>/logq=<bits> (the list and parameters in
// integer_ops_bench.h). Run pinned to one core with OMP_NUM_THREADS=1 to compare with
// SEAL (single-threaded): scripts/bench-vs-seal.sh.
#include "fhe/bfv/encryptor.h"
#include "fhe/bfv/evaluator.h"
#include "integer_ops_bench.h"

namespace {
struct Bfv {
  static constexpr const char* kPrefix = "bfv";
  using TablesPtr = hecnn::bfv::BfvTablesPtr;
  using Encryptor = hecnn::bfv::Encryptor;
  using Decryptor = hecnn::bfv::Decryptor;
  using Evaluator = hecnn::bfv::Evaluator;
  static hecnn::rlwe::ParamsLiteral params(std::size_t n, hecnn::rlwe::u64 t) { return hecnn::bfv::preset_default(n, t); }
  static TablesPtr make_tables(hecnn::rlwe::ContextPtr ctx) { return hecnn::bfv::make_tables(std::move(ctx)); }
};
}  // namespace

int main(int argc, char** argv) { return hecnn::bench::run_main<Bfv>(argc, argv); }
