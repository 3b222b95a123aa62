#include "service/holder.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <map>
#include <mutex>
#include <stdexcept>

#include "nn/compiler/packed_io.h"
#include "nn/compiler/parts.h"
#include "nn/compiler/plan_io.h"
#include "nn/model/model_io.h"
#include "nn/runtime/client_server.h"
#include "service/codec.h"
#include "service/proto/service.grpc.pb.h"
#include "service/session_store.h"
#include "service/sessions.h"
#include "service/stream.h"

namespace hecnn::service {

namespace {
using grpc::ServerContext;
using grpc::Status;
using grpc::StatusCode;
using Clock = std::chrono::steady_clock;

struct LoadedPlan {
  std::shared_ptr<const nn::compiler::Program> prog;           // batch mode
  std::shared_ptr<const nn::compiler::PackedEnsemble> packed;  // single-image mode
  std::shared_ptr<const PlanContexts> ctx;
  int member = -1;   // the plan's member this holder runs
  std::string id;
};

struct SessionData {
  std::shared_ptr<const LoadedPlan> plan;
  std::unique_ptr<nn::runtime::Server> server;  // once keys arrived (batch)
  std::unique_ptr<nn::runtime::PackedServer> packed_server;  // (single-image)
  std::vector<std::string> key_kinds;
  bool restored = false;
};
using Sessions = SessionTable<SessionData>;
}  // namespace

class Holder::Impl final : public v1::Inference::Service, public v1::Holder::Service {
 public:
  explicit Impl(const HolderOptions& o) : opt_(o), gate_(o.server.limits.max_concurrent), sessions_(o.server.limits, "holder") {
    if (o.models.empty()) throw std::invalid_argument("holder: give at least one --model");
    tokens_ = check_server_options(o.server, "holder");
    store_ = open_session_store(o.session_store, "holder");
    for (const auto& path : o.models) {
      nn::Model m = nn::read_model(path);
      models_.push_back(m);
      digests_.push_back(nn::compiler::model_fingerprint(m));
      model_bytes_.push_back(nn::serialize_model(m, nn::DType::f64));
    }
  }

  // ---- Holder service (the coordinator) ----
  Status GetModel(ServerContext* ctx, const v1::GetModelRequest*, grpc::ServerWriter<v1::Frame>* w) override {
    return guarded([&] {
      check_peer(*ctx);
      v1::Header h;
      h.set_objects(models_.size());
      send_header(*w, h);
      for (std::size_t i = 0; i < models_.size(); ++i) {
        Object o;
        o.kind = v1::MODEL;
        o.index = std::uint32_t(i);
        o.data.assign(model_bytes_[i].begin(), model_bytes_[i].end());
        send_object(*w, o);
      }
    });
  }

