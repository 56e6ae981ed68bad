"""Tape overhead: a 100-op elementwise chain on 16 float32 elements, forward + gradient."""

import numpy as np

import tapegrad as tg

from .. import tape_overhead as chain
from .._common import to_numpy

NAME = "tape"
TITLE = "100-op chain on 16 float32, forward + gradient"


def run(ctx):
    x = np.linspace(-1, 1, chain.SIZE).astype(np.float32)
    case = f"{chain.N_OPS} ops x {chain.SIZE}"
    note = "per chain; {:.2f} us/op"
    cases = []  # (library, fn, input)
    np_ = ctx.peer("numpy")
    if np_ is not None:
        cases.append(("numpy by hand", chain.make_numpy(), x))
    cases.append(("tapegrad", chain.chain_tapegrad, tg.constant(x)))
    cases.append(("tapegrad tf.function", tg.function(chain.chain_tapegrad), tg.constant(x)))
    torch = ctx.peer("torch")
    if torch is not None:
        cases.append(("PyTorch eager", chain.make_torch(torch), torch.tensor(x, requires_grad=True)))
    tf = ctx.peer("tf")
    if tf is not None:
        cases.append(("TF eager tape", chain.make_tf(tf), tf.constant(x)))
        cases.append(("TF tf.function", chain.make_tf_function(tf), tf.constant(x)))
    jax = ctx.peer("jax")
    if jax is not None:
        cases.append(("JAX jit", chain.make_jax(jax), jax.numpy.asarray(x)))
    for library, fn, arg in cases:
        t = ctx.bench(
            case,
            library,
            lambda fn=fn, arg=arg: fn(arg),
            result=lambda fn=fn, arg=arg: to_numpy(fn(arg)),
            rtol=1e-4,
            atol=1e-5,
        )
        if t is not None:
            ctx.rows[-1]["note"] = note.format(t / chain.N_OPS * 1e6)
    ctx.budget(case, "tapegrad <= 0.35x PyTorch eager", "PyTorch eager", 0.35)
    ctx.budget(case, "tapegrad tf.function <= JAX jit (per op)", "JAX jit", 1.0, subject="tapegrad tf.function")
