// Shape primitives: strided slice and its adjoint (which is also pad), concat.
#include "ops/shape.h"

#include <algorithm>
#include <cstring>

#include "autodiff/tape.h"
#include "ops/strided.h"
#include "tensor/parallel.h"

namespace tg {
namespace {

constexpr int64_t kGrain = 1 << 15;

std::array<int64_t, kMaxRank> contiguous_strides(const Shape& s) {
  std::array<int64_t, kMaxRank> st{};
  int64_t acc = 1;
  for (int i = s.ndim - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

// Checks a slice spec against `full` (the sliced tensor's shape); returns the base offset and
// the element strides of the view.
int64_t slice_view(const Shape& full, const std::vector<int64_t>& begin, const std::vector<int64_t>& stride,
                   const Shape& size, std::array<int64_t, kMaxRank>& st, const char* op) {
  const int nd = full.ndim;
  if (int(begin.size()) != nd || int(stride.size()) != nd || size.ndim != nd)
    throw InvalidArgument(std::string("slice spec must have one entry per dimension of the input (rank ") +
                          std::to_string(nd) + ") [Op:" + op + "]");
  auto cs = contiguous_strides(full);
  int64_t base = 0;
  for (int d = 0; d < nd; ++d) {
    if (stride[size_t(d)] == 0)
      throw InvalidArgument(std::string("strides[") + std::to_string(d) + "] must be non-zero [Op:" + op + "]");
    if (size[d] < 0) throw InvalidArgument(std::string("negative slice size [Op:") + op + "]");
    if (size[d] > 0) {
      int64_t first = begin[size_t(d)], last = first + (size[d] - 1) * stride[size_t(d)];
      if (first < 0 || first >= full[d] || last < 0 || last >= full[d])
        throw InvalidArgument("slice index " + std::to_string(first < 0 || first >= full[d] ? first : last) +
                              " of dimension " + std::to_string(d) + " out of bounds. [Op:" + op + "]");
      base += first * cs[d];
    }
    st[d] = stride[size_t(d)] * cs[d];
  }
  return base;
}

// Walks `shape` (contiguous side) against a strided view at base/st; f(contiguous_ptr, view_ptr, n, step).
template <class T, class F>
void walk(const Shape& shape, int64_t base, const std::array<int64_t, kMaxRank>& st, F&& f) {
  const int64_t n = shape.numel();
  if (n == 0) return;
  if (shape.ndim == 0) {
    f(0, base, 1, 1);
    return;
  }
  const int nd = shape.ndim;
  const int64_t inner = shape[nd - 1], is = st[nd - 1];
  int64_t rows = n / inner;
  parallel_for(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(inner, 1)), [&](int64_t lo, int64_t hi) {
    for_each_row<1>(shape, &st, lo, hi, [&](int64_t o, const int64_t* off) { f(o, base + off[0], inner, is); });
  });
}

}  // namespace

namespace kernels {

Tensor strided_slice(const Tensor& x, const std::vector<int64_t>& begin, const std::vector<int64_t>& stride,
                     const Shape& size) {
  std::array<int64_t, kMaxRank> st{};
  int64_t base = slice_view(x.shape, begin, stride, size, st, "StridedSlice");
  Tensor out = Tensor::empty(size, x.dtype);
  TG_DISPATCH_BYTES(x.dtype, T, {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    walk<T>(size, base, st, [&](int64_t o, int64_t v, int64_t n, int64_t step) {
      if (step == 1) std::memcpy(po + o, px + v, size_t(n) * sizeof(T));
      else
        for (int64_t i = 0; i < n; ++i) po[o + i] = px[v + i * step];
    });
  });
  return out;
}

Tensor strided_slice_grad(const Tensor& g, const Shape& shape, const std::vector<int64_t>& begin,
                          const std::vector<int64_t>& stride, double fill) {
  std::array<int64_t, kMaxRank> st{};
  int64_t base = slice_view(shape, begin, stride, g.shape, st, "StridedSliceGrad");
  Tensor out = Tensor::full(shape, g.dtype, fill);
  TG_DISPATCH_BYTES(g.dtype, T, {
    const T* pg = g.data<T>();
    T* po = out.data<T>();
    walk<T>(g.shape, base, st, [&](int64_t o, int64_t v, int64_t n, int64_t step) {
      if (step == 1) std::memcpy(po + v, pg + o, size_t(n) * sizeof(T));
      else
        for (int64_t i = 0; i < n; ++i) po[v + i * step] = pg[o + i];
    });
  });
  return out;
}

Tensor concat(const std::vector<Tensor>& xs, int axis) {
  const Tensor& x0 = xs[0];
  Shape shape = x0.shape;
  shape[axis] = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    const Tensor& x = xs[k];
    if (x.dtype != x0.dtype)
      throw InvalidArgument("cannot compute ConcatV2 as input #" + std::to_string(k) +
                            "(zero-based) was expected to be a " + dtype_kernel_name(x0.dtype) + " tensor but is a " +
                            dtype_kernel_name(x.dtype) + " tensor [Op:ConcatV2]");
    if (x.ndim() != x0.ndim())
      throw InvalidArgument("ConcatOp : Ranks of all input tensors should match: shape[0] = " + x0.shape.str() +
                            " vs. shape[" + std::to_string(k) + "] = " + x.shape.str() + " [Op:ConcatV2]");
    for (int d = 0; d < x.ndim(); ++d)
      if (d != axis && x.shape[d] != x0.shape[d])
        throw InvalidArgument("ConcatOp : Dimension " + std::to_string(d) +
                              " in both shapes must be equal: shape[0] = " + x0.shape.str() + " vs. shape[" +
                              std::to_string(k) + "] = " + x.shape.str() + " [Op:ConcatV2]");
    shape[axis] += x.shape[axis];
  }
  Tensor out = Tensor::empty(shape, x0.dtype);
  if (out.numel() == 0) return out;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= shape[d];
  for (int d = axis + 1; d < shape.ndim; ++d) inner *= shape[d];
  const int64_t row = shape[axis] * inner;
  const size_t isz = itemsize(x0.dtype);
  char* po = static_cast<char*>(out.raw());
  parallel_for(outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(row, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo; o < hi; ++o) {
      int64_t at = o * row;
      for (const Tensor& x : xs) {
        int64_t n = x.shape[axis] * inner;
        if (n)
          std::memcpy(po + size_t(at) * isz, static_cast<const char*>(x.raw()) + size_t(o * n) * isz, size_t(n) * isz);
        at += n;
      }
    }
  });
  return out;
}

}  // namespace kernels

