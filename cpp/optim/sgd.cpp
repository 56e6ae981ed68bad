// The step entry point and what every rule shares: argument checks, gradient norms, the
// preprocessing scalars, accumulation, EMA and the bandwidth probe.
#include <cstring>
#include <map>
#include <unordered_set>

#include "optim/pipeline.h"
#include "optim/rules.h"

namespace tg {
namespace optim {

// Note [Fused update]
// Per-step scalars (learning rate, bias corrections) are computed once, in double, by the caller
// or at the top of the kernel, then cast to the element type. The element loop reads param, grad
// and slots once and writes param and slots once; it has no branches that depend on the data,
// so gcc vectorises it (with -fno-math-errno for sqrt); the compiler's remainder loop is the
// scalar tail with the same body. Variables are made writable first (See Note [Variable
// writes]), so a tape or numpy view holding the old value keeps it. Every check happens before
// the parallel loop (See Note [Threads]).

void check_update_args(const char* who, const VarList& vars, const std::vector<Tensor>& grads,
                       const std::vector<const VarList*>& slots) {
  if (grads.size() != vars.size())
    throw InvalidArgument(std::string(who) + ": got " + std::to_string(grads.size()) + " gradients for " +
                          std::to_string(vars.size()) + " variables");
  std::unordered_set<const Variable*> seen;
  for (const VarList* s : slots)
    if (s->size() != vars.size())
      throw InvalidArgument(std::string(who) + ": slot list has " + std::to_string(s->size()) + " entries for " +
                            std::to_string(vars.size()) + " variables");
  for (size_t i = 0; i < vars.size(); ++i) {
    if (!vars[i]) throw InvalidArgument(std::string(who) + ": variable " + std::to_string(i) + " is None");
    const Tensor& v = vars[i]->value;
    if (!seen.insert(vars[i].get()).second)
      throw InvalidArgument(std::string(who) + ": variable '" + vars[i]->name +
                            "' appears more than once in the list of variables to update");
    if (!is_floating(v.dtype))
      throw InvalidArgument(std::string(who) + ": variable '" + vars[i]->name + "' has dtype " + dtype_name(v.dtype) +
                            "; optimizers update float variables only");
    if (!grads[i].has_data())
      throw InvalidArgument(std::string(who) + ": gradient for variable '" + vars[i]->name + "' is undefined");
    if (grads[i].dtype != v.dtype || grads[i].shape != v.shape)
      throw InvalidArgument(std::string(who) + ": gradient for variable '" + vars[i]->name + "' has dtype " +
                            dtype_name(grads[i].dtype) + " and shape " + grads[i].shape.str() + ", expected " +
                            dtype_name(v.dtype) + " " + v.shape.str());
    for (const VarList* s : slots) {
      if (!(*s)[i]) throw InvalidArgument(std::string(who) + ": missing slot for variable '" + vars[i]->name + "'");
      const Tensor& st = (*s)[i]->value;
      if (st.dtype != v.dtype || st.shape != v.shape)
        throw InvalidArgument(std::string(who) + ": slot '" + (*s)[i]->name + "' (" + dtype_name(st.dtype) + " " +
                              st.shape.str() + ") does not match variable '" + vars[i]->name + "' (" +
                              dtype_name(v.dtype) + " " + v.shape.str() + ")");
    }
  }
}

void check_options(const char* who, const VarList& vars, const StepOptions& o) {
  std::vector<const VarList*> lists;
  if (o.accumulators) lists.push_back(o.accumulators);
  if (o.ema) lists.push_back(o.ema);
  for (const VarList* l : lists) {
    if (l->size() != vars.size())
      throw InvalidArgument(std::string(who) + ": accumulator/EMA list has " + std::to_string(l->size()) +
                            " entries for " + std::to_string(vars.size()) + " variables");
    for (size_t i = 0; i < vars.size(); ++i)
      if (!(*l)[i] || (*l)[i]->value.dtype != vars[i]->value.dtype || (*l)[i]->value.shape != vars[i]->value.shape)
        throw InvalidArgument(std::string(who) + ": accumulator/EMA variable does not match variable '" +
                              vars[i]->name + "'");
  }
  if (!o.decay_mask.empty() && o.decay_mask.size() != vars.size())
    throw InvalidArgument(std::string(who) + ": weight-decay mask has " + std::to_string(o.decay_mask.size()) +
                          " entries for " + std::to_string(vars.size()) + " variables");
  if (o.clip_mode < 0 || o.clip_mode > 2) throw InvalidArgument(std::string(who) + ": bad clip mode");
}

Prepared prepare(const VarList& vars, const std::vector<VarList>& slots, const StepOptions& o) {
  Prepared pr;
  const size_t n = vars.size();
  pr.sizes.resize(n);
  pr.P.resize(n);
  for (auto& s : pr.S) s.assign(n, nullptr);
  pr.A.assign(n, nullptr);
  pr.E.assign(n, nullptr);
  for (size_t i = 0; i < n; ++i) {
    pr.sizes[i] = vars[i]->value.numel();
    pr.P[i] = hold_writable(*vars[i], pr.held);
    for (size_t k = 0; k < slots.size() && k < 3; ++k) pr.S[k][i] = hold_writable(*slots[k][i], pr.held);
    if (o.accumulators) pr.A[i] = hold_writable(*(*o.accumulators)[i], pr.held);
    if (o.ema) pr.E[i] = hold_writable(*(*o.ema)[i], pr.held);
  }
  return pr;
}

namespace {
template <class T>
double block_sum_squares(const T* __restrict g, const T* __restrict a, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) {
      double x = a ? double(T(g[i + j] + a[i + j])) : double(g[i + j]);
      acc[j] += x * x;
    }
  for (; i < n; ++i) {
    double x = a ? double(T(g[i] + a[i])) : double(g[i]);
    acc[0] += x * x;
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}
}  // namespace

std::vector<double> sum_squares(const std::vector<Tensor>& grads, const VarList* accs) {
  std::vector<int64_t> sizes;
  for (const Tensor& g : grads) sizes.push_back(g.numel());
  std::vector<Block> blocks = make_blocks(sizes);
  std::vector<double> part(blocks.size());
  for_blocks(blocks, [&](size_t k, const Block& bl) {
    const Tensor& g = grads[bl.t];
    const void* a = accs ? (*accs)[bl.t]->value.raw() : nullptr;
    if (g.dtype == DType::Float32)
      part[k] = block_sum_squares<float>(g.data<float>() + bl.b, a ? static_cast<const float*>(a) + bl.b : nullptr,
                                         bl.e - bl.b);
    else
      part[k] = block_sum_squares<double>(g.data<double>() + bl.b,
                                          a ? static_cast<const double*>(a) + bl.b : nullptr, bl.e - bl.b);
  });
  std::vector<double> out(grads.size(), 0.0);
  for (size_t k = 0; k < blocks.size(); ++k) out[blocks[k].t] += part[k];
  return out;
}

std::vector<double> grad_scales(const StepOptions& o, const std::vector<Tensor>& grads) {
  if (o.clip_mode == 0 && !o.accumulators) return {};
  std::vector<double> scales(grads.size(), o.accum_scale);
  if (o.clip_mode == 0) return scales;
  std::vector<double> ss = sum_squares(grads, o.accumulators);
  const double s2 = o.accum_scale * o.accum_scale, c = o.clip_norm;
  if (o.clip_mode == 1) {  // Keras clip_by_norm: g * c / max(||g||, c)
    for (size_t i = 0; i < ss.size(); ++i) scales[i] *= c / std::max(std::sqrt(ss[i] * s2), c);
  } else {  // Keras clip_by_global_norm: c * min(1 / n, 1 / c), NaN when n is not finite
    double total = 0;
    for (double s : ss) total += s;
    const double n = std::sqrt(total * s2);
    const double f = c * std::min(1.0 / n, 1.0 / c) + (n - n);
    for (double& s : scales) s *= f;
  }
  return scales;
}

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

void copy_probe(float* a, const float* b, float* c, float* d, int64_t n) {
  multi_tensor_apply({n}, [&](size_t, int64_t lo, int64_t hi) {
    float* __restrict pa = a + lo;
    const float* __restrict pb = b + lo;
    float* __restrict pc = c + lo;
    float* __restrict pd = d + lo;
    auto body = [&](int64_t i) __attribute__((always_inline)) {
      float x = pa[i], y = pb[i], z = pc[i], w = pd[i];
      pa[i] = y;
      pc[i] = x;
      pd[i] = std::max(z, w);
    };
    by_lines<float>(hi - lo, [&](int64_t i) __attribute__((always_inline)) {  // as the optimizer loops (Note [Prefetch])
      prefetch_line(pa, i), prefetch_line(pb, i), prefetch_line(pc, i), prefetch_line(pd, i);
    }, body);
  });
}

void step(const std::string& kind, const VarList& vars, const std::vector<Tensor>& grads,
          const std::vector<VarList>& slots, const std::vector<double>& hyper, const StepOptions& opts) {
  static const std::map<std::string, std::pair<size_t, size_t>> kArity = {  // hyper count, slot count
      {"sgd", {2, 0}}, {"sgd_momentum", {2, 1}}, {"sgd_nesterov", {2, 1}},
      {"rmsprop", {4, 1}}, {"rmsprop_momentum", {4, 2}}, {"rmsprop_centered", {4, 2}},
      {"rmsprop_centered_momentum", {4, 3}}, {"adam", {5, 2}}, {"adam_amsgrad", {5, 3}},
      {"adagrad", {2, 1}}, {"adadelta", {3, 2}}, {"adamax", {5, 2}}, {"nadam", {6, 2}},
      {"ftrl", {6, 2}}, {"lion", {3, 1}}, {"lamb", {5, 2}}, {"adafactor", {7, 3}}};
  auto it = kArity.find(kind);
  if (it == kArity.end()) throw InvalidArgument("optimizer_step: unknown optimizer kind '" + kind + "'");
  if (hyper.size() != it->second.first || slots.size() != it->second.second)
    throw InvalidArgument("optimizer_step: '" + kind + "' takes " + std::to_string(it->second.first) +
                          " hyper-parameters and " + std::to_string(it->second.second) + " slot lists, got " +
                          std::to_string(hyper.size()) + " and " + std::to_string(slots.size()));
  if (kind == "lamb") return lamb(vars, grads, slots, hyper, opts);
  if (kind == "adafactor") return adafactor(vars, grads, slots, hyper, opts);
  if (!step_family_a(kind, vars, grads, slots, hyper, opts)) step_family_b(kind, vars, grads, slots, hyper, opts);
}

}  // namespace optim
}  // namespace tg
