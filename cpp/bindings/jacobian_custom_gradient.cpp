// Bindings for GradientTape.jacobian / batch_jacobian and tg.custom_gradient.
#include "autodiff/forward.h"
#include "autodiff/jacobian.h"
#include "bindings/common.h"

namespace tg {
namespace bind {
namespace {

// A Python callable owned from C++: released with the GIL held, wherever the last owner dies
// (tape nodes may be dropped inside compute_gradient, which runs without the GIL).
std::shared_ptr<py::object> hold(py::object fn) {
  return std::shared_ptr<py::object>(new py::object(std::move(fn)), [](py::object* p) {
    if (Py_IsInitialized()) {
      py::gil_scoped_acquire gil;
      delete p;
    }
  });
}

}  // namespace

void init_jacobian_custom_gradient(py::module_& m) {
  m.def(
      "compute_jacobian",
      [](std::shared_ptr<Tape> t, TensorLike target, py::typing::List<TensorLike> sources, bool zero_unconnected,
         bool batch) {
        trace::poison("tf.custom_gradient and GradientTape.jacobian in a traced function");
        Tensor tgt = to_tensor_noaccess(target);
        std::vector<Tensor> src;
        for (py::handle h : sources) src.push_back(to_tensor_noaccess(h));
        std::vector<Tensor> res;
        {
          py::gil_scoped_release release;
          res = tape::compute_jacobian(*t, tgt, src, zero_unconnected, batch);
        }
        py::typing::List<py::typing::Optional<Tensor>> out;
        for (Tensor& r : res) out.append(r.defined() ? py::cast(std::move(r)) : py::none());
        return out;
      },
      py::arg("tape"), py::arg("target"), py::arg("sources"), py::arg("zero_unconnected"), py::arg("batch"),
      "The jacobian of target with respect to each source (batch: per example over the first axis).");

  // Records one CustomGradient node: inputs -> fresh copies of outputs. backward(list of output
  // gradients) returns one gradient (or None) per input.
  m.def(
      "record_custom_gradient",
      [](py::typing::List<TensorLike> inputs, py::typing::List<TensorLike> outputs,
         py::typing::Callable<py::typing::Iterable<OptTensorLike>(py::typing::List<Tensor>)> backward) {
        trace::poison("tf.custom_gradient and GradientTape.jacobian in a traced function");
        std::vector<Tensor> ins, outs;
        for (py::handle h : inputs) ins.push_back(to_tensor_noaccess(h));
        for (py::handle h : outputs)
          outs.push_back(kernels::reshape(to_tensor_noaccess(h), to_tensor_noaccess(h).shape));
        // TF keeps the JVP computed through the function itself; outputs without one get the
        // custom gradient's transpose (See Note [Forward mode])
        for (size_t j = 0; j < outs.size(); ++j) forward::alias(to_tensor_noaccess(outputs[j]), outs[j]);
        tape::record(Op::CustomGradient, ins, outs, [&](Attrs& at) {
          std::vector<Tensor> in_meta;
          for (const Tensor& x : ins) in_meta.push_back(x.meta());
          auto fn = hold(std::move(backward));
          at.backward = [fn, in_meta](const std::vector<Tensor>& grads) {
            py::gil_scoped_acquire gil;
            py::list gl;
            for (const Tensor& g : grads) gl.append(py::cast(g));
            py::object r = (*fn)(gl);
            std::vector<Tensor> res(in_meta.size());
            size_t i = 0;
            for (py::handle h : r) {
              if (i >= in_meta.size()) break;
              const Tensor& x = in_meta[i];
              if (!h.is_none()) {
                Tensor g = to_tensor(
                    h, (py::isinstance<Tensor>(h) || py::isinstance<Variable>(h) || py::isinstance<py::array>(h))
                           ? nullptr
                           : &x.dtype);
                if (g.dtype != x.dtype)
                  throw InvalidArgument("custom_gradient: the gradient for input " + std::to_string(i) + " has dtype " +
                                        dtype_name(g.dtype) + " but the input has dtype " + dtype_name(x.dtype));
                if (g.shape != x.shape) {  // a broadcast-shaped gradient is summed back by the backward pass
                  Shape b = kernels::broadcast_shapes(g.shape, x.shape, Op::CustomGradient);
                  if (b == x.shape) g = ops::broadcast_to(g, x.shape);
                  else if (b != g.shape)
                    throw InvalidArgument("custom_gradient: the gradient for input " + std::to_string(i) +
                                          " has shape " + g.shape.str() + " but the input has shape " + x.shape.str());
                }
                res[i] = g;
              }
              ++i;
            }
            return res;
          };
        });
        py::typing::List<Tensor> out;
        for (Tensor& o : outs) out.append(py::cast(std::move(o)));
        return out;
      },
      py::arg("inputs"), py::arg("outputs"), py::arg("backward"),
      "Copies of outputs, recorded as one op of inputs whose gradient backward(output gradients) gives.");
}

}  // namespace bind
}  // namespace tg
