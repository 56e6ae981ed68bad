// Direct NHWC float32 convolution micro-kernels, written once over the vector width L (GCC vector
// extensions) and compiled twice: L = 8 in conv.cpp (the AVX2+FMA baseline), L = 16 in
// conv_avx512.cpp (built with -mavx512f, called only where the CPU has it). See Note [Direct conv].
// Header-only on purpose: include it from exactly those two translation units.
#pragma once
// Every function here is compiled once per including file with different instruction sets; an
// inline namespace per file (TG_CONVK_ISA) keeps the linker from merging the copies of an inline
// function (an AVX-512 copy must never serve the AVX2 file). Geometry and KernelSet (data only)
// are shared.
#ifndef TG_CONVK_ISA
#error "define TG_CONVK_ISA (the instruction set's namespace) before including conv_kernels.h"
#endif
#include <algorithm>
#include <cstdint>
#include <cstring>

namespace tg {
namespace convk {

// Note [Direct conv]
// Forward: out[n, oh, ow, o] = sum over (kh, kw, c) of xpad[n, oh*sh + kh*dh, ow*sw + kw*dw, c] *
// w[kh, kw, c, o]. Per output row (n, oh) the KH input rows it reads are copied once into a
// zero-padded scratch row (pl zeros left, enough zeros right for the last pixel block), so no tap
// ever tests a border (rows are read in place instead when no tap reaches a pad, or when only the
// row's last pixel reaches the right pad: its tile then skips those taps, whose inputs are zeros):
// a register tile of P output pixels x V vectors of output channels
// accumulates over all taps and channels, then is stored once. With dilation 1 a tap row's KW*C
// inputs are contiguous (kw, c) pairs, and so are the filter's rows: the inner loop runs over j in
// [0, KW*C) with one pointer each. The filter is first packed to [KH*KW*C][Opad] with the output
// channels zero-padded to a whole number of vectors, so the tile loads whole vectors; only the
// store trims the tail.
// Gradient w.r.t. the input, stride 1: the forward kernel applied to g with the filter flipped in
// space and its channel axes swapped, pads (KH-1)*dh - pt and (KW-1)*dw - pl.
// Gradient w.r.t. the filter: a register tile of CB filter rows j (a (kw, c) pair, contiguous
// under dilation 1) x V output-channel vectors accumulates xpad * g over the OW pixels of up to 8
// output rows (BwfLayout; without a left pad x is read in place, copying only the columns of
// pixels whose taps reach past the row's end); the tile lives in a per-block partial sum
// [KH*KW*C][Opad] between passes. Blocks of
// rows are fixed (not per thread) and added in order, so the result does not depend on the thread
// count.
// Every result sums the same products as the im2col + gemm path; only the order of the additions
// differs (float32 rounding: relative differences of a few ulps times sqrt(K)).

struct Geometry {
  int64_t N, H, W, C;    // input
  int64_t KH, KW, O;     // filter [KH, KW, C, O]
  int64_t OH, OW;        // output
  int64_t sh, sw, dh, dw, pt, pl;
  int64_t Opad;          // output channels rounded up to the tile's V * L
};

inline namespace TG_CONVK_ISA {

// Padded row length (pixels) that covers every tap of every pixel block of P, and its scratch size.
inline int64_t padded_width(const Geometry& g, int64_t P) {
  const int64_t blocks = (g.OW + P - 1) / P;
  const int64_t need = (blocks * P - 1) * g.sw + (g.KW - 1) * g.dw + 1;
  return std::max<int64_t>(need, g.pl + g.W);
}

// Copies input row (n, ih) into dst as [Wp][C] with pl zero pixels first and zeros after.
inline void pad_row(const float* x, const Geometry& g, int64_t n, int64_t ih, int64_t Wp, float* dst) {
  const int64_t C = g.C;
  const int64_t left = std::min<int64_t>(g.pl, Wp);
  std::memset(dst, 0, size_t(left * C) * sizeof(float));
  const int64_t copy = std::min<int64_t>(g.W, Wp - left);
  std::memcpy(dst + left * C, x + ((n * g.H + ih) * g.W) * C, size_t(copy * C) * sizeof(float));
  std::memset(dst + (left + copy) * C, 0, size_t((Wp - left - copy) * C) * sizeof(float));
}

template <int L> struct Vec {
  typedef float type __attribute__((vector_size(L * 4)));
  typedef float unaligned __attribute__((vector_size(L * 4), aligned(4), may_alias));
};

// Unaligned vector load and store (one vmovups; a memcpy into a 32-byte vector went through the
// stack in 16-byte halves under gcc 12, 12x slower).
template <int L> inline typename Vec<L>::type load(const float* p) {
  return *reinterpret_cast<const typename Vec<L>::unaligned*>(p);
}
template <int L> inline void store(float* p, typename Vec<L>::type v) {
  *reinterpret_cast<typename Vec<L>::unaligned*>(p) = v;
}

// Scratch floats the forward needs per thread.
inline int64_t fwd_scratch(const Geometry& g, int64_t P) { return g.KH * padded_width(g, P) * g.C; }

// One tile: P pixels x V vectors. xs: the first pixel's first input of this tap row, xstride:
// floats between pixels; wk: the filter rows of this tap row at this channel block; J inputs.
// Only the first PU pixels accumulate (the last tile of an in-place row, whose last pixel's last
// taps would read past the row: forward_rows).
template <int L, int V, int P, int PU = P> inline void tile_fwd(const float* __restrict xs, int64_t xstride,
                                                                const float* __restrict wk, int64_t Opad, int64_t J,
                                                                typename Vec<L>::type (&acc)[P][V]) {
  typedef typename Vec<L>::type vf;
  for (int64_t j = 0; j < J; ++j) {
    vf wv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) wv[v] = load<L>(wk + j * Opad + v * L);
    const float* xj = xs + j;
#pragma GCC unroll 16
    for (int p = 0; p < PU; ++p) {
      const float s = xj[p * xstride];
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[p][v] += wv[v] * s;
    }
  }
}

// Forward over output rows [r0, r1) (r = n * OH + oh). wpk: [KH*KW*C][Opad]; scratch:
// fwd_scratch(g, P) floats.
template <int L, int V, int P> void forward_rows(const float* x, const float* wpk, float* out, const Geometry& g,
                                                 int64_t r0, int64_t r1, float* scratch) {
  typedef typename Vec<L>::type vf;
  const int64_t C = g.C, Wp = padded_width(g, P), rowlen = Wp * C;
  const int64_t xstride = g.sw * C;
  const bool flat = g.dw == 1;  // (kw, c) pairs contiguous: one run of KW*C per tap row
  bool in_place = g.pl == 0 && Wp <= g.W;  // every tile reads inside the input row: no copy
  // Also in place when only the row's last pixel reads past its end, and only in its last `over`
  // taps (stride 2 "SAME" on an even width: one column of right pad): the row's last tile skips
  // that pixel for those taps, whose inputs are the pad's zeros (3x3 s2 32->64 28x28 b64: the
  // copies were 9% of the forward: 2.07 -> 1.79 ms, min of 6 processes).
  int64_t over = 0;
  if (!in_place && flat && g.pl == 0 && g.OW % P == 0 && P > 1 && g.OW >= 2) {
    const int64_t end = (g.OW - 1) * g.sw + g.KW;  // one past the last pixel's last input
    if (end - g.W < g.KW && (g.OW - 2) * g.sw + g.KW <= g.W) {
      over = end - g.W;
      in_place = true;
    }
  }
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.OH, oh = r % g.OH;
    int64_t khs[64];
    const float* rowp[64];
    int nk = 0;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t ih = oh * g.sh - g.pt + kh * g.dh;
      if (ih < 0 || ih >= g.H) continue;
      if (in_place) {
        rowp[nk] = x + ((n * g.H + ih) * g.W) * C;
      } else {
        pad_row(x, g, n, ih, Wp, scratch + nk * rowlen);
        rowp[nk] = scratch + nk * rowlen;
      }
      khs[nk++] = kh;
    }
    for (int64_t ob = 0; ob < g.Opad; ob += V * L) {
      for (int64_t ow0 = 0; ow0 < g.OW; ow0 += P) {
        vf acc[P][V];
        for (int p = 0; p < P; ++p)
          for (int v = 0; v < V; ++v) acc[p][v] = vf{};
        for (int i = 0; i < nk; ++i) {
          const float* xr = rowp[i] + ow0 * xstride;
          const float* wr = wpk + (khs[i] * g.KW * C) * g.Opad + ob;
          if (over > 0 && ow0 + P == g.OW) {
            const int64_t j1 = (g.KW - over) * C;
            tile_fwd<L, V, P>(xr, xstride, wr, g.Opad, j1, acc);
            tile_fwd<L, V, P, P - 1>(xr + j1, xstride, wr + j1 * g.Opad, g.Opad, over * C, acc);
          } else if (flat) {
            tile_fwd<L, V, P>(xr, xstride, wr, g.Opad, g.KW * C, acc);
          } else {
            for (int64_t kw = 0; kw < g.KW; ++kw)
              tile_fwd<L, V, P>(xr + kw * g.dw * C, xstride, wr + kw * C * g.Opad, g.Opad, C, acc);
          }
        }
        const int64_t np = std::min<int64_t>(P, g.OW - ow0);
        for (int64_t p = 0; p < np; ++p) {
          float* dst = out + ((r * g.OW) + ow0 + p) * g.O + ob;
          for (int v = 0; v < V; ++v) {
            const int64_t left = g.O - ob - v * L;
            if (left >= L) {
              store<L>(dst + v * L, acc[p][v]);
            } else if (left > 0) {
              float tmp[L];
              store<L>(tmp, acc[p][v]);
              std::memcpy(dst + v * L, tmp, size_t(left) * sizeof(float));
            }
          }
        }
      }
    }
  }
}

