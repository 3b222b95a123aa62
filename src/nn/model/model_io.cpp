#include "nn/model/model_io.h"

#include <blake2.h>

#include <nlohmann/json.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace hecnn::nn {
namespace {

using nlohmann::json;
constexpr char kMagic[8] = {'H', 'E', 'C', 'N', 'N', 'M', 'D', 'L'};
constexpr std::size_t kModelDigestBytes = 32;

// BLAKE2b-256 of a file's contents (format 2 stores it after the data).
void content_digest(std::string_view bytes, std::uint8_t out[kModelDigestBytes]) {
  if (blake2b(out, bytes.data(), nullptr, kModelDigestBytes, bytes.size(), 0) != 0) throw ModelError("BLAKE2b failed");
}
constexpr int kMaxJsonDepth = 32;

static_assert(std::endian::native == std::endian::little, "model files are little-endian; add byte swapping");

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}
std::uint32_t get_u32(std::string_view s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t(std::uint8_t(s[at + i])) << (8 * i);
  return v;
}

// ---- writing ---------------------------------------------------------------
struct DataWriter {
  DType dtype;
  std::string data;
  json tensor(const std::vector<double>& v, std::vector<int> shape) {
    json t = {{"shape", shape}, {"offset", data.size()}};
    for (double x : v) {
      if (dtype == DType::f32) {
        float f = float(x);
        data.append(reinterpret_cast<const char*>(&f), sizeof f);
      } else {
        data.append(reinterpret_cast<const char*>(&x), sizeof x);
      }
    }
    return t;
  }
};

json layer_json(const Layer& layer, DataWriter& w) {
  json j = {{"type", layer_type(layer)}};
  if (auto* c = std::get_if<Conv2d>(&layer)) {
    j["in_channels"] = c->in_channels;
    j["out_channels"] = c->out_channels;
    j["kernel"] = {c->kernel_h, c->kernel_w};
    j["stride"] = {c->stride_h, c->stride_w};
    j["padding"] = {c->pad_h, c->pad_w};
    j["weight"] = w.tensor(c->weight, {c->out_channels, c->in_channels, c->kernel_h, c->kernel_w});
    j["bias"] = w.tensor(c->bias, {c->out_channels});
  } else if (auto* d = std::get_if<Dense>(&layer)) {
    j["in_features"] = d->in_features;
    j["out_features"] = d->out_features;
    j["weight"] = w.tensor(d->weight, {d->out_features, d->in_features});
    j["bias"] = w.tensor(d->bias, {d->out_features});
  } else if (auto* p = std::get_if<SumPool>(&layer)) {
    j["kernel"] = {p->kernel_h, p->kernel_w};
    j["stride"] = {p->stride_h, p->stride_w};
  } else {
    j["coeffs"] = std::get<Poly>(layer).coeffs;
  }
  return j;
}

json meta_json(const Metadata& m) {
  return {
      {"name", m.name},
      {"architecture", m.architecture},
      {"architecture_text", m.architecture_text},
      {"dataset", m.dataset},
      {"created_by", m.created_by},
      {"activation",
       {{"function", m.activation.function},
        {"method", m.activation.method},
        {"degree", m.activation.degree},
        {"interval", {m.activation.lo, m.activation.hi}}}},
      {"split",
       {{"kind", m.split.kind},
        {"setting", m.split.setting},
        {"dominance", m.split.dominance},
        {"member", m.split.member},
        {"members", m.split.members},
        {"groups", m.split.groups},
        {"seed", m.split.seed}}},
      {"training",
       {{"epochs", m.training.epochs},
        {"batch_size", m.training.batch_size},
        {"learning_rate", m.training.learning_rate},
        {"optimizer", m.training.optimizer},
        {"seed", m.training.seed},
        {"seconds", m.training.seconds},
        {"threads", m.training.threads},
        {"train_samples", m.training.train_samples}}},
      {"test_accuracy", m.test_accuracy},
      {"test_samples", m.test_samples},
  };
}

// ---- reading ---------------------------------------------------------------
[[noreturn]] void bad(const std::string& what) { throw ModelError("model file: " + what); }

