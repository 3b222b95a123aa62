#pragma once
namespace hecnn {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace hecnn