  Status LoadPlan(ServerContext* ctx, grpc::ServerReader<v1::Frame>* r, v1::LoadPlanReply* reply) override {
    return guarded([&] {
      check_peer(*ctx);
      const v1::Header h = read_header(*r);
      const auto objs = read_objects(*r, 1, nn::compiler::kMaxPlanFileBytes, nn::compiler::kMaxPlanFileBytes);
      if (objs[0].kind != v1::PLAN) throw ServiceError(StatusCode::INVALID_ARGUMENT, "LoadPlan: the object is not a plan");
      const int member = h.member();
      if (objs[0].data.size() >= 8 && std::memcmp(objs[0].data.data(), "HECNNPKD", 8) == 0) {
        // A single-image (packed) plan: this holder runs member `member` of the ensemble.
        auto ens = std::make_shared<nn::compiler::PackedEnsemble>(nn::compiler::parse_packed(objs[0].data));
        if (member < 0 || std::size_t(member) >= ens->members.size() || ens->members[std::size_t(member)].ops.empty())
          throw ServiceError(StatusCode::INVALID_ARGUMENT, "LoadPlan: member " + std::to_string(member) + " is not in the plan");
        const auto& d = ens->members[std::size_t(member)].member_digests;
        bool mine = false;
        for (const auto& x : digests_) mine |= d.size() == 1 && x == d[0];
        if (!mine) throw ServiceError(StatusCode::FAILED_PRECONDITION, "LoadPlan: member " + std::to_string(member) + " of the plan was compiled from a model this holder does not serve");
        auto lp = std::make_shared<LoadedPlan>();
        lp->id = nn::compiler::packed_plan_id(*ens);
        lp->member = member;
        lp->ctx = std::make_shared<PlanContexts>(packed_contexts(ens->members[0]));
        lp->packed = std::move(ens);
        std::lock_guard<std::mutex> g(mu_);
        if (plans_.size() >= 16 && !plans_.count(lp->id)) throw ServiceError(StatusCode::RESOURCE_EXHAUSTED, "LoadPlan: 16 plans loaded already");
        reply->set_plan_id(lp->id);
        plans_[lp->id] = std::move(lp);
        return;
      }
      auto prog = std::make_shared<nn::compiler::Program>(nn::compiler::parse_plan(objs[0].data));
      if (member < 0 || member >= prog->members)
        throw ServiceError(StatusCode::INVALID_ARGUMENT, "LoadPlan: member " + std::to_string(member) + " is not in the plan");
      if (prog->member_digests.size() != std::size_t(prog->members))
        throw ServiceError(StatusCode::INVALID_ARGUMENT, "LoadPlan: the plan does not record its members' model digests");
      bool mine = false;
      for (const auto& d : digests_) mine |= d == prog->member_digests[std::size_t(member)];
      if (!mine) {
        throw ServiceError(StatusCode::FAILED_PRECONDITION, "LoadPlan: member " + std::to_string(member) +
                                                                " of the plan was compiled from a model this holder does not serve");
      }
      nn::compiler::member_part(*prog, member);  // separable (throws PlanError otherwise)
      auto lp = std::make_shared<LoadedPlan>();
      lp->id = nn::compiler::plan_id(*prog);
      lp->member = member;
      lp->ctx = std::make_shared<PlanContexts>(plan_contexts(*prog));
      lp->prog = std::move(prog);
      std::lock_guard<std::mutex> g(mu_);
      if (plans_.size() >= 16 && !plans_.count(lp->id)) throw ServiceError(StatusCode::RESOURCE_EXHAUSTED, "LoadPlan: 16 plans loaded already");
      reply->set_plan_id(lp->id);
      plans_[lp->id] = std::move(lp);
    });
  }

  // ---- Inference service (the coordinator, on behalf of a client) ----
  Status GetPlan(ServerContext* ctx, const v1::GetPlanRequest*, v1::GetPlanReply*) override {
    return guarded([&] {
      check_client(*ctx);
      throw ServiceError(StatusCode::UNIMPLEMENTED, "a model holder does not compile plans: ask the coordinator");
    });
  }

  Status CreateSession(ServerContext* ctx, const v1::CreateSessionRequest* req, v1::CreateSessionReply* reply) override {
    return guarded([&] {
      const std::string cred = check_client(*ctx);
      std::shared_ptr<const LoadedPlan> plan;
      {
        std::lock_guard<std::mutex> g(mu_);
        const auto it = plans_.find(req->plan_id());
        if (it == plans_.end()) throw ServiceError(StatusCode::FAILED_PRECONDITION, "unknown plan " + req->plan_id() + " (not loaded on this holder)");
        plan = it->second;
      }
      auto s = sessions_.create(cred, req->plan_id());
      s->data.plan = plan;
      if (store_) store_->put(s->id, {cred, s->plan_id, {}}, opt_.server.limits.session_idle_s);
      reply->set_session_id(s->id);
      reply->set_key_bytes_limit(plan->packed ? packed_key_bytes_bound(*plan->packed) : key_bytes_bound(*plan->prog));
    });
  }

  Status CloseSession(ServerContext* ctx, const v1::CloseSessionRequest* req, v1::CloseSessionReply*) override {
    return guarded([&] {
      const std::string cred = check_client(*ctx);
      session(req->session_id(), cred);  // exists and is the caller's (here or in the store)
      sessions_.close(req->session_id(), cred);
      if (store_) store_->erase(req->session_id());
    });
  }

