// 2-D convolution and pooling over NHWC tensors, forward and backward. float32 convolutions run the
// direct register-tile kernels of conv_kernels.h (Note [Direct conv]); float64, and float32 cases
// they do not cover (strided input gradients, filters over 64 rows), run im2col + OpenBLAS gemm or
// the small-K loops (Note [Small-K conv]). All shape checks happen before any parallel_for (See
// Note [Threads]); gemm is called outside them.
#include "ops/conv.h"

#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "autodiff/tape.h"
#define TG_CONVK_ISA isa_avx2
#include "ops/conv_kernels.h"
#include "ops/conv_winograd.h"
#include "tensor/parallel.h"

namespace tg {
#if defined(__x86_64__) && defined(__GNUC__) && defined(TG_HAVE_AVX512_TU)
namespace convk {
const KernelSet& kernel_set_avx512();  // conv_avx512.cpp
}
#endif
namespace {

// Note [Conv backward]
// Conv2D's VJP uses two primitives, Conv2DBackpropInput(g, w) and Conv2DBackpropFilter(x, g), and
// each of the three is bilinear with VJPs written in the other two, so the set is closed under
// differentiation: every order works (TF's nn_grad.py does the same). Pools likewise:
// MaxPool -> MaxPoolGrad(x, g) -> MaxPoolGradGrad(x, h) -> MaxPoolGrad, routing through the
// first maximum of each window in scan order; AvgPool <-> AvgPoolGrad.

struct Geo {
  int64_t N, H, W, C, KH, KW, O, OH, OW;
  Window2D p;
  int64_t K() const { return KH * KW * C; }
};

std::string op_tag(const char* name) { return std::string(" [Op:") + name + "]"; }

int64_t out_size(int64_t in, int64_t k, int64_t d, int64_t s, int64_t pa, int64_t pb, const char* name) {
  const int64_t eff = (k - 1) * d + 1;
  const int64_t out = (in + pa + pb - eff + s) / s;  // TF's GetWindowedOutputSize
  if (out < 0)
    throw InvalidArgument("Computed output size would be negative: " + std::to_string(out) +
                          " [input_size: " + std::to_string(in) + ", effective_filter_size: " + std::to_string(eff) +
                          ", stride: " + std::to_string(s) + "]" + op_tag(name));
  return out;
}

void check_window(const Window2D& p, const char* name) {
  if (p.sh < 1 || p.sw < 1)
    throw InvalidArgument("Stride must be > 0, but got " + std::to_string(std::min(p.sh, p.sw)) + op_tag(name));
  if (p.dh < 1 || p.dw < 1)
    throw InvalidArgument("dilations must be positive, got [" + std::to_string(p.dh) + ", " + std::to_string(p.dw) +
                          "]" + op_tag(name));
  if (p.pt < 0 || p.pb < 0 || p.pl < 0 || p.pr < 0)
    throw InvalidArgument(std::string("paddings must be non-negative") + op_tag(name));
}

void check_float(const Tensor& t, const char* what, const char* name) {
  if (!is_floating(t.dtype)) throw attr_t_error(t.dtype, std::string(": float, double (") + what + ")" + op_tag(name));
}

void check_same_dtype(const Tensor& a, const Tensor& b, const char* name) {
  if (a.dtype != b.dtype)
    throw InvalidArgument(std::string("cannot compute ") + name + " as input #1(zero-based) was expected to be a " +
                          dtype_kernel_name(a.dtype) + " tensor but is a " + dtype_kernel_name(b.dtype) + " tensor" +
                          op_tag(name));
}

void check_rank4(const Shape& s, const char* what, const char* name) {
  if (s.ndim != 4) throw InvalidArgument(std::string(what) + " must be 4-dimensional" + s.str() + op_tag(name));
}

// Geometry of a convolution with input shape xs and filter shape ws (checks everything).
Geo conv_geo(const Shape& xs, const Shape& ws, const Window2D& p, const char* name) {
  check_rank4(xs, "input", name);
  check_rank4(ws, "filter", name);
  check_window(p, name);
  Geo g{xs[0], xs[1], xs[2], xs[3], ws[0], ws[1], ws[3], 0, 0, p};
  if (ws[2] <= 0 || xs[3] % ws[2] != 0)
    throw InvalidArgument("Depth of input (" + std::to_string(xs[3]) +
                          ") is not a multiple of input depth of filter (" + std::to_string(ws[2]) + ")" +
                          op_tag(name));
  if (xs[3] != ws[2])
    throw InvalidArgument("grouped convolution (input depth " + std::to_string(xs[3]) + ", filter depth " +
                          std::to_string(ws[2]) + ") is not supported" + op_tag(name));
  g.OH = out_size(g.H, g.KH, p.dh, p.sh, p.pt, p.pb, name);
  g.OW = out_size(g.W, g.KW, p.dw, p.sw, p.pl, p.pr, name);
  const int64_t kIntMax = 2147483647;  // BLAS takes int dimensions
  if (g.N * std::max(g.OH * g.OW, g.H * g.W) > kIntMax || g.K() > kIntMax || g.O > kIntMax)
    throw InvalidArgument("convolution too large for 32-bit BLAS dimensions: input " + xs.str() + ", filter " +
                          ws.str() + op_tag(name));
  return g;
}

// Depthwise geometry: O = C * M, K() counts the window only per channel.
Geo depthwise_geo(const Shape& xs, const Shape& ws, const Window2D& p, const char* name) {
  check_rank4(xs, "input", name);
  check_rank4(ws, "filter", name);
  check_window(p, name);
  if (ws[2] != xs[3])
    throw InvalidArgument("input depth must be evenly divisible by filter depth: " + std::to_string(xs[3]) + " vs " +
                          std::to_string(ws[2]) + op_tag(name));
  Geo g{xs[0], xs[1], xs[2], xs[3], ws[0], ws[1], ws[2] * ws[3], 0, 0, p};
  g.OH = out_size(g.H, g.KH, p.dh, p.sh, p.pt, p.pb, name);
  g.OW = out_size(g.W, g.KW, p.dw, p.sw, p.pl, p.pr, name);
  return g;
}

Geo pool_geo(const Shape& xs, const Window2D& p, const char* name) {
  check_rank4(xs, "input", name);
  check_window(p, name);
  if (p.kh < 1 || p.kw < 1)
    throw InvalidArgument("Sliding window ksize must be positive. The specified or inferred ksize is: 1," +
                          std::to_string(p.kh) + "," + std::to_string(p.kw) + ",1" + op_tag(name));
  if (p.pt >= p.kh || p.pb >= p.kh || p.pl >= p.kw || p.pr >= p.kw)
    throw InvalidArgument(std::string("padding must be smaller than the pooling window") + op_tag(name));
  Geo g{xs[0], xs[1], xs[2], xs[3], p.kh, p.kw, xs[3], 0, 0, p};
  g.OH = out_size(g.H, g.KH, 1, p.sh, p.pt, p.pb, name);
  g.OW = out_size(g.W, g.KW, 1, p.sw, p.pl, p.pr, name);
  return g;
}

Shape nhwc(int64_t n, int64_t h, int64_t w, int64_t c) { return Shape{n, h, w, c}; }

template <class T> void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                             int64_t ldb, T beta, T* C, int64_t ldc) {
  auto tA = ta ? CblasTrans : CblasNoTrans, tB = tb ? CblasTrans : CblasNoTrans;
  park_workers();  // Note [Threads]
  if constexpr (std::is_same<T, float>::value)
    scipy_cblas_sgemm(CblasRowMajor, tA, tB, int(M), int(N), int(K), 1.0f, A, int(lda), B, int(ldb), beta, C, int(ldc));
  else
    scipy_cblas_dgemm(CblasRowMajor, tA, tB, int(M), int(N), int(K), 1.0, A, int(lda), B, int(ldb), beta, C, int(ldc));
}

// 1x1 filter, stride 1, no padding: the input already is the im2col matrix.
bool is_pointwise(const Geo& g) {
  const Window2D& p = g.p;
  return g.KH == 1 && g.KW == 1 && p.sh == 1 && p.sw == 1 && p.pt == 0 && p.pb == 0 && p.pl == 0 && p.pr == 0;
}

// Images per im2col chunk: a column buffer near 2 MB stays in cache between im2col and gemm
// (3-4x faster than 16 MB chunks for 28x28x32 batches on these machines).
int64_t chunk_images(const Geo& g) {
  return std::max<int64_t>(1, (int64_t(1) << 19) / std::max<int64_t>(1, g.OH * g.OW * g.K()));
}

template <class T> void im2col(const T* x, T* cols, int64_t n0, int64_t n1, const Geo& g) {
  const int64_t K = g.K(), C = g.C;
  const Window2D& p = g.p;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, g.OW * K));
  parallel_for((n1 - n0) * g.OH, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t n = n0 + r / g.OH, oh = r % g.OH;
      T* row = cols + r * g.OW * K;
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        T* dst = row + ow * K;
        for (int64_t kh = 0; kh < g.KH; ++kh) {
          const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const int64_t iw = ow * p.sw - p.pl + kw * p.dw;
            T* d = dst + (kh * g.KW + kw) * C;
            if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) std::fill(d, d + C, T(0));
            else std::memcpy(d, x + ((n * g.H + ih) * g.W + iw) * C, size_t(C) * sizeof(T));
          }
        }
      }
    }
  });
}

