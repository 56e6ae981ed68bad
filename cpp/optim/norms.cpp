// Gradient norms: per-tensor sums of squares over fixed blocks (See Note [Deterministic
// reductions]) and the per-tensor scale of accumulation and clipnorm / global_clipnorm
// (See Note [Step pipeline]).
#include <algorithm>
#include <cmath>

#include "optim/pipeline.h"

namespace tg {
namespace optim {

namespace {
template <class T> double block_sum_squares(const T* __restrict g, const T* __restrict a, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) {
      double x = a ? double(T(g[i + j] + a[i + j])) : double(g[i + j]);
      acc[j] += x * x;
    }
  for (; i < n; ++i) {
    double x = a ? double(T(g[i] + a[i])) : double(g[i]);
    acc[0] += x * x;
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}
}  // namespace

std::vector<double> sum_squares(const std::vector<Tensor>& grads, const VarList* accs) {
  std::vector<int64_t> sizes;
  for (const Tensor& g : grads) sizes.push_back(g.numel());
  std::vector<Block> blocks = make_blocks(sizes);
  std::vector<double> part(blocks.size());
  for_blocks(blocks, [&](size_t k, const Block& bl) {
    const Tensor& g = grads[bl.t];
    const void* a = accs ? (*accs)[bl.t]->value.raw() : nullptr;
    if (g.dtype == DType::Float32)
      part[k] = block_sum_squares<float>(g.data<float>() + bl.b, a ? static_cast<const float*>(a) + bl.b : nullptr,
                                         bl.e - bl.b);
    else
      part[k] = block_sum_squares<double>(g.data<double>() + bl.b, a ? static_cast<const double*>(a) + bl.b : nullptr,
                                          bl.e - bl.b);
  });
  std::vector<double> out(grads.size(), 0.0);
  for (size_t k = 0; k < blocks.size(); ++k) out[blocks[k].t] += part[k];
  return out;
}

std::vector<double> grad_scales(const StepOptions& o, const std::vector<Tensor>& grads) {
  if (o.clip == Clip::Off && !o.accumulators) return {};
  std::vector<double> scales(grads.size(), o.accum_scale);
  if (o.clip == Clip::Off) return scales;
  std::vector<double> ss = sum_squares(grads, o.accumulators);
  const double s2 = o.accum_scale * o.accum_scale, c = o.clip_norm;
  if (o.clip == Clip::Norm) {  // Keras clip_by_norm: g * c / max(||g||, c)
    for (size_t i = 0; i < ss.size(); ++i) scales[i] *= c / std::max(std::sqrt(ss[i] * s2), c);
  } else {  // Keras clip_by_global_norm: c * min(1 / n, 1 / c), NaN when n is not finite
    double total = 0;
    for (double s : ss) total += s;
    const double n = std::sqrt(total * s2);
    const double f = c * std::min(1.0 / n, 1.0 / c) + (n - n);
    for (double& s : scales) s *= f;
  }
  return scales;
}

}  // namespace optim
}  // namespace tg
