// Bindings for softmax, log_softmax and the fused cross-entropy ops (TF's names and keywords).
#include "bindings/common.h"

namespace tg {
namespace bind {
namespace {

int64_t axis_arg(py::handle axis) { return axis.is_none() ? -1 : int_arg(axis, "axis"); }

// labels given as Python values take the logits' dtype; arrays and tensors keep theirs.
std::pair<Tensor, Tensor> labels_logits(py::handle labels, py::handle logits, bool float_labels) {
  if (labels.is_none() || logits.is_none()) throw ValueError("Both labels= and logits= must be provided.");
  Tensor x = to_tensor(logits);
  const bool python_value =
      !py::isinstance<py::array>(labels) && !py::isinstance<Tensor>(labels) && !py::isinstance<Variable>(labels);
  Tensor z = float_labels && python_value ? to_tensor(labels, &x.dtype) : to_tensor(labels);
  return {z, x};
}

}  // namespace

void init_ops_nnloss(py::module_& m) {
  m.def(
      "softmax",
      [](TensorLike logits, OptInt axis, OptStr name) {
        Tensor x = to_tensor(logits);
        int64_t ax = axis_arg(axis);
        return nogil(x.numel(), [&] { return TG_OP(ops::softmax)(x, ax); });
      },
      py::arg("logits"), py::arg("axis") = py::none(), py::arg("name") = py::none(),
      "exp(logits) / sum(exp(logits)) along `axis` (the last when None).");
  m.def(
      "log_softmax",
      [](TensorLike logits, OptInt axis, OptStr name) {
        Tensor x = to_tensor(logits);
        int64_t ax = axis_arg(axis);
        return nogil(x.numel(), [&] { return TG_OP(ops::log_softmax)(x, ax); });
      },
      py::arg("logits"), py::arg("axis") = py::none(), py::arg("name") = py::none(),
      "logits - log(sum(exp(logits))) along `axis` (the last when None).");
  m.def(
      "softmax_cross_entropy_with_logits",
      [](TensorLike labels, TensorLike logits, OptInt axis, OptStr name) {
        auto zx = labels_logits(labels, logits, true);
        int64_t ax = axis_arg(axis);
        if (!trace::recording())
          return nogil(zx.second.numel(), [&] { return ops::softmax_cross_entropy(zx.first, zx.second, ax); });
        // traced: the backprop output gets a slot (See Note [Unrolled gradient])
        const bool bp = tape::any_active();
        return nogil(zx.second.numel(),
                     [&] { return TG_OP(ops::softmax_cross_entropy_bp)(zx.first, zx.second, ax, bp).first; });
      },
      py::arg("labels"), py::arg("logits"), py::arg("axis") = -1, py::arg("name") = py::none(),
      "The cross entropy between label distributions and softmax(logits) along `axis`.");
  m.def(
      "sparse_softmax_cross_entropy_with_logits",
      [](OptTensorLike labels, OptTensorLike logits, OptStr name) {
        auto zx = labels_logits(labels, logits, false);
        if (!trace::recording())
          return nogil(zx.second.numel(), [&] { return ops::sparse_softmax_cross_entropy(zx.first, zx.second); });
        const bool bp = tape::any_active();  // as above
        return nogil(zx.second.numel(),
                     [&] { return TG_OP(ops::sparse_softmax_cross_entropy_bp)(zx.first, zx.second, bp).first; });
      },
      py::arg("labels") = py::none(), py::arg("logits") = py::none(), py::arg("name") = py::none(),
      "The cross entropy between integer class labels and softmax(logits) over the last axis.");
  m.def(
      "sigmoid_cross_entropy_with_logits",
      [](OptTensorLike labels, OptTensorLike logits, OptStr name) {
        auto zx = labels_logits(labels, logits, true);
        return nogil(zx.second.numel(), [&] { return TG_OP(ops::sigmoid_cross_entropy)(zx.first, zx.second); });
      },
      py::arg("labels") = py::none(), py::arg("logits") = py::none(), py::arg("name") = py::none(),
      "The elementwise cross entropy between labels in [0, 1] and sigmoid(logits).");
}

}  // namespace bind
}  // namespace tg
