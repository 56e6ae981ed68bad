// Elementwise kernels: binary ops with numpy broadcasting, unary ops, select, cast, broadcast_to.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "ops/complex.h"
#include "ops/math_simd.h"
#include "ops/narrow.h"
#include "ops/ops.h"
#include "ops/strided.h"
#include "ops/vmath.h"
#include "tensor/parallel.h"

namespace tg {

const char* op_name(Op op) {
  static const char* names[] = {
#define TG_OP_NAME(name, tfname) tfname,
      TG_OPS(TG_OP_NAME)
#undef TG_OP_NAME
  };
  return names[static_cast<int>(op)];
}

const char* op_enum_name(Op op) {
  static const char* names[] = {
#define TG_OP_ENUM_NAME(name, tfname) #name,
      TG_OPS(TG_OP_ENUM_NAME)
#undef TG_OP_ENUM_NAME
  };
  return names[static_cast<int>(op)];
}

namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per thread below which kernels stay inline

template <class T> constexpr bool is_fp = std::is_floating_point<T>::value;
template <class T> constexpr bool is_int = std::is_integral<T>::value && !std::is_same<T, bool>::value;

// ---- binary ----------------------------------------------------------------------------------

template <Op op, class T> constexpr bool binary_supported() {
  switch (op) {
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::Pow:
    case Op::Maximum:
    case Op::Minimum:
    case Op::FloorDiv:
    case Op::FloorMod:
    case Op::SquaredDifference:
    case Op::Less:
    case Op::LessEqual:
    case Op::Greater:
    case Op::GreaterEqual: return is_fp<T> || is_int<T>;
    case Op::Atan2:
    case Op::TanhGrad:
    case Op::SigmoidGrad:
    case Op::ReluGrad: return is_fp<T>;
    case Op::Equal:
    case Op::NotEqual: return true;
    case Op::LogicalAnd:
    case Op::LogicalOr: return std::is_same<T, bool>::value;
    default: return false;
  }
}

// -a with two's-complement wrap: -INT_MIN is INT_MIN, as TF (plain -a is undefined there).
template <class T> inline T wrap_neg(T a) {
  using U = std::make_unsigned_t<T>;
  return T(U(0) - U(a));
}

template <class T> inline T ipow(T base, T exp) {
  if (exp < 0) return base == 1 ? 1 : (base == -1 ? ((exp & 1) ? -1 : 1) : 0);
  T r = 1;
  while (exp) {
    if (exp & 1) r *= base;
    base *= base;
    exp >>= 1;
  }
  return r;
}

template <Op op, class T> inline auto bin(T a, T b) {
  if constexpr (op == Op::Add) return T(a + b);
  else if constexpr (op == Op::Sub) return T(a - b);
  else if constexpr (op == Op::Mul) return T(a * b);
  else if constexpr (op == Op::Div) {
    if constexpr (is_int<T>) return T(b == 0 ? 0 : (std::is_signed<T>::value && b == T(-1)) ? wrap_neg(a) : a / b);
    else return T(a / b);
  } else if constexpr (op == Op::Pow) {
    if constexpr (is_int<T>) return ipow(a, b);
    else return T(std::pow(a, b));
  } else if constexpr (op == Op::Maximum) {
    if constexpr (is_fp<T>) return (a != a || b != b) ? std::numeric_limits<T>::quiet_NaN() : (a > b ? a : b);
    else return a > b ? a : b;
  } else if constexpr (op == Op::Minimum) {
    if constexpr (is_fp<T>) return (a != a || b != b) ? std::numeric_limits<T>::quiet_NaN() : (a < b ? a : b);
    else return a < b ? a : b;
  } else if constexpr (op == Op::FloorDiv) {
    if constexpr (is_int<T>) {
      if (b == 0) return T(0);
      if constexpr (std::is_signed<T>::value)
        if (b == T(-1)) return wrap_neg(a);  // INT_MIN // -1 = INT_MIN, as TF
      T q = a / b;
      return T((a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q);
    } else return T(std::floor(a / b));
  } else if constexpr (op == Op::FloorMod) {
    if constexpr (is_int<T>) {
      if (b == 0) return T(0);
      if constexpr (std::is_signed<T>::value)
        if (b == T(-1)) return T(0);  // INT_MIN % -1 is 0, as TF
      T m = a % b;
      return T((m != 0 && ((m < 0) != (b < 0))) ? m + b : m);
    } else {
      T m = std::fmod(a, b);
      return T((m != 0 && ((m < 0) != (b < 0))) ? m + b : m);
    }
  } else if constexpr (op == Op::SquaredDifference) return T((a - b) * (a - b));
  else if constexpr (op == Op::Atan2) return T(std::atan2(a, b));
  else if constexpr (op == Op::TanhGrad) return T(b * (T(1) - a * a));        // a = tanh(x), b = grad
  else if constexpr (op == Op::SigmoidGrad) return T(b * a * (T(1) - a));     // a = sigmoid(x)
  else if constexpr (op == Op::ReluGrad) return T(a > T(0) ? b : T(0));       // a = x
  else if constexpr (op == Op::Equal) return bool(a == b);
  else if constexpr (op == Op::NotEqual) return bool(a != b);
  else if constexpr (op == Op::Less) return bool(a < b);
  else if constexpr (op == Op::LessEqual) return bool(a <= b);
  else if constexpr (op == Op::Greater) return bool(a > b);
  else if constexpr (op == Op::GreaterEqual) return bool(a >= b);
  else if constexpr (op == Op::LogicalAnd) return bool(a && b);
  else if constexpr (op == Op::LogicalOr) return bool(a || b);
  else return T(0);
}

// Note [Kernel loops]: each (op, dtype) compiles three vectorised loops -- tensor-tensor,
// tensor-scalar, scalar-tensor -- and one scalar walk for short broadcast rows, and one untyped
// driver (run_binary) runs them: the flat cases in parallel chunks, the broadcast case row by
// row (short rows in blocks; a short bias row tiled). Written inline in a typed driver, each loop
// was compiled about a dozen times (parallel_for's inline and pooled paths, the flat and the four
// row cases, each vectorised with its own alias checks), which made this file most of the
// engine's build time. The output is always a fresh buffer, so the pointers are __restrict.
using BinLoop = void (*)(const void* a, const void* b, void* out, int64_t n);
// Rows [lo, hi) of a broadcast whose rows are short: one scalar walk, since a call per row of a
// few elements would cost more than the row (not vectorised: rows this short gain nothing).
// off[r] = {output offset, a offset, b offset} of row r, in elements; ia, ib: a's and b's strides
// along the row (0 or 1).
using BinRows = void (*)(const void* a, const void* b, void* out, const int64_t (*off)[3], int64_t nrows, int64_t inner,
                         int64_t ia, int64_t ib);
struct BinLoops {
  BinLoop vv, vs, sv;  // vs: b points at one element; sv: a does
  BinRows rows;
};
constexpr int64_t kShortRow = 16;  // rows up to this long take BinRows

#if defined(__GNUC__) && !defined(__clang__)
#define TG_NO_VECTORIZE __attribute__((optimize("no-tree-vectorize")))
#else
#define TG_NO_VECTORIZE
#endif

template <Op op, class T> TG_NO_VECTORIZE void bin_rows(const void* a, const void* b, void* out,
                                                        const int64_t (*off)[3], int64_t nrows, int64_t inner,
                                                        int64_t ia, int64_t ib) {
  using R = decltype(bin<op, T>(T(), T()));
  for (int64_t r = 0; r < nrows; ++r) {
    const T* ra = static_cast<const T*>(a) + off[r][1];
    const T* rb = static_cast<const T*>(b) + off[r][2];
    R* ro = static_cast<R*>(out) + off[r][0];
    if (ia && ib)
      for (int64_t i = 0; i < inner; ++i) ro[i] = bin<op, T>(ra[i], rb[i]);
    else if (ia) {
      const T s = rb[0];
      for (int64_t i = 0; i < inner; ++i) ro[i] = bin<op, T>(ra[i], s);
    } else if (ib) {
      const T s = ra[0];
      for (int64_t i = 0; i < inner; ++i) ro[i] = bin<op, T>(s, rb[i]);
    } else {
      const R v = bin<op, T>(ra[0], rb[0]);
      for (int64_t i = 0; i < inner; ++i) ro[i] = v;
    }
  }
}

template <Op op, class T, class R>
inline void bin_vv(const T* __restrict a, const T* __restrict b, R* __restrict o, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = bin<op, T>(a[i], b[i]);
}
template <Op op, class T, class R> inline void bin_vs(const T* __restrict a, T s, R* __restrict o, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = bin<op, T>(a[i], s);
}
template <Op op, class T, class R> inline void bin_sv(T s, const T* __restrict b, R* __restrict o, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = bin<op, T>(s, b[i]);
}

template <Op op, class T> BinLoops bin_loops() {
  using R = decltype(bin<op, T>(T(), T()));
  return {[](const void* a, const void* b, void* o, int64_t n) {
            bin_vv<op, T, R>(static_cast<const T*>(a), static_cast<const T*>(b), static_cast<R*>(o), n);
          },
          [](const void* a, const void* b, void* o, int64_t n) {
            bin_vs<op, T, R>(static_cast<const T*>(a), *static_cast<const T*>(b), static_cast<R*>(o), n);
          },
          [](const void* a, const void* b, void* o, int64_t n) {
            bin_sv<op, T, R>(*static_cast<const T*>(a), static_cast<const T*>(b), static_cast<R*>(o), n);
          },
          bin_rows<op, T>};
}

// m when one of a, b has out's shape and the other is out's last dimensions (numel m <= 256,
// leading 1s allowed): out's rows of m elements each pair with that one row. Else 0.
int64_t short_suffix(const Shape& a, const Shape& b, const Shape& out) {
  const Shape* row = a == out ? &b : (b == out ? &a : nullptr);
  if (!row) return 0;
  const int64_t m = row->numel();
  if (m == 0 || m > 256 || m == out.numel()) return 0;
  int lead = 0;
  while (lead < row->ndim && (*row)[lead] == 1) ++lead;
  const int k = row->ndim - lead;
  for (int i = 0; i < k; ++i)
    if ((*row)[lead + i] != out[out.ndim - k + i]) return 0;
  return m;
}

// out = op(a, b) with numpy broadcasting; a and b have one dtype, out is fresh (see above).
void run_binary(const Tensor& a, const Tensor& b, Tensor& out, const BinLoops& k) {
  const int64_t isz = int64_t(itemsize(a.dtype)), osz = int64_t(itemsize(out.dtype));
  const char* pa = static_cast<const char*>(a.raw());
  const char* pb = static_cast<const char*>(b.raw());
  char* po = static_cast<char*>(out.raw());
  const int64_t n = out.numel();
  if (a.shape == b.shape) {
    parallel_for(n, kGrain,
                 [&](int64_t lo, int64_t hi) { k.vv(pa + lo * isz, pb + lo * isz, po + lo * osz, hi - lo); });
  } else if (b.numel() == 1 && a.numel() == n) {
    parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) { k.vs(pa + lo * isz, pb, po + lo * osz, hi - lo); });
  } else if (a.numel() == 1 && b.numel() == n) {
    parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) { k.sv(pa, pb + lo * isz, po + lo * osz, hi - lo); });
  } else if (int64_t m = short_suffix(a.shape, b.shape, out.shape)) {
    // x[..., :] op row[:] with a short row (a bias): the row tiled into a block of whole rows,
    // then tensor-tensor loops over blocks instead of a call per row.
    const bool a_row = a.numel() == m;
    const int64_t per = std::max<int64_t>(1, 1024 / m), block = per * m;
    std::vector<char> tile(size_t(block * isz));
    for (int64_t r = 0; r < per; ++r) std::memcpy(tile.data() + r * m * isz, a_row ? pa : pb, size_t(m * isz));
    const char* full = a_row ? pb : pa;
    parallel_for(n / m, std::max<int64_t>(1, kGrain / m), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; r += per) {
        const int64_t len = std::min(per, hi - r) * m;
        const char* f = full + r * m * isz;
        if (a_row) k.vv(tile.data(), f, po + r * m * osz, len);
        else k.vv(f, tile.data(), po + r * m * osz, len);
      }
    });
  } else {
    std::array<int64_t, kMaxRank> st[2] = {broadcast_strides(a.shape, out.shape),
                                           broadcast_strides(b.shape, out.shape)};
    const int nd = out.ndim();
    const int64_t inner = out.shape[nd - 1];
    const int64_t ia = st[0][nd - 1], ib = st[1][nd - 1];
    const int64_t rows = inner ? n / inner : 0;
    auto row = [&](int64_t o, const int64_t* off) {
      const char* ra = pa + off[0] * isz;
      const char* rb = pb + off[1] * isz;
      char* ro = po + o * osz;
      if (ia && ib) k.vv(ra, rb, ro, inner);
      else if (ia) k.vs(ra, rb, ro, inner);
      else if (ib) k.sv(ra, rb, ro, inner);
      else
        for (int64_t i = 0; i < inner; ++i) k.vv(ra, rb, ro + i * osz, 1);
    };
    int64_t grain_rows = inner ? std::max<int64_t>(1, kGrain / inner) : 1;
    if (inner <= kShortRow) {  // offsets of up to 256 rows at a time, then one call
      parallel_for(rows, grain_rows, [&](int64_t lo, int64_t hi) {
        int64_t off[256][3];
        int64_t m = 0;
        for_each_row<2>(out.shape, st, lo, hi, [&](int64_t o, const int64_t* io) {
          off[m][0] = o, off[m][1] = io[0], off[m][2] = io[1];
          if (++m == 256) k.rows(pa, pb, po, off, m, inner, ia, ib), m = 0;
        });
        if (m) k.rows(pa, pb, po, off, m, inner, ia, ib);
      });
    } else parallel_for(rows, grain_rows, [&](int64_t lo, int64_t hi) { for_each_row<2>(out.shape, st, lo, hi, row); });
  }
}

