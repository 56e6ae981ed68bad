// Winograd F(4x4, 3x3) and F(2x2, 5x5) for float32 3x3 and 5x5 stride-1 convolutions over NHWC
// tensors, one code path over the tile's output size M (4 or 2; the filter size is 7 - M, both
// with the 6x6 input tile and the same B^T). See Note [Winograd] in conv.cpp for the transforms,
// the selection rule and the error bound. The kernels
// need AVX-512F; this file is compiled with the project's baseline flags and switches the target
// on for its own functions only (GCC's target pragma below), and conv.cpp calls them only on CPUs
// that have AVX-512F.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ops/conv_winograd.h"
#include "tensor/parallel.h"

#if defined(TG_HAVE_WINOGRAD)
#include <immintrin.h>

namespace tg {
namespace wino {

namespace {
int64_t padded_out(int64_t O) { return (O + 15) / 16 * 16; }
}  // namespace

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")

namespace {

// G [6][R] of F(7 - R, R) at points 0, 1, -1, 2, -2, inf: row i = f_i (1, p_i, .., p_i^(R-1)) with
// f = 1/4, -1/6, -1/6, 1/24, 1/24, and the last row picks the highest coefficient (Note [Winograd]).
struct GMatrix {
  double g[6][5];
};

GMatrix g_matrix(int R) {
  static const double f[5] = {1.0 / 4, -1.0 / 6, -1.0 / 6, 1.0 / 24, 1.0 / 24}, pt[5] = {0, 1, -1, 2, -2};
  GMatrix m{};
  for (int i = 0; i < 5; ++i) {
    double v = f[i];
    for (int k = 0; k < R; ++k, v *= pt[i]) m.g[i][k] = v;
  }
  m.g[5][R - 1] = 1.0;
  return m;
}

// U[xi][c][Opad] = (G g G^T)[xi] of each RxR filter g of w [R, R, C, O] (zero for o >= O).
// Computed in double over rows of O (vectorised), rounded once.
void transform_filter_into(float* U, const float* w, int64_t C, int64_t O, int R) {
  const int64_t Opad = padded_out(O);
  const GMatrix gm = g_matrix(R);
  const auto& G = gm.g;
  std::memset(U, 0, size_t(36 * C * Opad) * sizeof(float));
  std::vector<double> t(size_t(6 * R * O));  // t[i][kw][o] = (G g)[i][kw]
  for (int64_t c = 0; c < C; ++c) {
    std::fill(t.begin(), t.end(), 0.0);
    for (int i = 0; i < 6; ++i)
      for (int kw = 0; kw < R; ++kw) {
        double* ti = t.data() + (i * R + kw) * O;
        for (int kh = 0; kh < R; ++kh) {
          const double gk = G[i][kh];
          if (gk == 0.0) continue;
          const float* gw = w + ((kh * R + kw) * C + c) * O;
          for (int64_t o = 0; o < O; ++o) ti[o] += gk * double(gw[o]);
        }
      }
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 6; ++j) {
        float* u = U + ((i * 6 + j) * C + c) * Opad;
        for (int64_t o = 0; o < O; ++o) {
          double acc = 0.0;
          for (int kw = 0; kw < R; ++kw) acc += t[size_t((i * R + kw) * O + o)] * G[j][kw];
          u[o] = float(acc);
        }
      }
  }
}

// B^T d on six vectors (the input transform along one axis).
inline void bt6(const __m512* d, __m512* r) {
  const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f), two = _mm512_set1_ps(2.0f);
  r[0] = _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4]));
  r[1] = _mm512_fnmadd_ps(four, _mm512_add_ps(d[1], d[2]), _mm512_add_ps(d[3], d[4]));
  r[2] = _mm512_fmadd_ps(four, _mm512_sub_ps(d[1], d[2]), _mm512_sub_ps(d[4], d[3]));
  r[3] = _mm512_fmadd_ps(two, _mm512_sub_ps(d[3], d[1]), _mm512_sub_ps(d[4], d[2]));
  r[4] = _mm512_fmadd_ps(two, _mm512_sub_ps(d[1], d[3]), _mm512_sub_ps(d[4], d[2]));
  r[5] = _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5]));
}

