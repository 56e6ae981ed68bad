#include "ops/vmath.h"

#include <cmath>
#include <cstdlib>

#include "ops/vmath_kernels.h"

namespace tg {
namespace vmath {

#if defined(__x86_64__) && defined(__GNUC__) && defined(TG_HAVE_AVX512_TU)
void tanh_f32_avx512(const float* x, float* y, int64_t n);  // vmath_avx512.cpp
void tanh_f64_avx512(const double* x, double* y, int64_t n);
#endif

namespace {
enum class Isa { None, Avx2, Avx512 };

Isa detect() {
#if defined(__AVX2__) && defined(__FMA__)
#if defined(__x86_64__) && defined(__GNUC__) && defined(TG_HAVE_AVX512_TU)
  const char* off = std::getenv("TAPEGRAD_NO_AVX512");
  if (!(off && *off && *off != '0') && __builtin_cpu_supports("avx512f")) return Isa::Avx512;
#endif
  return Isa::Avx2;
#else
  return Isa::None;
#endif
}

Isa current() {
  static const Isa isa = detect();
  return isa;
}
}  // namespace

bool have_tanh_f32() { return current() != Isa::None; }

void tanh_f32(const float* x, float* y, int64_t n) {
  switch (current()) {
#if defined(__x86_64__) && defined(__GNUC__) && defined(TG_HAVE_AVX512_TU)
    case Isa::Avx512: tanh_f32_avx512(x, y, n); return;
#endif
#if defined(__AVX2__) && defined(__FMA__)
    case Isa::Avx2: tanh_array<Avx2>(x, y, n); return;
#endif
    default:
      for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
  }
}

void tanh_f64(const double* x, double* y, int64_t n) {
  switch (current()) {
#if defined(__x86_64__) && defined(__GNUC__) && defined(TG_HAVE_AVX512_TU)
    case Isa::Avx512: tanh_f64_avx512(x, y, n); return;
#endif
#if defined(__AVX2__) && defined(__FMA__)
    case Isa::Avx2: tanh_array<Avx2d>(x, y, n); return;
#endif
    default:
      for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
  }
}

const char* isa() {
  switch (current()) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "none";
  }
}

}  // namespace vmath
}  // namespace tg
