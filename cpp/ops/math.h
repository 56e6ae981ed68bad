// Math-area primitives that are not plain unary/binary/reduce ops: scans, arg-reductions,
// parameterised activations and their fused backward kernels.
#pragma once
#include "ops/ops.h"

namespace tg {
namespace kernels {
// Cumulative sum (op Cumsum) or product (Cumprod) along `axis` (normalised), optionally exclusive
// and/or from the end.
Tensor scan(Op op, const Tensor& x, int axis, bool exclusive, bool reverse);
// Index of the first extreme value along `axis` (normalised); out_dtype Int32 or Int64. NaN is
// never picked, as TF.
Tensor arg_reduce(Op op, const Tensor& x, int axis, DType out_dtype);
Tensor leaky_relu(const Tensor& x, double alpha);
Tensor leaky_relu_grad(const Tensor& x, const Tensor& g, double alpha);  // g * (x > 0 ? 1 : alpha)
Tensor relu6_grad(const Tensor& x, const Tensor& g);                     // g * (0 < x < 6)
Tensor exp_linear(Op op, const Tensor& x);                                // op: Elu or Selu
Tensor exp_linear_grad(Op op, const Tensor& ans, const Tensor& g);        // op: EluGrad or SeluGrad
}  // namespace kernels

namespace ops {
Tensor scan(Op op, const Tensor& x, int64_t axis, bool exclusive, bool reverse);  // recorded
inline Tensor cumsum(const Tensor& x, int64_t axis, bool exclusive, bool reverse) {
  return scan(Op::Cumsum, x, axis, exclusive, reverse);
}
Tensor arg_reduce(Op op, const Tensor& x, int64_t axis, DType out_dtype);   // never recorded
Tensor leaky_relu(const Tensor& x, double alpha);
Tensor leaky_relu_grad(const Tensor& x, const Tensor& g, double alpha);
Tensor relu6_grad(const Tensor& x, const Tensor& g);
Tensor exp_linear(Op op, const Tensor& x);
Tensor exp_linear_grad(Op op, const Tensor& ans, const Tensor& g);
}  // namespace ops
}  // namespace tg
