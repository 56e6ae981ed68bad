// Hand-written vector math (Note [Own tanh]) with run-time choice of AVX2 or AVX-512.
#pragma once
#include <cstdint>

namespace tg {
namespace vmath {
// True when tanh_f32 has a SIMD kernel in this build (AVX2+FMA baseline); otherwise callers use
// std::tanh.
bool have_tanh_f32();
// y[i] = tanh(x[i]) for i < n (x == y allowed). Single-threaded; callers split the range.
void tanh_f32(const float* x, float* y, int64_t n);
// The same for float64 (have_tanh_f32() says whether it is a SIMD kernel too).
void tanh_f64(const double* x, double* y, int64_t n);
// "avx512", "avx2" or "none": which kernels run on this CPU (TAPEGRAD_NO_AVX512=1 forces avx2).
const char* isa();
}  // namespace vmath
}  // namespace tg
