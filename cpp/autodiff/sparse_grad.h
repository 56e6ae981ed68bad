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
  int64_t rank = 0;   // sparse: where TF's backward walk made these slices (See Note [Sparse gradients])
  std::vector<GradValue> pending;  // sparse: more slices to concatenate (each with no pending of its own)

  bool sparse() const { return indices.defined(); }
  bool defined() const { return value.defined(); }
};

namespace sparse_grad {

inline GradValue dense(Tensor t) {
  GradValue g;
  g.value = std::move(t);
  return g;
}

// The dense tensor of `g` (differentiable: it is ops::gather_grad, whose VJP gathers).
Tensor densify(const GradValue& g);
// One sparse gradient: the pending slices concatenated in TF's order (by rank; indices promoted
// to int64 when their dtypes differ). Dense or single-piece gradients come back as they are.
GradValue materialize(const GradValue& g);
// a + b as TF's tape aggregates: both sparse -> one sparse gradient (concatenated when
// materialized); otherwise the dense sum.
GradValue add(const GradValue& a, const GradValue& b);
// The sparse gradient of params in `node` when the node's rule makes one: Gather along axis 0
// (batch_dims 0), as TF's GatherV2 gradient. Returns an undefined GradValue otherwise.
GradValue gather_params_grad(const Node& node, const Tensor& grad, int64_t rank);
bool makes_sparse(const Node& node);  // whether gather_params_grad gives `node` a sparse gradient
// Whether `op` passes a sparse output gradient through to its input (Identity; Cast casts the values).
bool passes_sparse(Op op);
GradValue pass_through(const Node& node, const GradValue& g, int64_t rank);

}  // namespace sparse_grad

namespace tape {

// compute_gradient that keeps sparse source gradients sparse (tf.IndexedSlices in Python);
// compute_gradient densifies them. on_source_ready(i, grad), when given, is called as
// compute_gradient's (See Note [Source ready]) with the GradValue that will be result[i]: sparse
// (materialized, no pending pieces) where result[i] is, dense otherwise, undefined for None.
using SparseSourceReadyFn = std::function<void(size_t index, const GradValue& grad)>;
std::vector<GradValue> compute_gradient_sparse(Tape& tape, const std::vector<Tensor>& targets,
                                               const std::vector<Tensor>& sources,
                                               const std::vector<Tensor>& output_grads, bool zero_unconnected,
                                               const SparseSourceReadyFn& on_source_ready = nullptr);

// Per source, before any walk: whether compute_gradient_sparse(tape, targets, sources, ...) will
// give it a sparse gradient (See Note [Sparse plan] in tape.cpp).
enum SparsePlan : int { kNotSparse = 0, kSparse = 1, kUnknown = -1 };
std::vector<int> sparse_plan(const Tape& tape, const std::vector<Tensor>& targets, const std::vector<Tensor>& sources);

}  // namespace tape
}  // namespace tg
