// Single-image (packed) CKKS programs: one image per request, its tensors packed into
// the slots of one or a few ciphertexts, the whole network run without decrypting in
// between (seed 002's mode; LoLa and Gazelle's layouts).
//
// A packed tensor lives in `cts` ciphertexts of `lane` = N/2 real slots. Linear layers
// (convolution, dense, sum pooling, and runs of them composed into one map) become
// diagonal transforms: out = sum over rotations d of diag_d * rot(in, d), grouped
// baby-step / giant-step (babies hoisted: one key-switch decomposition per input
// ciphertext), optionally followed by rotate-and-add folds. The compiler picks, per
// layer, among three lowerings by predicted cost:
//   diagonal  outputs placed so that many terms share a rotation (channels shifted onto
//             each other's diagonals); clean output (zeros outside the tensor)
//   hybrid    Gazelle's hybrid dense: a replicated input (period B), J diagonals, then
//             log2(B / J) folds; output o = a + J q at slot q B + a
//   fold-sum  few outputs: one diagonal per output, then folds over the input's box
// The first convolution may read a client-side im2col layout (TenSEAL's), so that it
// needs few rotations. Polynomial activations are evaluated on whole ciphertexts:
// degree 2 as c2 x (x + c1/c2) + c0 (one level), degree 3 as c3 x (x^2 + a x + b) + c0
// (two levels); the leading coefficient and the constant move into the next linear map.
//
// A PackedProgram is immutable after compile_packed: every plaintext it needs is listed
// as values (diagonals, biases), every level and exact scale is fixed, and the rotation
// steps (hence the Galois keys) are listed. It runs through one interpreter loop
// (packed_executor.h) on real CKKS, a cleartext slot simulator and a cost counter.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nn/compiler/program.h"
#include "nn/model/model.h"

