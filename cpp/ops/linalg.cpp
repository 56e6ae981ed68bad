// Matrix products: OpenBLAS gemm for float32/float64 (batched, with broadcast batch dimensions),
// a plain loop for integers.
#include <cblas.h>
#include <lapacke.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "autodiff/tape.h"
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

int64_t check_square(const Tensor& a, const char* name) {
  if (!is_floating(a.dtype)) throw attr_t_error(a.dtype, std::string(": double, float [Op:") + name + "]");
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
  else return scipy_LAPACKE_dgetrf(LAPACK_ROW_MAJOR, n, n, a, n, piv);
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
  else return scipy_LAPACKE_dgetri(LAPACK_ROW_MAJOR, n, a, n, piv);
}
template <class T> lapack_int getrs(char trans, lapack_int n, lapack_int k, const T* a, const lapack_int* piv, T* b) {
  if constexpr (std::is_same<T, float>::value)
    return scipy_LAPACKE_sgetrs(LAPACK_ROW_MAJOR, trans, n, k, a, n, piv, b, k);
  else return scipy_LAPACKE_dgetrs(LAPACK_ROW_MAJOR, trans, n, k, a, n, piv, b, k);
}

}  // namespace

Tensor matrix_inverse(const Tensor& a, bool adjoint) {
  const int64_t n = check_square(a, "MatrixInverse");
  Tensor out = a.clone();
  if (out.numel() == 0) return out;
  const int64_t batch = a.numel() / (n * n);
  std::vector<lapack_int> piv(static_cast<size_t>(n));
  TG_DISPATCH_FLOAT(a.dtype, T, {
    T* p = out.data<T>();
    for (int64_t i = 0; i < batch; ++i) {
      T* m = p + i * n * n;
      if (adjoint)
        for (int64_t r = 0; r < n; ++r)
          for (int64_t c = r + 1; c < n; ++c) std::swap(m[r * n + c], m[c * n + r]);
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
  const int64_t n = check_square(a, "MatrixSolve");
  check_rhs(a, b, n, "MatrixSolve");
  const int64_t k = b.shape[b.ndim() - 1];
  Tensor out = b.clone();
  if (out.numel() == 0) return out;
  const int64_t batch = out.numel() / (n * k);
  std::vector<lapack_int> piv(static_cast<size_t>(n));
  TG_DISPATCH_FLOAT(a.dtype, T, {
    std::vector<T> m(size_t(n * n));
    const T* pa = a.data<T>();
    T* pb = out.data<T>();
    for (int64_t i = 0; i < batch; ++i) {
      std::memcpy(m.data(), pa + i * n * n, size_t(n * n) * sizeof(T));
      lapack_int info = getrf<T>(lapack_int(n), m.data(), piv.data());
      if (info != 0) throw InvalidArgument("Input matrix is not invertible. [Op:MatrixSolve]");
      getrs<T>(adjoint ? 'T' : 'N', lapack_int(n), lapack_int(k), m.data(), piv.data(), pb + i * n * k);
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
