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

namespace {
// tanh over n values of float or double on the best kernel set (V2: the AVX2 traits for T).
template <class V2, class T> void tanh_any(const T* x, T* y, int64_t n, void (*avx512)(const T*, T*, int64_t)) {
  switch (current()) {
#if defined(__x86_64__) && defined(__GNUC__) && defined(TG_HAVE_AVX512_TU)
    case Isa::Avx512: avx512(x, y, n); return;
#endif
#if defined(__AVX2__) && defined(__FMA__)
    case Isa::Avx2: tanh_array<V2>(x, y, n); return;
#endif
    default:
      (void)avx512;
      for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
  }
}

#if !(defined(__x86_64__) && defined(__GNUC__) && defined(TG_HAVE_AVX512_TU))
constexpr void (*tanh_f32_avx512)(const float*, float*, int64_t) = nullptr;
constexpr void (*tanh_f64_avx512)(const double*, double*, int64_t) = nullptr;
#endif
#if !(defined(__AVX2__) && defined(__FMA__))
struct Avx2 {};  // never used: no AVX2 build, the scalar loop runs
struct Avx2d {};
#endif
}  // namespace

void tanh_f32(const float* x, float* y, int64_t n) { tanh_any<Avx2>(x, y, n, tanh_f32_avx512); }
void tanh_f64(const double* x, double* y, int64_t n) { tanh_any<Avx2d>(x, y, n, tanh_f64_avx512); }

const char* isa() {
  switch (current()) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "none";
  }
}

}  // namespace vmath
}  // namespace tg
