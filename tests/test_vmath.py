"""The hand-written float32 tanh kernel (Note [Own tanh]): accuracy against float64 numpy over a
sweep of every float32 bit pattern class, exact saturation, special values, tails, and the same
bits on every instruction set."""

import os
import subprocess
import sys

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import _core


def _ulps(a, b):
    """Distance in float32 steps between same-signed float32 arrays a and b."""
    ia = a.view(np.int32).astype(np.int64)
    ib = b.view(np.int32).astype(np.int64)
    return np.abs(ia - ib)


def _sweep():
    # every 211th positive float32 up to 12 (a prime stride visits every exponent and many mantissas)
    bits = np.arange(0, np.float32(12.0).view(np.int32), 211, dtype=np.int32)
    x = bits.view(np.float32)
    return np.concatenate([x, -x])


def test_tanh_float32_within_2_ulp_of_correctly_rounded():
    x = _sweep()
    got = tg.tanh(x).numpy()
    want = np.tanh(x.astype(np.float64)).astype(np.float32)  # correctly rounded, up to double rounding
    assert np.array_equal(np.signbit(got), np.signbit(want))
    u = _ulps(got, want)
    assert u.max() <= 2, f"max error {u.max()} ulp at x={x[u.argmax()]!r}"
    assert np.mean(u == 0) > 0.9


def test_tanh_float32_saturates_exactly_where_rounding_does():
    x = _sweep()
    got = tg.tanh(x).numpy()
    want = np.tanh(x.astype(np.float64)).astype(np.float32)
    # +-1 exactly where the correctly rounded tanh is +-1, and nowhere else: saturated gradients
    # (1 - tanh^2) are then exactly 0 where TF's are
    np.testing.assert_array_equal(np.abs(got) == 1, np.abs(want) == 1)
    assert tg.tanh(np.float32(-9.17)).numpy() == -1.0
    assert tg.tanh(np.float32(8.5)).numpy() == np.float32(0.99999994)


def test_tanh_float32_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40, 1e-30, 3e38, -3e38], np.float32)
    got = tg.tanh(x).numpy()
    np.testing.assert_array_equal(got[:4], [0.0, -0.0, 1.0, -1.0])
    assert np.signbit(got[1]) and not np.signbit(got[0])
    assert np.isnan(got[4])
    np.testing.assert_array_equal(got[5:8], x[5:8])  # tanh(x) = x for tiny x, subnormals included
    np.testing.assert_array_equal(got[8:], [1.0, -1.0])


@pytest.mark.parametrize("n", [1, 7, 8, 9, 15, 16, 17, 31, 33, 100, 40000, 70001])
def test_tanh_float32_does_not_depend_on_position(n):
    # lengths that leave tails of every size, and sizes that split across threads
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32) * 4
    whole = tg.tanh(x).numpy()
    one_by_one = np.array([tg.tanh(v).numpy() for v in x[:50]], np.float32)
    np.testing.assert_array_equal(whole[:50], one_by_one)
    np.testing.assert_array_equal(tg.tanh(x[1:]).numpy(), whole[1:])


def test_tanh_float64_is_libm_accurate():
    x = np.linspace(-20, 20, 10001)
    np.testing.assert_allclose(tg.tanh(x).numpy(), np.tanh(x), rtol=4e-16, atol=0)


@pytest.mark.skipif(_core.simd_isa() != "avx512", reason="this CPU runs one instruction set only")
def test_tanh_same_bits_with_and_without_avx512(tmp_path):
    x = _sweep()[::7]
    here = tg.tanh(x).numpy()
    np.save(tmp_path / "x.npy", x)
    code = (
        "import sys, numpy as np, tapegrad as tg; from tapegrad import _core; "
        "assert _core.simd_isa() == 'avx2', _core.simd_isa(); "
        "np.save(sys.argv[2], tg.tanh(np.load(sys.argv[1])).numpy())"
    )
    env = dict(os.environ, TAPEGRAD_NO_AVX512="1")
    subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
        env=env,
        check=True,
        capture_output=True,
    )
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), here)
