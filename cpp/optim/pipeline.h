// The shared step driver: gradient preprocessing, decoupled weight decay and EMA around an
// element-wise rule, in one pass per element. See Note [Step pipeline].
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "optim/multi_tensor.h"
#include "optim/optim.h"

namespace tg {
namespace optim {

// Note [Step pipeline]
// Keras's order per step (BaseOptimizer.apply) is: accumulate, clip, decay, update, EMA. Here all
// of it is folded into the rule's element loop: g = (g + acc) * scale, where `scale` is one
// per-tensor factor computed in double (1/N of gradient accumulation times the clip-by-norm or
// global-norm factor, which needs one fused reduction pass first); g = clip(g, -cv, cv);
// p = p - p * (wd * lr); the rule; ema = mu * ema + (1 - mu) * p. The plain case (no option set)
// gets its own instantiation so it stays as tight as a hand-written loop.

// Per-tensor scalars of the preprocessing, in the element type.
template <class T> struct Pre {
  T scale = T(1), lo = -std::numeric_limits<T>::infinity(), hi = std::numeric_limits<T>::infinity();
  T decay = T(0), ema_mom = T(0), ema_1m = T(1);
};

// Pointers of one tensor's piece: param, grad, up to three slots, accumulator, EMA.
template <class T> struct Ptrs {
  T* p;
  const T* g;
  T* s0;
  T* s1;
  T* s2;
  T* acc;
  T* ema;
};

// Note [Prefetch]
// An optimizer step streams 4 to 7 arrays through memory at once, and between its loads sit a
// sqrt and a divide: the hardware prefetchers alone kept Adam 10M at 85-95% of a one-pass copy of
// the same streams. Asking for each stream's cache line kPrefetchBytes ahead, once per line, took
// a stand-alone Adam loop from 4.1-4.3 ms to 3.5 ms on two threads (a copy without prefetch:
// 3.7 ms). The probe in copy_probe.cpp prefetches the same way, so it stays a fair roof.
// Pieces under kPrefetchMin bytes per stream (cache-resident, as an MLP's variables) skip it.
constexpr uintptr_t kPrefetchBytes = 4096;
constexpr int64_t kPrefetchMin = int64_t(1) << 20;

template <class T> inline void prefetch_line(const T* q, int64_t i) {
  if (q) __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(q + i) + kPrefetchBytes));
}

// Runs body(i) for every i < n, one cache line of T at a time, calling ahead(i) before each whole
// line (where the prefetches go); the tail past the last whole line runs without it.
template <class T, class Ahead, class Body> inline void by_lines(int64_t n, Ahead&& ahead, Body&& body) {
  constexpr int64_t kLine = 64 / sizeof(T);
  int64_t i = 0;
  for (; i + kLine <= n; i += kLine) {
    ahead(i);
    for (int64_t j = i; j < i + kLine; ++j) body(j);
  }
  for (; i < n; ++i) body(i);
}

template <class T, class R, bool kPre, bool kAcc, bool kEma>
inline void rule_loop(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict s0, T* __restrict s1,
                      T* __restrict s2, T* __restrict acc, T* __restrict ema, const Pre<T> pre, const R r) {
  auto body = [&](int64_t i) __attribute__((always_inline)) {
    T gi = g[i];
    if constexpr (kAcc) {
      gi = gi + acc[i];
      acc[i] = T(0);
    }
    T pi = p[i];
    if constexpr (kPre) {
      gi = gi * pre.scale;
      gi = std::min(std::max(gi, pre.lo), pre.hi);
      pi = pi - pi * pre.decay;
    }
    r(i, pi, gi, gi * gi, std::abs(gi), s0, s1, s2);
    p[i] = pi;
    if constexpr (kEma) ema[i] = pre.ema_mom * ema[i] + pre.ema_1m * pi;
  };
  const bool far = int64_t(sizeof(T)) * n >= kPrefetchMin;
  by_lines<T>(
      n,
      [&](int64_t i) __attribute__((always_inline)) {  // Note [Prefetch]
        if (far) {
          prefetch_line(p, i), prefetch_line(g, i), prefetch_line(s0, i), prefetch_line(s1, i), prefetch_line(s2, i);
          if constexpr (kAcc) prefetch_line(acc, i);
          if constexpr (kEma) prefetch_line(ema, i);
        }
      },
      body);
}

// Per-tensor gradient scale (accumulation and clip-by-norm), in double.
std::vector<double> grad_scales(const StepOptions& o, const std::vector<Tensor>& grads);
// Checks the options' lists against the variables (before any parallel work).
void check_options(const char* who, const VarList& vars, const StepOptions& o);
// Checks StepOptions::grad_squares (one tensor per variable, its shape and dtype; no clipping or
// accumulation with it).
void check_grad_squares(const char* who, const VarList& vars, const StepOptions& o);
// Copies the EMA into the variables (ema_overwrite).
void overwrite_with_ema(const VarList& vars, const VarList& ema);

