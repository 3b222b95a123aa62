#include "fhe/wire/params.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <map>
#include <stdexcept>

#include "fhe/wire/error.h"
#include "math/he_standard.h"
#include "fhe/wire/prng.h"
#include "fhe/wire/records.h"

namespace hecnn::wire {

namespace {
constexpr std::string_view kObject = "parameters";

std::uint64_t mulmod(std::uint64_t a, std::uint64_t b, std::uint64_t m) {
  return static_cast<std::uint64_t>(static_cast<unsigned __int128>(a) * b % m);
}
std::uint64_t powmod(std::uint64_t a, std::uint64_t e, std::uint64_t m) {
  std::uint64_t r = 1 % m;
  a %= m;
  while (e) {
    if (e & 1) r = mulmod(r, a, m);
    a = mulmod(a, a, m);
    e >>= 1;
  }
  return r;
}
std::uint64_t gcd(std::uint64_t a, std::uint64_t b) {
  while (b) {
    a %= b;
    std::swap(a, b);
  }
  return a;
}
}  // namespace

std::string_view to_string(Scheme s) {
  switch (s) {
    case Scheme::none: return "none";
    case Scheme::bfv: return "BFV";
    case Scheme::ckks: return "CKKS";
    case Scheme::bgv: return "BGV";
  }
  return "unknown";
}

std::string to_hex(const ParmsId& id) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "%016llx%016llx%016llx%016llx",
                static_cast<unsigned long long>(id[0]), static_cast<unsigned long long>(id[1]),
                static_cast<unsigned long long>(id[2]), static_cast<unsigned long long>(id[3]));
  return buf;
}

ParmsId compute_parms_id(const EncryptionParameters& p) {
  std::vector<std::uint64_t> words;
  words.reserve(p.coeff_modulus.size() + 3);
  words.push_back(static_cast<std::uint64_t>(p.scheme));
  words.push_back(p.poly_modulus_degree);
  words.insert(words.end(), p.coeff_modulus.begin(), p.coeff_modulus.end());
  words.push_back(p.plain_modulus);
  std::array<std::uint8_t, 32> digest;
  blake2b_256(digest, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(words.data()),
                                                     words.size() * 8));
  ParmsId id;
  std::memcpy(id.data(), digest.data(), 32);
  return id;
}

