// Spreads independent iterations over the machine's cores (OpenMP when built
// with HECNN_OPENMP, sequential otherwise). Iterations must not share mutable
// state. Nested calls run sequentially inside the outer team.
#pragma once

#include <cstddef>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace hecnn::math {

template <typename F>
void parallel_for(std::size_t count, F&& body) {
#if defined(_OPENMP)
  if (count > 1 && !omp_in_parallel()) {
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < count; ++i) body(i);
    return;
  }
#endif
  for (std::size_t i = 0; i < count; ++i) body(i);
}

}  // namespace hecnn::math
