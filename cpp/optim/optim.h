// Fused optimizer kernels: one call per step updates every variable, one pass over memory per
// element (See Note [Fused update] and Note [Step pipeline]).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace tg {
namespace optim {

using VarList = std::vector<std::shared_ptr<Variable>>;

// Gradient clipping by norm (Keras `clipnorm`, `global_clipnorm`); `_core.GradientClip` in Python.
enum class Clip : uint8_t { Off, Norm, GlobalNorm };

// What Keras does around `update_step` (BaseOptimizer.apply), folded into the same pass.
// See Note [Step pipeline].
struct StepOptions {
  Clip clip = Clip::Off;       // scale the gradients by their norm: per tensor or global
  double clip_norm = 0;        // the clipnorm / global_clipnorm value
  double clip_value = 0;       // > 0: clip every gradient element to [-clip_value, clip_value]
  double decay = 0;            // weight_decay * learning_rate (decoupled decay)
  std::vector<uint8_t> decay_mask;  // per variable: 1 = decay; empty: no decay at all
  const VarList* accumulators = nullptr;  // gradient accumulation update step: g = (g + acc) / N, acc = 0
  double accum_scale = 1;      // 1 / N
  const VarList* ema = nullptr;  // moving averages of the variables (use_ema)
  double ema_momentum = 0;     // 0 on the first step, as in Keras
  bool ema_overwrite = false;  // copy the averages into the variables after the update
  // Lamb and Adafactor: per variable, the per-element sums of the squared tf.IndexedSlices entries,
  // used where the rule squares the gradient (Keras squares each slice before densifying; See Note
  // [Sparse optimizer step]). Only without clipping and accumulation (the caller clips the slices).
  const std::vector<Tensor>* grad_squares = nullptr;
};

// Checks that grads[i] matches vars[i] (and each slot list) in dtype and shape, and that no
// variable appears twice.
void check_update_args(const char* who, const VarList& vars, const std::vector<Tensor>& grads,
                       const std::vector<const VarList*>& slots);

// The update rule of a step (Keras's `update_step` of one optimizer and its variant); Python
// sees it as the enum `_core.OptimizerRule`, with the lower-case names in rule_name().
enum class Rule : uint8_t {
  Sgd,
  SgdMomentum,
  SgdNesterov,
  Rmsprop,
  RmspropMomentum,
  RmspropCentered,
  RmspropCenteredMomentum,
  Adam,
  AdamAmsgrad,
  Adagrad,
  Adadelta,
  Adamax,
  Nadam,
  Ftrl,
  Lion,
  Lamb,
  Adafactor,
};
constexpr int kNumRules = int(Rule::Adafactor) + 1;

// "sgd", "sgd_momentum", ..., "adafactor" (the Python enum's member names).
const char* rule_name(Rule r);
// How many slot lists the rule reads and writes, in the order its Keras optimizer creates them.
size_t rule_slots(Rule r);

// The hyper-parameters of one step, by their Keras names. Each rule reads the fields its
// optimizer has (listed at the rule in rules.h, lamb.cpp, adafactor.cpp) and ignores the rest.
struct Hyper {
  double learning_rate = 0;  // this step's value (schedules are evaluated by the caller)
  double local_step = 1;     // iterations + 1: bias corrections (Adam, Adamax, Nadam, Lamb, Adafactor)
  double momentum = 0;       // SGD, RMSprop
  double rho = 0;            // RMSprop, Adadelta
  double beta_1 = 0;         // Adam, Adamax, Nadam, Lamb, Lion
  double beta_2 = 0;         // Adam, Adamax, Nadam, Lamb, Lion
  double epsilon = 0;        // RMSprop, Adam, Adagrad, Adadelta, Adamax, Nadam, Lamb
  double u_product = 1;      // Nadam: product of the momentum schedule, this step's mu_t included
  double learning_rate_power = -0.5;                // Ftrl
  double l1_regularization_strength = 0;            // Ftrl
  double l2_regularization_strength = 0;            // Ftrl
  double l2_shrinkage_regularization_strength = 0;  // Ftrl
  double beta = 0;                                  // Ftrl
  double beta_2_decay = 0;                          // Adafactor
  double epsilon_1 = 0;                             // Adafactor
  double epsilon_2 = 0;                             // Adafactor
  double clip_threshold = 0;                        // Adafactor
  bool relative_step = false;  // Adafactor: lr_t = min(learning_rate, 1 / sqrt(local_step))
};

// One optimizer step of `rule` over every variable. `slots[k]` holds the k-th slot of every
// variable (rule_slots(rule) lists).
void step(Rule rule, const VarList& vars, const std::vector<Tensor>& grads, const std::vector<VarList>& slots,
          const Hyper& hyper, const StepOptions& opts);

// Gradient accumulation between update steps: acc += g for every pair.
void accumulate(const VarList& accs, const std::vector<Tensor>& grads);
// avg = momentum * avg + (1 - momentum) * var for every pair.
void ema_update(const VarList& vars, const VarList& avgs, double momentum);
// Sum of squares of every tensor (of g + acc when `accs` is given), each over fixed blocks
// (See Note [Deterministic reductions]).
std::vector<double> sum_squares(const std::vector<Tensor>& grads, const VarList* accs);

// Bandwidth roof for benchmarks: reads a, b, c, d and writes a, c, d in place (Adam's streams).
void copy_probe(float* a, const float* b, float* c, float* d, int64_t n);

// Rule families (rules_sgd_adaptive.cpp, rules_adam.cpp, lamb.cpp, adafactor.cpp).
void lamb(const VarList& vars, const std::vector<Tensor>& grads, const std::vector<VarList>& slots, const Hyper& hyper,
          const StepOptions& opts);
void adafactor(const VarList& vars, const std::vector<Tensor>& grads, const std::vector<VarList>& slots,
               const Hyper& hyper, const StepOptions& opts);

}  // namespace optim
}  // namespace tg