namespace ops {

Tensor strided_slice(const Tensor& x, const std::vector<int64_t>& begin, const std::vector<int64_t>& stride,
                     const Shape& size) {
  Tensor out = kernels::strided_slice(x, begin, stride, size);
  tape::record(Op::StridedSlice, {x}, {out}, [&](Attrs& at) {
    at.ints = begin;
    at.ints.insert(at.ints.end(), stride.begin(), stride.end());
  });
  return out;
}

Tensor strided_slice_grad(const Tensor& g, const Shape& shape, const std::vector<int64_t>& begin,
                          const std::vector<int64_t>& stride, double fill) {
  Tensor out = kernels::strided_slice_grad(g, shape, begin, stride, fill);
  tape::record(Op::StridedSliceGrad, {g}, {out}, [&](Attrs& at) {
    at.ints = begin;
    at.ints.insert(at.ints.end(), stride.begin(), stride.end());
    at.fill = fill;
  });
  return out;
}

Tensor concat(const std::vector<Tensor>& xs, int64_t axis) {
  if (xs.empty())
    throw ValueError("List argument 'values' to 'ConcatV2' Op with length 0 shorter than minimum length 2.");
  const int nd = xs[0].ndim();
  if (nd == 0) throw InvalidArgument("Can't concatenate scalars (use tf.stack instead) [Op:ConcatV2]");
  if (axis < -nd || axis >= nd)
    throw InvalidArgument("ConcatOp : Expected concatenating dimensions in the range [" + std::to_string(-nd) + ", " +
                          std::to_string(nd) + "), but got " + std::to_string(axis) + " [Op:ConcatV2]");
  int ax = int(axis < 0 ? axis + nd : axis);
  Tensor out = kernels::concat(xs, ax);
  tape::record(Op::Concat, xs, {out}, [&](Attrs& at) { at.ints = {ax}; });
  return out;
}

}  // namespace ops
}  // namespace tg
