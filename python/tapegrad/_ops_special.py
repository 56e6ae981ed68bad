"""Special functions under TF's names (``tf.math.lgamma``, ``digamma``, ``polygamma``, ``zeta``,
``igamma``, ``igammac``, ``betainc``, ``erfinv``, ``ndtri``, ``erfcinv``, ``lbeta``, the modified
Bessel functions ``bessel_i0/i0e/i1/i1e``).

The forward values are computed in float64 numpy (Cephes' algorithms, as TF's Eigen kernels:
Euler-Maclaurin for the Hurwitz zeta, the power series and continued fraction for the incomplete
gamma function, Lentz's continued fraction for the incomplete beta function, Newton refinement of a
rational first guess for the inverse error functions) and rounded to the input's dtype. Each op is
a ``custom_gradient`` whose backward pass is TF's rule (math_grad.py) written in differentiable
tapegrad ops, so second derivatives work where TF has them: lgamma' = digamma, digamma' =
polygamma(1, x), polygamma(n, x)' = polygamma(n + 1, x), and so on.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from . import _core
from ._core import InvalidArgumentError
from ._custom_gradient import custom_gradient
from ._ops import constant, convert_to_tensor, ones_like, reduce_sum
from ._ops_math import _attr_t_error, _kernel_name, xlog1py, xlogy
from ._tensor import Tensor, Variable
from ._typing import TensorLike

_ALL_FLOATS = "bfloat16, half, float, double"
_F32_F64 = "float, double"
_EPS = np.finfo(np.float64).eps / 2  # Cephes' MACHEP
_SQRT_PI = math.sqrt(math.pi)


# ---- argument handling -------------------------------------------------------------------------


def _unary(x: Any, op: str, allowed: str = _ALL_FLOATS) -> Tensor:
    x = x if isinstance(x, Tensor) else convert_to_tensor(x)  # a Variable's read is what tapes watch
    if not x.dtype.is_floating:
        raise _attr_t_error(x.dtype, allowed, op)
    return x


def _same_dtype(args: tuple, op: str, allowed: str) -> list:
    """The arguments as tensors of one float dtype (a Python value takes the first tensor's
    dtype, as TF's generated op wrappers convert); TF's messages otherwise."""
    first = next((a for a in args if isinstance(a, (Tensor, Variable))), None)
    dtype = None if first is None else first.dtype
    out = [
        a
        if isinstance(a, Tensor)
        else convert_to_tensor(a)
        if isinstance(a, Variable)
        else convert_to_tensor(a, dtype=dtype)
        for a in args
    ]
    if dtype is None:
        dtype = out[0].dtype
        out = [convert_to_tensor(a, dtype=dtype) for a in args]
    for i, t in enumerate(out):
        if t.dtype != out[0].dtype:
            raise InvalidArgumentError(
                f"cannot compute {op} as input #{i}(zero-based) was expected to be a "
                f"{_kernel_name(out[0].dtype)} tensor but is a {_kernel_name(t.dtype)} tensor [Op:{op}]"
            )
    if not out[0].dtype.is_floating:
        raise _attr_t_error(out[0].dtype, allowed, op)
    return out


def _broadcast_shape(tensors: list, op: str) -> tuple:
    shapes = [tuple(int(d) for d in t.shape) for t in tensors]
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise InvalidArgumentError(
            "Incompatible shapes: " + " vs. ".join(str(list(s)) for s in shapes) + f" [Op:{op}]"
        ) from None


def _run(kernel, *tensors: Tensor) -> Tensor:
    """kernel(*float64 arrays) -> float64 array, as a tensor of the first input's dtype."""
    arrays = np.broadcast_arrays(*[np.asarray(t, dtype=np.float64) for t in tensors])
    shape = arrays[0].shape
    with np.errstate(all="ignore"):  # the kernels work on flat arrays
        out = np.asarray(kernel(*[a.reshape(-1) for a in arrays]), dtype=np.float64).reshape(shape)
        out = out.astype(tensors[0].dtype.as_numpy_dtype)  # overflows to inf in float32
    return constant(out, dtype=tensors[0].dtype)


def _vectorize(f):
    uf = np.frompyfunc(f, 1, 1)
    return lambda x: np.asarray(uf(x), dtype=np.float64)


def _lgamma_scalar(v: float) -> float:
    try:
        return math.lgamma(v)
    except (ValueError, OverflowError):  # the poles 0, -1, -2, ...
        return math.inf


_np_lgamma = _vectorize(_lgamma_scalar)
_np_erf = _vectorize(math.erf)
_np_erfc = _vectorize(math.erfc)


# ---- digamma, Hurwitz zeta, polygamma ----------------------------------------------------------

# psi(x) ~ log x - 1/(2x) - sum_k B_2k / (2k x^2k) (Bernoulli numbers B_2 .. B_16)
_BERNOULLI = [
    Fraction(1, 6),
    Fraction(-1, 30),
    Fraction(1, 42),
    Fraction(-1, 30),
    Fraction(5, 66),
    Fraction(-691, 2730),
    Fraction(7, 6),
    Fraction(-3617, 510),
    Fraction(43867, 798),
    Fraction(-174611, 330),
    Fraction(854513, 138),
    Fraction(-236364091, 2730),
]
_PSI_ASYMP = [float(b / (2 * k)) for k, b in enumerate(_BERNOULLI[:8], start=1)]
# Cephes zeta.c's Euler-Maclaurin coefficients (2k)! / B_2k
_ZETA_A = [float(math.factorial(2 * k) / b) for k, b in enumerate(_BERNOULLI, start=1)]


def _np_digamma(x):
    x = np.asarray(x, dtype=np.float64)
    neg = x <= 0
    z = np.where(neg, 1.0 - x, x)  # psi(x) = psi(1 - x) - pi / tan(pi x)
    shift = np.zeros_like(z)
    for _ in range(10):  # recurrence psi(z) = psi(z + 1) - 1/z up to z >= 10
        small = z < 10
        if not small.any():
            break
        shift = np.where(small, shift + 1.0 / z, shift)
        z = np.where(small, z + 1.0, z)
    w = 1.0 / (z * z)
    series = np.zeros_like(z)
    for c in reversed(_PSI_ASYMP):
        series = (series + c) * w
    out = np.log(z) - 0.5 / z - series - shift
    frac = x - np.round(x)  # tan has period pi: tan(pi x) = tan(pi frac), frac exact
    refl = np.where(neg, math.pi / np.tan(math.pi * frac), 0.0)
    out = np.where(neg, out - refl, out)
    out = np.where(neg & (frac == 0), np.nan, out)  # the poles (TF: nan)
    out = np.where(x == np.inf, np.inf, out)
    return np.where(x == -np.inf, np.nan, out)


def _np_zeta(x, q):
    """Hurwitz zeta(x, q) = sum_k (q + k)^-x (Cephes zeta.c, Eigen's special cases)."""
    x, q = (np.array(a, dtype=np.float64) for a in np.broadcast_arrays(x, q))
    x_int = x == np.floor(x)
    q_pole = (q <= 0) & (q == np.floor(q))
    even = x_int & (np.fmod(x, 2.0) == 0)
    special = np.full(x.shape, np.nan)
    special = np.where(q_pole & even, np.inf, special)
    special = np.where(x == 1, np.inf, special)
    bad = (x <= 1) | q_pole | ((q <= 0) & ~x_int) | np.isnan(x) | np.isnan(q)
    s = np.power(q, -x)
    a = q.copy()
    b = np.zeros_like(q)
    active = ~bad & (q != np.inf)
    i = 0
    while True:  # direct terms until nine are summed and q + i > 9
        need = active & ((i < 9) | (a <= 9.0))
        if not need.any() or i > 100_000:
            break
        i += 1
        a = np.where(need, a + 1.0, a)
        term = np.power(a, -x)
        s = np.where(need, s + term, s)
        b = np.where(need, term, b)
        active &= ~(need & (np.abs(term / s) < _EPS))
    w = a
    s = np.where(active, s + b * w / (x - 1.0) - 0.5 * b, s)
    fact = np.ones_like(x)
    k = 0.0
    for coef in _ZETA_A:
        fact = fact * (x + k)
        b = b / w
        t = fact * b / coef
        s = np.where(active, s + t, s)
        active &= ~(np.abs(t / s) < _EPS)
        k += 1.0
        fact = fact * (x + k)
        b = b / w
        k += 1.0
    s = np.where(q == np.inf, 0.0, s)
    return np.where(bad, special, s)


def _np_polygamma(n, x):
    n, x = (np.array(a, dtype=np.float64) for a in np.broadcast_arrays(n, x))
    ok = (n >= 0) & (n == np.floor(n))
    n_safe = np.where(ok, n, 1.0)
    sign = np.where(np.fmod(n_safe, 2.0) == 0, -1.0, 1.0)  # (-1)^(n+1)
    higher = sign * np.exp(_np_lgamma(n_safe + 1.0)) * _np_zeta(n_safe + 1.0, x)
    out = np.where(n_safe == 0, _np_digamma(x), higher)
    return np.where(ok, out, np.nan)


# ---- incomplete gamma, with d/da (Eigen's IgammaGradA) ------------------------------------------

_BIG = 4.503599627370496e15
_BIGINV = 2.22044604925031308085e-16
_MAXITER = 2000


def _iterate(state, step, max_iter):
    """Runs ``done, state = step(state)`` on the elements still running: each iteration works on
    those only (series and continued fractions converge at very different speeds); returns the
    final state arrays, in the input order."""
    out = [v.copy() for v in state]
    live = np.arange(state[0].shape[0])
    for _ in range(max_iter):
        if not live.size:
            break
        done, state = step(state)
        if done.any():
            for o, v in zip(out, state):
                o[live[done]] = v[done]
            keep = ~done
            live = live[keep]
            state = [v[keep] for v in state]
    for o, v in zip(out, state):  # not converged within max_iter: the last iterate
        o[live] = v
    return out


def _igam_series(a, x):
    """P(a, x) and dP/da by the power series (x <= 1 or x <= a), differentiated term by term."""
    log_x = np.log(x)
    ax = a * log_x - x - _np_lgamma(a)

    def step(st):
        a_, x_, r, c, dc, s_, ds = st
        r = r + 1.0
        dc = dc * x_ / r - c * x_ / (r * r)
        c = c * x_ / r
        s_ = s_ + c
        ds = ds + dc
        done = (c <= _EPS * s_) & (np.abs(dc) <= 8 * _EPS * np.abs(ds))
        return done, [a_, x_, r, c, dc, s_, ds]

    one, zero = np.ones_like(a), np.zeros_like(a)
    *_, s, ds = _iterate([a, x, a.copy(), one, zero, one.copy(), zero.copy()], step, _MAXITER)
    front = np.exp(ax) / a
    p = front * s
    dp = p * (log_x - _np_digamma(a) - 1.0 / a) + front * ds
    return p, dp


def _igamc_cf(a, x):
    """Q(a, x) and dQ/da by the continued fraction (x > 1 and x > a), differentiated in a."""
    log_x = np.log(x)
    ax = a * log_x - x - _np_lgamma(a)
    y = 1.0 - a
    z = x + y + 1.0
    pkm1, qkm1 = x + 1.0, z * x
    ans = pkm1 / qkm1
    dans = (0.0 - ans * -x) / qkm1

    def step(st):
        c, y, z, pkm2, qkm2, pkm1, qkm1, dpkm2, dqkm2, dpkm1, dqkm1, ans, dans = st
        c = c + 1.0
        y = y + 1.0
        z = z + 2.0
        yc = y * c
        pk = pkm1 * z - pkm2 * yc
        qk = qkm1 * z - qkm2 * yc
        dpk = dpkm1 * z - pkm1 - dpkm2 * yc + pkm2 * c  # dy/da = dz/da = -1
        dqk = dqkm1 * z - qkm1 - dqkm2 * yc + qkm2 * c
        nz = qk != 0
        safe = np.where(nz, qk, 1.0)
        r = np.where(nz, pk / safe, ans)
        dr = np.where(nz, (dpk - r * dqk) / safe, dans)
        t = np.where(nz, np.abs((ans - r) / r), 1.0)
        dt = np.where(nz, np.abs(dans - dr), 1.0)
        scale = np.where(np.abs(pk) > _BIG, _BIGINV, 1.0)
        done = (t <= _EPS) & (dt <= 8 * _EPS * np.abs(dr))  # the derivative wobbles by an ulp or two
        pkm2, pkm1, qkm2, qkm1 = pkm1 * scale, pk * scale, qkm1 * scale, qk * scale
        dpkm2, dpkm1, dqkm2, dqkm1 = dpkm1 * scale, dpk * scale, dqkm1 * scale, dqk * scale
        return done, [c, y, z, pkm2, qkm2, pkm1, qkm1, dpkm2, dqkm2, dpkm1, dqkm1, r, dr]

    zero = np.zeros_like(a)
    state = [zero, y, z, np.ones_like(a), x.copy(), pkm1, qkm1, zero, zero, zero, -x, ans, dans]
    *_, ans, dans = _iterate(state, step, _MAXITER)
    e = np.exp(ax)
    q = ans * e
    dq = q * (log_x - _np_digamma(a)) + e * dans
    return q, dq


def _igamma_parts(a, x):
    """(P(a, x), Q(a, x), dP/da) over broadcast float64 arrays, with TF's special values."""
    a, x = (np.array(v, dtype=np.float64) for v in np.broadcast_arrays(a, x))
    nan = np.isnan(a) | np.isnan(x) | (a <= 0) | (x < 0)
    zero = ~nan & (x == 0)
    x_inf = ~nan & ~zero & (x == np.inf)
    a_inf = ~nan & ~zero & ~x_inf & (a == np.inf)
    regular = ~(nan | zero | x_inf | a_inf)
    use_cf = regular & (x > 1) & (x > a)
    use_series = regular & ~use_cf
    p = np.zeros_like(a)
    q = np.ones_like(a)
    dp = np.zeros_like(a)
    if use_series.any():
        ps, dps = _igam_series(a[use_series], x[use_series])
        p[use_series], q[use_series], dp[use_series] = ps, 1.0 - ps, dps
    if use_cf.any():
        qc, dqc = _igamc_cf(a[use_cf], x[use_cf])
        p[use_cf], q[use_cf], dp[use_cf] = 1.0 - qc, qc, -dqc
    p[x_inf], q[x_inf] = 1.0, 0.0
    p[nan], q[nan], dp[nan] = np.nan, np.nan, np.nan
    return p, q, dp


def _np_igamma(a, x):
    return _igamma_parts(a, x)[0]


def _np_igammac(a, x):
    return _igamma_parts(a, x)[1]


def _np_igamma_grad_a(a, x):
    return _igamma_parts(a, x)[2]


# ---- incomplete beta ---------------------------------------------------------------------------


def _betacf(a, b, x):
    """The continued fraction of I_x(a, b) by the modified Lentz method."""
    tiny = 1e-300
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)

    def step(st):
        a_, b_, x_, m, c, d, h = st
        m = m + 1.0
        m2 = 2.0 * m
        for aa in (
            m * (b_ - m) * x_ / ((a_ - 1.0 + m2) * (a_ + m2)),
            -(a_ + m) * (a_ + b_ + m) * x_ / ((a_ + m2) * (a_ + 1.0 + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
            c = 1.0 + aa / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            delta = d * c
            h = h * delta
        return np.abs(delta - 1.0) <= _EPS, [a_, b_, x_, m, c, d, h]

    *_, h = _iterate([a, b, x, np.zeros_like(a), np.ones_like(a), d, d.copy()], step, 10_000)
    return h


def _np_betainc(a, b, x):
    a, b, x = (np.array(v, dtype=np.float64) for v in np.broadcast_arrays(a, b, x))
    out = np.full(a.shape, np.nan)
    ok = (a > 0) & (b > 0) & (x >= 0) & (x <= 1)
    out[ok & (x == 0)] = 0.0
    out[ok & (x == 1)] = 1.0
    inner = ok & (x > 0) & (x < 1)
    if inner.any():
        a_, b_, x_ = a[inner], b[inner], x[inner]
        flip = x_ > (a_ + 1.0) / (a_ + b_ + 2.0)  # the fraction converges fast below the mean
        aa, bb, xx = np.where(flip, b_, a_), np.where(flip, a_, b_), np.where(flip, 1.0 - x_, x_)
        log_front = aa * np.log(xx) + bb * np.log1p(-xx) + _np_lgamma(aa + bb) - _np_lgamma(aa) - _np_lgamma(bb)
        val = np.exp(log_front) * _betacf(aa, bb, xx) / aa
        out[inner] = np.where(flip, 1.0 - val, val)
    return out


# ---- inverse error functions -------------------------------------------------------------------


def _giles(w):
    """Giles' single-precision polynomial for erfinv(x) / x, in w = -log((1 - x)(1 + x))."""
    lo = w - 2.5
    p = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164):
        p = c + p * lo
    p = 1.50140941 + (0.246640727 + p * lo) * lo
    hi = np.sqrt(w) - 3.0
    q = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047):
        q = c + q * hi
    q = 2.83297682 + (1.00167406 + q * hi) * hi
    return np.where(w < 5.0, p, q)


def _erfinv_small(x):
    """erfinv(x) for |x| < 1/2: Giles' guess refined by Newton on erf(y) = x."""
    y = _giles(-np.log1p(-x * x)) * x
    for _ in range(3):
        y = y - 0.5 * _SQRT_PI * (_np_erf(y) - x) * np.exp(y * y)
    return y


def _erfcinv_tail(z):
    """erfcinv(z) for z in (0, 1/2], accurate down to the smallest z: Newton on erfc(y) = z."""
    w = -np.log(z * (2.0 - z))
    tail = w > 30.0  # past Giles' range: erfc(y) ~ exp(-y^2) / (y sqrt(pi))
    t = -np.log(z)
    y_tail = np.sqrt(np.maximum(t - np.log(np.sqrt(math.pi * np.maximum(t, 1.0))), 0.0))
    y = np.where(tail, y_tail, _giles(np.minimum(w, 30.0)) * (1.0 - z))
    log_z = np.log(z)
    for _ in range(6):  # the step scaled by z, so it stays finite for the tiniest z
        y = y + 0.5 * _SQRT_PI * (_np_erfc(y) / z - 1.0) * np.exp(y * y + log_z)
    return y


def _erfcinv_unit(z):
    """erfcinv(z) for z in (0, 1]: above 1/2 as erfinv(1 - z) (1 - z is exact there)."""
    near_one = z > 0.5
    small = _erfinv_small(np.where(near_one, 1.0 - z, 0.0))
    return np.where(near_one, small, _erfcinv_tail(np.where(near_one, 0.5, z)))


def _np_erfinv(x):
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    small = ax < 0.5
    y_small = _erfinv_small(np.where(small, x, 0.0))
    zz = np.where(small | (ax >= 1), 0.5, 1.0 - ax)  # exact for |x| >= 0.5
    out = np.where(small, y_small, np.copysign(_erfcinv_tail(zz), x))
    out = np.where(ax == 1, np.copysign(np.inf, x), out)
    return np.where((ax > 1) | np.isnan(x), np.nan, out)


def _np_ndtri(p):
    p = np.asarray(p, dtype=np.float64)
    lower = p < 0.5
    z = np.where(lower, 2.0 * p, 2.0 * (1.0 - p))  # exact: 1 - p for p >= 0.5
    ok = (p > 0) & (p < 1)
    y = math.sqrt(2.0) * _erfcinv_unit(np.where(ok, z, 1.0))
    out = np.where(lower, -y, y)
    out = np.where(p == 0, -np.inf, np.where(p == 1, np.inf, out))
    return np.where((p < 0) | (p > 1) | np.isnan(p), np.nan, out)


# ---- modified Bessel functions -----------------------------------------------------------------


def _np_bessel_ie(x, order):
    """exp(-|x|) I_order(x) for order 0 or 1: the power series up to |x| = 20, above it the
    asymptotic series (terms shrink until k ~ 2|x|, far past double precision)."""
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    small = ax <= 20.0
    xs = np.where(small, ax, 0.0)
    q = 0.25 * xs * xs
    term = np.ones_like(xs) if order == 0 else 0.5 * xs
    s = term.copy()
    for k in range(1, 200):
        term = term * q / (k * (k + order))
        s = s + term
        if np.all(term <= _EPS * s):
            break
    series = s * np.exp(-xs)
    xl = np.where(small, 21.0, ax)
    mu = 4.0 * order * order
    term = np.ones_like(xl)
    s = term.copy()
    for k in range(1, 60):
        term = -term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * xl)
        s = s + term
    asym = s / np.sqrt(2.0 * math.pi * xl)
    asym = np.where(ax == np.inf, 0.0, asym)
    out = np.where(small, series, asym)
    if order == 1:
        out = np.copysign(out, x)
    return np.where(np.isnan(x), np.nan, out)


