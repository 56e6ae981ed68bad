// The AVX-512 copies of vmath_kernels.h; this file alone is compiled with -mavx512f, and vmath.cpp
// calls it only when the CPU has AVX-512F (Note [Own tanh]).
#if defined(__AVX512F__)
#include "ops/vmath_kernels.h"

namespace tg {
namespace vmath {
void tanh_f32_avx512(const float* x, float* y, int64_t n) { tanh_array<Avx512>(x, y, n); }
void tanh_f64_avx512(const double* x, double* y, int64_t n) { tanh_array<Avx512d>(x, y, n); }
}  // namespace vmath
}  // namespace tg
#endif
