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
  const bool python_value = !py::isinstance<py::array>(labels) && !py::isinstance<Tensor>(labels) &&
                            !py::isinstance<Variable>(labels);
  Tensor z = float_labels && python_value ? to_tensor(labels, &x.dtype) : to_tensor(labels);
  return {z, x};
}

}  // namespace

void init_ops_nnloss(py::module_& m) {
  m.def("softmax", [](py::handle logits, py::handle axis, py::object name) {
    Tensor x = to_tensor(logits);
    int64_t ax = axis_arg(axis);
    return py::cast(nogil(x.numel(), [&] { return ops::softmax(x, ax); }));
  }, py::arg("logits"), py::arg("axis") = py::none(), py::arg("name") = py::none());
  m.def("log_softmax", [](py::handle logits, py::handle axis, py::object name) {
    Tensor x = to_tensor(logits);
    int64_t ax = axis_arg(axis);
    return py::cast(nogil(x.numel(), [&] { return ops::log_softmax(x, ax); }));
  }, py::arg("logits"), py::arg("axis") = py::none(), py::arg("name") = py::none());
  m.def("softmax_cross_entropy_with_logits", [](py::handle labels, py::handle logits, py::handle axis, py::object name) {
    auto zx = labels_logits(labels, logits, true);
    int64_t ax = axis_arg(axis);
    return py::cast(nogil(zx.second.numel(), [&] { return ops::softmax_cross_entropy(zx.first, zx.second, ax); }));
  }, py::arg("labels"), py::arg("logits"), py::arg("axis") = -1, py::arg("name") = py::none());
  m.def("sparse_softmax_cross_entropy_with_logits", [](py::handle labels, py::handle logits, py::object name) {
    auto zx = labels_logits(labels, logits, false);
    return py::cast(nogil(zx.second.numel(), [&] { return ops::sparse_softmax_cross_entropy(zx.first, zx.second); }));
  }, py::arg("labels") = py::none(), py::arg("logits") = py::none(), py::arg("name") = py::none());
  m.def("sigmoid_cross_entropy_with_logits", [](py::handle labels, py::handle logits, py::object name) {
    auto zx = labels_logits(labels, logits, true);
    return py::cast(nogil(zx.second.numel(), [&] { return ops::sigmoid_cross_entropy(zx.first, zx.second); }));
  }, py::arg("labels") = py::none(), py::arg("logits") = py::none(), py::arg("name") = py::none());
}

}  // namespace bind
}  // namespace tg
