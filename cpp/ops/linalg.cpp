// Matrix products: OpenBLAS gemm for float32/float64 (batched, with broadcast batch dimensions),
// a plain loop for integers.
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <vector>

#include <cblas.h>
// LAPACKE's complex arguments as std::complex (its C default, `float _Complex`, is not C++)
#define lapack_complex_float std::complex<float>
#define lapack_complex_double std::complex<double>
#include <lapacke.h>

#include "autodiff/tape.h"
#include "ops/complex.h"
#include "ops/linalg.h"
#include "ops/narrow.h"
#include "tensor/parallel.h"

namespace tg {
namespace {

template <class T> void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
  const int lda = int(ta ? M : K), ldb = int(tb ? K : N), ldc = int(N);
  if constexpr (std::is_floating_point<T>::value) park_workers();  // Note [Threads]
  if constexpr (std::is_same<T, float>::value) {
    scipy_cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(M), int(N),
                      int(K), 1.0f, A, lda > 0 ? lda : 1, B, ldb > 0 ? ldb : 1, 0.0f, C, ldc > 0 ? ldc : 1);
  } else if constexpr (std::is_same<T, double>::value) {
    scipy_cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(M), int(N),
                      int(K), 1.0, A, lda > 0 ? lda : 1, B, ldb > 0 ? ldb : 1, 0.0, C, ldc > 0 ? ldc : 1);
  } else if constexpr (std::is_same<T, complex64>::value || std::is_same<T, complex128>::value) {
    park_workers();
    const T one(1), zero(0);
    if constexpr (std::is_same<T, complex64>::value)
      scipy_cblas_cgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(M), int(N),
                        int(K), &one, A, lda > 0 ? lda : 1, B, ldb > 0 ? ldb : 1, &zero, C, ldc > 0 ? ldc : 1);
    else
      scipy_cblas_zgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(M), int(N),
                        int(K), &one, A, lda > 0 ? lda : 1, B, ldb > 0 ? ldb : 1, &zero, C, ldc > 0 ? ldc : 1);
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
  if (a.dtype == DType::Bool)
    throw InvalidArgument(std::string("matmul is not defined for bool tensors [Op:") + name + "]");
  if (is_narrow(a.dtype)) return narrow::matmul(a, b, ta, tb);
  if (a.ndim() < 2 || b.ndim() < 2)
    throw InvalidArgument(std::string("In[0] and In[1] must have rank >= 2, got shapes ") + a.shape.str() + " and " +
                          b.shape.str() + " [Op:" + name + "]");
  const int na = a.ndim(), nb = b.ndim();
  const int64_t M = ta ? a.shape[na - 1] : a.shape[na - 2];
  const int64_t Ka = ta ? a.shape[na - 2] : a.shape[na - 1];
  const int64_t Kb = tb ? b.shape[nb - 1] : b.shape[nb - 2];
  const int64_t N = tb ? b.shape[nb - 2] : b.shape[nb - 1];
  if (Ka != Kb)
    throw InvalidArgument(std::string("Matrix size-incompatible: In[0]: ") + a.shape.str() +
                          ", In[1]: " + b.shape.str() +
                          (ta || tb ? std::string(" (transpose_a=") + (ta ? "True" : "False") +
                                          ", transpose_b=" + (tb ? "True" : "False") + ")"
                                    : std::string()) +
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
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;

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
          if (da >= 0) {
            if (pa_shape[da] != 1) ia += c * sa;
            sa *= pa_shape[da];
          }
          if (db >= 0) {
            if (pb_shape[db] != 1) ib += c * sb;
            sb *= pb_shape[db];
          }
        }
        gemm<T>(ta, tb, M, N, Ka, pa + ia * M * Ka, pb + ib * Ka * N, po + i * M * N);
      }
    }
  };
  switch (a.dtype) {  // the numeric dtypes and complex (Note [Complex dtypes])
    TG_CASES_NUMERIC(T, run(static_cast<T*>(nullptr)))
    TG_CASES_COMPLEX(T, run(static_cast<T*>(nullptr)))
    default: TG_DISPATCH_FAIL(a.dtype, "numeric");
  }
  return out;
}


// ---- inverse, determinant, solve: LU with partial pivoting (getrf), one matrix at a time --------

