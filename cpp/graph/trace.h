// tf.function's tracer and replayer (See Note [Traced functions]).
//
// While a thread traces, every engine call a binding makes through TG_OP(...) runs as usual (the
// trace has real values, so the first call returns its result) and also appends a node to a
// Graph: the same C++ call, with each Tensor argument replaced by the slot that will hold it at
// replay. A later call with the same signature runs Graph::run: the nodes in order, with no Python
// and without the GIL, the function's inputs bound to the new arguments and captured Variables read
// and written in place. Calls nested inside a recorded call (the kernels inside an optimizer step,
// the backward pass inside a gradient node) are not recorded: the outer node redoes them. A
// gradient that can be planned ahead is recorded as its steps instead (Note [Unrolled gradient]).
//
// A trace that meets something it cannot replay is "poisoned" (See Note [Poisoned traces]): the
// first call still returns its eager result, and tf.function runs that signature eagerly from then
// on, saying why.
#pragma once
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ops/op_list.h"
#include "tensor/errors.h"
#include "tensor/tensor.h"

namespace tg {
class Tape;

namespace trace {

// The values a replay works on: tensors by slot, and engine objects made inside the function
// (a GradientTape's Tape) by slot.
struct Env {
  std::vector<Tensor> t;
  std::vector<std::shared_ptr<void>> obj;
};
using NodeFn = std::function<void(Env&)>;

// A Tensor argument of a recorded call: a slot, or a value fixed at trace time (a constant made
// from a Python value, or a tensor that existed before the trace began: TF captures those by value).
struct TensorRef {
  int slot = -1;
  Tensor value;
  const Tensor& get(const Env& env) const { return slot >= 0 ? env.t[size_t(slot)] : value; }
};

// What a node computes, when it is elementwise float arithmetic on tensors of one size: the ops a
// fused node runs in one pass (See Note [Fused elementwise], graph/fuse.cpp).
struct EwOp {
  enum Kind : uint8_t {
    kBinary,      // out = op(a, b) with the kernels' loop `mode` (0 vv, 1 vs, 2 sv)
    kUnary,       // out = op(a)
    kCopy,        // out = a (a gradient passed on, a seed, a result)
    kFill,        // out = value everywhere
    kAccumulate,  // out = out + a when out holds a value, else a (the walk's accumulation)
    kResult,      // out = a when a holds a value, else zeros (value != 0) or an internal error
  };
  Kind kind;
  Op op = Op::Add;
  uint8_t mode = 0;
  TensorRef a, b;
  int out = -1;
  Shape shape;  // out's
  double value = 0.0;
};
struct EwProgram {
  DType dtype = DType::Float32;
  int64_t n = 0;  // elements of every tensor it reads or writes (scalar constants aside)
  std::vector<EwOp> ops;
};
// The most elements a fused node handles: the kernels run such sizes in one call on one thread,
// so a fused node's results have their bits (kernels split larger ones across the pool).
constexpr int64_t kFuseMaxElements = 4096;
// Whether a program may work on tensors of `dtype` with `n` elements.
inline bool fusable(DType dtype, int64_t n) {
  return (dtype == DType::Float32 || dtype == DType::Float64) && n > 0 && n <= kFuseMaxElements;
}
// An EwOp for a recorded ops::binary / ops::unary call, or null when it does not qualify.
std::shared_ptr<EwProgram> ew_binary(Op op, const TensorRef& a, const Tensor& av, const TensorRef& b, const Tensor& bv,
                                     const Tensor& out, int out_slot);
std::shared_ptr<EwProgram> ew_unary(Op op, const TensorRef& a, const Tensor& av, const Tensor& out, int out_slot);
struct Graph;
// Graph::plan's pass: runs of consecutive nodes with programs become fused nodes.
void fuse_elementwise(Graph& g);

struct Node {
  NodeFn fn;
  std::string name;
  std::vector<int> uses;     // the slots it reads (for a control-flow node: those its blocks read)
  std::vector<int> release;  // slots no later node reads: dropped after this one (Graph::plan)
  // A call whose only effect is its results (no Variable, no Tape among its arguments, not a host
  // call): dropped by Graph::plan when no later node and no output reads them (Note [Dead nodes]).
  bool pure = false;
  std::vector<int> defs;  // the slots a pure node writes
  int tape = -1;          // the object slot of a Tape made in the function that this call acts on
  std::shared_ptr<const EwProgram> ew;  // elementwise arithmetic a fused node may run instead
};
using Block = std::vector<Node>;
void run_block(const Block& b, Env& env);

struct Graph {
  Block nodes;  // each with a name for debugging and tests (e.g. "ops::matmul")
  int n_slots = 0, n_obj = 0;
  std::vector<int> inputs;    // the slot of each input tensor
  std::vector<Shape> input_shapes;
  std::vector<DType> input_dtypes;
  std::vector<TensorRef> outputs;  // each output: a slot, or a value fixed at trace time
  // A polymorphic trace (Note [Polymorphic traces], poly.cpp): input dimensions that are -1 in
  // input_shapes accept any size, and plan() fuses nothing (its programs have fixed sizes).
  bool polymorphic = false;
  // Tapes (object slots) whose gradient was recorded as nodes: plan() drops their bookkeeping
  // (made, pushed, watched, popped), so a replay records nothing on them (Note [Unrolled gradient]).
  std::vector<int> unrolled_tapes;
  // Computed once when the trace ends: dead pure nodes are dropped (Note [Dead nodes]), then each
  // top-level node releases the slots no later node reads (liveness), so a replay holds only live
  // intermediates and the buffer pool reuses the rest.
  void plan();
  int dropped = 0;  // dead nodes removed by plan()
  // Whether `t` may be input i: the traced dtype and shape.
  bool accepts(size_t i, const Tensor& t) const {
    if (t.dtype != input_dtypes[i]) return false;
    if (!polymorphic) return t.shape == input_shapes[i];
    const Shape& s = input_shapes[i];
    if (t.shape.ndim != s.ndim) return false;
    for (int d = 0; d < s.ndim; ++d)
      if (s.d[d] >= 0 && s.d[d] != t.shape.d[d]) return false;
    return true;
  }
  // Runs the nodes on `args` (checked with accepts) and returns the outputs.
  std::vector<Tensor> run(const std::vector<Tensor>& args) const;
};

struct CondBuilder;

class Recorder {
 public:
  explicit Recorder(int64_t first_id) : first_id_(first_id) {}
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;
  Graph graph;
  std::string poison;  // why this trace cannot be replayed; empty when it can
  int depth = 0;       // > 0 inside a recorded call: nested calls are not recorded

