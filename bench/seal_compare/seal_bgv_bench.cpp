// SEAL counterpart of bench/bgv_ops_bench.cpp: seal_bfv_bench.cpp with SEAL's BGV (same
// operations, parameters and names). Built by scripts/bench-vs-seal.sh ... bgv.
#define HECNN_SEAL_SCHEME bgv
#include "seal_bfv_bench.cpp"
