// Stress test of the thread pool (Note [Threads]) for ThreadSanitizer: several threads issue
// parallel_for jobs at once (one gets the pool, the others run inline), park the workers, sleep so
// that workers go to sleep, and resize the pool underneath. Every element must be written once.
// Built and run by tests/test_pool_tsan.py with -fsanitize=thread.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "tensor/parallel.h"

int main() {
  std::atomic<long> bad{0};
  auto job = [&](int n) {
    std::vector<int> v(size_t(n), 0);
    tg::parallel_for(n, 8, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) v[size_t(i)] += 1;
    });
    for (int x : v)
      if (x != 1) ++bad;
  };
  tg::set_num_threads(3);
  std::vector<std::thread> threads;
  for (int k = 0; k < 3; ++k)
    threads.emplace_back([&, k] {
      for (int i = 0; i < 2000; ++i) {
        job(100 + (i * 7 + k) % 500);
        if (i % 97 == 0) tg::park_workers();
        if (i % 301 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
        if (k == 0 && i % 500 == 0) tg::set_num_threads(2 + (i / 500) % 2);
      }
    });
  for (auto& t : threads) t.join();
  std::printf("elements not written exactly once: %ld\n", bad.load());
  return bad != 0;
}
