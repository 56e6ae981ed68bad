// Tensor: an immutable, contiguous, row-major N-d array of one dtype, cheap to copy (a refcounted
// Storage plus an inline shape), and Variable: the one mutable value.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/errors.h"

namespace tg {

constexpr int kMaxRank = 8;

// The one checked size computation (See Note [Checked sizes]): the product of `dims`, or
// InvalidArgument naming the dims when it does not fit in int64 (a negative dim is refused too).
int64_t checked_numel(const int64_t* dims, int n);
// a * b for sizes, or InvalidArgument (TF's "Encountered overflow when multiplying").
int64_t checked_mul(int64_t a, int64_t b);

// Shape with inline storage: no heap allocation on the per-op path.
struct Shape {
  std::array<int64_t, kMaxRank> d{};
  int ndim = 0;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  static Shape from(const int64_t* dims, int n);
  static Shape from(const std::vector<int64_t>& dims) { return from(dims.data(), int(dims.size())); }

  int64_t operator[](int i) const { return d[i]; }
  int64_t& operator[](int i) { return d[i]; }
  // Unchecked: every Shape that reaches a Tensor has been checked by Tensor::empty (checked_numel).
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= d[i];
    return n;
  }
  bool operator==(const Shape& o) const {
    if (ndim != o.ndim) return false;
    for (int i = 0; i < ndim; ++i)
      if (d[i] != o.d[i]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::vector<int64_t> vec() const { return std::vector<int64_t>(d.begin(), d.begin() + ndim); }
  std::string str() const;  // TF's "[2,3]"
  int64_t checked_numel() const { return tg::checked_numel(d.data(), ndim); }
};

// numel * itemsize, checked; InvalidArgument when it does not fit.
size_t checked_nbytes(const Shape& s, DType dtype);

// 64-byte aligned buffer. Small buffers come from a thread-local free list (see Note [Buffer pool]).
// Or borrowed memory that another library owns (See Note [External buffers]).
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  explicit Storage(size_t nbytes);
  // Borrowed: `data` stays valid until `release(owner)`, which the last reference's destructor calls.
  Storage(void* data, size_t nbytes, void (*release)(void*) noexcept, void* owner) noexcept
      : data(data), nbytes(nbytes), release_(release), owner_(owner) {}
  ~Storage();
  bool external() const { return release_ != nullptr; }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

 private:
  void (*release_)(void*) noexcept = nullptr;
  void* owner_ = nullptr;
};

// Note [External buffers]
// A tensor made by tf.experimental.dlpack.from_dlpack reads the producer's memory in place: its
// Storage is borrowed, and the producer's DLPack deleter runs when the last Tensor (or tape entry,
// or numpy view) holding it goes, on whichever thread that happens. Such memory is only ever
// read: Tensors are immutable, and a Variable made from one copies it (Variable's constructor
// clones). Kernels need each element naturally aligned (they use unaligned vector loads, so the
// pool's 64-byte alignment is a speed matter only); bindings/dlpack.cpp copies input that is not.

int64_t next_tensor_id();

class Tensor {
 public:
  std::shared_ptr<Storage> storage;  // null: an undefined tensor (a None gradient) or a meta-only copy
  Shape shape;
  DType dtype = DType::Float32;
  int64_t id = 0;  // identity for tapes; copies share it (See Note [Tensor identity])

  Tensor() = default;
  static Tensor empty(const Shape& shape, DType dtype);
  static Tensor zeros(const Shape& shape, DType dtype);
  static Tensor full(const Shape& shape, DType dtype, double value);
  template <class T> static Tensor scalar(T v) {
    Tensor t = empty(Shape{}, dtype_of<T>::value);
    *t.data<T>() = v;
    return t;
  }

  bool defined() const { return id != 0; }
  bool has_data() const { return storage != nullptr; }
  int ndim() const { return shape.ndim; }
  int64_t numel() const { return shape.numel(); }
  size_t nbytes() const { return size_t(numel()) * itemsize(dtype); }
  template <class T> T* data() const { return static_cast<T*>(raw()); }
  void* raw() const {
    if (__builtin_expect(storage == nullptr, 0)) no_data();
    return storage->data;
  }

