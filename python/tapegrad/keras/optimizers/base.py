"""The Keras 3 optimizer pipeline (BaseOptimizer.apply), with the whole step in one C++ call."""

import inspect
import itertools
import operator
import re
import threading
import warnings
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from ... import _core, _restore_hooks
from ..._indexed_slices import IndexedSlices
from ..._ops import convert_to_tensor
from ..._tensor import StateVariable, Tensor, Variable
from . import schedules as _schedules

if TYPE_CHECKING:
    from ..._tape import GradientTape


def _hyper(**fields):
    """This step's ``_core.OptimizerHyper`` with ``fields`` (Keras names) set; the others keep their
    defaults. Built field by field: per step that is cheaper than the binding's keyword constructor."""
    h = _core.OptimizerHyper()
    for name, value in fields.items():
        setattr(h, name, value)
    return h


# The fields of _core.OptimizerHyper (a traced step checks which ones depend on the step).
_HYPER_FIELDS = (
    "learning_rate",
    "local_step",
    "momentum",
    "rho",
    "beta_1",
    "beta_2",
    "epsilon",
    "u_product",
    "learning_rate_power",
    "l1_regularization_strength",
    "l2_regularization_strength",
    "l2_shrinkage_regularization_strength",
    "beta",
    "beta_2_decay",
    "epsilon_1",
    "epsilon_2",
    "clip_threshold",
    "relative_step",
)


