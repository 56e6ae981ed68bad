// Bindings for softmax, log_softmax and the fused cross-entropy ops.
#include "bindings/common.h"

namespace tg {
namespace bind {

void init_ops_nnloss(py::module_& m) {}

}  // namespace bind
}  // namespace tg
