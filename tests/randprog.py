"""Random tapegrad programs for tests/test_random_programs.py.

A program is a flat list of steps over numbered values (JAX's jaxpr idea: plain data, printable):

    x0 = input(float64, shape=(2, 3), domain=signed)
    x1 = input(float64, shape=(3,), domain=nonzero)
    v2 = divide(x0, x1)
    v3 = reduce_max(v2, axis=[1], keepdims=True)

Every op in OPS has two independent transcriptions: `tg(T, *tensors)` written against the TF-2 API
(T is the tapegrad module, or tensorflow itself when a mismatch is triaged with `replay`), and
`ref(*arrays)` in plain numpy. Programs are built value-aware: the numpy reference values are known
while the program is drawn, so an op is only appended where its inputs are in its domain, away from
kinks and ties by MARGIN, and its result stays finite and bounded. That keeps finite differences
meaningful without weakening any comparison.
"""

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

MAX_SIZE = 96  # elements in any value
BIG_SIZE = 40000  # big programs: long rows (SIMD bodies and tails, the thread pool's splits)
MARGIN = 1e-2  # distance kept from kinks, ties and discontinuities
BOUND = {"f": 1e4, "i": 2**20}  # largest magnitude a value may reach (no overflow, modest FD errors)

_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


# ---- the program ---------------------------------------------------------------------------------


@dataclass
class Step:
    """One op application: `out = name(args..., **params)`."""

    name: str
    args: list  # value indices
    params: dict
    tg: object  # tg(T, *tensors) -> tensor
    ref: object  # ref(*arrays) -> array
    pred: object = None  # pred(*arrays, out) -> bool: inputs in the domain, away from kinks
    scale: object = None  # scale(*arrays, out) -> magnitude for the absolute tolerance
    out: int = -1


@dataclass(repr=False)
class Program:
    """Inputs (dtype, shape, domain, array) and steps; the last step's value is the output."""

    dtype: str
    seed: int
    inputs: list = field(default_factory=list)  # (index, array, domain)
    steps: list = field(default_factory=list)
    values: list = field(default_factory=list)  # numpy reference value of every index

    def name(self, i):
        return f"x{i}" if any(j == i for j, _, _ in self.inputs) else f"v{i}"

    def __str__(self):
        lines = [f"# dtype={self.dtype} seed={self.seed}"]
        for i, a, dom in self.inputs:
            lines.append(f"{self.name(i)} = input({a.dtype}, shape={a.shape}, domain={dom})")
        for s in self.steps:
            args = ", ".join(self.name(i) for i in s.args)
            ps = "".join(f", {k}={v!r}" for k, v in s.params.items())
            out = self.values[s.out]
            lines.append(f"{self.name(s.out)} = {s.name}({args}{ps})    # -> {out.dtype}{list(out.shape)}")
        with np.printoptions(precision=17, threshold=200, linewidth=110):
            for i, a, _ in self.inputs:
                lines.append(f"{self.name(i)} = np.array({np.array2string(a, separator=', ')}, dtype='{a.dtype}')")
        return "\n".join(lines)

    def __repr__(self):
        return "Program(\n" + str(self) + "\n)"

    def _repr_pretty_(self, p, cycle):  # hypothesis's report of a falsifying example
        p.text(repr(self))

    @property
    def output(self):
        return self.values[self.steps[-1].out]

    def run_ref(self, arrays):
        """The numpy transcription from the given input arrays; returns every value."""
        vals = list(self.values)
        for (i, _, _), a in zip(self.inputs, arrays):
            vals[i] = a
        for s in self.steps:
            vals[s.out] = np.asarray(s.ref(*[vals[j] for j in s.args]))
        return vals

    def run_tg(self, T, tensors, hook=None):
        """The program in module T from the given input tensors; hook(step, tensors, out)."""
        vals = {}
        for (i, _, _), t in zip(self.inputs, tensors):
            vals[i] = t
        for s in self.steps:
            ins = [vals[j] for j in s.args]
            vals[s.out] = s.tg(T, *ins)
            if hook is not None:
                hook(s, ins, vals[s.out])
        return vals[self.steps[-1].out]


def replay(program, T):
    """Runs `program` in module T (tapegrad or tensorflow): output and, for floats, the gradients
    of sum(out * w) with w = 1 + index/size; for triaging a mismatch against real TF."""
    ts = [T.constant(a) for _, a, _ in program.inputs]
    with T.GradientTape(persistent=True) as tape:
        for t in ts:
            tape.watch(t)
        out = program.run_tg(T, ts)
        if out.dtype.is_floating:
            n = int(np.prod(out.shape))
            w = T.constant((1 + np.arange(n) / max(n, 1)).reshape(out.shape).astype(out.dtype.name))
            loss = T.reduce_sum(out * w)
    grads = tape.gradient(loss, ts) if out.dtype.is_floating else None
    return out, grads


# ---- drawing -------------------------------------------------------------------------------------


class Reject(Exception):
    pass


class Builder:
    def __init__(self, draw, rng, dtype, grad, big=False):
        self.draw, self.rng, self.grad, self.big = draw, rng, grad, big
        self.prog = Program(dtype=str(dtype), seed=0)
        self.dtype = np.dtype(dtype)
        self.committed = 0

    # values
    def new_value(self, arr):
        self.prog.values.append(arr)
        return len(self.prog.values) - 1

    def input_values(self, shape, dtype, domain):
        rng = self.rng
        if np.dtype(dtype).kind == "f":
            if domain == "positive":
                a = rng.uniform(0.5, 2.0, shape)
            elif domain == "nonzero":
                a = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
            else:
                a = rng.uniform(-2.0, 2.0, shape)
        else:
            if domain == "positive":
                a = rng.integers(1, 5, shape)
            elif domain == "nonzero":
                a = rng.integers(1, 5, shape) * rng.choice([-1, 1], shape)
            else:
                a = rng.integers(-4, 5, shape)
        return np.asarray(a).astype(dtype)

    def new_input(self, shape, domain=None, dtype=None):
        if domain is None:
            domain = self.choice(["signed", "signed", "positive", "nonzero"])
        a = self.input_values(tuple(shape), dtype or self.dtype, domain)
        i = self.new_value(a)
        self.prog.inputs.append((i, a, domain))
        return i

    def val(self, i):
        return self.prog.values[i]

    # random choices: from the rng of the current attempt (hypothesis draws one seed per attempt,
    # so it shrinks a program by dropping and simplifying whole steps)
    def integers(self, lo, hi):
        return int(self.rng.integers(lo, hi + 1))

    def boolean(self):
        return bool(self.rng.integers(0, 2))

    def choice(self, seq):
        seq = list(seq)
        return seq[int(self.rng.integers(len(seq)))]

    def perm(self, seq):
        seq = list(seq)
        return [seq[i] for i in self.rng.permutation(len(seq))]

    def subset(self, seq, min_size=0, max_size=None):
        """Distinct elements of seq in random order."""
        seq = list(seq)
        hi = len(seq) if max_size is None else min(max_size, len(seq))
        return self.perm(seq)[: self.integers(min(min_size, hi), hi)]

    def axis(self, rank, negative=True):
        if rank == 0:
            raise Reject
        a = self.integers(0, rank - 1)
        return a - rank if negative and self.boolean() else a

    def axes(self, rank):
        """None, an int, or a list of distinct axes (possibly empty); some negative."""
        k = self.integers(0, 3)
        if k == 0 or rank == 0:
            return None
        if k == 1:
            return self.axis(rank)
        picked = self.subset(range(rank))
        return [a - rank if self.boolean() else a for a in picked]

    def shape(self, max_rank=4):
        if self.big:
            dims = [
                self.choice([1, 3, 17, 64, 129, 1031, 4099, 16411])
                for _ in range(self.integers(1, min(3, max_rank) or 1))
            ]
            while int(np.prod(dims)) > BIG_SIZE // 2:
                dims[int(np.argmax(dims))] = self.choice([1, 2, 7])
            return tuple(dims)
        rank = self.integers(0, max_rank)
        dims = [self.choice([1, 2, 2, 3, 3, 4]) for _ in range(rank)]
        while int(np.prod(dims)) > 48:
            dims[int(np.argmax(dims))] = 1
        if rank >= 2 and self.integers(0, 2) == 0:  # square matrices for the linalg ops
            dims[-1] = dims[-2]
        if rank and self.integers(0, 19) == 0:  # occasionally a 0-size tensor
            dims[self.integers(0, rank - 1)] = 0
        return tuple(dims)

    def operand(self, shape, dtype, domain=None, reuse=True):
        """A value of exactly this shape and dtype: an earlier value or a new input (<= 3)."""
        shape = tuple(shape)
        if reuse and (len(self.prog.inputs) >= 3 or self.integers(0, 2) == 0):
            same = [i for i, v in enumerate(self.prog.values) if v.shape == shape and v.dtype == dtype]
            if same:
                return self.choice(same)
        if len(self.prog.inputs) >= 3:
            raise Reject
        return self.new_input(shape, domain, dtype)

    def broadcast_shape(self, shape):
        """A shape that broadcasts with `shape` (dims stretched from 1, dims missing, dims added)."""
        r = len(shape)
        r2 = self.integers(max(0, r - 2), max(r - 2, min(4, r + 1)))
        out = []
        for k in range(r2):
            j = r - r2 + k  # aligned position in shape
            if j < 0:
                out.append(1 if self.big else self.choice([1, 2]))
            elif shape[j] == 1:
                out.append(1 if self.big else self.choice([1, 1, 2, 3]))
            else:
                out.append(self.choice([shape[j], shape[j], 1]))
        return tuple(out)

    # steps
    def apply(self, step):
        vals = [self.val(i) for i in step.args]
        with np.errstate(all="raise"), warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # e.g. the variance of an empty slice
            try:
                out = np.asarray(step.ref(*vals))
            except (FloatingPointError, RuntimeWarning, ValueError, IndexError, np.linalg.LinAlgError):
                raise Reject from None
            if out.size > (BIG_SIZE if self.big else MAX_SIZE) or out.ndim > 6:
                raise Reject
            if out.dtype.kind in "fi":
                if out.dtype.kind == "f" and not np.all(np.isfinite(out)):
                    raise Reject
                if out.size and np.max(np.abs(out)) > BOUND[out.dtype.kind]:
                    raise Reject
            if step.pred is not None and not step.pred(*vals, out):
                raise Reject
        step.out = self.new_value(out)
        self.prog.steps.append(step)

    def commit(self):
        self.committed = len(self.prog.values)
        self.n_inputs = len(self.prog.inputs)
        self.n_steps = len(self.prog.steps)

    def rollback(self):
        del self.prog.values[self.committed :]
        del self.prog.inputs[self.n_inputs :]
        del self.prog.steps[self.n_steps :]


