// PrngStreams (prng.h): reproducible, distinct, parent-dependent streams for parallel
// work (the generators themselves are tested in sampling_test.cpp).
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <set>

#include "math/prng.h"

namespace hecnn::math {
namespace {

std::array<std::uint64_t, 8> draw(Prng& p) {
  std::array<std::uint64_t, 8> v{};
  for (auto& x : v) x = p.next_u64();
  return v;
}

TEST(PrngStreams, SameParentSameStreamsDistinctNonces) {
  DeterministicPrngForTests p1(7), p2(7), p3(8);
  const PrngStreams s1(p1), s2(p2), s3(p3);
  std::set<std::array<std::uint64_t, 8>> seen;
  for (std::uint64_t k = 0; k < 16; ++k) {
    auto a = s1.stream(k), b = s2.stream(k), c = s3.stream(k);
    const auto x = draw(a);
    EXPECT_EQ(x, draw(b)) << "stream " << k;
    EXPECT_NE(x, draw(c)) << "stream " << k << " does not depend on the parent";
    EXPECT_TRUE(seen.insert(x).second) << "stream " << k << " repeats another";
  }
  // The parent advanced: a second set of streams from it is different.
  const PrngStreams again(p1);
  auto a = again.stream(0), b = s1.stream(0);
  EXPECT_NE(draw(a), draw(b));
}

}  // namespace
}  // namespace hecnn::math
