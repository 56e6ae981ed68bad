"""``tg.random``: random tensors with TF's names, arguments and seed rules.

Seeds follow TF 2's eager semantics: ``set_seed(s)`` makes every later sequence of random ops
reproducible; an op with ``seed=`` draws from its own stream keyed by (global seed, op seed), and
repeated calls continue that stream until the next ``set_seed``; an op without ``seed=`` under a
global seed gets a fresh stream per call, numbered in call order; with no seed at all the values
are not reproducible. The streams are numpy's PCG64 generator, so the values themselves differ
from TensorFlow's (Philox) streams: a program gets the same distribution and the same
reproducibility, not TF's exact numbers.

>>> import tapegrad as tg
>>> tg.random.set_seed(1); a = tg.random.uniform([2])
>>> tg.random.set_seed(1); b = tg.random.uniform([2])
>>> bool((a.numpy() == b.numpy()).all())
True
"""

import numbers as _numbers
from typing import TYPE_CHECKING as _TYPE_CHECKING

import numpy as _np

from . import _core, _ops, _tensor
from ._core import InvalidArgumentError as _InvalidArgumentError
from ._dtypes import as_dtype as _as_dtype
from ._dtypes import float32 as _float32
from ._dtypes import int64 as _int64
from ._ops import _shape_list
from ._ops import constant as _constant
from ._tensor import Tensor as _Tensor
from ._tensor import Variable as _Variable

if _TYPE_CHECKING:  # names for the hints only (quoted), so that none is public here at run time
    from typing import Any, Optional

    from ._dtypes import DType
    from ._tensor import Tensor
    from ._typing import DTypeLike, ShapeLike, TensorLike

__all__ = [
    "set_seed",
    "normal",
    "uniform",
    "truncated_normal",
    "shuffle",
    "categorical",
    "Generator",
    "get_global_generator",
    "set_global_generator",
    "stateless_normal",
    "stateless_uniform",
    "stateless_truncated_normal",
]

_DEFAULT_GRAPH_SEED = 87654321  # TF's seed for ops that have a seed when the global one is unset
_MASK = (1 << 64) - 1
_global_seed = None
_op_count = 0
_streams: dict = {}
_unseeded = _np.random.default_rng()


def set_seed(seed: "Any") -> None:
    """Sets the global random seed; later random ops repeat the same values (See tg.random)."""
    global _global_seed, _op_count
    _global_seed = None if seed is None else int(seed)
    _op_count = 0
    _streams.clear()


def _get_global_seed():
    return _global_seed


def _drawn(make, *operands, shape_of=None):
    """``make(*operands)``: a tensor drawn from a random stream. In a traced tf.function it is drawn
    again at every call (a host call: See Note [Traced functions]) on that call's operands: one
    computed in the function (a tensor, or a shape list holding scalar tensors) reaches the host
    call as a tensor. ``shape_of(*operands)``: the draw's shape, which a polymorphic trace's shadow
    run needs (See Note [Polymorphic traces])."""
    if not _core._tracing():
        return make(*operands)
    where, tensors = [], []
    for i, o in enumerate(operands):
        t = _traced_operand(o)
        if t is not None:
            where.append(i)
            tensors.append(t)

    def rebuild(ts):
        ops = list(operands)
        for i, t in zip(where, ts):
            ops[i] = t
        return ops

    dtypes = []

    def host(*ts):
        out = make(*rebuild(ts))
        dtypes.append(out.dtype)
        return [out]

    shadow = None
    if shape_of is not None and _tensor._POLY[0]:

        def shadow(*ts):
            return [_ops.zeros(shape_of(*rebuild(ts)), dtypes[0])]

    return _core._trace_host_call(host, tensors, writes=False, shadow=shadow)[0]


def _traced_operand(o):
    """An operand of a draw as the tensor a host call takes, when it was computed in the traced
    function (a shape list holding such scalars becomes one int64 tensor); None otherwise."""
    if isinstance(o, (_Tensor, _Variable)):
        return o if _core._trace_is_traced(o) else None
    if isinstance(o, (list, tuple)) and _tensor._POLY[0]:
        return _core._traced_shape(o)
    return None


def _draw(sample, generator, shape, a, b, dtype):
    """sample(generator(), shape, a, b, dtype) as a draw (_drawn): normal, truncated_normal and
    uniform, from a seed's stream or a Generator's (`generator` is asked at every draw)."""
    return _drawn(lambda shape, a, b: sample(generator(), shape, a, b, dtype), shape, a, b, shape_of=_shape_of)


