// The client side of the service: fetches the public plan, makes the keys (the secret key
// never leaves this object), uploads the evaluation keys once per session, encrypts,
// sends, receives and decrypts.
//
//   service::ServiceClient c({.address = "127.0.0.1:7000", .token = "...", .insecure_loopback = true});
//   c.open("bfv", images_per_batch);           // plan, keys, session
//   auto scores = c.infer(pixels, count);      // [output][image][class]
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/compiler/program.h"

namespace hecnn::service {

struct ClientOptions {
  std::string address;           // the coordinator, HOST:PORT
  std::string token;             // bearer token
  std::string tls_ca;            // CA of the coordinator's certificate; empty: loopback without TLS
  bool insecure_loopback = false;
  double deadline_s = 600;       // per call
  std::size_t max_message_bytes = std::size_t(64) << 20;
};

struct PartyReport {
  std::string party, address;
  double seconds = 0;
  std::size_t bytes_in = 0, bytes_out = 0;
};

struct InferStats {
  double encrypt_s = 0, request_s = 0, decrypt_s = 0;
  std::size_t bytes_up = 0, bytes_down = 0;
  std::vector<PartyReport> parties;
  std::vector<std::string> members_used;
};

class ServiceClient {
 public:
  explicit ServiceClient(const ClientOptions& o);  // checks the options (TLS or loopback); connects lazily
  ~ServiceClient();
  // GetPlan + keys + CreateSession + UploadKeys. Throws std::runtime_error naming the failing step.
  // mode "batch" (batch_images: images per batch, for the parameter choice) or "single"
  // (CKKS, one request per image or per batch_images stacked images, a power of two).
  void open(const std::string& scheme, std::size_t batch_images, const std::string& mode = "batch");
  bool single() const;
  const nn::compiler::Program& plan() const;   // batch: the public plan (no weights)
  // Both modes: what the CLI needs.
  std::size_t input_size() const;              // bytes per image
  std::size_t images_per_request() const;      // batch: a ciphertext's slots; single: K
  std::size_t poly_degree() const;
  std::string description() const;
  std::vector<std::string> output_names() const;
  const std::string& plan_id() const;
  const std::string& session_id() const;
  std::vector<std::string> members() const;
  double keygen_seconds() const;
  double upload_seconds() const;
  std::size_t key_bytes() const;
  // One batch (count <= plan().batch_capacity(), CHW bytes): scores[output][image][class].
  std::vector<std::vector<std::vector<double>>> infer(const std::uint8_t* images, std::size_t count, InferStats* stats = nullptr);
  void close();

  // Tests: calls with another session id / raw frames.
  void set_session_for_tests(const std::string& id);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hecnn::service
