// The optimizer step for sparse gradients (tf.IndexedSlices). See Note [Sparse optimizer step]
// in sparse_step.cpp.
#pragma once
#include <memory>
#include <vector>

#include "optim/optim.h"

namespace tg {
namespace optim {

// An IndexedSlices gradient of one variable: row indices[i] gets values[i] (duplicates add).
struct SparseRows {
  Tensor values;   // [n, var.shape[1:]...], the variable's dtype
  Tensor indices;  // [n] int32 or int64
};

// Per variable, kept by the optimizer between sparse steps: the rows whose slots may be nonzero.
// Rules whose all-zero slot row is a fixed point of a zero-gradient step (Adam, RMSprop, ...)
// update only these rows and the touched ones (See Note [Sparse optimizer step]).
struct SparseRowState {
  std::vector<int64_t> live;        // sorted row indices
  std::vector<uint64_t> versions;   // the slots' Variable::version after the last sparse step
  bool valid = false;               // false: rebuild `live` by scanning the slots
  int64_t rows_visited = 0;         // rows the last step updated (for tests and benchmarks)
  int64_t scans = 0;                // how often `live` was rebuilt by scanning the slots
};

// Whether `rule` has a sparse kernel (Lamb and Adafactor do not: the caller densifies).
bool sparse_step_supported(Rule rule);
// Whether the step touches only the rows in the slices (Keras scatters: SGD, Adagrad), when no
// weight decay or EMA makes it dense.
bool sparse_step_rows_only(Rule rule);

// One step of `rule` as Keras 3 applies IndexedSlices gradients. Options: clip (Norm only) and
// clip_value act on the slice values; decay, decay_mask, ema as in step(). Accumulators and
// GlobalNorm are rejected (Keras densifies there; the caller passes dense gradients instead).
// `states`: one per variable (or empty): with them, zero-state rows are skipped.
void sparse_step(Rule rule, const VarList& vars, const std::vector<SparseRows>& grads,
                 const std::vector<VarList>& slots, const Hyper& hyper, const StepOptions& opts,
                 const std::vector<std::shared_ptr<SparseRowState>>& states = {});

}  // namespace optim
}  // namespace tg