@st.composite
def programs(draw, dtype, min_ops=2, max_ops=8, big=False, exclude=()):
    """A random program over 1-3 inputs of `dtype`; big: rows of up to thousands of elements and
    only the ops in BIG_OPS (no outer products, no linalg)."""
    dtype = np.dtype(dtype)
    seed = draw(st.integers(0, 2**32 - 1))
    b = Builder(draw, np.random.default_rng(seed), dtype, grad=dtype == np.float64, big=big)
    b.prog.seed = seed
    b.new_input(b.shape())
    b.commit()
    # (a wide integer plus the seed folded into the range: hypothesis draws the ends of a range,
    # and 0, far more often than the rest)
    n_ops = min_ops + (draw(st.integers(0, 2**16 - 1)) + seed) % (max_ops - min_ops + 1)
    names = [
        n
        for n, (kinds, _) in OPS.items()
        if dtype.kind in kinds
        and (dtype.kind == "i" or "x" not in kinds)
        and (dtype != np.float32 or "c" not in kinds)
        and (not big or n in BIG_OPS)
        and n not in exclude
    ]
    done = 0
    for attempt in range(n_ops * 12):
        if done == n_ops:
            break
        # this attempt's choices (mixed with the attempt number: hypothesis often draws 0 or 2**32-1)
        b.rng = np.random.default_rng([seed, attempt, draw(st.integers(0, 2**32 - 1))])
        name = b.choice(names)  # uniform (sampled_from would favour the first names)
        x = len(b.prog.values) - 1
        kinds, gen = OPS[name]
        if b.val(x).dtype.kind not in kinds:
            continue
        try:
            step = gen(b, x)
            b.apply(step)
        except Reject:
            b.rollback()
            continue
        b.commit()
        done += 1
    if not b.prog.steps:
        b.apply(Step("identity", [0], {}, lambda T, a: T.identity(a), lambda a: a.copy()))
    return b.prog


# ---- the op table --------------------------------------------------------------------------------
# OPS[name] = (kinds, gen): kinds holds the dtype kinds of the current value the op accepts ("f",
# "i"); "x": float-only programs must not use it (leaves the dtype); "c": not in float32 programs.
# gen(b, x) returns a Step or raises Reject.

OPS = {}


def op(name, kinds="f"):
    def deco(gen):
        OPS[name] = (kinds, gen)
        return gen

    return deco


def away(a, points, margin=MARGIN):
    a = np.asarray(a, np.float64)
    return all(np.all(np.abs(a - p) > margin) for p in points)


def frac_away(a, at=0.0):
    """a mod 1 stays MARGIN away from `at` (floor/ceil jump at integers, round at halves)."""
    f = np.mod(np.asarray(a, np.float64) - at, 1.0)
    return bool(np.all((f > MARGIN) & (f < 1 - MARGIN)))


def _like(fn):
    """numpy in float64, cast back to the input's dtype (for functions numpy lacks or promotes)."""
    return lambda a: fn(a.astype(np.float64)).astype(a.dtype)


def _unary(name, tgf, npf, pred=None, kinds="f"):
    def gen(b, x):
        return Step(name, [x], {}, tgf, npf, pred=None if pred is None else (lambda a, out: bool(pred(a))))

    op(name, kinds)(gen)


def _sp(a):
    return np.logaddexp(0.0, a).astype(a.dtype)


def _sigmoid(a):
    return (1 / (1 + np.exp(-a))).astype(a.dtype)


_unary("exp", lambda T, a: T.exp(a), np.exp, lambda a: np.all(a < 6))
_unary("log", lambda T, a: T.math.log(a), np.log, lambda a: np.all(a > 0.05))
_unary("sqrt", lambda T, a: T.sqrt(a), np.sqrt, lambda a: np.all(a > 0.05))
_unary("rsqrt", lambda T, a: T.math.rsqrt(a), lambda a: 1 / np.sqrt(a), lambda a: np.all(a > 0.05))
_unary("reciprocal", lambda T, a: T.math.reciprocal(a), lambda a: 1 / a, lambda a: np.all(np.abs(a) > 0.1))
_unary("tanh", lambda T, a: T.tanh(a), np.tanh)
_unary("sigmoid", lambda T, a: T.sigmoid(a), _sigmoid)
_unary("sin", lambda T, a: T.sin(a), np.sin)
_unary("cos", lambda T, a: T.math.cos(a), np.cos)
_unary("tan", lambda T, a: T.math.tan(a), np.tan, lambda a: np.all(np.abs(np.cos(a)) > 0.2))
_unary("atan", lambda T, a: T.math.atan(a), np.arctan)
_unary("asin", lambda T, a: T.math.asin(a), np.arcsin, lambda a: np.all(np.abs(a) < 0.9))
_unary("acos", lambda T, a: T.math.acos(a), np.arccos, lambda a: np.all(np.abs(a) < 0.9))
_unary("atanh", lambda T, a: T.math.atanh(a), np.arctanh, lambda a: np.all(np.abs(a) < 0.9))
_unary("asinh", lambda T, a: T.math.asinh(a), np.arcsinh)
_unary("acosh", lambda T, a: T.math.acosh(a), np.arccosh, lambda a: np.all(a > 1.1))
_unary("sinh", lambda T, a: T.math.sinh(a), np.sinh, lambda a: np.all(np.abs(a) < 5))
_unary("cosh", lambda T, a: T.math.cosh(a), np.cosh, lambda a: np.all(np.abs(a) < 5))
_unary("expm1", lambda T, a: T.math.expm1(a), np.expm1, lambda a: np.all(a < 6))
_unary("log1p", lambda T, a: T.math.log1p(a), np.log1p, lambda a: np.all(a > -0.9))
_unary("square", lambda T, a: T.square(a), np.square, kinds="fi")
_unary("negative", lambda T, a: T.negative(a), np.negative, kinds="fi")
_unary("neg_op", lambda T, a: -a, np.negative, kinds="fi")
_unary("abs", lambda T, a: T.abs(a), np.abs, lambda a: away(a, [0]), kinds="fi")
_unary("sign", lambda T, a: T.sign(a), np.sign, lambda a: away(a, [0]), kinds="fi")
_unary("softplus", lambda T, a: T.math.softplus(a), _sp)
_unary("log_sigmoid", lambda T, a: T.math.log_sigmoid(a), lambda a: -_sp(-a))
_unary("softsign", lambda T, a: T.nn.softsign(a), lambda a: a / (1 + np.abs(a)), lambda a: away(a, [0]))
_unary("erf", lambda T, a: T.math.erf(a), _like(_erf))
_unary("erfc", lambda T, a: T.math.erfc(a), _like(_erfc))
_unary("relu", lambda T, a: T.nn.relu(a), lambda a: np.maximum(a, 0).astype(a.dtype), lambda a: away(a, [0]))
_unary("relu6", lambda T, a: T.nn.relu6(a), lambda a: np.clip(a, 0, 6).astype(a.dtype), lambda a: away(a, [0, 6]))
# TF's float attributes and cast(python_float, dtype) constants are float32: F32 rounds like them
F32 = float(np.float32(0.3)), float(np.float32(0.7071067811865476)), float(np.float32(0.044715))
_unary(
    "leaky_relu",
    lambda T, a: T.nn.leaky_relu(a, alpha=0.3),
    lambda a: np.where(a > 0, a, a * a.dtype.type(F32[0])),
    lambda a: away(a, [0]),
)
_unary("elu", lambda T, a: T.nn.elu(a), lambda a: np.where(a > 0, a, np.expm1(a)), lambda a: away(a, [0]))
_unary(
    "selu",
    lambda T, a: T.nn.selu(a),
    _like(
        lambda a: (
            1.0507009873554804934193349852946 * np.where(a > 0, a, 1.6732632423543772848170429916717 * np.expm1(a))
        )
    ),
    lambda a: away(a, [0]),
)
_unary("gelu", lambda T, a: T.nn.gelu(a), _like(lambda a: 0.5 * a * _erfc(-a * F32[1])))
_unary(
    "gelu_tanh",
    lambda T, a: T.nn.gelu(a, approximate=True),
    _like(lambda a: 0.5 * a * (1 + np.tanh(0.7978845608028654 * (a + F32[2] * a**3)))),
)
_unary("silu", lambda T, a: T.nn.silu(a), lambda a: a * _sigmoid(a))
_unary("floor", lambda T, a: T.floor(a), np.floor, frac_away)
_unary("ceil", lambda T, a: T.math.ceil(a), np.ceil, frac_away)
_unary("round", lambda T, a: T.round(a), np.round, lambda a: frac_away(a, 0.5))
_unary("identity", lambda T, a: T.identity(a), lambda a: a.copy(), kinds="fi")


# binary, broadcasting


