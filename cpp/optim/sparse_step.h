// The optimizer step for sparse gradients (tf.IndexedSlices). See Note [Sparse optimizer step]
// in sparse_step.cpp.
#pragma once
#include <vector>

#include "optim/optim.h"

namespace tg {
namespace optim {

// An IndexedSlices gradient of one variable: row indices[i] gets values[i] (duplicates add).
struct SparseRows {
  Tensor values;   // [n, var.shape[1:]...], the variable's dtype
  Tensor indices;  // [n] int32 or int64
};

// Whether `rule` has a sparse kernel (Lamb and Adafactor do not: the caller densifies).
bool sparse_step_supported(Rule rule);
// Whether the step touches only the rows in the slices (Keras scatters: SGD, Adagrad), when no
// weight decay or EMA makes it dense.
bool sparse_step_rows_only(Rule rule);

// One step of `rule` as Keras 3 applies IndexedSlices gradients. Options: clip (Norm only) and
// clip_value act on the slice values; decay, decay_mask, ema as in step(). Accumulators and
// GlobalNorm are rejected (Keras densifies there; the caller passes dense gradients instead).
void sparse_step(Rule rule, const VarList& vars, const std::vector<SparseRows>& grads,
                 const std::vector<VarList>& slots, const Hyper& hyper, const StepOptions& opts);

}  // namespace optim
}  // namespace tg
