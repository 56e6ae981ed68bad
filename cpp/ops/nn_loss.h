// Softmax, log_softmax and the fused cross-entropy ops (TF's Softmax, LogSoftmax,
// SoftmaxCrossEntropyWithLogits, SparseSoftmaxCrossEntropyWithLogits and the sigmoid form).
#pragma once
#include <utility>
#include "ops/ops.h"

namespace tg {
namespace kernels {
// Over `axis` (normalised); log=true gives log_softmax. Max-shifted, so ±1000 stays finite.
Tensor softmax(const Tensor& logits, int axis, bool log);
// loss = -sum(labels * log_softmax(logits), axis); backprop (when asked) = its gradient in the
// logits, sum(labels) * softmax - labels (TF's softmax - labels for labels that sum to 1).
// labels has logits' shape and dtype. One pass per row.
void softmax_xent(const Tensor& labels, const Tensor& logits, int axis, Tensor* loss, Tensor* backprop);
// logits (..., C), labels integer (...); labels are checked to lie in [0, C) before any loop.
void sparse_softmax_xent(const Tensor& labels, const Tensor& logits, Tensor* loss, Tensor* backprop);
// max(x, 0) - x * z + log1p(exp(-|x|)), elementwise, same shapes and dtypes.
Tensor sigmoid_xent(const Tensor& labels, const Tensor& logits);
}  // namespace kernels

namespace ops {
// axis as the user gives it (negative wraps). Errors name the shapes and dtypes.
Tensor softmax(const Tensor& logits, int64_t axis);
Tensor log_softmax(const Tensor& logits, int64_t axis);
// labels: cast to logits' float dtype, broadcast to logits' shape (TF's rules).
Tensor softmax_cross_entropy(const Tensor& labels, const Tensor& logits, int64_t axis);
Tensor sparse_softmax_cross_entropy(const Tensor& labels, const Tensor& logits);
// The same with the backprop output (the gradient's factor, which the rule saves) as well: computed
// when `with_backprop` or a tape is active, else undefined. A traced call records these, so that
// a replay has the factor without a tape (See Note [Unrolled gradient], graph/unroll.cpp).
std::pair<Tensor, Tensor> softmax_cross_entropy_bp(const Tensor& labels, const Tensor& logits, int64_t axis,
                                                   bool with_backprop);
std::pair<Tensor, Tensor> sparse_softmax_cross_entropy_bp(const Tensor& labels, const Tensor& logits,
                                                          bool with_backprop);
Tensor sigmoid_cross_entropy(const Tensor& labels, const Tensor& logits);
}  // namespace ops
}  // namespace tg
