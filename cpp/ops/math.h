// Math-area primitives that are not plain unary/binary/reduce ops: scans and arg-reductions.
#pragma once
#include "ops/ops.h"

namespace tg {
namespace kernels {
// Cumulative sum along `axis` (normalised), optionally exclusive and/or from the end.
Tensor cumsum(const Tensor& x, int axis, bool exclusive, bool reverse);
// Index of the first extreme value along `axis` (normalised); out_dtype Int32 or Int64. NaN wins.
Tensor arg_reduce(Op op, const Tensor& x, int axis, DType out_dtype);
}  // namespace kernels

namespace ops {
Tensor cumsum(const Tensor& x, int64_t axis, bool exclusive, bool reverse);  // recorded
Tensor arg_reduce(Op op, const Tensor& x, int64_t axis, DType out_dtype);   // never recorded
}  // namespace ops
}  // namespace tg
