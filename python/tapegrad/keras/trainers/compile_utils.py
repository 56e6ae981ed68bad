"""What ``compile`` makes of its ``loss`` and ``metrics`` arguments (Keras's ``compile_utils``).

Strings are checked at ``compile`` time (an unknown one raises Keras's "Could not interpret ...
identifier" ValueError); the objects are made on the first batch, when the shapes of ``y_true`` and
``y_pred`` are known ("accuracy" and "crossentropy" depend on them).
"""

from ... import nest
from ..._ops import cast, convert_to_tensor
from ..._tensor import Tensor


def _object_name(obj):
    return getattr(obj, "name", None) or getattr(obj, "__name__", None) or type(obj).__name__


def check_loss_identifier(identifier):
    """Raises Keras's ValueError now for a loss string that ``losses.get`` does not know."""
    from .. import losses  # noqa: PLC0415

    for ident in nest.flatten(identifier):
        if isinstance(ident, str) and ident.lower() not in ("crossentropy", "ce"):
            losses.get(ident)


def check_metric_identifier(identifier):
    """Raises Keras's ValueError now for a metric string that ``metrics.get`` does not know."""
    from .. import metrics  # noqa: PLC0415

    for ident in _flat_metric_identifiers(identifier):
        if ident is None:
            raise ValueError("Expected metric, received `None`")
        if isinstance(ident, str) and ident.lower() not in ("accuracy", "acc"):
            metrics.get(ident)


def _flat_metric_identifiers(metrics):
    if metrics is None:
        return []
    if isinstance(metrics, dict):
        return [m for v in metrics.values() for m in _flat_metric_identifiers(v)]
    if isinstance(metrics, (list, tuple)):
        return [
            m for v in metrics for m in (_flat_metric_identifiers(v) if isinstance(v, (list, tuple, dict)) else [v])
        ]
    return [metrics]


def get_loss(identifier, y_true, y_pred):
    """A ``Loss`` object for one output (functions are wrapped in ``LossFunctionWrapper`` named
    after the string given, or the function's name)."""
    from .. import losses  # noqa: PLC0415
    from ..metrics import _is_binary_or_sparse_categorical  # noqa: PLC0415  (Keras's shape rule, one copy)

    if identifier is None:
        return None
    if str(identifier).lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = _is_binary_or_sparse_categorical(y_true, y_pred)
        obj = (
            losses.binary_crossentropy
            if is_binary
            else losses.sparse_categorical_crossentropy
            if is_sparse
            else losses.categorical_crossentropy
        )
    else:
        obj = losses.get(identifier)
    if not isinstance(obj, losses.Loss):
        name = identifier if isinstance(identifier, str) else _object_name(obj)
        obj = losses.LossFunctionWrapper(obj, name=name)
    return obj


def get_metric(identifier, y_true, y_pred):
    """A ``Metric`` object for one output, named after the string given (``metrics.get_compile_metric``)."""
    from ..metrics import get_compile_metric  # noqa: PLC0415

    return get_compile_metric(identifier, y_true, y_pred)


def _output_lists(y_true, y_pred, output_names):
    """``(names, y_true list, y_pred list)`` with one entry per model output."""
    if isinstance(y_pred, dict):
        names = list(y_pred.keys())
        preds = [y_pred[k] for k in names]
        trues = [y_true[k] for k in names] if isinstance(y_true, dict) else list(nest.flatten(y_true))
        return names, trues, preds
    if isinstance(y_pred, (list, tuple)):
        preds = list(y_pred)
        # without output names (a subclassed model), Keras names each output's loss after the loss
        names = list(output_names) if output_names and len(output_names) == len(preds) else [None] * len(preds)
        if isinstance(y_true, dict) and all(names):
            trues = [y_true[k] for k in names]
        elif isinstance(y_true, (list, tuple)):
            trues = list(y_true)
        else:
            trues = [y_true]
        if len(trues) != len(preds):
            raise ValueError(
                "y_true and y_pred have different structures.\n"
                f"y_true: {nest.pack_sequence_as(y_true, ['*'] * len(nest.flatten(y_true)))}\n"
                f"y_pred: {['*'] * len(preds)}\n"
            )
        return names, trues, preds
    name = output_names[0] if output_names and len(output_names) == 1 else None
    if isinstance(y_true, (list, tuple)) and len(y_true) == 1:
        y_true = y_true[0]
    return [name], [y_true], [y_pred]


def _per_output(spec, names, what):
    """`spec` (one value, a list in output order, or a dict by output name) as one value per output."""
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown and len(names) > 1:
            raise ValueError(f"Expected keys {names} in {what} dict, but found {what}.keys()={list(spec.keys())}")
        return [spec.get(n) for n in names] if len(names) > 1 or not unknown else [next(iter(spec.values()))]
    if isinstance(spec, (list, tuple)) and len(names) > 1:
        if len(spec) != len(names):
            raise ValueError(f"`{what}` must match the number of outputs: got {len(spec)} for {len(names)} outputs.")
        return list(spec)
    return [spec] * len(names)


