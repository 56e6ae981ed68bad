#include "tensor/tensor.h"

#include <sys/mman.h>
#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "ops/ops.h"

namespace tg {

Shape::Shape(std::initializer_list<int64_t> dims) {
  if (dims.size() > size_t(kMaxRank))
    throw InvalidArgument("tapegrad supports tensors of rank at most " + std::to_string(kMaxRank));
  ndim = int(dims.size());
  int i = 0;
  for (int64_t v : dims) d[i++] = v;
}

Shape Shape::from(const int64_t* dims, int n) {
  if (n > kMaxRank)
    throw InvalidArgument("tapegrad supports tensors of rank at most " + std::to_string(kMaxRank) + ", got rank " +
                          std::to_string(n));
  tg::checked_numel(dims, n);
  Shape s;
  s.ndim = n;
  for (int i = 0; i < n; ++i) s.d[i] = dims[i];
  return s;
}

// Note [Checked sizes]
// Shape::numel() multiplies without checks because it runs on every op. Instead, every size that
// comes from a user or is computed by an op (reshape's product, broadcast/tile/pad/one_hot/range/
// scatter_nd outputs) is checked once, here: Shape::from checks the shapes the bindings parse, and
// Tensor::empty -- the one place a buffer is sized -- checks numel * itemsize before allocating. A
// product that does not fit in int64 raises InvalidArgumentError naming the dims (TF refuses such
// shapes too); an allocation the machine cannot serve raises ResourceExhaustedError naming the
// shape, dtype and bytes (TF's "OOM when allocating"), never std::bad_alloc.
static std::string dims_str(const int64_t* dims, int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

int64_t checked_numel(const int64_t* dims, int n) {
  int64_t p = 1;
  bool overflow = false;
  for (int i = 0; i < n; ++i) {
    if (dims[i] < 0)
      throw InvalidArgument("Dimension " + std::to_string(dims[i]) + " must be >= 0 (dim " + std::to_string(i) +
                            " of shape " + dims_str(dims, n) + ")");
    if (!overflow && __builtin_mul_overflow(p, dims[i], &p)) overflow = true;
  }
  // a zero dim makes the product 0 even when the others overflow, as TF's TensorShape
  for (int i = 0; i < n; ++i)
    if (dims[i] == 0) return 0;
  if (overflow) throw InvalidArgument("Shape " + dims_str(dims, n) + " would have more than 2**63 - 1 elements");
  return p;
}

int64_t checked_mul(int64_t a, int64_t b) {
  int64_t r;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r))
    throw InvalidArgument("Encountered overflow when multiplying " + std::to_string(a) + " with " + std::to_string(b) +
                          ", result: -1");
  return r;
}

size_t checked_nbytes(const Shape& s, DType dtype) {
  int64_t n = s.checked_numel(), b;
  if (__builtin_mul_overflow(n, int64_t(itemsize(dtype)), &b))
    throw ResourceExhausted("OOM when allocating tensor with shape" + s.str() + " and type " + dtype_name(dtype) +
                            " (more than 2**63 - 1 bytes) on the CPU");
  return size_t(b);
}

static size_t physical_bytes() {
  static const size_t total = [] {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? size_t(pages) * size_t(page) : SIZE_MAX;
  }();
  return total;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < ndim; ++i) {
    if (i) s += ",";
    s += std::to_string(d[i]);
  }
  return s + "]";
}

// Note [Buffer pool]
// Small tensors dominate the per-op path (a 16-element chain spends more time in malloc than in
// math). Buffers up to kPoolMax bytes are rounded up to a power of two and recycled through a
// thread-local free list per size class; larger ones go straight to aligned_alloc. A buffer freed
// on another thread simply joins that thread's list.
namespace {
constexpr size_t kPoolMin = 64, kPoolMax = 16384;
constexpr int kClasses = 9;  // 64 .. 16384
constexpr size_t kPerClass = 64;
constexpr size_t kHuge = size_t(2) << 20, kHugeMin = size_t(4) << 20;

struct Pool {
  std::vector<void*> lists[kClasses];
  ~Pool() {
    for (auto& l : lists)
      for (void* p : l) std::free(p);
  }
};
thread_local Pool* t_pool = nullptr;
thread_local bool t_pool_dead = false;

struct PoolGuard {
  ~PoolGuard() {
    delete t_pool;
    t_pool = nullptr;
    t_pool_dead = true;
  }
};
thread_local PoolGuard t_guard;

inline int size_class(size_t n) {
  int c = 0;
  size_t s = kPoolMin;
  while (s < n) {
    s <<= 1;
    ++c;
  }
  return c;
}
inline Pool* pool() {
  if (t_pool_dead) return nullptr;
  if (!t_pool) {
    (void)&t_guard;  // make sure the guard is constructed on this thread
    t_pool = new Pool();
  }
  return t_pool;
}
// Note [Large buffer cache]
// A fresh large buffer costs the kernel a page fault and a zeroing pass over every page (huge
// pages included) before the kernel that fills it runs: in the CNN training step (6.4 MB
// activations) page clearing was 16% of the CPU time. A training loop asks for the same sizes
// every step, so freed large buffers wait in a process-wide cache, matched by exact rounded
// length, up to kCacheBytes in all (the oldest leave first). With it the step's CPU time fell
// from 4.6-5.4 ms to about 3.7 ms (the same as glibc's malloc with its mmap and trim thresholds
// raised). The cache is never destroyed: buffers may be freed during static destruction.
constexpr size_t kCacheBytes = size_t(256) << 20;
constexpr size_t kCacheEntries = 64;

struct LargeCache {
  std::mutex mu;
  std::vector<std::pair<size_t, void*>> items;  // (rounded length, buffer), oldest first
  size_t total = 0;