// Rejects pathological nesting before the JSON parser sees it.
void check_depth(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (in_string) {
      if (ch == '\\') ++i;
      else if (ch == '"') in_string = false;
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '[' || ch == '{') {
      if (++depth > kMaxJsonDepth) bad("header nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    } else if (ch == ']' || ch == '}') {
      --depth;
    }
  }
}

const json& field(const json& j, const char* key, const std::string& where) {
  if (!j.is_object()) bad(where + " is not an object");
  auto it = j.find(key);
  if (it == j.end()) bad(where + " lacks \"" + key + "\"");
  return *it;
}

int get_int(const json& j, const char* key, const std::string& where) {
  const json& v = field(j, key, where);
  if (!v.is_number_integer()) bad(where + "." + key + " is not an integer");
  auto x = v.get<std::int64_t>();
  if (x < -1 || x > kMaxDim) bad(where + "." + key + " = " + std::to_string(x) + " is out of range");
  return int(x);
}

std::int64_t get_i64(const json& j, const char* key, const std::string& where) {
  const json& v = field(j, key, where);
  if (!v.is_number_integer()) bad(where + "." + key + " is not an integer");
  return v.get<std::int64_t>();
}

std::uint64_t get_u64(const json& j, const char* key, const std::string& where) {
  const json& v = field(j, key, where);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
    bad(where + "." + key + " is not a non-negative integer");
  return v.get<std::uint64_t>();
}

double get_num(const json& j, const char* key, const std::string& where) {
  const json& v = field(j, key, where);
  if (!v.is_number()) bad(where + "." + key + " is not a number");
  double x = v.get<double>();
  if (!std::isfinite(x)) bad(where + "." + key + " is not finite");
  return x;
}

// Strings from a file are printed by the tools: control characters (C0 but newline and
// tab, DEL, and C1 as UTF-8 0xC2 0x80-0x9F: terminal escapes) become '?'.
std::string printable_text(std::string s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
      out += '?';
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
      out += '?';
      ++i;
    } else {
      out += char(c);
    }
  }
  return out;
}

std::string get_str(const json& j, const char* key, const std::string& where) {
  const json& v = field(j, key, where);
  if (!v.is_string()) bad(where + "." + key + " is not a string");
  return printable_text(v.get<std::string>());
}

std::pair<int, int> get_pair(const json& j, const char* key, const std::string& where) {
  const json& v = field(j, key, where);
  if (!v.is_array() || v.size() != 2 || !v[0].is_number_integer() || !v[1].is_number_integer())
    bad(where + "." + key + " must be [int, int]");
  auto a = v[0].get<std::int64_t>(), b = v[1].get<std::int64_t>();
  if (a < 0 || b < 0 || a > kMaxDim || b > kMaxDim) bad(where + "." + key + " is out of range");
  return {int(a), int(b)};
}

struct DataReader {
  std::string_view data;
  std::size_t elem;  // 4 or 8
  std::vector<double> tensor(const json& layer, const char* key, std::vector<int> shape, const std::string& where) {
    const json& t = field(layer, key, where);
    const std::string w = where + "." + key;
    const json& s = field(t, "shape", w);
    if (!s.is_array() || s.size() != shape.size()) bad(w + ".shape must have " + std::to_string(shape.size()) + " dims");
    std::size_t n = 1;
    for (std::size_t i = 0; i < shape.size(); ++i) {
      if (!s[i].is_number_integer() || s[i].get<std::int64_t>() != shape[i])
        bad(w + ".shape[" + std::to_string(i) + "] must be " + std::to_string(shape[i]));
      n *= std::size_t(shape[i]);
      if (n > kMaxTensorElements) bad(w + " is too large");
    }
    const json& o = field(t, "offset", w);
    if (!o.is_number_unsigned() && !(o.is_number_integer() && o.get<std::int64_t>() >= 0))
      bad(w + ".offset is not a non-negative integer");
    const std::uint64_t off = o.get<std::uint64_t>();
    if (off % elem != 0) bad(w + ".offset is not aligned to the element size");
    if (off > data.size() || n * elem > data.size() - off)
      bad(w + " (offset " + std::to_string(off) + ", " + std::to_string(n * elem) +
          " bytes) extends past the end of the data section (" + std::to_string(data.size()) + " bytes)");
    std::vector<double> out(n);
    const char* p = data.data() + off;
    for (std::size_t i = 0; i < n; ++i) {
      if (elem == 4) {
        float f;
        std::memcpy(&f, p + 4 * i, 4);
        out[i] = f;
      } else {
        std::memcpy(&out[i], p + 8 * i, 8);
      }
      if (!std::isfinite(out[i])) bad(w + " holds a non-finite value at index " + std::to_string(i));
    }
    return out;
  }
};