inline bool needs_pre(const StepOptions& o) {
  return o.clip != Clip::Off || o.clip_value > 0 || !o.decay_mask.empty() || o.accumulators != nullptr;
}

template <class T> Pre<T> make_pre(const StepOptions& o, const std::vector<double>& scales, size_t t) {
  Pre<T> pre;
  if (!scales.empty()) pre.scale = T(scales[t]);
  if (o.clip_value > 0) {
    pre.lo = T(-o.clip_value);
    pre.hi = T(o.clip_value);
  }
  if (!o.decay_mask.empty() && o.decay_mask[t]) pre.decay = T(o.decay);
  pre.ema_mom = T(o.ema_momentum);
  pre.ema_1m = T(1.0 - o.ema_momentum);
  return pre;
}

// Note [Step buffers]
// A step works on raw pointers into the buffers it writes, so it holds a reference to each of
// them until it ends (`hold_writable`): a copy-on-write by another thread replaces a Variable's
// storage (Note [Variable writes]) and the old buffer, if the step held no reference, went with
// the last reader's, while the step still wrote into it (ASan: heap-use-after-free in rule_loop,
// four threads stepping one Adam while others assigned and read the Variable; the heap corruption
// of issue 14). Holding it, nothing is freed under the step. Since Note [Threads contract] the
// step also holds every written Variable's lock, so no such write can race it; the reference stays
// as the memory-safety guarantee that does not depend on every caller taking the locks.
using Held = std::vector<std::shared_ptr<Storage>>;
inline void* hold_writable(Variable& v, Held& held, bool copy_old = true) {
  Tensor& w = v.writable(copy_old);
  held.push_back(w.storage);
  return w.raw();
}

// Raw pointers of every variable, slot, accumulator and EMA, made writable once before the loop,
// and the references that keep them alive (See Note [Step buffers]).
struct Prepared {
  std::vector<int64_t> sizes;
  std::vector<void*> P, S[3], A, E;
  Held held;
};

Prepared prepare(const VarList& vars, const std::vector<VarList>& slots, const StepOptions& o);

template <class T> Ptrs<T> ptrs_at(const Prepared& pr, const std::vector<Tensor>& grads, size_t t, int64_t b) {
  auto off = [&](void* q) { return q ? static_cast<T*>(q) + b : nullptr; };
  return {off(pr.P[t]),    grads[t].data<T>() + b, off(pr.S[0][t]), off(pr.S[1][t]),
          off(pr.S[2][t]), off(pr.A[t]),           off(pr.E[t])};
}

template <class T, class R>
void run_piece(const StepOptions& o, bool pre_on, const Pre<T>& pre, const Ptrs<T>& q, int64_t n, const R& r) {
  const bool acc = o.accumulators != nullptr, ema = o.ema != nullptr;
  if (!pre_on && !ema) rule_loop<T, R, false, false, false>(n, q.p, q.g, q.s0, q.s1, q.s2, q.acc, q.ema, pre, r);
  else if (!acc && !ema) rule_loop<T, R, true, false, false>(n, q.p, q.g, q.s0, q.s1, q.s2, q.acc, q.ema, pre, r);
  else if (acc && !ema) rule_loop<T, R, true, true, false>(n, q.p, q.g, q.s0, q.s1, q.s2, q.acc, q.ema, pre, r);
  else if (!acc) rule_loop<T, R, true, false, true>(n, q.p, q.g, q.s0, q.s1, q.s2, q.acc, q.ema, pre, r);
  else rule_loop<T, R, true, true, true>(n, q.p, q.g, q.s0, q.s1, q.s2, q.acc, q.ema, pre, r);
}

// Runs the element-wise rule Rule<T>(hyper) over every variable in one multi-tensor pass.
template <template <class> class Rule>
void run_rule(const char* who, const VarList& vars, const std::vector<Tensor>& grads, const std::vector<VarList>& slots,
              const Hyper& hyper, const StepOptions& o) {
  std::vector<const VarList*> sl;
  for (const VarList& s : slots) sl.push_back(&s);
  check_update_args(who, vars, grads, sl);
  check_options(who, vars, o);
  const std::vector<double> scales = grad_scales(o, grads);
  const Rule<float> rf(hyper);
  const Rule<double> rd(hyper);
  Prepared pr = prepare(vars, slots, o);
  const bool pre_on = needs_pre(o);
  multi_tensor_apply(pr.sizes, [&](size_t t, int64_t b, int64_t e) {
    if (grads[t].dtype == DType::Float32)
      run_piece<float>(o, pre_on, make_pre<float>(o, scales, t), ptrs_at<float>(pr, grads, t, b), e - b, rf);
    else run_piece<double>(o, pre_on, make_pre<double>(o, scales, t), ptrs_at<double>(pr, grads, t, b), e - b, rd);
  });
  pr.held.clear();  // the pass is over: an overwrite writes in place again (Note [Step buffers])
  if (o.ema && o.ema_overwrite) overwrite_with_ema(vars, *o.ema);
}

}  // namespace optim
}  // namespace tg
