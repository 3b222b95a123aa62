#include "math/secure.h"

#include <openssl/crypto.h>

namespace hecnn::math {

void secure_wipe(void* p, std::size_t bytes) {
  if (p && bytes) OPENSSL_cleanse(p, bytes);
}

}  // namespace hecnn::math
