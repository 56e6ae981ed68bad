// The direct conv kernels (conv_kernels.h) at 16 floats per vector; this file alone is built with
// -mavx512f (CMakeLists.txt) and conv.cpp calls it only on CPUs that have AVX-512F.
#define TG_CONVK_ISA isa_avx512
#include "ops/conv_kernels.h"

#if defined(TG_HAVE_AVX512_TU)
namespace tg {
namespace convk {

const KernelSet& kernel_set_avx512() {
  static const KernelSet s = make_kernel_set<16>();
  return s;
}

}  // namespace convk
}  // namespace tg
#endif
