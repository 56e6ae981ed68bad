// Tensor and Variable classes, conversions, Python operators.
#include <cmath>
#include <cstring>

#include "bindings/common.h"

namespace tg {
namespace bind {
namespace {
py::object item(const Tensor& t);

DType from_numpy_dtype(const py::dtype& dt) {
  char kind = dt.kind();
  size_t size = size_t(dt.itemsize());
  if (kind == 'f' && size == 4) return DType::Float32;
  if (kind == 'f' && size == 8) return DType::Float64;
  if (kind == 'f' && size == 2) return DType::Float16;
  if (kind == 'i' && size == 4) return DType::Int32;
  if (kind == 'i' && size == 8) return DType::Int64;
  if (kind == 'i' && size == 1) return DType::Int8;
  if (kind == 'i' && size == 2) return DType::Int16;
  if (kind == 'u' && size == 1) return DType::UInt8;
  if (kind == 'u' && size == 2) return DType::UInt16;
  if (kind == 'u' && size == 4) return DType::UInt32;
  if (kind == 'u' && size == 8) return DType::UInt64;
  if (kind == 'b') return DType::Bool;
  if (kind == 'c' && size == 8) return DType::Complex64;
  if (kind == 'c' && size == 16) return DType::Complex128;
  if (size == 2 && std::string(py::str(dt.attr("name"))) == "bfloat16") return DType::BFloat16;  // ml_dtypes
  throw tg::TypeError("tapegrad does not support numpy dtype " + std::string(py::str(dt)) +
                      " (supported: float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, "
                      "uint16, uint32, uint64, bool, complex64, complex128)");
}

py::dtype numpy_dtype(DType d) {
  switch (d) {
    case DType::Float32: return py::dtype::of<float>();
    case DType::Float64: return py::dtype::of<double>();
    case DType::Int32: return py::dtype::of<int32_t>();
    case DType::Int64: return py::dtype::of<int64_t>();
    case DType::Bool: return py::dtype::of<bool>();
    case DType::UInt8: return py::dtype::of<uint8_t>();
    case DType::Int8: return py::dtype::of<int8_t>();
    case DType::Int16: return py::dtype::of<int16_t>();
    case DType::UInt16: return py::dtype::of<uint16_t>();
    case DType::UInt32: return py::dtype::of<uint32_t>();
    case DType::UInt64: return py::dtype::of<uint64_t>();
    case DType::Float16: return py::dtype("float16");
    case DType::Complex64: return py::dtype("complex64");
    case DType::Complex128: return py::dtype("complex128");
    case DType::BFloat16: {  // numpy has no bfloat16; ml_dtypes (TF's own) provides it
      py::object ml;
      try {
        ml = py::module_::import("ml_dtypes");
      } catch (py::error_already_set&) {
        throw tg::TypeError("converting a bfloat16 tensor to numpy needs the ml_dtypes package "
                            "(pip install ml_dtypes), or cast it first: tf.cast(x, tf.float32)");
      }
      return py::dtype::from_args(ml.attr("bfloat16"));
    }
  }
  return py::dtype::of<float>();
}

Tensor from_array(const py::array& arr_in) {
  py::array arr = py::array::ensure(arr_in, py::array::c_style);
  {  // a non-native byte order ('>f4' on x86) is converted, never copied raw
    py::object bo = arr.dtype().attr("byteorder");
    if (bo.cast<std::string>() ==
        (py::module_::import("sys").attr("byteorder").cast<std::string>() == "little" ? ">" : "<"))
      arr = py::array::ensure(arr.attr("astype")(arr.dtype().attr("newbyteorder")("=")), py::array::c_style);
  }
  DType dt = from_numpy_dtype(arr.dtype());
  std::vector<int64_t> dims(arr.shape(), arr.shape() + arr.ndim());
  Tensor t = Tensor::empty(Shape::from(dims), dt);
  if (t.nbytes()) std::memcpy(t.raw(), arr.data(), t.nbytes());
  return t;
}

// Whether the integral double v lies within integer dtype d's range.
bool int_range_holds(DType d, double v) {
  double lo = 0, hi = 0;
  switch (d) {
    case DType::Int8:
      lo = -128;
      hi = 127;
      break;
    case DType::Int16:
      lo = -32768;
      hi = 32767;
      break;
    case DType::Int32:
      lo = -2147483648.0;
      hi = 2147483647.0;
      break;
    case DType::Int64:
      lo = -9223372036854775808.0;
      hi = 9223372036854774784.0;
      break;
    case DType::UInt8: hi = 255; break;
    case DType::UInt16: hi = 65535; break;
    case DType::UInt32: hi = 4294967295.0; break;
    case DType::UInt64: hi = 18446744073709549568.0; break;
    default: return true;
  }
  return v >= lo && v <= hi;
}

// Python scalar -> 0-d tensor of dtype d, with TF's checks.
Tensor scalar_to(py::handle h, DType d) {
  if (PyComplex_Check(h.ptr())) {  // TF: only to a complex dtype
    if (!is_complex(d))
      throw tg::TypeError("Cannot convert " + std::string(py::repr(h)) + " to EagerTensor of dtype " + dtype_name(d));
    const complex128 v(PyComplex_RealAsDouble(h.ptr()), PyComplex_ImagAsDouble(h.ptr()));
    Tensor t = Tensor::empty(Shape{}, d);
    if (d == DType::Complex64) *t.data<complex64>() = complex64(v);
    else *t.data<complex128>() = v;
    return t;
  }
  if (is_complex(d)) {  // a real Python number to a complex dtype: imaginary part 0
    Tensor r = scalar_to(h, DType::Float64);
    return kernels::cast(r, d);
  }
  if (PyBool_Check(h.ptr())) {
    bool b = h.ptr() == Py_True;
    return Tensor::full(Shape{}, d, b ? 1.0 : 0.0);
  }
  if (PyFloat_Check(h.ptr())) {
    double v = PyFloat_AS_DOUBLE(h.ptr());
    if (!is_any_float(d)) {  // TF refuses fractions, NaN, inf and values beyond the integer type
      if (d == DType::Bool || std::floor(v) != v || !int_range_holds(d, v))
        throw tg::TypeError("Cannot convert " + std::string(py::repr(h)) + " to EagerTensor of dtype " + dtype_name(d));
    }
    return Tensor::full(Shape{}, d, v);
  }
  // int
  if (d == DType::Bool)
    throw tg::TypeError("Cannot convert " + std::string(py::repr(h)) + " to EagerTensor of dtype bool");
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
  if (overflow > 0 && d == DType::UInt64) {  // 2^63 .. 2^64-1
    unsigned long long u = PyLong_AsUnsignedLongLong(h.ptr());
    if (PyErr_Occurred()) {
      PyErr_Clear();
      overflow = 1;
    } else {
      Tensor t = Tensor::empty(Shape{}, d);
      *t.data<uint64_t>() = u;
      return t;
    }
  }
  if (overflow || (d == DType::Int32 && (v > INT32_MAX || v < INT32_MIN)))
    throw tg::ValueError("Can't convert Python int " + std::string(py::repr(h)) + " to a " + dtype_name(d) + " tensor");
  Tensor t = Tensor::empty(Shape{}, DType::Int64);
  *t.data<int64_t>() = v;
  return d == DType::Int64 ? t : kernels::cast(t, d);  // narrow integer types wrap, as TF
}

// Exact checks: numpy's float64 and int64 scalars subclass float/int but keep their dtype.
bool is_py_scalar(py::handle h) {
  return PyFloat_CheckExact(h.ptr()) || PyLong_CheckExact(h.ptr()) || PyBool_Check(h.ptr()) ||
         PyComplex_CheckExact(h.ptr());
}

// Python lists and numpy scalars go through numpy; TF's defaults: float -> float32, int -> int32.
Tensor from_python_sequence(py::handle h, const DType* hint) {
  py::module_ np = py::module_::import("numpy");
  py::array arr;
  auto nested_list = [&] {  // TF's wording for ragged lists and ints beyond int64
    if (!py::isinstance<py::list>(h) && !py::isinstance<py::tuple>(h)) return;
    py::module_ np2 = py::module_::import("numpy");
    py::object flat;
    try {
      flat = np2.attr("asarray")(h, "object");
    } catch (py::error_already_set&) {
      throw tg::ValueError("Can't convert non-rectangular Python sequence to Tensor.");
    }
    for (py::handle e : flat.attr("ravel")()) {
      if (py::isinstance<py::list>(e) || py::isinstance<py::tuple>(e))
        throw tg::ValueError("Can't convert non-rectangular Python sequence to Tensor.");
      if (PyLong_Check(e.ptr()) && !PyBool_Check(e.ptr())) {
        int ov = 0;
        PyLong_AsLongLongAndOverflow(e.ptr(), &ov);
        if (ov && !(hint && *hint == DType::UInt64 && ov > 0))
          throw tg::ValueError("Can't convert Python sequence with out-of-range integer to Tensor.");
      }
    }
  };
  try {
    arr = np.attr("asarray")(h);
  } catch (py::error_already_set&) {
    nested_list();
    throw tg::ValueError("Attempt to convert a value (" + std::string(py::repr(h)) + ") with an unsupported type (" +
                         std::string(py::str(py::type::of(h))) + ") to a Tensor.");
  }
  char kind = arr.dtype().kind();
  if (kind == 'O') nested_list();
  if (kind == 'O' || kind == 'U' || kind == 'S')
    throw tg::ValueError("Attempt to convert a value (" + std::string(py::repr(h)) + ") with an unsupported type (" +
                         std::string(py::str(py::type::of(h))) + ") to a Tensor.");
  bool numpy_scalar = py::isinstance(h, np.attr("generic"));
  if (hint && numpy_scalar) {  // a numpy scalar converts like an array: cast to the requested dtype
    Tensor t = from_array(arr);
    return t.dtype != *hint ? kernels::cast(t, *hint) : t;
  }
  if (hint) {
    if (kind == 'c' && !is_complex(*hint) && arr.size() > 0)  // TF refuses to drop imaginary parts
      throw tg::TypeError("Cannot convert " + std::string(py::repr(h)) + " to EagerTensor of dtype " +
                          dtype_name(*hint));
    if (*hint == DType::Bool && kind != 'b' && arr.size() > 0)  // TF converts only bools to bool
      throw tg::TypeError("Cannot convert " + std::string(py::repr(h)) + " to EagerTensor of dtype bool");
    if (!is_any_float(*hint) && kind == 'f') {
      py::array frac = np.attr("not_equal")(np.attr("floor")(arr), arr);
      bool bad = py::bool_(np.attr("any")(frac));
      if (!bad && arr.size() > 0 && *hint == DType::UInt64)  // inf (the range is checked on the uint64 path)
        bad = !py::bool_(np.attr("all")(np.attr("isfinite")(arr)));
      if (!bad && arr.size() > 0 && *hint != DType::UInt64) {  // NaN, inf, or beyond the integer type
        bad = !int_range_holds(*hint, py::float_(np.attr("min")(arr)).cast<double>()) ||
              !int_range_holds(*hint, py::float_(np.attr("max")(arr)).cast<double>());
      }
      if (bad)
        throw tg::TypeError("Cannot convert " + std::string(py::repr(h)) + " to EagerTensor of dtype " +
                            dtype_name(*hint));
    }
    if (*hint == DType::UInt64 && kind == 'f' && !numpy_scalar) {  // ints above 2^63 made numpy pick float64
      try {
        return from_array(np.attr("asarray")(h, "uint64"));
      } catch (py::error_already_set&) {  // a negative value as well: wraps below, as TF
      }
    }
    if (kind == 'i' || kind == 'u' || kind == 'b' || is_narrow(*hint)) {  // exact, and wraps as TF
      Tensor t = from_array(arr);
      return t.dtype == *hint ? t : kernels::cast(t, *hint);
    }
    return from_array(arr.attr("astype")(numpy_dtype(*hint)));
  }
  if (!numpy_scalar) {
    if (kind == 'f') arr = arr.attr("astype")(numpy_dtype(DType::Float32));
    else if (kind == 'i' || kind == 'u') {
      if (kind == 'u' && arr.size() > 0 && np.attr("max")(arr) > py::int_(INT64_MAX))  // ints in [2^63, 2^64)
        throw tg::ValueError("Can't convert Python sequence with out-of-range integer to Tensor.");
      bool fits =
          arr.size() == 0 || (np.attr("max")(arr) <= py::int_(INT32_MAX) && np.attr("min")(arr) >= py::int_(INT32_MIN));
      arr = arr.attr("astype")(numpy_dtype(fits ? DType::Int32 : DType::Int64));
    }
  }
  return from_array(arr);
}

}  // namespace

const Tensor& tensor_of(py::handle h) {
  auto* inst = reinterpret_cast<py::detail::instance*>(h.ptr());
  static const auto* ti = py::detail::get_type_info(typeid(Tensor));  // registered once, at import
  auto vh = inst->get_value_and_holder(ti, false);
  if (!vh || !vh.holder_constructed() || !vh.value_ptr())
    throw tg::ValueError("This " + std::string(py::str(py::type::of(h).attr("__name__"))) +
                         " object is not initialized: it was created with __new__ and its __init__ never ran");
  return *static_cast<const Tensor*>(vh.value_ptr());
}

std::shared_ptr<Variable> var_of(py::handle h) {
  // an object made with Variable.__new__ alone has no constructed C++ value: refuse it by name
  // instead of reading unconstructed memory
  auto* inst = reinterpret_cast<py::detail::instance*>(h.ptr());
  static const auto* ti = py::detail::get_type_info(typeid(Variable));
  auto vh = inst->get_value_and_holder(ti, false);
  if (!vh || !vh.holder_constructed() || !vh.value_ptr())
    throw tg::ValueError("This " + std::string(py::str(py::type::of(h).attr("__name__"))) +
                         " object is not initialized: it was created with __new__ and its __init__ never ran");
  return vh.holder<std::shared_ptr<Variable>>();
}

int64_t int_arg(py::handle h, const std::string& what) {
  if (PyLong_CheckExact(h.ptr())) {  // the common case, without building anything
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
    if (!overflow) return v;
  }
  if (PyBool_Check(h.ptr()) || PyFloat_Check(h.ptr()) || PyUnicode_Check(h.ptr()) || PyBytes_Check(h.ptr()) ||
      h.is_none())
    throw tg::TypeError(what + " must be an integer, got " + std::string(py::repr(h)) + " of type " +
                        std::string(py::str(py::type::of(h).attr("__name__"))));
  py::object idx;
  if (py::isinstance<Tensor>(h) || py::isinstance<Variable>(h)) {
    Tensor t = to_tensor_noaccess(h);
    if (!is_any_int(t.dtype) || t.numel() != 1)
      throw tg::TypeError(what + " must be an integer, got a " + std::string(dtype_name(t.dtype)) +
                          " tensor of shape " + t.shape.str());
    idx = item(t);
  } else {
    PyObject* o = PyNumber_Index(h.ptr());  // ints, numpy integers, anything with __index__
    if (!o) {
      PyErr_Clear();
      throw tg::TypeError(what + " must be an integer, got " + std::string(py::repr(h)) + " of type " +
                          std::string(py::str(py::type::of(h).attr("__name__"))));
    }
    idx = py::reinterpret_steal<py::object>(o);
  }
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(idx.ptr(), &overflow);
  if (overflow) throw InvalidArgument(what + " = " + std::string(py::repr(idx)) + " does not fit in int64");
  return v;
}

DType dtype_from_code(int code) {
  if (code < 0 || code >= kNumDTypes) throw tg::TypeError("invalid dtype code " + std::to_string(code));
  return DType(code);
}

// See Note [Threads contract]: the lock is taken at once when it is free; otherwise the wait, the
// copy of the reference and the unlock all happen without the GIL, which comes back only after.
namespace {
Tensor read_variable_now(const Variable& v) {
  if (v.mu.try_lock()) {
    std::lock_guard<std::mutex> lk(v.mu, std::adopt_lock);
    return v.value;
  }
  if (!PyGILState_Check()) return v.read();
  py::gil_scoped_release release;
  return v.read();
}
}  // namespace

Tensor read_variable(const Variable& v, bool accessed) {
  Tensor t = read_variable_now(v);
  if (trace::recording()) trace::variable_read(std::const_pointer_cast<Variable>(v.shared_from_this()), t, accessed);
  return t;
}

void run_with_variables_locked(std::vector<const Variable*> vars, int64_t work, const std::function<void()>& f) {
  if (work < (1 << 16) && PyGILState_Check()) {  // small: keep the GIL when every lock is free
    VariableLocks held(vars, /*try_only=*/true);
    if (held.owns()) return f();
  }
  if (!PyGILState_Check()) {
    VariableLocks held(std::move(vars));
    return f();
  }
  py::gil_scoped_release release;
  VariableLocks held(std::move(vars));  // released before the GIL comes back
  f();
}

namespace {
Tensor python_value_to_tensor(py::handle h, const DType* hint);
}  // namespace

Tensor to_tensor(py::handle h, const DType* hint) {
  if (py::isinstance<Tensor>(h)) return tensor_of(h);
  if (py::isinstance<Variable>(h)) {
    auto v = var_of(h);
    if (tape::any_active()) tape::variable_accessed(v);
    return read_variable(*v, /*accessed=*/true);
  }
  // A value from Python: a constant of any trace (See Note [Traced functions]).
  Tensor t = python_value_to_tensor(h, hint);
  trace::constant(t);
  return t;
}

namespace {
Tensor python_value_to_tensor(py::handle h, const DType* hint) {
  if (is_py_scalar(h)) {
    if (hint) return scalar_to(h, *hint);
    if (PyBool_Check(h.ptr())) return scalar_to(h, DType::Bool);
    if (PyFloat_Check(h.ptr())) return scalar_to(h, DType::Float32);
    if (PyComplex_Check(h.ptr())) return scalar_to(h, DType::Complex128);  // TF: Python complex -> complex128
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
    return scalar_to(h, (!overflow && v <= INT32_MAX && v >= INT32_MIN) ? DType::Int32 : DType::Int64);
  }
  if (py::isinstance<py::array>(h)) {  // TF casts an array to the requested dtype (EagerCast)
    Tensor t = from_array(py::reinterpret_borrow<py::array>(h));
    return hint && t.dtype != *hint ? kernels::cast(t, *hint) : t;
  }
  if (py::hasattr(h, "_as_tapegrad_tensor")) return to_tensor(h.attr("_as_tapegrad_tensor")(), hint);
  return from_python_sequence(h, hint);
}
}  // namespace

Tensor to_tensor_noaccess(py::handle h) {
  if (py::isinstance<Variable>(h)) return read_variable(*var_of(h));
  return to_tensor(h);
}

std::pair<Tensor, Tensor> to_tensor_pair(py::handle a, py::handle b) {
  // The operand that is a Tensor or Variable sets the dtype; the other converts to it (numpy arrays
  // are cast, as TF's `tensor + array`); a second Tensor keeps its dtype (mismatch -> error).
  auto is_tensorish = [](py::handle h) { return py::isinstance<Tensor>(h) || py::isinstance<Variable>(h); };
  // As TF's dtype_hint: a value that does not convert to the dtype (1.5 for int32) converts on
  // its own, and the op then reports the mismatch (InvalidArgumentError), as TF.
  auto convert_hinted = [](py::handle h, DType d) {
    try {
      return to_tensor(h, &d);
    } catch (const tg::TypeError&) {
    } catch (const tg::ValueError&) {}
    return to_tensor(h);
  };
  if (is_tensorish(a)) {
    Tensor ta = to_tensor(a);
    return {ta, is_tensorish(b) ? to_tensor(b) : convert_hinted(b, ta.dtype)};
  }
  if (is_tensorish(b)) {
    Tensor tb = to_tensor(b);
    return {convert_hinted(a, tb.dtype), tb};
  }
  Tensor ta = to_tensor(a);
  return {ta, convert_hinted(b, ta.dtype)};
}

py::array to_numpy(const Tensor& t, bool copy) {
  trace::host_read(t, "numpy()");
  std::vector<py::ssize_t> shape(t.shape.d.begin(), t.shape.d.begin() + t.ndim());
  if (copy) {
    py::array arr(numpy_dtype(t.dtype), shape);
    if (t.nbytes()) std::memcpy(arr.mutable_data(), t.raw(), t.nbytes());
    return arr;
  }
  // A read-only view that keeps the buffer alive.
  auto* keep = new std::shared_ptr<Storage>(t.storage);
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  py::array arr(numpy_dtype(t.dtype), shape, {}, t.raw(), base);
  py::detail::array_proxy(arr.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return arr;
}

namespace {

// The one value as a Python float, or an exact int for the integer types, or a complex.
py::object item(const Tensor& t) {
  trace::host_read(t, "a Python number conversion");
  if (t.numel() == 1 && is_complex(t.dtype)) {
    complex128 v = t.dtype == DType::Complex64 ? complex128(*t.data<complex64>()) : *t.data<complex128>();
    return py::reinterpret_steal<py::object>(PyComplex_FromDoubles(v.real(), v.imag()));
  }
  if (t.numel() == 1 && is_any_int(t.dtype)) {
    if (t.dtype == DType::UInt64) return py::int_(*t.data<uint64_t>());
    return py::int_(*kernels::cast(t, DType::Int64).data<int64_t>());
  }
  return py::float_(t.item());
}

// `a op b` and its reflection; `/` on integers is true division in float64, as TF.
Tensor binop(Op op, py::handle a, py::handle b) {
  auto ab = to_tensor_pair(a, b);
  Tensor &x = ab.first, &y = ab.second;
  return nogil(x.numel() + y.numel(), [&] { return TG_OP(ops::binary)(op, x, y); });
}

Tensor matmul_op(py::handle a, py::handle b) {
  auto ab = to_tensor_pair(a, b);
  return nogil(ab.first.numel() * 4, [&] { return TG_OP(ops::matmul)(ab.first, ab.second, false, false); });
}

template <class Cls> void add_operators(Cls& cls) {
  auto bin = [&cls](const char* name, const char* rname, Op op) {
    cls.def(name, [op](py::handle a, TensorLike b) { return binop(op, a, b); }, py::is_operator(), py::arg("other"));
    if (rname)
      cls.def(rname, [op](py::handle a, TensorLike b) { return binop(op, b, a); }, py::is_operator(), py::arg("other"));
  };
  bin("__add__", "__radd__", Op::Add);
  bin("__sub__", "__rsub__", Op::Sub);
  bin("__mul__", "__rmul__", Op::Mul);
  bin("__pow__", "__rpow__", Op::Pow);
  bin("__floordiv__", "__rfloordiv__", Op::FloorDiv);
  bin("__mod__", "__rmod__", Op::FloorMod);
  bin("__lt__", nullptr, Op::Less);
  bin("__le__", nullptr, Op::LessEqual);
  bin("__gt__", nullptr, Op::Greater);
  bin("__ge__", nullptr, Op::GreaterEqual);
  bin("__and__", "__rand__", Op::LogicalAnd);
  bin("__or__", "__ror__", Op::LogicalOr);
  // == and != compare elementwise, as TF 2; values that cannot be compared are just unequal.
  cls.def(
      "__eq__",
      [](py::handle a, py::object b) -> TensorOrBool {
        try {
          return wrap(binop(Op::Equal, a, b));
        } catch (const std::exception&) { return py::bool_(false); }
      },
      py::is_operator(), py::arg("other"));
  cls.def(
      "__ne__",
      [](py::handle a, py::object b) -> TensorOrBool {
        try {
          return wrap(binop(Op::NotEqual, a, b));
        } catch (const std::exception&) { return py::bool_(true); }
      },
      py::is_operator(), py::arg("other"));
  cls.def("__truediv__", [](py::handle a, TensorLike b) { return truediv(a, b); }, py::is_operator(), py::arg("other"));
  cls.def(
      "__rtruediv__", [](py::handle a, TensorLike b) { return truediv(b, a); }, py::is_operator(), py::arg("other"));
  cls.def(
      "__matmul__", [](py::handle a, TensorLike b) { return matmul_op(a, b); }, py::is_operator(), py::arg("other"));
  cls.def(
      "__rmatmul__", [](py::handle a, TensorLike b) { return matmul_op(b, a); }, py::is_operator(), py::arg("other"));
  cls.def("__neg__", [](py::handle a) {
    Tensor x = to_tensor(a);
    return TG_OP(ops::neg)(x);
  });
  cls.def("__pos__", [](py::handle a) { return to_tensor(a); });
  cls.def("__abs__", [](py::handle a) {
    Tensor x = to_tensor(a);
    return TG_OP(ops::unary)(Op::Abs, x);
  });
  cls.def("__invert__", [](py::handle a) {
    Tensor x = to_tensor(a);
    return TG_OP(ops::unary)(Op::LogicalNot, x);
  });
}

// v.assign / assign_add / assign_sub: Python values take the variable's dtype, arrays keep theirs.
void write_variable_tensor(Variable& v, const Tensor& t, Variable::Write how) {
  if (trace::dry_run()) return;  // a branch the trace does not take (See Note [Traced control flow])
  if (!PyGILState_Check()) return v.write(how, t);  // a replay (See Note [Traced functions])
  if (t.numel() < (1 << 16) && v.mu.try_lock()) {  // small and free: write with the GIL held
    std::lock_guard<std::mutex> lk(v.mu, std::adopt_lock);
    return v.write_locked(how, t);
  }
  py::gil_scoped_release release;
  v.write(how, t);  // takes and drops the lock before the GIL comes back
}

void write_variable(Variable& v, py::handle value, Variable::Write how) {
  DType d = v.value.dtype;
  Tensor t = to_tensor(value, &d);  // arrays are cast; a Tensor of another dtype is refused, as TF
  if (t.dtype != d)
    throw tg::ValueError(std::string("Tensor conversion requested dtype ") + dtype_name(d) + " for Tensor with dtype " +
                         dtype_name(t.dtype));
  TG_OP(write_variable_tensor)(v, t, how);
}

}  // namespace

Tensor truediv(py::handle a, py::handle b) {
  auto ab = to_tensor_pair(a, b);
  Tensor &x = ab.first, &y = ab.second;
  if (x.dtype == y.dtype && is_any_int(x.dtype)) {
    DType f = truediv_dtype(x.dtype);
    x = TG_OP(ops::cast)(x, f);
    y = TG_OP(ops::cast)(y, f);
  }
  return nogil(x.numel() + y.numel(), [&] { return TG_OP(ops::binary)(Op::Div, x, y); });
}

// bindings/dlpack.cpp: __dlpack__, __dlpack_device__ and _core.from_dlpack_capsule.
void init_dlpack(py::module_& m, py::class_<Tensor>& tensor, py::class_<Variable, std::shared_ptr<Variable>>& variable);

void init_tensor(py::module_& m) {
  py::class_<Tensor> tensor(m, "Tensor", py::dynamic_attr());
  tensor.doc() = "An immutable multi-dimensional array (tapegrad.Tensor).";
  tensor
      .def_property_readonly("_shape_tuple",
                             [](py::handle self) {
                               const Tensor& t = tensor_of(self);
                               py::tuple s(t.ndim());
                               for (int i = 0; i < t.ndim(); ++i) s[size_t(i)] = py::int_(t.shape[i]);
                               return s;
                             })
      .def_property_readonly("_dtype_code",
                             [](py::handle self) {
                               const Tensor& t = tensor_of(self);
                               return int(t.dtype);
                             })
      .def_property_readonly("_id",
                             [](py::handle self) {
                               const Tensor& t = tensor_of(self);
                               return t.id;
                             })
      .def_property_readonly(
          "ndim",
          [](py::handle self) {
            const Tensor& t = tensor_of(self);
            return t.ndim();
          },
          "The number of axes (the rank).")
      .def(
          "numpy",
          [](py::handle self) {
            const Tensor& t = tensor_of(self);
            return to_numpy(t, true);
          },
          "The value as a new numpy array.")
      .def(
          "_array_view",
          [](py::handle self) {
            const Tensor& t = tensor_of(self);
            return to_numpy(t, false);
          },
          "(private) A read-only numpy view of the buffer (no copy).")
      .def(
          "_item",
          [](py::handle self) {
            const Tensor& t = tensor_of(self);
            return item(t);
          },
          "(private) The one value as a Python int or float.")
      .def("__hash__", [](py::handle self) {
        const Tensor& t = tensor_of(self);
        return py::hash(py::int_(t.id));
      });
  add_operators(tensor);

  py::class_<Variable, std::shared_ptr<Variable>> variable(m, "Variable", py::dynamic_attr());
  variable.doc() = "The engine's mutable tensor (tapegrad.Variable subclasses it).";
  variable
      .def(py::init([](TensorLike value, std::string name, bool trainable) {
             Tensor t = to_tensor_noaccess(value);
             return std::make_shared<Variable>(t, std::move(name), trainable);
           }),
           py::arg("initial_value"), py::arg("name") = "Variable", py::arg("trainable") = true,
           "A variable holding a copy of `initial_value`.")
      .def_property(
          "_shared_name",
          [](py::handle self) {
            auto v = var_of(self);
            return v->name;
          },
          [](py::handle self, std::string n) {
            auto v = var_of(self);
            v->name = std::move(n);
          })
      .def_property(
          "trainable",
          [](py::handle self) {
            auto v = var_of(self);
            return v->trainable;
          },
          [](py::handle self, bool t) {
            auto v = var_of(self);
            v->trainable = t;
          },
          "Whether optimizers and Module.trainable_variables see this variable.")
      .def_property_readonly("_shape_tuple",
                             [](py::handle self) {
                               auto v = var_of(self);
                               py::tuple s(v->value.ndim());
                               for (int i = 0; i < v->value.ndim(); ++i) s[size_t(i)] = py::int_(v->value.shape[i]);
                               return s;
                             })
      .def_property_readonly("_dtype_code",
                             [](py::handle self) {
                               auto v = var_of(self);
                               return int(v->value.dtype);
                             })
      .def_property_readonly("_id",
                             [](py::handle self) {
                               auto v = var_of(self);
                               return v->value.id;
                             })
      .def_property_readonly(
          "ndim",
          [](py::handle self) {
            auto v = var_of(self);
            return v->value.ndim();
          },
          "The number of axes (the rank).")
      .def(
          "read_value",
          [](py::handle self) {
            auto v = var_of(self);
            if (tape::any_active()) tape::variable_accessed(v);
            return TG_OP(ops::identity)(read_variable(*v, /*accessed=*/true));
          },
          "The current value as a Tensor (recorded as a read).")
      .def(
          "value",
          [](py::handle self) {
            auto v = var_of(self);
            if (tape::any_active()) tape::variable_accessed(v);
            return TG_OP(ops::identity)(read_variable(*v, /*accessed=*/true));
          },
          "The current value as a Tensor (recorded as a read).")
      .def(
          "numpy",
          [](py::handle self) {
            auto v = var_of(self);
            return to_numpy(read_variable(*v), true);
          },
          "The value as a new numpy array.")
      .def(
          "_array_view",
          [](py::handle self) {
            auto v = var_of(self);
            return to_numpy(read_variable(*v), false);
          },
          "(private) A read-only numpy view of the buffer (no copy).")
      .def(
          "_item",
          [](py::handle self) {
            auto v = var_of(self);
            return item(read_variable(*v));
          },
          "(private) The one value as a Python int or float.")
      .def(
          "_assign",
          [](py::handle self, TensorLike value) {
            auto v = var_of(self);
            write_variable(*v, value, Variable::Write::Assign);
          },
          py::arg("value"), "(private) Replaces the value (same dtype and shape).")
      .def(
          "_assign_add",
          [](py::handle self, TensorLike value) {
            auto v = var_of(self);
            write_variable(*v, value, Variable::Write::Add);
          },
          py::arg("delta"), "(private) Adds `delta` to the value.")
      .def(
          "_assign_sub",
          [](py::handle self, TensorLike value) {
            auto v = var_of(self);
            write_variable(*v, value, Variable::Write::Sub);
          },
          py::arg("delta"), "(private) Subtracts `delta` from the value.")
      .def("__hash__", [](py::handle self) {
        auto v = var_of(self);
        return py::hash(py::int_(v->value.id));
      });
  add_operators(variable);
  init_dlpack(m, tensor, variable);

  m.def(
      "convert_to_tensor",
      [](TensorLike value, OptInt dtype_code) {
        if (dtype_code.is_none()) return to_tensor(value);
        DType d = dtype_from_code(dtype_code.cast<int>());
        if (py::isinstance<Tensor>(value) || py::isinstance<Variable>(value)) {
          Tensor t = to_tensor(value);
          if (t.dtype != d)
            throw tg::ValueError(std::string("Tensor conversion requested dtype ") + dtype_name(d) +
                                 " for Tensor with dtype " + dtype_name(t.dtype));
          return t;
        }
        return to_tensor(value, &d);
      },
      py::arg("value"), py::arg("dtype_code") = py::none(),
      "(private) `value` as a Tensor, in the dtype with this code when given (tapegrad's takes a DType).");
  m.def(
      "constant",
      [](TensorLike value, OptInt dtype_code, OptShapeLike shape) {
        Tensor t;
        if (dtype_code.is_none()) t = to_tensor_noaccess(value);
        else {
          DType d = dtype_from_code(dtype_code.cast<int>());
          if (py::isinstance<Tensor>(value) || py::isinstance<Variable>(value) || py::isinstance<py::array>(value))
            t = TG_OP(kernels::cast)(to_tensor_noaccess(value), d);
          else t = to_tensor(value, &d);
        }
        if (!shape.is_none()) {
          std::vector<int64_t> dims;
          if (!py::isinstance<py::sequence>(shape) || py::isinstance<py::str>(shape))
            throw tg::TypeError("shape must be a list of integers, got " + std::string(py::repr(shape)));
          for (py::handle d : shape) dims.push_back(int_arg(d, "shape"));
          Shape s = Shape::from(dims);
          if (t.numel() == 1 && s.numel() != 1)
            t = TG_OP(kernels::broadcast_to)(TG_OP(kernels::reshape)(t, Shape{}), s);
          else if (t.numel() == s.numel()) t = TG_OP(kernels::reshape)(t, s);
          else
            throw tg::TypeError(
                "Eager execution of tf.constant with unsupported shape. Tried to convert a value with " +
                std::to_string(t.numel()) + " elements to a Tensor with shape " + s.str());
        }
        // a constant never aliases its source and has its own identity
        return TG_OP(clone_of)(t);
      },
      py::arg("value"), py::arg("dtype_code") = py::none(), py::arg("shape") = py::none(),
      "(private) A new tensor holding `value` (of `shape`), in the dtype with this code (tapegrad's takes a DType).");
}

}  // namespace bind
}  // namespace tg
