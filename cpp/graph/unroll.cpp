// A traced tape.gradient recorded as nodes (See Note [Unrolled gradient]).
#include <cstdlib>
#include <cstring>

#include "autodiff/tape.h"
#include "graph/trace.h"
#include "ops/ops.h"

namespace tg {
namespace trace {

// Note [Unrolled gradient]
// A GradientTape made inside a tf.function used to be replayed as it ran eagerly: the replay made
// a Tape, every forward op recorded a node on it, and one gradient node walked it (Note [Backward
// pass]). Most of that is bookkeeping that gives the same answer on every call: the tape's nodes,
// which tensors reach a source, which rules run in which order. So when the trace meets
// tape.gradient, plan_walk (autodiff/tape.cpp) lists the rules the walk will run, and the trace
// records each as a node of its own:
//  - a seed node (ones, or the output gradients broadcast to the targets' shapes);
//  - per rule, a step node: it rebuilds the tape node (op and attrs as recorded; the inputs and
//    outputs the rule declared it saves from their slots, the others as id/shape/dtype only), runs
//    the rule when an output has a gradient, then passes the walk's choke point (dtype check,
//    ops::sum_to a broadcast shape) and accumulates into the inputs' gradient slots (the first
//    gradient adopted, later ones ops::add-ed, in the walk's order: the same bits as the walk);
//  - a final node that gives each source its gradient (zeros for an unconnected source when asked).
// The tape itself is then not needed at replay: Graph::plan drops its bookkeeping nodes (made,
// pushed, watched, popped), so forward ops record on no tape, and Note [Dead nodes] and liveness
// apply to the backward pass too (a forward result no rule reads, such as an unreturned loss, is
// not computed). Steps and seeds call ops::, so a tape active around the replay (outside the
// function) records the backward ops exactly as it records those of a walk: higher order holds.
//
// Only what replays identically is unrolled (plan_gradient returns null otherwise, and the trace
// records the gradient node as before): a tape made in the function, not persistent (one gradient),
// never acted on inside a branch or loop body; the gradient called at top level; every tensor of
// every step made at top level (a slot written by a top-level call, not by a control-flow node; a
// constant; a tensor captured from before the trace; or an intermediate of a top-level composite
// call, which a rule may only need as id/shape/dtype), because a step for an op that ran in a branch
// would run whatever branch a replay takes; every saved tensor found in a slot whose value is the
// one the tape saw (a Variable read again after a write is not); no rule that may make a sparse
// gradient, no custom gradient. TAPEGRAD_TRACE_UNROLL=0 turns it off (A/B).

namespace {
bool unroll_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("TAPEGRAD_TRACE_UNROLL");
    return !(v && v[0] == '0' && v[1] == '\0');
  }();
  return on;
}

struct Step {
  Op op;
  Attrs attrs;
  std::vector<TensorRef> in, out;  // saved: a slot or a fixed value; else a fixed id/shape/dtype
  std::vector<int> out_grad;       // gradient slot per output (-1: never gets one)
  std::vector<int> in_grad;        // gradient slot per input that needs one (-1: not needed)
  std::vector<char> needs;
  std::vector<Tensor> in_meta, out_meta;  // id/shape/dtype of each (no data)
};

// The rebuilt tape node of the step running now, and its gradients: reused, so a step allocates
// no vectors. Reached through a call that is not inlined: in a shared library each thread-local
// access is a call to __tls_get_addr, and gcc repeats it at every use of an inlined reference.
struct Scratch {
  tg::Node node;
  std::vector<Tensor> gout, gin;
};
__attribute__((noinline)) Scratch* scratch() {
  thread_local Scratch s;
  return &s;
}

void run_step(const Step& s, Env& env) {
  bool any = false;
  for (int g : s.out_grad) any |= g >= 0 && env.t[size_t(g)].defined();
  if (!any) return;  // the walk skips a node none of whose outputs has a gradient
  Scratch& sc = *scratch();
  struct Clear {  // drop the references the scratch holds, also when a rule raises
    Scratch& sc;
    ~Clear() {
      sc.node.inputs.clear();
      sc.node.outputs.clear();
      sc.gout.clear();
      sc.gin.clear();
    }
  } clear{sc};
  tg::Node& node = sc.node;
  node.op = s.op;
  node.attrs = s.attrs;
  for (const TensorRef& r : s.in) node.inputs.push_back(r.get(env));
  for (const TensorRef& r : s.out) node.outputs.push_back(r.get(env));
  for (size_t i = 0; i < s.out.size(); ++i) {
    const int g = s.out_grad[i];
    sc.gout.push_back(g >= 0 && env.t[size_t(g)].defined() ? env.t[size_t(g)] : ops::zeros_like(node.outputs[i]));
  }
  sc.gin.resize(s.in.size());
  opdef(s.op).vjp(node, sc.gout.data(), reinterpret_cast<const bool*>(s.needs.data()), sc.gin.data());
  for (size_t i = 0; i < s.in.size(); ++i) {  // the walk's choke point
    if (!s.needs[i] || !sc.gin[i].defined()) continue;
    const Tensor& in = node.inputs[i];
    Tensor g = std::move(sc.gin[i]);
    if (g.dtype != in.dtype)
      throw RuntimeError(std::string("internal: gradient of ") + op_name(s.op) + " input " + std::to_string(i) +
                         " has dtype " + dtype_name(g.dtype) + ", expected " + dtype_name(in.dtype));
    if (g.shape != in.shape) g = ops::sum_to(g, in.shape);
    Tensor& acc = env.t[size_t(s.in_grad[i])];
    acc = acc.defined() ? ops::add(acc, g) : std::move(g);
  }
}
}  // namespace