class CompileLoss:
    """The compiled loss: one ``Loss`` per output, weighted by ``loss_weights`` and summed; with
    several outputs, a ``Mean`` tracker ``"{output}_loss"`` per output (in ``metrics``)."""

    def __init__(self, loss, loss_weights=None, output_names=None):
        if loss_weights and not isinstance(loss_weights, (list, tuple, dict, float, int)):
            raise ValueError(
                "Expected `loss_weights` argument to be a float (single output case) or a list, "
                "tuple, or dict (multiple output case). Received instead: "
                f"loss_weights={loss_weights} of type {type(loss_weights)}"
            )
        check_loss_identifier(loss)
        self.name = "compile_loss"
        self._user_loss = loss
        self._user_loss_weights = loss_weights
        self.output_names = output_names
        self.built = False
        self.metrics = []
        self._entries = None  # [(index, Loss, weight)]
        self._multi = False

    def build(self, y_true, y_pred):
        from ..metrics import Mean  # noqa: PLC0415

        names, trues, preds = _output_lists(y_true, y_pred, self.output_names)
        self._multi = len(preds) > 1 or isinstance(y_pred, (list, tuple, dict))
        losses = _per_output(self._user_loss, names, "loss")
        weights = (
            _per_output(self._user_loss_weights, names, "loss_weights")
            if self._user_loss_weights is not None
            else [None] * len(names)
        )
        self._entries = []
        for i, (ident, w) in enumerate(zip(losses, weights)):
            obj = get_loss(ident, trues[i], preds[i])
            if obj is not None:
                self._entries.append((i, obj, w, names[i] or obj.name))
        if len(self._entries) > 1:
            self.metrics = [Mean(name=f"{name}_loss") for _, _, _, name in self._entries]
        self.built = True

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        if not self._multi:
            _, obj, w, _ = self._entries[0]
            value = obj(y_true, y_pred, sample_weight)
            return value if w is None else value * w
        names, trues, preds = _output_lists(y_true, y_pred, self.output_names)
        sws = (
            _output_lists(sample_weight, y_pred, self.output_names)[1]
            if isinstance(sample_weight, (list, tuple, dict))
            else [sample_weight] * len(preds)
        )
        total = None
        for k, (i, obj, w, _) in enumerate(self._entries):
            value = obj(trues[i], preds[i], sws[i])
            if self.metrics:
                self.metrics[k].update_state(value, sample_weight=nest.flatten(preds[i])[0].shape[0])
            if w is not None:
                value = value * w
            total = value if total is None else total + value
        return total


class CompileMetrics:
    """The compiled metrics of every output, reported as one dict (Keras's ``CompileMetrics``;
    listed in ``model.metrics`` under the name ``"compile_metrics"``)."""

    _is_compile_container = True

    def __init__(self, metrics, weighted_metrics=None, output_names=None):
        if metrics is not None and not isinstance(metrics, (list, tuple, dict)):
            raise ValueError(
                f"Expected `metrics` argument to be a list, tuple, or dict. Received instead: "
                f"metrics={metrics} of type {type(metrics)}"
            )
        if weighted_metrics is not None and not isinstance(weighted_metrics, (list, tuple, dict)):
            raise ValueError(
                "Expected `weighted_metrics` argument to be a list, tuple, or dict. Received instead: "
                f"weighted_metrics={weighted_metrics} of type {type(weighted_metrics)}"
            )
        check_metric_identifier(metrics)
        check_metric_identifier(weighted_metrics)
        self.name = "compile_metrics"
        self._user_metrics = metrics
        self._user_weighted = weighted_metrics
        self.output_names = output_names
        self.built = False
        self._unweighted = []  # [(output index, Metric)]
        self._weighted = []

    @property
    def metrics(self):
        return [m for _, m in self._unweighted] + [m for _, m in self._weighted]

    @property
    def variables(self):
        return [v for m in self.metrics for v in m.variables]

    def _resolve(self, spec, names, trues, preds):
        out = []
        if spec is None:
            return out
        multi = len(preds) > 1
        if isinstance(spec, dict):
            per = [spec.get(n) for n in names]
        elif multi and spec and all(isinstance(s, (list, tuple)) or s is None for s in spec):
            if len(spec) != len(preds):
                raise ValueError(
                    f"For a model with multiple outputs, when providing the `metrics` argument as a "
                    f"list, it should have as many entries as the model has outputs. Received:\n"
                    f"metrics={spec}\nof length {len(spec)} whereas the model has {len(preds)} outputs."
                )
            per = list(spec)
        else:
            per = [spec] * len(preds)
        for i, ms in enumerate(per):
            if ms is None:
                continue
            for ident in ms if isinstance(ms, (list, tuple)) else [ms]:
                m = get_metric(ident, trues[i], preds[i])
                if multi and names[i]:
                    m.name = f"{names[i]}_{m.name}"
                out.append((i, m))
        return out

    def build(self, y_true, y_pred):
        names, trues, preds = _output_lists(y_true, y_pred, self.output_names)
        self._unweighted = self._resolve(self._user_metrics, names, trues, preds)
        self._weighted = self._resolve(self._user_weighted, names, trues, preds)
        taken = {m.name for _, m in self._unweighted}
        for _, m in self._weighted:
            if m.name in taken:
                m.name = "weighted_" + m.name
        self.built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        if len(self._unweighted) + len(self._weighted) == 0:
            return
        _, trues, preds = _output_lists(y_true, y_pred, self.output_names)
        for i, m in self._unweighted:
            m.update_state(trues[i], preds[i])
        if self._weighted:
            sws = (
                _output_lists(sample_weight, y_pred, self.output_names)[1]
                if isinstance(sample_weight, (list, tuple, dict))
                else [sample_weight] * len(preds)
            )
            for i, m in self._weighted:
                m.update_state(trues[i], preds[i], sample_weight=sws[i])

    def result(self):
        return {m.name: m.result() for m in self.metrics}

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()


def as_float_tensor(x):
    """`x` as a float32 tensor (losses of integer dtype are cast, as Keras does)."""
    t = x if isinstance(x, Tensor) else convert_to_tensor(x)
    return t if t.dtype.is_floating else cast(t, "float32")
