#include "fhe/wire/inspect.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <sstream>

#include "fhe/wire/error.h"

namespace hecnn::wire {

namespace {

std::uint64_t u64_at(std::span<const std::uint8_t> b, std::size_t off) {
  std::uint64_t v = 0;
  if (off + 8 <= b.size()) std::memcpy(&v, b.data() + off, 8);
  return v;
}
bool magic_at(std::span<const std::uint8_t> b, std::size_t off) {
  return off + 2 <= b.size() && b[off] == 0x5E && b[off + 1] == 0xA1;
}
std::string fmt_double(double x) {
  std::ostringstream s;
  s.precision(17);
  s << x;
  if (x > 0 && std::isfinite(x)) s << " (2^" << std::log2(x) << ")";
  return s.str();
}

void add(Description& d, std::string k, std::string v) { d.fields.emplace_back(std::move(k), std::move(v)); }

std::string level_name(const Context* ctx, const ParmsId& id) {
  if (id == kZeroParmsId) return "none (coefficient form mod t)";
  if (!ctx) return to_hex(id);
  const Level* l = ctx->find(id);
  if (!l) return to_hex(id) + " (NOT in these parameters' chain)";
  return to_hex(id) + (l->chain_index == 0 ? " (key level, " : " (data level, ") + std::to_string(l->prime_count) +
         " primes)";
}

template <class F>
void validate(Description& d, const Context* ctx, F&& read) {
  if (!ctx) {
    d.validation = "not checked (give the parameters to validate)";
    return;
  }
  try {
    read();
    d.validation = "valid";
  } catch (const FormatError& e) {
    d.validation = std::string("INVALID: ") + e.what();
  }
}

}  // namespace

Description describe(std::span<const std::uint8_t> bytes, const Context* ctx, const ReadOptions& quotas) {
  Description d;
  ReadOptions ro = quotas;
  ro.allow_trailing = true;
  if (ro.max_relin_powers < kCiphertextSizeMax - 2) ro.max_relin_powers = kCiphertextSizeMax - 2;
  // With parameters nothing larger than their largest object is inflated;
  // without, a fixed limit that the caller may change.
  if (ctx) ro.max_size = largest_object_size(*ctx, ro);
  else if (!ro.max_size) ro.max_size = kInspectLimitWithoutParameters;
  const Envelope e =
      open_envelope(bytes, "object", ro.max_size,
                    ctx ? kParametersLimit
                        : "the inspection limit without parameters: give the parameters to bound it by them");
  d.header = e.header;
  d.uncompressed_size = kHeaderSize + e.body.size();
  const auto b = e.body;

  // EncryptionParameters: u8 scheme | u64 N | u64 k | (k+1) Modulus records.
  if (b.size() >= 17 + 24 && b[0] <= 3 && magic_at(b, 17) && (b.size() - 17) % 24 == 0 &&
      (b.size() - 17) / 24 == u64_at(b, 9) + 1) {
    d.type = "parameters";
    const auto loaded = read_parameters(bytes.first(e.consumed), ValidationOptions{false});
    const auto& p = loaded.parms;
    add(d, "scheme", std::string(to_string(p.scheme)));
    add(d, "N", std::to_string(p.poly_modulus_degree));
    std::string primes;
    for (auto q : p.coeff_modulus) primes += std::to_string(q) + " (" + std::to_string(std::bit_width(q)) + " bits) ";
    add(d, "coefficient primes", primes + "(last = special prime)");
    add(d, "total bits", std::to_string(product_bit_count(p.coeff_modulus)));
    add(d, "plain modulus", std::to_string(p.plain_modulus));
    add(d, "parms_id (key level)", to_hex(compute_parms_id(p)));
    try {
      validate(p);
      d.validation = "valid (128-bit security)";
    } catch (const FormatError& err) {
      d.validation = std::string("INVALID: ") + err.what();
    }
    return d;
  }
  ParmsId id{};
  std::memcpy(id.data(), b.data(), b.size() >= 32 ? 32 : 0);
  // Ciphertext / PublicKey: parms_id | u8 ntt | size | N | k | scale | cf | DynArray.
  if (b.size() >= 73 + 24 && magic_at(b, 73)) {
    const std::uint64_t size = u64_at(b, 33), n = u64_at(b, 41), k = u64_at(b, 49);
    double scale;
    std::memcpy(&scale, b.data() + 57, 8);
    const std::uint64_t count = u64_at(b, 89);
    const bool seeded = size == 2 && count == n * k && count != 0;
    const Level* l = ctx ? ctx->find(id) : nullptr;
    const bool key = l && l->chain_index == 0 && ctx->levels().size() > 1;
    d.type = ctx ? (key ? "public key" : "ciphertext") : "ciphertext or public key";
    add(d, "parms_id", level_name(ctx, id));
    add(d, "form", b[32] ? "NTT" : "coefficient");
    add(d, "size (polynomials)", std::to_string(size));
    add(d, "N", std::to_string(n));
    add(d, "primes at this level", std::to_string(k));
    add(d, "scale", fmt_double(scale));
    add(d, "correction factor", std::to_string(u64_at(b, 65)));
    add(d, "seeded", seeded ? std::string("yes (PRNG ") + (b.size() >= 17 && b[b.size() - 65] == 2 ? "SHAKE256" : "BLAKE2Xb") + ")" : "no");
    validate(d, ctx, [&] {
      if (key) (void)read_public_key(*ctx, bytes, ro);
      else (void)read_ciphertext(*ctx, bytes, ro);
    });
    return d;
  }
  // KSwitchKeys: parms_id | dim1 | (dim2 | dim2 PublicKeys)*. Plaintext / SecretKey:
  // parms_id | coeff_count | f64 scale | DynArray.
  const std::uint64_t at40 = u64_at(b, 40);
  if (b.size() >= 48 && at40 < 65 && (at40 == 0 || magic_at(b, 48))) {
    const std::uint64_t dim1 = u64_at(b, 32);
    std::size_t pos = 40, nonempty = 0, seeded = 0, total = 0;
    std::uint64_t n = 0;
    std::string elts;
    for (std::uint64_t i = 0; i < dim1 && pos + 8 <= b.size(); ++i) {
      const std::uint64_t dim2 = u64_at(b, pos);
      pos += 8;
      if (dim2) {
        ++nonempty;
        if (elts.size() < 400) elts += std::to_string(2 * i + 1) + " ";
      }
      for (std::uint64_t c = 0; c < dim2 && pos + 16 <= b.size(); ++c) {
        const std::uint64_t rec = u64_at(b, pos + 8);
        if (!n) n = u64_at(b, pos + 16 + 41);
        const std::uint64_t k = u64_at(b, pos + 16 + 49), cnt = u64_at(b, pos + 16 + 89);
        ++total;
        if (cnt == n * k) ++seeded;
        if (rec == 0 || rec > b.size() - pos) break;
        pos += rec;
      }
    }
    const bool galois = ctx ? dim1 == ctx->n() : (n != 0 && dim1 == n);
    d.type = galois ? "galois keys" : "relin keys";
    add(d, "parms_id", level_name(ctx, id));
    add(d, "entries (dim1)", std::to_string(dim1));
    add(d, "keys", std::to_string(nonempty));
    if (galois) add(d, "galois elements", elts);
    add(d, "components", std::to_string(total) + (seeded ? " (" + std::to_string(seeded) + " seeded)" : ""));
    validate(d, ctx, [&] {
      if (galois) (void)read_galois_keys(*ctx, bytes, ro);
      else (void)read_relin_keys(*ctx, bytes, ro);
    });
    return d;
  }
  if (b.size() >= 48 + 24 && magic_at(b, 48)) {
    const Level* l = ctx ? ctx->find(id) : nullptr;
    const bool key = l && l->chain_index == 0 && ctx->levels().size() > 1;
    d.type = ctx ? (key ? "secret key" : "plaintext") : (id == kZeroParmsId ? "plaintext" : "plaintext or secret key");
    double scale;
    std::memcpy(&scale, b.data() + 40, 8);
    add(d, "parms_id", level_name(ctx, id));
    add(d, "coefficient count", std::to_string(u64_at(b, 32)));
    add(d, "scale", fmt_double(scale));
    validate(d, ctx, [&] {
      if (key) (void)read_secret_key(*ctx, bytes, ro);
      else (void)read_plaintext(*ctx, bytes, ro);
    });
    return d;
  }
  fail("object", "not a recognised SEAL object (parameters, ciphertext, plaintext or key)");
}

std::string to_text(const Description& d) {
  std::ostringstream s;
  s << "type: " << d.type << "\n";
  s << "SEAL version: " << to_string(d.header.version) << "\n";
  s << "compression: " << to_string(d.header.compression) << "\n";
  s << "stored size: " << d.header.size << " bytes\n";
  s << "uncompressed size: " << d.uncompressed_size << " bytes\n";
  for (const auto& [k, v] : d.fields) s << k << ": " << v << "\n";
  if (!d.validation.empty()) s << "check: " << d.validation << "\n";
  return s.str();
}

}  // namespace hecnn::wire
