// Explicit JVP rules for the hot primitives (every other differentiable op uses the transposed
// VJP, See Note [Forward mode]). Conventions: `t[i]` is input i's tangent (undefined = zero).
#include "autodiff/forward.h"
#include "ops/conv.h"
#include "ops/nn_loss.h"
#include "ops/shape.h"

namespace tg {
namespace {

using namespace ops;
#define JVP(NAME) void NAME(const Node& n, const Tensor* t, Tensor* out)
#define X n.inputs[0]
#define Y n.inputs[1]
#define ANS n.outputs[0]

Tensor c(const Tensor& like, double v) { return scalar_like(like, v); }
// a + b where either may be undefined (zero)
Tensor plus(const Tensor& a, const Tensor& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  return add(a, b);
}
Tensor or_zeros(const Tensor& t, const Tensor& like) { return t.defined() ? t : zeros_like(like); }

JVP(jvp_identity) { out[0] = t[0]; }
JVP(jvp_add) { out[0] = plus(t[0], t[1]); }
JVP(jvp_sub) { out[0] = plus(t[0], t[1].defined() ? neg(t[1]) : Tensor()); }
JVP(jvp_mul) { out[0] = plus(t[0].defined() ? mul(t[0], Y) : Tensor(), t[1].defined() ? mul(X, t[1]) : Tensor()); }
JVP(jvp_div) {  // (tx - ty * ans) / y
  Tensor num = plus(t[0], t[1].defined() ? neg(mul(t[1], ANS)) : Tensor());
  out[0] = div(num, Y);
}
JVP(jvp_neg) { out[0] = neg(t[0]); }
JVP(jvp_square) { out[0] = mul(t[0], mul(c(X, 2.0), X)); }
JVP(jvp_sqrt) { out[0] = div(mul(t[0], c(ANS, 0.5)), ANS); }
JVP(jvp_rsqrt) { out[0] = mul(t[0], mul(c(ANS, -0.5), mul(ANS, unary(Op::Square, ANS)))); }
JVP(jvp_exp) { out[0] = mul(t[0], ANS); }
JVP(jvp_expm1) { out[0] = mul(t[0], unary(Op::Exp, X)); }
JVP(jvp_log) { out[0] = div(t[0], X); }
JVP(jvp_log1p) { out[0] = div(t[0], add(X, c(X, 1.0))); }
JVP(jvp_sin) { out[0] = mul(t[0], unary(Op::Cos, X)); }
JVP(jvp_cos) { out[0] = mul(t[0], neg(unary(Op::Sin, X))); }
JVP(jvp_tanh) { out[0] = binary(Op::TanhGrad, ANS, t[0]); }
JVP(jvp_sigmoid) { out[0] = binary(Op::SigmoidGrad, ANS, t[0]); }
JVP(jvp_relu) { out[0] = binary(Op::ReluGrad, ANS, t[0]); }
JVP(jvp_abs) { out[0] = mul(t[0], unary(Op::Sign, X)); }
JVP(jvp_softplus) { out[0] = mul(t[0], unary(Op::Sigmoid, X)); }
JVP(jvp_reciprocal) { out[0] = mul(t[0], neg(unary(Op::Square, ANS))); }
JVP(jvp_square_diff) {  // 2 (x - y) (tx - ty)
  out[0] = mul(mul(c(X, 2.0), sub(X, Y)), plus(t[0], t[1].defined() ? neg(t[1]) : Tensor()));
}
void minmax(const Node& n, const Tensor* t, Tensor* out, Op cmp) {  // the VJP's tie rule: x wins
  Tensor xmask = kernels::binary(cmp, X, Y);
  out[0] = select(xmask, or_zeros(t[0], ANS), or_zeros(t[1], ANS));
}
JVP(jvp_maximum) { minmax(n, t, out, Op::GreaterEqual); }
JVP(jvp_minimum) { minmax(n, t, out, Op::LessEqual); }

// reductions: attrs.ints = axes (normalised), flag_a = keepdims
std::vector<int64_t> axes_of(const Node& n) { return n.attrs.ints; }
JVP(jvp_sum) { out[0] = reduce(Op::Sum, t[0], axes_of(n), false, n.attrs.flag_a); }
JVP(jvp_mean) { out[0] = reduce(Op::Mean, t[0], axes_of(n), false, n.attrs.flag_a); }
JVP(jvp_max_min) {  // ties share equally, as the VJP
  Shape s = X
  .shape;
  for (int64_t a : n.attrs.ints) s[int(a)] = 1;
  Tensor y = n.attrs.flag_a ? ANS : kernels::reshape(ANS, s);
  Tensor ind = kernels::cast(kernels::binary(Op::Equal, X, kernels::broadcast_to(y, X.shape)), X.dtype);
  Tensor count = kernels::reduce(Op::Sum, ind, std::vector<int>(n.attrs.ints.begin(), n.attrs.ints.end()), true);
  out[0] = reduce(Op::Sum, mul(t[0], kernels::binary(Op::Div, ind, count)), axes_of(n), false, n.attrs.flag_a);
}

// linear algebra and shape
JVP(jvp_matmul) {
  const bool ta = n.attrs.flag_a, tb = n.attrs.flag_b;
  out[0] =
      plus(t[0].defined() ? matmul(t[0], Y, ta, tb) : Tensor(), t[1].defined() ? matmul(X, t[1], ta, tb) : Tensor());
}
JVP(jvp_reshape) { out[0] = reshape(t[0], ANS.shape); }
JVP(jvp_transpose) { out[0] = transpose(t[0], std::vector<int>(n.attrs.ints.begin(), n.attrs.ints.end())); }
JVP(jvp_broadcast_to) { out[0] = broadcast_to(t[0], ANS.shape); }
JVP(jvp_cast) { out[0] = cast(t[0], ANS.dtype); }
JVP(jvp_select) { out[0] = select(n.inputs[0], or_zeros(t[1], ANS), or_zeros(t[2], ANS)); }

// softmax family: attrs.ints[0] = axis
JVP(jvp_softmax) {  // s (t - sum(t s))
  const int ax = int(n.attrs.ints[0]);
  out[0] = mul(sub(t[0], reduce(Op::Sum, mul(t[0], ANS), {ax}, false, true)), ANS);
}
JVP(jvp_log_softmax) {  // t - sum(t softmax)
  const int ax = int(n.attrs.ints[0]);
  out[0] = sub(t[0], reduce(Op::Sum, mul(t[0], unary(Op::Exp, ANS)), {ax}, false, true));
}

// indexing: slice attrs = begin (ndim) then stride (ndim); gather attrs = {axis, batch_dims}
JVP(jvp_strided_slice) {
  size_t nd = n.attrs.ints.size() / 2;
  std::vector<int64_t> begin(n.attrs.ints.begin(), n.attrs.ints.begin() + long(nd));
  std::vector<int64_t> stride(n.attrs.ints.begin() + long(nd), n.attrs.ints.end());
  out[0] = strided_slice(t[0], begin, stride, ANS.shape);
}
JVP(jvp_concat) {
  std::vector<Tensor> ts;
  for (size_t i = 0; i < n.inputs.size(); ++i) ts.push_back(or_zeros(t[i], n.inputs[i]));
  out[0] = concat(ts, n.attrs.ints[0]);
}
JVP(jvp_gather) { out[0] = gather(t[0], Y, n.attrs.ints[0], n.attrs.ints[1]); }

// conv2d is bilinear
JVP(jvp_conv2d) {
  const Window2D w = window_from_ints(n.attrs.ints);
  out[0] = plus(t[0].defined() ? conv2d(t[0], Y, w) : Tensor(), t[1].defined() ? conv2d(X, t[1], w) : Tensor());
}

#undef JVP
#undef X
#undef Y
#undef ANS

struct JvpTable {
  JvpFn fns[size_t(Op::kCount)] = {};
  JvpTable() {
    fns[size_t(Op::Identity)] = jvp_identity;
    fns[size_t(Op::Add)] = jvp_add;
    fns[size_t(Op::Sub)] = jvp_sub;
    fns[size_t(Op::Mul)] = jvp_mul;
    fns[size_t(Op::Div)] = jvp_div;
    fns[size_t(Op::Neg)] = jvp_neg;
    fns[size_t(Op::Square)] = jvp_square;
    fns[size_t(Op::Sqrt)] = jvp_sqrt;
    fns[size_t(Op::Rsqrt)] = jvp_rsqrt;
    fns[size_t(Op::Exp)] = jvp_exp;
    fns[size_t(Op::Expm1)] = jvp_expm1;
    fns[size_t(Op::Log)] = jvp_log;
    fns[size_t(Op::Log1p)] = jvp_log1p;
    fns[size_t(Op::Sin)] = jvp_sin;
    fns[size_t(Op::Cos)] = jvp_cos;
    fns[size_t(Op::Tanh)] = jvp_tanh;
    fns[size_t(Op::Sigmoid)] = jvp_sigmoid;
    fns[size_t(Op::Relu)] = jvp_relu;
    fns[size_t(Op::Abs)] = jvp_abs;
    fns[size_t(Op::Softplus)] = jvp_softplus;
    fns[size_t(Op::Reciprocal)] = jvp_reciprocal;
    fns[size_t(Op::SquaredDifference)] = jvp_square_diff;
    fns[size_t(Op::Maximum)] = jvp_maximum;
    fns[size_t(Op::Minimum)] = jvp_minimum;
    fns[size_t(Op::Sum)] = jvp_sum;
    fns[size_t(Op::Mean)] = jvp_mean;
    fns[size_t(Op::Max)] = jvp_max_min;
    fns[size_t(Op::Min)] = jvp_max_min;
    fns[size_t(Op::MatMul)] = jvp_matmul;
    fns[size_t(Op::Reshape)] = jvp_reshape;
    fns[size_t(Op::Transpose)] = jvp_transpose;
    fns[size_t(Op::BroadcastTo)] = jvp_broadcast_to;
    fns[size_t(Op::Cast)] = jvp_cast;
    fns[size_t(Op::Select)] = jvp_select;
    fns[size_t(Op::Softmax)] = jvp_softmax;
    fns[size_t(Op::LogSoftmax)] = jvp_log_softmax;
    fns[size_t(Op::StridedSlice)] = jvp_strided_slice;
    fns[size_t(Op::Concat)] = jvp_concat;
    fns[size_t(Op::Gather)] = jvp_gather;
    fns[size_t(Op::Conv2D)] = jvp_conv2d;
  }
};

}  // namespace

namespace forward {
JvpFn explicit_rule(Op op) {
  static const JvpTable table;
  return table.fns[size_t(op)];
}
}  // namespace forward
}  // namespace tg
