// What the holder and the coordinator share: credentials, TLS, the gRPC server.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "service/auth.h"

namespace hecnn::service {

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // port 0: any free port (ServerHandle::port tells)
  TlsFiles tls;                        // cert + key: TLS; none: only with insecure_loopback
  bool insecure_loopback = false;
  std::string tokens_file;             // client tokens; empty: any token (insecure_loopback only)
  std::string peer_token;              // the holder <-> coordinator credential
  Limits limits;
};

// When a request must be done: the server's deadline from now, or the client's when sooner.
std::chrono::system_clock::time_point request_deadline(const grpc::ServerContext& ctx, const Limits& limits);

// Checks the options (address policy, TLS files, tokens) before anything starts.
// Returns the accepted tokens. Throws std::invalid_argument naming the problem.
TokenSet check_server_options(const ServerOptions& o, const char* role);

// Server credentials for the options (TLS or insecure).
std::shared_ptr<grpc::ServerCredentials> server_credentials(const ServerOptions& o);
// Channel credentials for a client of a server: TLS with the CA (ca non-empty) or insecure
// (loopback only).
std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const std::string& ca_file, const std::string& address, bool insecure_loopback);
std::shared_ptr<grpc::Channel> make_channel(const std::string& address, const std::string& ca_file, bool insecure_loopback,
                                            std::size_t max_message_bytes);

}  // namespace hecnn::service