  int new_slot() {
    slot_flags_.push_back(blocks_.size() > 1 ? kNestedSlot : uint8_t(0));
    return graph.n_slots++;
  }
  int input(const Tensor& t);
  void output(const Tensor& t) { graph.outputs.push_back(ref(t, "the function's result")); }
  void bind(const Tensor& t, int slot) {
    auto [it, fresh] = slot_of_.try_emplace(t.id, slot);
    if (!fresh) {  // a Variable read again: the same value only if nothing wrote it in between
      const int64_t at = bound_at_[t.id];
      auto w = written_at_.find(t.id);
      if (any_write_at_ > at || (w != written_at_.end() && w->second > at)) ambiguous_.insert(t.id);
      it->second = slot;
    }
    bound_at_[t.id] = ++effects_;
    if (poly_) note_value(slot, t);
  }
  // A recorded call may write Variable `v` (any Variable: wrote_any).
  void wrote(const Variable& v) { written_at_[v.value.id] = ++effects_; }
  void wrote_any() { any_write_at_ = ++effects_; }
  int bind_new(const Tensor& t) {
    int s = new_slot();
    bind(t, s);
    return s;
  }
  void constant(const Tensor& t) { constants_[t.id] = t; }
  // Whether a call on this argument may be folded (See Note [Constant folding]): a constant made
  // during the trace (not a tensor captured from outside, which an outer tape may watch).
  bool foldable(const TensorRef& r) const { return r.slot < 0 && (!r.value.defined() || !made_outside(r.value.id)); }
  // Whether tensor `id` was made outside the trace: before it began, or while it was paused
  // (tf.init_scope, See resume()). Such tensors are captured by value, as TF captures eager ones.
  bool made_outside(int64_t id) const {
    if (id < first_id_) return true;
    for (const auto& r : outside_)
      if (id >= r.first && id < r.second) return true;
    return false;
  }
  void add_outside(int64_t lo, int64_t hi) { outside_.emplace_back(lo, hi); }
  // A constant that a tape inside the function watches becomes a slot (a node sets it), so the
  // calls on it are recorded and the replay's tape sees them.
  void promote(const Tensor& t) {
    if (slot_of_.count(t.id) || !constants_.count(t.id)) return;
    const int s = bind_new(t);
    Tensor v = t;
    add("constant", [s, v](Env& env) { env.t[size_t(s)] = v; });
  }
  TensorRef ref(const Tensor& t, const char* what);
  // Whether `t`'s value depends on the function's inputs or on Variables (reading it in Python
  // would bake one call's value into the trace).
  bool traced_value(const Tensor& t) const {
    return slot_of_.count(t.id) > 0 || (!made_outside(t.id) && !constants_.count(t.id));
  }
  int obj_slot(const void* p) const {
    auto it = obj_slot_.find(p);
    return it == obj_slot_.end() ? -1 : it->second;
  }
  int bind_obj(const void* p) {
    int s = graph.n_obj++;
    obj_slot_[p] = s;
    return s;
  }
  // Appends to the innermost block being recorded: the graph, or a branch or loop body
  // (See Note [Traced control flow]). `effect`: the node may write any Variable (a read after it
  // may see another value; See wrote()); `tape`: the object slot of the Tape it acts on, if any.
  void add(std::string name, NodeFn fn, std::vector<int> uses = {}, bool effect = true, int tape = -1) {
    if (effect) wrote_any();
    if (tape >= 0 && blocks_.size() > 1) nested_tapes_.push_back(tape);
    blocks_.back()->push_back(Node{std::move(fn), std::move(name), std::move(uses), {}, false, {}, tape, nullptr});
    if (poly_) shadow_last();
  }
  void add_pure(std::string name, NodeFn fn, std::vector<int> uses, std::vector<int> defs,
                std::shared_ptr<const EwProgram> ew = nullptr) {
    blocks_.back()->push_back(
        Node{std::move(fn), std::move(name), std::move(uses), {}, true, std::move(defs), -1, std::move(ew)});
    if (poly_) shadow_last();
  }
  void push_block(Block* b) { blocks_.push_back(b); }
  void pop_block() { blocks_.pop_back(); }
  // > 0 while a branch that this call does not take is recorded: writes are recorded, not done.
  int dry = 0;
  void set_poison(const std::string& why) {
    if (strict) throw tg::ValueError("this tf.function cannot be traced (TAPEGRAD_TRACE_STRICT): " + why);
    if (poison.empty()) poison = why;
  }
  bool strict = false;  // poisoning raises instead (debugging: where does a trace fall back?)