// Filter-gradient tile: CB filter rows x V vectors, over the OW pixels of nr output rows (xs[i] +
// xoff: row i's first input, for pixels before owm; xt[i] + xoff: pixel owm's in row i's tail copy;
// gs[i] + goff: its first gradient), loaded from and stored to dwr once.
template <int L, int V, int CB> inline void tile_bwf(const float* const* xs, const float* const* xt,
                                                     const float* const* gs, int nr, int64_t xoff, int64_t goff,
                                                     int64_t xstride, int64_t gstride, int64_t owm, int64_t OW,
                                                     float* __restrict dwr, int64_t Opad) {
  typedef typename Vec<L>::type vf;
  vf acc[CB][V];
  for (int c = 0; c < CB; ++c)
    for (int v = 0; v < V; ++v) acc[c][v] = load<L>(dwr + c * Opad + v * L);
  for (int i = 0; i < nr; ++i) {
    const float* __restrict gr = gs[i] + goff;
    for (int seg = 0; seg < 2; ++seg) {
      const int64_t lo = seg == 0 ? 0 : owm, hi = seg == 0 ? owm : OW;
      const float* __restrict xb = (seg == 0 ? xs[i] : xt[i]) + xoff;
      for (int64_t ow = lo; ow < hi; ++ow) {
        vf gv[V];
        for (int v = 0; v < V; ++v) gv[v] = load<L>(gr + ow * gstride + v * L);
        const float* xo = xb + (ow - lo) * xstride;
#pragma GCC unroll 16
        for (int c = 0; c < CB; ++c) {
          const float s = xo[c];
          for (int v = 0; v < V; ++v) acc[c][v] += gv[v] * s;
        }
      }
    }
  }
  for (int c = 0; c < CB; ++c)
    for (int v = 0; v < V; ++v) store<L>(dwr + c * Opad + v * L, acc[c][v]);
}