thread_local std::string t_refusal;

struct Seed {
  size_t target;                 // its index among the targets
  Tensor meta;                   // the target's id/shape/dtype
  std::optional<TensorRef> og;   // its output gradient, if given
  Tensor og_meta;                // that gradient's id/shape/dtype
  int slot;                      // the target's gradient slot
};

struct UnrolledGradient {
  int tape = -1;
  std::vector<Seed> seeds;
  std::vector<Step> steps;
  std::vector<int> source_grad;  // per source: its gradient slot, -1 when it gets none
  std::vector<Tensor> sources;   // id/shape/dtype
  bool zero_unconnected = false;
};

std::shared_ptr<UnrolledGradient> plan_gradient(Recorder& rec, const std::shared_ptr<Tape>& tape,
                                                const std::vector<Tensor>& targets, const std::vector<Tensor>& sources,
                                                const std::vector<Tensor>& output_grads, bool zero_unconnected) {
  auto refuse = [](std::string why) {
    t_refusal = std::move(why);
    return nullptr;
  };
  if (!unroll_enabled()) return refuse("TAPEGRAD_TRACE_UNROLL=0");
  if (rec.depth != 0 || !rec.poison.empty() || !rec.top_level())
    return refuse("the gradient is not called at the function's top level");
  if (rec.polymorphic()) return refuse("the trace is polymorphic (the steps would keep the traced shapes)");
  if (tape->persistent) return refuse("the tape is persistent");
  const int obj = rec.obj_slot(tape.get());
  if (obj < 0) return refuse("the tape was made outside the function");
  if (rec.tape_nested(obj)) return refuse("the tape is used inside a branch or loop body");
  tape::WalkPlan walk;
  std::string why;
  if (!tape::plan_walk(*tape, targets, sources, walk, why)) return refuse(why);

  auto u = std::make_shared<UnrolledGradient>();
  u->tape = obj;
  u->zero_unconnected = zero_unconnected;
  std::unordered_map<int64_t, int> grad_slot;  // tensor id -> its gradient's slot
  auto slot_for = [&](int64_t id) {
    auto [it, fresh] = grad_slot.try_emplace(id, -1);
    if (fresh) it->second = rec.new_slot();
    return it->second;
  };
  for (size_t i = 0; i < targets.size(); ++i) {
    if (!walk.seeded[i]) continue;
    std::optional<TensorRef> og;
    if (i < output_grads.size() && output_grads[i].defined()) {
      og = rec.find(output_grads[i]);
      if (!og) return refuse("an output gradient is not a top-level tensor of the function");
    }
    u->seeds.push_back(Seed{i, targets[i].meta(), og, og ? output_grads[i].meta() : Tensor(), slot_for(targets[i].id)});
  }
  for (const tape::WalkStep& ws : walk.steps) {
    const tg::Node& n = *ws.node;
    const OpDef& def = opdef(n.op);
    Step s{n.op, n.attrs, {}, {}, {}, {}, ws.needs, {}, {}};
    for (const Tensor& t : n.inputs) s.in_meta.push_back(t.meta());
    for (const Tensor& t : n.outputs) s.out_meta.push_back(t.meta());
    auto ref = [&](const Tensor& t, bool saved) -> std::optional<TensorRef> {
      if (!rec.top_level_tensor(t)) return std::nullopt;
      if (!saved) return TensorRef{-1, t.meta()};
      return rec.find(t);
    };
    auto refused = [&](const char* what, size_t i) {
      return refuse(std::string(op_name(n.op)) + "'s " + what + " " + std::to_string(i) +
                    " is not a top-level tensor of the function whose value a replay has");
    };
    for (const Tensor& t : n.inputs) {
      std::optional<TensorRef> r = ref(t, def.saves_inputs);
      if (!r) return refused("input", s.in.size());
      s.in.push_back(std::move(*r));
    }
    for (const Tensor& t : n.outputs) {
      std::optional<TensorRef> r = ref(t, def.saves_outputs);
      if (!r) return refused("output", s.out.size());
      s.out.push_back(std::move(*r));
      auto it = grad_slot.find(t.id);
      s.out_grad.push_back(it == grad_slot.end() ? -1 : it->second);
    }
    for (size_t i = 0; i < n.inputs.size(); ++i) s.in_grad.push_back(ws.needs[i] ? slot_for(n.inputs[i].id) : -1);
    u->steps.push_back(std::move(s));
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    auto it = grad_slot.find(sources[i].id);
    u->source_grad.push_back(walk.reached[i] && it != grad_slot.end() ? it->second : -1);
    u->sources.push_back(sources[i].meta());
  }
  t_refusal.clear();
  return u;
}

