// Fused optimizer kernels: one call per step updates every variable, one pass over memory per
// element (See Note [Fused update]).
#pragma once
#include <memory>
#include <vector>

#include "tensor/tensor.h"

namespace tg {
namespace optim {

using VarList = std::vector<std::shared_ptr<Variable>>;

// Checks that grads[i] matches vars[i] (and each slot list) in dtype and shape.
void check_update_args(const char* who, const VarList& vars, const std::vector<Tensor>& grads,
                       const std::vector<const VarList*>& slots);

// Keras SGD: momentum 0: v -= lr*g; else m = mu*m - lr*g; v += m (nesterov: v += mu*m - lr*g).
// `moms` is empty when momentum == 0.
void sgd(const VarList& vars, const std::vector<Tensor>& grads, const VarList& moms, double lr, double momentum,
         bool nesterov);

}  // namespace optim
}  // namespace tg
