// Kernels for complex64/complex128 (Note [Complex dtypes], tensor/dtype.h).
#pragma once
#include "ops/ops.h"

namespace tg {
namespace cplx {

// Each checks that the op is one TF defines on complex tensors and that tapegrad implements
// (else TF's InvalidArgumentError for the dtype), then computes elementwise with std::complex.
Tensor binary(Op op, const Tensor& a, const Tensor& b);
Tensor unary(Op op, const Tensor& x);
Tensor reduce(Op op, const Tensor& x, const std::vector<int>& axes, bool keepdims);

}  // namespace cplx

namespace kernels {
Tensor real(const Tensor& x);         // complex -> its real dtype; a real tensor: itself
Tensor imag(const Tensor& x);         // complex -> its real dtype; a real tensor: zeros
Tensor conj(const Tensor& x);         // complex conjugate; a real tensor: itself
Tensor angle(const Tensor& x);        // arg(x); a real tensor: 0 or pi (TF's Angle is complex-only)
Tensor complex_abs(const Tensor& x);  // |x| in the real dtype
Tensor complex(const Tensor& re, const Tensor& im);  // broadcasting, float32 -> complex64, float64 -> complex128
}  // namespace kernels

namespace ops {
Tensor real(const Tensor& x);
Tensor imag(const Tensor& x);
Tensor conj(const Tensor& x);
Tensor angle(const Tensor& x);
Tensor complex_abs(const Tensor& x);
Tensor complex(const Tensor& re, const Tensor& im);
DType complex_of(DType real);  // float32 -> complex64, float64 -> complex128
DType real_of(DType c);        // complex64 -> float32, complex128 -> float64; others unchanged
}  // namespace ops
}  // namespace tg
