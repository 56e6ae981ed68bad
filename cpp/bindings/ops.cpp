// Op functions with TF's names and keywords. Each is one call into the engine.
#include "bindings/common.h"

namespace tg {
namespace bind {
namespace {

py::object wrap(Tensor t) { return py::cast(std::move(t)); }

// axis: None | int | sequence of ints | integer Tensor
bool parse_axis(py::handle axis, std::vector<int64_t>& out) {
  if (axis.is_none()) return true;  // all axes
  if (PyLong_Check(axis.ptr())) {
    out.push_back(int_arg(axis, "axis"));
    return false;
  }
  if (py::isinstance<Tensor>(axis) || py::isinstance<py::array>(axis)) {
    Tensor t = to_tensor(axis);
    if (!is_integer(t.dtype)) throw tg::TypeError("axis must be an integer tensor");
    Tensor c = kernels::cast(t, DType::Int64);
    out.assign(c.data<int64_t>(), c.data<int64_t>() + c.numel());
    return false;
  }
  if (!py::isinstance<py::sequence>(axis) || py::isinstance<py::str>(axis))
    throw tg::TypeError("axis must be None, an integer or a list of integers, got " + std::string(py::repr(axis)));
  for (py::handle a : axis) out.push_back(int_arg(a, "axis"));
  return false;
}

std::vector<int64_t> parse_shape(py::handle shape) {
  std::vector<int64_t> dims;
  if (py::isinstance<Tensor>(shape) || py::isinstance<py::array>(shape)) {
    Tensor c = kernels::cast(to_tensor(shape), DType::Int64);
    dims.assign(c.data<int64_t>(), c.data<int64_t>() + c.numel());
  } else if (PyLong_Check(shape.ptr())) {
    dims.push_back(int_arg(shape, "shape"));
  } else {
    if (!py::isinstance<py::sequence>(shape) || py::isinstance<py::str>(shape))
      throw tg::TypeError("shape must be a list of integers, got " + std::string(py::repr(shape)));
    for (py::handle d : shape) dims.push_back(d.is_none() ? -1 : int_arg(d, "shape"));
  }
  return dims;
}

struct NamedOp { const char* name; Op op; };

}  // namespace

void init_ops(py::module_& m) {
  static const NamedOp unary_ops[] = {
      {"negative", Op::Neg}, {"square", Op::Square}, {"sqrt", Op::Sqrt}, {"rsqrt", Op::Rsqrt},
      {"exp", Op::Exp}, {"expm1", Op::Expm1}, {"log", Op::Log}, {"log1p", Op::Log1p}, {"sin", Op::Sin},
      {"cos", Op::Cos}, {"tan", Op::Tan}, {"tanh", Op::Tanh}, {"sinh", Op::Sinh}, {"cosh", Op::Cosh},
      {"asin", Op::Asin}, {"acos", Op::Acos}, {"atan", Op::Atan}, {"abs", Op::Abs}, {"sign", Op::Sign},
      {"relu", Op::Relu}, {"sigmoid", Op::Sigmoid}, {"softplus", Op::Softplus},
      {"reciprocal", Op::Reciprocal}, {"floor", Op::Floor}, {"ceil", Op::Ceil}, {"round", Op::Round},
      {"erf", Op::Erf}, {"logical_not", Op::LogicalNot}, {"is_nan", Op::IsNan},
      {"is_finite", Op::IsFinite}, {"is_inf", Op::IsInf}};
  for (const NamedOp& u : unary_ops) {
    Op op = u.op;
    m.def(u.name, [op](py::handle x, py::object name) {
      Tensor t = to_tensor(x);
      return wrap(nogil(t.numel(), [&] { return ops::unary(op, t); }));
    }, py::arg(op == Op::Relu || op == Op::Softplus ? "features" : "x"), py::arg("name") = py::none());
  }
  static const NamedOp binary_ops[] = {
      {"add", Op::Add}, {"subtract", Op::Sub}, {"multiply", Op::Mul}, {"pow", Op::Pow},
      {"maximum", Op::Maximum}, {"minimum", Op::Minimum}, {"floordiv", Op::FloorDiv},
      {"floormod", Op::FloorMod}, {"squared_difference", Op::SquaredDifference}, {"atan2", Op::Atan2},
      {"equal", Op::Equal}, {"not_equal", Op::NotEqual}, {"less", Op::Less}, {"less_equal", Op::LessEqual},
      {"greater", Op::Greater}, {"greater_equal", Op::GreaterEqual}, {"logical_and", Op::LogicalAnd},
      {"logical_or", Op::LogicalOr}, {"_tanh_grad", Op::TanhGrad}, {"_sigmoid_grad", Op::SigmoidGrad},
      {"_relu_grad", Op::ReluGrad}, {"_real_div", Op::Div}};
  for (const NamedOp& b : binary_ops) {
    Op op = b.op;
    m.def(b.name, [op](py::handle x, py::handle y, py::object name) {
      auto xy = to_tensor_pair(x, y);
      return wrap(nogil(xy.first.numel() + xy.second.numel(), [&] { return ops::binary(op, xy.first, xy.second); }));
    }, py::arg("x"), py::arg("y"), py::arg("name") = py::none());
  }
  m.def("divide", [](py::handle x, py::handle y, py::object name) {
    auto xy = to_tensor_pair(x, y);
    Tensor a = xy.first, b = xy.second;
    if (a.dtype == b.dtype && is_any_int(a.dtype)) {
      const DType f = truediv_dtype(a.dtype);
      a = ops::cast(a, f);
      b = ops::cast(b, f);
    }
    return wrap(nogil(a.numel() + b.numel(), [&] { return ops::binary(Op::Div, a, b); }));
  }, py::arg("x"), py::arg("y"), py::arg("name") = py::none());

  static const NamedOp reductions[] = {{"reduce_sum", Op::Sum}, {"reduce_mean", Op::Mean}, {"reduce_max", Op::Max},
                                       {"reduce_min", Op::Min}, {"reduce_prod", Op::Prod}, {"reduce_any", Op::Any},
                                       {"reduce_all", Op::All}};
  for (const NamedOp& r : reductions) {
    Op op = r.op;
    m.def(r.name, [op](py::handle x, py::handle axis, bool keepdims, py::object name) {
      Tensor t = to_tensor(x);
      std::vector<int64_t> axes;
      bool all = parse_axis(axis, axes);
      return wrap(nogil(t.numel(), [&] { return ops::reduce(op, t, axes, all, keepdims); }));
    }, py::arg("input_tensor"), py::arg("axis") = py::none(), py::arg("keepdims") = false, py::arg("name") = py::none());
  }

  // TF's signature: adjoint_x is transpose_x for real dtypes; the sparsity flags are hints.
  m.def("matmul", [](py::handle a, py::handle b, bool ta, bool tb, bool aa, bool ab_, bool, bool,
                     py::object name) {
    if (ta && aa) throw ValueError("Only one of transpose_a and adjoint_a can be True.");
    if (tb && ab_) throw ValueError("Only one of transpose_b and adjoint_b can be True.");
    ta = ta || aa;
    tb = tb || ab_;
    auto ab = to_tensor_pair(a, b);
    return wrap(nogil(ab.first.numel() * 4, [&] { return ops::matmul(ab.first, ab.second, ta, tb); }));
  }, py::arg("a"), py::arg("b"), py::arg("transpose_a") = false, py::arg("transpose_b") = false,
     py::arg("adjoint_a") = false, py::arg("adjoint_b") = false, py::arg("a_is_sparse") = false,
     py::arg("b_is_sparse") = false, py::arg("name") = py::none());
  m.def("reshape", [](py::handle x, py::handle shape, py::object name) {
    Tensor t = to_tensor(x);
    return wrap(ops::reshape(t, parse_shape(shape)));
  }, py::arg("tensor"), py::arg("shape"), py::arg("name") = py::none());
  m.def("transpose", [](py::handle x, py::object perm, py::object name) {
    Tensor t = to_tensor(x);
    std::vector<int> p;
    if (!perm.is_none())
      for (int64_t v : parse_shape(perm)) p.push_back(int(v));
    return wrap(nogil(t.numel(), [&] { return ops::transpose(t, p); }));
  }, py::arg("a"), py::arg("perm") = py::none(), py::arg("name") = py::none());
  m.def("broadcast_to", [](py::handle x, py::handle shape, py::object name) {
    Tensor t = to_tensor(x);
    Shape s = Shape::from(parse_shape(shape));
    return wrap(nogil(s.numel(), [&] { return ops::broadcast_to(t, s); }));
  }, py::arg("input"), py::arg("shape"), py::arg("name") = py::none());
  m.def("cast", [](py::handle x, int code) {
    Tensor t = to_tensor(x);
    return wrap(nogil(t.numel(), [&] { return ops::cast(t, dtype_from_code(code)); }));
  }, py::arg("x"), py::arg("dtype_code"));
  m.def("where3", [](py::handle c, py::handle x, py::handle y) {
    Tensor cond = to_tensor(c);
    auto xy = to_tensor_pair(x, y);
    return wrap(nogil(xy.first.numel(), [&] { return ops::select(cond, xy.first, xy.second); }));
  });
  m.def("identity", [](py::handle x, py::object name) { return wrap(ops::identity(to_tensor(x))); },
        py::arg("input"), py::arg("name") = py::none());
  m.def("stop_gradient", [](py::handle x, py::object name) { return wrap(ops::stop_gradient(to_tensor(x))); },
        py::arg("input"), py::arg("name") = py::none());
  m.def("fill", [](py::handle shape, py::handle value, py::object code) {
    Shape s = Shape::from(parse_shape(shape));
    Tensor v = code.is_none() ? to_tensor(value) : [&] { DType d = dtype_from_code(code.cast<int>()); return to_tensor(value, &d); }();
    if (v.numel() != 1) throw InvalidArgument("value must be a scalar, got shape " + v.shape.str() + " [Op:Fill]");
    return wrap(kernels::broadcast_to(kernels::reshape(v, Shape{}), s).clone());
  }, py::arg("dims"), py::arg("value"), py::arg("dtype_code") = py::none());
  m.def("zeros", [](py::handle shape, int code) {
    return wrap(Tensor::zeros(Shape::from(parse_shape(shape)), dtype_from_code(code)));
  });
  m.def("full", [](py::handle shape, double v, int code) {
    return wrap(Tensor::full(Shape::from(parse_shape(shape)), dtype_from_code(code), v));
  });
  m.def("range", [](double start, double limit, double delta, int code) {
    if (delta == 0) throw InvalidArgument("Requires delta != 0: 0 [Op:Range]");
    if ((delta > 0 && start > limit) || (delta < 0 && start < limit))
      throw InvalidArgument("Requires start <= limit when delta > 0: " + std::to_string(start) + "/" +
                            std::to_string(limit) + " [Op:Range]");
    DType d = dtype_from_code(code);
    const double count = std::ceil(std::abs((limit - start) / delta));
    // See Note [Checked sizes]: NaN or a count beyond int64 never reaches the int conversion
    if (!(count <= 9.2e18))
      throw InvalidArgument("Requires ((limit - start) / delta) <= " + std::to_string(INT64_MAX) + ", got start=" +
                            py::repr(py::float_(start)).cast<std::string>() + ", limit=" +
                            py::repr(py::float_(limit)).cast<std::string>() + ", delta=" +
                            py::repr(py::float_(delta)).cast<std::string>() + " [Op:Range]");
    int64_t n = int64_t(count);
    Tensor t = Tensor::empty(Shape{n}, d);
    TG_DISPATCH_NUMERIC(d, T, {
      T* p = t.data<T>();
      for (int64_t i = 0; i < n; ++i) p[i] = T(start + double(i) * delta);
    });
    return wrap(t);
  });
}

}  // namespace bind
}  // namespace tg
