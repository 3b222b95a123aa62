#include "service/stream.h"

#include <new>
#include <stdexcept>

#include "nn/compiler/program.h"
#include "nn/compiler/plan_io.h"

namespace hecnn::service {

grpc::Status to_status(const std::exception& e) {
  if (const auto* s = dynamic_cast<const ServiceError*>(&e)) return {s->code, s->what()};
  if (dynamic_cast<const std::invalid_argument*>(&e) || dynamic_cast<const nn::compiler::PlanError*>(&e) ||
      dynamic_cast<const nn::compiler::CompileError*>(&e))
    return {grpc::StatusCode::INVALID_ARGUMENT, e.what()};
  if (dynamic_cast<const std::bad_alloc*>(&e)) return {grpc::StatusCode::RESOURCE_EXHAUSTED, "out of memory"};
  return {grpc::StatusCode::INTERNAL, e.what()};
}

std::string describe(const grpc::Status& s) {
  static const char* names[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                                "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                                "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  const int c = int(s.error_code());
  return std::string(c >= 0 && c <= 16 ? names[c] : "ERROR") + ": " + s.error_message();
}

}  // namespace hecnn::service