namespace {

// float32/float64, and complex64/complex128 where `complex_ok` (the LU ops; Note [Complex dtypes])
int64_t check_square(const Tensor& a, const char* name, bool complex_ok = false) {
  if (!is_floating(a.dtype) && !(complex_ok && is_complex(a.dtype)))
    throw attr_t_error(a.dtype, std::string(complex_ok ? ": double, float, half, complex64, complex128 [Op:"
                                                       : ": double, float [Op:") +
                                    name + "]");
  if (a.ndim() < 2)
    throw InvalidArgument("Input must have rank >= 2, got " + std::to_string(a.ndim()) + " [Op:" + name + "]");
  const int64_t n = a.shape[a.ndim() - 1];
  if (a.shape[a.ndim() - 2] != n)
    throw InvalidArgument("Input matrix must be square, got shape " + a.shape.str() + " [Op:" + name + "]");
  if (n > (int64_t(1) << 30)) throw InvalidArgument(std::string("matrix too large [Op:") + name + "]");
  return n;
}

void check_rhs(const Tensor& a, const Tensor& b, int64_t n, const char* name) {
  const std::string tag = std::string(" [Op:") + name + "]";
  if (a.dtype != b.dtype)
    throw InvalidArgument(std::string("cannot compute ") + name + " as input #1(zero-based) was expected to be a " +
                          dtype_kernel_name(a.dtype) + " tensor but is a " + dtype_kernel_name(b.dtype) + " tensor" +
                          tag);
  if (b.ndim() != a.ndim())
    throw InvalidArgument("Input matrix and right-hand side must have the same rank, got " + a.shape.str() + " and " +
                          b.shape.str() + tag);
  for (int d = 0; d < a.ndim() - 2; ++d)
    if (a.shape[d] != b.shape[d])
      throw InvalidArgument("All input tensors must have the same outer dimensions, got " + a.shape.str() + " and " +
                            b.shape.str() + tag);
  if (b.shape[b.ndim() - 2] != n)
    throw InvalidArgument("Input matrix and right-hand side must have the same number of rows: " + std::to_string(n) +
                          " vs. " + std::to_string(b.shape[b.ndim() - 2]) + tag);
}

template <class T> lapack_int getrf(lapack_int n, T* a, lapack_int* piv) {
  if constexpr (std::is_same<T, float>::value) return scipy_LAPACKE_sgetrf(LAPACK_ROW_MAJOR, n, n, a, n, piv);
  else if constexpr (std::is_same<T, double>::value) return scipy_LAPACKE_dgetrf(LAPACK_ROW_MAJOR, n, n, a, n, piv);
  else if constexpr (std::is_same<T, complex64>::value) return scipy_LAPACKE_cgetrf(LAPACK_ROW_MAJOR, n, n, a, n, piv);
  else return scipy_LAPACKE_zgetrf(LAPACK_ROW_MAJOR, n, n, a, n, piv);
}
template <class T> lapack_int potrf_lower(lapack_int n, T* a) {
  if constexpr (std::is_same<T, float>::value) return scipy_LAPACKE_spotrf(LAPACK_ROW_MAJOR, 'L', n, a, n);
  else return scipy_LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', n, a, n);
}
template <class T> void trsm(CBLAS_UPLO uplo, CBLAS_TRANSPOSE trans, int n, int k, const T* a, T* b) {
  if constexpr (std::is_same<T, float>::value)
    scipy_cblas_strsm(CblasRowMajor, CblasLeft, uplo, trans, CblasNonUnit, n, k, 1.0f, a, n, b, k);
  else scipy_cblas_dtrsm(CblasRowMajor, CblasLeft, uplo, trans, CblasNonUnit, n, k, 1.0, a, n, b, k);
}
template <class T> lapack_int syevd_lower(lapack_int n, T* a, T* w) {
  if constexpr (std::is_same<T, float>::value) return scipy_LAPACKE_ssyevd(LAPACK_ROW_MAJOR, 'V', 'L', n, a, n, w);
  else return scipy_LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'L', n, a, n, w);
}
template <class T> lapack_int geqrf(lapack_int m, lapack_int n, T* a, T* tau) {
  if constexpr (std::is_same<T, float>::value) return scipy_LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, m, n, a, n, tau);
  else return scipy_LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, m, n, a, n, tau);
}
template <class T> lapack_int orgqr(lapack_int m, lapack_int cols, lapack_int k, T* q, const T* tau) {
  if constexpr (std::is_same<T, float>::value) return scipy_LAPACKE_sorgqr(LAPACK_ROW_MAJOR, m, cols, k, q, cols, tau);
  else return scipy_LAPACKE_dorgqr(LAPACK_ROW_MAJOR, m, cols, k, q, cols, tau);
}
template <class T>
lapack_int gesdd(char job, lapack_int m, lapack_int n, T* a, T* s, T* u, lapack_int ldu, T* vt, lapack_int ldvt) {
  if constexpr (std::is_same<T, float>::value)
    return scipy_LAPACKE_sgesdd(LAPACK_ROW_MAJOR, job, m, n, a, n, s, u, ldu, vt, ldvt);
  else return scipy_LAPACKE_dgesdd(LAPACK_ROW_MAJOR, job, m, n, a, n, s, u, ldu, vt, ldvt);
}
template <class T> lapack_int getri(lapack_int n, T* a, const lapack_int* piv) {
  if constexpr (std::is_same<T, float>::value) return scipy_LAPACKE_sgetri(LAPACK_ROW_MAJOR, n, a, n, piv);
  else if constexpr (std::is_same<T, double>::value) return scipy_LAPACKE_dgetri(LAPACK_ROW_MAJOR, n, a, n, piv);
  else if constexpr (std::is_same<T, complex64>::value) return scipy_LAPACKE_cgetri(LAPACK_ROW_MAJOR, n, a, n, piv);
  else return scipy_LAPACKE_zgetri(LAPACK_ROW_MAJOR, n, a, n, piv);
}
// trans: 'N', or the adjoint ('T' for real, 'C' for complex)
template <class T> lapack_int getrs(bool adjoint, lapack_int n, lapack_int k, const T* a, const lapack_int* piv, T* b) {
  if constexpr (std::is_same<T, float>::value)
    return scipy_LAPACKE_sgetrs(LAPACK_ROW_MAJOR, adjoint ? 'T' : 'N', n, k, a, n, piv, b, k);
  else if constexpr (std::is_same<T, double>::value)
    return scipy_LAPACKE_dgetrs(LAPACK_ROW_MAJOR, adjoint ? 'T' : 'N', n, k, a, n, piv, b, k);
  else if constexpr (std::is_same<T, complex64>::value)
    return scipy_LAPACKE_cgetrs(LAPACK_ROW_MAJOR, adjoint ? 'C' : 'N', n, k, a, n, piv, b, k);
  else return scipy_LAPACKE_zgetrs(LAPACK_ROW_MAJOR, adjoint ? 'C' : 'N', n, k, a, n, piv, b, k);
}
template <class T> T conj_if(const T& x) {
  if constexpr (std::is_floating_point<T>::value) return x;
  else return std::conj(x);
}
// geev: eigenvalues (and right eigenvectors, columns of the row-major n x n `vr`) of the n x n `a`
// (overwritten). Real input: LAPACK's packed form (wr, wi; a conjugate pair's vectors as two real
// columns); complex input: w.
template <class R> lapack_int geev_real(bool vecs, lapack_int n, R* a, R* wr, R* wi, R* vr) {
  R vl[1];
  if constexpr (std::is_same<R, float>::value)
    return scipy_LAPACKE_sgeev(LAPACK_ROW_MAJOR, 'N', vecs ? 'V' : 'N', n, a, n, wr, wi, vl, 1, vr, n);
  else return scipy_LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', vecs ? 'V' : 'N', n, a, n, wr, wi, vl, 1, vr, n);
}
template <class C> lapack_int geev_complex(bool vecs, lapack_int n, C* a, C* w, C* vr) {
  C vl[1];
  if constexpr (std::is_same<C, complex64>::value)
    return scipy_LAPACKE_cgeev(LAPACK_ROW_MAJOR, 'N', vecs ? 'V' : 'N', n, a, n, w, vl, 1, vr, n);
  else return scipy_LAPACKE_zgeev(LAPACK_ROW_MAJOR, 'N', vecs ? 'V' : 'N', n, a, n, w, vl, 1, vr, n);
}
template <class T> bool all_finite(const T* p, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    if (!std::isfinite(std::real(p[i])) || !std::isfinite(std::imag(p[i]))) return false;
  return true;
}

}  // namespace