def _binary(name, tgf, npf, pred=None, kinds="f", domain=None, scalar=None):
    """x OP y (or y OP x) with y a broadcast-compatible earlier value, new input or a constant."""

    def gen(b, x):
        xv = b.val(x)
        if scalar is not None and b.integers(0, 4) == 0:  # a Python constant operand
            c = scalar(b, xv)
            swap = b.boolean()
            if swap:
                return Step(
                    name,
                    [x],
                    {"const_first": c},
                    lambda T, a: tgf(T, c, a),
                    lambda a: npf(np.asarray(c, a.dtype), a),
                    pred=None if pred is None else (lambda a, out: bool(pred(np.asarray(c, a.dtype), a))),
                )
            return Step(
                name,
                [x],
                {"const": c},
                lambda T, a: tgf(T, a, c),
                lambda a: npf(a, np.asarray(c, a.dtype)),
                pred=None if pred is None else (lambda a, out: bool(pred(a, np.asarray(c, a.dtype)))),
            )
        y = b.operand(b.broadcast_shape(xv.shape), xv.dtype, domain)
        args = [y, x] if b.boolean() else [x, y]
        return Step(name, args, {}, tgf, npf, pred=None if pred is None else (lambda p, q, out: bool(pred(p, q))))

    op(name, kinds)(gen)


def _fconst(b, xv):
    if xv.dtype.kind == "i":
        return b.choice([-3, -1, 2, 3])
    return b.choice([-1.5, -0.5, 0.75, 2.0, 2.5])


def _posconst(b, xv):
    return b.choice([0.5, 1.5, 2.0, 3.0]) if xv.dtype.kind == "f" else b.choice([1, 2, 3])


_binary("add", lambda T, a, c: T.add(a, c), np.add, kinds="fi", scalar=_fconst)
_binary("add_op", lambda T, a, c: a + c, np.add, kinds="fi", scalar=_fconst)
_binary("subtract", lambda T, a, c: T.subtract(a, c), np.subtract, kinds="fi", scalar=_fconst)
_binary("sub_op", lambda T, a, c: a - c, np.subtract, kinds="fi", scalar=_fconst)
_binary("multiply", lambda T, a, c: T.multiply(a, c), np.multiply, kinds="fi", scalar=_fconst)
_binary("mul_op", lambda T, a, c: a * c, np.multiply, kinds="fi", scalar=_fconst)
_binary(
    "divide",
    lambda T, a, c: T.math.divide(a, c),
    lambda p, q: p / q,
    lambda p, q: np.all(np.abs(q) > 0.1),
    domain="nonzero",
    scalar=_fconst,
)
_binary(
    "truediv_op",
    lambda T, a, c: a / c,
    lambda p, q: p / q,
    lambda p, q: np.all(np.abs(q) > 0.1),
    kinds="fi",
    domain="nonzero",
    scalar=_fconst,
)
_binary("maximum", lambda T, a, c: T.maximum(a, c), np.maximum, lambda p, q: away(p - q, [0]), kinds="fi")
_binary("minimum", lambda T, a, c: T.minimum(a, c), np.minimum, lambda p, q: away(p - q, [0]), kinds="fi")
_binary(
    "pow",
    lambda T, a, c: T.pow(a, c),
    np.power,
    lambda p, q: np.all(p > 0.1) and np.all(np.abs(q) < 3),
    kinds="fi",
    domain="positive",
    scalar=_posconst,
)  # (integers: numpy refuses negative exponents, and the op is dropped)
_binary(
    "pow_op",
    lambda T, a, c: a**c,
    np.power,
    lambda p, q: np.all(p > 0.1) and np.all(np.abs(q) < 3),
    domain="positive",
    scalar=_posconst,
)
_binary(
    "squared_difference", lambda T, a, c: T.math.squared_difference(a, c), lambda p, q: np.square(p - q), kinds="fi"
)
_binary(
    "atan2",
    lambda T, a, c: T.math.atan2(a, c),
    np.arctan2,
    lambda p, q: np.all(p * p + q * q > 0.01) and np.all((q > MARGIN) | (np.abs(p) > MARGIN)),
)
_binary(
    "xlogy",
    lambda T, a, c: T.math.xlogy(a, c),
    lambda p, q: p * np.log(q),
    lambda p, q: np.all(q > 0.05) and away(p, [0]),
)
_binary(
    "xdivy",
    lambda T, a, c: T.math.xdivy(a, c),
    lambda p, q: p / q,
    lambda p, q: np.all(np.abs(q) > 0.1) and away(p, [0]),
    domain="nonzero",
)
_binary(
    "floordiv",
    lambda T, a, c: T.math.floordiv(a, c),
    np.floor_divide,
    lambda p, q: np.all(q != 0),
    kinds="i",
    domain="nonzero",
)
_binary(
    "floormod", lambda T, a, c: T.math.floormod(a, c), np.mod, lambda p, q: np.all(q != 0), kinds="i", domain="nonzero"
)
_binary(
    "floormod_f",
    lambda T, a, c: T.math.floormod(a, c),
    np.mod,
    lambda p, q: np.all(np.abs(q) > 0.1) and frac_away(p / q),
    domain="nonzero",
)
_binary(
    "floordiv_f",
    lambda T, a, c: T.math.floordiv(a, c),
    np.floor_divide,
    lambda p, q: np.all(np.abs(q) > 0.1) and frac_away(p / q),
    domain="nonzero",
)
_binary(
    "int_truediv",
    lambda T, a, c: T.math.truediv(a, c),
    np.true_divide,
    lambda p, q: np.all(q != 0),
    kinds="ix",
    domain="nonzero",
)


# reductions


def _reduce(name, tgf, npf, pred=None, kinds="f"):
    def gen(b, x):
        r = b.val(x).ndim
        axis = b.axes(r) if r else None
        keep = b.boolean()
        npaxis = tuple(axis) if isinstance(axis, list) else axis
        return Step(
            name,
            [x],
            {"axis": axis, "keepdims": keep},
            lambda T, a: tgf(T, a, axis=axis, keepdims=keep),
            lambda a: np.asarray(npf(a, npaxis, keep)),
            pred=None if pred is None else (lambda a, out: bool(pred(a, npaxis))),
        )

    op(name, kinds)(gen)


def _norm_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(a % ndim for a in axis))


def _no_ties(a, axis):
    """Along the reduced axes, the largest and smallest entries are unique by MARGIN."""
    ax = _norm_axes(axis, a.ndim)
    if any(a.shape[k] == 0 for k in ax):
        return False
    rest = [k for k in range(a.ndim) if k not in ax]
    m = (
        np.transpose(a, rest + list(ax))
        .reshape([a.shape[k] for k in rest] + [int(np.prod([a.shape[k] for k in ax]))])
        .astype(np.float64)
    )
    if m.shape[-1] < 2:
        return True
    s = np.sort(m, axis=-1)
    return bool(np.all(s[..., -1] - s[..., -2] > MARGIN) and np.all(s[..., 1] - s[..., 0] > MARGIN))


