// Reductions over any set of axes: the reduced axes are made one contiguous block (transposing when
// they are not), then the kernel sees (outer, R, inner).
#include <cmath>
#include <limits>
#include <memory>
#include <type_traits>

#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "ops/complex.h"
#include "ops/narrow.h"
#include "ops/ops.h"
#include "tensor/parallel.h"

namespace tg {
namespace {

template <Op op, class T> struct Reducer;
template <class T> struct Reducer<Op::Sum, T> {
  using A = std::conditional_t<std::is_same<T, bool>::value, int64_t, T>;
  static A init() { return A(0); }
  static A step(A a, T x) { return a + A(x); }
};
template <class T> struct Reducer<Op::Prod, T> {
  using A = T;
  static A init() { return A(1); }
  static A step(A a, T x) { return a * x; }
};
template <class T> struct Reducer<Op::Max, T> {
  using A = T;
  static A init() {  // the identity of max: -inf for floats, as TF (an empty reduction)
    if constexpr (std::is_floating_point<T>::value) return -std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::lowest();
  }
  static A step(A a, T x) {
    if constexpr (std::is_floating_point<T>::value)
      return (x != x || a != a) ? std::numeric_limits<T>::quiet_NaN() : (x > a ? x : a);
    else return x > a ? x : a;
  }
};
template <class T> struct Reducer<Op::Min, T> {
  using A = T;
  static A init() {
    if constexpr (std::is_floating_point<T>::value) return std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::max();
  }
  static A step(A a, T x) {
    if constexpr (std::is_floating_point<T>::value)
      return (x != x || a != a) ? std::numeric_limits<T>::quiet_NaN() : (x < a ? x : a);
    else return x < a ? x : a;
  }
};
template <class T> struct Reducer<Op::Any, T> {
  using A = bool;
  static A init() { return false; }
  static A step(A a, T x) { return a || bool(x); }
};
template <class T> struct Reducer<Op::All, T> {
  using A = bool;
  static A init() { return true; }
  static A step(A a, T x) { return a && bool(x); }
};

// AVX2 lanes of float or double, for minmax_simd.
template <class T> struct Lanes;
#ifdef __AVX2__
template <> struct Lanes<float> {
  using V = __m256;
  static constexpr int kN = 8;
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V unord(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_UNORD_Q); }
  static V bor(V a, V b) { return _mm256_or_ps(a, b); }
  static bool any(V m) { return _mm256_movemask_ps(m) != 0; }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
};
template <> struct Lanes<double> {
  using V = __m256d;
  static constexpr int kN = 4;
  static V set1(double x) { return _mm256_set1_pd(x); }
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const double* p) { return _mm256_loadu_pd(p); }
  static V max(V a, V b) { return _mm256_max_pd(a, b); }
  static V min(V a, V b) { return _mm256_min_pd(a, b); }
  static V unord(V a, V b) { return _mm256_cmp_pd(a, b, _CMP_UNORD_Q); }
  static V bor(V a, V b) { return _mm256_or_pd(a, b); }
  static bool any(V m) { return _mm256_movemask_pd(m) != 0; }
  static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
};

// Folds row[r..) in whole vectors into s (op: Max or Min), advancing r past them; true
// when one of them held a NaN. MAXPS/MINPS drop NaNs, so NaNs are tracked in a separate
// unordered-compare mask. Four chains: MAXPS's 4-cycle latency, not its throughput, bounds one.
template <Op op, class T> bool minmax_simd(const T* row, int64_t R, int64_t& r, T& s) {
  using L = Lanes<T>;
  constexpr bool kMax = op == Op::Max;
  constexpr int kN = L::kN;
  auto mx = [](typename L::V a, typename L::V b) { return kMax ? L::max(a, b) : L::min(a, b); };
  typename L::V acc = L::set1(s), nan = L::zero();
  if (R >= 4 * kN) {
    typename L::V a1 = acc, a2 = acc, a3 = acc;
    for (; r + 4 * kN <= R; r += 4 * kN) {
      typename L::V v0 = L::load(row + r), v1 = L::load(row + r + kN);
      typename L::V v2 = L::load(row + r + 2 * kN), v3 = L::load(row + r + 3 * kN);
      nan = L::bor(nan, L::bor(L::unord(v0, v1), L::unord(v2, v3)));
      acc = mx(acc, v0), a1 = mx(a1, v1), a2 = mx(a2, v2), a3 = mx(a3, v3);
    }
    acc = mx(mx(acc, a1), mx(a2, a3));
  }
  for (; r + kN <= R; r += kN) {
    typename L::V v = L::load(row + r);
    nan = L::bor(nan, L::unord(v, v));
    acc = mx(acc, v);
  }
  T lanes[kN];
  L::store(lanes, acc);
  for (T l : lanes) s = Reducer<op, T>::step(s, l);
  return L::any(nan);
}
#endif