// dx (zeroed) += scatter of the column-gradient rows of images [n0, n1).
template <class T> void col2im(const T* cols, T* dx, int64_t n0, int64_t n1, const Geo& g) {
  const int64_t K = g.K(), C = g.C;
  const Window2D& p = g.p;
  parallel_for(n1 - n0, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t n = n0 + i;
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const T* src = cols + ((i * g.OH + oh) * g.OW + ow) * K;
          for (int64_t kh = 0; kh < g.KH; ++kh) {
            const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
            if (ih < 0 || ih >= g.H) continue;
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              const int64_t iw = ow * p.sw - p.pl + kw * p.dw;
              if (iw < 0 || iw >= g.W) continue;
              const T* s = src + (kh * g.KW + kw) * C;
              T* d = dx + ((n * g.H + ih) * g.W + iw) * C;
              for (int64_t c = 0; c < C; ++c) d[c] += s[c];
            }
          }
        }
    }
  });
}

// Note [Small-K conv]: when KH*KW*C is small (first layers: 1-3 input channels), gemm with a tiny
// inner dimension runs far below BLAS speed; direct loops vectorised over the output channels are
// several times faster. The filter gradient sums per fixed block of images, then adds the blocks in
// order, so results do not depend on the thread count.
constexpr int64_t kSmallK = 32;

template <class T> void conv_direct(const T* x, const T* w, T* out, const Geo& g) {  // out zeroed
  const Window2D& p = g.p;
  const int64_t C = g.C, O = g.O;
  parallel_for(g.N * g.OH, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, g.OW * g.K() * O / 16)),
               [&](int64_t b, int64_t e) {
                 for (int64_t r = b; r < e; ++r) {
                   const int64_t n = r / g.OH, oh = r % g.OH;
                   for (int64_t ow = 0; ow < g.OW; ++ow) {
                     T* o = out + (r * g.OW + ow) * O;
                     for (int64_t kh = 0; kh < g.KH; ++kh) {
                       const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
                       if (ih < 0 || ih >= g.H) continue;
                       for (int64_t kw = 0; kw < g.KW; ++kw) {
                         const int64_t iw = ow * p.sw - p.pl + kw * p.dw;
                         if (iw < 0 || iw >= g.W) continue;
                         const T* xs = x + ((n * g.H + ih) * g.W + iw) * C;
                         const T* wk = w + (kh * g.KW + kw) * C * O;
                         for (int64_t c = 0; c < C; ++c) {
                           const T v = xs[c];
                           const T* wr = wk + c * O;
                           for (int64_t q = 0; q < O; ++q) o[q] += v * wr[q];
                         }
                       }
                     }
                   }
                 }
               });
}

template <class T> void conv_direct_backprop_input(const T* gr, const T* w, T* dx, const Geo& g) {  // dx zeroed
  const Window2D& p = g.p;
  const int64_t C = g.C, O = g.O;
  parallel_for(g.N, 1, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n)
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const T* gg = gr + ((n * g.OH + oh) * g.OW + ow) * O;
          for (int64_t kh = 0; kh < g.KH; ++kh) {
            const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
            if (ih < 0 || ih >= g.H) continue;
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              const int64_t iw = ow * p.sw - p.pl + kw * p.dw;
              if (iw < 0 || iw >= g.W) continue;
              T* d = dx + ((n * g.H + ih) * g.W + iw) * C;
              const T* wk = w + (kh * g.KW + kw) * C * O;
              for (int64_t c = 0; c < C; ++c) {
                T acc = 0;
                const T* wr = wk + c * O;
                for (int64_t q = 0; q < O; ++q) acc += gg[q] * wr[q];
                d[c] += acc;
              }
            }
          }
        }
  });
}

template <class T> void conv_direct_backprop_filter(const T* x, const T* gr, T* dw, const Geo& g) {  // dw zeroed
  const Window2D& p = g.p;
  const int64_t C = g.C, O = g.O, KO = g.K() * O;
  const int64_t nblk = std::min<int64_t>(g.N, 16);
  std::vector<T> part(size_t(nblk * KO), T(0));
  parallel_for(nblk, 1, [&](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      T* pw0 = part.data() + blk * KO;
      for (int64_t n = blk * g.N / nblk; n < (blk + 1) * g.N / nblk; ++n)
        for (int64_t oh = 0; oh < g.OH; ++oh)
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            const T* gg = gr + ((n * g.OH + oh) * g.OW + ow) * O;
            for (int64_t kh = 0; kh < g.KH; ++kh) {
              const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
              if (ih < 0 || ih >= g.H) continue;
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t iw = ow * p.sw - p.pl + kw * p.dw;
                if (iw < 0 || iw >= g.W) continue;
                const T* xs = x + ((n * g.H + ih) * g.W + iw) * C;
                T* pw = pw0 + (kh * g.KW + kw) * C * O;
                for (int64_t c = 0; c < C; ++c) {
                  const T v = xs[c];
                  T* pr = pw + c * O;
                  for (int64_t q = 0; q < O; ++q) pr[q] += v * gg[q];
                }
              }
            }
          }
    }
  });
  for (int64_t blk = 0; blk < nblk; ++blk)
    for (int64_t i = 0; i < KO; ++i) dw[i] += part[size_t(blk * KO + i)];
}

// Depthwise loops: M = O / C filters per input channel; vectorised over channels.
template <class T> void depthwise_direct(const T* x, const T* w, T* out, const Geo& g) {  // out zeroed
  const Window2D& p = g.p;
  const int64_t C = g.C, M = g.O / g.C, O = g.O;
  parallel_for(g.N * g.OH, 1, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t n = r / g.OH, oh = r % g.OH;
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        T* o = out + (r * g.OW + ow) * O;
        for (int64_t kh = 0; kh < g.KH; ++kh) {
          const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
          if (ih < 0 || ih >= g.H) continue;
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const int64_t iw = ow * p.sw - p.pl + kw * p.dw;
            if (iw < 0 || iw >= g.W) continue;
            const T* xs = x + ((n * g.H + ih) * g.W + iw) * C;
            const T* wk = w + (kh * g.KW + kw) * O;
            if (M == 1) {
              for (int64_t c = 0; c < C; ++c) o[c] += xs[c] * wk[c];
            } else {
              for (int64_t c = 0; c < C; ++c)
                for (int64_t m = 0; m < M; ++m) o[c * M + m] += xs[c] * wk[c * M + m];
            }
          }
        }
      }
    }
  });
}

template <class T> void depthwise_direct_backprop_input(const T* gr, const T* w, T* dx, const Geo& g) {  // dx zeroed
  const Window2D& p = g.p;
  const int64_t C = g.C, M = g.O / g.C, O = g.O;
  parallel_for(g.N, 1, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n)
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const T* gg = gr + ((n * g.OH + oh) * g.OW + ow) * O;
          for (int64_t kh = 0; kh < g.KH; ++kh) {
            const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
            if (ih < 0 || ih >= g.H) continue;
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              const int64_t iw = ow * p.sw - p.pl + kw * p.dw;
              if (iw < 0 || iw >= g.W) continue;
              T* d = dx + ((n * g.H + ih) * g.W + iw) * C;
              const T* wk = w + (kh * g.KW + kw) * O;
              if (M == 1) {
                for (int64_t c = 0; c < C; ++c) d[c] += gg[c] * wk[c];
              } else {
                for (int64_t c = 0; c < C; ++c) {
                  T acc = 0;
                  for (int64_t m = 0; m < M; ++m) acc += gg[c * M + m] * wk[c * M + m];
                  d[c] += acc;
                }
              }
            }
          }
        }
  });
}

