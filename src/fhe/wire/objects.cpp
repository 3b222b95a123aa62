#include "fhe/wire/objects.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

#include "fhe/wire/error.h"
#include "fhe/wire/prng.h"
#include "math/modulus.h"
#include "math/ntt.h"
#include "math/secure.h"

namespace hecnn::wire {

namespace {

std::string str(std::uint64_t v) { return std::to_string(v); }

const Level& find_level(const Context& ctx, const ParmsId& id, std::string_view object) {
  const Level* l = ctx.find(id);
  if (!l) fail(object, "parms_id " + to_hex(id) + " is not in the parameter chain of these parameters");
  return *l;
}

// Every word of a level-shaped array (j * N + i) must be < q_j.
void check_ranges(std::span<const std::uint64_t> words, std::span<const std::uint64_t> primes, std::size_t n,
                  std::string_view object, std::string_view what) {
  const std::size_t k = primes.size();
  for (std::size_t off = 0; off < words.size(); off += k * n) {
    for (std::size_t j = 0; j < k; ++j) {
      const std::uint64_t q = primes[j];
      const std::uint64_t* p = words.data() + off + j * n;
      for (std::size_t i = 0; i < n; ++i) {
        if (p[i] >= q) {
          fail(object, std::string(what) + " word " + str(off / (k * n)) + "/" + str(j) + "/" + str(i) + " = " +
                           str(p[i]) + " is not reduced modulo q_" + str(j) + " = " + str(q));
        }
      }
    }
  }
}

void check_scale(const Context& ctx, const Level& level, double scale, std::string_view object) {
  if (ctx.scheme() == Scheme::ckks) {
    const int bound = product_bit_count(ctx.primes(level));
    if (!std::isfinite(scale) || scale <= 0 || static_cast<int>(std::log2(scale)) >= bound) {
      fail(object, "CKKS scale " + std::to_string(scale) + " is not in (0, 2^" + std::to_string(bound) + ")");
    }
  } else if (scale != 1.0) {
    fail(object, std::string(to_string(ctx.scheme())) + " scale is " + std::to_string(scale) + " (must be exactly 1)");
  }
}

std::uint64_t bound_or(std::uint64_t caller, std::uint64_t formula) {
  return caller ? std::min(caller, formula) : formula;
}

void check_consumed(const Envelope& e, std::span<const std::uint8_t> bytes, const ReadOptions& opt,
                    std::string_view object) {
  if (!opt.allow_trailing && e.consumed != bytes.size()) {
    fail(object, str(bytes.size() - e.consumed) + " trailing bytes after the object");
  }
}

// ---- ciphertext members --------------------------------------------------

void read_parms_id(ByteReader& r, ParmsId& id) {
  for (auto& w : id) w = r.u64("parms_id");
}

void read_ciphertext_members(ByteReader& r, const Context& ctx, CiphertextData& ct, CiphertextRole role) {
  read_parms_id(r, ct.parms_id);
  const std::uint8_t ntt = r.u8("is_ntt_form");
  if (ntt > 1) r.fail("is_ntt_form byte is " + str(ntt) + " (expected 0 or 1)");
  ct.is_ntt_form = ntt == 1;
  ct.size = r.u64("size");
  ct.n = r.u64("poly modulus degree");
  ct.prime_count = r.u64("coefficient prime count");
  ct.scale = r.f64("scale");
  ct.correction_factor = r.u64("correction factor");
  // Bound everything from the chain before reading the coefficients.
  const Level& level = find_level(ctx, ct.parms_id, r.object());
  if (ct.n != ctx.n()) r.fail("poly modulus degree " + str(ct.n) + " does not match N = " + str(ctx.n()));
  if (ct.prime_count != level.prime_count) {
    r.fail("coefficient prime count " + str(ct.prime_count) + " does not match the level's " + str(level.prime_count));
  }
  if (ct.size < kCiphertextSizeMin || ct.size > kCiphertextSizeMax) {
    r.fail("size " + str(ct.size) + " is not in " + str(kCiphertextSizeMin) + ".." + str(kCiphertextSizeMax));
  }
  const std::uint64_t poly_words = ct.n * ct.prime_count;
  const std::uint64_t full = ct.size * poly_words;
  const std::uint64_t count = read_dynarray_count(r, "coefficient");
  const bool seeded = count == poly_words && ct.size == 2;
  if (count != full && !seeded) {
    r.fail("coefficient count " + str(count) + " does not match N*k*size = " + str(full) +
           (ct.size == 2 ? " (or N*k = " + str(poly_words) + " for a seeded ciphertext)" : ""));
  }
  if (count > r.remaining() / 8) {
    r.fail("truncated: " + str(count) + " coefficients need " + str(count * 8) + " bytes, " + str(r.remaining()) +
           " left");
  }
  ct.data.resize(full);
  r.u64_array(std::span(ct.data).first(count), "coefficients");
  ct.seed.reset();
  if (seeded) {
    ct.seed = read_prng_info(r);
    // c0 is checked before the expansion is trusted.
    check_ranges(ct.poly(0), ctx.primes(level), ct.n, r.object(), "c0");
    expand_seed(ctx, level, *ct.seed, ct.poly(1));
  }
  check_ciphertext(ctx, ct, role, r.object());
}

void write_ciphertext_members(ByteWriter& w, Version v, const Context& ctx, const CiphertextData& ct) {
  for (auto x : ct.parms_id) w.u64(x);
  w.u8(ct.is_ntt_form ? 1 : 0);
  w.u64(ct.size);
  w.u64(ct.n);
  w.u64(ct.prime_count);
  w.f64(ct.scale);
  w.u64(ct.correction_factor);
  if (ct.seed) {
    write_dynarray(w, v, ct.poly(0));
    write_prng_info(w, v, *ct.seed);
  } else {
    write_dynarray(w, v, ct.data);
  }
}

void check_seed_matches(const Context& ctx, const CiphertextData& ct, std::string_view object) {
  if (!ct.seed) return;
  if (ct.size != 2) fail(object, "only size-2 ciphertexts can be written seeded (size is " + str(ct.size) + ")");
  std::vector<std::uint64_t> c1(ct.n * ct.prime_count);
  expand_seed(ctx, *ctx.find(ct.parms_id), *ct.seed, c1);
  const auto stored = ct.poly(1);
  if (!std::equal(c1.begin(), c1.end(), stored.begin())) {
    fail(object, "c1 is not the expansion of the attached seed; clear `seed` to write the full form");
  }
}

std::uint64_t ciphertext_record_size(const CiphertextData& ct) {
  return ct.seed ? seeded_ciphertext_size(ct.n, ct.prime_count) : ciphertext_size(ct.size, ct.n, ct.prime_count);
}

// ---- plaintext members ---------------------------------------------------

void read_plaintext_members(ByteReader& r, const Context& ctx, PlaintextData& pt) {
  read_parms_id(r, pt.parms_id);
  pt.coeff_count = r.u64("coefficient count");
  pt.scale = r.f64("scale");
  std::uint64_t max_count = ctx.n();
  if (pt.parms_id != kZeroParmsId) {
    const Level& level = find_level(ctx, pt.parms_id, r.object());
    max_count = ctx.n() * level.prime_count;
    if (pt.coeff_count != max_count) {
      r.fail("coefficient count " + str(pt.coeff_count) + " does not match N*k = " + str(max_count) +
             " for an NTT-form plaintext");
    }
  } else if (pt.coeff_count > max_count) {
    r.fail("coefficient count " + str(pt.coeff_count) + " exceeds N = " + str(max_count));
  }
  const std::uint64_t count = read_dynarray_count(r, "coefficient");
  if (count != pt.coeff_count) {
    r.fail("array holds " + str(count) + " coefficients but coefficient count is " + str(pt.coeff_count));
  }
  if (count > r.remaining() / 8) r.fail("truncated: " + str(count) + " coefficients, " + str(r.remaining()) + " bytes left");
  pt.data.resize(count);
  r.u64_array(pt.data, "coefficients");
  check_plaintext(ctx, pt, r.object());
}

void write_plaintext_members(ByteWriter& w, Version v, const PlaintextData& pt) {
  for (auto x : pt.parms_id) w.u64(x);
  w.u64(pt.coeff_count);
  w.f64(pt.scale);
  write_dynarray(w, v, pt.data);
}

// ---- key-switching keys --------------------------------------------------

enum class KsKind { relin, galois };

void read_kswitch_members(ByteReader& r, const Context& ctx, KSwitchKeysData& ks, KsKind kind,
                          const ReadOptions& opt) {
  read_parms_id(r, ks.parms_id);
  if (ks.parms_id != ctx.key_level().parms_id) {
    r.fail("parms_id " + to_hex(ks.parms_id) + " is not the key level " + to_hex(ctx.key_level().parms_id));
  }
  if (!ctx.using_keyswitching()) r.fail("these parameters have a single prime and cannot use key switching");
  const std::uint64_t dim1 = r.u64("key count (dim1)");
  if (kind == KsKind::relin && (dim1 < 1 || dim1 > opt.max_relin_powers)) {
    r.fail("relinearization key count " + str(dim1) + " is not in 1.." + str(opt.max_relin_powers));
  }
  if (kind == KsKind::galois && dim1 != ctx.n()) r.fail("Galois key table has " + str(dim1) + " entries (expected N = " + str(ctx.n()) + ")");
  const std::uint64_t l = ctx.key_prime_count() - 1;
  const std::uint64_t k = ctx.key_prime_count();
  ks.keys.assign(dim1, {});
  std::size_t nonempty = 0;
  for (std::uint64_t e = 0; e < dim1; ++e) {
    const std::uint64_t dim2 = r.u64("key " + str(e) + " component count (dim2)");
    if (dim2 == 0) continue;
    if (dim2 != l) r.fail("key " + str(e) + " has " + str(dim2) + " components (expected 0 or L = " + str(l) + ")");
    if (kind == KsKind::galois && ++nonempty > galois_key_limit(ctx.n(), opt)) {
      r.fail("more than " + str(galois_key_limit(ctx.n(), opt)) +
             " Galois keys (the limit for these parameters; raise ReadOptions::max_galois_keys)");
    }
    // Each component is at least a seeded public key; check before allocating.
    if (r.remaining() / dim2 < seeded_ciphertext_size(ctx.n(), k)) {
      r.fail("truncated: key " + str(e) + " needs " + str(dim2) + " public keys, " + str(r.remaining()) + " bytes left");
    }
    ks.keys[e].resize(dim2);
    for (std::uint64_t c = 0; c < dim2; ++c) {
      const std::size_t at = r.position();
      const Header h = read_nested_header(r, "key " + str(e) + " component " + str(c) + " public key");
      read_ciphertext_members(r, ctx, ks.keys[e][c].ct, CiphertextRole::public_key);
      const std::uint64_t got = r.position() - at;
      if (h.size != got) {
        r.fail("key " + str(e) + " component " + str(c) + " public key claims size " + str(h.size) + " but holds " +
               str(got) + " bytes");
      }
    }
  }
}

void check_kswitch(const Context& ctx, const KSwitchKeysData& ks, KsKind kind, std::string_view object) {
  if (ks.parms_id != ctx.key_level().parms_id) fail(object, "parms_id is not the key level");
  if (!ctx.using_keyswitching()) fail(object, "these parameters cannot use key switching");
  if (kind == KsKind::galois && ks.keys.size() != ctx.n()) {
    fail(object, "Galois key table has " + str(ks.keys.size()) + " entries (expected N = " + str(ctx.n()) + ")");
  }
  if (kind == KsKind::relin && (ks.keys.empty() || ks.keys.size() > kCiphertextSizeMax - 2)) {
    fail(object, "relinearization key count " + str(ks.keys.size()) + " out of range");
  }
  for (std::size_t e = 0; e < ks.keys.size(); ++e) {
    if (!ks.keys[e].empty() && ks.keys[e].size() != ctx.key_prime_count() - 1) {
      fail(object, "key " + str(e) + " has " + str(ks.keys[e].size()) + " components (expected L)");
    }
    for (const auto& pk : ks.keys[e]) {
      check_ciphertext(ctx, pk.ct, CiphertextRole::public_key, object);
      check_seed_matches(ctx, pk.ct, object);
    }
  }
}

std::vector<std::uint8_t> write_kswitch(const Context& ctx, const KSwitchKeysData& ks, KsKind kind,
                                        const WriteOptions& opt, std::string_view object) {
  check_kswitch(ctx, ks, kind, object);
  ByteWriter w;
  begin_object(w, opt.version);
  for (auto x : ks.parms_id) w.u64(x);
  w.u64(ks.keys.size());
  for (const auto& entry : ks.keys) {
    w.u64(entry.size());
    for (const auto& pk : entry) {
      write_nested_header(w, opt.version, ciphertext_record_size(pk.ct));
      write_ciphertext_members(w, opt.version, ctx, pk.ct);
    }
  }
  return finish_object(std::move(w), opt);
}

}  // namespace

// ---- checks --------------------------------------------------------------

void check_ciphertext(const Context& ctx, const CiphertextData& ct, CiphertextRole role, std::string_view object) {
  const Level& level = find_level(ctx, ct.parms_id, object);
  const bool key_level_only = level.chain_index == 0 && ctx.levels().size() > 1;
  if (role == CiphertextRole::public_key) {
    if (level.chain_index != 0) fail(object, "public key is not at the key level");
    if (ct.size != 2) fail(object, "public key has size " + str(ct.size) + " (expected 2)");
    if (!ct.is_ntt_form) fail(object, "public key is not in NTT form");
    if (ct.scale != 1.0) fail(object, "public key scale is " + std::to_string(ct.scale) + " (expected 1)");
    if (ct.correction_factor != 1) fail(object, "public key correction factor is " + str(ct.correction_factor) + " (expected 1)");
  } else {
    if (key_level_only) fail(object, "parms_id is the key level, where only keys live (expected a data level)");
    const bool want_ntt = ctx.scheme() != Scheme::bfv;
    if (ct.is_ntt_form != want_ntt) {
      fail(object, std::string(to_string(ctx.scheme())) + " ciphertexts must be in " +
                       (want_ntt ? "NTT form" : "coefficient form") + " (is_ntt_form = " + str(ct.is_ntt_form) + ")");
    }
    check_scale(ctx, level, ct.scale, object);
    if (ctx.scheme() == Scheme::bgv) {
      if (ct.correction_factor == 0 || ct.correction_factor >= ctx.parms().plain_modulus) {
        fail(object, "BGV correction factor " + str(ct.correction_factor) + " is not in 1..t-1");
      }
    } else if (ct.correction_factor != 1) {
      fail(object, "correction factor is " + str(ct.correction_factor) + " (must be 1 for BFV and CKKS)");
    }
  }
  if (ct.n != ctx.n()) fail(object, "poly modulus degree " + str(ct.n) + " does not match N = " + str(ctx.n()));
  if (ct.prime_count != level.prime_count) {
    fail(object, "coefficient prime count " + str(ct.prime_count) + " does not match the level's " + str(level.prime_count));
  }
  if (ct.size < kCiphertextSizeMin || ct.size > kCiphertextSizeMax) fail(object, "size " + str(ct.size) + " out of range");
  if (ct.data.size() != ct.size * ct.n * ct.prime_count) {
    fail(object, "coefficient count " + str(ct.data.size()) + " does not match N*k*size = " +
                     str(ct.size * ct.n * ct.prime_count));
  }
  check_ranges(ct.data, ctx.primes(level), ct.n, object, "coefficient");
}

void check_plaintext(const Context& ctx, const PlaintextData& pt, std::string_view object) {
  if (pt.data.size() != pt.coeff_count) {
    fail(object, "holds " + str(pt.data.size()) + " coefficients but coefficient count is " + str(pt.coeff_count));
  }
  if (pt.parms_id == kZeroParmsId) {
    if (ctx.scheme() == Scheme::ckks) fail(object, "CKKS plaintexts must be in NTT form (parms_id is zero)");
    if (pt.coeff_count > ctx.n()) fail(object, "coefficient count " + str(pt.coeff_count) + " exceeds N = " + str(ctx.n()));
    if (pt.scale != 1.0) fail(object, "plaintext scale is " + std::to_string(pt.scale) + " (must be exactly 1)");
    const std::uint64_t t = ctx.parms().plain_modulus;
    for (std::size_t i = 0; i < pt.data.size(); ++i) {
      if (pt.data[i] >= t) {
        fail(object, "coefficient " + str(i) + " = " + str(pt.data[i]) + " is not reduced modulo t = " + str(t));
      }
    }
    return;
  }
  const Level& level = find_level(ctx, pt.parms_id, object);
  if (pt.coeff_count != ctx.n() * level.prime_count) {
    fail(object, "coefficient count " + str(pt.coeff_count) + " does not match N*k = " + str(ctx.n() * level.prime_count));
  }
  if (ctx.scheme() == Scheme::ckks) {
    if (!std::isfinite(pt.scale) || pt.scale <= 0) fail(object, "CKKS plaintext scale " + std::to_string(pt.scale) + " is not positive");
  }
  check_ranges(pt.data, ctx.primes(level), ctx.n(), object, "coefficient");
}

void expand_seed(const Context& ctx, const Level& level, const PrngInfo& seed, std::span<std::uint64_t> c1) {
  Prng prng(seed);
  sample_uniform(prng, ctx.primes(level), ctx.n(), c1);
}

// ---- readers -------------------------------------------------------------

Loaded<CiphertextData> read_ciphertext(const Context& ctx, std::span<const std::uint8_t> bytes, const ReadOptions& opt) {
  constexpr std::string_view obj = "ciphertext";
  const auto& top = ctx.first_data_level();
  Envelope e = open_envelope(bytes, obj, bound_or(opt.max_size, ciphertext_size(kCiphertextSizeMax, ctx.n(), top.prime_count)));
  check_consumed(e, bytes, opt, obj);
  Loaded<CiphertextData> out{{}, e.header, e.consumed};
  ByteReader r(e.body, std::string(obj));
  read_ciphertext_members(r, ctx, out.value, CiphertextRole::data);
  r.expect_end();
  return out;
}

Loaded<PlaintextData> read_plaintext(const Context& ctx, std::span<const std::uint8_t> bytes, const ReadOptions& opt) {
  constexpr std::string_view obj = "plaintext";
  Envelope e = open_envelope(bytes, obj, bound_or(opt.max_size, plaintext_size(ctx.n() * ctx.key_prime_count())));
  check_consumed(e, bytes, opt, obj);
  Loaded<PlaintextData> out{{}, e.header, e.consumed};
  ByteReader r(e.body, std::string(obj));
  read_plaintext_members(r, ctx, out.value);
  r.expect_end();
  return out;
}

namespace {

// A secret key is ternary (SEAL and hecnn sample s with coefficients in {-1, 0, 1}):
// every coefficient, taken back from the NTT form of each prime, is 0, 1 or q_j - 1,
// the same value for every prime, and not all are zero. Uniform-random or all-zero
// "keys" are refused. Cost: one inverse NTT per prime.
void check_ternary_secret(const Context& ctx, const std::vector<std::uint64_t>& data, ByteReader& r) {
  const std::size_t n = ctx.n(), k = ctx.key_prime_count();
  if (data.size() != n * k) r.fail("secret key data does not hold N * K words");
  math::SecretVector<int> first(n, 0);                // the key's coefficients: wiped on release
  math::SecretVector<std::uint64_t> coeffs(n);
  bool nonzero = false;
  for (std::size_t j = 0; j < k; ++j) {
    const std::uint64_t q = ctx.parms().coeff_modulus[j];
    const math::NttTables tables(n, math::Modulus(q));
    std::copy(data.begin() + std::ptrdiff_t(j * n), data.begin() + std::ptrdiff_t((j + 1) * n), coeffs.begin());
    math::ntt_inverse(coeffs.data(), tables);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t v = coeffs[i];
      const int c = v == 0 ? 0 : v == 1 ? 1 : v == q - 1 ? -1 : 2;
      if (c == 2) r.fail("coefficient " + std::to_string(i) + " is not in {-1, 0, 1}: not a ternary secret key");
      if (j == 0) first[i] = c;
      else if (first[i] != c) r.fail("coefficient " + std::to_string(i) + " differs between primes: not a secret key");
      nonzero |= c != 0;
    }
  }
  if (!nonzero) r.fail("every coefficient is zero: not a secret key");
}

}  // namespace

