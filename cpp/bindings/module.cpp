#include "bindings/common.h"
#include "ops/vmath.h"
#include "tensor/parallel.h"

namespace {
// The op an engine error came from: the Python function that called into the engine (the
// innermost Python frame while the translator runs), e.g. " [Op:tile]".
std::string calling_op() {
  PyFrameObject* f = PyEval_GetFrame();  // borrowed
  if (!f) return "";
  PyCodeObject* code = PyFrame_GetCode(f);  // new reference
  std::string name = py::str(py::handle(reinterpret_cast<PyObject*>(code)).attr("co_name"));
  Py_DECREF(code);
  return " [Op:" + name + "]";
}
}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "tapegrad's C++ engine (private: use the tapegrad package)";
  m.attr("__version__") = TG_VERSION;  // pyproject.toml's version, passed in by CMakeLists.txt
  using namespace tg;
  // Error classes (tapegrad.errors re-exports them). InvalidArgumentError is also a ValueError.
  static py::exception<InvalidArgument> invalid_arg(m, "InvalidArgumentError", PyExc_ValueError);
  static py::exception<ResourceExhausted> resource_exhausted(m, "ResourceExhaustedError", PyExc_MemoryError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InvalidArgument& e) { py::set_error(invalid_arg, e.what()); } catch (const tg::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const tg::ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const tg::RuntimeError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (const tg::LookupError& e) {
      PyErr_SetString(PyExc_LookupError, e.what());
    } catch (const ResourceExhausted& e) {
      py::set_error(resource_exhausted, (std::string(e.what()) + calling_op()).c_str());
    } catch (const std::bad_alloc&) {  // a container inside a kernel: no shape to name
      py::set_error(resource_exhausted, ("OOM: the engine could not allocate memory" + calling_op()).c_str());
    } catch (const std::length_error& e) {
      py::set_error(invalid_arg, (std::string("size too large: ") + e.what()).c_str());
    }
  });
  bind::init_tensor(m);
  bind::init_ops(m);
  bind::init_ops_math(m);
  bind::init_ops_shape(m);
  bind::init_ops_linalg(m);
  bind::init_ops_nnloss(m);
  bind::init_tape(m);
  bind::init_jacobian_custom_gradient(m);
  bind::init_forward(m);
  bind::init_optim(m);
  bind::init_graph(m);
  bind::init_distribute(m);
  m.def("get_num_threads", &get_num_threads, "The number of threads the engine's kernels use.");
  m.def("set_num_threads", &set_num_threads, py::arg("n"), "Sets the number of threads the engine's kernels use.");
  // Whether the contention probe currently sees the cores taken (Note [Contention]).
  m.def("_cores_contended", &cores_contended, "(private) Whether the contention probe sees the cores taken.");
  // Which hand-written SIMD kernels run on this CPU: "avx512", "avx2" or "none" (Note [Own tanh]).
  m.def("simd_isa", &vmath::isa, "The SIMD kernels this CPU runs: \"avx512\", \"avx2\" or \"none\".");
}
