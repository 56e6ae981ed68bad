// Complex kernels: plain std::complex loops over (broadcast) contiguous inputs. They run in the
// caller's thread; complex tensors are rare and small in tapegrad's users' programs (scientific
// code, spectra), and the compiler vectorises the simple loops. See Note [Complex dtypes].
#include "ops/complex.h"

#include <cmath>

#include "autodiff/tape.h"

namespace tg {
namespace {

[[noreturn]] void not_allowed(Op op, DType d) { throw attr_t_error_for(d, op_name(op)); }

Tensor expand(const Tensor& x, const Shape& shape) { return x.shape == shape ? x : kernels::broadcast_to(x, shape); }

template <class C> C unary_value(Op op, C z) {
  using R = typename C::value_type;
  switch (op) {
    case Op::Neg: return -z;
    case Op::Square: return z * z;
    case Op::Sqrt: return std::sqrt(z);
    case Op::Rsqrt: return C(R(1)) / std::sqrt(z);
    case Op::Exp: return std::exp(z);
    case Op::Expm1: return std::exp(z) - C(R(1));
    case Op::Log: return std::log(z);
    case Op::Log1p: return std::log(C(R(1)) + z);
    case Op::Sin: return std::sin(z);
    case Op::Cos: return std::cos(z);
    case Op::Tan: return std::tan(z);
    case Op::Tanh: return std::tanh(z);
    case Op::Sinh: return std::sinh(z);
    case Op::Cosh: return std::cosh(z);
    case Op::Asin: return std::asin(z);
    case Op::Acos: return std::acos(z);
    case Op::Atan: return std::atan(z);
    case Op::Asinh: return std::asinh(z);
    case Op::Acosh: return std::acosh(z);
    case Op::Atanh: return std::atanh(z);
    case Op::Reciprocal: return C(R(1)) / z;
    case Op::Sign: {  // TF: x / |x|, 0 at 0
      R m = std::abs(z);
      return m == R(0) ? C(R(0)) : z / m;
    }
    default: return z;
  }
}

bool unary_allowed(Op op) {
  switch (op) {
    case Op::Neg:
    case Op::Square:
    case Op::Sqrt:
    case Op::Rsqrt:
    case Op::Exp:
    case Op::Expm1:
    case Op::Log:
    case Op::Log1p:
    case Op::Sin:
    case Op::Cos:
    case Op::Tan:
    case Op::Tanh:
    case Op::Sinh:
    case Op::Cosh:
    case Op::Asin:
    case Op::Acos:
    case Op::Atan:
    case Op::Asinh:
    case Op::Acosh:
    case Op::Atanh:
    case Op::Reciprocal:
    case Op::Sign: return true;
    default: return false;
  }
}

}  // namespace

namespace cplx {

Tensor binary(Op op, const Tensor& a, const Tensor& b) {
  const bool cmp = op == Op::Equal || op == Op::NotEqual;
  if (!(cmp || op == Op::Add || op == Op::Sub || op == Op::Mul || op == Op::Div || op == Op::Pow ||
        op == Op::SquaredDifference))
    not_allowed(op, a.dtype);
  Shape shape = a.shape == b.shape ? a.shape : kernels::broadcast_shapes(a.shape, b.shape, op);
  Tensor out = Tensor::empty(shape, cmp ? DType::Bool : a.dtype);
  const int64_t n = out.numel();
  if (n == 0) return out;
  Tensor x = expand(a, shape), y = expand(b, shape);
  TG_DISPATCH_COMPLEX(a.dtype, C, {
    const C* px = x.data<C>();
    const C* py = y.data<C>();
    if (cmp) {
      bool* po = out.data<bool>();
      for (int64_t i = 0; i < n; ++i) po[i] = (px[i] == py[i]) == (op == Op::Equal);
    } else {
      C* po = out.data<C>();
      switch (op) {
        case Op::Add:
          for (int64_t i = 0; i < n; ++i) po[i] = px[i] + py[i];
          break;
        case Op::Sub:
          for (int64_t i = 0; i < n; ++i) po[i] = px[i] - py[i];
          break;
        case Op::Mul:
          for (int64_t i = 0; i < n; ++i) po[i] = px[i] * py[i];
          break;
        case Op::Div:
          for (int64_t i = 0; i < n; ++i) po[i] = px[i] / py[i];
          break;
        case Op::Pow:
          for (int64_t i = 0; i < n; ++i) po[i] = std::pow(px[i], py[i]);
          break;
        default:  // SquaredDifference: (x - y) conj(x - y), as TF
          for (int64_t i = 0; i < n; ++i) po[i] = (px[i] - py[i]) * std::conj(px[i] - py[i]);
      }
    }
  });
  return out;
}

Tensor unary(Op op, const Tensor& x) {
  if (!unary_allowed(op)) not_allowed(op, x.dtype);
  Tensor out = Tensor::empty(x.shape, x.dtype);
  const int64_t n = out.numel();
  TG_DISPATCH_COMPLEX(x.dtype, C, {
    const C* px = x.data<C>();
    C* po = out.data<C>();
    for (int64_t i = 0; i < n; ++i) po[i] = unary_value(op, px[i]);
  });
  return out;
}

Tensor reduce(Op op, const Tensor& x, const std::vector<int>& axes, bool keepdims) {
  if (op != Op::Sum && op != Op::Mean && op != Op::Prod) not_allowed(op, x.dtype);
  const int nd = x.ndim();
  std::vector<bool> red(size_t(nd), false);
  for (int a : axes) red[size_t(a)] = true;
  Shape out_shape, kept;  // kept: the output with reduced axes as 1
  for (int i = 0; i < nd; ++i) {
    kept[kept.ndim++] = red[size_t(i)] ? 1 : x.shape[i];
    if (!red[size_t(i)]) out_shape[out_shape.ndim++] = x.shape[i];
    else if (keepdims) out_shape[out_shape.ndim++] = 1;
  }
  Tensor out = Tensor::empty(out_shape, x.dtype);
  const int64_t n_out = out.numel(), n_in = x.numel();
  const int64_t count = n_out ? n_in / n_out : 0;
  TG_DISPATCH_COMPLEX(x.dtype, C, {
    C* po = out.data<C>();
    const C init = op == Op::Prod ? C(1) : C(0);
    for (int64_t i = 0; i < n_out; ++i) po[i] = init;
    const C* px = x.data<C>();
    // walk x in order; the output index drops the reduced coordinates
    int64_t strides[kMaxRank];
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; --d) {
      strides[d] = red[size_t(d)] ? 0 : s;
      s *= kept[d];
    }
    int64_t coord[kMaxRank] = {};
    int64_t o = 0;
    for (int64_t i = 0; i < n_in; ++i) {
      po[o] = op == Op::Prod ? po[o] * px[i] : po[o] + px[i];
      for (int d = nd - 1; d >= 0; --d) {  // next coordinate
        ++coord[d];
        o += strides[d];
        if (coord[d] < x.shape[d]) break;
        o -= strides[d] * coord[d];
        coord[d] = 0;
      }
    }
    if (op == Op::Mean)
      for (int64_t i = 0; i < n_out; ++i) po[i] /= typename C::value_type(count);
  });
  return out;
}

}  // namespace cplx