const std::string& last_unroll_refusal() { return t_refusal; }

// ---- the steps as elementwise programs (See Note [Fused elementwise], fuse.cpp) --------------------

namespace {

// A captured primitive's operand: what it was in the rule's run.
struct CapRef {
  enum Kind : uint8_t { kNone, kInput, kOutput, kGrad, kInter, kConst } kind = kNone;
  int index = 0;
  Tensor value;  // kConst
  bool operator==(const CapRef& o) const {
    if (kind != o.kind || index != o.index) return false;
    if (kind != kConst) return true;
    return value.dtype == o.value.dtype && value.shape == o.value.shape &&
           std::memcmp(value.raw(), o.value.raw(), value.nbytes()) == 0;
  }
};
struct CapOp {
  Op op;
  bool binary;
  uint8_t mode;
  CapRef a, b;
  bool operator==(const CapOp& o) const {
    return op == o.op && binary == o.binary && mode == o.mode && a == o.a && b == o.b;
  }
};
struct Capture {
  std::vector<CapOp> ops;
  std::vector<CapRef> results;  // per input: its gradient (kNone: none)
};

void fill_standin(Tensor& t, uint32_t& state, double sign) {
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    const double v = sign * (0.5 + double(state >> 8) / double(1u << 24));
    if (t.dtype == DType::Float32) t.data<float>()[i] = float(v);
    else t.data<double>()[i] = v;
  }
}

