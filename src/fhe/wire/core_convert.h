// Conversion between the wire structs (objects.h) and the HE core's types
// (fhe/rlwe). The core follows SEAL's layout and conventions (special prime
// last, SEAL's NTT order, key-switching semantics), so conversion copies data
// and fills in the metadata SEAL stores (parms_id of the level, the BGV
// correction factor, 1 for BFV and CKKS). Conversions to the core run the wire checks first, so a
// converted object is always well formed.
//
//   auto loaded = wire::read_parameters(bytes);
//   wire::Context wctx(loaded.parms);
//   rlwe::ContextPtr core = wire::make_core_context(wctx);
//   rlwe::Ciphertext ct = wire::to_core(wctx, wire::read_ciphertext(wctx, file).value);
//   auto out = wire::write_ciphertext(wctx, wire::to_wire(wctx, ct), {loaded.header.version});
//
// Seeded (half-size) objects: `reseed` turns a symmetric size-2 encryption
// (a secret-key ciphertext or any key part) into one whose c1 is the
// expansion of a fresh seed, with the same c0 + c1*s (same message, same
// noise): c0 += (c1 - a') * s, c1 = a'. Only the secret-key owner can do it.
#pragma once

#include "fhe/rlwe/ciphertext.h"
#include "fhe/rlwe/params.h"
#include "fhe/wire/objects.h"

namespace hecnn::wire {

rlwe::ParamsLiteral to_core(const EncryptionParameters& p, bool enforce_128bit_security = true);
EncryptionParameters to_wire(const rlwe::ParamsLiteral& lit);
// The core Context for the same parameters (throws std::invalid_argument if the
// core refuses them).
rlwe::ContextPtr make_core_context(const Context& wctx, bool enforce_128bit_security = true);

CiphertextData to_wire(const Context& wctx, const rlwe::Ciphertext& ct);
rlwe::Ciphertext to_core(const Context& wctx, const CiphertextData& ct);

SecretKeyData to_wire(const Context& wctx, const rlwe::SecretKey& sk);
rlwe::SecretKey to_core(const Context& wctx, const SecretKeyData& sk);

PublicKeyData to_wire(const Context& wctx, const rlwe::PublicKey& pk);
rlwe::PublicKey to_core(const Context& wctx, const PublicKeyData& pk);

RelinKeysData to_wire(const Context& wctx, const rlwe::RelinKeys& rk);
// Uses the s^2 key (index 0); keys for higher powers are ignored.
rlwe::RelinKeys to_core(const Context& wctx, const RelinKeysData& rk);

GaloisKeysData to_wire(const Context& wctx, const rlwe::GaloisKeys& gk);
rlwe::GaloisKeys to_core(const Context& wctx, const GaloisKeysData& gk);

// BFV plaintexts in coefficient form (N coefficients mod t).
PlaintextData bfv_plain_to_wire(const std::vector<std::uint64_t>& coeffs);
std::vector<std::uint64_t> bfv_plain_to_core(const Context& wctx, const PlaintextData& pt);

// Makes `ct` (size 2, symmetric: c0 + c1*s is small) seeded with a fresh seed
// from the operating system. Works in either form and at any level.
void reseed(const Context& wctx, const rlwe::Context& core, const rlwe::SecretKey& sk, CiphertextData& ct,
            PrngType type = PrngType::blake2xb);
void reseed(const Context& wctx, const rlwe::Context& core, const rlwe::SecretKey& sk, KSwitchKeysData& ks,
            PrngType type = PrngType::blake2xb);

}  // namespace hecnn::wire
