// Keras 3.15 update rules (`update_step`) as element functors: rule(i, p, g, g2, ga, s0, s1, s2)
// updates the parameter value p (already decayed) with the preprocessed gradient g and the slots at
// index i. g2 and ga stand for g * g and |g| wherever the rule squares the gradient or takes its
// absolute value: the dense step passes exactly those, the sparse step (sparse_step.cpp) passes the
// per-row sums of the slices' squares and absolute values, as Keras's ops on tf.IndexedSlices do
// (See Note [Sparse optimizer step]). Per-step scalars are computed once in double in the constructor and cast to T.
// See Note [Fused update]. Each rule reads the Hyper fields (optim.h) named at it.
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "optim/optim.h"

namespace tg {
namespace optim {

#define TG_RULE_OP \
  inline void operator()(int64_t i, T& p, T g, T g2, T ga, T* __restrict s0, T* __restrict s1, T* __restrict s2) const

// SGD {learning_rate, momentum}; V: 0 plain, 1 momentum, 2 nesterov. Slots: momentum.
template <class T, int V> struct Sgd {
  T lr, mu;
  explicit Sgd(const Hyper& h) : lr(T(h.learning_rate)), mu(T(h.momentum)) {}
  TG_RULE_OP {
    if constexpr (V == 0) {
      p = p - g * lr;
    } else {
      T m = s0[i] * mu - g * lr;
      s0[i] = m;
      if constexpr (V == 2) p = p + (m * mu - g * lr);
      else p = p + m;
    }
  }
};
template <class T> using SgdPlain = Sgd<T, 0>;
template <class T> using SgdMomentum = Sgd<T, 1>;
template <class T> using SgdNesterov = Sgd<T, 2>;

// RMSprop {learning_rate, rho, momentum, epsilon}. Slots: velocity, then momentum if momentum > 0, then
// average_gradient if centered.
template <class T, bool kCentered, bool kMomentum> struct Rmsprop {
  T lr, rho, one_m_rho, mom, eps;
  explicit Rmsprop(const Hyper& h)
      : lr(T(h.learning_rate)), rho(T(h.rho)), one_m_rho(T(1.0 - h.rho)), mom(T(h.momentum)), eps(T(h.epsilon)) {}
  TG_RULE_OP {
    T v = rho * s0[i] + one_m_rho * g2;
    s0[i] = v;
    T den;
    if constexpr (kCentered) {
      T* __restrict avg = kMomentum ? s2 : s1;  // slots: velocity, [momentum,] average_gradient
      T a = rho * avg[i] + one_m_rho * g;
      avg[i] = a;
      den = v - a * a + eps;
    } else {
      den = v + eps;
    }
    T inc = (lr * g) / std::sqrt(den);
    if constexpr (kMomentum) {
      T m = mom * s1[i] + inc;
      s1[i] = m;
      p = p - m;
    } else {
      p = p - inc;
    }
  }
};
template <class T> using RmspropPlain = Rmsprop<T, false, false>;
template <class T> using RmspropCentered = Rmsprop<T, true, false>;
template <class T> using RmspropMomentum = Rmsprop<T, false, true>;
template <class T> using RmspropCenteredMomentum = Rmsprop<T, true, true>;

// Adam {learning_rate, beta_1, beta_2, epsilon, local_step}. Slots: momentum, velocity, velocity_hat.
template <class T, bool kAmsgrad> struct Adam {
  T alpha, one_m_b1, one_m_b2, eps;
  explicit Adam(const Hyper& h)
      : alpha(T(h.learning_rate * std::sqrt(1.0 - std::pow(h.beta_2, h.local_step)) /
                (1.0 - std::pow(h.beta_1, h.local_step)))),
        one_m_b1(T(1.0 - h.beta_1)), one_m_b2(T(1.0 - h.beta_2)), eps(T(h.epsilon)) {}
  TG_RULE_OP {
    T m = s0[i] + (g - s0[i]) * one_m_b1;
    T v = s1[i] + (g2 - s1[i]) * one_m_b2;
    s0[i] = m;
    s1[i] = v;
    if constexpr (kAmsgrad) {
      v = std::max(s2[i], v);
      s2[i] = v;
    }
    p = p - (m * alpha) / (std::sqrt(v) + eps);
  }
};
template <class T> using AdamPlain = Adam<T, false>;
template <class T> using AdamAmsgrad = Adam<T, true>;

// Adagrad {learning_rate, epsilon}. Slots: accumulator.
template <class T> struct Adagrad {
  T lr, eps;
  explicit Adagrad(const Hyper& h) : lr(T(h.learning_rate)), eps(T(h.epsilon)) {}
  TG_RULE_OP {
    T a = s0[i] + g2;
    s0[i] = a;
    p = p - (lr * g) / std::sqrt(a + eps);
  }
};

// Adadelta {learning_rate, rho, epsilon}. Slots: accumulated_grad, accumulated_delta_var.
template <class T> struct Adadelta {
  T lr, rho, one_m_rho, eps;
  explicit Adadelta(const Hyper& h)
      : lr(T(h.learning_rate)), rho(T(h.rho)), one_m_rho(T(1.0 - h.rho)), eps(T(h.epsilon)) {}
  TG_RULE_OP {
    T eg = rho * s0[i] + one_m_rho * g2;
    s0[i] = eg;
    T d = -((std::sqrt(s1[i] + eps) * g) / std::sqrt(eg + eps));
    // square(delta) per slice: c^2 * sum(g_i^2) for c = rms(delta_acc) / rms(eg); d * d when g2 == g * g
    T dd = (g2 == g * g) ? d * d : ((s1[i] + eps) / (eg + eps)) * g2;
    s1[i] = rho * s1[i] + one_m_rho * dd;
    p = p + lr * d;
  }
};

// Adamax {learning_rate, beta_1, beta_2, epsilon, local_step}. Slots: momentum, norm.
template <class T> struct Adamax {
  T lr, one_m_b1, b2, c, eps;
  explicit Adamax(const Hyper& h)
      : lr(T(h.learning_rate)), one_m_b1(T(1.0 - h.beta_1)), b2(T(h.beta_2)),
        c(T(1.0 - std::pow(h.beta_1, h.local_step))), eps(T(h.epsilon)) {}
  TG_RULE_OP {
    T m = s0[i] + (g - s0[i]) * one_m_b1;
    T u = std::max(b2 * s1[i], ga);
    s0[i] = m;
    s1[i] = u;
    p = p - (lr * m) / (c * (u + eps));
  }
};

// Nadam {learning_rate, beta_1, beta_2, epsilon, local_step, u_product}; u_product already multiplied by this step's
// mu_t (Keras updates it in _backend_update_step before the variables). Slots: momentum, velocity.
template <class T> struct Nadam {
  T lr, one_m_b1, one_m_b2, c1, c2, c3, eps;
  explicit Nadam(const Hyper& h) : lr(T(h.learning_rate)), one_m_b1(T(1.0 - h.beta_1)), one_m_b2(T(1.0 - h.beta_2)) {
    const double b1 = h.beta_1, t = h.local_step, up = h.u_product;
    const double u_t = b1 * (1.0 - 0.5 * std::pow(0.96, t)), u_t1 = b1 * (1.0 - 0.5 * std::pow(0.96, t + 1));
    c1 = T(u_t1 / (1.0 - up * u_t1));
    c2 = T((1.0 - u_t) / (1.0 - up));
    c3 = T(1.0 / (1.0 - std::pow(h.beta_2, t)));
    eps = T(h.epsilon);
  }
  TG_RULE_OP {
    T m = s0[i] + (g - s0[i]) * one_m_b1;
    T v = s1[i] + (g2 - s1[i]) * one_m_b2;
    s0[i] = m;
    s1[i] = v;
    T m_hat = c1 * m + c2 * g;
    T v_hat = v * c3;
    p = p - (m_hat * lr) / (std::sqrt(v_hat) + eps);
  }
};

// Ftrl {learning_rate, learning_rate_power, l1_regularization_strength, l2_regularization_strength,
// l2_shrinkage_regularization_strength, beta}. Slots: accumulator, linear.
// kSqrt: learning_rate_power == -0.5 (the default), where n^(-power) is a vectorisable sqrt.
template <class T, bool kSqrt> struct Ftrl {
  T lr, power, l1, two_l2, two_shrink;
  explicit Ftrl(const Hyper& h)
      : lr(T(h.learning_rate)), power(T(-h.learning_rate_power)), l1(T(h.l1_regularization_strength)),
        two_l2(T(2.0 * (h.l2_regularization_strength + h.beta / (2.0 * h.learning_rate)))),
        two_shrink(T(2.0 * h.l2_shrinkage_regularization_strength)) {}
  inline T pw(T x) const {
    if constexpr (kSqrt) return std::sqrt(x);
    else return std::pow(x, power);
  }
  TG_RULE_OP {
    T n = s0[i];
    T gs = g + two_shrink * p;
    T na = n + g2;
    T lin = s1[i] + (gs - ((pw(na) - pw(n)) / lr) * p);
    T q = pw(na) / lr + two_l2;
    T lc = std::min(std::max(lin, -l1), l1);
    p = (lc - lin) / q;
    s1[i] = lin;
    s0[i] = na;
  }
};
template <class T> using FtrlSqrt = Ftrl<T, true>;
template <class T> using FtrlPow = Ftrl<T, false>;

// Lion {learning_rate, beta_1, beta_2}. Slots: momentum.
template <class T> struct Lion {
  T lr, b1, one_m_b1, b2, one_m_b2;
  explicit Lion(const Hyper& h)
      : lr(T(h.learning_rate)), b1(T(h.beta_1)), one_m_b1(T(1.0 - h.beta_1)), b2(T(h.beta_2)),
        one_m_b2(T(1.0 - h.beta_2)) {}
  TG_RULE_OP {
    T c = s0[i] * b1 + g * one_m_b1;
    T sign = T(c > T(0)) - T(c < T(0));
    p = p - lr * sign;
    s0[i] = s0[i] * b2 + g * one_m_b2;
  }
};

#undef TG_RULE_OP

// Family dispatchers (rules_sgd_adaptive.cpp, rules_adam.cpp): true when `rule` is theirs.
bool step_sgd_adaptive(Rule rule, const VarList& vars, const std::vector<Tensor>& grads,
                       const std::vector<VarList>& slots, const Hyper& hyper, const StepOptions& o);
bool step_adam_family(Rule rule, const VarList& vars, const std::vector<Tensor>& grads,
                      const std::vector<VarList>& slots, const Hyper& hyper, const StepOptions& o);

}  // namespace optim
}  // namespace tg
