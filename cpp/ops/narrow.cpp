// Arithmetic on the narrow dtypes by widening at the edge. See Note [Narrow dtypes] (tensor/dtype.h).
#include "ops/narrow.h"

#include "ops/math.h"

namespace tg {
namespace narrow {
namespace {

// The compute dtype: integers in int64 (results wrap back to the narrow type when cast), 16-bit
// floats in float32 (results round back to nearest even).
DType wide(DType d) { return is_half(d) ? DType::Float32 : DType::Int64; }

[[noreturn]] void not_allowed(Op op, DType d) { throw attr_t_error_for(d, op_name(op)); }

// TF's type constraints, for the narrow dtypes (16-bit floats take every float op).
bool binary_allowed(Op op, DType d) {
  const bool signed_int = d == DType::Int8 || d == DType::Int16;
  switch (op) {
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Maximum:
    case Op::Minimum:
    case Op::FloorDiv:
    case Op::FloorMod:
    case Op::Equal:
    case Op::NotEqual:
    case Op::Less:
    case Op::LessEqual:
    case Op::Greater:
    case Op::GreaterEqual: return true;
    case Op::Pow: return is_half(d) || signed_int;
    case Op::Div:
    case Op::SquaredDifference:
    case Op::Atan2:
    case Op::TanhGrad:
    case Op::SigmoidGrad:
    case Op::ReluGrad: return is_half(d);
    default: return false;
  }
}

bool unary_allowed(Op op, DType d) {
  if (is_half(d)) return op != Op::LogicalNot;
  switch (op) {
    case Op::Square:
    case Op::Relu:
    case Op::Relu6: return true;
    case Op::Neg:
    case Op::Abs:
    case Op::Sign: return d == DType::Int8 || d == DType::Int16;
    default: return false;
  }
}

// uint64 values above 2^63 are negative as int64; flipping the sign bit makes int64 order agree
// with uint64 order (for comparisons, max and min).
void flip_sign_bit(Tensor& t) {
  int64_t* p = t.data<int64_t>();
  for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = int64_t(uint64_t(p[i]) ^ (uint64_t(1) << 63));
}

Tensor widen(const Tensor& x, bool flip) {
  Tensor w = kernels::cast(x, wide(x.dtype));
  if (flip) flip_sign_bit(w);
  return w;
}

bool is_order_op(Op op) {
  return op == Op::Less || op == Op::LessEqual || op == Op::Greater || op == Op::GreaterEqual || op == Op::Maximum ||
         op == Op::Minimum || op == Op::Max || op == Op::Min || op == Op::ArgMax || op == Op::ArgMin;
}

// uint64 floor division and modulo: unsigned, so they cannot go through int64.
Tensor u64_divmod(Op op, const Tensor& a, const Tensor& b) {
  Shape shape = a.shape == b.shape ? a.shape : kernels::broadcast_shapes(a.shape, b.shape, op);
  Tensor x = kernels::broadcast_to(a, shape), y = kernels::broadcast_to(b, shape);
  Tensor out = Tensor::empty(shape, DType::UInt64);
  const uint64_t* px = x.data<uint64_t>();
  const uint64_t* py = y.data<uint64_t>();
  uint64_t* po = out.data<uint64_t>();
  const int64_t n = out.numel();
  for (int64_t i = 0; i < n; ++i)
    if (py[i] == 0) throw InvalidArgument(std::string("Integer division by zero [Op:") + op_name(op) + "]");
  for (int64_t i = 0; i < n; ++i) po[i] = op == Op::FloorDiv ? px[i] / py[i] : px[i] % py[i];
  return out;
}

}  // namespace

Tensor binary(Op op, const Tensor& a, const Tensor& b) {
  if (!binary_allowed(op, a.dtype)) not_allowed(op, a.dtype);
  if (a.dtype == DType::UInt64 && (op == Op::FloorDiv || op == Op::FloorMod)) return u64_divmod(op, a, b);
  const bool flip = a.dtype == DType::UInt64 && is_order_op(op);
  Tensor r = kernels::binary(op, widen(a, flip), widen(b, flip));
  if (r.dtype == DType::Bool) return r;
  if (flip) flip_sign_bit(r);
  return kernels::cast(r, a.dtype);
}

Tensor unary(Op op, const Tensor& x) {
  if (!unary_allowed(op, x.dtype)) not_allowed(op, x.dtype);
  Tensor r = kernels::unary(op, widen(x, false));
  return r.dtype == DType::Bool ? r : kernels::cast(r, x.dtype);
}

Tensor reduce(Op op, const Tensor& x, const std::vector<int>& axes, bool keepdims) {
  if (op == Op::Any || op == Op::All) return kernels::reduce(op, x, axes, keepdims);  // raises: bool only
  const bool flip = x.dtype == DType::UInt64 && is_order_op(op);
  if (op == Op::Mean && is_half(x.dtype)) {  // TF sums in the 16-bit type, then divides
    Tensor sum = reduce(Op::Sum, x, axes, keepdims);
    int64_t count = 1;
    for (int a : axes) count *= x.shape[a];
    Tensor n = Tensor::full(Shape{}, DType::Float32, double(count));
    return kernels::cast(kernels::binary(Op::Div, kernels::cast(sum, DType::Float32), n), x.dtype);
  }
  Tensor r = kernels::reduce(op, widen(x, flip), axes, keepdims);
  if (flip) flip_sign_bit(r);
  return kernels::cast(r, x.dtype);
}

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  const char* name = (a.ndim() > 2 || b.ndim() > 2) ? "BatchMatMulV2" : "MatMul";
  if (!is_half(a.dtype))
    throw InvalidArgument(std::string("Could not find device for node: {{node ") + name + "}}: " + name +
                          " is not defined for " + dtype_name(a.dtype) + " tensors [Op:" + name + "]");
  Tensor r = kernels::matmul(widen(a, false), widen(b, false), transpose_a, transpose_b);
  return kernels::cast(r, a.dtype);
}

Tensor scan(Op op, const Tensor& x, int axis, bool exclusive, bool reverse) {
  return kernels::cast(kernels::scan(op, widen(x, false), axis, exclusive, reverse), x.dtype);
}

Tensor arg_reduce(Op op, const Tensor& x, int axis, DType out_dtype) {
  return kernels::arg_reduce(op, widen(x, x.dtype == DType::UInt64), axis, out_dtype);
}

}  // namespace narrow
}  // namespace tg
