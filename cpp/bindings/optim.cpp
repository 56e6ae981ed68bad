// Fused optimizer kernels: one call per step for all variables, GIL released.
#include "bindings/common.h"
#include "optim/optim.h"
#include "optim/sparse_step.h"

namespace tg {
namespace bind {
namespace {

optim::VarList var_list(py::handle l) {
  optim::VarList v;
  if (l.is_none()) return v;
  py::sequence seq = py::reinterpret_borrow<py::sequence>(l);
  v.reserve(seq.size());
  for (py::handle h : seq) v.push_back(h.cast<std::shared_ptr<Variable>>());
  return v;
}
std::vector<Tensor> tensor_list(py::handle l) {
  std::vector<Tensor> v;
  py::sequence seq = py::reinterpret_borrow<py::sequence>(l);
  v.reserve(seq.size());
  for (py::handle h : seq) v.push_back(to_tensor_noaccess(h));
  return v;
}
// Every variable a step writes, for run_with_variables_locked (See Note [Threads contract]).
std::vector<const Variable*> written(const std::vector<const optim::VarList*>& lists) {
  std::vector<const Variable*> out;
  for (const optim::VarList* l : lists)
    for (auto& v : *l) out.push_back(v.get());
  return out;
}
int64_t total_size(const optim::VarList& v) {
  int64_t n = 0;
  for (auto& x : v) n += x->value.numel();
  return n;
}

// The options optimizer_step and optimizer_sparse_step share (clipping, weight decay, EMA).
optim::StepOptions step_options(optim::Clip clip, double clip_norm, double clip_value, double decay,
                                const OptBoolList& decay_mask, const OptVariableList& ema, optim::VarList* ema_vars,
                                double ema_momentum, bool ema_overwrite) {
  optim::StepOptions o;
  o.clip = clip;
  o.clip_norm = clip_norm;
  o.clip_value = clip_value;
  o.decay = decay;
  if (!decay_mask.is_none())
    for (py::handle b : py::reinterpret_borrow<py::sequence>(decay_mask)) o.decay_mask.push_back(b.cast<bool>());
  o.ema = ema.is_none() ? nullptr : ema_vars;
  o.ema_momentum = ema_momentum;
  o.ema_overwrite = ema_overwrite;
  return o;
}

// Note [Traced optimizer step]: Optimizer.apply_gradients inside a traced tf.function records
// this node when the step's hyper-parameters depend on nothing but `iterations` and the
// learning-rate Variable (no schedule, EMA, accumulation, loss scaling or sparse gradients; else
// the step is a host call). A replay reads both, fills in local_step = iterations + 1, the
// learning rate and weight_decay * learning_rate, runs the fused step under the variables' locks
// and adds 1 to iterations, as Optimizer._apply_step does in Python.
struct TracedStep {
  optim::Rule rule;
  optim::VarList vars;
  std::vector<trace::TensorRef> grads;
  std::vector<optim::VarList> slots;
  optim::Hyper hyper;
  std::shared_ptr<Variable> iterations, learning_rate;
  double weight_decay = 0;
  optim::StepOptions options;  // clipping and the decay mask (decay is set per step)

