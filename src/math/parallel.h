// Spreads independent iterations over the machine's cores (OpenMP when built
// with HECNN_OPENMP, sequential otherwise). Iterations must not share mutable
// state. Nested calls run sequentially inside the outer team.
// An exception thrown by an iteration is rethrown to the caller after the loop
// (the first one caught; the other iterations still run), never std::terminate.
#pragma once

#include <cstddef>
#include <exception>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace hecnn::math {

template <typename F>
void parallel_for(std::size_t count, F&& body) {
#if defined(_OPENMP)
  if (count > 1 && !omp_in_parallel()) {
    std::exception_ptr error;
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < count; ++i) {
      try {
        body(i);
      } catch (...) {
#pragma omp critical(hecnn_parallel_for_error)
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    return;
  }
#endif
  for (std::size_t i = 0; i < count; ++i) body(i);
}

}  // namespace hecnn::math
