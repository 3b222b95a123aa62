// The order in which an interpreter computes a program's ciphertexts, and the
// memory that order needs.
//
// Layer order: one step per instruction, every element at once (fastest: whole
// layers through the batched kernels); every tensor is live from its instruction
// to its last reader, so a deep network's feature maps are all in memory at once.
//
// Streaming order: the element graph (tensor t, element e) walked depth-first from
// the outputs, each linear row's inputs visited position by position (row-major
// over height and width, channels innermost), cut into steps of about
// `step_elements` elements; within a step, elements are grouped by instruction and
// run in program order. A feature map then lives as a band of rows between the
// layers that produce and consume it (conv, activation and pool fused per band),
// and every element is freed after its last reader. Cost: smaller batches through
// the kernels; the same operations.
//
// Estimates count ciphertexts at their level and part count (program.h), plus the
// input batch, which the client uploads whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nn/compiler/program.h"

namespace hecnn::nn::compiler {

struct ScheduleGroup {
  int instr = 0;
  std::vector<std::uint32_t> elements;  // ascending
};

struct Schedule {
  bool streaming = false;
  std::vector<std::vector<ScheduleGroup>> steps;  // each step's groups in ascending instruction order
  // After step s, element e of tensor t is freed when frees[s] lists it (outputs are never freed).
  std::vector<std::vector<std::pair<int, std::uint32_t>>> frees;
  std::size_t peak_bytes = 0;          // live ciphertext bytes at the worst point
  std::size_t peak_ciphertexts = 0;
};

// Layer order (streaming == false) or streaming order. keep_all: nothing is freed.
Schedule make_schedule(const Program& prog, bool streaming, bool keep_all = false, std::size_t step_elements = 256);

// The bytes a run of `prog` in this order needs for its ciphertexts (what make_schedule
// reports), without building the steps' element lists for layer order.
std::size_t schedule_peak_bytes(const Program& prog, bool streaming);

}  // namespace hecnn::nn::compiler