// TG_DISPATCH_LAPACK: float32, float64, complex64, complex128.
#define TG_DISPATCH_LAPACK(DT, T, ...)                                                                       \
  switch (DT) {                                                                                              \
    TG_CASES_FLOAT(T, __VA_ARGS__) TG_CASES_COMPLEX(T, __VA_ARGS__) default : TG_DISPATCH_FAIL(DT, "float"); \
  }

Tensor matrix_inverse(const Tensor& a, bool adjoint) {
  if (a.dtype == DType::Float16)  // TF's MatrixInverse takes half: LU in float32
    return kernels::cast(matrix_inverse(kernels::cast(a, DType::Float32), adjoint), DType::Float16);
  const int64_t n = check_square(a, "MatrixInverse", true);
  Tensor out = a.clone();
  if (out.numel() == 0) return out;
  const int64_t batch = a.numel() / (n * n);
  std::vector<lapack_int> piv(static_cast<size_t>(n));
  TG_DISPATCH_LAPACK(a.dtype, T, {
    T* p = out.data<T>();
    for (int64_t i = 0; i < batch; ++i) {
      T* m = p + i * n * n;
      if (adjoint) {  // the conjugate transpose
        for (int64_t r = 0; r < n; ++r)
          for (int64_t c = r + 1; c < n; ++c) std::swap(m[r * n + c], m[c * n + r]);
        for (int64_t k = 0; k < n * n; ++k) m[k] = conj_if(m[k]);
      }
      lapack_int info = getrf<T>(lapack_int(n), m, piv.data());
      if (info == 0) info = getri<T>(lapack_int(n), m, piv.data());
      if (info != 0) throw InvalidArgument("Input is not invertible. [Op:MatrixInverse]");
    }
  });
  return out;
}

Tensor matrix_determinant(const Tensor& a) {
  const int64_t n = check_square(a, "MatrixDeterminant");
  Shape os = Shape::from(a.shape.d.data(), a.ndim() - 2);
  Tensor out = Tensor::empty(os, a.dtype);
  const int64_t batch = os.numel();
  if (batch == 0) return out;
  std::vector<lapack_int> piv(static_cast<size_t>(n));
  TG_DISPATCH_FLOAT(a.dtype, T, {
    std::vector<T> m(size_t(n * n));
    const T* p = a.data<T>();
    T* po = out.data<T>();
    for (int64_t i = 0; i < batch; ++i) {
      if (n == 0) {
        po[i] = T(1);
        continue;
      }
      std::memcpy(m.data(), p + i * n * n, size_t(n * n) * sizeof(T));
      lapack_int info = getrf<T>(lapack_int(n), m.data(), piv.data());
      if (info < 0) throw InvalidArgument("getrf failed [Op:MatrixDeterminant]");
      T det = T(1);  // info > 0: an exact zero pivot, the product is 0
      for (int64_t k = 0; k < n; ++k) det *= (piv[size_t(k)] != lapack_int(k + 1) ? -1 : 1) * m[size_t(k * n + k)];
      po[i] = det;
    }
  });
  return out;
}