def _shape_of(shape, *_):
    return shape


def _stream_used():
    """A random stream advanced in Python inside a trace outside `_drawn`: a replay would repeat
    the trace's numbers, so the trace is not replayable."""
    if _core._tracing():
        _core._trace_poison("a random draw outside the ops that traces redo (tf.random.normal/uniform/...)")


def _generator(seed):
    """The numpy Generator an op with op seed `seed` draws from (TF's get_seed rules)."""
    _stream_used()
    global _op_count
    if seed is not None and not isinstance(seed, (_numbers.Integral, _np.integer)):
        raise TypeError(f"seed must be an integer or None, got {type(seed).__name__}")
    if _global_seed is None and seed is None:
        return _unseeded
    g = _DEFAULT_GRAPH_SEED if _global_seed is None else _global_seed
    if seed is None:
        _op_count += 1
        key = (g, "op", _op_count)
    else:
        key = (g, int(seed))
    gen = _streams.get(key)
    if gen is None:
        words = [g & _MASK, (key[-1] & _MASK), 0 if seed is None else 1]
        gen = _streams[key] = _np.random.Generator(_np.random.PCG64(_np.random.SeedSequence(words)))
    return gen


def _dims(shape):
    dims = _shape_list(shape.as_list() if hasattr(shape, "as_list") else shape)
    for d in dims:
        if d < 0:
            raise _InvalidArgumentError(f"Dimension {d} must be >= 0")
    return dims


def _float_dtype(dtype: "Any", op: str) -> "DType":
    dt = _as_dtype(dtype)
    if not dt.is_floating:
        raise TypeError(
            f"Value for attr 'dtype' of {dt.name} is not in the list of allowed values: float, double [Op:{op}]"
        )
    return dt


def _value(v, np_dtype):
    return _np.asarray(v.numpy() if isinstance(v, (_Tensor, _Variable)) else v, dtype=np_dtype)


def _uniform_np(shape, np_dtype, seed):
    """Uniform [0, 1) values of `np_dtype` (used by dropout)."""
    return _generator(seed).random(size=tuple(shape), dtype=np_dtype)


def _normal(gen, shape, mean, stddev, dtype):
    dt = _float_dtype(dtype, "RandomStandardNormal")
    z = gen.standard_normal(size=tuple(_dims(shape)))
    npd = dt.as_numpy_dtype
    return _constant(z.astype(npd) * _value(stddev, npd) + _value(mean, npd), dtype=dt)


def normal(
    shape: "ShapeLike",
    mean: "TensorLike" = 0.0,
    stddev: "TensorLike" = 1.0,
    dtype: "DTypeLike" = _float32,
    seed: "Any" = None,
    name: "Optional[str]" = None,
) -> "Tensor":
    """Values from a normal distribution (``tf.random.normal``)."""
    return _draw(_normal, lambda: _generator(seed), shape, mean, stddev, dtype)


def truncated_normal(
    shape: "ShapeLike",
    mean: "TensorLike" = 0.0,
    stddev: "TensorLike" = 1.0,
    dtype: "DTypeLike" = _float32,
    seed: "Any" = None,
    name: "Optional[str]" = None,
) -> "Tensor":
    """Normal values redrawn until within two standard deviations (``tf.random.truncated_normal``)."""
    return _draw(_truncated_normal, lambda: _generator(seed), shape, mean, stddev, dtype)


def _truncated_normal(gen, shape, mean, stddev, dtype):
    dt = _float_dtype(dtype, "TruncatedNormal")
    dims = tuple(_dims(shape))
    z = gen.standard_normal(size=dims)
    bad = _np.abs(z) > 2.0
    while bad.any():
        z[bad] = gen.standard_normal(size=int(bad.sum()))
        bad = _np.abs(z) > 2.0
    npd = dt.as_numpy_dtype
    return _constant(z.astype(npd) * _value(stddev, npd) + _value(mean, npd), dtype=dt)


def uniform(
    shape: "ShapeLike",
    minval: "TensorLike" = 0,
    maxval: "Optional[TensorLike]" = None,
    dtype: "DTypeLike" = _float32,
    seed: "Any" = None,
    name: "Optional[str]" = None,
) -> "Tensor":
    """Uniform values in ``[minval, maxval)`` (``tf.random.uniform``); integer dtypes need maxval."""
    return _draw(_uniform, lambda: _generator(seed), shape, minval, maxval, dtype)