template <class T> void depthwise_direct_backprop_filter(const T* x, const T* gr, T* dw, const Geo& g) {  // dw zeroed
  const Window2D& p = g.p;
  const int64_t C = g.C, M = g.O / g.C, O = g.O, KO = g.KH * g.KW * O;
  const int64_t nblk = std::min<int64_t>(g.N, 16);  // See Note [Small-K conv]: fixed blocks, ordered sum
  std::vector<T> part(size_t(nblk * KO), T(0));
  parallel_for(nblk, 1, [&](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      T* pw0 = part.data() + blk * KO;
      for (int64_t n = blk * g.N / nblk; n < (blk + 1) * g.N / nblk; ++n)
        for (int64_t oh = 0; oh < g.OH; ++oh)
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            const T* gg = gr + ((n * g.OH + oh) * g.OW + ow) * O;
            for (int64_t kh = 0; kh < g.KH; ++kh) {
              const int64_t ih = oh * p.sh - p.pt + kh * p.dh;
              if (ih < 0 || ih >= g.H) continue;
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t iw = ow * p.sw - p.pl + kw * p.dw;
                if (iw < 0 || iw >= g.W) continue;
                const T* xs = x + ((n * g.H + ih) * g.W + iw) * C;
                T* pw = pw0 + (kh * g.KW + kw) * O;
                if (M == 1) {
                  for (int64_t c = 0; c < C; ++c) pw[c] += xs[c] * gg[c];
                } else {
                  for (int64_t c = 0; c < C; ++c)
                    for (int64_t m = 0; m < M; ++m) pw[c * M + m] += xs[c] * gg[c * M + m];
                }
              }
            }
          }
    }
  });
  for (int64_t blk = 0; blk < nblk; ++blk)
    for (int64_t i = 0; i < KO; ++i) dw[i] += part[size_t(blk * KO + i)];
}

// Calls body(ih, iw) for the in-image positions of the window at (oh, ow).
template <class F> inline void for_window(const Geo& g, int64_t oh, int64_t ow, F&& body) {
  const int64_t h0 = oh * g.p.sh - g.p.pt, w0 = ow * g.p.sw - g.p.pl;
  for (int64_t ih = std::max<int64_t>(h0, 0); ih < std::min(h0 + g.KH, g.H); ++ih)
    for (int64_t iw = std::max<int64_t>(w0, 0); iw < std::min(w0 + g.KW, g.W); ++iw) body(ih, iw);
}

// The offset (in x) of the first maximum (a NaN counts as the maximum) of channel c's window at
// (n, oh, ow), scanning rows then columns.
template <class T>
inline int64_t window_argmax(const T* x, const Geo& g, int64_t n, int64_t oh, int64_t ow, int64_t c) {
  int64_t where = -1;
  T best = T(0);
  for_window(g, oh, ow, [&](int64_t ih, int64_t iw) {
    const int64_t at = ((n * g.H + ih) * g.W + iw) * g.C + c;
    const T v = x[at];
    if (where < 0 || v > best || (v != v && best == best)) {
      best = v;
      where = at;
    }
  });
  return where;
}


// The direct float32 kernels (Note [Direct conv]) for this CPU: AVX-512 where the CPU has it
// (TAPEGRAD_NO_AVX512=1 turns that off), else the AVX2 baseline; none without AVX2.
const convk::KernelSet* kernel_set() {
  static const convk::KernelSet* s = []() -> const convk::KernelSet* {
#if defined(__AVX2__) && defined(__FMA__)
#if defined(__x86_64__) && defined(__GNUC__) && defined(TG_HAVE_AVX512_TU)
    const char* off = std::getenv("TAPEGRAD_NO_AVX512");
    if (!(off && *off && *off != '0') && __builtin_cpu_supports("avx512f")) return &convk::kernel_set_avx512();
#endif
    static const convk::KernelSet avx2 = convk::make_kernel_set<8>();
    return &avx2;
#else
    return nullptr;
#endif
  }();
  return s;
}

// TAPEGRAD_CONV=gemm forces the im2col + gemm paths (for A/B measurements).
bool direct_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("TAPEGRAD_CONV");
    return !(v && std::string(v) == "gemm");
  }();
  return on && kernel_set() != nullptr;
}

int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

// TAPEGRAD_CONV_V4=0 keeps tiles at 2 vectors of output channels (for A/B measurements).
bool v4_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("TAPEGRAD_CONV_V4");
    return !(v && *v == '0');
  }();
  return on;
}

// Which tile family kgeo chose: Opad is a whole number of V * L with V in {1, 2, 4}.
int vector_index(const convk::Geometry& cg, const convk::KernelSet& ks) {
  if (cg.O <= ks.L) return 0;
  return cg.O % (4 * ks.L) == 0 && v4_enabled() ? 2 : 1;
}

// Work items of about `cost` each, split into at most the pool's thread count of parts.
int64_t parts_for(int64_t items, double cost) {
  const double min_part = 2e5;  // multiply-adds per part worth a thread
  const int64_t by_work = int64_t(double(items) * cost / min_part);
  return std::max<int64_t>(1, std::min<int64_t>({int64_t(get_num_threads()), items, std::max<int64_t>(1, by_work)}));
}

convk::Geometry kgeo(int64_t N, int64_t H, int64_t W, int64_t C, int64_t KH, int64_t KW, int64_t O, int64_t OH,
                     int64_t OW, const Window2D& p, int64_t pt, int64_t pl, int L) {
  const int64_t V = O <= L ? 1 : O % (4 * L) == 0 && v4_enabled() ? 4 : 2;
  return convk::Geometry{N, H, W, C, KH, KW, O, OH, OW, p.sh, p.sw, p.dh, p.dw, pt, pl, round_up(O, V * L)};
}

// A 1x1 filter with stride 1 and no padding sees each pixel alone: the batch is one long run of
// pixels, recut into rows of a multiple of P pixels when one divides it (no tile tails, no copies).
bool as_rows(convk::Geometry& cg, int64_t P) {
  if (!(cg.KH == 1 && cg.KW == 1 && cg.sh == 1 && cg.sw == 1 && cg.pt == 0 && cg.pl == 0 && cg.OH == cg.H &&
        cg.OW == cg.W))
    return false;
  const int64_t M = cg.N * cg.H * cg.W;
  for (int64_t k = 16; k >= 1; --k)
    if (M % (k * P) == 0) {
      cg.N = 1;
      cg.H = cg.OH = M / (k * P);
      cg.W = cg.OW = k * P;
      return true;
    }
  return false;
}

// A forward tile streams its filter rows (KH*KW*C of them, V*L floats each) once per tile. Tiles of
// 4 vectors make that 4L floats a row; past this many bytes the rows stop fitting in L1 between
// one tile and the next, and tiles of 2 vectors (half the bytes per row, twice the pixels per
// tile) measured faster: 3x3 s2 32->64 28x28 b64 (72 KiB a tile at 4 vectors) 2.43-2.45 ->
// 2.17-2.33 ms, the direct 3x3 64->64 14x14 b64 (144 KiB) 4.55-4.65 -> 3.98-4.06 ms; 1x1
// 32->64 (8 KiB) stays at 4 vectors (1.25 against 1.87 ms with 2). The filter gradient keeps 4
// vectors (its tile holds filter rows in registers, not a stream).
constexpr int64_t kFwdV4FilterBytes = 32 << 10;

// out [N, OH, OW, O] = the forward conv of x with wpk ([KH*KW*C][Opad], packed), any stride.
void direct_forward(const float* x, const float* wpk, float* out, convk::Geometry cg) {
  const convk::KernelSet& ks = *kernel_set();
  int vi = vector_index(cg, ks);
  if (vi == 2 && cg.KH * cg.KW * cg.C * 4 * ks.L * int64_t(sizeof(float)) > kFwdV4FilterBytes) vi = 1;
  int t = convk::pick_forward(ks, vi, cg.OW);
  if (as_rows(cg, ks.P[vi][t])) t = convk::pick_forward(ks, vi, cg.OW);
  const int64_t P = ks.P[vi][t], rows = cg.N * cg.OH;
  const int64_t scratch = convk::fwd_scratch(cg, P);
  const int64_t parts = parts_for(rows, double(cg.OW * cg.KH * cg.KW * cg.C * cg.O));
  std::vector<float> buf(size_t(parts * scratch));
  float* pb = buf.data();
  convk::RowsFn fn = ks.fwd[vi][t];
  parallel_for(parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) fn(x, wpk, out, cg, i * rows / parts, (i + 1) * rows / parts, pb + i * scratch);
  });
}