std::pair<Tensor, Tensor> log_matrix_determinant(const Tensor& a) {
  const int64_t n = check_square(a, "LogMatrixDeterminant");
  Shape os = Shape::from(a.shape.d.data(), a.ndim() - 2);
  Tensor sign = Tensor::empty(os, a.dtype), logabs = Tensor::empty(os, a.dtype);
  const int64_t batch = os.numel();
  if (batch == 0) return {sign, logabs};
  std::vector<lapack_int> piv(static_cast<size_t>(n));
  TG_DISPATCH_FLOAT(a.dtype, T, {
    std::vector<T> m(size_t(n * n));
    const T* p = a.data<T>();
    T* ps = sign.data<T>();
    T* pl = logabs.data<T>();
    for (int64_t i = 0; i < batch; ++i) {
      T sg = T(1), la = T(0);
      if (n > 0) {
        std::memcpy(m.data(), p + i * n * n, size_t(n * n) * sizeof(T));
        lapack_int info = getrf<T>(lapack_int(n), m.data(), piv.data());
        if (info < 0) throw InvalidArgument("getrf failed [Op:LogMatrixDeterminant]");
        for (int64_t k = 0; k < n; ++k) {
          const T u = m[size_t(k * n + k)];
          if (piv[size_t(k)] != lapack_int(k + 1)) sg = -sg;
          if (u < 0) sg = -sg;
          la += std::log(std::abs(u));
        }
        if (info > 0) sg = T(0);  // singular: sign 0, log|det| -inf, as TF
      }
      ps[i] = sg;
      pl[i] = la;
    }
  });
  return {sign, logabs};
}

Tensor matrix_solve(const Tensor& a, const Tensor& b, bool adjoint) {
  const int64_t n = check_square(a, "MatrixSolve", true);
  check_rhs(a, b, n, "MatrixSolve");
  const int64_t k = b.shape[b.ndim() - 1];
  Tensor out = b.clone();
  if (out.numel() == 0) return out;
  const int64_t batch = out.numel() / (n * k);
  std::vector<lapack_int> piv(static_cast<size_t>(n));
  TG_DISPATCH_LAPACK(a.dtype, T, {
    std::vector<T> m(size_t(n * n));
    const T* pa = a.data<T>();
    T* pb = out.data<T>();
    for (int64_t i = 0; i < batch; ++i) {
      std::memcpy(m.data(), pa + i * n * n, size_t(n * n) * sizeof(T));
      lapack_int info = getrf<T>(lapack_int(n), m.data(), piv.data());
      if (info != 0) throw InvalidArgument("Input matrix is not invertible. [Op:MatrixSolve]");
      getrs<T>(adjoint, lapack_int(n), lapack_int(k), m.data(), piv.data(), pb + i * n * k);
    }
  });
  return out;
}

Tensor cholesky(const Tensor& a) {
  const int64_t n = check_square(a, "Cholesky");
  Tensor out = a.clone();
  if (out.numel() == 0) return out;
  const int64_t batch = a.numel() / (n * n);
  TG_DISPATCH_FLOAT(a.dtype, T, {
    T* p = out.data<T>();
    for (int64_t i = 0; i < batch; ++i) {
      T* m = p + i * n * n;
      if (potrf_lower<T>(lapack_int(n), m) != 0)
        throw InvalidArgument("Cholesky decomposition was not successful. The input might not be valid. [Op:Cholesky]");
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = r + 1; c < n; ++c) m[r * n + c] = T(0);
    }
  });
  return out;
}

std::pair<Tensor, Tensor> qr(const Tensor& a, bool full) {
  const char* name = "Qr";
  if (!is_floating(a.dtype)) throw attr_t_error(a.dtype, ": double, float [Op:Qr]");
  if (a.ndim() < 2) throw InvalidArgument("input must have rank >= 2, got " + std::to_string(a.ndim()) + " [Op:Qr]");
  const int64_t m = a.shape[a.ndim() - 2], n = a.shape[a.ndim() - 1], k = std::min(m, n);
  const int64_t qc = full ? m : k, rr = full ? m : k;  // q: m x qc, r: rr x n
  Shape qs = a.shape, rs = a.shape;
  qs[qs.ndim - 1] = qc;
  rs[rs.ndim - 2] = rr;
  Tensor q = Tensor::zeros(qs, a.dtype), r = Tensor::zeros(rs, a.dtype);
  const int64_t batch = (m != 0 && n != 0) ? a.numel() / (m * n) : 0;
  if (q.numel() == 0 && r.numel() == 0) return {q, r};
  TG_DISPATCH_FLOAT(a.dtype, T, {
    std::vector<T> work(size_t(m * n)), tau(size_t(std::max<int64_t>(k, 1)));
    const T* pa = a.data<T>();
    T* pq = q.data<T>();
    T* pr = r.data<T>();
    for (int64_t i = 0; i < batch; ++i) {
      std::memcpy(work.data(), pa + i * m * n, size_t(m * n) * sizeof(T));
      if (geqrf<T>(lapack_int(m), lapack_int(n), work.data(), tau.data()) != 0)
        throw InvalidArgument(std::string("QR decomposition failed [Op:") + name + "]");
      T* ri = pr + i * rr * n;
      for (int64_t row = 0; row < k; ++row)
        for (int64_t col = row; col < n; ++col) ri[row * n + col] = work[size_t(row * n + col)];
      T* qi = pq + i * m * qc;
      if (qc == 0) continue;
      for (int64_t row = 0; row < m; ++row)
        for (int64_t col = 0; col < k; ++col) qi[row * qc + col] = work[size_t(row * n + col)];
      if (orgqr<T>(lapack_int(m), lapack_int(qc), lapack_int(k), qi, tau.data()) != 0)
        throw InvalidArgument(std::string("QR decomposition failed [Op:") + name + "]");
    }
  });
  return {q, r};
}