template <Op op> void binary_op(const Tensor& a, const Tensor& b, Tensor& out) {
  TG_DISPATCH_ALL(a.dtype, T, {
    if constexpr (binary_supported<op, T>()) {
      run_binary(a, b, out, bin_loops<op, T>());
    } else {
      throw InvalidArgument(std::string("Could not find device for node: ") + op_name(op) + " is not defined for " +
                            dtype_name(a.dtype) + " tensors [Op:" + op_name(op) + "]");
    }
  });
}

bool is_comparison(Op op) {
  return op == Op::Equal || op == Op::NotEqual || op == Op::Less || op == Op::LessEqual || op == Op::Greater ||
         op == Op::GreaterEqual || op == Op::LogicalAnd || op == Op::LogicalOr;
}

// ---- unary -----------------------------------------------------------------------------------

template <Op op, class T> constexpr bool unary_supported() {
  switch (op) {
    case Op::Neg:
    case Op::Square:
    case Op::Abs:
    case Op::Sign:
    case Op::Relu:
    case Op::Relu6: return is_fp<T> || is_int<T>;
    case Op::LogicalNot: return std::is_same<T, bool>::value;
    case Op::IsNan:
    case Op::IsFinite:
    case Op::IsInf: return is_fp<T>;
    default: return is_fp<T>;
  }
}