// Runs the step's rule on stand-ins (positive values, or negative ones: a value the rule derives
// from its inputs' data then differs between the two runs) under a tape that keeps every node's
// data, and reads back the primitives it ran. nullopt when the rule runs anything else.
std::optional<Capture> capture_rule(const Step& s, DType dtype, int64_t n, double sign) {
  uint32_t state = sign > 0 ? 12345u : 54321u;
  tg::Node node;
  node.op = s.op;
  node.attrs = s.attrs;
  std::vector<Tensor> gout;
  auto cap = std::make_shared<Tape>(true, false);
  auto standin = [&](const Tensor& meta) {
    Tensor t = Tensor::empty(meta.shape, dtype);
    fill_standin(t, state, sign);
    cap->watch(t);
    return t;
  };
  for (const Tensor& m : s.in_meta) node.inputs.push_back(standin(m));
  for (const Tensor& m : s.out_meta) node.outputs.push_back(standin(m));
  for (const Tensor& m : s.out_meta) gout.push_back(standin(m));
  std::vector<Tensor> gin(s.in_meta.size());
  {
    struct Push {  // the capturing tape, and every node keeping its data, for this scope only
      const std::shared_ptr<Tape>& t;
      bool saved;
      explicit Push(const std::shared_ptr<Tape>& tp) : t(tp), saved(tape::t_save_all) {
        tape::push(t);
        tape::t_save_all = true;
      }
      ~Push() {
        tape::t_save_all = saved;
        tape::pop(t.get());
      }
    } push(cap);
    try {
      opdef(s.op).vjp(node, gout.data(), reinterpret_cast<const bool*>(s.needs.data()), gin.data());
    } catch (const std::exception&) { return std::nullopt; }
  }
  std::unordered_map<int64_t, CapRef> known;
  for (size_t i = 0; i < node.inputs.size(); ++i) known[node.inputs[i].id] = CapRef{CapRef::kInput, int(i), {}};
  for (size_t i = 0; i < node.outputs.size(); ++i) known[node.outputs[i].id] = CapRef{CapRef::kOutput, int(i), {}};
  for (size_t i = 0; i < gout.size(); ++i) known[gout[i].id] = CapRef{CapRef::kGrad, int(i), {}};
  auto operand = [&](const Tensor& t, CapRef& out) {
    if (t.dtype != dtype) return false;
    auto it = known.find(t.id);
    if (it != known.end()) {
      out = it->second;
      return true;
    }
    // made by the rule without a recorded op: a constant (scalar_like), read from the node
    if (t.numel() != 1 || !t.has_data()) return false;
    out = CapRef{CapRef::kConst, 0, t};
    return true;
  };
  Capture c;
  for (const auto& p : cap->nodes) {
    if (!p || p->outputs.size() != 1 || p->inputs.empty() || p->inputs.size() > 2) return std::nullopt;
    const Tensor& o = p->outputs[0];
    const kernels::EwLoops k = kernels::float_loops(p->op, dtype);
    const bool binary = p->inputs.size() == 2;
    if (o.dtype != dtype || o.numel() != n || (binary ? !k.vv : !k.un)) return std::nullopt;
    CapOp op{p->op, binary, 0, {}, {}};
    if (!operand(p->inputs[0], op.a)) return std::nullopt;
    if (binary) {
      if (!operand(p->inputs[1], op.b)) return std::nullopt;
      const Tensor &a = p->inputs[0], &b = p->inputs[1];
      if (a.shape == b.shape) op.mode = 0;  // as run_binary
      else if (b.numel() == 1 && a.numel() == n) op.mode = 1;
      else if (a.numel() == 1 && b.numel() == n) op.mode = 2;
      else return std::nullopt;
    } else if (p->inputs[0].numel() != n) {
      return std::nullopt;
    }
    known[o.id] = CapRef{CapRef::kInter, int(c.ops.size()), {}};
    c.ops.push_back(std::move(op));
  }
  c.results.resize(gin.size());
  for (size_t i = 0; i < gin.size(); ++i) {
    if (!s.needs[i] || !gin[i].defined()) continue;
    if (gin[i].shape != s.in_meta[i].shape || !operand(gin[i], c.results[i])) return std::nullopt;  // sum_to
    if (c.results[i].kind == CapRef::kConst && n != 1) return std::nullopt;
  }
  return c;
}

