// Internal to hecnn_model (built only with ONNX support): constant tensors of an ONNX graph
// and the constant folding the importer needs for what exporters emit around the layers.
//
// PyTorch and Keras exports compute pads, reshape targets and the batch size with small
// integer subgraphs (Shape, Gather, Unsqueeze, Concat, ConstantOfShape, Slice, Transpose,
// Reshape, Cast, arithmetic). fold() evaluates such a node when all its inputs are known.
// The batch size of a dynamic axis is the symbolic value kBatch: arithmetic on it gives kBatch,
// and the importer only accepts it where it stands for the batch axis.
// Every result is bounded (kMaxTensorElements); anything unsupported or malformed throws
// ModelError ("ONNX: <where>: ...").
#pragma once

#include "nn/model/model.h"

#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace hecnn::nn::onnx_detail {

[[noreturn]] void bad(const std::string& what);

struct Tensor {
  std::vector<std::int64_t> dims;  // empty: a scalar
  std::vector<double> data;        // row-major; integers are held exactly (|v| < 2^53)
  std::size_t size() const { return data.size(); }
};

// The symbolic batch size (Shape of a tensor whose batch axis is dynamic).
inline constexpr std::int64_t kBatch = -(std::int64_t(1) << 52);

Tensor to_tensor(const onnx::TensorProto& t);
std::vector<std::int64_t> ints_attr(const onnx::NodeProto& n, const char* name, std::vector<std::int64_t> def);
std::int64_t int_attr(const onnx::NodeProto& n, const char* name, std::int64_t def);
double float_attr(const onnx::NodeProto& n, const char* name, double def);
std::string string_attr(const onnx::NodeProto& n, const char* name, const std::string& def);

// The values of an integer tensor (throws naming `where` if one is not a whole number).
std::vector<std::int64_t> to_ints(const Tensor& t, const std::string& where);
Tensor from_ints(const std::vector<std::int64_t>& v);  // 1-D

// Shape node n (its start / end attributes) of a tensor with these dimensions.
Tensor shape_of(const onnx::NodeProto& n, const std::vector<std::int64_t>& dims);

// True if `op` is an operator fold() evaluates.
bool foldable(const std::string& op);
// Evaluates node n on constant inputs (in[i] null where an optional input is absent).
Tensor fold(const onnx::NodeProto& n, const std::vector<const Tensor*>& in, const std::string& where);

}  // namespace hecnn::nn::onnx_detail