// A^T m on six vectors (the output transform along one axis), MT results.
template <int MT> inline void at6(const __m512* m, __m512* y) {
  const __m512 two = _mm512_set1_ps(2.0f);
  const __m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
  const __m512 s34 = _mm512_add_ps(m[3], m[4]), d34 = _mm512_sub_ps(m[3], m[4]);
  y[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
  if constexpr (MT == 2) {
    y[1] = _mm512_add_ps(_mm512_fmadd_ps(two, d34, d12), m[5]);
  } else {
    const __m512 four = _mm512_set1_ps(4.0f), eight = _mm512_set1_ps(8.0f);
    y[1] = _mm512_fmadd_ps(two, d34, d12);
    y[2] = _mm512_fmadd_ps(four, s34, s12);
    y[3] = _mm512_add_ps(_mm512_fmadd_ps(eight, d34, d12), m[5]);
  }
}

inline __mmask16 lane_mask(int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u); }

// V[xi][t][C] = B^T d B of the tile whose 6x6 input window starts at (h0, w0) of image n, for
// chunk row t. Inside: the window lies in the image (no bounds checks).
template <bool Inside> void input_tile_at(const float* x, const Problem& p, int64_t n, int64_t h0, int64_t w0, float* V,
                                          int64_t t, int64_t vs) {
  const int64_t C = p.C;
  for (int64_t c0 = 0; c0 < C; c0 += 16) {
    const __mmask16 m = lane_mask(C - c0);
    __m512 rows[6][6];
    for (int i = 0; i < 6; ++i) {
      const int64_t ih = h0 + i;
      __m512 d[6];
      for (int j = 0; j < 6; ++j) {
        const int64_t iw = w0 + j;
        d[j] = Inside || (ih >= 0 && ih < p.H && iw >= 0 && iw < p.W)
                   ? _mm512_maskz_loadu_ps(m, x + ((n * p.H + ih) * p.W + iw) * C + c0)
                   : _mm512_setzero_ps();
      }
      bt6(d, rows[i]);  // rows[i][j] = (d B)[i][j]
    }
    for (int j = 0; j < 6; ++j) {
      __m512 col[6], out[6];
      for (int i = 0; i < 6; ++i) col[i] = rows[i][j];
      bt6(col, out);
      for (int i = 0; i < 6; ++i) _mm512_mask_storeu_ps(V + (i * 6 + j) * vs + t * C + c0, m, out[i]);
    }
  }
}

// V for tile `tile` (global index) in chunk row t; tiles step MT outputs.
template <int MT> void input_tile(const float* x, const Problem& p, int64_t TH, int64_t TW, int64_t tile, float* V,
                                  int64_t t, int64_t vs) {
  const int64_t n = tile / (TH * TW), r = tile % (TH * TW), h0 = (r / TW) * MT - p.pt, w0 = (r % TW) * MT - p.pl;
  if (h0 >= 0 && w0 >= 0 && h0 + 6 <= p.H && w0 + 6 <= p.W) input_tile_at<true>(x, p, n, h0, w0, V, t, vs);
  else input_tile_at<false>(x, p, n, h0, w0, V, t, vs);
}

// Output tile `tile` from M[xi][t][Opad]: hn x wn of its MT x MT outputs lie in the image (Full: all).
template <int MT, bool Full> void output_tile_at(const float* M, const Problem& p, int64_t n, int64_t h0, int64_t w0,
                                                 int hn, int wn, int64_t t, int64_t ms, int64_t Opad, float* out) {
  const int64_t O = p.O;
  if (Full) hn = wn = MT;
  for (int64_t o0 = 0; o0 < O; o0 += 16) {
    const __mmask16 mk = lane_mask(O - o0);
    __m512 rows[6][MT];
    for (int i = 0; i < 6; ++i) {
      __m512 mv[6];
      for (int j = 0; j < 6; ++j) mv[j] = _mm512_loadu_ps(M + (i * 6 + j) * ms + t * Opad + o0);
      at6<MT>(mv, rows[i]);  // rows[i][b] = (m A)[i][b]
    }
    for (int b = 0; b < wn; ++b) {
      __m512 col[6], y[MT];
      for (int i = 0; i < 6; ++i) col[i] = rows[i][b];
      at6<MT>(col, y);
      for (int a = 0; a < hn; ++a)
        _mm512_mask_storeu_ps(out + ((n * p.OH + h0 + a) * p.OW + w0 + b) * O + o0, mk, y[a]);
    }
  }
}

