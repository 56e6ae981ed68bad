"""The hand-written tanh kernels (Note [Own tanh]): float32 against float64 numpy and float64
against long double over sweeps of bit patterns, exact saturation, special values, tails, and the
same bits on every instruction set."""

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


def _sweep64():
    # ~200 doubles per binade from the smallest subnormal up to 20 (tanh is +-1 in double beyond 19.06)
    bits = np.arange(1, np.float64(20.0).view(np.int64), 23058430092137, dtype=np.int64)
    x = bits.view(np.float64)
    return np.concatenate([x, -x])


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 60, reason="needs an extended-precision long double")
def test_tanh_float64_within_2_ulp_and_saturates_where_rounding_does():
    x = _sweep64()
    got = tg.tanh(x).numpy()
    want = np.tanh(x.astype(np.longdouble)).astype(np.float64)  # 64-bit mantissa, rounded once more
    assert np.array_equal(np.signbit(got), np.signbit(want))
    u = np.abs(got.view(np.int64) - want.view(np.int64))
    assert u.max() <= 2, f"max error {u.max()} ulp at x={x[u.argmax()]!r}"
    assert np.mean(u == 0) > 0.85
    np.testing.assert_array_equal(np.abs(got) == 1, np.abs(want) == 1)
    dense = np.linspace(-20, 20, 100001)  # and a plain grid, as libm would be checked
    np.testing.assert_allclose(tg.tanh(dense).numpy(), np.tanh(dense), rtol=5e-16, atol=0)


def test_tanh_float64_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 1e-300, 1e-17, 1e308, -1e308, 19.1, -19.1])
    got = tg.tanh(x).numpy()
    np.testing.assert_array_equal(got[:4], [0.0, -0.0, 1.0, -1.0])
    assert np.signbit(got[1]) and not np.signbit(got[0])
    assert np.isnan(got[4])
    np.testing.assert_array_equal(got[5:9], x[5:9])  # tanh(x) = x for tiny x, subnormals included
    np.testing.assert_array_equal(got[9:], [1.0, -1.0, 1.0, -1.0])
    # not yet saturated: 1 - 2 e^-38 rounds to 1 - 2^-53, not to 1 (numpy's tanh gives 1 there)
    assert tg.tanh(np.float64(18.0)).numpy() == np.float64(0.9999999999999996)
    assert tg.tanh(np.float64(19.0)).numpy() == 1 - 2.0**-53


@pytest.mark.parametrize("n", [1, 3, 4, 5, 7, 8, 9, 17, 40000, 70001])
def test_tanh_float64_does_not_depend_on_position(n):
    x = np.random.default_rng(n).standard_normal(n) * 4
    whole = tg.tanh(x).numpy()
    np.testing.assert_array_equal(whole[:50], np.array([tg.tanh(v).numpy() for v in x[:50]]))
    np.testing.assert_array_equal(tg.tanh(x[1:]).numpy(), whole[1:])


@pytest.mark.skipif(_core.simd_isa() != "avx512", reason="this CPU runs one instruction set only")
def test_tanh_same_bits_with_and_without_avx512(tmp_path):
    code = (
        "import sys, numpy as np, tapegrad as tg; from tapegrad import _core; "
        "assert _core.simd_isa() == 'avx2', _core.simd_isa(); "
        "np.save(sys.argv[2], tg.tanh(np.load(sys.argv[1])).numpy())"
    )
    env = dict(os.environ, TAPEGRAD_NO_AVX512="1")
    for x in (_sweep()[::7], _sweep64()[::3]):  # float32 and float64
        here = tg.tanh(x).numpy()
        np.save(tmp_path / "x.npy", x)
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
            env=env,
            check=True,
            capture_output=True,
        )
        np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), here)