template <class T> inline T sigmoid(T x) {  // branch-free, so it vectorises (See Note [Vector math])
  const T e = std::exp(-std::abs(x));
  return (x >= T(0) ? T(1) : e) / (T(1) + e);  // a select of two ready values, then the divide
}

template <Op op, class T> inline auto una(T x) {
  if constexpr (op == Op::Neg) {
    if constexpr (is_int<T>) return wrap_neg(x);
    else return T(-x);
  } else if constexpr (op == Op::Square) return T(x * x);
  else if constexpr (op == Op::Abs) {
    if constexpr (is_int<T>) return T(x < 0 ? wrap_neg(x) : x);  // abs(INT_MIN) = INT_MIN, as TF
    else return T(x < 0 ? -x : x);
  } else if constexpr (op == Op::Sign) {
    if constexpr (is_fp<T>) {
      if (x != x) return x;
    }  // sign(nan) = nan, as TF
    return T((x > 0) - (x < 0));
  } else if constexpr (op == Op::Relu) {
    if constexpr (is_fp<T>) return T(x > 0 || x != x ? x : 0);  // relu(nan) = nan, as TF
    else return T(x > 0 ? x : 0);
  } else if constexpr (op == Op::Relu6) {
    if constexpr (is_fp<T>) {
      if (x != x) return x;
    }  // relu6(nan) = nan, as TF
    return T(x > 0 ? (x < T(6) ? x : T(6)) : 0);
  } else if constexpr (op == Op::LogicalNot) return bool(!x);
  else if constexpr (op == Op::IsNan) return bool(std::isnan(x));
  else if constexpr (op == Op::IsFinite) return bool(std::isfinite(x));
  else if constexpr (op == Op::IsInf) return bool(std::isinf(x));
  else if constexpr (op == Op::Sqrt) return T(std::sqrt(x));
  else if constexpr (op == Op::Rsqrt) return T(T(1) / std::sqrt(x));
  else if constexpr (op == Op::Exp) return T(std::exp(x));
  else if constexpr (op == Op::Expm1) return T(std::expm1(x));
  else if constexpr (op == Op::Log) return T(std::log(x));
  else if constexpr (op == Op::Log1p) return T(std::log1p(x));
  else if constexpr (op == Op::Sin) return T(std::sin(x));
  else if constexpr (op == Op::Cos) return T(std::cos(x));
  else if constexpr (op == Op::Tan) return T(std::tan(x));
  else if constexpr (op == Op::Tanh) return T(std::tanh(x));
  else if constexpr (op == Op::Sinh) return T(std::sinh(x));
  else if constexpr (op == Op::Cosh) return T(std::cosh(x));
  else if constexpr (op == Op::Asin) return T(std::asin(x));
  else if constexpr (op == Op::Acos) return T(std::acos(x));
  else if constexpr (op == Op::Atan) return T(std::atan(x));
  else if constexpr (op == Op::Sigmoid) return sigmoid(x);
  else if constexpr (op == Op::Softplus) return T((x > 0 ? x : T(0)) + std::log1p(std::exp(-std::abs(x))));
  else if constexpr (op == Op::Reciprocal) return T(T(1) / x);
  else if constexpr (op == Op::Floor) return T(std::floor(x));
  else if constexpr (op == Op::Ceil) return T(std::ceil(x));
  else if constexpr (op == Op::Round) return T(std::nearbyint(x));  // half to even, as TF
  else if constexpr (op == Op::Erf) return T(std::erf(x));
  else if constexpr (op == Op::Erfc) return T(std::erfc(x));
  else if constexpr (op == Op::Asinh) return T(std::asinh(x));
  else if constexpr (op == Op::Acosh) return T(std::acosh(x));
  else if constexpr (op == Op::Atanh) return T(std::atanh(x));
  else return T(0);
}

