// `hecnn infer --mode single`: one image per request, packed into one or a few CKKS
// ciphertexts (nn/compiler/packed.h), the whole network evaluated without decrypting
// in between. The client encrypts and serializes each image (SEAL 4.x objects, seeded,
// zstd), the server reads them back and evaluates, the client decrypts; per-image
// latency, bytes and agreement with the float model are measured.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nn/model/model.h"

namespace hecnn::app {

struct SingleArgs {
  std::string dataset = "mnist";
  std::size_t poly_degree = 0;
  std::size_t images_per_ciphertext = 1;
  std::size_t calibrate = 256;
  std::string packing = "auto";  // auto | im2col | chw
  std::size_t max_galois_key_mib = 4096;  // 0: no limit
  bool plan = false, json = false, quiet = false;
  std::string combiner = "mean";   // ensembles: mean | weighted
  std::vector<double> weights;      // weighted: one per member (default: recorded test accuracy)
  std::string save_plan, load_plan; // packed plan files (nn/compiler/packed_io.h)
};

// images: count * image_size bytes; labels empty for image files.
void run_single(const SingleArgs& a, const std::vector<nn::Model>& members, const std::vector<std::uint8_t>& images,
                const std::vector<std::uint8_t>& labels, std::size_t count, const std::vector<std::string>& image_names);

}  // namespace hecnn::app