def _uniform(gen, shape, minval, maxval, dtype):
    dt = _as_dtype(dtype)
    dims = tuple(_dims(shape))
    npd = dt.as_numpy_dtype
    if dt.is_integer:
        if maxval is None:
            raise ValueError(f"Must specify maxval for integer dtype {dt!r}")
        lo, hi = int(_value(minval, npd)), int(_value(maxval, npd))
        if lo >= hi:
            raise _InvalidArgumentError(f"Need minval < maxval, got {lo} >= {hi} [Op:RandomUniformInt]")
        return _constant(gen.integers(lo, hi, size=dims, dtype=npd), dtype=dt)
    if not dt.is_floating:
        raise TypeError(
            f"Value for attr 'dtype' of {dt.name} is not in the list of allowed values: float, double, "
            f"int32, int64 [Op:RandomUniform]"
        )
    lo = _value(minval, npd)
    hi = _value(1.0 if maxval is None else maxval, npd)
    u = gen.random(size=dims, dtype=npd)
    return _constant((u * (hi - lo) + lo).astype(npd), dtype=dt)


def shuffle(value: "TensorLike", seed: "Any" = None, name: "Optional[str]" = None) -> "Tensor":
    """A random permutation along the first axis (``tf.random.shuffle``; not differentiable, as TF)."""
    a = _value(value, None)
    dt = value.dtype if isinstance(value, (_Tensor, _Variable)) else None
    if a.ndim == 0:
        return _constant(a, dtype=dt)  # TF returns a scalar unchanged
    perm = _generator(seed).permutation(a.shape[0])
    return _constant(a[perm], dtype=dt)


def categorical(
    logits: "TensorLike",
    num_samples: "Any",
    dtype: "Optional[DTypeLike]" = None,
    seed: "Any" = None,
    name: "Optional[str]" = None,
) -> "Tensor":
    """Samples class indices from unnormalised log-probabilities ``[batch, classes]``
    (``tf.random.categorical``)."""
    lg = _value(logits, _np.float64)
    if lg.ndim != 2:
        raise _InvalidArgumentError(f"logits should be a matrix, got shape {list(lg.shape)} [Op:Multinomial]")
    dt = _int64 if dtype is None else _as_dtype(dtype)
    if not dt.is_integer:
        raise TypeError(f"categorical: dtype must be int32 or int64, got {dt.name}")
    n = int(num_samples)
    gumbel = -_np.log(-_np.log(_generator(seed).random(size=(lg.shape[0], n, lg.shape[1]))))
    return _constant(_np.argmax(lg[:, None, :] + gumbel, axis=-1).astype(dt.as_numpy_dtype), dtype=dt)


# ---- stateless ops and Generator objects -------------------------------------------------------


def _stateless_gen(seed, tag):
    sd = _value(seed, _np.int64).reshape(-1)
    if sd.shape != (2,):
        raise _InvalidArgumentError(f"seed must have shape [2], not {list(sd.shape)}")
    return _np.random.Generator(_np.random.PCG64(_np.random.SeedSequence([int(v) & _MASK for v in sd] + [tag])))


def stateless_normal(
    shape: "ShapeLike",
    seed: "Any",
    mean: "TensorLike" = 0.0,
    stddev: "TensorLike" = 1.0,
    dtype: "DTypeLike" = _float32,
    name: "Optional[str]" = None,
    alg: "str" = "auto_select",
) -> "Tensor":
    """Normal values that depend only on `shape` and `seed` (two ints) (``tf.random.stateless_normal``)."""
    return _normal(_stateless_gen(seed, 1), shape, mean, stddev, dtype)


def stateless_uniform(
    shape: "ShapeLike",
    seed: "Any",
    minval: "TensorLike" = 0,
    maxval: "Optional[TensorLike]" = None,
    dtype: "DTypeLike" = _float32,
    name: "Optional[str]" = None,
    alg: "str" = "auto_select",
) -> "Tensor":
    """Uniform values that depend only on `shape` and `seed` (``tf.random.stateless_uniform``)."""
    return _uniform(_stateless_gen(seed, 2), shape, minval, maxval, dtype)


def stateless_truncated_normal(
    shape: "ShapeLike",
    seed: "Any",
    mean: "TensorLike" = 0.0,
    stddev: "TensorLike" = 1.0,
    dtype: "DTypeLike" = _float32,
    name: "Optional[str]" = None,
    alg: "str" = "auto_select",
) -> "Tensor":
    """Truncated normal values that depend only on `shape` and `seed`."""
    return _truncated_normal(_stateless_gen(seed, 3), shape, mean, stddev, dtype)


