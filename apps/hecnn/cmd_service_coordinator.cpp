// `hecnn coordinator`: publishes the ensemble plan, fans requests out to the member
// holders, combines their encrypted outputs (docs/protocol.md).
//
//   hecnn coordinator --member m0=127.0.0.1:7101 --member m1=127.0.0.1:7102 --member m2=127.0.0.1:7103
//       --combiner mean --listen 127.0.0.1:7100 --insecure-loopback
#include "hecnn/cmd_runtime_report.h"
#include "hecnn/cmd_service_common.h"
#include "hecnn/command.h"
#include "service/coordinator.h"

namespace hecnn::app {
namespace {

void setup(CLI::App& app) {
  struct Args {
    service::CoordinatorOptions c;
    std::vector<std::string> members;
    ServerFlags f;
    std::string agreement_target = "99.9%";
  };
  auto a = std::make_shared<Args>();
  app.add_option("--member", a->members, "NAME=HOST:PORT[,HOST:PORT...]: a member holder and its replicas (repeat per member)")->required();
  a->c.combiners = {"mean", "weighted"};
  app.add_option("--combiner", a->c.combiners, "ensemble combiner(s): mean, weighted, poly-softmax, normalized, stacked (comma list; default mean,weighted as hecnn demo; fitted ones use the last 5,000 training images of --dataset)")->delimiter(',');
  app.add_option("--holder-ca", a->c.holder_ca, "CA of the holders' TLS certificates (default: unencrypted, loopback holders only)");
  app.add_option("--dataset", a->c.dataset, "training images for CKKS calibration and the poly-softmax temperature (default: the models' dataset)");
  app.add_option("--calibrate", a->c.calibrate, "CKKS: training images whose value ranges set the precision targets (0: worst-case bounds; default 512)")
      ->check(CLI::Range(std::size_t(0), std::size_t(100000)));
  app.add_option("--agreement-target", a->agreement_target,
                 "BFV: quantization chosen on training images so the quantized ensemble agrees with the float one on this share "
                 "(default 99.9%, as hecnn infer; 0: fixed default bits)");
  app.add_option("--on-missing-member", a->c.on_missing_member, "fail (default: the request fails naming the member) or drop (combine the members that answered; the reply says which)");
  app.add_option("--connect-timeout", a->c.connect_timeout_s, "seconds to wait for the holders at start (default 30)")->check(CLI::Range(0.0, 3600.0));
  add_server_flags(app, a->f);
  app.callback([a] {
    finish_server_flags(a->f);
    a->c.agreement_target = parse_agreement_target(a->agreement_target);
    a->c.server = a->f.o;
    for (const auto& m : a->members) a->c.members.push_back(service::parse_member(m));
    block_signals();
    service::Coordinator coord(a->c);
    coord.start();
    std::fprintf(stderr, "hecnn coordinator: %zu members, serving on port %d%s\n", a->c.members.size(), coord.port(),
                 a->c.server.tls.enabled_server() ? " (TLS)" : " (insecure loopback)");
    write_port_file(a->f.port_file, coord.port());
    serve_until_signal([&] { coord.wait(); }, [&] { coord.shutdown(); });
  });
}

const bool registered = register_command({"coordinator", "Combine member holders' encrypted outputs into the encrypted ensemble (service coordinator)", &setup});

}  // namespace
}  // namespace hecnn::app
