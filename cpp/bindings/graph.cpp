// tf.function's tracer (See Note [Traced functions] in graph/trace.h): start and end a trace, bind
// inputs, host calls, and replay a recorded graph without the GIL.
#include "bindings/common.h"
#include "graph/trace.h"

namespace tg {
namespace bind {
namespace {

// A trace taken off its thread for a tf.init_scope block (See trace::resume).
struct PausedTrace {
  std::unique_ptr<trace::Recorder> recorder;
  int64_t paused_at = 0;
};

// What a finished trace gives Python: a graph to replay, or why there is none.
struct TracedGraph {
  std::shared_ptr<trace::Graph> graph;
  std::string poison;
  std::string specialized;  // a polymorphic trace that holds for its own shapes only: why
};

trace::Recorder& recorder() {
  trace::Recorder* r = trace::current();
  if (!r) throw tg::ValueError("internal: a trace call outside a trace");
  return *r;
}

trace::Block* block_of(py::handle builder, int which) {
  if (which != 0 && which != 1) throw tg::ValueError("internal: a block index must be 0 or 1");
  if (py::isinstance<trace::CondBuilder>(builder)) return &builder.cast<trace::CondBuilder&>().branch[which];
  auto& w = builder.cast<trace::WhileBuilder&>();
  return which == 0 ? &w.cond : &w.body;
}

// Graph::run without the GIL; the outputs as a Python list.
py::typing::List<Tensor> replay(const trace::Graph& g, const std::vector<Tensor>& in) {
  std::vector<Tensor> out;
  {
    py::gil_scoped_release release;
    out = g.run(in);
  }
  py::typing::List<Tensor> res;
  for (Tensor& t : out) res.append(py::cast(std::move(t)));
  return res;
}

// A control-flow result as a fresh tensor: an Identity that tapes record (gradients flow through
// it at trace time) and that the graph does not (the node's output slot stands for it).
Tensor alias(const Tensor& t) {
  trace::Recorder* r = trace::current();
  trace::Nested n(r);
  return ops::identity(t);
}

// A control-flow node's results: each an alias bound to a new slot (appended to `slots`).
py::list bind_results(trace::Recorder& r, py::handle results, std::vector<int>& slots) {
  py::list out;
  for (py::handle h : results) {
    Tensor a = alias(to_tensor(h));
    slots.push_back(r.bind_new(a));
    out.append(py::cast(std::move(a)));
  }
  return out;
}

}  // namespace

void init_graph(py::module_& m) {
  py::class_<TracedGraph, std::shared_ptr<TracedGraph>>(m, "TracedGraph",
                                                        "(private) One tf.function trace: the engine calls to replay.")
      .def_property_readonly(
          "replayable", [](const TracedGraph& g) { return g.graph != nullptr; },
          "Whether the trace can be replayed (else `poison` says why not).")
      .def_readonly("poison", &TracedGraph::poison, "Why the trace cannot be replayed ('' when it can).")
      .def_property_readonly(
          "polymorphic", [](const TracedGraph& g) { return g.graph != nullptr && g.graph->polymorphic; },
          "Whether the replay accepts other sizes in the input signature's None dimensions.")
      .def_readonly("specialized", &TracedGraph::specialized,
                    "Why a trace begun as polymorphic holds for its own input shapes only ('' when it does not).")
      .def_property_readonly(
          "node_names",
          [](const TracedGraph& g) {
            std::vector<std::string> names;
            if (g.graph)
              for (const trace::Node& n : g.graph->nodes) names.push_back(n.name);
            return names;
          },
          "The recorded calls in order (for tests and debugging).")
      .def(
          "run",
          [](const TracedGraph& g, TensorList args) {
            if (!g.graph) throw tg::ValueError("this trace cannot be replayed: " + g.poison);
            std::vector<Tensor> in;
            for (py::handle h : args) in.push_back(tensor_of(h));
            return replay(*g.graph, in);
          },
          py::arg("args"), "Replays the recorded calls on `args` (tensors of the traced shapes and dtypes).")
      .def(
          "try_run",
          [](const TracedGraph& g, const py::tuple& args) -> std::optional<py::typing::List<Tensor>> {
            // tf.function's fast path (See Note [Traced functions]): a call whose positional
            // arguments are exactly the trace's inputs (tensors, not Variables, of the traced dtypes
            // and shapes) replays without building the Python call key. None: take the slow path
            // (another signature, a Python value among the arguments, or an outer trace running).
            if (!g.graph || trace::current()) return std::nullopt;
            const trace::Graph& gr = *g.graph;
            if (args.size() != gr.inputs.size()) return std::nullopt;
            static PyTypeObject* tensor_type = reinterpret_cast<PyTypeObject*>(py::type::of<Tensor>().ptr());
            std::vector<Tensor> in;
            in.reserve(args.size());
            for (size_t i = 0; i < args.size(); ++i) {
              py::handle h = args[i];
              if (Py_TYPE(h.ptr()) != tensor_type) return std::nullopt;
              const Tensor& t = h.cast<const Tensor&>();
              if (!gr.accepts(i, t)) return std::nullopt;
              in.push_back(t);
            }
            return replay(gr, in);
          },
          py::arg("args"),
          "Replays the graph when `args` are exactly tensors of the traced dtypes and shapes; None "
          "(nothing run) otherwise, or while this thread traces.");
  m.def(
      "_trace_begin",
      [](bool strict, bool polymorphic) {
        trace::begin(strict);
        if (polymorphic) trace::current()->make_polymorphic();
      },
      py::arg("strict") = false, py::arg("polymorphic") = false,
      "(private) Starts a tf.function trace on this thread; strict: what would make it unreplayable raises; "
      "polymorphic: the inputs have None dimensions (See Note [Polymorphic traces]).");
  m.def(
      "_trace_dynamic_dims",
      [](const Tensor& t) -> py::object {
        trace::Recorder* r = trace::polymorphic();
        if (!r) return py::none();
        auto dims = r->dynamic_dims(t);
        if (!dims) return py::bool_(false);
        py::tuple out(dims->size());
        for (size_t i = 0; i < dims->size(); ++i) out[i] = py::bool_((*dims)[i]);
        return std::move(out);
      },
      py::arg("tensor"),
      "(private) In a polymorphic trace: per dimension of `tensor`, whether it follows the input signature's "
      "None dimensions (False: not known). None when this thread traces no polymorphic function.");
  m.def(
      "_trace_specialize",
      [](const std::string& why) {
        if (trace::Recorder* r = trace::polymorphic()) r->specialize(why);
      },
      py::arg("why"), "(private) This thread's polymorphic trace holds for its own input shapes only.");
  m.def(
      "_tracing", [] { return trace::current() != nullptr; },
      "(private) Whether this thread is tracing a tf.function.");
  m.def(
      "_trace_input",
      [](TensorLike h, std::optional<Tensor> shadow) {
        trace::Recorder* r = trace::current();
        if (!r) throw tg::ValueError("_trace_input outside a trace");
        const int s = r->input(tensor_of(h));
        if (shadow && r->polymorphic()) r->input_shadow(s, *shadow);
      },
      py::arg("tensor"), py::arg("shadow") = py::none(),
      "(private) Declares `tensor` an input of the trace (bound to the call's argument at replay); `shadow`: "
      "the same input with its None dimensions resized, in a polymorphic trace.");
  m.def(
      "_trace_end",
      [](TensorList outputs) {
        std::unique_ptr<trace::Recorder> r = trace::end();
        if (!r) throw tg::ValueError("_trace_end outside a trace");
        for (py::handle h : outputs) r->output(tensor_of(h));
        auto g = std::make_shared<TracedGraph>();
        if (r->poison.empty()) {
          if (r->polymorphic() && r->specialized.empty()) {
            // Note [Polymorphic traces]: the dimensions the shadow run resized accept any size
            trace::Graph& gr = r->graph;
            gr.polymorphic = true;
            for (size_t i = 0; i < gr.inputs.size(); ++i) {
              const std::vector<bool> dims = r->input_dims(i);
              for (size_t d = 0; d < dims.size(); ++d)
                if (dims[d]) gr.input_shapes[i].d[int(d)] = -1;
            }
          }
          g->specialized = r->specialized;
          g->graph = std::make_shared<trace::Graph>(std::move(r->graph));
          g->graph->plan();
        } else g->poison = r->poison;
        return g;
      },
      py::arg("outputs"), "(private) Ends this thread's trace; `outputs` are the function's result tensors.");
  m.def(
      "_trace_unroll_refusal", [] { return trace::last_unroll_refusal(); },
      "(private) Why this thread's last traced tape.gradient was not unrolled into nodes ('' when it was; "
      "See Note [Unrolled gradient]).");
  m.def("_trace_abort", [] { trace::end(); }, "(private) Ends this thread's trace, dropping it (the function raised).");
  m.def(
      "_trace_is_traced",
      [](TensorLike h) {
        trace::Recorder* r = trace::current();
        if (!r) return false;
        if (py::isinstance<Variable>(h)) return true;
        return py::isinstance<Tensor>(h) && r->traced_value(tensor_of(h));
      },
      py::arg("value"),
      "(private) Whether `value` is a Variable or a tensor whose value depends on this thread's trace's inputs.");
  m.def(
      "_trace_poison", [](const std::string& why) { trace::poison(why); }, py::arg("why"),
      "(private) Marks this thread's trace as not replayable (no-op when not tracing).");
  // Runs fn(*tensors) now with tracing paused and, when tracing, records a node that calls it again
  // (holding the GIL) at each replay: tf.print, random draws and the optimizer's Python step logic.
  // fn returns None or a sequence of Tensors (the node's results).
  m.def(
      "_trace_host_call",
      [](py::function fn, TensorList tensors, bool pure, bool writes, std::optional<py::function> shadow) {
        std::vector<Tensor> ts;
        for (py::handle h : tensors) ts.push_back(to_tensor(h));
        auto results = [](py::handle r) {
          std::vector<Tensor> out;
          if (r.is_none()) return out;
          for (py::handle h : r) {
            if (!py::isinstance<Tensor>(h)) throw tg::TypeError("a host call must return Tensors");
            out.push_back(tensor_of(h));
          }
          return out;
        };
        trace::Recorder* r = trace::current();
        const bool record = r && r->depth == 0 && r->poison.empty();
        std::vector<trace::TensorRef> refs;
        if (record)
          for (const Tensor& t : ts) refs.push_back(r->ref(t, "a host call"));
        std::vector<Tensor> out;
        if (record && r->dry > 0 && !pure) {
          // a branch the trace does not take (See Note [Traced control flow]): recorded, not done
        } else {
          trace::Pause pause;
          py::list a;
          for (Tensor& t : ts) a.append(py::cast(t));
          out = results(fn(*a));
        }
        if (record && r->poison.empty()) {
          std::vector<int> slots;
          for (const Tensor& t : out) slots.push_back(r->bind_new(t));
          auto keep = std::shared_ptr<py::function>(new py::function(fn), [](py::function* p) {
            py::gil_scoped_acquire gil;  // a graph may be dropped where the GIL is not held
            delete p;
          });
          std::vector<int> uses;
          trace::collect_uses(refs, uses);
          r->add(
              "host_call",
              [keep, refs, slots, results](trace::Env& env) {
                std::vector<Tensor> args;
                for (const trace::TensorRef& t : refs) args.push_back(t.get(env));
                py::gil_scoped_acquire gil;
                py::list a;
                for (Tensor& t : args) a.append(py::cast(std::move(t)));
                std::vector<Tensor> res = results((*keep)(*a));
                if (res.size() != slots.size())
                  throw tg::ValueError("a host call returned a different number of tensors");
                for (size_t i = 0; i < slots.size(); ++i) env.t[size_t(slots[i])] = std::move(res[i]);
              },
              std::move(uses), writes);
          if (shadow && r->polymorphic()) {
            // Note [Polymorphic traces]: the results' stand-ins on the shadows (their shapes)
            py::list a;
            bool known = true;
            for (const trace::TensorRef& t : refs) {
              Tensor sh = r->shadow_of(t);
              known = known && sh.defined();
              a.append(py::cast(std::move(sh)));
            }
            if (known) {
              try {
                trace::Pause pause;
                std::vector<Tensor> sh = results((*shadow)(*a));
                if (sh.size() == slots.size())
                  for (size_t i = 0; i < slots.size(); ++i) r->set_shadow(slots[i], sh[i]);
              } catch (const py::error_already_set&) {  // unknown: reading the shape specializes
              }
            }
          }
        }
        py::list res;
        for (Tensor& t : out) res.append(py::cast(std::move(t)));
        return res;
      },
      py::arg("fn"), py::arg("tensors"), py::arg("pure") = false, py::arg("writes") = true,
      py::arg("shadow") = py::none(),
      "(private) fn(*tensors) now; inside a trace, also at every replay (with the GIL). An impure call "
      "(pure=False: printing, optimizer steps) is not done in a branch the trace does not take; "
      "writes=False: it writes no Variable a tape may read (printing, checks, random draws). shadow(*tensors): "
      "stand-ins with the results' shapes for a polymorphic trace's shadow run (See Note [Polymorphic traces]).");
  // See Note [Traced control flow].
  py::class_<trace::CondBuilder, std::shared_ptr<trace::CondBuilder>>(m, "_CondTrace",
                                                                      "(private) A tf.cond being traced.");
  py::class_<trace::WhileBuilder, std::shared_ptr<trace::WhileBuilder>>(m, "_WhileTrace",
                                                                        "(private) A tf.while_loop being traced.");
  m.def(
      "_trace_peek_bool",
      [](TensorLike pred, const std::string& what) { return trace::pred_value(to_tensor(pred), what.c_str()); },
      py::arg("pred"), py::arg("what"),
      "(private) A predicate's value at trace time, read without making the trace unreplayable (the control-flow "
      "node reads it again at every replay).");
  m.def(
      "_trace_cond_begin",
      [](TensorLike pred) {
        trace::Recorder& r = recorder();
        auto c = std::make_shared<trace::CondBuilder>();
        c->pred = r.ref(to_tensor(pred), "tf.cond");
        return c;
      },
      py::arg("pred"), "(private) Starts recording a tf.cond on `pred`.");
  m.def(
      "_trace_block_begin",
      [](FlowBuilder builder, int which, bool dry) {
        trace::Recorder& r = recorder();
        r.push_block(block_of(builder, which));
        if (dry) ++r.dry;
      },
      py::arg("builder"), py::arg("which"), py::arg("dry"),
      "(private) Records into a branch (0: false, 1: true) of a _CondTrace, or the cond (0) or body (1) of a "
      "_WhileTrace; dry: writes are recorded, not done.");
  m.def(
      "_trace_block_end",
      [](FlowBuilder builder, int which, bool dry, TensorList results) {
        trace::Recorder& r = recorder();
        r.pop_block();
        if (dry) --r.dry;
        std::vector<trace::TensorRef> refs;
        for (py::handle h : results) refs.push_back(r.ref(to_tensor(h), "a control-flow block's result"));
        if (py::isinstance<trace::CondBuilder>(builder)) {
          builder.cast<trace::CondBuilder&>().outs[which] = std::move(refs);
        } else {
          auto& w = builder.cast<trace::WhileBuilder&>();
          if (which == 0) {
            if (refs.size() != 1) throw tg::ValueError("a loop condition must return one tensor");
            w.pred = refs[0];
          } else {
            w.next = std::move(refs);
          }
        }
      },
      py::arg("builder"), py::arg("which"), py::arg("dry"), py::arg("results"),
      "(private) Ends a block begun by _trace_block_begin; `results` are its results.");
  m.def(
      "_trace_block_abort",
      [](bool dry, const std::string& why) {
        trace::Recorder& r = recorder();
        r.pop_block();
        if (dry) --r.dry;
        r.set_poison(why);
      },
      py::arg("dry"), py::arg("why"),
      "(private) Ends a block whose Python raised: the trace cannot be replayed (`why`).");
  m.def(
      "_trace_cond_end",
      [](std::shared_ptr<trace::CondBuilder> c, TensorList taken) {
        trace::Recorder& r = recorder();
        std::vector<int> slots;
        py::list out = bind_results(r, taken, slots);
        trace::add_cond(r, c, slots);
        r.shadow_cond_results(slots, *c);  // Note [Polymorphic traces]
        return out;
      },
      py::arg("builder"), py::arg("taken"),
      "(private) Adds the cond node; returns the results of the branch taken, as the node's outputs.");
  m.def(
      "_trace_while_begin",
      [](TensorList loop_vars, int64_t max_iterations) {
        trace::Recorder& r = recorder();
        auto w = std::make_shared<trace::WhileBuilder>();
        w->max_iterations = max_iterations;
        py::list vars;
        for (py::handle h : loop_vars) {
          Tensor t = to_tensor(h);
          w->init.push_back(r.ref(t, "tf.while_loop"));
          Tensor a = alias(t);
          w->vars.push_back(r.bind_new(a));
          r.shadow_loop_var(w->vars.back(), w->init.back());  // Note [Polymorphic traces]
          vars.append(py::cast(std::move(a)));
        }
        return py::make_tuple(w, vars);
      },
      py::arg("loop_vars"), py::arg("max_iterations"),
      "(private) Starts recording a tf.while_loop; returns the builder and the loop variables to trace cond and "
      "body on.");
  m.def(
      "_trace_while_end",
      [](std::shared_ptr<trace::WhileBuilder> w, TensorList final_values) {
        trace::Recorder& r = recorder();
        std::vector<int> slots;
        py::list out = bind_results(r, final_values, slots);
        trace::add_while(r, w, slots);
        r.shadow_loop_results(slots, w->vars);  // Note [Polymorphic traces]
        return out;
      },
      py::arg("builder"), py::arg("final_values"),
      "(private) Adds the loop node; `final_values` are the loop variables after the trace's iterations.");
  py::class_<PausedTrace, std::shared_ptr<PausedTrace>>(m, "PausedTrace",
                                                        "(private) A trace paused by _trace_pause (tf.init_scope).");
  m.def(
      "_trace_pause",
      [] {
        auto p = std::make_shared<PausedTrace>();
        p->paused_at = next_tensor_id();
        p->recorder = trace::end();
        return p;
      },
      "(private) Takes this thread's trace off it until _trace_resume (tf.init_scope); a no-op "
      "token when the thread does not trace.");
  m.def(
      "_trace_resume",
      [](PausedTrace& p) {
        if (!p.recorder) return;
        trace::resume(std::move(p.recorder), p.paused_at);
      },
      py::arg("paused"),
      "(private) Puts back a trace taken by _trace_pause; tensors made meanwhile are captured by value.");
  m.def(
      "_trace_call_paused",
      [](py::function fn) {
        trace::Pause pause;
        return fn();
      },
      py::arg("fn"), "(private) fn() with this thread's tracing paused (tf.init_scope).");
}

}  // namespace bind
}  // namespace tg