Layer parse_layer(const json& j, DataReader& r, const std::string& where) {
  const std::string type = get_str(j, "type", where);
  if (type == "conv2d") {
    Conv2d c;
    c.in_channels = get_int(j, "in_channels", where);
    c.out_channels = get_int(j, "out_channels", where);
    std::tie(c.kernel_h, c.kernel_w) = get_pair(j, "kernel", where);
    std::tie(c.stride_h, c.stride_w) = get_pair(j, "stride", where);
    std::tie(c.pad_h, c.pad_w) = get_pair(j, "padding", where);
    if (c.in_channels < 1 || c.out_channels < 1 || c.kernel_h < 1 || c.kernel_w < 1)
      bad(where + ": conv2d dimensions must be positive");
    c.weight = r.tensor(j, "weight", {c.out_channels, c.in_channels, c.kernel_h, c.kernel_w}, where);
    c.bias = r.tensor(j, "bias", {c.out_channels}, where);
    return c;
  }
  if (type == "dense") {
    Dense d;
    d.out_features = get_int(j, "out_features", where);
    auto in = get_i64(j, "in_features", where);
    if (in < 1 || std::size_t(in) > kMaxTensorElements || d.out_features < 1)
      bad(where + ": dense dimensions out of range");
    d.in_features = int(in);
    d.weight = r.tensor(j, "weight", {d.out_features, d.in_features}, where);
    d.bias = r.tensor(j, "bias", {d.out_features}, where);
    return d;
  }
  if (type == "sum_pool") {
    SumPool p;
    std::tie(p.kernel_h, p.kernel_w) = get_pair(j, "kernel", where);
    std::tie(p.stride_h, p.stride_w) = get_pair(j, "stride", where);
    return p;
  }
  if (type == "poly") {
    const json& c = field(j, "coeffs", where);
    if (!c.is_array() || c.empty() || c.size() > std::size_t(kMaxPolyDegree) + 1)
      bad(where + ".coeffs must be an array of 1 to " + std::to_string(kMaxPolyDegree + 1) + " numbers");
    Poly p;
    for (const json& x : c) {
      if (!x.is_number() || !std::isfinite(x.get<double>())) bad(where + ".coeffs holds a non-number");
      p.coeffs.push_back(x.get<double>());
    }
    return p;
  }
  bad(where + ": unknown layer type \"" + type + "\" (known: conv2d, dense, sum_pool, poly)");
}

Metadata parse_meta(const json& j) {
  const std::string w = "metadata";
  Metadata m;
  m.name = get_str(j, "name", w);
  m.architecture = get_str(j, "architecture", w);
  m.architecture_text = get_str(j, "architecture_text", w);
  m.dataset = get_str(j, "dataset", w);
  m.created_by = get_str(j, "created_by", w);
  const json& a = field(j, "activation", w);
  m.activation.function = get_str(a, "function", w + ".activation");
  m.activation.method = get_str(a, "method", w + ".activation");
  m.activation.degree = get_int(a, "degree", w + ".activation");
  const json& iv = field(a, "interval", w + ".activation");
  if (!iv.is_array() || iv.size() != 2 || !iv[0].is_number() || !iv[1].is_number())
    bad("metadata.activation.interval must be [lo, hi]");
  m.activation.lo = iv[0].get<double>();
  m.activation.hi = iv[1].get<double>();
  const json& s = field(j, "split", w);
  m.split.kind = get_str(s, "kind", w + ".split");
  m.split.setting = get_int(s, "setting", w + ".split");
  m.split.dominance = get_num(s, "dominance", w + ".split");
  m.split.member = get_int(s, "member", w + ".split");
  m.split.members = get_int(s, "members", w + ".split");
  m.split.groups = get_str(s, "groups", w + ".split");
  m.split.seed = get_u64(s, "seed", w + ".split");
  const json& t = field(j, "training", w);
  const std::string tw = w + ".training";
  m.training.epochs = get_int(t, "epochs", tw);
  m.training.batch_size = get_int(t, "batch_size", tw);
  m.training.learning_rate = get_num(t, "learning_rate", tw);
  m.training.optimizer = get_str(t, "optimizer", tw);
  m.training.seed = get_u64(t, "seed", tw);
  m.training.seconds = get_num(t, "seconds", tw);
  m.training.threads = get_int(t, "threads", tw);
  m.training.train_samples = get_i64(t, "train_samples", tw);
  m.test_accuracy = get_num(j, "test_accuracy", w);
  m.test_samples = get_i64(j, "test_samples", w);
  return m;
}

}  // namespace