Loaded<SecretKeyData> read_secret_key(const Context& ctx, std::span<const std::uint8_t> bytes, const ReadOptions& opt) {
  constexpr std::string_view obj = "secret key";
  Envelope e = open_envelope(bytes, obj, bound_or(opt.max_size, secret_key_size(ctx.n(), ctx.key_prime_count())));
  struct WipeOnExit {  // a compressed key's inflated copy, whether reading succeeds or not
    std::vector<std::uint8_t>& v;
    ~WipeOnExit() { math::secure_wipe(v); }
  } wipe{e.inflated};
  check_consumed(e, bytes, opt, obj);
  Loaded<SecretKeyData> out{{}, e.header, e.consumed};
  ByteReader r(e.body, std::string(obj));
  read_plaintext_members(r, ctx, out.value.plain);
  r.expect_end();
  if (out.value.plain.parms_id != ctx.key_level().parms_id) r.fail("parms_id is not the key level");
  check_ternary_secret(ctx, out.value.plain.data, r);
  return out;
}

Loaded<PublicKeyData> read_public_key(const Context& ctx, std::span<const std::uint8_t> bytes, const ReadOptions& opt) {
  constexpr std::string_view obj = "public key";
  Envelope e = open_envelope(bytes, obj, bound_or(opt.max_size, public_key_size(ctx.n(), ctx.key_prime_count(), false)));
  check_consumed(e, bytes, opt, obj);
  Loaded<PublicKeyData> out{{}, e.header, e.consumed};
  ByteReader r(e.body, std::string(obj));
  read_ciphertext_members(r, ctx, out.value.ct, CiphertextRole::public_key);
  r.expect_end();
  return out;
}

