// Sessions shared by the replicas of a member through Redis (service/session_store.h):
// records round-trip and are bounded; a session keyed on one replica is served by its twin
// after the first goes down, restored from the store without a new key upload.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "nn/model/model_io.h"
#include "nn/test_models.h"
#include "service/auth.h"
#include "service/client.h"
#include "service/coordinator.h"
#include "service/holder.h"
#include "service/session_store.h"

namespace hecnn::service {
namespace {

TEST(SessionStore, RecordsRoundTripAndAreBounded) {
  SessionRecord r;
  r.credential = credential_digest("x");
  r.plan_id = credential_digest("plan");
  r.keys.push_back({KeyKind::relin, 1, {1, 2, 3}});
  r.keys.push_back({KeyKind::galois, 0, {4}});
  const std::string b = encode_session_record(r);
  const auto back = decode_session_record(b, 1 << 20);
  EXPECT_EQ(back.credential, r.credential);
  EXPECT_EQ(back.plan_id, r.plan_id);
  ASSERT_EQ(back.keys.size(), 2u);
  EXPECT_EQ(back.keys[0].bytes, (std::vector<std::uint8_t>{1, 2, 3}));
  EXPECT_EQ(back.keys[1].kind, KeyKind::galois);
  EXPECT_THROW(decode_session_record(b, b.size() - 1), std::invalid_argument);
  EXPECT_THROW(decode_session_record(b.substr(0, b.size() - 1), 1 << 20), std::invalid_argument);
  EXPECT_THROW(decode_session_record("garbage", 1 << 20), std::invalid_argument);
  std::string bad = b;
  bad[8] = char(0xff);  // a huge length field
  EXPECT_THROW(decode_session_record(bad, 1 << 20), std::invalid_argument);
  EXPECT_THROW(open_session_store("http://x:1", "t"), std::invalid_argument);
  EXPECT_THROW(open_session_store("redis://127.0.0.1", "t"), std::invalid_argument);
  EXPECT_THROW(open_session_store("redis://127.0.0.1:1", "t"), std::invalid_argument);  // nothing listens on port 1
  EXPECT_EQ(open_session_store("", "t"), nullptr);
}

// A private redis-server on a free loopback port, stopped at the end.
struct Redis {
  pid_t pid = -1;
  int port = 0;
  Redis() {
    if (access("/usr/bin/redis-server", X_OK) != 0) return;
    port = 20000 + int(getpid() % 20000);
    pid = fork();
    if (pid == 0) {
      const std::string p = std::to_string(port);
      execl("/usr/bin/redis-server", "redis-server", "--port", p.c_str(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--loglevel", "warning", static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100; ++i) {
      try {
        open_session_store("redis://127.0.0.1:" + std::to_string(port), "probe");
        return;
      } catch (const std::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
  ~Redis() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
  bool ok() const { return pid > 0; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port); }
};

TEST(SessionStore, TwinReplicaServesASessionFromRedis) {
  Redis redis;
  if (!redis.ok()) {
    if (nn::testing::data_required()) FAIL() << "redis-server is not installed (HECNN_REQUIRE_DATA is set)";
    GTEST_SKIP() << "redis-server is not installed (scripts/setup.sh installs it)";
  }
  const auto dir = std::filesystem::temp_directory_path() / ("hecnn-store-test-" + random_id());
  std::filesystem::create_directories(dir);
  const std::string token = "token-store-0123456789";
  ServerOptions so;
  so.insecure_loopback = true;
  so.peer_token = "peer-store-0123456789";
  std::vector<std::unique_ptr<Holder>> holders;
  CoordinatorOptions co;
  co.combiners = {"mean"};
  co.calibrate = 0;
  for (int m = 0; m < 2; ++m) {
    const auto path = (dir / ("m" + std::to_string(m) + ".hecnn")).string();
    nn::write_model(nn::testing::tiny_model(60 + m), path);
    MemberSpec spec{"m" + std::to_string(m), {}};
    for (int rep = 0; rep < (m == 0 ? 2 : 1); ++rep) {
      HolderOptions ho;
      ho.models = {path};
      ho.server = so;
      if (m == 0) ho.session_store = redis.url();
      holders.push_back(std::make_unique<Holder>(ho));
      holders.back()->start();
      spec.addresses.push_back("127.0.0.1:" + std::to_string(holders.back()->port()));
    }
    co.members.push_back(spec);
  }
  co.server = so;
  Coordinator coord(co);
  coord.start();
  ClientOptions c;
  c.address = "127.0.0.1:" + std::to_string(coord.port());
  c.token = token;
  c.insecure_loopback = true;
  ServiceClient client(c);
  client.open("bfv", 2);
  const auto img = nn::testing::random_images(2, 64, 5);
  const auto ref = client.infer(img.data(), 2);
  // holders[0], holders[1]: the replicas of m0. Stop the one that holds the session.
  const int first = holders[0]->sessions().empty() ? 1 : 0, twin = 1 - first;
  ASSERT_EQ(holders[std::size_t(first)]->sessions().size(), 1u);
  ASSERT_TRUE(holders[std::size_t(twin)]->sessions().empty());
  holders[std::size_t(first)]->shutdown();
  EXPECT_EQ(client.infer(img.data(), 2), ref);
  const auto s = holders[std::size_t(twin)]->sessions();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].restored) << "the twin made a new session instead of restoring the shared one";
  EXPECT_FALSE(s[0].key_kinds.empty());
  coord.shutdown();
  for (auto& h : holders) h->shutdown();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hecnn::service
