// Softmax, log_softmax and the fused cross-entropies. Each kernel walks lines of length C along
// the class axis: (outer, C, inner) with stride `inner`; inner == 1 (the last axis) is contiguous.
// Every row is shifted by its max first, so logits of ±1000 give finite values.
#include "ops/nn_loss.h"

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "autodiff/tape.h"
#include "tensor/parallel.h"

namespace tg {
namespace {

constexpr int64_t kGrain = 1 << 14;  // elements per chunk

struct Lines {
  int64_t outer = 1, C = 1, inner = 1;
  Lines(const Shape& s, int axis) {
    for (int i = 0; i < axis; ++i) outer *= s[i];
    C = s[axis];
    for (int i = axis + 1; i < s.ndim; ++i) inner *= s[i];
  }
  int64_t count() const { return outer * inner; }
  int64_t base(int64_t l) const { return (l / inner) * C * inner + l % inner; }
};

// Runs body(std::integral_constant<bool, contiguous>, line_lo, line_hi) over chunks of lines.
template <class F> void for_lines(const Lines& L, F&& body) {
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(L.C, 1));
  if (L.inner == 1) parallel_for(L.count(), grain, [&](int64_t lo, int64_t hi) { body(std::true_type{}, lo, hi); });
  else parallel_for(L.count(), grain, [&](int64_t lo, int64_t hi) { body(std::false_type{}, lo, hi); });
}

template <class T, class Contig> inline T line_max(const T* x, int64_t C, int64_t s) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t c = 0; c < C; ++c) {
    T v = x[Contig::value ? c : c * s];
    m = v > m ? v : m;
  }
  return m;
}

template <class T> void softmax_typed(const Tensor& x, Tensor& y, const Lines& L, bool log) {
  const T* px = x.data<T>();
  T* py = y.data<T>();
  const int64_t C = L.C, s = L.inner;
  for_lines(L, [&](auto contig, int64_t lo, int64_t hi) {
    using Contig = decltype(contig);
    for (int64_t l = lo; l < hi; ++l) {
      const T* xr = px + L.base(l);
      T* yr = py + L.base(l);
      const T m = line_max<T, Contig>(xr, C, s);
      T sum = 0;
      if (log) {
        for (int64_t c = 0; c < C; ++c) sum += std::exp(xr[Contig::value ? c : c * s] - m);
        const T shift = m + std::log(sum);
        for (int64_t c = 0; c < C; ++c) yr[Contig::value ? c : c * s] = xr[Contig::value ? c : c * s] - shift;
      } else {
        for (int64_t c = 0; c < C; ++c) {
          T e = std::exp(xr[Contig::value ? c : c * s] - m);
          yr[Contig::value ? c : c * s] = e;
          sum += e;
        }
        const T inv = T(1) / sum;
        for (int64_t c = 0; c < C; ++c) yr[Contig::value ? c : c * s] *= inv;
      }
    }
  });
}

// loss[l] = sum_c z_c (lse - x_c); backprop = softmax - z, TF's kernel output. It is d loss / d x only
// when the labels sum to 1 (the exact one is sum(z) softmax - z); TF's number is the contract, so a
// gradient through labels that do not sum to 1 is TF's, not the calculus one. bp may be null.
template <class T> void xent_typed(const Tensor& z, const Tensor& x, const Lines& L, T* loss, T* bp) {
  const T* px = x.data<T>();
  const T* pz = z.data<T>();
  const int64_t C = L.C, s = L.inner;
  for_lines(L, [&](auto contig, int64_t lo, int64_t hi) {
    using Contig = decltype(contig);
    for (int64_t l = lo; l < hi; ++l) {
      const int64_t b = L.base(l);
      const T* xr = px + b;
      const T* zr = pz + b;
      const T m = line_max<T, Contig>(xr, C, s);
      T sum = 0;
      if (bp) {
        T* br = bp + b;
        for (int64_t c = 0; c < C; ++c) {
          T e = std::exp(xr[Contig::value ? c : c * s] - m);
          br[Contig::value ? c : c * s] = e;
          sum += e;
        }
      } else {
        for (int64_t c = 0; c < C; ++c) sum += std::exp(xr[Contig::value ? c : c * s] - m);
      }
      const T lse = std::log(sum);  // of the shifted row
      T acc = 0;
      for (int64_t c = 0; c < C; ++c) {
        const int64_t k = Contig::value ? c : c * s;
        acc += zr[k] * (lse - (xr[k] - m));
      }
      loss[l] = acc;
      if (bp) {  // softmax - z, as TF's kernel
        T* br = bp + b;
        const T scale = T(1) / sum;
        for (int64_t c = 0; c < C; ++c) {
          const int64_t k = Contig::value ? c : c * s;
          br[k] = br[k] * scale - zr[k];
        }
      }
    }
  });
}

