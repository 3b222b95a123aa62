#include "service/client.h"

#include <chrono>
#include <stdexcept>

#include "math/prng.h"
#include "nn/compiler/packed_io.h"
#include "nn/compiler/plan_io.h"
#include "nn/runtime/packed_backend.h"
#include "nn/runtime/client_server.h"
#include "service/auth.h"
#include "service/codec.h"
#include "service/proto/service.grpc.pb.h"
#include "service/server_common.h"
#include "service/stream.h"

namespace hecnn::service {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

class ServiceClient::Impl {
 public:
  explicit Impl(const ClientOptions& o) : opt_(o) {
    if (o.token.empty()) throw std::invalid_argument("client: a --token is required");
    channel_ = make_channel(o.address, o.tls_ca, o.insecure_loopback, o.max_message_bytes);
    stub_ = v1::Inference::NewStub(channel_);
  }

  void context(grpc::ClientContext& ctx) const {
    set_bearer_token(ctx, opt_.token);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(std::int64_t(opt_.deadline_s * 1000)));
  }
  [[noreturn]] void fail(const char* step, const grpc::Status& st) const {
    throw std::runtime_error(std::string(step) + " (" + opt_.address + "): " + describe(st));
  }

  void open(const std::string& scheme, std::size_t batch_images, const std::string& mode) {
    if (mode != "batch" && mode != "single") throw std::invalid_argument("mode " + mode + ": use batch or single");
    {
      grpc::ClientContext ctx;
      context(ctx);
      v1::GetPlanRequest req;
      req.set_scheme(scheme);
      req.set_mode(mode);
      req.set_batch_images(batch_images);
      v1::GetPlanReply reply;
      const auto st = stub_->GetPlan(&ctx, req, &reply);
      if (!st.ok()) fail("GetPlan", st);
      const auto& b = reply.public_plan();
      const auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
      if (mode == "single") {
        packed_ = std::make_unique<nn::compiler::PackedEnsemble>(nn::compiler::parse_packed(bytes));
        if (!packed_->members[0].ops.empty()) throw std::runtime_error("GetPlan: the coordinator sent a plan with weights (expected the public plan)");
      } else {
        plan_ = std::make_unique<nn::compiler::Program>(nn::compiler::parse_plan(bytes));
      }
      plan_id_ = reply.plan_id();
      members_.assign(reply.members().begin(), reply.members().end());
    }
    std::vector<KeyObject> keys;
    const auto t0 = Clock::now();
    if (packed_) {
      ctx_ = std::make_unique<PlanContexts>(packed_contexts(packed_->members[0]));
      packed_client_ = std::make_unique<nn::runtime::PackedClient>(
          packed_->members[0], prng_, std::vector<int>(packed_->rotation_steps.begin(), packed_->rotation_steps.end()));
      keys = serialize_packed_keys(*ctx_, packed_client_->evaluation_keys());
    } else {
      ctx_ = std::make_unique<PlanContexts>(plan_contexts(*plan_));
      client_ = std::make_unique<nn::runtime::Client>(*plan_, prng_);
      keys = serialize_keys(*plan_, *ctx_, client_->evaluation_keys());
    }
    keygen_s_ = since(t0);
    {
      grpc::ClientContext ctx;
      context(ctx);
      v1::CreateSessionRequest req;
      req.set_plan_id(plan_id_);
      v1::CreateSessionReply reply;
      const auto st = stub_->CreateSession(&ctx, req, &reply);
      if (!st.ok()) fail("CreateSession", st);
      session_ = reply.session_id();
    }
    const auto t1 = Clock::now();
    {
      grpc::ClientContext ctx;
      context(ctx);
      v1::UploadKeysReply reply;
      auto w = stub_->UploadKeys(&ctx, &reply);
      v1::Header h;
      h.set_session_id(session_);
      h.set_objects(keys.size());
      try {
        send_header(*w, h);
        send_key_objects(*w, keys);
        for (const auto& k : keys) key_bytes_ += k.bytes.size();
      } catch (const ServiceError&) {
      }
      w->WritesDone();
      const auto st = w->Finish();
      if (!st.ok()) fail("UploadKeys", st);
    }
    upload_s_ = since(t1);
  }

