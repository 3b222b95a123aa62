// Shared by `hecnn holder`, `hecnn coordinator` and `hecnn client`: server flags and
// serving until SIGINT / SIGTERM.
#pragma once

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <pthread.h>
#include <thread>

#include "service/server_common.h"

namespace hecnn::app {

struct ServerFlags {
  service::ServerOptions o;
  std::size_t max_message_mib = 64;
  std::string port_file;
};

inline void add_server_flags(CLI::App& app, ServerFlags& f) {
  app.add_option("--listen", f.o.listen, "HOST:PORT to serve on (port 0: any free port, see --port-file)")->required();
  app.add_option("--tls-cert", f.o.tls.cert, "server certificate (PEM)");
  app.add_option("--tls-key", f.o.tls.key, "server private key (PEM)");
  app.add_option("--tokens", f.o.tokens_file, "file of accepted bearer tokens, one per line");
  app.add_option("--peer-token", f.o.peer_token, "credential between the coordinator and the holders (16..256 characters)");
  app.add_flag("--insecure-loopback", f.o.insecure_loopback, "serve without TLS (and without --tokens) on 127.0.0.0/8 or ::1 only");
  app.add_option("--max-sessions", f.o.limits.max_sessions, "sessions open at once (default 64)")->check(CLI::Range(std::size_t(1), std::size_t(100000)));
  app.add_option("--max-concurrent", f.o.limits.max_concurrent, "requests evaluated at once; more are refused (default 4)")->check(CLI::Range(std::size_t(1), std::size_t(1024)));
  app.add_option("--max-message-mib", f.max_message_mib, "largest gRPC message (MiB, default 64)")->check(CLI::Range(std::size_t(1), std::size_t(2047)));
  app.add_option("--deadline", f.o.limits.deadline_s, "seconds a request may take (default 600)")->check(CLI::Range(0.001, 86400.0));
  app.add_option("--session-idle", f.o.limits.session_idle_s, "seconds after which an idle session is dropped (default 3600)")->check(CLI::Range(1.0, 1e7));
  app.add_option("--port-file", f.port_file, "write the bound port to this file once serving");
}

inline void finish_server_flags(ServerFlags& f) { f.o.limits.max_message_bytes = f.max_message_mib << 20; }

// Blocks SIGINT/SIGTERM in every thread (call before any thread starts), serves, and calls
// `stop` on the first signal; returns when `wait` returns.
inline void serve_until_signal(const std::function<void()>& wait, const std::function<void()>& stop) {
  std::thread t([stop] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    sigwait(&set, &sig);
    std::fprintf(stderr, "signal %d: shutting down\n", sig);
    stop();
  });
  t.detach();
  wait();
}

inline void block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

inline void write_port_file(const std::string& path, int port) {
  if (path.empty()) return;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
    if (!out) throw std::runtime_error("--port-file " + path + ": cannot write");
  }
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace hecnn::app
