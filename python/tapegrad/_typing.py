"""Type aliases for tapegrad's hints (the engine's signatures and stubs name them too).

``TensorLike`` is what the ops accept as a tensor: a Tensor or Variable, a numpy array or scalar, a
Python number or bool, or a nested list of them (TF's ``tf.types.experimental.TensorLike``).

>>> import tapegrad as tg
>>> from tapegrad._typing import TensorLike
>>> def double(x: TensorLike) -> tg.Tensor:
...     return tg.multiply(x, 2)
>>> double([1.0, 2.0]).numpy().tolist()
[2.0, 4.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np

if TYPE_CHECKING:  # the engine imports this module by name only; no import cycle at run time
    from ._core import Tensor, Variable
    from ._dtypes import DType

#: A value the ops convert to a Tensor.
TensorLike = Union["Tensor", "Variable", np.ndarray, np.generic, float, int, bool, Sequence[Any]]
#: A shape: ints (None or -1 for an unknown size), a TensorShape, one int, or an integer tensor.
ShapeLike = Union[Sequence[Optional[int]], int, "Tensor", "Variable", np.ndarray]
#: Reduction axes: None (all), one int, a list of ints, or an integer tensor.
AxisLike = Union[None, int, Sequence[int], "Tensor", "Variable", np.ndarray]
#: A dtype: a tapegrad DType, its name ("float32"), a numpy dtype or a Python type.
DTypeLike = Union["DType", str, np.dtype, type]

__all__ = ["AxisLike", "DTypeLike", "ShapeLike", "TensorLike"]
