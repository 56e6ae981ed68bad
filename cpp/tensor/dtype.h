// DType: the element types, their scalar conversions (TF's cast rules), and the dispatch macros
// that turn a runtime dtype into a C++ type.
#pragma once
#include <cmath>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "tensor/errors.h"

namespace tg {

// The codes are shared with python/tapegrad/_dtypes.py. See Note [Narrow dtypes].
enum class DType : uint8_t {
  Float32 = 0,
  Float64 = 1,
  Int32 = 2,
  Int64 = 3,
  Bool = 4,
  UInt8 = 5,
  Int8 = 6,
  Int16 = 7,
  UInt16 = 8,
  UInt32 = 9,
  UInt64 = 10,
  Float16 = 11,
  BFloat16 = 12,
  Complex64 = 13,
  Complex128 = 14
};
constexpr int kNumDTypes = 15;
using complex64 = std::complex<float>;
using complex128 = std::complex<double>;

// Note [Narrow dtypes]: the kernels are written for the five core dtypes (float32, float64, int32,
// int64, bool). The other integer types and float16/bfloat16 are storage types: data movement
// (reshape, slicing, concat, gather, transpose, broadcast, select) works on their bytes, casts
// convert every pair directly, and arithmetic widens at the edge (ops/narrow.cpp): integers
// compute in int64 and wrap back, as TF's fixed-width kernels do; float16/bfloat16 compute in
// float32 and round back to nearest even, as TF's CPU kernels effectively do. Only the ops TF
// defines for a dtype accept it; the others raise TF's "Value for attr 'T' of uint8 is not in the
// list of allowed values". Gradients flow through every float dtype (is_differentiable): a VJP
// on float16/bfloat16 runs the same widening ops.

inline size_t itemsize(DType d) {
  switch (d) {
    case DType::Float32:
    case DType::Int32:
    case DType::UInt32: return 4;
    case DType::Float64:
    case DType::Int64:
    case DType::UInt64: return 8;
    case DType::Bool:
    case DType::UInt8:
    case DType::Int8: return 1;
    case DType::Int16:
    case DType::UInt16:
    case DType::Float16:
    case DType::BFloat16: return 2;
    case DType::Complex64: return 8;
    case DType::Complex128: return 16;
  }
  return 0;
}

// The core dtypes' kernels: is_floating is also "differentiable"; is_integer is int32/int64.
inline bool is_floating(DType d) { return d == DType::Float32 || d == DType::Float64; }
inline bool is_integer(DType d) { return d == DType::Int32 || d == DType::Int64; }
inline bool is_half(DType d) { return d == DType::Float16 || d == DType::BFloat16; }
inline bool is_narrow_int(DType d) { return int(d) >= int(DType::UInt8) && int(d) <= int(DType::UInt64); }
inline bool is_narrow(DType d) { return int(d) >= int(DType::UInt8) && int(d) <= int(DType::BFloat16); }
// Note [Complex dtypes]: complex64/complex128 have their own kernels (ops/complex.cpp) for the ops
// TF defines on them that tapegrad implements; kernels::binary/unary/reduce/matmul/cast send
// complex inputs there. Other ops raise TF's "Value for attr 'T' of complex64 is not in the list
// of allowed values". Gradients follow TF's convention: the conjugate of the Wirtinger derivative
// (rules multiply by conj(): See `cj` in derivatives.cpp).
inline bool is_complex(DType d) { return d == DType::Complex64 || d == DType::Complex128; }
inline bool is_any_float(DType d) { return is_floating(d) || is_half(d); }
// What tapes record and differentiate (TF's floating dtypes).
inline bool is_differentiable(DType d) { return is_any_float(d) || is_complex(d); }
inline bool is_any_int(DType d) { return is_integer(d) || is_narrow_int(d); }
inline bool is_unsigned(DType d) {
  return d == DType::UInt8 || d == DType::UInt16 || d == DType::UInt32 || d == DType::UInt64;
}

// TF's names ("float32") and the names TF uses in kernel error messages ("float", "double").
inline const char* dtype_name(DType d) {
  static const char* names[] = {"float32", "float64", "int32",    "int64",     "bool",
                                "uint8",   "int8",    "int16",    "uint16",    "uint32",
                                "uint64",  "float16", "bfloat16", "complex64", "complex128"};
  return names[static_cast<int>(d)];
}
inline const char* dtype_kernel_name(DType d) {
  static const char* names[] = {"float",  "double", "int32",  "int64", "bool",     "uint8",     "int8",      "int16",
                                "uint16", "uint32", "uint64", "half",  "bfloat16", "complex64", "complex128"};
  return names[static_cast<int>(d)];
}

// complex128's bytes, for code that only moves elements (TG_DISPATCH_BYTES).
struct alignas(16) bytes16 {
  uint64_t lo, hi;
  bool operator==(const bytes16& o) const { return lo == o.lo && hi == o.hi; }
  bool operator!=(int zero) const { return (lo | hi) != uint64_t(zero); }  // "nonzero": some byte is
};

// 16-bit floats as storage: the bits, converted through float.
struct half {
  uint16_t bits;
};
struct bfloat16 {
  uint16_t bits;
};

inline float to_float(half h) {
  _Float16 v;
  std::memcpy(&v, &h.bits, 2);
  return float(v);
}
inline half to_half(float f) {  // round to nearest even (the hardware conversion)
  _Float16 v = _Float16(f);
  half h;
  std::memcpy(&h.bits, &v, 2);
  return h;
}
inline float to_float(bfloat16 b) {
  uint32_t u = uint32_t(b.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline bfloat16 to_bfloat16(float f) {  // round to nearest even; NaN stays a (quiet) NaN
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return bfloat16{uint16_t((u >> 16) | 0x40u)};
  u += 0x7fffu + ((u >> 16) & 1u);
  return bfloat16{uint16_t(u >> 16)};
}

template <class T> struct dtype_of;
template <> struct dtype_of<float> {
  static constexpr DType value = DType::Float32;
};
template <> struct dtype_of<double> {
  static constexpr DType value = DType::Float64;
};
template <> struct dtype_of<int32_t> {
  static constexpr DType value = DType::Int32;
};
template <> struct dtype_of<int64_t> {
  static constexpr DType value = DType::Int64;
};
template <> struct dtype_of<bool> {
  static constexpr DType value = DType::Bool;
};
template <> struct dtype_of<uint8_t> {
  static constexpr DType value = DType::UInt8;
};
template <> struct dtype_of<int8_t> {
  static constexpr DType value = DType::Int8;
};
template <> struct dtype_of<int16_t> {
  static constexpr DType value = DType::Int16;
};
template <> struct dtype_of<uint16_t> {
  static constexpr DType value = DType::UInt16;
};
template <> struct dtype_of<uint32_t> {
  static constexpr DType value = DType::UInt32;
};
template <> struct dtype_of<uint64_t> {
  static constexpr DType value = DType::UInt64;
};
template <> struct dtype_of<half> {
  static constexpr DType value = DType::Float16;
};
template <> struct dtype_of<bfloat16> {
  static constexpr DType value = DType::BFloat16;
};
template <> struct dtype_of<complex64> {
  static constexpr DType value = DType::Complex64;
};
template <> struct dtype_of<complex128> {
  static constexpr DType value = DType::Complex128;
};
template <class T> struct is_complex_t : std::false_type {};
template <class R> struct is_complex_t<std::complex<R>> : std::true_type {};

// Note [Cast rules]: TF's CPU Cast is a C++ static_cast compiled for x86-64, so a float out of an
// integer type's range gives what the x86 truncating conversions give: CVTTSD2SI yields the
// "integer indefinite" value INT_MIN for NaN, infinities and out-of-range values. Types narrower
// than 32 bits go through int32 and wrap; uint32 goes through int64; uint64 through int64, with
// 2^63 subtracted first for values >= 2^63. Integers wrap modulo 2^bits; 16-bit floats go through
// float (so double -> half rounds twice, as Eigen does); any nonzero value is true.
inline int32_t cvtt32(double x) { return (x > -2147483649.0 && x < 2147483648.0) ? int32_t(x) : INT32_MIN; }
inline int64_t cvtt64(double x) {
  return (x >= -9223372036854775808.0 && x < 9223372036854775808.0) ? int64_t(x) : INT64_MIN;
}

template <class T> inline double as_double(T x) {  // a complex value: its real part
  if constexpr (std::is_same<T, half>::value || std::is_same<T, bfloat16>::value) return to_float(x);
  else if constexpr (is_complex_t<T>::value) return double(x.real());
  else return double(x);
}

template <class D, class S> inline D convert_real(S x);
// Complex casts as TF's: real -> complex has imaginary part 0; complex -> real keeps the real part
// (then casts it); complex -> bool is x != 0.
template <class D, class S> inline D convert(S x) {
  if constexpr (is_complex_t<D>::value && is_complex_t<S>::value) {
    return D(typename D::value_type(x.real()), typename D::value_type(x.imag()));
  } else if constexpr (is_complex_t<D>::value) {
    return D(typename D::value_type(as_double(x)), typename D::value_type(0));
  } else if constexpr (is_complex_t<S>::value) {
    if constexpr (std::is_same<D, bool>::value) return x != S(0);
    else return convert_real<D>(x.real());
  } else {
    return convert_real<D>(x);
  }
}

template <class D, class S> inline D convert_real(S x) {
  constexpr bool s_half = std::is_same<S, half>::value || std::is_same<S, bfloat16>::value;
  constexpr bool s_float = std::is_floating_point<S>::value || s_half;
  if constexpr (std::is_same<D, S>::value) {
    return x;
  } else if constexpr (std::is_same<D, bool>::value) {
    if constexpr (s_half) return to_float(x) != 0.0f;
    else return x != S(0);
  } else if constexpr (std::is_same<D, half>::value) {
    if constexpr (std::is_same<S, bfloat16>::value) return to_half(to_float(x));
    else return to_half(float(x));
  } else if constexpr (std::is_same<D, bfloat16>::value) {
    if constexpr (std::is_same<S, half>::value) return to_bfloat16(to_float(x));
    else return to_bfloat16(float(x));
  } else if constexpr (std::is_floating_point<D>::value) {
    if constexpr (s_half) return D(to_float(x));
    else return D(x);
  } else if constexpr (s_float) {  // float -> integer: Note [Cast rules]
    const double v = as_double(x);
    if constexpr (sizeof(D) < 4) return D(cvtt32(v));
    else if constexpr (std::is_same<D, int32_t>::value) return cvtt32(v);
    else if constexpr (std::is_same<D, uint32_t>::value) return D(cvtt64(v));
    else if constexpr (std::is_same<D, int64_t>::value) return cvtt64(v);
    else
      return v >= 9223372036854775808.0 ? D(uint64_t(cvtt64(v - 9223372036854775808.0)) ^ (uint64_t(1) << 63))
                                        : D(cvtt64(v));
  } else {
    return D(x);  // integer -> integer wraps
  }
}

// TF's error for a dtype outside an op's type constraint, the one place its wording lives:
// "Value for attr 'T' of <dtype> is not in the list of allowed values" + tail, where tail is what
// TF appends for that op (": float, double [Op:Qr]", "" ...).
inline InvalidArgument attr_t_error(DType d, const std::string& tail) {
  return InvalidArgument(std::string("Value for attr 'T' of ") + dtype_name(d) +
                         " is not in the list of allowed values" + tail);
}
// The common tail: "... allowed values for Abs [Op:Abs]".
inline InvalidArgument attr_t_error_for(DType d, const char* op) {
  return attr_t_error(d, std::string(" for ") + op + " [Op:" + op + "]");
}

}  // namespace tg

// The error a kernel raises for a dtype it has no code for: TF's wording for the narrow dtypes,
// the engine's (a TypeError naming `kind`) for the core ones.
#define TG_DISPATCH_FAIL(DT, KIND)                                                                 \
  do {                                                                                             \
    if (::tg::is_narrow(DT) || ::tg::is_complex(DT)) throw ::tg::attr_t_error(DT, "");             \
    throw ::tg::TypeError(std::string("expected a " KIND " tensor, got ") + ::tg::dtype_name(DT)); \
  } while (0)

// One case of a dispatch switch: body runs with T bound to CTYPE. The case lists below nest
// (float < numeric < core < every), so each dtype's line is written once.
#define TG_DTYPE_CASE(NAME, CTYPE, T, ...) \
  case ::tg::DType::NAME: {                \
    using T = CTYPE;                       \
    __VA_ARGS__;                           \
    break;                                 \
  }
#define TG_CASES_FLOAT(T, ...)                  \
  TG_DTYPE_CASE(Float32, float, T, __VA_ARGS__) \
  TG_DTYPE_CASE(Float64, double, T, __VA_ARGS__)
#define TG_CASES_NUMERIC(T, ...)                \
  TG_CASES_FLOAT(T, __VA_ARGS__)                \
  TG_DTYPE_CASE(Int32, int32_t, T, __VA_ARGS__) \
  TG_DTYPE_CASE(Int64, int64_t, T, __VA_ARGS__)
#define TG_CASES_CORE(T, ...) TG_CASES_NUMERIC(T, __VA_ARGS__) TG_DTYPE_CASE(Bool, bool, T, __VA_ARGS__)
#define TG_CASES_NARROW(T, ...)                      \
  TG_DTYPE_CASE(UInt8, uint8_t, T, __VA_ARGS__)      \
  TG_DTYPE_CASE(Int8, int8_t, T, __VA_ARGS__)        \
  TG_DTYPE_CASE(Int16, int16_t, T, __VA_ARGS__)      \
  TG_DTYPE_CASE(UInt16, uint16_t, T, __VA_ARGS__)    \
  TG_DTYPE_CASE(UInt32, uint32_t, T, __VA_ARGS__)    \
  TG_DTYPE_CASE(UInt64, uint64_t, T, __VA_ARGS__)    \
  TG_DTYPE_CASE(Float16, ::tg::half, T, __VA_ARGS__) \
  TG_DTYPE_CASE(BFloat16, ::tg::bfloat16, T, __VA_ARGS__)
#define TG_CASES_COMPLEX(T, ...)                            \
  TG_DTYPE_CASE(Complex64, ::tg::complex64, T, __VA_ARGS__) \
  TG_DTYPE_CASE(Complex128, ::tg::complex128, T, __VA_ARGS__)

// TG_DISPATCH_FLOAT(dt, T, body): runs body with T bound to float or double.
#define TG_DISPATCH_FLOAT(DT, T, ...) \
  switch (DT) { TG_CASES_FLOAT(T, __VA_ARGS__) default : TG_DISPATCH_FAIL(DT, "float"); }

// TG_DISPATCH_NUMERIC: float32, float64, int32, int64.
#define TG_DISPATCH_NUMERIC(DT, T, ...) \
  switch (DT) { TG_CASES_NUMERIC(T, __VA_ARGS__) default : TG_DISPATCH_FAIL(DT, "numeric"); }

// TG_DISPATCH_ALL: the five core dtypes.
#define TG_DISPATCH_ALL(DT, T, ...) \
  switch (DT) { TG_CASES_CORE(T, __VA_ARGS__) default : TG_DISPATCH_FAIL(DT, "core-dtype"); }

// TG_DISPATCH_EVERY: all fifteen dtypes, 16-bit floats as tg::half / tg::bfloat16, complex as
// std::complex (casts, fills).
#define TG_DISPATCH_EVERY(DT, T, ...) \
  switch (DT) { TG_CASES_CORE(T, __VA_ARGS__) TG_CASES_NARROW(T, __VA_ARGS__) TG_CASES_COMPLEX(T, __VA_ARGS__) }

// TG_DISPATCH_COMPLEX: complex64, complex128.
#define TG_DISPATCH_COMPLEX(DT, T, ...) \
  switch (DT) { TG_CASES_COMPLEX(T, __VA_ARGS__) default : TG_DISPATCH_FAIL(DT, "complex"); }

// TG_DISPATCH_BYTES: T is an unsigned integer of the dtype's size, for code that only moves
// elements (slicing, transposes, broadcasts, selects).
#define TG_DISPATCH_BYTES(DT, T, ...) \
  switch (::tg::itemsize(DT)) {       \
    case 1: {                         \
      using T = uint8_t;              \
      __VA_ARGS__;                    \
      break;                          \
    }                                 \
    case 2: {                         \
      using T = uint16_t;             \
      __VA_ARGS__;                    \
      break;                          \
    }                                 \
    case 4: {                         \
      using T = uint32_t;             \
      __VA_ARGS__;                    \
      break;                          \
    }                                 \
    case 8: {                         \
      using T = uint64_t;             \
      __VA_ARGS__;                    \
      break;                          \
    }                                 \
    default: {                        \
      using T = ::tg::bytes16;        \
      __VA_ARGS__;                    \
      break;                          \
    }                                 \
  }