  Status UploadKeys(ServerContext* ctx, grpc::ServerReader<v1::Frame>* r, v1::UploadKeysReply* reply) override {
    return guarded([&] {
      const std::string cred = check_client(*ctx);
      const v1::Header h = read_header(*r);
      auto s = session(h.session_id(), cred);
      std::lock_guard<std::mutex> sg(s->mu);
      const LoadedPlan& plan = *s->data.plan;
      const auto keys = plan.packed ? upload_packed_keys(*s, *r, h, plan, reply)
                                    : upload_keys(sessions_, *s, *r, h, *plan.prog, *plan.ctx, s->data.server, reply);
      for (const auto& k : keys) s->data.key_kinds.push_back(k.kind == KeyKind::relin ? "relin" : "galois");
      if (store_) store_->put(s->id, {cred, s->plan_id, keys}, opt_.server.limits.session_idle_s);
    });
  }

  Status Infer(ServerContext* ctx, grpc::ServerReaderWriter<v1::Frame, v1::Frame>* rw) override {
    return guarded([&] {
      const std::string cred = check_client(*ctx);
      const v1::Header h = read_header(*rw);
      auto s = session(h.session_id(), cred);
      if (!s->data.server && !s->data.packed_server) throw ServiceError(StatusCode::FAILED_PRECONDITION, "the session has no evaluation keys yet (UploadKeys first)");
      if (!h.plan_id().empty() && h.plan_id() != s->plan_id) throw ServiceError(StatusCode::INVALID_ARGUMENT, "the request is for another plan than its session");
      const LoadedPlan& plan = *s->data.plan;
      if (plan.packed) return infer_packed(*ctx, *rw, h, *s);
      const auto& prog = *plan.prog;
      const std::size_t expected = residues(prog) * prog.instrs[0].size;
      if (h.images() == 0 || h.images() > prog.batch_capacity())
        throw ServiceError(StatusCode::INVALID_ARGUMENT, "a batch holds 1.." + std::to_string(prog.batch_capacity()) + " images, not " + std::to_string(h.images()));
      if (h.objects() != expected)
        throw ServiceError(StatusCode::INVALID_ARGUMENT, "the plan's input is " + std::to_string(expected) + " ciphertexts, the request announces " + std::to_string(h.objects()));
      const GateSlot slot(gate_, *ctx, opt_.server.limits, "holder");
      const auto t0 = Clock::now();
      std::size_t bytes_in = 0;
      auto batch = input_batch(prog, *plan.ctx, read_objects(*rw, expected, ciphertext_bytes_bound(prog), opt_.server.limits.max_stream_bytes, false),
                               std::size_t(h.images()), &bytes_in);
      if (ctx->IsCancelled()) throw ServiceError(StatusCode::CANCELLED, "the request was cancelled");
      const auto outs = result_objects(*plan.ctx, s->data.server->evaluate_member(plan.member, std::move(batch)));
      send_reply(*rw, *s, h, outs, t0, bytes_in);
    });
  }

  // The reply to the coordinator: header (this member's time and bytes), then the outputs.
  template <class RW>
  void send_reply(RW& rw, const Sessions::Session& s, const v1::Header& h, const std::vector<Object>& outs, Clock::time_point t0,
                  std::size_t bytes_in) {
    v1::Header reply = reply_header(s.id, s.plan_id, h.images(), outs.size());
    add_party(reply, "member " + std::to_string(s.data.plan->member), std::chrono::duration<double>(Clock::now() - t0).count(), bytes_in,
              object_bytes(outs));
    send_header(rw, reply);
    for (const auto& o : outs) send_object(rw, o);
  }

  // UploadKeys of a single-image session: Galois (and relinearization) keys, bounded by the plan.
  template <class R>
  std::vector<KeyObject> upload_packed_keys(Sessions::Session& s, R& r, const v1::Header& h, const LoadedPlan& plan, v1::UploadKeysReply* reply) {
    return upload_key_objects(
        sessions_, s, r, h, packed_key_bytes_bound(*plan.packed), bool(s.data.packed_server),
        [&](const std::vector<KeyObject>& keys) {
          s.data.packed_server = std::make_unique<nn::runtime::PackedServer>(plan.packed->members[std::size_t(plan.member)],
                                                                              parse_packed_keys(*plan.packed, *plan.ctx, keys), std::size_t(1) << 30);
        },
        reply);
  }

