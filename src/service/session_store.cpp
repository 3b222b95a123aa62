#include "service/session_store.h"

#include <hiredis/hiredis.h>

#include <cstring>
#include <mutex>
#include <stdexcept>

namespace hecnn::service {

namespace {
constexpr char kMagic[8] = {'H', 'E', 'C', 'N', 'S', 'E', 'S', '1'};

void put_u64(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(char(v >> (8 * i)));
}
struct Reader {
  const std::string& s;
  std::size_t pos = 0;
  std::uint64_t u64() {
    if (s.size() - pos < 8) throw std::invalid_argument("session record: truncated");
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t(std::uint8_t(s[pos + std::size_t(i)])) << (8 * i);
    pos += 8;
    return v;
  }
  std::string bytes() {
    const std::uint64_t n = u64();
    if (n > s.size() - pos) throw std::invalid_argument("session record: a field is longer than the record");
    std::string out = s.substr(pos, std::size_t(n));
    pos += std::size_t(n);
    return out;
  }
};

class RedisStore final : public SessionStore {
 public:
  RedisStore(std::string url, std::string host, int port, int db, std::string ns)
      : url_(std::move(url)), host_(std::move(host)), port_(port), db_(db), prefix_("hecnn:" + ns + ":session:") {
    std::lock_guard<std::mutex> g(mu_);
    connect_locked();
  }
  ~RedisStore() override {
    if (c_) redisFree(c_);
  }

  void put(const std::string& id, const SessionRecord& r, double ttl_s) override {
    const std::string v = encode_session_record(r);
    const std::string key = prefix_ + id;
    const long long ttl = std::max<long long>(1, (long long)ttl_s);
    command("SET", [&](redisContext* c) {
      return static_cast<redisReply*>(redisCommand(c, "SET %b %b EX %lld", key.data(), key.size(), v.data(), v.size(), ttl));
    });
  }

  std::optional<SessionRecord> get(const std::string& id, std::size_t max_bytes) override {
    const std::string key = prefix_ + id;
    // Size first: nothing larger than the bound is transferred.
    long long len = 0;
    command("STRLEN", [&](redisContext* c) {
      auto* r = static_cast<redisReply*>(redisCommand(c, "STRLEN %b", key.data(), key.size()));
      if (r && r->type == REDIS_REPLY_INTEGER) len = r->integer;
      return r;
    });
    if (len == 0) return std::nullopt;
    if (std::size_t(len) > max_bytes) throw std::invalid_argument("session store: the record of a session is " + std::to_string(len) + " bytes, above the plan's bound");
    std::string value;
    bool found = false;
    command("GET", [&](redisContext* c) {
      auto* r = static_cast<redisReply*>(redisCommand(c, "GET %b", key.data(), key.size()));
      if (r && r->type == REDIS_REPLY_STRING) {
        value.assign(r->str, r->len);
        found = true;
      }
      return r;
    });
    if (!found) return std::nullopt;
    return decode_session_record(value, max_bytes);
  }

  void erase(const std::string& id) override {
    const std::string key = prefix_ + id;
    command("DEL", [&](redisContext* c) { return static_cast<redisReply*>(redisCommand(c, "DEL %b", key.data(), key.size())); });
  }

  std::string describe() const override { return url_; }

 private:
  void connect_locked() {
    if (c_) redisFree(c_);
    timeval tv{2, 0};
    c_ = redisConnectWithTimeout(host_.c_str(), port_, tv);
    if (!c_ || c_->err) {
      const std::string why = c_ ? c_->errstr : "out of memory";
      if (c_) redisFree(c_);
      c_ = nullptr;
      throw std::invalid_argument("--session-store " + url_ + ": cannot connect (" + why + ")");
    }
    redisSetTimeout(c_, tv);
    auto* r = static_cast<redisReply*>(redisCommand(c_, "SELECT %d", db_));
    const bool ok = r && r->type != REDIS_REPLY_ERROR;
    if (r) freeReplyObject(r);
    if (!ok) throw std::invalid_argument("--session-store " + url_ + ": SELECT " + std::to_string(db_) + " failed");
  }

