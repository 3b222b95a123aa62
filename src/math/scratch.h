// Per-thread scratch buffers, reused across calls so hot paths do not allocate
// (and page-fault) multi-megabyte workspaces on every operation.
//
//   u64* w = scratch<struct MyCallSiteTag, u64>(words);
//
// Each call site passes its own tag type, so buffers in use at the same time
// never alias, also across nested calls. Contents are undefined on return.
// Memory stays allocated for the lifetime of the thread (bounded by the largest
// request of each call site).
#pragma once

#include <cstddef>
#include <vector>

namespace hecnn::math {

template <typename Tag, typename T>
T* scratch(std::size_t count) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < count) buffer.resize(count);
  return buffer.data();
}

}  // namespace hecnn::math