  void operator()(trace::Env& env) const {
    optim::Hyper h = hyper;
    h.local_step = double(*iterations->read().data<int64_t>()) + 1.0;
    h.learning_rate = learning_rate->read().item();
    optim::StepOptions o = options;
    o.decay = weight_decay * h.learning_rate;
    std::vector<Tensor> G;
    for (const trace::TensorRef& g : grads) G.push_back(g.get(env));
    std::vector<const optim::VarList*> lists = {&vars};
    for (const optim::VarList& s : slots) lists.push_back(&s);
    {
      VariableLocks held(written(lists));
      optim::step(rule, vars, G, slots, h, o);
    }
    iterations->write(Variable::Write::Add, Tensor::scalar<int64_t>(1));
  }
};

}  // namespace

void init_optim(py::module_& m) {
  py::enum_<optim::Rule> rule(m, "OptimizerRule",
                              "The update rule of one fused optimizer step: a Keras optimizer and its variant "
                              "(momentum, nesterov, centered, amsgrad).");
  for (int r = 0; r < optim::kNumRules; ++r) rule.value(optim::rule_name(optim::Rule(r)), optim::Rule(r));
  py::enum_<optim::Clip>(m, "GradientClip", "Gradient clipping by norm: Keras `clipnorm` or `global_clipnorm`.")
      .value("off", optim::Clip::Off)
      .value("clipnorm", optim::Clip::Norm, "each gradient scaled to norm <= clip_norm")
      .value("global_clipnorm", optim::Clip::GlobalNorm, "all gradients scaled to global norm <= clip_norm");

  using optim::Hyper;
  py::class_<Hyper>(m, "OptimizerHyper",
                    "The hyper-parameters of one optimizer step, by their Keras names; each rule reads the "
                    "fields its optimizer has (see cpp/optim/rules.h) and ignores the rest. `learning_rate` is "
                    "this step's value; `local_step` is iterations + 1.")
      .def(py::init<>())  // first: the per-step path sets the fields one by one (cheaper than keywords)
      .def(py::init([](double learning_rate, double local_step, double momentum, double rho, double beta_1,
                       double beta_2, double epsilon, double u_product, double learning_rate_power,
                       double l1_regularization_strength, double l2_regularization_strength,
                       double l2_shrinkage_regularization_strength, double beta, double beta_2_decay, double epsilon_1,
                       double epsilon_2, double clip_threshold, bool relative_step) {
             Hyper h;
             h.learning_rate = learning_rate;
             h.local_step = local_step;
             h.momentum = momentum;
             h.rho = rho;
             h.beta_1 = beta_1;
             h.beta_2 = beta_2;
             h.epsilon = epsilon;
             h.u_product = u_product;
             h.learning_rate_power = learning_rate_power;
             h.l1_regularization_strength = l1_regularization_strength;
             h.l2_regularization_strength = l2_regularization_strength;
             h.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength;
             h.beta = beta;
             h.beta_2_decay = beta_2_decay;
             h.epsilon_1 = epsilon_1;
             h.epsilon_2 = epsilon_2;
             h.clip_threshold = clip_threshold;
             h.relative_step = relative_step;
             return h;
           }),
           py::kw_only(), py::arg("learning_rate") = 0.0, py::arg("local_step") = 1.0, py::arg("momentum") = 0.0,
           py::arg("rho") = 0.0, py::arg("beta_1") = 0.0, py::arg("beta_2") = 0.0, py::arg("epsilon") = 0.0,
           py::arg("u_product") = 1.0, py::arg("learning_rate_power") = -0.5,
           py::arg("l1_regularization_strength") = 0.0, py::arg("l2_regularization_strength") = 0.0,
           py::arg("l2_shrinkage_regularization_strength") = 0.0, py::arg("beta") = 0.0, py::arg("beta_2_decay") = 0.0,
           py::arg("epsilon_1") = 0.0, py::arg("epsilon_2") = 0.0, py::arg("clip_threshold") = 0.0,
           py::arg("relative_step") = false)
      .def_readwrite("learning_rate", &Hyper::learning_rate)
      .def_readwrite("local_step", &Hyper::local_step)
      .def_readwrite("momentum", &Hyper::momentum)
      .def_readwrite("rho", &Hyper::rho)
      .def_readwrite("beta_1", &Hyper::beta_1)
      .def_readwrite("beta_2", &Hyper::beta_2)
      .def_readwrite("epsilon", &Hyper::epsilon)
      .def_readwrite("u_product", &Hyper::u_product)
      .def_readwrite("learning_rate_power", &Hyper::learning_rate_power)
      .def_readwrite("l1_regularization_strength", &Hyper::l1_regularization_strength)
      .def_readwrite("l2_regularization_strength", &Hyper::l2_regularization_strength)
      .def_readwrite("l2_shrinkage_regularization_strength", &Hyper::l2_shrinkage_regularization_strength)
      .def_readwrite("beta", &Hyper::beta)
      .def_readwrite("beta_2_decay", &Hyper::beta_2_decay)
      .def_readwrite("epsilon_1", &Hyper::epsilon_1)
      .def_readwrite("epsilon_2", &Hyper::epsilon_2)
      .def_readwrite("clip_threshold", &Hyper::clip_threshold)
      .def_readwrite("relative_step", &Hyper::relative_step)
      .def("__repr__", [](const Hyper& h) {
        return "OptimizerHyper(learning_rate=" + std::to_string(h.learning_rate) +
               ", local_step=" + std::to_string(h.local_step) + ", ...)";
      });

  m.def(
      "_trace_optimizer_step",
      [](optim::Rule rule, VariableList vars, TensorList grads, py::list slots, const Hyper& hyper,
         std::shared_ptr<Variable> iterations, std::shared_ptr<Variable> learning_rate, double weight_decay,
         OptBoolList decay_mask, optim::Clip clip, double clip_norm, double clip_value) {
        trace::Recorder* r = trace::current();
        if (!r || r->depth > 0 || !r->poison.empty()) return r == nullptr || r->dry == 0;
        if (iterations->value.dtype != DType::Int64 || iterations->value.numel() != 1 ||
            learning_rate->value.numel() != 1 || !is_floating(learning_rate->value.dtype))
          throw tg::ValueError("internal: _trace_optimizer_step needs an int64 iterations and a float learning rate");
        auto step = std::make_shared<TracedStep>();
        step->rule = rule;
        step->vars = var_list(vars);
        std::vector<int> uses;
        for (py::handle h : grads) step->grads.push_back(r->ref(to_tensor_noaccess(h), "an optimizer step"));
        trace::collect_uses(step->grads, uses);
        for (py::handle s : slots) step->slots.push_back(var_list(s));
        step->hyper = hyper;
        step->iterations = std::move(iterations);
        step->learning_rate = std::move(learning_rate);
        step->weight_decay = weight_decay;
        step->options = step_options(clip, clip_norm, clip_value, 0.0, decay_mask, py::none(), nullptr, 0.0, false);
        r->add("optimizer_step", [step](trace::Env& env) { (*step)(env); }, std::move(uses));
        return r->dry == 0;
      },
      py::arg("rule"), py::arg("variables"), py::arg("grads"), py::arg("slots"), py::arg("hyper"),
      py::arg("iterations"), py::arg("learning_rate"), py::arg("weight_decay"), py::arg("decay_mask"), py::arg("clip"),
      py::arg("clip_norm"), py::arg("clip_value"),
      "(private) Records an optimizer step in this thread's trace (See Note [Traced optimizer step]); returns "
      "whether the caller should also do the step now (False in a branch the trace does not take).");
  m.def(
      "optimizer_step",
      [](optim::Rule rule, VariableList vars, TensorList grads, py::list slots, const Hyper& hyper, optim::Clip clip,
         double clip_norm, double clip_value, double decay, OptBoolList decay_mask, OptVariableList accumulators,
         double accum_scale, OptVariableList ema, double ema_momentum, bool ema_overwrite,
         std::optional<std::vector<Tensor>> grad_squares) {
        trace::poison("an optimizer step outside Optimizer.apply_gradients");
        optim::VarList V = var_list(vars);
        std::vector<Tensor> G = tensor_list(grads);
        std::vector<optim::VarList> S;
        for (py::handle s : slots) S.push_back(var_list(s));
        optim::VarList A = var_list(accumulators), E = var_list(ema);
        optim::StepOptions o =
            step_options(clip, clip_norm, clip_value, decay, decay_mask, ema, &E, ema_momentum, ema_overwrite);
        o.accumulators = accumulators.is_none() ? nullptr : &A;
        o.accum_scale = accum_scale;
        if (grad_squares) {
          if (rule != optim::Rule::Lamb && rule != optim::Rule::Adafactor)
            throw InvalidArgument("optimizer_step: grad_squares is for Lamb and Adafactor (the others take "
                                  "IndexedSlices through optimizer_sparse_step)");
          o.grad_squares = &*grad_squares;
        }
        std::vector<const optim::VarList*> lists = {&V, &A, &E};
        for (const optim::VarList& s : S) lists.push_back(&s);
        run_with_variables_locked(written(lists), total_size(V), [&] { optim::step(rule, V, G, S, hyper, o); });
      },
      py::arg("rule"), py::arg("variables"), py::arg("grads"), py::arg("slots"), py::arg("hyper"), py::kw_only(),
      py::arg("clip") = optim::Clip::Off, py::arg("clip_norm") = 0.0, py::arg("clip_value") = 0.0,
      py::arg("decay") = 0.0, py::arg("decay_mask") = py::none(), py::arg("accumulators") = py::none(),
      py::arg("accum_scale") = 1.0, py::arg("ema") = py::none(), py::arg("ema_momentum") = 0.0,
      py::arg("ema_overwrite") = false, py::arg("grad_squares") = py::none(),
      R"doc(One fused optimizer step over all variables (Keras's BaseOptimizer.apply in one pass).

rule: an OptimizerRule; slots: one list per slot the rule keeps (momentum, velocity, ...), each
with one variable per entry of `variables`; hyper: an OptimizerHyper. Keyword-only options, in
the order Keras applies them: gradient accumulation (`accumulators` of the gradient_accumulation
steps, `accum_scale` = 1 / steps), clipping (`clip` with `clip_norm`; `clip_value` > 0 clips
each element), decoupled weight decay (`decay` = weight_decay * learning_rate on the variables
whose `decay_mask` entry is true), then the rule, then the moving averages (`ema` updated with
`ema_momentum`, copied into the variables when `ema_overwrite`). `grad_squares` (Lamb, Adafactor):
per variable the per-element sums of the squared IndexedSlices entries, used where the rule squares
the gradient, as Keras (no clipping or accumulation with it). Raises InvalidArgumentError on
mismatched lists, dtypes or shapes, before any variable changes.)doc");
  py::class_<optim::SparseRowState, std::shared_ptr<optim::SparseRowState>>(
      m, "SparseRowState",
      "Per variable, between sparse optimizer steps: the rows whose slots may be nonzero (private; See Note "
      "[Sparse optimizer step]).")
      .def(py::init<>(), "An empty state: the first sparse step scans the slots.")
      .def_property_readonly(
          "num_live", [](const optim::SparseRowState& s) { return int64_t(s.live.size()); },
          "How many rows the state knows to hold nonzero slots.")
      .def_readonly("rows_visited", &optim::SparseRowState::rows_visited, "How many rows the last sparse step updated.")
      .def_readonly("valid", &optim::SparseRowState::valid, "False until a step (re)built the row list.")
      .def_readonly("scans", &optim::SparseRowState::scans, "How often the row list was rebuilt from the slots.");
  m.def(
      "optimizer_sparse_step",
      [](optim::Rule rule, VariableList vars, TensorList values, TensorList indices, py::list slots, const Hyper& hyper,
         optim::Clip clip, double clip_norm, double clip_value, double decay, OptBoolList decay_mask,
         OptVariableList ema, double ema_momentum, bool ema_overwrite,
         std::vector<std::shared_ptr<optim::SparseRowState>> states) {
        trace::poison("an optimizer step outside Optimizer.apply_gradients");
        optim::VarList V = var_list(vars);
        std::vector<Tensor> Gv = tensor_list(values), Gi = tensor_list(indices);
        if (Gv.size() != Gi.size())
          throw InvalidArgument("optimizer_sparse_step: got " + std::to_string(Gv.size()) + " values for " +
                                std::to_string(Gi.size()) + " indices");
        std::vector<optim::SparseRows> G;
        for (size_t i = 0; i < Gv.size(); ++i) G.push_back({Gv[i], Gi[i]});
        std::vector<optim::VarList> S;
        for (py::handle s : slots) S.push_back(var_list(s));
        optim::VarList E = var_list(ema);
        optim::StepOptions o =
            step_options(clip, clip_norm, clip_value, decay, decay_mask, ema, &E, ema_momentum, ema_overwrite);
        std::vector<const optim::VarList*> lists = {&V, &E};
        for (const optim::VarList& s : S) lists.push_back(&s);
        run_with_variables_locked(written(lists), total_size(V),
                                  [&] { optim::sparse_step(rule, V, G, S, hyper, o, states); });
      },
      py::arg("rule"), py::arg("variables"), py::arg("values"), py::arg("indices"), py::arg("slots"), py::arg("hyper"),
      py::kw_only(), py::arg("clip") = optim::Clip::Off, py::arg("clip_norm") = 0.0, py::arg("clip_value") = 0.0,
      py::arg("decay") = 0.0, py::arg("decay_mask") = py::none(), py::arg("ema") = py::none(),
      py::arg("ema_momentum") = 0.0, py::arg("ema_overwrite") = false,
      py::arg("states") = std::vector<std::shared_ptr<optim::SparseRowState>>{},
      R"doc(One optimizer step with IndexedSlices gradients (values[i], indices[i] per variable), as Keras 3
applies them on TF (See Note [Sparse optimizer step]): SGD and Adagrad touch only the rows in the
slices; the other rules decay every row as Keras does, visiting only the rows whose slots are nonzero
when `states` (one SparseRowState per variable, kept between steps) are given. Options as optimizer_step (clip=clipnorm and
clip_value act on the slice values; global_clipnorm and accumulation are rejected: Keras densifies
there). Raises InvalidArgumentError on mismatched shapes or out-of-range indices before any write.)doc");
  m.def(
      "optimizer_sparse_rows_only", [](optim::Rule rule) { return optim::sparse_step_rows_only(rule); },
      py::arg("rule"), "Whether optimizer_sparse_step with `rule` touches only the rows in the slices.");
  m.def(
      "optimizer_sparse_supported", [](optim::Rule rule) { return optim::sparse_step_supported(rule); },
      py::arg("rule"), "Whether `rule` has a sparse kernel (Lamb and Adafactor densify).");
  m.def(
      "optimizer_accumulate",
      [](VariableList accs, TensorList grads) {
        trace::poison("an optimizer step outside Optimizer.apply_gradients");
        optim::VarList A = var_list(accs);
        std::vector<Tensor> G = tensor_list(grads);
        run_with_variables_locked(written({&A}), total_size(A), [&] { optim::accumulate(A, G); });
      },
      py::arg("accumulators"), py::arg("grads"), "acc += g for every pair (gradient accumulation).");
  m.def(
      "optimizer_ema_update",
      [](VariableList vars, VariableList avgs, double momentum) {
        trace::poison("an optimizer step outside Optimizer.apply_gradients");
        optim::VarList V = var_list(vars), A = var_list(avgs);
        run_with_variables_locked(written({&V, &A}), total_size(V), [&] { optim::ema_update(V, A, momentum); });
      },
      py::arg("variables"), py::arg("averages"), py::arg("momentum"),
      "averages = momentum * averages + (1 - momentum) * variables, for every pair (use_ema).");
  m.def(
      "optimizer_sum_squares",
      [](TensorList grads) {
        trace::poison("an optimizer step outside Optimizer.apply_gradients");
        std::vector<Tensor> G = tensor_list(grads);
        for (const Tensor& g : G)
          if (!is_floating(g.dtype))
            throw InvalidArgument(std::string("sum_squares: expected float tensors, got ") + dtype_name(g.dtype));
        py::gil_scoped_release release;
        return optim::sum_squares(G, nullptr);
      },
      py::arg("tensors"), "Per-tensor sums of squares in double, over fixed blocks (deterministic).");
  m.def(
      "_copy_probe",
      [](py::array_t<float, py::array::c_style> a, py::array_t<float, py::array::c_style> b,
         py::array_t<float, py::array::c_style> c, py::array_t<float, py::array::c_style> d) {
        const int64_t n = a.size();
        if (b.size() != n || c.size() != n || d.size() != n)
          throw InvalidArgument("_copy_probe: the four arrays must have the same size");
        float *pa = a.mutable_data(), *pc = c.mutable_data(), *pd = d.mutable_data();
        const float* pb = b.data();
        py::gil_scoped_release release;
        optim::copy_probe(pa, pb, pc, pd, n);
      },
      py::arg("a"), py::arg("b"), py::arg("c"), py::arg("d"),
      "Bandwidth probe with Adam's streams: reads a, b, c, d, writes a, c, d in place (float32).");
}

}  // namespace bind
}  // namespace tg
