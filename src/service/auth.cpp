#include "service/auth.h"

#include <blake2.h>
#include <grpcpp/grpcpp.h>

#include <arpa/inet.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "math/prng.h"

namespace hecnn::service {

namespace {
std::string hex(const std::uint8_t* p, std::size_t n) {
  static const char* h = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += h[p[i] >> 4];
    s += h[p[i] & 15];
  }
  return s;
}

// HOST:PORT or [V6]:PORT -> host, port.
std::pair<std::string, std::string> split_address(const std::string& a) {
  std::string host, port;
  if (!a.empty() && a[0] == '[') {
    const auto close = a.find(']');
    if (close == std::string::npos || close + 1 >= a.size() || a[close + 1] != ':') throw std::invalid_argument("address '" + a + "' is not [HOST]:PORT");
    host = a.substr(1, close - 1);
    port = a.substr(close + 2);
  } else {
    const auto colon = a.rfind(':');
    if (colon == std::string::npos || a.find(':') != colon) throw std::invalid_argument("address '" + a + "' is not HOST:PORT");
    host = a.substr(0, colon);
    port = a.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535)
    throw std::invalid_argument("address '" + a + "' is not HOST:PORT with a port 0..65535");
  return {host, port};
}

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return false;
}
}  // namespace

std::string credential_digest(const std::string& token) {
  std::uint8_t out[32];
  blake2b(out, token.data(), nullptr, sizeof out, token.size(), 0);
  return hex(out, sizeof out);
}

TokenSet TokenSet::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("--tokens " + path + ": cannot read the file");
  TokenSet s;
  std::string line;
  std::size_t no = 0;
  while (std::getline(in, line)) {
    ++no;
    if (no > 100000) throw std::invalid_argument("--tokens " + path + ": more than 100000 lines");
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    std::size_t b = 0;
    while (b < line.size() && std::isspace(static_cast<unsigned char>(line[b]))) ++b;
    line = line.substr(b);
    if (line.empty() || line[0] == '#') continue;
    if (line.size() < 16 || line.size() > 256) throw std::invalid_argument("--tokens " + path + ": line " + std::to_string(no) + ": a token must have 16 to 256 characters");
    for (char c : line)
      if (!std::isgraph(static_cast<unsigned char>(c))) throw std::invalid_argument("--tokens " + path + ": line " + std::to_string(no) + ": a token must be printable, without spaces");
    s.digests_.push_back(credential_digest(line));
  }
  if (s.digests_.empty()) throw std::invalid_argument("--tokens " + path + ": no tokens in the file");
  return s;
}

bool TokenSet::accepts(const std::string& token) const {
  if (token.empty()) return false;
  if (digests_.empty()) return true;
  const std::string d = credential_digest(token);
  bool ok = false;
  for (const auto& x : digests_) ok |= x == d;
  return ok;
}

std::string bearer_token(const grpc::ServerContext& ctx) {
  const auto& md = ctx.client_metadata();
  const auto it = md.find("authorization");
  if (it == md.end()) return "";
  const std::string v(it->second.data(), it->second.size());
  if (v.rfind("Bearer ", 0) != 0) return "";
  return v.substr(7);
}

void set_bearer_token(grpc::ClientContext& ctx, const std::string& token) {
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
}

std::string random_id() {
  math::SystemPrng prng;
  std::uint8_t b[16];
  for (std::size_t i = 0; i < sizeof b; i += 8) {
    const std::uint64_t w = prng.next_u64();
    for (std::size_t j = 0; j < 8; ++j) b[i + j] = std::uint8_t(w >> (8 * j));
  }
  return hex(b, sizeof b);
}

void check_listen_address(const std::string& address, bool insecure_loopback) {
  const auto [host, port] = split_address(address);
  if (insecure_loopback && !is_loopback(host))
    throw std::invalid_argument("--insecure-loopback: refusing to listen on " + address + " (only 127.0.0.0/8 and ::1; use TLS elsewhere)");
}

void check_connect_address(const std::string& address, bool insecure_loopback) {
  const auto [host, port] = split_address(address);
  if (insecure_loopback && !is_loopback(host))
    throw std::invalid_argument("--insecure-loopback: refusing an unencrypted connection to " + address + " (only 127.0.0.0/8 and ::1)");
}

std::string read_pem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(std::string(what) + " " + path + ": cannot read the file");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > (1u << 20)) throw std::invalid_argument(std::string(what) + " " + path + ": larger than 1 MiB");
  if (s.find("-----BEGIN") == std::string::npos) throw std::invalid_argument(std::string(what) + " " + path + ": not a PEM file");
  return s;
}

ConcurrencyGate::Entry ConcurrencyGate::enter(std::chrono::system_clock::time_point deadline) {
  std::unique_lock<std::mutex> g(mu_);
  if (running_ < limit_ && serving_ == next_ticket_) {  // a free slot and nobody in line
    ++next_ticket_;
    ++serving_;
    ++running_;
    return Entry::entered;
  }
  if (waiting_ >= max_waiting_) return Entry::queue_full;
  const std::uint64_t ticket = next_ticket_++;
  ++waiting_;
  const bool ok = cv_.wait_until(g, deadline, [&] { return running_ < limit_ && serving_ == ticket; });
  --waiting_;
  if (!ok) {
    // Give up the place in line: later tickets must not wait for this one.
    if (serving_ == ticket) ++serving_;
    else abandoned_.push_back(ticket);
    skip_abandoned();
    cv_.notify_all();
    return Entry::deadline;
  }
  ++serving_;
  skip_abandoned();
  ++running_;
  cv_.notify_all();
  return Entry::entered;
}

void ConcurrencyGate::skip_abandoned() {
  bool again = true;
  while (again) {
    again = false;
    for (auto it = abandoned_.begin(); it != abandoned_.end(); ++it)
      if (*it == serving_) {
        ++serving_;
        abandoned_.erase(it);
        again = true;
        break;
      }
  }
}

void ConcurrencyGate::leave() {
  std::lock_guard<std::mutex> g(mu_);
  --running_;
  cv_.notify_all();
}

}  // namespace hecnn::service
