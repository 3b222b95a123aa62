// Spreads independent iterations over the machine's cores (OpenMP when built
// with HECNN_OPENMP; std::thread with HECNN_PARALLEL_STD_THREAD, the
// ThreadSanitizer build, since TSan cannot see OpenMP's synchronisation;
// sequential otherwise). Iterations must not share mutable state. Nested calls
// run sequentially inside the outer team.
// An exception thrown by an iteration is rethrown to the caller after the loop
// (the first one caught; the other iterations still run), never std::terminate.
#pragma once

#include <cstddef>
#include <exception>

#if defined(_OPENMP)
#include <omp.h>
#endif
#if defined(HECNN_PARALLEL_STD_THREAD)
#include <algorithm>
#include <mutex>
#include <thread>
#include <vector>
#endif

namespace hecnn::math {

#if defined(_OPENMP)
namespace detail {
// One iteration inside an OpenMP team: the first exception is kept for the caller.
template <typename F>
void run_guarded(F& body, std::size_t i, std::exception_ptr& error) {
  try {
    body(i);
  } catch (...) {
#pragma omp critical(hecnn_parallel_for_error)
    if (!error) error = std::current_exception();
  }
}
}  // namespace detail
#endif

template <typename F>
void parallel_for(std::size_t count, F&& body) {
#if defined(_OPENMP)
  if (count > 1 && !omp_in_parallel()) {
    std::exception_ptr error;
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < count; ++i) {
      detail::run_guarded(body, i, error);
    }
    if (error) std::rethrow_exception(error);
    return;
  }
#elif defined(HECNN_PARALLEL_STD_THREAD)
  static thread_local bool inside = false;
  if (count > 1 && !inside) {
    const std::size_t threads = std::min<std::size_t>(count, std::max(2u, std::thread::hardware_concurrency()));
    std::exception_ptr error;
    std::mutex m;
    std::vector<std::thread> team;
    for (std::size_t t = 0; t < threads; ++t) {
      team.emplace_back([&, t] {
        inside = true;
        for (std::size_t i = t * count / threads; i < (t + 1) * count / threads; ++i) {
          try {
            body(i);
          } catch (...) {
            std::lock_guard<std::mutex> lock(m);
            if (!error) error = std::current_exception();
          }
        }
      });
    }
    for (auto& th : team) th.join();
    if (error) std::rethrow_exception(error);
    return;
  }
#endif
  for (std::size_t i = 0; i < count; ++i) body(i);
}

// The same, but iterations are handed out one at a time (OpenMP schedule(dynamic)): for a
// few iterations of uneven cost (e.g. rotations next to cheap products), so that no core
// waits on a static share that happened to hold the expensive ones.
template <typename F>
void parallel_for_dynamic(std::size_t count, F&& body) {
#if defined(_OPENMP)
  if (count > 1 && !omp_in_parallel()) {
    std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 1)
    for (std::size_t i = 0; i < count; ++i) {
      detail::run_guarded(body, i, error);
    }
    if (error) std::rethrow_exception(error);
    return;
  }
  for (std::size_t i = 0; i < count; ++i) body(i);
#else
  parallel_for(count, std::forward<F>(body));
#endif
}

}  // namespace hecnn::math
