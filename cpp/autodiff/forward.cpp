#include "autodiff/forward.h"

#include <algorithm>
#include <atomic>

#include "ops/ops.h"

namespace tg {

// Note [Forward mode]
// A ForwardAccumulator maps tensor ids to tangents. While it is active, every differentiable op
// passes through tape::record (the one recording function), which hands it to forward::record:
// for each active accumulator that knows a tangent for one of the op's float inputs, the op's
// JVP rule computes the outputs' tangents from the inputs' tangents and the op's full inputs and
// outputs, and the accumulator stores them under the outputs' ids. jvp(t) is a lookup.
//
// The rule is the op's explicit JVP (OpDef::jvp: the hot primitives, registered with JVP(Op) next
// to their VJPs in derivatives.cpp) or, for every other differentiable primitive, its VJP rule
// transposed ("double back", as TF's forwardprop.py): the VJP is linear in the output cotangent v,
// so with v watched on a private tape, d/dv <VJP(v), u> = J u. Ops without a VJP (stop_gradient,
// comparisons) give no tangent; a VJP that is unconnected to v (Sign, Floor) gives none either, as
// TF. A custom_gradient function's outputs keep the JVP of the function's own ops when it has one
// (TF keeps the first JVP of a tensor); otherwise its custom gradient is transposed.
//
// Nesting follows TF: accumulators and tapes apply in the order they were entered. While
// accumulator k computes a JVP, only accumulators 0..k-1 and the tapes that were recording when k
// was entered see the ops it runs (an inner accumulator's JVP computation is differentiated by
// outer accumulators and outer tapes: outer.jvp(inner.jvp(y)), tape.gradient(acc.jvp(y), x); a
// tape entered inside the accumulator ignores it, and the accumulator differentiates that tape's
// backward pass: acc.jvp(tape.gradient(y, x)) is a forward-over-reverse Hessian-vector product).
// Tapes record first and accumulators run in entry order, so that the tapes and accumulators
// outside accumulator k know an op's outputs before k's JVP computation reads them.

void Accumulator::watch(const Tensor& primal, const Tensor& tangent) {
  if (!is_differentiable(primal.dtype)) return;
  if (tangent.dtype != primal.dtype || tangent.shape != primal.shape)
    throw ValueError(std::string("The tangent has shape ") + tangent.shape.str() + " and dtype " +
                     dtype_name(tangent.dtype) + " but its primal has shape " + primal.shape.str() + " and dtype " +
                     dtype_name(primal.dtype));
  if (const int64_t* s = slot_.find(primal.id)) {
    tangents_[size_t(*s)] = ops::add(tangents_[size_t(*s)], tangent);
    return;
  }
  set(primal.id, tangent);
}

void Accumulator::set(int64_t id, Tensor t, const std::shared_ptr<Storage>& owner) {
  if (int64_t* s = slot_.find(id)) {
    tangents_[size_t(*s)] = std::move(t);
    return;
  }
  if (tangents_.size() >= next_sweep_) sweep();
  slot_.emplace(id, int64_t(tangents_.size()));
  tangents_.push_back(std::move(t));
  ids_.push_back(id);
  owners_.push_back(owner);
  owned_.push_back(owner != nullptr);
}

void Accumulator::sweep() {
  size_t kept = 0;
  IdMap slot;
  for (size_t i = 0; i < tangents_.size(); ++i) {
    if (owned_[i] && owners_[i].expired()) continue;
    slot.emplace(ids_[i], int64_t(kept));
    tangents_[kept] = std::move(tangents_[i]);
    ids_[kept] = ids_[i];
    owners_[kept] = std::move(owners_[i]);
    owned_[kept] = owned_[i];
    ++kept;
  }
  tangents_.resize(kept);
  ids_.resize(kept);
  owners_.resize(kept);
  owned_.resize(kept);
  slot_ = std::move(slot);
  next_sweep_ = std::max<size_t>(4096, 2 * kept);
}

namespace forward {

thread_local std::vector<std::shared_ptr<Accumulator>> t_active;
static std::atomic<bool> g_force_double_back{false};
void set_force_double_back(bool on) { g_force_double_back = on; }
bool force_double_back() { return g_force_double_back; }

bool any_tangent(const Tensor* in, size_t nin) {
  for (const auto& acc : t_active)
    for (size_t i = 0; i < nin; ++i)
      if (is_differentiable(in[i].dtype) && acc->find(in[i].id)) return true;
  return false;
}

void push(const std::shared_ptr<Accumulator>& acc) {
  if (is_recording(acc.get())) throw ValueError("Accumulator is already recording.");
  acc->outer_tapes.assign(tape::t_active.begin(), tape::t_active.end());
  t_active.push_back(acc);
  tape::refresh_any();
}

void pop(const Accumulator* acc) {
  for (size_t i = t_active.size(); i-- > 0;)
    if (t_active[i].get() == acc) {
      t_active.erase(t_active.begin() + long(i));
      tape::refresh_any();
      return;
    }
  throw ValueError("Accumulator is not recording.");
}

bool is_recording(const Accumulator* acc) {
  return std::any_of(t_active.begin(), t_active.end(),
                     [&](const std::shared_ptr<Accumulator>& a) { return a.get() == acc; });
}

namespace {

// While accumulator k of `accs` computes a JVP: only accumulators below it and the tapes that were
// recording when it was entered are active (See Note [Forward mode]).
class OuterOnly {
 public:
  OuterOnly(const std::vector<std::shared_ptr<Accumulator>>& accs, size_t k, const Accumulator& acc)
      : saved_accs_(std::move(t_active)), saved_tapes_(tape::t_active) {
    t_active.assign(accs.begin(), accs.begin() + long(k));
    auto& tapes = tape::t_active;
    tapes.erase(std::remove_if(tapes.begin(), tapes.end(),
                               [&](const std::shared_ptr<Tape>& t) {
                                 return std::none_of(acc.outer_tapes.begin(), acc.outer_tapes.end(),
                                                     [&](const std::weak_ptr<Tape>& w) { return w.lock() == t; });
                               }),
                tapes.end());
    tape::refresh_any();
  }
  ~OuterOnly() {
    t_active = std::move(saved_accs_);
    tape::t_active = std::move(saved_tapes_);
    tape::refresh_any();
  }
  OuterOnly(const OuterOnly&) = delete;
  OuterOnly& operator=(const OuterOnly&) = delete;