std::vector<Tensor> svd(const Tensor& a, bool full, bool compute_uv) {
  if (!is_floating(a.dtype)) throw attr_t_error(a.dtype, ": double, float [Op:Svd]");
  if (a.ndim() < 2) throw InvalidArgument("input must have rank >= 2, got " + std::to_string(a.ndim()) + " [Op:Svd]");
  const int64_t m = a.shape[a.ndim() - 2], n = a.shape[a.ndim() - 1], k = std::min(m, n);
  const int64_t uc = full ? m : k, vr = full ? n : k;  // u: m x uc, vt: vr x n
  Shape ss = Shape::from(a.shape.d.data(), a.ndim() - 1), us = a.shape, vs = a.shape;
  ss[ss.ndim - 1] = k;
  us[us.ndim - 1] = uc;
  vs[vs.ndim - 2] = n;
  vs[vs.ndim - 1] = vr;
  Tensor s = Tensor::zeros(ss, a.dtype), u = Tensor::zeros(us, a.dtype), v = Tensor::zeros(vs, a.dtype);
  const int64_t batch = (m != 0 && n != 0) ? a.numel() / (m * n) : 0;
  TG_DISPATCH_FLOAT(a.dtype, T, {
    const T* pa = a.data<T>();
    for (int64_t i = 0; i < a.numel(); ++i)
      if (!std::isfinite(pa[i])) throw InvalidArgument("SVD of a matrix with a non-finite value [Op:Svd]");
    std::vector<T> work(size_t(m * n)), vt(size_t(std::max<int64_t>(vr * n, 1))),
        uw(size_t(std::max<int64_t>(m * uc, 1)));
    for (int64_t i = 0; i < batch; ++i) {
      std::memcpy(work.data(), pa + i * m * n, size_t(m * n) * sizeof(T));
      const char job = compute_uv ? (full ? 'A' : 'S') : 'N';
      if (gesdd<T>(job, lapack_int(m), lapack_int(n), work.data(), s.data<T>() + i * k, uw.data(),
                   lapack_int(std::max<int64_t>(uc, 1)), vt.data(), lapack_int(std::max<int64_t>(n, 1))) != 0)
        throw InvalidArgument("SVD did not converge [Op:Svd]");
      if (!compute_uv) continue;
      std::memcpy(u.data<T>() + i * m * uc, uw.data(), size_t(m * uc) * sizeof(T));
      T* pv = v.data<T>() + i * n * vr;
      for (int64_t r = 0; r < vr; ++r)
        for (int64_t c = 0; c < n; ++c) pv[c * vr + r] = vt[size_t(r * n + c)];
    }
  });
  if (!compute_uv) return {s};
  return {s, u, v};
}

std::pair<Tensor, Tensor> eigh(const Tensor& a) {
  const int64_t n = check_square(a, "SelfAdjointEigV2");
  Shape es = Shape::from(a.shape.d.data(), a.ndim() - 1);
  Tensor e = Tensor::empty(es, a.dtype), v = a.clone();
  if (v.numel() == 0) return {e, v};
  const int64_t batch = a.numel() / (n * n);
  TG_DISPATCH_FLOAT(a.dtype, T, {
    T* pv = v.data<T>();
    T* pe = e.data<T>();
    for (int64_t i = 0; i < a.numel(); ++i)
      if (!std::isfinite(pv[i]))
        throw InvalidArgument("Self-adjoint eigen decomposition was not successful. The input might not be valid. "
                              "(it has a non-finite value) [Op:SelfAdjointEigV2]");
    for (int64_t i = 0; i < batch; ++i)
      if (syevd_lower<T>(lapack_int(n), pv + i * n * n, pe + i * n) != 0)
        throw InvalidArgument("Self-adjoint eigen decomposition was not successful. The input might not be valid. "
                              "[Op:SelfAdjointEigV2]");
  });
  return {e, v};
}

// ---- general eigen decomposition (geev) and the matrix logarithm (Schur + inverse scaling and squaring)