// Filter [KH, KW, C, O] -> [KH*KW*C][Opad] rows, zero-padded.
std::vector<float> pack_filter(const float* w, int64_t rows, int64_t O, int64_t Opad) {
  std::vector<float> wpk(size_t(rows * Opad), 0.0f);
  for (int64_t k = 0; k < rows; ++k) std::memcpy(wpk.data() + k * Opad, w + k * O, size_t(O) * sizeof(float));
  return wpk;
}

void conv_fwd_direct(const float* x, const float* w, float* out, const Geo& g) {
  convk::Geometry cg = kgeo(g.N, g.H, g.W, g.C, g.KH, g.KW, g.O, g.OH, g.OW, g.p, g.p.pt, g.p.pl, kernel_set()->L);
  std::vector<float> wpk = pack_filter(w, g.K(), g.O, cg.Opad);
  direct_forward(x, wpk.data(), out, cg);
}

// Stride 1 with pads no larger than the dilated window: the gradient w.r.t. the input is a forward
// conv of g (Note [Direct conv]).
bool direct_input_ok(const Geo& g) {
  const Window2D& p = g.p;
  return p.sh == 1 && p.sw == 1 && p.pt <= (g.KH - 1) * p.dh && p.pl <= (g.KW - 1) * p.dw && g.KH <= 64;
}

void conv_bwi_direct(const float* gr, const float* w, float* dx, const Geo& g) {
  const Window2D& p = g.p;
  convk::Geometry cg = kgeo(g.N, g.OH, g.OW, g.O, g.KH, g.KW, g.C, g.H, g.W, p, (g.KH - 1) * p.dh - p.pt,
                            (g.KW - 1) * p.dw - p.pl, kernel_set()->L);
  // flipped[kh', kw', o, c] = w[KH-1-kh', KW-1-kw', c, o], rows padded to Opad (= C rounded up).
  std::vector<float> wpk(size_t(g.KH * g.KW * g.O * cg.Opad), 0.0f);
  for (int64_t kh = 0; kh < g.KH; ++kh)
    for (int64_t kw = 0; kw < g.KW; ++kw) {
      const float* src = w + ((g.KH - 1 - kh) * g.KW + (g.KW - 1 - kw)) * g.C * g.O;
      float* dst = wpk.data() + (kh * g.KW + kw) * g.O * cg.Opad;
      for (int64_t c = 0; c < g.C; ++c)
        for (int64_t o = 0; o < g.O; ++o) dst[o * cg.Opad + c] = src[c * g.O + o];
    }
  direct_forward(gr, wpk.data(), dx, cg);
}

// Few input channels: the gather kernel (backprop_input_small_c_rows), any stride.
int small_c_variant(const Geo& g) {
  const convk::KernelSet* ks = kernel_set();
  if (!ks || g.C > 4 || g.O % ks->L != 0) return -1;
  const int64_t V = g.O / ks->L;
  return V == 1 ? 0 : V == 2 ? 1 : V == 4 ? 2 : -1;
}

void conv_bwi_small_c(const float* gr, const float* w, float* dx, const Geo& g) {
  const convk::KernelSet& ks = *kernel_set();
  convk::Geometry cg = kgeo(g.N, g.H, g.W, g.C, g.KH, g.KW, g.O, g.OH, g.OW, g.p, g.p.pt, g.p.pl, ks.L);
  convk::RowsFn fn = ks.bwi_small[small_c_variant(g)][g.C - 1];
  const int64_t rows = g.N * g.H;
  const int64_t parts = parts_for(rows, double(g.W * g.KH * g.KW * g.C * g.O) / double(g.p.sh * g.p.sw));
  parallel_for(parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) fn(gr, w, dx, cg, i * rows / parts, (i + 1) * rows / parts, nullptr);
  });
}

void conv_bwi_any(const float* gr, const float* w, float* dx, const Geo& g) {
  if (small_c_variant(g) >= 0) conv_bwi_small_c(gr, w, dx, g);
  else conv_bwi_direct(gr, w, dx, g);
}

void conv_bwf_direct(const float* x, const float* gr, float* dw, const Geo& g) {
  const convk::KernelSet& ks = *kernel_set();
  convk::Geometry cg = kgeo(g.N, g.H, g.W, g.C, g.KH, g.KW, g.O, g.OH, g.OW, g.p, g.p.pt, g.p.pl, ks.L);
  as_rows(cg, 16);
  const int vi = vector_index(cg, ks);
  const int64_t rows = cg.N * cg.OH, KO = g.K() * cg.Opad;
  const int64_t nblk = std::min<int64_t>(rows, 16);  // fixed blocks: thread-count independent sums
  const int64_t scratch = convk::bwf_scratch(cg);
  std::vector<float> part(size_t(nblk * KO), 0.0f), buf(size_t(nblk * scratch));
  float *pp = part.data(), *pb = buf.data();
  convk::RowsFn fn = ks.bwf[vi];
  const double cost = double(rows) * cg.OW * g.K() * g.O / double(nblk);
  const int64_t parts = parts_for(nblk, cost);
  parallel_for(parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      for (int64_t blk = i * nblk / parts; blk < (i + 1) * nblk / parts; ++blk)
        fn(x, gr, pp + blk * KO, cg, blk * rows / nblk, (blk + 1) * rows / nblk, pb + blk * scratch);
  });
  for (int64_t k = 0; k < g.K(); ++k) {
    float* d = dw + k * g.O;
    for (int64_t blk = 0; blk < nblk; ++blk) {
      const float* s = pp + blk * KO + k * cg.Opad;
      for (int64_t o = 0; o < g.O; ++o) d[o] += s[o];
    }
  }
}

// With AVX-512 the direct kernels beat im2col + gemm on every suite shape. With AVX2 alone (16
// vector registers, smaller tiles) OpenBLAS's Haswell gemm was faster on the large-K shapes (3x3
// 32->32: 20.1 against 23.2 ms, 5x5: 49.9 against 62.0, on the Zen 5 machine with AVX-512 off),
// the direct kernels on the small-K and 1x1 ones (1x1 32->64: 6.8 against 33.7 ms).
bool direct_ok(const Geo& g) {
  return direct_enabled() && g.KH <= 64 && (kernel_set()->L == 16 || g.K() <= kSmallK || is_pointwise(g));
}