template <class T, class I> void sparse_xent_typed(const I* labels, const Tensor& x, const Lines& L, T* loss, T* bp) {
  const T* px = x.data<T>();
  const int64_t C = L.C;
  for_lines(L, [&](auto, int64_t lo, int64_t hi) {
    for (int64_t l = lo; l < hi; ++l) {
      const T* xr = px + l * C;
      const T m = line_max<T, std::true_type>(xr, C, 1);
      T sum = 0;
      for (int64_t c = 0; c < C; ++c) {
        T e = std::exp(xr[c] - m);
        if (bp) bp[l * C + c] = e;
        sum += e;
      }
      const int64_t y = int64_t(labels[l]);
      loss[l] = std::log(sum) - (xr[y] - m);
      if (bp) {
        const T inv = T(1) / sum;
        for (int64_t c = 0; c < C; ++c) bp[l * C + c] *= inv;
        bp[l * C + y] -= T(1);
      }
    }
  });
}

std::string py_shape(const Shape& s) {  // Python's tuple spelling, as TF's Python-side errors use
  std::string r = "(";
  for (int i = 0; i < s.ndim; ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + (s.ndim == 1 ? ",)" : ")");
}

void check_float(const Tensor& x, const char* op) {
  if (!is_floating(x.dtype)) throw attr_t_error(x.dtype, std::string(": float, double [Op:") + op + "]");
}

int class_axis(const Tensor& logits, int64_t axis, const char* op) {
  const int nd = logits.ndim();
  if (nd == 0)
    throw InvalidArgument(std::string("logits must have >= 1 dimension, got shape ") + logits.shape.str() +
                          " [Op:" + op + "]");
  if (axis < -nd || axis >= nd)
    throw InvalidArgument("`dim` must be in the range [" + std::to_string(-nd) + ", " + std::to_string(nd) +
                          ") where " + std::to_string(nd) +
                          " is the number of dimensions in the input. Received: dim=" + std::to_string(axis) +
                          " [Op:" + op + "]");
  return int(axis < 0 ? axis + nd : axis);
}

}  // namespace

