// See trace.h and Note [Traced functions].
#include "graph/trace.h"

#include <algorithm>
#include <climits>
#include <iterator>
#include <sstream>

#include "autodiff/tape.h"
#include "tensor/errors.h"

namespace tg {
namespace trace {
namespace {
thread_local std::unique_ptr<Recorder> t_recorder;
}  // namespace

Recorder* current() { return t_recorder.get(); }

void begin(bool strict) {
  if (t_recorder) throw std::runtime_error("internal: a trace began while this thread was already tracing");
  t_recorder = std::make_unique<Recorder>(next_tensor_id());
  t_recorder->strict = strict;
}

std::unique_ptr<Recorder> end() { return std::move(t_recorder); }

void resume(std::unique_ptr<Recorder> r, int64_t paused_at) {
  if (t_recorder) throw std::runtime_error("internal: a paused trace resumed while this thread traces another");
  if (!r) return;
  r->add_outside(paused_at, next_tensor_id());
  t_recorder = std::move(r);
}

void poison(const std::string& why) {
  if (Recorder* r = current()) r->set_poison(why);
}

void host_read(const Tensor& t, const char* what) {
  Recorder* r = current();
  if (!r || !r->traced_value(t)) return;
  if (r->polymorphic() && r->shape_only(t)) {  // fixed for fixed shapes (Note [Polymorphic traces])
    r->specialize(std::string(what) + " read a size that follows the input signature's None dimensions");
    return;
  }
  r->set_poison(std::string(what) + " read the value of a tensor computed in the function");
}

int Recorder::input(const Tensor& t) {
  if (slot_of_.count(t.id)) {
    set_poison("the same tensor is passed as two arguments");
    return slot_of_[t.id];
  }
  int s = bind_new(t);
  graph.inputs.push_back(s);
  graph.input_shapes.push_back(t.shape);
  graph.input_dtypes.push_back(t.dtype);
  if (poly_) input_shadow(s, t);
  return s;
}

TensorRef Recorder::ref(const Tensor& t, const char* what) {
  auto it = slot_of_.find(t.id);
  if (it != slot_of_.end()) return TensorRef{it->second, Tensor()};
  auto c = constants_.find(t.id);
  if (c != constants_.end()) return TensorRef{-1, c->second};
  // Made before the trace began (a tensor the function closes over) or while it was paused:
  // captured by value, as TF.
  if (made_outside(t.id)) return TensorRef{-1, t};
  set_poison(std::string(what) + " received a tensor made by an engine call that traces do not record");
  return TensorRef{-1, t};
}

std::optional<TensorRef> Recorder::find(const Tensor& t) const {
  auto it = slot_of_.find(t.id);
  if (it != slot_of_.end()) {
    if (slot_flags_[size_t(it->second)] != 0 || ambiguous_.count(t.id)) return std::nullopt;
    return TensorRef{it->second, Tensor()};
  }
  auto c = constants_.find(t.id);
  if (c != constants_.end()) return TensorRef{-1, c->second};
  if (t.id < first_id_) return TensorRef{-1, t};
  return std::nullopt;
}

bool Recorder::top_level_tensor(const Tensor& t) const {
  auto it = slot_of_.find(t.id);
  if (it != slot_of_.end()) return slot_flags_[size_t(it->second)] == 0;
  if (constants_.count(t.id) || t.id < first_id_) return true;
  auto c = std::upper_bound(calls_.begin(), calls_.end(), std::make_pair(t.id, INT64_MAX));
  return c != calls_.begin() && t.id < std::prev(c)->second;
}

void variable_read(const std::shared_ptr<Variable>& v, const Tensor& value, bool accessed) {
  Recorder* r = current();
  if (!r || r->depth > 0 || !r->poison.empty()) return;
  const int s = r->bind_new(value);
  r->add(
      "read_variable",
      [v, s, accessed](Env& env) {
        if (accessed && tape::any_active()) tape::variable_accessed(v);
        env.t[size_t(s)] = v->read();
      },
      {}, /*effect=*/false);
}

void run_block(const Block& b, Env& env) {
  for (const Node& n : b) {
    n.fn(env);
    for (int s : n.release) env.t[size_t(s)] = Tensor();
  }
}

namespace {
// Every slot a block reads, its nested blocks included.
void block_uses(const Block& b, std::vector<int>& out) {
  for (const Node& n : b) out.insert(out.end(), n.uses.begin(), n.uses.end());
}
}  // namespace

// Note [Dead nodes]
// A recorded call whose arguments hold no Variable and no Tape has no effect but its results (the
// invariant of TG_OP: a non-void recorded call is a pure function of its arguments; tapes that
// record it only ever need it for a gradient of something that reads its results). When no later
// top-level node (a control-flow node counts every slot its blocks read) and no output reads any of
// its results, plan() drops it, walking backwards so that chains of dead calls go together. Host
// calls, Variable reads and writes, tape calls and control-flow nodes are never dropped. Blocks of
// control-flow nodes are left as recorded.
void Graph::plan() {
  // See Note [Unrolled gradient]: a tape whose only uses left are its bookkeeping is not replayed.
  for (int tp : unrolled_tapes) {
    auto bookkeeping = [](const std::string& n) {
      return n == "Tape" || n == "push_tape" || n == "pop_tape" || n == "watch_tensor" || n == "watch_variable";
    };
    if (std::any_of(nodes.begin(), nodes.end(), [&](const Node& n) { return n.tape == tp && !bookkeeping(n.name); }))
      continue;
    nodes.erase(std::remove_if(nodes.begin(), nodes.end(), [&](const Node& n) { return n.tape == tp; }), nodes.end());
  }
  std::vector<char> live(size_t(n_slots), 0);
  for (const TensorRef& o : outputs)
    if (o.slot >= 0) live[size_t(o.slot)] = 1;
  std::vector<char> keep(nodes.size(), 1);
  for (size_t i = nodes.size(); i-- > 0;) {
    const Node& n = nodes[i];
    if (n.pure && std::none_of(n.defs.begin(), n.defs.end(), [&](int s) { return live[size_t(s)] != 0; })) {
      keep[i] = 0;
      continue;
    }
    for (int s : n.uses) live[size_t(s)] = 1;
  }
  Block kept;
  kept.reserve(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i)
    if (keep[i]) kept.push_back(std::move(nodes[i]));
  dropped += int(nodes.size() - kept.size());
  nodes = std::move(kept);
  if (!polymorphic) fuse_elementwise(*this);  // See Note [Fused elementwise] (fuse.cpp)

  std::vector<int> last(size_t(n_slots), -1);
  for (size_t i = 0; i < nodes.size(); ++i)
    for (int s : nodes[i].uses) last[size_t(s)] = int(i);
  for (const TensorRef& o : outputs)
    if (o.slot >= 0) last[size_t(o.slot)] = int(nodes.size());  // kept to the end
  for (int s = 0; s < n_slots; ++s)
    if (last[size_t(s)] >= 0 && last[size_t(s)] < int(nodes.size()))
      nodes[size_t(last[size_t(s)])].release.push_back(s);
}

bool pred_value(const Tensor& t, const char* what) {
  if (t.dtype != DType::Bool)
    throw tg::TypeError(std::string(what) + " must be a bool tensor, got " + dtype_name(t.dtype));
  if (t.numel() != 1)
    throw InvalidArgument(std::string(what) + " must be a scalar (or shape [1]) bool tensor, got shape " +
                          t.shape.str());
  return *t.data<bool>();
}

void add_cond(Recorder& r, std::shared_ptr<CondBuilder> c, std::vector<int> out_slots) {
  if (c->outs[0].size() != out_slots.size() || c->outs[1].size() != out_slots.size())
    throw std::runtime_error("internal: tf.cond's branches recorded different numbers of results");
  std::vector<int> uses;
  collect_uses(c->pred, uses);
  for (int k = 0; k < 2; ++k) {
    block_uses(c->branch[k], uses);
    collect_uses(c->outs[k], uses);
  }
  for (int s : out_slots) r.mark_flow(s);
  r.add(
      "cond",
      [c, out_slots](Env& env) {
        const int k = pred_value(c->pred.get(env), "pred") ? 1 : 0;
        run_block(c->branch[k], env);
        std::vector<Tensor> vals;
        for (const TensorRef& o : c->outs[k]) vals.push_back(o.get(env));
        for (size_t i = 0; i < out_slots.size(); ++i) env.t[size_t(out_slots[i])] = std::move(vals[i]);
      },
      std::move(uses));
}

void add_while(Recorder& r, std::shared_ptr<WhileBuilder> w, std::vector<int> out_slots) {
  if (w->next.size() != w->vars.size() || out_slots.size() != w->vars.size())
    throw std::runtime_error("internal: tf.while_loop's body recorded a different number of loop variables");
  std::vector<int> uses;
  collect_uses(w->init, uses);
  collect_uses(w->pred, uses);
  collect_uses(w->next, uses);
  block_uses(w->cond, uses);
  block_uses(w->body, uses);
  for (int s : out_slots) r.mark_flow(s);
  for (int s : w->vars) r.mark_flow(s);
  r.add(
      "while_loop",
      [w, out_slots](Env& env) {
        std::vector<Tensor> cur;
        for (const TensorRef& t : w->init) cur.push_back(t.get(env));
        for (int64_t it = 0;; ++it) {
          for (size_t i = 0; i < cur.size(); ++i) env.t[size_t(w->vars[i])] = cur[i];
          if (w->max_iterations >= 0 && it >= w->max_iterations) break;
          run_block(w->cond, env);
          if (!pred_value(w->pred.get(env), "the loop condition")) break;
          run_block(w->body, env);
          for (size_t i = 0; i < cur.size(); ++i) cur[i] = w->next[i].get(env);
        }
        for (size_t i = 0; i < out_slots.size(); ++i) env.t[size_t(out_slots[i])] = cur[i];
      },
      std::move(uses));
}

Pause::Pause() : saved_(std::move(t_recorder)) {}
Pause::~Pause() { t_recorder = std::move(saved_); }

namespace {
// A replay's slots come from a per-thread stack of Envs, each left with every slot empty: making
// and zeroing hundreds of slots per call (about 100 bytes each) was a sixth of a fused chain's
// replay. A stack, because a replay may run Python (a host call) that replays another function.
struct EnvPool {
  std::vector<std::unique_ptr<Env>> free;
};
__attribute__((noinline)) EnvPool* env_pool() {  // See run_step in unroll.cpp on thread-locals
  thread_local EnvPool p;
  return &p;
}
class PooledEnv {
 public:
  PooledEnv(size_t nt, size_t no) : nt_(nt), no_(no) {
    EnvPool& p = *env_pool();
    if (p.free.empty()) {
      env_ = std::make_unique<Env>();
    } else {
      env_ = std::move(p.free.back());
      p.free.pop_back();
    }
    if (env_->t.size() < nt) env_->t.resize(nt);
    if (env_->obj.size() < no) env_->obj.resize(no);
  }
  ~PooledEnv() {
    for (size_t i = 0; i < nt_; ++i)
      if (env_->t[i].defined() || env_->t[i].has_data()) env_->t[i] = Tensor();
    for (size_t i = 0; i < no_; ++i) env_->obj[i].reset();
    EnvPool& p = *env_pool();
    if (p.free.size() < 8) p.free.push_back(std::move(env_));
  }
  PooledEnv(const PooledEnv&) = delete;
  PooledEnv& operator=(const PooledEnv&) = delete;
  Env& env() { return *env_; }

 private:
  std::unique_ptr<Env> env_;
  size_t nt_, no_;
};
}  // namespace

std::vector<Tensor> Graph::run(const std::vector<Tensor>& args) const {
  if (args.size() != inputs.size())
    throw InvalidArgument("a traced function expected " + std::to_string(inputs.size()) + " tensor arguments, got " +
                          std::to_string(args.size()));
  PooledEnv pooled{size_t(n_slots), size_t(n_obj)};
  Env& env = pooled.env();
  for (size_t i = 0; i < args.size(); ++i) {
    if (!accepts(i, args[i])) {
      std::ostringstream m;
      m << "a traced function's argument " << i << " has dtype " << dtype_name(args[i].dtype) << " and shape "
        << args[i].shape.str() << "; the trace has " << dtype_name(input_dtypes[i]) << " and " << input_shapes[i].str();
      throw InvalidArgument(m.str());
    }
    env.t[size_t(inputs[i])] = args[i];
  }
  run_block(nodes, env);
  std::vector<Tensor> out;
  out.reserve(outputs.size());
  for (const TensorRef& o : outputs) out.push_back(o.get(env));
  return out;
}

}  // namespace trace
}  // namespace tg
