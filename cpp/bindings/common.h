// Shared by the binding files: conversion between Python values and Tensors.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "autodiff/tape.h"
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
py::array to_numpy(const Tensor& t, bool copy);

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
void init_optim(py::module_& m);

}  // namespace bind
}  // namespace tg