  // Infer of a single-image session: the member's packed program on the request's ciphertexts.
  void infer_packed(ServerContext& ctx, grpc::ServerReaderWriter<v1::Frame, v1::Frame>& rw, const v1::Header& h, Sessions::Session& s) {
    const LoadedPlan& plan = *s.data.plan;
    const auto& prog = plan.packed->members[std::size_t(plan.member)];
    const std::size_t expected = prog.input_layout.cts;
    if (h.images() == 0 || h.images() > prog.images_per_ciphertext)
      throw ServiceError(StatusCode::INVALID_ARGUMENT, "a request holds 1.." + std::to_string(prog.images_per_ciphertext) + " images, not " + std::to_string(h.images()));
    if (h.objects() != expected)
      throw ServiceError(StatusCode::INVALID_ARGUMENT, "the plan's input is " + std::to_string(expected) + " ciphertexts, the request announces " + std::to_string(h.objects()));
    const GateSlot slot(gate_, ctx, opt_.server.limits, "holder");
    const auto t0 = Clock::now();
    const auto objs = read_objects(rw, expected, packed_ciphertext_bytes_bound(prog), opt_.server.limits.max_stream_bytes, false);
    std::vector<rlwe::Ciphertext> input(expected);
    std::vector<bool> seen(expected, false);
    std::size_t bytes_in = 0;
    for (std::size_t j = 0; j < objs.size(); ++j) {
      const auto& o = objs[j];
      if (o.kind != v1::CIPHERTEXT || o.residue != 0 || o.output != 0 || o.index >= expected || seen[o.index])
        throw ServiceError(StatusCode::INVALID_ARGUMENT, "input object " + std::to_string(j) + " is not a new input ciphertext of the plan");
      seen[o.index] = true;
      input[o.index] = read_ciphertext(*plan.ctx, 0, o.data);
      bytes_in += o.data.size();
    }
    const auto out = s.data.packed_server->evaluate(std::move(input));
    std::vector<Object> outs;
    for (std::size_t i = 0; i < out.size(); ++i) {
      Object o;
      o.kind = v1::CIPHERTEXT;
      o.index = std::uint32_t(i);
      o.data = write_ciphertext(*plan.ctx, 0, out[i]);
      outs.push_back(std::move(o));
    }
    send_reply(rw, s, h, outs, t0, bytes_in);
  }

  std::vector<HolderSessionInfo> sessions() const {
    std::vector<HolderSessionInfo> out;
    for (const auto& s : sessions_.all())
      out.push_back({s->id, s->plan_id, s->data.plan ? s->data.plan->member : -1, s->key_bytes, s->data.key_kinds, s->data.restored});
    return out;
  }

  HolderOptions opt_;
  TokenSet tokens_;
  ConcurrencyGate gate_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

