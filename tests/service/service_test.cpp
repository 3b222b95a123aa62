// The service in one process over real gRPC on loopback (holders, coordinator, clients):
// sessions are bound to their credential, holders and the coordinator hold no secret key,
// malformed or foreign messages get clear errors and the servers keep serving.
#include <gtest/gtest.h>

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "nn/model/model_io.h"
#include "nn/test_models.h"
#include "service/auth.h"
#include "service/client.h"
#include "service/coordinator.h"
#include "service/holder.h"
#include "service/proto/service.grpc.pb.h"
#include "service/stream.h"

namespace hecnn::service {
namespace {

const std::string kTokenA = "token-a-0123456789abcdef", kTokenB = "token-b-0123456789abcdef";
const std::string kPeer = "peer-0123456789abcdef";

struct Deployment {
  std::filesystem::path dir;
  std::vector<std::unique_ptr<Holder>> holders;
  std::unique_ptr<Coordinator> coord;
  std::string address;

  Deployment() {
    dir = std::filesystem::temp_directory_path() / ("hecnn-service-test-" + random_id());
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "tokens") << kTokenA << "\n" << kTokenB << "\n";
    ServerOptions so;
    so.insecure_loopback = true;
    so.tokens_file = (dir / "tokens").string();
    so.peer_token = kPeer;
    CoordinatorOptions co;
    co.combiners = {"mean"};
    co.calibrate = 0;
    for (int m = 0; m < 3; ++m) {
      const auto path = (dir / ("m" + std::to_string(m) + ".hecnn")).string();
      nn::write_model(nn::testing::tiny_model(40 + m), path);
      HolderOptions ho;
      ho.models = {path};
      ho.server = so;
      holders.push_back(std::make_unique<Holder>(ho));
      holders.back()->start();
      co.members.push_back({"m" + std::to_string(m), {"127.0.0.1:" + std::to_string(holders.back()->port())}});
    }
    co.server = so;
    coord = std::make_unique<Coordinator>(co);
    coord->start();
    address = "127.0.0.1:" + std::to_string(coord->port());
  }
  ~Deployment() {
    coord->shutdown();
    for (auto& h : holders) h->shutdown();
    std::filesystem::remove_all(dir);
  }
  ClientOptions client(const std::string& token) const {
    ClientOptions o;
    o.address = address;
    o.token = token;
    o.insecure_loopback = true;
    o.deadline_s = 60;
    return o;
  }
};

Deployment& deployment() {
  static Deployment d;
  return d;
}

std::vector<std::uint8_t> images(std::size_t n, std::uint64_t seed) { return nn::testing::random_images(n, 64, seed); }

TEST(Service, SessionsAreBoundToTheirCredential) {
  auto& d = deployment();
  ServiceClient a(d.client(kTokenA));
  a.open("bfv", 4);
  const auto img = images(4, 1);
  const auto ref = a.infer(img.data(), 4);
  // Client B (another valid token) with A's session id: refused; A still works.
  ServiceClient b(d.client(kTokenB));
  b.open("bfv", 4);
  b.set_session_for_tests(a.session_id());
  try {
    b.infer(img.data(), 4);
    ADD_FAILURE() << "another credential used the session";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("PERMISSION_DENIED"), std::string::npos) << e.what();
  }
  // A made-up session id.
  b.set_session_for_tests(random_id());
  EXPECT_THROW(b.infer(img.data(), 4), std::runtime_error);
  EXPECT_EQ(a.infer(img.data(), 4), ref);
}

TEST(Service, NoSecretKeyOnTheServerSide) {
  auto& d = deployment();
  ServiceClient a(d.client(kTokenA));
  a.open("ckks", 4);
  const auto img = images(3, 2);
  a.infer(img.data(), 3);
  // What the holders and the coordinator store per session: relinearization and Galois keys only.
  std::size_t seen = 0;
  for (auto& h : d.holders)
    for (const auto& s : h->sessions()) {
      ++seen;
      for (const auto& k : s.key_kinds) EXPECT_TRUE(k == "relin" || k == "galois") << k;
    }
  for (const auto& s : d.coord->sessions())
    for (const auto& k : s.key_kinds) EXPECT_TRUE(k == "relin" || k == "galois") << k;
  EXPECT_GE(seen, 3u);
}

// Raw calls: what a hostile client can send.
struct Raw {
  std::unique_ptr<v1::Inference::Stub> stub;
  explicit Raw(const std::string& addr) : stub(v1::Inference::NewStub(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()))) {}
  grpc::Status infer(const std::vector<v1::Frame>& frames, const std::string& token = kTokenA) {
    grpc::ClientContext ctx;
    set_bearer_token(ctx, token);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto rw = stub->Infer(&ctx);
    for (const auto& f : frames)
      if (!rw->Write(f)) break;
    rw->WritesDone();
    v1::Frame f;
    while (rw->Read(&f)) {
    }
    return rw->Finish();
  }
};

