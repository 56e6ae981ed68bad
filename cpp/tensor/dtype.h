// DType: the five element types and the dispatch macros that turn a runtime dtype into a C++ type.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tg {

enum class DType : uint8_t { Float32 = 0, Float64 = 1, Int32 = 2, Int64 = 3, Bool = 4 };

inline size_t itemsize(DType d) {
  switch (d) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int32: return 4;
    case DType::Int64: return 8;
    case DType::Bool: return 1;
  }
  return 0;
}

inline bool is_floating(DType d) { return d == DType::Float32 || d == DType::Float64; }
inline bool is_integer(DType d) { return d == DType::Int32 || d == DType::Int64; }

// TF's names ("float32") and the names TF uses in kernel error messages ("float", "double").
inline const char* dtype_name(DType d) {
  static const char* names[] = {"float32", "float64", "int32", "int64", "bool"};
  return names[static_cast<int>(d)];
}
inline const char* dtype_kernel_name(DType d) {
  static const char* names[] = {"float", "double", "int32", "int64", "bool"};
  return names[static_cast<int>(d)];
}

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };

}  // namespace tg

// TG_DISPATCH_FLOAT(dt, T, body): runs body with T bound to float or double.
#define TG_DISPATCH_FLOAT(DT, T, ...)                                            \
  switch (DT) {                                                                  \
    case ::tg::DType::Float32: { using T = float; __VA_ARGS__; break; }          \
    case ::tg::DType::Float64: { using T = double; __VA_ARGS__; break; }         \
    default: throw ::tg::TypeError(std::string("expected a float tensor, got ") + \
                                   ::tg::dtype_name(DT));                        \
  }

// TG_DISPATCH_NUMERIC: float32, float64, int32, int64.
#define TG_DISPATCH_NUMERIC(DT, T, ...)                                          \
  switch (DT) {                                                                  \
    case ::tg::DType::Float32: { using T = float; __VA_ARGS__; break; }          \
    case ::tg::DType::Float64: { using T = double; __VA_ARGS__; break; }         \
    case ::tg::DType::Int32: { using T = int32_t; __VA_ARGS__; break; }          \
    case ::tg::DType::Int64: { using T = int64_t; __VA_ARGS__; break; }          \
    default: throw ::tg::TypeError(std::string("expected a numeric tensor, got ") + \
                                   ::tg::dtype_name(DT));                        \
  }

#define TG_DISPATCH_ALL(DT, T, ...)                                              \
  switch (DT) {                                                                  \
    case ::tg::DType::Float32: { using T = float; __VA_ARGS__; break; }          \
    case ::tg::DType::Float64: { using T = double; __VA_ARGS__; break; }         \
    case ::tg::DType::Int32: { using T = int32_t; __VA_ARGS__; break; }          \
    case ::tg::DType::Int64: { using T = int64_t; __VA_ARGS__; break; }          \
    case ::tg::DType::Bool: { using T = bool; __VA_ARGS__; break; }              \
  }
