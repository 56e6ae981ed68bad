"""``tg.math.special``: TF's special-function namespace (the functions live in _ops_special.py).

TF 2.21's Bessel functions of the first and second kind (bessel_j0, bessel_j1, bessel_y0,
bessel_y1) are not provided yet."""

from ._ops_special import (
    bessel_i0,
    bessel_i0e,
    bessel_i1,
    bessel_i1e,
    bessel_k0,
    bessel_k0e,
    bessel_k1,
    bessel_k1e,
    dawsn,
    expint,
    fresnel_cos,
    fresnel_sin,
    spence,
)

__all__ = [
    "bessel_i0",
    "bessel_i0e",
    "bessel_i1",
    "bessel_i1e",
    "bessel_k0",
    "bessel_k0e",
    "bessel_k1",
    "bessel_k1e",
    "dawsn",
    "expint",
    "fresnel_cos",
    "fresnel_sin",
    "spence",
]
