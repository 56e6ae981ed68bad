// The benchmark's bandwidth roof (`_core._copy_probe`): one pass over Adam's four streams, with
// the optimizer loop's prefetch (Note [Prefetch]), so the roof stays fair.
#include <algorithm>

#include "optim/pipeline.h"

namespace tg {
namespace optim {

void copy_probe(float* a, const float* b, float* c, float* d, int64_t n) {
  multi_tensor_apply({n}, [&](size_t, int64_t lo, int64_t hi) {
    float* __restrict pa = a + lo;
    const float* __restrict pb = b + lo;
    float* __restrict pc = c + lo;
    float* __restrict pd = d + lo;
    auto body = [&](int64_t i) __attribute__((always_inline)) {
      float x = pa[i], y = pb[i], z = pc[i], w = pd[i];
      pa[i] = y;
      pc[i] = x;
      pd[i] = std::max(z, w);
    };
    by_lines<float>(
        hi - lo,
        [&](int64_t i) __attribute__((always_inline)) {  // as the optimizer loops (Note [Prefetch])
          prefetch_line(pa, i), prefetch_line(pb, i), prefetch_line(pc, i), prefetch_line(pd, i);
        },
        body);
  });
}

}  // namespace optim
}  // namespace tg
