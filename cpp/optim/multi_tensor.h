// Multi-tensor apply: one parallel pass over the elements of many tensors.
#pragma once
#include <algorithm>
#include <vector>

#include "tensor/parallel.h"

namespace tg {

// Splits the concatenation of tensors of the given sizes into contiguous ranges, runs
// fn(tensor_index, begin, end) for each piece, spread over the pool when the total is large.
template <class F>
void multi_tensor_apply(const std::vector<int64_t>& sizes, F&& fn, int64_t grain = 1 << 16) {
  std::vector<int64_t> offsets(sizes.size() + 1, 0);
  for (size_t i = 0; i < sizes.size(); ++i) offsets[i + 1] = offsets[i] + sizes[i];
  const int64_t total = offsets.back();
  parallel_for(total, grain, [&](int64_t lo, int64_t hi) {
    size_t t = size_t(std::upper_bound(offsets.begin(), offsets.end(), lo) - offsets.begin()) - 1;
    for (; t < sizes.size() && offsets[t] < hi; ++t) {
      int64_t b = std::max(lo, offsets[t]) - offsets[t];
      int64_t e = std::min(hi, offsets[t + 1]) - offsets[t];
      if (b < e) fn(t, b, e);
    }
  });
}

}  // namespace tg
