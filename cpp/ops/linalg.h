// Dense matrix functions over the last two axes (LU from OpenBLAS's LAPACK, ops/linalg.cpp).
#pragma once
#include <utility>
#include <vector>

#include "ops/ops.h"

namespace tg {
namespace kernels {
Tensor matrix_inverse(const Tensor& a, bool adjoint);
Tensor matrix_determinant(const Tensor& a);
std::pair<Tensor, Tensor> log_matrix_determinant(const Tensor& a);  // (sign, log|det|)
Tensor matrix_solve(const Tensor& a, const Tensor& b, bool adjoint);
Tensor cholesky(const Tensor& a);  // lower factor; reads a's lower triangle
std::pair<Tensor, Tensor> qr(const Tensor& a, bool full_matrices);  // Householder (geqrf + orgqr)
// (s) or (s, u, v) with a = u diag(s) v^T, s descending (gesdd)
std::vector<Tensor> svd(const Tensor& a, bool full_matrices, bool compute_uv);
std::pair<Tensor, Tensor> eigh(const Tensor& a);  // (ascending eigenvalues, eigenvectors as columns); lower triangle
Tensor triangular_solve(const Tensor& a, const Tensor& b, bool lower, bool adjoint);
// (e) or (e, v) with a v = v diag(e), complex, v's columns of unit norm (geev); complex input: e
// ascending by modulus (TF's Eigen order), real input: LAPACK's order, conjugate pairs adjacent
std::vector<Tensor> eig(const Tensor& a, bool compute_v);
Tensor matrix_logarithm(const Tensor& a);  // principal logm of complex matrices; not differentiable (as TF)
}  // namespace kernels
namespace ops {
Tensor matrix_inverse(const Tensor& a, bool adjoint);
Tensor matrix_determinant(const Tensor& a);
std::pair<Tensor, Tensor> log_matrix_determinant(const Tensor& a);
Tensor matrix_solve(const Tensor& a, const Tensor& b, bool adjoint);
Tensor cholesky(const Tensor& a);
std::pair<Tensor, Tensor> qr(const Tensor& a, bool full_matrices);
std::vector<Tensor> svd(const Tensor& a, bool full_matrices, bool compute_uv);
std::pair<Tensor, Tensor> eigh(const Tensor& a);
Tensor triangular_solve(const Tensor& a, const Tensor& b, bool lower, bool adjoint);
std::vector<Tensor> eig(const Tensor& a, bool compute_v);
}  // namespace ops
}  // namespace tg