def _np_bessel_k(x, order, scaled):
    """K_order(x) (order 0 or 1), times exp(x) when scaled: the power series with the logarithm
    below x = 1 (A&S 9.6.13 / 9.6.11), Steed's continued fraction above (Numerical Recipes'
    bessik, Temme's CF2 for integer order). inf for x <= 0, as TF."""
    x = np.asarray(x, dtype=np.float64)
    small = (x > 0) & (x < 1.0)
    xs = np.where(small, x, 0.5)
    t = 0.25 * xs * xs
    log_half = np.log(0.5 * xs)
    euler = 0.5772156649015329
    if order == 0:  # K0 = -(log(x/2) + gamma) I0 + sum_k t^k / (k!)^2 H_k
        term, i0, s = np.ones_like(xs), np.ones_like(xs), np.zeros_like(xs)
        harmonic = 0.0
        for k in range(1, 40):
            term = term * t / (k * k)
            harmonic += 1.0 / k
            i0 = i0 + term
            s = s + term * harmonic
        series = -(log_half + euler) * i0 + s
    else:  # K1 = 1/x + log(x/2) I1 - (x/4) sum_k (psi(k+1) + psi(k+2)) t^k / (k! (k+1)!)
        term, i1, s = np.ones_like(xs), np.ones_like(xs), np.zeros_like(xs)
        psi1, psi2 = -euler, 1.0 - euler
        s = s + term * (psi1 + psi2)
        for k in range(1, 40):
            term = term * t / (k * (k + 1))
            psi1 += 1.0 / k
            psi2 += 1.0 / (k + 1)
            i1 = i1 + term
            s = s + term * (psi1 + psi2)
        series = 1.0 / xs + log_half * (0.5 * xs * i1) - 0.25 * xs * s
    if scaled:
        series = series * np.exp(xs)
    big = x >= 1.0
    xl = np.where(big, x, 2.0)
    xl = np.where(np.isinf(xl), 2.0, xl)
    b = 2.0 * (1.0 + xl)
    d = 1.0 / b
    h = delh = d
    q1, q2 = np.zeros_like(xl), np.ones_like(xl)
    a1 = 0.25
    q = c = np.full_like(xl, a1)
    a = -a1
    ssum = 1.0 + q * delh
    for i in range(1, 200):
        a -= 2 * i
        c = -a * c / (i + 1.0)
        qnew = (q1 - b * q2) / a
        q1, q2 = q2, qnew
        q = q + c * qnew
        b = b + 2.0
        d = 1.0 / (b + a * d)
        delh = (b * d - 1.0) * delh
        h = h + delh
        ssum = ssum + q * delh
        if np.all(np.abs(q * delh) < _EPS * np.abs(ssum)):
            break
    k0e = np.sqrt(math.pi / (2.0 * xl)) / ssum
    cf = k0e if order == 0 else k0e * (xl + 0.5 - a1 * h) / xl
    if not scaled:
        cf = cf * np.exp(-xl)
    out = np.where(small, series, cf)
    out = np.where(x == np.inf, 0.0, out)
    out = np.where(x <= 0, np.inf, out)
    return np.where(np.isnan(x), np.nan, out)


