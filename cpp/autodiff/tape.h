// The tape: TF's bookkeeping (tensorflow/c/eager/tape.h) over our Tensor ids.
// See Note [Recording] and Note [Backward pass].
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "autodiff/id_map.h"
#include "ops/op_list.h"
#include "tensor/tensor.h"

namespace tg {

// What an op's rules need besides its inputs and outputs. Each op sets the fields it uses.
struct Attrs {
  std::vector<int64_t> ints;   // axes, perm, slice begin+stride, conv window, gather axis ...
  bool keepdims = false;       // Sum, Mean, Max, Min, Prod
  bool transpose_a = false;    // MatMul
  bool transpose_b = false;    // MatMul
  bool exclusive = false;      // Cumsum, Cumprod
  bool reverse = false;        // Cumsum, Cumprod
  bool adjoint = false;        // MatrixInverse, MatrixSolve, MatrixTriangularSolve
  bool lower = false;          // MatrixTriangularSolve
  bool full_matrices = false;  // Qr, Svd
  bool compute_uv = false;     // Svd
  double alpha = 0.0;          // LeakyRelu, LeakyReluGrad
  double fill = 0.0;           // StridedSliceGrad: the value outside the slice
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
// tangents: one per input, undefined for a zero tangent; out: one per output, left undefined for
// zero. The node holds every input and output with its data (the forward has just run).
using JvpFn = void (*)(const Node& node, const Tensor* tangents, Tensor* out);

// What a rule reads besides the upstream gradient; a node keeps only the data its rule declared
// (Note [Saved tensors]).
enum Saves : uint8_t { kSavesNothing = 0, kSavesInputs = 1, kSavesOutputs = 2, kSavesBoth = 3 };

// One primitive's entry in the registry (Note [One spot per primitive], autodiff/derivatives.cpp).
struct OpDef {
  VjpFn vjp = nullptr;  // nullptr: no gradient (see `not_differentiable`)
  JvpFn jvp = nullptr;  // nullptr: forward mode derives one from the vjp (double-back)
  bool saves_inputs = false;
  bool saves_outputs = false;
  bool not_differentiable = false;  // listed as such: comparisons, logic, integer outputs
};
const OpDef& opdef(Op op);  // the registry, autodiff/derivatives.cpp

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
// Whether anything records: a tape or a forward accumulator (See Note [Forward mode]). Every op
// asks, so it is one plain thread-local int (the vectors' thread-locals cost a call to their
// initialisation wrapper and one to __tls_get_addr each, in a shared library); whatever changes
// either stack calls refresh_any() after.
extern thread_local int t_any;
inline bool any_active() { return t_any != 0; }
void refresh_any();
void push(const std::shared_ptr<Tape>& tape);
void pop(const Tape* tape);  // removes it wherever it is on the stack
bool is_recording(const Tape* tape);

// A Variable was read as an op input: tapes that watch accessed variables watch it.
void variable_accessed(const std::shared_ptr<Variable>& v);

// The one recording helper (Note [Recording]): every differentiable primitive calls it once,
// after its kernel, with its inputs and outputs. It records nothing (one thread-local load) when
// no tape is active, and nothing when no output is differentiable or no active tape watches an
// input. `fill_attrs(Attrs&)` sets what the rules need; it runs only when the op is recorded.
struct Recording;  // the tapes that will record one op
bool begin_record(Recording& r, const Tensor* in, size_t nin, const Tensor* out, size_t nout);
void end_record(Recording& r, Op op, const Tensor* in, size_t nin, const Tensor* out, size_t nout, Attrs&& attrs);
struct Recording {
  Tape* hits[16];
  size_t nhits = 0;
  bool forward = false;  // an active accumulator has a tangent for an input (Note [Forward mode])
};
struct NoAttrs {
  void operator()(Attrs&) const {}
};
extern thread_local bool t_save_nothing;  // test hook (Note [Saved tensors])
// Nodes keep every input's and output's data (a traced rule captured as its primitives, Note
// [Fused elementwise]: its constants are read from the nodes).
extern thread_local bool t_save_all;
template <class Fill = NoAttrs>
inline void record_n(Op op, const Tensor* in, size_t nin, const Tensor* out, size_t nout, Fill&& fill_attrs = {}) {
  if (!any_active()) return;
  Recording r;
  if (!begin_record(r, in, nin, out, nout)) return;
  Attrs attrs;
  fill_attrs(attrs);
  end_record(r, op, in, nin, out, nout, std::move(attrs));
}
template <class Fill = NoAttrs>
inline void record(Op op, std::initializer_list<Tensor> in, std::initializer_list<Tensor> out, Fill&& fill_attrs = {}) {
  record_n(op, in.begin(), in.size(), out.begin(), out.size(), std::forward<Fill>(fill_attrs));
}
template <class Fill = NoAttrs>
inline void record(Op op, const std::vector<Tensor>& in, const std::vector<Tensor>& out, Fill&& fill_attrs = {}) {
  record_n(op, in.data(), in.size(), out.data(), out.size(), std::forward<Fill>(fill_attrs));
}

// The backward pass. targets: their sum is differentiated; output_grads: one per target,
// undefined means ones. Returns one tensor per source, undefined where unconnected (or zeros
// with zero_unconnected). Releases the tape's nodes when it is not persistent.
// on_source_ready(i, grad), when given, is called once per source as soon as the walk has run
// every node that reads it, with the value that will be result[i] (See Note [Source ready]).
using SourceReadyFn = std::function<void(size_t index, const Tensor& grad)>;
std::vector<Tensor> compute_gradient(Tape& tape, const std::vector<Tensor>& targets, const std::vector<Tensor>& sources,
                                     const std::vector<Tensor>& output_grads, bool zero_unconnected,
                                     const SourceReadyFn& on_source_ready = nullptr);

// The walk compute_gradient would make, planned before it runs, for a tf.function trace that
// records the backward pass as nodes (See Note [Unrolled gradient], graph/unroll.cpp). Steps are the
// rules it may run, in its order: a superset of those it runs (a rule may give a needed input no
// gradient), so a replay checks at each step whether an output has a gradient, as the walk does.
struct WalkStep {
  std::shared_ptr<Node> node;
  std::vector<char> needs;  // per input: whether it may get a gradient
};
struct WalkPlan {
  std::vector<char> seeded;  // per target: gets a seed (differentiable and depends on a source)
  std::vector<WalkStep> steps;
  std::vector<char> reached;  // per source: may get a gradient
};
// False (with `why`) when the walk cannot be planned ahead: a rule that may make a sparse gradient,
// a custom gradient (Python decides), an op without a gradient (the walk raises).
bool plan_walk(const Tape& tape, const std::vector<Tensor>& targets, const std::vector<Tensor>& sources, WalkPlan& plan,
               std::string& why);

}  // namespace tape
}  // namespace tg
