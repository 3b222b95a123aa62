#include "service/coordinator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "fhe/ckks/evaluator.h"
#include "nn/compiler/packed_io.h"
#include "nn/compiler/parts.h"
#include "nn/compiler/plan_io.h"
#include "nn/model/dataset.h"
#include "nn/model/model_io.h"
#include "nn/runtime/client_server.h"
#include "nn/runtime/pipeline.h"
#include "service/codec.h"
#include "service/proto/service.grpc.pb.h"
#include "service/sessions.h"
#include "service/stream.h"

namespace hecnn::service {

namespace {
using grpc::ServerContext;
using grpc::Status;
using grpc::StatusCode;
using Clock = std::chrono::steady_clock;

struct Plan {
  std::shared_ptr<const nn::compiler::Program> prog;           // batch mode
  std::shared_ptr<const nn::compiler::PackedEnsemble> packed;  // single-image mode
  std::shared_ptr<const PlanContexts> ctx;
  std::string id;
  std::vector<std::uint8_t> full_bytes, public_bytes;
};

struct HolderSession {
  std::string id;  // on that replica
};

struct SessionData {
  std::string token;                                // forwarded to holders when there is no peer token
  std::shared_ptr<const Plan> plan;
  std::vector<KeyObject> keys;                      // as uploaded, forwarded to holders
  std::unique_ptr<nn::runtime::Server> server;     // the combiner (batch)
  bool packed_keys_ok = false;                      // single-image: keys checked
  std::mutex holders_mu;
  std::map<std::string, HolderSession> holders;    // replica address -> its session
  std::set<std::string> own_sessions;               // replicas that refused a twin's session id (no shared store)
};
using Sessions = SessionTable<SessionData>;
using Session = Sessions::Session;

struct Replica {
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Inference::Stub> infer;
  std::unique_ptr<v1::Holder::Stub> holder;
};

struct Member {
  std::string name;
  std::vector<std::unique_ptr<Replica>> replicas;
  std::atomic<std::size_t> next{0};
};

std::chrono::system_clock::time_point deadline_in(double s) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(std::int64_t(s * 1000));
}
}  // namespace

MemberSpec parse_member(const std::string& s) {
  const auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) throw std::invalid_argument("--member '" + s + "' is not NAME=HOST:PORT[,HOST:PORT...]");
  MemberSpec m;
  m.name = s.substr(0, eq);
  std::string rest = s.substr(eq + 1);
  std::size_t b = 0;
  while (b <= rest.size()) {
    const auto c = rest.find(',', b);
    const std::string a = rest.substr(b, c == std::string::npos ? std::string::npos : c - b);
    if (a.empty()) throw std::invalid_argument("--member '" + s + "': an empty address");
    m.addresses.push_back(a);
    if (c == std::string::npos) break;
    b = c + 1;
  }
  return m;
}

class Coordinator::Impl final : public v1::Inference::Service {
 public:
  explicit Impl(const CoordinatorOptions& o) : opt_(o), gate_(o.server.limits.max_concurrent), sessions_(o.server.limits, "coordinator") {
    tokens_ = check_server_options(o.server, "coordinator");
    if (o.members.empty()) throw std::invalid_argument("coordinator: give the members (--member NAME=HOST:PORT ...)");
    if (o.members.size() > 64) throw std::invalid_argument("coordinator: at most 64 members");
    for (const auto& c : o.combiners) nn::compiler::parse_combiner(c);  // throws on an unknown name
    if (o.on_missing_member != "fail" && o.on_missing_member != "drop")
      throw std::invalid_argument("coordinator: --on-missing-member " + o.on_missing_member + ": use fail or drop");
    for (const auto& spec : o.members) {
      for (const auto& other : members_)
        if (other->name == spec.name) throw std::invalid_argument("coordinator: member " + spec.name + " given twice");
      auto m = std::make_unique<Member>();
      m->name = spec.name;
      for (const auto& a : spec.addresses) {
        if (opt_.holder_ca.empty()) check_connect_address(a, true);
        auto r = std::make_unique<Replica>();
        r->address = a;
        r->channel = make_channel(a, opt_.holder_ca, opt_.holder_ca.empty(), o.server.limits.max_message_bytes);
        r->infer = v1::Inference::NewStub(r->channel);
        r->holder = v1::Holder::NewStub(r->channel);
        m->replicas.push_back(std::move(r));
      }
      members_.push_back(std::move(m));
    }
  }

