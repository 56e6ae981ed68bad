// Forward-mode autodiff: tf.autodiff.ForwardAccumulator's engine side. See Note [Forward mode].
#pragma once
#include <memory>
#include <vector>

#include "autodiff/id_map.h"
#include "autodiff/tape.h"

namespace tg {

// One accumulator: the tangent (Jacobian-vector product) of every tensor computed from its
// primals while it is active, by tensor id.
class Accumulator {
 public:
  // Sets the tangent of `primal` (a second watch of the same tensor adds). The tangent must
  // have the primal's shape and dtype (the Python face checks first, with TF's messages).
  void watch(const Tensor& primal, const Tensor& tangent);
  const Tensor* find(int64_t id) const {
    const int64_t* s = slot_.find(id);
    return s ? &tangents_[size_t(*s)] : nullptr;
  }
  // Sets the tangent of tensor `id`. With `owner` (the tensor's buffer), the entry is dropped once
  // that buffer is gone: nothing can look it up or compute from it any more (TF drops a JVP when
  // its primal is deleted). Watched primals have no owner (a Variable's buffer changes on assign).
  void set(int64_t id, Tensor t, const std::shared_ptr<Storage>& owner = nullptr);
  size_t size() const { return slot_.size(); }
  // The tapes that were recording when the accumulator was entered: only they record its JVP
  // computations (TF: more deeply nested tapes ignore outer accumulators' products).
  std::vector<std::weak_ptr<Tape>> outer_tapes;
  // Which ops this accumulator computed tangents for (tests check every rule is exercised).
  std::vector<char> ops_seen = std::vector<char>(size_t(Op::kCount), 0);

 private:
  void sweep();  // drops the entries whose owner is gone
  IdMap slot_;
  std::vector<Tensor> tangents_;
  std::vector<int64_t> ids_;
  std::vector<std::weak_ptr<Storage>> owners_;
  std::vector<char> owned_;
  size_t next_sweep_ = 4096;
};

namespace forward {

// The thread's stack of active accumulators, in entry order.
extern thread_local std::vector<std::shared_ptr<Accumulator>> t_active;
inline bool any_active() { return !t_active.empty(); }
// Whether an active accumulator has a tangent for one of these (float) tensors.
bool any_tangent(const Tensor* in, size_t nin);
void push(const std::shared_ptr<Accumulator>& acc);  // ValueError when already recording
void pop(const Accumulator* acc);                    // ValueError when not recording
bool is_recording(const Accumulator* acc);

// Called for every differentiable op run while an accumulator is active (tape::record does):
// every accumulator that has a tangent for one of the float inputs computes the outputs'.
// An output that already has a tangent keeps it (custom_gradient's outputs, See alias()).
void record(Op op, const Tensor* in, size_t nin, const Tensor* out, size_t nout, const Attrs& attrs);

// `copy` gets `orig`'s tangent on every active accumulator that has one (custom_gradient's
// outputs are copies of what its function returned; TF keeps the JVP computed through f).
void alias(const Tensor& orig, const Tensor& copy);

// The JVP of node n by transposing its VJP rule ("double back"): J u = d/dv <J^T v, u>.
void jvp_by_double_back(const Node& n, const Tensor* tangents, Tensor* out);

// Testing and benchmarking: when true, every op uses double back, also those with an explicit JVP
// rule (OpDef::jvp, registered in derivatives.cpp).
void set_force_double_back(bool on);
bool force_double_back();

}  // namespace forward
}  // namespace tg
