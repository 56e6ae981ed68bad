#include "tensor/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <cblas.h>

namespace tg {

// Note [Threads]
// One pool, sized by set_num_threads (default: hardware threads, at most 8). OpenBLAS keeps its
// own pool; set_num_threads sets both to the same count, and our kernels never call BLAS from
// inside a parallel_for, so the two pools are never busy at once (no oversubscription).
// Workers sleep on a condition variable between jobs; parallel_for is not reentrant: a nested
// call (or a call from a second Python thread while the pool is busy) runs inline.
namespace {

class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }

  int size() const { return int(workers_.size()) + 1; }

  void resize(int n) {
    stop();
    stopping_ = false;
    // New workers start at the current generation, so they do not rerun the last (finished) job.
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, g = generation_] { loop(i, g); });
  }

  bool try_run(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
    bool expected = false;
    if (!busy_.compare_exchange_strong(expected, true)) return false;
    int parts = size();
    {
      std::lock_guard<std::mutex> lk(mu_);
      fn_ = &fn;
      n_ = n;
      parts_ = parts;
      pending_ = parts - 1;
      ++generation_;
    }
    cv_.notify_all();
    run_chunk(0);
    {
      std::unique_lock<std::mutex> lk(mu_);
      done_cv_.wait(lk, [this] { return pending_ == 0; });
      fn_ = nullptr;
    }
    busy_.store(false);
    return true;
  }

 private:
  void run_chunk(int k) {
    int64_t chunk = (n_ + parts_ - 1) / parts_;
    int64_t b = std::min<int64_t>(n_, k * chunk), e = std::min<int64_t>(n_, b + chunk);
    if (b < e) (*fn_)(b, e);
  }
  void loop(int k, uint64_t seen) {
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      run_chunk(k);
      {
        std::lock_guard<std::mutex> lk(mu_);
        if (--pending_ == 0) done_cv_.notify_one();
      }
    }
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::atomic<bool> busy_{false};
  bool stopping_ = false;
  uint64_t generation_ = 0;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int parts_ = 1;
  int pending_ = 0;
};

int default_threads() {
  unsigned h = std::thread::hardware_concurrency();
  return int(std::max(1u, std::min(h, 8u)));
}

std::mutex g_pool_mu;
Pool* g_pool = nullptr;
int g_threads = 0;

Pool& pool() {
  std::lock_guard<std::mutex> lk(g_pool_mu);
  if (!g_pool) {
    if (g_threads == 0) g_threads = default_threads();
    g_pool = new Pool(g_threads);  // leaked on purpose: workers must outlive static destructors
  }
  return *g_pool;
}

}  // namespace

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (n < grain || get_num_threads() == 1 || !pool().try_run(n, fn)) fn(0, n);
}

int get_num_threads() {
  if (g_threads == 0) {
    std::lock_guard<std::mutex> lk(g_pool_mu);
    if (g_threads == 0) g_threads = default_threads();
  }
  return g_threads;
}

void set_num_threads(int n) {
  if (n < 1) n = 1;
  std::lock_guard<std::mutex> lk(g_pool_mu);
  g_threads = n;
  if (g_pool) g_pool->resize(n);
  scipy_openblas_set_num_threads(n);
}

}  // namespace tg