// The seeds and the results as programs, when every tensor involved has one dtype and size.
std::shared_ptr<EwProgram> seed_program(Recorder& rec, const UnrolledGradient& u) {
  auto p = std::make_shared<EwProgram>();
  for (const Seed& sd : u.seeds) {
    const Tensor& t = sd.meta;
    if (p->ops.empty()) p->dtype = t.dtype, p->n = t.numel();
    if (!fusable(t.dtype, t.numel()) || t.dtype != p->dtype || t.numel() != p->n) return nullptr;
    EwOp acc{EwOp::kAccumulate, Op::Add, 0, {}, {}, sd.slot, t.shape, 0.0};
    if (sd.og) {
      if (sd.og_meta.dtype != t.dtype || sd.og_meta.shape != t.shape) return nullptr;
      acc.a = *sd.og;
    } else {
      const int ones = rec.new_slot();
      p->ops.push_back(EwOp{EwOp::kFill, Op::Add, 0, {}, {}, ones, t.shape, 1.0});
      acc.a = TensorRef{ones, Tensor()};
    }
    p->ops.push_back(std::move(acc));
  }
  return p->ops.empty() ? nullptr : p;
}

std::shared_ptr<EwProgram> result_program(const UnrolledGradient& u, const std::vector<int>& out_slots) {
  auto p = std::make_shared<EwProgram>();
  for (size_t i = 0; i < out_slots.size(); ++i) {
    if (out_slots[i] < 0) continue;
    const Tensor& s = u.sources[i];
    if (p->ops.empty()) p->dtype = s.dtype, p->n = s.numel();
    if (!fusable(s.dtype, s.numel()) || s.dtype != p->dtype || s.numel() != p->n) return nullptr;
    const TensorRef a = u.source_grad[i] >= 0 ? TensorRef{u.source_grad[i], Tensor()} : TensorRef{};
    p->ops.push_back(EwOp{EwOp::kResult, Op::Add, 0, a, {}, out_slots[i], s.shape, u.zero_unconnected ? 1.0 : 0.0});
  }
  return p->ops.empty() ? nullptr : p;
}

// The step as a program, or null (then it runs as run_step, and ends any fused run).
std::shared_ptr<EwProgram> step_program(Recorder& rec, const Step& s) {
  if (s.out_meta.empty()) return nullptr;
  const DType dtype = s.out_meta[0].dtype;
  const int64_t n = s.out_meta[0].numel();
  if (!fusable(dtype, n)) return nullptr;
  for (const Tensor& m : s.out_meta)
    if (m.dtype != dtype || m.numel() != n) return nullptr;
  for (const Tensor& m : s.in_meta)
    if (m.dtype != dtype || (m.numel() != n && m.numel() != 1)) return nullptr;
  std::optional<Capture> c1 = capture_rule(s, dtype, n, 1.0);
  if (!c1) return nullptr;
  std::optional<Capture> c2 = capture_rule(s, dtype, n, -1.0);
  if (!c2 || !(c1->ops == c2->ops) || c1->results.size() != c2->results.size()) return nullptr;
  for (size_t i = 0; i < c1->results.size(); ++i)
    if (!(c1->results[i] == c2->results[i])) return nullptr;
  std::vector<int> inter(c1->ops.size());
  for (int& slot : inter) slot = rec.new_slot();
  auto ref = [&](const CapRef& r, TensorRef& out) {
    switch (r.kind) {
      case CapRef::kInput: out = s.in[size_t(r.index)]; return out.slot >= 0 || out.value.has_data();
      case CapRef::kOutput: out = s.out[size_t(r.index)]; return out.slot >= 0 || out.value.has_data();
      case CapRef::kGrad: out = TensorRef{s.out_grad[size_t(r.index)], Tensor()}; return out.slot >= 0;
      case CapRef::kInter: out = TensorRef{inter[size_t(r.index)], Tensor()}; return true;
      case CapRef::kConst: out = TensorRef{-1, r.value}; return true;
      case CapRef::kNone: return false;
    }
    return false;
  };
  auto p = std::make_shared<EwProgram>();
  p->dtype = dtype;
  p->n = n;
  for (size_t k = 0; k < c1->ops.size(); ++k) {
    const CapOp& op = c1->ops[k];
    EwOp e{op.binary ? EwOp::kBinary : EwOp::kUnary, op.op, op.mode, {}, {}, inter[k], s.out_meta[0].shape, 0.0};
    if (!ref(op.a, e.a) || (op.binary && !ref(op.b, e.b))) return nullptr;
    p->ops.push_back(std::move(e));
  }
  for (size_t i = 0; i < c1->results.size(); ++i) {
    if (c1->results[i].kind == CapRef::kNone) continue;
    EwOp e{EwOp::kAccumulate, Op::Add, 0, {}, {}, s.in_grad[i], s.in_meta[i].shape, 0.0};
    if (!ref(c1->results[i], e.a) || e.out < 0) return nullptr;
    p->ops.push_back(std::move(e));
  }
  return p;
}

}  // namespace