  // ---- what Note [Unrolled gradient] asks of the recording ----
  bool top_level() const { return blocks_.size() == 1 && dry == 0; }
  // A top-level recorded call made tensors [lo, hi): its results and, for a composite call, the
  // intermediates its primitives recorded on tapes.
  void note_call(int64_t lo, int64_t hi) {
    if (hi > lo && blocks_.size() == 1) calls_.emplace_back(lo, hi);
  }
  void mark_flow(int slot) { slot_flags_[size_t(slot)] |= kFlowSlot; }  // set by a control-flow node
  // Where a replay finds tensor `t` as the trace had it at top level: a slot written by a top-level
  // call (not a control-flow node, not read again after a write), a constant, or a tensor captured
  // from before the trace; nullopt otherwise (never poisons).
  std::optional<TensorRef> find(const Tensor& t) const;
  // Whether `t` is a tensor of the top-level computation (find succeeds, or a call at top level
  // made it): a backward step that only needs its id, shape and dtype can stand for it.
  bool top_level_tensor(const Tensor& t) const;
  bool tape_nested(int obj) const {
    return std::find(nested_tapes_.begin(), nested_tapes_.end(), obj) != nested_tapes_.end();
  }

  // ---- Note [Polymorphic traces] (poly.cpp) ----
  // Makes this a polymorphic trace: each input gets a shadow value (the input with its None
  // dimensions resized) by input_shadow, and every top-level node also runs on the shadows.
  void make_polymorphic() { poly_ = true; }
  bool polymorphic() const { return poly_; }
  void input_shadow(int slot, const Tensor& shadow);
  std::vector<bool> input_dims(size_t i) const;  // input i's dimensions that its shadow resized
  // Control flow: a while loop's variable starts as its initial value's shadow (the body is recorded
  // on the first iteration); a cond's results are the shadows of the branch the shadow predicate
  // takes, a loop's results its variables' (float ones only: a counter's value is not known).
  void shadow_loop_var(int slot, const TensorRef& init);
  void shadow_cond_results(const std::vector<int>& slots, const CondBuilder& c);
  void shadow_loop_results(const std::vector<int>& slots, const std::vector<int>& vars);
  Tensor shadow_of(const TensorRef& r) const {  // undefined when not known
    return r.slot < 0 ? r.value : size_t(r.slot) < shadow_.size() ? shadow_[size_t(r.slot)] : Tensor();
  }
  void set_shadow(int slot, const Tensor& t) {
    if (shadow_.size() <= size_t(slot)) shadow_.resize(size_t(slot) + 1);
    shadow_[size_t(slot)] = t;
  }
  // The dimensions of `t` whose size follows the inputs' None dimensions; nullopt when it is not
  // known (a node that could not run on the shadows made it). All false for a non-traced tensor.
  std::optional<std::vector<bool>> dynamic_dims(const Tensor& t) const;
  // Code that bakes `t`'s shape into the trace (a Python read, an argument a binding computes from
  // it): the trace then holds for its own input shapes only, when any dimension of `t` varies.
  void shape_read(const Tensor& t, const std::string& what);
  // Whether `t` is computed from sizes alone (tf.shape's result and pure calls on such tensors and
  // constants): reading its value fixes only sizes, so it specializes the trace instead of
  // poisoning it (host_read).
  bool shape_only(const Tensor& t) const;
  void specialize(const std::string& why) {
    if (poly_ && specialized.empty()) specialized = why;
  }
  std::string specialized;  // why a polymorphic trace holds only for its own shapes ('' when it holds)

