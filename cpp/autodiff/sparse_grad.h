// Sparse gradients in the backward pass (TF's IndexedSlices). See Note [Sparse gradients] in
// sparse_grad.cpp.
#pragma once
#include <vector>

#include "autodiff/tape.h"

namespace tg {

// A gradient as the backward pass holds it: dense, or rows of a dense tensor (TF's
// IndexedSlices) whose dense value is unsorted_segment_sum(value, indices, dense_shape[0]):
// row indices[i] of the dense tensor gets value[i] added (duplicates add).
struct GradValue {
  Tensor value;      // the dense gradient, or the slices' values [n, dense_shape[1:]...]
  Tensor indices;    // defined iff sparse: [n] int32 or int64
  Shape dense_shape;  // sparse only

  bool sparse() const { return indices.defined(); }
  bool defined() const { return value.defined(); }
};

namespace sparse_grad {

// The dense tensor of `g` (differentiable: it is ops::gather_grad, whose VJP gathers).
Tensor densify(const GradValue& g);
// a + b as TF's tape aggregates: both sparse -> one sparse gradient whose values and indices are
// the concatenations (indices promoted to int64 when their dtypes differ); otherwise dense sum.
GradValue add(const GradValue& a, const GradValue& b);
// The sparse gradient of params in `node` when the node's rule makes one: Gather along axis 0
// (batch_dims 0), as TF's GatherV2 gradient. Returns an undefined GradValue otherwise.
GradValue gather_params_grad(const Node& node, const Tensor& grad);
// Whether `op` passes a sparse output gradient through to its input (Identity; Cast casts the values).
bool passes_sparse(Op op);
GradValue pass_through(const Node& node, const GradValue& g);

}  // namespace sparse_grad

namespace tape {

// compute_gradient that keeps sparse source gradients sparse (tf.IndexedSlices in Python);
// compute_gradient densifies them. on_source_ready gets dense gradients.
std::vector<GradValue> compute_gradient_sparse(Tape& tape, const std::vector<Tensor>& targets,
                                               const std::vector<Tensor>& sources,
                                               const std::vector<Tensor>& output_grads, bool zero_unconnected);

}  // namespace tape
}  // namespace tg
