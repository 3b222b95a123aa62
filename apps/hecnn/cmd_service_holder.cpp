// `hecnn holder`: a model holder process (docs/protocol.md). It serves its models'
// part of the ensemble plans the coordinator loads into it; it never receives a secret key.
//
//   hecnn holder --model models/default/member0.hecnn --listen 127.0.0.1:7101 --insecure-loopback
#include "hecnn/cmd_service_common.h"
#include "hecnn/command.h"
#include "service/holder.h"

namespace hecnn::app {
namespace {

void setup(CLI::App& app) {
  struct Args {
    service::HolderOptions h;
    ServerFlags f;
  };
  auto a = std::make_shared<Args>();
  app.add_option("--model", a->h.models, "model file to serve (repeat for several)")->required();
  app.add_option("--session-store", a->h.session_store, "redis://HOST:PORT[/DB]: keep sessions (evaluation keys) in Redis, shared by the replicas of a member (default: memory)");
  add_server_flags(app, a->f);
  app.callback([a] {
    finish_server_flags(a->f);
    a->h.server = a->f.o;
    block_signals();
    service::Holder holder(a->h);
    holder.start();
    std::fprintf(stderr, "hecnn holder: serving %zu model(s) on port %d%s\n", a->h.models.size(), holder.port(),
                 a->h.server.tls.enabled_server() ? " (TLS)" : " (insecure loopback)");
    write_port_file(a->f.port_file, holder.port());
    serve_until_signal([&] { holder.wait(); }, [&] { holder.shutdown(); });
  });
}

const bool registered = register_command({"holder", "Serve models to a coordinator on encrypted inputs (a model holder process)", &setup});

}  // namespace
}  // namespace hecnn::app
