"""``Trainer``: Keras 3's ``compile``/``fit``/``evaluate``/``predict`` for ``Model`` (used as
``class Model(Trainer, Layer)``).

``make_train_function`` wraps ``train_step`` in ``tf.function(reduce_retracing=True,
jit_compile=...)`` as Keras does (unless ``run_eagerly``): the first batch of a shape traces the
step, later batches replay it (Note [Traced functions]). Everything
that can be resolved once is resolved at ``compile``/first batch, so a step is the model's forward
and backward pass, one fused optimizer call and a few metric ops.

>>> import numpy as np, tapegrad as tg
>>> from tapegrad.keras.layers import Layer
>>> from tapegrad.keras.trainers.trainer import Trainer
>>> class Line(Trainer, Layer):
...     def __init__(self):
...         super().__init__()
...         self.w = self.add_weight(shape=(1,), initializer="zeros", name="w")
...     def call(self, x):
...         return x * self.w
>>> model = Line()
>>> model.compile(optimizer=tg.keras.optimizers.SGD(0.5), loss="mse")
>>> x = np.ones((8, 1), "float32"); y = 2 * x
>>> history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
>>> [round(v, 4) for v in history.history["loss"]]
[4.0, 0.0]
"""

import inspect
import warnings

import numpy as np

from ... import nest
from ..._ops import cast, convert_to_tensor
from ..._tape import GradientTape
from ..._tensor import Tensor, Variable
from .. import optimizers as _optimizers
from ..callbacks.callback import CallbackList
from ..utils import unpack_x_y_sample_weight
from . import data_adapters
from .compile_utils import CompileLoss, CompileMetrics


def _set(obj, name, value):
    # trainer state is not tracked by the Layer (its metrics are listed by `Trainer.metrics`)
    object.__setattr__(obj, name, value)


def _batch_size_of(x):
    for t in nest.flatten(x):
        if t is not None and hasattr(t, "shape") and len(t.shape):
            return int(t.shape[0])
    return 1


def _to_numpy(x):
    if isinstance(x, (Tensor, Variable)):
        return x.numpy()
    return np.asarray(x)