template <int MT> void output_tile(const float* M, const Problem& p, int64_t TH, int64_t TW, int64_t tile, int64_t t,
                                   int64_t ms, int64_t Opad, float* out) {
  const int64_t n = tile / (TH * TW), r = tile % (TH * TW), h0 = (r / TW) * MT, w0 = (r % TW) * MT;
  const int hn = int(std::min<int64_t>(MT, p.OH - h0)), wn = int(std::min<int64_t>(MT, p.OW - w0));
  if (hn == MT && wn == MT) output_tile_at<MT, true>(M, p, n, h0, w0, hn, wn, t, ms, Opad, out);
  else output_tile_at<MT, false>(M, p, n, h0, w0, hn, wn, t, ms, Opad, out);
}

// Cm[t][Opad] = A[t][C] B[C][Opad] for rows [0, T) in blocks of R rows and NV vectors of columns.
template <int R, int NV>
void gemm_block(const float* A, const float* B, float* Cm, int64_t T, int64_t C, int64_t Opad) {
  for (int64_t t0 = 0; t0 < T; t0 += R)
    for (int64_t o0 = 0; o0 < Opad; o0 += 16 * NV) {
      __m512 acc[R][NV];
      for (int r = 0; r < R; ++r)
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
      const float* a = A + t0 * C;
      const float* b = B + o0;
      for (int64_t c = 0; c < C; ++c) {
        __m512 bv[NV];
        for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + c * Opad + 16 * v);
        for (int r = 0; r < R; ++r) {
          const __m512 av = _mm512_set1_ps(a[r * C + c]);
          for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
        }
      }
      for (int r = 0; r < R; ++r)
        for (int v = 0; v < NV; ++v) _mm512_storeu_ps(Cm + (t0 + r) * Opad + o0 + 16 * v, acc[r][v]);
    }
}

// A e on MT vectors (the output-gradient transform along one axis, A = (A^T)^T), six results.
template <int MT> inline void a_e(const __m512* e, __m512* z) {
  const __m512 two = _mm512_set1_ps(2.0f);
  if constexpr (MT == 2) {
    z[0] = e[0];
    z[1] = _mm512_add_ps(e[0], e[1]);
    z[2] = _mm512_sub_ps(e[0], e[1]);
    z[3] = _mm512_fmadd_ps(two, e[1], e[0]);
    z[4] = _mm512_fnmadd_ps(two, e[1], e[0]);
    z[5] = e[1];
  } else {
    const __m512 four = _mm512_set1_ps(4.0f);
    const __m512 s02 = _mm512_add_ps(e[0], e[2]), s13 = _mm512_add_ps(e[1], e[3]);
    const __m512 p02 = _mm512_fmadd_ps(four, e[2], e[0]), p13 = _mm512_fmadd_ps(four, e[3], e[1]);
    z[0] = e[0];
    z[1] = _mm512_add_ps(s02, s13);
    z[2] = _mm512_sub_ps(s02, s13);
    z[3] = _mm512_fmadd_ps(two, p13, p02);
    z[4] = _mm512_fnmadd_ps(two, p13, p02);
    z[5] = e[3];
  }
}

