#include "ops/vmath.h"

#include <cstring>

#if defined(__AVX2__) && defined(__x86_64__) && defined(__GLIBC__) && !defined(TG_NO_MVEC)
#include <immintrin.h>
#define TG_HAVE_MVEC 1
#endif

namespace tg {
namespace vmath {

// Note [Vector math]
// gcc only calls libmvec's vector functions under -ffast-math, which would also let it assume
// there are no NaNs (breaking NaN propagation everywhere else). So the vector entry points are
// declared and called directly: 8 floats (4 doubles) per call, and the tail goes through the
// same vector function on a padded buffer, so every element gets the same math. libmvec's
// AVX2 functions are within 4 ulp and handle NaN, infinities and overflow like the scalar ones.

#ifdef TG_HAVE_MVEC
extern "C" {
__m256 _ZGVdN8v_expf(__m256);
__m256 _ZGVdN8v_logf(__m256);
__m256 _ZGVdN8v_tanhf(__m256);
__m256 _ZGVdN8v_sinf(__m256);
__m256 _ZGVdN8v_cosf(__m256);
__m256 _ZGVdN8v_expm1f(__m256);
__m256 _ZGVdN8v_log1pf(__m256);
__m256d _ZGVdN4v_exp(__m256d);
__m256d _ZGVdN4v_log(__m256d);
__m256d _ZGVdN4v_tanh(__m256d);
__m256d _ZGVdN4v_sin(__m256d);
__m256d _ZGVdN4v_cos(__m256d);
__m256d _ZGVdN4v_expm1(__m256d);
__m256d _ZGVdN4v_log1p(__m256d);
}

namespace {

template <class V, class T, int W, class F>
inline void run(F f, const T* x, T* y, int64_t n) {
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    V v;
    std::memcpy(&v, x + i, sizeof(V));
    V r = f(v);
    std::memcpy(y + i, &r, sizeof(V));
  }
  if (i < n) {
    T buf[W] = {};
    std::memcpy(buf, x + i, size_t(n - i) * sizeof(T));
    V v;
    std::memcpy(&v, buf, sizeof(V));
    V r = f(v);
    std::memcpy(buf, &r, sizeof(V));
    std::memcpy(y + i, buf, size_t(n - i) * sizeof(T));
  }
}

inline __m256 sigmoidf8(__m256 x) {  // 1 / (1 + exp(-x)): exp overflows to inf, giving 0
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, _ZGVdN8v_expf(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}
inline __m256d sigmoid4(__m256d x) {
  const __m256d one = _mm256_set1_pd(1.0);
  return _mm256_div_pd(one, _mm256_add_pd(one, _ZGVdN4v_exp(_mm256_sub_pd(_mm256_setzero_pd(), x))));
}

}  // namespace

bool unary(Op op, const float* x, float* y, int64_t n) {
  switch (op) {
    case Op::Exp: run<__m256, float, 8>(_ZGVdN8v_expf, x, y, n); return true;
    case Op::Log: run<__m256, float, 8>(_ZGVdN8v_logf, x, y, n); return true;
    case Op::Tanh: run<__m256, float, 8>(_ZGVdN8v_tanhf, x, y, n); return true;
    case Op::Sin: run<__m256, float, 8>(_ZGVdN8v_sinf, x, y, n); return true;
    case Op::Cos: run<__m256, float, 8>(_ZGVdN8v_cosf, x, y, n); return true;
    case Op::Expm1: run<__m256, float, 8>(_ZGVdN8v_expm1f, x, y, n); return true;
    case Op::Log1p: run<__m256, float, 8>(_ZGVdN8v_log1pf, x, y, n); return true;
    case Op::Sigmoid: run<__m256, float, 8>(sigmoidf8, x, y, n); return true;
    default: return false;
  }
}

bool unary(Op op, const double* x, double* y, int64_t n) {
  switch (op) {
    case Op::Exp: run<__m256d, double, 4>(_ZGVdN4v_exp, x, y, n); return true;
    case Op::Log: run<__m256d, double, 4>(_ZGVdN4v_log, x, y, n); return true;
    case Op::Tanh: run<__m256d, double, 4>(_ZGVdN4v_tanh, x, y, n); return true;
    case Op::Sin: run<__m256d, double, 4>(_ZGVdN4v_sin, x, y, n); return true;
    case Op::Cos: run<__m256d, double, 4>(_ZGVdN4v_cos, x, y, n); return true;
    case Op::Expm1: run<__m256d, double, 4>(_ZGVdN4v_expm1, x, y, n); return true;
    case Op::Log1p: run<__m256d, double, 4>(_ZGVdN4v_log1p, x, y, n); return true;
    case Op::Sigmoid: run<__m256d, double, 4>(sigmoid4, x, y, n); return true;
    default: return false;
  }
}

#else
bool unary(Op, const float*, float*, int64_t) { return false; }
bool unary(Op, const double*, double*, int64_t) { return false; }
#endif

}  // namespace vmath
}  // namespace tg