def _int_mean(a, axis, keep):
    s = np.sum(a, axis=axis, keepdims=keep, dtype=a.dtype)
    n = a.size // max(s.size, 1) if a.size else 0
    if n == 0:
        raise ValueError
    return (np.sign(s) * (np.abs(s) // n)).astype(a.dtype)  # C division truncates toward zero


def _mean(a, axis, keep):
    if a.dtype.kind == "i":
        return _int_mean(a, axis, keep)
    ax = _norm_axes(axis, a.ndim)
    if any(a.shape[k] == 0 for k in ax):
        raise ValueError  # nan (0/0)
    return np.mean(a, axis=axis, keepdims=keep)


def _lse(a, axis, keep):
    m = np.max(a, axis=axis, keepdims=True)
    s = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return s if keep else np.squeeze(s, axis=_norm_axes(axis, a.ndim))


_reduce(
    "reduce_sum",
    lambda T, a, **k: T.reduce_sum(a, **k),
    lambda a, ax, k: np.sum(a, axis=ax, keepdims=k, dtype=a.dtype),
    kinds="fi",
)
_reduce("reduce_mean", lambda T, a, **k: T.reduce_mean(a, **k), _mean, kinds="fi")
_reduce(
    "reduce_max",
    lambda T, a, **k: T.reduce_max(a, **k),
    lambda a, ax, k: np.max(a, axis=ax, keepdims=k),
    _no_ties,
    kinds="fi",
)
_reduce(
    "reduce_min",
    lambda T, a, **k: T.reduce_min(a, **k),
    lambda a, ax, k: np.min(a, axis=ax, keepdims=k),
    _no_ties,
    kinds="fi",
)
_reduce(
    "reduce_prod",
    lambda T, a, **k: T.reduce_prod(a, **k),
    lambda a, ax, k: np.prod(a, axis=ax, keepdims=k, dtype=a.dtype),
    kinds="fi",
)
_reduce(
    "reduce_logsumexp",
    lambda T, a, **k: T.reduce_logsumexp(a, **k),
    _lse,
    lambda a, ax: all(a.shape[k] for k in _norm_axes(ax, a.ndim)),
)
_reduce(
    "reduce_std",
    lambda T, a, **k: T.math.reduce_std(a, **k),
    lambda a, ax, k: np.std(a, axis=ax, keepdims=k),
    lambda a, ax: bool(np.all(np.std(a, axis=ax) > 0.05)) if a.size else False,
)
_reduce(
    "reduce_variance",
    lambda T, a, **k: T.math.reduce_variance(a, **k),
    lambda a, ax, k: np.var(a, axis=ax, keepdims=k),
    lambda a, ax: a.size > 0 and all(a.shape[k] for k in _norm_axes(ax, a.ndim)),
)
_reduce(
    "reduce_euclidean_norm",
    lambda T, a, **k: T.math.reduce_euclidean_norm(a, **k),
    lambda a, ax, k: np.sqrt(np.sum(a * a, axis=ax, keepdims=k)),
    lambda a, ax: bool(np.all(np.sum(a * a, axis=ax) > 0.01)),
    kinds="f",
)


@op("argmax", "ix")
def _argmax(b, x):
    a = b.val(x)
    ax = b.axis(a.ndim)
    fn = b.choice(["argmax", "argmin"])
    return Step(
        fn,
        [x],
        {"axis": ax},
        lambda T, t: getattr(T.math, fn)(t, axis=ax),
        lambda t: getattr(np, fn)(t, axis=ax).astype(np.int64),
        pred=lambda t, out: _no_ties(t, ax) if t.dtype.kind == "f" else t.shape[ax] > 0,
    )


# shape ops


def _factor(n):
    fs, p = [], 2
    while n > 1:
        while n % p == 0:
            fs.append(p)
            n //= p
        p += 1
    return fs


@op("reshape", "fi")
def _reshape(b, x):
    a = b.val(x)
    if a.size == 0:
        dims = [b.choice([0, 1, 2, 3]) for _ in range(b.integers(1, 4))]
        dims[b.integers(0, len(dims) - 1)] = 0
    else:
        fs = _factor(a.size)
        if len(fs) > 4:
            raise Reject
        rank = b.integers(1 if fs else 0, 4)
        dims = [1] * rank
        for f in fs:
            dims[b.integers(0, rank - 1)] *= f
        if rank and b.boolean():
            dims[b.integers(0, rank - 1)] = -1
    return Step("reshape", [x], {"shape": dims}, lambda T, t: T.reshape(t, dims), lambda t: np.reshape(t, dims))


@op("transpose", "fi")
def _transpose(b, x):
    r = b.val(x).ndim
    perm = None if b.integers(0, 3) == 0 else b.perm(range(r))
    return Step(
        "transpose", [x], {"perm": perm}, lambda T, t: T.transpose(t, perm=perm), lambda t: np.transpose(t, perm)
    )


@op("expand_dims", "fi")
def _expand(b, x):
    r = b.val(x).ndim
    ax = b.integers(-r - 1, r)
    return Step("expand_dims", [x], {"axis": ax}, lambda T, t: T.expand_dims(t, ax), lambda t: np.expand_dims(t, ax))


@op("squeeze", "fi")
def _squeeze(b, x):
    s = b.val(x).shape
    ones = [k for k, d in enumerate(s) if d == 1]
    if not ones or b.integers(0, 3) == 0:
        ax = None
    else:
        ax = b.subset(ones, min_size=1)
        ax = [k - len(s) if b.boolean() else k for k in ax]
    return Step(
        "squeeze",
        [x],
        {"axis": ax},
        lambda T, t: T.squeeze(t, ax),
        lambda t: np.squeeze(t, None if ax is None else tuple(ax)),
    )


@op("concat", "fi")
def _concat(b, x):
    a = b.val(x)
    ax = b.axis(a.ndim)
    n = b.integers(1, 2)
    others = []
    for _ in range(n):
        s = list(a.shape)
        s[ax] = b.choice([0, 1, 2, 3, s[ax], s[ax]])
        others.append(b.operand(s, a.dtype))
    args = others + [x]
    args = b.perm(args)
    return Step(
        "concat",
        args,
        {"axis": ax},
        lambda T, *ts: T.concat(list(ts), axis=ax),
        lambda *ts: np.concatenate(ts, axis=ax),
    )


@op("stack", "fi")
def _stack(b, x):
    a = b.val(x)
    ax = b.integers(-a.ndim - 1, a.ndim)
    args = [x] + [b.operand(a.shape, a.dtype) for _ in range(b.integers(1, 2))]
    args = b.perm(args)
    fn = b.choice(["stack", "stack_unstack"])
    if fn == "stack_unstack":  # stack then take one of the pieces of an unstack along another axis
        r = a.ndim + 1
        ax2 = b.integers(0, r - 1)
        shp = np.stack([b.val(i) for i in args], axis=ax).shape
        if shp[ax2] == 0:
            raise Reject
        k = b.integers(0, shp[ax2] - 1)
        return Step(
            fn,
            args,
            {"axis": ax, "unstack_axis": ax2, "piece": k},
            lambda T, *ts: T.unstack(T.stack(list(ts), axis=ax), axis=ax2)[k],
            lambda *ts: np.take(np.stack(ts, axis=ax), k, axis=ax2),
        )
    return Step(
        "stack", args, {"axis": ax}, lambda T, *ts: T.stack(list(ts), axis=ax), lambda *ts: np.stack(ts, axis=ax)
    )


@op("tile", "fi")
def _tile(b, x):
    r = b.val(x).ndim
    m = [b.choice([1, 1, 2, 3]) for _ in range(r)]
    return Step("tile", [x], {"multiples": m}, lambda T, t: T.tile(t, m), lambda t: np.tile(t, m) if m else t.copy())


@op("broadcast_to", "fi")
def _bcast_to(b, x):
    s = b.val(x).shape
    target = list(np.broadcast_shapes(s, b.broadcast_shape(s)))
    return Step(
        "broadcast_to",
        [x],
        {"shape": target},
        lambda T, t: T.broadcast_to(t, target),
        lambda t: np.broadcast_to(t, target).copy(),
    )


def _draw_slice(b, n):
    """A Python slice over a dim of size n (any signs, steps, out-of-range ends)."""
    step = b.choice([None, 1, 2, -1, -2, 3])

    def end():
        return b.choice([None, None] + list(range(-n - 1, n + 2)))

    return slice(end(), end(), step)


@op("getitem", "fi")
def _getitem(b, x):
    s = b.val(x).shape
    idx = []
    for n in s:
        c = b.integers(0, 5)
        if c == 0 and n > 0:
            idx.append(b.integers(-n, n - 1))
        elif c == 1:
            idx.append(None)
            idx.append(_draw_slice(b, n))
        else:
            idx.append(_draw_slice(b, n))
    if idx and b.integers(0, 3) == 0:  # an Ellipsis standing for a run of entries
        k = b.integers(0, len(idx))
        m = b.integers(0, len(idx) - k)
        idx = idx[:k] + [Ellipsis] + idx[k + m :]
    key = tuple(idx)
    return Step("getitem", [x], {"key": key}, lambda T, t: t[key], lambda t: t[key].copy())


@op("strided_slice", "fi")
def _strided(b, x):
    s = b.val(x).shape
    if not s:
        raise Reject
    begin, end, strides, bm, em, sm = [], [], [], 0, 0, 0
    for k, n in enumerate(s):
        st_ = b.choice([1, 1, 2, -1])
        begin.append(b.integers(-n, max(n - 1, 0)))
        end.append(b.integers(-n - 1, n + 1))
        strides.append(st_)
        if b.integers(0, 3) == 0:
            bm |= 1 << k
        if b.integers(0, 3) == 0:
            em |= 1 << k
        if n > 0 and b.integers(0, 6) == 0 and -n <= begin[k] < n:
            sm |= 1 << k

    def ref(t):
        key = []
        for k in range(t.ndim):
            if sm >> k & 1:
                key.append(begin[k])
            else:
                key.append(slice(None if bm >> k & 1 else begin[k], None if em >> k & 1 else end[k], strides[k]))
        return t[tuple(key)].copy()

    params = {"begin": begin, "end": end, "strides": strides, "begin_mask": bm, "end_mask": em, "shrink_axis_mask": sm}
    return Step(
        "strided_slice",
        [x],
        params,
        lambda T, t: T.strided_slice(t, begin, end, strides, begin_mask=bm, end_mask=em, shrink_axis_mask=sm),
        ref,
    )


@op("slice", "fi")
def _slice(b, x):
    s = b.val(x).shape
    begin = [b.integers(0, n) for n in s]
    size = [b.choice([-1, b.integers(0, n - bg)]) for n, bg in zip(s, begin)]

    def ref(t):
        return t[tuple(slice(bg, None if sz == -1 else bg + sz) for bg, sz in zip(begin, size))]

    return Step(
        "slice", [x], {"begin": begin, "size": size}, lambda T, t: T.slice(t, begin, size), lambda t: ref(t).copy()
    )


@op("gather", "fi")
def _gather(b, x):
    a = b.val(x)
    ax = b.axis(a.ndim)
    n = a.shape[ax]
    if n == 0:
        raise Reject
    ishape = b.shape(max_rank=2)
    idx = b.rng.integers(0, n, ishape)
    idx = idx.astype(b.choice([np.int32, np.int64]))
    return Step(
        "gather",
        [x],
        {"indices": idx.tolist(), "axis": ax},
        lambda T, t: T.gather(t, T.constant(idx), axis=ax),
        lambda t: np.take(t, idx, axis=ax),
    )


@op("gather_nd", "fi")
def _gather_nd(b, x):
    a = b.val(x)
    if a.ndim == 0 or 0 in a.shape:
        raise Reject
    depth = b.integers(1, a.ndim)
    lead = b.shape(max_rank=2)
    idx = np.stack([b.rng.integers(0, a.shape[k], lead) for k in range(depth)], axis=-1)
    return Step(
        "gather_nd",
        [x],
        {"indices": idx.tolist()},
        lambda T, t: T.gather_nd(t, T.constant(idx)),
        lambda t: t[tuple(np.moveaxis(idx, -1, 0))].copy(),
    )


@op("reverse", "fi")
def _reverse(b, x):
    r = b.val(x).ndim
    axes = b.subset(range(r))
    axes = [k - r if b.boolean() else k for k in axes]
    return Step(
        "reverse",
        [x],
        {"axis": axes},
        lambda T, t: T.reverse(t, axes),
        lambda t: np.flip(t, tuple(axes)).copy() if axes else t.copy(),
    )


@op("pad", "fi")
def _pad(b, x):
    a = b.val(x)
    if a.ndim == 0:
        raise Reject
    mode = b.choice(["CONSTANT", "CONSTANT", "REFLECT", "SYMMETRIC"])
    if mode == "REFLECT" and 0 in a.shape:
        raise Reject  # TF: "paddings must be less than the dimension size: 0, 0 not less than 0"
    lim = {"CONSTANT": lambda n: 2, "REFLECT": lambda n: n - 1, "SYMMETRIC": lambda n: n}[mode]
    pads = [[b.integers(0, max(0, min(2, lim(n)))) for _ in range(2)] for n in a.shape]
    cv = 0
    if mode == "CONSTANT" and b.boolean():
        cv = 2 if a.dtype.kind == "i" else 1.5
    npmode = {"CONSTANT": "constant", "REFLECT": "reflect", "SYMMETRIC": "symmetric"}[mode]

    def ref(t):
        if not pads:
            return t.copy()
        if npmode == "constant":
            return np.pad(t, pads, mode="constant", constant_values=cv)
        return np.pad(t, pads, mode=npmode)

    return Step(
        "pad",
        [x],
        {"paddings": pads, "mode": mode, "constant_values": cv},
        lambda T, t: T.pad(t, pads, mode=mode, constant_values=cv),
        ref,
    )


@op("roll", "fi")
def _roll(b, x):
    r = b.val(x).ndim
    ax = b.axis(r)
    sh = b.integers(-3, 3)
    return Step("roll", [x], {"shift": sh, "axis": ax}, lambda T, t: T.roll(t, sh, ax), lambda t: np.roll(t, sh, ax))


@op("split", "fi")
def _split(b, x):
    a = b.val(x)
    ax = b.axis(a.ndim)
    n = a.shape[ax]
    if n == 0:
        raise Reject
    cut = sorted(b.integers(0, n) for _ in range(b.integers(0, 2)))
    sizes = np.diff([0] + cut + [n]).tolist()
    k = b.integers(0, len(sizes) - 1)
    return Step(
        "split",
        [x],
        {"num_or_size_splits": sizes, "axis": ax, "piece": k},
        lambda T, t: T.split(t, sizes, axis=ax)[k],
        lambda t: np.split(t, np.cumsum(sizes)[:-1], axis=ax)[k].copy(),
    )


@op("repeat", "fi")
def _repeat(b, x):
    a = b.val(x)
    ax = b.axis(a.ndim)
    rep = b.integers(1, 3)
    return Step(
        "repeat", [x], {"repeats": rep, "axis": ax}, lambda T, t: T.repeat(t, rep, ax), lambda t: np.repeat(t, rep, ax)
    )


@op("boolean_mask", "f")
def _bmask(b, x):
    a = b.val(x)
    if a.ndim == 0:
        raise Reject
    mask = b.rng.random(a.shape[:1]) < 0.6
    return Step(
        "boolean_mask",
        [x],
        {"mask": mask.tolist()},
        lambda T, t: T.boolean_mask(t, T.constant(mask)),
        lambda t: t[mask].copy(),
    )


# matmul, einsum, tensordot


def _prodscale(p, q, out):
    """Rounding scale of a contraction: max|p| max|q| times a small inner length."""
    m = [float(np.max(np.abs(v), initial=0.0)) for v in (p, q, out)]
    return max(m[0] * m[1] * 4, m[2], 1e-300)


@op("matmul", "fi")
def _matmul(b, x):
    a = b.val(x)
    if a.ndim < 2:
        raise Reject
    ta, tb = b.boolean(), b.boolean()
    n = b.choice([1, 2, 3])
    batch = b.broadcast_shape(a.shape[:-2])
    if b.boolean():  # x on the left: effective [.., m, k] @ [.., k, n]
        k = a.shape[-2] if ta else a.shape[-1]
        y = b.operand(batch + ((n, k) if tb else (k, n)), a.dtype)
        args = [x, y]
    else:  # x on the right: effective [.., n, k] @ [.., k, m]
        k = a.shape[-1] if tb else a.shape[-2]
        y = b.operand(batch + ((k, n) if ta else (n, k)), a.dtype)
        args = [y, x]

    def ref(p, q):
        return np.matmul(np.swapaxes(p, -1, -2) if ta else p, np.swapaxes(q, -1, -2) if tb else q)

    fn = b.choice(["matmul", "linalg.matmul", "@"])
    tgf = {
        "matmul": lambda T, p, q: T.matmul(p, q, transpose_a=ta, transpose_b=tb),
        "linalg.matmul": lambda T, p, q: T.linalg.matmul(p, q, adjoint_a=ta, adjoint_b=tb),
        "@": lambda T, p, q: (T.linalg.matrix_transpose(p) if ta else p) @ (T.linalg.matrix_transpose(q) if tb else q),
    }[fn]
    return Step(fn, args, {"transpose_a": ta, "transpose_b": tb}, tgf, ref, scale=_prodscale)


@op("einsum", "f")
def _einsum(b, x):
    a = b.val(x)
    letters = "abcdefgh"
    xs = "".join(b.perm(letters[: a.ndim]))
    size = dict(zip(xs, a.shape))
    ys = ""
    binary = b.integers(0, 3) > 0
    if binary:
        shared = b.subset(xs)
        new = letters[a.ndim : a.ndim + b.integers(0, 2)]
        for c in new:
            size[c] = b.choice([1, 2, 3])
        ys = "".join(b.perm(list(shared) + list(new)))
    allc = sorted(set(xs + ys))
    outs = "".join(b.subset(allc))
    if binary:
        y = b.operand([size[c] for c in ys], a.dtype)
        eq = f"{xs},{ys}->{outs}"
        return Step(
            "einsum",
            [x, y],
            {"equation": eq},
            lambda T, p, q: T.einsum(eq, p, q),
            lambda p, q: np.einsum(eq, p, q),
            scale=_prodscale,
        )
    eq = f"{xs}->{outs}"
    return Step("einsum", [x], {"equation": eq}, lambda T, p: T.einsum(eq, p), lambda p: np.einsum(eq, p).copy())


@op("tensordot", "f")
def _tensordot(b, x):
    a = b.val(x)
    k = b.integers(0, min(2, a.ndim))
    xa = b.subset(range(a.ndim), k, k)
    extra = [b.choice([1, 2, 3]) for _ in range(b.integers(0, 2))]
    yshape = [a.shape[i] for i in xa] + extra
    y = b.operand(yshape, a.dtype)
    axes = [xa, list(range(k))]
    return Step(
        "tensordot",
        [x, y],
        {"axes": axes},
        lambda T, p, q: T.tensordot(p, q, axes),
        lambda p, q: np.tensordot(p, q, axes),
        scale=_prodscale,
    )


# softmax, scans, where, clip


@op("softmax", "f")
def _softmax(b, x):
    a = b.val(x)
    ax = b.axis(a.ndim) if a.ndim else None
    if ax is None:
        raise Reject
    log = b.boolean()

    def ref(t):
        z = t - np.max(t, axis=ax, keepdims=True)
        lse = np.log(np.sum(np.exp(z), axis=ax, keepdims=True))
        return z - lse if log else np.exp(z - lse)

    fn = "log_softmax" if log else "softmax"
    return Step(fn, [x], {"axis": ax}, lambda T, t: getattr(T.nn, fn)(t, axis=ax), ref)


@op("cumsum", "fi")
def _cumsum(b, x):
    a = b.val(x)
    ax = b.axis(a.ndim)
    ex, rev = b.boolean(), b.boolean()
    prod = b.integers(0, 2) == 0

    def ref(t):
        u = np.flip(t, ax) if rev else t
        c = (np.cumprod if prod else np.cumsum)(u, axis=ax, dtype=t.dtype)
        n = t.shape[ax]
        if ex and n > 0:
            first = np.full_like(np.take(c, [0], axis=ax), 1 if prod else 0)
            c = np.concatenate([first, np.take(c, np.arange(n - 1), axis=ax)], axis=ax)
        return np.flip(c, ax) if rev else c

    def pred(t, out):  # cumprod's gradient divides by x (as TF's): keep x away from 0
        return not prod or t.dtype.kind == "i" or away(t, [0])

    fn = "cumprod" if prod else "cumsum"
    return Step(
        fn,
        [x],
        {"axis": ax, "exclusive": ex, "reverse": rev},
        lambda T, t: getattr(T.math, fn)(t, axis=ax, exclusive=ex, reverse=rev),
        ref,
        pred=pred,
    )


@op("where", "fi")
def _where(b, x):
    a = b.val(x)
    c = b.operand(b.broadcast_shape(a.shape), a.dtype)  # condition from a comparison c > 0
    y = b.operand(b.broadcast_shape(a.shape), a.dtype)
    cmp = b.choice(["greater", "less", "greater_equal", "less_equal"])
    npcmp = {"greater": np.greater, "less": np.less, "greater_equal": np.greater_equal, "less_equal": np.less_equal}[
        cmp
    ]
    thr = 0 if a.dtype.kind == "i" else 0.25
    args = [c, x, y] if b.boolean() else [c, y, x]
    return Step(
        f"where({cmp}(.., {thr}), .., ..)",
        args,
        {},
        lambda T, cc, p, q: T.where(getattr(T.math, cmp)(cc, thr), p, q),
        lambda cc, p, q: np.where(npcmp(cc, thr), p, q),
        pred=lambda cc, p, q, out: a.dtype.kind == "i" or away(cc, [thr]),
    )


@op("clip_by_value", "fi")
def _clip(b, x):
    a = b.val(x)
    if a.dtype.kind == "i":
        lo, hi = sorted([b.integers(-4, 4), b.integers(-4, 4)])
    else:
        lo, hi = sorted([b.choice([-1.5, -0.5, 0.0, 0.3]), b.choice([0.5, 1.0, 1.7, 3.0])])
    return Step(
        "clip_by_value",
        [x],
        {"clip_value_min": lo, "clip_value_max": hi},
        lambda T, t: T.clip_by_value(t, lo, hi),
        lambda t: np.clip(t, lo, hi).astype(t.dtype),
        pred=lambda t, out: a.dtype.kind == "i" or away(t, [lo, hi]),
    )


@op("l2_normalize", "f")
def _l2n(b, x):
    a = b.val(x)
    ax = b.axis(a.ndim)
    return Step(
        "l2_normalize",
        [x],
        {"axis": ax},
        lambda T, t: T.math.l2_normalize(t, axis=ax),
        lambda t: t / np.sqrt(np.sum(t * t, axis=ax, keepdims=True)),
        pred=lambda t, out: bool(np.all(np.sum(t * t, axis=ax) > 0.01)),
    )


@op("top_k", "f")
def _topk(b, x):
    a = b.val(x)
    if a.ndim == 0 or a.shape[-1] == 0:
        raise Reject
    k = b.integers(1, a.shape[-1])

    def ref(t):
        return -np.sort(-t, axis=-1)[..., :k]

    def distinct(t, out):
        s = np.sort(t, axis=-1)
        return t.shape[-1] < 2 or bool(np.all(np.diff(s, axis=-1) > MARGIN))

    return Step("top_k.values", [x], {"k": k}, lambda T, t: T.math.top_k(t, k=k).values, ref, pred=distinct)


@op("segment_sum", "f")
def _segsum(b, x):
    a = b.val(x)
    if a.ndim == 0 or a.shape[0] == 0:
        raise Reject
    n = a.shape[0]
    unsorted = b.boolean()
    if unsorted:
        ns = b.integers(1, 4)
        ids = b.rng.integers(0, ns, n)
    else:
        ids = np.sort(b.rng.integers(0, 3, n))
        ns = int(ids.max()) + 1

    def ref(t):
        out = np.zeros((ns,) + t.shape[1:], t.dtype)
        np.add.at(out, ids, t)
        return out

    if unsorted:
        return Step(
            "unsorted_segment_sum",
            [x],
            {"segment_ids": ids.tolist(), "num_segments": ns},
            lambda T, t: T.math.unsorted_segment_sum(t, T.constant(ids), ns),
            ref,
        )
    return Step(
        "segment_sum", [x], {"segment_ids": ids.tolist()}, lambda T, t: T.math.segment_sum(t, T.constant(ids)), ref
    )


@op("cast", "ix")
def _cast(b, x):
    to = b.choice(["int32", "int64", "float64"])
    return Step("cast", [x], {"dtype": to}, lambda T, t: T.cast(t, getattr(T, to)), lambda t: t.astype(to))


# linalg on the last two dims ("c": float64 only: LAPACK's float32 rounding is too coarse for
# the chained tolerance)


def _square(b, x):
    a = b.val(x)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2] or a.shape[-1] == 0:
        raise Reject
    return a


def _cond_ok(m, limit=30.0):
    return bool(np.all(np.linalg.cond(m) < limit)) if m.size else True


def _hadamard(m):
    """|det| bound: product of the rows' norms (scale of det's rounding error)."""
    return float(np.max(np.prod(np.sqrt(np.sum(m * m, axis=-1)), axis=-1), initial=1.0))


@op("det", "fc")
def _det(b, x):
    _square(b, x)
    return Step(
        "det",
        [x],
        {},
        lambda T, t: T.linalg.det(t),
        np.linalg.det,
        pred=lambda t, out: _cond_ok(t),
        scale=lambda t, out: _hadamard(t),
    )


@op("inv", "fc")
def _inv(b, x):
    _square(b, x)
    return Step("inv", [x], {}, lambda T, t: T.linalg.inv(t), np.linalg.inv, pred=lambda t, out: _cond_ok(t))


@op("solve", "fc")
def _solve(b, x):
    a = _square(b, x)
    y = b.operand(a.shape[:-1] + (b.choice([1, 2]),), a.dtype)
    return Step(
        "solve", [x, y], {}, lambda T, p, q: T.linalg.solve(p, q), np.linalg.solve, pred=lambda p, q, out: _cond_ok(p)
    )


@op("slogdet", "fc")
def _slogdet(b, x):
    _square(b, x)
    return Step(
        "slogdet.log_abs_det",
        [x],
        {},
        lambda T, t: T.linalg.slogdet(t)[1],
        lambda t: np.linalg.slogdet(t)[1],
        pred=lambda t, out: _cond_ok(t),
    )


@op("cholesky_gram", "fc")
def _chol(b, x):
    a = _square(b, x)
    n = a.shape[-1]

    def gram(t, T=None):
        return t @ np.swapaxes(t, -1, -2) + n * np.eye(n)

    return Step(
        "cholesky(x @ x^T + n*I)",
        [x],
        {},
        lambda T, t: T.linalg.cholesky(T.matmul(t, t, transpose_b=True) + n * T.eye(n, dtype=t.dtype)),
        lambda t: np.linalg.cholesky(gram(t)),
    )


@op("eigvalsh", "fc")
def _eigvalsh(b, x):
    _square(b, x)

    def sym(t):
        return (t + np.swapaxes(t, -1, -2)) / 2

    def gaps(t, out):
        w = np.linalg.eigvalsh(sym(t))
        return w.shape[-1] < 2 or bool(np.all(np.diff(w, axis=-1) > 0.05))

    return Step(
        "eigvalsh((x + x^T) / 2)",
        [x],
        {},
        lambda T, t: T.linalg.eigvalsh((t + T.linalg.matrix_transpose(t)) / 2),
        lambda t: np.linalg.eigvalsh(sym(t)),
        pred=gaps,
    )


@op("svd_values", "fc")
def _svdvals(b, x):
    a = b.val(x)
    if a.ndim < 2 or 0 in a.shape[-2:]:
        raise Reject

    def ok(t, out):
        s = np.linalg.svd(t, compute_uv=False)
        return bool(np.all(s[..., -1] > 0.05)) and (s.shape[-1] < 2 or bool(np.all(-np.diff(s, axis=-1) > 0.05)))

    return Step(
        "svd(compute_uv=False)",
        [x],
        {},
        lambda T, t: T.linalg.svd(t, compute_uv=False),
        lambda t: np.linalg.svd(t, compute_uv=False),
        pred=ok,
    )


@op("matrix_transpose", "fi")
def _mt(b, x):
    if b.val(x).ndim < 2:
        raise Reject
    return Step(
        "matrix_transpose", [x], {}, lambda T, t: T.linalg.matrix_transpose(t), lambda t: np.swapaxes(t, -1, -2).copy()
    )


@op("trace", "f")
def _trace(b, x):
    if b.val(x).ndim < 2:
        raise Reject
    return Step("trace", [x], {}, lambda T, t: T.linalg.trace(t), lambda t: np.trace(t, axis1=-2, axis2=-1))


@op("diag_part", "f")
def _diag_part(b, x):
    if b.val(x).ndim < 2:
        raise Reject
    return Step(
        "diag_part", [x], {}, lambda T, t: T.linalg.diag_part(t), lambda t: np.diagonal(t, axis1=-2, axis2=-1).copy()
    )


@op("band_part", "f")
def _band(b, x):
    if b.val(x).ndim < 2:
        raise Reject
    m, n = b.val(x).shape[-2:]
    lo, hi = b.integers(-1, min(m, 2)), b.integers(-1, min(n, 2))  # TF: num_lower <= rows

    def ref(t):
        m, n = t.shape[-2:]
        i, j = np.arange(m)[:, None], np.arange(n)[None, :]
        keep = ((lo < 0) | (i - j <= lo)) & ((hi < 0) | (j - i <= hi))
        return np.where(keep, t, 0).astype(t.dtype)

    return Step("band_part", [x], {"num_lower": lo, "num_upper": hi}, lambda T, t: T.linalg.band_part(t, lo, hi), ref)


@op("matvec", "f")
def _matvec(b, x):
    a = b.val(x)
    if a.ndim < 2:
        raise Reject
    y = b.operand(b.broadcast_shape(a.shape[:-2]) + (a.shape[-1],), a.dtype)
    return Step(
        "matvec",
        [x, y],
        {},
        lambda T, p, q: T.linalg.matvec(p, q),
        lambda p, q: np.matmul(p, q[..., None])[..., 0],
        scale=_prodscale,
    )


@op("cross", "f")
def _cross(b, x):
    a = b.val(x)
    if a.ndim < 1 or a.shape[-1] != 3:
        raise Reject
    y = b.operand(a.shape, a.dtype)
    return Step(
        "cross", [x, y], {}, lambda T, p, q: T.linalg.cross(p, q), lambda p, q: np.cross(p, q), scale=_prodscale
    )


# more: n-ary, nn, norms, factorizations


@op("add_n", "fi")
def _add_n(b, x):
    a = b.val(x)
    args = [x] + [b.operand(a.shape, a.dtype) for _ in range(b.integers(0, 2))]
    return Step(
        "add_n", args, {}, lambda T, *ts: T.add_n(list(ts)), lambda *ts: np.sum(np.stack(ts), axis=0, dtype=a.dtype)
    )


_binary(
    "divide_no_nan",
    lambda T, a, c: T.math.divide_no_nan(a, c),
    lambda p, q: p / q,
    lambda p, q: np.all(np.abs(q) > 0.1),
    domain="nonzero",
)
_binary("multiply_no_nan", lambda T, a, c: T.math.multiply_no_nan(a, c), np.multiply)


@op("bias_add", "fi")
def _bias_add(b, x):
    a = b.val(x)
    if a.ndim < 2:
        raise Reject
    y = b.operand(a.shape[-1:], a.dtype)
    return Step("bias_add", [x, y], {}, lambda T, p, q: T.nn.bias_add(p, q), np.add)


@op("l2_loss", "f")
def _l2_loss(b, x):
    return Step("l2_loss", [x], {}, lambda T, t: T.nn.l2_loss(t), lambda t: np.asarray(np.sum(t * t) / 2, t.dtype))


@op("norm", "f")
def _norm(b, x):
    a = b.val(x)
    if a.ndim == 0:
        raise Reject
    o = b.choice(["euclidean", 1, 2, np.inf])
    ax = b.axis(a.ndim)
    keep = b.boolean()
    npo = {"euclidean": 2, 1: 1, 2: 2, np.inf: np.inf}[o]

    def pred(t, out):
        if o == 1:
            return away(t, [0])
        if o == np.inf:
            return _no_ties(np.abs(t), ax) and away(t, [0])
        return bool(np.all(np.sum(t * t, axis=ax) > 0.01))

    return Step(
        "norm",
        [x],
        {"ord": o, "axis": ax, "keepdims": keep},
        lambda T, t: T.norm(t, ord=o, axis=ax, keepdims=keep),
        lambda t: np.linalg.norm(t, ord=npo, axis=ax, keepdims=keep),
        pred=pred,
    )


@op("moments", "f")
def _moments(b, x):
    a = b.val(x)
    if a.ndim == 0:
        raise Reject
    axes = sorted(b.subset(range(a.ndim), min_size=1))
    keep = b.boolean()
    k = b.integers(0, 1)
    return Step(
        "moments",
        [x],
        {"axes": axes, "keepdims": keep, "piece": ["mean", "variance"][k]},
        lambda T, t: T.nn.moments(t, axes, keepdims=keep)[k],
        lambda t: (np.mean if k == 0 else np.var)(t, axis=tuple(axes), keepdims=keep),
        pred=lambda t, out: all(t.shape[i] for i in axes),
    )


@op("segment_mean", "f")
def _segmean(b, x):
    a = b.val(x)
    if a.ndim == 0 or a.shape[0] == 0:
        raise Reject
    ids = np.sort(b.rng.integers(0, 3, a.shape[0]))
    ns = int(ids.max()) + 1

    def ref(t):
        out = np.zeros((ns,) + t.shape[1:], t.dtype)
        np.add.at(out, ids, t)
        cnt = np.bincount(ids, minlength=ns).reshape((ns,) + (1,) * (t.ndim - 1))
        return (out / np.maximum(cnt, 1)).astype(t.dtype)

    return Step(
        "segment_mean", [x], {"segment_ids": ids.tolist()}, lambda T, t: T.math.segment_mean(t, T.constant(ids)), ref
    )


@op("one_hot", "ix")
def _one_hot(b, x):
    depth = b.integers(1, 5)
    return Step(
        "one_hot",
        [x],
        {"depth": depth, "on_value": 2.0, "off_value": -1.0},
        lambda T, t: T.one_hot(t, depth, on_value=2.0, off_value=-1.0, dtype=T.float64),
        lambda t: np.where(t[..., None] == np.arange(depth), 2.0, -1.0),
    )


@op("compare_cast", "fi")
def _compare(b, x):
    a = b.val(x)
    y = b.operand(b.broadcast_shape(a.shape), a.dtype)
    fn = b.choice(["greater", "less", "greater_equal", "less_equal", "equal", "not_equal"])
    npf = getattr(np, fn)
    return Step(
        f"cast({fn}(..), {a.dtype})",
        [x, y],
        {},
        lambda T, p, q: T.cast(getattr(T.math, fn)(p, q), p.dtype),
        lambda p, q: npf(p, q).astype(a.dtype),
        pred=lambda p, q, out: a.dtype.kind == "i" or away(p - q, [0]),
    )


@op("logdet_gram", "fc")
def _logdet(b, x):
    a = _square(b, x)
    n = a.shape[-1]
    return Step(
        "logdet(x @ x^T + n*I)",
        [x],
        {},
        lambda T, t: T.linalg.logdet(T.matmul(t, t, transpose_b=True) + n * T.eye(n, dtype=t.dtype)),
        lambda t: np.linalg.slogdet(t @ np.swapaxes(t, -1, -2) + n * np.eye(n))[1],
    )


@op("triangular_solve", "fc")
def _trisolve(b, x):
    a = _square(b, x)
    lower = b.boolean()
    y = b.operand(a.shape[:-1] + (b.choice([1, 2]),), a.dtype)

    def tri(t):
        return np.tril(t) if lower else np.triu(t)

    def pred(t, q, out):
        d = np.abs(np.diagonal(t, axis1=-2, axis2=-1))
        return bool(np.all(d > 0.3)) and _cond_ok(tri(t))

    return Step(
        "triangular_solve",
        [x, y],
        {"lower": lower},
        lambda T, p, q: T.linalg.triangular_solve(p, q, lower=lower),
        lambda p, q: np.linalg.solve(tri(p), q),
        pred=pred,
    )


@op("qr_r", "fc")
def _qr(b, x):
    a = b.val(x)
    if a.ndim < 2 or a.shape[-2] < a.shape[-1] or 0 in a.shape:
        raise Reject
    k = b.integers(0, 1)

    def pred(t, out):
        r = np.linalg.qr(t)[1]
        return bool(np.all(np.abs(np.diagonal(r, axis1=-2, axis2=-1)) > 0.1))

    return Step("qr", [x], {"piece": "qr"[k]}, lambda T, t: T.linalg.qr(t)[k], lambda t: np.linalg.qr(t)[k], pred=pred)


# ops whose cost and output stay linear in the input size (for big programs)
BIG_OPS = {
    "exp",
    "log",
    "sqrt",
    "rsqrt",
    "reciprocal",
    "tanh",
    "sigmoid",
    "sin",
    "cos",
    "atan",
    "asinh",
    "expm1",
    "log1p",
    "square",
    "negative",
    "abs",
    "sign",
    "softplus",
    "log_sigmoid",
    "softsign",
    "erf",
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "gelu_tanh",
    "silu",
    "floor",
    "round",
    "add",
    "add_op",
    "subtract",
    "sub_op",
    "multiply",
    "mul_op",
    "divide",
    "truediv_op",
    "maximum",
    "minimum",
    "pow",
    "squared_difference",
    "atan2",
    "floordiv",
    "floormod",
    "reduce_sum",
    "reduce_mean",
    "reduce_max",
    "reduce_min",
    "reduce_logsumexp",
    "reduce_variance",
    "reduce_euclidean_norm",
    "argmax",
    "reshape",
    "transpose",
    "expand_dims",
    "squeeze",
    "concat",
    "getitem",
    "strided_slice",
    "reverse",
    "pad",
    "roll",
    "matmul",
    "softmax",
    "cumsum",
    "where",
    "clip_by_value",
    "l2_normalize",
    "add_n",
    "bias_add",
    "l2_loss",
    "cast",
    "compare_cast",
    "identity",
}


# scatter, gather variants, losses, normalisation, more linalg


@op("tensor_scatter_nd", "fi")
def _tscatter(b, x):
    a = b.val(x)
    if a.ndim == 0 or 0 in a.shape:
        raise Reject
    depth = b.integers(1, a.ndim)
    n = b.integers(0, 4)
    fn = b.choice(["tensor_scatter_nd_add", "tensor_scatter_nd_sub", "tensor_scatter_nd_update"])
    if fn == "tensor_scatter_nd_update":  # distinct indices: duplicates' order is unspecified
        flat = b.rng.permutation(int(np.prod(a.shape[:depth])))[:n]
        n = len(flat)
        idx = np.stack(np.unravel_index(flat, a.shape[:depth]), axis=-1).reshape(n, depth)
    else:
        idx = np.stack([b.rng.integers(0, a.shape[k], n) for k in range(depth)], axis=-1)
        idx = idx.reshape(n, depth)
    y = b.operand((n,) + a.shape[depth:], a.dtype)

    def ref(t, u):
        out = t.copy()
        key = tuple(idx.T)
        if fn == "tensor_scatter_nd_update":
            out[key] = u
        else:
            np.add.at(out, key, u if fn.endswith("add") else -u)
        return out

    return Step(fn, [x, y], {"indices": idx.tolist()}, lambda T, t, u: getattr(T, fn)(t, T.constant(idx), u), ref)


@op("scatter_nd", "fi")
def _scatter_nd(b, x):
    a = b.val(x)  # the updates
    if a.ndim == 0:
        raise Reject
    n = a.shape[0]
    out_lead = [b.choice([1, 2, 3]) for _ in range(b.integers(1, 2))]
    idx = np.stack([b.rng.integers(0, d, n) for d in out_lead], axis=-1).reshape(n, len(out_lead))
    shape = out_lead + list(a.shape[1:])

    def ref(u):
        out = np.zeros(shape, u.dtype)
        np.add.at(out, tuple(idx.T), u)
        return out

    return Step(
        "scatter_nd",
        [x],
        {"indices": idx.tolist(), "shape": shape},
        lambda T, u: T.scatter_nd(T.constant(idx), u, shape),
        ref,
    )


@op("gather_batch", "fi")
def _gather_batch(b, x):
    a = b.val(x)
    if a.ndim < 2 or 0 in a.shape:
        raise Reject
    bd = b.integers(1, a.ndim - 1)
    ax = b.integers(bd, a.ndim - 1)
    extra = b.shape(max_rank=1)
    idx = b.rng.integers(0, a.shape[ax], a.shape[:bd] + extra)

    def ref(t):
        out = np.empty(t.shape[:ax] + idx.shape[bd:] + t.shape[ax + 1 :], t.dtype)
        for bi in np.ndindex(*t.shape[:bd]):
            out[bi] = np.take(t[bi], idx[bi], axis=ax - bd)
        return out

    return Step(
        "gather",
        [x],
        {"indices": idx.tolist(), "axis": ax, "batch_dims": bd},
        lambda T, t: T.gather(t, T.constant(idx), axis=ax, batch_dims=bd),
        ref,
    )


@op("unsorted_segment_mean", "f")
def _usegmean(b, x):
    a = b.val(x)
    if a.ndim == 0:
        raise Reject
    ns = b.integers(1, 4)
    ids = b.rng.integers(0, ns, a.shape[0])

    def ref(t):
        out = np.zeros((ns,) + t.shape[1:], t.dtype)
        np.add.at(out, ids, t)
        cnt = np.bincount(ids, minlength=ns).reshape((ns,) + (1,) * (t.ndim - 1))
        return (out / np.maximum(cnt, 1)).astype(t.dtype)

    return Step(
        "unsorted_segment_mean",
        [x],
        {"segment_ids": ids.tolist(), "num_segments": ns},
        lambda T, t: T.math.unsorted_segment_mean(t, T.constant(ids), ns),
        ref,
    )


@op("clip_by_norm", "f")
def _clip_norm(b, x):
    a = b.val(x)
    axes = None if a.ndim == 0 or b.boolean() else sorted(b.subset(range(a.ndim), min_size=1))
    c = b.choice([0.5, 1.0, 3.0])

    def norm(t):
        return np.sqrt(np.sum(t * t, axis=None if axes is None else tuple(axes), keepdims=True))

    def ref(t):
        n = norm(t)
        return (t * c / np.maximum(n, c)).astype(t.dtype)

    return Step(
        "clip_by_norm",
        [x],
        {"clip_norm": c, "axes": axes},
        lambda T, t: T.clip_by_norm(t, c, axes=axes),
        ref,
        pred=lambda t, out: away(norm(t), [c]) and bool(np.all(norm(t) > 0.01)),
    )


@op("softmax_xent", "f")
def _smxent(b, x):
    a = b.val(x)
    if a.ndim == 0 or a.shape[-1] == 0:
        raise Reject
    y = b.operand(a.shape, a.dtype)
    ax = -1

    # Labels softmax(y): TF's kernel differentiates to softmax(logits) - labels, the derivative
    # only where the labels sum to 1 (tapegrad does the same).
    def lsm(t):
        z = t - np.max(t, axis=ax, keepdims=True)
        return z - np.log(np.sum(np.exp(z), axis=ax, keepdims=True))

    def ref(lab, logit):
        return -np.sum(np.exp(lsm(lab)) * lsm(logit), axis=ax)

    return Step(
        "softmax_cross_entropy_with_logits(labels=softmax(y), logits=x)",
        [y, x],
        {},
        lambda T, lab, logit: T.nn.softmax_cross_entropy_with_logits(labels=T.nn.softmax(lab), logits=logit),
        ref,
    )


@op("sigmoid_xent", "f")
def _sgxent(b, x):
    a = b.val(x)
    y = b.operand(a.shape, a.dtype)
    return Step(
        "sigmoid_cross_entropy_with_logits",
        [y, x],
        {},
        lambda T, lab, logit: T.nn.sigmoid_cross_entropy_with_logits(labels=lab, logits=logit),
        lambda z, t: (np.maximum(t, 0) - t * z + np.log1p(np.exp(-np.abs(t)))).astype(t.dtype),
        pred=lambda z, t, out: away(t, [0]),
    )


@op("sparse_softmax_xent", "f")
def _spxent(b, x):
    a = b.val(x)
    if a.ndim == 0 or a.shape[-1] == 0:
        raise Reject
    lab = b.rng.integers(0, a.shape[-1], a.shape[:-1]).astype(b.choice([np.int32, np.int64]))

    def ref(t):
        z = t - np.max(t, axis=-1, keepdims=True)
        lsm = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
        return -np.take_along_axis(lsm, lab[..., None], axis=-1)[..., 0]

    return Step(
        "sparse_softmax_cross_entropy_with_logits",
        [x],
        {"labels": lab.tolist()},
        lambda T, t: T.nn.sparse_softmax_cross_entropy_with_logits(labels=T.constant(lab), logits=t),
        ref,
    )


@op("batch_normalization", "f")
def _bn(b, x):
    a = b.val(x)
    if a.ndim == 0:
        raise Reject
    c = a.shape[-1:]
    mean = b.operand(c, a.dtype)
    var = b.operand(c, a.dtype, "positive")
    eps = 1e-3
    return Step(
        "batch_normalization",
        [x, mean, var],
        {"variance_epsilon": eps},
        lambda T, t, m, v: T.nn.batch_normalization(t, m, v, None, None, eps),
        lambda t, m, v: (t - m) / np.sqrt(v + np.asarray(eps, t.dtype)),
        pred=lambda t, m, v, out: bool(np.all(v > 0.05)),
    )


_binary(
    "xlog1py",
    lambda T, a, c: T.math.xlog1py(a, c),
    lambda p, q: p * np.log1p(q),
    lambda p, q: np.all(q > -0.9) and away(p, [0]),
)


@op("set_diag", "f")
def _set_diag(b, x):
    a = b.val(x)
    if a.ndim < 2:
        raise Reject
    d = b.operand(a.shape[:-2] + (min(a.shape[-2:]),), a.dtype)

    def ref(t, dd):
        out = t.copy()
        k = min(t.shape[-2:])
        out[..., np.arange(k), np.arange(k)] = dd
        return out

    return Step("set_diag", [x, d], {}, lambda T, t, dd: T.linalg.set_diag(t, dd), ref)


@op("diag", "f")
def _diag(b, x):
    a = b.val(x)
    if a.ndim == 0:
        raise Reject
    n = a.shape[-1]

    def ref(t):
        out = np.zeros(t.shape + (n,), t.dtype)
        out[..., np.arange(n), np.arange(n)] = t
        return out

    return Step("diag", [x], {}, lambda T, t: T.linalg.diag(t), ref)


@op("cholesky_solve", "fc")
def _chol_solve(b, x):
    a = _square(b, x)
    n = a.shape[-1]
    y = b.operand(a.shape[:-1] + (b.choice([1, 2]),), a.dtype)

    def ref(t, q):
        return np.linalg.solve(t @ np.swapaxes(t, -1, -2) + n * np.eye(n), q)

    return Step(
        "cholesky_solve(cholesky(x @ x^T + n*I), y)",
        [x, y],
        {},
        lambda T, t, q: T.linalg.cholesky_solve(
            T.linalg.cholesky(T.matmul(t, t, transpose_b=True) + n * T.eye(n, dtype=t.dtype)), q
        ),
        ref,
    )


@op("lstsq", "fc")
def _lstsq(b, x):
    a = b.val(x)
    if a.ndim < 2 or a.shape[-2] < a.shape[-1] or 0 in a.shape[-2:]:
        raise Reject
    y = b.operand(a.shape[:-1] + (b.choice([1, 2]),), a.dtype)

    def ref(t, q):
        return np.linalg.solve(np.swapaxes(t, -1, -2) @ t, np.swapaxes(t, -1, -2) @ q)

    return Step(
        "lstsq", [x, y], {}, lambda T, t, q: T.linalg.lstsq(t, q), ref, pred=lambda t, q, out: _cond_ok(t, 10.0)
    )


@op("pinv", "fc")
def _pinv(b, x):
    a = b.val(x)
    if a.ndim < 2 or 0 in a.shape[-2:]:
        raise Reject

    def ok(t, out):
        s = np.linalg.svd(t, compute_uv=False)
        return bool(np.all(s[..., -1] > 0.1)) and _cond_ok(t, 10.0)

    return Step("pinv", [x], {}, lambda T, t: T.linalg.pinv(t), np.linalg.pinv, pred=ok)


@op("eigh_values", "fc")
def _eigh(b, x):
    _square(b, x)

    def sym(t):
        return (t + np.swapaxes(t, -1, -2)) / 2

    def gaps(t, out):
        w = np.linalg.eigvalsh(sym(t))
        return w.shape[-1] < 2 or bool(np.all(np.diff(w, axis=-1) > 0.05))

    # eigenvectors up to sign: v * sign(first entry of largest magnitude) is unique
    return Step(
        "eigh((x + x^T) / 2).values * 1 + |eigenvectors|",
        [x],
        {},
        lambda T, t: (
            T.linalg.eigh((t + T.linalg.matrix_transpose(t)) / 2)[0][..., None, :]
            + T.abs(T.linalg.eigh((t + T.linalg.matrix_transpose(t)) / 2)[1])
        ),
        lambda t: np.linalg.eigh(sym(t))[0][..., None, :] + np.abs(np.linalg.eigh(sym(t))[1]),
        pred=lambda t, out: gaps(t, out) and away(np.linalg.eigh(sym(t))[1], [0], 0.05),
    )


@op("count_nonzero", "ix")
def _count_nonzero(b, x):
    a = b.val(x)
    ax = b.axes(a.ndim)
    keep = b.boolean()
    npax = tuple(ax) if isinstance(ax, list) else ax
    return Step(
        "count_nonzero",
        [x],
        {"axis": ax, "keepdims": keep},
        lambda T, t: T.math.count_nonzero(t, axis=ax, keepdims=keep),
        lambda t: np.asarray(np.count_nonzero(t, axis=npax, keepdims=keep), np.int64),
    )


@op("reduce_any_all", "fi")
def _any_all(b, x):
    a = b.val(x)
    ax = b.axes(a.ndim)
    keep = b.boolean()
    fn = b.choice(["reduce_any", "reduce_all"])
    npax = tuple(ax) if isinstance(ax, list) else ax
    npf = np.any if fn == "reduce_any" else np.all
    thr = 0 if a.dtype.kind == "i" else 0.5
    return Step(
        f"cast({fn}(x > {thr}), {a.dtype})",
        [x],
        {"axis": ax, "keepdims": keep},
        lambda T, t: T.cast(getattr(T, fn)(t > thr, axis=ax, keepdims=keep), t.dtype),
        lambda t: npf(t > thr, axis=npax, keepdims=keep).astype(a.dtype),
        pred=lambda t, out: a.dtype.kind == "i" or away(t, [thr]),
    )
