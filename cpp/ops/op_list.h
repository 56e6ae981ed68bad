// The list of primitives: every op the engine knows, with TF's op name. Included by the tape
// (autodiff/tape.h) and by the ops (ops/ops.h); it includes nothing of either, so the layering is
// one way: tensor <- op_list <- autodiff/tape.h (recording) <- ops/*.cpp (kernels, wrappers)
// <- autodiff/derivatives.cpp (rules).
#pragma once
#include <cstdint>

namespace tg {

// Every primitive the engine knows, with TF's op name (used in error messages). The derivative
// table (autodiff/derivatives.cpp) is indexed by this enum; kernels switch on it.
// Sections per area keep parallel work from colliding; append within your area's section.
#define TG_OPS(X)                                                                            \
  /* binary elementwise, broadcasting */                                                     \
  X(Add, "AddV2")                                                                            \
  X(Sub, "Sub")                                                                              \
  X(Mul, "Mul")                                                                              \
  X(Div, "RealDiv")                                                                          \
  X(Pow, "Pow")                                                                              \
  X(Maximum, "Maximum")                                                                      \
  X(Minimum, "Minimum")                                                                      \
  X(FloorDiv, "FloorDiv")                                                                    \
  X(FloorMod, "FloorMod")                                                                    \
  X(SquaredDifference, "SquaredDifference")                                                  \
  X(Atan2, "Atan2")                                                                          \
  /* fused backward kernels (TF's TanhGrad, SigmoidGrad, ReluGrad): f(ans_or_x, grad) */     \
  X(TanhGrad, "TanhGrad")                                                                    \
  X(SigmoidGrad, "SigmoidGrad")                                                              \
  X(ReluGrad, "ReluGrad")                                                                    \
  /* comparisons and logic (no gradient) */                                                  \
  X(Equal, "Equal")                                                                          \
  X(NotEqual, "NotEqual")                                                                    \
  X(Less, "Less")                                                                            \
  X(LessEqual, "LessEqual")                                                                  \
  X(Greater, "Greater")                                                                      \
  X(GreaterEqual, "GreaterEqual")                                                            \
  X(LogicalAnd, "LogicalAnd")                                                                \
  X(LogicalOr, "LogicalOr")                                                                  \
  /* unary elementwise */                                                                    \
  X(Neg, "Neg")                                                                              \
  X(Square, "Square")                                                                        \
  X(Sqrt, "Sqrt")                                                                            \
  X(Rsqrt, "Rsqrt")                                                                          \
  X(Exp, "Exp")                                                                              \
  X(Expm1, "Expm1")                                                                          \
  X(Log, "Log")                                                                              \
  X(Log1p, "Log1p")                                                                          \
  X(Sin, "Sin")                                                                              \
  X(Cos, "Cos")                                                                              \
  X(Tan, "Tan")                                                                              \
  X(Tanh, "Tanh")                                                                            \
  X(Sinh, "Sinh")                                                                            \
  X(Cosh, "Cosh")                                                                            \
  X(Asin, "Asin")                                                                            \
  X(Acos, "Acos")                                                                            \
  X(Atan, "Atan")                                                                            \
  X(Abs, "Abs")                                                                              \
  X(Sign, "Sign")                                                                            \
  X(Relu, "Relu")                                                                            \
  X(Sigmoid, "Sigmoid")                                                                      \
  X(Softplus, "Softplus")                                                                    \
  X(Reciprocal, "Reciprocal")                                                                \
  X(Floor, "Floor")                                                                          \
  X(Ceil, "Ceil")                                                                            \
  X(Round, "Round")                                                                          \
  X(Erf, "Erf")                                                                              \
  X(LogicalNot, "LogicalNot")                                                                \
  X(IsNan, "IsNan")                                                                          \
  X(IsFinite, "IsFinite")                                                                    \
  X(IsInf, "IsInf")                                                                          \
  /* reductions */                                                                           \
  X(Sum, "Sum")                                                                              \
  X(Mean, "Mean")                                                                            \
  X(Max, "Max")                                                                              \
  X(Min, "Min")                                                                              \
  X(Prod, "Prod")                                                                            \
  X(Any, "Any")                                                                              \
  X(All, "All")                                                                              \
  /* linear algebra and shape */                                                             \
  X(MatMul, "MatMul")                                                                        \
  X(Reshape, "Reshape")                                                                      \
  X(Transpose, "Transpose")                                                                  \
  X(BroadcastTo, "BroadcastTo")                                                              \
  X(Cast, "Cast")                                                                            \
  X(Select, "SelectV2")                                                                      \
  X(Identity, "Identity")                                                                    \
  TG_OPS_MATH(X)   /* area: math, reductions, activations, nn losses (ops/math_*.cpp) */     \
  TG_OPS_SHAPE(X)  /* area: shape and indexing (ops/shape.cpp, ops/index.cpp) */             \
  TG_OPS_LINALG(X) /* area: einsum, conv, pooling, random (ops/linalg.cpp, ops/conv.cpp) */  \
  TG_OPS_NNLOSS(X) /* area: softmax, log_softmax, fused cross-entropies (ops/nn_loss.cpp) */ \
  TG_OPS_CUSTOM(X) /* area: custom_gradient and other tape features */                       \
  TG_OPS_COMPLEX(X) /* area: complex numbers (ops/complex.cpp) */

// area lists: add `X(Name, "TFName")` entries here
#define TG_OPS_MATH(X)              \
  X(Erfc, "Erfc")                   \
  X(Relu6, "Relu6")                 \
  X(Cumsum, "Cumsum")               \
  X(ArgMax, "ArgMax")               \
  X(ArgMin, "ArgMin")               \
  X(LeakyRelu, "LeakyRelu")         \
  X(LeakyReluGrad, "LeakyReluGrad") \
  X(Relu6Grad, "Relu6Grad")         \
  X(Asinh, "Asinh")                 \
  X(Acosh, "Acosh")                 \
  X(Atanh, "Atanh")                 \
  X(Cumprod, "Cumprod")             \
  X(Elu, "Elu")                     \
  X(EluGrad, "EluGrad")             \
  X(Selu, "Selu")                   \
  X(SeluGrad, "SeluGrad")

#define TG_OPS_SHAPE(X)                   \
  X(StridedSlice, "StridedSlice")         \
  X(StridedSliceGrad, "StridedSliceGrad") \
  X(Concat, "ConcatV2")                   \
  X(Gather, "GatherV2")                   \
  X(GatherGrad, "UnsortedSegmentSum")     \
  X(ScatterUpdate, "TensorScatterUpdate")

#define TG_OPS_LINALG(X)                                                \
  X(Conv2D, "Conv2D")                                                   \
  X(Conv2DBackpropInput, "Conv2DBackpropInput")                         \
  X(Conv2DBackpropFilter, "Conv2DBackpropFilter")                       \
  X(MaxPool, "MaxPool")                                                 \
  X(MaxPoolGrad, "MaxPoolGrad")                                         \
  X(MaxPoolGradGrad, "MaxPoolGradGrad")                                 \
  X(AvgPool, "AvgPool")                                                 \
  X(AvgPoolGrad, "AvgPoolGrad")                                         \
  X(MatrixInverse, "MatrixInverse")                                     \
  X(MatrixDeterminant, "MatrixDeterminant")                             \
  X(MatrixSolve, "MatrixSolve")                                         \
  X(Cholesky, "Cholesky")                                               \
  X(MatrixTriangularSolve, "MatrixTriangularSolve")                     \
  X(LogMatrixDeterminant, "LogMatrixDeterminant")                       \
  X(SelfAdjointEigV2, "SelfAdjointEigV2")                               \
  X(Qr, "Qr")                                                           \
  X(Svd, "Svd")                                                         \
  X(Eig, "Eig")                                                         \
  X(DepthwiseConv2d, "DepthwiseConv2dNative")                           \
  X(DepthwiseConv2dBackpropInput, "DepthwiseConv2dNativeBackpropInput") \
  X(DepthwiseConv2dBackpropFilter, "DepthwiseConv2dNativeBackpropFilter")

#define TG_OPS_NNLOSS(X)                                              \
  X(Softmax, "Softmax")                                               \
  X(LogSoftmax, "LogSoftmax")                                         \
  X(SoftmaxCrossEntropy, "SoftmaxCrossEntropyWithLogits")             \
  X(SparseSoftmaxCrossEntropy, "SparseSoftmaxCrossEntropyWithLogits") \
  X(SigmoidCrossEntropy, "SigmoidCrossEntropyWithLogits")

#define TG_OPS_CUSTOM(X) X(CustomGradient, "IdentityN")

#define TG_OPS_COMPLEX(X)     \
  X(Real, "Real")             \
  X(Imag, "Imag")             \
  X(Conj, "Conj")             \
  X(Angle, "Angle")           \
  X(ComplexAbs, "ComplexAbs") \
  X(Complex, "Complex")

enum class Op : uint16_t {
#define TG_OP_ENUM(name, tfname) name,
  TG_OPS(TG_OP_ENUM)
#undef TG_OP_ENUM
      kCount
};

const char* op_name(Op op);
const char* op_enum_name(Op op);  // the C++ name ("Add"), for the registry listing  // TF's op name, used in error
                                  // messages ("AddV2", "MatMul")

}  // namespace tg
