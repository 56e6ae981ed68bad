#include "optim/multi_tensor.h"
#include "optim/optim.h"

namespace tg {
namespace optim {

// Note [Fused update]
// Per-step scalars (learning rate, bias corrections) are computed once, in double, by the caller
// or at the top of the kernel, then cast to the element type. The element loop reads param, grad
// and slots once and writes param and slots once; it has no branches that depend on the data,
// so gcc vectorises it (with -fno-math-errno for sqrt). Variables are made writable first
// (See Note [Variable writes]), so a tape or numpy view holding the old value keeps it.

void check_update_args(const char* who, const VarList& vars, const std::vector<Tensor>& grads,
                       const std::vector<const VarList*>& slots) {
  if (grads.size() != vars.size())
    throw InvalidArgument(std::string(who) + ": got " + std::to_string(grads.size()) + " gradients for " +
                          std::to_string(vars.size()) + " variables");
  for (size_t i = 0; i < vars.size(); ++i) {
    const Tensor& v = vars[i]->value;
    if (!is_floating(v.dtype))
      throw InvalidArgument(std::string(who) + ": variable '" + vars[i]->name + "' has dtype " + dtype_name(v.dtype) +
                            "; optimizers update float variables only");
    if (grads[i].dtype != v.dtype || grads[i].shape != v.shape)
      throw InvalidArgument(std::string(who) + ": gradient for variable '" + vars[i]->name + "' has dtype " +
                            dtype_name(grads[i].dtype) + " and shape " + grads[i].shape.str() + ", expected " +
                            dtype_name(v.dtype) + " " + v.shape.str());
    for (const VarList* s : slots) {
      if (s->size() != vars.size())
        throw InvalidArgument(std::string(who) + ": slot list has " + std::to_string(s->size()) + " entries for " +
                              std::to_string(vars.size()) + " variables");
      const Tensor& st = (*s)[i]->value;
      if (st.dtype != v.dtype || st.shape != v.shape)
        throw InvalidArgument(std::string(who) + ": slot '" + (*s)[i]->name + "' does not match variable '" +
                              vars[i]->name + "'");
    }
  }
}

namespace {
template <class T, bool kMomentum, bool kNesterov>
void sgd_kernel(T* __restrict p, const T* __restrict g, T* __restrict m, int64_t n, T lr, T mu) {
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (!kMomentum) {
      p[i] -= lr * g[i];
    } else {
      T mi = mu * m[i] - lr * g[i];
      m[i] = mi;
      if constexpr (kNesterov) p[i] += mu * mi - lr * g[i];
      else p[i] += mi;
    }
  }
}
}  // namespace

void sgd(const VarList& vars, const std::vector<Tensor>& grads, const VarList& moms, double lr, double momentum,
         bool nesterov) {
  const bool use_m = momentum != 0.0;
  std::vector<const VarList*> slots;
  if (use_m) slots.push_back(&moms);
  check_update_args("SGD", vars, grads, slots);
  std::vector<int64_t> sizes;
  std::vector<void*> P, M;
  for (size_t i = 0; i < vars.size(); ++i) {
    sizes.push_back(vars[i]->value.numel());
    P.push_back(vars[i]->writable().raw());
    M.push_back(use_m ? moms[i]->writable().raw() : nullptr);
  }
  multi_tensor_apply(sizes, [&](size_t t, int64_t b, int64_t e) {
    TG_DISPATCH_FLOAT(vars[t]->value.dtype, T, {
      T* p = static_cast<T*>(P[t]) + b;
      const T* g = grads[t].data<T>() + b;
      T* m = use_m ? static_cast<T*>(M[t]) + b : nullptr;
      if (!use_m) sgd_kernel<T, false, false>(p, g, m, e - b, T(lr), T(momentum));
      else if (nesterov) sgd_kernel<T, true, true>(p, g, m, e - b, T(lr), T(momentum));
      else sgd_kernel<T, true, false>(p, g, m, e - b, T(lr), T(momentum));
    });
  });
}

}  // namespace optim
}  // namespace tg
