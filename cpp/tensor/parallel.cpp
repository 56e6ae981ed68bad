#include "tensor/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <cblas.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

namespace tg {

// Note [Threads]
// One pool, sized by set_num_threads (default: hardware threads, at most 8). OpenBLAS keeps its
// own pool; set_num_threads sets both to the same count, and our kernels never call BLAS from
// inside a parallel_for, so the two pools are never busy at once (no oversubscription).
// parallel_for is not reentrant: a nested call (or a call from a second Python thread while the
// pool is busy) runs inline.
// A job is cut into size() chunks with fixed bounds (so results never depend on which thread ran
// which chunk), and every thread, the caller included, claims chunks from an atomic counter: a
// worker that wakes late finds its chunk already done by the caller instead of making it wait.
// Waking a sleeping thread through the kernel costs tens of microseconds on these VMs (a 2^16
// tanh got slower on two threads than on one), so workers spin (up to 100 us, Note [Adaptive
// spin]) after each job before they sleep on the condition variable: back-to-back ops in a
// training step find them awake.
// The spin is short, and park_workers() (called before every BLAS gemm) ends it at once: a
// spinning worker holds the core that OpenBLAS's own threads need (an MLP step went from 1.0 to
// 1.2-1.5 ms before parking existed).
//
// Note [Adaptive spin]
// The spin of Note [Threads] pays when the next job comes within it (back-to-back ops of a training
// step) and costs a core when it does not: on a machine with other work, a spinning worker takes
// the core from a neighbour or from our own caller, and a worker woken for a job whose chunks the
// caller already ran (it was descheduled: the core was taken) paid for nothing. So each worker
// learns its spin (SpinBudget in parallel.h): after each job it is told the gap since its previous
// job ended and whether it ran a chunk. A gap within the maximum (TAPEGRAD_POOL_SPIN_US, 100 us)
// that it worked on sets the spin to at least twice the gap (and twice the last spin, at least a
// 16th of the maximum); a longer gap, or a job it found already done, halves it, and under a 16th
// of the maximum it is 0: the worker sleeps at once and wakes through the condition variable (tens
// of microseconds) until jobs come close together again. The spin is timed from the end of the
// worker's last job. Deterministic in what it is told: tests/cpp/spin_budget.cpp replays gaps.
// The caller's side: once its own chunks are done it waits for the workers' by spinning (~4096
// pauses), then yielding for kCallerYieldUs, then sleeping on done_cv_ until the worker that ends
// the last chunk wakes it. A late chunk means its worker lost its core; a caller that went on
// yielding stayed runnable and took the share that worker needed (with the probe off on the busy
// machine, the MLP step burnt ~40x its CPU time).
//
// Note [Contention]
// On a machine where other processes want the cores too (a shared workstation, a CI runner), every
// thread we add is a thread that waits: a parallel region ends when its slowest chunk ends, and a
// worker (ours or OpenBLAS's) that is descheduled holds the whole region for a time slice of the
// kernel's scheduler (milliseconds for a 50 us kernel); spinning workers take the core from the
// thread that has the work. An MLP tutorial script with two CPU-bound neighbours on 2 cores took
// 78.6 s against 7.8 s with one BLAS thread and no spin (issue 15). So the engine measures it:
// the kernel accounts each thread's time spent runnable but waiting for a core (second field of
// /proc/thread-self/schedstat), and cores_contended() reads the calling thread's share of waiting
// since its last look (at most every kWindowNs; one pread, a few microseconds). Above 10% the
// cores are contended: workers sleep at once instead of spinning and park_workers() gives OpenBLAS
// one thread; the configured count comes back when the share falls below 3% and no sign of
// contention was seen for kDwellNs. Our pool keeps its threads (one owner for the cores: the pool,
// whose chunks any thread may claim and whose caller sleeps while a late chunk's worker waits for
// a core, Note [Adaptive spin]; OpenBLAS's threads split a gemm statically and spin on
// sched_yield while they wait for each other). Measured with benchmarks/ab_threads.py on the
// loaded machine, 4 interleaved rounds, against running parallel_for inline while contended (the
// rule before, TAPEGRAD_CONTENTION=inline): MLP step 0.76x / 0.64x / 0.41x and CNN step 1.08x /
// 1.51x / 0.19x of its time with 0 / 1 / 2 CPU-bound neighbours (noisy: rounds differ by 2-5x).
// With the probe off and OpenBLAS on 2 threads the MLP step burnt 60x its CPU time
// (TAPEGRAD_BLAS_THREADS=1 alone brought it back). Only the calling thread counts by
// default: OpenBLAS's idle workers spin on sched_yield for ~0.1 s after each call, and such a
// spinner sits in the run queue while our own threads work, on an idle machine too; counting it
// would take the threads away where they pay. TAPEGRAD_CONTENTION=all sums the wait of every
// thread of the process instead (catches a caller that spins in OpenBLAS while its worker waits;
// busy.py measured both within the machine's noise; the pool runs inline while contended there),
// TAPEGRAD_CONTENTION=inline keeps the calling-thread probe with the pool inline, =0 turns it off;
// where /proc does not report it the probe is off too.
namespace {

std::atomic<bool> g_contended{false};
std::atomic<int64_t> g_next_probe_ns{0};
std::atomic_flag g_probing = ATOMIC_FLAG_INIT;  // one thread probes at a time; it owns the g_ below
int64_t g_last_wait = 0, g_last_t = 0, g_since = 0;
bool g_probe_off = false;
constexpr int64_t kWindowNs = 20'000'000;   // re-measure at most this often
constexpr int64_t kDwellNs = 250'000'000;   // stay contended at least this long after the last sign
constexpr int kCallerYieldUs = 50;           // a caller waiting for late chunks yields this long, then sleeps

// TAPEGRAD_CONTENTION: 0 = off; "all" = every thread of the process, and the pool runs inline
// while contended; "inline" = the calling thread, the pool inline; else (the default) the calling
// thread, and contention takes BLAS's threads and the workers' spin but not the pool's threads.
int probe_mode() {
  static const int mode = [] {
    const char* v = std::getenv("TAPEGRAD_CONTENTION");
    if (v && *v == '0') return 0;
    if (v && std::string(v) == "all") return 2;
    if (v && std::string(v) == "inline") return 1;
    return 3;
  }();
  return mode;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The calling thread's run-queue wait (ns), or -1.
int64_t thread_wait_ns() {
  struct Fd {
    int fd = -1;
    ~Fd() {
      if (fd >= 0) close(fd);
    }
  };
  thread_local Fd f;
  if (f.fd == -1) f.fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) return -1;
  char buf[128];
  const ssize_t k = pread(f.fd, buf, sizeof buf - 1, 0);
  if (k <= 0) return -1;
  buf[k] = 0;
  unsigned long long run = 0, wait = 0;
  if (std::sscanf(buf, "%llu %llu", &run, &wait) != 2) return -1;
  return int64_t(wait);
}

// Sum over this process's threads of the time each spent runnable but waiting for a core (ns);
// -1 where /proc does not say. Threads that ended since the last call drop out of the sum.
int64_t process_wait_ns() {
  DIR* d = opendir("/proc/self/task");
  if (!d) return -1;
  int64_t sum = 0;
  bool any = false;
  char path[64], buf[128];
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::snprintf(path, sizeof path, "/proc/self/task/%.20s/schedstat", e->d_name);
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    const ssize_t k = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (k <= 0) continue;
    buf[k] = 0;
    unsigned long long run = 0, wait = 0;
    if (std::sscanf(buf, "%llu %llu", &run, &wait) == 2) {
      sum += int64_t(wait);
      any = true;
    }
  }
  closedir(d);
  return any ? sum : -1;
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// How long a worker spins for the next job; TAPEGRAD_POOL_SPIN_US overrides (0: sleep at once).
std::chrono::microseconds spin_time() {
  static const std::chrono::microseconds t = [] {
    const char* v = std::getenv("TAPEGRAD_POOL_SPIN_US");
    return std::chrono::microseconds(v && *v ? std::max(0L, std::strtol(v, nullptr, 10)) : 100L);
  }();
  return t;
}

class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }

  int size() const { return int(workers_.size()) + 1; }

  void resize(int n) {
    // Own the pool first: a caller on another Python thread may be running a job on it.
    for (bool idle = false; !busy_.compare_exchange_weak(idle, true); idle = false) std::this_thread::yield();
    stop();
    stopping_ = false;
    // New workers must not mistake an earlier job's generation for a new job.
    const uint64_t gen = generation_.load();
    parts_ = std::max(n, 1);  // fixed while workers run: a late worker may still read it
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, gen] { loop(gen); });
    busy_.store(false);
  }

  bool try_run(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
    bool expected = false;
    if (!busy_.compare_exchange_strong(expected, true)) return false;
    fn_ = &fn;
    n_ = n;
    park_.store(false, std::memory_order_relaxed);
    done_.store(0);
    next_.store(0);          // publishes fn_, n_, parts_ to a worker whose claim reads it
    generation_.fetch_add(1);  // seq_cst: pairs with the sleepers_ check in loop()
    if (sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lk(mu_);
      cv_.notify_all();
    }
    work();
    // Wait for the workers' chunks: spin, then yield, then sleep until the last chunk's owner
    // wakes us (Note [Adaptive spin]: a worker that holds a chunk and lost its core must get one
    // back before the job ends; a caller yielding in a loop meanwhile burns the share it needs).
    const auto yield_until = std::chrono::steady_clock::now() + std::chrono::microseconds(kCallerYieldUs);
    for (int spins = 0; done_.load() < parts_; ++spins) {
      if (spins < 4096) {
        cpu_relax();
      } else if (spins % 16 != 0 || std::chrono::steady_clock::now() < yield_until) {
        std::this_thread::yield();
      } else {
        std::unique_lock<std::mutex> lk(done_mu_);
        caller_waiting_.store(true);  // seq_cst: pairs with the last chunk's done_ increment
        done_cv_.wait(lk, [&] { return done_.load() >= parts_; });
        caller_waiting_.store(false);
        break;
      }
    }
    fn_ = nullptr;
    busy_.store(false);
    return true;
  }

 private:
  int work() {  // claims and runs chunks until none are left; returns how many it ran
    int ran = 0;
    for (int k; (k = next_.fetch_add(1)) < parts_; ++ran) {
      int64_t chunk = (n_ + parts_ - 1) / parts_;
      int64_t b = std::min<int64_t>(n_, k * chunk), e = std::min<int64_t>(n_, b + chunk);
      if (b < e) (*fn_)(b, e);
      // seq_cst, then read caller_waiting_: the caller either sees the job done or is woken
      if (done_.fetch_add(1) + 1 == parts_ && caller_waiting_.load()) {
        std::lock_guard<std::mutex> lk(done_mu_);
        done_cv_.notify_one();
      }
    }
    return ran;
  }
  void loop(uint64_t seen) {
    SpinBudget budget(std::chrono::duration_cast<std::chrono::nanoseconds>(spin_time()).count());
    auto ended = std::chrono::steady_clock::now();  // when this worker's last job ended
    for (;;) {
      const auto until = ended + std::chrono::nanoseconds(budget.ns());
      int spins = 0;
      while (generation_.load() == seen && !stopping_.load()) {
        cpu_relax();
        if (budget.ns() == 0 || park_.load(std::memory_order_relaxed) || g_contended.load(std::memory_order_relaxed) ||
            (++spins % 64 == 0 && std::chrono::steady_clock::now() > until)) {
          std::unique_lock<std::mutex> lk(mu_);
          sleepers_.fetch_add(1);
          cv_.wait(lk, [&] { return stopping_.load() || generation_.load() != seen; });
          sleepers_.fetch_sub(1);
          break;
        }
      }
      if (stopping_.load()) return;
      seen = generation_.load();
      const auto started = std::chrono::steady_clock::now();
      const bool did_work = work() > 0;
      budget.update(std::chrono::duration_cast<std::chrono::nanoseconds>(started - ended).count(), did_work);
      ended = std::chrono::steady_clock::now();
    }
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopping_.store(true);
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> busy_{false}, stopping_{false};

 public:
  std::atomic<bool> park_{false};  // set by park_workers(): spinning workers go to sleep now

 private:
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> next_{0}, done_{0}, sleepers_{0};
  std::mutex done_mu_;  // the caller sleeps on done_cv_ when the last chunks are late
  std::condition_variable done_cv_;
  std::atomic<bool> caller_waiting_{false};
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int parts_ = 1;
};