  // One command on the shared connection (reconnecting once after an error).
  template <class F>
  void command(const char* what, F&& f) {
    std::lock_guard<std::mutex> g(mu_);
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!c_) connect_locked();
      redisReply* r = f(c_);
      if (r && r->type != REDIS_REPLY_ERROR) {
        freeReplyObject(r);
        return;
      }
      const std::string err = r ? std::string(r->str, r->len) : std::string(c_->errstr);
      if (r) freeReplyObject(r);
      if (r || attempt == 1) throw std::runtime_error(std::string("session store ") + url_ + ": " + what + ": " + err);
      redisFree(c_);
      c_ = nullptr;
    }
  }

  std::string url_, host_;
  int port_, db_;
  std::string prefix_;
  std::mutex mu_;
  redisContext* c_ = nullptr;
};
}  // namespace

std::string encode_session_record(const SessionRecord& r) {
  std::string s(kMagic, sizeof kMagic);
  put_u64(s, r.credential.size());
  s += r.credential;
  put_u64(s, r.plan_id.size());
  s += r.plan_id;
  put_u64(s, r.keys.size());
  for (const auto& k : r.keys) {
    put_u64(s, std::uint64_t(k.kind));
    put_u64(s, k.residue);
    put_u64(s, k.bytes.size());
    s.append(reinterpret_cast<const char*>(k.bytes.data()), k.bytes.size());
  }
  return s;
}

SessionRecord decode_session_record(const std::string& bytes, std::size_t max_bytes) {
  if (bytes.size() > max_bytes) throw std::invalid_argument("session record: larger than the plan's bound");
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) throw std::invalid_argument("session record: not a hecnn session record");
  Reader rd{bytes, sizeof kMagic};
  SessionRecord r;
  r.credential = rd.bytes();
  r.plan_id = rd.bytes();
  if (r.credential.size() != 64 || r.plan_id.size() != 64) throw std::invalid_argument("session record: malformed credential or plan id");
  const std::uint64_t n = rd.u64();
  if (n > 64) throw std::invalid_argument("session record: too many key objects");
  for (std::uint64_t i = 0; i < n; ++i) {
    KeyObject k;
    const std::uint64_t kind = rd.u64();
    if (kind != std::uint64_t(KeyKind::relin) && kind != std::uint64_t(KeyKind::galois)) throw std::invalid_argument("session record: not an evaluation key");
    k.kind = KeyKind(kind);
    const std::uint64_t res = rd.u64();
    if (res > 64) throw std::invalid_argument("session record: residue out of range");
    k.residue = std::uint32_t(res);
    const std::string b = rd.bytes();
    k.bytes.assign(b.begin(), b.end());
    r.keys.push_back(std::move(k));
  }
  if (rd.pos != bytes.size()) throw std::invalid_argument("session record: trailing bytes");
  return r;
}

std::unique_ptr<SessionStore> open_session_store(const std::string& url, const std::string& ns) {
  if (url.empty() || url == "memory") return nullptr;
  const std::string scheme = "redis://";
  if (url.rfind(scheme, 0) != 0) throw std::invalid_argument("--session-store " + url + ": use redis://HOST:PORT[/DB] (or omit it: sessions in memory)");
  std::string rest = url.substr(scheme.size());
  int db = 0;
  const auto slash = rest.find('/');
  if (slash != std::string::npos) {
    const std::string d = rest.substr(slash + 1);
    if (d.empty() || d.size() > 2 || d.find_first_not_of("0123456789") != std::string::npos) throw std::invalid_argument("--session-store " + url + ": bad database number");
    db = std::stoi(d);
    rest = rest.substr(0, slash);
  }
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) throw std::invalid_argument("--session-store " + url + ": expected redis://HOST:PORT");
  const std::string host = rest.substr(0, colon), port = rest.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535)
    throw std::invalid_argument("--session-store " + url + ": bad port");
  return std::make_unique<RedisStore>(url, host, std::stoi(port), db, ns);
}

}  // namespace hecnn::service
