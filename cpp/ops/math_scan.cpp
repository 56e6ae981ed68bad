// Scans (cumsum) and arg-reductions (argmax, argmin) over one axis, seen as (outer, R, inner).
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "autodiff/tape.h"
#include "ops/math.h"
#include "ops/narrow.h"
#include "tensor/parallel.h"

namespace tg {
namespace {

struct Dims {
  int64_t outer = 1, R = 1, inner = 1;
};
Dims split(const Shape& s, int axis) {
  Dims d;
  for (int i = 0; i < axis; ++i) d.outer *= s[i];
  d.R = s[axis];
  for (int i = axis + 1; i < s.ndim; ++i) d.inner *= s[i];
  return d;
}

// TF's messages: "ScanOp: Expected scan axis in the range ..." / "Expected dimension in the range ..."
int check_axis(int64_t axis, int ndim, const char* op, const char* what) {
  if (axis < -ndim || axis >= ndim)
    throw InvalidArgument(std::string(what) + " in the range [" + std::to_string(-ndim) + ", " + std::to_string(ndim) +
                          "), but got " + std::to_string(axis) + " [Op:" + op + "]");
  return int(axis < 0 ? axis + ndim : axis);
}

}  // namespace

namespace kernels {

Tensor scan(Op op, const Tensor& x, int axis, bool exclusive, bool reverse) {
  if (is_narrow(x.dtype)) return narrow::scan(op, x, axis, exclusive, reverse);
  if (x.dtype == DType::Bool) throw attr_t_error_for(x.dtype, op_name(op));
  Tensor out = Tensor::empty(x.shape, x.dtype);
  if (out.numel() == 0) return out;
  const Dims d = split(x.shape, axis);
  const bool prod = op == Op::Cumprod;
  // work items: (o, block of inner columns); rows are walked in order so memory is read linearly
  constexpr int64_t kBlock = 256;
  const int64_t blocks = (d.inner + kBlock - 1) / kBlock;
  TG_DISPATCH_NUMERIC(x.dtype, T, {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const int64_t grain = std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, d.R * std::min(d.inner, kBlock)));
    parallel_for(d.outer * blocks, grain, [&](int64_t lo, int64_t hi) {
      T acc[kBlock];
      for (int64_t w = lo; w < hi; ++w) {
        const int64_t o = w / blocks, i0 = (w % blocks) * kBlock, n = std::min(kBlock, d.inner - i0);
        const T* xo = px + o * d.R * d.inner + i0;
        T* yo = po + o * d.R * d.inner + i0;
        for (int64_t i = 0; i < n; ++i) acc[i] = prod ? T(1) : T(0);
        for (int64_t k = 0; k < d.R; ++k) {
          const int64_t r = reverse ? d.R - 1 - k : k;
          const T* xr = xo + r * d.inner;
          T* yr = yo + r * d.inner;
          for (int64_t i = 0; i < n; ++i) {
            const T before = acc[i];
            acc[i] = prod ? T(before * xr[i]) : T(before + xr[i]);
            yr[i] = exclusive ? before : acc[i];
          }
        }
      }
    });
  });
  return out;
}

Tensor arg_reduce(Op op, const Tensor& x, int axis, DType out_dtype) {
  if (is_narrow(x.dtype)) return narrow::arg_reduce(op, x, axis, out_dtype);
  const Dims d = split(x.shape, axis);
  if (d.R == 0)
    throw InvalidArgument("Reduction axis " + std::to_string(axis) + " is empty in shape " + x.shape.str() +
                          " [Op:" + op_name(op) + "]");
  Shape s;
  for (int i = 0; i < x.ndim(); ++i)
    if (i != axis) s[s.ndim++] = x.shape[i];
  Tensor out = Tensor::empty(s, out_dtype);
  if (out.numel() == 0) return out;
  const bool is_max = op == Op::ArgMax;
  TG_DISPATCH_ALL(x.dtype, T, {
    const T* px = x.data<T>();
    auto run = [&](auto* po) {
      using I = std::remove_pointer_t<decltype(po)>;
      parallel_for(d.outer * d.inner, std::max<int64_t>(1, (1 << 14) / d.R), [&](int64_t lo, int64_t hi) {
        for (int64_t j = lo; j < hi; ++j) {
          const int64_t o = j / d.inner, i = j % d.inner;
          const T* p = px + o * d.R * d.inner + i;
          // Eigen's arg reducers (TF): start from the type's extreme, strict comparisons, so NaN
          // is never picked (all-NaN gives 0) and ties keep the first index
          int64_t best = 0;
          T bv = is_max ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
          for (int64_t r = 0; r < d.R; ++r) {
            T v = p[r * d.inner];
            if (is_max ? v > bv : v < bv) {
              bv = v;
              best = r;
            }
          }
          po[j] = I(best);
        }
      });
    };
    if (out_dtype == DType::Int32) run(out.data<int32_t>());
    else run(out.data<int64_t>());
  });
  return out;
}

}  // namespace kernels

namespace ops {

Tensor scan(Op op, const Tensor& x, int64_t axis_in, bool exclusive, bool reverse) {
  if (x.ndim() == 0)
    throw InvalidArgument(std::string(op_name(op)) +
                          ": input must be at least rank 1, got a scalar [Op:" + op_name(op) + "]");
  int axis = check_axis(axis_in, x.ndim(), op_name(op), "ScanOp: Expected scan axis");
  Tensor out = kernels::scan(op, x, axis, exclusive, reverse);
  tape::record(op, {x}, {out}, [&](Attrs& at) {
    at.ints = {axis};
    at.exclusive = exclusive;
    at.reverse = reverse;
  });
  return out;
}

Tensor arg_reduce(Op op, const Tensor& x, int64_t axis_in, DType out_dtype) {
  if (out_dtype != DType::Int32 && out_dtype != DType::Int64)
    throw InvalidArgument(std::string("Value for attr 'output_type' of ") + dtype_name(out_dtype) +
                          " is not in the list of allowed values: int32, int64 [Op:" + op_name(op) + "]");
  if (x.ndim() == 0)
    throw InvalidArgument(std::string("Expected dimension in the range [0, 0), but got ") + std::to_string(axis_in) +
                          " [Op:" + op_name(op) + "]");
  int axis = check_axis(axis_in, x.ndim(), op_name(op), "Expected dimension");
  return kernels::arg_reduce(op, x, axis, out_dtype);
}

}  // namespace ops
}  // namespace tg