 private:
  std::string check_client(const ServerContext& ctx) const {
    const std::string t = bearer_token(ctx);
    if (t.empty()) throw ServiceError(StatusCode::UNAUTHENTICATED, "no bearer token (authorization metadata)");
    if (!tokens_.accepts(t) && !(t == opt_.server.peer_token && !t.empty()))
      throw ServiceError(StatusCode::UNAUTHENTICATED, "the token is not accepted by this holder");
    return credential_digest(t);
  }
  // The caller's session: in memory, or restored from the shared store (keys parsed again,
  // bounded by the plan) when another replica created it.
  std::shared_ptr<Sessions::Session> session(const std::string& id, const std::string& cred) {
    if (auto s = sessions_.find(id, cred)) {
      std::lock_guard<std::mutex> g(s->mu);  // waits for a restore in progress
      if (!s->data.plan) throw ServiceError(StatusCode::NOT_FOUND, "unknown session (its restore failed)");
      return s;
    }
    if (!store_) return sessions_.get(id, cred);  // NOT_FOUND
    std::shared_ptr<const LoadedPlan> any;
    std::size_t bound = 0;
    {
      std::lock_guard<std::mutex> g(mu_);
      for (const auto& [pid, p] : plans_) bound = std::max<std::size_t>(bound, p->packed ? packed_key_bytes_bound(*p->packed) : key_bytes_bound(*p->prog));
    }
    const auto rec = store_->get(id, bound + 4096);
    if (!rec) return sessions_.get(id, cred);  // NOT_FOUND
    if (rec->credential != cred) throw ServiceError(StatusCode::PERMISSION_DENIED, "the session belongs to another credential");
    std::shared_ptr<const LoadedPlan> plan;
    {
      std::lock_guard<std::mutex> g(mu_);
      const auto it = plans_.find(rec->plan_id);
      if (it == plans_.end()) throw ServiceError(StatusCode::FAILED_PRECONDITION, "unknown plan " + rec->plan_id + " (not loaded on this holder)");
      plan = it->second;
    }
    auto s = sessions_.adopt(id, cred, rec->plan_id);
    std::lock_guard<std::mutex> sg(s->mu);
    if (!s->data.plan) {
      s->data.plan = plan;
      s->data.restored = true;
      if (!rec->keys.empty()) {
        if (plan->packed) {
          Sessions::KeyReservation reserve(sessions_, *s, packed_key_bytes_bound(*plan->packed));
          s->data.packed_server = std::make_unique<nn::runtime::PackedServer>(plan->packed->members[std::size_t(plan->member)],
                                                                               parse_packed_keys(*plan->packed, *plan->ctx, rec->keys), std::size_t(1) << 30);
          std::size_t bytes = 0;
          for (const auto& k : rec->keys) bytes += k.bytes.size();
          reserve.commit(bytes);
        }
      }
      if (!rec->keys.empty() && !plan->packed) {
        const auto& prog = *plan->prog;
        Sessions::KeyReservation reserve(sessions_, *s, key_bytes_bound(prog));
        s->data.server = std::make_unique<nn::runtime::Server>(prog, parse_keys(prog, *plan->ctx, rec->keys));
        std::size_t bytes = 0;
        for (const auto& k : rec->keys) {
          bytes += k.bytes.size();
          s->data.key_kinds.push_back(k.kind == KeyKind::relin ? "relin" : "galois");
        }
        reserve.commit(bytes);
      }
      std::fprintf(stderr, "hecnn holder: session %.8s... restored from %s\n", id.c_str(), store_->describe().c_str());
    }
    return s;
  }

  void check_peer(const ServerContext& ctx) const {
    const std::string t = bearer_token(ctx);
    if (opt_.server.peer_token.empty()) {
      if (!opt_.server.insecure_loopback)
        throw ServiceError(StatusCode::PERMISSION_DENIED, "this holder has no --peer-token: it shares models and plans with no coordinator");
      return;  // loopback deployment without a peer credential
    }
    if (t != opt_.server.peer_token) throw ServiceError(StatusCode::PERMISSION_DENIED, "the coordinator's peer token is not accepted");
  }
  std::vector<nn::Model> models_;
  std::vector<std::string> digests_, model_bytes_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const LoadedPlan>> plans_;
  Sessions sessions_;
  std::unique_ptr<SessionStore> store_;
};

Holder::Holder(const HolderOptions& o) : impl_(std::make_unique<Impl>(o)) {}
Holder::~Holder() { shutdown(); }

void Holder::start() {
  grpc::ServerBuilder b;
  b.AddListeningPort(impl_->opt_.server.listen, server_credentials(impl_->opt_.server), &impl_->port_);
  b.SetMaxReceiveMessageSize(int(impl_->opt_.server.limits.max_message_bytes));
  b.SetMaxSendMessageSize(int(impl_->opt_.server.limits.max_message_bytes));
  b.RegisterService(static_cast<v1::Inference::Service*>(impl_.get()));
  b.RegisterService(static_cast<v1::Holder::Service*>(impl_.get()));
  impl_->server_ = b.BuildAndStart();
  if (!impl_->server_ || impl_->port_ == 0) throw std::runtime_error("holder: cannot listen on " + impl_->opt_.server.listen);
}

int Holder::port() const { return impl_->port_; }
void Holder::wait() {
  if (impl_->server_) impl_->server_->Wait();
}
void Holder::shutdown() {
  if (impl_ && impl_->server_) impl_->server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}
std::vector<HolderSessionInfo> Holder::sessions() const { return impl_->sessions(); }

}  // namespace hecnn::service
