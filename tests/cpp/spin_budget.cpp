// Replays gaps through tg::SpinBudget (Note [Adaptive spin]) and prints the spin after each step:
// tests/test_spin_budget.py checks the trace. Input on stdin: MAX_NS, then lines "GAP_NS DID_WORK".
#include <cstdio>

#include "tensor/parallel.h"

int main() {
  long long max_ns = 0;
  if (std::scanf("%lld", &max_ns) != 1) return 2;
  tg::SpinBudget b(max_ns);
  std::printf("%lld\n", static_cast<long long>(b.ns()));
  long long gap = 0;
  int did = 0;
  while (std::scanf("%lld %d", &gap, &did) == 2) {
    b.update(gap, did != 0);
    std::printf("%lld\n", static_cast<long long>(b.ns()));
  }
  return 0;
}