  void* take(size_t len) {
    std::lock_guard<std::mutex> lk(mu);
    for (size_t i = items.size(); i-- > 0;)
      if (items[i].first == len) {
        void* p = items[i].second;
        items.erase(items.begin() + std::ptrdiff_t(i));
        total -= len;
        return p;
      }
    return nullptr;
  }
  bool keep(size_t len, void* p) {
    if (len > kCacheBytes / 4) return false;
    std::vector<void*> drop;
    {
      std::lock_guard<std::mutex> lk(mu);
      while (!items.empty() && (total + len > kCacheBytes || items.size() >= kCacheEntries)) {
        total -= items.front().first;
        drop.push_back(items.front().second);
        items.erase(items.begin());
      }
      items.emplace_back(len, p);
      total += len;
    }
    for (void* q : drop) std::free(q);
    return true;
  }
};

LargeCache& large_cache() {
  static LargeCache* c = new LargeCache();  // leaked on purpose (see the Note)
  return *c;
}

inline size_t huge_len(size_t n) { return (n + kHuge - 1) & ~(kHuge - 1); }
}  // namespace

// Note [Buffers under ASan]
// The pool, the 64-byte rounding and the large-buffer cache hide out-of-bounds accesses (into the
// slack) and uses after free (of a recycled buffer) from AddressSanitizer. Built with ASan
// (tools/sanitize.sh), every buffer is its exact size from the allocator and goes back to it.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kExactBuffers = true;
#else
constexpr bool kExactBuffers = false;
#endif

Storage::Storage(size_t n) : nbytes(n) {
  if (kExactBuffers) {
    if (n >= kHugeMin && n > physical_bytes()) throw std::bad_alloc();  // as below
    if (posix_memalign(&data, 64, n < 1 ? 1 : n) != 0) data = nullptr;
    if (!data) throw std::bad_alloc();
    return;
  }
  if (n <= kPoolMax) {
    int c = size_class(n < 1 ? 1 : n);
    Pool* p = pool();
    if (p && !p->lists[c].empty()) {
      data = p->lists[c].back();
      p->lists[c].pop_back();
      return;
    }
    data = std::aligned_alloc(64, kPoolMin << c);
  } else if (n >= kHugeMin) {
    if (n > physical_bytes()) throw std::bad_alloc();  // would be overcommitted, then OOM-killed
    // Large buffers: 2 MiB aligned and backed by transparent huge pages where the kernel allows
    // (madvise mode), which cuts page-fault time on freshly allocated outputs about 10x.
    size_t len = huge_len(n);
    data = large_cache().take(len);
    if (data) return;
    data = std::aligned_alloc(kHuge, len);
#ifdef MADV_HUGEPAGE
    if (data) madvise(data, len, MADV_HUGEPAGE);
#endif
  } else {
    data = std::aligned_alloc(64, (n + 63) & ~size_t(63));
  }
  if (!data) throw std::bad_alloc();
}

Storage::~Storage() {
  if (release_) {  // borrowed (See Note [External buffers])
    release_(owner_);
    return;
  }
  if (kExactBuffers) {
    std::free(data);
    return;
  }
  if (nbytes <= kPoolMax) {
    int c = size_class(nbytes < 1 ? 1 : nbytes);
    Pool* p = pool();
    if (p && p->lists[c].size() < kPerClass) {
      p->lists[c].push_back(data);
      return;
    }
  } else if (nbytes >= kHugeMin && large_cache().keep(huge_len(nbytes), data)) {
    return;
  }
  std::free(data);
}

