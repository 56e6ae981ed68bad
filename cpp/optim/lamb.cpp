// Lamb: Adam moments and a per-variable trust ratio ||p|| / ||update||. Two passes: the first
// updates the moments and reduces both norms per block (See Note [Deterministic reductions]), the
// second applies the update, recomputed from the stored moments with the same arithmetic.
#include "optim/pipeline.h"

namespace tg {
namespace optim {

namespace {
struct LambScalars {
  double lr, one_m_b1, one_m_b2, d1, d2, eps;
};

template <class T, bool kAcc> inline void lamb_moments(int64_t n, T* __restrict p, const T* __restrict g,
                                                       T* __restrict m, T* __restrict v, T* __restrict acc,
                                                       const Pre<T> pre, const LambScalars& s, double* sw, double* su,
                                                       const T* __restrict g2) {
  const T one_m_b1 = T(s.one_m_b1), one_m_b2 = T(s.one_m_b2), d1 = T(s.d1), d2 = T(s.d2), eps = T(s.eps);
  auto body = [&](int64_t i, double& aw, double& au) {
    T gi = g[i];
    if constexpr (kAcc) {
      gi = gi + acc[i];
      acc[i] = T(0);
    }
    gi = std::min(std::max(gi * pre.scale, pre.lo), pre.hi);
    T pi = p[i];
    pi = pi - pi * pre.decay;
    p[i] = pi;
    T mi = m[i] + (gi - m[i]) * one_m_b1;
    T vi = v[i] + ((g2 ? g2[i] : gi * gi) - v[i]) * one_m_b2;
    m[i] = mi;
    v[i] = vi;
    T u = (mi / d1) / (std::sqrt(vi / d2) + eps);
    aw += double(pi) * double(pi);
    au += double(u) * double(u);
  };
  double aw[8] = {0, 0, 0, 0, 0, 0, 0, 0}, au[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) body(i + j, aw[j], au[j]);
  for (; i < n; ++i) body(i, aw[0], au[0]);
  *sw = ((aw[0] + aw[1]) + (aw[2] + aw[3])) + ((aw[4] + aw[5]) + (aw[6] + aw[7]));
  *su = ((au[0] + au[1]) + (au[2] + au[3])) + ((au[4] + au[5]) + (au[6] + au[7]));
}

template <class T, bool kEma> inline void lamb_apply(int64_t n, T* __restrict p, const T* __restrict m,
                                                     const T* __restrict v, T* __restrict ema, T coef, const Pre<T> pre,
                                                     const LambScalars& s) {
  const T d1 = T(s.d1), d2 = T(s.d2), eps = T(s.eps);
  for (int64_t i = 0; i < n; ++i) {
    T u = (m[i] / d1) / (std::sqrt(v[i] / d2) + eps);
    T pi = p[i] - coef * u;
    p[i] = pi;
    if constexpr (kEma) ema[i] = pre.ema_mom * ema[i] + pre.ema_1m * pi;
  }
}
}  // namespace

// hyper: {learning_rate, beta_1, beta_2, epsilon, local_step}; slots: momentum, velocity.
void lamb(const VarList& vars, const std::vector<Tensor>& grads, const std::vector<VarList>& slots, const Hyper& h,
          const StepOptions& o) {
  check_update_args("Lamb", vars, grads, {&slots[0], &slots[1]});
  check_options("Lamb", vars, o);
  check_grad_squares("Lamb", vars, o);
  const std::vector<double> scales = grad_scales(o, grads);
  const LambScalars s{h.learning_rate,
                      1.0 - h.beta_1,
                      1.0 - h.beta_2,
                      1.0 - std::pow(h.beta_1, h.local_step),
                      1.0 - std::pow(h.beta_2, h.local_step),
                      h.epsilon};
  Prepared pr = prepare(vars, slots, o);
  std::vector<Block> blocks = make_blocks(pr.sizes);
  std::vector<double> pw(blocks.size()), pu(blocks.size());
  const bool acc = o.accumulators != nullptr;
  for_blocks(blocks, [&](size_t k, const Block& bl) {
    if (grads[bl.t].dtype == DType::Float32) {
      auto q = ptrs_at<float>(pr, grads, bl.t, bl.b);
      auto pre = make_pre<float>(o, scales, bl.t);
      const float* g2 = o.grad_squares ? (*o.grad_squares)[bl.t].data<float>() + bl.b : nullptr;
      if (acc) lamb_moments<float, true>(bl.e - bl.b, q.p, q.g, q.s0, q.s1, q.acc, pre, s, &pw[k], &pu[k], g2);
      else lamb_moments<float, false>(bl.e - bl.b, q.p, q.g, q.s0, q.s1, q.acc, pre, s, &pw[k], &pu[k], g2);
    } else {
      auto q = ptrs_at<double>(pr, grads, bl.t, bl.b);
      auto pre = make_pre<double>(o, scales, bl.t);
      const double* g2 = o.grad_squares ? (*o.grad_squares)[bl.t].data<double>() + bl.b : nullptr;
      if (acc) lamb_moments<double, true>(bl.e - bl.b, q.p, q.g, q.s0, q.s1, q.acc, pre, s, &pw[k], &pu[k], g2);
      else lamb_moments<double, false>(bl.e - bl.b, q.p, q.g, q.s0, q.s1, q.acc, pre, s, &pw[k], &pu[k], g2);
    }
  });
  std::vector<double> sw(vars.size(), 0.0), su(vars.size(), 0.0);
  for (size_t k = 0; k < blocks.size(); ++k) {
    sw[blocks[k].t] += pw[k];
    su[blocks[k].t] += pu[k];
  }
  std::vector<double> coef(vars.size());
  for (size_t t = 0; t < vars.size(); ++t) {
    const double wn = std::sqrt(sw[t]), un = std::sqrt(su[t]);
    coef[t] = ((wn > 0 && un > 0) ? wn / un : 1.0) * s.lr;
  }
  const bool ema = o.ema != nullptr;
  multi_tensor_apply(pr.sizes, [&](size_t t, int64_t b, int64_t e) {
    TG_DISPATCH_FLOAT(grads[t].dtype, T, {
      auto q = ptrs_at<T>(pr, grads, t, b);
      auto pre = make_pre<T>(o, scales, t);
      if (ema) lamb_apply<T, true>(e - b, q.p, q.s0, q.s1, q.ema, T(coef[t]), pre, s);
      else lamb_apply<T, false>(e - b, q.p, q.s0, q.s1, q.ema, T(coef[t]), pre, s);
    });
  });
  pr.held.clear();  // the pass is over: an overwrite writes in place again (Note [Step buffers])
  if (ema && o.ema_overwrite) overwrite_with_ema(vars, *o.ema);
}

}  // namespace optim
}  // namespace tg