template <int L, int V, int CB> inline void tile_bwf_any(int cb, const float* const* xs, const float* const* xt,
                                                         const float* const* gs, int nr, int64_t xoff, int64_t goff,
                                                         int64_t xstride, int64_t gstride, int64_t owm, int64_t OW,
                                                         float* dwr, int64_t Opad) {
  if constexpr (CB >= 1) {
    if (cb == CB) return tile_bwf<L, V, CB>(xs, xt, gs, nr, xoff, goff, xstride, gstride, owm, OW, dwr, Opad);
    return tile_bwf_any<L, V, CB - 1>(cb, xs, xt, gs, nr, xoff, goff, xstride, gstride, owm, OW, dwr, Opad);
  }
}

// Output rows a filter-gradient tile covers before it goes back to memory: 8 (was 4: 3x3 32->32
// 28x28 b64 5.2 -> 4.85 ms, 64->64 14x14 4.8 -> 4.35, 3x3 s2 32->64 2.7 -> 2.5, 128->128 7x7 b16
// 1.62 -> 1.33, 64->64 2x2 b256 0.74 -> 0.38, 5x5 12.8 -> 12.1; 16 rows: no better), but 4 for
// 1x1 filters (1x1 32->64 28x28 b64 1.25 -> 1.39 with 8).
constexpr int kBwfRows = 8;