Loaded<RelinKeysData> read_relin_keys(const Context& ctx, std::span<const std::uint8_t> bytes, const ReadOptions& opt) {
  constexpr std::string_view obj = "relin keys";
  const std::uint64_t n = ctx.n(), k = ctx.key_prime_count();
  const std::uint64_t bound = relin_keys_bound(n, k, opt.max_relin_powers);
  Envelope e = open_envelope(bytes, obj, bound_or(opt.max_size, bound));
  check_consumed(e, bytes, opt, obj);
  Loaded<RelinKeysData> out{{}, e.header, e.consumed};
  ByteReader r(e.body, std::string(obj));
  read_kswitch_members(r, ctx, out.value.ks, KsKind::relin, opt);
  r.expect_end();
  return out;
}

Loaded<GaloisKeysData> read_galois_keys(const Context& ctx, std::span<const std::uint8_t> bytes, const ReadOptions& opt) {
  constexpr std::string_view obj = "galois keys";
  const std::uint64_t n = ctx.n(), k = ctx.key_prime_count();
  Envelope e = open_envelope(bytes, obj, bound_or(opt.max_size, galois_keys_size(n, k, galois_key_limit(n, opt), false)));
  check_consumed(e, bytes, opt, obj);
  Loaded<GaloisKeysData> out{{}, e.header, e.consumed};
  ByteReader r(e.body, std::string(obj));
  read_kswitch_members(r, ctx, out.value.ks, KsKind::galois, opt);
  r.expect_end();
  return out;
}