int default_threads() {
  unsigned h = std::thread::hardware_concurrency();
  return int(std::max(1u, std::min(h, 8u)));
}

std::mutex g_pool_mu;
Pool* g_pool = nullptr;
std::atomic<Pool*> g_pool_ptr{nullptr};  // g_pool, readable without the lock
std::atomic<int> g_threads{0};

Pool& pool() {
  std::lock_guard<std::mutex> lk(g_pool_mu);
  if (!g_pool) {
    if (g_threads == 0) g_threads = default_threads();
    g_pool = new Pool(g_threads);  // leaked on purpose: workers must outlive static destructors
    g_pool_ptr.store(g_pool, std::memory_order_release);
  }
  return *g_pool;
}

// OpenBLAS's thread count as configured (set_num_threads, else what OpenBLAS chose at load, which
// honours OPENBLAS_NUM_THREADS), and as last set for a call.
std::atomic<int> g_blas_conf{0}, g_blas_now{0};

// TAPEGRAD_BLAS_THREADS=k caps OpenBLAS at k threads whatever set_num_threads says (an A/B switch
// for benchmarks/ab_threads.py: 1 = single-threaded BLAS); unset or 0: no cap.
int blas_cap(int n) {
  static const int cap = [] {
    const char* v = std::getenv("TAPEGRAD_BLAS_THREADS");
    return v && *v ? std::max(0, int(std::strtol(v, nullptr, 10))) : 0;
  }();
  return cap > 0 ? std::min(n, cap) : n;
}

}  // namespace

