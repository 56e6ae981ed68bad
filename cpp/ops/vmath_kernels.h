// Hand-written SIMD kernels, written once over a vector-traits type V (Avx2 or Avx512 below) so
// that every instruction set runs the same operations in the same order: see Note [Own tanh].
// Included only by vmath.cpp (AVX2) and vmath_avx512.cpp (compiled with -mavx512f); everything
// here has internal linkage, so the AVX-512 copies can never be picked by the linker for the
// AVX2 translation unit.
#pragma once
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>  // the Avx2 / Avx512 traits below; other CPUs get none of them
#endif

#include <cstdint>

namespace {

#if defined(__AVX2__) && defined(__FMA__)
struct Avx2 {
  using F = __m256;
  using I = __m256i;
  static constexpr int kLanes = 8;
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F fnmadd(F a, F b, F c) { return _mm256_fnmadd_ps(a, b, c); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }  // b when either is NaN
  static F band(F a, F b) { return _mm256_and_ps(a, b); }
  static F bandnot(F a, F b) { return _mm256_andnot_ps(a, b); }  // ~a & b
  static F bor(F a, F b) { return _mm256_or_ps(a, b); }
  static I bits(F a) { return _mm256_castps_si256(a); }
  static F from_bits(I a) { return _mm256_castsi256_ps(a); }
  static I shl(I a, int n) { return _mm256_slli_epi32(a, n); }
  static I add_i(I a, I b) { return _mm256_add_epi32(a, b); }
  using M = __m256;
  static M cmp_ge(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static F blend(F a, F b, M m) { return _mm256_blendv_ps(a, b, m); }  // m ? b : a
};
#endif

#if defined(__AVX512F__)
struct Avx512 {
  using F = __m512;
  using I = __m512i;
  static constexpr int kLanes = 16;
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F fnmadd(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }  // b when either is NaN, as vmaxps
  static F band(F a, F b) { return from_bits(_mm512_and_si512(bits(a), bits(b))); }
  static F bandnot(F a, F b) { return from_bits(_mm512_andnot_si512(bits(a), bits(b))); }
  static F bor(F a, F b) { return from_bits(_mm512_or_si512(bits(a), bits(b))); }
  static I bits(F a) { return _mm512_castps_si512(a); }
  static F from_bits(I a) { return _mm512_castsi512_ps(a); }
  static I shl(I a, int n) { return _mm512_slli_epi32(a, unsigned(n)); }
  static I add_i(I a, I b) { return _mm512_add_epi32(a, b); }
  using M = __mmask16;
  static M cmp_ge(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static F blend(F a, F b, M m) { return _mm512_mask_blend_ps(m, a, b); }  // m ? b : a
};
#endif

// Note [Own tanh]
// float32 tanh is ours, not libmvec's: libmvec's AVX2 tanhf costs 0.61 ns/element on one core,
// slower than numpy's AVX-512 tanh (0.26); libmvec's AVX-512 variant is fast but 1 ulp off where
// tanh rounds to +-1, which moved a saturated gelu gradient away from TF's. Here, with
// e = exp(-2|x|) and m = expm1(-2|x|) = e - 1 from one range reduction:
//   |x| <  0.625: tanh|x| = -m / (1 + e)        (no cancellation for small x)
//   |x| >= 0.625: tanh|x| = 1 - 2e / (1 + e)    (the last rounding is the only one at the scale
//                                                of 1, so +-1 comes out exactly where it should)
// then the sign of x. The reduction: z = -2|x| = k ln2 + f, |f| <= ln2/2, k = round(z / ln2) by the
// 1.5 * 2^23 trick, ln2 split in two (Cody-Waite); expm1(f) = f + f^2 R(f), R a degree-4 minimax
// fit (relative error 1.3e-8); e = 2^k (1 + expm1(f)), m = 2^k expm1(f) + (2^k - 1), both one FMA.
// z is clamped at -40 (2^k stays normal); NaN passes the clamp and comes out NaN.
// Checked over every float32 in [0, 10] by tools/check_tanh.py (tests/test_vmath.py samples it): at most
// 2 ulp from the correctly rounded value, 94% correctly rounded, +-1 exactly where the correctly
// rounded value is +-1 and nowhere else, tanh(-0) = -0, tanh(+-inf) = +-1. One core, in cache:
// AVX2 0.54 ns/element, AVX-512 0.33 (divide-bound). The AVX2 and AVX-512 versions run the same
// operations on 8 or 16 lanes, so they give the same bits and the CPU does not change a program's
// numbers; tails shorter than a vector go through the kernel on a padded copy.
template <class V> inline typename V::F tanh_kernel(typename V::F x) {
  using F = typename V::F;
  const F sign = V::set1(-0.0f);
  const F ax = V::bandnot(sign, x);
  const F z = V::max(V::set1(-40.0f), V::mul(ax, V::set1(-2.0f)));
  const F magic = V::set1(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  const F km = V::fmadd(z, V::set1(1.44269504088896341f), magic);
  const F k = V::sub(km, magic);
  F f = V::fnmadd(k, V::set1(0.693145751953125f), z);  // ln2 = 0.693145751953125 + 1.4286e-6
  f = V::fnmadd(k, V::set1(1.428606765330187045e-06f), f);
  F r = V::set1(0.0013882509665563703f);
  r = V::fmadd(r, f, V::set1(0.008366509340703487f));
  r = V::fmadd(r, f, V::set1(0.04166720062494278f));
  r = V::fmadd(r, f, V::set1(0.1666654348373413f));
  r = V::fmadd(r, f, V::set1(0.4999999701976776f));
  const F em = V::fmadd(V::mul(f, f), r, f);  // expm1(f)
  // 2^k: k sits in the low mantissa bits of km; shift it into the exponent field of 1.0f.
  const F one = V::set1(1.0f);
  const F s = V::from_bits(V::add_i(V::shl(V::bits(km), 23), V::bits(one)));
  const F m = V::fmadd(s, em, V::sub(s, one));  // expm1(-2|x|), in (-1, 0]
  const F e = V::fmadd(s, em, s);               // exp(-2|x|), in (0, 1]
  // |x| < 0.625: tanh|x| = -m / (1 + e); above: 1 - 2e / (1 + e), so that the one rounding at
  // the scale of 1 is the last one (exact saturation). One divide serves both.
  const typename V::M big = V::cmp_ge(ax, V::set1(0.625f));
  const F q = V::div(V::blend(V::sub(V::set1(-0.0f), m), V::add(e, e), big), V::add(e, one));
  const F t = V::blend(q, V::sub(one, q), big);  // tanh|x| (NaN stays NaN: both sides are NaN)
  return V::bor(V::bandnot(sign, t), V::band(sign, x));
}

template <class V> void tanh_array(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + V::kLanes <= n; i += V::kLanes) V::store(y + i, tanh_kernel<V>(V::load(x + i)));
  if (i < n) {
    float buf[V::kLanes] = {};
    for (int64_t j = i; j < n; ++j) buf[j - i] = x[j];
    V::store(buf, tanh_kernel<V>(V::load(buf)));
    for (int64_t j = i; j < n; ++j) y[j] = buf[j - i];
  }
}

}  // namespace
