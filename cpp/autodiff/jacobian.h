// Jacobians by one backward pass per output row over a persistent view of a tape.
#pragma once
#include "autodiff/tape.h"

namespace tg {
namespace tape {

// jacobian: one result per source, shaped target.shape + source.shape; undefined where
// unconnected (zeros with zero_unconnected).
// batch (batch_jacobian): target [b, y...], one source [b, x...]; result [b, y..., x...]; a fully
// unconnected result is zeros whatever zero_unconnected says (TF's compatibility quirk).
// Releases the tape's nodes when it is not persistent, like compute_gradient.
std::vector<Tensor> compute_jacobian(Tape& tape, const Tensor& target, const std::vector<Tensor>& sources,
                                     bool zero_unconnected, bool batch);

}  // namespace tape
}  // namespace tg
