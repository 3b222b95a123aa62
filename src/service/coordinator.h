// The service coordinator (seed 001, Algorithm 1, step 5): publishes the ensemble's
// public plan, fans each encrypted request out to every member holder concurrently,
// combines their encrypted outputs with the plan's combiner and returns the encrypted
// ensemble prediction (and the members' outputs). It holds evaluation keys only.
//
// At start it fetches each member's model from its holder (Holder.GetModel, peer
// token) and, per requested scheme and batch size, compiles the ensemble plan (the one
// pipeline of `hecnn demo`, so scores equal the embedded run's) and loads it into every
// holder (Holder.LoadPlan). Several addresses of one member are replicas: requests go
// round robin over them and fail over to the next when one is unreachable; a replica
// that lost its session (restart) gets it again (plan, session, keys) on first use.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "service/server_common.h"

namespace hecnn::service {

struct MemberSpec {
  std::string name;
  std::vector<std::string> addresses;
};
// "NAME=HOST:PORT[,HOST:PORT...]" -> spec. Throws std::invalid_argument.
MemberSpec parse_member(const std::string& s);

struct CoordinatorOptions {
  std::vector<MemberSpec> members;
  std::vector<std::string> combiners = {"mean"};  // mean | weighted | poly-softmax
  ServerOptions server;
  std::string holder_ca;            // CA of the holders' TLS certificates; empty: loopback without TLS
  std::string dataset;              // training images for CKKS calibration; empty: the models' dataset
  std::size_t calibrate = 512;      // CKKS: training images whose ranges set the precision (0: worst-case bounds)
  double agreement_target = 0.999;  // BFV: quantization chosen on training images for this agreement (0: fixed bits)
  double connect_timeout_s = 30;    // how long start() waits for the holders
  // A member with no replica answering: "fail" the request (naming the member), or "drop" it:
  // the combiner runs with that member's outputs at zero (an encryption-free zero), which is
  // the ensemble of the remaining members (mean / weighted: their sum over the plan's
  // divisor; poly-softmax: a constant added to every class); the reply lists the members used.
  std::string on_missing_member = "fail";
};

struct CoordinatorSessionInfo {
  std::string id, plan_id;
  std::size_t key_bytes = 0;
  std::vector<std::string> key_kinds;
};

class Coordinator {
 public:
  explicit Coordinator(const CoordinatorOptions& o);  // checks the options; throws std::invalid_argument
  ~Coordinator();
  void start();  // fetches the models, then serves; throws naming an unreachable member
  int port() const;
  void wait();
  void shutdown();
  std::vector<CoordinatorSessionInfo> sessions() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hecnn::service