DType lossless_dtype(const Model& model) {
  auto exact = [](const std::vector<double>& v) {
    for (double x : v)
      if (double(float(x)) != x) return false;
    return true;
  };
  for (const auto& l : model.layers) {
    bool ok = true;
    if (const auto* c = std::get_if<Conv2d>(&l)) ok = exact(c->weight) && exact(c->bias);
    else if (const auto* d = std::get_if<Dense>(&l)) ok = exact(d->weight) && exact(d->bias);
    else if (const auto* p = std::get_if<Poly>(&l)) ok = exact(p->coeffs);
    if (!ok) return DType::f64;
  }
  return DType::f32;
}

std::string serialize_model(const Model& model, DType dtype) {
  validate(model);
  DataWriter w{dtype, {}};
  json layers = json::array();
  for (const Layer& layer : model.layers) layers.push_back(layer_json(layer, w));
  const auto& in = model.input;
  json header = {
      {"format", "hecnn-model"},
      {"version", kModelFormatVersion},
      {"dtype", dtype == DType::f32 ? "f32" : "f64"},
      {"data_bytes", w.data.size()},
      {"input", {{"shape", {in.shape.c, in.shape.h, in.shape.w}}, {"scale", in.scale}, {"offset", in.offset}}},
      {"metadata", meta_json(model.meta)},
      {"layers", layers},
  };
  std::string text = header.dump(1);
  if (text.size() > kMaxModelHeaderBytes) throw ModelError("model header too large");
  std::string out(kMagic, 8);
  put_u32(out, kModelFormatVersion);
  put_u32(out, std::uint32_t(text.size()));
  out += text;
  while (out.size() % 8) out.push_back('\n');
  out += w.data;
  std::uint8_t d[kModelDigestBytes];
  content_digest(out, d);
  out.append(reinterpret_cast<const char*>(d), kModelDigestBytes);
  // A file that would be refused on read is never written (non-finite values, sizes).
  try {
    (void)parse_model(out);
  } catch (const ModelError& e) {
    throw ModelError(std::string("refusing to write a model that would not read back: ") + e.what());
  }
  return out;
}

