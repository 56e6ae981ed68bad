// DLPack interop: Tensor.__dlpack__ / __dlpack_device__ (export) and _core.from_dlpack (import).
// See Note [DLPack].
#include <cstring>
#include <string>

#include "bindings/common.h"

namespace tg {
namespace bind {
namespace {

// Note [DLPack]
// The DLPack ABI (dlpack.h, v1.0), written out here: a struct layout is the whole contract.
// Export: a DLManagedTensor (legacy, capsule "dltensor") or DLManagedTensorVersioned (1.0,
// capsule "dltensor_versioned", chosen when the consumer's max_version is >= (1, 0)) whose
// manager_ctx holds a reference to the tensor's Storage, so the buffer lives until the consumer
// calls the deleter. A held export counts in the buffer's refcount, so a Variable's next write
// goes to a fresh buffer (See Note [Variable writes]) and the consumer keeps the value it took.
// Versioned exports carry DLPACK_FLAG_BITMASK_READ_ONLY: a tensor's buffer may be shared with tape
// entries, numpy views and the Variable it came from, so writes through it would change values
// that tapegrad treats as immutable (the legacy struct has no flag; torch ignores it anyway).
// Import: a consumed capsule is renamed "used_dltensor[_versioned]" (the producer's capsule
// destructor then leaves it alone) and the tensor borrows the memory (See Note [External
// buffers]); the producer's deleter runs when the tensor's last reference goes. Memory that is
// strided, or not aligned to its element size, is copied into a fresh buffer and the deleter runs
// at once.
struct DLDevice {
  int32_t device_type;
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};
struct DLPackVersion {
  uint32_t major;
  uint32_t minor;
};
struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(DLManagedTensorVersioned* self);
  uint64_t flags;
  DLTensor dl_tensor;
};
constexpr uint64_t kFlagReadOnly = 1, kFlagIsCopied = 2;
constexpr int32_t kDLCPU = 1, kDLCUDA = 2;
enum : uint8_t { kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLBfloat = 4, kDLComplex = 5, kDLBool = 6 };

DLDataType dl_dtype(DType d) {
  const uint8_t bits = uint8_t(itemsize(d) * 8);
  switch (d) {
    case DType::Float32:
    case DType::Float64:
    case DType::Float16: return {kDLFloat, bits, 1};
    case DType::BFloat16: return {kDLBfloat, 16, 1};
    case DType::Bool: return {kDLBool, 8, 1};
    case DType::Int8:
    case DType::Int16:
    case DType::Int32:
    case DType::Int64: return {kDLInt, bits, 1};
    case DType::UInt8:
    case DType::UInt16:
    case DType::UInt32:
    case DType::UInt64: return {kDLUInt, bits, 1};
    case DType::Complex64:
    case DType::Complex128: return {kDLComplex, bits, 1};
  }
  return {kDLFloat, 32, 1};
}

// TF's messages (tensorflow/c/eager/dlpack.cc), and "not supported" for what tapegrad lacks.
DType tg_dtype(DLDataType t) {
  if (t.lanes != 1)
    throw InvalidArgument("Unsupported DLPack lanes: " + std::to_string(t.lanes) +
                          " (vector element types are not supported)");
  const std::string bits = std::to_string(t.bits);
  switch (t.code) {
    case kDLInt:
      switch (t.bits) {
        case 8: return DType::Int8;
        case 16: return DType::Int16;
        case 32: return DType::Int32;
        case 64: return DType::Int64;
      }
      throw InvalidArgument("Unsupported Int bits: " + bits);
    case kDLUInt:
      switch (t.bits) {
        case 8: return DType::UInt8;
        case 16: return DType::UInt16;
        case 32: return DType::UInt32;
        case 64: return DType::UInt64;
      }
      throw InvalidArgument("Unsupported UInt bits: " + bits);
    case kDLFloat:
      switch (t.bits) {
        case 16: return DType::Float16;
        case 32: return DType::Float32;
        case 64: return DType::Float64;
      }
      throw InvalidArgument("Unsupported Float bits: " + bits);
    case kDLBfloat:
      if (t.bits == 16) return DType::BFloat16;
      throw InvalidArgument("Unsupported BFloat bits: " + bits);
    case kDLBool:
      if (t.bits == 8) return DType::Bool;
      throw InvalidArgument("Only DLPack bools of bitwidth 8 are supported, got: " + bits);
    case kDLComplex:
      switch (t.bits) {
        case 64: return DType::Complex64;
        case 128: return DType::Complex128;
      }
      throw InvalidArgument("Unsupported Complex bits: " + bits);
  }
  throw InvalidArgument("Unsupported Type Codes: " + std::to_string(t.code));
}

// ---- export ----

struct ExportCtx {
  std::shared_ptr<Storage> keep;  // the buffer's reference (See Note [DLPack])
  int64_t shape[kMaxRank];
  int64_t strides[kMaxRank];
  union {
    DLManagedTensor legacy;
    DLManagedTensorVersioned versioned;
  };
  ExportCtx() {}
};

void fill(DLTensor& dl, ExportCtx* ctx, const Tensor& t) {
  int64_t stride = 1;
  for (int i = t.ndim() - 1; i >= 0; --i) {
    ctx->shape[i] = t.shape[i];
    ctx->strides[i] = stride;
    stride *= t.shape[i];
  }
  dl.data = t.raw();
  dl.device = {kDLCPU, 0};
  dl.ndim = t.ndim();
  dl.dtype = dl_dtype(t.dtype);
  dl.shape = ctx->shape;
  dl.strides = ctx->strides;
  dl.byte_offset = 0;
}

// The capsules' destructors: an unconsumed export frees its context; a consumed one is the
// consumer's to free. They keep any pending Python error, as the DLPack spec's example does.
template <class M> void capsule_destructor(PyObject* cap, const char* name) {
  if (!PyCapsule_IsValid(cap, name)) return;  // renamed "used_...": consumed
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  auto* m = static_cast<M*>(PyCapsule_GetPointer(cap, name));
  if (m && m->deleter) m->deleter(m);
  PyErr_Restore(type, value, tb);
}

py::object export_capsule(const Tensor& src, py::object stream, py::object max_version, py::object dl_device,
                          py::object copy) {
  if (!stream.is_none() && !(PyLong_Check(stream.ptr()) && py::cast<long long>(stream) == -1))
    throw py::buffer_error("tapegrad tensors live in CPU memory: __dlpack__'s stream must be None, got " +
                           std::string(py::repr(stream)));
  if (!dl_device.is_none()) {
    auto dev = py::cast<py::tuple>(dl_device);
    if (dev.size() != 2 || py::cast<int>(dev[0]) != kDLCPU || py::cast<int>(dev[1]) != 0)
      throw py::buffer_error("tapegrad can export only to the CPU (dl_device (1, 0)), got dl_device " +
                             std::string(py::repr(dl_device)));
  }
  const bool copied = !copy.is_none() && py::cast<bool>(copy);  // copy=False: never needed on the CPU
  bool versioned = false;
  if (!max_version.is_none()) {
    auto mv = py::cast<py::tuple>(max_version);
    if (mv.size() < 1) throw py::value_error("max_version must be a (major, minor) tuple");
    versioned = py::cast<int>(mv[0]) >= 1;
  }
  Tensor t = copied ? src.clone() : src;
  auto* ctx = new ExportCtx();
  ctx->keep = t.storage;
  if (versioned) {
    auto& m = ctx->versioned;
    m.version = {1, 0};
    m.manager_ctx = ctx;
    m.deleter = [](DLManagedTensorVersioned* self) { delete static_cast<ExportCtx*>(self->manager_ctx); };
    m.flags = copied ? kFlagIsCopied : kFlagReadOnly;
    fill(m.dl_tensor, ctx, t);
    PyObject* cap = PyCapsule_New(&m, "dltensor_versioned", [](PyObject* c) {
      capsule_destructor<DLManagedTensorVersioned>(c, "dltensor_versioned");
    });
    if (!cap) {
      delete ctx;
      throw py::error_already_set();
    }
    return py::reinterpret_steal<py::object>(cap);
  }
  auto& m = ctx->legacy;
  m.manager_ctx = ctx;
  m.deleter = [](DLManagedTensor* self) { delete static_cast<ExportCtx*>(self->manager_ctx); };
  fill(m.dl_tensor, ctx, t);
  PyObject* cap =
      PyCapsule_New(&m, "dltensor", [](PyObject* c) { capsule_destructor<DLManagedTensor>(c, "dltensor"); });
  if (!cap) {
    delete ctx;
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::object>(cap);
}

// ---- import ----

// What a borrowed Storage releases: the producer's managed tensor, through its own deleter.
struct Borrowed {
  void* managed;
  bool versioned;
  void run() const {
    if (versioned) {
      auto* m = static_cast<DLManagedTensorVersioned*>(managed);
      if (m->deleter) m->deleter(m);
    } else {
      auto* m = static_cast<DLManagedTensor*>(managed);
      if (m->deleter) m->deleter(m);
    }
  }
};

void release_borrowed(void* p) noexcept {
  auto* b = static_cast<Borrowed*>(p);
  b->run();
  delete b;
}

// Copies a strided array of `itemsize`-byte elements into the row-major buffer `dst`.
void copy_strided(char* dst, const char* src, const Shape& shape, const int64_t* strides, size_t isz) {
  const int nd = shape.ndim;
  const int64_t n = shape.numel();
  if (n == 0) return;
  int64_t idx[kMaxRank] = {};
  for (int64_t k = 0; k < n; ++k) {
    int64_t off = 0;
    for (int i = 0; i < nd; ++i) off += idx[i] * strides[i];
    std::memcpy(dst + size_t(k) * isz, src + off * int64_t(isz), isz);
    for (int i = nd - 1; i >= 0; --i) {
      if (++idx[i] < shape[i]) break;
      idx[i] = 0;
    }
  }
}

Tensor import_capsule(py::handle cap) {
  if (!PyCapsule_CheckExact(cap.ptr()))
    throw tg::TypeError("from_dlpack expects a DLPack capsule (a PyCapsule named \"dltensor\") or an object with "
                        "__dlpack__, got " +
                        std::string(py::repr(cap)) + " of type " +
                        std::string(py::str(py::type::of(cap).attr("__name__"))));
  const char* name = PyCapsule_GetName(cap.ptr());
  const bool versioned = name && std::strcmp(name, "dltensor_versioned") == 0;
  if (!versioned && !(name && std::strcmp(name, "dltensor") == 0))
    throw InvalidArgument(std::string("DLPack tensor must be a capsule with name \"dltensor\" or "
                                      "\"dltensor_versioned\", got \"") +
                          (name ? name : "") + "\". Note that a DLPack tensor may be consumed at most once.");
  void* managed = PyCapsule_GetPointer(cap.ptr(), name);
  if (!managed) throw py::error_already_set();
  DLTensor* dl;
  if (versioned) {
    auto* m = static_cast<DLManagedTensorVersioned*>(managed);
    if (m->version.major > 1) {  // a layout we cannot read beyond the header: leave it to its owner
      throw py::buffer_error("DLPack version " + std::to_string(m->version.major) + "." +
                             std::to_string(m->version.minor) + " is not supported (tapegrad reads 1.x)");
    }
    dl = &m->dl_tensor;
  } else {
    dl = &static_cast<DLManagedTensor*>(managed)->dl_tensor;
  }
  // From here the capsule is consumed: the tensor (or this function, on error) owns `managed`.
  if (PyCapsule_SetName(cap.ptr(), versioned ? "used_dltensor_versioned" : "used_dltensor") != 0)
    throw py::error_already_set();
  auto* owner = new Borrowed{managed, versioned};
  struct Guard {
    Borrowed* b;
    ~Guard() {
      if (b) release_borrowed(b);
    }
  } guard{owner};

  if (dl->device.device_type != kDLCPU) {
    if (dl->device.device_type == kDLCUDA)
      throw InvalidArgument("GPU:" + std::to_string(dl->device.device_id) + " unknown device.");
    throw InvalidArgument("Unsupported Device Type");
  }
  const DType dtype = tg_dtype(dl->dtype);
  if (dl->ndim < 0 || dl->ndim > kMaxRank)
    throw InvalidArgument("tapegrad supports tensors of rank at most " + std::to_string(kMaxRank) + ", got rank " +
                          std::to_string(dl->ndim));
  const Shape shape = Shape::from(dl->shape, dl->ndim);
  const size_t isz = itemsize(dtype);
  if (!dl->data && shape.numel() > 0) throw InvalidArgument("DLPack tensor of shape " + shape.str() + " has no data");
  const char* base = static_cast<const char*>(dl->data) + dl->byte_offset;
  // Row-major contiguous? Dims of size 1 may carry any stride; an empty tensor has no layout.
  bool contiguous = true;
  if (dl->strides && shape.numel() > 0) {
    int64_t expect = 1;
    for (int i = dl->ndim - 1; i >= 0; --i) {
      if (shape[i] != 1 && dl->strides[i] != expect) contiguous = false;
      expect *= shape[i];
    }
  }
  const bool aligned = reinterpret_cast<uintptr_t>(base) % isz == 0;
  if (contiguous && aligned && base) {
    Tensor t;
    t.shape = shape;
    t.dtype = dtype;
    t.storage =
        std::make_shared<Storage>(const_cast<char*>(base), checked_nbytes(shape, dtype), &release_borrowed, owner);
    guard.b = nullptr;  // the storage releases it now
    t.id = next_tensor_id();
    return t;
  }
  Tensor t = Tensor::empty(shape, dtype);
  if (shape.numel() > 0) {
    if (contiguous) {
      std::memcpy(t.raw(), base, t.nbytes());
    } else {
      copy_strided(static_cast<char*>(t.raw()), base, shape, dl->strides, isz);
    }
  }
  return t;  // the guard runs the producer's deleter
}

}  // namespace

// Called by init_tensor: the DLPack methods of Tensor and Variable, and _core.from_dlpack.
void init_dlpack(py::module_& m, py::class_<Tensor>& tensor,
                 py::class_<Variable, std::shared_ptr<Variable>>& variable) {
  const char* doc = "Exports the value as a DLPack capsule (the array API's __dlpack__): zero-copy, read-only for "
                    "DLPack >= 1.0 consumers; copy=True exports a fresh copy.";
  tensor.def(
      "__dlpack__",
      [](py::handle self, py::object stream, py::object max_version, py::object dl_device, py::object copy) {
        trace::host_read(tensor_of(self), "__dlpack__");
        return export_capsule(tensor_of(self), stream, max_version, dl_device, copy);
      },
      py::kw_only(), py::arg("stream") = py::none(), py::arg("max_version") = py::none(),
      py::arg("dl_device") = py::none(), py::arg("copy") = py::none(), doc);
  // A Variable exports its current value, read as every binding reads it (to_tensor_noaccess: not
  // recorded on tapes); the export holds the buffer, so later assigns write elsewhere (See Note
  // [Variable writes]).
  variable.def(
      "__dlpack__",
      [](py::handle self, py::object stream, py::object max_version, py::object dl_device, py::object copy) {
        Tensor t = to_tensor_noaccess(self);
        trace::host_read(t, "__dlpack__");
        return export_capsule(t, stream, max_version, dl_device, copy);
      },
      py::kw_only(), py::arg("stream") = py::none(), py::arg("max_version") = py::none(),
      py::arg("dl_device") = py::none(), py::arg("copy") = py::none(), doc);
  const char* dev_doc = "The DLPack device of the value: (kDLCPU, 0) = (1, 0).";
  tensor.def("__dlpack_device__", [](py::handle) { return py::make_tuple(kDLCPU, 0); }, dev_doc);
  variable.def("__dlpack_device__", [](py::handle) { return py::make_tuple(kDLCPU, 0); }, dev_doc);
  m.def(
      "from_dlpack_capsule",
      [](DLPackCapsule capsule) {
        trace::poison("tf.experimental.dlpack in a traced function");
        return import_capsule(capsule);
      },
      py::arg("dlcapsule"), "A Tensor reading a DLPack capsule's memory (zero-copy when contiguous and aligned).");
}

}  // namespace bind
}  // namespace tg