class Generator:
    """A random number generator object with its own state (``tf.random.Generator``): the same
    seed gives the same sequence of draws. Streams are numpy's PCG64, not TF's Philox.

    >>> import tapegrad as tg
    >>> g1, g2 = tg.random.Generator.from_seed(3), tg.random.Generator.from_seed(3)
    >>> bool((g1.normal([3]).numpy() == g2.normal([3]).numpy()).all())
    True
    """

    def __init__(self, copy_from=None, state=None, alg=None):
        if copy_from is not None:
            self._rng = _np.random.Generator(_np.random.PCG64())
            self._rng.bit_generator.state = copy_from._rng.bit_generator.state
        else:
            self._rng = _np.random.Generator(_np.random.PCG64(None if state is None else int(state) & _MASK))

    @property
    def _rng(self):
        _stream_used()  # inside _drawn, tracing is paused and nothing is poisoned
        return self._stream

    @_rng.setter
    def _rng(self, value):
        self._stream = value

    @classmethod
    def from_seed(cls, seed: "Any", alg: "Any" = None) -> "Generator":
        """A generator whose stream is fixed by `seed`."""
        g = cls.__new__(cls)
        g.reset_from_seed(seed)
        return g

    @classmethod
    def from_non_deterministic_state(cls, alg: "Any" = None) -> "Generator":
        """A generator seeded from the operating system's entropy."""
        return cls()

    def reset_from_seed(self, seed: "Any") -> None:
        """Restarts the stream as ``Generator.from_seed(seed)`` would."""
        self._rng = _np.random.Generator(_np.random.PCG64(_np.random.SeedSequence(int(seed) & _MASK)))

    def normal(
        self,
        shape: "ShapeLike",
        mean: "TensorLike" = 0.0,
        stddev: "TensorLike" = 1.0,
        dtype: "DTypeLike" = _float32,
        name: "Optional[str]" = None,
    ) -> "Tensor":
        """Normal samples of `shape` from this generator's stream."""
        return _draw(_normal, lambda: self._rng, shape, mean, stddev, dtype)

    def truncated_normal(
        self,
        shape: "ShapeLike",
        mean: "TensorLike" = 0.0,
        stddev: "TensorLike" = 1.0,
        dtype: "DTypeLike" = _float32,
        name: "Optional[str]" = None,
    ) -> "Tensor":
        """Normal samples of `shape` redrawn beyond two standard deviations, from this stream."""
        return _draw(_truncated_normal, lambda: self._rng, shape, mean, stddev, dtype)

    def uniform(
        self,
        shape: "ShapeLike",
        minval: "TensorLike" = 0,
        maxval: "Optional[TensorLike]" = None,
        dtype: "DTypeLike" = _float32,
        name: "Optional[str]" = None,
    ) -> "Tensor":
        """Uniform samples of `shape` in [minval, maxval) from this generator's stream."""
        return _draw(_uniform, lambda: self._rng, shape, minval, maxval, dtype)

    def make_seeds(self, count: int = 1) -> "Tensor":
        """Seeds ``[2, count]`` (int64) for the stateless ops."""
        return _constant(self._rng.integers(0, 2**63 - 1, size=(2, int(count)), dtype=_np.int64))

    def split(self, count: int = 1) -> "list[Generator]":
        """`count` new independent generators; advances this one."""
        return [Generator.from_seed(int(self._rng.integers(0, 2**63 - 1))) for _ in range(int(count))]


_global_generator = None


def get_global_generator() -> "Any":
    """The process-wide Generator (``tf.random.get_global_generator``)."""
    global _global_generator
    if _global_generator is None:
        _global_generator = Generator.from_non_deterministic_state()
    return _global_generator


def set_global_generator(generator: "Any") -> None:
    """Makes `generator` the one ``get_global_generator()`` returns (TF's ``tf.random.set_global_generator``).

    >>> import tapegrad as tg
    >>> tg.random.set_global_generator(tg.random.Generator.from_seed(1))
    >>> a = tg.random.get_global_generator().normal([2]).numpy()
    >>> tg.random.set_global_generator(tg.random.Generator.from_seed(1))
    >>> bool((tg.random.get_global_generator().normal([2]).numpy() == a).all())
    True
    """
    global _global_generator
    _global_generator = generator