// Note [Winograd]
// float32 3x3 and 5x5 stride-1 dilation-1 convolutions run Winograd F(4x4, 3x3) and F(2x2, 5x5)
// (Lavin & Gray 2016; conv_winograd.cpp) where they win. Each MxM output tile (M = 4 for 3x3,
// 2 for 5x5: both on a 6x6 input tile, alpha = M + R - 1 = 6), per input channel c and output
// channel o, is Y = A^T [(G g G^T) . (B^T d B)] A with d the tile's 6x6 input window, g the RxR
// filter and interpolation points 0, 1, -1, 2, -2, inf:
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
// (the same for both: it depends only on the points), G [6 x R] row i = f_i (1, p_i, .., p_i^(R-1))
// with f = 1/4, -1/6, -1/6, 1/24, 1/24, last row (0 .. 0 1); A^T [M x 6] row k = p_i^k, inf column
// (0 .. 0 1). F(4x4, 3x3):
//   G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// F(2x2, 5x5) (checked in float64 against direct 1-D and 2-D correlation):
//   G = [1/4 0 0 0 0; -1/6 -1/6 -1/6 -1/6 -1/6; -1/6 1/6 -1/6 1/6 -1/6;
//        1/24 1/12 1/6 1/3 2/3; 1/24 -1/12 1/6 -1/3 2/3; 0 0 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 1]
// Summed over c, the elementwise product becomes 36 GEMMs, one per transform point xi:
// M_xi [tiles x O] = V_xi [tiles x C] U_xi [C x O], 36 multiplies per 16 outputs where the direct
// 3x3 conv does 144 (5x5: 36 per 4 outputs against 100, with 4x the tiles per output, so the
// transforms weigh more: on 5x5 32->32 28x28 b64 the forward's 8 ms at 1 thread were ~4.4 ms of
// products (near the FMA peak), ~1.5 ms input and ~1.1 ms output transforms). One code path
// serves both, templated on M. Per call: the filter is transformed once (in double, U [36][C][O up to 16]); tiles
// go in chunks of ~12 (their V and M, ~100 KB for 32 -> 32, stay near L1: chunks of 48 or more
// measured 20-40% slower), each chunk: input transform (vectors over channels, NHWC-friendly),
// the 36 products in a register-tiled AVX-512 kernel (R tiles x 1-4 vectors of O), output
// transform with edge tiles masked; chunks spread over the pool, each tile independent.
// Input gradient: for stride 1 it is the forward conv of the output gradient with the filter
// flipped in space and channels swapped, pads mirrored (R - 1 - pt, R - 1 - pl), so the same code
// runs. Filter gradient: the transpose of the forward's bilinear form, dw = G^T [sum over tiles of
// (B^T d B) . (A e A^T)] G with e the tile's MxM output gradient: S_xi [C x O] = sum over tiles of
// V_xi^T Z_xi, summed per chunk then into fixed blocks of chunks (thread-count independent, as
// Note [Small-K conv]), G^T S G in double at the end.
//
// Selection (winograd_ok): the AVX-512 kernel set (on AVX2-only CPUs the direct/gemm paths stay;
// this code is AVX-512 only), KH = KW = 3, stride 1, dilation 1, pads <= 2, and by measurement at
// 1 thread against the direct kernels (wino / direct time, fwd / d in / d filter): 32->32 28x28
// 0.65/0.64/0.55, 16->32 32x32 0.64/0.59/0.55, 64->64 14x14 0.45/0.55/0.72, 128->128 14x14
// 0.53/0.54/0.48, 8->8 28x28 0.62/0.56/0.48, 16->4 0.43/1.06/0.41, 8->16 -/0.57/-, 2->16
// -/0.69/-; losing: 8->32 1.27 (fwd) and 1.49 (d filter), 4->16 1.03/0.80/1.52, 2->32
// 2.10/1.47/5.03, 4->64 -/1.59/- (few channels: the transforms cost more than the products they
// save, and the input gradient of 1-4 channel inputs has its own gather kernel). Hence: forward
// needs C >= 16; input gradient (a forward conv with O input channels) O >= 16 and, unless O is
// 16, C >= 8; filter gradient C >= 16, O >= 4 and C*O <= 256*256 (its per-block sums are 36*C*O
// floats). Small images: tiles over the output in 4x4 blocks (up to 16 computed per output), so
// a pass needs tile area <= 2x the output area: measured 256x1x1 64->64 3.8/3.6/2.9x slower, 2x2
// 0.96/0.96/0.70, 5x5 0.97/0.98/0.68, 3x3 0.84 (fwd), 7x7 32->32 0.54/0.55/0.47 (the filter
// gradient had 4x until the direct one sped up on small images: 2x2 and 5x5 then lost, 1.2-1.6
// and 1.0-1.2 under load 4).
// 5x5 filters (same kernel set, stride, dilation; pads <= 4), measured the same way: 32->32 28x28
// 0.70/0.68/0.68 (PyTorch: 0.70/0.56/0.67 in benchmarks/README.md), 16->32 32x32
// 0.63/0.66/0.74, 64->64 14x14 0.50/0.51/0.68, 128->128 14x14 0.50/0.53/0.40, 8->8 28x28
// 0.75/0.74/0.85, 8->16 0.78/0.57/0.90, 16->4 0.58/-/0.48, 8->32 -/0.46/0.93; losing: 8->32
// 1.38 (fwd), 4->16 1.09/0.98/1.14, 2->32 2.89/1.64/2.43, 4->64 1.46/1.41/1.02, 2->16 -/1.05/-,
// 16->4 -/1.35/-. Hence as 3x3 but with 8 channels enough for the forward (with O <= 16) and the
// filter gradient, and C >= 8 for the input gradient. Small images (64->64 b256): the tiles are
// 2x2, so the 2x-area rule rarely bites, but 5x5 windows on small images lie mostly in the padding,
// which the direct kernels skip: 3x3 1.10/1.19/0.59, 5x5 1.03/0.91/0.64, 7x7 0.81/0.88/0.70, 2x2
// 1.06/0.95/0.32, 1x1 3.42/3.23/1.36; hence forward and input gradient need both sides >= 7, the
// filter gradient >= 2. TAPEGRAD_CONV_WINOGRAD=0 turns it off (read at each call).
//
// Error bound. Winograd rounds larger intermediates than the direct sum: |B^T| (x) |B^T| has row
// sums up to 100 and |A^T| (x) |A^T| up to 361 (F(2x2, 5x5): 49), and an entry far larger than its
// neighbours leaks into the whole output tile, not just the windows that contain it. Measured as
//   |y - y_float64| <= kappa * 2^-24 * sum_c (max over the tile's 6x6 input window of |x_c|) *
//                      (sum over the RxR window of |w_c,o|)
// kappa was at most ~20 on normal and uniform data and ~190 on sign-random lognormal(0, 2) data
// (values spanning five decades), for the three passes (the input gradient with g and the flipped
// filter in place of x and w; the filter gradient with sum |g| over the tile in place of sum |w|).
// F(2x2, 5x5), over 28x28 b4 32->32, 14x14 64->64, 13x11 19->33 and 10x10 128->48: at most
// 7 / 6 / 30 (fwd / d in / d filter) on normal and uniform data, 88 / 125 / 106 on the lognormal
// data (a smaller A^T than F(4x4, 3x3)'s; the filter gradient sums 4x the tiles).
// tests/test_conv_winograd.py checks kappa = 64 and 512 for both. Against the direct path's scale,
// sum |x| |w| over the output's own window: 1e-6..3e-6 on normal data (direct kernels: 2e-7), up
// to 1e-3 on the wide-range data (direct: 7e-6). Relative to the largest entry, the 32->32 28x28
// b64 filter gradient is 3.4e-6 from float64 (direct 1.3e-6, PyTorch's oneDNN 4.6e-6); 5x5 32->32
// 28x28 b64, fwd / d in / d filter: 3.6e-6 / 4.4e-6 / 8.4e-6 (direct 1.4e-6 / 1.5e-6 / 1.1e-6,
// PyTorch 8.5e-7 / 6.7e-7 / 4.1e-6).

#if defined(TG_HAVE_WINOGRAD)
// TAPEGRAD_CONV_WINOGRAD=0 turns the Winograd path off (read at each call, unlike the other
// switches, so that tests and benchmarks can A/B it in one process).
bool winograd_switch_on() {
  const char* v = std::getenv("TAPEGRAD_CONV_WINOGRAD");
  return !(v && *v == '0');
}
#endif

enum class Pass { Forward, Input, Filter };

// 3x3 or 5x5, stride 1, dilation 1, AVX-512 kernels in use, pads a forward window can mirror
// (<= R - 1), and the channel counts and image sizes where it wins (Note [Winograd]).
bool winograd_ok(const Geo& g, Pass pass) {
#if defined(TG_HAVE_WINOGRAD)
  const Window2D& p = g.p;
  const int64_t R = g.KH, MT = 7 - R;  // F(MT x MT, R x R) on 6x6 tiles
  if (!(direct_enabled() && kernel_set()->L == 16 && (R == 3 || R == 5) && g.KW == R && p.sh == 1 && p.sw == 1 &&
        p.dh == 1 && p.dw == 1 && p.pt <= R - 1 && p.pl <= R - 1 && g.OH > 0 && g.OW > 0 && g.C > 0 && g.O > 0))
    return false;
  if (!winograd_switch_on()) return false;
  // Tiles cover the output in MT x MT blocks: small images waste most of them (3x3 filters, 1x1
  // output: 16 computed per output, 4x slower than direct; 2x2 and 5x5: even; 3x3 and 7x7: faster).
  const int64_t oh = pass == Pass::Input ? g.H : g.OH, ow = pass == Pass::Input ? g.W : g.OW;
  // The filter gradient had 4x until the direct filter gradient's 8-row passes (64->64 b256 3x3
  // filters, d filter against direct: 2x2 images 1.20-1.61, 5x5 1.00-1.22, 3x3 0.57-0.63, 7x7
  // 0.51-0.86).
  const int64_t covered = MT * MT * ((oh + MT - 1) / MT) * ((ow + MT - 1) / MT);
  if (covered > 2 * oh * ow) return false;
  if (R == 5) {
    // 5x5 windows on images under 7x7 lie mostly in the padding, which the direct kernels skip
    // and the tiles compute (measured 64->64 3x3 1.10/1.19 (fwd / d in), 5x5 1.03/0.91, 7x7
    // 0.81/0.88); the filter gradient wins from 2x2 (0.32) but not on 1x1 (1.36).
    if (pass == Pass::Filter ? std::min(oh, ow) < 2 : std::min(oh, ow) < 7) return false;
    switch (pass) {  // 8 channels already win against the 5x5 direct kernels, 4 do not
      case Pass::Forward: return g.C >= 16 || (g.C >= 8 && g.O <= 16);
      case Pass::Input: return g.O >= 16 && g.C >= 8;
      case Pass::Filter: return g.C >= 8 && g.O >= 4 && g.C * g.O <= 256 * 256;
    }
    return false;
  }
  const int64_t minc = 16;
  switch (pass) {
    case Pass::Forward: return g.C >= minc;
    case Pass::Input: return g.O >= minc && (g.C >= 8 || g.O <= 16);  // else the small-C gather kernel
    case Pass::Filter: return g.C >= minc && g.O >= 4 && g.C * g.O <= 256 * 256;
  }
  return false;
#else
  return false;
#endif
}

