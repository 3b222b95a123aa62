// ONNX import (Debian libonnx-dev + libprotobuf-dev) for the layer set hecnn runs under HE,
// as PyTorch (torch.onnx.export) and Keras-to-ONNX emit it.
//
// The graph has one image input [N, C, H, W] (N may be dynamic) and one output; weights are
// initializers or Constant nodes. The image tensor must flow through a single chain of layers:
//   Conv (group 1, dilation 1, symmetric pads), Gemm (transA 0, any alpha/beta), MatMul,
//   BatchNormalization (folded into the Conv/Gemm/MatMul before it), AveragePool (no padding,
//   ceil_mode 0; exported as sum pooling with 1/k^2 folded into the next layer);
//   Pad of zeros directly before a Conv (folded into its padding) or an AveragePool (all zero);
//   elementwise polynomials written as arithmetic on the image tensor and scalars: Mul(x, x),
//   Pow(x, k), Add, Sub, Mul, Div by a constant, Neg (e.g. 0.125*x*x + 0.5*x + 0.25), emitted as
//   one Poly layer; a per-output Add/Sub/Mul/Div right after Conv/Gemm/MatMul (bias, scale);
//   Flatten (axis 1) and Reshape that only flattens C, H, W or restates the shape;
//   Identity, Dropout, a final Softmax / LogSoftmax (dropped: the argmax is unchanged);
//   Keras' channels-last layout: Transpose(0, 3, 1, 2) of an [N, H, W, C] input before the first
//   layer (the model file then takes C, H, W) and Transpose(0, 2, 3, 1) before flattening into a
//   dense layer (its columns are permuted from (h, w, c) to (c, h, w) order).
// Computations on constants and shapes (Shape, Gather, Unsqueeze, Squeeze, Concat, Slice,
// Transpose, Reshape, ConstantOfShape, Cast, arithmetic: the dynamic batch axis and the pads of
// ZeroPad2d) are folded (onnx_fold.h). Anything else (Relu, MaxPool, Sigmoid, residual
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
