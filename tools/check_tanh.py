"""Exhaustive check of tapegrad's float32 tanh (Note [Own tanh]): every float32 in [0, 10] (and so,
by symmetry of the kernel, in [-10, 0]) against float64 numpy rounded to float32. About 30 s.

    python tools/check_tanh.py
"""

import sys

import numpy as np

import tapegrad as tg
from tapegrad import _core


def main():
    top = int(np.float32(10.0).view(np.int32))
    chunk = 1 << 24
    worst, worst_x, exact, total, sat_bad = 0, 0.0, 0, 0, 0
    for start in range(0, top, chunk):
        x = np.arange(start, min(top, start + chunk), dtype=np.int32).view(np.float32)
        got = tg.tanh(x).numpy()
        want = np.tanh(x.astype(np.float64)).astype(np.float32)
        u = np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32))
        i = int(u.argmax())
        if u[i] > worst:
            worst, worst_x = int(u[i]), float(x[i])
        exact += int((u == 0).sum())
        total += x.size
        sat_bad += int(((got == 1) != (want == 1)).sum())
    print(
        f"simd: {_core.simd_isa()}; {total} floats; max error {worst} ulp (x = {worst_x!r}); "
        f"{100 * exact / total:.2f}% correctly rounded; saturation mismatches: {sat_bad}"
    )
    return 0 if worst <= 2 and sat_bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