def _np_expint(x):
    """Ei(x) for x >= 0: its power series up to 40, above it the asymptotic series; -E1(-x) for
    x < 0 is nan in TF."""
    x = np.asarray(x, dtype=np.float64)
    small = (x > 0) & (x <= 40.0)
    xs = np.where(small, x, 1.0)
    term = np.ones_like(xs)
    s = np.zeros_like(xs)
    for k in range(1, 200):
        term = term * xs / k
        s = s + term / k
        if np.all(term / k <= _EPS * s):
            break
    series = 0.5772156649015329 + np.log(xs) + s
    xl = np.where(x > 40.0, x, 41.0)
    term = np.ones_like(xl)
    a = np.ones_like(xl)
    for k in range(1, 40):
        term = term * k / xl
        a = a + term
    asym = np.exp(xl) / xl * a
    out = np.where(small, series, asym)
    out = np.where(x == 0, -np.inf, out)
    return np.where((x < 0) | np.isnan(x) | (x == np.inf), np.nan, out)


def _np_spence(x):
    """Spence's function: the integral of log(t) / (1 - t) from 1 to x = Li2(1 - x), for x >= 0."""
    x = np.asarray(x, dtype=np.float64)
    z = 1.0 - x
    pi2_6 = math.pi**2 / 6

    def li2_series(u):  # |u| <= 1/2
        term = np.ones_like(u)
        s = np.zeros_like(u)
        for k in range(1, 60):
            term = term * u
            s = s + term / (k * k)
        return s

    out = np.full(x.shape, np.nan)
    # z in [-1/2, 1/2]: the series
    m = (z >= -0.5) & (z <= 0.5)
    out = np.where(m, li2_series(np.where(m, z, 0.0)), out)
    # z in (1/2, 1]: Li2(z) = pi^2/6 - log z log(1 - z) - Li2(1 - z), 1 - z = x exact-ish
    m = (z > 0.5) & (z <= 1.0)
    zz, xx = np.where(m, z, 0.75), np.where(m, x, 0.25)
    v = pi2_6 - np.log(zz) * np.where(xx > 0, np.log(np.where(xx > 0, xx, 1.0)), 0.0) - li2_series(xx)
    out = np.where(m, v, out)
    # z in [-2, -1/2): Li2(z) = -Li2(z / (z - 1)) - log(1 - z)^2 / 2, z / (z - 1) in (1/3, 2/3]
    m = (z < -0.5) & (z >= -2.0)
    zz = np.where(m, z, -1.0)
    w = zz / (zz - 1.0)
    v_low = -li2_series(np.where(w <= 0.5, w, 0.0))
    v_high = -(pi2_6 - np.log(w) * np.log1p(-w) - li2_series(1.0 - w))
    v = np.where(w <= 0.5, v_low, v_high) - 0.5 * np.log1p(-zz) ** 2
    out = np.where(m, v, out)
    # z < -2: Li2(z) = -pi^2/6 - log(-z)^2 / 2 - Li2(1/z), 1/z in (-1/2, 0)
    m = z < -2.0
    zz = np.where(m, z, -4.0)
    v = -pi2_6 - 0.5 * np.log(-zz) ** 2 - li2_series(1.0 / zz)
    out = np.where(m, v, out)
    return np.where((x < 0) | np.isnan(x) | (x == np.inf), np.nan, out)


