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
  // on_source_ready(index, grad or None): called with the GIL held as each source's gradient
  // becomes final (See Note [Source ready]); the walk itself runs without the GIL.
  m.def("compute_gradient", [](std::shared_ptr<Tape> t, py::list targets, py::list sources, py::list output_grads,
                               bool zero_unconnected, py::object on_source_ready) {
    std::vector<Tensor> tg_, src, og;
    for (py::handle h : targets) tg_.push_back(to_tensor_noaccess(h));
    for (py::handle h : sources) src.push_back(to_tensor_noaccess(h));
    for (py::handle h : output_grads) og.push_back(h.is_none() ? Tensor() : to_tensor(h));
    tape::SourceReadyFn ready;
    if (!on_source_ready.is_none())
      ready = [&on_source_ready](size_t i, const Tensor& g) {
        py::gil_scoped_acquire gil;
        on_source_ready(i, g.defined() ? py::cast(g) : py::none());
      };
    std::vector<Tensor> res;
    {
      py::gil_scoped_release release;
      res = tape::compute_gradient(*t, tg_, src, og, zero_unconnected, ready);
    }
    py::list out;
    for (Tensor& r : res) out.append(r.defined() ? py::cast(std::move(r)) : py::none());
    return out;
  }, py::arg("tape"), py::arg("targets"), py::arg("sources"), py::arg("output_grads"), py::arg("zero_unconnected"),
     py::arg("on_source_ready") = py::none());
  // A fresh tensor and a writable numpy view of its buffer, for collectives to receive into
  // (tapegrad.distribute): nothing else can see the tensor until the caller hands it out.
  m.def("_empty_with_view", [](std::vector<int64_t> dims, int dtype_code) {
    Tensor t = Tensor::empty(Shape::from(dims), dtype_from_code(dtype_code));
    py::array view = to_numpy(t, false);
    py::detail::array_proxy(view.ptr())->flags |= py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return py::make_tuple(py::cast(std::move(t)), view);
  });
}

}  // namespace bind
}  // namespace tg