namespace {

// float/double/complex input of shape [..., n, n]: n, with TF's errors for the op `name`
int64_t check_square_any(const Tensor& a, const char* name, const char* allowed) {
  const std::string tag = std::string(" [Op:") + name + "]";
  if (!(is_floating(a.dtype) && std::string(allowed).find("float") != std::string::npos) && !is_complex(a.dtype))
    throw InvalidArgument(std::string("Value for attr 'T' of ") + dtype_kernel_name(a.dtype) +
                          " is not in the list of allowed values: " + allowed + tag);
  if (a.ndim() < 2) throw InvalidArgument("Input tensor 0 must have rank >= 2, got " + std::to_string(a.ndim()) + tag);
  const int64_t n = a.shape[a.ndim() - 1];
  if (a.shape[a.ndim() - 2] != n) throw InvalidArgument("Input matrix must be square." + tag);
  if (n > (int64_t(1) << 15)) throw InvalidArgument("matrix too large" + tag);
  return n;
}

// Eigen's ComplexEigenSolver order (TF's Eig kernel for complex input): ascending |e|, by selection
// (the first smallest of the rest swaps into place), the vectors' columns along.
template <class C> void sort_by_modulus(int64_t n, C* e, C* v) {
  for (int64_t i = 0; i < n; ++i) {
    int64_t k = i;
    for (int64_t j = i + 1; j < n; ++j)
      if (std::abs(e[j]) < std::abs(e[k])) k = j;
    if (k == i) continue;
    std::swap(e[i], e[k]);
    if (v)
      for (int64_t r = 0; r < n; ++r) std::swap(v[r * n + i], v[r * n + k]);
  }
}

using cd = complex128;

// sqrt of an upper triangular n x n (row-major) matrix, principal branch (Bjorck-Hammarling)
void sqrtm_upper(int64_t n, std::vector<cd>& t) {
  for (int64_t j = 0; j < n; ++j) {
    t[size_t(j * n + j)] = std::sqrt(t[size_t(j * n + j)]);
    for (int64_t i = j - 1; i >= 0; --i) {
      cd s = t[size_t(i * n + j)];
      for (int64_t k = i + 1; k < j; ++k) s -= t[size_t(i * n + k)] * t[size_t(k * n + j)];
      t[size_t(i * n + j)] = s / (t[size_t(i * n + i)] + t[size_t(j * n + j)]);
    }
  }
}

// Gauss-Legendre nodes and weights on [0, 1] (Newton on the Legendre polynomial)
void gauss_legendre01(int m, std::vector<double>& x, std::vector<double>& w) {
  x.assign(size_t(m), 0.0);
  w.assign(size_t(m), 0.0);
  const double pi = 3.14159265358979323846;
  for (int i = 0; i < m; ++i) {
    double z = std::cos(pi * (i + 0.75) / (m + 0.5)), dp = 1.0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1.0, p1 = z;
      for (int k = 2; k <= m; ++k) {
        const double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = m * (z * p1 - p0) / (z * z - 1.0);
      const double dz = p1 / dp;
      z -= dz;
      if (std::abs(dz) < 1e-16) break;
    }
    x[size_t(i)] = 0.5 * (1.0 - z);
    w[size_t(i)] = 1.0 / ((1.0 - z * z) * dp * dp);  // 2 / ((1 - z^2) p'^2), halved for [0, 1]
  }
}

// log of one n x n complex matrix (row-major, in place): A = Z T Z^H (zgees); square roots of T
// until ||T - I||_1 <= 1/4; log(I + X) by the [8/8] Pade approximant as an 8-point Gauss-Legendre
// rule of the integral of X (I + tX)^-1; times 2^s; the diagonal and first superdiagonal in closed
// form from T; Z L Z^H (Higham's inverse scaling and squaring, without its order selection).
void logm_one(int64_t n, cd* a) {
  std::vector<cd> t(a, a + n * n), z(static_cast<size_t>(n * n)), w(static_cast<size_t>(n));
  lapack_int sdim = 0;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (!all_finite(a, n * n) || scipy_LAPACKE_zgees(LAPACK_ROW_MAJOR, 'V', 'N', nullptr, lapack_int(n), t.data(),
                                                   lapack_int(n), &sdim, w.data(), z.data(), lapack_int(n)) != 0) {
    std::fill(a, a + n * n, cd(nan, nan));  // TF: NaN for a matrix with a NaN or inf, no error
    return;
  }
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < r; ++c) t[size_t(r * n + c)] = 0.0;
  // the diagonal and first superdiagonal of log(T) in closed form (Higham & Al-Mohy 2012, eq. 5.6)
  std::vector<cd> diag_log(static_cast<size_t>(n)), super_log(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) diag_log[size_t(k)] = std::log(t[size_t(k * n + k)]);
  const double pi = 3.14159265358979323846;
  for (int64_t k = 0; k + 1 < n; ++k) {
    const cd l1 = t[size_t(k * n + k)], l2 = t[size_t((k + 1) * n + k + 1)], t12 = t[size_t(k * n + k + 1)];
    const cd g1 = diag_log[size_t(k)], g2 = diag_log[size_t(k + 1)];
    if (l1 == l2) {
      super_log[size_t(k)] = t12 / l1;
    } else if (std::abs(l2 - l1) > 0.5 * std::min(std::abs(l1), std::abs(l2))) {
      super_log[size_t(k)] = t12 * (g2 - g1) / (l2 - l1);
    } else {  // close eigenvalues: 2 atanh((l2 - l1) / (l2 + l1)), with the unwinding number
      const double u = std::ceil((std::imag(g2 - g1) - pi) / (2 * pi));
      super_log[size_t(k)] = t12 * 2.0 * (std::atanh((l2 - l1) / (l2 + l1)) + cd(0.0, pi * u)) / (l2 - l1);
    }
  }
  auto dist_to_eye = [&] {
    double worst = 0.0;
    for (int64_t c = 0; c < n; ++c) {
      double col = 0.0;
      for (int64_t r = 0; r <= c; ++r) col += std::abs(t[size_t(r * n + c)] - (r == c ? cd(1.0) : cd(0.0)));
      if (!(col <= worst)) worst = col;  // NaN wins
    }
    return worst;
  };
  int s = 0;
  for (double d = dist_to_eye(); d > 0.25 && s < 64; d = dist_to_eye(), ++s) sqrtm_upper(n, t);
  const int m = 8;
  std::vector<double> gx, gw;
  gauss_legendre01(m, gx, gw);
  std::vector<cd> x(t), l(size_t(n * n), 0.0), lhs(size_t(n * n)), y(size_t(n * n));
  for (int64_t k = 0; k < n; ++k) x[size_t(k * n + k)] -= 1.0;
  for (int j = 0; j < m; ++j) {
    for (size_t k = 0; k < lhs.size(); ++k) lhs[k] = gx[size_t(j)] * x[k];
    for (int64_t k = 0; k < n; ++k) lhs[size_t(k * n + k)] += 1.0;
    y = x;
    const cd one(1.0);
    scipy_cblas_ztrsm(CblasRowMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, int(n), int(n), &one,
                      lhs.data(), int(n), y.data(), int(n));
    for (size_t k = 0; k < l.size(); ++k) l[k] += gw[size_t(j)] * y[k];
  }
  const double scale = std::ldexp(1.0, s);
  for (auto& v : l) v *= scale;
  for (int64_t k = 0; k < n; ++k) l[size_t(k * n + k)] = diag_log[size_t(k)];
  for (int64_t k = 0; k + 1 < n; ++k) l[size_t(k * n + k + 1)] = super_log[size_t(k)];
  // a = z l z^H
  const cd one(1.0), zero(0.0);
  std::vector<cd> zl(size_t(n * n));
  scipy_cblas_zgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(n), int(n), &one, z.data(), int(n), l.data(),
                    int(n), &zero, zl.data(), int(n));
  scipy_cblas_zgemm(CblasRowMajor, CblasNoTrans, CblasConjTrans, int(n), int(n), int(n), &one, zl.data(), int(n),
                    z.data(), int(n), &zero, a, int(n));
}

}  // namespace

