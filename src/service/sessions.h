// Sessions of one server (holder or coordinator): unguessable ids bound to the digest of
// the creating credential, idle expiry, and the limits on sessions and on evaluation-key
// bytes (reserved from the plan's bound before a key upload is read).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "nn/runtime/client_server.h"
#include "service/auth.h"
#include "service/server_common.h"
#include "service/codec.h"
#include "service/proto/service.pb.h"
#include "service/stream.h"

namespace hecnn::service {

template <class T>
class SessionTable {
 public:
  using Clock = std::chrono::steady_clock;
  struct Session {
    std::string id, credential, plan_id;
    std::size_t key_bytes = 0;  // committed
    Clock::time_point used = Clock::now();
    std::mutex mu;              // held while the session's keys are uploaded
    T data;
  };

  SessionTable(const Limits& limits, std::string role) : limits_(limits), role_(std::move(role)) {}

  std::shared_ptr<Session> create(const std::string& credential, const std::string& plan_id) {
    std::lock_guard<std::mutex> g(mu_);
    expire_locked();
    if (sessions_.size() >= limits_.max_sessions)
      throw ServiceError(grpc::StatusCode::RESOURCE_EXHAUSTED, role_ + ": " + std::to_string(sessions_.size()) + " sessions open (the limit)");
    auto s = std::make_shared<Session>();
    s->id = random_id();
    s->credential = credential;
    s->plan_id = plan_id;
    sessions_[s->id] = s;
    return s;
  }

  // NOT_FOUND for an unknown id, PERMISSION_DENIED for another credential's session.
  std::shared_ptr<Session> get(const std::string& id, const std::string& credential) {
    auto s = find(id, credential);
    if (!s) throw ServiceError(grpc::StatusCode::NOT_FOUND, "unknown session (expired, closed, or the " + role_ + " restarted)");
    return s;
  }
  // The same, nullptr for an unknown id.
  std::shared_ptr<Session> find(const std::string& id, const std::string& credential) {
    std::lock_guard<std::mutex> g(mu_);
    expire_locked();
    const auto it = sessions_.find(id);
    if (it == sessions_.end()) return nullptr;
    if (it->second->credential != credential) throw ServiceError(grpc::StatusCode::PERMISSION_DENIED, "the session belongs to another credential");
    it->second->used = Clock::now();
    return it->second;
  }
  // A session known elsewhere (a shared session store) under its own id; the existing one if
  // another request restored it first.
  std::shared_ptr<Session> adopt(const std::string& id, const std::string& credential, const std::string& plan_id) {
    std::lock_guard<std::mutex> g(mu_);
    expire_locked();
    const auto it = sessions_.find(id);
    if (it != sessions_.end()) return it->second;
    if (sessions_.size() >= limits_.max_sessions)
      throw ServiceError(grpc::StatusCode::RESOURCE_EXHAUSTED, role_ + ": " + std::to_string(sessions_.size()) + " sessions open (the limit)");
    auto s = std::make_shared<Session>();
    s->id = id;
    s->credential = credential;
    s->plan_id = plan_id;
    sessions_[id] = s;
    return s;
  }

  void close(const std::string& id, const std::string& credential) {
    auto s = get(id, credential);
    std::lock_guard<std::mutex> g(mu_);
    total_key_bytes_ -= s->key_bytes;
    sessions_.erase(id);
  }

  // Key bytes for one upload: `bound` reserved now (RESOURCE_EXHAUSTED beyond the total
  // limit), released on destruction unless commit(actual) keeps `actual` of them.
  class KeyReservation {
   public:
    KeyReservation(SessionTable& t, Session& s, std::size_t bound) : t_(t), s_(s), bound_(bound) {
      std::lock_guard<std::mutex> g(t_.mu_);
      if (t_.total_key_bytes_ + bound > t_.limits_.max_total_key_bytes)
        throw ServiceError(grpc::StatusCode::RESOURCE_EXHAUSTED, t_.role_ + ": evaluation keys of all sessions would exceed the limit");
      t_.total_key_bytes_ += bound;
    }
    void commit(std::size_t actual) {
      std::lock_guard<std::mutex> g(t_.mu_);
      t_.total_key_bytes_ -= bound_ - std::min(actual, bound_);
      s_.key_bytes = std::min(actual, bound_);
      bound_ = 0;
    }
    ~KeyReservation() {
      std::lock_guard<std::mutex> g(t_.mu_);
      t_.total_key_bytes_ -= bound_;
    }
    KeyReservation(const KeyReservation&) = delete;
    KeyReservation& operator=(const KeyReservation&) = delete;