// How the filter gradient reads x. Without a left pad rows are read in place, but for the last
// pixels whose taps reach past the row's end (stride 2 "SAME": one column of right pad), which read
// a copy of just their columns (tailw pixels from pixel owm's first input); with a left pad, padded
// copies of whole rows (Wp pixels). 3x3 s2 32->64 28x28 b64: 2.73 -> 2.38 ms (min of 3, loaded;
// the whole-row copies were a quarter of the kernel's samples). Scratch only for what is copied:
// 1x1 32->64 1.80 -> 1.17-1.43 ms (the zero-filled scratch of 8 whole rows per block had cost more
// than the rows saved).
struct BwfLayout {
  int rows;                // output rows per tile pass
  bool in_place;
  int64_t Wp, owm, tailw;  // padded row, pixels read in place, tail copy (pixels)
  int64_t xrow, grow;      // scratch floats per row: x copy, g padded to Opad (0 when O == Opad)
};

inline BwfLayout bwf_layout(const Geometry& g) {
  BwfLayout b;
  b.rows = g.KH * g.KW == 1 ? 4 : kBwfRows;
  b.in_place = g.pl == 0;
  b.Wp = padded_width(g, 1);
  const int64_t reach = (g.KW - 1) * g.dw;
  b.owm = b.in_place ? std::min<int64_t>(g.OW, g.W - reach <= 0 ? 0 : (g.W - 1 - reach) / g.sw + 1) : g.OW;
  b.tailw = b.owm < g.OW ? (g.OW - 1 - b.owm) * g.sw + reach + 1 : 0;
  b.xrow = (b.in_place ? b.tailw : b.Wp) * g.C;
  b.grow = g.O == g.Opad ? 0 : g.OW * g.Opad;
  return b;
}

// Scratch floats the filter gradient needs per thread.
inline int64_t bwf_scratch(const Geometry& g) {
  const BwfLayout b = bwf_layout(g);
  return b.rows * (b.xrow + b.grow);
}