class Trainer:
    """Mixin with the training API of ``tf.keras.Model`` (see the module docstring)."""

    # state before `compile` (class-level defaults: the mixin has no __init__)
    compiled = False
    optimizer = None
    loss = None
    stop_training = False
    _initial_epoch = None  # set by BackupAndRestore in on_train_begin (Keras keeps it after fit)
    run_eagerly = False
    jit_compile = False
    steps_per_execution = 1
    train_function = test_function = predict_function = None
    _compile_loss = _compile_metrics = _loss_tracker = None

    # ---- compile ---------------------------------------------------------------------------------

    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        run_eagerly=False,
        steps_per_execution=1,
        jit_compile="auto",
        auto_scale_loss=True,
    ):
        """Configures training: `optimizer` (name or instance), `loss` (name, function or ``Loss``;
        a list/dict for several outputs), `metrics`/`weighted_metrics` (names such as "accuracy",
        functions or ``Metric`` objects; lists, or a list/dict per output)."""
        optimizer = _optimizers.get(optimizer)
        output_names = getattr(self, "output_names", None)
        compile_loss = CompileLoss(loss, loss_weights, output_names=output_names) if loss is not None else None
        compile_metrics = (
            CompileMetrics(metrics, weighted_metrics, output_names=output_names)
            if metrics is not None or weighted_metrics is not None
            else None
        )
        from ..metrics import Mean  # noqa: PLC0415

        if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(f"`steps_per_execution` must be a positive integer. Received: {steps_per_execution}")
        _set(self, "optimizer", optimizer)
        _set(self, "_compile_loss", compile_loss)
        _set(self, "_compile_metrics", compile_metrics)
        _set(self, "loss", loss)
        _set(self, "_loss_tracker", Mean(name="loss"))
        _set(self, "run_eagerly", run_eagerly)
        _set(self, "jit_compile", False if jit_compile == "auto" else bool(jit_compile))
        _set(self, "steps_per_execution", steps_per_execution)
        _set(self, "stop_training", False)
        _set(self, "compiled", True)
        _set(self, "train_function", None)
        _set(self, "test_function", None)
        _set(self, "predict_function", None)
        _set(
            self,
            "_compile_config",
            {
                "optimizer": optimizer,
                "loss": loss,
                "loss_weights": loss_weights,
                "metrics": metrics,
                "weighted_metrics": weighted_metrics,
                "run_eagerly": run_eagerly,
                "steps_per_execution": steps_per_execution,
                "jit_compile": jit_compile,
            },
        )

    def _assert_compile_called(self, method_name=None):
        if not getattr(self, "compiled", False):
            raise ValueError("You must call `compile()` before using the model.")

    @property
    def compiled_loss(self):
        """The compiled loss as a callable ``(y_true, y_pred, sample_weight)``."""
        return getattr(self, "_compile_loss", None)

    @property
    def compiled_metrics(self):
        """The compiled metrics' container (``update_state``, ``result``, ``reset_state``)."""
        return getattr(self, "_compile_metrics", None)

    # ---- losses and metrics ----------------------------------------------------------------------

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss of ``(y, y_pred)`` plus every loss in ``self.losses`` (regularization
        penalties, ``add_loss``), summed."""
        losses = []
        compile_loss = getattr(self, "_compile_loss", None)
        if compile_loss is not None:
            value = compile_loss(y, y_pred, sample_weight)
            if value is not None:
                losses.append(value)
        for extra in self.losses:
            t = extra if isinstance(extra, Tensor) else convert_to_tensor(extra)
            if not t.dtype.is_floating:
                t = cast(t, "float32")
            if len(t.shape):
                from ..._ops import reduce_sum  # noqa: PLC0415

                t = reduce_sum(t)
            losses.append(t)
        if not losses:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        total = losses[0]
        for t in losses[1:]:
            total = total + t
        return total

    def _compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if self._compute_loss_has_training:
            return self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        return self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)

    @property
    def _compute_loss_has_training(self):
        flag = getattr(self, "_cl_training_flag", None)
        if flag is None:
            flag = "training" in inspect.signature(self.compute_loss).parameters
            _set(self, "_cl_training_flag", flag)
        return flag

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics with the batch and returns ``get_metrics_result()``."""
        compile_metrics = getattr(self, "_compile_metrics", None)
        if compile_metrics is not None:
            compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """``{name: value}`` of every metric (the compiled metrics expanded), keys sorted as
        Keras's ``pythonify_logs`` leaves them."""
        out = {}
        for m in self.metrics:
            r = m.result()
            if isinstance(r, dict):
                out.update(r)
            else:
                out[m.name] = r
        return dict(sorted(out.items()))

    @property
    def metrics(self):
        """The loss tracker, the compiled metrics, the per-output loss trackers, then the metrics
        tracked by the model and its layers (Keras's order)."""
        out = []
        if getattr(self, "compiled", False):
            if self._loss_tracker is not None:
                out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        out.extend(self._tracked_metrics)
        for layer in self._flatten_layers(include_self=False):
            if isinstance(layer, Trainer):
                continue
            out.extend(layer._tracked_metrics)
        return out

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    @property
    def metrics_variables(self):
        return [v for m in self.metrics for v in m.variables]

    def reset_metrics(self):
        """Resets the state of every metric in ``metrics``."""
        for m in self.metrics:
            m.reset_state()

    def _get_metrics_result_or_logs(self, logs):
        result = self.get_metrics_result()
        if isinstance(logs, dict) and set(logs.keys()) == set(result.keys()):
            return result
        return logs

    def _flatten_metrics_in_order(self, logs):
        names = []
        for m in self.metrics:
            if getattr(m, "_is_compile_container", False):
                names += [s.name for s in m.metrics]
            else:
                names.append(m.name)
        results = [logs[n] for n in names if n in logs]
        results += [logs[k] for k in sorted(logs) if k not in names]
        return results[0] if len(results) == 1 else results

    # ---- steps -----------------------------------------------------------------------------------

    def _call_model(self, x, training):
        if getattr(self, "_call_has_training_arg", False):
            return self(x, training=training)
        return self(x)

    def train_step(self, data):
        """One training step on a batch: forward pass under a `GradientTape`, loss, gradients,
        ``optimizer.apply_gradients``; returns the metrics' results. Override to customize ``fit``."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self._call_model(x, training=True)
            loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
            scaled_loss = self.optimizer.scale_loss(loss)  # on the tape (LossScaleOptimizer, loss_scale_factor)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size_of(x))
        weights = self.trainable_weights
        if weights:
            grads = tape.gradient(scaled_loss, weights)
            self.optimizer.apply_gradients(zip(grads, weights))
        else:
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        """One evaluation step: forward pass (``training=False``), loss and metrics."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self._call_model(x, training=False)
        loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        """One prediction step: the model's outputs for the batch's ``x`` (``training=False``)."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self._call_model(x, training=False)

    def _wrap_step(self, step):
        # Keras wraps the step in tf.function(reduce_retracing=True, jit_compile=...) unless
        # run_eagerly; tapegrad's tf.function runs the Python function eagerly (no tracing yet)
        if self.run_eagerly:
            return step
        from ...function import function  # noqa: PLC0415

        return function(step, reduce_retracing=True, jit_compile=self.jit_compile or None)

    def make_train_function(self, force=False):
        """The function ``fit`` calls per batch: ``train_step`` in a ``tf.function`` (unless
        ``run_eagerly``)."""
        if self.train_function is None or force:
            _set(self, "train_function", self._wrap_step(self.train_step))
        return self.train_function

    def make_test_function(self, force=False):
        """The function ``evaluate`` calls per batch: ``test_step`` in a ``tf.function``."""
        if self.test_function is None or force:
            _set(self, "test_function", self._wrap_step(self.test_step))
        return self.test_function

    def make_predict_function(self, force=False):
        """The function ``predict`` calls per batch: ``predict_step`` in a ``tf.function``."""
        if self.predict_function is None or force:
            _set(self, "predict_function", self._wrap_step(self.predict_step))
        return self.predict_function

    def _grouped(self, batches):
        """``(first index, last index, [batches])`` in groups of ``steps_per_execution``."""
        n = self.steps_per_execution
        group, first = [], 0
        for i, b in enumerate(batches):
            if not group:
                first = i
            group.append(b)
            if len(group) == n:
                yield first, i, group
                group = []
        if group:  # Keras reports the group's nominal last index, past the data's end
            yield first, first + n - 1, group

    def _run_epoch(self, data, step_function, on_batch_begin, on_batch_end, stop_flag, logs):
        """One pass of ``fit`` or ``evaluate`` over ``data``: ``step_function`` per batch, the batch
        callbacks per group of ``steps_per_execution``, until the model's ``stop_flag`` is set.
        Returns the last step's logs (``logs`` when there was no batch)."""
        for first, last, group in self._grouped(data.epoch()):
            on_batch_begin(first)
            for batch in group:
                logs = step_function(batch)
            on_batch_end(last, logs)
            if getattr(self, stop_flag):
                break
        return logs

    # ---- fit / evaluate / predict ----------------------------------------------------------------

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
    ):
        """Trains for `epochs` epochs and returns the `History` callback (``model.history``)."""
        self._assert_compile_called("fit")
        if validation_split and validation_data is None:
            (x, y, sample_weight), val = data_adapters.train_validation_split((x, y, sample_weight), validation_split)
            validation_data = val
        if validation_data is not None:
            val_x, val_y, val_sw = unpack_x_y_sample_weight(validation_data)
        if not isinstance(validation_freq, (int, list, tuple)) or isinstance(validation_freq, bool):
            raise ValueError(
                "Expected `validation_freq` to be a list or int. Received: "
                f"validation_freq={validation_freq} of the type {type(validation_freq)}."
            )
        if shuffle and not data_adapters.is_array_data(x) and callable(getattr(x, "cardinality", None)):
            warnings.warn(
                "`shuffle=True` was passed, but will be ignored since the data `x` was provided as a "
                "tf.data.Dataset. The Dataset is expected to already be shuffled (via "
                "`.shuffle(buffer_size)`)",
                stacklevel=2,
            )
        data = data_adapters.make_data(
            x,
            y,
            sample_weight,
            batch_size=batch_size,
            steps=steps_per_epoch,
            shuffle=shuffle,
            class_weight=class_weight,
        )
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(
                callbacks,
                add_history=True,
                add_progbar=verbose != 0,
                verbose=verbose,
                epochs=epochs,
                steps=data.num_batches,
                model=self,
            )
        _set(self, "stop_training", False)
        train_function = self.make_train_function()
        callbacks.on_train_begin()
        training_logs = None
        logs = {}
        val_data = None
        initial_epoch = self._initial_epoch or initial_epoch
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            logs = self._run_epoch(
                data,
                train_function,
                callbacks.on_train_batch_begin,
                callbacks.on_train_batch_end,
                "stop_training",
                logs,
            )
            if getattr(data, "ran_out", False):
                _set(self, "stop_training", True)
            epoch_logs = dict(self._get_metrics_result_or_logs(logs))
            if validation_data is not None and self._should_eval(epoch, validation_freq):
                if val_data is None:
                    val_data = data_adapters.make_data(
                        val_x,
                        val_y,
                        val_sw,
                        batch_size=validation_batch_size or batch_size,
                        steps=validation_steps,
                        shuffle=False,
                    )
                val_logs = self.evaluate(callbacks=callbacks, return_dict=True, _data=val_data)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if self.stop_training:
                break
        if epochs > 0 and hasattr(self.optimizer, "finalize_variable_values"):
            self.optimizer.finalize_variable_values(self.trainable_weights)
        callbacks.on_train_end(logs=training_logs)
        return self.history

    @staticmethod
    def _should_eval(epoch, validation_freq):
        epoch = epoch + 1
        if isinstance(validation_freq, int):
            return epoch % validation_freq == 0
        return epoch in validation_freq

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
        **kwargs,
    ):
        """The loss and metrics on the data: a scalar (loss only), a list in ``metrics_names``
        order, or a dict with ``return_dict=True``."""
        data = kwargs.pop("_data", None)
        if kwargs:
            raise ValueError(f"Arguments not recognized: {kwargs}")
        self._assert_compile_called("evaluate")
        if data is None:
            data = data_adapters.make_data(x, y, sample_weight, batch_size=batch_size, steps=steps, shuffle=False)
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(
                callbacks, add_progbar=verbose != 0, verbose=verbose, epochs=1, steps=data.num_batches, model=self
            )
        test_function = self.make_test_function()
        _set(self, "stop_evaluating", False)
        callbacks.on_test_begin()
        self.reset_metrics()
        logs = self._run_epoch(
            data, test_function, callbacks.on_test_batch_begin, callbacks.on_test_batch_end, "stop_evaluating", {}
        )
        logs = self._get_metrics_result_or_logs(logs)
        logs = {k: float(v) if _is_scalar(v) else v for k, v in logs.items()}
        callbacks.on_test_end(logs)
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for `x`, batch by batch, concatenated into NumPy arrays."""
        data = data_adapters.make_data(x, None, None, batch_size=batch_size, steps=steps, shuffle=False)
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(
                callbacks,
                add_history=True,
                add_progbar=verbose != 0,
                verbose=verbose,
                epochs=1,
                steps=data.num_batches,
                model=self,
            )
        predict_function = self.make_predict_function()
        _set(self, "stop_predicting", False)
        callbacks.on_predict_begin()
        outputs = None
        batch_outputs = None
        for step, batch in enumerate(data.epoch()):
            callbacks.on_predict_batch_begin(step)
            batch_outputs = predict_function(batch)
            flat = [_to_numpy(t) for t in nest.flatten(batch_outputs)]
            if outputs is None:
                outputs = [[a] for a in flat]
            else:
                for lst, a in zip(outputs, flat):
                    lst.append(a)
            callbacks.on_predict_batch_end(step, {"outputs": batch_outputs})
            if self.stop_predicting:
                break
        callbacks.on_predict_end()
        if outputs is None:
            raise ValueError(
                "Unexpected result of `predict_function` (Empty batch_outputs). Please use "
                "`Model.compile(..., run_eagerly=True)`, or `tf.config.run_functions_eagerly(True)` "
                "for more information of where went wrong, or file a issue/bug to `keras`."
            )
        return nest.pack_sequence_as(batch_outputs, [np.concatenate(lst, axis=0) for lst in outputs])

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One `train_step` on one batch; returns the loss and metrics of that batch (the metrics
        are reset first, as in Keras 3)."""
        self._assert_compile_called("train_on_batch")
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError(
                    "Arguments `sample_weight` and `class_weight` cannot be specified at the same "
                    f"time. Received: sample_weight={sample_weight}, class_weight={class_weight}"
                )
            sample_weight = data_adapters.class_weight_to_sample_weights(_to_numpy(y), class_weight)
        self.reset_metrics()
        logs = self.make_train_function()(_as_batch(x, y, sample_weight))
        return self._batch_result(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """One `test_step` on one batch; returns that batch's loss and metrics."""
        self._assert_compile_called("test_on_batch")
        self.reset_metrics()
        logs = self.make_test_function()(_as_batch(x, y, sample_weight))
        return self._batch_result(logs, return_dict)

    def predict_on_batch(self, x):
        """The model's outputs for one batch, as NumPy arrays."""
        out = self.make_predict_function()(_as_batch(x, None, None))
        return nest.pack_sequence_as(out, [_to_numpy(t) for t in nest.flatten(out)])

    def _batch_result(self, logs, return_dict):
        logs = {k: float(v) if _is_scalar(v) else np.asarray(v) for k, v in logs.items()}
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    # ---- state -----------------------------------------------------------------------------------

    def get_compile_config(self):
        """The arguments given to ``compile`` (None before it)."""
        return getattr(self, "_compile_config", None)

    def compile_from_config(self, config):
        """Calls ``compile`` with a config from `get_compile_config`."""
        self.compile(**config)

    @property
    def history(self):
        return getattr(self, "_history_cb", None)

    @history.setter
    def history(self, value):
        _set(self, "_history_cb", value)


def _is_scalar(v):
    try:
        return np.ndim(v) == 0
    except Exception:  # noqa: BLE001
        return False


def _as_batch(x, y, sample_weight):
    def conv(part):
        if part is None:
            return None
        return nest.pack_sequence_as(
            part,
            [
                a if a is None or isinstance(a, (Tensor, Variable)) else convert_to_tensor(data_adapters._as_numpy(a))
                for a in nest.flatten(part)
            ],
        )

    batch = (conv(x),)
    if y is not None or sample_weight is not None:
        batch = batch + (conv(y),)
    if sample_weight is not None:
        batch = batch + (conv(sample_weight),)
    return batch


__all__ = ["Trainer"]