std::vector<Tensor> eig(const Tensor& a, bool compute_v) {
  const int64_t n = check_square_any(a, "Eig", "float, double, complex64, complex128");
  const DType cdt = is_complex(a.dtype) ? a.dtype : ops::complex_of(a.dtype);
  Shape es = Shape::from(a.shape.d.data(), a.ndim() - 1);
  Tensor e = Tensor::empty(es, cdt), v = Tensor::empty(compute_v ? a.shape : Shape{0}, cdt);
  const int64_t batch = n == 0 ? 0 : a.numel() / (n * n);
  auto fail = [] {
    throw InvalidArgument("Eigen decomposition was not successful. The input might not be valid. [Op:Eig]");
  };
  switch (a.dtype) {
    TG_CASES_FLOAT(R, {
      using C = std::complex<R>;
      const R* pa = a.data<R>();
      if (!all_finite(pa, a.numel())) fail();
      std::vector<R> work(static_cast<size_t>(n * n)), wr(static_cast<size_t>(n)), wi(static_cast<size_t>(n)),
          vr(static_cast<size_t>(compute_v ? n * n : 1));
      for (int64_t i = 0; i < batch; ++i) {
        std::memcpy(work.data(), pa + i * n * n, size_t(n * n) * sizeof(R));
        if (geev_real<R>(compute_v, lapack_int(n), work.data(), wr.data(), wi.data(), vr.data()) != 0) fail();
        C* pe = e.data<C>() + i * n;
        for (int64_t j = 0; j < n; ++j) pe[j] = C(wr[size_t(j)], wi[size_t(j)]);
        if (!compute_v) continue;
        C* pv = v.data<C>() + i * n * n;
        for (int64_t j = 0; j < n; ++j) {
          if (wi[size_t(j)] == R(0) || j + 1 == n) {
            for (int64_t r = 0; r < n; ++r) pv[r * n + j] = C(vr[size_t(r * n + j)], R(0));
            continue;
          }
          for (int64_t r = 0; r < n; ++r) {  // a conjugate pair: re + i im, re - i im
            pv[r * n + j] = C(vr[size_t(r * n + j)], vr[size_t(r * n + j + 1)]);
            pv[r * n + j + 1] = C(vr[size_t(r * n + j)], -vr[size_t(r * n + j + 1)]);
          }
          ++j;
        }
      }
    })
    TG_CASES_COMPLEX(C, {
      const C* pa = a.data<C>();
      if (!all_finite(pa, a.numel())) fail();
      std::vector<C> work(size_t(n * n));
      for (int64_t i = 0; i < batch; ++i) {
        std::memcpy(work.data(), pa + i * n * n, size_t(n * n) * sizeof(C));
        C* pe = e.data<C>() + i * n;
        C* pv = compute_v ? v.data<C>() + i * n * n : nullptr;
        std::vector<C> dummy(1);
        if (geev_complex<C>(compute_v, lapack_int(n), work.data(), pe, pv ? pv : dummy.data()) != 0) fail();
        sort_by_modulus(n, pe, pv);
      }
    })
    default: TG_DISPATCH_FAIL(a.dtype, "float");
  }
  if (!compute_v) return {e};
  return {e, v};
}

