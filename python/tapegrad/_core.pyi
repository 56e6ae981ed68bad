"""
tapegrad's C++ engine (private: use the tapegrad package)
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import tapegrad._typing
import typing
import typing_extensions
__all__: list[str] = ['Accumulator', 'GradientClip', 'InvalidArgumentError', 'OptimizerHyper', 'OptimizerRule', 'PausedTrace', 'ResourceExhaustedError', 'SparseRowState', 'Tape', 'Tensor', 'TracedGraph', 'Variable', 'abs', 'acos', 'acosh', 'add', 'angle', 'any_tape_active', 'asin', 'asinh', 'atan', 'atan2', 'atanh', 'broadcast_to', 'cast', 'ceil', 'complex', 'compute_gradient', 'compute_gradient_sparse', 'compute_jacobian', 'concat', 'conj', 'constant', 'convert_to_tensor', 'cos', 'cosh', 'divide', 'equal', 'erf', 'erfc', 'exp', 'expm1', 'fill', 'floor', 'floordiv', 'floormod', 'from_dlpack_capsule', 'full', 'gather', 'gather_nd', 'get_num_threads', 'greater', 'greater_equal', 'identity', 'imag', 'is_accumulator_recording', 'is_finite', 'is_inf', 'is_nan', 'is_recording', 'less', 'less_equal', 'log', 'log1p', 'log_softmax', 'logical_and', 'logical_not', 'logical_or', 'matmul', 'maximum', 'minimum', 'multiply', 'negative', 'not_equal', 'optimizer_accumulate', 'optimizer_ema_update', 'optimizer_sparse_rows_only', 'optimizer_sparse_step', 'optimizer_sparse_supported', 'optimizer_step', 'optimizer_sum_squares', 'pad_constant', 'pop_accumulator', 'pop_tape', 'pow', 'push_accumulator', 'push_tape', 'range', 'real', 'reciprocal', 'record_custom_gradient', 'reduce_all', 'reduce_any', 'reduce_max', 'reduce_mean', 'reduce_min', 'reduce_prod', 'reduce_sum', 'relu', 'relu6', 'reshape', 'round', 'rsqrt', 'scatter_nd', 'set_num_threads', 'sigmoid', 'sigmoid_cross_entropy_with_logits', 'sign', 'simd_isa', 'sin', 'sinh', 'softmax', 'softmax_cross_entropy_with_logits', 'softplus', 'sparse_softmax_cross_entropy_with_logits', 'sqrt', 'square', 'squared_difference', 'stop_gradient', 'strided_slice', 'subtract', 'tan', 'tanh', 'tensor_scatter_nd_add', 'tensor_scatter_nd_update', 'transpose', 'unsorted_segment_sum', 'unstack', 'where3', 'where_indices', 'zeros']
class InvalidArgumentError(ValueError):
    pass
class ResourceExhaustedError(MemoryError):
    pass
class Tensor:
    """
    An immutable multi-dimensional array (tapegrad.Tensor).
    """
    __array_priority__: typing.ClassVar[int] = 100
    def __abs__(self) -> Tensor:
        ...
    def __add__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __and__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __array__(self, dtype = None, copy = None):
        """
        numpy's conversion, with numpy 2's ``copy``: None or False give a read-only view of the buffer
            (a Variable's view keeps the value it saw: later writes go to a fresh buffer), True a new array;
            a dtype change copies, so with ``copy=False`` it raises ValueError, as numpy's own arrays.
        """
    def __bool__(self):
        ...
    def __dlpack__(self, *, stream: typing.Any = None, max_version: typing.Any = None, dl_device: typing.Any = None, copy: typing.Any = None) -> typing.Any:
        """
        Exports the value as a DLPack capsule (the array API's __dlpack__): zero-copy, read-only for DLPack >= 1.0 consumers; copy=True exports a fresh copy.
        """
    def __dlpack_device__(self) -> tuple[int, int]:
        """
        The DLPack device of the value: (kDLCPU, 0) = (1, 0).
        """
    def __eq__(self, other: typing.Any) -> Tensor | bool:
        ...
    def __float__(self):
        ...
    def __floordiv__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __format__(self, format_spec):
        """
        As TF: the spec applies to the numpy value (a numpy scalar for a 0-d tensor).
        """
    def __ge__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __getitem__(self, spec):
        ...
    def __gt__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self):
        ...
    def __int__(self):
        ...
    def __invert__(self) -> Tensor:
        ...
    def __iter__(self):
        ...
    def __le__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __len__(self):
        ...
    def __lt__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __matmul__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __mod__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __mul__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __ne__(self, other: typing.Any) -> Tensor | bool:
        ...
    def __neg__(self) -> Tensor:
        ...
    def __or__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __pos__(self) -> Tensor:
        ...
    def __pow__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __radd__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __rand__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __repr__(self):
        ...
    def __rfloordiv__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __rmatmul__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __rmod__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __rmul__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __ror__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __rpow__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __rsub__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __rtruediv__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __str__(self):
        ...
    def __sub__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __truediv__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def _array_view(self) -> numpy.ndarray:
        """
        (private) A read-only numpy view of the buffer (no copy).
        """
    def _item(self) -> typing.Any:
        """
        (private) The one value as a Python int or float.
        """
    def experimental_ref(self):
        """
        A hashable reference to this tensor (by identity), as TF's ``Tensor.ref()``.
        """
    def get_shape(self):
        ...
    def numpy(self):
        """
        The value as a numpy array (a numpy scalar for a 0-d tensor, as TF).
        """
    def ref(self):
        """
        A hashable reference to this tensor (by identity), as TF's ``Tensor.ref()``.
        """
    @property
    def _dtype_code(self) -> int:
        ...
    @property
    def _id(self) -> int:
        ...
    @property
    def _shape_tuple(self) -> tuple:
        ...
    @property
    def device(self):
        """
        The device holding the value; always the host CPU.
        """
    @property
    def dtype(self):
        """
        The element type, a DType.
        """
    @property
    def name(self):
        """
        Undefined in eager mode: raises AttributeError, as TF.
        """
    @property
    def ndim(self) -> int:
        """
        The number of axes (the rank).
        """
    @property
    def shape(self):
        """
        The shape, a TensorShape.
        """
class Variable:
    """
    The engine's mutable tensor (tapegrad.Variable subclasses it).
    """
    __array_priority__: typing.ClassVar[int] = 100
    _shared_name: str
    def __abs__(self) -> Tensor:
        ...
    def __add__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __and__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __array__(self, dtype = None, copy = None):
        """
        numpy's conversion, with numpy 2's ``copy``: None or False give a read-only view of the buffer
            (a Variable's view keeps the value it saw: later writes go to a fresh buffer), True a new array;
            a dtype change copies, so with ``copy=False`` it raises ValueError, as numpy's own arrays.
        """
    def __bool__(self):
        ...
    def __dlpack__(self, *, stream: typing.Any = None, max_version: typing.Any = None, dl_device: typing.Any = None, copy: typing.Any = None) -> typing.Any:
        """
        Exports the value as a DLPack capsule (the array API's __dlpack__): zero-copy, read-only for DLPack >= 1.0 consumers; copy=True exports a fresh copy.
        """
    def __dlpack_device__(self) -> tuple[int, int]:
        """
        The DLPack device of the value: (kDLCPU, 0) = (1, 0).
        """
    def __eq__(self, other: typing.Any) -> Tensor | bool:
        ...
    def __float__(self):
        ...
    def __floordiv__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __ge__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __getitem__(self, spec):
        ...
    def __gt__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self):
        ...
    def __init__(self, initial_value: tapegrad._typing.TensorLike, name: str = 'Variable', trainable: bool = True) -> None:
        """
        A variable holding a copy of `initial_value`.
        """
    def __int__(self):
        ...
    def __invert__(self) -> Tensor:
        ...
    def __iter__(self):
        ...
    def __le__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __len__(self):
        ...
    def __lt__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __matmul__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __mod__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __mul__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __ne__(self, other: typing.Any) -> Tensor | bool:
        ...
    def __neg__(self) -> Tensor:
        ...
    def __or__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __pos__(self) -> Tensor:
        ...
    def __pow__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __radd__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __rand__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __rfloordiv__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __rmatmul__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __rmod__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __rmul__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __ror__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __rpow__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __rsub__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __rtruediv__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __sub__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def __truediv__(self, other: tapegrad._typing.TensorLike) -> Tensor:
        ...
    def _array_view(self) -> numpy.ndarray:
        """
        (private) A read-only numpy view of the buffer (no copy).
        """
    def _assign(self, value: tapegrad._typing.TensorLike) -> None:
        """
        (private) Replaces the value (same dtype and shape).
        """
    def _assign_add(self, delta: tapegrad._typing.TensorLike) -> None:
        """
        (private) Adds `delta` to the value.
        """
    def _assign_sub(self, delta: tapegrad._typing.TensorLike) -> None:
        """
        (private) Subtracts `delta` from the value.
        """
    def _item(self) -> typing.Any:
        """
        (private) The one value as a Python int or float.
        """
    def experimental_ref(self):
        """
        A hashable reference to this tensor (by identity), as TF's ``Tensor.ref()``.
        """
    def get_shape(self):
        ...
    def numpy(self):
        """
        The value as a numpy array (a numpy scalar for a 0-d tensor, as TF).
        """
    def read_value(self) -> Tensor:
        """
        The current value as a Tensor (recorded as a read).
        """
    def ref(self):
        """
        A hashable reference to this tensor (by identity), as TF's ``Tensor.ref()``.
        """
    def scatter_nd_add(self, indices, updates, name = None):
        """
        Variable.scatter_nd_add(indices, updates): tensor_scatter_nd_add written in place.
        """
    def scatter_nd_sub(self, indices, updates, name = None):
        """
        Variable.scatter_nd_sub(indices, updates): tensor_scatter_nd_sub written in place.
        """
    def scatter_nd_update(self, indices, updates, name = None):
        """
        Variable.scatter_nd_update(indices, updates): tensor_scatter_nd_update written in place.
        """
    def value(self) -> Tensor:
        """
        The current value as a Tensor (recorded as a read).
        """
    @property
    def _dtype_code(self) -> int:
        ...
    @property
    def _id(self) -> int:
        ...
    @property
    def _shape_tuple(self) -> tuple:
        ...
    @property
    def device(self):
        """
        The device holding the value; always the host CPU.
        """
    @property
    def dtype(self):
        """
        The element type, a DType.
        """
    @property
    def name(self) -> str:
        """
        TF's name: the name given (or 'Variable') followed by ':0'.
        """
    @property
    def ndim(self) -> int:
        """
        The number of axes (the rank).
        """
    @property
    def path(self) -> str:
        """
        The name given (Keras's ``Variable.path``), without TF's ':0'.
        """
    @property
    def shape(self):
        """
        The shape, a TensorShape.
        """
    @property
    def trainable(self) -> bool:
        """
        Whether optimizers and Module.trainable_variables see this variable.
        """
    @trainable.setter
    def trainable(self, arg1: bool) -> None:
        ...
class Tape:
    """
    The engine's record of one GradientTape (private).
    """
    def __init__(self, persistent: bool, watch_accessed_variables: bool) -> None:
        """
        An empty tape (GradientTape makes one on entering its `with` block).
        """
    def _may_give_sparse(self) -> bool:
        """
        (private) Whether a recorded gather could give a source a sparse gradient (tf.IndexedSlices).
        """
    def _sparse_plan(self, targets: list[tapegrad._typing.TensorLike], sources: list[tapegrad._typing.TensorLike]) -> list[bool | None]:
        """
        (private) Per source, whether compute_gradient_sparse(targets, sources) will give it a sparse gradient (True) or a dense one or None (False), or None when a custom gradient's result decides; known before the walk.
        """
    def num_nodes(self) -> int:
        """
        The number of recorded operations still held.
        """
    def watch(self, tensor: tapegrad._typing.TensorLike) -> None:
        """
        Records operations on `tensor` (a Tensor or Variable) from now on.
        """
    def watched_variables(self) -> list[Variable]:
        """
        The variables this tape watches, in the order first watched.
        """
    @property
    def persistent(self) -> bool:
        """
        Whether gradient() may be called more than once.
        """
class Accumulator:
    """
    The engine's record of one ForwardAccumulator: tangents by tensor (private).
    """
    def __init__(self) -> None:
        """
        An accumulator with no tangents.
        """
    def jvp(self, primal: tapegrad._typing.TensorLike) -> Tensor | None:
        """
        The tangent computed for `primal`, or None.
        """
    def num_tangents(self) -> int:
        """
        The number of tensors with a tangent.
        """
    def ops_seen(self) -> list[str]:
        """
        (tests) TF's names of the ops this accumulator computed tangents for.
        """
    def watch(self, primal: tapegrad._typing.TensorLike, tangent: tapegrad._typing.TensorLike) -> None:
        """
        Sets the tangent of `primal` (a Tensor, or a Variable's value); watching twice adds.
        """
class OptimizerRule:
    """
    The update rule of one fused optimizer step: a Keras optimizer and its variant (momentum, nesterov, centered, amsgrad).
    
    Members:
    
      sgd
    
      sgd_momentum
    
      sgd_nesterov
    
      rmsprop
    
      rmsprop_momentum
    
      rmsprop_centered
    
      rmsprop_centered_momentum
    
      adam
    
      adam_amsgrad
    
      adagrad
    
      adadelta
    
      adamax
    
      nadam
    
      ftrl
    
      lion
    
      lamb
    
      adafactor
    """
    __members__: typing.ClassVar[dict[str, OptimizerRule]]
    adadelta: typing.ClassVar[OptimizerRule]
    adafactor: typing.ClassVar[OptimizerRule]
    adagrad: typing.ClassVar[OptimizerRule]
    adam: typing.ClassVar[OptimizerRule]
    adam_amsgrad: typing.ClassVar[OptimizerRule]
    adamax: typing.ClassVar[OptimizerRule]
    ftrl: typing.ClassVar[OptimizerRule]
    lamb: typing.ClassVar[OptimizerRule]
    lion: typing.ClassVar[OptimizerRule]
    nadam: typing.ClassVar[OptimizerRule]
    rmsprop: typing.ClassVar[OptimizerRule]
    rmsprop_centered: typing.ClassVar[OptimizerRule]
    rmsprop_centered_momentum: typing.ClassVar[OptimizerRule]
    rmsprop_momentum: typing.ClassVar[OptimizerRule]
    sgd: typing.ClassVar[OptimizerRule]
    sgd_momentum: typing.ClassVar[OptimizerRule]
    sgd_nesterov: typing.ClassVar[OptimizerRule]
    @typing.overload
    def __eq__(self, other: OptimizerRule) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: OptimizerRule) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class GradientClip:
    """
    Gradient clipping by norm: Keras `clipnorm` or `global_clipnorm`.
    
    Members:
    
      off
    
      clipnorm : each gradient scaled to norm <= clip_norm
    
      global_clipnorm : all gradients scaled to global norm <= clip_norm
    """
    __members__: typing.ClassVar[dict[str, GradientClip]]
    clipnorm: typing.ClassVar[GradientClip]
    global_clipnorm: typing.ClassVar[GradientClip]
    off: typing.ClassVar[GradientClip]
    @typing.overload
    def __eq__(self, other: GradientClip) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: GradientClip) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class OptimizerHyper:
    """
    The hyper-parameters of one optimizer step, by their Keras names; each rule reads the fields its optimizer has (see cpp/optim/rules.h) and ignores the rest. `learning_rate` is this step's value; `local_step` is iterations + 1.
    """
    relative_step: bool
    @typing.overload
    def __init__(self) -> None:
        ...
    @typing.overload
    def __init__(self, *, learning_rate: typing.SupportsFloat | typing.SupportsIndex = 0.0, local_step: typing.SupportsFloat | typing.SupportsIndex = 1.0, momentum: typing.SupportsFloat | typing.SupportsIndex = 0.0, rho: typing.SupportsFloat | typing.SupportsIndex = 0.0, beta_1: typing.SupportsFloat | typing.SupportsIndex = 0.0, beta_2: typing.SupportsFloat | typing.SupportsIndex = 0.0, epsilon: typing.SupportsFloat | typing.SupportsIndex = 0.0, u_product: typing.SupportsFloat | typing.SupportsIndex = 1.0, learning_rate_power: typing.SupportsFloat | typing.SupportsIndex = -0.5, l1_regularization_strength: typing.SupportsFloat | typing.SupportsIndex = 0.0, l2_regularization_strength: typing.SupportsFloat | typing.SupportsIndex = 0.0, l2_shrinkage_regularization_strength: typing.SupportsFloat | typing.SupportsIndex = 0.0, beta: typing.SupportsFloat | typing.SupportsIndex = 0.0, beta_2_decay: typing.SupportsFloat | typing.SupportsIndex = 0.0, epsilon_1: typing.SupportsFloat | typing.SupportsIndex = 0.0, epsilon_2: typing.SupportsFloat | typing.SupportsIndex = 0.0, clip_threshold: typing.SupportsFloat | typing.SupportsIndex = 0.0, relative_step: bool = False) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def beta(self) -> float:
        ...
    @beta.setter
    def beta(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def beta_1(self) -> float:
        ...
    @beta_1.setter
    def beta_1(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def beta_2(self) -> float:
        ...
    @beta_2.setter
    def beta_2(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def beta_2_decay(self) -> float:
        ...
    @beta_2_decay.setter
    def beta_2_decay(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def clip_threshold(self) -> float:
        ...
    @clip_threshold.setter
    def clip_threshold(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def epsilon(self) -> float:
        ...
    @epsilon.setter
    def epsilon(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def epsilon_1(self) -> float:
        ...
    @epsilon_1.setter
    def epsilon_1(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def epsilon_2(self) -> float:
        ...
    @epsilon_2.setter
    def epsilon_2(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def l1_regularization_strength(self) -> float:
        ...
    @l1_regularization_strength.setter
    def l1_regularization_strength(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def l2_regularization_strength(self) -> float:
        ...
    @l2_regularization_strength.setter
    def l2_regularization_strength(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def l2_shrinkage_regularization_strength(self) -> float:
        ...
    @l2_shrinkage_regularization_strength.setter
    def l2_shrinkage_regularization_strength(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def learning_rate(self) -> float:
        ...
    @learning_rate.setter
    def learning_rate(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def learning_rate_power(self) -> float:
        ...
    @learning_rate_power.setter
    def learning_rate_power(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def local_step(self) -> float:
        ...
    @local_step.setter
    def local_step(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def momentum(self) -> float:
        ...
    @momentum.setter
    def momentum(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def rho(self) -> float:
        ...
    @rho.setter
    def rho(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def u_product(self) -> float:
        ...
    @u_product.setter
    def u_product(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class SparseRowState:
    """
    Per variable, between sparse optimizer steps: the rows whose slots may be nonzero (private; See Note [Sparse optimizer step]).
    """
    def __init__(self) -> None:
        """
        An empty state: the first sparse step scans the slots.
        """
    @property
    def num_live(self) -> int:
        """
        How many rows the state knows to hold nonzero slots.
        """
    @property
    def rows_visited(self) -> int:
        """
        How many rows the last sparse step updated.
        """
    @property
    def scans(self) -> int:
        """
        How often the row list was rebuilt from the slots.
        """
    @property
    def valid(self) -> bool:
        """
        False until a step (re)built the row list.
        """
class TracedGraph:
    """
    (private) One tf.function trace: the engine calls to replay.
    """
    def run(self, args: collections.abc.Sequence[tapegrad._typing.TensorLike]) -> list[Tensor]:
        """
        Replays the recorded calls on `args` (tensors of the traced shapes and dtypes).
        """
    def try_run(self, args: tuple) -> list[Tensor] | None:
        """
        Replays the graph when `args` are exactly tensors of the traced dtypes and shapes; None (nothing run) otherwise, or while this thread traces.
        """
    @property
    def node_names(self) -> list[str]:
        """
        The recorded calls in order (for tests and debugging).
        """
    @property
    def poison(self) -> str:
        """
        Why the trace cannot be replayed ('' when it can).
        """
    @property
    def polymorphic(self) -> bool:
        """
        Whether the replay accepts other sizes in the input signature's None dimensions.
        """
    @property
    def replayable(self) -> bool:
        """
        Whether the trace can be replayed (else `poison` says why not).
        """
    @property
    def specialized(self) -> str:
        """
        Why a trace begun as polymorphic holds for its own input shapes only ('' when it does not).
        """
class _CondTrace:
    """
    (private) A tf.cond being traced.
    """
class _WhileTrace:
    """
    (private) A tf.while_loop being traced.
    """
class PausedTrace:
    """
    (private) A trace paused by _trace_pause (tf.init_scope).
    """
def _arg_reduce(x: tapegrad._typing.TensorLike, axis: typing.SupportsInt | typing.SupportsIndex, dtype_code: typing.SupportsInt | typing.SupportsIndex, is_max: bool) -> Tensor:
    """
    (private) The index of the largest (is_max) or smallest value along a normalised `axis`.
    """
def _avg_pool2d(input: tapegrad._typing.TensorLike, ksize: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], strides: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], pads: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    (private) 2-D average pooling over NHWC input (padding excluded from the mean).
    """
def _cholesky(a: tapegrad._typing.TensorLike) -> Tensor:
    """
    (private) The lower Cholesky factor of each positive definite matrix.
    """
def _complex_abs(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    (private) |x| of a complex tensor, in its real dtype.
    """
def _conv2d(input: tapegrad._typing.TensorLike, filters: tapegrad._typing.TensorLike, strides: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], dilations: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], pads: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    (private) 2-D convolution, NHWC input and HWIO filters; pads are (top, bottom, left, right).
    """
def _conv2d_backprop_filter(input: tapegrad._typing.TensorLike, filter_sizes: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], out_backprop: tapegrad._typing.TensorLike, strides: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], dilations: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], pads: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    (private) The gradient of _conv2d with respect to its filters.
    """
def _conv2d_backprop_input(input_sizes: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], filters: tapegrad._typing.TensorLike, out_backprop: tapegrad._typing.TensorLike, strides: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], dilations: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], pads: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    (private) The gradient of _conv2d with respect to its input.
    """
def _copy_probe(a: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], b: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], c: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], d: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> None:
    """
    Bandwidth probe with Adam's streams: reads a, b, c, d, writes a, c, d in place (float32).
    """
def _cores_contended() -> bool:
    """
    (private) Whether the contention probe sees the cores taken.
    """
def _depthwise_conv2d(input: tapegrad._typing.TensorLike, filter: tapegrad._typing.TensorLike, strides: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], dilations: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], pads: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    (private) Depthwise 2-D convolution, NHWC input and HWCM filters.
    """
def _eig(a: tapegrad._typing.TensorLike, compute_v: bool) -> list[Tensor]:
    """
    (private) [e] or [e, v] of each square matrix (complex; a v = v diag(e)).
    """
def _eigh(a: tapegrad._typing.TensorLike) -> tuple[Tensor, Tensor]:
    """
    (private) (eigenvalues ascending, eigenvectors) of each self-adjoint matrix.
    """
def _empty_with_view(shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], dtype_code: typing.SupportsInt | typing.SupportsIndex) -> tuple[Tensor, numpy.ndarray]:
    """
    (private) A new tensor and a writable numpy view of its buffer.
    """
def _exp_linear(x: tapegrad._typing.TensorLike, selu: bool) -> Tensor:
    """
    (private) elu(x), or selu(x) when `selu`.
    """
def _leaky_relu(x: tapegrad._typing.TensorLike, alpha: typing.SupportsFloat | typing.SupportsIndex) -> Tensor:
    """
    (private) x where x > 0, else alpha * x.
    """
def _log_matrix_determinant(a: tapegrad._typing.TensorLike) -> tuple[Tensor, Tensor]:
    """
    (private) (sign, log|det|) of each square matrix.
    """
def _matrix_determinant(a: tapegrad._typing.TensorLike) -> Tensor:
    """
    (private) The determinant of each square matrix.
    """
def _matrix_inverse(a: tapegrad._typing.TensorLike, adjoint: bool) -> Tensor:
    """
    (private) The inverse of each square matrix (of its adjoint when `adjoint`).
    """
def _matrix_logarithm(a: tapegrad._typing.TensorLike) -> Tensor:
    """
    (private) The principal logarithm of each complex square matrix (not recorded).
    """
def _matrix_solve(matrix: tapegrad._typing.TensorLike, rhs: tapegrad._typing.TensorLike, adjoint: bool) -> Tensor:
    """
    (private) x with matrix @ x = rhs.
    """
def _max_pool2d(input: tapegrad._typing.TensorLike, ksize: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], strides: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], pads: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    (private) 2-D max pooling over NHWC input.
    """
def _mpi_allreduce(tensor: Tensor, comm: typing.SupportsInt | typing.SupportsIndex, datatype: typing.SupportsInt | typing.SupportsIndex, op: typing.SupportsInt | typing.SupportsIndex, check_hash: typing.SupportsInt | typing.SupportsIndex, int64_type: typing.SupportsInt | typing.SupportsIndex, max_op: typing.SupportsInt | typing.SupportsIndex, scale: typing.SupportsFloat | typing.SupportsIndex) -> Tensor | None:
    """
    (private) The cross-rank check and the allreduce of one tensor, without the GIL; None when the ranks' checks differ.
    """
def _mpi_bind(allreduce: typing.SupportsInt | typing.SupportsIndex, error_string: typing.SupportsInt | typing.SupportsIndex, wide: bool) -> None:
    """
    (private) The MPI library's MPI_Allreduce and MPI_Error_string, and whether its handles are pointer-sized.
    """
def _op_registry() -> list[dict]:
    """
    (private) The primitive registry: name, TF name, whether it has a vjp/jvp rule, what its nodes save, and whether it is listed as not differentiable.
    """
def _pad_resolved(x: tapegrad._typing.TensorLike, before: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], after: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], value: typing.SupportsFloat | typing.SupportsIndex) -> Tensor:
    """
    (private) x padded by `before`/`after` per dimension with `value`, the sizes taken when the call runs.
    """
