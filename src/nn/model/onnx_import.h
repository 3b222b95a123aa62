// ONNX import (Debian libonnx-dev + libprotobuf-dev) for the layer set hecnn runs under HE.
//
// The graph must be a single chain from one image input [N, C, H, W] to one output, with
// weights as initializers. Supported operators:
//   Conv (group 1, dilation 1, symmetric pads), Gemm (alpha = beta = 1, transB 0 or 1),
//   MatMul (+ Add of a bias initializer), BatchNormalization (folded into the preceding
//   Conv/Gemm/MatMul), AveragePool (no padding; exported as sum pooling with 1/k^2 folded into
//   the next layer), Mul(x, x) and Pow(x, 2) (the square activation), Flatten, Reshape,
//   Identity, Dropout.
// A final Softmax is dropped (the argmax is unchanged). Anything else (Relu, MaxPool, Sigmoid,
// branches, ...) gives a ModelError naming the operator and the node.
// Without ONNX support at build time (HECNN_HAVE_ONNX = 0) import_onnx throws ModelError.
#pragma once

#include "nn/model/model.h"

#include <string>

namespace hecnn::nn {

inline constexpr std::size_t kMaxOnnxBytes = std::size_t(256) << 20;

bool onnx_supported();
// `input` supplies scale/offset; its shape is taken from the ONNX graph input.
Model import_onnx(const std::string& path, const InputSpec& input = {});
Model import_onnx_bytes(const std::string& bytes, const InputSpec& input = {});

}  // namespace hecnn::nn
