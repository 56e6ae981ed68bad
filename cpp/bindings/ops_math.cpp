// Bindings for math, reductions, activations and nn losses. TF's argument handling (defaults,
// namespaces, composites) lives in python/tapegrad/_ops_math.py.
#include "bindings/common.h"
#include "ops/math.h"

namespace tg {
namespace bind {

void init_ops_math(py::module_& m) {
  static const std::pair<const char*, Op> unary_ops[] = {
      {"erfc", Op::Erfc}, {"asinh", Op::Asinh}, {"acosh", Op::Acosh}, {"atanh", Op::Atanh}};
  for (const auto& u : unary_ops) {
    Op op = u.second;
    m.def(u.first, [op](py::handle x, py::object name) {
      Tensor t = to_tensor(x);
      return nogil(t.numel(), [&] { return ops::unary(op, t); });
    }, py::arg("x"), py::arg("name") = py::none());
  }
  m.def("relu6", [](py::handle x, py::object name) {
    Tensor t = to_tensor(x);
    return nogil(t.numel(), [&] { return ops::unary(Op::Relu6, t); });
  }, py::arg("features"), py::arg("name") = py::none());
  m.def("_exp_linear", [](py::handle x, bool selu) {
    Tensor t = to_tensor(x);
    return nogil(t.numel(), [&] { return ops::exp_linear(selu ? Op::Selu : Op::Elu, t); });
  });
  m.def("_leaky_relu", [](py::handle x, double alpha) {
    Tensor t = to_tensor(x);
    return nogil(t.numel(), [&] { return ops::leaky_relu(t, alpha); });
  });
  m.def("_scan", [](py::handle x, int64_t axis, bool exclusive, bool reverse, bool prod) {
    Tensor t = to_tensor(x);
    return nogil(t.numel(), [&] { return ops::scan(prod ? Op::Cumprod : Op::Cumsum, t, axis, exclusive, reverse); });
  });
  m.def("_arg_reduce", [](py::handle x, int64_t axis, int code, bool is_max) {
    Tensor t = to_tensor(x);
    return nogil(t.numel(), [&] { return ops::arg_reduce(is_max ? Op::ArgMax : Op::ArgMin, t, axis, dtype_from_code(code)); });
  });
}

}  // namespace bind
}  // namespace tg
