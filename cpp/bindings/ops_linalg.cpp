// Bindings for einsum, tensordot, convolution, pooling and random ops.
#include "bindings/common.h"

namespace tg {
namespace bind {

void init_ops_linalg(py::module_& m) {}

}  // namespace bind
}  // namespace tg