namespace hecnn::nn::compiler {

// Where a packed tensor's elements are: element e (row-major over dims) is at global
// position base + sum_i idx_i * strides[i], i.e. ciphertext pos / lane, slot pos % lane.
struct PackedLayout {
  std::vector<int> dims;
  std::vector<std::int64_t> strides;
  std::int64_t base = 0;
  std::size_t count = 0;   // elements: the first `count` of the row-major enumeration of dims
  bool box = true;         // dims / strides / base describe the positions (else only `positions` does)
  std::vector<std::int64_t> positions;  // explicit global positions per element (when not empty)
  std::size_t lane = 0;
  std::size_t cts = 1;
  std::size_t period = 0;  // > 0: every ciphertext repeats with this period (copies of each element)
  bool clean = true;       // slots holding no element (and no copy) are zero
  std::size_t size() const;
  std::int64_t position(std::size_t e) const;
};

enum class PackedOpKind : std::uint8_t { linear, poly, replicate };
const char* packed_op_name(PackedOpKind k);

struct PackedDiag {
  std::uint32_t in_ct = 0;
  std::int32_t baby = 0;           // rotation of the input before the product
  std::vector<double> values;      // lane values, already rotated by -giant
};
struct PackedGiant {
  std::int32_t step = 0;           // rotation of the inner sum
  std::vector<PackedDiag> diags;
};

struct PackedOp {
  PackedOpKind kind = PackedOpKind::linear;
  std::string label;               // "conv1", "act1", "dense1+pool", "replicate"
  std::string lowering;            // linear: "diagonal" | "hybrid" | "fold-sum"
  // linear: per output ciphertext, the giant groups; folds (v += rot(v, f)) after the
  // rescale; bias per output ciphertext (lane values, empty: none) added last.
  std::size_t in_cts = 0, out_cts = 0;
  std::vector<std::vector<PackedGiant>> outs;
  std::vector<std::int32_t> folds;
  std::vector<std::vector<double>> bias;
  // poly: degree 2: y = x (x + a); degree 3: y = x (x^2 + a x + b).
  int degree = 0;
  double a = 0, b = 0;
  // replicate: v += rot(v, s) for each step (copies of a clean tensor).
  std::vector<std::int32_t> steps;
  // Levels (data primes) before and after, exact scales before and after.
  int level_in = 0, level_out = 0;
  double scale_in = 1, scale_out = 1;
  // poly degree 3: the scalar encoding scale of a x (so that a x and x^2 meet at one scale).
  double scalar_scale = 0;
  PackedLayout layout;             // of the result
  double log2_max = 0;             // log2 max |value| of the result seen on calibration images
};

// Counts per op and in total (the cost counter's report; predicted before any run).
struct PackedCounts {
  std::size_t rotations = 0;       // key switches for rotations, hoisted ones included
  std::size_t hoisted = 0;         // of which share a decomposition (cheaper)
  std::size_t plain_mults = 0;
  std::size_t ct_mults = 0;        // ciphertext products (each relinearized)
  std::size_t rescales = 0;
  std::size_t composed = 0;        // of the rotations, the extra key switches of composed steps
  double predicted_seconds = 0;    // from per-operation times at N (docs/inference.md)
  PackedCounts& operator+=(const PackedCounts& o);
};

struct PackedProgram {
  std::string description;
  Shape input_shape;                     // per image (raw)
  double input_raw_scale = 1, input_offset = 0;  // x = raw * scale + offset
  std::size_t poly_degree = 0;
  std::vector<std::uint64_t> coeff_modulus;      // special prime last
  double input_scale = 1;                // CKKS scale of the encrypted input
  PackedLayout input_layout;             // the client's packing
  std::vector<std::int32_t> input_source;  // layout element -> index into x (CHW), -1: zero (padding)
  std::string input_packing;             // "im2col" | "chw"
  std::vector<PackedOp> ops;
  PackedLayout output_layout;
  double output_mult = 1, output_add = 0;  // class score = value * mult + add (a trailing affine map)
  std::size_t num_classes = 0;
  std::vector<std::int32_t> rotation_steps;  // the Galois keys: distinct nonzero steps (mod lane), one key each
  // Under a key budget (PackedOptions::max_galois_key_bytes) a step the ops use may have
  // no key of its own: it is composed, its path's keys applied in turn (their sum is the
  // step mod the lane). Sorted by step (mod lane); steps with their own key are absent.
  struct RotationPath {
    std::int32_t step = 0;
    std::vector<std::int32_t> keys;
  };
  std::vector<RotationPath> rotation_paths;
  bool needs_relin = false;
  double predicted_precision_bits = 0;   // log2(scale / noise estimate) at the output
  int headroom_bits = 0;                 // bits above the scale in the last prime (from calibration)
  std::vector<std::string> member_digests;  // BLAKE2b-256 of the model (plan_io.h)

  // LoLa's stacked images: image i of a request lives at slots pos * K + i (pos in the
  // image's own lane of N / (2K) positions, where every layout and rotation is planned);
  // rotations are by K times the planned step, so each image rotates within its lane.
  std::size_t images_per_ciphertext = 1;