  // Fetches every member's model (first replica that answers, retried until the timeout).
  void fetch_models() {
    for (auto& m : members_) {
      const auto until = Clock::now() + std::chrono::milliseconds(std::int64_t(opt_.connect_timeout_s * 1000));
      std::string last;
      bool done = false;
      while (!done) {
        for (auto& r : m->replicas) {
          grpc::ClientContext ctx;
          peer_auth(ctx, "");
          ctx.set_deadline(deadline_in(10));
          ctx.set_wait_for_ready(false);
          auto reader = r->holder->GetModel(&ctx, v1::GetModelRequest{});
          try {
            const v1::Header h = read_header(*reader);
            if (h.objects() == 0 || h.objects() > 64) throw ServiceError(StatusCode::INVALID_ARGUMENT, "the holder announces " + std::to_string(h.objects()) + " models");
            const auto objs = read_objects(*reader, std::size_t(h.objects()), std::size_t(1) << 30, std::size_t(4) << 30);
            std::vector<nn::Model> ms;
            for (const auto& o : objs) ms.push_back(nn::parse_model(std::string_view(reinterpret_cast<const char*>(o.data.data()), o.data.size())));
            const Status st = reader->Finish();
            if (!st.ok()) throw ServiceError(st.error_code(), st.error_message());
            // A holder with several models: the member's name picks one (model name or file stem).
            const nn::Model* pick = ms.size() == 1 ? &ms[0] : nullptr;
            for (const auto& x : ms)
              if (!pick && x.meta.name == m->name) pick = &x;
            if (!pick) throw std::invalid_argument("member " + m->name + ": holder " + r->address + " serves " + std::to_string(ms.size()) + " models, none named " + m->name);
            models_.push_back(*pick);
            done = true;
            break;
          } catch (const std::exception& e) {
            last = r->address + ": " + e.what();
            if (dynamic_cast<const std::invalid_argument*>(&e)) throw;
            if (const auto* se = dynamic_cast<const ServiceError*>(&e); se && se->code == StatusCode::PERMISSION_DENIED)
              throw std::runtime_error("member " + m->name + ": " + last);
          }
        }
        if (!done) {
          if (Clock::now() > until) throw std::runtime_error("member " + m->name + ": no replica answered within " + std::to_string(int(opt_.connect_timeout_s)) + " s (" + last + ")");
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
      }
    }
    for (const auto& m : models_)
      if (m.input.shape.size() != models_[0].input.shape.size()) throw std::invalid_argument("coordinator: the members' models take different inputs");
  }

  // ---- Inference service (clients) ----
  Status GetPlan(ServerContext* ctx, const v1::GetPlanRequest* req, v1::GetPlanReply* reply) override {
    return guarded([&] {
      check_client(*ctx);
      if (!req->mode().empty() && req->mode() != "batch" && req->mode() != "single")
        throw ServiceError(StatusCode::INVALID_ARGUMENT, "mode '" + req->mode() + "': use batch or single");
      const bool single = req->mode() == "single";
      if (single && !req->scheme().empty() && req->scheme() != "ckks")
        throw ServiceError(StatusCode::INVALID_ARGUMENT, "single-image mode is CKKS only (not " + req->scheme() + ")");
      const auto scheme = nn::compiler::parse_scheme(req->scheme().empty() ? (single ? "ckks" : "bfv") : req->scheme());
      auto plan = single ? get_packed_plan(std::max<std::size_t>(1, std::size_t(req->batch_images()))) : get_plan(scheme, std::size_t(req->batch_images()));
      reply->set_plan_id(plan->id);
      reply->set_public_plan(plan->public_bytes.data(), plan->public_bytes.size());
      for (const auto& m : members_) reply->add_members(m->name);
      reply->set_max_message_bytes(opt_.server.limits.max_message_bytes);
      reply->set_max_images(plan->packed ? plan->packed->members[0].images_per_ciphertext : plan->prog->batch_capacity());
    });
  }

  Status CreateSession(ServerContext* ctx, const v1::CreateSessionRequest* req, v1::CreateSessionReply* reply) override {
    return guarded([&] {
      const std::string token = bearer_token(*ctx);
      const std::string cred = check_client(*ctx);
      std::shared_ptr<const Plan> plan;
      {
        std::lock_guard<std::mutex> g(mu_);
        for (const auto& [k, p] : plans_)
          if (p->id == req->plan_id()) plan = p;
      }
      if (!plan) throw ServiceError(StatusCode::FAILED_PRECONDITION, "unknown plan " + req->plan_id() + " (GetPlan first)");
      auto s = sessions_.create(cred, plan->id);
      s->data.token = token;
      s->data.plan = plan;
      reply->set_session_id(s->id);
      reply->set_key_bytes_limit(plan->packed ? packed_key_bytes_bound(*plan->packed) : key_bytes_bound(*plan->prog));
    });
  }

  Status CloseSession(ServerContext* ctx, const v1::CloseSessionRequest* req, v1::CloseSessionReply*) override {
    return guarded([&] { sessions_.close(req->session_id(), check_client(*ctx)); });
  }

  Status UploadKeys(ServerContext* ctx, grpc::ServerReader<v1::Frame>* r, v1::UploadKeysReply* reply) override {
    return guarded([&] {
      const std::string cred = check_client(*ctx);
      const v1::Header h = read_header(*r);
      auto s = sessions_.get(h.session_id(), cred);
      std::lock_guard<std::mutex> sg(s->mu);
      const Plan& plan = *s->data.plan;
      if (plan.packed) {
        // Single-image: the coordinator only adds the members' outputs; the keys are checked
        // (parsed under the plan's bounds) and kept for the holders.
        if (s->data.packed_keys_ok) throw ServiceError(StatusCode::FAILED_PRECONDITION, "the session's keys were uploaded already");
        const std::uint64_t bound = packed_key_bytes_bound(*plan.packed);
        Sessions::KeyReservation reserve(sessions_, *s, bound);
        auto keys = read_key_objects(*r, h, bound);
        parse_packed_keys(*plan.packed, *plan.ctx, keys);
        std::size_t bytes = 0;
        for (const auto& k : keys) bytes += k.bytes.size();
        reserve.commit(bytes);
        reply->set_bytes(bytes);
        reply->set_objects(std::uint32_t(keys.size()));
        s->data.keys = std::move(keys);
        s->data.packed_keys_ok = true;
        return;
      }
      s->data.keys = upload_keys(sessions_, *s, *r, h, *plan.prog, *plan.ctx, s->data.server, reply);
    });
  }

  Status Infer(ServerContext* ctx, grpc::ServerReaderWriter<v1::Frame, v1::Frame>* rw) override {
    return guarded([&] {
      const std::string cred = check_client(*ctx);
      const v1::Header h = read_header(*rw);
      auto s = sessions_.get(h.session_id(), cred);
      if (!s->data.server && !s->data.packed_keys_ok) throw ServiceError(StatusCode::FAILED_PRECONDITION, "the session has no evaluation keys yet (UploadKeys first)");
      if (s->data.plan->packed) return infer_packed(*ctx, *rw, h, s);
      const auto& prog = *s->data.plan->prog;
      const std::size_t res = residues(prog), in = prog.instrs[0].size;
      if (h.images() == 0 || h.images() > prog.batch_capacity())
        throw ServiceError(StatusCode::INVALID_ARGUMENT, "a batch holds 1.." + std::to_string(prog.batch_capacity()) + " images, not " + std::to_string(h.images()));
      if (h.objects() != res * in)
        throw ServiceError(StatusCode::INVALID_ARGUMENT, "the plan's input is " + std::to_string(res * in) + " ciphertexts (" + std::to_string(res) + " residues x " +
                                                             std::to_string(in) + "), the request announces " + std::to_string(h.objects()));
      const GateSlot slot(gate_, *ctx, opt_.server.limits, "coordinator");
      const auto t_start = Clock::now();
      auto objs = read_objects(*rw, res * in, ciphertext_bytes_bound(prog), opt_.server.limits.max_stream_bytes, false);
      const std::size_t bytes_in = check_input_objects(prog, objs);
      const auto until = request_deadline(*ctx, opt_.server.limits);
      std::vector<bool> used;
      auto replies = fan_out(*s, std::size_t(h.images()), objs, until, used);
      std::vector<nn::runtime::EncryptedResult> results;
      for (std::size_t m = 0; m < members_.size(); ++m)
        if (!used[m]) replies[m].result = zero_outputs(prog, int(m), std::size_t(h.images()));
      objs.clear();
      for (auto& r : replies) results.push_back(std::move(r.result));
      const auto outs = result_objects(*s->data.plan->ctx, s->data.server->combine(std::move(results)));
      send_reply(*rw, *s, h, outs, replies, used, t_start, bytes_in);
    });
  }

  std::vector<CoordinatorSessionInfo> sessions() const {
    std::vector<CoordinatorSessionInfo> out;
    for (const auto& s : sessions_.all()) {
      CoordinatorSessionInfo i{s->id, s->plan_id, s->key_bytes, {}};
      for (const auto& k : s->data.keys) i.key_kinds.push_back(k.kind == KeyKind::relin ? "relin" : "galois");
      out.push_back(std::move(i));
    }
    return out;
  }

  CoordinatorOptions opt_;
  TokenSet tokens_;
  ConcurrencyGate gate_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

 private:
  struct MemberReply {
    nn::runtime::EncryptedResult result;
    std::vector<rlwe::Ciphertext> packed;  // single-image: the member's output ciphertexts
    std::string address;
    double seconds = 0;
    std::size_t bytes_in = 0, bytes_out = 0;
  };

  // Every member at once; used[m] says who answered. A member without an answer fails the
  // request (naming it) unless --on-missing-member drop and someone answered.
  std::vector<MemberReply> fan_out(Session& s, std::size_t images, const std::vector<Object>& objs, std::chrono::system_clock::time_point until,
                                   std::vector<bool>& used) {
    std::vector<std::future<MemberReply>> futs;
    for (std::size_t m = 0; m < members_.size(); ++m)
      futs.push_back(std::async(std::launch::async, [&, m] { return run_member(s, m, images, objs, until); }));
    std::vector<MemberReply> replies(members_.size());
    used.assign(members_.size(), true);
    std::string errors;
    for (std::size_t m = 0; m < members_.size(); ++m) {
      try {
        replies[m] = futs[m].get();
      } catch (const std::exception& e) {
        errors += (errors.empty() ? "" : "; ") + std::string("member ") + members_[m]->name + ": " + e.what();
        used[m] = false;
      }
    }
    const std::size_t n_used = std::size_t(std::count(used.begin(), used.end(), true));
    if (!errors.empty() && (opt_.on_missing_member != "drop" || n_used == 0)) throw ServiceError(StatusCode::UNAVAILABLE, errors);
    return replies;
  }

  // The reply: header (members used, per-party times and bytes), then the output objects.
  template <class RW>
  void send_reply(RW& rw, const Session& s, const v1::Header& h, const std::vector<Object>& outs, const std::vector<MemberReply>& replies,
                  const std::vector<bool>& used, Clock::time_point t_start, std::size_t bytes_in) {
    v1::Header reply = reply_header(s.id, s.plan_id, h.images(), outs.size());
    for (std::size_t m = 0; m < members_.size(); ++m) {
      if (!used[m]) continue;
      reply.add_members_used(members_[m]->name);
      add_party(reply, members_[m]->name, replies[m].seconds, replies[m].bytes_in, replies[m].bytes_out, replies[m].address);
    }
    add_party(reply, "coordinator", std::chrono::duration<double>(Clock::now() - t_start).count(), bytes_in, object_bytes(outs));
    send_header(rw, reply);
    for (const auto& o : outs) send_object(rw, o);
  }

  // Single-image Infer: the input ciphertexts to every member, their outputs added (the
  // members' weights are folded into their last layers; equal levels and scales).
  void infer_packed(ServerContext& ctx, grpc::ServerReaderWriter<v1::Frame, v1::Frame>& rw, const v1::Header& h, const std::shared_ptr<Session>& s) {
    const Plan& plan = *s->data.plan;
    const auto& prog = plan.packed->members[0];
    const std::size_t expected = prog.input_layout.cts;
    if (h.images() == 0 || h.images() > prog.images_per_ciphertext)
      throw ServiceError(StatusCode::INVALID_ARGUMENT, "a request holds 1.." + std::to_string(prog.images_per_ciphertext) + " images, not " + std::to_string(h.images()));
    if (h.objects() != expected)
      throw ServiceError(StatusCode::INVALID_ARGUMENT, "the plan's input is " + std::to_string(expected) + " ciphertexts, the request announces " + std::to_string(h.objects()));
    const GateSlot slot(gate_, ctx, opt_.server.limits, "coordinator");
    const auto t_start = Clock::now();
    auto objs = read_objects(rw, expected, packed_ciphertext_bytes_bound(prog), opt_.server.limits.max_stream_bytes, false);
    std::size_t bytes_in = 0;
    std::vector<bool> seen(expected, false);
    for (std::size_t j = 0; j < objs.size(); ++j) {
      const auto& o = objs[j];
      if (o.kind != v1::CIPHERTEXT || o.residue != 0 || o.output != 0 || o.index >= expected || seen[o.index])
        throw ServiceError(StatusCode::INVALID_ARGUMENT, "input object " + std::to_string(j) + " is not a new input ciphertext of the plan");
      seen[o.index] = true;
      bytes_in += o.data.size();
    }
    const auto until = request_deadline(ctx, opt_.server.limits);
    std::vector<bool> used;
    auto replies = fan_out(*s, std::size_t(h.images()), objs, until, used);
    ckks::Evaluator ev(plan.ctx->core[0]);
    std::vector<rlwe::Ciphertext> sum;
    for (std::size_t m = 0; m < members_.size(); ++m) {
      if (!used[m]) continue;
      for (const auto& ct : replies[m].packed)
        if (ct.n != prog.poly_degree || ct.size != 2 || !ct.ntt_form) throw ServiceError(StatusCode::INTERNAL, "member " + members_[m]->name + " returned a ciphertext the plan does not produce");
      if (sum.empty()) {
        sum = std::move(replies[m].packed);
        continue;
      }
      for (std::size_t c = 0; c < sum.size(); ++c) ev.add_inplace(sum[c], replies[m].packed[c]);
    }
    std::vector<Object> outs;
    for (std::size_t i = 0; i < sum.size(); ++i) {
      Object o;
      o.kind = v1::CIPHERTEXT;
      o.index = std::uint32_t(i);
      o.data = write_ciphertext(*plan.ctx, 0, sum[i]);
      outs.push_back(std::move(o));
    }
    send_reply(rw, *s, h, outs, replies, used, t_start, bytes_in);
  }

  // The single-image ensemble plan for K images per request (compiled once per K): the
  // members packed alike, the combiner's weights folded into each member's last layer.
  std::shared_ptr<const Plan> get_packed_plan(std::size_t images_per_ciphertext) {
    std::lock_guard<std::mutex> cg(compile_mu_);
    const auto key = std::make_pair(-1, images_per_ciphertext);
    {
      std::lock_guard<std::mutex> g(mu_);
      const auto it = plans_.find(key);
      if (it != plans_.end()) return it->second;
      if (plans_.size() >= 8) throw ServiceError(StatusCode::RESOURCE_EXHAUSTED, "coordinator: 8 plans compiled already");
    }
    if (images_per_ciphertext > 1024 || (images_per_ciphertext & (images_per_ciphertext - 1)) != 0)
      throw ServiceError(StatusCode::INVALID_ARGUMENT, "images per request must be a power of two up to 1024, not " + std::to_string(images_per_ciphertext));
    nn::compiler::PackedOptions opt;
    opt.images_per_ciphertext = images_per_ciphertext;
    if (opt_.calibrate > 0) {
      const std::string ds = !opt_.dataset.empty() ? opt_.dataset : !models_[0].meta.dataset.empty() ? models_[0].meta.dataset : "mnist";
      const nn::Dataset train = nn::load_named_dataset(ds, true);
      if (train.image_size() != models_[0].input.shape.size()) throw ServiceError(StatusCode::FAILED_PRECONDITION, "the calibration dataset " + ds + " does not match the models' input");
      const std::size_t n = std::min<std::size_t>(std::min<std::size_t>(opt_.calibrate, 256), train.count());
      for (std::size_t i = 0; i < n; ++i) opt.calibration.emplace_back(train.image(i), train.image(i) + train.image_size());
    }
    // Single-image ensembles combine with mean or weighted (the first such --combiner).
    std::string combiner = "mean";
    for (const auto& c : opt_.combiners)
      if (c == "mean" || c == "weighted") {
        combiner = c;
        break;
      }
    auto ens = std::make_shared<nn::compiler::PackedEnsemble>();
    if (models_.size() == 1) {
      *ens = nn::compiler::as_ensemble(nn::compiler::compile_packed(models_[0], opt));
    } else {
      std::vector<double> w;
      for (const auto& m : models_) w.push_back(m.meta.test_accuracy > 0 ? m.meta.test_accuracy : 1.0);
      *ens = nn::compiler::compile_packed_ensemble(models_, combiner, w, opt);
    }
    auto plan = std::make_shared<Plan>();
    plan->full_bytes = nn::compiler::serialize_packed(*ens);
    plan->public_bytes = nn::compiler::serialize_packed(nn::compiler::public_packed(*ens));
    plan->id = nn::compiler::packed_plan_id(*ens);
    plan->ctx = std::make_shared<PlanContexts>(packed_contexts(ens->members[0]));
    plan->packed = std::move(ens);
    for (std::size_t m = 0; m < members_.size(); ++m)
      for (auto& r : members_[m]->replicas) {
        try {
          load_plan(*plan, m, *r, "");
        } catch (const std::exception&) {
        }
      }
    std::lock_guard<std::mutex> g(mu_);
    plans_[key] = plan;
    return plan;
  }

  // A dropped member's outputs: zero ciphertexts (both parts 0) of the shape, level and
  // scale the plan gives them, so the combiner runs unchanged on the remaining members.
  static nn::runtime::EncryptedResult zero_outputs(const nn::compiler::Program& prog, int member, std::size_t images) {
    nn::runtime::EncryptedResult r;
    r.images = images;
    const bool ckks = prog.scheme == nn::compiler::Scheme::ckks;
    const bool ntt = prog.scheme != nn::compiler::Scheme::bfv;  // CKKS and BGV ciphertexts are in NTT form
    const PlanContexts ctx = plan_contexts(prog);
    r.residues.assign(residues(prog), std::vector<nn::runtime::EncryptedTensor>(prog.outputs.size()));
    for (std::size_t k = 0; k < prog.outputs.size(); ++k) {
      if (prog.outputs[k].member != member) continue;
      const auto& ins = prog.instrs[std::size_t(prog.outputs[k].tensor)];
      for (std::size_t res = 0; res < r.residues.size(); ++res) {
        rlwe::Ciphertext z(prog.poly_degree(), std::size_t(ins.level), std::size_t(ins.parts), ntt);
        z.scale = ckks ? ins.factor : 1.0;
        z.parms_id = ctx.core[res]->parms_id(std::size_t(ins.level));
        r.residues[res][k].assign(ins.size, z);
      }
    }
    return r;
  }

  void peer_auth(grpc::ClientContext& ctx, const std::string& client_token) const {
    set_bearer_token(ctx, opt_.server.peer_token.empty() ? client_token : opt_.server.peer_token);
  }

  std::string check_client(const ServerContext& ctx) const {
    const std::string t = bearer_token(ctx);
    if (t.empty()) throw ServiceError(StatusCode::UNAUTHENTICATED, "no bearer token (authorization metadata)");
    if (!tokens_.accepts(t)) throw ServiceError(StatusCode::UNAUTHENTICATED, "the token is not accepted by this coordinator");
    return credential_digest(t);
  }

  std::shared_ptr<const Plan> get_plan(nn::compiler::Scheme scheme, std::size_t batch_images) {
    std::lock_guard<std::mutex> cg(compile_mu_);
    const auto key = std::make_pair(int(scheme), batch_images);
    {
      std::lock_guard<std::mutex> g(mu_);
      const auto it = plans_.find(key);
      if (it != plans_.end()) return it->second;
      if (plans_.size() >= 8) throw ServiceError(StatusCode::RESOURCE_EXHAUSTED, "coordinator: 8 plans compiled already (scheme x batch size)");
    }
    nn::runtime::PlanRequest req;
    req.scheme = scheme;
    req.batch_images = batch_images;
    req.combiners.clear();
    for (const auto& c : opt_.combiners) req.combiners.push_back(nn::compiler::parse_combiner(c));
    for (const auto& m : models_) req.weights.push_back(m.meta.test_accuracy > 0 ? m.meta.test_accuracy : 1.0);
    req.calibrate = opt_.calibrate;
    req.agreement_target = opt_.agreement_target;
    const std::string ds = !opt_.dataset.empty() ? opt_.dataset : !models_[0].meta.dataset.empty() ? models_[0].meta.dataset : "mnist";
    const nn::Dataset train = nn::runtime::load_training(models_, req, ds);
    auto plan = std::make_shared<Plan>();
    auto prog = std::make_shared<nn::compiler::Program>(nn::runtime::make_plan(models_, req, &train));
    plan->full_bytes = nn::compiler::serialize_plan(*prog);
    plan->public_bytes = nn::compiler::serialize_plan(nn::compiler::public_plan(*prog));
    plan->id = nn::compiler::plan_id(*prog);
    plan->ctx = std::make_shared<PlanContexts>(plan_contexts(*prog));
    plan->prog = std::move(prog);
    // Into every replica that answers now (the others get it on first use).
    for (std::size_t m = 0; m < members_.size(); ++m)
      for (auto& r : members_[m]->replicas) {
        try {
          load_plan(*plan, m, *r, "");
        } catch (const std::exception&) {
        }
      }
    std::lock_guard<std::mutex> g(mu_);
    plans_[key] = plan;
    return plan;
  }

  void load_plan(const Plan& plan, std::size_t member, Replica& r, const std::string& token) {
    grpc::ClientContext ctx;
    peer_auth(ctx, token);
    ctx.set_deadline(deadline_in(60));
    v1::LoadPlanReply reply;
    auto w = r.holder->LoadPlan(&ctx, &reply);
    v1::Header h;
    h.set_member(int(member));
    h.set_objects(1);
    h.set_plan_id(plan.id);
    send_header(*w, h);
    Object o;
    o.kind = v1::PLAN;
    o.data = plan.full_bytes;
    send_object(*w, o);
    w->WritesDone();
    const Status st = w->Finish();
    if (!st.ok()) throw ServiceError(st.error_code(), "LoadPlan on " + r.address + ": " + st.error_message());
    if (reply.plan_id() != plan.id) throw ServiceError(StatusCode::INTERNAL, "LoadPlan on " + r.address + ": the holder computed another plan id");
  }

  // The replica's session for this client session: created (plan loaded if needed, keys uploaded) on first use.
  std::string holder_session(Session& s, std::size_t member, Replica& r) {
    {
      std::lock_guard<std::mutex> g(s.data.holders_mu);
      const auto it = s.data.holders.find(r.address);
      if (it != s.data.holders.end()) return it->second.id;
      // A twin of this replica has a session: holders sharing a session store
      // (--session-store) know it too; one that does not answers NOT_FOUND and gets its own.
      for (const auto& other : members_[member]->replicas) {
        if (s.data.own_sessions.count(r.address)) break;
        const auto jt = s.data.holders.find(other->address);
        if (jt != s.data.holders.end()) {
          s.data.holders[r.address] = jt->second;
          return jt->second.id;
        }
      }
    }
    auto create = [&](v1::CreateSessionReply& reply) {
      grpc::ClientContext ctx;
      peer_auth(ctx, s.data.token);
      ctx.set_deadline(deadline_in(30));
      v1::CreateSessionRequest req;
      req.set_plan_id(s.plan_id);
      return r.infer->CreateSession(&ctx, req, &reply);
    };
    v1::CreateSessionReply reply;
    Status st = create(reply);
    if (st.error_code() == StatusCode::FAILED_PRECONDITION) {  // the plan is not loaded there (a restarted holder)
      load_plan(*s.data.plan, member, r, s.data.token);
      st = create(reply);
    }
    if (!st.ok()) throw ServiceError(st.error_code(), r.address + ": " + st.error_message());
    {
      grpc::ClientContext ctx;
      peer_auth(ctx, s.data.token);
      ctx.set_deadline(deadline_in(120));
      v1::UploadKeysReply kr;
      auto w = r.infer->UploadKeys(&ctx, &kr);
      v1::Header h;
      h.set_session_id(reply.session_id());
      h.set_objects(s.data.keys.size());
      send_header(*w, h);
      send_key_objects(*w, s.data.keys);
      w->WritesDone();
      const Status ks = w->Finish();
      if (!ks.ok()) throw ServiceError(ks.error_code(), r.address + ": keys: " + ks.error_message());
    }
    std::lock_guard<std::mutex> g(s.data.holders_mu);
    s.data.holders[r.address] = HolderSession{reply.session_id()};
    return reply.session_id();
  }

  // One member's outputs: round robin over its replicas, failing over to the next.
  MemberReply run_member(Session& s, std::size_t member, std::size_t images, const std::vector<Object>& input,
                         std::chrono::system_clock::time_point until) {
    Member& m = *members_[member];
    const std::size_t n = m.replicas.size();
    const std::size_t first = m.next.fetch_add(1) % n;
    std::string errors;
    for (std::size_t a = 0; a < n; ++a) {
      Replica& r = *m.replicas[(first + a) % n];
      for (int attempt = 0; attempt < 2; ++attempt) {
        try {
          return call_replica(s, member, r, images, input, until);
        } catch (const ServiceError& e) {
          errors += (errors.empty() ? "" : "; ") + std::string(e.what()).insert(0, std::string(e.what()).rfind(r.address, 0) == 0 ? "" : r.address + ": ");
          if (e.code == StatusCode::NOT_FOUND && attempt == 0) {  // the replica lost (or never shared) the session: make it again
            std::lock_guard<std::mutex> g(s.data.holders_mu);
            s.data.holders.erase(r.address);
            s.data.own_sessions.insert(r.address);
            continue;
          }
          if (e.code == StatusCode::UNAVAILABLE) {
            std::lock_guard<std::mutex> g(s.data.holders_mu);
            s.data.holders.erase(r.address);
          }
          if (e.code != StatusCode::UNAVAILABLE && e.code != StatusCode::NOT_FOUND && e.code != StatusCode::FAILED_PRECONDITION) throw;
          break;
        }
      }
      if (std::chrono::system_clock::now() >= until) break;
    }
    throw ServiceError(StatusCode::UNAVAILABLE, "no replica answered (" + errors + ")");
  }

  MemberReply call_replica(Session& s, std::size_t member, Replica& r, std::size_t images, const std::vector<Object>& input,
                           std::chrono::system_clock::time_point until) {
    // A replica that is down (or restarting) is given a few seconds to connect.
    const auto connect_by = std::min(until, std::chrono::system_clock::now() + std::chrono::seconds(3));
    if (!r.channel->WaitForConnected(connect_by)) throw ServiceError(StatusCode::UNAVAILABLE, "cannot connect");
    const std::string sid = holder_session(s, member, r);
    const auto t0 = Clock::now();
    grpc::ClientContext ctx;
    peer_auth(ctx, s.data.token);
    ctx.set_deadline(until);
    auto rw = r.infer->Infer(&ctx);
    v1::Header h;
    h.set_session_id(sid);
    h.set_plan_id(s.plan_id);
    h.set_images(images);
    h.set_objects(input.size());
    MemberReply out;
    out.address = r.address;
    try {
      send_header(*rw, h);
      for (const auto& o : input) {
        send_object(*rw, o);
        out.bytes_in += o.data.size();
      }
    } catch (const ServiceError&) {
      // The holder closed the stream: its status says why.
    }
    rw->WritesDone();
    if (s.data.plan->packed) {
      const auto& prog = s.data.plan->packed->members[member];
      try {
        const v1::Header rh = read_header(*rw);
        const std::size_t expect = prog.output_layout.cts;
        if (rh.objects() != expect) throw ServiceError(StatusCode::INTERNAL, "the holder returns " + std::to_string(rh.objects()) + " ciphertexts, the plan " + std::to_string(expect));
        const auto objs = read_objects(*rw, expect, packed_ciphertext_bytes_bound(prog), opt_.server.limits.max_stream_bytes);
        out.packed.resize(expect);
        std::vector<bool> seen(expect, false);
        for (const auto& o : objs) {
          if (o.kind != v1::CIPHERTEXT || o.residue != 0 || o.output != 0 || o.index >= expect || seen[o.index])
            throw ServiceError(StatusCode::INTERNAL, "the holder returned an object that is not one of its outputs");
          seen[o.index] = true;
          out.packed[o.index] = read_ciphertext(*s.data.plan->ctx, 0, o.data);
          out.bytes_out += o.data.size();
        }
      } catch (const ServiceError& e) {
        const Status st = rw->Finish();
        if (!st.ok()) throw ServiceError(st.error_code(), st.error_message());
        throw;
      }
      const Status st = rw->Finish();
      if (!st.ok()) throw ServiceError(st.error_code(), st.error_message());
      out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      return out;
    }
    const auto& prog = *s.data.plan->prog;
    try {
      const v1::Header rh = read_header(*rw);
      const auto part = nn::compiler::member_part(prog, int(member));
      const std::size_t expect = residues(prog) * part.outputs.size() * prog.num_classes();
      if (rh.objects() != expect) throw ServiceError(StatusCode::INTERNAL, "the holder returns " + std::to_string(rh.objects()) + " ciphertexts, the plan " + std::to_string(expect));
      const auto objs = read_objects(*rw, expect, ciphertext_bytes_bound(prog), opt_.server.limits.max_stream_bytes);
      for (const auto& o : objs) out.bytes_out += o.data.size();
      out.result = result_from_objects(prog, *s.data.plan->ctx, objs, part.outputs, images);
    } catch (const ServiceError& e) {
      const Status st = rw->Finish();
      if (!st.ok()) throw ServiceError(st.error_code() == StatusCode::DEADLINE_EXCEEDED ? StatusCode::DEADLINE_EXCEEDED : st.error_code(), st.error_message());
      throw;
    }
    const Status st = rw->Finish();
    if (!st.ok()) throw ServiceError(st.error_code(), st.error_message());
    out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return out;
  }

  std::vector<std::unique_ptr<Member>> members_;
  std::vector<nn::Model> models_;
  mutable std::mutex mu_;
  std::mutex compile_mu_;
  std::map<std::pair<int, std::size_t>, std::shared_ptr<const Plan>> plans_;
  Sessions sessions_;
};

Coordinator::Coordinator(const CoordinatorOptions& o) : impl_(std::make_unique<Impl>(o)) {}
Coordinator::~Coordinator() { shutdown(); }

void Coordinator::start() {
  impl_->fetch_models();
  grpc::ServerBuilder b;
  b.AddListeningPort(impl_->opt_.server.listen, server_credentials(impl_->opt_.server), &impl_->port_);
  b.SetMaxReceiveMessageSize(int(impl_->opt_.server.limits.max_message_bytes));
  b.SetMaxSendMessageSize(int(impl_->opt_.server.limits.max_message_bytes));
  b.RegisterService(impl_.get());
  impl_->server_ = b.BuildAndStart();
  if (!impl_->server_ || impl_->port_ == 0) throw std::runtime_error("coordinator: cannot listen on " + impl_->opt_.server.listen);
}

int Coordinator::port() const { return impl_->port_; }
void Coordinator::wait() {
  if (impl_->server_) impl_->server_->Wait();
}
void Coordinator::shutdown() {
  if (impl_ && impl_->server_) impl_->server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}
std::vector<CoordinatorSessionInfo> Coordinator::sessions() const { return impl_->sessions(); }

}  // namespace hecnn::service
