// Bindings for shape and indexing ops.
#include "bindings/common.h"

namespace tg {
namespace bind {

void init_ops_shape(py::module_& m) {}

}  // namespace bind
}  // namespace tg
