// Errors raised by the SEAL wire-format readers and writers.
//
// Every malformed input is reported as a FormatError whose message starts with
// the object being read and names the field, e.g.
//   "ciphertext: coefficient count 123 does not match N*k*size = 456".
// Readers never crash or allocate unbounded memory on hostile input; they throw.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace hecnn::wire {

class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws FormatError("<object>: <message>").
[[noreturn]] void fail(std::string_view object, std::string_view message);

}  // namespace hecnn::wire
