// The registry: every primitive's derivative rules, each registered where it is written (Note [One
// spot per primitive]). Conventions: `X`, `Y` are inputs, `ANS` the output, `G` the upstream
// gradient; a rule may return a broadcast-shaped gradient (the backward pass sums it back, See
// Note [Backward pass]).
#include <cmath>

#include "autodiff/tape.h"
#include "ops/complex.h"
#include "ops/conv.h"
#include "ops/linalg.h"
#include "ops/math.h"
#include "ops/shape.h"

namespace tg {
namespace registry {  // external linkage: a registrar kind without users yet is not an unused function

OpDef& entry(Op op) {
  static OpDef defs[size_t(Op::kCount)];
  return defs[size_t(op)];
}
struct Registrar {
  Registrar(Op op, VjpFn f, Saves s);
  Registrar(Op op, JvpFn f);
  Registrar(std::initializer_list<Op> not_differentiable);
};
Registrar::Registrar(Op op, VjpFn f, Saves s) {
  OpDef& d = entry(op);
  d.vjp = f;
  d.saves_inputs = s & kSavesInputs;
  d.saves_outputs = s & kSavesOutputs;
}
Registrar::Registrar(Op op, JvpFn f) { entry(op).jvp = f; }
Registrar::Registrar(std::initializer_list<Op> ops) {
  for (Op op : ops) entry(op).not_differentiable = true;
}

}  // namespace registry

namespace {
using registry::Registrar;

using namespace ops;
// Note [One spot per primitive]
// Each differentiable primitive's rules are written and registered in one place, here:
//   VJP(Mul, kSavesInputs) { ...vector-Jacobian product... }   what its node keeps (Note [Saved tensors])
//   JVP(Mul) { ...Jacobian-vector product... }                  forward mode (optional)
// VJP(...) defines the rule and registers it, with what the node saves, in the registry (`opdef`)
// when the library loads; SAME_VJP reuses another op's rule, GRADIENT_IS gives one of the shared
// rules (None, zeros, identity). Primitives with no gradient at all (bool or integer outputs) are
// listed in kNotDifferentiable; tests/test_registry.py walks every Op and fails on one that has
// neither a rule nor a place in that list. Rules are written with ops:: so that an outer tape
// records them (second derivatives for free).
#define VJP_FN(NAME) void NAME(const Node& n, const Tensor* gs, const bool* needs, Tensor* out)
#define VJP(OP, SAVES)                                   \
  VJP_FN(vjp_##OP);                                      \
  const Registrar reg_vjp_##OP(Op::OP, vjp_##OP, SAVES); \
  VJP_FN(vjp_##OP)
#define SAME_VJP(OP, AS, SAVES) const Registrar reg_vjp_##OP(Op::OP, vjp_##AS, SAVES);
#define GRADIENT_IS(OP, FN) const Registrar reg_vjp_##OP(Op::OP, FN, kSavesNothing);
#define JVP_FN(NAME) void NAME(const Node& n, const Tensor* ts, Tensor* out)
#define JVP(OP)                                   \
  JVP_FN(jvp_##OP);                               \
  const Registrar reg_jvp_##OP(Op::OP, jvp_##OP); \
  JVP_FN(jvp_##OP)
#define X n.inputs[0]
#define Y n.inputs[1]
#define ANS n.outputs[0]
#define G gs[0]

Tensor c(const Tensor& like, double v) { return scalar_like(like, v); }
// TF's convention for complex gradients: the conjugate of the derivative multiplies the upstream
// gradient (Note [Complex dtypes]); on real tensors cj is the identity and records nothing.
Tensor cj(const Tensor& t) { return is_complex(t.dtype) ? ops::conj(t) : t; }
Tensor gt0(const Tensor& x) { return kernels::binary(Op::Greater, x, scalar_like(x, 0.0)); }
// For JVP rules: a + b where either may be undefined (a zero tangent); t, or zeros like `like`.
Tensor plus(const Tensor& a, const Tensor& b) { return !a.defined() ? b : !b.defined() ? a : add(a, b); }
Tensor or_zeros(const Tensor& t, const Tensor& like) { return t.defined() ? t : zeros_like(like); }

VJP_FN(vjp_none) {}  // differentiable op whose gradient TF defines as None (floor, round, ...)
VJP_FN(vjp_zeros) {
  for (size_t i = 0; i < n.inputs.size(); ++i)
    if (needs[i]) out[i] = zeros_like(n.inputs[i]);
}
VJP_FN(vjp_identity) { out[0] = G; }
GRADIENT_IS(FloorDiv, vjp_none)
GRADIENT_IS(Floor, vjp_none)
GRADIENT_IS(Ceil, vjp_none)
GRADIENT_IS(Round, vjp_none)
GRADIENT_IS(Sign, vjp_zeros)
GRADIENT_IS(BroadcastTo, vjp_identity)
JVP(BroadcastTo) { out[0] = broadcast_to(ts[0], ANS.shape); }
GRADIENT_IS(Identity, vjp_identity)
JVP(Identity) { out[0] = ts[0]; }

// binary
VJP(Add, kSavesNothing) {
  out[0] = G;
  out[1] = G;
}
JVP(Add) { out[0] = plus(ts[0], ts[1]); }
VJP(Sub, kSavesNothing) {
  out[0] = G;
  if (needs[1]) out[1] = neg(G);
}
JVP(Sub) { out[0] = plus(ts[0], ts[1].defined() ? neg(ts[1]) : Tensor()); }
VJP(Mul, kSavesInputs) {
  if (needs[0]) out[0] = mul(G, cj(Y));
  if (needs[1]) out[1] = mul(G, cj(X));
}
JVP(Mul) { out[0] = plus(ts[0].defined() ? mul(ts[0], Y) : Tensor(), ts[1].defined() ? mul(X, ts[1]) : Tensor()); }
VJP(Div, kSavesInputs) {
  if (needs[0]) out[0] = div(G, cj(Y));
  if (needs[1]) out[1] = mul(G, neg(cj(div(div(X, Y), Y))));
}
JVP(Div) { out[0] = div(plus(ts[0], ts[1].defined() ? neg(mul(ts[1], ANS)) : Tensor()), Y); }  // (tx - ty ans) / y
VJP(Pow, kSavesBoth) {
  if (needs[0]) out[0] = mul(G, cj(mul(Y, binary(Op::Pow, X, sub(Y, c(Y, 1.0))))));
  if (needs[1] && is_complex(X.dtype)) {  // TF: grad * conj(z * log(x)), with log(0) = 0
    Tensor nz = kernels::binary(Op::NotEqual, X, zeros_like(X));
    Tensor log_x = select(nz, unary(Op::Log, select(nz, X, ones_like(X))), zeros_like(X));
    out[1] = mul(G, cj(mul(ANS, log_x)));
  } else if (needs[1]) {
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
VJP(Maximum, kSavesInputs) { minmax(n, gs, needs, out, Op::GreaterEqual); }
void jvp_minmax(const Node& n, const Tensor* ts, Tensor* out, Op cmp) {  // the VJP's tie rule: x wins
  Tensor xmask = kernels::binary(cmp, X, Y);
  out[0] = select(xmask, or_zeros(ts[0], ANS), or_zeros(ts[1], ANS));
}
JVP(Maximum) { jvp_minmax(n, ts, out, Op::GreaterEqual); }
VJP(Minimum, kSavesInputs) { minmax(n, gs, needs, out, Op::LessEqual); }
JVP(Minimum) { jvp_minmax(n, ts, out, Op::LessEqual); }
VJP(FloorMod, kSavesInputs) {
  if (needs[0]) out[0] = G;
  if (needs[1]) out[1] = mul(G, neg(binary(Op::FloorDiv, X, Y)));
}
VJP(SquaredDifference, kSavesInputs) {
  Tensor gx = mul(G, mul(c(X, 2.0), sub(X, Y)));
  if (needs[0]) out[0] = gx;
  if (needs[1]) out[1] = neg(gx);
}
JVP(SquaredDifference) {  // 2 (x - y) (tx - ty)
  out[0] = mul(mul(c(X, 2.0), sub(X, Y)), plus(ts[0], ts[1].defined() ? neg(ts[1]) : Tensor()));
}
VJP(Atan2, kSavesInputs) {  // atan2(y=X, x=Y)
  Tensor den = add(unary(Op::Square, X), unary(Op::Square, Y));
  if (needs[0]) out[0] = mul(G, div(Y, den));
  if (needs[1]) out[1] = mul(G, neg(div(X, den)));
}
VJP(TanhGrad, kSavesInputs) {  // ans = grad_in * (1 - t^2), inputs (t, grad_in)
  if (needs[0]) out[0] = mul(G, mul(Y, mul(c(X, -2.0), X)));
  if (needs[1]) out[1] = binary(Op::TanhGrad, X, G);
}
JVP(TanhGrad) {  // d[g (1 - t^2)] = TanhGrad(t, dg) - 2 g t dt
  out[0] = plus(ts[1].defined() ? binary(Op::TanhGrad, X, ts[1]) : Tensor(),
                ts[0].defined() ? mul(mul(c(X, -2.0), mul(Y, X)), ts[0]) : Tensor());
}
VJP(SigmoidGrad, kSavesInputs) {  // ans = grad_in * s * (1 - s)
  if (needs[0]) out[0] = mul(G, mul(Y, sub(c(X, 1.0), mul(c(X, 2.0), X))));
  if (needs[1]) out[1] = binary(Op::SigmoidGrad, X, G);
}
JVP(SigmoidGrad) {  // d[g s (1 - s)] = SigmoidGrad(s, dg) + g (1 - 2 s) ds
  out[0] = plus(ts[1].defined() ? binary(Op::SigmoidGrad, X, ts[1]) : Tensor(),
                ts[0].defined() ? mul(mul(Y, sub(c(X, 1.0), mul(c(X, 2.0), X))), ts[0]) : Tensor());
}
VJP(ReluGrad, kSavesInputs) {  // ans = grad_in * (x > 0); piecewise constant in x: zeros, as TF
  if (needs[0]) out[0] = zeros_like(X);
  if (needs[1]) out[1] = binary(Op::ReluGrad, X, G);
}
JVP(ReluGrad) {  // piecewise constant in x
  if (ts[1].defined()) out[0] = binary(Op::ReluGrad, X, ts[1]);
}

// unary
VJP(Neg, kSavesNothing) { out[0] = neg(G); }
JVP(Neg) { out[0] = neg(ts[0]); }
VJP(Square, kSavesInputs) { out[0] = mul(G, cj(mul(c(X, 2.0), X))); }
JVP(Square) { out[0] = mul(ts[0], mul(c(X, 2.0), X)); }
VJP(Sqrt, kSavesOutputs) { out[0] = div(mul(G, c(ANS, 0.5)), cj(ANS)); }
JVP(Sqrt) { out[0] = div(mul(ts[0], c(ANS, 0.5)), ANS); }
VJP(Rsqrt, kSavesOutputs) { out[0] = mul(G, cj(mul(c(ANS, -0.5), mul(ANS, unary(Op::Square, ANS))))); }
JVP(Rsqrt) { out[0] = mul(ts[0], mul(c(ANS, -0.5), mul(ANS, unary(Op::Square, ANS)))); }
VJP(Exp, kSavesOutputs) { out[0] = mul(G, cj(ANS)); }
JVP(Exp) { out[0] = mul(ts[0], ANS); }
VJP(Expm1, kSavesInputs) { out[0] = mul(G, cj(unary(Op::Exp, X))); }
JVP(Expm1) { out[0] = mul(ts[0], unary(Op::Exp, X)); }
VJP(Log, kSavesInputs) { out[0] = div(G, cj(X)); }
JVP(Log) { out[0] = div(ts[0], X); }
VJP(Log1p, kSavesInputs) { out[0] = div(G, cj(add(X, c(X, 1.0)))); }
JVP(Log1p) { out[0] = div(ts[0], add(X, c(X, 1.0))); }
VJP(Sin, kSavesInputs) { out[0] = mul(G, cj(unary(Op::Cos, X))); }
JVP(Sin) { out[0] = mul(ts[0], unary(Op::Cos, X)); }
VJP(Cos, kSavesInputs) { out[0] = mul(G, cj(neg(unary(Op::Sin, X)))); }
JVP(Cos) { out[0] = mul(ts[0], neg(unary(Op::Sin, X))); }
VJP(Tan, kSavesOutputs) { out[0] = mul(G, cj(add(c(ANS, 1.0), unary(Op::Square, ANS)))); }
VJP(Tanh, kSavesOutputs) {  // TF's TanhGrad kernel; complex: grad * conj(1 - ans^2)
  out[0] = is_complex(ANS.dtype) ? mul(G, cj(sub(c(ANS, 1.0), unary(Op::Square, ANS)))) : binary(Op::TanhGrad, ANS, G);
}
JVP(Tanh) { out[0] = binary(Op::TanhGrad, ANS, ts[0]); }
VJP(Sinh, kSavesInputs) { out[0] = mul(G, cj(unary(Op::Cosh, X))); }
VJP(Cosh, kSavesInputs) { out[0] = mul(G, cj(unary(Op::Sinh, X))); }
VJP(Asin, kSavesInputs) { out[0] = div(G, cj(unary(Op::Sqrt, sub(c(X, 1.0), unary(Op::Square, X))))); }
VJP(Acos, kSavesInputs) { out[0] = neg(div(G, cj(unary(Op::Sqrt, sub(c(X, 1.0), unary(Op::Square, X)))))); }
VJP(Atan, kSavesInputs) { out[0] = div(G, cj(add(c(X, 1.0), unary(Op::Square, X)))); }
VJP(Abs, kSavesInputs) { out[0] = mul(G, unary(Op::Sign, X)); }
JVP(Abs) { out[0] = mul(ts[0], unary(Op::Sign, X)); }
VJP(Relu, kSavesOutputs) { out[0] = binary(Op::ReluGrad, ANS, G); }
JVP(Relu) { out[0] = binary(Op::ReluGrad, ANS, ts[0]); }
VJP(Sigmoid, kSavesOutputs) { out[0] = binary(Op::SigmoidGrad, ANS, G); }
JVP(Sigmoid) { out[0] = binary(Op::SigmoidGrad, ANS, ts[0]); }
VJP(Softplus, kSavesInputs) { out[0] = mul(G, unary(Op::Sigmoid, X)); }
VJP(Reciprocal, kSavesOutputs) { out[0] = mul(G, cj(neg(unary(Op::Square, ANS)))); }
JVP(Reciprocal) { out[0] = mul(ts[0], neg(unary(Op::Square, ANS))); }
JVP(Softplus) { out[0] = mul(ts[0], unary(Op::Sigmoid, X)); }
VJP(Erf, kSavesInputs) { out[0] = mul(G, mul(c(X, 2.0 / std::sqrt(M_PI)), unary(Op::Exp, neg(unary(Op::Square, X))))); }

// reductions: g has the reduced shape; bring it back to keepdims form, then broadcast
Tensor keepdims_form(const Node& n, const Tensor& g) {
  if (n.attrs.keepdims) return g;
  Shape s = X
  .shape;
  for (int64_t a : n.attrs.ints) s[int(a)] = 1;
  return reshape(g, s);
}
VJP(Sum, kSavesNothing) { out[0] = broadcast_to(keepdims_form(n, G), X.shape); }
JVP(Sum) { out[0] = reduce(Op::Sum, ts[0], n.attrs.ints, false, n.attrs.keepdims); }
VJP(Mean, kSavesNothing) {
  int64_t count = ANS.numel() ? X
  .numel() / ANS.numel() : 0;
  out[0] = broadcast_to(div(keepdims_form(n, G), c(X, double(count))), X.shape);
}
JVP(Mean) { out[0] = reduce(Op::Mean, ts[0], n.attrs.ints, false, n.attrs.keepdims); }
VJP(Max, kSavesBoth) {  // the gradient is shared equally between tied extrema, as TF does
  Tensor y = keepdims_form(n, ANS);
  Tensor ind = cast(kernels::binary(Op::Equal, X, kernels::broadcast_to(y, X.shape)), X.dtype);
  Tensor count = reduce(Op::Sum, ind, n.attrs.ints, false, true);
  out[0] = mul(div(ind, count), keepdims_form(n, G));
}
SAME_VJP(Min, Max, kSavesBoth)
JVP_FN(jvp_max_min) {  // ties share equally, as the VJP
  Tensor y = keepdims_form(n, ANS);
  Tensor ind = cast(kernels::binary(Op::Equal, X, kernels::broadcast_to(y, X.shape)), X.dtype);
  Tensor share = div(ind, reduce(Op::Sum, ind, n.attrs.ints, false, true));
  out[0] = reduce(Op::Sum, mul(ts[0], share), n.attrs.ints, false, n.attrs.keepdims);
}
const Registrar reg_jvp_Max(Op::Max, jvp_max_min), reg_jvp_Min(Op::Min, jvp_max_min);

// linear algebra and shape
VJP(MatMul, kSavesInputs) {
  const bool ta = n.attrs.transpose_a, tb = n.attrs.transpose_b;
  // complex: the products below with conj(a), conj(b) (TF's adjoint_a/adjoint_b)
  const Tensor a = cj(X), b = cj(Y);
  if (needs[0]) {
    if (!ta && !tb) out[0] = matmul(G, b, false, true);
    else if (!ta && tb) out[0] = matmul(G, b, false, false);
    else if (ta && !tb) out[0] = matmul(b, G, false, true);
    else out[0] = matmul(b, G, true, true);
  }
  if (needs[1]) {
    if (b.ndim() == 2 && a.ndim() > 2 && !ta) {
      // b is shared by a's batch: one gemm over the folded batch instead of a batch and a sum
      // (the rows counted, not -1: with K or N zero, -1 is ambiguous and reshape refuses it)
      int64_t K = a.shape[a.ndim() - 1], N = G.shape[G.ndim() - 1], M = 1;
      for (int i = 0; i + 1 < a.ndim(); ++i) M *= a.shape[i];
      Tensor a2 = reshape(a, std::vector<int64_t>{M, K}), g2 = reshape(G, std::vector<int64_t>{M, N});
      out[1] = tb ? matmul(g2, a2, true, false) : matmul(a2, g2, true, false);
    } else if (!ta && !tb) out[1] = matmul(a, G, true, false);
    else if (!ta && tb) out[1] = matmul(G, a, true, false);
    else if (ta && !tb) out[1] = matmul(a, G, false, false);
    else out[1] = matmul(G, a, true, true);
  }
}
JVP(MatMul) {
  const bool ta = n.attrs.transpose_a, tb = n.attrs.transpose_b;
  out[0] = plus(ts[0].defined() ? matmul(ts[0], Y, ta, tb) : Tensor(),
                ts[1].defined() ? matmul(X, ts[1], ta, tb) : Tensor());
}
VJP(Reshape, kSavesNothing) { out[0] = reshape(G, X.shape); }
JVP(Reshape) { out[0] = reshape(ts[0], ANS.shape); }
VJP(Transpose, kSavesNothing) {
  std::vector<int> inv(n.attrs.ints.size());
  for (size_t i = 0; i < inv.size(); ++i) inv[size_t(n.attrs.ints[i])] = int(i);
  out[0] = transpose(G, inv);
}
JVP(Transpose) { out[0] = transpose(ts[0], std::vector<int>(n.attrs.ints.begin(), n.attrs.ints.end())); }
VJP(Cast, kSavesNothing) { out[0] = cast(G, X.dtype); }
JVP(Cast) { out[0] = cast(ts[0], ANS.dtype); }
VJP(Select, kSavesInputs) {
  const Tensor& cond = n.inputs[0];
  Tensor z = zeros_like(G);
  if (needs[1]) out[1] = select(cond, G, z);
  if (needs[2]) out[2] = select(cond, z, G);
}
JVP(Select) { out[0] = select(n.inputs[0], or_zeros(ts[1], ANS), or_zeros(ts[2], ANS)); }

// ---- area: math, reductions, activations, nn losses -------------------------------------------
VJP(Erfc, kSavesInputs) {
  out[0] = mul(G, mul(c(X, -2.0 / std::sqrt(M_PI)), unary(Op::Exp, neg(unary(Op::Square, X)))));
}
// Relu6 and LeakyRelu: fused backward kernels as TF, so that the second derivative w.r.t. x is
// zeros (connected), not None. Relu6's gradient is 1 only strictly inside (0, 6).
VJP(Relu6, kSavesInputs) { out[0] = ops::relu6_grad(X, G); }
VJP(Relu6Grad, kSavesInputs) {
  if (needs[0]) out[0] = zeros_like(X);
  if (needs[1]) out[1] = ops::relu6_grad(X, G);
}
VJP(LeakyRelu, kSavesInputs) { out[0] = ops::leaky_relu_grad(X, G, n.attrs.alpha); }
VJP(LeakyReluGrad, kSavesInputs) {
  if (needs[0]) out[0] = zeros_like(X);
  if (needs[1]) out[1] = ops::leaky_relu_grad(X, G, n.attrs.alpha);
}
// Elu/Selu as TF: the backward reads the activations (EluGrad(g, ans)); EluGradGrad gives
// d/dans = where(ans < 0, grad * g, 0), so the second derivative at 0 is 0.
VJP(Elu, kSavesOutputs) { out[0] = ops::exp_linear_grad(n.op == Op::Elu ? Op::EluGrad : Op::SeluGrad, ANS, G); }
SAME_VJP(Selu, Elu, kSavesOutputs)
VJP(EluGrad, kSavesInputs) {  // inputs (ans, g)
  if (needs[0]) out[0] = select(kernels::binary(Op::Less, X, c(X, 0.0)), mul(G, Y), zeros_like(G));
  if (needs[1]) out[1] = ops::exp_linear_grad(n.op, X, G);
}
SAME_VJP(SeluGrad, EluGrad, kSavesInputs)
VJP(Asinh, kSavesOutputs) { out[0] = div(G, cj(unary(Op::Cosh, ANS))); }  // TF's forms, in terms of ans
VJP(Acosh, kSavesOutputs) { out[0] = div(G, cj(unary(Op::Sinh, ANS))); }
VJP(Atanh, kSavesInputs) { out[0] = div(G, cj(sub(c(X, 1.0), unary(Op::Square, X)))); }
VJP(Cumsum, kSavesNothing) { out[0] = ops::cumsum(G, n.attrs.ints[0], n.attrs.exclusive, !n.attrs.reverse); }
// TF's _CumprodGrad: cumsum(ans * g, reversed) / x. Like TF, wrong (inf/nan) where x == 0.
VJP(Cumprod, kSavesBoth) {
  out[0] = div(ops::cumsum(mul(ANS, G), n.attrs.ints[0], n.attrs.exclusive, !n.attrs.reverse), X);
}
// Zero-safe (TF's _ProdGrad is too). d prod / d x_i = the product of the others: ans / x_i where
// x_i != 0; at a zero, the product of the non-zeros if it is the only zero, 0 otherwise. Written so
// that second derivatives are exact with up to two zeros in a slice (the value at a zero with one
// other zero is 0 but its derivative along that other zero is not: p_nz * (sum of zeros - x_i)).
VJP(Prod, kSavesBoth) {
  const std::vector<int> axes(n.attrs.ints.begin(), n.attrs.ints.end());
  Tensor ans = keepdims_form(n, ANS);
  Tensor is_zero = kernels::binary(Op::Equal, X, c(X, 0.0));
  Tensor count = kernels::reduce(Op::Sum, kernels::cast(is_zero, DType::Int64), axes, true);
  bool any_zero = false;
  for (int64_t i = 0, m = count.numel(); i < m && !any_zero; ++i) any_zero = count.data<int64_t>()[i] != 0;
  if (!any_zero) {
    out[0] = mul(cj(div(ans, X)), keepdims_form(n, G));
    return;
  }
  if (is_complex(X.dtype))
    throw LookupError("the gradient of reduce_prod over complex values with zeros is not implemented [Op:Prod]");
  Tensor safe = select(is_zero, ones_like(X), X);
  Tensor p_nz = reduce(Op::Prod, safe, n.attrs.ints, false, true);
  Tensor zero_sum = reduce(Op::Sum, select(is_zero, X, zeros_like(X)), n.attrs.ints, false, true);
  auto count_is = [&](int64_t k) { return kernels::binary(Op::Equal, count, Tensor::scalar<int64_t>(k)); };
  Tensor at_zero = select(count_is(1), p_nz, select(count_is(2), mul(p_nz, sub(zero_sum, X)), zeros_like(X)));
  out[0] = mul(select(is_zero, at_zero, div(ans, safe)), keepdims_form(n, G));
}


// ---- area: shape and indexing ----------------------------------------------------------------
// Slice attrs: ints = begin (ndim) then stride (ndim). Gather attrs: ints = {axis, batch_dims}.
std::vector<int64_t> slice_part(const Node& n, int which) {
  size_t nd = n.attrs.ints.size() / 2;
  return std::vector<int64_t>(n.attrs.ints.begin() + long(which * nd), n.attrs.ints.begin() + long((which + 1) * nd));
}
VJP(StridedSlice, kSavesNothing) { out[0] = strided_slice_grad(G, X.shape, slice_part(n, 0), slice_part(n, 1), 0.0); }
JVP(StridedSlice) { out[0] = strided_slice(ts[0], slice_part(n, 0), slice_part(n, 1), ANS.shape); }
VJP(StridedSliceGrad, kSavesNothing) { out[0] = strided_slice(G, slice_part(n, 0), slice_part(n, 1), X.shape); }
VJP(Concat, kSavesNothing) {
  const int axis = int(n.attrs.ints[0]);
  int64_t at = 0;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const Shape& s = n.inputs[i].shape;
    if (needs[i]) {
      std::vector<int64_t> begin(size_t(s.ndim), 0), stride(size_t(s.ndim), 1);
      begin[size_t(axis)] = at;
      out[i] = strided_slice(G, begin, stride, s);
    }
    at += s[axis];
  }
}
JVP(Concat) {
  std::vector<Tensor> parts;
  for (size_t i = 0; i < n.inputs.size(); ++i) parts.push_back(or_zeros(ts[i], n.inputs[i]));
  out[0] = concat(parts, n.attrs.ints[0]);
}
VJP(Gather, kSavesInputs) {  // dense, like TF's IndexedSlices made dense
  out[0] = gather_grad(G, Y, X.shape, int(n.attrs.ints[0]), int(n.attrs.ints[1]));
}
JVP(Gather) { out[0] = gather(ts[0], Y, n.attrs.ints[0], n.attrs.ints[1]); }
VJP(GatherGrad, kSavesInputs) { out[0] = gather(G, Y, n.attrs.ints[0], n.attrs.ints[1]); }
VJP(ScatterUpdate, kSavesInputs) {  // inputs (tensor [N, I], idx [M], updates [M, I])
  const Tensor& idx = n.inputs[1];
  const Tensor& upd = n.inputs[2];
  if (needs[0]) out[0] = scatter_update(G, idx, zeros_like(upd));
  if (needs[2]) out[2] = gather(G, idx, 0, 0);
}


// ---- area: einsum, conv, pooling, random -----------------------------------------------------
// einsum, tensordot, matvec, diag_part, trace, dropout are composites (python/tapegrad/_ops_linalg.py).
// Conv and pools: See Note [Conv backward]. `W2` is the window stored in attrs; output shapes give
// the shape each backward primitive must produce.
#define W2 window_from_ints(n.attrs.ints)
VJP(Conv2D, kSavesInputs) {  // (x, w) -> y
  if (needs[0]) out[0] = conv2d_backprop_input(G, Y, W2, X.shape);
  if (needs[1]) out[1] = conv2d_backprop_filter(X, G, W2, Y.shape);
}
JVP(Conv2D) {  // bilinear
  out[0] = plus(ts[0].defined() ? conv2d(ts[0], Y, W2) : Tensor(), ts[1].defined() ? conv2d(X, ts[1], W2) : Tensor());
}
VJP(Conv2DBackpropInput, kSavesInputs) {  // (g, w) -> dx
  if (needs[0]) out[0] = conv2d(G, Y, W2);
  if (needs[1]) out[1] = conv2d_backprop_filter(G, X, W2, Y.shape);
}
VJP(Conv2DBackpropFilter, kSavesInputs) {  // (x, g) -> dw
  if (needs[0]) out[0] = conv2d_backprop_input(Y, G, W2, X.shape);
  if (needs[1]) out[1] = conv2d(X, G, W2);
}
VJP(DepthwiseConv2d, kSavesInputs) {  // the same closed triple as conv2d
  if (needs[0]) out[0] = depthwise_conv2d_backprop_input(G, Y, W2, X.shape);
  if (needs[1]) out[1] = depthwise_conv2d_backprop_filter(X, G, W2, Y.shape);
}
VJP(DepthwiseConv2dBackpropInput, kSavesInputs) {
  if (needs[0]) out[0] = depthwise_conv2d(G, Y, W2);
  if (needs[1]) out[1] = depthwise_conv2d_backprop_filter(G, X, W2, Y.shape);
}
VJP(DepthwiseConv2dBackpropFilter, kSavesInputs) {
  if (needs[0]) out[0] = depthwise_conv2d_backprop_input(Y, G, W2, X.shape);
  if (needs[1]) out[1] = depthwise_conv2d(X, G, W2);
}
VJP(MaxPool, kSavesInputs) { out[0] = max_pool2d_grad(X, G, W2); }
VJP(MaxPoolGrad, kSavesInputs) {  // (x, g) -> dx; piecewise constant in x
  if (needs[0]) out[0] = zeros_like(X);
  if (needs[1]) out[1] = max_pool2d_grad_grad(X, G, W2);
}
VJP(MaxPoolGradGrad, kSavesInputs) {  // (x, h) -> pooled h
  if (needs[0]) out[0] = zeros_like(X);
  if (needs[1]) out[1] = max_pool2d_grad(X, G, W2);
}
VJP(AvgPool, kSavesNothing) { out[0] = avg_pool2d_grad(G, W2, X.shape); }
VJP(AvgPoolGrad, kSavesNothing) { out[0] = avg_pool2d(G, W2); }
#undef W2
// matrix functions (TF's linalg_grad.py); `mT` swaps the last two axes
Tensor mT(const Tensor& a) {
  std::vector<int> perm;
  for (int i = 0; i < a.ndim(); ++i) perm.push_back(i);
  std::swap(perm[size_t(a.ndim() - 1)], perm[size_t(a.ndim() - 2)]);
  return transpose(a, perm);
}
Tensor mH(const Tensor& a) { return cj(mT(a)); }  // the conjugate transpose
VJP(MatrixInverse, kSavesOutputs) {  // ans = inv(op(a)); d/da = -op(ans^H g ans^H)
  const Tensor ah = cj(ANS);
  Tensor gi = neg(matmul(ah, matmul(G, ah, false, true), true, false));
  out[0] = n.attrs.adjoint ? mH(gi) : gi;
}
VJP(MatrixDeterminant, kSavesBoth) {  // g * det * inv(a)^T
  Shape s = ANS.shape;
  s.ndim += 2;
  s[s.ndim - 2] = 1;
  s[s.ndim - 1] = 1;
  out[0] = mul(reshape(mul(G, ANS), s), matrix_inverse(X, true));
}
// n x n constant of a's dtype: 1 where keep(row, col), else 0 (scaled by `diag` on the diagonal)
Tensor tri_mask(const Tensor& a, bool lower, double diag) {
  const int64_t m = a.shape[a.ndim() - 1];
  Tensor t = Tensor::zeros(Shape{m, m}, a.dtype);
  TG_DISPATCH_FLOAT(a.dtype, T, {
    T* p = t.data<T>();
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < m; ++c)
        if (r == c) p[r * m + c] = T(diag);
        else if (lower ? r > c : r < c) p[r * m + c] = T(1);
  });
  return t;
}
VJP(MatrixTriangularSolve, kSavesBoth) {  // ans = op(a)^-1 b with a triangular; the a-gradient keeps a's triangle
  const bool adj = n.attrs.adjoint, lower = n.attrs.lower;
  Tensor gb = triangular_solve(X, G, lower, !adj);
  if (needs[0]) {
    Tensor ga = neg(adj ? matmul(ANS, gb, false, true) : matmul(gb, ANS, false, true));
    out[0] = mul(ga, tri_mask(X, lower, 1.0));
  }
  if (needs[1]) out[1] = gb;
}
VJP(Cholesky, kSavesOutputs) {  // TF's _CholeskyGrad (Murray 2016), symmetrised
  const Tensor& l = ANS;
  Tensor eye = kernels::binary(Op::Sub, tri_mask(l, true, 1.0), tri_mask(l, true, 0.0));  // identity
  Tensor l_inv = triangular_solve(l, kernels::broadcast_to(eye, l.shape), true, false);
  Tensor middle = mul(matmul(l, G, true, false), tri_mask(l, true, 0.5));
  Tensor ga = matmul(matmul(l_inv, middle, true, false), l_inv, false, false);
  out[0] = mul(add(ga, mT(ga)), c(ga, 0.5));
}
VJP(LogMatrixDeterminant, kSavesInputs) {  // outputs (sign, log|det|): only log|det| has a gradient
  Shape s = n.outputs[1].shape;
  s.ndim += 2;
  s[s.ndim - 2] = 1;
  s[s.ndim - 1] = 1;
  out[0] = mul(reshape(gs[1], s), matrix_inverse(X, true));
}
VJP(SelfAdjointEigV2, kSavesOutputs) {  // TF's _SelfAdjointEigV2Grad; the forward reads the lower triangle only
  const Tensor& e = n.outputs[0];
  const Tensor& v = n.outputs[1];
  const int nd = e.ndim();
  Shape row = e.shape, col = e.shape;  // e as [..., 1, n] and [..., n, 1]
  row.ndim = col.ndim = nd + 1;
  row[nd - 1] = 1;
  row[nd] = e.shape[nd - 1];
  col[nd - 1] = e.shape[nd - 1];
  col[nd] = 1;
  Tensor strict_lower = tri_mask(v, true, 0.0), strict_upper = tri_mask(v, false, 0.0);
  Tensor off_diag = kernels::binary(Op::Add, strict_lower, strict_upper);
  Tensor eye = kernels::binary(Op::Sub, tri_mask(v, true, 1.0), strict_lower);
  Tensor diff = sub(reshape(e, row), reshape(e, col));                        // e_j - e_i
  Tensor f = mul(div(diff, add(mul(diff, diff), c(diff, 1e-20))), off_diag);  // safe 1/(e_j - e_i)
  Tensor inner = add(mul(reshape(gs[0], row), eye), mul(f, matmul(v, gs[1], true, false)));
  Tensor ga = matmul(v, matmul(inner, v, false, true), false, false);
  out[0] = mul(add(ga, mT(ga)), tri_mask(v, true, 0.5));
}
VJP(Qr, kSavesOutputs) {  // TF's _QrGrad for the reduced QR of a tall or square matrix
  const Tensor &q = n.outputs[0], &r = n.outputs[1];
  const int64_t rows = X
  .shape[X.ndim() - 2], cols = X
  .shape[X.ndim() - 1];
  if (rows < cols || (n.attrs.full_matrices && rows != cols))
    throw LookupError("QrGrad is only implemented for reduced QR (full_matrices=False) of matrices with rows >= "
                      "columns, got shape " +
                      X.shape.str() + " [Op:Qr]");
  const Tensor &dq = gs[0], &dr = gs[1];
  Tensor qdq = matmul(q, dq, true, false);
  Tensor rdr = matmul(r, dr, false, true);
  Tensor tril = mul(add(sub(qdq, mT(qdq)), sub(rdr, mT(rdr))), tri_mask(r, true, 1.0));
  // x r^-T via a triangular solve: adjoint(triangular_solve(r, adjoint(x), upper))
  Tensor ga = matmul(q, add(dr, mT(triangular_solve(r, mT(tril), false, false))), false, false);
  Tensor gb = mT(triangular_solve(r, mT(sub(dq, matmul(q, qdq, false, false))), false, false));
  out[0] = add(ga, gb);
}
// x [..., k] as diagonal matrices [..., k, k]; `like` has last dimension k
Tensor diag_embed(const Tensor& x, const Tensor& like) {
  Shape row = x.shape;
  row.ndim += 1;
  row[row.ndim - 2] = 1;
  row[row.ndim - 1] = x.shape[x.ndim() - 1];
  Tensor eye = kernels::binary(Op::Sub, tri_mask(like, true, 1.0), tri_mask(like, true, 0.0));
  return mul(reshape(x, row), eye);
}
Tensor safe_reciprocal(const Tensor& x) { return div(x, add(mul(x, x), c(x, 1e-20))); }
VJP(Svd, kSavesBoth) {  // TF's _SvdGrad
  const bool full = n.attrs.full_matrices, compute_uv = n.attrs.compute_uv;
  int64_t m = X
  .shape[X.ndim() - 2], cols = X
  .shape[X.ndim() - 1];
  if (!compute_uv) {  // only s: u diag(g) v^T, from a recorded svd so that higher orders work
    std::vector<Tensor> usv = svd(X, false, true);
    out[0] = matmul(usv[1], matmul(diag_embed(G, usv[0]), usv[2], false, true), false, false);
    return;
  }
  if (full && m != cols)
    throw LookupError("svd gradient is implemented for full_matrices=False or square matrices only, got shape " +
                      X.shape.str() + " [Op:Svd]");
  Tensor s = n.outputs[0], u = n.outputs[1], v = n.outputs[2];
  Tensor gs_ = gs[0], gu = gs[1], gv = gs[2];
  const bool adj = m > cols;  // differentiate a^T = v s u^T, transpose at the end
  if (adj) {
    std::swap(u, v);
    std::swap(gu, gv);
    std::swap(m, cols);
  }
  Tensor u_gu = matmul(u, gu, true, false), v_gv = matmul(v, gv, true, false);  // k x k
  Tensor off_diag = kernels::binary(Op::Add, tri_mask(u_gu, true, 0.0), tri_mask(u_gu, false, 0.0));
  Tensor s2 = mul(s, s);
  Shape row = s.shape, col = s.shape;
  row.ndim = col.ndim = s.ndim() + 1;
  row[row.ndim - 2] = 1;
  row[row.ndim - 1] = s.shape[s.ndim() - 1];
  col[col.ndim - 2] = s.shape[s.ndim() - 1];
  col[col.ndim - 1] = 1;
  Tensor f = mul(safe_reciprocal(sub(reshape(s2, row), reshape(s2, col))), off_diag);
  Tensor s_mat = diag_embed(s, u_gu);
  Tensor f_u = mul(f, u_gu), f_v = mul(f, v_gv);
  Tensor inner = add(add(diag_embed(gs_, u_gu), matmul(add(f_u, mT(f_u)), s_mat, false, false)),
                     matmul(s_mat, add(f_v, mT(f_v)), false, false));
  Tensor ga = matmul(u, matmul(inner, v, false, true), false, false);
  if (m != cols) {
    Tensor gvt = mT(gv);
    Tensor nous = sub(gvt, matmul(matmul(gvt, v, false, false), v, false, true));
    ga = add(ga, matmul(matmul(u, diag_embed(safe_reciprocal(s), u_gu), false, false), nous, false, false));
  }
  out[0] = adj ? mT(ga) : ga;
}
VJP(MatrixSolve, kSavesBoth) {  // ans = op(a)^-1 b
  const bool adj = n.attrs.adjoint;
  Tensor gb = matrix_solve(X, G, !adj);
  if (needs[0]) out[0] = neg(adj ? matmul(ANS, cj(gb), false, true) : matmul(gb, cj(ANS), false, true));
  if (needs[1]) out[1] = gb;
}
// the m x m identity (or its complement, `off`) as a constant of dtype dt
Tensor eye_of(int64_t m, DType dt, bool off) {
  Tensor t = Tensor::zeros(Shape{m, m}, DType::Float64);
  double* p = t.data<double>();
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < m; ++c) p[r * m + c] = (r == c) != off ? 1.0 : 0.0;
  return kernels::cast(t, dt);
}
// TF's _EigGrad (Boeddeker et al. 2017, eq. 4.77; distinct eigenvalues): with vh = v^H and
// f_ij = conj(1 / (e_j - e_i)) off the diagonal, ga = vh^-1 (diag(ge) + f * (vh gv - vh v
// diag(re(diag(vh gv))))) vh; the last term keeps the columns' unit norm. Without v (eigvals) v is
// recomputed and only diag(ge) remains. Real input: the real part (TF's cast).
VJP(Eig, kSavesBoth) {
  const Tensor& e = n.outputs[0];
  const int nd = e.ndim();
  const int64_t m = e.shape[nd - 1];
  Shape row = e.shape, col = e.shape;  // e as [..., 1, m] and [..., m, 1]
  row.ndim = col.ndim = nd + 1;
  row[nd - 1] = 1;
  row[nd] = m;
  col[nd - 1] = m;
  col[nd] = 1;
  const Tensor eye = eye_of(m, e.dtype, false);
  Tensor mid = mul(reshape(gs[0], row), eye), vh;
  if (n.attrs.compute_uv) {
    const Tensor& v = n.outputs[1];
    vh = mH(v);
    Tensor f = cj(mul(safe_reciprocal(sub(reshape(e, row), reshape(e, col))), eye_of(m, e.dtype, true)));
    Tensor vgv = matmul(vh, gs[1], false, false);
    Tensor re = real(vgv);
    Tensor diag_re = mul(complex(re, zeros_like(re)), eye);
    mid = add(mid, mul(f, sub(vgv, matmul(matmul(vh, v, false, false), diag_re, false, false))));
  } else {
    vh = mH(eig(X, true)[1]);
  }
  Tensor ga = matrix_solve(vh, matmul(mid, vh, false, false), false);
  out[0] = is_complex(X.dtype) ? ga : real(ga);
}


// ---- area: softmax, log_softmax, fused cross-entropies ---------------------------------------

int nn_axis(const Node& n) { return int(n.attrs.ints[0]); }
// g without the class axis, reshaped to broadcast against `like` (the axis back as size 1).
Tensor with_class_axis(const Tensor& g, const Shape& like, int axis) {
  Shape s = like;
  s[axis] = 1;
  return reshape(g, s);
}
// A gradient that is exactly zero and that no active tape knows: its terms can be skipped. The
// backward pass passes zeros for an output nobody differentiated (a cross-entropy's backprop).
bool inert_zero(const Tensor& g) {
  for (const auto& t : tape::t_active)
    if (t->watches(g.id)) return false;
  bool zero = true;
  TG_DISPATCH_FLOAT(g.dtype, T, {
    const T* p = g.data<T>();
    for (int64_t i = 0, e = g.numel(); i < e && zero; ++i) zero = p[i] == T(0);
  });
  return zero;
}
// (g - sum(g * s, axis)) * s: the softmax Jacobian product.
Tensor softmax_jvp(const Tensor& g, const Tensor& s, int axis) {
  return mul(sub(g, reduce(Op::Sum, mul(g, s), {axis}, false, true)), s);
}
VJP(Softmax, kSavesOutputs) { out[0] = softmax_jvp(G, ANS, nn_axis(n)); }
JVP(Softmax) { out[0] = softmax_jvp(ts[0], ANS, nn_axis(n)); }  // the same product
VJP(LogSoftmax, kSavesOutputs) {
  const int ax = nn_axis(n);
  out[0] = sub(G, mul(reduce(Op::Sum, G, {ax}, false, true), unary(Op::Exp, ANS)));
}
JVP(LogSoftmax) {  // t - sum(t softmax)
  out[0] = sub(ts[0], reduce(Op::Sum, mul(ts[0], unary(Op::Exp, ANS)), {nn_axis(n)}, false, true));
}
// inputs (logits, labels), outputs (loss, backprop = softmax - labels, TF's kernel output; it is the
// exact d loss / d logits only for labels that sum to 1, and TF's number is the contract). The
// first-order rule is grad * backprop; a gradient reaching backprop itself (second order) goes
// through the softmax Jacobian for logits and is negated for labels.
VJP(SoftmaxCrossEntropy, kSavesBoth) {
  const Tensor& logits = n.inputs[0];
  const int ax = nn_axis(n);
  Tensor g = with_class_axis(gs[0], logits.shape, ax);
  const bool second = !inert_zero(gs[1]);
  Tensor s = second ? softmax(logits, ax) : Tensor();
  if (needs[0]) {
    out[0] = mul(g, n.outputs[1]);
    if (second) out[0] = add(out[0], softmax_jvp(gs[1], s, ax));  // backprop = softmax - labels
  }
  if (needs[1]) {
    out[1] = mul(g, neg(log_softmax(logits, ax)));
    if (second) out[1] = sub(out[1], gs[1]);
  }
}
JVP(SoftmaxCrossEntropy) {  // the transpose of the VJP: TF's backprop is the logits' derivative
  const Tensor& logits = n.inputs[0];
  const int ax = nn_axis(n);
  Tensor dloss, dbackprop;
  if (ts[0].defined()) {
    dloss = reduce(Op::Sum, mul(n.outputs[1], ts[0]), {ax}, false, false);
    dbackprop = softmax_jvp(ts[0], softmax(logits, ax), ax);
  }
  if (ts[1].defined()) {
    dloss = plus(dloss, reduce(Op::Sum, mul(neg(log_softmax(logits, ax)), ts[1]), {ax}, false, false));
    dbackprop = plus(dbackprop, neg(ts[1]));
  }
  out[0] = dloss;
  out[1] = dbackprop;
}
VJP(SparseSoftmaxCrossEntropy, kSavesBoth) {  // labels are integers: no gradient
  const Tensor& logits = n.inputs[0];
  const int ax = logits.ndim() - 1;
  Tensor g = with_class_axis(gs[0], logits.shape, ax);
  out[0] = mul(g, n.outputs[1]);
  if (!inert_zero(gs[1])) out[0] = add(out[0], softmax_jvp(gs[1], softmax(logits, ax), ax));
}
JVP(SparseSoftmaxCrossEntropy) {
  const Tensor& logits = n.inputs[0];
  const int ax = logits.ndim() - 1;
  out[0] = reduce(Op::Sum, mul(n.outputs[1], ts[0]), {ax}, false, false);
  out[1] = softmax_jvp(ts[0], softmax(logits, ax), ax);
}
VJP(SigmoidCrossEntropy, kSavesInputs) {  // inputs (logits, labels)
  if (needs[0]) out[0] = mul(G, sub(unary(Op::Sigmoid, X), Y));
  if (needs[1]) out[1] = mul(G, neg(X));
}
JVP(SigmoidCrossEntropy) {  // (sigmoid(x) - z) dx - x dz
  out[0] = plus(ts[0].defined() ? mul(sub(unary(Op::Sigmoid, X), Y), ts[0]) : Tensor(),
                ts[1].defined() ? mul(neg(X), ts[1]) : Tensor());
}


// ---- area: complex numbers (TF's math_grad.py _RealGrad, _ImagGrad, _ConjGrad, _AngleGrad,
// _ComplexAbsGrad, _ComplexGrad) --------------------------------------------------------------
VJP(Real, kSavesNothing) { out[0] = complex(G, zeros_like(G)); }
VJP(Imag, kSavesNothing) { out[0] = complex(zeros_like(G), G); }
VJP(Conj, kSavesNothing) { out[0] = conj(G); }
VJP(Angle, kSavesInputs) {  // -g / (im + i re) as a complex number; a real input: zeros
  if (!is_complex(X.dtype)) {
    out[0] = zeros_like(X);
    return;
  }
  Tensor z = unary(Op::Reciprocal, complex(imag(X), real(X)));
  out[0] = neg(mul(complex(G, zeros_like(G)), z));
}
VJP(ComplexAbs, kSavesBoth) {  // g x / |x|, 0 where x = 0
  Tensor gx = mul(complex(G, zeros_like(G)), X);
  Tensor den = complex(ANS, zeros_like(ANS));
  Tensor nz = kernels::binary(Op::NotEqual, ANS, zeros_like(ANS));
  out[0] = select(nz, div(gx, select(nz, den, ones_like(den))), zeros_like(gx));
}
VJP(Complex, kSavesNothing) {
  if (needs[0]) out[0] = real(G);
  if (needs[1]) out[1] = imag(G);
}


// ---- area: custom_gradient and other tape features -------------------------------------------
VJP(CustomGradient, kSavesNothing) {  // attrs.backward is built in bindings/jacobian_custom_gradient.cpp
  std::vector<Tensor> grads(gs, gs + n.outputs.size());
  std::vector<Tensor> res = n.attrs.backward(grads);
  for (size_t i = 0; i < n.inputs.size() && i < res.size(); ++i)
    if (needs[i]) out[i] = res[i];
}


#undef VJP
#undef VJP_FN
#undef SAME_VJP
#undef GRADIENT_IS
#undef JVP
#undef JVP_FN

// Primitives with no gradient at all: bool or integer outputs, so no tape ever records them.
// (A differentiable op whose gradient TF defines as None, like Floor, has GRADIENT_IS(vjp_none).)
const Registrar kNotDifferentiable{
    Op::Equal,      Op::NotEqual,  Op::Less,       Op::LessEqual, Op::Greater,  Op::GreaterEqual,
    Op::LogicalAnd, Op::LogicalOr, Op::LogicalNot, Op::IsNan,     Op::IsFinite, Op::IsInf,
    Op::Any,        Op::All,       Op::ArgMax,     Op::ArgMin,
};

}  // namespace

const OpDef& opdef(Op op) { return registry::entry(op); }

}  // namespace tg
