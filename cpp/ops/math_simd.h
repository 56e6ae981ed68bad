// SIMD declarations of libm functions, so that gcc vectorises loops that call them.
#pragma once
#include <cmath>

// Note [Vector math]
// glibc (>= 2.35, x86_64) ships libmvec: SIMD variants of exp, log, tanh, erf, atan2, ... (at most
// 4 ulp; what numpy and TF also get from SIMD libraries). gcc calls them from a vectorised loop
// when the scalar function is declared `simd`; math-vector.h does that only under -ffast-math,
// so we declare them here. libm.so is a linker script that pulls in libmvec, so no extra link flag.
// Elsewhere (clang, musl, macOS, other CPUs) the plain scalar calls remain.
#if defined(__GLIBC__) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__AVX2__)
#if __GLIBC_PREREQ(2, 35)
#define TG_SIMD __attribute__((simd("notinbranch")))
#define TG_SIMD_UNARY(fn)             \
  TG_SIMD double fn(double) noexcept; \
  TG_SIMD float fn##f(float) noexcept;
#define TG_SIMD_BINARY(fn)                    \
  TG_SIMD double fn(double, double) noexcept; \
  TG_SIMD float fn##f(float, float) noexcept;
extern "C" {
TG_SIMD_UNARY(exp)
TG_SIMD_UNARY(expm1)
TG_SIMD_UNARY(log)
TG_SIMD_UNARY(log1p)
TG_SIMD_UNARY(sin)
TG_SIMD_UNARY(cos)
TG_SIMD_UNARY(tan)
TG_SIMD_UNARY(tanh)
TG_SIMD_UNARY(sinh)
TG_SIMD_UNARY(cosh)
TG_SIMD_UNARY(asin)
TG_SIMD_UNARY(acos)
TG_SIMD_UNARY(atan)
TG_SIMD_UNARY(erf)
TG_SIMD_UNARY(erfc)
TG_SIMD_UNARY(asinh)
TG_SIMD_UNARY(acosh)
TG_SIMD_UNARY(atanh)
TG_SIMD_BINARY(atan2)
TG_SIMD_BINARY(pow)
}
#undef TG_SIMD_BINARY
#undef TG_SIMD_UNARY
#undef TG_SIMD
#endif
#endif
