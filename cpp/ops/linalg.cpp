// Matrix products: OpenBLAS gemm for float32/float64 (batched, with broadcast batch dimensions),
// a plain loop for integers.
#include <cblas.h>

#include <cstring>

#include "ops/ops.h"

namespace tg {
namespace {

template <class T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
  const int lda = int(ta ? M : K), ldb = int(tb ? K : N), ldc = int(N);
  if constexpr (std::is_same<T, float>::value) {
    scipy_cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(M), int(N),
                      int(K), 1.0f, A, lda > 0 ? lda : 1, B, ldb > 0 ? ldb : 1, 0.0f, C, ldc > 0 ? ldc : 1);
  } else if constexpr (std::is_same<T, double>::value) {
    scipy_cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(M), int(N),
                      int(K), 1.0, A, lda > 0 ? lda : 1, B, ldb > 0 ? ldb : 1, 0.0, C, ldc > 0 ? ldc : 1);
  } else {
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        T acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += A[ta ? k * M + m : m * K + k] * B[tb ? n * K + k : k * N + n];
        C[m * N + n] = acc;
      }
  }
}

}  // namespace

namespace kernels {

Tensor matmul(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const char* name = (a.ndim() > 2 || b.ndim() > 2) ? "BatchMatMulV2" : "MatMul";
  if (a.dtype != b.dtype)
    throw InvalidArgument(std::string("cannot compute ") + name + " as input #1(zero-based) was expected to be a " +
                          dtype_kernel_name(a.dtype) + " tensor but is a " + dtype_kernel_name(b.dtype) +
                          " tensor [Op:" + name + "]");
  if (a.dtype == DType::Bool) throw InvalidArgument(std::string("matmul is not defined for bool tensors [Op:") + name + "]");
  if (a.ndim() < 2 || b.ndim() < 2)
    throw InvalidArgument(std::string("In[0] and In[1] must have rank >= 2, got shapes ") + a.shape.str() + " and " +
                          b.shape.str() + " [Op:" + name + "]");
  const int na = a.ndim(), nb = b.ndim();
  const int64_t M = ta ? a.shape[na - 1] : a.shape[na - 2];
  const int64_t Ka = ta ? a.shape[na - 2] : a.shape[na - 1];
  const int64_t Kb = tb ? b.shape[nb - 1] : b.shape[nb - 2];
  const int64_t N = tb ? b.shape[nb - 2] : b.shape[nb - 1];
  if (Ka != Kb)
    throw InvalidArgument(std::string("Matrix size-incompatible: In[0]: ") + a.shape.str() + ", In[1]: " + b.shape.str() +
                          (ta || tb ? std::string(" (transpose_a=") + (ta ? "True" : "False") + ", transpose_b=" +
                                          (tb ? "True" : "False") + ")" : std::string()) +
                          " [Op:" + name + "]");
  // batch dimensions broadcast
  Shape ba = Shape::from(a.shape.d.data(), na - 2), bb = Shape::from(b.shape.d.data(), nb - 2);
  Shape batch;
  try {
    batch = broadcast_shapes(ba, bb, Op::MatMul);
  } catch (const InvalidArgument&) {
    throw InvalidArgument(std::string("In[0] and In[1] must have compatible batch dimensions: ") + a.shape.str() +
                          " vs. " + b.shape.str() + " [Op:" + name + "]");
  }
  Shape out_shape = batch;
  out_shape.ndim += 2;
  out_shape[batch.ndim] = M;
  out_shape[batch.ndim + 1] = N;
  Tensor out = Tensor::empty(out_shape, a.dtype);
  if (out.numel() == 0) return out;
  if (Ka == 0) {
    std::memset(out.raw(), 0, out.nbytes());
    return out;
  }
  const int64_t nbatch = batch.numel();
  TG_DISPATCH_NUMERIC(a.dtype, T, {
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    if (bb.numel() == 1 && !ta) {
      // b is one matrix shared by the batch: fold a's batch into M, one gemm
      gemm<T>(false, tb, nbatch * M, N, Ka, pa, pb, po);
    } else if (ba == bb) {
      for (int64_t i = 0; i < nbatch; ++i) gemm<T>(ta, tb, M, N, Ka, pa + i * M * Ka, pb + i * Ka * N, po + i * M * N);
    } else {
      // general broadcast: map each output batch index to the operands' batch indices
      Shape pa_shape = ba, pb_shape = bb;
      for (int64_t i = 0; i < nbatch; ++i) {
        int64_t rem = i, ia = 0, ib = 0, sa = 1, sb = 1;
        for (int d = batch.ndim - 1; d >= 0; --d) {
          int64_t c = rem % batch[d];
          rem /= batch[d];
          int da = d - (batch.ndim - pa_shape.ndim), db = d - (batch.ndim - pb_shape.ndim);
          if (da >= 0) { if (pa_shape[da] != 1) ia += c * sa; sa *= pa_shape[da]; }
          if (db >= 0) { if (pb_shape[db] != 1) ib += c * sb; sb *= pb_shape[db]; }
        }
        gemm<T>(ta, tb, M, N, Ka, pa + ia * M * Ka, pb + ib * Ka * N, po + i * M * N);
      }
    }
  });
  return out;
}

}  // namespace kernels
}  // namespace tg