 private:
  int64_t first_id_;
  std::vector<std::pair<int64_t, int64_t>> outside_;  // id ranges made while the trace was paused
  std::vector<Block*> blocks_{&graph.nodes};
  std::unordered_map<int64_t, int> slot_of_;
  std::unordered_map<int64_t, Tensor> constants_;
  std::unordered_map<const void*, int> obj_slot_;
  static constexpr uint8_t kNestedSlot = 1, kFlowSlot = 2;
  std::vector<uint8_t> slot_flags_;  // per slot
  int64_t effects_ = 0;  // a clock: binds and writes
  std::unordered_map<int64_t, int64_t> bound_at_;    // tensor id -> effects_ when last bound
  std::unordered_map<int64_t, int64_t> written_at_;  // Variable value id -> effects_ when last written
  int64_t any_write_at_ = 0;                         // effects_ at the last call that may write any
  std::unordered_set<int64_t> ambiguous_;          // ids bound again after an effect
  std::vector<std::pair<int64_t, int64_t>> calls_;  // id ranges of top-level calls, ascending
  std::vector<int> nested_tapes_;  // tapes acted on inside a branch or loop body
  // Note [Polymorphic traces]: per slot, the value the trace bound and its shadow (undefined: unknown)
  bool poly_ = false;
  std::vector<Tensor> traced_, shadow_;
  std::vector<uint8_t> shape_only_;  // per slot: see shape_only()
  int shadow_mark_ = 0;  // the first slot no node has given a shadow yet
  void note_value(int slot, const Tensor& t);
  void shadow_last();  // runs the node just added on the shadows
  // Slot s's dimensions whose shadow size differs from the traced one; nullopt when not known.
  std::optional<std::vector<bool>> varying(size_t s) const;
  std::vector<bool> input_dims_of(size_t s) const;  // varying(s), all false when not known
};

// This thread's recorder, or null when it does not trace.
Recorder* current();
// This thread's polymorphic recorder, or null.
inline Recorder* polymorphic() {
  Recorder* r = current();
  return r && r->polymorphic() && r->poison.empty() ? r : nullptr;
}
inline void shape_read(const Tensor& t, const char* what) {
  if (Recorder* r = polymorphic()) r->shape_read(t, what);
}
// Whether this thread records a branch its trace does not take (writes are recorded, not done).
inline bool dry_run() {
  Recorder* r = current();
  return r && r->dry > 0;
}
// Whether a recorded call made now would be recorded (tracing, not nested, not poisoned).
inline bool recording() {
  Recorder* r = current();
  return r && r->depth == 0 && r->poison.empty();
}
void begin(bool strict = false);       // starts tracing on this thread
std::unique_ptr<Recorder> end();       // stops; the caller owns the recording
// Puts back a recording taken by end() (a trace paused around a tf.init_scope block); tensors
// made since `paused_at` (a tensor id taken when it paused) count as made outside the trace.
void resume(std::unique_ptr<Recorder> r, int64_t paused_at);
void poison(const std::string& why);   // no-op unless tracing
// Called where the bindings read a tensor's data into Python or into an argument (a numpy view,
// .item(), an axis given as a tensor): poisons when the value depends on the trace's inputs.
void host_read(const Tensor& t, const char* what);
// A Tensor made from a Python value (or derived from such values) during a trace: a constant.
inline void constant(const Tensor& t) {
  if (Recorder* r = current()) r->constant(t);
}

// A Variable read (bindings: read_variable): a node that reads the variable's current value at replay.
void variable_read(const std::shared_ptr<Variable>& v, const Tensor& value, bool accessed);

// Note [Traced control flow]
// tf.cond and tf.while_loop with a tensor predicate record one node holding sub-blocks, recorded
// while Python runs the branches and the body once:
// - cond: the branch the trace takes runs for real; the other runs "dry" (Recorder::dry > 0):
//   its calls are recorded, and variable writes and impure host calls (tf.print, optimizer steps)
//   are recorded but not done. A replay evaluates the predicate and runs one branch's block.
// - while_loop: the loop variables get slots of their own; cond and body are recorded once on
//   them (the body dry when the loop does not run at all at trace time); the trace's remaining
//   iterations run eagerly with tracing paused. A replay iterates the blocks in C++.
// Results leave through fresh tensors (an Identity the tapes see) bound to the node's output
// slots, so a tensor made inside a branch is never mistaken for the node's result.
struct CondBuilder {
  TensorRef pred;
  Block branch[2];  // [0]: false_fn, [1]: true_fn
  std::vector<TensorRef> outs[2];
};
struct WhileBuilder {
  std::vector<TensorRef> init;
  std::vector<int> vars;  // the loop variables' slots
  Block cond, body;
  TensorRef pred;
  std::vector<TensorRef> next;  // the body's results
  int64_t max_iterations = -1;  // -1: none
};
// A predicate's value: a bool tensor with one element (TF reshapes shape-[1] predicates).
bool pred_value(const Tensor& t, const char* what);
void add_cond(Recorder& r, std::shared_ptr<CondBuilder> c, std::vector<int> out_slots);
void add_while(Recorder& r, std::shared_ptr<WhileBuilder> w, std::vector<int> out_slots);

// A traced tape.gradient recorded as the walk's steps (See Note [Unrolled gradient], unroll.cpp):
// plan_gradient, before the walk runs, returns null when it cannot be; commit_gradient, after the
// trace's own walk returned `results` (`stride` tensors per source: 1, or 2 for (value, indices)),
// adds the nodes and binds the results.
struct UnrolledGradient;
std::shared_ptr<UnrolledGradient> plan_gradient(Recorder& rec, const std::shared_ptr<Tape>& tape,
                                                const std::vector<Tensor>& targets, const std::vector<Tensor>& sources,
                                                const std::vector<Tensor>& output_grads, bool zero_unconnected);
void commit_gradient(Recorder& rec, const std::shared_ptr<UnrolledGradient>& u, const std::vector<Tensor>& results,
                     size_t stride);
// Why this thread's last plan_gradient returned null ('' when it did not): tests and debugging.
const std::string& last_unroll_refusal();

// Pauses tracing on this thread for a scope (host calls that run eagerly inside a trace).
class Pause {
 public:
  Pause();
  ~Pause();
  Pause(const Pause&) = delete;
  Pause& operator=(const Pause&) = delete;

