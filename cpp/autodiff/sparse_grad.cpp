#include "autodiff/sparse_grad.h"

#include "ops/ops.h"
#include "ops/shape.h"

namespace tg {

// Note [Sparse gradients]
// TF's GatherV2 gradient along axis 0 (batch_dims 0) is an IndexedSlices: values = the upstream
// gradient reshaped to [n, params.shape[1:]], indices = the gather's indices flattened to [n],
// dense_shape = params.shape. An embedding lookup's gradient is then proportional to the rows
// looked up, not to the table. compute_gradient holds such a gradient as a sparse GradValue:
//  - aggregation follows TF's AggregateIndexedSlicesGradients: sparse + sparse concatenates values
//    and indices (no de-duplication; int64 indices when the dtypes differ); anything + dense adds
//    densely (the sparse side densified with unsorted_segment_sum);
//  - a node whose rule needs its output gradient dense gets it densified at that moment (TF's
//    gradient functions convert IndexedSlices the same way); Identity passes it through and Cast
//    casts its values, as TF's _IdentityGrad / _CastGrad;
//  - a source's sparse gradient reaches Python as tf.IndexedSlices (compute_gradient_sparse);
//    compute_gradient (jacobians, DistributedGradientTape) densifies it.
// Every step is an ops:: call, so an outer tape records it and higher order stays correct.
// The optimizers' sparse step (cpp/optim/sparse_step.cpp) consumes the slices row-wise.

namespace sparse_grad {

Tensor densify(const GradValue& g) {
  if (!g.sparse()) return g.value;
  return ops::gather_grad(g.value, g.indices, g.dense_shape, 0, 0);
}

GradValue add(const GradValue& a, const GradValue& b) {
  if (a.sparse() && b.sparse() && a.dense_shape == b.dense_shape && a.value.dtype == b.value.dtype) {
    Tensor ia = a.indices, ib = b.indices;
    if (ia.dtype != ib.dtype) {
      ia = ops::cast(ia, DType::Int64);
      ib = ops::cast(ib, DType::Int64);
    }
    GradValue r;
    // b arrived later in the backward walk, i.e. from an earlier op: it goes first, so the slices
    // come in the order of the forward ops, as TF's tape lists them.
    r.value = ops::concat(std::vector<Tensor>{b.value, a.value}, int64_t(0));
    r.indices = ops::concat(std::vector<Tensor>{ib, ia}, int64_t(0));
    r.dense_shape = a.dense_shape;
    return r;
  }
  return GradValue{ops::add(densify(a), densify(b)), Tensor(), Shape()};
}

GradValue gather_params_grad(const Node& node, const Tensor& grad) {
  if (node.op != Op::Gather || node.attrs.ints.size() < 2 || node.attrs.ints[0] != 0 || node.attrs.ints[1] != 0)
    return {};
  const Tensor& params = node.inputs[0];
  const Tensor& idx = node.inputs[1];
  if (params.ndim() < 1) return {};
  const int64_t n = idx.numel();
  std::vector<int64_t> vshape{n};
  for (int d = 1; d < params.ndim(); ++d) vshape.push_back(params.shape[d]);
  GradValue r;
  r.value = ops::reshape(grad, vshape);
  r.indices = ops::reshape(idx, std::vector<int64_t>{n});
  r.dense_shape = params.shape;
  return r;
}

bool passes_sparse(Op op) { return op == Op::Identity || op == Op::Cast; }

GradValue pass_through(const Node& node, const GradValue& g) {
  GradValue r = g;
  if (node.op == Op::Cast && g.value.dtype != node.inputs[0].dtype) r.value = ops::cast(g.value, node.inputs[0].dtype);
  return r;
}

}  // namespace sparse_grad
}  // namespace tg
