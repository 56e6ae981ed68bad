// Convolution and pooling over NHWC tensors (ops/conv.cpp): forward kernels and their backward
// primitives, each a recorded op so that second derivatives work (See Note [Conv backward]).
#pragma once
#include "ops/ops.h"

namespace tg {

// Window geometry of one 2-D conv or pool. Pads are explicit (the Python face turns SAME/VALID
// into numbers, as TF's GetWindowedOutputSize does).
struct Window2D {
  int64_t kh = 1, kw = 1;  // pools only; conv takes them from the filter
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pb = 0, pl = 0, pr = 0;
};

namespace kernels {
Tensor conv2d(const Tensor& x, const Tensor& w, const Window2D& p);
Tensor conv2d_backprop_input(const Tensor& g, const Tensor& w, const Window2D& p, const Shape& x_shape);
Tensor conv2d_backprop_filter(const Tensor& x, const Tensor& g, const Window2D& p, const Shape& w_shape);
// Depthwise: filter [KH, KW, C, M]; output channel c * M + m sees input channel c only.
Tensor depthwise_conv2d(const Tensor& x, const Tensor& w, const Window2D& p);
Tensor depthwise_conv2d_backprop_input(const Tensor& g, const Tensor& w, const Window2D& p, const Shape& x_shape);
Tensor depthwise_conv2d_backprop_filter(const Tensor& x, const Tensor& g, const Window2D& p, const Shape& w_shape);
Tensor max_pool2d(const Tensor& x, const Window2D& p);
Tensor max_pool2d_grad(const Tensor& x, const Tensor& g, const Window2D& p);       // x's shape
Tensor max_pool2d_grad_grad(const Tensor& x, const Tensor& h, const Window2D& p);  // the pool's shape
Tensor avg_pool2d(const Tensor& x, const Window2D& p);
Tensor avg_pool2d_grad(const Tensor& g, const Window2D& p, const Shape& x_shape);
}  // namespace kernels

namespace ops {
Tensor conv2d(const Tensor& x, const Tensor& w, const Window2D& p);
Tensor conv2d_backprop_input(const Tensor& g, const Tensor& w, const Window2D& p, const Shape& x_shape);
Tensor conv2d_backprop_filter(const Tensor& x, const Tensor& g, const Window2D& p, const Shape& w_shape);
Tensor depthwise_conv2d(const Tensor& x, const Tensor& w, const Window2D& p);
Tensor depthwise_conv2d_backprop_input(const Tensor& g, const Tensor& w, const Window2D& p, const Shape& x_shape);
Tensor depthwise_conv2d_backprop_filter(const Tensor& x, const Tensor& g, const Window2D& p, const Shape& w_shape);
Tensor max_pool2d(const Tensor& x, const Window2D& p);
Tensor max_pool2d_grad(const Tensor& x, const Tensor& g, const Window2D& p);
Tensor max_pool2d_grad_grad(const Tensor& x, const Tensor& h, const Window2D& p);
Tensor avg_pool2d(const Tensor& x, const Window2D& p);
Tensor avg_pool2d_grad(const Tensor& g, const Window2D& p, const Shape& x_shape);

// Attrs.ints layout shared with the derivative table: 10 window numbers, then an optional shape.
std::vector<int64_t> window_to_ints(const Window2D& p, const Shape* shape);
Window2D window_from_ints(const std::vector<int64_t>& ints);
Shape shape_from_ints(const std::vector<int64_t>& ints);  // the shape after the window numbers
}  // namespace ops

}  // namespace tg