// One loop per (op, dtype), run in parallel chunks through a function pointer (Note [Kernel loops]).
template <Op op, class T> void una_loop(const void* x, void* out, int64_t n) {
  using R = decltype(una<op, T>(T()));
  const T* __restrict px = static_cast<const T*>(x);
  R* __restrict po = static_cast<R*>(out);
  for (int64_t i = 0; i < n; ++i) po[i] = una<op, T>(px[i]);
}

void run_unary(const Tensor& x, Tensor& out, void (*loop)(const void*, void*, int64_t)) {
  const int64_t isz = int64_t(itemsize(x.dtype)), osz = int64_t(itemsize(out.dtype));
  const char* px = static_cast<const char*>(x.raw());
  char* po = static_cast<char*>(out.raw());
  parallel_for(x.numel(), kGrain / 4, [&](int64_t lo, int64_t hi) { loop(px + lo * isz, po + lo * osz, hi - lo); });
}

void tanh_f32(const void* x, void* out, int64_t n) {  // Note [Own tanh]
  vmath::tanh_f32(static_cast<const float*>(x), static_cast<float*>(out), n);
}
void tanh_f64(const void* x, void* out, int64_t n) {
  vmath::tanh_f64(static_cast<const double*>(x), static_cast<double*>(out), n);
}

