// Op functions with TF's names and keywords. Each is one call into the engine.
#include <cstdio>

#include "bindings/common.h"
#include "ops/complex.h"
#include "ops/shape.h"

namespace tg {
namespace bind {
namespace {

// A tensor's values as int64 (an axis, a shape).
std::vector<int64_t> int64_values(const Tensor& t) {
  Tensor c = kernels::cast(t, DType::Int64);
  return std::vector<int64_t>(c.data<int64_t>(), c.data<int64_t>() + c.numel());
}

// axis: None | int | sequence of ints | integer Tensor
bool parse_axis(py::handle axis, std::vector<int64_t>& out) {
  if (axis.is_none()) return true;  // all axes
  if (PyLong_Check(axis.ptr())) {
    out.push_back(int_arg(axis, "axis"));
    return false;
  }
  if (py::isinstance<Tensor>(axis) || py::isinstance<py::array>(axis)) {
    Tensor t = to_tensor(axis);
    trace::host_read(t, "an axis given as a tensor");
    if (!is_integer(t.dtype)) throw tg::TypeError("axis must be an integer tensor");
    out = int64_values(t);
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
    Tensor s = to_tensor(shape);
    trace::host_read(s, "a shape given as a tensor");
    dims = int64_values(s);
  } else if (PyLong_Check(shape.ptr())) {
    dims.push_back(int_arg(shape, "shape"));
  } else {
    if (!py::isinstance<py::sequence>(shape) || py::isinstance<py::str>(shape))
      throw tg::TypeError("shape must be a list of integers, got " + std::string(py::repr(shape)));
    for (py::handle d : shape) dims.push_back(d.is_none() ? -1 : int_arg(d, "shape"));
  }
  return dims;
}

struct NamedOp {
  const char* name;
  Op op;
  const char* doc;
};

// Note [Polymorphic traces]: a shape argument that is a tensor computed in a polymorphic trace
// (tf.zeros(tf.shape(x)), tf.reshape(y, [tf.shape(x)[0], -1])) is an argument of the recorded call,
// which reads its value at every replay; anywhere else it is read now, as before.
// A list mixing Python ints and such tensors (a size per entry) becomes one int64 tensor by
// recorded calls.
std::optional<Tensor> traced_shape(py::handle shape) {
  trace::Recorder* r = trace::polymorphic();
  if (!r) return std::nullopt;
  if (py::isinstance<Tensor>(shape)) {
    const Tensor& t = shape.cast<const Tensor&>();
    if (!r->traced_value(t)) return std::nullopt;
    return t;
  }
  if (!py::isinstance<py::list>(shape) && !py::isinstance<py::tuple>(shape)) return std::nullopt;
  bool any = false;
  for (py::handle d : shape) any = any || (py::isinstance<Tensor>(d) && r->traced_value(d.cast<const Tensor&>()));
  if (!any) return std::nullopt;
  std::vector<Tensor> parts;
  for (py::handle d : shape) {
    if (py::isinstance<Tensor>(d)) {
      const Tensor& t = d.cast<const Tensor&>();
      if (!is_integer(t.dtype) || t.numel() != 1)
        throw tg::TypeError("a shape entry must be an integer scalar, got a " + std::string(dtype_name(t.dtype)) +
                            " tensor of shape " + t.shape.str());
      parts.push_back(TG_OP(ops::reshape)(TG_OP(ops::cast)(t, DType::Int64), Shape{1}));
    } else {
      Tensor c = Tensor::empty(Shape{1}, DType::Int64);
      *c.data<int64_t>() = d.is_none() ? -1 : int_arg(d, "shape");
      parts.push_back(konst(c));
    }
  }
  return TG_OP(ops::concat)(parts, int64_t(0));
}

std::vector<int64_t> dims_of(const Tensor& s) {
  if (!is_integer(s.dtype) || s.ndim() > 1)
    throw InvalidArgument("a shape must be a 1-D integer tensor, got " + std::string(dtype_name(s.dtype)) +
                          " of shape " + s.shape.str());
  return int64_values(s);
}

Shape checked_shape(const Tensor& s) {
  std::vector<int64_t> d = dims_of(s);
  if (d.size() > size_t(kMaxRank))
    throw InvalidArgument("a shape has more than " + std::to_string(kMaxRank) + " dimensions");
  for (int64_t x : d)
    if (x < 0) throw InvalidArgument("a shape has a negative dimension: " + std::to_string(x));
  return Shape::from(d);
}

Tensor reshape_to(const Tensor& x, const Tensor& s) { return ops::reshape(x, dims_of(s)); }
Tensor broadcast_to_shape(const Tensor& x, const Tensor& s) { return ops::broadcast_to(x, checked_shape(s)); }
Tensor fill_shape(const Tensor& s, const Tensor& v) {
  return clone_of(kernels::broadcast_to(kernels::reshape(v, Shape{}), checked_shape(s)));
}
Tensor full_shape(const Tensor& s, double v, DType dtype) { return Tensor::full(checked_shape(s), dtype, v); }

Tensor range_values(double start, double limit, double delta, DType d) {
  if (delta == 0) throw InvalidArgument("Requires delta != 0: 0 [Op:Range]");
  if ((delta > 0 && start > limit) || (delta < 0 && start < limit))
    throw InvalidArgument("Requires start <= limit when delta > 0: " + std::to_string(start) + "/" +
                          std::to_string(limit) + " [Op:Range]");
  const double count = std::ceil(std::abs((limit - start) / delta));
  // See Note [Checked sizes]: NaN or a count beyond int64 never reaches the int conversion
  if (!(count <= 9.2e18)) {
    auto g = [](double v) {
      char b[32];
      std::snprintf(b, sizeof b, "%.17g", v);
      return std::string(b);
    };
    throw InvalidArgument("Requires ((limit - start) / delta) <= " + std::to_string(INT64_MAX) +
                          ", got start=" + g(start) + ", limit=" + g(limit) + ", delta=" + g(delta) + " [Op:Range]");
  }
  int64_t n = int64_t(count);
  Tensor t = Tensor::empty(Shape{n}, d);
  TG_DISPATCH_NUMERIC(d, T, {
    T* p = t.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = T(start + double(i) * delta);
  });
  return t;
}

Tensor range_of(const Tensor& start, const Tensor& limit, const Tensor& delta, DType d) {
  for (const Tensor* v : {&start, &limit, &delta})
    if (v->numel() != 1)
      throw InvalidArgument("range's start, limit and delta must be scalars, got shape " + v->shape.str());
  return range_values(start.item(), limit.item(), delta.item(), d);
}

}  // namespace

void init_ops(py::module_& m) {
  static const NamedOp unary_ops[] = {
      {"negative", Op::Neg, "-x, elementwise."},
      {"square", Op::Square, "x * x, elementwise."},
      {"sqrt", Op::Sqrt, "The square root of x, elementwise."},
      {"rsqrt", Op::Rsqrt, "1 / sqrt(x), elementwise."},
      {"exp", Op::Exp, "e raised to the power x, elementwise."},
      {"expm1", Op::Expm1, "exp(x) - 1, elementwise (accurate for small x)."},
      {"log", Op::Log, "The natural logarithm of x, elementwise."},
      {"log1p", Op::Log1p, "log(1 + x), elementwise (accurate for small x)."},
      {"sin", Op::Sin, "The sine of x (radians), elementwise."},
      {"cos", Op::Cos, "The cosine of x (radians), elementwise."},
      {"tan", Op::Tan, "The tangent of x (radians), elementwise."},
      {"tanh", Op::Tanh, "The hyperbolic tangent of x, elementwise."},
      {"sinh", Op::Sinh, "The hyperbolic sine of x, elementwise."},
      {"cosh", Op::Cosh, "The hyperbolic cosine of x, elementwise."},
      {"asin", Op::Asin, "The inverse sine of x, elementwise."},
      {"acos", Op::Acos, "The inverse cosine of x, elementwise."},
      {"atan", Op::Atan, "The inverse tangent of x, elementwise."},
      {"abs", Op::Abs, "The absolute value of x, elementwise."},
      {"sign", Op::Sign, "-1, 0 or 1 by the sign of x, elementwise."},
      {"relu", Op::Relu, "max(features, 0), elementwise."},
      {"sigmoid", Op::Sigmoid, "1 / (1 + exp(-x)), elementwise."},
      {"softplus", Op::Softplus, "log(exp(features) + 1), elementwise."},
      {"reciprocal", Op::Reciprocal, "1 / x, elementwise."},
      {"floor", Op::Floor, "The largest integer not greater than x, elementwise."},
      {"ceil", Op::Ceil, "The smallest integer not less than x, elementwise."},
      {"round", Op::Round, "x rounded to the nearest integer, half to even, elementwise."},
      {"erf", Op::Erf, "The Gauss error function of x, elementwise."},
      {"logical_not", Op::LogicalNot, "not x, elementwise (bool tensors)."},
      {"is_nan", Op::IsNan, "Whether x is NaN, elementwise."},
      {"is_finite", Op::IsFinite, "Whether x is finite, elementwise."},
      {"is_inf", Op::IsInf, "Whether x is +inf or -inf, elementwise."}};
  for (const NamedOp& u : unary_ops) {
    Op op = u.op;
    m.def(
        u.name,
        [op](TensorLike x, OptStr name) {
          Tensor t = to_tensor(x);
          return nogil(t.numel(), [&] { return TG_OP(ops::unary)(op, t); });
        },
        py::arg(op == Op::Relu || op == Op::Softplus ? "features" : "x"), py::arg("name") = py::none(), u.doc);
  }
  static const NamedOp binary_ops[] = {
      {"add", Op::Add, "x + y, elementwise, with broadcasting."},
      {"subtract", Op::Sub, "x - y, elementwise, with broadcasting."},
      {"multiply", Op::Mul, "x * y, elementwise, with broadcasting."},
      {"pow", Op::Pow, "x ** y, elementwise, with broadcasting."},
      {"maximum", Op::Maximum, "The larger of x and y, elementwise, with broadcasting."},
      {"minimum", Op::Minimum, "The smaller of x and y, elementwise, with broadcasting."},
      {"floordiv", Op::FloorDiv, "x // y (rounded toward -inf), elementwise, with broadcasting."},
      {"floormod", Op::FloorMod, "x % y (the sign of y), elementwise, with broadcasting."},
      {"squared_difference", Op::SquaredDifference, "(x - y) ** 2, elementwise, with broadcasting."},
      {"atan2", Op::Atan2, "The angle of the point (x, y): atan(y / x) in the right quadrant (TF's arguments: y, x)."},
      {"equal", Op::Equal, "x == y, elementwise, with broadcasting."},
      {"not_equal", Op::NotEqual, "x != y, elementwise, with broadcasting."},
      {"less", Op::Less, "x < y, elementwise, with broadcasting."},
      {"less_equal", Op::LessEqual, "x <= y, elementwise, with broadcasting."},
      {"greater", Op::Greater, "x > y, elementwise, with broadcasting."},
      {"greater_equal", Op::GreaterEqual, "x >= y, elementwise, with broadcasting."},
      {"logical_and", Op::LogicalAnd, "x and y, elementwise (bool tensors), with broadcasting."},
      {"logical_or", Op::LogicalOr, "x or y, elementwise (bool tensors), with broadcasting."},
      {"_tanh_grad", Op::TanhGrad, "(private) The gradient of tanh from its output y and upstream gradient dy."},
      {"_sigmoid_grad", Op::SigmoidGrad, "(private) The gradient of sigmoid from its output y and upstream dy."},
      {"_relu_grad", Op::ReluGrad, "(private) The gradient of relu: dy where features > 0."},
      {"_real_div", Op::Div, "(private) x / y in x's dtype (no integer promotion)."}};
  for (const NamedOp& b : binary_ops) {
    Op op = b.op;
    const bool atan2 = op == Op::Atan2;  // TF's keywords: atan2(y, x)
    m.def(
        b.name,
        [op](TensorLike x, TensorLike y, OptStr name) {
          auto xy = to_tensor_pair(x, y);
          return nogil(xy.first.numel() + xy.second.numel(),
                       [&] { return TG_OP(ops::binary)(op, xy.first, xy.second); });
        },
        py::arg(atan2 ? "y" : "x"), py::arg(atan2 ? "x" : "y"), py::arg("name") = py::none(), b.doc);
  }
  m.def(
      "divide", [](TensorLike x, TensorLike y, OptStr name) { return truediv(x, y); }, py::arg("x"), py::arg("y"),
      py::arg("name") = py::none(),
      "x / y, elementwise, with broadcasting; integers divide in float32 (8, 16 bits) or float64, as TF.");

  static const NamedOp reductions[] = {
      {"reduce_sum", Op::Sum, "The sum over `axis` (all axes when None)."},
      {"reduce_mean", Op::Mean, "The mean over `axis` (all axes when None)."},
      {"reduce_max", Op::Max, "The maximum over `axis` (all axes when None)."},
      {"reduce_min", Op::Min, "The minimum over `axis` (all axes when None)."},
      {"reduce_prod", Op::Prod, "The product over `axis` (all axes when None)."},
      {"reduce_any", Op::Any, "Logical or over `axis` (all axes when None) of a bool tensor."},
      {"reduce_all", Op::All, "Logical and over `axis` (all axes when None) of a bool tensor."}};
  for (const NamedOp& r : reductions) {
    Op op = r.op;
    m.def(
        r.name,
        [op](TensorLike x, AxisLike axis, bool keepdims, OptStr name) {
          Tensor t = to_tensor(x);
          std::vector<int64_t> axes;
          bool all = parse_axis(axis, axes);
          return nogil(t.numel(), [&] { return TG_OP(ops::reduce)(op, t, axes, all, keepdims); });
        },
        py::arg("input_tensor"), py::arg("axis") = py::none(), py::arg("keepdims") = false,
        py::arg("name") = py::none(), r.doc);
  }

  // TF's signature: adjoint_x is the conjugate of transpose_x (the same for real dtypes); the
  // sparsity flags are hints.
  m.def(
      "matmul",
      [](TensorLike a, TensorLike b, bool ta, bool tb, bool aa, bool ab_, bool, bool, OptStr name) {
        if (ta && aa) throw ValueError("Only one of transpose_a and adjoint_a can be True.");
        if (tb && ab_) throw ValueError("Only one of transpose_b and adjoint_b can be True.");
        auto ab = to_tensor_pair(a, b);
        return nogil(ab.first.numel() * 4, [&] {
          Tensor x = aa && is_complex(ab.first.dtype) ? TG_OP(ops::conj)(ab.first) : ab.first;
          Tensor y = ab_ && is_complex(ab.second.dtype) ? TG_OP(ops::conj)(ab.second) : ab.second;
          return TG_OP(ops::matmul)(x, y, ta || aa, tb || ab_);
        });
      },
      py::arg("a"), py::arg("b"), py::arg("transpose_a") = false, py::arg("transpose_b") = false,
      py::arg("adjoint_a") = false, py::arg("adjoint_b") = false, py::arg("a_is_sparse") = false,
      py::arg("b_is_sparse") = false, py::arg("name") = py::none(),
      "The matrix product a @ b over the last two axes (batch axes broadcast).");
  m.def(
      "reshape",
      [](TensorLike x, ShapeLike shape, OptStr name) {
        Tensor t = to_tensor(x);
        if (auto s = traced_shape(shape)) return TG_OP(reshape_to)(t, *s);
        return TG_OP(ops::reshape)(t, parse_shape(shape));
      },
      py::arg("tensor"), py::arg("shape"), py::arg("name") = py::none(),
      "The same values in a new shape (one dimension may be -1: inferred).");
  m.def(
      "transpose",
      [](TensorLike x, OptShapeLike perm, bool conjugate, OptStr name) {
        Tensor t = to_tensor(x);
        std::vector<int> p;
        if (!perm.is_none())
          for (int64_t v : parse_shape(perm)) p.push_back(int(v));
        return nogil(t.numel(), [&] {
          return TG_OP(ops::transpose)(conjugate && is_complex(t.dtype) ? TG_OP(ops::conj)(t) : t, p);
        });
      },
      py::arg("a"), py::arg("perm") = py::none(), py::arg("conjugate") = false, py::arg("name") = py::none(),
      "Permutes the axes by `perm` (reverses them when None); `conjugate` also conjugates complex values.");
  m.def(
      "broadcast_to",
      [](TensorLike x, ShapeLike shape, OptStr name) {
        Tensor t = to_tensor(x);
        if (auto ts = traced_shape(shape)) return TG_OP(broadcast_to_shape)(t, *ts);
        Shape s = Shape::from(parse_shape(shape));
        return nogil(s.numel(), [&] { return TG_OP(ops::broadcast_to)(t, s); });
      },
      py::arg("input"), py::arg("shape"), py::arg("name") = py::none(), "`input` broadcast to `shape`, numpy's rules.");
  m.def(
      "cast",
      [](TensorLike x, int code) {
        Tensor t = to_tensor(x);
        return nogil(t.numel(), [&] { return TG_OP(ops::cast)(t, dtype_from_code(code)); });
      },
      py::arg("x"), py::arg("dtype_code"), "(private) x cast to the dtype with this code (tapegrad.cast: a DType).");
  m.def(
      "where3",
      [](TensorLike c, TensorLike x, TensorLike y) {
        Tensor cond = to_tensor(c);
        auto xy = to_tensor_pair(x, y);
        return nogil(xy.first.numel(), [&] { return TG_OP(ops::select)(cond, xy.first, xy.second); });
      },
      py::arg("condition"), py::arg("x"), py::arg("y"), "(private) x where condition is true, else y (broadcasting).");
  m.def(
      "identity", [](TensorLike x, OptStr name) { return TG_OP(ops::identity)(to_tensor(x)); }, py::arg("input"),
      py::arg("name") = py::none(), "A tensor with the same value (gradient passes through).");
  m.def(
      "stop_gradient", [](TensorLike x, OptStr name) { return TG_OP(ops::stop_gradient)(to_tensor(x)); },
      py::arg("input"), py::arg("name") = py::none(), "The same value, with no gradient flowing back through it.");
  m.def(
      "fill",
      [](ShapeLike shape, TensorLike value, OptInt code) {
        Tensor v = code.is_none() ? to_tensor(value) : [&] {
          DType d = dtype_from_code(code.cast<int>());
          return to_tensor(value, &d);
        }();
        if (v.numel() != 1) throw InvalidArgument("value must be a scalar, got shape " + v.shape.str() + " [Op:Fill]");
        if (auto ts = traced_shape(shape)) return TG_OP(fill_shape)(*ts, v);
        Shape s = Shape::from(parse_shape(shape));
        return TG_OP(clone_of)(TG_OP(kernels::broadcast_to)(TG_OP(kernels::reshape)(v, Shape{}), s));
      },
      py::arg("dims"), py::arg("value"), py::arg("dtype_code") = py::none(),
      "(private) A tensor of shape `dims` filled with the scalar `value`.");
  m.def(
      "zeros",
      [](ShapeLike shape, int code) {
        if (auto ts = traced_shape(shape)) return TG_OP(full_shape)(*ts, 0.0, dtype_from_code(code));
        return konst(Tensor::zeros(Shape::from(parse_shape(shape)), dtype_from_code(code)));
      },
      py::arg("shape"), py::arg("dtype_code"), "(private) Zeros of `shape` in the dtype with this code.");
  m.def(
      "full",
      [](ShapeLike shape, double v, int code) {
        if (auto ts = traced_shape(shape)) return TG_OP(full_shape)(*ts, v, dtype_from_code(code));
        return konst(Tensor::full(Shape::from(parse_shape(shape)), dtype_from_code(code), v));
      },
      py::arg("shape"), py::arg("value"), py::arg("dtype_code"),
      "(private) `shape` filled with `value` in the dtype with this code.");
  m.def(
      "range",
      [](double start, double limit, double delta, int code) {
        return konst(range_values(start, limit, delta, dtype_from_code(code)));
      },
      py::arg("start"), py::arg("limit"), py::arg("delta"), py::arg("dtype_code"),
      "(private) start, start + delta, ... up to (not including) limit, in the dtype with this code.");
  m.def(
      "_traced_shape", [](ShapeLike shape) { return traced_shape(shape); }, py::arg("shape"),
      "(private) In a polymorphic trace, a shape holding tensors computed in the function (a tensor, or a list of "
      "ints and scalar tensors) as one int64 tensor made by recorded calls; None otherwise (See Note [Polymorphic "
      "traces]).");
  m.def(
      "_range_traced",
      [](TensorLike start, TensorLike limit, TensorLike delta, int code) {
        return TG_OP(range_of)(to_tensor(start), to_tensor(limit), to_tensor(delta), dtype_from_code(code));
      },
      py::arg("start"), py::arg("limit"), py::arg("delta"), py::arg("dtype_code"),
      "(private) range with bounds computed in a traced function, read when the call runs (See Note [Polymorphic "
      "traces]).");
}

}  // namespace bind
}  // namespace tg
