// Winograd F(4x4, 3x3) and F(2x2, 5x5) kernels for float32 3x3 and 5x5 stride-1 convolutions (conv_winograd.cpp; Note
// [Winograd] in conv.cpp). Declared only where the AVX-512 build is (TG_HAVE_AVX512_TU) and the
// compiler is GCC; call only on CPUs with AVX-512F.
#pragma once

#include <cstdint>
#include <vector>

// GCC only: conv_winograd.cpp turns AVX-512 on with GCC's target pragma (clang builds keep the
// direct kernels for these convolutions).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(TG_HAVE_AVX512_TU)
#define TG_HAVE_WINOGRAD 1
namespace tg {
namespace wino {

// One RxR (R = 3: F(4x4, 3x3); R = 5: F(2x2, 5x5)) stride-1 convolution: input [N, H, W, C],
// output [N, OH, OW, O], the window of output (oh, ow) starting at input (oh - pt, ow - pl); input
// positions outside the image read zero.
struct Problem {
  int64_t N, H, W, C, O, OH, OW, pt, pl;
  int R;
};

// The transformed filter [36][C][O rounded up to 16] of w [R, R, C, O].
std::vector<float> transform_filter(const float* w, int64_t C, int64_t O, int R);
// The same for the input gradient's filter: w flipped in space, channels swapped ([36][O][C up to 16]).
std::vector<float> transform_filter_flipped(const float* w, int64_t C, int64_t O, int R);
// out = the convolution p of x with the transformed filter U.
void forward(const float* x, const float* U, float* out, const Problem& p);
// dw [R, R, C, O] (overwritten) = the filter gradient of the convolution p with input x and
// output gradient gr.
void backprop_filter(const float* x, const float* gr, float* dw, const Problem& p);

}  // namespace wino
}  // namespace tg
#endif
