#include "autodiff/tape.h"

#include <algorithm>
#include <deque>

#include "autodiff/forward.h"
#include "autodiff/sparse_grad.h"
#include "ops/ops.h"  // the backward pass runs differentiable ops

namespace tg {

// Note [Recording]
// An op is recorded on a tape when at least one of its float inputs is known to the tape:
// watched, or produced by an op the tape recorded. Every active tape records independently, and
// tapes that record the same op share one Node. This is what makes nested tapes work: an outer
// tape records the inner tape's backward ops, because those ops read tensors the outer tape
// knows. The early-out (no active tape) costs one load on the per-op path.
// Every differentiable primitive records through one helper, tape::record (tape.h): the guard is
// inside it (no active tape, no differentiable output, no watching tape: nothing happens), and
// the node's Attrs are filled by a callback that runs only when something records. A primitive's
// wrapper is therefore `out = kernels::f(...); tape::record(Op::F, {ins}, {out}, fill); return out`.
// The forward-mode accumulators and graph tracing hook in here too, so there is one place to look.

void Tape::watch(const Tensor& t) {
  if (!is_differentiable(t.dtype)) return;
  producer.emplace(t.id, -1);
}

void Tape::watch_variable(const std::shared_ptr<Variable>& v) {
  if (!is_differentiable(v->value.dtype)) return;
  if (producer.emplace(v->value.id, -1)) watched_variables.push_back(v);
  else if (std::none_of(watched_variables.begin(), watched_variables.end(),
                        [&](const std::shared_ptr<Variable>& w) { return w.get() == v.get(); }))
    watched_variables.push_back(v);
}

namespace tape {

thread_local std::vector<std::shared_ptr<Tape>> t_active;
thread_local int t_any = 0;
void refresh_any() { t_any = !t_active.empty() || !forward::t_active.empty(); }

void push(const std::shared_ptr<Tape>& t) {
  t_active.push_back(t);
  refresh_any();
}

void pop(const Tape* t) {
  for (size_t i = t_active.size(); i-- > 0;)
    if (t_active[i].get() == t) {
      t_active.erase(t_active.begin() + long(i));
      refresh_any();
      return;
    }
  throw ValueError("Tape is not recording.");
}

bool is_recording(const Tape* t) {
  return std::any_of(t_active.begin(), t_active.end(), [&](const std::shared_ptr<Tape>& a) { return a.get() == t; });
}

void variable_accessed(const std::shared_ptr<Variable>& v) {
  if (!v->trainable) return;
  for (auto& t : t_active)
    if (t->watch_accessed_variables) t->watch_variable(v);
}

bool begin_record(Recording& r, const Tensor* in, size_t nin, const Tensor* out, size_t nout) {
  bool any_out = false;
  for (size_t i = 0; i < nout && !any_out; ++i) any_out = is_differentiable(out[i].dtype);
  if (!any_out) return false;
  r.nhits = 0;
  for (auto& t : t_active) {
    for (size_t i = 0; i < nin; ++i)
      if (is_differentiable(in[i].dtype) && t->watches(in[i].id)) {
        if (r.nhits < 16) r.hits[r.nhits++] = t.get();
        break;
      }
  }
  r.forward = forward::any_tangent(in, nin);
  return r.nhits != 0 || r.forward;
}

// Note [Saved tensors]
// A node keeps the data of its inputs (outputs) only when its rule declared kSavesInputs
// (kSavesOutputs); the others are kept as meta() copies: id, shape and dtype, no buffer. A rule
// that reads the data of a tensor it did not declare gets InternalError from Tensor::data()
// ("... has no data"), never a read through a null pointer; tests/test_registry.py runs every
// rule with exactly what it declared, and checks the check itself with t_save_nothing (a test
// hook: this thread's nodes keep no data at all).
thread_local bool t_save_nothing = false;
thread_local bool t_save_all = false;

void end_record(Recording& r, Op op, const Tensor* in, size_t nin, const Tensor* out, size_t nout, Attrs&& attrs) {
  const OpDef& def = opdef(op);
  const bool keep_in = (def.saves_inputs || t_save_all) && !t_save_nothing;
  const bool keep_out = (def.saves_outputs || t_save_all) && !t_save_nothing;
  auto node = std::make_shared<Node>();
  node->op = op;
  node->inputs.reserve(nin);
  for (size_t i = 0; i < nin; ++i) node->inputs.push_back(keep_in ? in[i] : in[i].meta());
  node->outputs.reserve(nout);
  for (size_t i = 0; i < nout; ++i) node->outputs.push_back(keep_out ? out[i] : out[i].meta());
  node->attrs = std::move(attrs);
  for (size_t h = 0; h < r.nhits; ++h) {
    Tape* t = r.hits[h];
    int64_t idx = int64_t(t->nodes.size());
    t->nodes.push_back(node);
    for (size_t i = 0; i < nout; ++i) t->producer.set(out[i].id, idx);
  }
  // after the tapes, so that tapes outside an accumulator know the outputs its JVP reads
  if (r.forward) forward::record(op, in, nin, out, nout, node->attrs);
}

namespace {
// Step 1 of Note [Backward pass], shared by the walk and by sparse_plan (Note [Sparse plan]).
struct Sweep {
  IdMap source_ids, target_ids;
  IdMap reach;                // tensors that depend on a source
  std::vector<char> relevant;  // per node: reads a tensor in `reach`
};
Sweep forward_sweep(const Tape& tape, const std::vector<Tensor>& targets, const std::vector<Tensor>& sources) {
  const size_t nnodes = tape.nodes.size();
  Sweep w;
  // A source the tape does not know gets None, as TF, unless it is itself a target: then, as TF,
  // it gets that target's output gradient (gradient(x, x) is ones even for an unwatched x).
  for (const Tensor& t : targets) w.target_ids.emplace(t.id, 0);
  for (const Tensor& s : sources)
    if (is_differentiable(s.dtype) && (tape.watches(s.id) || w.target_ids.count(s.id))) w.source_ids.emplace(s.id, 0);
  w.reach = w.source_ids;
  w.relevant.assign(nnodes, 0);
  for (size_t k = 0; k < nnodes; ++k) {
    const Node* n = tape.nodes[k].get();
    if (!n) continue;
    for (const Tensor& t : n->inputs)
      if (w.reach.count(t.id)) {
        w.relevant[k] = 1;
        break;
      }
    if (w.relevant[k])
      for (const Tensor& t : n->outputs) w.reach.emplace(t.id, 0);
  }
  return w;
}
}  // namespace

// Note [Backward pass]
// Nodes are stored in execution order, which is a topological order. compute_gradient
//  1. marks the tensors that depend on a source (one forward sweep), so that rules compute only
//     the input gradients that can reach a source (`needs`);
//  2. walks the nodes backwards; a node runs when one of its outputs has a gradient. Its rule's
//     results pass one choke point: sum back to a broadcast input's shape, check shape and dtype;
//  3. accumulates per tensor id: the first gradient is adopted without a copy, later ones are
//     added with ops::add, which records on outer tapes (higher order stays correct);
//  4. drops a tensor's gradient as soon as its producer has run (all its consumers ran before),
//     unless the tensor is a source.
// Rules are written with ops::, so every op they run is recorded on any tape that is active
// while gradient() runs. Nodes appended to `tape` during the walk itself (a persistent tape
// differentiated inside its own context) are not visited.
//
// Note [Source ready]
// A source's gradient only grows when a node that reads the source runs, and nodes run in reverse
// order; so once the walk is below the lowest-index relevant node reading a source, its gradient
// is final. on_source_ready reports each source at that moment (before the walk goes on), which
// lets tapegrad.distribute start all-reducing a bucket while the rest of the backward pass runs.
// compute_gradient_sparse reports the same moment with the GradValue it will return (a sparse
// gradient stays sparse), so that embedding models overlap too; which sources those are is known
// before the walk (sparse_plan, Note [Sparse plan]).
// See Note [Sparse gradients] (sparse_grad.cpp) for what keep_sparse keeps.
static std::vector<GradValue> compute_impl(Tape& tape, const std::vector<Tensor>& targets,
                                           const std::vector<Tensor>& sources, const std::vector<Tensor>& output_grads,
                                           bool zero_unconnected, bool keep_sparse,
                                           const SparseSourceReadyFn& on_source_ready) {
  const size_t nnodes = tape.nodes.size();
  // 1. forward sweep: tensors that depend on a source
  Sweep sweep = forward_sweep(tape, targets, sources);
  const IdMap& source_ids = sweep.source_ids;
  const IdMap& target_ids = sweep.target_ids;
  const IdMap& reach = sweep.reach;
  const std::vector<char>& relevant = sweep.relevant;

  // seed. Gradients live in `slots`, found through `grads` (id -> slot index).
  IdMap grads;
  std::vector<GradValue> slots;
  auto accumulate = [&](int64_t id, GradValue g) {
    if (int64_t* s = grads.find(id)) slots[size_t(*s)] = sparse_grad::add(slots[size_t(*s)], g);
    else {
      grads.emplace(id, int64_t(slots.size()));
      slots.push_back(std::move(g));
    }
  };
  auto grad_of = [&](int64_t id) -> GradValue* {
    int64_t* s = grads.find(id);
    return s ? &slots[size_t(*s)] : nullptr;
  };
  for (size_t i = 0; i < targets.size(); ++i) {
    const Tensor& t = targets[i];
    if (!is_differentiable(t.dtype) || !reach.count(t.id)) continue;
    Tensor seed;
    if (i < output_grads.size() && output_grads[i].defined()) {
      seed = output_grads[i];
      if (seed.dtype != t.dtype)
        throw InvalidArgument(std::string("output_gradients[") + std::to_string(i) + "] has dtype " +
                              dtype_name(seed.dtype) + " but its target has dtype " + dtype_name(t.dtype));
      if (seed.shape != t.shape) seed = ops::broadcast_to(seed, t.shape);
    } else {
      seed = ops::ones_like(t);
    }
    accumulate(t.id, sparse_grad::dense(seed));
  }

  std::vector<GradValue> result(sources.size());
  auto final_grad = [&](size_t i) {
    const Tensor& s = sources[i];
    GradValue* g = grad_of(s.id);
    if (g && is_differentiable(s.dtype)) result[i] = *g;
    else if (zero_unconnected && is_differentiable(s.dtype)) result[i].value = Tensor::zeros(s.shape, s.dtype);
    if (result[i].sparse())
      result[i] =
          keep_sparse ? sparse_grad::materialize(result[i]) : sparse_grad::dense(sparse_grad::densify(result[i]));
  };
  // See Note [Source ready]: sources in the order their gradients become final.
  std::vector<std::pair<int64_t, size_t>> ready_order;  // (lowest reading node, source index)
  size_t n_ready = 0;
  if (on_source_ready) {
    IdMap lowest;
    for (size_t k = nnodes; k-- > 0;) {
      const Node* n = tape.nodes[k].get();
      if (!n || !relevant[k]) continue;
      for (const Tensor& t : n->inputs)
        if (source_ids.count(t.id)) lowest.set(t.id, int64_t(k));
    }
    for (size_t i = 0; i < sources.size(); ++i) {
      const int64_t* k = lowest.find(sources[i].id);
      ready_order.emplace_back(k ? *k : int64_t(nnodes), i);
    }
    std::stable_sort(ready_order.begin(), ready_order.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
  }
  auto report_ready = [&](int64_t below) {  // sources whose lowest reader is above `below`
    for (; n_ready < ready_order.size() && ready_order[n_ready].first > below; ++n_ready) {
      size_t i = ready_order[n_ready].second;
      final_grad(i);
      on_source_ready(i, result[i]);
    }
  };

  // See Note [Sparse gradients]: each node's position in TF's breadth-first backward walk, which
  // orders the concatenated slices; computed only when a node can make a sparse gradient.
  std::vector<int64_t> ranks;
  bool can_be_sparse = false;
  for (size_t j = 0; j < nnodes && !can_be_sparse; ++j)
    can_be_sparse = relevant[j] && tape.nodes[j] && sparse_grad::makes_sparse(*tape.nodes[j]);
  if (can_be_sparse) {
    ranks.assign(nnodes, int64_t(nnodes));
    // the ops TF's tape keeps: those whose outputs lead to a target
    IdMap used;  // tensor id -> uses by kept ops
    std::vector<char> kept(nnodes, 0);
    IdMap wanted = target_ids;
    for (size_t j = nnodes; j-- > 0;) {
      const Node* n = tape.nodes[j].get();
      if (!n) continue;
      for (const Tensor& o : n->outputs)
        if (wanted.count(o.id)) kept[j] = 1;
      if (!kept[j]) continue;
      for (const Tensor& t : n->inputs) {
        wanted.emplace(t.id, 0);
        if (int64_t* c = used.find(t.id)) ++*c;
        else used.emplace(t.id, 1);
      }
    }
    // an op waits for each of its used outputs (TF's op_missing_tensor)
    std::vector<int64_t> missing(nnodes, 0);
    for (size_t j = 0; j < nnodes; ++j) {
      if (!kept[j]) continue;
      for (const Tensor& o : tape.nodes[j]->outputs)
        if (used.count(o.id)) ++missing[j];
    }
    std::deque<size_t> queue;
    for (size_t j = 0; j < nnodes; ++j)
      if (kept[j] && missing[j] == 0) queue.push_back(j);
    int64_t next = 0;
    while (!queue.empty()) {
      const size_t j = queue.back();
      queue.pop_back();
      ranks[j] = next++;
      for (const Tensor& t : tape.nodes[j]->inputs) {
        int64_t* c = used.find(t.id);
        if (!c || --*c != 0) continue;
        const int64_t* p = tape.producer.find(t.id);
        if (p && *p >= 0 && size_t(*p) < nnodes && kept[size_t(*p)] && --missing[size_t(*p)] == 0)
          queue.push_front(size_t(*p));
      }
    }
  }
  auto tf_rank = [&](size_t node_index) -> int64_t { return ranks.empty() ? 0 : ranks[node_index]; };

  // 4. a node's outputs are final once it ran
  auto release_outputs = [&](const Node& node, size_t k) {
    for (const Tensor& o : node.outputs)
      if (!source_ids.count(o.id))
        if (int64_t* s = grads.find(o.id)) {
          slots[size_t(*s)] = GradValue();  // free the buffer now
          grads.erase(o.id);
        }
    if (!tape.persistent) tape.nodes[k].reset();
  };

  // 2. backward walk
  std::vector<Tensor> gin, gout;
  std::vector<char> needs;
  for (size_t k = nnodes; k-- > 0;) {
    report_ready(int64_t(k));
    if (!relevant[k]) continue;
    std::shared_ptr<Node> node = tape.nodes[k];
    if (!node) continue;
    bool any = false;
    for (const Tensor& o : node->outputs)
      if (grads.count(o.id)) {
        any = true;
        break;
      }
    if (!any) continue;
    const OpDef& def = opdef(node->op);
    const size_t nin = node->inputs.size();
    needs.assign(nin, 0);
    bool any_need = false;
    for (size_t i = 0; i < nin; ++i) {
      const Tensor& in = node->inputs[i];
      needs[i] = is_differentiable(in.dtype) && reach.count(in.id);
      any_need |= bool(needs[i]);
    }
    if (!any_need) continue;
    if (!def.vjp)
      throw LookupError(std::string("No gradient defined for operation '") + op_name(node->op) +
                        "' (op type: " + op_name(node->op) + ")");
    // See Note [Sparse gradients]: Identity / Cast pass a sparse gradient on; Gather along axis 0
    // makes one; every other rule sees its output gradients dense. sparse_plan predicts these
    // decisions (Note [Sparse plan]): keep the two in step.
    if (nin == 1 && node->outputs.size() == 1 && sparse_grad::passes_sparse(node->op)) {
      GradValue* g = grad_of(node->outputs[0].id);
      if (g && g->sparse()) {
        GradValue pass = sparse_grad::pass_through(*node, *g, tf_rank(k));
        accumulate(node->inputs[0].id, std::move(pass));
        release_outputs(*node, k);
        continue;
      }
    }
    gout.clear();
    for (const Tensor& o : node->outputs) {
      GradValue* g = grad_of(o.id);
      gout.push_back(g ? sparse_grad::densify(*g) : ops::zeros_like(o));
    }
    gin.assign(nin, Tensor());
    static_assert(sizeof(bool) == sizeof(char), "needs is passed as bool*");
    GradValue sparse_params = sparse_grad::gather_params_grad(*node, gout[0], tf_rank(k));
    if (sparse_params.defined()) {
      if (sparse_params.value.dtype != node->inputs[0].dtype)
        throw RuntimeError(std::string("internal: sparse gradient of ") + op_name(node->op) + " has dtype " +
                           dtype_name(sparse_params.value.dtype) + ", expected " + dtype_name(node->inputs[0].dtype));
      accumulate(node->inputs[0].id, std::move(sparse_params));
      release_outputs(*node, k);
      continue;
    }
    def.vjp(*node, gout.data(), reinterpret_cast<const bool*>(needs.data()), gin.data());
    // the choke point
    for (size_t i = 0; i < nin; ++i) {
      if (!needs[i] || !gin[i].defined()) continue;
      const Tensor& in = node->inputs[i];
      Tensor g = gin[i];
      if (g.dtype != in.dtype)
        throw RuntimeError(std::string("internal: gradient of ") + op_name(node->op) + " input " + std::to_string(i) +
                           " has dtype " + dtype_name(g.dtype) + ", expected " + dtype_name(in.dtype));
      if (g.shape != in.shape) g = ops::sum_to(g, in.shape);
      accumulate(in.id, sparse_grad::dense(std::move(g)));
    }
    release_outputs(*node, k);
  }

  report_ready(-1);
  for (size_t i = 0; i < sources.size(); ++i)
    if (!on_source_ready) final_grad(i);
  if (!tape.persistent) {
    tape.nodes.clear();
    tape.producer.clear();
  }
  return result;
}

std::vector<Tensor> compute_gradient(Tape& tape, const std::vector<Tensor>& targets, const std::vector<Tensor>& sources,
                                     const std::vector<Tensor>& output_grads, bool zero_unconnected,
                                     const SourceReadyFn& on_source_ready) {
  SparseSourceReadyFn ready;
  if (on_source_ready)  // densified: every value is a dense tensor here
    ready = [&on_source_ready](size_t i, const GradValue& g) { on_source_ready(i, g.value); };
  std::vector<GradValue> r = compute_impl(tape, targets, sources, output_grads, zero_unconnected, false, ready);
  std::vector<Tensor> out(r.size());
  for (size_t i = 0; i < r.size(); ++i) out[i] = std::move(r[i].value);
  return out;
}

std::vector<GradValue> compute_gradient_sparse(Tape& tape, const std::vector<Tensor>& targets,
                                               const std::vector<Tensor>& sources,
                                               const std::vector<Tensor>& output_grads, bool zero_unconnected,
                                               const SparseSourceReadyFn& on_source_ready) {
  return compute_impl(tape, targets, sources, output_grads, zero_unconnected, true, on_source_ready);
}

bool plan_walk(const Tape& tape, const std::vector<Tensor>& targets, const std::vector<Tensor>& sources, WalkPlan& plan,
               std::string& why) {
  const size_t nnodes = tape.nodes.size();
  Sweep sweep = forward_sweep(tape, targets, sources);
  IdMap has;  // tensors that may have a gradient when the walk reaches their producer
  plan.seeded.assign(targets.size(), 0);
  for (size_t i = 0; i < targets.size(); ++i) {
    const Tensor& t = targets[i];
    if (!is_differentiable(t.dtype) || !sweep.reach.count(t.id)) continue;
    plan.seeded[i] = 1;
    has.emplace(t.id, 0);
  }
  plan.steps.clear();
  for (size_t k = nnodes; k-- > 0;) {
    const std::shared_ptr<Node>& node = tape.nodes[k];
    if (!sweep.relevant[k] || !node) continue;
    if (std::none_of(node->outputs.begin(), node->outputs.end(), [&](const Tensor& o) { return has.count(o.id); }))
      continue;
    WalkStep step{node, std::vector<char>(node->inputs.size(), 0)};
    bool any_need = false;
    for (size_t i = 0; i < node->inputs.size(); ++i) {
      const Tensor& in = node->inputs[i];
      step.needs[i] = is_differentiable(in.dtype) && sweep.reach.count(in.id);
      any_need |= step.needs[i] != 0;
    }
    if (!any_need) continue;
    if (!opdef(node->op).vjp || node->op == Op::CustomGradient || node->attrs.backward) {
      why = std::string("the gradient of ") + op_name(node->op) + " is not planned ahead";
      return false;
    }
    if (sparse_grad::makes_sparse(*node)) {  // without one, Identity and Cast pass dense gradients
      why = std::string(op_name(node->op)) + " may make a sparse gradient";
      return false;
    }
    for (size_t i = 0; i < node->inputs.size(); ++i)
      if (step.needs[i]) has.emplace(node->inputs[i].id, 0);
    plan.steps.push_back(std::move(step));
  }
  plan.reached.assign(sources.size(), 0);
  for (size_t i = 0; i < sources.size(); ++i)
    plan.reached[i] = is_differentiable(sources[i].dtype) && has.count(sources[i].id);
  return true;
}

// Note [Sparse plan]
// tapegrad.distribute must know before the walk which sources compute_gradient_sparse will give a
// sparse gradient (every rank checks the same plan of collectives, Note [Collective order]).
// sparse_plan replays the walk's decisions on kinds instead of values: each tensor's gradient is a
// set of possible kinds {none, dense, sparse}; the seeds are dense; nodes are visited in the walk's
// order with its tests (relevant, an output with a gradient, an input that needs one), and
//  - a gather that makes_sparse gives its params sparse (gather_params_grad);
//  - Identity / Cast (passes_sparse) give their input the kind of their output's gradient;
//  - a rule that is the shared None rule (the one Floor has: floor, ceil, round, floordiv) gives none;
//  - a custom gradient gives dense or none: its Python function decides while the walk runs;
//  - every other rule gives each input it needs a dense gradient;
// and kinds add as GradValues do (sparse.add): none + k = k, sparse + sparse = sparse, else dense.
// A node that may or may not run (an output whose kind may be none) adds "none" to what it gives.
// A source is kSparse when its set is {sparse}, kNotSparse when the set has no sparse, and
// kUnknown otherwise (only a custom gradient on the path, or a rule that gives some needed input no
// gradient while it is not the None rule, can make that happen).
namespace {
enum Kind : uint8_t { kNone = 1, kDense = 2, kSparseKind = 4 };
uint8_t add_kinds(uint8_t a, uint8_t b) {
  uint8_t out = 0;
  for (uint8_t x : {kNone, kDense, kSparseKind})
    for (uint8_t y : {kNone, kDense, kSparseKind}) {
      if (!(a & x) || !(b & y)) continue;
      out |= x == kNone                               ? y
             : y == kNone                             ? x
             : (x == kSparseKind && y == kSparseKind) ? uint8_t(kSparseKind)
                                                      : uint8_t(kDense);
    }
  return out;
}
bool gives_none(Op op) { return opdef(op).vjp == opdef(Op::Floor).vjp; }  // See Note [Sparse plan]
}  // namespace

std::vector<int> sparse_plan(const Tape& tape, const std::vector<Tensor>& targets, const std::vector<Tensor>& sources) {
  const size_t nnodes = tape.nodes.size();
  Sweep sweep = forward_sweep(tape, targets, sources);
  IdMap kinds;  // tensor id -> Kind bits (absent: {none})
  auto kind_of = [&](int64_t id) -> uint8_t {
    const int64_t* k = kinds.find(id);
    return k ? uint8_t(*k) : uint8_t(kNone);
  };
  auto give = [&](int64_t id, uint8_t k) { kinds.set(id, add_kinds(kind_of(id), k)); };
  for (const Tensor& t : targets)
    if (is_differentiable(t.dtype) && sweep.reach.count(t.id)) give(t.id, kDense);
  for (size_t k = nnodes; k-- > 0;) {
    const Node* node = tape.nodes[k].get();
    if (!sweep.relevant[k] || !node) continue;
    bool may_run = false, must_run = false;
    for (const Tensor& o : node->outputs) {
      const uint8_t ko = kind_of(o.id);
      may_run |= (ko & (kDense | kSparseKind)) != 0;
      must_run |= !(ko & kNone);
    }
    if (!may_run) continue;
    const size_t nin = node->inputs.size();
    bool any_need = false;
    for (const Tensor& in : node->inputs) any_need |= is_differentiable(in.dtype) && sweep.reach.count(in.id);
    if (!any_need) continue;
    const uint8_t maybe = must_run ? 0 : uint8_t(kNone);
    if (nin == 1 && node->outputs.size() == 1 && sparse_grad::passes_sparse(node->op)) {
      give(node->inputs[0].id, kind_of(node->outputs[0].id));  // none in it: the node did not run
      continue;
    }
    if (sparse_grad::makes_sparse(*node)) {
      give(node->inputs[0].id, uint8_t(kSparseKind | maybe));
      continue;
    }
    const uint8_t each = node->op == Op::CustomGradient ? uint8_t(kDense | kNone)
                         : gives_none(node->op)         ? uint8_t(kNone)
                                                        : uint8_t(kDense | maybe);
    for (const Tensor& in : node->inputs)
      if (is_differentiable(in.dtype) && sweep.reach.count(in.id)) give(in.id, each);
  }
  std::vector<int> out(sources.size(), kNotSparse);
  for (size_t i = 0; i < sources.size(); ++i) {
    const Tensor& s = sources[i];
    if (!is_differentiable(s.dtype) || !sweep.source_ids.count(s.id)) continue;
    const uint8_t k = kind_of(s.id);
    out[i] = k == kSparseKind ? kSparse : (k & kSparseKind) ? kUnknown : kNotSparse;
  }
  return out;
}

}  // namespace tape
}  // namespace tg
