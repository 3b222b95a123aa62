// Objects over gRPC streams (docs/protocol.md): a stream starts with one header frame;
// each object (ciphertext, key set, plan, model) follows as one or more frames of at most
// kFrameBytes, the last with more = false. Readers bound every object and the stream.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "service/codec.h"
#include "service/proto/service.pb.h"

namespace hecnn::service {

inline constexpr std::size_t kFrameBytes = std::size_t(4) << 20;

struct Object {
  v1::Kind kind = v1::KIND_UNSPECIFIED;
  std::uint32_t residue = 0, output = 0, index = 0;
  std::vector<std::uint8_t> data;
};

// A service error: a gRPC status code and a message naming the problem.
struct ServiceError : std::runtime_error {
  grpc::StatusCode code;
  ServiceError(grpc::StatusCode c, const std::string& m) : std::runtime_error(m), code(c) {}
};

template <class W>
void send_header(W& w, const v1::Header& h) {
  v1::Frame f;
  *f.mutable_header() = h;
  if (!w.Write(f)) throw ServiceError(grpc::StatusCode::UNAVAILABLE, "the peer closed the stream");
}

template <class W>
void send_object(W& w, const Object& o) {
  std::size_t off = 0;
  do {
    v1::Frame f;
    f.set_kind(o.kind);
    f.set_residue(o.residue);
    f.set_output(o.output);
    f.set_index(o.index);
    const std::size_t len = std::min(kFrameBytes, o.data.size() - off);
    f.set_data(o.data.data() + off, len);
    off += len;
    f.set_more(off < o.data.size());
    if (!w.Write(f)) throw ServiceError(grpc::StatusCode::UNAVAILABLE, "the peer closed the stream");
  } while (off < o.data.size());
}

inline std::size_t object_bytes(const std::vector<Object>& objs) {
  std::size_t b = 0;
  for (const auto& o : objs) b += o.data.size();
  return b;
}

// An Infer reply's header for `objects` output objects; parties and members are added after.
inline v1::Header reply_header(const std::string& session_id, const std::string& plan_id, std::uint32_t images, std::size_t objects) {
  v1::Header h;
  h.set_session_id(session_id);
  h.set_plan_id(plan_id);
  h.set_images(images);
  h.set_objects(std::uint32_t(objects));
  return h;
}

// One party's line of a reply: its time and bytes (address: where it was reached, if remote).
inline void add_party(v1::Header& h, const std::string& party, double seconds, std::uint64_t bytes_in, std::uint64_t bytes_out,
                      const std::string& address = {}) {
  auto* p = h.add_parties();
  p->set_party(party);
  if (!address.empty()) p->set_address(address);
  p->set_seconds(seconds);
  p->set_bytes_in(bytes_in);
  p->set_bytes_out(bytes_out);
}

// The header frame (the first). Throws ServiceError (INVALID_ARGUMENT) if the stream is
// empty or its first frame has no header.
template <class R>
v1::Header read_header(R& r) {
  v1::Frame f;
  if (!r.Read(&f)) throw ServiceError(grpc::StatusCode::INVALID_ARGUMENT, "the stream ended before its header");
  if (!f.has_header() || !f.data().empty()) throw ServiceError(grpc::StatusCode::INVALID_ARGUMENT, "the stream does not start with a header frame");
  return f.header();
}

// Reads exactly `count` objects (then expects the stream to end when `expect_end`), each
// at most `max_object` bytes, `max_total` in all. Throws ServiceError naming the problem.
template <class R>
std::vector<Object> read_objects(R& r, std::size_t count, std::size_t max_object, std::size_t max_total, bool expect_end = true) {
  std::vector<Object> out;
  out.reserve(std::min<std::size_t>(count, 1 << 16));
  std::size_t total = 0;
  v1::Frame f;
  bool open = false;
  while (out.size() < count || open) {
    if (!r.Read(&f)) {
      throw ServiceError(grpc::StatusCode::INVALID_ARGUMENT, "the stream ended after " + std::to_string(out.size()) + " of " +
                                                                 std::to_string(count) + " objects" + (open ? " (inside an object)" : ""));
    }
    if (f.has_header()) throw ServiceError(grpc::StatusCode::INVALID_ARGUMENT, "a second header frame in the stream");
    if (!open) {
      out.emplace_back();
      Object& o = out.back();
      o.kind = f.kind();
      o.residue = f.residue();
      o.output = f.output();
      o.index = f.index();
    } else {
      const Object& o = out.back();
      if (f.kind() != o.kind || f.residue() != o.residue || f.output() != o.output || f.index() != o.index)
        throw ServiceError(grpc::StatusCode::INVALID_ARGUMENT, "a continued object changes its kind or position");
    }
    Object& o = out.back();
    if (o.data.size() + f.data().size() > max_object)
      throw ServiceError(grpc::StatusCode::RESOURCE_EXHAUSTED, "an object exceeds " + std::to_string(max_object) + " bytes (the largest these parameters allow)");
    total += f.data().size();
    if (total > max_total) throw ServiceError(grpc::StatusCode::RESOURCE_EXHAUSTED, "the stream exceeds " + std::to_string(max_total) + " bytes");
    o.data.insert(o.data.end(), f.data().begin(), f.data().end());
    open = f.more();
  }
  if (expect_end && r.Read(&f)) throw ServiceError(grpc::StatusCode::INVALID_ARGUMENT, "more objects than the header announced (" + std::to_string(count) + ")");
  return out;
}

// gRPC status of an exception (ServiceError, std::invalid_argument, others).
grpc::Status to_status(const std::exception& e);
// Runs f, turning exceptions into a status.
template <class F>
grpc::Status guarded(F&& f) {
  try {
    f();
    return grpc::Status::OK;
  } catch (const std::exception& e) {
    return to_status(e);
  }
}

// Bytes of a gRPC status message (for client errors).
std::string describe(const grpc::Status& s);

// The key objects of an UploadKeys stream (after its header): at most 64, `bound` bytes
// in all; anything but relinearization and Galois keys is refused (a secret key never is
// accepted).
template <class R>
std::vector<KeyObject> read_key_objects(R& r, const v1::Header& h, std::uint64_t bound) {
  if (h.objects() > 64) throw ServiceError(grpc::StatusCode::INVALID_ARGUMENT, "UploadKeys: " + std::to_string(h.objects()) + " objects announced");
  const auto objs = read_objects(r, std::size_t(h.objects()), std::size_t(bound), std::size_t(bound));
  std::vector<KeyObject> keys;
  for (const auto& o : objs) {
    if (o.kind != v1::RELIN_KEYS && o.kind != v1::GALOIS_KEYS)
      throw ServiceError(grpc::StatusCode::INVALID_ARGUMENT, "UploadKeys: only relinearization and Galois keys are accepted (a secret key never is)");
    keys.push_back({o.kind == v1::RELIN_KEYS ? KeyKind::relin : KeyKind::galois, o.residue, o.data});
  }
  return keys;
}

template <class W>
void send_key_objects(W& w, const std::vector<KeyObject>& keys) {
  for (const auto& k : keys) {
    Object o;
    o.kind = k.kind == KeyKind::relin ? v1::RELIN_KEYS : v1::GALOIS_KEYS;
    o.residue = k.residue;
    o.data = k.bytes;
    send_object(w, o);
  }
}

// The input ciphertexts of an Infer request: exactly one per (residue, element), each
// parsed with the plan's bounds. Throws ServiceError naming the first bad object.
nn::runtime::EncryptedBatch input_batch(const nn::compiler::Program& prog, const PlanContexts& ctx, const std::vector<Object>& objs,
                                        std::size_t images, std::size_t* bytes = nullptr);
// Checks the same without parsing (the coordinator forwards the bytes); returns their size.
std::size_t check_input_objects(const nn::compiler::Program& prog, const std::vector<Object>& objs);
// The outputs of a result as objects (residue, output, element), and back: `outputs`
// are the indices into Program::outputs expected (each exactly once per residue and class).
std::vector<Object> result_objects(const PlanContexts& ctx, const nn::runtime::EncryptedResult& r);
nn::runtime::EncryptedResult result_from_objects(const nn::compiler::Program& prog, const PlanContexts& ctx, const std::vector<Object>& objs,
                                                 const std::vector<int>& outputs, std::size_t images);

}  // namespace hecnn::service
