// Activation choices for training (no libtorch in this header).
//
//   square | x2                        x^2 (CryptoNets)
//   relu | sigmoid | tanh              the exact functions (plaintext baselines; not exportable)
//   poly:FUNC:METHOD:DEGREE:LO:HI      polynomial approximation of FUNC (relu|sigmoid|tanh) by
//                                      METHOD (approx.h) on [LO, HI], e.g. poly:relu:derivative:3:-6:6
//   coeffs:C0,C1,...                   an explicit polynomial
// Every polynomial choice can be exported to a model file (a Poly layer).
#pragma once

#include "nn/model/approx.h"
#include "nn/model/model.h"

#include <string>
#include <vector>

namespace hecnn::train {

struct ActivationSpec {
  std::string kind = "square";     // square | relu | sigmoid | tanh | poly
  std::vector<double> coeffs = {0, 0, 1};  // power basis, for square and poly
  nn::ActivationInfo info;         // what goes into the model file's metadata
  bool polynomial() const { return kind == "square" || kind == "poly"; }
  std::string label() const;       // short text, e.g. "x^2" or "relu~derivative(3)[-6,6]"
};

// Throws std::invalid_argument with the accepted syntax on error.
ActivationSpec parse_activation(const std::string& text);

}  // namespace hecnn::train
