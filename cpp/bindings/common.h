// Shared by the binding files: conversion between Python values and Tensors.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <functional>

#include "autodiff/tape.h"
#include "graph/trace.h"
#include "ops/ops.h"

namespace py = pybind11;

namespace tg {
namespace bind {

// Converts a Tensor, Variable (recording the read on tapes that watch accessed variables),
// numpy array (keeps its dtype), numpy scalar or Python scalar/list (takes `hint` when given).
Tensor to_tensor(py::handle h, const DType* hint = nullptr);
// Like to_tensor, but a Variable's read is not recorded (gradient sources, watch).
Tensor to_tensor_noaccess(py::handle h);
// Converts both operands of a binary op: Python scalars and lists take the tensor operand's dtype.
std::pair<Tensor, Tensor> to_tensor_pair(py::handle a, py::handle b);

DType dtype_from_code(int code);
// An integer argument (Python int, numpy integer, integer 0-d tensor) as int64, else a TypeError
// (wrong kind) or InvalidArgumentError (does not fit in int64) naming `what`: no pybind11 cast
// message reaches a user.
int64_t int_arg(py::handle h, const std::string& what);
// The Variable behind a Python object, or ValueError when its __init__ never ran (Variable.__new__).
std::shared_ptr<Variable> var_of(py::handle h);
const Tensor& tensor_of(py::handle h);  // likewise for a Tensor
// TF's truediv: 8- and 16-bit integers divide in float32, 32- and 64-bit ones in float64.
inline DType truediv_dtype(DType d) { return itemsize(d) <= 2 ? DType::Float32 : DType::Float64; }
// x / y as TF's truediv (tf.divide and the / operator): integers of one dtype divide in
// truediv_dtype; other dtypes as ops::binary(Div) (bindings/tensor.cpp).
Tensor truediv(py::handle a, py::handle b);
py::array to_numpy(const Tensor& t, bool copy);
// A Variable's current value (a reference to its buffer), taken under its lock; waits for the lock
// without the GIL (See Note [Threads contract]).
// `accessed`: the read told the tapes (tape::variable_accessed); a traced replay tells them again.
Tensor read_variable(const Variable& v, bool accessed = false);
// Runs `f` holding the locks of `vars` (See Note [Threads contract]): without the GIL when `work`
// is large or a lock is busy; the GIL is never taken while a lock is held.
void run_with_variables_locked(std::vector<const Variable*> vars, int64_t work, const std::function<void()>& f);

// A copy with its own identity (a recorded call when traced: TG_OP(clone_of)).
inline Tensor clone_of(const Tensor& t) { return t.clone(); }
// A tensor made from Python values only: a constant of any trace (See Note [Traced functions]).
inline Tensor konst(Tensor t) {
  trace::constant(t);
  return t;
}

// A Tensor as a Python object (for lists and results that may also be other Python values).
inline py::object wrap(Tensor t) { return py::cast(std::move(t)); }

// Arguments the bindings convert themselves (any Python object arrives), with the Python type hint
// help() and the stubs (python/tapegrad/_core.pyi) show for them. The aliases live in
// python/tapegrad/_typing.py.
inline int any_object(PyObject*) { return 1; }
#define TG_HINTED_OBJECT(Name)                        \
  class Name : public py::object {                    \
   public:                                            \
    PYBIND11_OBJECT_DEFAULT(Name, object, any_object) \
  };
TG_HINTED_OBJECT(TensorLike)  // tensor, variable, numpy array or scalar, Python scalar or nested list
TG_HINTED_OBJECT(AxisLike)    // None, an int, a list of ints or an integer tensor
TG_HINTED_OBJECT(ShapeLike)   // a list of ints (None for unknown), an int or an integer tensor
TG_HINTED_OBJECT(OptTensorLike)  // TensorLike or None
TG_HINTED_OBJECT(OptShapeLike)   // ShapeLike or None
TG_HINTED_OBJECT(OptStr)      // an op's name= (str or None; eager ops ignore it)
TG_HINTED_OBJECT(OptInt)      // an int (an axis, a dtype code) or None
TG_HINTED_OBJECT(OptSourceReady)  // compute_gradient's callback or None
TG_HINTED_OBJECT(TensorOrBool)    // a result: == and != give False/True for values that cannot be compared
TG_HINTED_OBJECT(DLPackCapsule)   // a PyCapsule named "dltensor" or "dltensor_versioned"
TG_HINTED_OBJECT(VariableList)    // a sequence of Variables (the optimizer bindings)
TG_HINTED_OBJECT(OptVariableList)  // VariableList or None
TG_HINTED_OBJECT(TensorList)      // a sequence of TensorLike
TG_HINTED_OBJECT(OptBoolList)     // a sequence of bools or None
TG_HINTED_OBJECT(FlowBuilder)     // a _CondTrace or _WhileTrace (bindings/graph.cpp)
#undef TG_HINTED_OBJECT

// Releases the GIL while a kernel over `work` elements runs.
template <class F> auto nogil(int64_t work, F&& f) {
  if (work >= (1 << 16)) {
    py::gil_scoped_release release;
    return f();
  }
  return f();
}

void init_tensor(py::module_& m);
void init_ops(py::module_& m);
void init_ops_math(py::module_& m);    // bindings/ops_math.cpp
void init_ops_shape(py::module_& m);   // bindings/ops_shape.cpp
void init_ops_linalg(py::module_& m);  // bindings/ops_linalg.cpp
void init_ops_nnloss(py::module_& m);  // bindings/ops_nnloss.cpp
void init_tape(py::module_& m);
void init_jacobian_custom_gradient(py::module_& m);  // bindings/jacobian_custom_gradient.cpp
void init_forward(py::module_& m);                   // bindings/forward.cpp
void init_optim(py::module_& m);
void init_graph(py::module_& m);  // bindings/graph.cpp
void init_distribute(py::module_& m);  // bindings/distribute.cpp

}  // namespace bind
}  // namespace tg

namespace pybind11 {
namespace detail {
#define TG_HINT(Name, Text)                             \
  template <> struct handle_type_name<tg::bind::Name> { \
    static constexpr auto name = const_name(Text);      \
  };
TG_HINT(TensorLike, "tapegrad._typing.TensorLike")
TG_HINT(AxisLike, "tapegrad._typing.AxisLike")
TG_HINT(ShapeLike, "tapegrad._typing.ShapeLike")
TG_HINT(OptTensorLike, "tapegrad._typing.TensorLike | None")
TG_HINT(OptShapeLike, "tapegrad._typing.ShapeLike | None")
TG_HINT(TensorOrBool, "tapegrad._core.Tensor | bool")
TG_HINT(OptStr, "str | None")
TG_HINT(DLPackCapsule, "typing_extensions.CapsuleType")
TG_HINT(VariableList, "collections.abc.Sequence[tapegrad._core.Variable]")
TG_HINT(OptVariableList, "collections.abc.Sequence[tapegrad._core.Variable] | None")
TG_HINT(TensorList, "collections.abc.Sequence[tapegrad._typing.TensorLike]")
TG_HINT(OptBoolList, "collections.abc.Sequence[bool] | None")
TG_HINT(OptInt, "int | None")
TG_HINT(FlowBuilder, "tapegrad._core._CondTrace | tapegrad._core._WhileTrace")
TG_HINT(OptSourceReady, "collections.abc.Callable[[int, tapegrad._core.Tensor | None], None] | None")
#undef TG_HINT
}  // namespace detail
}  // namespace pybind11
