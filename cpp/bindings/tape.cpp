// GradientTape's engine side: the tape object, the thread's tape stack, the backward pass.
#include "bindings/common.h"

namespace tg {
namespace bind {

void init_tape(py::module_& m) {
  py::class_<Tape, std::shared_ptr<Tape>>(m, "Tape")
      .def(py::init<bool, bool>(), py::arg("persistent"), py::arg("watch_accessed_variables"))
      .def_readonly("persistent", &Tape::persistent)
      .def("watch", [](Tape& t, py::handle h) {
        if (py::isinstance<Variable>(h)) t.watch_variable(h.cast<std::shared_ptr<Variable>>());
        else t.watch(to_tensor(h));
      })
      .def("watched_variables", [](const Tape& t) { return t.watched_variables; })
      .def("num_nodes", [](const Tape& t) {
        size_t n = 0;
        for (auto& p : t.nodes) n += p != nullptr;
        return n;
      });
  m.def("push_tape", [](std::shared_ptr<Tape> t) { tape::push(t); });
  m.def("pop_tape", [](std::shared_ptr<Tape> t) { tape::pop(t.get()); });
  m.def("is_recording", [](std::shared_ptr<Tape> t) { return tape::is_recording(t.get()); });
  m.def("any_tape_active", [] { return tape::any_active(); });
  m.def("compute_gradient", [](std::shared_ptr<Tape> t, py::list targets, py::list sources, py::list output_grads,
                               bool zero_unconnected) {
    std::vector<Tensor> tg_, src, og;
    for (py::handle h : targets) tg_.push_back(to_tensor_noaccess(h));
    for (py::handle h : sources) src.push_back(to_tensor_noaccess(h));
    for (py::handle h : output_grads) og.push_back(h.is_none() ? Tensor() : to_tensor(h));
    std::vector<Tensor> res;
    {
      py::gil_scoped_release release;
      res = tape::compute_gradient(*t, tg_, src, og, zero_unconnected);
    }
    py::list out;
    for (Tensor& r : res) out.append(r.defined() ? py::cast(std::move(r)) : py::none());
    return out;
  });
}

}  // namespace bind
}  // namespace tg