def _qr(a: tapegrad._typing.TensorLike, full_matrices: bool) -> tuple[Tensor, Tensor]:
    """
    (private) (q, r) of each matrix.
    """
def _range_traced(start: tapegrad._typing.TensorLike, limit: tapegrad._typing.TensorLike, delta: tapegrad._typing.TensorLike, dtype_code: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    (private) range with bounds computed in a traced function, read when the call runs (See Note [Polymorphic traces]).
    """
def _real_div(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    (private) x / y in x's dtype (no integer promotion).
    """
def _relu_grad(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    (private) The gradient of relu: dy where features > 0.
    """
def _roll_resolved(x: tapegrad._typing.TensorLike, shift: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], axis: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    (private) tf.roll with normalised axes, the shifts reduced modulo the sizes when the call runs.
    """
def _scan(x: tapegrad._typing.TensorLike, axis: typing.SupportsInt | typing.SupportsIndex, exclusive: bool, reverse: bool, prod: bool) -> Tensor:
    """
    (private) The cumulative sum (or product when `prod`) along a normalised `axis`.
    """
def _set_force_double_back(on: bool) -> None:
    """
    (private, tests and benchmarks) Compute every JVP by transposing the op's VJP.
    """
def _set_save_nothing(on: bool) -> None:
    """
    (private, tests) On this thread, recorded nodes keep no tensor data, whatever their rules declare.
    """
def _shape_tensor(x: tapegrad._typing.TensorLike, dtype_code: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    (private) The shape of `x` as a 1-D integer tensor, recorded by a trace (See Note [Polymorphic traces]).
    """
def _sigmoid_grad(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    (private) The gradient of sigmoid from its output y and upstream dy.
    """
def _slice_spec(x: tapegrad._typing.TensorLike, spec: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    (private) x[spec] resolved when the call runs (4 numbers per entry: kind, start, stop, step; See Note [Polymorphic traces]).
    """
def _svd(a: tapegrad._typing.TensorLike, full_matrices: bool, compute_uv: bool) -> list[Tensor]:
    """
    (private) (s, u, v) of each matrix.
    """
def _tanh_grad(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    (private) The gradient of tanh from its output y and upstream gradient dy.
    """
def _trace_abort() -> None:
    """
    (private) Ends this thread's trace, dropping it (the function raised).
    """
def _trace_begin(strict: bool = False, polymorphic: bool = False) -> None:
    """
    (private) Starts a tf.function trace on this thread; strict: what would make it unreplayable raises; polymorphic: the inputs have None dimensions (See Note [Polymorphic traces]).
    """
def _trace_block_abort(dry: bool, why: str) -> None:
    """
    (private) Ends a block whose Python raised: the trace cannot be replayed (`why`).
    """
def _trace_block_begin(builder: _CondTrace | _WhileTrace, which: typing.SupportsInt | typing.SupportsIndex, dry: bool) -> None:
    """
    (private) Records into a branch (0: false, 1: true) of a _CondTrace, or the cond (0) or body (1) of a _WhileTrace; dry: writes are recorded, not done.
    """
def _trace_block_end(builder: _CondTrace | _WhileTrace, which: typing.SupportsInt | typing.SupportsIndex, dry: bool, results: collections.abc.Sequence[tapegrad._typing.TensorLike]) -> None:
    """
    (private) Ends a block begun by _trace_block_begin; `results` are its results.
    """
def _trace_call_paused(fn: collections.abc.Callable) -> typing.Any:
    """
    (private) fn() with this thread's tracing paused (tf.init_scope).
    """
def _trace_cond_begin(pred: tapegrad._typing.TensorLike) -> _CondTrace:
    """
    (private) Starts recording a tf.cond on `pred`.
    """
def _trace_cond_end(builder: _CondTrace, taken: collections.abc.Sequence[tapegrad._typing.TensorLike]) -> list:
    """
    (private) Adds the cond node; returns the results of the branch taken, as the node's outputs.
    """
def _trace_dynamic_dims(tensor: Tensor) -> typing.Any:
    """
    (private) In a polymorphic trace: per dimension of `tensor`, whether it follows the input signature's None dimensions (False: not known). None when this thread traces no polymorphic function.
    """
def _trace_end(outputs: collections.abc.Sequence[tapegrad._typing.TensorLike]) -> TracedGraph:
    """
    (private) Ends this thread's trace; `outputs` are the function's result tensors.
    """
def _trace_host_call(fn: collections.abc.Callable, tensors: collections.abc.Sequence[tapegrad._typing.TensorLike], pure: bool = False, writes: bool = True, shadow: collections.abc.Callable | None = None) -> list:
    """
    (private) fn(*tensors) now; inside a trace, also at every replay (with the GIL). An impure call (pure=False: printing, optimizer steps) is not done in a branch the trace does not take; writes=False: it writes no Variable a tape may read (printing, checks, random draws). shadow(*tensors): stand-ins with the results' shapes for a polymorphic trace's shadow run (See Note [Polymorphic traces]).
    """
def _trace_input(tensor: tapegrad._typing.TensorLike, shadow: Tensor | None = None) -> None:
    """
    (private) Declares `tensor` an input of the trace (bound to the call's argument at replay); `shadow`: the same input with its None dimensions resized, in a polymorphic trace.
    """
def _trace_is_traced(value: tapegrad._typing.TensorLike) -> bool:
    """
    (private) Whether `value` is a Variable or a tensor whose value depends on this thread's trace's inputs.
    """
def _trace_optimizer_step(rule: OptimizerRule, variables: collections.abc.Sequence[Variable], grads: collections.abc.Sequence[tapegrad._typing.TensorLike], slots: list, hyper: OptimizerHyper, iterations: Variable, learning_rate: Variable, weight_decay: typing.SupportsFloat | typing.SupportsIndex, decay_mask: collections.abc.Sequence[bool] | None, clip: GradientClip, clip_norm: typing.SupportsFloat | typing.SupportsIndex, clip_value: typing.SupportsFloat | typing.SupportsIndex) -> bool:
    """
    (private) Records an optimizer step in this thread's trace (See Note [Traced optimizer step]); returns whether the caller should also do the step now (False in a branch the trace does not take).
    """
def _trace_pause() -> PausedTrace:
    """
    (private) Takes this thread's trace off it until _trace_resume (tf.init_scope); a no-op token when the thread does not trace.
    """
def _trace_peek_bool(pred: tapegrad._typing.TensorLike, what: str) -> bool:
    """
    (private) A predicate's value at trace time, read without making the trace unreplayable (the control-flow node reads it again at every replay).
    """
def _trace_poison(why: str) -> None:
    """
    (private) Marks this thread's trace as not replayable (no-op when not tracing).
    """
def _trace_resume(paused: PausedTrace) -> None:
    """
    (private) Puts back a trace taken by _trace_pause; tensors made meanwhile are captured by value.
    """
def _trace_specialize(why: str) -> None:
    """
    (private) This thread's polymorphic trace holds for its own input shapes only.
    """
def _trace_unroll_refusal() -> str:
    """
    (private) Why this thread's last traced tape.gradient was not unrolled into nodes ('' when it was; See Note [Unrolled gradient]).
    """
def _trace_while_begin(loop_vars: collections.abc.Sequence[tapegrad._typing.TensorLike], max_iterations: typing.SupportsInt | typing.SupportsIndex) -> tuple[_WhileTrace, list]:
    """
    (private) Starts recording a tf.while_loop; returns the builder and the loop variables to trace cond and body on.
    """
def _trace_while_end(builder: _WhileTrace, final_values: collections.abc.Sequence[tapegrad._typing.TensorLike]) -> list:
    """
    (private) Adds the loop node; `final_values` are the loop variables after the trace's iterations.
    """
def _traced_shape(shape: tapegrad._typing.ShapeLike) -> Tensor | None:
    """
    (private) In a polymorphic trace, a shape holding tensors computed in the function (a tensor, or a list of ints and scalar tensors) as one int64 tensor made by recorded calls; None otherwise (See Note [Polymorphic traces]).
    """
def _tracing() -> bool:
    """
    (private) Whether this thread is tracing a tf.function.
    """
def _triangular_solve(matrix: tapegrad._typing.TensorLike, rhs: tapegrad._typing.TensorLike, lower: bool, adjoint: bool) -> Tensor:
    """
    (private) x with matrix @ x = rhs for triangular matrices.
    """
def abs(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The absolute value of x, elementwise.
    """
def acos(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The inverse cosine of x, elementwise.
    """
def acosh(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The inverse hyperbolic cosine of x, elementwise.
    """
def add(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x + y, elementwise, with broadcasting.
    """
def angle(input: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The argument of each complex element; 0 or pi for a real tensor.
    """
def any_tape_active() -> bool:
    """
    Whether any tape records on this thread.
    """
def asin(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The inverse sine of x, elementwise.
    """
def asinh(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The inverse hyperbolic sine of x, elementwise.
    """
def atan(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The inverse tangent of x, elementwise.
    """
def atan2(y: tapegrad._typing.TensorLike, x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The angle of the point (x, y): atan(y / x) in the right quadrant (TF's arguments: y, x).
    """
def atanh(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The inverse hyperbolic tangent of x, elementwise.
    """
def broadcast_to(input: tapegrad._typing.TensorLike, shape: tapegrad._typing.ShapeLike, name: str | None = None) -> Tensor:
    """
    `input` broadcast to `shape`, numpy's rules.
    """
def cast(x: tapegrad._typing.TensorLike, dtype_code: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    (private) x cast to the dtype with this code (tapegrad.cast: a DType).
    """
def ceil(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The smallest integer not less than x, elementwise.
    """
def complex(real: tapegrad._typing.TensorLike, imag: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    real + i * imag, elementwise with broadcasting: float32 gives complex64, float64 complex128.
    """
def compute_gradient(tape: Tape, targets: list[tapegrad._typing.TensorLike], sources: list[tapegrad._typing.TensorLike], output_grads: list[tapegrad._typing.TensorLike | None], zero_unconnected: bool, on_source_ready: collections.abc.Callable[[int, Tensor | None], None] | None = None) -> list[Tensor | None]:
    """
    The gradients of sum(targets * output_grads) with respect to each source (None: unconnected).
    """
def compute_gradient_sparse(tape: Tape, targets: list[tapegrad._typing.TensorLike], sources: list[tapegrad._typing.TensorLike], output_grads: list[tapegrad._typing.TensorLike | None], zero_unconnected: bool, on_source_ready: collections.abc.Callable[[int, Tensor | tuple[Tensor, Tensor, list[int]] | None], None] | None = None) -> list[Tensor | tuple[Tensor, Tensor, list[int]] | None]:
    """
    compute_gradient, with a sparse gradient (gather along axis 0) as a (values, indices, dense_shape) tuple.
    """
def compute_jacobian(tape: Tape, target: tapegrad._typing.TensorLike, sources: list[tapegrad._typing.TensorLike], zero_unconnected: bool, batch: bool) -> list[Tensor | None]:
    """
    The jacobian of target with respect to each source (batch: per example over the first axis).
    """
def concat(values: collections.abc.Sequence, axis: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    (private) The tensors joined along a normalised `axis`.
    """
def conj(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The complex conjugate; the identity for real tensors.
    """
def constant(value: tapegrad._typing.TensorLike, dtype_code: int | None = None, shape: tapegrad._typing.ShapeLike | None = None) -> Tensor:
    """
    (private) A new tensor holding `value` (of `shape`), in the dtype with this code (tapegrad's takes a DType).
    """
def convert_to_tensor(value: tapegrad._typing.TensorLike, dtype_code: int | None = None) -> Tensor:
    """
    (private) `value` as a Tensor, in the dtype with this code when given (tapegrad's takes a DType).
    """
def cos(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The cosine of x (radians), elementwise.
    """
def cosh(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The hyperbolic cosine of x, elementwise.
    """
def divide(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x / y, elementwise, with broadcasting; integers divide in float32 (8, 16 bits) or float64, as TF.
    """
def equal(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x == y, elementwise, with broadcasting.
    """
def erf(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The Gauss error function of x, elementwise.
    """
def erfc(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The complementary error function 1 - erf(x), elementwise.
    """
def exp(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    e raised to the power x, elementwise.
    """
def expm1(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    exp(x) - 1, elementwise (accurate for small x).
    """
def fill(dims: tapegrad._typing.ShapeLike, value: tapegrad._typing.TensorLike, dtype_code: int | None = None) -> Tensor:
    """
    (private) A tensor of shape `dims` filled with the scalar `value`.
    """
def floor(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The largest integer not greater than x, elementwise.
    """
def floordiv(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x // y (rounded toward -inf), elementwise, with broadcasting.
    """
def floormod(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x % y (the sign of y), elementwise, with broadcasting.
    """
def from_dlpack_capsule(dlcapsule: typing_extensions.CapsuleType) -> Tensor:
    """
    A Tensor reading a DLPack capsule's memory (zero-copy when contiguous and aligned).
    """
def full(shape: tapegrad._typing.ShapeLike, value: typing.SupportsFloat | typing.SupportsIndex, dtype_code: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    (private) `shape` filled with `value` in the dtype with this code.
    """
def gather(params: tapegrad._typing.TensorLike, indices: tapegrad._typing.TensorLike, axis: typing.SupportsInt | typing.SupportsIndex, batch_dims: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    (private) Slices of params at `indices` along a normalised `axis`.
    """
def gather_nd(params: tapegrad._typing.TensorLike, indices: tapegrad._typing.TensorLike) -> Tensor:
    """
    (private) The slices of params at the index vectors in the last axis of `indices`.
    """
def get_num_threads() -> int:
    """
    The number of threads the engine's kernels use.
    """
def greater(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x > y, elementwise, with broadcasting.
    """
def greater_equal(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x >= y, elementwise, with broadcasting.
    """
def identity(input: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    A tensor with the same value (gradient passes through).
    """
def imag(input: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The imaginary part of a complex tensor; zeros for a real tensor.
    """
def is_accumulator_recording(accumulator: Accumulator) -> bool:
    """
    Whether `accumulator` computes tangents on this thread now.
    """
def is_finite(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    Whether x is finite, elementwise.
    """
def is_inf(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    Whether x is +inf or -inf, elementwise.
    """
def is_nan(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    Whether x is NaN, elementwise.
    """
def is_recording(tape: Tape) -> bool:
    """
    Whether `tape` records on this thread now (not paused by stop_recording).
    """
def less(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x < y, elementwise, with broadcasting.
    """
def less_equal(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x <= y, elementwise, with broadcasting.
    """
def log(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The natural logarithm of x, elementwise.
    """
def log1p(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    log(1 + x), elementwise (accurate for small x).
    """
def log_softmax(logits: tapegrad._typing.TensorLike, axis: int | None = None, name: str | None = None) -> Tensor:
    """
    logits - log(sum(exp(logits))) along `axis` (the last when None).
    """
def logical_and(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x and y, elementwise (bool tensors), with broadcasting.
    """
def logical_not(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    not x, elementwise (bool tensors).
    """
def logical_or(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x or y, elementwise (bool tensors), with broadcasting.
    """
def matmul(a: tapegrad._typing.TensorLike, b: tapegrad._typing.TensorLike, transpose_a: bool = False, transpose_b: bool = False, adjoint_a: bool = False, adjoint_b: bool = False, a_is_sparse: bool = False, b_is_sparse: bool = False, name: str | None = None) -> Tensor:
    """
    The matrix product a @ b over the last two axes (batch axes broadcast).
    """
def maximum(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The larger of x and y, elementwise, with broadcasting.
    """
def minimum(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The smaller of x and y, elementwise, with broadcasting.
    """
def multiply(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x * y, elementwise, with broadcasting.
    """
def negative(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    -x, elementwise.
    """
def not_equal(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x != y, elementwise, with broadcasting.
    """
def optimizer_accumulate(accumulators: collections.abc.Sequence[Variable], grads: collections.abc.Sequence[tapegrad._typing.TensorLike]) -> None:
    """
    acc += g for every pair (gradient accumulation).
    """
def optimizer_ema_update(variables: collections.abc.Sequence[Variable], averages: collections.abc.Sequence[Variable], momentum: typing.SupportsFloat | typing.SupportsIndex) -> None:
    """
    averages = momentum * averages + (1 - momentum) * variables, for every pair (use_ema).
    """
def optimizer_sparse_rows_only(rule: OptimizerRule) -> bool:
    """
    Whether optimizer_sparse_step with `rule` touches only the rows in the slices.
    """
def optimizer_sparse_step(rule: OptimizerRule, variables: collections.abc.Sequence[Variable], values: collections.abc.Sequence[tapegrad._typing.TensorLike], indices: collections.abc.Sequence[tapegrad._typing.TensorLike], slots: list, hyper: OptimizerHyper, *, clip: GradientClip = GradientClip.off, clip_norm: typing.SupportsFloat | typing.SupportsIndex = 0.0, clip_value: typing.SupportsFloat | typing.SupportsIndex = 0.0, decay: typing.SupportsFloat | typing.SupportsIndex = 0.0, decay_mask: collections.abc.Sequence[bool] | None = None, ema: collections.abc.Sequence[Variable] | None = None, ema_momentum: typing.SupportsFloat | typing.SupportsIndex = 0.0, ema_overwrite: bool = False, states: collections.abc.Sequence[SparseRowState] = []) -> None:
    """
    One optimizer step with IndexedSlices gradients (values[i], indices[i] per variable), as Keras 3
    applies them on TF (See Note [Sparse optimizer step]): SGD and Adagrad touch only the rows in the
    slices; the other rules decay every row as Keras does, visiting only the rows whose slots are nonzero
    when `states` (one SparseRowState per variable, kept between steps) are given. Options as optimizer_step (clip=clipnorm and
    clip_value act on the slice values; global_clipnorm and accumulation are rejected: Keras densifies
    there). Raises InvalidArgumentError on mismatched shapes or out-of-range indices before any write.
    """
def optimizer_sparse_supported(rule: OptimizerRule) -> bool:
    """
    Whether `rule` has a sparse kernel (Lamb and Adafactor densify).
    """
def optimizer_step(rule: OptimizerRule, variables: collections.abc.Sequence[Variable], grads: collections.abc.Sequence[tapegrad._typing.TensorLike], slots: list, hyper: OptimizerHyper, *, clip: GradientClip = GradientClip.off, clip_norm: typing.SupportsFloat | typing.SupportsIndex = 0.0, clip_value: typing.SupportsFloat | typing.SupportsIndex = 0.0, decay: typing.SupportsFloat | typing.SupportsIndex = 0.0, decay_mask: collections.abc.Sequence[bool] | None = None, accumulators: collections.abc.Sequence[Variable] | None = None, accum_scale: typing.SupportsFloat | typing.SupportsIndex = 1.0, ema: collections.abc.Sequence[Variable] | None = None, ema_momentum: typing.SupportsFloat | typing.SupportsIndex = 0.0, ema_overwrite: bool = False, grad_squares: collections.abc.Sequence[Tensor] | None = None) -> None:
    """
    One fused optimizer step over all variables (Keras's BaseOptimizer.apply in one pass).
    
    rule: an OptimizerRule; slots: one list per slot the rule keeps (momentum, velocity, ...), each
    with one variable per entry of `variables`; hyper: an OptimizerHyper. Keyword-only options, in
    the order Keras applies them: gradient accumulation (`accumulators` of the gradient_accumulation
    steps, `accum_scale` = 1 / steps), clipping (`clip` with `clip_norm`; `clip_value` > 0 clips
    each element), decoupled weight decay (`decay` = weight_decay * learning_rate on the variables
    whose `decay_mask` entry is true), then the rule, then the moving averages (`ema` updated with
    `ema_momentum`, copied into the variables when `ema_overwrite`). `grad_squares` (Lamb, Adafactor):
    per variable the per-element sums of the squared IndexedSlices entries, used where the rule squares
    the gradient, as Keras (no clipping or accumulation with it). Raises InvalidArgumentError on
    mismatched lists, dtypes or shapes, before any variable changes.
    """
def optimizer_sum_squares(tensors: collections.abc.Sequence[tapegrad._typing.TensorLike]) -> list[float]:
    """
    Per-tensor sums of squares in double, over fixed blocks (deterministic).
    """
def pad_constant(x: tapegrad._typing.TensorLike, before: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], value: typing.SupportsFloat | typing.SupportsIndex) -> Tensor:
    """
    (private) x placed at offset `before` in a tensor of `shape` filled with `value`.
    """
def pop_accumulator(accumulator: Accumulator) -> None:
    """
    Stops `accumulator` computing tangents on this thread (ForwardAccumulator.__exit__).
    """
def pop_tape(tape: Tape) -> None:
    """
    Stops `tape` recording on this thread (GradientTape.__exit__).
    """
def pow(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x ** y, elementwise, with broadcasting.
    """
def push_accumulator(accumulator: Accumulator) -> None:
    """
    Makes `accumulator` compute tangents on this thread (ForwardAccumulator.__enter__).
    """
def push_tape(tape: Tape) -> None:
    """
    Makes `tape` record on this thread (GradientTape.__enter__).
    """
def range(start: typing.SupportsFloat | typing.SupportsIndex, limit: typing.SupportsFloat | typing.SupportsIndex, delta: typing.SupportsFloat | typing.SupportsIndex, dtype_code: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    (private) start, start + delta, ... up to (not including) limit, in the dtype with this code.
    """
def real(input: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The real part of a complex tensor; a real tensor itself.
    """
def reciprocal(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    1 / x, elementwise.
    """
def record_custom_gradient(inputs: list[tapegrad._typing.TensorLike], outputs: list[tapegrad._typing.TensorLike], backward: collections.abc.Callable[[list[Tensor]], collections.abc.Iterable[tapegrad._typing.TensorLike | None]]) -> list[Tensor]:
    """
    Copies of outputs, recorded as one op of inputs whose gradient backward(output gradients) gives.
    """
def reduce_all(input_tensor: tapegrad._typing.TensorLike, axis: tapegrad._typing.AxisLike = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """
    Logical and over `axis` (all axes when None) of a bool tensor.
    """
def reduce_any(input_tensor: tapegrad._typing.TensorLike, axis: tapegrad._typing.AxisLike = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """
    Logical or over `axis` (all axes when None) of a bool tensor.
    """
def reduce_max(input_tensor: tapegrad._typing.TensorLike, axis: tapegrad._typing.AxisLike = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """
    The maximum over `axis` (all axes when None).
    """
def reduce_mean(input_tensor: tapegrad._typing.TensorLike, axis: tapegrad._typing.AxisLike = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """
    The mean over `axis` (all axes when None).
    """
def reduce_min(input_tensor: tapegrad._typing.TensorLike, axis: tapegrad._typing.AxisLike = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """
    The minimum over `axis` (all axes when None).
    """
def reduce_prod(input_tensor: tapegrad._typing.TensorLike, axis: tapegrad._typing.AxisLike = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """
    The product over `axis` (all axes when None).
    """
def reduce_sum(input_tensor: tapegrad._typing.TensorLike, axis: tapegrad._typing.AxisLike = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """
    The sum over `axis` (all axes when None).
    """
def relu(features: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    max(features, 0), elementwise.
    """
def relu6(features: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    min(max(features, 0), 6), elementwise.
    """
def reshape(tensor: tapegrad._typing.TensorLike, shape: tapegrad._typing.ShapeLike, name: str | None = None) -> Tensor:
    """
    The same values in a new shape (one dimension may be -1: inferred).
    """
def round(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x rounded to the nearest integer, half to even, elementwise.
    """
def rsqrt(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    1 / sqrt(x), elementwise.
    """
def scatter_nd(indices: tapegrad._typing.TensorLike, updates: tapegrad._typing.TensorLike, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    (private) Zeros of `shape` with `updates` added at `indices`.
    """
def set_num_threads(n: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Sets the number of threads the engine's kernels use.
    """
def sigmoid(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    1 / (1 + exp(-x)), elementwise.
    """
def sigmoid_cross_entropy_with_logits(labels: tapegrad._typing.TensorLike | None = None, logits: tapegrad._typing.TensorLike | None = None, name: str | None = None) -> Tensor:
    """
    The elementwise cross entropy between labels in [0, 1] and sigmoid(logits).
    """
def sign(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    -1, 0 or 1 by the sign of x, elementwise.
    """
def simd_isa() -> str:
    """
    The SIMD kernels this CPU runs: "avx512", "avx2" or "none".
    """
def sin(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The sine of x (radians), elementwise.
    """
def sinh(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The hyperbolic sine of x, elementwise.
    """
def softmax(logits: tapegrad._typing.TensorLike, axis: int | None = None, name: str | None = None) -> Tensor:
    """
    exp(logits) / sum(exp(logits)) along `axis` (the last when None).
    """
def softmax_cross_entropy_with_logits(labels: tapegrad._typing.TensorLike, logits: tapegrad._typing.TensorLike, axis: int | None = -1, name: str | None = None) -> Tensor:
    """
    The cross entropy between label distributions and softmax(logits) along `axis`.
    """
def softplus(features: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    log(exp(features) + 1), elementwise.
    """
def sparse_softmax_cross_entropy_with_logits(labels: tapegrad._typing.TensorLike | None = None, logits: tapegrad._typing.TensorLike | None = None, name: str | None = None) -> Tensor:
    """
    The cross entropy between integer class labels and softmax(logits) over the last axis.
    """
def sqrt(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The square root of x, elementwise.
    """
def square(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x * x, elementwise.
    """
def squared_difference(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    (x - y) ** 2, elementwise, with broadcasting.
    """
def stop_gradient(input: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The same value, with no gradient flowing back through it.
    """
def strided_slice(x: tapegrad._typing.TensorLike, begin: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], strides: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], size: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    """
    (private) The slice of x from `begin` with `strides`, `size` elements per axis.
    """
def subtract(x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    x - y, elementwise, with broadcasting.
    """
def tan(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The tangent of x (radians), elementwise.
    """
def tanh(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:
    """
    The hyperbolic tangent of x, elementwise.
    """
def tensor_scatter_nd_add(tensor: tapegrad._typing.TensorLike, indices: tapegrad._typing.TensorLike, updates: tapegrad._typing.TensorLike) -> Tensor:
    """
    (private) A copy of tensor with `updates` added at `indices`.
    """
def tensor_scatter_nd_update(tensor: tapegrad._typing.TensorLike, indices: tapegrad._typing.TensorLike, updates: tapegrad._typing.TensorLike) -> Tensor:
    """
    (private) A copy of tensor with the slices at `indices` replaced by `updates`.
    """
def transpose(a: tapegrad._typing.TensorLike, perm: tapegrad._typing.ShapeLike | None = None, conjugate: bool = False, name: str | None = None) -> Tensor:
    """
    Permutes the axes by `perm` (reverses them when None); `conjugate` also conjugates complex values.
    """
def unsorted_segment_sum(data: tapegrad._typing.TensorLike, segment_ids: tapegrad._typing.TensorLike, num_segments: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    (private) Row sums of data [M, I] by segment id [M] into [num_segments, I].
    """
def unstack(x: tapegrad._typing.TensorLike, axis: typing.SupportsInt | typing.SupportsIndex) -> list[Tensor]:
    """
    (private) The slices of x along a normalised `axis`, as a list.
    """
def where3(condition: tapegrad._typing.TensorLike, x: tapegrad._typing.TensorLike, y: tapegrad._typing.TensorLike) -> Tensor:
    """
    (private) x where condition is true, else y (broadcasting).
    """
def where_indices(condition: tapegrad._typing.TensorLike) -> Tensor:
    """
    (private) The coordinates [N, rank] of the true elements of `condition`.
    """
def zeros(shape: tapegrad._typing.ShapeLike, dtype_code: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    (private) Zeros of `shape` in the dtype with this code.
    """
__version__: str = '0.1.0'