bool cores_contended() {
  const int mode = probe_mode();
  if (mode == 0) return false;
  const int64_t now = now_ns();
  if (now < g_next_probe_ns.load(std::memory_order_relaxed) || g_probing.test_and_set(std::memory_order_acquire))
    return g_contended.load(std::memory_order_relaxed);
  g_next_probe_ns.store(now + kWindowNs, std::memory_order_relaxed);
  // The last reading: per thread for the calling-thread probe, per process for "all".
  thread_local int64_t t_last_wait = 0, t_last_t = 0;
  int64_t& last_wait = mode != 2 ? t_last_wait : g_last_wait;
  int64_t& last_t = mode != 2 ? t_last_t : g_last_t;
  const int64_t w = g_probe_off ? -1 : mode != 2 ? thread_wait_ns() : process_wait_ns();
  if (w < 0) {
    g_probe_off = true;  // no schedstat here: never contended
  } else if (last_t > 0) {
    const double share = double(std::max<int64_t>(0, w - last_wait)) / double(std::max<int64_t>(1, now - last_t));
    bool c = g_contended.load(std::memory_order_relaxed);
    if (share > 0.10) {
      c = true;
      g_since = now;
    } else if (c && share < 0.03 && now - g_since > kDwellNs) {
      c = false;
    }
    g_contended.store(c, std::memory_order_relaxed);
  }
  last_wait = std::max<int64_t>(w, 0);
  last_t = now;
  g_probing.clear(std::memory_order_release);
  return g_contended.load(std::memory_order_relaxed);
}

bool pool_contended() {
  const bool c = cores_contended();  // always: it keeps the probe's reading fresh
  return c && probe_mode() != 3;
}

void park_workers() {
  Pool* p = g_pool_ptr.load(std::memory_order_acquire);
  if (p) p->park_.store(true, std::memory_order_relaxed);
  int conf = g_blas_conf.load(std::memory_order_relaxed);
  if (conf == 0) {
    conf = blas_cap(std::max(1, scipy_openblas_get_num_threads()));
    int expected = 0;
    if (!g_blas_conf.compare_exchange_strong(expected, conf)) conf = expected;
    g_blas_now.store(conf);
  }
  const int want = cores_contended() ? 1 : conf;
  if (g_blas_now.exchange(want) != want) scipy_openblas_set_num_threads(want);
}

void parallel_for_pool(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (!pool().try_run(n, fn)) fn(0, n);
}

int get_num_threads() {
  int n = g_threads.load(std::memory_order_relaxed);
  if (n == 0) {
    std::lock_guard<std::mutex> lk(g_pool_mu);
    if (g_threads == 0) g_threads = default_threads();
    n = g_threads;
  }
  return n;
}

void set_num_threads(int n) {
  if (n < 1) n = 1;
  std::lock_guard<std::mutex> lk(g_pool_mu);
  g_threads = n;
  if (g_pool) g_pool->resize(n);
  g_blas_conf.store(blas_cap(n));
  g_blas_now.store(blas_cap(n));
  scipy_openblas_set_num_threads(blas_cap(n));
}

}  // namespace tg
