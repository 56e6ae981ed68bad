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

// What Keras does around `update_step` (BaseOptimizer.apply), folded into the same pass.
// See Note [Step pipeline].
struct StepOptions {
  int clip_mode = 0;           // 0 none, 1 clipnorm (per tensor), 2 global_clipnorm
  double clip_norm = 0;        // the clipnorm / global_clipnorm value
  double clip_value = 0;       // > 0: clip every gradient element to [-clip_value, clip_value]
  double decay = 0;            // weight_decay * learning_rate (decoupled decay)
  std::vector<uint8_t> decay_mask;  // per variable: 1 = decay; empty: no decay at all
  const VarList* accumulators = nullptr;  // gradient accumulation update step: g = (g + acc) / N, acc = 0
  double accum_scale = 1;      // 1 / N
  const VarList* ema = nullptr;  // moving averages of the variables (use_ema)
  double ema_momentum = 0;     // 0 on the first step, as in Keras
  bool ema_overwrite = false;  // copy the averages into the variables after the update
};

// Checks that grads[i] matches vars[i] (and each slot list) in dtype and shape, and that no
// variable appears twice.
void check_update_args(const char* who, const VarList& vars, const std::vector<Tensor>& grads,
                       const std::vector<const VarList*>& slots);

// One optimizer step. `kind` names the rule (see optim/rules.h for the hyper-parameter order
// of each): "sgd", "sgd_momentum", "sgd_nesterov", "rmsprop" (+ "_centered", "_momentum",
// "_centered_momentum"), "adam", "adam_amsgrad", "adagrad", "adadelta", "adamax", "nadam",
// "ftrl", "lion", "lamb", "adafactor". `slots[k]` holds the k-th slot of every variable.
void step(const std::string& kind, const VarList& vars, const std::vector<Tensor>& grads,
          const std::vector<VarList>& slots, const std::vector<double>& hyper, const StepOptions& opts);

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
void lamb(const VarList& vars, const std::vector<Tensor>& grads, const std::vector<VarList>& slots,
          const std::vector<double>& hyper, const StepOptions& opts);
void adafactor(const VarList& vars, const std::vector<Tensor>& grads, const std::vector<VarList>& slots,
               const std::vector<double>& hyper, const StepOptions& opts);

}  // namespace optim
}  // namespace tg
