// GradientTape's engine side: the tape object, the thread's tape stack, the backward pass.
#include "autodiff/sparse_grad.h"
#include "bindings/common.h"

namespace tg {
namespace bind {
// compute_gradient_sparse's callback or None (a hinted argument, as those of bindings/common.h).
class OptSparseSourceReady : public py::object {
 public:
  PYBIND11_OBJECT_DEFAULT(OptSparseSourceReady, object, any_object)
};
}  // namespace bind
}  // namespace tg
namespace pybind11 {
namespace detail {
template <> struct handle_type_name<tg::bind::OptSparseSourceReady> {
  static constexpr auto name =
      const_name("collections.abc.Callable[[int, tapegrad._core.Tensor | tuple[tapegrad._core.Tensor, "
                 "tapegrad._core.Tensor, list[int]] | None], None] | None");
};
}  // namespace detail
}  // namespace pybind11

namespace tg {
namespace bind {
namespace {

// The tape calls a traced function records (See Note [Traced functions]): a tape made inside the
// function is re-made, pushed, watched and differentiated by every replay.
void push_tape(const std::shared_ptr<Tape>& t) { tape::push(t); }
void pop_tape(const std::shared_ptr<Tape>& t) { tape::pop(t.get()); }
void watch_tensor(const std::shared_ptr<Tape>& t, const Tensor& x) { t->watch(x); }
void watch_variable(const std::shared_ptr<Tape>& t, const std::shared_ptr<Variable>& v) { t->watch_variable(v); }
std::vector<Tensor> gradient_dense(const std::shared_ptr<Tape>& t, const std::vector<Tensor>& targets,
                                   const std::vector<Tensor>& sources, const std::vector<Tensor>& output_grads,
                                   bool zero_unconnected) {
  return tape::compute_gradient(*t, targets, sources, output_grads, zero_unconnected, nullptr);
}
// compute_gradient_sparse with each result as two tensors: (value, indices); indices undefined
// for a dense gradient, both undefined for None.
std::vector<Tensor> gradient_sparse(const std::shared_ptr<Tape>& t, const std::vector<Tensor>& targets,
                                    const std::vector<Tensor>& sources, const std::vector<Tensor>& output_grads,
                                    bool zero_unconnected) {
  std::vector<GradValue> res = tape::compute_gradient_sparse(*t, targets, sources, output_grads, zero_unconnected);
  std::vector<Tensor> flat;
  for (GradValue& r : res) {
    if (r.defined() && r.sparse() && !(r.dense_shape == sources[flat.size() / 2].shape))
      throw std::runtime_error("internal: a sparse gradient's dense shape differs from its source's");
    flat.push_back(r.defined() ? r.value : Tensor());
    flat.push_back(r.defined() && r.sparse() ? r.indices : Tensor());
  }
  return flat;
}

// gradient_sparse with a per-source callback (not replayable: the binding poisons a trace first).
std::vector<Tensor> gradient_sparse_ready(const std::shared_ptr<Tape>& t, const std::vector<Tensor>& targets,
                                          const std::vector<Tensor>& sources, const std::vector<Tensor>& output_grads,
                                          bool zero_unconnected, const tape::SparseSourceReadyFn& ready) {
  std::vector<GradValue> res =
      tape::compute_gradient_sparse(*t, targets, sources, output_grads, zero_unconnected, ready);
  std::vector<Tensor> flat;
  for (GradValue& r : res) {
    flat.push_back(r.defined() ? r.value : Tensor());
    flat.push_back(r.defined() && r.sparse() ? r.indices : Tensor());
  }
  return flat;
}
std::vector<int> sparse_plan(const std::shared_ptr<Tape>& t, const std::vector<Tensor>& targets,
                             const std::vector<Tensor>& sources) {
  return tape::sparse_plan(*t, targets, sources);
}

// One compute_gradient_sparse result as Python sees it: None, a Tensor, or (values, indices,
// dense_shape) for a sparse gradient (GradientTape wraps it in tf.IndexedSlices).
py::object sparse_result(Tensor value, Tensor indices, const Tensor& source) {
  if (!value.defined()) return py::none();
  if (!indices.defined()) return py::cast(std::move(value));
  py::typing::List<int> shape;
  for (int d = 0; d < source.shape.ndim; ++d) shape.append(source.shape[d]);
  return py::make_tuple(py::cast(std::move(value)), py::cast(std::move(indices)), shape);
}

// A gradient call: in a trace that can unroll it, the walk runs unrecorded and its steps become
// nodes (See Note [Unrolled gradient], graph/unroll.cpp); otherwise `recorded()`, the one node.
template <class G, class R>
std::vector<Tensor> traced_gradient(G walk, const std::shared_ptr<Tape>& t, const std::vector<Tensor>& targets,
                                    const std::vector<Tensor>& sources, const std::vector<Tensor>& output_grads,
                                    bool zero_unconnected, size_t stride, R recorded) {
  trace::Recorder* r = trace::current();
  std::shared_ptr<trace::UnrolledGradient> u;
  if (r && trace::recording()) u = trace::plan_gradient(*r, t, targets, sources, output_grads, zero_unconnected);
  if (!u) return recorded();
  std::vector<Tensor> res;
  {
    trace::Nested nested(r);
    res = walk(t, targets, sources, output_grads, zero_unconnected);
  }
  trace::commit_gradient(*r, u, res, stride);
  return res;
}

std::shared_ptr<Tape> new_tape(bool persistent, bool watch_accessed_variables) {
  auto t = std::make_shared<Tape>(persistent, watch_accessed_variables);
  trace::Recorder* r = trace::current();
  if (r && r->depth == 0 && r->poison.empty()) {
    const int s = r->bind_obj(t.get());
    r->add(
        "Tape",
        [s, persistent, watch_accessed_variables](trace::Env& env) {
          env.obj[size_t(s)] = std::make_shared<Tape>(persistent, watch_accessed_variables);
        },
        {}, /*effect=*/false, /*tape=*/s);
  }
  return t;
}

}  // namespace

void init_tape(py::module_& m) {
  py::class_<Tape, std::shared_ptr<Tape>>(m, "Tape", "The engine's record of one GradientTape (private).")
      .def(py::init(&new_tape), py::arg("persistent"), py::arg("watch_accessed_variables"),
           "An empty tape (GradientTape makes one on entering its `with` block).")
      .def_readonly("persistent", &Tape::persistent, "Whether gradient() may be called more than once.")
      .def(
          "watch",
          [](const std::shared_ptr<Tape>& t, TensorLike h) {
            if (py::isinstance<Variable>(h)) TG_OP(watch_variable)(t, h.cast<std::shared_ptr<Variable>>());
            else {
              Tensor x = to_tensor(h);
              if (trace::Recorder* r = trace::current(); r && r->depth == 0) r->promote(x);
              TG_OP(watch_tensor)(t, x);
            }
          },
          py::arg("tensor"), "Records operations on `tensor` (a Tensor or Variable) from now on.")
      .def(
          "watched_variables", [](const Tape& t) { return t.watched_variables; },
          "The variables this tape watches, in the order first watched.")
      .def(
          "_may_give_sparse",
          [](const Tape& t) {
            for (auto& p : t.nodes)
              if (p != nullptr && sparse_grad::makes_sparse(*p)) return true;
            return false;
          },
          "(private) Whether a recorded gather could give a source a sparse gradient (tf.IndexedSlices).")
      // See Note [Sparse plan] (autodiff/tape.cpp): tapegrad.distribute's plan before the walk.
      .def(
          "_sparse_plan",
          [](std::shared_ptr<Tape> t, py::typing::List<TensorLike> targets, py::typing::List<TensorLike> sources) {
            std::vector<Tensor> tg_, src;
            for (py::handle h : targets) tg_.push_back(to_tensor_noaccess(h));
            for (py::handle h : sources) src.push_back(to_tensor_noaccess(h));
            std::vector<int> plan = TG_OP(sparse_plan)(t, tg_, src);
            py::typing::List<py::typing::Optional<bool>> out;
            for (int p : plan) out.append(p == tape::kUnknown ? py::object(py::none()) : py::bool_(p == tape::kSparse));
            return out;
          },
          py::arg("targets"), py::arg("sources"),
          "(private) Per source, whether compute_gradient_sparse(targets, sources) will give it a sparse gradient "
          "(True) or a dense one or None (False), or None when a custom gradient's result decides; known before "
          "the walk.")
      .def(
          "num_nodes",
          [](const Tape& t) {
            size_t n = 0;
            for (auto& p : t.nodes) n += p != nullptr;
            return n;
          },
          "The number of recorded operations still held.");
  m.def(
      "push_tape", [](std::shared_ptr<Tape> t) { TG_OP(push_tape)(t); }, py::arg("tape"),
      "Makes `tape` record on this thread (GradientTape.__enter__).");
  m.def(
      "pop_tape", [](std::shared_ptr<Tape> t) { TG_OP(pop_tape)(t); }, py::arg("tape"),
      "Stops `tape` recording on this thread (GradientTape.__exit__).");
  m.def(
      "is_recording", [](std::shared_ptr<Tape> t) { return tape::is_recording(t.get()); }, py::arg("tape"),
      "Whether `tape` records on this thread now (not paused by stop_recording).");
  // One row per primitive (Note [One spot per primitive]): tests/test_registry.py walks it.
  m.def(
      "_op_registry",
      [] {
        py::typing::List<py::dict> rows;
        for (size_t i = 0; i < size_t(Op::kCount); ++i) {
          const Op op = Op(i);
          const OpDef& d = opdef(op);
          py::dict r;
          r["name"] = op_enum_name(op);
          r["tf_name"] = op_name(op);
          r["vjp"] = d.vjp != nullptr;
          r["jvp"] = d.jvp != nullptr;
          r["saves_inputs"] = d.saves_inputs;
          r["saves_outputs"] = d.saves_outputs;
          r["not_differentiable"] = d.not_differentiable;
          rows.append(r);
        }
        return rows;
      },
      "(private) The primitive registry: name, TF name, whether it has a vjp/jvp rule, what its nodes save, "
      "and whether it is listed as not differentiable.");
  m.def(
      "_set_save_nothing", [](bool on) { tape::t_save_nothing = on; }, py::arg("on"),
      "(private, tests) On this thread, recorded nodes keep no tensor data, whatever their rules declare.");
  m.def("any_tape_active", [] { return tape::any_active(); }, "Whether any tape records on this thread.");
  // on_source_ready(index, grad or None): called with the GIL held as each source's gradient
  // becomes final (See Note [Source ready]); the walk itself runs without the GIL.
  m.def(
      "compute_gradient",
      [](std::shared_ptr<Tape> t, py::typing::List<TensorLike> targets, py::typing::List<TensorLike> sources,
         py::typing::List<OptTensorLike> output_grads, bool zero_unconnected, OptSourceReady on_source_ready) {
        std::vector<Tensor> tg_, src, og;
        for (py::handle h : targets) tg_.push_back(to_tensor_noaccess(h));
        for (py::handle h : sources) src.push_back(to_tensor_noaccess(h));
        for (py::handle h : output_grads) og.push_back(h.is_none() ? Tensor() : to_tensor(h));
        std::vector<Tensor> res;
        if (on_source_ready.is_none()) {
          py::gil_scoped_release release;
          res = traced_gradient(gradient_dense, t, tg_, src, og, zero_unconnected, 1,
                                [&] { return TG_OP(gradient_dense)(t, tg_, src, og, zero_unconnected); });
        } else {
          trace::poison("a gradient with a per-source callback (tapegrad.distribute's overlap)");
          tape::SourceReadyFn ready = [&on_source_ready](size_t i, const Tensor& g) {
            py::gil_scoped_acquire gil;
            on_source_ready(i, g.defined() ? py::cast(g) : py::none());
          };
          py::gil_scoped_release release;
          res = tape::compute_gradient(*t, tg_, src, og, zero_unconnected, ready);
        }
        py::typing::List<py::typing::Optional<Tensor>> out;
        for (Tensor& r : res) out.append(r.defined() ? py::cast(std::move(r)) : py::none());
        return out;
      },
      py::arg("tape"), py::arg("targets"), py::arg("sources"), py::arg("output_grads"), py::arg("zero_unconnected"),
      py::arg("on_source_ready") = py::none(),
      "The gradients of sum(targets * output_grads) with respect to each source (None: unconnected).");
  // See Note [Sparse gradients]: a sparse source gradient comes back as (values, indices, dense_shape),
  // which GradientTape wraps in tf.IndexedSlices.
  // on_source_ready(index, grad): as compute_gradient's, with grad as the result will hold it (None,
  // a Tensor, or (values, indices, dense_shape) for a sparse gradient); See Note [Source ready].
  m.def(
      "compute_gradient_sparse",
      [](std::shared_ptr<Tape> t, py::typing::List<TensorLike> targets, py::typing::List<TensorLike> sources,
         py::typing::List<OptTensorLike> output_grads, bool zero_unconnected, OptSparseSourceReady on_source_ready) {
        std::vector<Tensor> tg_, src, og;
        for (py::handle h : targets) tg_.push_back(to_tensor_noaccess(h));
        for (py::handle h : sources) src.push_back(to_tensor_noaccess(h));
        for (py::handle h : output_grads) og.push_back(h.is_none() ? Tensor() : to_tensor(h));
        std::vector<Tensor> flat;
        if (on_source_ready.is_none()) {
          py::gil_scoped_release release;
          flat = traced_gradient(gradient_sparse, t, tg_, src, og, zero_unconnected, 2,
                                 [&] { return TG_OP(gradient_sparse)(t, tg_, src, og, zero_unconnected); });
        } else {
          trace::poison("a gradient with a per-source callback (tapegrad.distribute's overlap)");
          tape::SparseSourceReadyFn ready = [&on_source_ready, &src](size_t i, const GradValue& g) {
            if (g.defined() && g.sparse() && !(g.dense_shape == src[i].shape))
              throw std::runtime_error("internal: a sparse gradient's dense shape differs from its source's");
            py::gil_scoped_acquire gil;
            on_source_ready(i, sparse_result(g.value, g.indices, src[i]));
          };
          py::gil_scoped_release release;
          flat = TG_OP(gradient_sparse_ready)(t, tg_, src, og, zero_unconnected, ready);
        }
        py::typing::List<
            py::typing::Optional<py::typing::Union<Tensor, py::typing::Tuple<Tensor, Tensor, py::typing::List<int>>>>>
            out;
        for (size_t i = 0; i < src.size(); ++i) out.append(sparse_result(flat[2 * i], flat[2 * i + 1], src[i]));
        return out;
      },
      py::arg("tape"), py::arg("targets"), py::arg("sources"), py::arg("output_grads"), py::arg("zero_unconnected"),
      py::arg("on_source_ready") = py::none(),
      "compute_gradient, with a sparse gradient (gather along axis 0) as a (values, indices, dense_shape) tuple.");
  // A fresh tensor and a writable numpy view of its buffer, for collectives to receive into
  // (tapegrad.distribute): nothing else can see the tensor until the caller hands it out.
  m.def(
      "_empty_with_view",
      [](std::vector<int64_t> dims, int dtype_code) -> py::typing::Tuple<Tensor, py::array> {
        trace::poison("tapegrad.distribute's collectives");
        Tensor t = Tensor::empty(Shape::from(dims), dtype_from_code(dtype_code));
        py::array view = to_numpy(t, false);
        py::detail::array_proxy(view.ptr())->flags |= py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
        return py::make_tuple(py::cast(std::move(t)), view);
      },
      py::arg("shape"), py::arg("dtype_code"), "(private) A new tensor and a writable numpy view of its buffer.");
}

}  // namespace bind
}  // namespace tg