class Optimizer:
    """Base class of the Keras 3 optimizers (``tg.keras.optimizers.Optimizer``).

    ``apply_gradients`` / ``apply`` follow Keras's step order: build on first use, filter ``None``
    gradients (warning; all ``None`` is an error), unscale by ``loss_scale_factor``, gradient
    accumulation, clipping (``clipnorm`` / ``clipvalue`` / ``global_clipnorm``), decoupled weight
    decay, the update rule, EMA, ``iterations += 1``. Everything after the filtering runs in one
    fused C++ call over all variables (See Note [Step pipeline] in cpp/optim/pipeline.h).

    State: ``variables`` lists ``iterations``, the learning rate (when it is a float) and every
    slot, EMA average and accumulator, in a fixed order. ``save_own_variables(store)`` writes them
    into a dict as ``store["0"], store["1"], ...`` and ``load_own_variables(store)`` reads them
    back (Keras's names); ``tg.keras.optimizers.save_training_state(path, optimizer, variables)``
    and ``load_training_state(path, optimizer, variables)`` store the model variables and the
    optimizer state together in one ``.npz`` file, so training resumes bit-identically.

    Subclasses set ``_slot_names`` (and ``_slot_init``) and implement ``_step_args(lr, t)``,
    which returns the C++ kernel name and its hyper-parameters for step ``t = iterations + 1``.

    >>> import tapegrad as tg
    >>> v = tg.Variable([1.0, 2.0])
    >>> opt = tg.keras.optimizers.Adam(learning_rate=0.1)
    >>> _ = opt.apply_gradients([(tg.constant([0.5, -0.5]), v)])
    >>> [round(x, 4) for x in v.numpy().tolist()]
    [0.9, 2.1]
    """

    _slot_names: tuple[str, ...] = ()
    _slot_init: dict = {}

    def __init__(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.", stacklevel=2)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        self.name = name if name is not None else _auto_name(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.global_clipnorm = global_clipnorm
        self.clipvalue = clipvalue
        self.use_ema = use_ema
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        if gradient_accumulation_steps:
            if not gradient_accumulation_steps >= 2:
                raise ValueError(
                    "`gradient_accumulation_steps` must be an integer >= 2. Received: "
                    f"gradient_accumulation_steps={gradient_accumulation_steps}"
                )
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency and (
                not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1
            ):
                raise ValueError(
                    "`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                    f"ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        self.built = False
        self._step_lock = threading.RLock()  # See the concurrency note in `apply`
        self._iterations = StateVariable(np.int64(0), name="iteration", trainable=False)
        self._learning_rate = None
        self._set_learning_rate(learning_rate, initial=True)
        self._trainable_variables = []
        self._index = {}
        self._range = []
        self._slots = {}
        self._extra_variables = []  # per-optimizer scalars (Nadam's u_product)
        self._ema = []
        self._accumulators = []
        self._decay_mask = []
        self._exclude_ids = set()
        self._exclude_pattern = None

    # --- learning rate ----------------------------------------------------------------------------
    def _set_learning_rate(self, lr, initial=False):
        if isinstance(lr, _schedules.LearningRateSchedule) or callable(lr):
            self._learning_rate = lr
            self._lr_takes_step = isinstance(lr, _schedules.LearningRateSchedule) or _takes_argument(lr)
            return
        if not initial and isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                "constructor argument, hence its learning rate is not settable. If you need the learning rate "
                "to be settable, you should instantiate the optimizer with a float `learning_rate` argument."
            )
        if isinstance(lr, (Tensor, Variable)) and lr.dtype.is_floating and lr.shape.rank == 0:
            lr = float(lr)
        elif isinstance(lr, np.floating) and np.ndim(lr) == 0:
            lr = float(lr)
        if not isinstance(lr, float):
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, or a callable "
                "(that takes in the current iteration value and returns the corresponding learning rate value). "
                f"Received instead: learning_rate={lr}"
            )
        if isinstance(self._learning_rate, Variable):
            self._learning_rate.assign(np.float32(lr))
        else:  # stored as a float32 variable, as in Keras
            self._learning_rate = StateVariable(np.float32(lr), name="learning_rate", trainable=False)

    def _lr_value(self, raw_iterations):
        lr = self._learning_rate
        if isinstance(lr, Variable):
            return lr._item()
        value = lr(raw_iterations) if self._lr_takes_step else lr()
        return float(value)

    @property
    def learning_rate(self) -> Any:
        """The current learning rate, settable. As in Keras: the float32 learning-rate Variable
        (``opt.learning_rate.assign(0.1)`` works), or a schedule's value at ``iterations``."""
        lr = self._learning_rate
        if isinstance(lr, Variable):
            return lr
        value = lr(self._raw_iterations()) if self._lr_takes_step else lr()
        return value if isinstance(value, Tensor) else _float_tensor(value)

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        self._set_learning_rate(value)

    # --- state ------------------------------------------------------------------------------------
    def _raw_iterations(self):
        return int(self._iterations._item())

    @property
    def iterations(self) -> Any:
        """Number of update steps taken (a Variable; with gradient accumulation, calls // N)."""
        if self.gradient_accumulation_steps:
            return _int_tensor(self._raw_iterations() // self.gradient_accumulation_steps)
        return self._iterations

    @property
    def variables(self) -> list[Variable]:
        """Every state variable: iterations, learning rate (if a float), slots, extras, EMA, accumulators."""
        out = [self._iterations]
        if isinstance(self._learning_rate, Variable):
            out.append(self._learning_rate)
        for name in self._slot_names:
            out.extend(self._slots.get(name, []))
        out.extend(self._extra_variables)
        out.extend(self._ema)
        out.extend(self._accumulators)
        return out

    def build(self, var_list: Sequence[Variable]) -> None:
        """Creates the optimizer's variables (slots, EMA averages, accumulators) for `var_list`."""
        if self.built:
            return
        var_list = list(var_list)
        for v in var_list:
            if not isinstance(v, Variable) and not isinstance(v, _core.Variable):
                raise ValueError(f"Optimizer.build expects Variables, got {type(v).__name__}")
        self._trainable_variables = var_list
        self._index = {id(v): i for i, v in enumerate(var_list)}
        self._range = list(range(len(var_list)))
        self._build_slots(var_list)
        if self.use_ema:
            self._ema = [self._zeros_like(v, "average") for v in var_list]
        if self.gradient_accumulation_steps:
            self._accumulators = [self._zeros_like(v, "gradient_accumulator") for v in var_list]
        self._decay_mask = [self._use_weight_decay(v) for v in var_list]
        self.built = True
        _restore_hooks.notify(self)  # deferred restoration of slots (tapegrad/_restore_hooks.py)

    def _build_slots(self, var_list):
        for name in self._slot_names:
            init = self._slot_init.get(name, 0.0)
            self._slots[name] = [self._zeros_like(v, name, init) for v in var_list]

    @staticmethod
    def _zeros_like(var, slot_name, value=0.0, shape=None):
        dtype = var.dtype.as_numpy_dtype
        shape = tuple(var.shape) if shape is None else tuple(shape)
        return StateVariable(
            np.full(shape, value, dtype=dtype), name=f"{slot_name}/{var._shared_name}", trainable=False
        )

    def exclude_from_weight_decay(
        self, var_list: Optional[Sequence[Variable]] = None, var_names: Optional[Sequence[str]] = None
    ) -> None:
        """Excludes variables (objects, or names containing any of `var_names`) from weight decay.
        Must be called before the optimizer is built."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._exclude_ids = {id(v) for v in var_list} if var_list else set()
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        if self._exclude_pattern is not None and re.search(self._exclude_pattern, variable.name) is not None:
            return False
        return True

    # --- apply ------------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Variable]]) -> Variable:
        """Applies gradients to variables; returns `iterations`."""
        given_sequence = isinstance(grads_and_vars, (list, tuple))
        grads_and_vars = list(grads_and_vars)
        if not grads_and_vars:
            if not given_sequence:  # an exhausted generator: Keras's zip(*...) unpacking fails here
                raise ValueError(
                    "not enough values to unpack (expected 2, got 0): `grads_and_vars` yielded no "
                    "(gradient, variable) pairs (was the generator already consumed?)"
                )
            return self._iterations
        grads, variables = zip(*grads_and_vars)
        self.apply(list(grads), list(variables))
        return self._iterations

    def apply(self, grads: Sequence[Any], trainable_variables: Optional[Sequence[Variable]] = None) -> None:
        """Updates `trainable_variables` (default: the variables the optimizer was built with).

        Threads: one optimizer's steps are serialised (a lock per optimizer), so several Python
        threads may call ``apply_gradients`` on it; each step sees the slots the previous one left.
        """
        if _core._tracing():
            return self._apply_traced(list(grads), trainable_variables)
        with self._step_lock:
            self._apply_locked(list(grads), trainable_variables)

    def _apply_traced(self, grads, trainable_variables):
        """apply() inside a traced tf.function. A step whose hyper-parameters depend only on
        `iterations` and the learning-rate Variable becomes one C++ node (See Note [Traced
        optimizer step] in bindings/optim.cpp); any other step (schedules, EMA, accumulation, loss
        scaling, sparse gradients, missing gradients) is a host call: its Python runs again at every
        replay, on that call's gradients (See Note [Traced functions])."""
        if self._record_traced_step(grads, trainable_variables):
            return
        kinds, flat = [], []
        for g in grads:
            if g is None:
                kinds.append(None)
            elif type(g) is IndexedSlices:
                kinds.append(g.dense_shape)
                flat += [convert_to_tensor(g.values), convert_to_tensor(g.indices)]
            else:
                kinds.append(False)
                flat.append(convert_to_tensor(g))

        def step(*tensors):
            it = iter(tensors)
            rebuilt = [
                None if k is None else next(it) if k is False else IndexedSlices(next(it), next(it), k) for k in kinds
            ]
            with self._step_lock:
                self._apply_locked(rebuilt, trainable_variables)

        _core._trace_host_call(step, flat)

    def _apply_locked(self, grads, trainable_variables):
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be built "
                    "on a list of variables. Call `optimizer.build(trainable_variables)` first."
                )
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(
                f"Got {len(grads)} gradients for {len(trainable_variables)} variables; "
                "the two lists must have the same length."
            )
        if not trainable_variables:
            return
        if not self.built:
            self.build(trainable_variables)
        idx = list(map(self._index.get, map(id, trainable_variables)))  # C-level loops: cheap per variable
        if None in idx:
            v = trainable_variables[idx.index(None)]
            raise ValueError(
                f"Unknown variable: {v!r}. This optimizer can only be called for the variables it was originally "
                "built with. When working with a new set of variables, you should recreate a new optimizer "
                "instance."
            )
        if any(map(operator.is_, grads, itertools.repeat(None))):
            if all(g is None for g in grads):
                raise ValueError("No gradients provided for any variable.")
            missing = [v.name for g, v in zip(grads, trainable_variables) if g is None]
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. If using "
                "`model.compile()`, did you forget to provide a `loss` argument?",
                UserWarning,
                stacklevel=2,
            )
            keep = [k for k, g in enumerate(grads) if g is not None]
            grads = [grads[k] for k in keep]
            trainable_variables = [trainable_variables[k] for k in keep]
            idx = [idx[k] for k in keep]
        self._apply_step(grads, trainable_variables, idx)

    def _record_traced_step(self, grads, trainable_variables):
        """Records the step as a C++ node and does it now (once, for the trace's result); False when
        the step is not one (the caller makes it a host call)."""
        cls = type(self)
        if (
            any(g is None or type(g) is IndexedSlices for g in grads)
            or not isinstance(self._learning_rate, Variable)
            or self.gradient_accumulation_steps
            or self.use_ema
            or self.loss_scale_factor is not None
            or cls._after_step is not Optimizer._after_step
            or cls._apply_step is not Optimizer._apply_step
            or cls._apply_locked is not Optimizer._apply_locked
        ):
            return False
        variables = list(self._trainable_variables if trainable_variables is None else trainable_variables)
        if len(grads) != len(variables) or not variables:
            return False
        if not self.built:  # build now (its variables are made outside the trace, as TF's init_scope)
            _core._trace_call_paused(lambda: self.build(variables))
        idx = [self._index.get(id(v)) for v in variables]
        if None in idx:
            return False
        (rule, hyper), (rule2, other) = self._step_args(0.5, 3), self._step_args(0.25, 7)
        fixed = [f for f in _HYPER_FIELDS if f not in ("learning_rate", "local_step")]
        if (
            rule != rule2
            or hyper.learning_rate != 0.5
            or other.learning_rate != 0.25
            or any(getattr(hyper, f) != getattr(other, f) for f in fixed)
        ):
            return False  # a hyper-parameter computed in Python from the step: a host call
        full = idx == self._range
        clip, clip_norm, clip_value = _core.GradientClip.off, 0.0, 0.0
        if self.clipnorm and self.clipnorm > 0:
            clip, clip_norm = _core.GradientClip.clipnorm, float(self.clipnorm)
        elif self.global_clipnorm and self.global_clipnorm > 0:
            clip, clip_norm = _core.GradientClip.global_clipnorm, float(self.global_clipnorm)
        elif self.clipvalue and self.clipvalue > 0:
            clip_value = float(self.clipvalue)
        wd = self.weight_decay
        grads = [convert_to_tensor(g) for g in grads]
        now = _core._trace_optimizer_step(
            rule,
            variables,
            grads,
            [self._pick(self._slots[n], idx, full) for n in self._kernel_slots(rule)],
            hyper,
            self._iterations,
            self._learning_rate,
            0.0 if wd is None else float(wd),
            None if wd is None else self._pick(self._decay_mask, idx, full),
            clip,
            clip_norm,
            clip_value,
        )
        if now:  # the trace's own step, eagerly (the node is what replays run)
            _core._trace_call_paused(lambda: self._apply_step_locked(grads, variables, idx))
        return True

    def _apply_step_locked(self, grads, variables, idx):
        with self._step_lock:
            self._apply_step(grads, variables, idx)

    def _pick(self, lst, idx, full):
        return lst if full else [lst[i] for i in idx]

    def _apply_step(self, grads, variables, idx, clip_done=False, unscaled=False, grad_squares=None):
        full = idx == self._range
        raw = self._raw_iterations()
        steps = self.gradient_accumulation_steps
        it = raw // steps if steps else raw
        if self.loss_scale_factor is not None and not unscaled:
            grads = [_unscale(g, self.loss_scale_factor) for g in grads]
        if any(type(g) is IndexedSlices for g in grads):
            return self._apply_sparse_step(grads, variables, idx)
        ema_on = self.use_ema
        ema_mom = float(self.ema_momentum) if it != 0 else 0.0
        overwrite = bool(ema_on and self.ema_overwrite_frequency and (it + 1) % self.ema_overwrite_frequency == 0)
        if steps and (raw + 1) % steps != 0:
            _core.optimizer_accumulate(self._pick(self._accumulators, idx, full), grads)
            if ema_on:
                _core.optimizer_ema_update(self._trainable_variables, self._ema, ema_mom)
                if overwrite:
                    self._overwrite_with_ema(self._trainable_variables)
            self._iterations._assign_add(1)
            return
        lr = self._lr_value(raw)
        rule, hyper = self._step_args(lr, it + 1)
        opts = {}  # the step's options (keyword-only); the ones left out keep the binding's defaults
        if clip_done:  # the caller clipped (sparse gradients: See _apply_sparse_step)
            pass
        elif self.clipnorm and self.clipnorm > 0:
            opts.update(clip=_core.GradientClip.clipnorm, clip_norm=float(self.clipnorm))
        elif self.global_clipnorm and self.global_clipnorm > 0:
            opts.update(clip=_core.GradientClip.global_clipnorm, clip_norm=float(self.global_clipnorm))
        elif self.clipvalue and self.clipvalue > 0:
            opts.update(clip_value=float(self.clipvalue))
        if self.weight_decay is not None:
            opts.update(decay=float(self.weight_decay) * lr, decay_mask=self._pick(self._decay_mask, idx, full))
        if steps:
            opts.update(accumulators=self._pick(self._accumulators, idx, full), accum_scale=1.0 / steps)
        if grad_squares is not None:
            opts.update(grad_squares=grad_squares)
        if ema_on:
            opts.update(ema=self._pick(self._ema, idx, full), ema_momentum=ema_mom, ema_overwrite=overwrite)
        slots = [self._pick(self._slots[n], idx, full) for n in self._kernel_slots(rule)]
        _core.optimizer_step(rule, variables, grads, slots, hyper, **opts)
        self._after_step()
        if ema_on and not full:  # Keras averages every trainable variable, updated or not
            rest = sorted(set(self._range) - set(idx))
            rv = [self._trainable_variables[i] for i in rest]
            _core.optimizer_ema_update(rv, [self._ema[i] for i in rest], ema_mom)
            if overwrite:
                self._overwrite_with_ema(rv, rest)
        self._iterations._assign_add(1)

    def _apply_sparse_step(self, grads, variables, idx):
        """A step with tf.IndexedSlices among the gradients, as Keras 3 applies them on TF (See Note
        [Sparse optimizer step] in cpp/optim/sparse_step.cpp): the sparse ones go through the fused
        sparse kernel (SGD and Adagrad touch only the rows in the slices), the dense ones through the
        dense step. Where Keras densifies first (gradient accumulation, global_clipnorm, and Lamb and
        Adafactor here) the slices are summed per row first."""
        steps = self.gradient_accumulation_steps
        rule, _ = self._step_args(self._lr_value(self._raw_iterations()), 1)
        global_clip = not (self.clipnorm and self.clipnorm > 0) and self.global_clipnorm and self.global_clipnorm > 0
        if global_clip:
            # Keras's clip_by_global_norm: the norm of the slices' values, then v * scale densifies.
            grads = _scale_by_global_norm(grads, float(self.global_clipnorm))
        if steps or global_clip:
            return self._apply_step(
                [_densify(g) for g in grads], variables, idx, clip_done=bool(global_clip), unscaled=True
            )
        if not _core.optimizer_sparse_supported(rule):
            # Lamb, Adafactor: the dense step, with the slices clipped as Keras clips them and the
            # per-element sums of their squares where the rule squares the gradient
            grads = [self._clip_as_keras(g) for g in grads]
            squares = [_squares(g) for g in grads]
            return self._apply_step(
                [_densify(g) for g in grads], variables, idx, clip_done=True, unscaled=True, grad_squares=squares
            )
        full = idx == self._range
        raw = self._raw_iterations()
        it = raw
        ema_on = self.use_ema
        ema_mom = float(self.ema_momentum) if it != 0 else 0.0
        overwrite = bool(ema_on and self.ema_overwrite_frequency and (it + 1) % self.ema_overwrite_frequency == 0)
        lr = self._lr_value(raw)
        rule, hyper = self._step_args(lr, it + 1)
        sparse_at = [k for k, g in enumerate(grads) if type(g) is IndexedSlices]
        dense_at = [k for k, g in enumerate(grads) if type(g) is not IndexedSlices]
        opts = {}
        if self.clipnorm and self.clipnorm > 0:
            opts.update(clip=_core.GradientClip.clipnorm, clip_norm=float(self.clipnorm))
        elif self.clipvalue and self.clipvalue > 0:
            opts.update(clip_value=float(self.clipvalue))
        names = self._kernel_slots(rule)
        for group, fn in ((dense_at, _core.optimizer_step), (sparse_at, None)):
            if not group:
                continue
            gidx = [idx[k] for k in group]
            gvars = [variables[k] for k in group]
            gopts = dict(opts)
            if self.weight_decay is not None:
                gopts.update(decay=float(self.weight_decay) * lr, decay_mask=[self._decay_mask[i] for i in gidx])
            if ema_on:
                gopts.update(ema=[self._ema[i] for i in gidx], ema_momentum=ema_mom, ema_overwrite=overwrite)
            slots = [[self._slots[n][i] for i in gidx] for n in names]
            if fn is not None:
                fn(rule, gvars, [grads[k] for k in group], slots, hyper, **gopts)
            else:
                values = [_as_dtype(grads[k].values, variables[k]) for k in group]
                indices = [grads[k].indices for k in group]
                states = self.__dict__.setdefault("_sparse_states", {})
                gstates = [states.setdefault(i, _core.SparseRowState()) for i in gidx]
                _core.optimizer_sparse_step(rule, gvars, values, indices, slots, hyper, states=gstates, **gopts)
        self._after_step()
        if ema_on and not full:
            rest = sorted(set(self._range) - set(idx))
            rv = [self._trainable_variables[i] for i in rest]
            _core.optimizer_ema_update(rv, [self._ema[i] for i in rest], ema_mom)
            if overwrite:
                self._overwrite_with_ema(rv, rest)
        self._iterations._assign_add(1)

    def _clip_as_keras(self, g):
        from ..._ops_math import clip_by_norm, clip_by_value  # noqa: PLC0415

        if self.clipnorm and self.clipnorm > 0:
            return clip_by_norm(g, float(self.clipnorm))  # an IndexedSlices: the norm of its values
        if self.clipvalue and self.clipvalue > 0:
            return clip_by_value(g, -float(self.clipvalue), float(self.clipvalue))
        return g

    def _kernel_slots(self, rule):
        return self._slot_names

    def _step_args(self, lr, t):
        """``(rule, hyper)`` of this step's fused kernel: a ``_core.OptimizerRule`` and a
        ``_core.OptimizerHyper`` (``lr``: this step's learning rate; ``t``: iterations + 1)."""
        raise NotImplementedError(
            f"{type(self).__name__}: tapegrad optimizers run a fused C++ kernel chosen by `_step_args(lr, t)`; "
            "a Python `update_step(gradient, variable, learning_rate)` as in Keras custom optimizers is not "
            "supported yet"
        )

    def _after_step(self):
        pass

    def _overwrite_with_ema(self, variables, indices=None):
        indices = range(len(variables)) if indices is None else indices
        for v, i in zip(variables, indices):
            v.assign(self._ema[i])

    def finalize_variable_values(self, var_list: Sequence[Variable]) -> None:
        """With ``use_ema``, copies the moving averages into `var_list` (the end of ``fit``)."""
        if self.use_ema:
            var_list = list(var_list)
            if len(var_list) != len(self._ema):
                raise ValueError(
                    f"The length of model variables ({len(var_list)}) to override does not match the length of "
                    f"model variables stored in the optimizer ({len(self._ema)}). Please check if the optimizer "
                    "was called on your model."
                )
            self._overwrite_with_ema(var_list)

    def scale_loss(self, loss: Any) -> Any:
        """Multiplies the loss by ``loss_scale_factor`` when it is set."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    # --- tf.keras 2 conveniences --------------------------------------------------------------------
    def compute_gradients(
        self, loss: Any, var_list: Sequence[Variable], tape: Optional["GradientTape"] = None
    ) -> list[tuple[Any, Variable]]:
        """Gradients of `loss` (a Tensor with its `tape`, or a zero-argument callable) as (grad, var) pairs."""
        from ..._tape import GradientTape

        if not callable(loss) and tape is None:
            raise ValueError(f"`tape` is required when a `Tensor` loss is passed. Received: loss={loss}, tape={tape}.")
        if tape is None:
            tape = GradientTape()
        if callable(loss):
            with tape:
                if not callable(var_list):
                    tape.watch(var_list)
                loss = loss()
                if callable(var_list):
                    var_list = var_list()
        elif callable(var_list):
            var_list = var_list()
        var_list = list(var_list)
        grads = tape.gradient(loss, var_list)
        return list(zip(grads, var_list))

    def minimize(self, loss: Any, var_list: Sequence[Variable], tape: Optional["GradientTape"] = None) -> Variable:
        """tf.keras 2's minimize: computes the gradients of `loss` and applies them; returns `iterations`."""
        return self.apply_gradients(self.compute_gradients(loss, var_list, tape))

    # --- saving -------------------------------------------------------------------------------------
    def save_own_variables(self, store: dict[str, Any]) -> None:
        """Writes every state variable into the dict-like `store` as ``store[str(i)]``."""
        for i, v in enumerate(self.variables):
            store[str(i)] = v.numpy()

    def load_own_variables(self, store: dict[str, Any]) -> None:
        """Reads the state written by `save_own_variables` (the optimizer must be built)."""
        variables = self.variables
        if len(store.keys()) != len(variables):
            msg = (
                f"Skipping variable loading for optimizer '{self.name}', because it has {len(variables)} "
                f"variables whereas the saved optimizer has {len(store.keys())} variables. "
            )
            if not self.built:
                msg += "This is likely because the optimizer has not been called/built yet."
            warnings.warn(msg, stacklevel=2)
            return
        values = []  # every slot is checked before any is written: a bad file leaves the optimizer as it was
        for i, v in enumerate(variables):
            if str(i) not in store:
                raise ValueError(f"Optimizer variable {i} ('{v.name}') is missing from the saved state")
            value = np.asarray(store[str(i)])
            if tuple(value.shape) != tuple(v.shape):
                raise ValueError(
                    f"Optimizer variable {i} ('{v.name}') has shape {tuple(v.shape)}; the saved value "
                    f"has shape {tuple(value.shape)}"
                )
            if value.dtype.kind not in "fiub":
                raise ValueError(f"Optimizer variable {i} ('{v.name}'): the saved value has dtype {value.dtype}")
            values.append(value.astype(v.dtype.as_numpy_dtype, copy=False))
        for v, value in zip(variables, values):
            v.assign(value)

    def get_weights(self) -> list[np.ndarray]:
        """The values of `variables`, as numpy arrays."""
        return [v.numpy() for v in self.variables]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Assigns `weights` (as from `get_weights`) to `variables`; the optimizer must be built."""
        variables = self.variables
        weights = list(weights)
        if len(weights) != len(variables):
            raise ValueError(f"Optimizer '{self.name}' has {len(variables)} variables; got {len(weights)} weights")
        self.load_own_variables({str(i): w for i, w in enumerate(weights)})

    # --- config -------------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        lr = self._learning_rate
        if isinstance(lr, _schedules.LearningRateSchedule):
            lr = _schedules.serialize(lr)
        elif isinstance(lr, Variable):
            lr = float(lr._item())
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Optional[dict[str, Any]] = None) -> "Optimizer":
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(config["learning_rate"], custom_objects=custom_objects)
        return cls(**config)


_NAME_COUNTS: dict = {}


def _unscale(g, factor):
    if type(g) is IndexedSlices:
        return IndexedSlices(g.values / factor, g.indices, g.dense_shape)
    return g / factor


def _squares(g):
    """Per element, the sum of the squared entries: of each slice before densifying, as Keras's
    ops.square on an IndexedSlices."""
    if type(g) is IndexedSlices:
        return _core.convert_to_tensor(IndexedSlices(_core.square(g.values), g.indices, g.dense_shape))
    g = g if isinstance(g, Tensor) else _core.convert_to_tensor(g)
    return _core.square(g)


def _densify(g):
    return _core.convert_to_tensor(g) if type(g) is IndexedSlices else g


def _as_dtype(values, variable):
    # Keras casts the gradient to the variable's dtype first (ops.cast in update_step).
    return values if values.dtype == variable.dtype else _core.cast(values, variable.dtype._code)


def _scale_by_global_norm(grads, clip_norm):
    """Keras's clip_by_global_norm over dense tensors and IndexedSlices (whose norm is that of the
    values); the scaled slices are densified, as ``IndexedSlices * scale`` is in Keras."""
    total = 0.0
    for g in grads:
        v = np.asarray(g.values if type(g) is IndexedSlices else g, np.float64)
        total += float(np.sum(v * v))
    n = float(np.sqrt(total))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = clip_norm * min(1.0 / n if n else np.inf, 1.0 / clip_norm) + (n - n)
    out = []
    for g in grads:
        d = _densify(g)
        d = d if isinstance(d, (Tensor, _core.Variable)) else _core.convert_to_tensor(d)
        out.append(d * _core.cast(_core.convert_to_tensor(scale), d.dtype._code))
    return out


def _auto_name(class_name):
    """Keras's auto_name: snake_case of the class name, made unique in the process (adam, adam_1)."""
    base = re.sub(r"\W+", "", class_name)
    base = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", base)
    base = re.sub("([a-z])([A-Z])", r"\1_\2", base).lower()
    n = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _takes_argument(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) and (
            p.default is p.empty or p.kind == p.VAR_POSITIONAL
        ):
            return True
    return False


def _int_tensor(value):
    from ..._ops import constant

    return constant(np.int64(value))


def _float_tensor(value):
    from ..._ops import constant

    return constant(np.float32(value))