Model parse_model(std::string_view bytes) {
  if (bytes.size() < 16) bad("too short (" + std::to_string(bytes.size()) + " bytes) to be a hecnn model");
  if (std::memcmp(bytes.data(), kMagic, 8) != 0) bad("bad magic (not a hecnn model file)");
  const std::uint32_t version = get_u32(bytes, 8);
  if (version < kOldestModelFormatVersion || version > kModelFormatVersion)
    bad("unsupported format version " + std::to_string(version) + " (this build reads versions " +
        std::to_string(kOldestModelFormatVersion) + " to " + std::to_string(kModelFormatVersion) + ")");
  if (version >= 2) {
    // Checked before anything else is parsed: any corruption is named as such.
    if (bytes.size() < 16 + kModelDigestBytes) bad("too short to hold its checksum");
    const std::string_view body = bytes.substr(0, bytes.size() - kModelDigestBytes);
    std::uint8_t d[kModelDigestBytes];
    content_digest(body, d);
    if (std::memcmp(d, bytes.data() + body.size(), kModelDigestBytes) != 0)
      bad("checksum mismatch: the file is corrupted or was modified (BLAKE2b-256 over its contents)");
    bytes = body;
  }
  const std::uint32_t hlen = get_u32(bytes, 12);
  if (hlen == 0 || hlen > kMaxModelHeaderBytes) bad("header length " + std::to_string(hlen) + " is out of range");
  if (bytes.size() - 16 < hlen) bad("truncated: header needs " + std::to_string(hlen) + " bytes, file has " +
                                    std::to_string(bytes.size() - 16));
  std::string_view text = bytes.substr(16, hlen);
  check_depth(text);
  json h;
  try {
    h = json::parse(text);
  } catch (const json::exception& e) {
    bad(std::string("header is not valid JSON: ") + e.what());
  }
  if (!h.is_object()) bad("header is not a JSON object");
  if (get_str(h, "format", "header") != "hecnn-model") bad("header.format is not \"hecnn-model\"");
  if (get_u64(h, "version", "header") != version) bad("header.version disagrees with the file version");
  const std::string dtype = get_str(h, "dtype", "header");
  if (dtype != "f32" && dtype != "f64") bad("header.dtype \"" + dtype + "\" is not f32 or f64");
  std::size_t data_start = 16 + std::size_t(hlen);
  data_start = (data_start + 7) / 8 * 8;
  if (data_start > bytes.size()) bad("truncated before the data section");
  const std::uint64_t data_bytes = get_u64(h, "data_bytes", "header");
  if (bytes.size() - data_start != data_bytes)
    bad("data section has " + std::to_string(bytes.size() - data_start) + " bytes, header says " +
        std::to_string(data_bytes) + (bytes.size() - data_start < data_bytes ? " (truncated file?)" : ""));

  Model m;
  const json& in = field(h, "input", "header");
  const json& shape = field(in, "shape", "header.input");
  if (!shape.is_array() || shape.size() != 3) bad("header.input.shape must be [c, h, w]");
  int dims[3];
  for (int i = 0; i < 3; ++i) {
    if (!shape[i].is_number_integer() || shape[i].get<std::int64_t>() < 1 || shape[i].get<std::int64_t>() > kMaxDim)
      bad("header.input.shape[" + std::to_string(i) + "] is out of range");
    dims[i] = int(shape[i].get<std::int64_t>());
  }
  m.input.shape = {dims[0], dims[1], dims[2]};
  m.input.scale = get_num(in, "scale", "header.input");
  m.input.offset = get_num(in, "offset", "header.input");
  m.meta = parse_meta(field(h, "metadata", "header"));

  const json& layers = field(h, "layers", "header");
  if (!layers.is_array() || layers.empty() || layers.size() > std::size_t(kMaxLayers))
    bad("header.layers must be an array of 1 to " + std::to_string(kMaxLayers) + " layers");
  DataReader r{bytes.substr(data_start), dtype == "f32" ? 4u : 8u};
  for (std::size_t i = 0; i < layers.size(); ++i)
    m.layers.push_back(parse_layer(layers[i], r, "layers[" + std::to_string(i) + "]"));
  try {
    validate(m);
  } catch (const ModelError& e) {
    bad(e.what());
  }
  return m;
}

std::string read_file_bounded(const std::string& path, std::size_t max_bytes) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) throw ModelError(path + ": cannot read (" + ec.message() + ")");
  if (size > max_bytes)
    throw ModelError(path + ": " + std::to_string(size) + " bytes is larger than the limit of " +
                     std::to_string(max_bytes));
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ModelError(path + ": cannot open");
  std::string bytes(size, '\0');
  f.read(bytes.data(), std::streamsize(size));
  if (std::size_t(f.gcount()) != size) throw ModelError(path + ": short read");
  return bytes;
}

std::string with_model_checksum(std::string_view body) {
  std::string out(body);
  std::uint8_t d[kModelDigestBytes];
  content_digest(out, d);
  out.append(reinterpret_cast<const char*>(d), kModelDigestBytes);
  return out;
}

void write_model(const Model& model, const std::string& path, DType dtype) {
  const std::string bytes = serialize_model(model, dtype);
  // Written beside the target and renamed over it: a failed write leaves any file there intact.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw ModelError(path + ": cannot open " + tmp + " for writing");
    f.write(bytes.data(), std::streamsize(bytes.size()));
    f.flush();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw ModelError(path + ": write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw ModelError(path + ": cannot replace the file (" + ec.message() + ")");
  }
}

Model read_model(const std::string& path) {
  std::string bytes = read_file_bounded(path, kMaxModelFileBytes);
  try {
    return parse_model(bytes);
  } catch (const ModelError& e) {
    throw ModelError(path + ": " + e.what());
  }
}

}  // namespace hecnn::nn