// Filter gradient over output rows [r0, r1), accumulated into part ([KH*KW*C][Opad], not zeroed
// here), bwf_layout(g).rows rows per tile pass.
template <int L, int V, int CB> void backprop_filter_rows(const float* x, const float* gr, float* part,
                                                          const Geometry& g, int64_t r0, int64_t r1, float* scratch) {
  const BwfLayout lay = bwf_layout(g);
  const int64_t C = g.C, Wp = lay.Wp, rowlen = lay.xrow;
  const int64_t xstride = g.sw * C;
  float* gpad = scratch + lay.rows * rowlen;
  const bool gdirect = g.O == g.Opad;
  const int64_t gstride = gdirect ? g.O : g.Opad;
  const bool flat = g.dw == 1;
  const bool in_place = lay.in_place;
  const int64_t owm = lay.owm, tailw = lay.tailw;
  const int64_t runs = flat ? 1 : g.KW, J = flat ? g.KW * C : C;
  const int pass_rows = lay.rows;
  for (int64_t rb = r0; rb < r1; rb += pass_rows) {
    const int nrow = int(std::min<int64_t>(pass_rows, r1 - rb));
    const float* grows[kBwfRows];
    for (int i = 0; i < nrow; ++i) {
      grows[i] = gr + (rb + i) * g.OW * g.O;
      if (!gdirect) {
        float* gp = gpad + i * g.OW * g.Opad;
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          std::memcpy(gp + ow * g.Opad, grows[i] + ow * g.O, size_t(g.O) * sizeof(float));
          std::memset(gp + ow * g.Opad + g.O, 0, size_t(g.Opad - g.O) * sizeof(float));
        }
        grows[i] = gp;
      }
    }
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const float* xs[kBwfRows];
      const float* xt[kBwfRows];
      const float* gs[kBwfRows];
      int nr = 0;
      for (int i = 0; i < nrow; ++i) {
        const int64_t r = rb + i, n = r / g.OH, oh = r % g.OH;
        const int64_t ih = oh * g.sh - g.pt + kh * g.dh;
        if (ih < 0 || ih >= g.H) continue;
        if (in_place) {
          xs[nr] = xt[nr] = x + ((n * g.H + ih) * g.W) * C;
          if (tailw > 0) {
            float* dst = scratch + nr * rowlen;
            const int64_t c0 = owm * g.sw, in = std::max<int64_t>(0, std::min(tailw, g.W - c0));
            std::memcpy(dst, xs[nr] + c0 * C, size_t(in * C) * sizeof(float));
            std::memset(dst + in * C, 0, size_t((tailw - in) * C) * sizeof(float));
            xt[nr] = dst;
          }
        } else {
          pad_row(x, g, n, ih, Wp, scratch + nr * rowlen);
          xs[nr] = xt[nr] = scratch + nr * rowlen;
        }
        gs[nr++] = grows[i];
      }
      if (nr == 0) continue;
      for (int64_t k = 0; k < runs; ++k) {
        float* dwk = part + ((kh * g.KW + k) * C) * g.Opad;
        for (int64_t ob = 0; ob < g.Opad; ob += V * L)
          for (int64_t j0 = 0; j0 < J; j0 += CB) {
            const int cb = int(std::min<int64_t>(CB, J - j0));
            tile_bwf_any<L, V, CB>(cb, xs, xt, gs, nr, k * g.dw * C + j0, ob, xstride, gstride, owm, g.OW,
                                   dwk + j0 * g.Opad + ob, g.Opad);
          }
      }
    }
  }
}

}  // namespace TG_CONVK_ISA
}  // namespace convk
}  // namespace tg

