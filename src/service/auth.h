// Credentials and sessions of the service (docs/protocol.md): bearer tokens, session ids,
// listen-address policy, and the limits every server enforces.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace grpc {
class ServerContext;
class ClientContext;
}  // namespace grpc

namespace hecnn::service {

// Tokens a server accepts, from a file of one token per line (blank lines and lines
// starting with '#' ignored; each token 16..256 printable characters). An empty set
// (no file) accepts any non-empty token: only allowed with --insecure-loopback.
class TokenSet {
 public:
  TokenSet() = default;
  static TokenSet load(const std::string& path);  // throws std::invalid_argument naming the file and line
  bool empty() const { return digests_.empty(); }
  bool accepts(const std::string& token) const;   // compares digests, not tokens
  std::size_t size() const { return digests_.size(); }

 private:
  std::vector<std::string> digests_;
};

// BLAKE2b-256 hex of a token: what sessions store instead of the token itself.
std::string credential_digest(const std::string& token);

// The bearer token of a call ("authorization: Bearer <token>"); empty if none.
std::string bearer_token(const grpc::ServerContext& ctx);
void set_bearer_token(grpc::ClientContext& ctx, const std::string& token);

// 128 bits from the system CSPRNG, as 32 hex digits.
std::string random_id();

// Refuses (std::invalid_argument) an address that is not HOST:PORT, and with
// insecure_loopback an address outside 127.0.0.0/8 and ::1 ("localhost" included).
void check_listen_address(const std::string& address, bool insecure_loopback);
// Same for an address a client connects to without TLS.
void check_connect_address(const std::string& address, bool insecure_loopback);

// TLS files (PEM). Servers: cert + key; clients: the CA that signed the servers' certificates.
struct TlsFiles {
  std::string cert, key, ca;
  bool enabled_server() const { return !cert.empty() || !key.empty(); }
};
std::string read_pem(const std::string& path, const char* what);

// What a server accepts; every limit is checked before the work it bounds.
struct Limits {
  std::size_t max_message_bytes = std::size_t(64) << 20;   // one gRPC message
  std::size_t max_stream_bytes = std::size_t(8) << 30;     // one request stream
  std::size_t max_sessions = 64;
  std::size_t max_total_key_bytes = std::size_t(16) << 30; // all sessions' evaluation keys
  std::size_t max_concurrent = 4;                          // requests evaluated at once (others wait)
  double deadline_s = 600;                                 // per request
  double session_idle_s = 3600;                            // an idle session is dropped after this
};

// Bounds the requests evaluated at once: more wait in arrival order (FIFO) until a slot
// frees or their deadline passes; beyond `max_waiting` waiting ones a request is refused
// at once. Evaluation spreads over all cores, so running fewer at once loses no throughput.
class ConcurrencyGate {
 public:
  explicit ConcurrencyGate(std::size_t limit, std::size_t max_waiting = 256) : limit_(limit), max_waiting_(max_waiting) {}
  // entered (call leave() when done), queue_full (refuse now) or deadline (gave up waiting).
  enum class Entry { entered, queue_full, deadline };
  Entry enter(std::chrono::system_clock::time_point deadline);
  void leave();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t running_ = 0, waiting_ = 0, limit_, max_waiting_;
  std::uint64_t next_ticket_ = 0, serving_ = 0;  // FIFO: the ticket allowed to enter next
  std::vector<std::uint64_t> abandoned_;          // tickets that gave up before their turn
  void skip_abandoned();
};

}  // namespace hecnn::service
