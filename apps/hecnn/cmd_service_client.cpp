// `hecnn client`: the end user of the service (docs/protocol.md). Fetches the public plan
// from the coordinator, makes keys (the secret key stays in this process), uploads the
// evaluation keys once, encrypts, sends, decrypts and prints predictions, accuracy and
// per-party times and bytes (the JSON fields of `hecnn infer --json` where they apply).
//
//   hecnn client --coordinator 127.0.0.1:7100 --dataset mnist --count 100 --insecure-loopback --token T --json
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "hecnn/cmd_runtime_report.h"
#include "hecnn/command.h"
#include "nn/model/dataset.h"
#include "service/auth.h"
#include "service/client.h"

namespace hecnn::app {
namespace {

struct Args {
  service::ClientOptions c;
  std::string dataset = "mnist", scheme = "bfv", mode = "batch";
  std::vector<std::string> images;
  std::string preprocess = "auto";
  std::size_t count = 0, offset = 0, batch = 0, images_per_ciphertext = 1;
  bool json = false, scheme_given = false;
};

int argmax(const std::vector<double>& v) {
  int b = 0;
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[std::size_t(b)]) b = int(i);
  return b;
}

void run(Args& a) {
  using Clock = std::chrono::steady_clock;
  const auto t_start = Clock::now();
  if (a.mode != "batch" && a.mode != "single") throw std::invalid_argument("--mode " + a.mode + ": use batch or single");
  if (a.scheme != "bfv" && a.scheme != "bgv" && a.scheme != "ckks") throw std::invalid_argument("--scheme " + a.scheme + ": use bfv, bgv or ckks");
  const bool single = a.mode == "single";
  if (single && a.scheme_given && a.scheme != "ckks") throw std::invalid_argument("--mode single is CKKS only (drop --scheme " + a.scheme + ")");
  if (single && a.batch) throw std::invalid_argument("--batch applies to --mode batch; --mode single takes --images-per-ciphertext");
  if (!single && a.images_per_ciphertext != 1) throw std::invalid_argument("--images-per-ciphertext applies to --mode single");
  if (single) a.scheme = "ckks";
  if (!a.images.empty() && a.count) throw std::invalid_argument("--image and --count exclude each other");
  // Inputs first: a bad file or dataset is refused before any key is made.
  std::vector<std::uint8_t> images, labels;
  std::size_t count = 0, image_size = 0;
  if (!a.images.empty()) {
    for (const auto& p : a.images) {
      // The models live on the holders: PGM as it is, other images converted to MNIST's 28x28.
      auto px = read_image(p, std::nullopt, a.preprocess);
      if (image_size && px.size() != image_size) throw std::invalid_argument(p + ": the images differ in size");
      image_size = px.size();
      images.insert(images.end(), px.begin(), px.end());
      ++count;
    }
  } else {
    nn::Dataset ds = nn::load_named_dataset(a.dataset, false);
    if (a.offset >= ds.count()) throw std::invalid_argument("--offset beyond the dataset");
    count = std::min(a.count ? a.count : std::size_t(100), ds.count() - a.offset);
    image_size = ds.image_size();
    images.assign(ds.image(a.offset), ds.image(a.offset) + count * image_size);
    labels.assign(ds.labels.begin() + std::ptrdiff_t(a.offset), ds.labels.begin() + std::ptrdiff_t(a.offset + count));
  }
  service::ServiceClient client(a.c);
  const std::size_t per_batch = single ? a.images_per_ciphertext : a.batch ? std::min(a.batch, count) : count;
  client.open(a.scheme, per_batch, a.mode);
  if (client.input_size() != image_size)
    throw std::invalid_argument("the images have " + std::to_string(image_size) + " values, the service's models expect " + std::to_string(client.input_size()));
  const std::size_t cap = client.images_per_request();
  const std::size_t step = std::min(per_batch, cap);
  const auto names = client.output_names();
  if (!a.json) {
    std::fprintf(stderr, "hecnn client: plan %s (%s, N = %zu, %zu members), session open, %.1f MiB of evaluation keys uploaded in %.2f s\n",
                 client.plan_id().substr(0, 16).c_str(), single ? "ckks, single-image" : a.scheme.c_str(), client.poly_degree(), client.members().size(),
                 double(client.key_bytes()) / 1048576.0, client.upload_seconds());
  }
  const std::size_t outs = names.size();
  std::vector<std::vector<std::vector<double>>> scores(outs);  // [output][image][class]
  std::vector<service::InferStats> stats;
  std::size_t batches = 0;
  for (std::size_t first = 0; first < count; first += step) {
    const std::size_t m = std::min(step, count - first);
    service::InferStats st;
    auto s = client.infer(images.data() + first * image_size, m, &st);
    for (std::size_t k = 0; k < outs; ++k) scores[k].insert(scores[k].end(), s[k].begin(), s[k].end());
    stats.push_back(std::move(st));
    ++batches;
    if (!a.json) std::fprintf(stderr, "  batch %zu: %zu images, request %.2f s\n", batches, m, stats.back().request_s);
  }
  client.close();
  double enc = 0, req = 0, dec = 0;
  std::size_t up = 0, down = 0;
  std::map<std::string, std::pair<double, std::pair<std::size_t, std::size_t>>> party;
  std::vector<std::string> order;
  for (const auto& st : stats) {
    enc += st.encrypt_s, req += st.request_s, dec += st.decrypt_s, up += st.bytes_up, down += st.bytes_down;
    for (const auto& p : st.parties) {
      if (!party.count(p.party)) order.push_back(p.party);
      auto& x = party[p.party];
      x.first += p.seconds;
      x.second.first += p.bytes_in;
      x.second.second += p.bytes_out;
    }
  }
  const double total = std::chrono::duration<double>(Clock::now() - t_start).count();
  nlohmann::json j;
  j["scheme"] = a.scheme == "ckks" ? "CKKS" : a.scheme == "bgv" ? "BGV" : "BFV";
  j["mode"] = a.mode;
  j["plan_id"] = client.plan_id();
  j["program"] = client.description();
  j["poly_degree"] = client.poly_degree();
  j["images_per_ciphertext"] = cap;
  j["images"] = count;
  j["batches"] = batches;
  j["members"] = client.members();
  for (std::size_t k = 0; k < outs; ++k) {
    std::size_t correct = 0;
    std::vector<int> preds;
    for (std::size_t i = 0; i < count; ++i) {
      preds.push_back(argmax(scores[k][i]));
      if (!labels.empty() && preds.back() == int(labels[i])) ++correct;
    }
    nlohmann::json o = {{"name", names[k]},
                        {"predictions_first_100", std::vector<int>(preds.begin(), preds.begin() + std::ptrdiff_t(std::min<std::size_t>(100, preds.size())))},
                        {"scores_first_100", std::vector<std::vector<double>>(scores[k].begin(), scores[k].begin() + std::ptrdiff_t(std::min<std::size_t>(100, count)))},
                        {"predictions", preds}};
    if (!labels.empty()) o["accuracy_encrypted"] = double(correct) / double(count);
    j["outputs"].push_back(o);
  }
  j["seconds"] = {{"keygen", client.keygen_seconds()}, {"upload_keys", client.upload_seconds()}, {"encrypt", enc}, {"evaluate", req}, {"decrypt", dec}, {"total", total}};
  j["bytes"] = {{"input", up}, {"output", down}, {"evaluation_keys", client.key_bytes()}};
  for (const auto& st : stats)
    j["requests"].push_back({{"seconds", st.request_s}, {"bytes_up", st.bytes_up}, {"bytes_down", st.bytes_down}, {"members_used", st.members_used}});
  // Members every request used (--on-missing-member drop may leave some out).
  std::vector<std::string> used = client.members();
  for (const auto& st : stats)
    used.erase(std::remove_if(used.begin(), used.end(), [&](const std::string& m) {
                 return std::find(st.members_used.begin(), st.members_used.end(), m) == st.members_used.end();
               }), used.end());
  j["members_used"] = used;
  for (std::size_t k = 0; k < outs && !single; ++k) {
    const int m = client.plan().outputs[k].member;
    if (m >= 0 && std::size_t(m) < client.members().size() &&
        std::find(used.begin(), used.end(), client.members()[std::size_t(m)]) == used.end())
      j["outputs"][k]["missing"] = true;  // a dropped member: its scores are zeros, not predictions
  }
  for (const auto& name : order) {
    const auto& x = party[name];
    j["parties"].push_back({{"party", name}, {"seconds", x.first}, {"bytes_in", x.second.first}, {"bytes_out", x.second.second}});
  }
  if (a.json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::printf("results on %zu images (%zu batch%s, %s over the service):\n", count, batches, batches == 1 ? "" : "es", j["scheme"].get<std::string>().c_str());
  if (used.size() != client.members().size()) {
    std::printf("  members used by every request:");
    for (const auto& m : used) std::printf(" %s", m.c_str());
    std::printf(" (the others did not answer; the ensemble combines these)\n");
  }
  for (const auto& o : j["outputs"]) {
    if (o.contains("missing")) {
      std::printf("  %-14s (member did not answer)\n", o["name"].get<std::string>().c_str());
      continue;
    }
    std::printf("  %-14s", o["name"].get<std::string>().c_str());
    if (o.contains("accuracy_encrypted")) std::printf(" accuracy %.2f%%", 100.0 * o["accuracy_encrypted"].get<double>());
    std::printf("  first predictions:");
    for (std::size_t i = 0; i < std::min<std::size_t>(10, count); ++i) std::printf(" %d", o["predictions_first_100"][i].get<int>());
    std::printf("\n");
  }
  std::printf("time: keygen %.2f s, key upload %.2f s, encrypt %.2f s, request %.2f s, decrypt %.2f s, total %.2f s\n", client.keygen_seconds(),
              client.upload_seconds(), enc, req, dec, total);
  std::printf("bytes: up %s, down %s, evaluation keys %s\n", mib(up).c_str(), mib(down).c_str(), mib(client.key_bytes()).c_str());
  for (const auto& name : order) {
    const auto& x = party[name];
    std::printf("  party %-12s %8.2f s  in %s  out %s\n", name.c_str(), x.first, mib(x.second.first).c_str(), mib(x.second.second).c_str());
  }
}

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("--coordinator", a->c.address, "the coordinator's HOST:PORT")->required();
  app.add_option("--dataset", a->dataset, "dataset name (test part): mnist, fashion-mnist, ...");
  app.add_option("--count", a->count, "test images (default 100)")->check(CLI::Range(std::size_t(1), std::size_t(10000000)));
  app.add_option("--offset", a->offset, "first test image")->check(CLI::Range(std::size_t(0), std::size_t(100000000)));
  app.add_option("--image", a->images, "image file(s) instead of a dataset: PNG, JPEG or binary PGM, any size (see --preprocess)");
  app.add_option("--preprocess", a->preprocess,
                 "how --image files become input: auto (default: PGM as it is, PNG / JPEG converted as MNIST was made: "
                 "gray, polarity, 20x20 box, centre of mass at (14, 14)), mnist (always convert), none (as it is)")
      ->check(CLI::IsMember({"auto", "mnist", "none"}));
  app.add_option("--scheme", a->scheme, "bfv (exact, default), bgv (exact) or ckks");
  app.add_option("--mode", a->mode, "batch (default: thousands of images per ciphertext) or single (CKKS, one request per image: low latency)");
  app.add_option("--images-per-ciphertext", a->images_per_ciphertext, "--mode single: images stacked in one request (a power of two, default 1)")
      ->check(CLI::Range(std::size_t(1), std::size_t(1024)));
  app.add_option("--batch", a->batch, "images per encrypted request (default: all, up to a ciphertext's slots)")->check(CLI::Range(std::size_t(1), std::size_t(1) << 20));
  app.add_option("--token", a->c.token, "bearer token (default: a random one, accepted only by --insecure-loopback servers without --tokens)");
  app.add_option("--tls-ca", a->c.tls_ca, "CA certificate (PEM) that signed the coordinator's certificate");
  app.add_flag("--insecure-loopback", a->c.insecure_loopback, "connect without TLS (127.0.0.0/8 and ::1 only)");
  app.add_option("--deadline", a->c.deadline_s, "seconds per call (default 600)")->check(CLI::Range(0.001, 86400.0));
  app.add_flag("--json", a->json, "machine-readable summary on stdout");
  app.callback([a, &app] {
    a->scheme_given = app.count("--scheme") > 0;
    if (a->c.token.empty()) a->c.token = service::random_id();
    run(*a);
  });
}

const bool registered = register_command({"client", "Encrypt images, send them to a coordinator, decrypt the ensemble's answer", &setup});

}  // namespace
}  // namespace hecnn::app
