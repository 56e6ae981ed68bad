// Bindings for shape and indexing ops. TF's argument handling lives in python/tapegrad/_ops_shape.py;
// these take resolved arguments.
#include <algorithm>

#include "bindings/common.h"
#include "ops/shape.h"

namespace tg {
namespace bind {
namespace {

int64_t prod(const Shape& s, int lo, int hi) {
  int64_t p = 1;
  for (int i = lo; i < hi; ++i) p *= s[i];
  return p;
}

// indices [..., K] against `shape`: row numbers, the number of indexed dims K, rows M.
struct NdIndex {
  Tensor flat;
  int K;
  int64_t M;
};
NdIndex nd_index(const Tensor& indices, const Shape& shape, const char* op) {
  Tensor flat = TG_OP(kernels::flat_nd_index)(indices, shape, op);
  return {flat, int(indices.shape[indices.ndim() - 1]), flat.numel()};
}

// updates must have shape indices.shape[:-1] + shape[K:]
void check_updates(const Tensor& indices, const Tensor& updates, const Shape& shape, int K, const char* op) {
  Shape want;
  want.ndim = indices.ndim() - 1 + shape.ndim - K;
  if (want.ndim > kMaxRank) throw InvalidArgument(std::string("rank too large [Op:") + op + "]");
  const int lead = indices.ndim() - 1;
  bool lead_ok = updates.ndim() >= lead;
  for (int i = 0; lead_ok && i < lead; ++i) lead_ok = updates.shape[i] == indices.shape[i];
  if (!lead_ok)
    throw InvalidArgument("Dimensions [0," + std::to_string(lead) + ") of indices[shape=" + indices.shape.str() +
                          "] must match dimensions [0," + std::to_string(lead) +
                          ") of updates[shape=" + updates.shape.str() + "] [Op:" + op + "]");
  int k = 0;
  for (int i = 0; i < lead; ++i) want[k++] = indices.shape[i];
  for (int i = K; i < shape.ndim; ++i) want[k++] = shape[i];
  if (updates.shape != want)
    throw InvalidArgument("updates must have shape indices.shape[:-1] + shape[" + std::to_string(K) +
                          ":] = " + want.str() + ", got " + updates.shape.str() + " (indices " + indices.shape.str() +
                          ", shape " + shape.str() + ") [Op:" + op + "]");
}

Tensor scatter_nd_impl(const Tensor& indices, const Tensor& updates, const Shape& shape, const char* op) {
  NdIndex ix = nd_index(indices, shape, op);
  check_updates(indices, updates, shape, ix.K, op);
  int64_t N = prod(shape, 0, ix.K), I = prod(shape, ix.K, shape.ndim);
  Tensor u = TG_OP(ops::reshape)(updates, Shape{ix.M, I});
  return TG_OP(ops::reshape)(TG_OP(ops::gather_grad)(u, ix.flat, Shape{N, I}, 0, 0), shape);
}

// tf.shape of a tensor whose sizes vary in a polymorphic trace: a recorded call, so each replay
// gives its own input's sizes (See Note [Polymorphic traces]).
Tensor shape_tensor(const Tensor& t, DType dtype) {
  if (dtype != DType::Int32 && dtype != DType::Int64)
    throw InvalidArgument("out_type must be int32 or int64, got " + std::string(dtype_name(dtype)));
  Tensor out = Tensor::empty(Shape{int64_t(t.ndim())}, dtype);
  for (int d = 0; d < t.ndim(); ++d) {
    if (dtype == DType::Int32) {
      if (t.shape[d] > INT32_MAX)
        throw InvalidArgument("a dimension of size " + std::to_string(t.shape[d]) + " does not fit out_type int32");
      out.data<int32_t>()[d] = int32_t(t.shape[d]);
    } else {
      out.data<int64_t>()[d] = t.shape[d];
    }
  }
  return out;
}

// tensor[spec] resolved against the tensor's sizes when the call runs: in a polymorphic trace a
// slice of a varying dimension is recorded this way, so each replay slices its own sizes (See Note
// [Polymorphic traces]). `spec`: 4 numbers per entry, (kind, start, stop, step) with kind 0 a
// slice (kNone for a missing bound), 1 an index (start), 2 a new axis of size 1. Python's rules.
constexpr int64_t kNone = INT64_MIN;
Tensor slice_spec(const Tensor& t, const std::vector<int64_t>& spec) {
  std::vector<int64_t> begin, stride;
  std::vector<int64_t> size, out;
  int d = 0;
  for (size_t k = 0; k + 3 < spec.size(); k += 4) {
    const int64_t kind = spec[k], a = spec[k + 1], b = spec[k + 2], step = spec[k + 3];
    if (kind == 2) {
      out.push_back(1);
      continue;
    }
    if (d >= t.ndim())
      throw InvalidArgument("Index out of range using input dim " + std::to_string(t.ndim()) + " [Op:StridedSlice]");
    const int64_t n = t.shape[d];
    if (kind == 1) {
      if (a < -n || a >= n)
        throw InvalidArgument("slice index " + std::to_string(a) + " of dimension " + std::to_string(d) +
                              " out of bounds. [Op:StridedSlice] name: strided_slice/");
      begin.push_back(a < 0 ? a + n : a);
      stride.push_back(1);
      size.push_back(1);
    } else {
      int64_t st, sp;
      auto clamp = [](int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; };
      if (step > 0) {
        st = a == kNone ? 0 : clamp(a < 0 ? a + n : a, 0, n);
        sp = b == kNone ? n : clamp(b < 0 ? b + n : b, 0, n);
      } else {
        st = a == kNone ? n - 1 : clamp(a < 0 ? a + n : a, -1, n - 1);
        sp = b == kNone ? -1 : clamp(b < 0 ? b + n : b, -1, n - 1);
      }
      int64_t cnt = step > 0 ? (sp - st + step - 1) / step : (st - sp + (-step) - 1) / (-step);
      if (cnt < 0) cnt = 0;
      begin.push_back(cnt ? st : 0);
      stride.push_back(step);
      size.push_back(cnt);
      out.push_back(cnt);
    }
    ++d;
  }
  for (; d < t.ndim(); ++d) {  // the remaining dimensions whole
    begin.push_back(0);
    stride.push_back(1);
    size.push_back(t.shape[d]);
    out.push_back(t.shape[d]);
  }
  Tensor r = ops::strided_slice(t, begin, stride, Shape::from(size));
  return Shape::from(out) == r.shape ? r : ops::reshape(r, out);
}

// tf.pad's constant mode with the padded sizes computed when the call runs (a polymorphic trace's
// varying sizes; See Note [Polymorphic traces]).
Tensor pad_resolved(const Tensor& t, const std::vector<int64_t>& before, const std::vector<int64_t>& after,
                    double value) {
  if (before.size() != size_t(t.ndim()) || after.size() != size_t(t.ndim()))
    throw InvalidArgument("paddings must have one [before, after] pair per dimension of the input");
  Shape s = t.shape;
  for (int d = 0; d < t.ndim(); ++d) s[d] += before[size_t(d)] + after[size_t(d)];
  return ops::strided_slice_grad(t, s, before, std::vector<int64_t>(before.size(), 1), value);
}

// tf.roll by `shift` along `axis` (normalised, each once), the shift taken modulo the size when the
// call runs (a polymorphic trace's varying sizes; See Note [Polymorphic traces]).
Tensor roll_resolved(const Tensor& x, const std::vector<int64_t>& shift, const std::vector<int64_t>& axis) {
  Tensor t = x;
  for (size_t i = 0; i < shift.size() && i < axis.size(); ++i) {
    const int a = int(axis[i]);
    const int64_t n = t.shape[a];
    const int64_t k = n ? ((shift[i] % n) + n) % n : 0;
    if (!k) continue;
    auto part = [&](int64_t from, int64_t count) {
      std::vector<int64_t> begin(size_t(t.ndim()), 0), stride(size_t(t.ndim()), 1);
      Shape size = t.shape;
      begin[size_t(a)] = from;
      size[a] = count;
      return ops::strided_slice(t, begin, stride, size);
    };
    t = ops::concat({part(n - k, k), part(0, n - k)}, int64_t(a));
  }
  return t;
}

}  // namespace

void init_ops_shape(py::module_& m) {
  m.def(
      "_roll_resolved",
      [](TensorLike x, std::vector<int64_t> shift, std::vector<int64_t> axis) {
        return TG_OP(roll_resolved)(to_tensor(x), shift, axis);
      },
      py::arg("x"), py::arg("shift"), py::arg("axis"),
      "(private) tf.roll with normalised axes, the shifts reduced modulo the sizes when the call runs.");
  m.def(
      "_pad_resolved",
      [](TensorLike x, std::vector<int64_t> before, std::vector<int64_t> after, double value) {
        return TG_OP(pad_resolved)(to_tensor(x), before, after, value);
      },
      py::arg("x"), py::arg("before"), py::arg("after"), py::arg("value"),
      "(private) x padded by `before`/`after` per dimension with `value`, the sizes taken when the call runs.");
  m.def(
      "_slice_spec", [](TensorLike x, std::vector<int64_t> spec) { return TG_OP(slice_spec)(to_tensor(x), spec); },
      py::arg("x"), py::arg("spec"),
      "(private) x[spec] resolved when the call runs (4 numbers per entry: kind, start, stop, step; See Note "
      "[Polymorphic traces]).");
  m.def(
      "_shape_tensor", [](TensorLike x, int code) { return TG_OP(shape_tensor)(to_tensor(x), dtype_from_code(code)); },
      py::arg("x"), py::arg("dtype_code"),
      "(private) The shape of `x` as a 1-D integer tensor, recorded by a trace (See Note [Polymorphic traces]).");
  m.def(
      "strided_slice",
      [](TensorLike x, std::vector<int64_t> begin, std::vector<int64_t> stride, std::vector<int64_t> size) {
        Tensor t = to_tensor(x);
        Shape s = Shape::from(size);
        return nogil(s.numel(), [&] { return TG_OP(ops::strided_slice)(t, begin, stride, s); });
      },
      py::arg("x"), py::arg("begin"), py::arg("strides"), py::arg("size"),
      "(private) The slice of x from `begin` with `strides`, `size` elements per axis.");
  m.def(
      "pad_constant",
      [](TensorLike x, std::vector<int64_t> before, std::vector<int64_t> shape, double value) {
        Tensor t = to_tensor(x);
        Shape s = Shape::from(shape);
        std::vector<int64_t> ones(before.size(), 1);
        return nogil(s.numel(), [&] { return TG_OP(ops::strided_slice_grad)(t, s, before, ones, value); });
      },
      py::arg("x"), py::arg("before"), py::arg("shape"), py::arg("value"),
      "(private) x placed at offset `before` in a tensor of `shape` filled with `value`.");
  m.def(
      "concat",
      [](py::sequence values, int64_t axis) {
        std::vector<Tensor> xs;
        for (py::handle h : values) xs.push_back(to_tensor(h));
        if (!xs.empty())  // Python scalars and lists take the first tensor's dtype
          for (size_t i = 0; i < xs.size(); ++i)
            if (!py::isinstance<Tensor>(values[i]) && !py::isinstance<Variable>(values[i]) &&
                !py::isinstance<py::array>(values[i])) {
              for (py::handle h : values)
                if (py::isinstance<Tensor>(h) || py::isinstance<Variable>(h)) {
                  DType d = to_tensor_noaccess(h).dtype;
                  xs[i] = to_tensor(values[i], &d);
                  break;
                }
            }
        int64_t work = 0;
        for (auto& x : xs) work += x.numel();
        return nogil(work, [&] { return TG_OP(ops::concat)(xs, axis); });
      },
      py::arg("values"), py::arg("axis"), "(private) The tensors joined along a normalised `axis`.");
  m.def(
      "gather",
      [](TensorLike params, TensorLike indices, int64_t axis, int64_t batch_dims) {
        Tensor p = to_tensor(params), i = to_tensor(indices);
        return nogil(p.numel(), [&] { return TG_OP(ops::gather)(p, i, axis, batch_dims); });
      },
      py::arg("params"), py::arg("indices"), py::arg("axis"), py::arg("batch_dims"),
      "(private) Slices of params at `indices` along a normalised `axis`.");
  m.def(
      "gather_nd",
      [](TensorLike params, TensorLike indices) {
        Tensor p = to_tensor(params), i = to_tensor(indices);
        trace::shape_read(p, "tf.gather_nd");  // the reshapes below fix sizes (Note [Polymorphic traces])
        trace::shape_read(i, "tf.gather_nd");
        NdIndex ix = nd_index(i, p.shape, "GatherNd");
        // indices [n, 1]: rows of params, a gather along axis 0, whose gradient is an IndexedSlices
        // as TF's GatherNd gradient for that case (See Note [Sparse gradients])
        if (ix.K == 1 && i.ndim() == 2 && p.ndim() >= 1)
          return nogil(p.numel(), [&] {
            return TG_OP(ops::gather)(p, TG_OP(ops::reshape)(i, std::vector<int64_t>{i.shape[0]}), 0, 0);
          });
        int64_t N = prod(p.shape, 0, ix.K), I = prod(p.shape, ix.K, p.ndim());
        Tensor rows = TG_OP(ops::gather)(TG_OP(ops::reshape)(p, Shape{N, I}), ix.flat, 0, 0);  // [M..., I]
        std::vector<int64_t> out = ix.flat.shape.vec();
        for (int d = ix.K; d < p.ndim(); ++d) out.push_back(p.shape[d]);
        return TG_OP(ops::reshape)(rows, out);
      },
      py::arg("params"), py::arg("indices"),
      "(private) The slices of params at the index vectors in the last axis of `indices`.");
  m.def(
      "scatter_nd",
      [](TensorLike indices, TensorLike updates, std::vector<int64_t> shape) {
        Tensor i = to_tensor(indices), u = to_tensor(updates);
        trace::shape_read(i, "tf.scatter_nd");  // the reshapes fix sizes (Note [Polymorphic traces])
        trace::shape_read(u, "tf.scatter_nd");
        return scatter_nd_impl(i, u, Shape::from(shape), "ScatterNd");
      },
      py::arg("indices"), py::arg("updates"), py::arg("shape"),
      "(private) Zeros of `shape` with `updates` added at `indices`.");
  m.def(
      "tensor_scatter_nd_update",
      [](TensorLike tensor, TensorLike indices, TensorLike updates) {
        auto tu = to_tensor_pair(tensor, updates);
        Tensor t = tu.first, i = to_tensor(indices), u = tu.second;
        for (const Tensor* x : {&t, &i, &u}) trace::shape_read(*x, "tf.tensor_scatter_nd_update");
        NdIndex ix = nd_index(i, t.shape, "TensorScatterUpdate");
        check_updates(i, u, t.shape, ix.K, "TensorScatterUpdate");
        int64_t N = prod(t.shape, 0, ix.K), I = prod(t.shape, ix.K, t.ndim());
        Tensor r = TG_OP(ops::scatter_update)(TG_OP(ops::reshape)(t, Shape{N, I}), ix.flat,
                                              TG_OP(ops::reshape)(u, Shape{ix.M, I}));
        return TG_OP(ops::reshape)(r, t.shape);
      },
      py::arg("tensor"), py::arg("indices"), py::arg("updates"),
      "(private) A copy of tensor with the slices at `indices` replaced by `updates`.");
  m.def(
      "tensor_scatter_nd_add",
      [](TensorLike tensor, TensorLike indices, TensorLike updates) {
        auto tu = to_tensor_pair(tensor, updates);
        Tensor t = tu.first, i = to_tensor(indices), u = tu.second;
        if (t.dtype != u.dtype)
          throw InvalidArgument(
              std::string("cannot compute TensorScatterAdd as input #2(zero-based) was expected to be a ") +
              dtype_kernel_name(t.dtype) + " tensor but is a " + dtype_kernel_name(u.dtype) +
              " tensor [Op:TensorScatterAdd]");
        for (const Tensor* x : {&t, &i, &u}) trace::shape_read(*x, "tf.tensor_scatter_nd_add");
        return TG_OP(ops::add)(t, scatter_nd_impl(i, u, t.shape, "TensorScatterAdd"));
      },
      py::arg("tensor"), py::arg("indices"), py::arg("updates"),
      "(private) A copy of tensor with `updates` added at `indices`.");
  // axis normalised by the caller
  m.def(
      "unstack",
      [](TensorLike x, int axis) {
        Tensor t = to_tensor(x);
        if (trace::Recorder* r = trace::polymorphic()) {  // See Note [Polymorphic traces]
          auto dims = r->dynamic_dims(t);
          if (!dims || (*dims)[size_t(axis)]) {
            r->specialize("tf.unstack along a dimension that follows the input signature's None dimensions");
          } else if (std::find(dims->begin(), dims->end(), true) != dims->end()) {
            // the other sizes vary: each piece an index along `axis`, resolved at each replay
            py::typing::List<Tensor> out;
            for (int64_t i = 0; i < t.shape[axis]; ++i) {
              std::vector<int64_t> spec;
              for (int d = 0; d < axis; ++d) spec.insert(spec.end(), {0, kNone, kNone, 1});
              spec.insert(spec.end(), {1, i, 0, 1});
              out.append(wrap(TG_OP(slice_spec)(t, spec)));
            }
            return out;
          }
        }
        const int nd = t.ndim();
        std::vector<int64_t> begin(size_t(nd), 0), stride(size_t(nd), 1), rest;
        Shape size = t.shape;
        size[axis] = 1;
        for (int d = 0; d < nd; ++d)
          if (d != axis) rest.push_back(t.shape[d]);
        py::typing::List<Tensor> out;
        for (int64_t i = 0; i < t.shape[axis]; ++i) {
          begin[size_t(axis)] = i;
          out.append(wrap(TG_OP(ops::reshape)(TG_OP(ops::strided_slice)(t, begin, stride, size), rest)));
        }
        return out;
      },
      py::arg("x"), py::arg("axis"), "(private) The slices of x along a normalised `axis`, as a list.");
  // data [M, I], ids [M] (all in [0, num_segments)) -> [num_segments, I]
  m.def(
      "unsorted_segment_sum",
      [](TensorLike data, TensorLike ids, int64_t num_segments) {
        Tensor d = to_tensor(data), i = to_tensor(ids);
        if (d.ndim() != 2 || i.ndim() != 1 || i.shape[0] != d.shape[0])
          throw InvalidArgument("internal: unsorted_segment_sum expects data [M, I] and ids [M]");
        if (trace::Recorder* r = trace::polymorphic()) {  // d.shape[1] is fixed in the call
          auto dims = r->dynamic_dims(d);
          if (!dims || (*dims)[1]) r->specialize("tf.math.unsorted_segment_sum reads a varying dimension");
        }
        return nogil(d.numel(), [&] { return TG_OP(ops::gather_grad)(d, i, Shape{num_segments, d.shape[1]}, 0, 0); });
      },
      py::arg("data"), py::arg("segment_ids"), py::arg("num_segments"),
      "(private) Row sums of data [M, I] by segment id [M] into [num_segments, I].");
  m.def(
      "where_indices",
      [](TensorLike cond) {
        Tensor c = to_tensor(cond);
        trace::host_read(c, "tf.where with one argument (a data-dependent shape)");
        return konst(kernels::where_indices(c));
      },
      py::arg("condition"), "(private) The coordinates [N, rank] of the true elements of `condition`.");
}

}  // namespace bind
}  // namespace tg
