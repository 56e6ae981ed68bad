// The derivative table: one vector-Jacobian product per primitive, written with ops:: so that
// an outer tape records it (second derivatives for free). Conventions: `x`, `y` are inputs,
// `ans` the output, `g` the upstream gradient; a rule may return a broadcast-shaped gradient
// (the backward pass sums it back, See Note [Backward pass]).
#include <cmath>

#include "autodiff/tape.h"
#include "ops/math.h"

namespace tg {
namespace {

using namespace ops;
#define VJP(NAME) void NAME(const Node& n, const Tensor* gs, const bool* needs, Tensor* out)
#define X n.inputs[0]
#define Y n.inputs[1]
#define ANS n.outputs[0]
#define G gs[0]

Tensor c(const Tensor& like, double v) { return scalar_like(like, v); }
Tensor gt0(const Tensor& x) { return kernels::binary(Op::Greater, x, scalar_like(x, 0.0)); }

VJP(vjp_none) {}  // differentiable op whose gradient TF defines as None (floor, round, ...)
VJP(vjp_zeros) { for (size_t i = 0; i < n.inputs.size(); ++i) if (needs[i]) out[i] = zeros_like(n.inputs[i]); }
VJP(vjp_identity) { out[0] = G; }

// binary
VJP(vjp_add) { out[0] = G; out[1] = G; }
VJP(vjp_sub) { out[0] = G; if (needs[1]) out[1] = neg(G); }
VJP(vjp_mul) {
  if (needs[0]) out[0] = mul(G, Y);
  if (needs[1]) out[1] = mul(G, X);
}
VJP(vjp_div) {
  if (needs[0]) out[0] = div(G, Y);
  if (needs[1]) out[1] = mul(G, neg(div(div(X, Y), Y)));
}
VJP(vjp_pow) {
  if (needs[0]) out[0] = mul(G, mul(Y, binary(Op::Pow, X, sub(Y, c(Y, 1.0)))));
  if (needs[1]) {
    Tensor pos = gt0(X);
    Tensor safe_x = select(pos, X, ones_like(X));
    Tensor log_x = select(pos, unary(Op::Log, safe_x), zeros_like(X));
    out[1] = mul(G, mul(ANS, log_x));
  }
}
void minmax(const Node& n, const Tensor* gs, const bool* needs, Tensor* out, Op cmp) {
  Tensor xmask = kernels::binary(cmp, X, Y);
  Tensor z = zeros_like(G);
  if (needs[0]) out[0] = select(xmask, G, z);
  if (needs[1]) out[1] = select(xmask, z, G);
}
VJP(vjp_maximum) { minmax(n, gs, needs, out, Op::GreaterEqual); }
VJP(vjp_minimum) { minmax(n, gs, needs, out, Op::LessEqual); }
VJP(vjp_floormod) {
  if (needs[0]) out[0] = G;
  if (needs[1]) out[1] = mul(G, neg(binary(Op::FloorDiv, X, Y)));
}
VJP(vjp_squared_difference) {
  Tensor gx = mul(G, mul(c(X, 2.0), sub(X, Y)));
  if (needs[0]) out[0] = gx;
  if (needs[1]) out[1] = neg(gx);
}
VJP(vjp_atan2) {  // atan2(y=X, x=Y)
  Tensor den = add(unary(Op::Square, X), unary(Op::Square, Y));
  if (needs[0]) out[0] = mul(G, div(Y, den));
  if (needs[1]) out[1] = mul(G, neg(div(X, den)));
}
VJP(vjp_tanh_grad) {  // ans = grad_in * (1 - t^2), inputs (t, grad_in)
  if (needs[0]) out[0] = mul(G, mul(Y, mul(c(X, -2.0), X)));
  if (needs[1]) out[1] = binary(Op::TanhGrad, X, G);
}
VJP(vjp_sigmoid_grad) {  // ans = grad_in * s * (1 - s)
  if (needs[0]) out[0] = mul(G, mul(Y, sub(c(X, 1.0), mul(c(X, 2.0), X))));
  if (needs[1]) out[1] = binary(Op::SigmoidGrad, X, G);
}
VJP(vjp_relu_grad) {  // ans = grad_in * (x > 0); piecewise constant in x: zeros, as TF
  if (needs[0]) out[0] = zeros_like(X);
  if (needs[1]) out[1] = binary(Op::ReluGrad, X, G);
}

// unary
VJP(vjp_neg) { out[0] = neg(G); }
VJP(vjp_square) { out[0] = mul(G, mul(c(X, 2.0), X)); }
VJP(vjp_sqrt) { out[0] = div(mul(G, c(ANS, 0.5)), ANS); }
VJP(vjp_rsqrt) { out[0] = mul(G, mul(c(ANS, -0.5), mul(ANS, unary(Op::Square, ANS)))); }
VJP(vjp_exp) { out[0] = mul(G, ANS); }
VJP(vjp_expm1) { out[0] = mul(G, unary(Op::Exp, X)); }
VJP(vjp_log) { out[0] = div(G, X); }
VJP(vjp_log1p) { out[0] = div(G, add(X, c(X, 1.0))); }
VJP(vjp_sin) { out[0] = mul(G, unary(Op::Cos, X)); }
VJP(vjp_cos) { out[0] = mul(G, neg(unary(Op::Sin, X))); }
VJP(vjp_tan) { out[0] = mul(G, add(c(X, 1.0), unary(Op::Square, ANS))); }
VJP(vjp_tanh) { out[0] = binary(Op::TanhGrad, ANS, G); }
VJP(vjp_sinh) { out[0] = mul(G, unary(Op::Cosh, X)); }
VJP(vjp_cosh) { out[0] = mul(G, unary(Op::Sinh, X)); }
VJP(vjp_asin) { out[0] = div(G, unary(Op::Sqrt, sub(c(X, 1.0), unary(Op::Square, X)))); }
VJP(vjp_acos) { out[0] = neg(div(G, unary(Op::Sqrt, sub(c(X, 1.0), unary(Op::Square, X))))); }
VJP(vjp_atan) { out[0] = div(G, add(c(X, 1.0), unary(Op::Square, X))); }
VJP(vjp_abs) { out[0] = mul(G, unary(Op::Sign, X)); }
VJP(vjp_relu) { out[0] = binary(Op::ReluGrad, ANS, G); }
VJP(vjp_sigmoid) { out[0] = binary(Op::SigmoidGrad, ANS, G); }
VJP(vjp_softplus) { out[0] = mul(G, unary(Op::Sigmoid, X)); }
VJP(vjp_reciprocal) { out[0] = mul(G, neg(unary(Op::Square, ANS))); }
VJP(vjp_erf) { out[0] = mul(G, mul(c(X, 2.0 / std::sqrt(M_PI)), unary(Op::Exp, neg(unary(Op::Square, X))))); }

// reductions: g has the reduced shape; bring it back to keepdims form, then broadcast
Tensor keepdims_form(const Node& n, const Tensor& g) {
  if (n.attrs.flag_a) return g;
  Shape s = X.shape;
  for (int64_t a : n.attrs.ints) s[int(a)] = 1;
  return reshape(g, s);
}
VJP(vjp_sum) { out[0] = broadcast_to(keepdims_form(n, G), X.shape); }
VJP(vjp_mean) {
  int64_t count = ANS.numel() ? X.numel() / ANS.numel() : 0;
  out[0] = broadcast_to(div(keepdims_form(n, G), c(X, double(count))), X.shape);
}
VJP(vjp_max_min) {  // the gradient is shared equally between tied extrema, as TF does
  Tensor y = keepdims_form(n, ANS);
  Tensor ind = cast(kernels::binary(Op::Equal, X, kernels::broadcast_to(y, X.shape)), X.dtype);
  Tensor count = reduce(Op::Sum, ind, n.attrs.ints, false, true);
  out[0] = mul(div(ind, count), keepdims_form(n, G));
}

// linear algebra and shape
VJP(vjp_matmul) {
  const bool ta = n.attrs.flag_a, tb = n.attrs.flag_b;
  const Tensor &a = X, &b = Y;
  if (needs[0]) {
    if (!ta && !tb) out[0] = matmul(G, b, false, true);
    else if (!ta && tb) out[0] = matmul(G, b, false, false);
    else if (ta && !tb) out[0] = matmul(b, G, false, true);
    else out[0] = matmul(b, G, true, true);
  }
  if (needs[1]) {
    if (b.ndim() == 2 && a.ndim() > 2 && !ta) {
      // b is shared by a's batch: one gemm over the folded batch instead of a batch and a sum
      int64_t K = a.shape[a.ndim() - 1], N = G.shape[G.ndim() - 1];
      Tensor a2 = reshape(a, std::vector<int64_t>{-1, K}), g2 = reshape(G, std::vector<int64_t>{-1, N});
      out[1] = tb ? matmul(g2, a2, true, false) : matmul(a2, g2, true, false);
    } else if (!ta && !tb) out[1] = matmul(a, G, true, false);
    else if (!ta && tb) out[1] = matmul(G, a, true, false);
    else if (ta && !tb) out[1] = matmul(a, G, false, false);
    else out[1] = matmul(G, a, true, true);
  }
}
VJP(vjp_reshape) { out[0] = reshape(G, X.shape); }
VJP(vjp_transpose) {
  std::vector<int> inv(n.attrs.ints.size());
  for (size_t i = 0; i < inv.size(); ++i) inv[size_t(n.attrs.ints[i])] = int(i);
  out[0] = transpose(G, inv);
}
VJP(vjp_cast) { out[0] = cast(G, X.dtype); }
VJP(vjp_select) {
  const Tensor& cond = n.inputs[0];
  Tensor z = zeros_like(G);
  if (needs[1]) out[1] = select(cond, G, z);
  if (needs[2]) out[2] = select(cond, z, G);
}

// ---- area: math, reductions, activations, nn losses -------------------------------------------
VJP(vjp_erfc) { out[0] = mul(G, mul(c(X, -2.0 / std::sqrt(M_PI)), unary(Op::Exp, neg(unary(Op::Square, X))))); }
// Relu6 and LeakyRelu: fused backward kernels as TF, so that the second derivative w.r.t. x is
// zeros (connected), not None. Relu6's gradient is 1 only strictly inside (0, 6).
VJP(vjp_relu6) { out[0] = ops::relu6_grad(X, G); }
VJP(vjp_relu6_grad) {
  if (needs[0]) out[0] = zeros_like(X);
  if (needs[1]) out[1] = ops::relu6_grad(X, G);
}
VJP(vjp_leaky_relu) { out[0] = ops::leaky_relu_grad(X, G, n.attrs.scalar); }
VJP(vjp_leaky_relu_grad) {
  if (needs[0]) out[0] = zeros_like(X);
  if (needs[1]) out[1] = ops::leaky_relu_grad(X, G, n.attrs.scalar);
}
// Elu/Selu as TF: the backward reads the activations (EluGrad(g, ans)); EluGradGrad gives
// d/dans = where(ans < 0, grad * g, 0), so the second derivative at 0 is 0.
VJP(vjp_elu) { out[0] = ops::exp_linear_grad(n.op == Op::Elu ? Op::EluGrad : Op::SeluGrad, ANS, G); }
VJP(vjp_elu_grad) {  // inputs (ans, g)
  if (needs[0]) out[0] = select(kernels::binary(Op::Less, X, c(X, 0.0)), mul(G, Y), zeros_like(G));
  if (needs[1]) out[1] = ops::exp_linear_grad(n.op, X, G);
}
VJP(vjp_asinh) { out[0] = div(G, unary(Op::Cosh, ANS)); }  // TF's forms, in terms of ans
VJP(vjp_acosh) { out[0] = div(G, unary(Op::Sinh, ANS)); }
VJP(vjp_atanh) { out[0] = div(G, sub(c(X, 1.0), unary(Op::Square, X))); }
VJP(vjp_cumsum) { out[0] = ops::cumsum(G, n.attrs.ints[0], n.attrs.flag_a, !n.attrs.flag_b); }
// TF's _CumprodGrad: cumsum(ans * g, reversed) / x. Like TF, wrong (inf/nan) where x == 0.
VJP(vjp_cumprod) {
  out[0] = div(ops::cumsum(mul(ANS, G), n.attrs.ints[0], n.attrs.flag_a, !n.attrs.flag_b), X);
}
// Zero-safe (TF's _ProdGrad is too). d prod / d x_i = the product of the others: ans / x_i where
// x_i != 0; at a zero, the product of the non-zeros if it is the only zero, 0 otherwise. Written so
// that second derivatives are exact with up to two zeros in a slice (the value at a zero with one
// other zero is 0 but its derivative along that other zero is not: p_nz * (sum of zeros - x_i)).
VJP(vjp_prod) {
  const std::vector<int> axes(n.attrs.ints.begin(), n.attrs.ints.end());
  Tensor ans = keepdims_form(n, ANS);
  Tensor is_zero = kernels::binary(Op::Equal, X, c(X, 0.0));
  Tensor count = kernels::reduce(Op::Sum, kernels::cast(is_zero, DType::Int64), axes, true);
  bool any_zero = false;
  for (int64_t i = 0, m = count.numel(); i < m && !any_zero; ++i) any_zero = count.data<int64_t>()[i] != 0;
  if (!any_zero) {
    out[0] = mul(div(ans, X), keepdims_form(n, G));
    return;
  }
  Tensor safe = select(is_zero, ones_like(X), X);
  Tensor p_nz = reduce(Op::Prod, safe, n.attrs.ints, false, true);
  Tensor zero_sum = reduce(Op::Sum, select(is_zero, X, zeros_like(X)), n.attrs.ints, false, true);
  auto count_is = [&](int64_t k) { return kernels::binary(Op::Equal, count, Tensor::scalar<int64_t>(k)); };
  Tensor at_zero = select(count_is(1), p_nz, select(count_is(2), mul(p_nz, sub(zero_sum, X)), zeros_like(X)));
  out[0] = mul(select(is_zero, at_zero, div(ans, safe)), keepdims_form(n, G));
}


// ---- area: shape and indexing ----------------------------------------------------------------


// ---- area: einsum, conv, pooling, random -----------------------------------------------------


// ---- area: softmax, log_softmax, fused cross-entropies ---------------------------------------


// ---- area: custom_gradient and other tape features -------------------------------------------


#undef VJP

struct Table {
  OpDef defs[size_t(Op::kCount)];
  void set(Op op, VjpFn f, bool in, bool outs) { defs[size_t(op)] = OpDef{f, in, outs}; }
  Table() {
    for (auto& d : defs) d = OpDef{nullptr, false, false};
    //     op                      vjp                     saves inputs, outputs
    set(Op::Add,               vjp_add,               false, false);
    set(Op::Sub,               vjp_sub,               false, false);
    set(Op::Mul,               vjp_mul,               true,  false);
    set(Op::Div,               vjp_div,               true,  false);
    set(Op::Pow,               vjp_pow,               true,  true);
    set(Op::Maximum,           vjp_maximum,           true,  false);
    set(Op::Minimum,           vjp_minimum,           true,  false);
    set(Op::FloorDiv,          vjp_none,              false, false);
    set(Op::FloorMod,          vjp_floormod,          true,  false);
    set(Op::SquaredDifference, vjp_squared_difference, true, false);
    set(Op::Atan2,             vjp_atan2,             true,  false);
    set(Op::TanhGrad,          vjp_tanh_grad,         true,  false);
    set(Op::SigmoidGrad,       vjp_sigmoid_grad,      true,  false);
    set(Op::ReluGrad,          vjp_relu_grad,         true,  false);
    set(Op::Neg,               vjp_neg,               false, false);
    set(Op::Square,            vjp_square,            true,  false);
    set(Op::Sqrt,              vjp_sqrt,              false, true);
    set(Op::Rsqrt,             vjp_rsqrt,             false, true);
    set(Op::Exp,               vjp_exp,               false, true);
    set(Op::Expm1,             vjp_expm1,             true,  false);
    set(Op::Log,               vjp_log,               true,  false);
    set(Op::Log1p,             vjp_log1p,             true,  false);
    set(Op::Sin,               vjp_sin,               true,  false);
    set(Op::Cos,               vjp_cos,               true,  false);
    set(Op::Tan,               vjp_tan,               false, true);
    set(Op::Tanh,              vjp_tanh,              false, true);
    set(Op::Sinh,              vjp_sinh,              true,  false);
    set(Op::Cosh,              vjp_cosh,              true,  false);
    set(Op::Asin,              vjp_asin,              true,  false);
    set(Op::Acos,              vjp_acos,              true,  false);
    set(Op::Atan,              vjp_atan,              true,  false);
    set(Op::Abs,               vjp_abs,               true,  false);
    set(Op::Sign,              vjp_zeros,             false, false);
    set(Op::Relu,              vjp_relu,              false, true);
    set(Op::Sigmoid,           vjp_sigmoid,           false, true);
    set(Op::Softplus,          vjp_softplus,          true,  false);
    set(Op::Reciprocal,        vjp_reciprocal,        false, true);
    set(Op::Floor,             vjp_none,              false, false);
    set(Op::Ceil,              vjp_none,              false, false);
    set(Op::Round,             vjp_none,              false, false);
    set(Op::Erf,               vjp_erf,               true,  false);
    set(Op::Sum,               vjp_sum,               false, false);
    set(Op::Mean,              vjp_mean,              false, false);
    set(Op::Max,               vjp_max_min,           true,  true);
    set(Op::Min,               vjp_max_min,           true,  true);
    set(Op::MatMul,            vjp_matmul,            true,  false);
    set(Op::Reshape,           vjp_reshape,           false, false);
    set(Op::Transpose,         vjp_transpose,         false, false);
    set(Op::BroadcastTo,       vjp_identity,          false, false);
    set(Op::Cast,              vjp_cast,              false, false);
    set(Op::Select,            vjp_select,            true,  false);
    set(Op::Identity,          vjp_identity,          false, false);

    // area: math, reductions, activations, nn losses
    set(Op::Erfc,              vjp_erfc,              true,  false);
    set(Op::Relu6,             vjp_relu6,             true,  false);
    set(Op::Relu6Grad,         vjp_relu6_grad,        true,  false);
    set(Op::LeakyRelu,         vjp_leaky_relu,        true,  false);
    set(Op::LeakyReluGrad,     vjp_leaky_relu_grad,   true,  false);
    set(Op::Cumsum,            vjp_cumsum,            false, false);
    set(Op::Cumprod,           vjp_cumprod,           true,  true);
    set(Op::Elu,               vjp_elu,               false, true);
    set(Op::Selu,              vjp_elu,               false, true);
    set(Op::EluGrad,           vjp_elu_grad,          true,  false);
    set(Op::SeluGrad,          vjp_elu_grad,          true,  false);
    set(Op::Asinh,             vjp_asinh,             false, true);
    set(Op::Acosh,             vjp_acosh,             false, true);
    set(Op::Atanh,             vjp_atanh,             true,  false);
    set(Op::Prod,              vjp_prod,              true,  true);


    // area: shape and indexing


    // area: einsum, conv, pooling, random


    // area: softmax, log_softmax, fused cross-entropies


    // area: custom_gradient and other tape features


    // Not differentiable, never recorded (bool or integer outputs): comparisons, logic, IsNan,
    // IsFinite, IsInf, Any, All, ArgMax, ArgMin.
  }
};

}  // namespace

const OpDef& opdef(Op op) {
  static const Table table;
  return table.defs[size_t(op)];
}

}  // namespace tg