template <Op op> void unary_op(const Tensor& x, Tensor& out) {
  TG_DISPATCH_ALL(x.dtype, T, {
    if constexpr (unary_supported<op, T>()) {
      if constexpr (op == Op::Tanh && std::is_same<T, float>::value) {
        if (vmath::have_tanh_f32()) return run_unary(x, out, tanh_f32);
      }
      if constexpr (op == Op::Tanh && std::is_same<T, double>::value) {
        if (vmath::have_tanh_f32()) return run_unary(x, out, tanh_f64);
      }
      run_unary(x, out, una_loop<op, T>);
    } else {
      throw attr_t_error_for(x.dtype, op_name(op));
    }
  });
}

bool unary_to_bool(Op op) { return op == Op::LogicalNot || op == Op::IsNan || op == Op::IsFinite || op == Op::IsInf; }

// Copies x, viewed with broadcast strides, into a contiguous tensor of `shape`.
Tensor strided_copy(const Tensor& x, const Shape& shape, const std::array<int64_t, kMaxRank>& st) {
  Tensor out = Tensor::empty(shape, x.dtype);
  if (out.numel() == 0) return out;
  if (shape.ndim == 0) {
    std::memcpy(out.raw(), x.raw(), itemsize(x.dtype));
    return out;
  }
  TG_DISPATCH_BYTES(x.dtype, T, {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const int nd = shape.ndim;
    const int64_t inner = shape[nd - 1], is = st[nd - 1];
    auto row = [&](int64_t o, const int64_t* off) {
      const T* r = px + off[0];
      if (is == 1) std::memcpy(po + o, r, size_t(inner) * sizeof(T));
      else if (is == 0) std::fill_n(po + o, inner, r[0]);  // a broadcast row: one value (vectorised fill)
      else
        for (int64_t i = 0; i < inner; ++i) po[o + i] = r[i * is];
    };
    int64_t rows = out.numel() / inner;
    parallel_for(rows, std::max<int64_t>(1, kGrain / inner),
                 [&](int64_t lo, int64_t hi) { for_each_row<1>(shape, &st, lo, hi, row); });
  });
  return out;
}