// Z[xi][t][Opad] = A e A^T of the output-gradient tile `tile` (rows and columns past OH, OW and
// channels past O read zero).
template <int MT> void grad_tile(const float* gr, const Problem& p, int64_t TH, int64_t TW, int64_t tile, float* Z,
                                 int64_t t, int64_t zs, int64_t Opad) {
  const int64_t n = tile / (TH * TW), r = tile % (TH * TW), h0 = (r / TW) * MT, w0 = (r % TW) * MT;
  const int64_t O = p.O;
  for (int64_t o0 = 0; o0 < O; o0 += 16) {
    const __mmask16 mk = lane_mask(O - o0);
    __m512 rows[MT][6];
    for (int a = 0; a < MT; ++a) {
      const int64_t oh = h0 + a;
      __m512 e[MT];
      for (int b = 0; b < MT; ++b) {
        const int64_t ow = w0 + b;
        e[b] = (oh < p.OH && ow < p.OW) ? _mm512_maskz_loadu_ps(mk, gr + ((n * p.OH + oh) * p.OW + ow) * O + o0)
                                        : _mm512_setzero_ps();
      }
      a_e<MT>(e, rows[a]);  // rows[a][j] = (e A^T)[a][j]
    }
    for (int j = 0; j < 6; ++j) {
      __m512 col[MT], z[6];
      for (int a = 0; a < MT; ++a) col[a] = rows[a][j];
      a_e<MT>(col, z);
      for (int i = 0; i < 6; ++i) _mm512_storeu_ps(Z + (i * 6 + j) * zs + t * Opad + o0, z[i]);
    }
  }
}

// S[c][Opad] += sum over t < T of V[t][c] Z[t][Opad], for R rows of c from c0 and NV vectors of
// columns at a time. The chunk's sum starts from zero and is added to S at the end: two-level
// summation, whose rounding error grows with T + tiles / T rather than with the tile count.
template <int R, int NV>
void gemm_tn_block(const float* V, const float* Z, float* S, int64_t T, int64_t C, int64_t c0, int64_t Opad) {
  for (int64_t o0 = 0; o0 < Opad; o0 += 16 * NV) {
    __m512 acc[R][NV];
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
    for (int64_t t = 0; t < T; ++t) {
      __m512 zv[NV];
      for (int v = 0; v < NV; ++v) zv[v] = _mm512_loadu_ps(Z + t * Opad + o0 + 16 * v);
      const float* a = V + t * C + c0;
      for (int r = 0; r < R; ++r) {
        const __m512 av = _mm512_set1_ps(a[r]);
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, zv[v], acc[r][v]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < NV; ++v) {
        float* s = S + (c0 + r) * Opad + o0 + 16 * v;
        _mm512_storeu_ps(s, _mm512_add_ps(_mm512_loadu_ps(s), acc[r][v]));
      }
  }
}

using GemmTnFn = void (*)(const float*, const float*, float*, int64_t, int64_t, int64_t, int64_t);

// S_xi += V_xi^T Z_xi over all C rows: the widest row blocks that fit 24 accumulators, then the tail.
void gemm_tn(const float* V, const float* Z, float* S, int64_t T, int64_t C, int64_t Opad) {
  static const GemmTnFn k4[] = {&gemm_tn_block<6, 4>, &gemm_tn_block<4, 4>, &gemm_tn_block<2, 4>, &gemm_tn_block<1, 4>};
  static const GemmTnFn k2[] = {&gemm_tn_block<12, 2>, &gemm_tn_block<8, 2>, &gemm_tn_block<4, 2>,
                                &gemm_tn_block<1, 2>};
  static const GemmTnFn k1[] = {&gemm_tn_block<16, 1>, &gemm_tn_block<8, 1>, &gemm_tn_block<4, 1>,
                                &gemm_tn_block<1, 1>};
  static const int r4[] = {6, 4, 2, 1}, r2[] = {12, 8, 4, 1}, r1[] = {16, 8, 4, 1};
  const GemmTnFn* ks = Opad % 64 == 0 ? k4 : Opad % 32 == 0 ? k2 : k1;
  const int* rs = Opad % 64 == 0 ? r4 : Opad % 32 == 0 ? r2 : r1;
  // Prefer a block size that divides C (no tail), else the widest that fits.
  int first = 0;
  for (int i = 0; i < 3; ++i)
    if (C % rs[i] == 0) {
      first = i;
      break;
    }
  int64_t c0 = 0;
  for (int i = first; i < 4; ++i)
    for (; c0 + rs[i] <= C; c0 += rs[i]) ks[i](V, Z, S, T, C, c0, Opad);
}

using GemmFn = void (*)(const float*, const float*, float*, int64_t, int64_t, int64_t);

struct Plan {
  int R;
  GemmFn fn;
};

Plan plan_for(int64_t Opad) {
  if (Opad % 64 == 0) return {6, &gemm_block<6, 4>};
  if (Opad % 32 == 0) return {12, &gemm_block<12, 2>};
  return {14, &gemm_block<14, 1>};
}

}  // namespace

