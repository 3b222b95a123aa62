// Credentials, address policy, member specs and the request gate (service/auth.h).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "service/auth.h"
#include "service/coordinator.h"

namespace hecnn::service {
namespace {

TEST(Auth, TokenFileIsParsedAndChecked) {
  const auto dir = std::filesystem::temp_directory_path() / ("hecnn-auth-" + random_id());
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ok") << "# comment\n\n  token-0123456789abcdef  \nsecond-token-0123456789\n";
  const TokenSet t = TokenSet::load((dir / "ok").string());
  EXPECT_EQ(t.size(), 2u);
  EXPECT_TRUE(t.accepts("token-0123456789abcdef"));
  EXPECT_TRUE(t.accepts("second-token-0123456789"));
  EXPECT_FALSE(t.accepts("token-0123456789abcde"));
  EXPECT_FALSE(t.accepts(""));
  std::ofstream(dir / "short") << "short\n";
  EXPECT_THROW(TokenSet::load((dir / "short").string()), std::invalid_argument);
  std::ofstream(dir / "empty") << "# nothing\n";
  EXPECT_THROW(TokenSet::load((dir / "empty").string()), std::invalid_argument);
  EXPECT_THROW(TokenSet::load((dir / "missing").string()), std::invalid_argument);
  std::filesystem::remove_all(dir);
  // No file: any non-empty token (loopback deployments only; check_server_options enforces that).
  EXPECT_TRUE(TokenSet().accepts("x"));
  EXPECT_FALSE(TokenSet().accepts(""));
}

TEST(Auth, SessionIdsAreRandom128Bit) {
  const auto a = random_id(), b = random_id();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(credential_digest("a"), credential_digest("b"));
  EXPECT_EQ(credential_digest("a").size(), 64u);
}

TEST(Auth, LoopbackPolicy) {
  EXPECT_NO_THROW(check_listen_address("127.0.0.1:0", true));
  EXPECT_NO_THROW(check_listen_address("127.1.2.3:7000", true));
  EXPECT_NO_THROW(check_listen_address("[::1]:7000", true));
  EXPECT_NO_THROW(check_listen_address("localhost:7000", true));
  EXPECT_THROW(check_listen_address("0.0.0.0:7000", true), std::invalid_argument);
  EXPECT_THROW(check_listen_address("10.0.0.1:7000", true), std::invalid_argument);
  EXPECT_THROW(check_listen_address("[::]:7000", true), std::invalid_argument);
  EXPECT_THROW(check_connect_address("example.com:443", true), std::invalid_argument);
  EXPECT_NO_THROW(check_listen_address("0.0.0.0:7000", false));
  EXPECT_THROW(check_listen_address("127.0.0.1", false), std::invalid_argument);
  EXPECT_THROW(check_listen_address("127.0.0.1:99999", false), std::invalid_argument);
  EXPECT_THROW(check_listen_address(":7000", false), std::invalid_argument);
}

TEST(Auth, MemberSpecs) {
  const auto m = parse_member("m0=127.0.0.1:1,127.0.0.1:2");
  EXPECT_EQ(m.name, "m0");
  EXPECT_EQ(m.addresses, (std::vector<std::string>{"127.0.0.1:1", "127.0.0.1:2"}));
  EXPECT_THROW(parse_member("m0"), std::invalid_argument);
  EXPECT_THROW(parse_member("=127.0.0.1:1"), std::invalid_argument);
  EXPECT_THROW(parse_member("m0=127.0.0.1:1,,127.0.0.1:2"), std::invalid_argument);
}

TEST(Auth, GateAdmitsInOrderAndTimesOut) {
  ConcurrencyGate gate(1, 4);
  const auto far = std::chrono::system_clock::now() + std::chrono::seconds(30);
  ASSERT_EQ(gate.enter(far), ConcurrencyGate::Entry::entered);
  // The slot is taken: a short deadline gives up.
  EXPECT_EQ(gate.enter(std::chrono::system_clock::now() + std::chrono::milliseconds(50)), ConcurrencyGate::Entry::deadline);
  // Two waiters get in one after the other, in order, when the slot frees.
  std::vector<int> order;
  std::mutex mu;
  std::atomic<int> ready{0};
  std::thread t1([&] {
    ++ready;
    if (gate.enter(far) == ConcurrencyGate::Entry::entered) {
      std::lock_guard<std::mutex> g(mu);
      order.push_back(1);
      gate.leave();
    }
  });
  while (ready < 1) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::thread t2([&] {
    ++ready;
    if (gate.enter(far) == ConcurrencyGate::Entry::entered) {
      std::lock_guard<std::mutex> g(mu);
      order.push_back(2);
      gate.leave();
    }
  });
  while (ready < 2) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  gate.leave();
  t1.join();
  t2.join();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  // A full queue refuses at once.
  ConcurrencyGate tiny(1, 0);
  EXPECT_EQ(tiny.enter(far), ConcurrencyGate::Entry::entered);
  EXPECT_EQ(tiny.enter(far), ConcurrencyGate::Entry::queue_full);
  tiny.leave();
}

}  // namespace
}  // namespace hecnn::service
