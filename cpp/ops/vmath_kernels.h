// Hand-written SIMD kernels, written once over a vector-traits type V (Avx2 or Avx512 below) so
// that every instruction set runs the same operations in the same order: see Note [Own tanh].
// Included only by vmath.cpp (AVX2) and vmath_avx512.cpp (compiled with -mavx512f); everything
// here has internal linkage, so the AVX-512 copies can never be picked by the linker for the
// AVX2 translation unit.
#pragma once
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>  // the Avx2 / Avx512 traits below; other CPUs get none of them
#endif

#include <cstddef>
#include <cstdint>

namespace {

#if defined(__AVX2__) && defined(__FMA__)
struct Avx2 {
  using T = float;
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

// The same operations on 4 doubles; integer lanes are 64-bit.
struct Avx2d {
  using T = double;
  using F = __m256d;
  using I = __m256i;
  static constexpr int kLanes = 4;
  static F set1(double v) { return _mm256_set1_pd(v); }
  static F load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, F v) { _mm256_storeu_pd(p, v); }
  static F add(F a, F b) { return _mm256_add_pd(a, b); }
  static F sub(F a, F b) { return _mm256_sub_pd(a, b); }
  static F mul(F a, F b) { return _mm256_mul_pd(a, b); }
  static F div(F a, F b) { return _mm256_div_pd(a, b); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_pd(a, b, c); }
  static F fnmadd(F a, F b, F c) { return _mm256_fnmadd_pd(a, b, c); }
  static F max(F a, F b) { return _mm256_max_pd(a, b); }  // b when either is NaN
  static F band(F a, F b) { return _mm256_and_pd(a, b); }
  static F bandnot(F a, F b) { return _mm256_andnot_pd(a, b); }  // ~a & b
  static F bor(F a, F b) { return _mm256_or_pd(a, b); }
  static I bits(F a) { return _mm256_castpd_si256(a); }
  static F from_bits(I a) { return _mm256_castsi256_pd(a); }
  static I shl(I a, int n) { return _mm256_slli_epi64(a, n); }
  static I add_i(I a, I b) { return _mm256_add_epi64(a, b); }
  using M = __m256d;
  static M cmp_ge(F a, F b) { return _mm256_cmp_pd(a, b, _CMP_GE_OQ); }
  static F blend(F a, F b, M m) { return _mm256_blendv_pd(a, b, m); }  // m ? b : a
};
#endif

#if defined(__AVX512F__)
struct Avx512 {
  using T = float;
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

struct Avx512d {
  using T = double;
  using F = __m512d;
  using I = __m512i;
  static constexpr int kLanes = 8;
  static F set1(double v) { return _mm512_set1_pd(v); }
  static F load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, F v) { _mm512_storeu_pd(p, v); }
  static F add(F a, F b) { return _mm512_add_pd(a, b); }
  static F sub(F a, F b) { return _mm512_sub_pd(a, b); }
  static F mul(F a, F b) { return _mm512_mul_pd(a, b); }
  static F div(F a, F b) { return _mm512_div_pd(a, b); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_pd(a, b, c); }
  static F fnmadd(F a, F b, F c) { return _mm512_fnmadd_pd(a, b, c); }
  static F max(F a, F b) { return _mm512_max_pd(a, b); }  // b when either is NaN, as vmaxpd
  static F band(F a, F b) { return from_bits(_mm512_and_si512(bits(a), bits(b))); }
  static F bandnot(F a, F b) { return from_bits(_mm512_andnot_si512(bits(a), bits(b))); }
  static F bor(F a, F b) { return from_bits(_mm512_or_si512(bits(a), bits(b))); }
  static I bits(F a) { return _mm512_castpd_si512(a); }
  static F from_bits(I a) { return _mm512_castsi512_pd(a); }
  static I shl(I a, int n) { return _mm512_slli_epi64(a, unsigned(n)); }
  static I add_i(I a, I b) { return _mm512_add_epi64(a, b); }
  using M = __mmask8;
  static M cmp_ge(F a, F b) { return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ); }
  static F blend(F a, F b, M m) { return _mm512_mask_blend_pd(m, a, b); }  // m ? b : a
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
// float64 (same algorithm and operations, TanhConsts<double>): z clamped at -80, k by the 1.5 * 2^52
// trick, fdlibm's ln2 split (the high part has 32 trailing zero bits, so k * ln2_hi is exact),
// expm1(f) = f + f^2 R(f) with R the Taylor polynomial to f^11 / 13! (truncation below 1.2e-17 of
// expm1(f) for |f| <= ln2 / 2). Checked by tests/test_vmath.py against long double over ~200
// doubles per binade up to 20: at most 2 ulp, 88% correctly rounded, +-1 exactly where the
// correctly rounded value is (tanh(19) = 1 - 2^-53, where numpy's gives 1). One core, 64K elements
// in cache, CPU time: AVX-512 0.76 ns/element, AVX2 1.73, against 1.92 for the scalar std::tanh
// loop it replaces (numpy 0.85); AVX2 and AVX-512 give the same bits, as for float32.
template <class T> struct TanhConsts;
template <> struct TanhConsts<float> {
  static constexpr float kClamp = -40.0f, kMagic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  static constexpr float kLog2e = 1.44269504088896341f;
  static constexpr float kLn2Hi = 0.693145751953125f, kLn2Lo = 1.428606765330187045e-06f;
  static constexpr int kMantissa = 23;
  static constexpr float kPoly[] = {0.0013882509665563703f, 0.008366509340703487f, 0.04166720062494278f,
                                    0.1666654348373413f, 0.4999999701976776f};  // minimax, highest first
};
template <> struct TanhConsts<double> {
  static constexpr double kClamp = -80.0, kMagic = 6755399441055744.0;  // 1.5 * 2^52
  static constexpr double kLog2e = 1.4426950408889634;
  static constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  static constexpr int kMantissa = 52;
  static constexpr double kPoly[] = {1.6059043836821613e-10, 2.08767569878681e-09,   2.505210838544172e-08,
                                     2.755731922398589e-07,  2.7557319223985893e-06, 2.48015873015873e-05,
                                     0.0001984126984126984,  0.001388888888888889,   0.008333333333333333,
                                     0.041666666666666664,   0.16666666666666666,    0.5};  // 1/13! .. 1/2!
};

template <class V> inline typename V::F tanh_kernel(typename V::F x) {
  using F = typename V::F;
  using T = typename V::T;
  using C = TanhConsts<T>;
  const F sign = V::set1(T(-0.0));
  const F ax = V::bandnot(sign, x);
  const F z = V::max(V::set1(C::kClamp), V::mul(ax, V::set1(T(-2.0))));
  const F magic = V::set1(C::kMagic);
  const F km = V::fmadd(z, V::set1(C::kLog2e), magic);
  const F k = V::sub(km, magic);
  F f = V::fnmadd(k, V::set1(C::kLn2Hi), z);  // z - k ln2 in two parts (Cody-Waite)
  f = V::fnmadd(k, V::set1(C::kLn2Lo), f);
  F r = V::set1(C::kPoly[0]);
  for (size_t i = 1; i < sizeof(C::kPoly) / sizeof(C::kPoly[0]); ++i) r = V::fmadd(r, f, V::set1(C::kPoly[i]));
  const F em = V::fmadd(V::mul(f, f), r, f);  // expm1(f)
  // 2^k: k sits in the low mantissa bits of km; shift it into the exponent field of 1.0.
  const F one = V::set1(T(1.0));
  const F s = V::from_bits(V::add_i(V::shl(V::bits(km), C::kMantissa), V::bits(one)));
  const F m = V::fmadd(s, em, V::sub(s, one));  // expm1(-2|x|), in (-1, 0]
  const F e = V::fmadd(s, em, s);               // exp(-2|x|), in (0, 1]
  // |x| < 0.625: tanh|x| = -m / (1 + e); above: 1 - 2e / (1 + e), so that the one rounding at
  // the scale of 1 is the last one (exact saturation). One divide serves both.
  const typename V::M big = V::cmp_ge(ax, V::set1(T(0.625)));
  const F q = V::div(V::blend(V::sub(V::set1(T(-0.0)), m), V::add(e, e), big), V::add(e, one));
  const F t = V::blend(q, V::sub(one, q), big);  // tanh|x| (NaN stays NaN: both sides are NaN)
  return V::bor(V::bandnot(sign, t), V::band(sign, x));
}

template <class V> void tanh_array(const typename V::T* x, typename V::T* y, int64_t n) {
  using T = typename V::T;
  int64_t i = 0;
  for (; i + V::kLanes <= n; i += V::kLanes) V::store(y + i, tanh_kernel<V>(V::load(x + i)));
  if (i < n) {
    T buf[V::kLanes] = {};
    for (int64_t j = i; j < n; ++j) buf[j - i] = x[j];
    V::store(buf, tanh_kernel<V>(V::load(buf)));
    for (int64_t j = i; j < n; ++j) y[j] = buf[j - i];
  }
}

}  // namespace
