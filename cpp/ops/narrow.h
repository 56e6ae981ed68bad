// Arithmetic on the narrow dtypes by widening at the edge. See Note [Narrow dtypes] (tensor/dtype.h).
#pragma once
#include "ops/ops.h"

namespace tg {
namespace narrow {

// Each checks that TF defines `op` for x's dtype (else TF's InvalidArgumentError), widens (integers
// to int64, float16/bfloat16 to float32), runs the core kernel and converts the result back.
Tensor binary(Op op, const Tensor& a, const Tensor& b);
Tensor unary(Op op, const Tensor& x);
Tensor reduce(Op op, const Tensor& x, const std::vector<int>& axes, bool keepdims);
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b);
Tensor scan(Op op, const Tensor& x, int axis, bool exclusive, bool reverse);
Tensor arg_reduce(Op op, const Tensor& x, int axis, DType out_dtype);

}  // namespace narrow
}  // namespace tg
