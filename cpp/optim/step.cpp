// The step entry point optim::step and what every rule shares before its pass: argument checks,
// the pointers of every stream (prepare) and the dispatch on the rule.
#include <unordered_set>

#include "optim/pipeline.h"
#include "optim/rules.h"

namespace tg {
namespace optim {

// Note [Fused update]
// Per-step scalars (learning rate, bias corrections) are computed once, in double, by the caller
// or at the top of the kernel, then cast to the element type. The element loop reads param, grad
// and slots once and writes param and slots once; it has no branches that depend on the data,
// so gcc vectorises it (with -fno-math-errno for sqrt); the compiler's remainder loop is the
// scalar tail with the same body. Variables are made writable first (See Note [Variable
// writes]), so a tape or numpy view holding the old value keeps it. Every check happens before
// the parallel loop (See Note [Threads]).

void check_update_args(const char* who, const VarList& vars, const std::vector<Tensor>& grads,
                       const std::vector<const VarList*>& slots) {
  if (grads.size() != vars.size())
    throw InvalidArgument(std::string(who) + ": got " + std::to_string(grads.size()) + " gradients for " +
                          std::to_string(vars.size()) + " variables");
  std::unordered_set<const Variable*> seen;
  for (const VarList* s : slots)
    if (s->size() != vars.size())
      throw InvalidArgument(std::string(who) + ": slot list has " + std::to_string(s->size()) + " entries for " +
                            std::to_string(vars.size()) + " variables");
  for (size_t i = 0; i < vars.size(); ++i) {
    if (!vars[i]) throw InvalidArgument(std::string(who) + ": variable " + std::to_string(i) + " is None");
    const Tensor& v = vars[i]->value;
    if (!seen.insert(vars[i].get()).second)
      throw InvalidArgument(std::string(who) + ": variable '" + vars[i]->name +
                            "' appears more than once in the list of variables to update");
    if (!is_floating(v.dtype))
      throw InvalidArgument(std::string(who) + ": variable '" + vars[i]->name + "' has dtype " + dtype_name(v.dtype) +
                            "; optimizers update float variables only");
    if (!grads[i].has_data())
      throw InvalidArgument(std::string(who) + ": gradient for variable '" + vars[i]->name + "' is undefined");
    if (grads[i].dtype != v.dtype || grads[i].shape != v.shape)
      throw InvalidArgument(std::string(who) + ": gradient for variable '" + vars[i]->name + "' has dtype " +
                            dtype_name(grads[i].dtype) + " and shape " + grads[i].shape.str() + ", expected " +
                            dtype_name(v.dtype) + " " + v.shape.str());
    for (const VarList* s : slots) {
      if (!(*s)[i]) throw InvalidArgument(std::string(who) + ": missing slot for variable '" + vars[i]->name + "'");
      const Tensor& st = (*s)[i]->value;
      if (st.dtype != v.dtype || st.shape != v.shape)
        throw InvalidArgument(std::string(who) + ": slot '" + (*s)[i]->name + "' (" + dtype_name(st.dtype) + " " +
                              st.shape.str() + ") does not match variable '" + vars[i]->name + "' (" +
                              dtype_name(v.dtype) + " " + v.shape.str() + ")");
    }
  }
}

void check_options(const char* who, const VarList& vars, const StepOptions& o) {
  std::vector<const VarList*> lists;
  if (o.accumulators) lists.push_back(o.accumulators);
  if (o.ema) lists.push_back(o.ema);
  for (const VarList* l : lists) {
    if (l->size() != vars.size())
      throw InvalidArgument(std::string(who) + ": accumulator/EMA list has " + std::to_string(l->size()) +
                            " entries for " + std::to_string(vars.size()) + " variables");
    for (size_t i = 0; i < vars.size(); ++i)
      if (!(*l)[i] || (*l)[i]->value.dtype != vars[i]->value.dtype || (*l)[i]->value.shape != vars[i]->value.shape)
        throw InvalidArgument(std::string(who) + ": accumulator/EMA variable does not match variable '" +
                              vars[i]->name + "'");
  }
  if (!o.decay_mask.empty() && o.decay_mask.size() != vars.size())
    throw InvalidArgument(std::string(who) + ": weight-decay mask has " + std::to_string(o.decay_mask.size()) +
                          " entries for " + std::to_string(vars.size()) + " variables");
  if (o.clip != Clip::Off && o.clip != Clip::Norm && o.clip != Clip::GlobalNorm)
    throw InvalidArgument(std::string(who) + ": bad clip mode " + std::to_string(int(o.clip)));
}

void check_grad_squares(const char* who, const VarList& vars, const StepOptions& o) {
  if (!o.grad_squares) return;
  if (o.grad_squares->size() != vars.size())
    throw InvalidArgument(std::string(who) + ": got " + std::to_string(o.grad_squares->size()) +
                          " gradient squares for " + std::to_string(vars.size()) + " variables");
  if (o.clip != Clip::Off || o.clip_value > 0 || o.accumulators)
    throw InvalidArgument(std::string(who) + ": gradient squares go without clipping and accumulation");
  for (size_t i = 0; i < vars.size(); ++i) {
    const Tensor& g2 = (*o.grad_squares)[i];
    if (!g2.has_data() || g2.dtype != vars[i]->value.dtype || g2.shape != vars[i]->value.shape)
      throw InvalidArgument(std::string(who) + ": gradient squares for variable '" + vars[i]->name +
                            "' must have its dtype and shape " + vars[i]->value.shape.str());
  }
}

Prepared prepare(const VarList& vars, const std::vector<VarList>& slots, const StepOptions& o) {
  Prepared pr;
  const size_t n = vars.size();
  pr.sizes.resize(n);
  pr.P.resize(n);
  for (auto& s : pr.S) s.assign(n, nullptr);
  pr.A.assign(n, nullptr);
  pr.E.assign(n, nullptr);
  for (size_t i = 0; i < n; ++i) {
    pr.sizes[i] = vars[i]->value.numel();
    pr.P[i] = hold_writable(*vars[i], pr.held);
    for (size_t k = 0; k < slots.size() && k < 3; ++k) pr.S[k][i] = hold_writable(*slots[k][i], pr.held);
    if (o.accumulators) pr.A[i] = hold_writable(*(*o.accumulators)[i], pr.held);
    if (o.ema) pr.E[i] = hold_writable(*(*o.ema)[i], pr.held);
  }
  return pr;
}

namespace {
struct RuleInfo {
  const char* name;  // the Python enum member (the rule's former `kind` string)
  size_t slots;      // slot lists, in the order the Keras optimizer creates them
};
// Indexed by Rule, in the enum's order (the Python enum takes its names from here).
constexpr RuleInfo kRules[] = {
    {"sgd", 0},
    {"sgd_momentum", 1},
    {"sgd_nesterov", 1},
    {"rmsprop", 1},
    {"rmsprop_momentum", 2},
    {"rmsprop_centered", 2},
    {"rmsprop_centered_momentum", 3},
    {"adam", 2},
    {"adam_amsgrad", 3},
    {"adagrad", 1},
    {"adadelta", 2},
    {"adamax", 2},
    {"nadam", 2},
    {"ftrl", 2},
    {"lion", 1},
    {"lamb", 2},
    {"adafactor", 3},
};
static_assert(sizeof(kRules) / sizeof(kRules[0]) == size_t(kNumRules), "one kRules entry per Rule");

const RuleInfo& rule_info(Rule r) {
  if (int(r) >= kNumRules) throw InvalidArgument("optimizer_step: unknown optimizer rule " + std::to_string(int(r)));
  return kRules[int(r)];
}
}  // namespace

const char* rule_name(Rule r) { return rule_info(r).name; }
size_t rule_slots(Rule r) { return rule_info(r).slots; }

void step(Rule rule, const VarList& vars, const std::vector<Tensor>& grads, const std::vector<VarList>& slots,
          const Hyper& hyper, const StepOptions& opts) {
  const RuleInfo& info = rule_info(rule);
  if (slots.size() != info.slots)
    throw InvalidArgument(std::string("optimizer_step: '") + info.name + "' takes " + std::to_string(info.slots) +
                          " slot lists, got " + std::to_string(slots.size()));
  if (rule == Rule::Lamb) return lamb(vars, grads, slots, hyper, opts);
  if (rule == Rule::Adafactor) return adafactor(vars, grads, slots, hyper, opts);
  if (!step_sgd_adaptive(rule, vars, grads, slots, hyper, opts) &&
      !step_adam_family(rule, vars, grads, slots, hyper, opts))
    throw InvalidArgument(std::string("optimizer_step: no kernel for rule '") + info.name + "'");
}

}  // namespace optim
}  // namespace tg
