// Encrypted inference with the library in a few lines: a model file becomes a plan
// (runtime::make_plan: scheme defaults, CKKS calibration), the client encrypts a batch
// of test images, the server evaluates with evaluation keys only, the client decrypts.
// Checked against the float model. Built and run by ctest (label fast).
//
//   example_02_encrypted_inference [model.hecnn [dataset [images]]]
//     defaults: models/cryptonets-x2-mnist.hecnn, mnist, 16
#include <cstdio>
#include <exception>
#include <string>

#include "math/prng.h"
#include "nn/model/dataset.h"
#include "nn/model/forward.h"
#include "nn/model/model_io.h"
#include "nn/runtime/client_server.h"
#include "nn/runtime/pipeline.h"
using namespace hecnn;

int main(int argc, char** argv) try {
  const std::string path = argc > 1 ? argv[1] : "models/cryptonets-x2-mnist.hecnn";  // run from the repository root
  const std::string dataset = argc > 2 ? argv[2] : "mnist";
  const std::size_t count = argc > 3 ? std::stoul(argv[3]) : 16;
  nn::Dataset test, train;
  try {
    test = nn::load_named_dataset(dataset, false);
    train = nn::load_named_dataset(dataset, true);
  } catch (const std::exception& e) {
    std::printf("skipped: %s\n", e.what());  // no data on this machine (scripts/setup.sh fetches it)
    return 0;
  }
  const nn::Model model = nn::read_model(path);

  nn::runtime::PlanRequest req;
  req.scheme = nn::compiler::Scheme::ckks;                       // or bfv: exact integers
  const auto plan = nn::runtime::make_plan({&model, 1}, req, &train);

  math::SystemPrng prng;                                          // OS-seeded CSPRNG
  nn::runtime::Client client(plan, prng);                         // secret key stays in the client
  nn::runtime::Server server(plan, client.evaluation_keys());     // evaluation keys only
  const auto result = server.evaluate(client.encrypt(test.image(0), count));
  const auto scores = client.decrypt(result);                     // [output][image][class]

  std::size_t agree = 0, correct = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const int enc = nn::argmax(scores[0][i]);
    const int ref = nn::argmax(nn::forward(model, nn::prepare_input(model, {test.image(i), test.image_size()})));
    agree += enc == ref;
    correct += enc == test.labels[i];
  }
  std::printf("%s, %s: %zu images, N = %zu, encrypted predictions agree with the float model on %zu, correct %zu\n",
              plan.description.c_str(), nn::compiler::scheme_name(plan.scheme), count, plan.poly_degree(), agree, correct);
  return agree + 1 >= count ? 0 : 1;  // at most one close call may differ
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