namespace tg {
namespace convk {
inline namespace TG_CONVK_ISA {

// Gradient w.r.t. the input when the input has few channels (first layers: C <= 4), any stride:
// each dx pixel gathers the g pixels its taps reach; per channel c one vector sum per L output
// channels accumulates g * w over all taps, and is reduced across lanes once at the end (instead
// of once per tap). Needs O a multiple of L (V = O / L vectors). Rows r = n * H + ih of dx.
template <int L, int V, int CC> void backprop_input_small_c_rows(const float* gr, const float* w, float* dx,
                                                                 const Geometry& g, int64_t r0, int64_t r1, float*) {
  typedef typename Vec<L>::type vf;
  const int64_t O = g.O;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.H, ih = r % g.H;
    for (int64_t iw = 0; iw < g.W; ++iw) {
      vf acc[CC][V];
      for (int c = 0; c < CC; ++c)
        for (int v = 0; v < V; ++v) acc[c][v] = vf{};
      for (int64_t kh = 0; kh < g.KH; ++kh) {
        const int64_t th = ih + g.pt - kh * g.dh;
        if (th < 0 || th % g.sh != 0 || th / g.sh >= g.OH) continue;
        const int64_t oh = th / g.sh;
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          const int64_t tw = iw + g.pl - kw * g.dw;
          if (tw < 0 || tw % g.sw != 0 || tw / g.sw >= g.OW) continue;
          const float* gp = gr + ((n * g.OH + oh) * g.OW + tw / g.sw) * O;
          const float* wp = w + (kh * g.KW + kw) * CC * O;
          vf gv[V];
          for (int v = 0; v < V; ++v) gv[v] = load<L>(gp + v * L);
          for (int c = 0; c < CC; ++c)
            for (int v = 0; v < V; ++v) acc[c][v] += gv[v] * load<L>(wp + c * O + v * L);
        }
      }
      float* d = dx + ((n * g.H + ih) * g.W + iw) * CC;
      for (int c = 0; c < CC; ++c) {
        vf t = acc[c][0];
        for (int v = 1; v < V; ++v) t += acc[c][v];
        float lanes[L];
        store<L>(lanes, t);
        float sum = 0;
        for (int i = 0; i < L; ++i) sum += lanes[i];
        d[c] = sum;
      }
    }
  }
}

// Depthwise with one filter per channel (multiplier 1): out[n, oh, ow, c] = sum over (kh, kw) of
// x[n, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw, c] * w[kh, kw, c]. Vectors run along the channels;
// a pixel's L channels accumulate over its in-image taps in a register, four pixels at a time
// inside the row (one weight load per four multiply-adds; one pixel at a time was bound by its
// chain of dependent multiply-adds: 3x3 32 28x28 b64 0.78 -> 0.39 ms). It reads x in place (no
// padded copies: border pixels go one at a time with their in-image taps). Channels past the last
// whole vector go one at a time. With the filter flipped in space (pads as in Note [Direct conv])
// this is also the gradient w.r.t. the input for stride 1.
template <int L>
void depthwise_rows(const float* x, const float* w, float* out, const Geometry& g, int64_t r0, int64_t r1, float*) {
  typedef typename Vec<L>::type vf;
  const int64_t C = g.C, CV = C / L * L;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.OH, oh = r % g.OH;
    const float* rows[64];
    const float* wrows[64];
    int nk = 0;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t ih = oh * g.sh - g.pt + kh * g.dh;
      if (ih < 0 || ih >= g.H) continue;
      rows[nk] = x + ((n * g.H + ih) * g.W) * C;
      wrows[nk++] = w + kh * g.KW * C;
    }
    // One pixel, channels from c_begin: taps kw in [k0, k1) fall inside the row.
    const auto pixel = [&](int64_t ow, int64_t c_begin) {
      float* o = out + (r * g.OW + ow) * C;
      const int64_t iw0 = ow * g.sw - g.pl;
      const int64_t k0 = iw0 >= 0 ? 0 : (-iw0 + g.dw - 1) / g.dw;
      const int64_t k1 = std::min<int64_t>(g.KW, g.W - iw0 <= 0 ? 0 : (g.W - iw0 + g.dw - 1) / g.dw);
      for (int64_t c = c_begin; c < CV; c += L) {
        vf acc = vf{};
        for (int i = 0; i < nk; ++i)
          for (int64_t kw = k0; kw < k1; ++kw)
            acc += load<L>(rows[i] + (iw0 + kw * g.dw) * C + c) * load<L>(wrows[i] + kw * C + c);
        store<L>(o + c, acc);
      }
      for (int64_t c = std::max(c_begin, CV); c < C; ++c) {
        float acc = 0;
        for (int i = 0; i < nk; ++i)
          for (int64_t kw = k0; kw < k1; ++kw) acc += rows[i][(iw0 + kw * g.dw) * C + c] * wrows[i][kw * C + c];
        o[c] = acc;
      }
    };
    // Blocks of P pixels whose taps all lie inside the row: P independent sums (one pixel's chain
    // of KH*KW multiply-adds is bound by their latency), each weight vector loaded once per block.
    // Same products, same order per output as one pixel at a time.
    constexpr int P = 4;
    const int64_t span = (P - 1) * g.sw + (g.KW - 1) * g.dw;  // the block's taps past its first
    int64_t ow = 0;
    while (ow < g.OW) {
      const int64_t iw0 = ow * g.sw - g.pl;
      if (ow + P > g.OW || iw0 < 0 || iw0 + span >= g.W) {
        pixel(ow++, 0);
        continue;
      }
      float* o = out + (r * g.OW + ow) * C;
      for (int64_t c = 0; c < CV; c += L) {
        vf acc[P];
        for (int p = 0; p < P; ++p) acc[p] = vf{};
        for (int i = 0; i < nk; ++i)
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const vf wv = load<L>(wrows[i] + kw * C + c);
            const float* xp = rows[i] + (iw0 + kw * g.dw) * C + c;
            for (int p = 0; p < P; ++p) acc[p] += load<L>(xp + p * g.sw * C) * wv;
          }
        for (int p = 0; p < P; ++p) store<L>(o + p * C + c, acc[p]);
      }
      if (CV < C)
        for (int p = 0; p < P; ++p) pixel(ow + p, CV);
      ow += P;
    }
  }
}

