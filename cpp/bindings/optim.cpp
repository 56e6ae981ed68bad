// Fused optimizer kernels: one call per step for all variables, GIL released.
#include "bindings/common.h"
#include "optim/optim.h"

namespace tg {
namespace bind {
namespace {

optim::VarList var_list(const py::list& l) {
  optim::VarList v;
  v.reserve(l.size());
  for (py::handle h : l) v.push_back(h.cast<std::shared_ptr<Variable>>());
  return v;
}
std::vector<Tensor> tensor_list(const py::list& l) {
  std::vector<Tensor> v;
  v.reserve(l.size());
  for (py::handle h : l) v.push_back(to_tensor_noaccess(h));
  return v;
}

}  // namespace

void init_optim(py::module_& m) {
  m.def("sgd_update", [](py::list vars, py::list grads, py::list moms, double lr, double momentum, bool nesterov) {
    auto V = var_list(vars), M = var_list(moms);
    auto G = tensor_list(grads);
    py::gil_scoped_release release;
    optim::sgd(V, G, M, lr, momentum, nesterov);
  }, py::arg("variables"), py::arg("grads"), py::arg("momentums"), py::arg("learning_rate"), py::arg("momentum"),
     py::arg("nesterov"));
}

}  // namespace bind
}  // namespace tg
