// parallel_for: one process-wide pool of worker threads for kernels that do real work.
// See Note [Threads].
#pragma once
#include <cstdint>
#include <functional>

namespace tg {

// Calls fn(begin, end) on disjoint chunks covering [0, n). Runs inline when n < grain or one thread
// is configured; otherwise splits across the pool (the calling thread takes a chunk too).
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

int get_num_threads();
void set_num_threads(int n);  // also sets OpenBLAS's thread count

}  // namespace tg