#if defined(TG_HAVE_WINOGRAD)
void conv_fwd_winograd(const float* x, const float* w, float* out, const Geo& g) {
  const int R = int(g.KH);
  const std::vector<float> U = wino::transform_filter(w, g.C, g.O, R);
  wino::forward(x, U.data(), out, wino::Problem{g.N, g.H, g.W, g.C, g.O, g.OH, g.OW, g.p.pt, g.p.pl, R});
}

void conv_bwi_winograd(const float* gr, const float* w, float* dx, const Geo& g) {
  const int R = int(g.KH);
  const std::vector<float> U = wino::transform_filter_flipped(w, g.C, g.O, R);
  wino::forward(gr, U.data(), dx,
                wino::Problem{g.N, g.OH, g.OW, g.O, g.C, g.H, g.W, R - 1 - g.p.pt, R - 1 - g.p.pl, R});
}

void conv_bwf_winograd(const float* x, const float* gr, float* dw, const Geo& g) {
  wino::backprop_filter(x, gr, dw, wino::Problem{g.N, g.H, g.W, g.C, g.O, g.OH, g.OW, g.p.pt, g.p.pl, int(g.KH)});
}
#else
void conv_bwf_winograd(const float*, const float*, float*, const Geo&) {}
void conv_fwd_winograd(const float*, const float*, float*, const Geo&) {}
void conv_bwi_winograd(const float*, const float*, float*, const Geo&) {}
#endif

// Depthwise, multiplier 1 (Geo's O == C): the vector kernels above (faster with either ISA).
bool depthwise_direct_ok(const Geo& g) { return direct_enabled() && g.KH <= 64 && g.O == g.C; }

void depthwise_fwd_vec(const float* x, const float* w, float* out, const Geo& g) {
  const convk::KernelSet& ks = *kernel_set();
  convk::Geometry cg = kgeo(g.N, g.H, g.W, g.C, g.KH, g.KW, g.O, g.OH, g.OW, g.p, g.p.pt, g.p.pl, ks.L);
  const int64_t rows = g.N * g.OH;
  const int64_t parts = parts_for(rows, double(g.OW * g.KH * g.KW * g.C) / 4);
  parallel_for(parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) ks.dw_fwd(x, w, out, cg, i * rows / parts, (i + 1) * rows / parts, nullptr);
  });
}

bool depthwise_input_ok(const Geo& g) { return depthwise_direct_ok(g) && direct_input_ok(g); }

void depthwise_bwi_vec(const float* gr, const float* w, float* dx, const Geo& g) {
  const convk::KernelSet& ks = *kernel_set();
  const Window2D& p = g.p;
  convk::Geometry cg = kgeo(g.N, g.OH, g.OW, g.C, g.KH, g.KW, g.C, g.H, g.W, p, (g.KH - 1) * p.dh - p.pt,
                            (g.KW - 1) * p.dw - p.pl, ks.L);
  std::vector<float> wf(size_t(g.KH * g.KW * g.C));
  for (int64_t kh = 0; kh < g.KH; ++kh)
    for (int64_t kw = 0; kw < g.KW; ++kw)
      std::memcpy(wf.data() + (kh * g.KW + kw) * g.C, w + ((g.KH - 1 - kh) * g.KW + (g.KW - 1 - kw)) * g.C,
                  size_t(g.C) * sizeof(float));
  const int64_t rows = g.N * g.H;
  const int64_t parts = parts_for(rows, double(g.W * g.KH * g.KW * g.C) / 4);
  const float* pw = wf.data();
  parallel_for(parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) ks.dw_fwd(gr, pw, dx, cg, i * rows / parts, (i + 1) * rows / parts, nullptr);
  });
}

void depthwise_bwf_vec(const float* x, const float* gr, float* dw, const Geo& g) {
  const convk::KernelSet& ks = *kernel_set();
  convk::Geometry cg = kgeo(g.N, g.H, g.W, g.C, g.KH, g.KW, g.O, g.OH, g.OW, g.p, g.p.pt, g.p.pl, ks.L);
  const int64_t rows = g.N * g.OH, KC = g.KH * g.KW * g.C;
  const int64_t nblk = std::min<int64_t>(rows, 16);  // fixed blocks: thread-count independent sums
  std::vector<float> part(size_t(nblk * KC), 0.0f);
  float* pp = part.data();
  const int64_t parts = parts_for(nblk, double(rows) * g.OW * KC / 4 / double(nblk));
  parallel_for(parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      for (int64_t blk = i * nblk / parts; blk < (i + 1) * nblk / parts; ++blk)
        ks.dw_bwf(x, gr, pp + blk * KC, cg, blk * rows / nblk, (blk + 1) * rows / nblk, nullptr);
  });
  for (int64_t blk = 0; blk < nblk; ++blk)
    for (int64_t i = 0; i < KC; ++i) dw[i] += pp[blk * KC + i];
}

// An output the direct float32 kernels will overwrite whole needs no zeroing pass (callers pass
// false where an early return would leave it unwritten).
Tensor alloc_out(const Shape& s, DType dt, bool direct) {
  return dt == DType::Float32 && direct ? Tensor::empty(s, dt) : Tensor::zeros(s, dt);
}

// Runs a direct float32 kernel when `ok`; double keeps the im2col + gemm and small-K paths.
template <class A, class B, class Out> bool try_direct(void (*fn)(const float*, const float*, float*, const Geo&),
                                                       bool ok, const A* a, const B* b, Out* out, const Geo& g) {
  if constexpr (std::is_same<Out, float>::value) {
    if (ok) {
      fn(a, b, out, g);
      return true;
    }
  }
  return false;
}

}  // namespace

