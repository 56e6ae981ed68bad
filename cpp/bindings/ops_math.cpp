// Bindings for math, reductions, activations and nn losses. TF's argument handling (defaults,
// namespaces, composites) lives in python/tapegrad/_ops_math.py.
#include "bindings/common.h"
#include "ops/complex.h"
#include "ops/math.h"

namespace tg {
namespace bind {

void init_ops_math(py::module_& m) {
  struct Unary {
    const char* name;
    Op op;
    const char* doc;
  };
  static const Unary unary_ops[] = {{"erfc", Op::Erfc, "The complementary error function 1 - erf(x), elementwise."},
                                    {"asinh", Op::Asinh, "The inverse hyperbolic sine of x, elementwise."},
                                    {"acosh", Op::Acosh, "The inverse hyperbolic cosine of x, elementwise."},
                                    {"atanh", Op::Atanh, "The inverse hyperbolic tangent of x, elementwise."}};
  for (const Unary& u : unary_ops) {
    Op op = u.op;
    m.def(
        u.name,
        [op](TensorLike x, OptStr name) {
          Tensor t = to_tensor(x);
          return nogil(t.numel(), [&] { return TG_OP(ops::unary)(op, t); });
        },
        py::arg("x"), py::arg("name") = py::none(), u.doc);
  }
  // complex numbers (Note [Complex dtypes])
  struct ComplexUnary {
    const char* name;
    Tensor (*fn)(const Tensor&);
    const char* arg;
    const char* doc;
  };
  static const ComplexUnary complex_ops[] = {
      {"real", ops::real, "input", "The real part of a complex tensor; a real tensor itself."},
      {"imag", ops::imag, "input", "The imaginary part of a complex tensor; zeros for a real tensor."},
      {"conj", ops::conj, "x", "The complex conjugate; the identity for real tensors."},
      {"angle", ops::angle, "input", "The argument of each complex element; 0 or pi for a real tensor."},
      {"_complex_abs", ops::complex_abs, "x", "(private) |x| of a complex tensor, in its real dtype."}};
  for (const ComplexUnary& u : complex_ops) {
    auto fn = trace::recorded(u.name, u.fn);  // a recorded call (Note [Traced functions])
    m.def(
        u.name,
        [fn](TensorLike x, OptStr name) {
          Tensor t = to_tensor(x);
          return nogil(t.numel(), [&] { return fn(t); });
        },
        py::arg(u.arg), py::arg("name") = py::none(), u.doc);
  }
  m.def(
      "complex",
      [](TensorLike re, TensorLike im, OptStr name) {
        auto p = to_tensor_pair(re, im);
        return nogil(p.first.numel(), [&] { return TG_OP(ops::complex)(p.first, p.second); });
      },
      py::arg("real"), py::arg("imag"), py::arg("name") = py::none(),
      "real + i * imag, elementwise with broadcasting: float32 gives complex64, float64 complex128.");
  m.def(
      "relu6",
      [](TensorLike x, OptStr name) {
        Tensor t = to_tensor(x);
        return nogil(t.numel(), [&] { return TG_OP(ops::unary)(Op::Relu6, t); });
      },
      py::arg("features"), py::arg("name") = py::none(), "min(max(features, 0), 6), elementwise.");
  m.def(
      "_exp_linear",
      [](TensorLike x, bool selu) {
        Tensor t = to_tensor(x);
        return nogil(t.numel(), [&] { return TG_OP(ops::exp_linear)(selu ? Op::Selu : Op::Elu, t); });
      },
      py::arg("x"), py::arg("selu"), "(private) elu(x), or selu(x) when `selu`.");
  m.def(
      "_leaky_relu",
      [](TensorLike x, double alpha) {
        Tensor t = to_tensor(x);
        return nogil(t.numel(), [&] { return TG_OP(ops::leaky_relu)(t, alpha); });
      },
      py::arg("x"), py::arg("alpha"), "(private) x where x > 0, else alpha * x.");
  m.def(
      "_scan",
      [](TensorLike x, int64_t axis, bool exclusive, bool reverse, bool prod) {
        Tensor t = to_tensor(x);
        return nogil(t.numel(),
                     [&] { return TG_OP(ops::scan)(prod ? Op::Cumprod : Op::Cumsum, t, axis, exclusive, reverse); });
      },
      py::arg("x"), py::arg("axis"), py::arg("exclusive"), py::arg("reverse"), py::arg("prod"),
      "(private) The cumulative sum (or product when `prod`) along a normalised `axis`.");
  m.def(
      "_arg_reduce",
      [](TensorLike x, int64_t axis, int code, bool is_max) {
        Tensor t = to_tensor(x);
        return nogil(t.numel(), [&] {
          return TG_OP(ops::arg_reduce)(is_max ? Op::ArgMax : Op::ArgMin, t, axis, dtype_from_code(code));
        });
      },
      py::arg("x"), py::arg("axis"), py::arg("dtype_code"), py::arg("is_max"),
      "(private) The index of the largest (is_max) or smallest value along a normalised `axis`.");
}

}  // namespace bind
}  // namespace tg
