// Ops: `kernels::` compute and never touch a tape; `ops::` are the differentiable primitives: kernel,
// then record on every active tape that watches an input (See Note [Recording]).
#pragma once
#include <vector>

#include "ops/op_list.h"
#include "tensor/tensor.h"

namespace tg {


namespace kernels {
// The loops kernels::binary / kernels::unary run for a float32 or float64 op whose operands are
// contiguous (Note [Kernel loops]): tensor-tensor, tensor-scalar, scalar-tensor, and the unary
// loop. A replay's fused elementwise node calls them on its own buffers (Note [Fused elementwise],
// graph/fuse.cpp), so its results have the bits of the kernels'. Null where the op has none (bool
// outputs, integer-only ops, another dtype).
using EwLoop = void (*)(const void* a, const void* b, void* out, int64_t n);
using EwUnaryLoop = void (*)(const void* x, void* out, int64_t n);
struct EwLoops {
  EwLoop vv = nullptr, vs = nullptr, sv = nullptr;
  EwUnaryLoop un = nullptr;
};
EwLoops float_loops(Op op, DType dtype);
Shape broadcast_shapes(const Shape& a, const Shape& b, Op op);
Tensor binary(Op op, const Tensor& a, const Tensor& b);
Tensor unary(Op op, const Tensor& x);
// axes: normalised (0 <= axis < ndim), sorted, unique; empty with all=true reduces everything.
Tensor reduce(Op op, const Tensor& x, const std::vector<int>& axes, bool keepdims);
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b);
Tensor transpose(const Tensor& x, const std::vector<int>& perm);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
Tensor cast(const Tensor& x, DType dtype);
Tensor select(const Tensor& cond, const Tensor& a, const Tensor& b);  // where(cond, a, b)
Tensor reshape(const Tensor& x, const Shape& shape);  // shares the buffer, fresh id
}  // namespace kernels

namespace ops {
Tensor binary(Op op, const Tensor& a, const Tensor& b);
Tensor unary(Op op, const Tensor& x);
inline Tensor add(const Tensor& a, const Tensor& b) { return binary(Op::Add, a, b); }
inline Tensor sub(const Tensor& a, const Tensor& b) { return binary(Op::Sub, a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return binary(Op::Mul, a, b); }
inline Tensor div(const Tensor& a, const Tensor& b) { return binary(Op::Div, a, b); }
inline Tensor neg(const Tensor& x) { return unary(Op::Neg, x); }

// axes as the user gives them (negative allowed, duplicates rejected); empty + all=true: every axis.
Tensor reduce(Op op, const Tensor& x, const std::vector<int64_t>& axes, bool all_axes, bool keepdims);
Tensor sum_all(const Tensor& x);
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b);
Tensor reshape(const Tensor& x, const std::vector<int64_t>& shape);  // one -1 allowed
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor transpose(const Tensor& x, const std::vector<int>& perm);  // perm empty: reverse
Tensor broadcast_to(const Tensor& x, const Shape& shape);
Tensor cast(const Tensor& x, DType dtype);
Tensor select(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor identity(const Tensor& x);

// Sums g over the axes that broadcasting added or stretched, so that it has `shape` (differentiable).
Tensor sum_to(const Tensor& g, const Shape& shape);
Tensor scalar_like(const Tensor& x, double v);  // a 0-d tensor of x's dtype
Tensor zeros_like(const Tensor& x);
Tensor ones_like(const Tensor& x);
// A new tensor that shares x's buffer but not its identity: no tape can connect through it.
Tensor stop_gradient(const Tensor& x);

// Normalises user axes against a rank: negative wraps, out of range and duplicates raise.
std::vector<int> normalize_axes(const std::vector<int64_t>& axes, int ndim, const char* op_name);
}  // namespace ops

}  // namespace tg

#include "ops/nn_loss.h"  // area: softmax, log_softmax, fused cross-entropies
