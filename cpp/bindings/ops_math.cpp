// Bindings for math, reductions, activations and nn losses.
#include "bindings/common.h"

namespace tg {
namespace bind {

void init_ops_math(py::module_& m) {}

}  // namespace bind
}  // namespace tg