std::vector<float> transform_filter(const float* w, int64_t C, int64_t O, int R) {
  std::vector<float> U(size_t(36 * C * padded_out(O)));
  transform_filter_into(U.data(), w, C, O, R);
  return U;
}

// The filter of the input gradient as a forward conv of the output gradient: flipped in space,
// input and output channels swapped (w is [R, R, C, O]; the result serves O inputs, C outputs).
std::vector<float> transform_filter_flipped(const float* w, int64_t C, int64_t O, int R) {
  const int RR = R * R;
  std::vector<float> f(size_t(RR * C * O));  // [R, R, O, C]
  for (int k = 0; k < RR; ++k) {
    const float* src = w + (RR - 1 - k) * C * O;
    float* dst = f.data() + k * O * C;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t o = 0; o < O; ++o) dst[o * C + c] = src[c * O + o];
  }
  std::vector<float> U(size_t(36 * O * padded_out(C)));
  transform_filter_into(U.data(), f.data(), O, C, R);
  return U;
}

namespace {
// Each transform point's block of a chunk's scratch is padded by this many floats, so that the 36
// blocks do not fall on the same cache sets.
constexpr int64_t kSkew = 16;
}  // namespace

namespace {
template <int MT> void forward_tiles(const float* x, const float* U, float* out, const Problem& p) {
  const int64_t Opad = padded_out(p.O), TH = (p.OH + MT - 1) / MT, TW = (p.OW + MT - 1) / MT, tiles = p.N * TH * TW;
  const Plan plan = plan_for(Opad);
  // About 12 tiles per chunk: their transformed inputs and products (~100 KB for 32 -> 32) stay
  // near L1; larger chunks measured slower (Note [Winograd]).
  int64_t T = (12 + plan.R - 1) / plan.R * plan.R;
  T = std::min<int64_t>(T, (tiles + plan.R - 1) / plan.R * plan.R);
  const int64_t chunks = (tiles + T - 1) / T;
  const double cost = double(T) * 36.0 * double(p.C) * double(Opad);
  const int64_t parts = std::max<int64_t>(
      1, std::min<int64_t>({int64_t(get_num_threads()), chunks, std::max<int64_t>(1, int64_t(chunks * cost / 2e5))}));
  // Per chunk: V [36][T][C] then M [36][T][Opad].
  const int64_t vs = T * p.C + kSkew, ms = T * Opad + kSkew;
  const int64_t scratch = 36 * (vs + ms);
  std::vector<float> buf(size_t(parts * scratch), 0.0f);
  float* pb = buf.data();
  parallel_for(parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t part = b; part < e; ++part) {
      float* V = pb + part * scratch;
      float* M = V + 36 * vs;
      for (int64_t ch = part * chunks / parts; ch < (part + 1) * chunks / parts; ++ch) {
        const int64_t t0 = ch * T, nt = std::min(T, tiles - t0);
        for (int64_t t = 0; t < nt; ++t) input_tile<MT>(x, p, TH, TW, t0 + t, V, t, vs);
        if (nt < T)
          for (int xi = 0; xi < 36; ++xi)
            std::memset(V + xi * vs + nt * p.C, 0, size_t((T - nt) * p.C) * sizeof(float));
        for (int xi = 0; xi < 36; ++xi) plan.fn(V + xi * vs, U + xi * p.C * Opad, M + xi * ms, T, p.C, Opad);
        for (int64_t t = 0; t < nt; ++t) output_tile<MT>(M, p, TH, TW, t0 + t, t, ms, Opad, out);
      }
    }
  });
}

