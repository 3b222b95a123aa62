// A model holder (seed 001): serves one or more models on encrypted inputs. It receives
// the ensemble plan from the coordinator (LoadPlan), evaluation keys per session, and
// evaluates its member's part of the plan (compiler/parts.h). It never receives a secret
// key: the only key objects it parses are relinearization and Galois keys.
//
//   service::HolderOptions o;  o.models = {"m0.hecnn"};  o.server.insecure_loopback = true;
//   service::Holder h(o);  h.start();  ...  h.wait();   // or h.shutdown()
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "service/server_common.h"

namespace hecnn::service {

struct HolderOptions {
  std::vector<std::string> models;  // model files (.hecnn); the coordinator names a member by its model
  ServerOptions server;
  std::string session_store;        // "" (memory) or redis://HOST:PORT[/DB]: shared by the replicas of a member
};

// What a holder stores per session (for tests that inspect it): never secret material.
struct HolderSessionInfo {
  std::string id, plan_id;
  int member = -1;
  std::size_t key_bytes = 0;
  std::vector<std::string> key_kinds;  // "relin", "galois"
  bool restored = false;               // found in the shared session store, not created here
};

class Holder {
 public:
  explicit Holder(const HolderOptions& o);  // loads and checks the models; throws std::invalid_argument
  ~Holder();
  void start();                // binds and serves (throws if the address cannot be bound)
  int port() const;
  void wait();
  void shutdown();
  std::vector<HolderSessionInfo> sessions() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hecnn::service