   private:
    SessionTable& t_;
    Session& s_;
    std::size_t bound_;
  };

  std::vector<std::shared_ptr<Session>> all() const {
    std::lock_guard<std::mutex> g(mu_);
    std::vector<std::shared_ptr<Session>> out;
    for (const auto& [id, s] : sessions_) out.push_back(s);
    return out;
  }

 private:
  void expire_locked() {
    const auto now = Clock::now();
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (std::chrono::duration<double>(now - it->second->used).count() > limits_.session_idle_s && it->second.use_count() == 1) {
        total_key_bytes_ -= it->second->key_bytes;
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }

  Limits limits_;
  std::string role_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;
  std::size_t total_key_bytes_ = 0;
};

// UploadKeys as every server runs it, under the session's lock: `bound` bytes reserved,
// the key objects read, `install(keys)` parses them into the session's evaluator (throwing on
// bad keys), the bytes committed. `already`: the session has its keys (refused). Returns the
// key objects (the coordinator forwards them to the holders).
template <class T, class R, class Install>
std::vector<KeyObject> upload_key_objects(SessionTable<T>& table, typename SessionTable<T>::Session& s, R& reader, const v1::Header& h,
                                          std::uint64_t bound, bool already, Install&& install, v1::UploadKeysReply* reply) {
  if (already) throw ServiceError(grpc::StatusCode::FAILED_PRECONDITION, "the session's keys were uploaded already");
  typename SessionTable<T>::KeyReservation reserve(table, s, bound);
  auto keys = read_key_objects(reader, h, bound);
  install(keys);
  std::size_t bytes = 0;
  for (const auto& k : keys) bytes += k.bytes.size();
  reserve.commit(bytes);
  reply->set_bytes(bytes);
  reply->set_objects(std::uint32_t(keys.size()));
  return keys;
}

// The same for a batch plan: relinearization keys parsed into `server`.
template <class T, class R>
std::vector<KeyObject> upload_keys(SessionTable<T>& table, typename SessionTable<T>::Session& s, R& reader, const v1::Header& h,
                                   const nn::compiler::Program& prog, const PlanContexts& ctx,
                                   std::unique_ptr<nn::runtime::Server>& server, v1::UploadKeysReply* reply) {
  return upload_key_objects(
      table, s, reader, h, key_bytes_bound(prog), bool(server),
      [&](const std::vector<KeyObject>& keys) { server = std::make_unique<nn::runtime::Server>(prog, parse_keys(prog, ctx, keys)); }, reply);
}

// One slot of a server's request gate for the current call, held until destruction.
// Waits in line until the call's deadline; RESOURCE_EXHAUSTED when the line is full,
// DEADLINE_EXCEEDED when the deadline passes first.
class GateSlot {
 public:
  GateSlot(ConcurrencyGate& gate, const grpc::ServerContext& ctx, const Limits& limits, const std::string& role) : gate_(gate) {
    switch (gate.enter(request_deadline(ctx, limits))) {
      case ConcurrencyGate::Entry::entered: return;
      case ConcurrencyGate::Entry::queue_full: throw ServiceError(grpc::StatusCode::RESOURCE_EXHAUSTED, role + ": too many requests waiting; retry later");
      case ConcurrencyGate::Entry::deadline:
        throw ServiceError(grpc::StatusCode::DEADLINE_EXCEEDED, role + ": the deadline passed while waiting for a free evaluation slot");
    }
  }
  ~GateSlot() { gate_.leave(); }
  GateSlot(const GateSlot&) = delete;
  GateSlot& operator=(const GateSlot&) = delete;

 private:
  ConcurrencyGate& gate_;
};

}  // namespace hecnn::service