// Depthwise filter gradient (multiplier 1) over output rows [r0, r1), accumulated into part
// ([KH*KW][C], not zeroed here): per tap, over the pixels whose input is inside the row, four
// pixels at a time in independent sums, then added.
template <int L> void depthwise_filter_rows(const float* x, const float* gr, float* part, const Geometry& g, int64_t r0,
                                            int64_t r1, float*) {
  typedef typename Vec<L>::type vf;
  const int64_t C = g.C, CV = C / L * L;
  const int64_t xs = g.sw * C;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.OH, oh = r % g.OH;
    const float* grow = gr + r * g.OW * C;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t ih = oh * g.sh - g.pt + kh * g.dh;
      if (ih < 0 || ih >= g.H) continue;
      const float* xr = x + ((n * g.H + ih) * g.W) * C;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        // pixels ow in [lo, hi) read iw = ow*sw - pl + kw*dw inside [0, W)
        const int64_t off = kw * g.dw - g.pl;
        const int64_t lo = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
        const int64_t hi = std::min<int64_t>(g.OW, g.W - off <= 0 ? 0 : (g.W - off + g.sw - 1) / g.sw);
        if (lo >= hi) continue;
        const float* xk = xr + off * C;
        float* pk = part + (kh * g.KW + kw) * C;
        for (int64_t c = 0; c < CV; c += L) {
          vf a0 = vf{}, a1 = vf{}, a2 = vf{}, a3 = vf{};
          int64_t ow = lo;
          for (; ow + 4 <= hi; ow += 4) {
            a0 += load<L>(xk + ow * xs + c) * load<L>(grow + ow * C + c);
            a1 += load<L>(xk + (ow + 1) * xs + c) * load<L>(grow + (ow + 1) * C + c);
            a2 += load<L>(xk + (ow + 2) * xs + c) * load<L>(grow + (ow + 2) * C + c);
            a3 += load<L>(xk + (ow + 3) * xs + c) * load<L>(grow + (ow + 3) * C + c);
          }
          for (; ow < hi; ++ow) a0 += load<L>(xk + ow * xs + c) * load<L>(grow + ow * C + c);
          store<L>(pk + c, load<L>(pk + c) + ((a0 + a1) + (a2 + a3)));
        }
        for (int64_t c = CV; c < C; ++c) {
          float acc = 0;
          for (int64_t ow = lo; ow < hi; ++ow) acc += xk[ow * xs + c] * grow[ow * C + c];
          pk[c] += acc;
        }
      }
    }
  }
}

}  // namespace TG_CONVK_ISA

typedef void (*RowsFn)(const float*, const float*, float*, const Geometry&, int64_t, int64_t, float*);