 private:
  std::vector<std::shared_ptr<Accumulator>> saved_accs_;
  std::vector<std::shared_ptr<Tape>> saved_tapes_;
};

}  // namespace

void jvp_by_double_back(const Node& n, const Tensor* tangents, Tensor* out) {
  const OpDef& def = opdef(n.op);
  if (!def.vjp) return;
  const size_t nin = n.inputs.size(), nout = n.outputs.size();
  // v: one cotangent per output, watched on a private tape; the VJP rule is linear in v.
  auto inner = std::make_shared<Tape>(false, false);
  std::vector<Tensor> vs(nout), sources;
  std::vector<size_t> source_of;  // index into outputs
  for (size_t j = 0; j < nout; ++j) {
    vs[j] = Tensor::zeros(n.outputs[j].shape, n.outputs[j].dtype);
    if (is_differentiable(vs[j].dtype)) {
      inner->watch(vs[j]);
      sources.push_back(vs[j]);
      source_of.push_back(j);
    }
  }
  if (sources.empty()) return;
  std::vector<char> needs(nin, 0);
  for (size_t i = 0; i < nin; ++i) needs[i] = tangents[i].defined() && is_differentiable(n.inputs[i].dtype);
  std::vector<Tensor> gin(nin), targets, ograds;
  tape::push(inner);
  try {
    static_assert(sizeof(bool) == sizeof(char), "needs is passed as bool*");
    def.vjp(n, vs.data(), reinterpret_cast<const bool*>(needs.data()), gin.data());
    for (size_t i = 0; i < nin; ++i) {
      if (!needs[i] || !gin[i].defined()) continue;
      Tensor g = gin[i];
      if (g.shape != n.inputs[i].shape) g = ops::sum_to(g, n.inputs[i].shape);  // a broadcast-shaped gradient
      targets.push_back(g);
      ograds.push_back(tangents[i]);
    }
  } catch (...) {
    tape::pop(inner.get());
    throw;
  }
  tape::pop(inner.get());
  if (targets.empty()) return;
  std::vector<Tensor> res = tape::compute_gradient(*inner, targets, sources, ograds, false);
  for (size_t s = 0; s < res.size(); ++s) out[source_of[s]] = res[s];
}

void record(Op op, const Tensor* in, size_t nin, const Tensor* out, size_t nout, const Attrs& attrs) {
  if (t_active.empty()) return;
  const std::vector<std::shared_ptr<Accumulator>> accs = t_active;
  std::vector<Tensor> tangents(nin), res(nout);
  // Outer accumulators first: an inner one's JVP rule may read the op's outputs, whose outer
  // tangents must exist by then.
  for (size_t k = 0; k < accs.size(); ++k) {
    Accumulator& acc = *accs[k];
    bool any = false;
    for (size_t i = 0; i < nin; ++i) {
      const Tensor* t = is_differentiable(in[i].dtype) ? acc.find(in[i].id) : nullptr;
      tangents[i] = t ? *t : Tensor();
      any |= t != nullptr;
    }
    if (!any) continue;
    bool wanted = false;  // an output that has no tangent yet
    for (size_t j = 0; j < nout; ++j) wanted |= is_differentiable(out[j].dtype) && !acc.find(out[j].id);
    if (!wanted) continue;
    Node node;
    node.op = op;
    node.inputs.assign(in, in + nin);
    node.outputs.assign(out, out + nout);
    node.attrs = attrs;
    std::fill(res.begin(), res.end(), Tensor());
    acc.ops_seen[size_t(op)] = 1;
    {
      OuterOnly scope(accs, k, acc);
      JvpFn rule = force_double_back() ? nullptr : opdef(op).jvp;
      if (rule) rule(node, tangents.data(), res.data());
      else jvp_by_double_back(node, tangents.data(), res.data());
      for (size_t j = 0; j < nout; ++j) {  // the choke point: the output's shape and dtype
        Tensor& r = res[j];
        if (!r.defined()) continue;
        if (!is_differentiable(out[j].dtype)) {
          r = Tensor();
          continue;
        }
        if (r.dtype != out[j].dtype)
          throw RuntimeError(std::string("internal: the JVP of ") + op_name(op) + " output " + std::to_string(j) +
                             " has dtype " + dtype_name(r.dtype) + ", expected " + dtype_name(out[j].dtype));
        if (r.shape != out[j].shape) r = ops::broadcast_to(r, out[j].shape);
      }
    }
    for (size_t j = 0; j < nout; ++j)
      if (res[j].defined() && !acc.find(out[j].id)) acc.set(out[j].id, std::move(res[j]), out[j].storage);
  }
}

void alias(const Tensor& orig, const Tensor& copy) {
  for (auto& acc : t_active)
    if (const Tensor* t = acc->find(orig.id)) acc->set(copy.id, *t, copy.storage);
}

}  // namespace forward
}  // namespace tg
