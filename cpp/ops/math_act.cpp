// Activations with a parameter or a fused backward: leaky_relu (alpha), and the grad kernels
// (LeakyReluGrad, Relu6Grad) whose own gradient w.r.t. x is zeros, as TF's *GradGrad rules say.
#include <algorithm>
#include <string>

#include "autodiff/tape.h"
#include "ops/math.h"
#include "ops/math_simd.h"
#include "tensor/parallel.h"

namespace tg {
namespace {

constexpr int64_t kGrain = 1 << 14;

void check_float(const Tensor& x, Op op) {
  if (!is_floating(x.dtype)) throw attr_t_error_for(x.dtype, op_name(op));
}

void check_grad_pair(const Tensor& x, const Tensor& g, Op op) {
  check_float(x, op);
  if (g.dtype != x.dtype || g.shape != x.shape)
    throw InvalidArgument(std::string(op_name(op)) +
                          ": gradients and features must have the same shape and dtype, got " + g.shape.str() + " " +
                          dtype_name(g.dtype) + " and " + x.shape.str() + " " + dtype_name(x.dtype));
}

// f(x, g) elementwise over same-shaped float tensors.
template <class F> Tensor map2(const Tensor& x, const Tensor& g, F f) {
  Tensor out = Tensor::empty(x.shape, x.dtype);
  TG_DISPATCH_FLOAT(x.dtype, T, {
    const T* px = x.data<T>();
    const T* pg = g.data<T>();
    T* po = out.data<T>();
    parallel_for(x.numel(), kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(px[i], pg[i]);
    });
  });
  return out;
}

}  // namespace

namespace kernels {

Tensor leaky_relu(const Tensor& x, double alpha) {
  check_float(x, Op::LeakyRelu);
  Tensor out = Tensor::empty(x.shape, x.dtype);
  TG_DISPATCH_FLOAT(x.dtype, T, {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const T a = T(alpha);
    parallel_for(x.numel(), kGrain, [px, po, a](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const T v = px[i];  // max/min, not a branch: vectorises, NaN propagates
        po[i] = std::max(v, T(0)) + a * std::min(v, T(0));
      }
    });
  });
  return out;
}

Tensor leaky_relu_grad(const Tensor& x, const Tensor& g, double alpha) {
  check_grad_pair(x, g, Op::LeakyReluGrad);
  return map2(x, g, [alpha](auto xv, auto gv) {
    using T = decltype(xv);
    const T slope = xv > T(0) ? T(1) : T(alpha);
    return gv * slope;
  });
}

Tensor relu6_grad(const Tensor& x, const Tensor& g) {
  if (is_half(x.dtype) && g.dtype == x.dtype)  // See Note [Narrow dtypes]
    return cast(relu6_grad(cast(x, DType::Float32), cast(g, DType::Float32)), x.dtype);
  check_grad_pair(x, g, Op::Relu6Grad);
  return map2(x, g, [](auto xv, auto gv) {
    using T = decltype(xv);
    return gv * T((xv > T(0)) & (xv < T(6)));  // TF multiplies by the mask too
  });
}

// Elu (scale 1, alpha 1) and Selu: x >= 0 ? scale * x : scale * alpha * expm1(x), computed as
// scale * alpha * expm1(min(x, 0)) + scale * max(x, 0) (See Note [Vector math]).
namespace {
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
}  // namespace

Tensor exp_linear(Op op, const Tensor& x) {
  check_float(x, op);
  Tensor out = Tensor::empty(x.shape, x.dtype);
  const bool selu = op == Op::Selu;
  TG_DISPATCH_FLOAT(x.dtype, T, {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const T scale = selu ? T(kSeluScale) : T(1), sa = selu ? T(kSeluScale * kSeluAlpha) : T(1);
    parallel_for(x.numel(), kGrain, [px, po, scale, sa](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        // one of the two terms is an exact zero: no branch, so gcc vectorises
        const T v = px[i];
        po[i] = sa * std::expm1(std::min(v, T(0))) + scale * std::max(v, T(0));
      }
    });
  });
  return out;
}

// TF's EluGrad / SeluGrad, from the activations: g * (ans < 0 ? ans + scale * alpha : scale).
Tensor exp_linear_grad(Op op, const Tensor& ans, const Tensor& g) {
  check_grad_pair(ans, g, op);
  const bool selu = op == Op::SeluGrad;
  const double scale = selu ? kSeluScale : 1.0, sa = selu ? kSeluScale * kSeluAlpha : 1.0;
  return map2(ans, g, [scale, sa](auto a, auto gv) {
    using T = decltype(a);
    const bool neg = a < T(0);  // selects of ready values, then one add: vectorises
    return gv * ((neg ? a : T(0)) + (neg ? T(sa) : T(scale)));
  });
}

}  // namespace kernels

namespace ops {

Tensor leaky_relu(const Tensor& x, double alpha) {
  Tensor out = kernels::leaky_relu(x, alpha);
  tape::record(Op::LeakyRelu, {x}, {out}, [&](Attrs& at) { at.alpha = alpha; });
  return out;
}

Tensor leaky_relu_grad(const Tensor& x, const Tensor& g, double alpha) {
  Tensor out = kernels::leaky_relu_grad(x, g, alpha);
  tape::record(Op::LeakyReluGrad, {x, g}, {out}, [&](Attrs& at) { at.alpha = alpha; });
  return out;
}

Tensor exp_linear(Op op, const Tensor& x) {
  Tensor out = kernels::exp_linear(op, x);
  tape::record(op, {x}, {out});
  return out;
}

Tensor exp_linear_grad(Op op, const Tensor& ans, const Tensor& g) {
  Tensor out = kernels::exp_linear_grad(op, ans, g);
  tape::record(op, {ans, g}, {out});
  return out;
}

Tensor relu6_grad(const Tensor& x, const Tensor& g) {
  Tensor out = kernels::relu6_grad(x, g);
  tape::record(Op::Relu6Grad, {x, g}, {out});
  return out;
}

}  // namespace ops
}  // namespace tg