int64_t next_tensor_id() {
  static std::atomic<int64_t> counter{1};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  Tensor t;
  t.shape = shape;
  t.dtype = dtype;
  const size_t nbytes = checked_nbytes(shape, dtype);  // See Note [Checked sizes]
  try {
    t.storage = std::make_shared<Storage>(nbytes);
  } catch (const std::bad_alloc&) {
    throw ResourceExhausted("OOM when allocating tensor with shape" + shape.str() + " and type " + dtype_name(dtype) +
                            " (" + std::to_string(nbytes) + " bytes) on the CPU");
  }
  t.id = next_tensor_id();
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw(), 0, t.nbytes());
  return t;
}

Tensor Tensor::full(const Shape& shape, DType dtype, double value) {
  Tensor t = empty(shape, dtype);
  int64_t n = t.numel();
  TG_DISPATCH_EVERY(dtype, T, {
    T* p = t.data<T>();
    const T v = convert<T, double>(value);
    for (int64_t i = 0; i < n; ++i) p[i] = v;
  });
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape, dtype);
  if (nbytes()) std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

void Tensor::no_data() const {
  if (!defined()) throw RuntimeError("internal: read the data of an undefined tensor");
  throw RuntimeError("internal: tensor " + std::to_string(id) + " (" + dtype_name(dtype) + shape.str() +
                     ") has no data: a gradient rule read a tensor its registry entry does not save "
                     "(Note [Saved tensors])");
}

double Tensor::item() const {
  if (numel() != 1)
    throw InvalidArgument("only a tensor with one element can be converted to a Python scalar, got shape " +
                          shape.str());
  double v = 0;
  TG_DISPATCH_EVERY(dtype, T, { v = as_double(*data<T>()); });
  return v;
}

Variable::Variable(Tensor v, std::string n, bool t) : value(v.clone()), name(std::move(n)), trainable(t) {}

Tensor& Variable::writable(bool copy_old) {
  ++version;
  if (value.storage.use_count() > 1) {
    auto fresh = std::make_shared<Storage>(value.nbytes());
    if (copy_old && value.nbytes()) std::memcpy(fresh->data, value.raw(), value.nbytes());
    value.storage = std::move(fresh);
  } else {
    // The last other holder may have dropped its reference on another thread just now: its reads
    // of the buffer happen before our writes (use_count() is a relaxed load).
    std::atomic_thread_fence(std::memory_order_acquire);
  }
  return value;
}

static void check_assign(const Variable& var, const Tensor& v, const char* what) {
  if (v.dtype != var.value.dtype)
    throw InvalidArgument(std::string(what) + ": cannot assign a " + dtype_name(v.dtype) + " tensor to the " +
                          dtype_name(var.value.dtype) + " variable '" + var.name + "'");
  if (v.shape != var.value.shape)
    throw InvalidArgument(std::string(what) + ": cannot assign a tensor of shape " + v.shape.str() +
                          " to the variable '" + var.name + "' of shape " + var.value.shape.str());
}

void Variable::write_locked(Write how, const Tensor& v) {
  static const char* const kWhat[] = {"assign", "assign_add", "assign_sub"};
  check_assign(*this, v, kWhat[int(how)]);
  ++version;
  if (how == Write::Assign) {
    Tensor& w = writable(false);
    if (v.nbytes()) std::memcpy(w.raw(), v.raw(), v.nbytes());
    return;
  }
  // The sum is a fresh buffer that nothing else holds: it becomes the value (no copy back).
  Tensor r = kernels::binary(how == Write::Add ? Op::Add : Op::Sub, value, v);
  if (r.storage.use_count() == 1) {
    value.storage = std::move(r.storage);
  } else {
    Tensor& w = writable(false);
    if (r.nbytes()) std::memcpy(w.raw(), r.raw(), r.nbytes());
  }
}

VariableLocks::VariableLocks(std::vector<const Variable*> vars, bool try_only) : vars_(std::move(vars)) {
  std::sort(vars_.begin(), vars_.end());
  vars_.erase(std::unique(vars_.begin(), vars_.end()), vars_.end());
  if (!vars_.empty() && !vars_.front()) vars_.erase(vars_.begin());  // a null entry (checked later)
  for (size_t i = 0; i < vars_.size(); ++i) {
    if (!try_only) {
      vars_[i]->mu.lock();
    } else if (!vars_[i]->mu.try_lock()) {
      while (i-- > 0) vars_[i]->mu.unlock();
      return;
    }
  }
  owns_ = true;
}

VariableLocks::~VariableLocks() {
  if (owns_)
    for (size_t i = vars_.size(); i-- > 0;) vars_[i]->mu.unlock();
}

}  // namespace tg
