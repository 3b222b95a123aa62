// Training-data splits for ensemble members (seed 001).
//
// A skewed split gives each of the 3 members a label group; the dominance d is the
// share of a member's training samples drawn from its own group, the rest coming
// from the other groups' samples:
//   regular   {0,1,2} {3,4,5} {6,7,8,9}
//   likewise  {0,6,8} {2,3,5,7} {1,4,9}    (similar-looking digits together)
//   random    a seeded random partition of the labels into groups of 3, 3, 4
// Six settings, from uniform to fully skewed:
//   setting 0: uniform (d = the group's natural share, i.e. an unskewed random sample)
//   settings 1..5: d = 0.5, 0.65, 0.8, 0.9, 1.0
// plus iid: a seeded random partition of the samples into disjoint equal parts.
// Skewed members draw independently (without replacement within a member), so a
// sample may appear in several members. Everything is reproducible from the seed
// with our own generator (std::shuffle's output differs between standard libraries).
#pragma once

#include "nn/model/dataset.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hecnn::nn {

enum class SplitKind { iid, regular, likewise, random };

struct SplitSpec {
  SplitKind kind = SplitKind::iid;
  int setting = 0;            // 0..5 (ignored for iid)
  int members = 3;
  std::uint64_t seed = 1;
  std::size_t member_size = 0;  // samples per skewed member; 0: count / members
};

inline constexpr int kSplitSettings = 6;

SplitKind parse_split_kind(const std::string& name);  // throws std::invalid_argument
const char* split_kind_name(SplitKind kind);
// Label groups of each member (iid: every member gets all labels).
std::vector<std::vector<int>> split_groups(const SplitSpec& spec);
// Dominance of a setting for a group of `group_size` labels out of 10.
double split_dominance(int setting, int group_size);
// "012|345|6789"
std::string groups_string(const std::vector<std::vector<int>>& groups);

// Sample indices of each member into `labels`.
std::vector<std::vector<std::size_t>> make_split(const SplitSpec& spec, const std::vector<std::uint8_t>& labels);

// Small deterministic generator (splitmix64) with unbiased bounded draws.
class SplitRng {
 public:
  explicit SplitRng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  std::uint64_t below(std::uint64_t n);  // uniform in [0, n)
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  std::uint64_t state_;
};

}  // namespace hecnn::nn
