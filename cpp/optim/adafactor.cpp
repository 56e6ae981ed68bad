// Adafactor (Keras 3): factored second moments for rank >= 2 (row means r over the last axis,
// column means c over the second-to-last axis), a full velocity otherwise; the update is scaled
// by max(epsilon_2, RMS(p)) and clipped by RMS(u) / clip_threshold. Several passes per variable
// (the RMS values need the whole tensor), all in this one call.
#include <vector>

#include "optim/pipeline.h"

namespace tg {
namespace optim {

namespace {
struct AdafactorScalars {
  double rho, beta, eps1, eps2, clip;
};

template <class T> void adafactor_one(const Shape& shape, T* p, const T* g_in, T* r, T* c, T* v, T* acc, T* ema,
                                      const Pre<T>& pre, const AdafactorScalars& s, bool use_acc, bool use_ema, T* g,
                                      double* col, const T* g2) {
  // g2: the sums of the squared slices (See Note [Sparse optimizer step]); else g * g
  const int64_t n = shape.numel();
  if (n == 0) return;
  double sp = 0;
  for (int64_t i = 0; i < n; ++i) {
    T gi = g_in[i];
    if (use_acc) {
      gi = gi + acc[i];
      acc[i] = T(0);
    }
    g[i] = std::min(std::max(gi * pre.scale, pre.lo), pre.hi);
    T pi = p[i];
    pi = pi - pi * pre.decay;
    p[i] = pi;
    sp += double(pi) * double(pi);
  }
  const T alpha = T(std::max(s.eps2, std::sqrt(sp / double(n))) * s.rho);
  const T beta = T(s.beta), one_m_beta = T(1.0 - s.beta), eps1 = T(s.eps1);
  if (shape.ndim >= 2) {
    const int64_t C = shape[shape.ndim - 1], R = shape[shape.ndim - 2], B = n / (R * C);
    for (int64_t b = 0; b < B; ++b) {
      const T* gb = g + b * R * C;
      const T* g2b = g2 ? g2 + b * R * C : nullptr;
      std::fill(col, col + C, 0.0);
      double rsum = 0;
      for (int64_t i = 0; i < R; ++i) {
        double row = 0;
        for (int64_t j = 0; j < C; ++j) {
          const double q = double((g2b ? g2b[i * C + j] : gb[i * C + j] * gb[i * C + j]) + eps1);
          row += q;
          col[j] += q;
        }
        T ri = beta * r[b * R + i] + one_m_beta * T(row / double(C));
        r[b * R + i] = ri;
        rsum += double(ri);
      }
      for (int64_t j = 0; j < C; ++j) c[b * C + j] = beta * c[b * C + j] + one_m_beta * T(col[j] / double(R));
      const T rmean = T(rsum / double(R));
      for (int64_t i = 0; i < R; ++i) {
        const T rr = r[b * R + i] / rmean;
        T* __restrict vb = v + b * R * C + i * C;
        const T* __restrict cb = c + b * C;
        for (int64_t j = 0; j < C; ++j) vb[j] = rr * cb[j];
      }
    }
  } else {
    for (int64_t i = 0; i < n; ++i) v[i] = beta * v[i] + one_m_beta * ((g2 ? g2[i] : g[i] * g[i]) + eps1);
  }
  double su = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T u = g[i] / std::sqrt(v[i]);
    g[i] = u;
    // Keras's rms of the slices g_i / sqrt(v): sum_i g_i^2 / v per element
    su += g2 ? double(g2[i] / v[i]) : double(u) * double(u);
  }
  const T den = T(std::max(1.0, double(T(std::sqrt(su / double(n)))) / s.clip));
  for (int64_t i = 0; i < n; ++i) {
    T pi = p[i] - alpha * (g[i] / den);
    p[i] = pi;
    if (use_ema) ema[i] = pre.ema_mom * ema[i] + pre.ema_1m * pi;
  }
}
}  // namespace

// hyper: {learning_rate, beta_2_decay, epsilon_1, epsilon_2, clip_threshold, local_step, relative_step};
// slots: r, c, velocity. r and c have shapes shape[:-1] and shape[:-2] + shape[-1:] for rank >= 2
// and are unused placeholders otherwise.
void adafactor(const VarList& vars, const std::vector<Tensor>& grads, const std::vector<VarList>& slots, const Hyper& h,
               const StepOptions& o) {
  check_update_args("Adafactor", vars, grads, {&slots[2]});
  check_options("Adafactor", vars, o);
  check_grad_squares("Adafactor", vars, o);
  for (size_t i = 0; i < vars.size(); ++i) {
    const Shape& sh = vars[i]->value.shape;
    if (sh.ndim < 2) continue;
    Shape rs = sh, cs = sh;
    rs.ndim -= 1;
    cs.ndim -= 1;
    cs[cs.ndim - 1] = sh[sh.ndim - 1];
    if (!slots[0][i] || !slots[1][i] || slots[0][i]->value.shape != rs || slots[1][i]->value.shape != cs ||
        slots[0][i]->value.dtype != vars[i]->value.dtype || slots[1][i]->value.dtype != vars[i]->value.dtype)
      throw InvalidArgument("Adafactor: factored slots of variable '" + vars[i]->name + "' must have shapes " +
                            rs.str() + " and " + cs.str());
  }
  const double lr = h.learning_rate, t = h.local_step;
  const double lr_t = h.relative_step ? std::min(lr, 1.0 / std::sqrt(t)) : lr;
  const AdafactorScalars s{std::min(lr_t, 1.0 / std::sqrt(t)), 1.0 - std::pow(t, h.beta_2_decay), h.epsilon_1,
                           h.epsilon_2, h.clip_threshold};
  const std::vector<double> scales = grad_scales(o, grads);
  std::vector<VarList> full = {slots[2]};
  Prepared pr = prepare(vars, full, o);
  std::vector<void*> R(vars.size(), nullptr), C(vars.size(), nullptr);
  // Scratch (the preprocessed gradient, then u; column sums) allocated before the parallel loop.
  std::vector<std::vector<double>> scratch(vars.size()), cols(vars.size());
  for (size_t i = 0; i < vars.size(); ++i) {
    const Tensor& v = vars[i]->value;
    scratch[i].resize(size_t(v.numel() + 1) * itemsize(v.dtype) / sizeof(double) + 1);
    if (v.ndim() >= 2) cols[i].resize(size_t(v.shape[v.ndim() - 1]));
  }
  for (size_t i = 0; i < vars.size(); ++i)
    if (vars[i]->value.ndim() >= 2) {
      R[i] = hold_writable(*slots[0][i], pr.held);  // See Note [Step buffers]
      C[i] = hold_writable(*slots[1][i], pr.held);
    }
  // One variable per task: the passes of a variable depend on each other's reductions.
  parallel_for(int64_t(vars.size()), 2, [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) {
      const size_t t = size_t(k);
      TG_DISPATCH_FLOAT(grads[t].dtype, T, {
        auto q = ptrs_at<T>(pr, grads, t, 0);
        adafactor_one<T>(vars[t]->value.shape, q.p, q.g, static_cast<T*>(R[t]), static_cast<T*>(C[t]), q.s0, q.acc,
                         q.ema, make_pre<T>(o, scales, t), s, o.accumulators != nullptr, o.ema != nullptr,
                         reinterpret_cast<T*>(scratch[t].data()), cols[t].data(),
                         o.grad_squares ? (*o.grad_squares)[t].data<T>() : nullptr);
      });
    }
  });
  pr.held.clear();  // the pass is over: an overwrite writes in place again (Note [Step buffers])
  if (o.ema && o.ema_overwrite) overwrite_with_ema(vars, *o.ema);
}

}  // namespace optim
}  // namespace tg