template <int MT> void backprop_filter_tiles(const float* x, const float* gr, float* dw, const Problem& p) {
  constexpr int R = 7 - MT;
  const int64_t Opad = padded_out(p.O), TH = (p.OH + MT - 1) / MT, TW = (p.OW + MT - 1) / MT, tiles = p.N * TH * TW;
  // Tiles per chunk: more than the forward's, as each chunk loads and stores the sums S.
  int64_t T = p.C * Opad <= 64 * 64 ? 32 : 64;
  T = std::max<int64_t>(1, std::min<int64_t>(T, tiles));
  const int64_t chunks = (tiles + T - 1) / T;
  // Blocks of chunks fixed by the shape alone, each with its own sums, added in order: results do
  // not depend on the thread count (as Note [Small-K conv]). At least 8 chunks per block, so that
  // the sums (36 C Opad floats per block) stay a small part of the work; at most 8 M floats of
  // sums in all.
  const int64_t SK = 36 * p.C * Opad;
  const int64_t nblk = std::max<int64_t>(1, std::min<int64_t>({8, chunks / 8, (int64_t(8) << 20) / SK}));
  const double cost = double(chunks) / double(nblk) * double(T) * 36.0 * double(p.C) * double(Opad);
  const int64_t parts = std::max<int64_t>(
      1, std::min<int64_t>({int64_t(get_num_threads()), nblk, std::max<int64_t>(1, int64_t(nblk * cost / 2e5))}));
  const int64_t vs = T * p.C + kSkew, zs = T * Opad + kSkew;
  const int64_t scratch = 36 * (vs + zs);
  std::vector<float> buf(size_t(parts * scratch), 0.0f), sums(size_t(nblk * SK), 0.0f);
  float *pb = buf.data(), *ps = sums.data();
  parallel_for(parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t part = b; part < e; ++part) {
      float* V = pb + part * scratch;
      float* Z = V + 36 * vs;
      for (int64_t blk = part * nblk / parts; blk < (part + 1) * nblk / parts; ++blk) {
        float* S = ps + blk * SK;
        for (int64_t ch = blk * chunks / nblk; ch < (blk + 1) * chunks / nblk; ++ch) {
          const int64_t t0 = ch * T, nt = std::min(T, tiles - t0);
          for (int64_t t = 0; t < nt; ++t) {
            input_tile<MT>(x, p, TH, TW, t0 + t, V, t, vs);
            grad_tile<MT>(gr, p, TH, TW, t0 + t, Z, t, zs, Opad);
          }
          for (int xi = 0; xi < 36; ++xi) gemm_tn(V + xi * vs, Z + xi * zs, S + xi * p.C * Opad, nt, p.C, Opad);
        }
      }
    }
  });
  for (int64_t blk = 1; blk < nblk; ++blk)
    for (int64_t i = 0; i < SK; ++i) ps[i] += ps[blk * SK + i];
  // dw[kh][kw][c][o] = (G^T S G)[kh][kw], in double over rows of O.
  const GMatrix gm = g_matrix(R);
  const auto& G = gm.g;
  const int64_t C = p.C, O = p.O;
  std::vector<double> t(size_t(6 * R * O));  // t[i][kw][o] = (S G)[i][kw]
  for (int64_t c = 0; c < C; ++c) {
    std::fill(t.begin(), t.end(), 0.0);
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 6; ++j) {
        const float* s = ps + ((i * 6 + j) * C + c) * Opad;
        for (int kw = 0; kw < R; ++kw) {
          const double gj = G[j][kw];
          if (gj == 0.0) continue;
          double* ti = t.data() + (i * R + kw) * O;
          for (int64_t o = 0; o < O; ++o) ti[o] += gj * double(s[o]);
        }
      }
    for (int kh = 0; kh < R; ++kh)
      for (int kw = 0; kw < R; ++kw) {
        float* d = dw + ((kh * R + kw) * C + c) * O;
        for (int64_t o = 0; o < O; ++o) {
          double acc = 0.0;
          for (int i = 0; i < 6; ++i) acc += G[i][kh] * t[size_t((i * R + kw) * O + o)];
          d[o] = float(acc);
        }
      }
  }
}
}  // namespace

void forward(const float* x, const float* U, float* out, const Problem& p) {
  if (p.R == 5) forward_tiles<2>(x, U, out, p);
  else forward_tiles<4>(x, U, out, p);
}

void backprop_filter(const float* x, const float* gr, float* dw, const Problem& p) {
  if (p.R == 5) backprop_filter_tiles<2>(x, gr, dw, p);
  else backprop_filter_tiles<4>(x, gr, dw, p);
}

#pragma GCC pop_options

}  // namespace wino
}  // namespace tg
#endif