def _square_mod4(x):
    """x * x mod 4 without the rounding of x * x (Dekker's split: each partial product exact)."""
    split = 134217729.0 * x  # 2^27 + 1
    hi = split - (split - x)
    lo = x - hi
    parts = [np.fmod(hi * hi, 4.0), np.fmod(2.0 * hi * lo, 4.0), lo * lo]
    return np.fmod(parts[0] + parts[1] + parts[2], 4.0)


def _np_fresnel(x):
    """(C(x), S(x)), the Fresnel integrals: their power series below |x| = 1.5, above it the
    continued fraction of erfc at a complex argument (Numerical Recipes' frenel)."""
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    small = ax < 1.5
    xs = np.where(small, ax, 0.0)
    fact = 0.5 * math.pi * xs * xs
    term = xs.copy()
    c_sum, s_sum = xs.copy(), np.zeros_like(xs)
    for k in range(1, 60):  # term = x (pi x^2 / 2)^k / k!: k = 1, 2, 3, 4, ... adds +S, -C, -S, +C, ...
        term = term * fact / k
        sign = 1.0 if k % 4 in (0, 1) else -1.0
        if k % 2:
            s_sum = s_sum + sign * term / (2 * k + 1)
        else:
            c_sum = c_sum + sign * term / (2 * k + 1)
    xl = np.where(small | np.isinf(ax), 2.0, ax)
    pix2 = math.pi * xl * xl
    b = 1.0 - 1j * pix2
    d = 1.0 / b

    def step(st):
        n, b, cc, d, h = st
        n = n + 2.0
        a = -n * (n + 1.0)
        b = b + 4.0
        d = 1.0 / (a * d + b)
        cc = b + a / cc
        delta = cc * d
        h = h * delta
        return np.abs(delta.real - 1.0) + np.abs(delta.imag) < _EPS, [n, b, cc, d, h]

    start = [np.full(xl.shape, -1.0 + 0j), b, np.full(xl.shape, 1e300 + 0j), d, d.copy()]
    *_, h = _iterate(start, step, 200)
    h = (xl - 1j * xl) * h
    phase = 0.5 * math.pi * _square_mod4(xl)  # pi x^2 / 2 reduced exactly: cos and sin have period 4 in x^2
    cs = (0.5 + 0.5j) * (1.0 - (np.cos(phase) + 1j * np.sin(phase)) * h)
    c = np.where(small, c_sum, cs.real)
    s = np.where(small, s_sum, cs.imag)
    c = np.where(np.isinf(ax), 0.5, c)
    s = np.where(np.isinf(ax), 0.5, s)
    c, s = np.copysign(c, x), np.copysign(s, x)
    return np.where(np.isnan(x), np.nan, c), np.where(np.isnan(x), np.nan, s)