namespace kernels {

Tensor softmax(const Tensor& logits, int axis, bool log) {
  Tensor out = Tensor::empty(logits.shape, logits.dtype);
  if (out.numel() == 0) return out;
  Lines L(logits.shape, axis);
  TG_DISPATCH_FLOAT(logits.dtype, T, { softmax_typed<T>(logits, out, L, log); });
  return out;
}

void softmax_xent(const Tensor& labels, const Tensor& logits, int axis, Tensor* loss, Tensor* backprop) {
  Shape ls;
  for (int i = 0; i < logits.ndim(); ++i)
    if (i != axis) ls[ls.ndim++] = logits.shape[i];
  *loss = Tensor::zeros(ls, logits.dtype);
  if (backprop) *backprop = Tensor::empty(logits.shape, logits.dtype);
  if (logits.numel() == 0) return;
  Lines L(logits.shape, axis);
  TG_DISPATCH_FLOAT(logits.dtype, T,
                    { xent_typed<T>(labels, logits, L, loss->data<T>(), backprop ? backprop->data<T>() : nullptr); });
}

void sparse_softmax_xent(const Tensor& labels, const Tensor& logits, Tensor* loss, Tensor* backprop) {
  const int axis = logits.ndim() - 1;
  const int64_t C = logits.shape[axis];
  *loss = Tensor::zeros(labels.shape, logits.dtype);
  if (backprop) *backprop = Tensor::empty(logits.shape, logits.dtype);
  const int64_t n = labels.numel();
  // Check every label before any parallel work (See Note [Threads]).
  auto check = [&](auto* p) {
    for (int64_t i = 0; i < n; ++i)
      if (p[i] < 0 || int64_t(p[i]) >= C) {
        std::string vals;
        for (int64_t j = 0; j < n && j < 32; ++j) vals += (j ? " " : "") + std::to_string(int64_t(p[j]));
        if (n > 32) vals += " ...";
        throw InvalidArgument("Received a label value of " + std::to_string(int64_t(p[i])) +
                              " which is outside the valid range of [0, " + std::to_string(C) +
                              ").  Label values: " + vals + " [Op:SparseSoftmaxCrossEntropyWithLogits]");
      }
  };
  if (labels.dtype == DType::Int32) check(labels.data<int32_t>());
  else check(labels.data<int64_t>());
  if (logits.numel() == 0) return;
  Lines L(logits.shape, axis);
  TG_DISPATCH_FLOAT(logits.dtype, T, {
    T* bp = backprop ? backprop->data<T>() : nullptr;
    if (labels.dtype == DType::Int32) sparse_xent_typed<T>(labels.data<int32_t>(), logits, L, loss->data<T>(), bp);
    else sparse_xent_typed<T>(labels.data<int64_t>(), logits, L, loss->data<T>(), bp);
  });
}

Tensor sigmoid_xent(const Tensor& labels, const Tensor& logits) {
  Tensor out = Tensor::empty(logits.shape, logits.dtype);
  const int64_t n = out.numel();
  if (n == 0) return out;
  TG_DISPATCH_FLOAT(logits.dtype, T, {
    const T* x = logits.data<T>();
    const T* z = labels.data<T>();
    T* o = out.data<T>();
    parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const T v = x[i];
        o[i] = (v > 0 ? v : T(0)) - v * z[i] + std::log1p(std::exp(-std::abs(v)));
      }
    });
  });
  return out;
}

}  // namespace kernels