namespace kernels {

Tensor conv2d(const Tensor& x, const Tensor& w, const Window2D& p) {
  const char* name = "Conv2D";
  check_float(x, "input", name);
  check_same_dtype(x, w, name);
  Geo g = conv_geo(x.shape, w.shape, p, name);
  const bool wino = winograd_ok(g, Pass::Forward);
  Tensor out = alloc_out(nhwc(g.N, g.OH, g.OW, g.O), x.dtype, (wino || direct_ok(g)) && g.K() > 0);
  if (out.numel() == 0 || g.K() == 0) return out;
  TG_DISPATCH_FLOAT(x.dtype, T, {
    const T* px = x.data<T>();
    const T* pw = w.data<T>();
    T* po = out.data<T>();
    const int64_t K = g.K(), rows_img = g.OH * g.OW;
    if (try_direct(&conv_fwd_winograd, wino, px, pw, po, g)) return out;
    if (try_direct(&conv_fwd_direct, direct_ok(g), px, pw, po, g)) return out;
    if (K <= kSmallK) {
      conv_direct<T>(px, pw, po, g);
    } else if (is_pointwise(g)) {
      gemm<T>(false, false, g.N * rows_img, g.O, K, px, K, pw, g.O, T(0), po, g.O);
    } else {
      const int64_t step = std::min(chunk_images(g), g.N);
      Tensor cols = Tensor::empty(Shape{step * rows_img * K}, x.dtype);
      T* pc = cols.data<T>();
      for (int64_t n0 = 0; n0 < g.N; n0 += step) {
        const int64_t n1 = std::min(g.N, n0 + step);
        im2col<T>(px, pc, n0, n1, g);
        gemm<T>(false, false, (n1 - n0) * rows_img, g.O, K, pc, K, pw, g.O, T(0), po + n0 * rows_img * g.O, g.O);
      }
    }
  });
  return out;
}

Tensor conv2d_backprop_input(const Tensor& gr, const Tensor& w, const Window2D& p, const Shape& xs) {
  const char* name = "Conv2DBackpropInput";
  check_float(gr, "out_backprop", name);
  check_same_dtype(gr, w, name);
  Geo g = conv_geo(xs, w.shape, p, name);
  if (gr.shape != nhwc(g.N, g.OH, g.OW, g.O))
    throw InvalidArgument("Conv2DBackpropInput: out_backprop has shape " + gr.shape.str() + ", expected " +
                          nhwc(g.N, g.OH, g.OW, g.O).str() + op_tag(name));
  const bool wino = winograd_ok(g, Pass::Input);
  Tensor dx = alloc_out(
      xs, gr.dtype,
      gr.numel() > 0 && g.K() > 0 && (wino || (direct_ok(g) && (small_c_variant(g) >= 0 || direct_input_ok(g)))));
  if (dx.numel() == 0 || gr.numel() == 0) return dx;
  TG_DISPATCH_FLOAT(gr.dtype, T, {
    const T* pg = gr.data<T>();
    const T* pw = w.data<T>();
    T* pd = dx.data<T>();
    const int64_t K = g.K(), rows_img = g.OH * g.OW;
    if (try_direct(&conv_bwi_winograd, wino, pg, pw, pd, g)) return dx;
    if (try_direct(&conv_bwi_any, direct_ok(g) && (small_c_variant(g) >= 0 || direct_input_ok(g)), pg, pw, pd, g))
      return dx;
    if (K <= kSmallK) {
      conv_direct_backprop_input<T>(pg, pw, pd, g);
    } else if (is_pointwise(g)) {
      gemm<T>(false, true, g.N * rows_img, K, g.O, pg, g.O, pw, g.O, T(0), pd, K);
    } else {
      const int64_t step = std::min(chunk_images(g), g.N);
      Tensor cols = Tensor::empty(Shape{step * rows_img * K}, gr.dtype);
      T* pc = cols.data<T>();
      for (int64_t n0 = 0; n0 < g.N; n0 += step) {
        const int64_t n1 = std::min(g.N, n0 + step);
        gemm<T>(false, true, (n1 - n0) * rows_img, K, g.O, pg + n0 * rows_img * g.O, g.O, pw, g.O, T(0), pc, K);
        col2im<T>(pc, pd, n0, n1, g);
      }
    }
  });
  return dx;
}

Tensor conv2d_backprop_filter(const Tensor& x, const Tensor& gr, const Window2D& p, const Shape& ws) {
  const char* name = "Conv2DBackpropFilter";
  check_float(x, "input", name);
  check_same_dtype(x, gr, name);
  Geo g = conv_geo(x.shape, ws, p, name);
  if (gr.shape != nhwc(g.N, g.OH, g.OW, g.O))
    throw InvalidArgument("Conv2DBackpropFilter: out_backprop has shape " + gr.shape.str() + ", expected " +
                          nhwc(g.N, g.OH, g.OW, g.O).str() + op_tag(name));
  Tensor dw = Tensor::zeros(ws, x.dtype);
  if (dw.numel() == 0 || gr.numel() == 0) return dw;
  TG_DISPATCH_FLOAT(x.dtype, T, {
    const T* px = x.data<T>();
    const T* pg = gr.data<T>();
    T* pd = dw.data<T>();
    const int64_t K = g.K(), rows_img = g.OH * g.OW;
    if (try_direct(&conv_bwf_winograd, winograd_ok(g, Pass::Filter), px, pg, pd, g)) return dw;
    if (try_direct(&conv_bwf_direct, direct_ok(g), px, pg, pd, g)) return dw;
    if (K <= kSmallK) {
      conv_direct_backprop_filter<T>(px, pg, pd, g);
    } else if (is_pointwise(g)) {
      gemm<T>(true, false, K, g.O, g.N * rows_img, px, K, pg, g.O, T(0), pd, g.O);
    } else {
      const int64_t step = std::min(chunk_images(g), g.N);
      Tensor cols = Tensor::empty(Shape{step * rows_img * K}, x.dtype);
      T* pc = cols.data<T>();
      for (int64_t n0 = 0; n0 < g.N; n0 += step) {
        const int64_t n1 = std::min(g.N, n0 + step);
        im2col<T>(px, pc, n0, n1, g);
        gemm<T>(true, false, K, g.O, (n1 - n0) * rows_img, pc, K, pg + n0 * rows_img * g.O, g.O, n0 == 0 ? T(0) : T(1),
                pd, g.O);
      }
    }
  });
  return dw;
}

Tensor depthwise_conv2d(const Tensor& x, const Tensor& w, const Window2D& p) {
  const char* name = "DepthwiseConv2dNative";
  check_float(x, "input", name);
  check_same_dtype(x, w, name);
  Geo g = depthwise_geo(x.shape, w.shape, p, name);
  Tensor out = alloc_out(nhwc(g.N, g.OH, g.OW, g.O), x.dtype, g.KH * g.KW > 0 && depthwise_direct_ok(g));
  if (out.numel() == 0) return out;
  TG_DISPATCH_FLOAT(x.dtype, T, {
    if (!try_direct(&depthwise_fwd_vec, depthwise_direct_ok(g), x.data<T>(), w.data<T>(), out.data<T>(), g))
      depthwise_direct<T>(x.data<T>(), w.data<T>(), out.data<T>(), g);
  });
  return out;
}

Tensor depthwise_conv2d_backprop_input(const Tensor& gr, const Tensor& w, const Window2D& p, const Shape& xs) {
  const char* name = "DepthwiseConv2dNativeBackpropInput";
  check_float(gr, "out_backprop", name);
  check_same_dtype(gr, w, name);
  Geo g = depthwise_geo(xs, w.shape, p, name);
  if (gr.shape != nhwc(g.N, g.OH, g.OW, g.O))
    throw InvalidArgument(std::string(name) + ": out_backprop has shape " + gr.shape.str() + ", expected " +
                          nhwc(g.N, g.OH, g.OW, g.O).str() + op_tag(name));
  Tensor dx = alloc_out(xs, gr.dtype, gr.numel() > 0 && g.KH * g.KW > 0 && depthwise_input_ok(g));
  if (dx.numel() == 0 || gr.numel() == 0) return dx;
  TG_DISPATCH_FLOAT(gr.dtype, T, {
    if (!try_direct(&depthwise_bwi_vec, depthwise_input_ok(g), gr.data<T>(), w.data<T>(), dx.data<T>(), g))
      depthwise_direct_backprop_input<T>(gr.data<T>(), w.data<T>(), dx.data<T>(), g);
  });
  return dx;
}

Tensor depthwise_conv2d_backprop_filter(const Tensor& x, const Tensor& gr, const Window2D& p, const Shape& ws) {
  const char* name = "DepthwiseConv2dNativeBackpropFilter";
  check_float(x, "input", name);
  check_same_dtype(x, gr, name);
  Geo g = depthwise_geo(x.shape, ws, p, name);
  if (gr.shape != nhwc(g.N, g.OH, g.OW, g.O))
    throw InvalidArgument(std::string(name) + ": out_backprop has shape " + gr.shape.str() + ", expected " +
                          nhwc(g.N, g.OH, g.OW, g.O).str() + op_tag(name));
  Tensor dw = Tensor::zeros(ws, x.dtype);
  if (dw.numel() == 0 || gr.numel() == 0) return dw;
  TG_DISPATCH_FLOAT(x.dtype, T, {
    if (!try_direct(&depthwise_bwf_vec, depthwise_direct_ok(g), x.data<T>(), gr.data<T>(), dw.data<T>(), g))
      depthwise_direct_backprop_filter<T>(x.data<T>(), gr.data<T>(), dw.data<T>(), g);
  });
  return dw;
}

Tensor max_pool2d(const Tensor& x, const Window2D& p) {
  const char* name = "MaxPool";
  check_float(x, "input", name);
  Geo g = pool_geo(x.shape, p, name);
  Tensor out = Tensor::empty(nhwc(g.N, g.OH, g.OW, g.C), x.dtype);
  if (out.numel() == 0) return out;
  TG_DISPATCH_FLOAT(x.dtype, T, {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    parallel_for(g.N * g.OH, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, g.OW * g.C * g.KH * g.KW)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     const int64_t n = r / g.OH, oh = r % g.OH;
                     for (int64_t ow = 0; ow < g.OW; ++ow) {
                       T* o = po + ((n * g.OH + oh) * g.OW + ow) * g.C;
                       bool first = true;
                       for_window(g, oh, ow, [&](int64_t ih, int64_t iw) {
                         const T* s = px + ((n * g.H + ih) * g.W + iw) * g.C;
                         if (first) std::memcpy(o, s, size_t(g.C) * sizeof(T));
                         else
                           for (int64_t c = 0; c < g.C; ++c) o[c] = (s[c] > o[c] || s[c] != s[c]) ? s[c] : o[c];
                         first = false;
                       });
                     }
                   }
                 });
  });
  return out;
}

