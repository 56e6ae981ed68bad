// Helpers shared by the kernels: broadcast strides and an N-d walk over a contiguous output.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace tg {

// Element strides of `in` viewed with `out`'s rank (left-padded), 0 along broadcast dimensions.
inline std::array<int64_t, kMaxRank> broadcast_strides(const Shape& in, const Shape& out) {
  std::array<int64_t, kMaxRank> st{};
  int off = out.ndim - in.ndim;
  int64_t s = 1;
  for (int i = in.ndim - 1; i >= 0; --i) {
    st[i + off] = (in[i] == 1 && out[i + off] != 1) ? 0 : s;
    s *= in[i];
  }
  for (int i = 0; i < off; ++i) st[i] = 0;
  return st;
}

// Calls row(out_offset, in_offsets..., count) for every innermost row of `shape`, rows
// [row_begin, row_end) in row-major order. K is the number of strided inputs.
template <int K, class F> inline void for_each_row(const Shape& shape, const std::array<int64_t, kMaxRank>* strides,
                                                   int64_t row_begin, int64_t row_end, F&& row) {
  int nd = shape.ndim;
  int64_t inner = nd ? shape[nd - 1] : 1;
  int64_t idx[kMaxRank] = {0};
  // coordinates of row_begin over the outer nd-1 dims
  int64_t r = row_begin;
  for (int d = nd - 2; d >= 0; --d) {
    idx[d] = r % shape[d];
    r /= shape[d];
  }
  int64_t off[K];
  for (int k = 0; k < K; ++k) {
    off[k] = 0;
    for (int d = 0; d < nd - 1; ++d) off[k] += idx[d] * strides[k][d];
  }
  for (int64_t rr = row_begin; rr < row_end; ++rr) {
    row(rr * inner, off);
    for (int d = nd - 2; d >= 0; --d) {
      ++idx[d];
      for (int k = 0; k < K; ++k) off[k] += strides[k][d];
      if (idx[d] < shape[d]) break;
      for (int k = 0; k < K; ++k) off[k] -= idx[d] * strides[k][d];
      idx[d] = 0;
    }
  }
}

}  // namespace tg