namespace ops {
DType complex_of(DType real) {
  if (real == DType::Float32) return DType::Complex64;
  if (real == DType::Float64) return DType::Complex128;
  throw attr_t_error(real, ": float, double [Op:Complex]");
}
DType real_of(DType c) {
  if (c == DType::Complex64) return DType::Float32;
  if (c == DType::Complex128) return DType::Float64;
  return c;
}
}  // namespace ops

namespace kernels {

namespace {
template <class F> Tensor to_real(const Tensor& x, F f) {
  Tensor out = Tensor::empty(x.shape, ops::real_of(x.dtype));
  const int64_t n = x.numel();
  TG_DISPATCH_COMPLEX(x.dtype, C, {
    using R = typename C::value_type;
    const C* px = x.data<C>();
    R* po = out.data<R>();
    for (int64_t i = 0; i < n; ++i) po[i] = f(px[i]);
  });
  return out;
}
void check_real_input(const Tensor& x, const char* op) {
  if (!is_floating(x.dtype) && !is_complex(x.dtype))
    throw attr_t_error(x.dtype, std::string(": complex64, complex128, float, double for ") + op + " [Op:" + op + "]");
}
}  // namespace

Tensor real(const Tensor& x) {
  check_real_input(x, "Real");
  if (!is_complex(x.dtype)) return kernels::reshape(x, x.shape);
  return to_real(x, [](auto z) { return z.real(); });
}
Tensor imag(const Tensor& x) {
  check_real_input(x, "Imag");
  if (!is_complex(x.dtype)) return Tensor::zeros(x.shape, x.dtype);
  return to_real(x, [](auto z) { return z.imag(); });
}
Tensor angle(const Tensor& x) {
  check_real_input(x, "Angle");
  if (!is_complex(x.dtype)) {  // atan2(0, x): 0 for x >= 0, pi for x < 0
    Tensor out = Tensor::empty(x.shape, x.dtype);
    TG_DISPATCH_FLOAT(x.dtype, T, {
      const T* px = x.data<T>();
      T* po = out.data<T>();
      for (int64_t i = 0, n = x.numel(); i < n; ++i) po[i] = std::atan2(T(0), px[i]);
    });
    return out;
  }
  return to_real(x, [](auto z) { return std::arg(z); });
}
Tensor complex_abs(const Tensor& x) {
  if (!is_complex(x.dtype)) throw attr_t_error(x.dtype, ": complex64, complex128 [Op:ComplexAbs]");
  return to_real(x, [](auto z) { return std::abs(z); });
}
Tensor conj(const Tensor& x) {
  if (!is_complex(x.dtype)) {
    if (x.dtype == DType::Bool || is_narrow(x.dtype) || !(is_floating(x.dtype) || is_integer(x.dtype)))
      throw attr_t_error(x.dtype, ": complex64, complex128, variant [Op:Conj]");
    return kernels::reshape(x, x.shape);
  }
  Tensor out = Tensor::empty(x.shape, x.dtype);
  TG_DISPATCH_COMPLEX(x.dtype, C, {
    const C* px = x.data<C>();
    C* po = out.data<C>();
    for (int64_t i = 0, n = x.numel(); i < n; ++i) po[i] = std::conj(px[i]);
  });
  return out;
}
Tensor complex(const Tensor& re, const Tensor& im) {
  if (re.dtype != im.dtype)
    throw InvalidArgument(std::string("cannot compute Complex as input #1(zero-based) was expected to be a ") +
                          dtype_kernel_name(re.dtype) + " tensor but is a " + dtype_kernel_name(im.dtype) +
                          " tensor [Op:Complex]");
  const DType cd = ops::complex_of(re.dtype);
  Shape shape = re.shape == im.shape ? re.shape : broadcast_shapes(re.shape, im.shape, Op::Complex);
  Tensor out = Tensor::empty(shape, cd);
  Tensor a = expand(re, shape), b = expand(im, shape);
  TG_DISPATCH_FLOAT(re.dtype, R, {
    const R* pa = a.data<R>();
    const R* pb = b.data<R>();
    std::complex<R>* po = out.data<std::complex<R>>();
    for (int64_t i = 0, n = out.numel(); i < n; ++i) po[i] = std::complex<R>(pa[i], pb[i]);
  });
  return out;
}

}  // namespace kernels

namespace ops {
Tensor real(const Tensor& x) {
  if (!is_complex(x.dtype)) return identity(x);
  Tensor out = kernels::real(x);
  tape::record(Op::Real, {x}, {out});
  return out;
}
Tensor imag(const Tensor& x) {
  Tensor out = kernels::imag(x);
  if (is_complex(x.dtype)) tape::record(Op::Imag, {x}, {out});
  return out;
}
Tensor conj(const Tensor& x) {
  if (!is_complex(x.dtype)) {
    kernels::conj(x);  // the dtype check
    return identity(x);
  }
  Tensor out = kernels::conj(x);
  tape::record(Op::Conj, {x}, {out});
  return out;
}
Tensor angle(const Tensor& x) {
  Tensor out = kernels::angle(x);
  tape::record(Op::Angle, {x}, {out});
  return out;
}
Tensor complex_abs(const Tensor& x) {
  Tensor out = kernels::complex_abs(x);
  tape::record(Op::ComplexAbs, {x}, {out});
  return out;
}
Tensor complex(const Tensor& re, const Tensor& im) {
  Tensor out = kernels::complex(re, im);
  tape::record(Op::Complex, {re, im}, {out});
  return out;
}
}  // namespace ops

}  // namespace tg
