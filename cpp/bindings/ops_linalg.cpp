// Bindings for convolution and pooling (einsum, tensordot and random are Python composites in
// python/tapegrad/_ops_linalg.py and random.py). Padding arrives as explicit numbers.
#include "bindings/common.h"
#include "ops/conv.h"
#include "ops/linalg.h"

namespace tg {
namespace bind {
namespace {

Window2D window(const std::vector<int64_t>& ksize, const std::vector<int64_t>& strides,
                const std::vector<int64_t>& dilations, const std::vector<int64_t>& pads) {
  if (ksize.size() != 2 || strides.size() != 2 || dilations.size() != 2 || pads.size() != 4)
    throw ValueError("window: expected 2 ksize, 2 strides, 2 dilations and 4 pads");
  Window2D p;
  p.kh = ksize[0];
  p.kw = ksize[1];
  p.sh = strides[0];
  p.sw = strides[1];
  p.dh = dilations[0];
  p.dw = dilations[1];
  p.pt = pads[0];
  p.pb = pads[1];
  p.pl = pads[2];
  p.pr = pads[3];
  return p;
}

}  // namespace

void init_ops_linalg(py::module_& m) {
  m.def(
      "_matrix_inverse",
      [](TensorLike a, bool adjoint) {
        Tensor t = to_tensor(a);
        return nogil(t.numel() * 16, [&] { return TG_OP(ops::matrix_inverse)(t, adjoint); });
      },
      py::arg("a"), py::arg("adjoint"), "(private) The inverse of each square matrix (of its adjoint when `adjoint`).");
  m.def(
      "_matrix_determinant",
      [](TensorLike a) {
        Tensor t = to_tensor(a);
        return nogil(t.numel() * 16, [&] { return TG_OP(ops::matrix_determinant)(t); });
      },
      py::arg("a"), "(private) The determinant of each square matrix.");
  m.def(
      "_log_matrix_determinant",
      [](TensorLike a) {
        Tensor t = to_tensor(a);
        return nogil(t.numel() * 16, [&] { return TG_OP(ops::log_matrix_determinant)(t); });
      },
      py::arg("a"), "(private) (sign, log|det|) of each square matrix.");
  m.def(
      "_eigh",
      [](TensorLike a) {
        Tensor t = to_tensor(a);
        return nogil(t.numel() * 16, [&] { return TG_OP(ops::eigh)(t); });
      },
      py::arg("a"), "(private) (eigenvalues ascending, eigenvectors) of each self-adjoint matrix.");
  m.def(
      "_qr",
      [](TensorLike a, bool full_matrices) {
        Tensor t = to_tensor(a);
        return nogil(t.numel() * 16, [&] { return TG_OP(ops::qr)(t, full_matrices); });
      },
      py::arg("a"), py::arg("full_matrices"), "(private) (q, r) of each matrix.");
  m.def(
      "_svd",
      [](TensorLike a, bool full_matrices, bool compute_uv) {
        Tensor t = to_tensor(a);
        return nogil(t.numel() * 16, [&] { return TG_OP(ops::svd)(t, full_matrices, compute_uv); });
      },
      py::arg("a"), py::arg("full_matrices"), py::arg("compute_uv"), "(private) (s, u, v) of each matrix.");
  m.def(
      "_cholesky",
      [](TensorLike a) {
        Tensor t = to_tensor(a);
        return nogil(t.numel() * 16, [&] { return TG_OP(ops::cholesky)(t); });
      },
      py::arg("a"), "(private) The lower Cholesky factor of each positive definite matrix.");
  m.def(
      "_triangular_solve",
      [](TensorLike a, TensorLike b, bool lower, bool adjoint) {
        auto ab = to_tensor_pair(a, b);
        return nogil(ab.first.numel() * 16,
                     [&] { return TG_OP(ops::triangular_solve)(ab.first, ab.second, lower, adjoint); });
      },
      py::arg("matrix"), py::arg("rhs"), py::arg("lower"), py::arg("adjoint"),
      "(private) x with matrix @ x = rhs for triangular matrices.");
  m.def(
      "_matrix_solve",
      [](TensorLike a, TensorLike b, bool adjoint) {
        auto ab = to_tensor_pair(a, b);
        return nogil(ab.first.numel() * 16, [&] { return TG_OP(ops::matrix_solve)(ab.first, ab.second, adjoint); });
      },
      py::arg("matrix"), py::arg("rhs"), py::arg("adjoint"), "(private) x with matrix @ x = rhs.");
  m.def(
      "_eig",
      [](TensorLike a, bool compute_v) {
        Tensor t = to_tensor(a);
        return nogil(t.numel() * 64, [&] { return TG_OP(ops::eig)(t, compute_v); });
      },
      py::arg("a"), py::arg("compute_v"), "(private) [e] or [e, v] of each square matrix (complex; a v = v diag(e)).");
  m.def(
      "_matrix_logarithm",
      [](TensorLike a) {
        Tensor t = to_tensor(a);
        return nogil(t.numel() * 64, [&] { return TG_OP(kernels::matrix_logarithm)(t); });
      },
      py::arg("a"), "(private) The principal logarithm of each complex square matrix (not recorded).");
  m.def(
      "_conv2d",
      [](TensorLike x, TensorLike w, std::vector<int64_t> strides, std::vector<int64_t> dilations,
         std::vector<int64_t> pads) {
        auto xw = to_tensor_pair(x, w);
        Window2D p = window({1, 1}, strides, dilations, pads);
        int64_t work = xw.first.numel() *
                       (xw.second.ndim() == 4 ? xw.second.shape[0] * xw.second.shape[1] * xw.second.shape[3] : 1);
        return nogil(work, [&] { return TG_OP(ops::conv2d)(xw.first, xw.second, p); });
      },
      py::arg("input"), py::arg("filters"), py::arg("strides"), py::arg("dilations"), py::arg("pads"),
      "(private) 2-D convolution, NHWC input and HWIO filters; pads are (top, bottom, left, right).");
  m.def(
      "_conv2d_backprop_input",
      [](std::vector<int64_t> input_sizes, TensorLike w, TensorLike g, std::vector<int64_t> strides,
         std::vector<int64_t> dilations, std::vector<int64_t> pads) {
        auto gw = to_tensor_pair(g, w);
        Window2D p = window({1, 1}, strides, dilations, pads);
        Shape xs = Shape::from(input_sizes);
        return nogil(xs.numel() * 64, [&] { return TG_OP(ops::conv2d_backprop_input)(gw.first, gw.second, p, xs); });
      },
      py::arg("input_sizes"), py::arg("filters"), py::arg("out_backprop"), py::arg("strides"), py::arg("dilations"),
      py::arg("pads"), "(private) The gradient of _conv2d with respect to its input.");
  m.def(
      "_conv2d_backprop_filter",
      [](TensorLike x, std::vector<int64_t> filter_sizes, TensorLike g, std::vector<int64_t> strides,
         std::vector<int64_t> dilations, std::vector<int64_t> pads) {
        auto xg = to_tensor_pair(x, g);
        Window2D p = window({1, 1}, strides, dilations, pads);
        Shape ws = Shape::from(filter_sizes);
        return nogil(xg.first.numel() * 64,
                     [&] { return TG_OP(ops::conv2d_backprop_filter)(xg.first, xg.second, p, ws); });
      },
      py::arg("input"), py::arg("filter_sizes"), py::arg("out_backprop"), py::arg("strides"), py::arg("dilations"),
      py::arg("pads"), "(private) The gradient of _conv2d with respect to its filters.");
  m.def(
      "_depthwise_conv2d",
      [](TensorLike x, TensorLike w, std::vector<int64_t> strides, std::vector<int64_t> dilations,
         std::vector<int64_t> pads) {
        auto xw = to_tensor_pair(x, w);
        Window2D p = window({1, 1}, strides, dilations, pads);
        return nogil(xw.first.numel() * 16, [&] { return TG_OP(ops::depthwise_conv2d)(xw.first, xw.second, p); });
      },
      py::arg("input"), py::arg("filter"), py::arg("strides"), py::arg("dilations"), py::arg("pads"),
      "(private) Depthwise 2-D convolution, NHWC input and HWCM filters.");
  m.def(
      "_max_pool2d",
      [](TensorLike x, std::vector<int64_t> ksize, std::vector<int64_t> strides, std::vector<int64_t> pads) {
        Tensor t = to_tensor(x);
        Window2D p = window(ksize, strides, {1, 1}, pads);
        return nogil(t.numel() * 4, [&] { return TG_OP(ops::max_pool2d)(t, p); });
      },
      py::arg("input"), py::arg("ksize"), py::arg("strides"), py::arg("pads"),
      "(private) 2-D max pooling over NHWC input.");
  m.def(
      "_avg_pool2d",
      [](TensorLike x, std::vector<int64_t> ksize, std::vector<int64_t> strides, std::vector<int64_t> pads) {
        Tensor t = to_tensor(x);
        Window2D p = window(ksize, strides, {1, 1}, pads);
        return nogil(t.numel() * 4, [&] { return TG_OP(ops::avg_pool2d)(t, p); });
      },
      py::arg("input"), py::arg("ksize"), py::arg("strides"), py::arg("pads"),
      "(private) 2-D average pooling over NHWC input (padding excluded from the mean).");
}

}  // namespace bind
}  // namespace tg
