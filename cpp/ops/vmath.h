// Vectorised transcendental functions from glibc's libmvec (AVX2 variants), used by the unary
// kernels for float32/float64. See Note [Vector math].
#pragma once
#include <cstdint>

#include "ops/ops.h"

namespace tg {
namespace vmath {

// y[i] = op(x[i]) for i < n; returns false (and writes nothing) when op has no vector version
// for this type or the build has no AVX2.
bool unary(Op op, const float* x, float* y, int64_t n);
bool unary(Op op, const double* x, double* y, int64_t n);

}  // namespace vmath
}  // namespace tg
