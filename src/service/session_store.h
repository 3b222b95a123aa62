// Where a server's sessions live beyond its own memory: nowhere (the default), or Redis
// (`--session-store redis://HOST:PORT`), so that the replicas of a holder share sessions:
// a session created (and keyed) on one replica is found by its twin after a failover or a
// restart, without a new key upload. What is stored per session: the credential's digest,
// the plan id and the evaluation keys as uploaded (public material; never a secret key),
// expiring after the session idle time. Reads are bounded before they are parsed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "service/codec.h"

namespace hecnn::service {

struct SessionRecord {
  std::string credential, plan_id;
  std::vector<KeyObject> keys;
};

// The record as bytes and back (bounded: at most `max_bytes` in all, 64 key objects).
std::string encode_session_record(const SessionRecord& r);
SessionRecord decode_session_record(const std::string& bytes, std::size_t max_bytes);

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  virtual void put(const std::string& id, const SessionRecord& r, double ttl_s) = 0;
  virtual std::optional<SessionRecord> get(const std::string& id, std::size_t max_bytes) = 0;
  virtual void erase(const std::string& id) = 0;
  virtual std::string describe() const = 0;
};

// "" : no store (nullptr). "redis://HOST:PORT[/DB]" : Redis, keys prefixed by `ns`
// ("hecnn:<ns>:session:"). Connects (and PINGs) now; throws std::invalid_argument naming
// the URL on a bad URL or an unreachable server.
std::unique_ptr<SessionStore> open_session_store(const std::string& url, const std::string& ns);

}  // namespace hecnn::service
