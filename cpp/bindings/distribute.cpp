// tapegrad.distribute's native allreduce (See Note [Native collectives] in
// python/tapegrad/distribute/_engine.py): the cross-rank check and the data allreduce of one tensor
// in one call, without the GIL, through the MPI library mpi4py has loaded. The build does not link
// MPI: Python hands over MPI_Allreduce's and MPI_Error_string's addresses and the integer handles
// mpi4py reports, once per process.
#include <climits>
#include <cstdint>
#include <optional>
#include <string>

#include "bindings/common.h"
#include "tensor/errors.h"

namespace tg {
namespace bind {
namespace {

// MPICH (and its ABI family) passes handles as int; Open MPI and the MPI-5 standard ABI as
// pointer-sized values. `wide` says which; the handles arrive as mpi4py's unsigned Python ints
// (MPICH's int handles sign-extended: 0xffffffff84000000 for a Dup of COMM_WORLD).
struct MpiLibrary {
  uintptr_t allreduce = 0;
  uintptr_t error_string = 0;
  bool wide = false;
};
MpiLibrary g_mpi;  // written by _mpi_bind under the distribute engine's lock, before any call

using AllreduceNarrow = int (*)(const void*, void*, int, int, int, int);
using AllreduceWide = int (*)(const void*, void*, int, intptr_t, intptr_t, intptr_t);
using ErrorString = int (*)(int, char*, int*);

int narrow_handle(uint64_t h) { return static_cast<int>(static_cast<uint32_t>(h)); }

int mpi_allreduce(const void* send, void* recv, int64_t count, uint64_t type, uint64_t op, uint64_t comm) {
  if (g_mpi.wide)
    return reinterpret_cast<AllreduceWide>(g_mpi.allreduce)(send, recv, int(count), intptr_t(type), intptr_t(op),
                                                            intptr_t(comm));
  return reinterpret_cast<AllreduceNarrow>(g_mpi.allreduce)(send, recv, int(count), narrow_handle(type),
                                                            narrow_handle(op), narrow_handle(comm));
}

[[noreturn]] void mpi_failed(int rc, const char* what) {
  char text[4096] = {0};  // above every implementation's MPI_MAX_ERROR_STRING
  int len = 0;
  if (g_mpi.error_string == 0 || reinterpret_cast<ErrorString>(g_mpi.error_string)(rc, text, &len) != 0) len = 0;
  std::string msg =
      std::string("tapegrad.distribute: MPI_Allreduce (") + what + ") failed with error " + std::to_string(rc);
  if (len > 0) msg += ": " + std::string(text, size_t(std::min(len, int(sizeof(text)))));
  throw RuntimeError(msg);
}

template <class T> void mpi_scale_in_place(T* p, int64_t n, T s) {
  for (int64_t i = 0; i < n; ++i) p[i] *= s;
}

}  // namespace

void init_distribute(py::module_& m) {
  m.def(
      "_mpi_bind",
      [](uintptr_t allreduce, uintptr_t error_string, bool wide) {
        if (allreduce == 0) throw ValueError("_mpi_bind: MPI_Allreduce's address is 0");
        g_mpi = MpiLibrary{allreduce, error_string, wide};
      },
      py::arg("allreduce"), py::arg("error_string"), py::arg("wide"),
      "(private) The MPI library's MPI_Allreduce and MPI_Error_string, and whether its handles are "
      "pointer-sized.");
  // Allreduce of `t` on `comm`, checked first: a 2-element int64 MAX allreduce of [h, -h] (h: the
  // caller's hash of what this rank is about to do) equals [h, -h] on every rank only when every
  // rank has the same h. Returns the reduced tensor (times `scale` unless it is 1, for floats), or
  // None when the hashes differ; then no data moved and every rank got None (the result of the check
  // is the same on all ranks).
  m.def(
      "_mpi_allreduce",
      [](const Tensor& t, uint64_t comm, uint64_t datatype, uint64_t op, int64_t check_hash, uint64_t int64_type,
         uint64_t max_op, double scale) -> std::optional<Tensor> {
        trace::poison("tapegrad.distribute's collectives");
        if (g_mpi.allreduce == 0) throw RuntimeError("internal: _mpi_allreduce before _mpi_bind");
        const int64_t n = t.numel();
        if (n > INT_MAX) throw ValueError("internal: _mpi_allreduce of more than INT_MAX elements");
        if (scale != 1.0 && t.dtype != DType::Float32 && t.dtype != DType::Float64)
          throw ValueError("internal: _mpi_allreduce scales float32 and float64 only");
        Tensor out = Tensor::empty(t.shape, t.dtype);
        bool same = false;
        {
          py::gil_scoped_release release;
          int64_t mine[2] = {check_hash, -check_hash}, all[2] = {0, 0};
          int rc = mpi_allreduce(mine, all, 2, int64_type, max_op, comm);
          if (rc != 0) mpi_failed(rc, "the cross-rank check");
          same = all[0] == check_hash && all[1] == -check_hash;
          if (same && n > 0) {
            rc = mpi_allreduce(t.raw(), out.raw(), n, datatype, op, comm);
            if (rc != 0) mpi_failed(rc, "the data");
            if (scale != 1.0) {
              if (t.dtype == DType::Float32) mpi_scale_in_place(out.data<float>(), n, float(scale));
              else mpi_scale_in_place(out.data<double>(), n, scale);
            }
          }
        }
        if (!same) return std::nullopt;
        return out;
      },
      py::arg("tensor"), py::arg("comm"), py::arg("datatype"), py::arg("op"), py::arg("check_hash"),
      py::arg("int64_type"), py::arg("max_op"), py::arg("scale"),
      "(private) The cross-rank check and the allreduce of one tensor, without the GIL; None when the "
      "ranks' checks differ.");
}

}  // namespace bind
}  // namespace tg