// Reduces one contiguous row. Sum, Prod, Max and Min on floats keep eight independent lanes, so
// the loop vectorises (and sums are more accurate than one running sum); Max/Min select without
// branches (AVX2, four independent chains of 8 or 4 lanes) and track NaN separately (an unordered
// compare of two loaded vectors is true when either holds a NaN), so a NaN anywhere gives NaN.
template <Op op, class T> typename Reducer<op, T>::A reduce_row(const T* row, int64_t R) {
  using Rd = Reducer<op, T>;
  using A = typename Rd::A;
  constexpr bool kFloat = std::is_floating_point<T>::value;
  if constexpr (kFloat && (op == Op::Max || op == Op::Min)) {
    int64_t r = 0;
    A s = Rd::init();
#ifdef __AVX2__
    if (minmax_simd<op>(row, R, r, s)) return std::numeric_limits<T>::quiet_NaN();
#endif
    for (; r < R; ++r) s = Rd::step(s, row[r]);
    return s;
  } else if constexpr (kFloat && (op == Op::Sum || op == Op::Prod)) {
    A acc[8];
    for (int k = 0; k < 8; ++k) acc[k] = Rd::init();
    int64_t r = 0;
    for (; r + 8 <= R; r += 8)
      for (int k = 0; k < 8; ++k) acc[k] = Rd::step(acc[k], row[r + k]);
    A s = Rd::step(Rd::step(Rd::step(acc[0], acc[1]), Rd::step(acc[2], acc[3])),
                   Rd::step(Rd::step(acc[4], acc[5]), Rd::step(acc[6], acc[7])));
    for (; r < R; ++r) s = Rd::step(s, row[r]);
    return s;
  } else {
    A acc = Rd::init();
    for (int64_t r = 0; r < R; ++r) acc = Rd::step(acc, row[r]);
    return acc;
  }
}

// Rows longer than this are cut into fixed blocks reduced in parallel, then combined in block
// order: the result does not depend on the thread count.
constexpr int64_t kReduceBlock = 1 << 16;

// out[o, i] = reduce_r x[o, r, i]
template <Op op, class T> void reduce_block(const T* x, T* out, int64_t outer, int64_t R, int64_t inner) {
  using Rd = Reducer<op, T>;
  using A = typename Rd::A;
  if (inner == 1 && outer < 4 && R >= 2 * kReduceBlock) {
    const int64_t nblocks = (R + kReduceBlock - 1) / kReduceBlock;
    std::unique_ptr<A[]> partial(new A[size_t(nblocks)]);
    for (int64_t o = 0; o < outer; ++o) {
      const T* row = x + o * R;
      parallel_for(nblocks, 2, [&](int64_t lo, int64_t hi) {
        for (int64_t b = lo; b < hi; ++b)
          partial[b] = reduce_row<op, T>(row + b * kReduceBlock, std::min(kReduceBlock, R - b * kReduceBlock));
      });
      A s = partial[0];
      for (int64_t b = 1; b < nblocks; ++b) s = Rd::step(s, T(partial[b]));
      out[o] = T(s);
    }
  } else if (inner == 1) {
    parallel_for(outer, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(R, 1)), [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o) out[o] = T(reduce_row<op, T>(x + o * R, R));
    });
  } else {
    parallel_for(outer, 1, [&](int64_t lo, int64_t hi) {
      std::unique_ptr<A[]> acc(new A[size_t(inner)]);
      for (int64_t o = lo; o < hi; ++o) {
        for (int64_t i = 0; i < inner; ++i) acc[i] = Rd::init();
        for (int64_t r = 0; r < R; ++r) {
          const T* row = x + (o * R + r) * inner;
          for (int64_t i = 0; i < inner; ++i) acc[i] = Rd::step(acc[i], row[i]);
        }
        for (int64_t i = 0; i < inner; ++i) out[o * inner + i] = T(acc[i]);
      }
    });
  }
}

