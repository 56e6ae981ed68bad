// Gradient accumulation between update steps (acc += g) and the moving averages of the variables
// (use_ema): the update, and the copy of the averages into the variables (ema_overwrite_frequency).
#include <cstring>

#include "optim/pipeline.h"

namespace tg {
namespace optim {

void overwrite_with_ema(const VarList& vars, const VarList& ema) {
  Held held;  // See Note [Step buffers]
  for (size_t i = 0; i < vars.size(); ++i) {
    void* w = hold_writable(*vars[i], held, false);
    const Tensor e = ema[i]->value;
    if (e.nbytes()) std::memcpy(w, e.raw(), e.nbytes());
  }
}

void accumulate(const VarList& accs, const std::vector<Tensor>& grads) {
  check_update_args("accumulate", accs, grads, {});
  std::vector<int64_t> sizes;
  std::vector<void*> A;
  Held held;  // See Note [Step buffers]
  for (auto& a : accs) {
    sizes.push_back(a->value.numel());
    A.push_back(hold_writable(*a, held));
  }
  multi_tensor_apply(sizes, [&](size_t t, int64_t b, int64_t e) {
    TG_DISPATCH_FLOAT(grads[t].dtype, T, {
      T* __restrict a = static_cast<T*>(A[t]) + b;
      const T* __restrict g = grads[t].data<T>() + b;
      for (int64_t i = 0; i < e - b; ++i) a[i] = a[i] + g[i];
    });
  });
}

void ema_update(const VarList& vars, const VarList& avgs, double momentum) {
  std::vector<Tensor> values;
  for (auto& v : vars) values.push_back(v->value);
  check_update_args("ema_update", avgs, values, {});
  std::vector<int64_t> sizes;
  std::vector<void*> A;
  Held held;  // See Note [Step buffers]
  for (auto& a : avgs) {
    sizes.push_back(a->value.numel());
    A.push_back(hold_writable(*a, held));
  }
  multi_tensor_apply(sizes, [&](size_t t, int64_t b, int64_t e) {
    TG_DISPATCH_FLOAT(values[t].dtype, T, {
      T* __restrict a = static_cast<T*>(A[t]) + b;
      const T* __restrict x = values[t].data<T>() + b;
      const T mu = T(momentum), one_m = T(1.0 - momentum);
      for (int64_t i = 0; i < e - b; ++i) a[i] = mu * a[i] + one_m * x[i];
    });
  });
}

}  // namespace optim
}  // namespace tg