  // One request: header, input objects; reply header and output objects (kept as objects).
  std::vector<Object> call_infer(std::vector<Object> objs, std::size_t count, std::size_t expect, std::uint64_t ct_bound, InferStats& st) {
    const auto t1 = Clock::now();
    grpc::ClientContext ctx;
    context(ctx);
    auto rw = stub_->Infer(&ctx);
    v1::Header h;
    h.set_session_id(session_);
    h.set_plan_id(plan_id_);
    h.set_images(count);
    h.set_objects(objs.size());
    try {
      send_header(*rw, h);
      for (const auto& o : objs) send_object(*rw, o);
    } catch (const ServiceError&) {
    }
    rw->WritesDone();
    objs.clear();
    std::vector<Object> got;
    try {
      const v1::Header rh = read_header(*rw);
      if (rh.objects() != expect)
        throw ServiceError(grpc::StatusCode::INTERNAL, "the coordinator returns " + std::to_string(rh.objects()) + " ciphertexts, the plan " + std::to_string(expect));
      got = read_objects(*rw, expect, ct_bound, std::size_t(8) << 30);
      for (const auto& o : got) st.bytes_down += o.data.size();
      for (const auto& p : rh.parties()) st.parties.push_back({p.party(), p.address(), p.seconds(), std::size_t(p.bytes_in()), std::size_t(p.bytes_out())});
      st.members_used.assign(rh.members_used().begin(), rh.members_used().end());
    } catch (const ServiceError& e) {
      const auto s = rw->Finish();
      if (!s.ok()) fail("Infer", s);
      throw std::runtime_error(std::string("Infer (") + opt_.address + "): " + e.what());
    }
    const auto s = rw->Finish();
    if (!s.ok()) fail("Infer", s);
    st.request_s = since(t1);
    return got;
  }

  // Single-image mode: up to K images in one request -> scores[0][image][class].
  std::vector<std::vector<std::vector<double>>> infer_single(const std::uint8_t* images, std::size_t count, InferStats& st) {
    const auto& prog = packed_->members[0];
    if (count == 0 || count > prog.images_per_ciphertext)
      throw std::invalid_argument("a request holds 1.." + std::to_string(prog.images_per_ciphertext) + " images, not " + std::to_string(count));
    const std::size_t size = prog.input_shape.size();
    const auto t0 = Clock::now();
    std::vector<const std::uint8_t*> raws;
    for (std::size_t i = 0; i < count; ++i) raws.push_back(images + i * size);
    const auto cts = packed_client_->encrypt_images(raws, size);
    auto seeded = packed_client_->serialize(cts, wire::Compression::zstd);  // seeded and compressed, as hecnn infer --mode single
    std::vector<Object> objs;
    for (std::size_t i = 0; i < seeded.size(); ++i) {
      Object o;
      o.kind = v1::CIPHERTEXT;
      o.index = std::uint32_t(i);
      o.data = std::move(seeded[i]);
      st.bytes_up += o.data.size();
      objs.push_back(std::move(o));
    }
    st.encrypt_s = since(t0);
    const std::size_t expect = prog.output_layout.cts;
    const auto got = call_infer(std::move(objs), count, expect, packed_ciphertext_bytes_bound(prog), st);
    const auto t2 = Clock::now();
    std::vector<rlwe::Ciphertext> out(expect);
    std::vector<bool> seen(expect, false);
    for (const auto& o : got) {
      if (o.kind != v1::CIPHERTEXT || o.residue != 0 || o.output != 0 || o.index >= expect || seen[o.index])
        throw std::runtime_error("Infer (" + opt_.address + "): the coordinator returned an object that is not one of the plan's outputs");
      seen[o.index] = true;
      out[o.index] = read_ciphertext(*ctx_, 0, o.data);
      if (out[o.index].size != 2 || !out[o.index].ntt_form) throw std::runtime_error("Infer: an output ciphertext of the wrong form");
    }
    std::vector<std::vector<std::vector<double>>> scores(1, packed_client_->decrypt_images(out, count));
    st.decrypt_s = since(t2);
    return scores;
  }