void commit_gradient(Recorder& rec, const std::shared_ptr<UnrolledGradient>& u, const std::vector<Tensor>& results,
                     size_t stride) {
  const size_t n = u->sources.size();
  if (results.size() != n * stride)
    throw std::runtime_error("internal: an unrolled gradient got a different number of results");
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 1; k < stride; ++k)
      if (results[i * stride + k].defined()) {  // a sparse result: plan_walk should have refused
        rec.set_poison("internal: an unrolled gradient gave a sparse result");
        return;
      }
  // seeds
  {
    std::vector<int> uses, defs;
    for (const Seed& sd : u->seeds) {
      collect_uses(sd.og, uses);
      defs.push_back(sd.slot);
    }
    rec.add_pure(
        "gradient_seed",
        [u](Env& env) {
          for (const Seed& sd : u->seeds) {
            const Tensor& t = sd.meta;
            Tensor seed;
            if (sd.og) {
              seed = sd.og->get(env);
              if (seed.dtype != t.dtype)
                throw InvalidArgument("output_gradients[" + std::to_string(sd.target) + "] has dtype " +
                                      dtype_name(seed.dtype) + " but its target has dtype " + dtype_name(t.dtype));
              if (seed.shape != t.shape) seed = ops::broadcast_to(seed, t.shape);
            } else {
              seed = ops::ones_like(t);
            }
            Tensor& acc = env.t[size_t(sd.slot)];
            acc = acc.defined() ? ops::add(acc, seed) : std::move(seed);
          }
        },
        std::move(uses), std::move(defs), seed_program(rec, *u));
  }
  for (size_t k = 0; k < u->steps.size(); ++k) {
    const Step& s = u->steps[k];
    std::vector<int> uses, defs;
    collect_uses(s.in, uses);
    collect_uses(s.out, uses);
    for (int g : s.out_grad)
      if (g >= 0) uses.push_back(g);
    for (int g : s.in_grad)
      if (g >= 0) {
        uses.push_back(g);
        defs.push_back(g);
      }
    rec.add_pure(
        std::string("vjp:") + op_name(s.op), [u, k](Env& env) { run_step(u->steps[k], env); }, std::move(uses),
        std::move(defs), step_program(rec, s));
  }
  // the results: fresh slots, bound to the tensors the trace's own walk returned
  std::vector<int> out_slots(n, -1), uses;
  for (size_t i = 0; i < n; ++i) {
    const Tensor& r = results[i * stride];
    if (!r.defined()) continue;
    out_slots[i] = rec.bind_new(r);
    if (u->source_grad[i] >= 0) uses.push_back(u->source_grad[i]);
  }
  std::vector<int> defs;
  for (int s : out_slots)
    if (s >= 0) defs.push_back(s);
  rec.add_pure(
      "gradient_result",
      [u, out_slots](Env& env) {
        for (size_t i = 0; i < out_slots.size(); ++i) {
          if (out_slots[i] < 0) continue;
          const int g = u->source_grad[i];
          Tensor v = g >= 0 ? env.t[size_t(g)] : Tensor();
          if (!v.defined() && u->zero_unconnected) v = Tensor::zeros(u->sources[i].shape, u->sources[i].dtype);
          if (!v.defined())
            throw std::runtime_error("internal: an unrolled gradient left a connected source without a gradient");
          env.t[size_t(out_slots[i])] = std::move(v);
        }
      },
      std::move(uses), std::move(defs), result_program(*u, out_slots));
  rec.graph.unrolled_tapes.push_back(u->tape);
}

}  // namespace trace
}  // namespace tg
