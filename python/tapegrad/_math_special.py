"""``tg.math.special``: TF's special-function namespace (the functions live in _ops_special.py).

TF 2.21's Bessel functions J, Y and K, dawsn, expint, fresnel_cos/fresnel_sin and spence are not
provided yet."""

from ._ops_special import bessel_i0, bessel_i0e, bessel_i1, bessel_i1e

__all__ = ["bessel_i0", "bessel_i0e", "bessel_i1", "bessel_i1e"]