Tensor matrix_logarithm(const Tensor& a) {
  const int64_t n = check_square_any(a, "MatrixLogarithm", "complex64, complex128");
  Tensor out = Tensor::empty(a.shape, a.dtype);
  const int64_t batch = n == 0 ? 0 : a.numel() / (n * n);
  std::vector<cd> m(size_t(n * n));
  TG_DISPATCH_COMPLEX(a.dtype, C, {
    const C* pa = a.data<C>();
    C* po = out.data<C>();
    for (int64_t i = 0; i < batch; ++i) {
      for (int64_t k = 0; k < n * n; ++k) m[size_t(k)] = cd(pa[i * n * n + k]);
      logm_one(n, m.data());
      for (int64_t k = 0; k < n * n; ++k) po[i * n * n + k] = C(m[size_t(k)]);
    }
  });
  return out;
}

Tensor triangular_solve(const Tensor& a, const Tensor& b, bool lower, bool adjoint) {
  const int64_t n = check_square(a, "MatrixTriangularSolve");
  check_rhs(a, b, n, "MatrixTriangularSolve");
  const int64_t k = b.shape[b.ndim() - 1];
  Tensor out = b.clone();
  if (out.numel() == 0) return out;
  const int64_t batch = out.numel() / (n * k);
  const auto uplo = lower ? CblasLower : CblasUpper;
  const auto trans = adjoint ? CblasTrans : CblasNoTrans;
  TG_DISPATCH_FLOAT(a.dtype, T, {
    const T* pa = a.data<T>();
    T* pb = out.data<T>();
    for (int64_t i = 0; i < batch; ++i) {  // trsm: no singularity check, as TF (a zero pivot gives inf/nan)
      trsm<T>(uplo, trans, int(n), int(k), pa + i * n * n, pb + i * n * k);
    }
  });
  return out;
}

}  // namespace kernels

namespace ops {

Tensor cholesky(const Tensor& a) {
  Tensor out = kernels::cholesky(a);
  tape::record(Op::Cholesky, {a}, {out});
  return out;
}

std::pair<Tensor, Tensor> qr(const Tensor& a, bool full_matrices) {
  auto out = kernels::qr(a, full_matrices);
  tape::record(Op::Qr, {a}, {out.first, out.second}, [&](Attrs& at) { at.full_matrices = full_matrices; });
  return out;
}

std::vector<Tensor> svd(const Tensor& a, bool full_matrices, bool compute_uv) {
  auto out = kernels::svd(a, full_matrices, compute_uv);
  tape::record(Op::Svd, {a}, out, [&](Attrs& at) {
    at.full_matrices = full_matrices;
    at.compute_uv = compute_uv;
  });
  return out;
}

std::pair<Tensor, Tensor> eigh(const Tensor& a) {
  auto out = kernels::eigh(a);
  tape::record(Op::SelfAdjointEigV2, {a}, {out.first, out.second});
  return out;
}

std::vector<Tensor> eig(const Tensor& a, bool compute_v) {
  auto out = kernels::eig(a, compute_v);
  tape::record(Op::Eig, {a}, out, [&](Attrs& at) { at.compute_uv = compute_v; });  // compute_uv: compute_v
  return out;
}

Tensor triangular_solve(const Tensor& a, const Tensor& b, bool lower, bool adjoint) {
  Tensor out = kernels::triangular_solve(a, b, lower, adjoint);
  tape::record(Op::MatrixTriangularSolve, {a, b}, {out}, [&](Attrs& at) {
    at.adjoint = adjoint;
    at.lower = lower;
  });
  return out;
}

Tensor matrix_inverse(const Tensor& a, bool adjoint) {
  Tensor out = kernels::matrix_inverse(a, adjoint);
  tape::record(Op::MatrixInverse, {a}, {out}, [&](Attrs& at) { at.adjoint = adjoint; });
  return out;
}

Tensor matrix_determinant(const Tensor& a) {
  Tensor out = kernels::matrix_determinant(a);
  tape::record(Op::MatrixDeterminant, {a}, {out});
  return out;
}

std::pair<Tensor, Tensor> log_matrix_determinant(const Tensor& a) {
  auto out = kernels::log_matrix_determinant(a);
  tape::record(Op::LogMatrixDeterminant, {a}, {out.first, out.second});
  return out;
}

Tensor matrix_solve(const Tensor& a, const Tensor& b, bool adjoint) {
  Tensor out = kernels::matrix_solve(a, b, adjoint);
  tape::record(Op::MatrixSolve, {a, b}, {out}, [&](Attrs& at) { at.adjoint = adjoint; });
  return out;
}

}  // namespace ops
}  // namespace tg
