// The hecnn model file (.hecnn), format version 2. Full description: docs/model-format.md.
//
//   offset 0   8 bytes   magic "HECNNMDL"
//   offset 8   u32 LE    format version (2; version 1, without the checksum, is still read)
//   offset 12  u32 LE    header length H (1 .. 4 MiB)
//   offset 16  H bytes   UTF-8 JSON header: metadata, input spec, layers; each weight or
//                        bias tensor is {"shape": [...], "offset": byte offset into the data}
//   ...        padding to a multiple of 8
//   data       data_bytes bytes of little-endian tensors (dtype "f32" or "f64" from the header)
//   last 32    BLAKE2b-256 of every byte before it (version 2)
//
// The file must end exactly after the data (and the checksum), which is verified before
// anything else is parsed. Writing verifies that the bytes read back (non-finite values,
// inconsistent shapes: refused before anything is written) and replaces the file atomically. Reading never trusts a size it has not checked
// against the bytes present, so a truncated or hostile file gives a ModelError, never a crash
// or an allocation larger than the file.
#pragma once

#include "nn/model/model.h"

#include <string>
#include <string_view>

namespace hecnn::nn {

inline constexpr std::uint32_t kModelFormatVersion = 2;
inline constexpr std::uint32_t kOldestModelFormatVersion = 1;
inline constexpr std::size_t kMaxModelFileBytes = std::size_t(1) << 30;
inline constexpr std::size_t kMaxModelHeaderBytes = std::size_t(4) << 20;

enum class DType { f32, f64 };

// Whole file as bytes. f32 halves the size; trained weights are float32 anyway.
std::string serialize_model(const Model& model, DType dtype = DType::f32);
Model parse_model(std::string_view bytes);
// f32 when every weight, bias and coefficient is exactly a float32 (trained weights), else
// f64 (e.g. batch norm or average pooling folded by an importer): the file then loses nothing.
DType lossless_dtype(const Model& model);

// bytes (a file without its last 32 bytes) followed by their checksum: for tools and
// tests that craft files (the checksum detects corruption, not a forger).
std::string with_model_checksum(std::string_view bytes_without_checksum);

void write_model(const Model& model, const std::string& path, DType dtype = DType::f32);
Model read_model(const std::string& path);

// Reads a whole file (at most max_bytes; ModelError if larger or unreadable).
std::string read_file_bounded(const std::string& path, std::size_t max_bytes);

}  // namespace hecnn::nn