def _np_dawsn(x):
    """Dawson's integral exp(-x^2) * integral of exp(t^2) from 0 to x: its power series below
    |x| = 0.5, Rybicki's exponentially convergent sum (step 0.2) up to 50, the asymptotic
    series above."""
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    small = ax < 0.5
    xs = np.where(small, ax, 0.0)
    term = xs.copy()
    s = xs.copy()
    for k in range(1, 40):
        term = term * (-2.0 * xs * xs) / (2 * k + 1)
        s = s + term
    mid = (ax >= 0.5) & (ax <= 50.0)
    xm = np.where(mid, ax, 1.0)
    step = 0.2
    n0 = 2.0 * np.floor(0.5 * xm / step + 0.5)
    xp = xm - n0 * step
    e1 = np.exp(2.0 * xp * step)
    e2 = e1 * e1
    d1 = n0 + 1.0
    d2 = d1 - 2.0
    total = np.zeros_like(xm)
    for i in range(1, 30):
        c = math.exp(-(((2.0 * i - 1.0) * step) ** 2))
        total = total + c * (e1 / d1 + 1.0 / (d2 * e1))
        d1 = d1 + 2.0
        d2 = d2 - 2.0
        e1 = e1 * e2
    rybicki = np.exp(-xp * xp) * total / _SQRT_PI
    xl = np.where(ax > 50.0, ax, 51.0)
    w = 1.0 / (2.0 * xl * xl)
    term = np.ones_like(xl)
    a = np.ones_like(xl)
    for k in range(1, 12):
        term = term * (2 * k - 1) * w
        a = a + term
    asym = a / (2.0 * xl)
    out = np.where(small, s, np.where(mid, rybicki, asym))
    out = np.where(np.isinf(ax), 0.0, out)
    return np.where(np.isnan(x), np.nan, np.copysign(out, x))


def _np_bessel_jy(x):
    """(J0, J1, Y0, Y1) at |x| (J1 is odd; Y0 and Y1 are -inf for x < 0, as TF): the power series below 1, Miller's
    backward recurrence normalized by J0 + 2 sum J_2k = 1 up to 25 (Y0 and Y1 from their Neumann
    series in the J's), Hankel's asymptotic series above, with cos(x - pi/4) written as
    (cos x + sin x) / sqrt(2) so no phase is rounded."""
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    euler = 0.5772156649015329
    two_pi = 2.0 / math.pi
    j0 = np.zeros_like(ax)
    j1 = np.zeros_like(ax)
    y0 = np.zeros_like(ax)
    y1 = np.zeros_like(ax)
    # power series
    small = ax < 1.0
    xs = np.where(small & (ax > 0), ax, 0.5)
    t = -0.25 * xs * xs
    term0 = np.ones_like(xs)  # (-x^2/4)^k / (k!)^2
    term1 = 0.5 * xs  # (x/2) (-x^2/4)^k / (k! (k+1)!)
    sj0, sj1 = term0.copy(), term1.copy()
    harmonic = 0.0
    psi1, psi2 = -euler, 1.0 - euler
    sy0 = np.zeros_like(xs)
    sy1 = term1 * (psi1 + psi2)
    for k in range(1, 30):
        term0 = term0 * t / (k * k)
        term1 = term1 * t / (k * (k + 1))
        harmonic += 1.0 / k
        psi1 += 1.0 / k
        psi2 += 1.0 / (k + 1)
        sj0 = sj0 + term0
        sj1 = sj1 + term1
        sy0 = sy0 - term0 * harmonic
        sy1 = sy1 + term1 * (psi1 + psi2)
    log_half = np.log(0.5 * xs) + euler
    j0 = np.where(small, sj0, j0)
    j1 = np.where(small, sj1, j1)
    y0 = np.where(small, two_pi * (log_half * sj0 + sy0), y0)
    y1 = np.where(small, two_pi * (np.log(0.5 * xs) * sj1 - 1.0 / xs) - sy1 / math.pi, y1)
    # Miller's backward recurrence
    mid = (ax >= 1.0) & (ax <= 25.0)
    if mid.any():
        xm = ax[mid]
        top = 2 * int((25.0 + 30.0 + 6.0 * math.sqrt(25.0)) / 2)  # even, well past x
        jp1 = np.zeros_like(xm)
        jn = np.full_like(xm, 1e-300)
        norm = np.zeros_like(xm)
        neumann0 = np.zeros_like(xm)  # sum_k (-1)^k J_2k / k
        neumann1 = np.zeros_like(xm)  # sum_k (-1)^k (J_2k-1 - J_2k+1) / k
        keep = {}
        for n in range(top, 0, -1):
            jm1 = (2.0 * n / xm) * jn - jp1  # J_{n-1}
            if n % 2 == 0:  # jn is J_n with n even
                norm = norm + 2.0 * jn
                k = n // 2
                sign = -1.0 if k % 2 else 1.0
                neumann0 = neumann0 + sign * jn / k
                neumann1 = neumann1 + sign * (jm1 - jp1) / k  # (J_{2k-1} - J_{2k+1}) / k
            jp1, jn = jn, jm1
            if n == 1:
                keep[1] = jp1
            scale = np.where(np.abs(jn) > 1e250, 1e-250, 1.0)
            jp1, jn, norm, neumann0, neumann1 = (
                jp1 * scale,
                jn * scale,
                norm * scale,
                neumann0 * scale,
                neumann1 * scale,
            )
            if 1 in keep:
                keep[1] = keep[1] * scale
        norm = norm + jn  # + J0
        mj0, mj1 = jn / norm, keep[1] / norm
        n0, n1 = neumann0 / norm, neumann1 / norm
        lh = np.log(0.5 * xm) + euler
        j0[mid], j1[mid] = mj0, mj1
        y0[mid] = two_pi * (lh * mj0) - 2.0 * two_pi * n0
        y1[mid] = -two_pi * mj0 / xm + two_pi * lh * mj1 + two_pi * n1
    # Hankel's asymptotic series
    big = ax > 25.0
    xb = np.where(big & np.isfinite(ax), ax, 30.0)
    w = 1.0 / (8.0 * xb)
    out = []
    for nu in (0, 1):
        mu = 4.0 * nu * nu
        p, q = np.ones_like(xb), np.zeros_like(xb)
        term = np.ones_like(xb)
        for k in range(1, 60):
            term = term * (mu - (2 * k - 1) ** 2) * w / k
            if k % 2:
                q = q + (1.0 if k % 4 == 1 else -1.0) * term
            else:
                p = p + (-1.0 if k % 4 == 2 else 1.0) * term
        c, sn = np.cos(xb), np.sin(xb)
        # chi = x - (nu/2 + 1/4) pi: cos chi, sin chi without rounding the phase
        cos_chi = (c + sn) / math.sqrt(2.0) if nu == 0 else (sn - c) / math.sqrt(2.0)
        sin_chi = (sn - c) / math.sqrt(2.0) if nu == 0 else -(c + sn) / math.sqrt(2.0)
        amp = np.sqrt(two_pi / xb)
        out.append((amp * (p * cos_chi - q * sin_chi), amp * (p * sin_chi + q * cos_chi)))
    j0 = np.where(big, out[0][0], j0)
    y0 = np.where(big, out[0][1], y0)
    j1 = np.where(big, out[1][0], j1)
    y1 = np.where(big, out[1][1], y1)
    zero = ax == 0
    j0, j1 = np.where(zero, 1.0, j0), np.where(zero, 0.0, j1)
    y0, y1 = np.where(zero, -np.inf, y0), np.where(zero, -np.inf, y1)
    inf = np.isinf(ax)
    j0, j1 = np.where(inf, np.nan, j0), np.where(inf, np.nan, j1)
    y0, y1 = np.where(x == np.inf, np.nan, y0), np.where(x == np.inf, np.nan, y1)
    y0, y1 = np.where(x < 0, -np.inf, y0), np.where(x < 0, -np.inf, y1)
    nan = np.isnan(x)
    j1 = np.where(x < 0, -j1, j1)  # odd
    return tuple(np.where(nan, np.nan, v) for v in (j0, j1, y0, y1))