// The kernels of one vector width: index 0 for V = 1 (O <= L), 1 for V = 2. Forward tiles come in
// several pixel counts P (pick_forward chooses the one that wastes least on the row's tail); CB:
// filter rows per filter-gradient tile. Both fill most of the vector registers.
constexpr int kTiles = 4;
struct KernelSet {
  int L;
  RowsFn fwd[3][kTiles];
  int P[3][kTiles];
  RowsFn bwf[3];
  RowsFn bwi_small[3][4];  // [V = 1, 2, 4][C = 1..4]; see backprop_input_small_c_rows
  RowsFn dw_fwd, dw_bwf;   // depthwise, multiplier 1
};

inline namespace TG_CONVK_ISA {

template <int L> KernelSet make_kernel_set() {
  // AVX-512 (32 registers): V = 2 up to 14 pixels (28 accumulators), V = 1 up to 28.
  // AVX2 (16 registers): V = 2 up to 6 pixels, V = 1 up to 12.
  constexpr bool w = L == 16;
  constexpr int a0 = w ? 28 : 12, a1 = w ? 24 : 10, a2 = w ? 16 : 8, a3 = w ? 14 : 7;
  constexpr int b0 = w ? 14 : 6, b1 = w ? 12 : 5, b2 = w ? 10 : 4, b3 = w ? 8 : 3;
  // V = 4 (output channels a multiple of 4 L): fewer loads per multiply-add; up to 7 pixels.
  constexpr int c0 = w ? 7 : 3, c1 = w ? 6 : 3, c2 = w ? 5 : 2, c3 = w ? 4 : 2;
  constexpr int CB1 = w ? 24 : 12, CB2 = w ? 12 : 6, CB4 = w ? 6 : 3;
  return KernelSet{
      L,
      {{&forward_rows<L, 1, a0>, &forward_rows<L, 1, a1>, &forward_rows<L, 1, a2>, &forward_rows<L, 1, a3>},
       {&forward_rows<L, 2, b0>, &forward_rows<L, 2, b1>, &forward_rows<L, 2, b2>, &forward_rows<L, 2, b3>},
       {&forward_rows<L, 4, c0>, &forward_rows<L, 4, c1>, &forward_rows<L, 4, c2>, &forward_rows<L, 4, c3>}},
      {{a0, a1, a2, a3}, {b0, b1, b2, b3}, {c0, c1, c2, c3}},
      {&backprop_filter_rows<L, 1, CB1>, &backprop_filter_rows<L, 2, CB2>, &backprop_filter_rows<L, 4, CB4>},
      {{&backprop_input_small_c_rows<L, 1, 1>, &backprop_input_small_c_rows<L, 1, 2>,
        &backprop_input_small_c_rows<L, 1, 3>, &backprop_input_small_c_rows<L, 1, 4>},
       {&backprop_input_small_c_rows<L, 2, 1>, &backprop_input_small_c_rows<L, 2, 2>,
        &backprop_input_small_c_rows<L, 2, 3>, &backprop_input_small_c_rows<L, 2, 4>},
       {&backprop_input_small_c_rows<L, 4, 1>, &backprop_input_small_c_rows<L, 4, 2>,
        &backprop_input_small_c_rows<L, 4, 3>, &backprop_input_small_c_rows<L, 4, 4>}},
      &depthwise_rows<L>,
      &depthwise_filter_rows<L>};
}

// The forward tile for rows of OW pixels: fewest tile slots, counting 2 slots of overhead per tile.
inline int pick_forward(const KernelSet& ks, int vi, int64_t OW) {
  int best = 0;
  int64_t best_cost = -1;
  for (int t = 0; t < kTiles; ++t) {
    const int64_t P = ks.P[vi][t], cost = (OW + P - 1) / P * (P + 2);
    if (best_cost < 0 || cost < best_cost) {
      best = t;
      best_cost = cost;
    }
  }
  return best;
}

}  // namespace TG_CONVK_ISA
}  // namespace convk
}  // namespace tg