template <class D, class S> void cast_loop(const void* x, void* out, int64_t n) {
  const S* __restrict px = static_cast<const S*>(x);
  D* __restrict po = static_cast<D*>(out);
  for (int64_t i = 0; i < n; ++i) po[i] = convert<D, S>(px[i]);
}

}  // namespace

namespace kernels {

Shape broadcast_shapes(const Shape& a, const Shape& b, Op op) {
  Shape out;
  out.ndim = std::max(a.ndim, b.ndim);
  for (int i = 0; i < out.ndim; ++i) {
    int ia = a.ndim - out.ndim + i, ib = b.ndim - out.ndim + i;
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      throw InvalidArgument("Incompatible shapes: " + a.str() + " vs. " + b.str() + " [Op:" + op_name(op) + "]");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor binary(Op op, const Tensor& a, const Tensor& b) {
  if (a.dtype != b.dtype)
    throw InvalidArgument(std::string("cannot compute ") + op_name(op) +
                          " as input #1(zero-based) was expected to be a " + dtype_kernel_name(a.dtype) +
                          " tensor but is a " + dtype_kernel_name(b.dtype) + " tensor [Op:" + op_name(op) + "]");
  if (is_narrow(a.dtype)) return narrow::binary(op, a, b);
  if (is_complex(a.dtype)) return cplx::binary(op, a, b);
  Shape shape = a.shape == b.shape ? a.shape : broadcast_shapes(a.shape, b.shape, op);
  Tensor out = Tensor::empty(shape, is_comparison(op) ? DType::Bool : a.dtype);
  if (out.numel() == 0) return out;
  if (is_integer(b.dtype) && (op == Op::FloorDiv || op == Op::FloorMod || op == Op::Div)) {
    TG_DISPATCH_NUMERIC(b.dtype, T, {
      const T* pb = b.data<T>();
      for (int64_t i = 0, n = b.numel(); i < n; ++i)
        if (pb[i] == 0) throw InvalidArgument(std::string("Integer division by zero [Op:") + op_name(op) + "]");
    });
  }
  if (op == Op::Pow && is_integer(b.dtype)) {  // TF refuses negative integer exponents
    TG_DISPATCH_NUMERIC(b.dtype, T, {
      const T* pb = b.data<T>();
      for (int64_t i = 0, n = b.numel(); i < n; ++i)
        if (pb[i] < T(0)) throw InvalidArgument("Integers to negative integer powers are not allowed [Op:Pow]");
    });
  }
  switch (op) {
#define TG_BIN(OP) \
  case Op::OP: binary_op<Op::OP>(a, b, out); break;
    TG_BIN(Add)
    TG_BIN(Sub)
    TG_BIN(Mul)
    TG_BIN(Div)
    TG_BIN(Pow)
    TG_BIN(Maximum)
    TG_BIN(Minimum)
    TG_BIN(FloorDiv)
    TG_BIN(FloorMod)
    TG_BIN(SquaredDifference)
    TG_BIN(Atan2)
    TG_BIN(TanhGrad)
    TG_BIN(SigmoidGrad)
    TG_BIN(ReluGrad)
    TG_BIN(Equal)
    TG_BIN(NotEqual)
    TG_BIN(Less)
    TG_BIN(LessEqual)
    TG_BIN(Greater)
    TG_BIN(GreaterEqual)
    TG_BIN(LogicalAnd)
    TG_BIN(LogicalOr)
#undef TG_BIN
    default: throw InvalidArgument(std::string("not a binary op: ") + op_name(op));
  }
  return out;
}

Tensor unary(Op op, const Tensor& x) {
  if (is_narrow(x.dtype)) return narrow::unary(op, x);
  if (is_complex(x.dtype)) return cplx::unary(op, x);
  Tensor out = Tensor::empty(x.shape, unary_to_bool(op) ? DType::Bool : x.dtype);
  if (out.numel() == 0) return out;
  switch (op) {
#define TG_UN(OP) \
  case Op::OP: unary_op<Op::OP>(x, out); break;
    TG_UN(Neg)
    TG_UN(Square)
    TG_UN(Sqrt)
    TG_UN(Rsqrt)
    TG_UN(Exp)
    TG_UN(Expm1)
    TG_UN(Log)
    TG_UN(Log1p)
    TG_UN(Sin)
    TG_UN(Cos)
    TG_UN(Tan)
    TG_UN(Tanh)
    TG_UN(Sinh)
    TG_UN(Cosh)
    TG_UN(Asin)
    TG_UN(Acos)
    TG_UN(Atan)
    TG_UN(Abs)
    TG_UN(Sign)
    TG_UN(Relu)
    TG_UN(Sigmoid)
    TG_UN(Softplus)
    TG_UN(Reciprocal)
    TG_UN(Floor)
    TG_UN(Ceil)
    TG_UN(Round)
    TG_UN(Erf)
    TG_UN(LogicalNot)
    TG_UN(IsNan)
    TG_UN(IsFinite)
    TG_UN(IsInf)
    TG_UN(Erfc)
    TG_UN(Relu6)
    TG_UN(Asinh)
    TG_UN(Acosh)
    TG_UN(Atanh)
#undef TG_UN
    default: throw InvalidArgument(std::string("not a unary op: ") + op_name(op));
  }
  return out;
}

namespace {
template <class T> EwLoops float_loops_t(Op op) {
  EwLoops k;
  auto set_bin = [&](const BinLoops& b) {
    k.vv = b.vv;
    k.vs = b.vs;
    k.sv = b.sv;
  };
  switch (op) {
#define TG_BIN(OP)                                                                \
  case Op::OP:                                                                    \
    if constexpr (binary_supported<Op::OP, T>()) set_bin(bin_loops<Op::OP, T>()); \
    break;
    TG_BIN(Add)
    TG_BIN(Sub)
    TG_BIN(Mul)
    TG_BIN(Div)
    TG_BIN(Maximum)
    TG_BIN(Minimum)
    TG_BIN(SquaredDifference)
    TG_BIN(TanhGrad)
    TG_BIN(SigmoidGrad)
    TG_BIN(ReluGrad)
#undef TG_BIN
#define TG_UN(OP)                                                           \
  case Op::OP:                                                              \
    if constexpr (unary_supported<Op::OP, T>()) k.un = una_loop<Op::OP, T>; \
    break;
    TG_UN(Neg)
    TG_UN(Square)
    TG_UN(Sqrt)
    TG_UN(Rsqrt)
    TG_UN(Exp)
    TG_UN(Log)
    TG_UN(Sin)
    TG_UN(Cos)
    TG_UN(Abs)
    TG_UN(Relu)
    TG_UN(Sigmoid)
    TG_UN(Reciprocal)
#undef TG_UN
    case Op::Tanh:  // as unary_op<Op::Tanh> chooses
      if constexpr (std::is_same<T, float>::value) {
        if (vmath::have_tanh_f32()) {
          k.un = tanh_f32;
          break;
        }
      }
      if constexpr (std::is_same<T, double>::value) {
        if (vmath::have_tanh_f32()) {
          k.un = tanh_f64;
          break;
        }
      }
      k.un = una_loop<Op::Tanh, T>;
      break;
    default: break;
  }
  return k;
}
}  // namespace

EwLoops float_loops(Op op, DType dtype) {
  if (dtype == DType::Float32) return float_loops_t<float>(op);
  if (dtype == DType::Float64) return float_loops_t<double>(op);
  return {};
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  Shape b = broadcast_shapes(x.shape, shape, Op::BroadcastTo);
  if (b != shape)
    throw InvalidArgument("Unable to broadcast tensor of shape " + x.shape.str() + " to tensor of shape " +
                          shape.str() + " [Op:BroadcastTo]");
  if (x.shape == shape) return reshape(x, shape);
  return strided_copy(x, shape, broadcast_strides(x.shape, shape));
}

Tensor transpose(const Tensor& x, const std::vector<int>& perm) {
  Shape shape;
  shape.ndim = x.ndim();
  std::array<int64_t, kMaxRank> in_st{}, st{};
  int64_t s = 1;
  for (int i = x.ndim() - 1; i >= 0; --i) {
    in_st[i] = s;
    s *= x.shape[i];
  }
  for (int i = 0; i < x.ndim(); ++i) {
    shape[i] = x.shape[perm[i]];
    st[i] = in_st[perm[i]];
  }
  return strided_copy(x, shape, st);
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  shape.checked_numel();  // a view allocates nothing, so Tensor::empty's check does not see it
  Tensor t = x;
  t.shape = shape;
  t.id = next_tensor_id();
  return t;
}

Tensor cast(const Tensor& x, DType dtype) {
  Tensor out = Tensor::empty(x.shape, dtype);
  const int64_t n = x.numel();
  if (x.dtype == dtype) {
    if (out.nbytes()) std::memcpy(out.raw(), x.raw(), out.nbytes());
    return out;
  }
  void (*loop)(const void*, void*, int64_t) = nullptr;
  TG_DISPATCH_EVERY(x.dtype, S, {  // every pair, with TF's rules (See Note [Cast rules])
    TG_DISPATCH_EVERY(dtype, D, { loop = cast_loop<D, S>; });
  });
  const int64_t isz = int64_t(itemsize(x.dtype)), osz = int64_t(itemsize(dtype));
  const char* px = static_cast<const char*>(x.raw());
  char* po = static_cast<char*>(out.raw());
  parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) { loop(px + lo * isz, po + lo * osz, hi - lo); });
  return out;
}

Tensor select(const Tensor& cond, const Tensor& a, const Tensor& b) {
  if (cond.dtype != DType::Bool)
    throw InvalidArgument(std::string("where: condition must be a bool tensor, got ") + dtype_name(cond.dtype));
  if (a.dtype != b.dtype)
    throw InvalidArgument(std::string("where: x and y must have the same dtype, got ") + dtype_name(a.dtype) + " and " +
                          dtype_name(b.dtype) + " [Op:SelectV2]");
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape, a.shape, Op::Select), b.shape, Op::Select);
  Tensor out = Tensor::empty(shape, a.dtype);
  const int64_t n = out.numel();
  if (n == 0) return out;
  // full-shape operands and scalars are read in place (stride 1 or 0); others are broadcast first
  auto prep = [&](const Tensor& t, int64_t& stride) {
    stride = t.numel() == 1 ? 0 : 1;
    return (t.shape == shape || t.numel() == 1) ? t : broadcast_to(t, shape);
  };
  int64_t sc, sx, sy;
  Tensor c = prep(cond, sc), x = prep(a, sx), y = prep(b, sy);
  const bool* pc = c.data<bool>();
  TG_DISPATCH_BYTES(a.dtype, T, {
    const T* px = x.data<T>();
    const T* py = y.data<T>();
    T* po = out.data<T>();
    parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
      // both values loaded first: a blend, not a branch on random data
      if (sc && sx && sy)
        for (int64_t i = lo; i < hi; ++i) {
          const T u = px[i], v = py[i];
          po[i] = pc[i] ? u : v;
        }
      else
        for (int64_t i = lo; i < hi; ++i) {
          const T u = px[i * sx], v = py[i * sy];
          po[i] = pc[i * sc] ? u : v;
        }
    });
  });
  return out;
}

}  // namespace kernels
}  // namespace tg
