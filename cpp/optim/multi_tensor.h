// Multi-tensor apply: one parallel pass over the elements of many tensors.
#pragma once
#include <algorithm>
#include <vector>

#include "tensor/parallel.h"

namespace tg {

// Splits the concatenation of tensors of the given sizes into contiguous ranges, runs
// fn(tensor_index, begin, end) for each piece, spread over the pool when the total is large.
template <class F> void multi_tensor_apply(const std::vector<int64_t>& sizes, F&& fn, int64_t grain = 1 << 16) {
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

// Note [Deterministic reductions]
// Per-tensor sums (gradient norms, Lamb's trust ratio) are computed over fixed blocks of
// kReduceBlock elements, one partial per block, then added in block order. The result does not
// depend on the thread count or the split, so a resumed run reproduces the same bits.
constexpr int64_t kReduceBlock = 1 << 14;

struct Block {
  size_t t;
  int64_t b, e;
};

inline std::vector<Block> make_blocks(const std::vector<int64_t>& sizes) {
  std::vector<Block> blocks;
  for (size_t t = 0; t < sizes.size(); ++t)
    for (int64_t b = 0; b < sizes[t]; b += kReduceBlock) blocks.push_back({t, b, std::min(sizes[t], b + kReduceBlock)});
  return blocks;
}

// Runs fn(block_index, block) for every block, in parallel when there are enough of them.
template <class F> void for_blocks(const std::vector<Block>& blocks, F&& fn) {
  parallel_for(int64_t(blocks.size()), std::max<int64_t>(1, (1 << 16) / kReduceBlock), [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) fn(size_t(k), blocks[size_t(k)]);
  });
}

}  // namespace tg
