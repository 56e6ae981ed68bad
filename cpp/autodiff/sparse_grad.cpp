#include "autodiff/sparse_grad.h"

#include "ops/ops.h"
#include "ops/shape.h"

namespace tg {

// Note [Sparse gradients]
// TF's GatherV2 gradient along axis 0 (batch_dims 0, the axis given as 0: -rank gives a dense
// gradient in TF) is an IndexedSlices: values = the upstream
// gradient reshaped to [n, params.shape[1:]], indices = the gather's indices flattened to [n],
// dense_shape = params.shape. An embedding lookup's gradient is then proportional to the rows
// looked up, not to the table. compute_gradient holds such a gradient as a sparse GradValue:
//  - aggregation follows TF's AggregateIndexedSlicesGradients: sparse + sparse concatenates values
//    and indices (no de-duplication; int64 indices when the dtypes differ); anything + dense adds
//    densely (the sparse side densified with unsorted_segment_sum). The pieces are concatenated in
//    the order TF's tape would have produced them: TF walks the ops breadth-first from the targets
//    (an op runs once all its used outputs have gradients; a queue, not our reverse walk), so each
//    piece carries the rank its op has in that walk (computed only once a sparse piece appears);
//  - a node whose rule needs its output gradient dense gets it densified at that moment (TF's
//    gradient functions convert IndexedSlices the same way); Identity passes it through and Cast
//    casts its values, as TF's _IdentityGrad / _CastGrad;
//  - a source's sparse gradient reaches Python as tf.IndexedSlices (compute_gradient_sparse, and
//    its on_source_ready callback: DistributedGradientTape); compute_gradient (jacobians,
//    DistributedGradientTape with sparse_as_dense=True) densifies it. Which sources will be sparse
//    is known before the walk (tape::sparse_plan, See Note [Sparse plan] in tape.cpp): keep it in
//    step with any change to makes_sparse, passes_sparse or the walk's tests.
// Every step is an ops:: call, so an outer tape records it and higher order stays correct.
// The optimizers' sparse step (cpp/optim/sparse_step.cpp) consumes the slices row-wise.

namespace sparse_grad {

Tensor densify(const GradValue& g) {
  if (!g.sparse()) return g.value;
  GradValue m = materialize(g);
  return ops::gather_grad(m.value, m.indices, m.dense_shape, 0, 0);
}

GradValue materialize(const GradValue& g) {
  if (!g.sparse() || g.pending.empty()) return g;
  std::vector<const GradValue*> parts{&g};
  for (const GradValue& p : g.pending) parts.push_back(&p);
  std::stable_sort(parts.begin(), parts.end(),
                   [](const GradValue* x, const GradValue* y) { return x->rank < y->rank; });
  bool mixed = false;
  for (const GradValue* p : parts) mixed |= p->indices.dtype != parts[0]->indices.dtype;
  std::vector<Tensor> values, indices;
  for (const GradValue* p : parts) {
    values.push_back(p->value);
    indices.push_back(mixed ? ops::cast(p->indices, DType::Int64) : p->indices);
  }
  GradValue r;
  r.value = ops::concat(values, int64_t(0));
  r.indices = ops::concat(indices, int64_t(0));
  r.dense_shape = g.dense_shape;
  r.rank = parts[0]->rank;
  return r;
}

GradValue add(const GradValue& a, const GradValue& b) {
  if (a.sparse() && b.sparse() && a.dense_shape == b.dense_shape && a.value.dtype == b.value.dtype) {
    GradValue r = a;
    GradValue head = b;
    head.pending.clear();
    r.pending.push_back(std::move(head));
    for (const GradValue& p : b.pending) r.pending.push_back(p);
    return r;
  }
  return dense(ops::add(densify(a), densify(b)));
}

bool makes_sparse(const Node& node) {
  return node.op == Op::Gather && node.attrs.ints.size() >= 3 && node.attrs.ints[2] == 1 && node.attrs.ints[1] == 0 &&
         node.inputs[0].ndim() >= 1;
}

GradValue gather_params_grad(const Node& node, const Tensor& grad, int64_t rank) {
  if (!makes_sparse(node)) return {};
  const Tensor& params = node.inputs[0];
  const Tensor& idx = node.inputs[1];
  const int64_t n = idx.numel();
  std::vector<int64_t> vshape{n};
  for (int d = 1; d < params.ndim(); ++d) vshape.push_back(params.shape[d]);
  GradValue r;
  r.value = ops::reshape(grad, vshape);
  r.indices = ops::reshape(idx, std::vector<int64_t>{n});
  r.dense_shape = params.shape;
  r.rank = rank;
  return r;
}

bool passes_sparse(Op op) { return op == Op::Identity || op == Op::Cast; }

GradValue pass_through(const Node& node, const GradValue& g, int64_t rank) {
  GradValue r = materialize(g);  // TF aggregates the op's output gradient, then passes it on
  r.rank = rank;
  if (node.op == Op::Cast && g.value.dtype != node.inputs[0].dtype) r.value = ops::cast(g.value, node.inputs[0].dtype);
  return r;
}

}  // namespace sparse_grad
}  // namespace tg
