#include "service/server_common.h"

#include <algorithm>
#include <stdexcept>

namespace hecnn::service {

std::chrono::system_clock::time_point request_deadline(const grpc::ServerContext& ctx, const Limits& limits) {
  const auto mine = std::chrono::system_clock::now() + std::chrono::milliseconds(std::int64_t(limits.deadline_s * 1000));
  return std::min(mine, ctx.deadline());
}

TokenSet check_server_options(const ServerOptions& o, const char* role) {
  check_listen_address(o.listen, o.insecure_loopback);
  const bool tls = o.tls.enabled_server();
  if (tls && (o.tls.cert.empty() || o.tls.key.empty())) throw std::invalid_argument(std::string(role) + ": --tls-cert and --tls-key go together");
  if (!tls && !o.insecure_loopback)
    throw std::invalid_argument(std::string(role) + ": no TLS: give --tls-cert FILE --tls-key FILE, or --insecure-loopback to serve unencrypted on 127.0.0.1 / ::1 only");
  if (tls) {
    read_pem(o.tls.cert, "--tls-cert");
    read_pem(o.tls.key, "--tls-key");
  }
  if (o.tokens_file.empty() && !o.insecure_loopback)
    throw std::invalid_argument(std::string(role) + ": --tokens FILE is required (any token is accepted only with --insecure-loopback)");
  if (!o.peer_token.empty() && (o.peer_token.size() < 16 || o.peer_token.size() > 256))
    throw std::invalid_argument(std::string(role) + ": --peer-token must have 16 to 256 characters");
  if (o.limits.max_message_bytes < (1u << 20) || o.limits.max_message_bytes > (std::size_t(1) << 31) - 1)
    throw std::invalid_argument(std::string(role) + ": the message size limit must be 1 MiB .. 2 GiB");
  if (o.limits.max_sessions == 0 || o.limits.max_concurrent == 0) throw std::invalid_argument(std::string(role) + ": limits must be positive");
  if (!(o.limits.deadline_s > 0) || o.limits.deadline_s > 86400) throw std::invalid_argument(std::string(role) + ": the deadline must be in (0, 86400] seconds");
  return o.tokens_file.empty() ? TokenSet() : TokenSet::load(o.tokens_file);
}

std::shared_ptr<grpc::ServerCredentials> server_credentials(const ServerOptions& o) {
  if (!o.tls.enabled_server()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({read_pem(o.tls.key, "--tls-key"), read_pem(o.tls.cert, "--tls-cert")});
  return grpc::SslServerCredentials(ssl);
}

std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const std::string& ca_file, const std::string& address, bool insecure_loopback) {
  if (!ca_file.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = read_pem(ca_file, "--tls-ca");
    return grpc::SslCredentials(ssl);
  }
  if (!insecure_loopback) throw std::invalid_argument("no TLS CA for " + address + ": give --tls-ca FILE, or --insecure-loopback for 127.0.0.1 / ::1");
  check_connect_address(address, true);
  return grpc::InsecureChannelCredentials();
}

std::shared_ptr<grpc::Channel> make_channel(const std::string& address, const std::string& ca_file, bool insecure_loopback,
                                            std::size_t max_message_bytes) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(int(max_message_bytes));
  args.SetMaxSendMessageSize(int(max_message_bytes));
  // A peer that restarts is found again within a second or two (gRPC's default backoff grows to 120 s).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(address, channel_credentials(ca_file, address, insecure_loopback), args);
}

}  // namespace hecnn::service