  // Same identity and shape, no data: what a tape keeps of a tensor its backward does not read.
  Tensor meta() const {
    Tensor t;
    t.shape = shape;
    t.dtype = dtype;
    t.id = id;
    return t;
  }
  // A deep copy with a fresh identity.
  Tensor clone() const;
  // Value as double (numel must be 1).
  double item() const;

 private:
  // RuntimeError ("internal: ..."): an undefined tensor, or a meta() copy whose data a gradient
  // rule read without declaring it saved (Note [Saved tensors]).
  [[noreturn]] void no_data() const;
};

// Note [Tensor identity]
// A tape knows tensors by `id`, not by address: Tensor is a value type and is copied into tape
// entries and Python objects. Every kernel output gets a fresh id from next_tensor_id(). A
// Variable keeps one id for its whole life, so every read of it maps to the same gradient slot.

// Note [Variable writes]
// A Variable's storage is written in place (assign, optimizer kernels) only when nothing else holds
// it; otherwise the write goes to a fresh buffer (copy-on-write). Tape entries and numpy views
// that hold the old buffer therefore keep the value they saw, as TF's read-value semantics say.
//
// Note [Threads contract]
// `mu` makes each read and each write of a Variable atomic, as the mutex of TF's resource
// variables does: a read (`read()`: a reference to the current buffer) and a write (decide "in
// place or copy" from the buffer's reference count, then write) never overlap. So a reader gets
// the old value or the new one, never a mix, and a reference taken by a reader (a snapshot, a
// numpy view) makes every later write copy first: the snapshot never changes. assign_add and
// assign_sub read, add and write under the lock: concurrent ones lose nothing. An optimizer step
// locks every variable it writes (in address order: two steps never deadlock) for its whole pass.
// Who waits for `mu` waits without the GIL, and nobody takes the GIL while holding `mu` (the
// bindings' `read_variable`, `write_variable` and `run_with_variables_locked`), so the lock cannot
// deadlock against the interpreter. `value.storage` is read or replaced only under `mu`; its
// shape, dtype and id never change and may be read without it.
class Variable : public std::enable_shared_from_this<Variable> {
 public:
  Variable(Tensor value, std::string name, bool trainable);
  Tensor value;  // id, shape and dtype fixed at construction; storage guarded by `mu`
  std::string name;
  bool trainable;
  mutable std::mutex mu;  // See Note [Threads contract]
  // Bumped (under `mu`) whenever the storage may be written: writable() and write_locked(). The
  // sparse optimizer step compares it to know that nobody else wrote its slots
  // (Note [Sparse optimizer step]).
  uint64_t version = 0;

  // The current value (shares the buffer), under the lock.
  Tensor read() const {
    std::lock_guard<std::mutex> lk(mu);
    return value;
  }
  // The value's storage, made exclusive first (See Note [Variable writes]); the caller holds `mu`.
  // With `copy_old` false the caller overwrites every element and the old data is not copied.
  Tensor& writable(bool copy_old = true);
  // Writes: same shape and dtype, else InvalidArgument. These take `mu`; the `_locked` forms
  // expect the caller to hold it.
  enum class Write { Assign, Add, Sub };
  void write_locked(Write how, const Tensor& v);
  void assign(const Tensor& v) { write(Write::Assign, v); }
  void assign_add(const Tensor& v) { write(Write::Add, v); }
  void assign_sub(const Tensor& v) { write(Write::Sub, v); }
  void write(Write how, const Tensor& v) {
    std::lock_guard<std::mutex> lk(mu);
    write_locked(how, v);
  }
};

// Holds the locks of several variables (each once, in address order, so two holders never
// deadlock); See Note [Threads contract].
class VariableLocks {
 public:
  // Locks them all, waiting as long as needed; with `try_only`, takes all or none at once
  // (`owns()` says which).
  explicit VariableLocks(std::vector<const Variable*> vars, bool try_only = false);
  ~VariableLocks();
  VariableLocks(const VariableLocks&) = delete;
  VariableLocks& operator=(const VariableLocks&) = delete;
  bool owns() const { return owns_; }

 private:
  std::vector<const Variable*> vars_;
  bool owns_ = false;
};

}  // namespace tg
