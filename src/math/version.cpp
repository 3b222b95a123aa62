// Placeholder translation unit so hecnn_math always has one source.
namespace hecnn::math {
const char* version() { return "0.1.0"; }
}  // namespace hecnn::math
