// A traced tape.gradient recorded as nodes (See Note [Unrolled gradient]).
#include <cstdlib>

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

struct UnrolledGradient {
  int tape = -1;
  std::vector<std::pair<TensorRef, std::optional<TensorRef>>> seeds;  // target (meta), output gradient
  std::vector<int> seed_slots;
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
    u->seeds.emplace_back(TensorRef{-1, targets[i].meta()}, og);
    u->seed_slots.push_back(slot_for(targets[i].id));
  }
  for (const tape::WalkStep& ws : walk.steps) {
    const tg::Node& n = *ws.node;
    const OpDef& def = opdef(n.op);
    Step s{n.op, n.attrs, {}, {}, {}, {}, ws.needs};
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
    std::vector<int> uses, defs = u->seed_slots;
    for (const auto& sd : u->seeds) collect_uses(sd.second, uses);
    rec.add_pure(
        "gradient_seed",
        [u](Env& env) {
          for (size_t i = 0; i < u->seeds.size(); ++i) {
            const Tensor& t = u->seeds[i].first.value;
            Tensor seed;
            if (u->seeds[i].second) {
              seed = u->seeds[i].second->get(env);
              if (seed.dtype != t.dtype)
                throw InvalidArgument("output_gradients[" + std::to_string(i) + "] has dtype " +
                                      dtype_name(seed.dtype) + " but its target has dtype " + dtype_name(t.dtype));
              if (seed.shape != t.shape) seed = ops::broadcast_to(seed, t.shape);
            } else {
              seed = ops::ones_like(t);
            }
            Tensor& acc = env.t[size_t(u->seed_slots[i])];
            acc = acc.defined() ? ops::add(acc, seed) : std::move(seed);
          }
        },
        std::move(uses), std::move(defs));
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
        std::move(defs));
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
      std::move(uses), std::move(defs));
  rec.graph.unrolled_tapes.push_back(u->tape);
}

}  // namespace trace
}  // namespace tg