# ---- the ops -----------------------------------------------------------------------------------


@custom_gradient
def _lgamma(x):
    def grad(dy):
        return dy * _digamma(x)

    return _run(_np_lgamma, x), grad


@custom_gradient
def _digamma(x):
    def grad(dy):
        return dy * _polygamma(constant(1.0, dtype=x.dtype), x)

    return _run(_np_digamma, x), grad


@custom_gradient
def _polygamma(a, x):
    def grad(dy):
        return None, dy * _polygamma(a + 1.0, x)

    return _run(_np_polygamma, a, x), grad


@custom_gradient
def _zeta(x, q):
    def grad(dy):
        return None, dy * (-x) * _zeta(x + 1.0, q)

    return _run(_np_zeta, x, q), grad


def _igamma_grad_x(a, x):
    """d/dx P(a, x) = exp(-x) x^(a - 1) / Gamma(a) (TF's _IgammaGrad)."""
    return _core.exp(-x + xlogy(a - 1.0, x) - _lgamma(a))


@custom_gradient
def _igamma_grad_a(a, x):
    def grad(dy):
        raise LookupError("gradient registry has no entry for: IgammaGradA")

    return _run(_np_igamma_grad_a, a, x), grad


@custom_gradient
def _igamma(a, x):
    def grad(dy):
        return dy * _igamma_grad_a(a, x), dy * _igamma_grad_x(a, x)

    return _run(_np_igamma, a, x), grad


@custom_gradient
def _igammac(a, x):
    def grad(dy):
        return -dy * _igamma_grad_a(a, x), -dy * _igamma_grad_x(a, x)

    return _run(_np_igammac, a, x), grad


@custom_gradient
def _betainc(a, b, x):
    def grad(dy):  # TF's _BetaincGrad: the gradient for x only
        log_beta = _lgamma(a) + _lgamma(b) - _lgamma(a + b)
        return None, None, dy * _core.exp(xlog1py(b - 1.0, -x) + xlogy(a - 1.0, x) - log_beta)

    return _run(_np_betainc, a, b, x), grad


@custom_gradient
def _erfinv(x):
    def grad(dy):
        return dy * (0.5 * _SQRT_PI) * _core.exp(_core.square(_erfinv(x)))  # y again, on the tape

    return _run(_np_erfinv, x), grad


@custom_gradient
def _ndtri(x):
    def grad(dy):
        return dy * math.sqrt(2.0 * math.pi) * _core.exp(0.5 * _core.square(_ndtri(x)))

    return _run(_np_ndtri, x), grad


@custom_gradient
def _bessel_i0e(x):
    def grad(dy):  # TF's _BesselI0eGrad
        return dy * (_bessel_i1e(x) - _core.sign(x) * _bessel_i0e(x))

    return _run(lambda v: _np_bessel_ie(v, 0), x), grad


@custom_gradient
def _bessel_i1e(x):
    def grad(dy):  # TF's _BesselI1eGrad, with its limit 1/2 at x = 0
        zero = _core.equal(x, 0.0)
        safe = _core.where3(zero, ones_like(x), x)
        d = _bessel_i0e(x) - _bessel_i1e(x) * (_core.sign(x) + 1.0 / safe)
        return dy * _core.where3(zero, 0.5 * ones_like(x), d)

    return _run(lambda v: _np_bessel_ie(v, 1), x), grad


@custom_gradient
def _bessel_k0(x):
    def grad(dy):  # TF's _BesselK0Grad
        return dy * -_bessel_k1(x)

    return _run(lambda v: _np_bessel_k(v, 0, False), x), grad


@custom_gradient
def _bessel_k0e(x):
    def grad(dy):  # TF's _BesselK0eGrad
        return dy * (_bessel_k0e(x) - _bessel_k1e(x))

    return _run(lambda v: _np_bessel_k(v, 0, True), x), grad


@custom_gradient
def _bessel_k1(x):
    def grad(dy):  # TF's _BesselK1Grad (nan at 0, as TF)
        return dy * (-_bessel_k0(x) - _bessel_k1(x) / x)

    return _run(lambda v: _np_bessel_k(v, 1, False), x), grad


@custom_gradient
def _bessel_k1e(x):
    def grad(dy):  # TF's _BesselK1eGrad
        return dy * (_bessel_k1e(x) * (1.0 - 1.0 / x) - _bessel_k0e(x))

    return _run(lambda v: _np_bessel_k(v, 1, True), x), grad


@custom_gradient
def _dawsn(x):
    def grad(dy):  # TF's _DawsnGrad: D' = 1 - 2 x D
        return dy * (1.0 - 2.0 * x * _dawsn(x))

    return _run(_np_dawsn, x), grad


@custom_gradient
def _expint(x):
    def grad(dy):  # TF's _ExpintGrad: exp(x) / x
        return dy * _core.exp(x) / x

    return _run(_np_expint, x), grad