std::size_t default_galois_key_count(std::uint64_t n) {
  return 2 * static_cast<std::size_t>(std::bit_width(n / 2) - 1) + 1;
}

std::size_t galois_key_limit(std::uint64_t n, const ReadOptions& opt) {
  return opt.max_galois_keys ? opt.max_galois_keys : default_galois_key_count(n);
}

std::uint64_t largest_object_size(const Context& ctx, const ReadOptions& opt) {
  const std::uint64_t n = ctx.n(), k = ctx.key_prime_count();
  std::uint64_t m = std::max({ciphertext_size(kCiphertextSizeMax, n, ctx.first_data_level().prime_count),
                              plaintext_size(n * k), secret_key_size(n, k), public_key_size(n, k, false)});
  if (ctx.using_keyswitching()) {
    m = std::max(m, relin_keys_bound(n, k, opt.max_relin_powers));
    m = std::max(m, galois_keys_size(n, k, galois_key_limit(n, opt), false));
  }
  return opt.max_size ? std::min(opt.max_size, m) : m;
}

// ---- writers -------------------------------------------------------------

std::vector<std::uint8_t> write_ciphertext(const Context& ctx, const CiphertextData& ct, const WriteOptions& opt) {
  check_ciphertext(ctx, ct, CiphertextRole::data, "ciphertext");
  check_seed_matches(ctx, ct, "ciphertext");
  ByteWriter w;
  w.reserve(ciphertext_record_size(ct));
  begin_object(w, opt.version);
  write_ciphertext_members(w, opt.version, ctx, ct);
  return finish_object(std::move(w), opt);
}

