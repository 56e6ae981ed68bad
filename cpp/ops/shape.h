// Shape and indexing primitives (ops/shape.cpp, ops/index.cpp). Everything else in the area
// (expand_dims, stack, tile, split, __getitem__, gather_nd, boolean_mask, one_hot ...) is built
// from these and the core ops in python/tapegrad/_ops_shape.py and bindings/ops_shape.cpp.
#pragma once
#include <vector>

#include "ops/ops.h"

namespace tg {

namespace kernels {
// out[i...] = x[begin + i*stride ...] over `size` (strides may be negative, never 0).
Tensor strided_slice(const Tensor& x, const std::vector<int64_t>& begin, const std::vector<int64_t>& stride,
                     const Shape& size);
// The adjoint: a tensor of `shape` filled with `fill`, with g written at the sliced positions.
Tensor strided_slice_grad(const Tensor& g, const Shape& shape, const std::vector<int64_t>& begin,
                          const std::vector<int64_t>& stride, double fill);
Tensor concat(const std::vector<Tensor>& xs, int axis);  // axis normalised
// x viewed as [B, O, N, I] (B = batch dims, O = dims before axis), idx as [B, M]: out [B, O, M, I].
Tensor gather(const Tensor& x, const Tensor& idx, int axis, int batch_dims);
// The adjoint of gather: g has gather's output shape; out has x_shape, duplicates add up.
Tensor gather_grad(const Tensor& g, const Tensor& idx, const Shape& x_shape, int axis, int batch_dims);
// tensor [N, I] with rows idx [M] replaced by updates [M, I] (the last write wins on duplicates).
Tensor scatter_update(const Tensor& tensor, const Tensor& idx, const Tensor& updates);
// indices [..., K] into the leading K dims of `shape` -> int64 row numbers [...]; raises naming the
// first out-of-range index with TF's wording for `op` ("GatherNd", "ScatterNd", ...).
Tensor flat_nd_index(const Tensor& indices, const Shape& shape, const char* op);
// The 1-argument where: int64 [n, ndim] coordinates of the true (non-zero) elements.
Tensor where_indices(const Tensor& cond);
}  // namespace kernels

namespace ops {
// begin/stride/size per dimension (already resolved: 0 <= positions < dim).
Tensor strided_slice(const Tensor& x, const std::vector<int64_t>& begin, const std::vector<int64_t>& stride,
                     const Shape& size);
Tensor strided_slice_grad(const Tensor& g, const Shape& shape, const std::vector<int64_t>& begin,
                          const std::vector<int64_t>& stride, double fill);
// axis as the user gives it (negative wraps).
Tensor concat(const std::vector<Tensor>& xs, int64_t axis);
// axis, batch_dims as the user gives them (negative wrap).
Tensor gather(const Tensor& x, const Tensor& idx, int64_t axis, int64_t batch_dims);
Tensor gather_grad(const Tensor& g, const Tensor& idx, const Shape& x_shape, int axis, int batch_dims);
Tensor scatter_update(const Tensor& tensor, const Tensor& idx, const Tensor& updates);
}  // namespace ops

}  // namespace tg