@custom_gradient
def _fresnel_cos(x):
    def grad(dy):  # TF's _FresnelCosGrad
        return dy * _core.cos((math.pi / 2.0) * _core.square(x))

    return _run(lambda v: _np_fresnel(v)[0], x), grad


@custom_gradient
def _fresnel_sin(x):
    def grad(dy):  # TF's _FresnelSinGrad
        return dy * _core.sin((math.pi / 2.0) * _core.square(x))

    return _run(lambda v: _np_fresnel(v)[1], x), grad


@custom_gradient
def _spence(x):
    def grad(dy):  # TF's _SpenceGrad: log(x) / (1 - x), -1 at x = 1
        one = _core.equal(x, 1.0)
        safe = _core.where3(one, 0.5 * ones_like(x), x)
        return dy * _core.where3(one, -ones_like(x), _core.log(safe) / (1.0 - safe))

    return _run(_np_spence, x), grad


@custom_gradient
def _bessel_j0(x):
    def grad(dy):  # TF's _BesselJ0Grad
        return dy * -_bessel_j1(x)

    return _run(lambda v: _np_bessel_jy(v)[0], x), grad


@custom_gradient
def _bessel_j1(x):
    def grad(dy):  # TF's _BesselJ1Grad, with its limit 1/2 at x = 0
        zero = _core.equal(x, 0.0)
        safe = _core.where3(zero, ones_like(x), x)
        d = _bessel_j0(x) - _bessel_j1(x) / safe
        return dy * _core.where3(zero, 0.5 * ones_like(x), d)

    return _run(lambda v: _np_bessel_jy(v)[1], x), grad


@custom_gradient
def _bessel_y0(x):
    def grad(dy):  # TF's _BesselY0Grad
        return dy * -_bessel_y1(x)

    return _run(lambda v: _np_bessel_jy(v)[2], x), grad


@custom_gradient
def _bessel_y1(x):
    def grad(dy):  # TF's _BesselY1Grad (nan at 0, as TF)
        return dy * (_bessel_y0(x) - _bessel_y1(x) / x)

    return _run(lambda v: _np_bessel_jy(v)[3], x), grad


# ---- public functions --------------------------------------------------------------------------


def lgamma(x: TensorLike, name: str | None = None) -> Tensor:
    """log|Gamma(x)| elementwise (``tf.math.lgamma``); its gradient is ``digamma(x)``.

    >>> import tapegrad as tg
    >>> [round(v, 6) for v in tg.math.lgamma([1.0, 3.0, 0.5]).numpy().tolist()]
    [0.0, 0.693147, 0.572365]
    """
    return _lgamma(_unary(x, "Lgamma"))


def digamma(x: TensorLike, name: str | None = None) -> Tensor:
    """The derivative of lgamma, psi(x) (``tf.math.digamma``); nan at 0, -1, -2, ...

    >>> import tapegrad as tg
    >>> round(float(tg.math.digamma(1.0)), 6)  # minus the Euler-Mascheroni constant
    -0.577216
    """
    return _digamma(_unary(x, "Digamma"))


def polygamma(a: TensorLike, x: TensorLike, name: str | None = None) -> Tensor:
    """The a-th derivative of digamma at x, for integer-valued float a >= 0 (nan otherwise)
    (``tf.math.polygamma``); TF gives no gradient for a.

    >>> import tapegrad as tg
    >>> round(float(tg.math.polygamma(1.0, 1.0)), 6)  # pi^2 / 6
    1.644934
    """
    a, x = _same_dtype((a, x), "Polygamma", _F32_F64)
    _broadcast_shape([a, x], "Polygamma")
    return _polygamma(a, x)


def zeta(x: TensorLike, q: TensorLike, name: str | None = None) -> Tensor:
    """The Hurwitz zeta function sum_k (q + k)^-x (``tf.math.zeta``); TF gives no gradient for x.

    >>> import tapegrad as tg
    >>> round(float(tg.math.zeta(2.0, 1.0)), 6)
    1.644934
    """
    x, q = _same_dtype((x, q), "Zeta", _F32_F64)
    _broadcast_shape([x, q], "Zeta")
    return _zeta(x, q)


def igamma(a: TensorLike, x: TensorLike, name: str | None = None) -> Tensor:
    """The regularized lower incomplete gamma function P(a, x) (``tf.math.igamma``), with
    gradients for both a and x as TF.

    >>> import tapegrad as tg
    >>> round(float(tg.math.igamma(1.0, 2.0)), 6)  # 1 - exp(-2)
    0.864665
    """
    a, x = _same_dtype((a, x), "Igamma", _ALL_FLOATS)
    _broadcast_shape([a, x], "Igamma")
    return _igamma(a, x)