template <Op op> void reduce_dispatch(const Tensor& x, Tensor& out, int64_t outer, int64_t R, int64_t inner) {
  if constexpr (op == Op::Any || op == Op::All) {
    if (x.dtype != DType::Bool)
      throw InvalidArgument(std::string("cannot compute ") + op_name(op) +
                            " as input #0(zero-based) was expected to be a bool tensor but is a " +
                            dtype_kernel_name(x.dtype) + " tensor [Op:" + op_name(op) + "]");
    reduce_block<op, bool>(x.data<bool>(), out.data<bool>(), outer, R, inner);
  } else {
    TG_DISPATCH_NUMERIC(x.dtype, T, { reduce_block<op, T>(x.data<T>(), out.data<T>(), outer, R, inner); });
  }
}

}  // namespace

namespace kernels {

Tensor reduce(Op op, const Tensor& x, const std::vector<int>& axes, bool keepdims) {
  const int nd = x.ndim();
  std::vector<bool> red(size_t(nd), false);
  for (int a : axes) red[size_t(a)] = true;
  Shape out_shape;
  for (int i = 0; i < nd; ++i) {
    if (!red[size_t(i)]) out_shape[out_shape.ndim++] = x.shape[i];
    else if (keepdims) out_shape[out_shape.ndim++] = 1;
  }
  if (is_narrow(x.dtype)) return narrow::reduce(op, x, axes, keepdims);
  if (is_complex(x.dtype)) return cplx::reduce(op, x, axes, keepdims);
  if (x.dtype == DType::Bool && op != Op::Any && op != Op::All) throw attr_t_error_for(x.dtype, op_name(op));
  Tensor out = Tensor::empty(out_shape, x.dtype);
  if (out.numel() == 0) return out;
  if (axes.empty()) {  // nothing to reduce: a copy
    Tensor c = x.clone();
    return kernels::reshape(c, out_shape);
  }
  // Are the reduced axes one contiguous block?
  bool block = axes.back() - axes.front() + 1 == int(axes.size());
  Tensor src = x;
  int64_t outer = 1, R = 1, inner = 1;
  if (block) {
    for (int i = 0; i < axes.front(); ++i) outer *= x.shape[i];
    for (int a : axes) R *= x.shape[a];
    for (int i = axes.back() + 1; i < nd; ++i) inner *= x.shape[i];
  } else {
    std::vector<int> perm;
    for (int i = 0; i < nd; ++i)
      if (!red[size_t(i)]) {
        perm.push_back(i);
        outer *= x.shape[i];
      }
    for (int a : axes) {
      perm.push_back(a);
      R *= x.shape[a];
    }
    src = transpose(x, perm);
  }
  switch (op) {
    case Op::Sum: reduce_dispatch<Op::Sum>(src, out, outer, R, inner); break;
    case Op::Mean: {
      reduce_dispatch<Op::Sum>(src, out, outer, R, inner);
      const int64_t n = out.numel();
      TG_DISPATCH_NUMERIC(out.dtype, T, {
        T* p = out.data<T>();
        if constexpr (std::is_floating_point<T>::value) {
          T inv = R ? T(1) / T(R) : std::numeric_limits<T>::quiet_NaN();
          for (int64_t i = 0; i < n; ++i) p[i] = R ? p[i] * inv : inv;
        } else {
          for (int64_t i = 0; i < n; ++i) p[i] = R ? T(p[i] / T(R)) : T(0);
        }
      });
      break;
    }
    case Op::Max: reduce_dispatch<Op::Max>(src, out, outer, R, inner); break;
    case Op::Min: reduce_dispatch<Op::Min>(src, out, outer, R, inner); break;
    case Op::Prod: reduce_dispatch<Op::Prod>(src, out, outer, R, inner); break;
    case Op::Any: reduce_dispatch<Op::Any>(src, out, outer, R, inner); break;
    case Op::All: reduce_dispatch<Op::All>(src, out, outer, R, inner); break;
    default: throw InvalidArgument(std::string("not a reduction: ") + op_name(op));
  }
  return out;
}

}  // namespace kernels
}  // namespace tg