 private:
  std::unique_ptr<Recorder> saved_;
};

// ---- capture of arguments and results of recorded calls ------------------------------------------

template <class T, class Enable = void> struct Capture {
  static_assert(!std::is_pointer<T>::value, "TG_OP: pointer arguments cannot be replayed");
  using type = T;
  static type make(Recorder&, const T& v, const char*) { return v; }
  static const T& get(const Env&, const type& c) { return c; }
};
template <> struct Capture<const char*> {  // an op name for messages
  using type = std::string;
  static type make(Recorder&, const char* v, const char*) { return v ? v : ""; }
  static const char* get(const Env&, const type& c) { return c.c_str(); }
};
template <> struct Capture<Tensor> {
  using type = TensorRef;
  static type make(Recorder& r, const Tensor& v, const char* what) { return r.ref(v, what); }
  static const Tensor& get(const Env& env, const type& c) { return c.get(env); }
};
template <> struct Capture<std::vector<Tensor>> {
  using type = std::vector<TensorRef>;
  static type make(Recorder& r, const std::vector<Tensor>& v, const char* what) {
    type out;
    out.reserve(v.size());
    for (const Tensor& t : v) out.push_back(t.defined() ? r.ref(t, what) : TensorRef{});
    return out;
  }
  static std::vector<Tensor> get(const Env& env, const type& c) {
    std::vector<Tensor> out;
    out.reserve(c.size());
    for (const TensorRef& t : c) out.push_back(t.get(env));
    return out;
  }
};
template <> struct Capture<std::optional<Tensor>> {
  using type = std::optional<TensorRef>;
  static type make(Recorder& r, const std::optional<Tensor>& v, const char* what) {
    if (!v) return std::nullopt;
    return r.ref(*v, what);
  }
  static std::optional<Tensor> get(const Env& env, const type& c) {
    if (!c) return std::nullopt;
    return c->get(env);
  }
};
// A Variable is captured by reference: a replay reads and writes the variable itself.
template <> struct Capture<Variable> {
  using type = std::shared_ptr<Variable>;
  static type make(Recorder&, const Variable& v, const char*) {
    return std::const_pointer_cast<Variable>(v.shared_from_this());
  }
  static Variable& get(const Env&, const type& c) { return *c; }
};
// A Tape made inside the function is re-made by each replay; one made outside is used itself.
template <> struct Capture<std::shared_ptr<Tape>> {
  struct type {
    int slot = -1;
    std::shared_ptr<Tape> outside;
  };
  static type make(Recorder& r, const std::shared_ptr<Tape>& v, const char*) {
    int s = r.obj_slot(v.get());
    return s >= 0 ? type{s, nullptr} : type{-1, v};
  }
  static std::shared_ptr<Tape> get(const Env& env, const type& c) {
    return c.slot >= 0 ? std::static_pointer_cast<Tape>(env.obj[size_t(c.slot)]) : c.outside;
  }
};

// Results: the tensors a call returns get slots.
template <class R, class Enable = void> struct Result {
  static constexpr bool supported = false;
};
template <> struct Result<Tensor> {
  static constexpr bool supported = true;
  using slots = int;
  static slots bind(Recorder& r, const Tensor& t) { return t.defined() ? r.bind_new(t) : -1; }
  static void store(Env& env, slots s, Tensor t) {
    if (s >= 0) env.t[size_t(s)] = std::move(t);
  }
};
template <> struct Result<std::vector<Tensor>> {
  static constexpr bool supported = true;
  using slots = std::vector<int>;
  static slots bind(Recorder& r, const std::vector<Tensor>& v) {
    slots s;
    for (const Tensor& t : v) s.push_back(t.defined() ? r.bind_new(t) : -1);
    return s;
  }
  static void store(Env& env, const slots& s, std::vector<Tensor> v) {
    if (v.size() != s.size())
      throw std::runtime_error("internal: a replayed call returned a different number of tensors");
    for (size_t i = 0; i < s.size(); ++i)
      if (s[i] >= 0) env.t[size_t(s[i])] = std::move(v[i]);
  }
};
template <class... T> struct Result<std::tuple<T...>, std::enable_if_t<(std::is_same<T, Tensor>::value && ...)>> {
  static constexpr bool supported = true;
  using slots = std::vector<int>;
  static slots bind(Recorder& r, const std::tuple<T...>& v) {
    slots s;
    std::apply([&](const auto&... t) { (s.push_back(t.defined() ? r.bind_new(t) : -1), ...); }, v);
    return s;
  }
  static void store(Env& env, const slots& s, std::tuple<T...> v) {
    size_t i = 0;
    std::apply([&](auto&... t) { ((s[i] >= 0 ? (void)(env.t[size_t(s[i])] = std::move(t)) : (void)0, ++i), ...); }, v);
  }
};
template <> struct Result<std::pair<Tensor, Tensor>> {
  static constexpr bool supported = true;
  using slots = std::pair<int, int>;
  static slots bind(Recorder& r, const std::pair<Tensor, Tensor>& v) {
    return {v.first.defined() ? r.bind_new(v.first) : -1, v.second.defined() ? r.bind_new(v.second) : -1};
  }
  static void store(Env& env, const slots& s, std::pair<Tensor, Tensor> v) {
    if (s.first >= 0) env.t[size_t(s.first)] = std::move(v.first);
    if (s.second >= 0) env.t[size_t(s.second)] = std::move(v.second);
  }
};

// Depth guard: calls made inside a recorded call are not recorded.
struct Nested {
  Recorder* r;
  explicit Nested(Recorder* rec) : r(rec) { ++r->depth; }
  ~Nested() { --r->depth; }
  Nested(const Nested&) = delete;
  Nested& operator=(const Nested&) = delete;
};

inline int tape_of(const Capture<std::shared_ptr<Tape>>::type& c) { return c.slot; }
template <class T> int tape_of(const T&) { return -1; }
template <class Tuple> int tape_of_cap(const Tuple& cap) {
  int t = -1;
  std::apply([&](const auto&... c) { ((t = t >= 0 ? t : tape_of(c)), ...); }, cap);
  return t;
}
inline void note_writes(Recorder& r, const std::shared_ptr<Variable>& v) { r.wrote(*v); }
template <class T> void note_writes(Recorder&, const T&) {}

inline void collect_uses(const TensorRef& r, std::vector<int>& out) {
  if (r.slot >= 0) out.push_back(r.slot);
}
inline void collect_uses(const std::vector<TensorRef>& v, std::vector<int>& out) {
  for (const TensorRef& r : v) collect_uses(r, out);
}
inline void collect_uses(const std::optional<TensorRef>& r, std::vector<int>& out) {
  if (r) collect_uses(*r, out);
}
template <class T> void collect_uses(const T&, std::vector<int>&) {}

// Note [Constant folding]
// A recorded call whose tensor arguments are all constants made during the trace (Python values,
// shapes, results of other folded calls) and which touches no Variable or Tape is not recorded:
// its results are constants too. So tf.shape(x)[-1] is a constant in a trace (every trace has
// fixed input shapes: a new shape traces again), and reading it in Python does not poison the trace.
// In a polymorphic trace, tf.shape of a tensor whose sizes vary is a recorded call instead
// (See Note [Polymorphic traces], poly.cpp).
inline bool foldable(const Recorder& r, const TensorRef& t) { return r.foldable(t); }
inline bool foldable(const Recorder& r, const std::vector<TensorRef>& v) {
  for (const TensorRef& t : v)
    if (!r.foldable(t)) return false;
  return true;
}
inline bool foldable(const Recorder& r, const std::optional<TensorRef>& t) { return !t || r.foldable(*t); }
inline bool foldable(const Recorder&, const std::shared_ptr<Variable>&) { return false; }
// Whether a captured argument gives the call an effect besides its results (Note [Dead nodes]).
inline bool stateful(const std::shared_ptr<Variable>&) { return true; }
inline bool stateful(const Capture<std::shared_ptr<Tape>>::type&) { return true; }
template <class T> bool stateful(const T&) { return false; }
inline void defs_of(int s, std::vector<int>& out) {
  if (s >= 0) out.push_back(s);
}
inline void defs_of(const std::vector<int>& v, std::vector<int>& out) {
  for (int s : v) defs_of(s, out);
}
inline void defs_of(const std::pair<int, int>& p, std::vector<int>& out) {
  defs_of(p.first, out);
  defs_of(p.second, out);
}
inline bool foldable(const Recorder&, const Capture<std::shared_ptr<Tape>>::type&) { return false; }
template <class T> bool foldable(const Recorder&, const T&) { return true; }

template <class R> void fold_results(Recorder& r, const R& res) {
  if constexpr (std::is_same<R, Tensor>::value) {
    if (res.defined()) r.constant(res);
  } else if constexpr (std::is_same<R, std::vector<Tensor>>::value) {
    for (const Tensor& t : res)
      if (t.defined()) r.constant(t);
  } else if constexpr (std::is_same<R, std::pair<Tensor, Tensor>>::value) {
    fold_results(r, res.first);
    fold_results(r, res.second);
  } else {
    std::apply([&](const auto&... t) { (fold_results(r, t), ...); }, res);
  }
}

// ops::binary(op, a, b) and ops::unary(op, x) calls describe themselves for fusion (Note [Fused
// elementwise]); every other call returns null.
template <class Cap, class R, class S, class... A>
std::shared_ptr<EwProgram> elementwise(const char* name, const Cap& cap, const R& r, const S& slots, const A&... a) {
  if constexpr (std::is_same<std::tuple<std::decay_t<A>...>, std::tuple<Op, Tensor, Tensor>>::value &&
                std::is_same<R, Tensor>::value) {
    if (std::strcmp(name, "ops::binary") != 0) return nullptr;
    const auto& args = std::forward_as_tuple(a...);
    return ew_binary(std::get<0>(cap), std::get<1>(cap), std::get<1>(args), std::get<2>(cap), std::get<2>(args), r,
                     slots);
  } else if constexpr (std::is_same<std::tuple<std::decay_t<A>...>, std::tuple<Op, Tensor>>::value &&
                       std::is_same<R, Tensor>::value) {
    if (std::strcmp(name, "ops::unary") != 0) return nullptr;
    return ew_unary(std::get<0>(cap), std::get<1>(cap), std::get<1>(std::forward_as_tuple(a...)), r, slots);
  } else {
    return nullptr;
  }
}

template <class F> struct Recorded {
  const char* name;
  F f;
  template <class... A> decltype(auto) operator()(A&&... a) const {
    using R = std::decay_t<decltype(f(std::forward<A>(a)...))>;
    if (!recording()) return f(std::forward<A>(a)...);
    Recorder& rec = *current();
    auto cap = std::make_tuple(Capture<std::decay_t<A>>::make(rec, a, name)...);
    if (!rec.poison.empty()) return f(std::forward<A>(a)...);  // an argument it cannot replay
    const int tape = tape_of_cap(cap);
    // a Variable argument may be written (a tape's watch_variable only reads it); the writes are
    // noted per Variable here, so the node itself is added without a write to every Variable
    if (tape < 0) std::apply([&](const auto&... c) { (note_writes(rec, c), ...); }, cap);
    const int64_t lo = next_tensor_id();
    if constexpr (std::is_void<R>::value) {
      {
        Nested n(&rec);
        f(std::forward<A>(a)...);
      }
      rec.note_call(lo, next_tensor_id());
      F fn = f;
      rec.add(
          name,
          [fn, cap](Env& env) {
            std::apply([&](const auto&... c) { fn(Capture<std::decay_t<A>>::get(env, c)...); }, cap);
          },
          uses_of(cap), /*effect=*/false, tape);
    } else if constexpr (Result<R>::supported) {
      R r = [&] {
        Nested n(&rec);
        return f(std::forward<A>(a)...);
      }();
      rec.note_call(lo, next_tensor_id());
      if (std::apply([&](const auto&... c) { return (foldable(rec, c) && ...); }, cap)) {
        fold_results(rec, r);
        return r;
      }
      auto slots = Result<R>::bind(rec, r);
      F fn = f;
      NodeFn node = [fn, cap, slots](Env& env) {
        Result<R>::store(
            env, slots,
            std::apply([&](const auto&... c) { return fn(Capture<std::decay_t<A>>::get(env, c)...); }, cap));
      };
      if (std::apply([](const auto&... c) { return (stateful(c) || ...); }, cap)) {
        rec.add(name, std::move(node), uses_of(cap), /*effect=*/false, tape);
      } else {
        std::vector<int> defs;
        defs_of(slots, defs);
        rec.add_pure(name, std::move(node), uses_of(cap), std::move(defs), elementwise(name, cap, r, slots, a...));
      }
      return r;
    } else {
      rec.set_poison(std::string(name) + " returns a value a traced function cannot replay");
      return f(std::forward<A>(a)...);
    }
  }
};
template <class Tuple> std::vector<int> uses_of(const Tuple& cap) {
  std::vector<int> out;
  std::apply([&](const auto&... c) { (collect_uses(c, out), ...); }, cap);
  return out;
}
template <class F> Recorded<F> recorded(const char* name, F f) { return {name, std::move(f)}; }

}  // namespace trace
}  // namespace tg

// An engine call from a binding that a tf.function trace records: TG_OP(ops::matmul)(a, b, ta, tb).
#define TG_OP(...)                    \
  ::tg::trace::recorded(#__VA_ARGS__, \
                        [](auto&&... a_) -> decltype(auto) { return __VA_ARGS__(std::forward<decltype(a_)>(a_)...); })
