// The README's library example: encrypt three integers with BFV, square them on the
// ciphertext, decrypt. Built and run by ctest (label fast), so the README stays true.
#include <cstdio>

#include "fhe/bfv/batch_encoder.h"
#include "fhe/bfv/encryptor.h"
#include "fhe/bfv/evaluator.h"
#include "fhe/bfv/presets.h"
#include "fhe/rlwe/keygen.h"
using namespace hecnn;

int main() {
  auto ctx = rlwe::Context::create(bfv::preset_n8192_q218(1032193));  // validated, 128-bit
  auto tables = bfv::make_tables(ctx);
  math::SystemPrng prng;                                               // OS-seeded CSPRNG
  rlwe::KeyGenerator keygen(ctx, prng);
  bfv::BatchEncoder encoder(ctx);
  bfv::Encryptor enc(tables, keygen.create_public_key());
  bfv::Decryptor dec(tables, keygen.secret_key());
  bfv::Evaluator eval(tables);                                          // thread-safe, const

  auto ct = enc.encrypt(encoder.encode({1, 2, 3}), prng);
  auto sq = eval.multiply(ct, ct);
  eval.relinearize_inplace(sq, keygen.create_relin_keys());
  auto slots = encoder.decode(dec.decrypt(sq));                         // 1, 4, 9, 0, ...

  std::printf("%llu %llu %llu %llu\n", static_cast<unsigned long long>(slots[0]),
              static_cast<unsigned long long>(slots[1]), static_cast<unsigned long long>(slots[2]),
              static_cast<unsigned long long>(slots[3]));
  return slots[0] == 1 && slots[1] == 4 && slots[2] == 9 && slots[3] == 0 ? 0 : 1;
}
