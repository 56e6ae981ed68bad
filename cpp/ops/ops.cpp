// The differentiable primitives: kernel, then record (See Note [Recording]).
#include "ops/ops.h"

#include <algorithm>

#include "autodiff/tape.h"
#include "ops/complex.h"

namespace tg {
namespace ops {

Tensor binary(Op op, const Tensor& a, const Tensor& b) {
  Tensor out = kernels::binary(op, a, b);
  tape::record(op, {a, b}, {out});
  return out;
}

Tensor unary(Op op, const Tensor& x) {
  if (op == Op::Abs && is_complex(x.dtype)) return complex_abs(x);  // tf.abs: ComplexAbs, as TF
  Tensor out = kernels::unary(op, x);
  tape::record(op, {x}, {out});
  return out;
}

std::vector<int> normalize_axes(const std::vector<int64_t>& axes, int ndim, const char* name) {
  std::vector<int> out;
  out.reserve(axes.size());
  for (int64_t a : axes) {
    if (a < -ndim || a >= ndim)
      throw InvalidArgument(std::string("Invalid reduction dimension (") + std::to_string(a) + " for input with " +
                            std::to_string(ndim) + " dimension(s) [Op:" + name + "]");
    int v = int(a < 0 ? a + ndim : a);
    if (std::find(out.begin(), out.end(), v) != out.end())
      throw InvalidArgument(std::string("Axes contains duplicate dimension: ") + std::to_string(v) + " [Op:" + name +
                            "]");
    out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Tensor reduce(Op op, const Tensor& x, const std::vector<int64_t>& axes, bool all_axes, bool keepdims) {
  std::vector<int> ax;
  if (all_axes) {
    for (int i = 0; i < x.ndim(); ++i) ax.push_back(i);
  } else {
    ax = normalize_axes(axes, x.ndim(), op_name(op));
  }
  Tensor out = kernels::reduce(op, x, ax, keepdims);
  tape::record(op, {x}, {out}, [&](Attrs& at) {
    at.ints.assign(ax.begin(), ax.end());
    at.keepdims = keepdims;
  });
  return out;
}

Tensor sum_all(const Tensor& x) { return reduce(Op::Sum, x, {}, true, false); }

Tensor matmul(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  Tensor out = kernels::matmul(a, b, ta, tb);
  tape::record(Op::MatMul, {a, b}, {out}, [&](Attrs& at) {
    at.transpose_a = ta;
    at.transpose_b = tb;
  });
  return out;
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  if (shape.checked_numel() != x.numel())  // See Note [Checked sizes]
    throw InvalidArgument("Input to reshape is a tensor with " + std::to_string(x.numel()) +
                          " values, but the requested shape has " + std::to_string(shape.numel()) + " [Op:Reshape]");
  Tensor out = kernels::reshape(x, shape);
  tape::record(Op::Reshape, {x}, {out});
  return out;
}

Tensor reshape(const Tensor& x, const std::vector<int64_t>& dims) {
  if (dims.size() > size_t(kMaxRank))
    throw InvalidArgument("tapegrad supports tensors of rank at most " + std::to_string(kMaxRank));
  Shape s;
  s.ndim = int(dims.size());
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      if (infer >= 0)
        throw InvalidArgument("Only one input size may be -1, not both " + std::to_string(infer) + " and " +
                              std::to_string(i) + " [Op:Reshape]");
      infer = int(i);
    } else if (dims[i] < 0) {
      throw InvalidArgument("Size " + std::to_string(i) + " must be non-negative, not " + std::to_string(dims[i]) +
                            " [Op:Reshape]");
    } else if (__builtin_mul_overflow(known, dims[i], &known)) {  // See Note [Checked sizes]
      std::string d = "[";
      for (size_t j = 0; j < dims.size(); ++j) d += (j ? ", " : "") + std::to_string(dims[j]);
      throw InvalidArgument("Shape " + d + "] has too many elements [Op:Reshape]");
    }
    s[int(i)] = dims[i];
  }
  if (infer >= 0) {
    if (known == 0 || x.numel() % known != 0) {
      throw InvalidArgument("Input to reshape is a tensor with " + std::to_string(x.numel()) +
                            " values, but the requested shape requires a multiple of " + std::to_string(known) +
                            " [Op:Reshape]");
    }
    s[infer] = x.numel() / known;
  }
  return reshape(x, s);
}

Tensor transpose(const Tensor& x, const std::vector<int>& perm_in) {
  std::vector<int> perm = perm_in;
  if (perm.empty())
    for (int i = x.ndim() - 1; i >= 0; --i) perm.push_back(i);
  if (int(perm.size()) != x.ndim())
    throw InvalidArgument("transpose expects a vector of size " + std::to_string(x.ndim()) +
                          ". But input(1) is a vector of size " + std::to_string(perm.size()) + " [Op:Transpose]");
  std::vector<bool> seen(perm.size(), false);
  for (int& p : perm) {
    if (p < 0) p += x.ndim();
    if (p < 0 || p >= x.ndim() || seen[size_t(p)])
      throw InvalidArgument("perm is not a permutation of 0.." + std::to_string(x.ndim() - 1) + " [Op:Transpose]");
    seen[size_t(p)] = true;
  }
  Tensor out = kernels::transpose(x, perm);
  tape::record(Op::Transpose, {x}, {out}, [&](Attrs& at) { at.ints.assign(perm.begin(), perm.end()); });
  return out;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  Tensor out = kernels::broadcast_to(x, shape);
  tape::record(Op::BroadcastTo, {x}, {out});
  return out;
}

Tensor cast(const Tensor& x, DType dtype) {
  if (x.dtype == dtype) return identity(x);
  Tensor out = kernels::cast(x, dtype);
  tape::record(Op::Cast, {x}, {out});
  return out;
}

Tensor select(const Tensor& cond, const Tensor& a, const Tensor& b) {
  Tensor out = kernels::select(cond, a, b);
  tape::record(Op::Select, {cond, a, b}, {out});
  return out;
}

Tensor identity(const Tensor& x) {
  Tensor out = kernels::reshape(x, x.shape);
  tape::record(Op::Identity, {x}, {out});
  return out;
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape == shape) return g;
  const int lead = g.ndim() - shape.ndim;
  if (lead < 0) return broadcast_to(g, shape);
  std::vector<int64_t> axes;
  for (int i = 0; i < g.ndim(); ++i) {
    if (i < lead) axes.push_back(i);
    else if (shape[i - lead] == 1 && g.shape[i] != 1) axes.push_back(i);
    else if (shape[i - lead] != g.shape[i])
      throw RuntimeError("internal: cannot sum a gradient of shape " + g.shape.str() + " to shape " + shape.str());
  }
  Tensor r = reduce(Op::Sum, g, axes, false, true);  // keepdims, then drop the leading axes
  return r.shape == shape ? r : reshape(r, shape);
}

Tensor scalar_like(const Tensor& x, double v) { return Tensor::full(Shape{}, x.dtype, v); }
Tensor zeros_like(const Tensor& x) { return Tensor::zeros(x.shape, x.dtype); }
Tensor ones_like(const Tensor& x) { return Tensor::full(x.shape, x.dtype, 1.0); }

Tensor stop_gradient(const Tensor& x) { return kernels::reshape(x, x.shape); }

}  // namespace ops
}  // namespace tg
