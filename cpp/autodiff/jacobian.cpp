#include "autodiff/jacobian.h"

#include "ops/shape.h"

namespace tg {
namespace tape {
namespace {

Shape join(const Shape& a, const Shape& b, int skip_b) {
  int nd = a.ndim + b.ndim - skip_b;
  if (nd > kMaxRank)
    throw InvalidArgument("jacobian: the result would have rank " + std::to_string(nd) +
                          "; tapegrad supports at most " + std::to_string(kMaxRank));
  Shape s;
  s.ndim = nd;
  for (int i = 0; i < a.ndim; ++i) s[i] = a[i];
  for (int i = skip_b; i < b.ndim; ++i) s[a.ndim + i - skip_b] = b[i];
  return s;
}

}  // namespace

// Note [Jacobian rows]
// Row i of the Jacobian is one backward pass seeded with the one-hot e_i (for batch_jacobian:
// e_j in every batch row at once, valid because target[b] depends only on source[b]). The passes
// run on a persistent view that shares the tape's nodes, so a non-persistent tape survives until
// the last row. Rows are joined with ops::concat, so an outer tape records the result.
std::vector<Tensor> compute_jacobian(Tape& tape, const Tensor& target, const std::vector<Tensor>& sources,
                                     bool zero_unconnected, bool batch) {
  Tape view(true, false);
  view.nodes = tape.nodes;
  view.producer = tape.producer;
  if (!tape.persistent) {
    tape.nodes.clear();
    tape.producer.clear();
  }
  // A source the tape neither watched nor produced is unconnected (TF), even if a recorded op read it.
  std::vector<Tensor> known(sources);
  for (Tensor& s : known)
    if (!view.watches(s.id)) {
      s = s.meta();
      s.id = next_tensor_id();
    }
  const int64_t B = batch ? target.shape[0] : 1;
  const int64_t rows = batch ? (B ? target.numel() / B : 0) : target.numel();
  const size_t ns = sources.size();
  std::vector<std::vector<Tensor>> per_source(ns);
  std::vector<bool> connected(ns, false);
  if (is_differentiable(target.dtype)) {
    for (int64_t r = 0; r < rows; ++r) {
      Tensor seed = Tensor::zeros(target.shape, target.dtype);
      TG_DISPATCH_FLOAT(target.dtype, T, {
        T* p = seed.data<T>();
        for (int64_t b = 0; b < B; ++b) p[b * rows + r] = T(1);
      });
      std::vector<Tensor> g = compute_gradient(view, {target}, known, {seed}, false);
      for (size_t s = 0; s < ns; ++s) {
        if (g[s].defined()) connected[s] = true;
        per_source[s].push_back(g[s]);
      }
    }
  }
  std::vector<Tensor> result(ns);
  for (size_t s = 0; s < ns; ++s) {
    const Tensor& src = sources[s];
    if (!is_differentiable(src.dtype)) continue;
    Shape shape = join(target.shape, src.shape, batch ? 1 : 0);
    if (!connected[s]) {
      if (zero_unconnected || batch) result[s] = Tensor::zeros(shape, src.dtype);
      continue;
    }
    std::vector<Tensor> parts;
    parts.reserve(size_t(rows));
    Shape row_shape = join(Shape{1}, src.shape, 0);
    for (Tensor& g : per_source[s])
      parts.push_back(ops::reshape(g.defined() ? g : Tensor::zeros(src.shape, src.dtype), row_shape));
    Tensor stacked = ops::concat(parts, 0);  // [rows, source...]
    if (batch) {
      int64_t inner = B ? src.numel() / B : 0;
      stacked = ops::transpose(ops::reshape(stacked, Shape{rows, B, inner}), {1, 0, 2});
    }
    result[s] = ops::reshape(stacked, shape);
  }
  return result;
}

}  // namespace tape
}  // namespace tg
