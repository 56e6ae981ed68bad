// Polymorphic traces: one trace for an input signature with None dimensions (See Note
// [Polymorphic traces]).
#include <cstring>

#include "autodiff/forward.h"
#include "autodiff/tape.h"
#include "graph/trace.h"

namespace tg {
namespace trace {

// Note [Polymorphic traces]
// A tf.function whose input signature has None dimensions traces once, on the first call's
// shapes, and replays on every shape the signature allows. A trace records calls with their
// non-tensor arguments fixed, so it holds for other shapes only if nothing derived from a varying
// size was fixed in it. The recorder finds out which sizes vary by running every node a second
// time, as it is recorded, on "shadow" values: each input with its None dimensions resized
// (Python passes it doubled; function.py `_shadow_of`). A dimension whose shadow size differs from
// the traced size follows the inputs (dynamic_dims). Then:
// - Sizes that vary stay in the graph: tf.shape/tf.size of such a tensor is a recorded call
//   (shape_tensor); reshape, broadcast_to, fill, zeros and ones given a shape computed in the
//   function (a tensor, or a list holding scalar tensors) record it as an argument
//   (bindings/ops.cpp `traced_shape`); slicing a varying dimension is one call that resolves its
//   bounds at each replay (slice_spec), as are tf.pad, tf.roll and tf.range with a computed bound
//   (pad_resolved, roll_resolved, range_of); the shape functions in _ops_shape.py see varying sizes
//   as scalar tensors (`_shape`); random draws take computed operands as host-call tensors and
//   give the shadow run stand-ins of their shape (random.py `_drawn`).
// - Python reads of a varying size: user code gets None there (TF's static shape); tapegrad's own
//   code gets a `_TracedShape` whose item reads specialize the trace (its tuple holds None, so
//   numpy never sees a baked size); `_sizes` for plain-tuple reads; reading the value of a tensor
//   computed from sizes alone (shape_only) specializes instead of poisoning (host_read).
// - Bindings that compute a call's arguments from a shape call shape_read() first (gather_nd,
//   scatter, unstack along a varying axis, segment sums): a varying dimension there specializes.
// - A node that fails on the shadows would fail on other shapes: the trace is specialized; so is a
//   first call whose size in a None dimension is 0 or 1 (1 broadcasts).
// - Nodes with effects (writes, tapes, host calls) never run on the shadows; their results keep the
//   traced values when everything they read is the same in the shadow run (so their shapes cannot
//   differ), or the host call's own stand-ins, and are unknown otherwise (reading an unknown shape
//   specializes). Control flow: a loop
//   variable starts as its initial value's shadow, a cond's results are those of the branch the
//   shadow predicate takes.
// - Gradients are not unrolled (the steps keep tensors' traced shapes, unroll.cpp): the gradient
//   node walks the replay's own tape, which has the replay's shapes. Fusion is off (fixed sizes).
// A specialized trace keeps the exact input shapes; tf.function then traces other shapes again,
// as it does for a signature without None dimensions (function.py records the reason, which
// `experimental_get_polymorphism` shows). Shadow runs record on no tape or accumulator and never
// write a Variable.

namespace {
// Runs a shadow node with no tape or forward accumulator recording (the function's own tapes are
// active while it traces).
struct QuietTapes {
  std::vector<std::shared_ptr<Tape>> tapes;
  std::vector<std::shared_ptr<Accumulator>> accs;
  QuietTapes() {
    tapes.swap(tape::t_active);
    accs.swap(forward::t_active);
    tape::refresh_any();
  }
  ~QuietTapes() {
    tapes.swap(tape::t_active);
    accs.swap(forward::t_active);
    tape::refresh_any();
  }
  QuietTapes(const QuietTapes&) = delete;
  QuietTapes& operator=(const QuietTapes&) = delete;
};

// Whether a shadow stands for its traced value in everything that could fix a shape: the same
// shape and, for integer and bool tensors (sizes, indices, masks), the same values.
bool same(const Tensor& traced, const Tensor& shadow) {
  if (!shadow.defined() || traced.shape != shadow.shape || traced.dtype != shadow.dtype) return false;
  if (is_differentiable(traced.dtype)) return true;
  if (!traced.has_data() || !shadow.has_data()) return traced.has_data() == shadow.has_data();
  return std::memcmp(traced.raw(), shadow.raw(), traced.nbytes()) == 0;
}
}  // namespace

void Recorder::note_value(int slot, const Tensor& t) {
  if (traced_.size() <= size_t(slot)) traced_.resize(size_t(slot) + 1);
  traced_[size_t(slot)] = t;
}

std::optional<std::vector<bool>> Recorder::varying(size_t s) const {
  if (s >= shadow_.size() || s >= traced_.size()) return std::nullopt;
  const Tensor &t = traced_[s], &sh = shadow_[s];
  if (!sh.defined() || sh.ndim() != t.ndim()) return std::nullopt;
  std::vector<bool> out(size_t(t.ndim()));
  for (int d = 0; d < t.ndim(); ++d) out[size_t(d)] = sh.shape[d] != t.shape[d];
  return out;
}

void Recorder::input_shadow(int slot, const Tensor& shadow) {
  set_shadow(slot, shadow);
  shadow_mark_ = graph.n_slots;
  const Tensor& t = traced_[size_t(slot)];
  const std::vector<bool> dims = input_dims_of(size_t(slot));
  for (size_t d = 0; d < dims.size(); ++d)
    if (dims[d] && t.shape[int(d)] <= 1)  // a size of 1 broadcasts: the trace cannot tell which ops rely on it
      specialize("the first call's size " + std::to_string(t.shape[int(d)]) +
                 " in a None dimension cannot tell a varying size from a fixed one");
}

std::vector<bool> Recorder::input_dims_of(size_t s) const {
  return varying(s).value_or(std::vector<bool>(size_t(traced_[s].ndim()), false));
}

std::vector<bool> Recorder::input_dims(size_t i) const { return input_dims_of(size_t(graph.inputs[i])); }

void Recorder::shadow_last() {
  const int lo = shadow_mark_, hi = graph.n_slots;
  shadow_mark_ = hi;
  if (shadow_.size() < size_t(hi)) shadow_.resize(size_t(hi));
  if (traced_.size() < size_t(hi)) traced_.resize(size_t(hi));
  const Node& n = blocks_.back()->back();
  bool known = true, identical = true;
  for (int s : n.uses) {
    known = known && shadow_[size_t(s)].defined();
    identical = identical && same(traced_[size_t(s)], shadow_[size_t(s)]);
  }
  const bool runs = n.pure || n.name == "read_variable" || n.name == "constant";
  if (!runs) {
    // an effect: its results keep the traced values when it read what the trace read
    if (identical)
      for (int s = lo; s < hi; ++s) shadow_[size_t(s)] = traced_[size_t(s)];
    return;
  }
  if (!known) return;
  if (shape_only_.size() < size_t(hi)) shape_only_.resize(size_t(hi));
  bool sizes = n.pure && n.name == "shape_tensor";
  if (n.pure && !sizes && !n.uses.empty()) {
    sizes = true;
    for (int s : n.uses) sizes = sizes && shape_only_[size_t(s)];
  }
  for (int s = lo; s < hi; ++s) shape_only_[size_t(s)] = sizes;
  Env env;
  env.t.swap(shadow_);
  try {
    QuietTapes quiet;
    Nested nested(this);
    n.fn(env);
  } catch (const std::exception& e) {
    for (int s = lo; s < hi; ++s) env.t[size_t(s)] = Tensor();
    specialize(n.name + " fails when the inputs' None dimensions have other sizes (" + e.what() + ")");
  }
  env.t.swap(shadow_);
}

void Recorder::shadow_loop_var(int slot, const TensorRef& init) {
  if (!poly_) return;
  set_shadow(slot, shadow_of(init));
  shadow_mark_ = graph.n_slots;
}

void Recorder::shadow_cond_results(const std::vector<int>& slots, const CondBuilder& c) {
  if (!poly_) return;
  const Tensor pred = shadow_of(c.pred);
  if (!pred.defined() || !pred.has_data() || pred.dtype != DType::Bool || pred.numel() != 1) return;
  const std::vector<TensorRef>& outs = c.outs[*pred.data<bool>() ? 1 : 0];
  if (outs.size() != slots.size()) return;
  for (size_t i = 0; i < slots.size(); ++i) set_shadow(slots[i], shadow_of(outs[i]));
}

void Recorder::shadow_loop_results(const std::vector<int>& slots, const std::vector<int>& vars) {
  if (!poly_ || slots.size() != vars.size()) return;
  for (size_t i = 0; i < slots.size(); ++i) {
    const Tensor& v = shadow_[size_t(vars[i])];
    shadow_[size_t(slots[i])] = v.defined() && is_differentiable(v.dtype) ? v : Tensor();
  }
}

std::optional<std::vector<bool>> Recorder::dynamic_dims(const Tensor& t) const {
  auto it = slot_of_.find(t.id);
  if (it == slot_of_.end()) return std::vector<bool>(size_t(t.ndim()), false);
  return varying(size_t(it->second));
}

bool Recorder::shape_only(const Tensor& t) const {
  auto it = slot_of_.find(t.id);
  return it != slot_of_.end() && size_t(it->second) < shape_only_.size() && shape_only_[size_t(it->second)];
}

void Recorder::shape_read(const Tensor& t, const std::string& what) {
  if (!poly_ || !specialized.empty()) return;
  auto dims = dynamic_dims(t);
  if (!dims) specialize(what + " reads the shape of a tensor whose shape for other input sizes is not known");
  else
    for (bool d : *dims)
      if (d) {
        specialize(what + " reads a dimension that follows the input signature's None dimensions");
        return;
      }
}

}  // namespace trace
}  // namespace tg