Tensor max_pool2d_grad(const Tensor& x, const Tensor& gr, const Window2D& p) {
  const char* name = "MaxPoolGrad";
  check_float(x, "orig_input", name);
  check_same_dtype(x, gr, name);
  Geo g = pool_geo(x.shape, p, name);
  if (gr.shape != nhwc(g.N, g.OH, g.OW, g.C))
    throw InvalidArgument("MaxPoolGrad: grad has shape " + gr.shape.str() + ", expected " +
                          nhwc(g.N, g.OH, g.OW, g.C).str() + op_tag(name));
  Tensor dx = Tensor::zeros(x.shape, x.dtype);
  if (gr.numel() == 0) return dx;
  TG_DISPATCH_FLOAT(x.dtype, T, {
    const T* px = x.data<T>();
    const T* pg = gr.data<T>();
    T* pd = dx.data<T>();
    parallel_for(g.N, 1, [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n)
        for (int64_t oh = 0; oh < g.OH; ++oh)
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            const T* gg = pg + ((n * g.OH + oh) * g.OW + ow) * g.C;
            for (int64_t c = 0; c < g.C; ++c) pd[window_argmax<T>(px, g, n, oh, ow, c)] += gg[c];
          }
    });
  });
  return dx;
}

Tensor max_pool2d_grad_grad(const Tensor& x, const Tensor& h, const Window2D& p) {
  const char* name = "MaxPoolGradGrad";
  check_float(x, "orig_input", name);
  check_same_dtype(x, h, name);
  Geo g = pool_geo(x.shape, p, name);
  if (h.shape != x.shape)
    throw InvalidArgument("MaxPoolGradGrad: grad has shape " + h.shape.str() + ", expected " + x.shape.str() +
                          op_tag(name));
  Tensor out = Tensor::empty(nhwc(g.N, g.OH, g.OW, g.C), x.dtype);
  if (out.numel() == 0) return out;
  TG_DISPATCH_FLOAT(x.dtype, T, {
    const T* px = x.data<T>();
    const T* ph = h.data<T>();
    T* po = out.data<T>();
    parallel_for(g.N * g.OH, 1, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const int64_t n = r / g.OH, oh = r % g.OH;
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          T* o = po + ((n * g.OH + oh) * g.OW + ow) * g.C;
          for (int64_t c = 0; c < g.C; ++c) o[c] = ph[window_argmax<T>(px, g, n, oh, ow, c)];
        }
      }
    });
  });
  return out;
}

Tensor avg_pool2d(const Tensor& x, const Window2D& p) {
  const char* name = "AvgPool";
  check_float(x, "value", name);
  Geo g = pool_geo(x.shape, p, name);
  Tensor out = Tensor::zeros(nhwc(g.N, g.OH, g.OW, g.C), x.dtype);
  if (out.numel() == 0) return out;
  TG_DISPATCH_FLOAT(x.dtype, T, {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    parallel_for(g.N * g.OH, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, g.OW * g.C * g.KH * g.KW)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     const int64_t n = r / g.OH, oh = r % g.OH;
                     for (int64_t ow = 0; ow < g.OW; ++ow) {
                       T* o = po + ((n * g.OH + oh) * g.OW + ow) * g.C;
                       int64_t count = 0;
                       for_window(g, oh, ow, [&](int64_t ih, int64_t iw) {
                         const T* s = px + ((n * g.H + ih) * g.W + iw) * g.C;
                         for (int64_t c = 0; c < g.C; ++c) o[c] += s[c];
                         ++count;
                       });
                       const T inv = T(1) / T(count);
                       for (int64_t c = 0; c < g.C; ++c) o[c] *= inv;
                     }
                   }
                 });
  });
  return out;
}

Tensor avg_pool2d_grad(const Tensor& gr, const Window2D& p, const Shape& xs) {
  const char* name = "AvgPoolGrad";
  check_float(gr, "grad", name);
  Geo g = pool_geo(xs, p, name);
  if (gr.shape != nhwc(g.N, g.OH, g.OW, g.C))
    throw InvalidArgument("AvgPoolGrad: grad has shape " + gr.shape.str() + ", expected " +
                          nhwc(g.N, g.OH, g.OW, g.C).str() + op_tag(name));
  Tensor dx = Tensor::zeros(xs, gr.dtype);
  if (gr.numel() == 0) return dx;
  TG_DISPATCH_FLOAT(gr.dtype, T, {
    const T* pg = gr.data<T>();
    T* pd = dx.data<T>();
    parallel_for(g.N, 1, [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n)
        for (int64_t oh = 0; oh < g.OH; ++oh)
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            int64_t count = 0;
            for_window(g, oh, ow, [&](int64_t, int64_t) { ++count; });
            const T* gg = pg + ((n * g.OH + oh) * g.OW + ow) * g.C;
            const T inv = T(1) / T(count);
            for_window(g, oh, ow, [&](int64_t ih, int64_t iw) {
              T* d = pd + ((n * g.H + ih) * g.W + iw) * g.C;
              for (int64_t c = 0; c < g.C; ++c) d[c] += gg[c] * inv;
            });
          }
    });
  });
  return dx;
}

}  // namespace kernels

namespace ops {

std::vector<int64_t> window_to_ints(const Window2D& p, const Shape* shape) {
  std::vector<int64_t> v{p.kh, p.kw, p.sh, p.sw, p.dh, p.dw, p.pt, p.pb, p.pl, p.pr};
  if (shape)
    for (int i = 0; i < shape->ndim; ++i) v.push_back((*shape)[i]);
  return v;
}

Window2D window_from_ints(const std::vector<int64_t>& v) {
  Window2D p;
  p.kh = v[0];
  p.kw = v[1];
  p.sh = v[2];
  p.sw = v[3];
  p.dh = v[4];
  p.dw = v[5];
  p.pt = v[6];
  p.pb = v[7];
  p.pl = v[8];
  p.pr = v[9];
  return p;
}

Shape shape_from_ints(const std::vector<int64_t>& v) { return Shape::from(v.data() + 10, int(v.size()) - 10); }

namespace {
Tensor rec(Op op, std::vector<Tensor> inputs, Tensor out, const Window2D& p) {
  tape::record(op, std::move(inputs), {out}, [&](Attrs& at) { at.ints = window_to_ints(p, nullptr); });
  return out;
}
}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Window2D& p) {
  return rec(Op::Conv2D, {x, w}, kernels::conv2d(x, w, p), p);
}
Tensor conv2d_backprop_input(const Tensor& g, const Tensor& w, const Window2D& p, const Shape& xs) {
  return rec(Op::Conv2DBackpropInput, {g, w}, kernels::conv2d_backprop_input(g, w, p, xs), p);
}
Tensor conv2d_backprop_filter(const Tensor& x, const Tensor& g, const Window2D& p, const Shape& ws) {
  return rec(Op::Conv2DBackpropFilter, {x, g}, kernels::conv2d_backprop_filter(x, g, p, ws), p);
}
Tensor depthwise_conv2d(const Tensor& x, const Tensor& w, const Window2D& p) {
  return rec(Op::DepthwiseConv2d, {x, w}, kernels::depthwise_conv2d(x, w, p), p);
}
Tensor depthwise_conv2d_backprop_input(const Tensor& g, const Tensor& w, const Window2D& p, const Shape& xs) {
  return rec(Op::DepthwiseConv2dBackpropInput, {g, w}, kernels::depthwise_conv2d_backprop_input(g, w, p, xs), p);
}
Tensor depthwise_conv2d_backprop_filter(const Tensor& x, const Tensor& g, const Window2D& p, const Shape& ws) {
  return rec(Op::DepthwiseConv2dBackpropFilter, {x, g}, kernels::depthwise_conv2d_backprop_filter(x, g, p, ws), p);
}
Tensor max_pool2d(const Tensor& x, const Window2D& p) { return rec(Op::MaxPool, {x}, kernels::max_pool2d(x, p), p); }
Tensor max_pool2d_grad(const Tensor& x, const Tensor& g, const Window2D& p) {
  return rec(Op::MaxPoolGrad, {x, g}, kernels::max_pool2d_grad(x, g, p), p);
}
Tensor max_pool2d_grad_grad(const Tensor& x, const Tensor& h, const Window2D& p) {
  return rec(Op::MaxPoolGradGrad, {x, h}, kernels::max_pool2d_grad_grad(x, h, p), p);
}
Tensor avg_pool2d(const Tensor& x, const Window2D& p) { return rec(Op::AvgPool, {x}, kernels::avg_pool2d(x, p), p); }
Tensor avg_pool2d_grad(const Tensor& g, const Window2D& p, const Shape& xs) {
  return rec(Op::AvgPoolGrad, {g}, kernels::avg_pool2d_grad(g, p, xs), p);
}

}  // namespace ops
}  // namespace tg
