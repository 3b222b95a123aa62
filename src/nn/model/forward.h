// Plaintext reference forward pass in double precision, no libtorch.
// This is the oracle the HE inference engine is checked against: same layer
// order, same CHW layout, same folded weights as in the model file.
#pragma once

#include "nn/model/model.h"

#include <cstdint>
#include <span>
#include <vector>

namespace hecnn::nn {

// raw (e.g. pixels 0..255, CHW) -> x = raw * input.scale + input.offset.
std::vector<double> prepare_input(const Model& model, std::span<const std::uint8_t> raw);

// Output of the last layer (the class scores). Throws ModelError on a wrong input size.
std::vector<double> forward(const Model& model, std::span<const double> input);
// The output of every layer, in order (trace[i] is layer i's output).
std::vector<std::vector<double>> forward_trace(const Model& model, std::span<const double> input);

// One layer on its input tensor of shape `in`.
std::vector<double> apply_layer(const Layer& layer, Shape in, std::span<const double> x);

// Mean of the members' outputs (seed 001's average ensemble). Members must agree on
// input spec and number of classes.
std::vector<double> ensemble_forward(std::span<const Model> members, std::span<const std::uint8_t> raw);

int argmax(std::span<const double> scores);

}  // namespace hecnn::nn