namespace ops {

namespace {
Tensor softmax_impl(const Tensor& logits, int64_t axis, bool log) {
  const char* op = log ? "LogSoftmax" : "Softmax";
  check_float(logits, op);
  const int ax = class_axis(logits, axis, op);
  Tensor out = kernels::softmax(logits, ax, log);
  tape::record(log ? Op::LogSoftmax : Op::Softmax, {logits}, {out}, [&](Attrs& at) { at.ints = {ax}; });
  return out;
}
}  // namespace

Tensor softmax(const Tensor& logits, int64_t axis) { return softmax_impl(logits, axis, false); }
Tensor log_softmax(const Tensor& logits, int64_t axis) { return softmax_impl(logits, axis, true); }

Tensor softmax_cross_entropy(const Tensor& labels, const Tensor& logits, int64_t axis) {
  return softmax_cross_entropy_bp(labels, logits, axis, tape::any_active()).first;
}

std::pair<Tensor, Tensor> softmax_cross_entropy_bp(const Tensor& labels_in, const Tensor& logits, int64_t axis,
                                                   bool with_backprop) {
  const char* op = "SoftmaxCrossEntropyWithLogits";
  check_float(logits, op);
  if (logits.ndim() == 0 || labels_in.ndim() == 0)
    throw InvalidArgument("logits and labels must have at least one dimension: logits_size=" + logits.shape.str() +
                          " labels_size=" + labels_in.shape.str() + " [Op:" + op + "]");
  const int ax = class_axis(logits, axis, op);
  Tensor labels = labels_in;
  if (labels.shape != logits.shape) {
    bool ok = labels.ndim() <= logits.ndim();
    for (int i = 0; ok && i < labels.ndim(); ++i) {
      int64_t d = labels.shape[i], D = logits.shape[logits.ndim() - labels.ndim() + i];
      ok = d == D || d == 1;
    }
    if (!ok)
      throw InvalidArgument("logits and labels must be broadcastable: logits_size=" + logits.shape.str() +
                            " labels_size=" + labels.shape.str() + " [Op:" + op + "]");
  }
  if (labels.dtype != logits.dtype) labels = cast(labels, logits.dtype);
  if (labels.shape != logits.shape) labels = broadcast_to(labels, logits.shape);
  Tensor loss, bp;  // the backprop output is computed only while a tape may record it
  kernels::softmax_xent(labels, logits, ax, &loss, with_backprop || tape::any_active() ? &bp : nullptr);
  tape::record(Op::SoftmaxCrossEntropy, {logits, labels}, {loss, bp}, [&](Attrs& at) { at.ints = {ax}; });
  return {loss, bp};
}

Tensor sparse_softmax_cross_entropy(const Tensor& labels, const Tensor& logits) {
  return sparse_softmax_cross_entropy_bp(labels, logits, tape::any_active()).first;
}

std::pair<Tensor, Tensor> sparse_softmax_cross_entropy_bp(const Tensor& labels, const Tensor& logits,
                                                          bool with_backprop) {
  const char* op = "SparseSoftmaxCrossEntropyWithLogits";
  check_float(logits, op);
  if (!is_integer(labels.dtype))
    throw InvalidArgument(std::string("Value for attr 'Tlabels' of ") + dtype_name(labels.dtype) +
                          " is not in the list of allowed values: int32, int64 [Op:" + op + "]");
  if (logits.ndim() == 0)
    throw InvalidArgument("logits must have >= 1 dimension, got shape " + logits.shape.str() + " [Op:" + op + "]");
  if (labels.ndim() != logits.ndim() - 1)
    throw ValueError("`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: labels.shape=" +
                     py_shape(labels.shape) + " of rank " + std::to_string(labels.ndim()) +
                     " and logits.shape=" + py_shape(logits.shape) + " of rank " + std::to_string(logits.ndim()));
  for (int i = 0; i < labels.ndim(); ++i)
    if (labels.shape[i] != logits.shape[i])
      throw ValueError(
          "`labels.shape` must equal `logits.shape` except for the last dimension. Received: labels.shape=" +
          py_shape(labels.shape) + " and logits.shape=" + py_shape(logits.shape));
  Tensor loss, bp;  // as above
  kernels::sparse_softmax_xent(labels, logits, &loss, with_backprop || tape::any_active() ? &bp : nullptr);
  tape::record(Op::SparseSoftmaxCrossEntropy, {logits, labels}, {loss, bp});
  return {loss, bp};
}

Tensor sigmoid_cross_entropy(const Tensor& labels, const Tensor& logits) {
  const char* op = "SigmoidCrossEntropyWithLogits";
  check_float(logits, op);
  if (labels.dtype != logits.dtype)
    throw InvalidArgument(std::string("labels and logits must have the same dtype, got ") + dtype_name(labels.dtype) +
                          " and " + dtype_name(logits.dtype) + " [Op:" + op + "]");
  if (labels.shape != logits.shape)
    throw ValueError("`logits` and `labels` must have the same shape, received (" + py_shape(logits.shape) + " vs " +
                     py_shape(labels.shape) + ").");
  Tensor out = kernels::sigmoid_xent(labels, logits);
  tape::record(Op::SigmoidCrossEntropy, {logits, labels}, {out});
  return out;
}

}  // namespace ops
}  // namespace tg
