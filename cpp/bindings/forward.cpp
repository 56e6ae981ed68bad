// tf.autodiff.ForwardAccumulator's engine side: the accumulator object and the thread's stack.
#include "autodiff/forward.h"
#include "bindings/common.h"

namespace tg {
namespace bind {

void init_forward(py::module_& m) {
  py::class_<Accumulator, std::shared_ptr<Accumulator>>(
      m, "Accumulator", "The engine's record of one ForwardAccumulator: tangents by tensor (private).")
      .def(py::init<>(), "An accumulator with no tangents.")
      .def(
          "watch",
          [](Accumulator& a, TensorLike primal, TensorLike tangent) {
            a.watch(to_tensor_noaccess(primal), to_tensor_noaccess(tangent));
          },
          py::arg("primal"), py::arg("tangent"),
          "Sets the tangent of `primal` (a Tensor, or a Variable's value); watching twice adds.")
      .def(
          "jvp",
          [](const Accumulator& a, TensorLike primal) -> py::typing::Optional<Tensor> {
            const Tensor* t = a.find(to_tensor_noaccess(primal).id);
            return t ? py::cast(*t) : py::none();
          },
          py::arg("primal"), "The tangent computed for `primal`, or None.")
      .def("num_tangents", &Accumulator::size, "The number of tensors with a tangent.")
      .def(
          "ops_seen",
          [](const Accumulator& a) {
            std::vector<std::string> names;
            for (size_t i = 0; i < a.ops_seen.size(); ++i)
              if (a.ops_seen[i]) names.push_back(op_name(Op(i)));
            return names;
          },
          "(tests) TF's names of the ops this accumulator computed tangents for.");
  m.def(
      "push_accumulator",
      [](std::shared_ptr<Accumulator> a) {
        trace::poison("tf.autodiff.ForwardAccumulator in a traced function");
        forward::push(a);
      },
      py::arg("accumulator"), "Makes `accumulator` compute tangents on this thread (ForwardAccumulator.__enter__).");
  m.def(
      "pop_accumulator", [](std::shared_ptr<Accumulator> a) { forward::pop(a.get()); }, py::arg("accumulator"),
      "Stops `accumulator` computing tangents on this thread (ForwardAccumulator.__exit__).");
  m.def(
      "is_accumulator_recording", [](std::shared_ptr<Accumulator> a) { return forward::is_recording(a.get()); },
      py::arg("accumulator"), "Whether `accumulator` computes tangents on this thread now.");
  m.def(
      "_set_force_double_back", [](bool on) { forward::set_force_double_back(on); }, py::arg("on"),
      "(private, tests and benchmarks) Compute every JVP by transposing the op's VJP.");
}

}  // namespace bind
}  // namespace tg