v1::Frame header(const std::string& session, std::uint64_t images, std::uint64_t objects) {
  v1::Frame f;
  f.mutable_header()->set_session_id(session);
  f.mutable_header()->set_images(images);
  f.mutable_header()->set_objects(objects);
  return f;
}

TEST(Service, MalformedRequestsGetClearErrorsAndServingGoesOn) {
  auto& d = deployment();
  ServiceClient a(d.client(kTokenA));
  a.open("bfv", 2);
  const auto img = images(2, 3);
  const auto ref = a.infer(img.data(), 2);
  const std::size_t inputs = a.plan().instrs[0].size * a.plan().params.plain_moduli.size();
  Raw raw(d.address);
  auto expect = [&](const grpc::Status& st, grpc::StatusCode code, const std::string& needle) {
    EXPECT_EQ(st.error_code(), code) << st.error_message();
    EXPECT_NE(st.error_message().find(needle), std::string::npos) << st.error_message();
  };
  expect(raw.infer({}), grpc::StatusCode::INVALID_ARGUMENT, "header");
  expect(raw.infer({header(a.session_id(), 2, inputs)}, "wrong-token-0123456789"), grpc::StatusCode::UNAUTHENTICATED, "token");
  expect(raw.infer({header(a.session_id(), 2, 5)}), grpc::StatusCode::INVALID_ARGUMENT, "input is");
  expect(raw.infer({header(a.session_id(), 0, inputs)}), grpc::StatusCode::INVALID_ARGUMENT, "images");
  // Truncated stream: the header promises more objects than come.
  v1::Frame junk;
  junk.set_kind(v1::CIPHERTEXT);
  junk.set_data(std::string(100, 'x'));
  expect(raw.infer({header(a.session_id(), 2, inputs), junk}), grpc::StatusCode::INVALID_ARGUMENT, "ended after");
  // Oversized object (beyond the largest ciphertext of these parameters).
  v1::Frame big = junk;
  big.set_data(std::string(std::size_t(3) << 20, 'x'));
  big.set_more(true);
  std::vector<v1::Frame> frames = {header(a.session_id(), 2, inputs)};
  for (int i = 0; i < 4; ++i) frames.push_back(big);
  expect(raw.infer(frames), grpc::StatusCode::RESOURCE_EXHAUSTED, "exceeds");
  // Garbage ciphertext bytes for every input: the holders refuse them, the coordinator names the member.
  frames = {header(a.session_id(), 2, inputs)};
  for (std::size_t r = 0; r < a.plan().params.plain_moduli.size(); ++r)
    for (std::size_t i = 0; i < a.plan().instrs[0].size; ++i) {
      v1::Frame f = junk;
      f.set_residue(std::uint32_t(r));
      f.set_index(std::uint32_t(i));
      frames.push_back(f);
    }
  const auto st = raw.infer(frames);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error_message().find("member m0"), std::string::npos) << st.error_message();
  // A key set for the wrong parameters.
  {
    grpc::ClientContext ctx;
    set_bearer_token(ctx, kTokenA);
    v1::CreateSessionReply cs;
    v1::CreateSessionRequest req;
    req.set_plan_id(a.plan_id());
    ASSERT_TRUE(raw.stub->CreateSession(&ctx, req, &cs).ok());
    grpc::ClientContext kctx;
    set_bearer_token(kctx, kTokenA);
    v1::UploadKeysReply kr;
    auto w = raw.stub->UploadKeys(&kctx, &kr);
    v1::Frame h = header(cs.session_id(), 0, 1);
    w->Write(h);
    v1::Frame k;
    k.set_kind(v1::PLAN);
    k.set_data("not a key");
    w->Write(k);
    w->WritesDone();
    const auto ks = w->Finish();
    EXPECT_EQ(ks.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << ks.error_message();
    EXPECT_NE(ks.error_message().find("secret key never"), std::string::npos) << ks.error_message();
  }
  // Serving goes on.
  EXPECT_EQ(a.infer(img.data(), 2), ref);
}

TEST(Service, UnknownPlansAndModesAreRefused) {
  auto& d = deployment();
  ServiceClient a(d.client(kTokenA));
  try {
    a.open("tfhe", 2);
    ADD_FAILURE() << "unknown scheme accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("INVALID_ARGUMENT"), std::string::npos) << e.what();
  }
  Raw raw(d.address);
  grpc::ClientContext ctx;
  set_bearer_token(ctx, kTokenA);
  v1::CreateSessionRequest req;
  req.set_plan_id("0000");
  v1::CreateSessionReply reply;
  const auto st = raw.stub->CreateSession(&ctx, req, &reply);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("unknown plan"), std::string::npos);
}

}  // namespace
}  // namespace hecnn::service