  std::vector<std::vector<std::vector<double>>> infer(const std::uint8_t* images, std::size_t count, InferStats* stats) {
    if (!client_ && !packed_client_) throw std::logic_error("ServiceClient::infer before open");
    InferStats local;
    InferStats& st = stats ? *stats : local;
    if (packed_client_) return infer_single(images, count, st);
    const auto t0 = Clock::now();
    const auto batch = client_->encrypt(images, count);
    // Seeded objects (c1 from a seed): half the upload.
    auto seeded = client_->serialize_input(batch);
    std::vector<Object> objs;
    for (std::size_t r = 0; r < seeded.size(); ++r)
      for (std::size_t i = 0; i < seeded[r].size(); ++i) {
        Object o;
        o.kind = v1::CIPHERTEXT;
        o.residue = std::uint32_t(r);
        o.index = std::uint32_t(i);
        o.data = std::move(seeded[r][i]);
        st.bytes_up += o.data.size();
        objs.push_back(std::move(o));
      }
    st.encrypt_s = since(t0);
    const std::size_t res = residues(*plan_), outs = plan_->outputs.size();
    const auto got = call_infer(std::move(objs), count, res * outs * plan_->num_classes(), ciphertext_bytes_bound(*plan_), st);
    std::vector<int> all(outs);
    for (std::size_t k = 0; k < outs; ++k) all[k] = int(k);
    nn::runtime::EncryptedResult result;
    try {
      result = result_from_objects(*plan_, *ctx_, got, all, count);
    } catch (const ServiceError& e) {
      throw std::runtime_error(std::string("Infer (") + opt_.address + "): " + e.what());
    }
    const auto t2 = Clock::now();
    for (std::size_t r = 0; r < res; ++r)
      for (std::size_t k = 0; k < outs; ++k) nn::runtime::detail::check_tensor(*plan_, plan_->outputs[k].tensor, result.residues[r][k], plan_->poly_degree());
    auto scores = client_->decrypt(result);
    st.decrypt_s = since(t2);
    return scores;
  }

  void close() {
    if (session_.empty()) return;
    grpc::ClientContext ctx;
    context(ctx);
    v1::CloseSessionRequest req;
    req.set_session_id(session_);
    v1::CloseSessionReply reply;
    stub_->CloseSession(&ctx, req, &reply);
    session_.clear();
  }

  ClientOptions opt_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Inference::Stub> stub_;
  std::unique_ptr<nn::compiler::Program> plan_;
  std::unique_ptr<PlanContexts> ctx_;
  math::SystemPrng prng_;
  std::unique_ptr<nn::runtime::Client> client_;
  std::unique_ptr<nn::compiler::PackedEnsemble> packed_;          // single-image: the public plan
  std::unique_ptr<nn::runtime::PackedClient> packed_client_;
  std::string plan_id_, session_;
  std::vector<std::string> members_;
  double keygen_s_ = 0, upload_s_ = 0;
  std::size_t key_bytes_ = 0;
};

ServiceClient::ServiceClient(const ClientOptions& o) : impl_(std::make_unique<Impl>(o)) {}
ServiceClient::~ServiceClient() = default;
void ServiceClient::open(const std::string& scheme, std::size_t batch_images, const std::string& mode) { impl_->open(scheme, batch_images, mode); }
bool ServiceClient::single() const { return impl_->packed_ != nullptr; }
const nn::compiler::Program& ServiceClient::plan() const {
  if (!impl_->plan_) throw std::logic_error("ServiceClient::plan: a single-image session has no batch plan");
  return *impl_->plan_;
}
std::size_t ServiceClient::input_size() const { return impl_->packed_ ? impl_->packed_->members[0].input_shape.size() : impl_->plan_->input_shape.size(); }
std::size_t ServiceClient::images_per_request() const {
  return impl_->packed_ ? impl_->packed_->members[0].images_per_ciphertext : impl_->plan_->batch_capacity();
}
std::size_t ServiceClient::poly_degree() const { return impl_->packed_ ? impl_->packed_->members[0].poly_degree : impl_->plan_->poly_degree(); }
std::string ServiceClient::description() const { return impl_->packed_ ? impl_->packed_->members[0].description : impl_->plan_->description; }
std::vector<std::string> ServiceClient::output_names() const {
  std::vector<std::string> n;
  if (impl_->packed_) {
    n.push_back(impl_->members_.size() > 1 ? "ens-" + impl_->packed_->combiner : (impl_->members_.empty() ? "m0" : impl_->members_[0]));
    return n;
  }
  for (const auto& o : impl_->plan_->outputs) n.push_back(o.name);
  return n;
}
const std::string& ServiceClient::plan_id() const { return impl_->plan_id_; }
const std::string& ServiceClient::session_id() const { return impl_->session_; }
std::vector<std::string> ServiceClient::members() const { return impl_->members_; }
double ServiceClient::keygen_seconds() const { return impl_->keygen_s_; }
double ServiceClient::upload_seconds() const { return impl_->upload_s_; }
std::size_t ServiceClient::key_bytes() const { return impl_->key_bytes_; }
std::vector<std::vector<std::vector<double>>> ServiceClient::infer(const std::uint8_t* images, std::size_t count, InferStats* stats) {
  return impl_->infer(images, count, stats);
}
void ServiceClient::close() { impl_->close(); }
void ServiceClient::set_session_for_tests(const std::string& id) { impl_->session_ = id; }

}  // namespace hecnn::service