def igammac(a: TensorLike, x: TensorLike, name: str | None = None) -> Tensor:
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x) (``tf.math.igammac``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.igammac(1.0, 2.0)), 6)  # exp(-2)
    0.135335
    """
    a, x = _same_dtype((a, x), "Igammac", _ALL_FLOATS)
    _broadcast_shape([a, x], "Igammac")
    return _igammac(a, x)


def betainc(a: TensorLike, b: TensorLike, x: TensorLike, name: str | None = None) -> Tensor:
    """The regularized incomplete beta function I_x(a, b) (``tf.math.betainc``); as TF, the
    gradient is given for x only (None for a and b). a, b and x have one shape or are scalars.

    >>> import tapegrad as tg
    >>> round(float(tg.math.betainc(2.0, 3.0, 0.5)), 6)
    0.6875
    """
    ta, tb, tx = _same_dtype((a, b, x), "Betainc", _F32_F64)
    shapes = {n: [int(d) for d in t.shape] for n, t in (("a", ta), ("b", tb), ("x", tx))}
    full = [s for s in shapes.values() if s]
    for n in ("b", "x"):
        if shapes["a"] and shapes[n] and shapes[n] != shapes["a"]:
            raise InvalidArgumentError(
                f"Shapes of a and {n} are inconsistent: {shapes['a']} vs. {shapes[n]} [Op:Betainc]"
            )
    if shapes["b"] and shapes["x"] and shapes["b"] != shapes["x"]:
        raise InvalidArgumentError(f"Shapes of b and x are inconsistent: {shapes['b']} vs. {shapes['x']} [Op:Betainc]")
    if full:
        ta, tb, tx = (t if list(t.shape) == full[0] else _core.broadcast_to(t, full[0]) for t in (ta, tb, tx))
    return _betainc(ta, tb, tx)


def lbeta(x: TensorLike, name: str | None = None) -> Tensor:
    """log|Beta(x)| over the last axis: sum(lgamma(x)) - lgamma(sum(x)) (``tf.math.lbeta``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.lbeta([1.0, 2.0])), 6)  # log(1/2)
    -0.693147
    """
    x = _unary(x, "Lgamma")
    if len(x.shape) == 0:
        raise InvalidArgumentError("Invalid reduction dimension (-1 for input with 0 dimension(s) [Op:Sum]")
    return reduce_sum(_lgamma(x), axis=-1) - _lgamma(reduce_sum(x, axis=-1))


def erfinv(x: TensorLike, name: str | None = None) -> Tensor:
    """The inverse of erf on (-1, 1) (``tf.math.erfinv``); +-inf at +-1, nan outside.

    >>> import tapegrad as tg
    >>> round(float(tg.math.erfinv(0.5)), 6)
    0.476936
    """
    return _erfinv(_unary(x, "Erfinv"))


def ndtri(x: TensorLike, name: str | None = None) -> Tensor:
    """The inverse of the standard normal CDF (``tf.math.ndtri``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.ndtri(0.975)), 6)
    1.959964
    """
    return _ndtri(_unary(x, "Ndtri"))


def erfcinv(x: TensorLike, name: str | None = None) -> Tensor:
    """The inverse of erfc on (0, 2): ``-ndtri(x / 2) * sqrt(1/2)``, TF's own definition
    (``tf.math.erfcinv``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.erfcinv(0.5)), 6)
    0.476936
    """
    x = x if isinstance(x, Tensor) else convert_to_tensor(x)
    if not x.dtype.is_floating:
        raise TypeError(f"Cannot convert 0.5 to EagerTensor of dtype {x.dtype.name}")
    return -ndtri(0.5 * x) * math.sqrt(0.5)


def bessel_i0e(x: TensorLike, name: str | None = None) -> Tensor:
    """exp(-|x|) I0(x), the exponentially scaled modified Bessel function of order 0
    (``tf.math.bessel_i0e``, ``tf.math.special.bessel_i0e``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.bessel_i0e(1.0)), 6)
    0.46576
    """
    return _bessel_i0e(_unary(x, "BesselI0e"))


def bessel_i1e(x: TensorLike, name: str | None = None) -> Tensor:
    """exp(-|x|) I1(x), the exponentially scaled modified Bessel function of order 1
    (``tf.math.bessel_i1e``, ``tf.math.special.bessel_i1e``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.bessel_i1e(1.0)), 6)
    0.20791
    """
    return _bessel_i1e(_unary(x, "BesselI1e"))


def bessel_i0(x: TensorLike, name: str | None = None) -> Tensor:
    """I0(x), the modified Bessel function of order 0: ``exp(|x|) * bessel_i0e(x)`` as TF
    (``tf.math.bessel_i0``); its gradient is I1(x).

    >>> import tapegrad as tg
    >>> round(float(tg.math.bessel_i0(1.0)), 6)
    1.266066
    """
    x = _unary(x, "BesselI0e")
    return _core.exp(_core.abs(x)) * _bessel_i0e(x)


def bessel_i1(x: TensorLike, name: str | None = None) -> Tensor:
    """I1(x), the modified Bessel function of order 1: ``exp(|x|) * bessel_i1e(x)`` as TF
    (``tf.math.bessel_i1``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.bessel_i1(1.0)), 6)
    0.565159
    """
    x = _unary(x, "BesselI1e")
    return _core.exp(_core.abs(x)) * _bessel_i1e(x)


def bessel_k0(x: TensorLike, name: str | None = None) -> Tensor:
    """K0(x), the modified Bessel function of the second kind of order 0; inf for x <= 0
    (``tf.math.special.bessel_k0``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.special.bessel_k0(1.0)), 6)
    0.421024
    """
    return _bessel_k0(_unary(x, "BesselK0"))


def bessel_k0e(x: TensorLike, name: str | None = None) -> Tensor:
    """exp(x) K0(x) (``tf.math.special.bessel_k0e``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.special.bessel_k0e(1.0)), 6)
    1.144463
    """
    return _bessel_k0e(_unary(x, "BesselK0e"))


def bessel_k1(x: TensorLike, name: str | None = None) -> Tensor:
    """K1(x), the modified Bessel function of the second kind of order 1; inf for x <= 0
    (``tf.math.special.bessel_k1``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.special.bessel_k1(1.0)), 6)
    0.601907
    """
    return _bessel_k1(_unary(x, "BesselK1"))


def bessel_k1e(x: TensorLike, name: str | None = None) -> Tensor:
    """exp(x) K1(x) (``tf.math.special.bessel_k1e``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.special.bessel_k1e(1.0)), 6)
    1.636153
    """
    return _bessel_k1e(_unary(x, "BesselK1e"))


def dawsn(x: TensorLike, name: str | None = None) -> Tensor:
    """Dawson's integral exp(-x^2) * integral_0^x exp(t^2) dt (``tf.math.special.dawsn``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.special.dawsn(1.0)), 6)
    0.53808
    """
    return _dawsn(_unary(x, "Dawsn"))


def expint(x: TensorLike, name: str | None = None) -> Tensor:
    """The exponential integral Ei(x) for x >= 0 (nan for x < 0 and at inf, as TF)
    (``tf.math.special.expint``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.special.expint(1.0)), 6)
    1.895118
    """
    return _expint(_unary(x, "Expint"))


def fresnel_cos(x: TensorLike, name: str | None = None) -> Tensor:
    """The Fresnel integral C(x) = integral_0^x cos(pi t^2 / 2) dt (``tf.math.special.fresnel_cos``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.special.fresnel_cos(1.0)), 6)
    0.779893
    """
    return _fresnel_cos(_unary(x, "FresnelCos"))


def fresnel_sin(x: TensorLike, name: str | None = None) -> Tensor:
    """The Fresnel integral S(x) = integral_0^x sin(pi t^2 / 2) dt (``tf.math.special.fresnel_sin``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.special.fresnel_sin(1.0)), 6)
    0.438259
    """
    return _fresnel_sin(_unary(x, "FresnelSin"))


def spence(x: TensorLike, name: str | None = None) -> Tensor:
    """Spence's function integral_1^x log(t) / (1 - t) dt = Li2(1 - x) for x >= 0 (nan below)
    (``tf.math.special.spence``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.special.spence(0.0)), 6)  # pi^2 / 6
    1.644934
    """
    return _spence(_unary(x, "Spence"))


def bessel_j0(x: TensorLike, name: str | None = None) -> Tensor:
    """J0(x), the Bessel function of the first kind of order 0 (``tf.math.special.bessel_j0``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.special.bessel_j0(1.0)), 6)
    0.765198
    """
    return _bessel_j0(_unary(x, "BesselJ0"))


def bessel_j1(x: TensorLike, name: str | None = None) -> Tensor:
    """J1(x), the Bessel function of the first kind of order 1 (``tf.math.special.bessel_j1``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.special.bessel_j1(1.0)), 6)
    0.440051
    """
    return _bessel_j1(_unary(x, "BesselJ1"))


def bessel_y0(x: TensorLike, name: str | None = None) -> Tensor:
    """Y0(x), the Bessel function of the second kind of order 0; -inf for x <= 0
    (``tf.math.special.bessel_y0``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.special.bessel_y0(1.0)), 6)
    0.088257
    """
    return _bessel_y0(_unary(x, "BesselY0"))


def bessel_y1(x: TensorLike, name: str | None = None) -> Tensor:
    """Y1(x), the Bessel function of the second kind of order 1; -inf for x <= 0
    (``tf.math.special.bessel_y1``).

    >>> import tapegrad as tg
    >>> round(float(tg.math.special.bessel_y1(1.0)), 6)
    -0.781213
    """
    return _bessel_y1(_unary(x, "BesselY1"))
