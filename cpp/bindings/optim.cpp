// Fused optimizer kernels: one call per step for all variables, GIL released.
#include "bindings/common.h"
#include "optim/optim.h"

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

}  // namespace

void init_optim(py::module_& m) {
  m.def(
      "optimizer_step",
      [](const std::string& kind, py::handle vars, py::handle grads, py::list slots, std::vector<double> hyper,
         int clip_mode, double clip_norm, double clip_value, double decay, py::handle decay_mask,
         py::handle accumulators, double accum_scale, py::handle ema, double ema_momentum, bool ema_overwrite) {
        optim::VarList V = var_list(vars);
        std::vector<Tensor> G = tensor_list(grads);
        std::vector<optim::VarList> S;
        for (py::handle s : slots) S.push_back(var_list(s));
        optim::VarList A = var_list(accumulators), E = var_list(ema);
        optim::StepOptions o;
        o.clip_mode = clip_mode;
        o.clip_norm = clip_norm;
        o.clip_value = clip_value;
        o.decay = decay;
        if (!decay_mask.is_none())
          for (py::handle b : py::reinterpret_borrow<py::sequence>(decay_mask)) o.decay_mask.push_back(b.cast<bool>());
        o.accumulators = accumulators.is_none() ? nullptr : &A;
        o.accum_scale = accum_scale;
        o.ema = ema.is_none() ? nullptr : &E;
        o.ema_momentum = ema_momentum;
        o.ema_overwrite = ema_overwrite;
        std::vector<const optim::VarList*> lists = {&V, &A, &E};
        for (const optim::VarList& s : S) lists.push_back(&s);
        run_with_variables_locked(written(lists), total_size(V), [&] { optim::step(kind, V, G, S, hyper, o); });
      },
      py::arg("kind"), py::arg("variables"), py::arg("grads"), py::arg("slots"), py::arg("hyper"),
      py::arg("clip_mode") = 0, py::arg("clip_norm") = 0.0, py::arg("clip_value") = 0.0, py::arg("decay") = 0.0,
      py::arg("decay_mask") = py::none(), py::arg("accumulators") = py::none(), py::arg("accum_scale") = 1.0,
      py::arg("ema") = py::none(), py::arg("ema_momentum") = 0.0, py::arg("ema_overwrite") = false,
      "One fused optimizer step over all variables (see cpp/optim/optim.h for kinds and options).");
  m.def(
      "optimizer_accumulate",
      [](py::handle accs, py::handle grads) {
        optim::VarList A = var_list(accs);
        std::vector<Tensor> G = tensor_list(grads);
        run_with_variables_locked(written({&A}), total_size(A), [&] { optim::accumulate(A, G); });
      },
      py::arg("accumulators"), py::arg("grads"), "acc += g for every pair (gradient accumulation).");
  m.def(
      "optimizer_ema_update",
      [](py::handle vars, py::handle avgs, double momentum) {
        optim::VarList V = var_list(vars), A = var_list(avgs);
        run_with_variables_locked(written({&V, &A}), total_size(V), [&] { optim::ema_update(V, A, momentum); });
      },
      py::arg("variables"), py::arg("averages"), py::arg("momentum"));
  m.def(
      "optimizer_sum_squares",
      [](py::handle grads) {
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
      "Bandwidth probe with Adam's streams: reads a, b, c, d, writes a, c, d in place (float32).");
}

}  // namespace bind
}  // namespace tg
