// Indexing primitives: gather and its adjoint (a scatter-add), scatter_update, nd index
// flattening, the 1-argument where. Every index is checked before any parallel loop.
#include <algorithm>
#include <cstring>

#include "autodiff/tape.h"
#include "ops/shape.h"
#include "tensor/parallel.h"

namespace tg {
namespace {

constexpr int64_t kGrain = 1 << 15;

// Index tensor as int64 values (a copy only for int32).
std::vector<int64_t> index_values(const Tensor& idx, const char* op) {
  std::vector<int64_t> v(size_t(idx.numel()));
  if (idx.dtype == DType::Int64) {
    if (!v.empty()) std::memcpy(v.data(), idx.raw(), v.size() * sizeof(int64_t));
  } else if (idx.dtype == DType::Int32) {
    const int32_t* p = idx.data<int32_t>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = p[i];
  } else {
    throw InvalidArgument(std::string("Value for attr 'Tindices' of ") + dtype_kernel_name(idx.dtype) +
                          " is not in the list of allowed values: int16, int32, int64 [Op:" + op + "]");
  }
  return v;
}

// "1,0": the coordinates of flat position i in shape s (first `nd` dims).
std::string coords(int64_t i, const Shape& s, int nd) {
  std::vector<int64_t> c(size_t(std::max(nd, 0)));
  for (int d = nd - 1; d >= 0; --d) {
    c[size_t(d)] = s[d] ? i % s[d] : 0;
    if (s[d]) i /= s[d];
  }
  std::string r;
  for (size_t d = 0; d < c.size(); ++d) r += (d ? "," : "") + std::to_string(c[d]);
  return r;
}

struct GatherDims {
  int64_t B = 1, O = 1, N = 1, I = 1, M = 1;
};

GatherDims gather_dims(const Shape& x, const Shape& idx, int axis, int bd) {
  GatherDims g;
  for (int d = 0; d < bd; ++d) g.B *= x[d];
  for (int d = bd; d < axis; ++d) g.O *= x[d];
  g.N = x[axis];
  for (int d = axis + 1; d < x.ndim; ++d) g.I *= x[d];
  for (int d = bd; d < idx.ndim; ++d) g.M *= idx[d];
  return g;
}

Shape gather_shape(const Shape& x, const Shape& idx, int axis, int bd) {
  int nd = axis + (idx.ndim - bd) + (x.ndim - axis - 1);
  if (nd > kMaxRank)
    throw InvalidArgument("gather: the result would have rank " + std::to_string(nd) + "; tapegrad supports at most " +
                          std::to_string(kMaxRank));
  Shape s;
  s.ndim = nd;
  int k = 0;
  for (int d = 0; d < axis; ++d) s[k++] = x[d];
  for (int d = bd; d < idx.ndim; ++d) s[k++] = idx[d];
  for (int d = axis + 1; d < x.ndim; ++d) s[k++] = x[d];
  return s;
}

void check_gather(const Shape& x, const Tensor& idx, int axis, int bd, const std::vector<int64_t>& iv, const char* op) {
  for (int d = 0; d < bd; ++d)
    if (idx.shape[d] != x[d])
      throw InvalidArgument("params.shape[" + std::to_string(d) + "]: " + std::to_string(x[d]) +
                            " should be equal to indices.shape[" + std::to_string(d) +
                            "]: " + std::to_string(idx.shape[d]) + " [Op:" + op + "]");
  const int64_t N = x[axis];
  for (size_t i = 0; i < iv.size(); ++i)
    if (iv[i] < 0 || iv[i] >= N)
      throw InvalidArgument("indices[" + coords(int64_t(i), idx.shape, idx.ndim()) + "] = " + std::to_string(iv[i]) +
                            " is not in [0, " + std::to_string(N) + ") [Op:" + op + "]");
}

}  // namespace

namespace kernels {

Tensor gather(const Tensor& x, const Tensor& idx, int axis, int bd) {
  std::vector<int64_t> iv = index_values(idx, "GatherV2");
  check_gather(x.shape, idx, axis, bd, iv, "GatherV2");
  Shape shape = gather_shape(x.shape, idx.shape, axis, bd);
  GatherDims g = gather_dims(x.shape, idx.shape, axis, bd);
  Tensor out = Tensor::empty(shape, x.dtype);
  if (out.numel() == 0) return out;
  const size_t isz = itemsize(x.dtype), row = size_t(g.I) * isz;
  const char* px = static_cast<const char*>(x.raw());
  char* po = static_cast<char*>(out.raw());
  const int64_t blocks = g.B * g.O * g.M;
  parallel_for(blocks, std::max<int64_t>(1, kGrain / std::max<int64_t>(g.I, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) {
      int64_t m = k % g.M, bo = k / g.M, b = bo / g.O;
      int64_t src = (bo * g.N + iv[size_t(b * g.M + m)]) * g.I;
      std::memcpy(po + size_t(k) * row, px + size_t(src) * isz, row);
    }
  });
  return out;
}

Tensor gather_grad(const Tensor& gr, const Tensor& idx, const Shape& x_shape, int axis, int bd) {
  if (is_half(gr.dtype))  // See Note [Narrow dtypes]
    return cast(gather_grad(cast(gr, DType::Float32), idx, x_shape, axis, bd), gr.dtype);
  std::vector<int64_t> iv = index_values(idx, "UnsortedSegmentSum");
  check_gather(x_shape, idx, axis, bd, iv, "UnsortedSegmentSum");
  if (gr.shape != gather_shape(x_shape, idx.shape, axis, bd))
    throw InvalidArgument("gather gradient has shape " + gr.shape.str() + ", expected " +
                          gather_shape(x_shape, idx.shape, axis, bd).str() + " [Op:UnsortedSegmentSum]");
  GatherDims g = gather_dims(x_shape, idx.shape, axis, bd);
  Tensor out = Tensor::zeros(x_shape, gr.dtype);
  if (out.numel() == 0 || gr.numel() == 0) return out;
  TG_DISPATCH_NUMERIC(gr.dtype, T, {
    const T* pg = gr.data<T>();
    T* po = out.data<T>();
    // each (b, o) owns the output block [b, o, :, :]
    parallel_for(g.B * g.O, std::max<int64_t>(1, kGrain / std::max<int64_t>(g.M * g.I, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t bo = lo; bo < hi; ++bo) {
                     int64_t b = bo / g.O;
                     for (int64_t m = 0; m < g.M; ++m) {
                       T* dst = po + (bo * g.N + iv[size_t(b * g.M + m)]) * g.I;
                       const T* src = pg + (bo * g.M + m) * g.I;
                       for (int64_t i = 0; i < g.I; ++i) dst[i] += src[i];
                     }
                   }
                 });
  });
  return out;
}

Tensor scatter_update(const Tensor& tensor, const Tensor& idx, const Tensor& updates) {
  std::vector<int64_t> iv = index_values(idx, "TensorScatterUpdate");
  if (tensor.dtype != updates.dtype)
    throw InvalidArgument(
        std::string("cannot compute TensorScatterUpdate as input #2(zero-based) was expected to be a ") +
        dtype_kernel_name(tensor.dtype) + " tensor but is a " + dtype_kernel_name(updates.dtype) +
        " tensor [Op:TensorScatterUpdate]");
  if (tensor.ndim() != 2 || updates.ndim() != 2 || idx.ndim() != 1 || updates.shape[0] != idx.shape[0] ||
      updates.shape[1] != tensor.shape[1])
    throw InvalidArgument("internal: scatter_update expects tensor [N, I], indices [M], updates [M, I]; got " +
                          tensor.shape.str() + ", " + idx.shape.str() + ", " + updates.shape.str());
  const int64_t N = tensor.shape[0], I = tensor.shape[1];
  for (size_t i = 0; i < iv.size(); ++i)
    if (iv[i] < 0 || iv[i] >= N)
      throw InvalidArgument("indices[" + std::to_string(i) + "] = " + std::to_string(iv[i]) + " is not in [0, " +
                            std::to_string(N) + ") [Op:TensorScatterUpdate]");
  Tensor out = tensor.clone();
  const size_t isz = itemsize(tensor.dtype), row = size_t(I) * isz;
  char* po = static_cast<char*>(out.raw());
  const char* pu = static_cast<const char*>(updates.raw());
  for (size_t m = 0; m < iv.size(); ++m)
    if (row) std::memcpy(po + size_t(iv[m]) * row, pu + m * row, row);
  return out;
}

Tensor flat_nd_index(const Tensor& indices, const Shape& shape, const char* op) {
  std::vector<int64_t> iv = index_values(indices, op);
  if (indices.ndim() == 0)
    throw InvalidArgument(std::string("indices must be at least a vector, got a scalar [Op:") + op + "]");
  const int K = int(indices.shape[indices.ndim() - 1]);
  if (K > shape.ndim)
    throw InvalidArgument("index innermost dimension length must be <= params rank; saw: " + std::to_string(K) +
                          " vs. " + std::to_string(shape.ndim) + " [Op:" + op + "]");
  Shape lead;
  lead.ndim = indices.ndim() - 1;
  for (int d = 0; d < lead.ndim; ++d) lead[d] = indices.shape[d];
  Tensor out = Tensor::empty(lead, DType::Int64);
  int64_t* po = out.data<int64_t>();
  const int64_t M = lead.numel();
  const bool gather = std::string(op) == "GatherNd";
  for (int64_t r = 0; r < M; ++r) {
    int64_t flat = 0;
    for (int k = 0; k < K; ++k) {
      int64_t v = iv[size_t(r * K + k)];
      if (v < 0 || v >= shape[k]) {
        std::string vals;
        for (int j = 0; j < K; ++j) vals += (j ? ", " : "") + std::to_string(iv[size_t(r * K + j)]);
        throw InvalidArgument("indices[" + coords(r, lead, lead.ndim) + "] = [" + vals + "] does not index into " +
                              (gather ? "param shape " : "shape ") + shape.str() + " [Op:" + op + "]");
      }
      flat = flat * shape[k] + v;
    }
    po[r] = flat;
  }
  return out;
}

Tensor where_indices(const Tensor& cond) {
  const int64_t n = cond.numel();
  std::vector<int64_t> hits;
  auto nonzero = [&](auto* p) {
    for (int64_t i = 0; i < n; ++i)
      if (p[i] != 0) hits.push_back(i);
  };
  if (is_narrow_int(cond.dtype)) {  // an integer is nonzero when one of its bytes is
    TG_DISPATCH_BYTES(cond.dtype, T, { nonzero(cond.data<T>()); });
  } else {
    TG_DISPATCH_ALL(cond.dtype, T, { nonzero(cond.data<T>()); });
  }
  const int nd = cond.ndim();
  Tensor out = Tensor::empty(Shape{int64_t(hits.size()), int64_t(nd)}, DType::Int64);
  int64_t* po = out.data<int64_t>();
  for (size_t h = 0; h < hits.size(); ++h) {
    int64_t i = hits[h];
    for (int d = nd - 1; d >= 0; --d) {
      po[h * size_t(nd) + size_t(d)] = i % cond.shape[d];
      i /= cond.shape[d];
    }
  }
  return out;
}

}  // namespace kernels

namespace ops {

Tensor gather(const Tensor& x, const Tensor& idx, int64_t axis, int64_t batch_dims) {
  const int xr = x.ndim(), ir = idx.ndim();
  if (batch_dims < -ir || batch_dims > ir)
    throw InvalidArgument("Expected batch_dims in the range [" + std::to_string(-ir) + ", " + std::to_string(ir) +
                          "], but got " + std::to_string(batch_dims) + " [Op:GatherV2]");
  int bd = int(batch_dims < 0 ? batch_dims + ir : batch_dims);
  if (axis >= xr)
    throw InvalidArgument("Shape must be at least rank " + std::to_string(axis + 1) + " but is rank " +
                          std::to_string(xr) + " [Op:GatherV2]");
  if (axis < -xr)
    throw InvalidArgument("Expected axis in the range [" + std::to_string(-xr) + ", " + std::to_string(xr) +
                          "), but got " + std::to_string(axis) + " [Op:GatherV2]");
  int ax = int(axis < 0 ? axis + xr : axis);
  if (bd > ax)
    throw InvalidArgument("batch_dims (" + std::to_string(bd) + ") must be less than or equal to axis (" +
                          std::to_string(ax) + ") [Op:GatherV2]");
  Tensor out = kernels::gather(x, idx, ax, bd);
  // ints[2]: the axis was given as 0 (TF's gradient is an IndexedSlices only for a static axis of
  // 0, not -rank; See Note [Sparse gradients])
  tape::record(Op::Gather, {x, idx}, {out}, [&](Attrs& at) { at.ints = {ax, bd, int64_t(axis == 0)}; });
  return out;
}

Tensor gather_grad(const Tensor& g, const Tensor& idx, const Shape& x_shape, int axis, int bd) {
  Tensor out = kernels::gather_grad(g, idx, x_shape, axis, bd);
  tape::record(Op::GatherGrad, {g, idx}, {out}, [&](Attrs& at) { at.ints = {axis, bd}; });
  return out;
}

Tensor scatter_update(const Tensor& tensor, const Tensor& idx, const Tensor& updates) {
  Tensor out = kernels::scatter_update(tensor, idx, updates);
  tape::record(Op::ScatterUpdate, {tensor, idx, updates}, {out});
  return out;
}

}  // namespace ops
}  // namespace tg