bool is_prime(std::uint64_t n) {
  if (n < 2) return false;
  for (std::uint64_t p : {2ull, 3ull, 5ull, 7ull, 11ull, 13ull, 17ull, 19ull, 23ull, 29ull, 31ull, 37ull}) {
    if (n % p == 0) return n == p;
  }
  std::uint64_t d = n - 1;
  int s = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    ++s;
  }
  // Deterministic for all 64-bit n with these bases.
  for (std::uint64_t a : {2ull, 3ull, 5ull, 7ull, 11ull, 13ull, 17ull, 19ull, 23ull, 29ull, 31ull, 37ull}) {
    std::uint64_t x = powmod(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int r = 1; r < s; ++r) {
      x = mulmod(x, x, n);
      if (x == n - 1) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

int max_coeff_modulus_bits_128(std::uint64_t n) { return math::max_coeff_bits_128(n); }

int product_bit_count(std::span<const std::uint64_t> primes) {
  std::vector<std::uint64_t> acc{1};
  for (std::uint64_t q : primes) {
    unsigned __int128 carry = 0;
    for (auto& w : acc) {
      const unsigned __int128 t = static_cast<unsigned __int128>(w) * q + carry;
      w = static_cast<std::uint64_t>(t);
      carry = t >> 64;
    }
    if (carry) acc.push_back(static_cast<std::uint64_t>(carry));
  }
  while (acc.size() > 1 && acc.back() == 0) acc.pop_back();
  return static_cast<int>(64 * (acc.size() - 1) + std::bit_width(acc.back()));
}

namespace {
// Whether t < product(primes).
bool less_than_product(std::uint64_t t, std::span<const std::uint64_t> primes) {
  unsigned __int128 prod = 1;
  for (std::uint64_t q : primes) {
    prod *= q;
    if (prod > t) return true;
  }
  return prod > t;
}
}  // namespace

void validate(const EncryptionParameters& p, const ValidationOptions& opt) {
  auto bad = [](const std::string& m) { fail(kObject, m); };
  if (p.scheme != Scheme::bfv && p.scheme != Scheme::ckks && p.scheme != Scheme::bgv) {
    bad("scheme " + std::to_string(static_cast<int>(p.scheme)) + " is not supported (expected 1 BFV, 2 CKKS or 3 BGV)");
  }
  const std::uint64_t n = p.poly_modulus_degree;
  if (n < 1024 || n > 32768 || !std::has_single_bit(n)) {
    bad("poly modulus degree " + std::to_string(n) + " is not a power of two in 1024..32768");
  }
  const std::size_t k = p.coeff_modulus.size();
  if (k == 0 || k > kMaxPrimeCount) {
    bad("coefficient modulus has " + std::to_string(k) + " primes (expected 1.." + std::to_string(kMaxPrimeCount) + ")");
  }
  for (std::size_t j = 0; j < k; ++j) {
    const std::uint64_t q = p.coeff_modulus[j];
    const std::string name = "coefficient prime q_" + std::to_string(j) + " = " + std::to_string(q);
    const int bits = std::bit_width(q);
    if (bits < 2 || bits > 60) bad(name + " has " + std::to_string(bits) + " bits (expected 2..60)");
    if (q % (2 * n) != 1) bad(name + " is not 1 mod 2N = " + std::to_string(2 * n));
    if (!is_prime(q)) bad(name + " is not prime");
    for (std::size_t i = 0; i < j; ++i) {
      if (gcd(p.coeff_modulus[i], q) != 1) {
        bad(name + " is not coprime to q_" + std::to_string(i) + " = " + std::to_string(p.coeff_modulus[i]));
      }
    }
  }
  const int total_bits = product_bit_count(p.coeff_modulus);
  if (opt.enforce_128bit_security && total_bits > max_coeff_modulus_bits_128(n)) {
    bad("coefficient modulus has " + std::to_string(total_bits) + " bits, above the 128-bit security limit of " +
        std::to_string(max_coeff_modulus_bits_128(n)) + " bits for N = " + std::to_string(n));
  }
  const std::uint64_t t = p.plain_modulus;
  if (p.scheme == Scheme::ckks) {
    if (t != 0) bad("CKKS plain modulus must be 0, got " + std::to_string(t));
    return;
  }
  const int tbits = std::bit_width(t);
  if (tbits < 2 || tbits > 60) bad("plain modulus " + std::to_string(t) + " has " + std::to_string(tbits) + " bits (expected 2..60)");
  for (std::size_t j = 0; j < k; ++j) {
    if (gcd(t, p.coeff_modulus[j]) != 1) {
      bad("plain modulus " + std::to_string(t) + " is not coprime to q_" + std::to_string(j));
    }
  }
  const std::size_t data_primes = k > 1 ? k - 1 : 1;
  if (!less_than_product(t, std::span<const std::uint64_t>(p.coeff_modulus).first(data_primes))) {
    bad("plain modulus " + std::to_string(t) + " is not below the first data level's coefficient modulus");
  }
}

std::vector<std::uint8_t> write_parameters(const EncryptionParameters& p, const WriteOptions& opt) {
  ByteWriter w;
  begin_object(w, opt.version);
  w.u8(static_cast<std::uint8_t>(p.scheme));
  w.u64(p.poly_modulus_degree);
  w.u64(p.coeff_modulus.size());
  for (std::uint64_t q : p.coeff_modulus) write_modulus(w, opt.version, q);
  write_modulus(w, opt.version, p.plain_modulus);
  return finish_object(std::move(w), opt);
}

LoadedParameters read_parameters(std::span<const std::uint8_t> bytes, const ValidationOptions& opt) {
  Envelope e = open_envelope(bytes, kObject, parameters_size(kMaxPrimeCount));
  if (e.consumed != bytes.size()) {
    fail(kObject, std::to_string(bytes.size() - e.consumed) + " trailing bytes after the object");
  }
  ByteReader r(e.body, std::string(kObject));
  LoadedParameters out;
  out.header = e.header;
  auto& p = out.parms;
  const auto scheme = r.u8("scheme");
  if (scheme > 3) r.fail("scheme " + std::to_string(scheme) + " is not a SEAL scheme (0..3)");
  p.scheme = static_cast<Scheme>(scheme);
  p.poly_modulus_degree = r.u64("poly modulus degree");
  const std::uint64_t k = r.u64("coefficient prime count");
  if (k > kMaxPrimeCount) {
    r.fail("coefficient prime count " + std::to_string(k) + " exceeds " + std::to_string(kMaxPrimeCount));
  }
  p.coeff_modulus.resize(k);
  for (std::uint64_t j = 0; j < k; ++j) p.coeff_modulus[j] = read_modulus(r, "coefficient prime q_" + std::to_string(j));
  p.plain_modulus = read_modulus(r, "plain");
  r.expect_end();
  const std::uint64_t expect_size = parameters_size(k);
  if (e.header.compression == Compression::none && e.header.size != expect_size) {
    r.fail("header size " + std::to_string(e.header.size) + " does not match " + std::to_string(expect_size));
  }
  validate(p, opt);
  return out;
}

Context::Context(EncryptionParameters parms, const ValidationOptions& opt) : parms_(std::move(parms)) {
  validate(parms_, opt);
  const std::size_t k = parms_.coeff_modulus.size();
  EncryptionParameters level = parms_;
  levels_.push_back(Level{compute_parms_id(level), k, 0});
  for (std::size_t c = k - 1; c >= 1; --c) {
    level.coeff_modulus.resize(c);
    if (parms_.scheme != Scheme::ckks &&
        !less_than_product(parms_.plain_modulus, level.coeff_modulus)) {
      break;
    }
    levels_.push_back(Level{compute_parms_id(level), c, levels_.size()});
  }
}

const Level* Context::find(const ParmsId& id) const {
  for (const auto& l : levels_) {
    if (l.parms_id == id) return &l;
  }
  return nullptr;
}

bool Context::batching() const {
  const std::uint64_t t = parms_.plain_modulus;
  return parms_.scheme != Scheme::ckks && is_prime(t) && t % (2 * n()) == 1;
}

namespace {
std::vector<std::uint64_t> largest_primes(std::uint64_t n, int bits, std::size_t count) {
  if (bits < 2 || bits > 61) throw std::invalid_argument("prime bit size out of range");
  const std::uint64_t m = 2 * n;
  std::vector<std::uint64_t> out;
  const std::uint64_t top = (std::uint64_t{1} << bits);
  // Largest value = 1 mod 2N strictly below 2^bits.
  std::uint64_t v = ((top - 1) / m) * m + 1;
  if (v >= top) v -= m;
  const std::uint64_t floor = std::uint64_t{1} << (bits - 1);
  while (out.size() < count) {
    if (v <= floor || v < m) throw std::invalid_argument("not enough primes of " + std::to_string(bits) + " bits = 1 mod 2N");
    if (is_prime(v)) out.push_back(v);
    v -= m;
  }
  return out;
}
}  // namespace

std::vector<std::uint64_t> create_coeff_modulus(std::uint64_t n, std::span<const int> bit_sizes) {
  std::map<int, std::size_t> counts;
  for (int b : bit_sizes) ++counts[b];
  std::map<int, std::vector<std::uint64_t>> pools;
  for (auto [b, c] : counts) pools[b] = largest_primes(n, b, c);
  std::map<int, std::size_t> used;
  std::vector<std::uint64_t> out;
  for (int b : bit_sizes) out.push_back(pools[b][used[b]++]);
  return out;
}

std::vector<std::uint64_t> bfv_default_coeff_modulus(std::uint64_t n) {
  std::vector<int> bits;
  switch (n) {
    case 1024: bits = {27}; break;
    case 2048: bits = {54}; break;
    case 4096: bits = {36, 36, 37}; break;
    case 8192: bits = {43, 43, 44, 44, 44}; break;
    case 16384: bits = {48, 48, 48, 49, 49, 49, 49, 49, 49}; break;
    case 32768: bits = std::vector<int>(16, 55); break;
    default: throw std::invalid_argument("no BFV default for N = " + std::to_string(n));
  }
  return create_coeff_modulus(n, bits);
}

std::uint64_t batching_plain_modulus(std::uint64_t n, int bits) {
  return largest_primes(n, bits, 1).front();
}

}  // namespace hecnn::wire