  std::size_t lane() const { return poly_degree / 2; }
  // The key steps that apply a rotation by `step`: {} when it is 0 mod the lane, its
  // path when it is composed, else {step} itself (its own key).
  std::vector<std::int32_t> rotation_path(std::int64_t step) const;
  // Every rotation step the ops use (mod lane, ascending), with or without its own key.
  std::vector<std::int32_t> used_steps() const;
  std::size_t image_lane() const { return lane() / images_per_ciphertext; }
  int data_primes() const { return int(coeff_modulus.size()) - 1; }
  // The client's input slots (input_layout.cts vectors of lane values) for up to K raw
  // images of `bytes` each (missing images are zeros). Throws CompileError on a wrong size.
  std::vector<std::vector<double>> pack_inputs(const std::vector<const std::uint8_t*>& raws, std::size_t bytes) const;
  std::vector<std::vector<double>> pack_input(const std::uint8_t* raw, std::size_t bytes) const { return pack_inputs({raw}, bytes); }
  // Class scores of image `image` from the decrypted output ciphertexts (lane values each).
  std::vector<double> unpack_output(const std::vector<std::vector<double>>& slots, std::size_t image = 0) const;
};

struct PackedOptions {
  std::size_t poly_degree = 0;     // 0: smallest N that fits the slots and levels at 128-bit security
  int min_scale_bits = 26;         // smallest acceptable scale (precision), else a larger N
  int max_scale_bits = 40;
  bool im2col = true;              // client-side im2col for a first convolution when it fits
  std::size_t images_per_ciphertext = 1;  // K images side by side (a power of two)
  // Calibration images (raw bytes, one image each): value ranges set the headroom of the
  // last prime; empty: a bound from the weights (looser).
  std::vector<std::vector<std::uint8_t>> calibration;
  bool allow_insecure = false;
  // Galois keys (serialized size, as SEAL writes them) at most this many bytes: when the
  // steps' own keys would take more, powers of two and the steps that save the most key
  // switching get keys and the other steps are composed from them (slower, fewer keys).
  // 0: no limit. Throws CompileError when not even the powers of two fit.
  std::size_t max_galois_key_bytes = std::size_t(4) << 30;
  int headroom_bits = 0;           // > 0: bits above the scale in the last prime (ensembles force one value)
  // Called as each stage is lowered (N, stage label, stages done, stages total): deep
  // networks take a minute to place.
  std::function<void(std::size_t, const std::string&, std::size_t, std::size_t)> progress;
};

// Compiles one model. Throws CompileError naming what is not supported (polynomials of
// degree > 3, K not a power of two) or what does not fit (no N up to 32768).
PackedProgram compile_packed(const Model& model, const PackedOptions& opt = {});

// An encrypted ensemble in single-image mode: members of one architecture compiled to
// the same parameters and layouts, each member's last linear map scaled by its weight,
// so that the server adds the members' output ciphertexts (no level) and the client
// decrypts the combined class scores. Combiners: "mean" (weights 1/M) and "weighted"
// (the given weights, normalized to sum 1). Throws CompileError when members differ in
// layout or parameters, or the combiner is not one of these.
struct PackedEnsemble {
  std::vector<PackedProgram> members;
  std::vector<double> weights;
  std::string combiner;
  std::vector<std::int32_t> rotation_steps;  // union over the members: the keys the client sends
};
PackedEnsemble compile_packed_ensemble(const std::vector<Model>& members, const std::string& combiner,
                                       const std::vector<double>& weights, const PackedOptions& opt = {});

// Chooses one key set for programs that share it (an ensemble's members: their keys are
// the union) under `max_key_bytes` (0: no limit): sets each program's rotation_steps and
// rotation_paths. Deterministic. Throws CompileError naming the budget it cannot meet.
void assign_rotation_keys(const std::vector<PackedProgram*>& progs, std::size_t max_key_bytes);

// How the babies of one input ciphertext are rotated (the interpreter and the cost
// counter share it): the steps `hoisted` share one key-switch decomposition; baby i is
// hoisted[from[i]] rotated on by the keys rest[i] (empty unless its step is composed).
struct BabyRotations {
  std::vector<int> hoisted;
  std::vector<std::size_t> from;
  std::vector<std::vector<std::int32_t>> rest;
  bool composed = false;  // some baby has a rest
};
BabyRotations plan_baby_rotations(const PackedProgram& prog, const std::vector<int>& babies);

// The cost counter: counts and predicted time (no HE).
PackedCounts count_packed(const PackedProgram& prog);
PackedCounts count_packed_op(const PackedProgram& prog, std::size_t op);  // one op's share
// Galois-key bytes for the program's steps (serialized, uncompressed, as SEAL writes them),
// and per-image upload / download bytes (seeded input ciphertexts, full outputs).
std::size_t packed_galois_key_bytes(const PackedProgram& prog);
std::size_t packed_relin_key_bytes(const PackedProgram& prog);
std::size_t packed_upload_bytes(const PackedProgram& prog);
std::size_t packed_download_bytes(const PackedProgram& prog);
// Multi-line human report: parameters, keys, bytes, per-op lowering, levels, counts.
std::string describe_packed(const PackedProgram& prog);

}  // namespace hecnn::nn::compiler
