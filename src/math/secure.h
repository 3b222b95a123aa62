// Wiping secret material from memory. secure_wipe cannot be optimised away
// (OPENSSL_cleanse); SecretVector is a std::vector whose storage is wiped
// whenever it is released (destruction, reallocation, clear + shrink), for
// secret keys, their powers and automorphisms, encryption masks u and error
// polynomials e. Buffers that hold secrets are listed in docs/hardening.md.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace hecnn::math {

void secure_wipe(void* p, std::size_t bytes);

template <class T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() = default;
  template <class U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    secure_wipe(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <class U>
  friend bool operator==(const WipingAllocator&, const WipingAllocator<U>&) noexcept {
    return true;
  }
};

template <class T>
using SecretVector = std::vector<T, WipingAllocator<T>>;

template <class T, class A>
void secure_wipe(std::vector<T, A>& v) {
  secure_wipe(v.data(), v.size() * sizeof(T));
}

}  // namespace hecnn::math
