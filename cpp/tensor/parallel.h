// parallel_for: one process-wide pool of worker threads for kernels that do real work.
// See Note [Threads].
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>

namespace tg {

int get_num_threads();

// True while other processes keep this one's threads waiting for a core (Note [Contention]): the
// pool's workers then do not spin and BLAS runs on one thread. Cheap: it re-measures at most every
// few milliseconds.
bool cores_contended();

// Whether parallel_for runs inline because the cores are contended: only where
// TAPEGRAD_CONTENTION asks for it ("inline", "all"); by default the pool keeps its threads and
// contention takes OpenBLAS's threads and the workers' spin (Note [Contention]).
bool pool_contended();

// Splits [0, n) across the pool; the calling thread takes a chunk too. Use parallel_for.
void parallel_for_pool(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

// Calls fn(begin, end) on disjoint chunks covering [0, n). Runs inline (no allocation, no
// std::function) when n < grain or one thread is configured; otherwise splits across the pool.
template <class F> inline void parallel_for(int64_t n, int64_t grain, F&& fn) {
  if (n <= 0) return;
  if (n < grain || get_num_threads() == 1 || pool_contended()) {
    fn(int64_t(0), n);
    return;
  }
  parallel_for_pool(n, std::function<void(int64_t, int64_t)>(std::ref(fn)));
}

void set_num_threads(int n);  // also sets OpenBLAS's thread count

// Note [Adaptive spin] (parallel.cpp): how long a worker spins for the next job, learnt per worker
// from what its spins were worth. Deterministic: a function of the gaps and outcomes it is told.
class SpinBudget {
 public:
  explicit SpinBudget(int64_t max_ns) : max_(max_ns > 0 ? max_ns : 0), cur_(max_) {}
  int64_t ns() const { return cur_; }   // spin this long before sleeping
  int64_t max_ns() const { return max_; }
  // A job came gap_ns after this worker's previous one ended; did_work: the worker ran a chunk of
  // it (false: the others had taken every chunk by the time it looked).
  void update(int64_t gap_ns, bool did_work) {
    const int64_t floor = max_ / 16;
    if (!did_work || gap_ns > max_) {
      cur_ = cur_ / 2 < floor ? 0 : cur_ / 2;  // spinning did not pay: half as long, then not at all
    } else {
      int64_t want = std::max(cur_ * 2, std::max(gap_ns * 2, floor));  // long enough to catch such a gap
      cur_ = want < max_ ? want : max_;
    }
  }

 private:
  int64_t max_, cur_;
};

// Call before every BLAS call: sends workers that are spinning for the next job to sleep now
// (Note [Threads]) and gives OpenBLAS one thread while the cores are contended, the configured
// count otherwise (Note [Contention]).
void park_workers();

}  // namespace tg
