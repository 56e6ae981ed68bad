// The tape: TF's bookkeeping (tensorflow/c/eager/tape.h) over our Tensor ids.
// See Note [Recording] and Note [Backward pass].
#pragma once
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "autodiff/id_map.h"
#include "ops/ops.h"

namespace tg {

// What an op's backward needs besides its inputs and outputs.
struct Attrs {
  std::vector<int64_t> ints;  // axes, perm, shape ...
  bool flag_a = false;        // keepdims / transpose_a
  bool flag_b = false;        // transpose_b
  double scalar = 0.0;        // alpha, epsilon ...
  // An op whose backward is supplied at run time (custom_gradient): given the output gradients,
  // returns one gradient per input (undefined = None). Built in bindings/, may call into Python.
  std::function<std::vector<Tensor>(const std::vector<Tensor>& grads)> backward;
};

// One recorded op. Inputs and outputs always keep id, shape and dtype; they keep their data only
// when the op's backward reads it (OpDef::saves_inputs / saves_outputs).
struct Node {
  Op op;
  std::vector<Tensor> inputs;
  std::vector<Tensor> outputs;
  Attrs attrs;
};

// needs[i]: whether input i wants a gradient. grads: one per output, never undefined.
// out: one per input; leave undefined for "no gradient". A rule may return a gradient in the
// broadcast shape: compute_gradient sums it back to the input's shape (See Note [Backward pass]).
using VjpFn = void (*)(const Node& node, const Tensor* grads, const bool* needs, Tensor* out);

struct OpDef {
  VjpFn vjp;          // nullptr: not differentiable (comparisons, casts to int ...)
  bool saves_inputs;
  bool saves_outputs;
};
const OpDef& opdef(Op op);  // the derivative table, autodiff/derivatives.cpp

class Tape {
 public:
  Tape(bool persistent, bool watch_accessed_variables)
      : persistent(persistent), watch_accessed_variables(watch_accessed_variables) {}
  const bool persistent;
  const bool watch_accessed_variables;

  std::vector<std::shared_ptr<Node>> nodes;
  // tensor id -> index of the node that produced it, or -1 for a watched tensor
  IdMap producer;
  std::vector<std::shared_ptr<Variable>> watched_variables;

  bool watches(int64_t id) const { return producer.count(id) != 0; }
  void watch(const Tensor& t);  // non-float tensors are ignored (TF warns; the Python face does)
  void watch_variable(const std::shared_ptr<Variable>& v);
};

class Accumulator;  // autodiff/forward.h
namespace forward {
extern thread_local std::vector<std::shared_ptr<Accumulator>> t_active;
}

namespace tape {

// The thread's stack of recording tapes.
extern thread_local std::vector<std::shared_ptr<Tape>> t_active;
// Whether anything records: a tape or a forward accumulator (See Note [Forward mode]).
inline bool any_active() { return !t_active.empty() || !forward::t_active.empty(); }
void push(const std::shared_ptr<Tape>& tape);
void pop(const Tape* tape);  // removes it wherever it is on the stack
bool is_recording(const Tape* tape);

// A Variable was read as an op input: tapes that watch accessed variables watch it.
void variable_accessed(const std::shared_ptr<Variable>& v);

// Records op on every active tape that watches one of its float inputs. Call only when
// any_active(); ops.cpp does.
void record(Op op, std::initializer_list<Tensor> inputs, std::initializer_list<Tensor> outputs, Attrs attrs = {});
void record(Op op, std::vector<Tensor> inputs, std::vector<Tensor> outputs, Attrs attrs);

// The backward pass. targets: their sum is differentiated; output_grads: one per target,
// undefined means ones. Returns one tensor per source, undefined where unconnected (or zeros
// with zero_unconnected). Releases the tape's nodes when it is not persistent.
// on_source_ready(i, grad), when given, is called once per source as soon as the walk has run
// every node that reads it, with the value that will be result[i] (See Note [Source ready]).
using SourceReadyFn = std::function<void(size_t index, const Tensor& grad)>;
std::vector<Tensor> compute_gradient(Tape& tape, const std::vector<Tensor>& targets, const std::vector<Tensor>& sources,
                                     const std::vector<Tensor>& output_grads, bool zero_unconnected,
                                     const SourceReadyFn& on_source_ready = nullptr);

}  // namespace tape
}  // namespace tg