std::vector<std::uint8_t> write_plaintext(const Context& ctx, const PlaintextData& pt, const WriteOptions& opt) {
  check_plaintext(ctx, pt, "plaintext");
  ByteWriter w;
  w.reserve(plaintext_size(pt.coeff_count));
  begin_object(w, opt.version);
  write_plaintext_members(w, opt.version, pt);
  return finish_object(std::move(w), opt);
}

std::vector<std::uint8_t> write_secret_key(const Context& ctx, const SecretKeyData& sk, const WriteOptions& opt) {
  check_plaintext(ctx, sk.plain, "secret key");
  if (sk.plain.parms_id != ctx.key_level().parms_id) fail("secret key", "parms_id is not the key level");
  ByteWriter w;
  begin_object(w, opt.version);
  write_plaintext_members(w, opt.version, sk.plain);
  return finish_object(std::move(w), opt);
}

std::vector<std::uint8_t> write_public_key(const Context& ctx, const PublicKeyData& pk, const WriteOptions& opt) {
  check_ciphertext(ctx, pk.ct, CiphertextRole::public_key, "public key");
  check_seed_matches(ctx, pk.ct, "public key");
  ByteWriter w;
  begin_object(w, opt.version);
  write_ciphertext_members(w, opt.version, ctx, pk.ct);
  return finish_object(std::move(w), opt);
}

std::vector<std::uint8_t> write_relin_keys(const Context& ctx, const RelinKeysData& rk, const WriteOptions& opt) {
  return write_kswitch(ctx, rk.ks, KsKind::relin, opt, "relin keys");
}

std::vector<std::uint8_t> write_galois_keys(const Context& ctx, const GaloisKeysData& gk, const WriteOptions& opt) {
  return write_kswitch(ctx, gk.ks, KsKind::galois, opt, "galois keys");
}

}  // namespace hecnn::wire
