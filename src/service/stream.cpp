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

std::size_t check_input_objects(const nn::compiler::Program& prog, const std::vector<Object>& objs) {
  const std::size_t res = residues(prog), in = prog.instrs[0].size;
  if (objs.size() != res * in)
    throw ServiceError(grpc::StatusCode::INVALID_ARGUMENT, "the plan's input is " + std::to_string(res * in) + " ciphertexts, the request has " + std::to_string(objs.size()));
  std::vector<bool> seen(res * in, false);
  std::size_t bytes = 0;
  for (std::size_t j = 0; j < objs.size(); ++j) {
    const Object& o = objs[j];
    if (o.kind != v1::CIPHERTEXT || o.residue >= res || o.index >= in || o.output != 0 || seen[o.residue * in + o.index])
      throw ServiceError(grpc::StatusCode::INVALID_ARGUMENT, "input object " + std::to_string(j) + " is not a new input ciphertext of the plan");
    seen[o.residue * in + o.index] = true;
    bytes += o.data.size();
  }
  return bytes;
}

nn::runtime::EncryptedBatch input_batch(const nn::compiler::Program& prog, const PlanContexts& ctx, const std::vector<Object>& objs,
                                        std::size_t images, std::size_t* bytes) {
  const std::size_t b = check_input_objects(prog, objs);
  if (bytes) *bytes = b;
  nn::runtime::EncryptedBatch batch;
  batch.images = images;
  batch.residues.assign(residues(prog), nn::runtime::EncryptedTensor(prog.instrs[0].size));
  for (const auto& o : objs) batch.residues[o.residue][o.index] = read_ciphertext(ctx, o.residue, o.data);
  return batch;
}

std::vector<Object> result_objects(const PlanContexts& ctx, const nn::runtime::EncryptedResult& r) {
  std::vector<Object> outs;
  for (std::size_t res = 0; res < r.residues.size(); ++res)
    for (std::size_t k = 0; k < r.residues[res].size(); ++k)
      for (std::size_t i = 0; i < r.residues[res][k].size(); ++i) {
        Object o;
        o.kind = v1::CIPHERTEXT;
        o.residue = std::uint32_t(res);
        o.output = std::uint32_t(k);
        o.index = std::uint32_t(i);
        o.data = write_ciphertext(ctx, res, r.residues[res][k][i]);
        outs.push_back(std::move(o));
      }
  return outs;
}

nn::runtime::EncryptedResult result_from_objects(const nn::compiler::Program& prog, const PlanContexts& ctx, const std::vector<Object>& objs,
                                                 const std::vector<int>& outputs, std::size_t images) {
  const std::size_t res = residues(prog), classes = prog.num_classes(), outs = prog.outputs.size();
  if (objs.size() != res * outputs.size() * classes)
    throw ServiceError(grpc::StatusCode::INTERNAL, "the reply has " + std::to_string(objs.size()) + " ciphertexts, the plan " + std::to_string(res * outputs.size() * classes));
  std::vector<bool> expected(outs, false);
  for (int k : outputs) expected.at(std::size_t(k)) = true;
  nn::runtime::EncryptedResult r;
  r.images = images;
  r.residues.assign(res, std::vector<nn::runtime::EncryptedTensor>(outs));
  for (std::size_t rr = 0; rr < res; ++rr)
    for (int k : outputs) r.residues[rr][std::size_t(k)].resize(classes);
  for (const auto& o : objs) {
    bool ok = o.kind == v1::CIPHERTEXT && o.residue < res && o.output < outs && expected[o.output] && o.index < classes;
    if (ok) {
      auto& slot = r.residues[o.residue][o.output][o.index];
      ok = slot.data.empty();
      if (ok) slot = read_ciphertext(ctx, o.residue, o.data);
    }
    if (!ok) throw ServiceError(grpc::StatusCode::INTERNAL, "the reply holds an object that is not one of the expected outputs (or one twice)");
  }
  return r;
}

}  // namespace hecnn::service
