"""``tf.keras.Model`` (Keras 3): a ``Layer`` with training methods (``Trainer``), ``summary()``,
``get_layer``, weights saving and configs.

``Model(inputs, outputs)`` makes a functional model (``functional.py``); a subclass defines ``call``.

>>> import tapegrad as tg
>>> class TwoSteps(tg.keras.Model):
...     def __init__(self):
...         super().__init__(name="two_steps")
...         self.scale = self.add_weight(shape=(), initializer="ones", name="scale")
...         self.scale.assign(2.0)
...     def call(self, x):
...         return x * self.scale
>>> TwoSteps()(tg.ones([1, 2])).numpy().tolist()
[[2.0, 2.0]]
"""

import json
import math
import os
import re
import shutil

import numpy as np

from ..layers.base import Layer
from ..trainers.trainer import Trainer

__all__ = ["Model"]


def functional_init_arguments(args, kwargs, strict=False):
    """True when a ``Model(...)`` call means the functional API (``Model(inputs, outputs)``). With
    `strict` (a subclass's constructor), the inputs and outputs given must be (nests of)
    KerasTensors: ``Autoencoder(latent_dim, shape)`` is not functional."""
    if len(args) == 2:
        inputs, outputs = args
    elif len(args) == 1 and "outputs" in kwargs:
        inputs, outputs = args[0], kwargs["outputs"]
    elif "inputs" in kwargs and "outputs" in kwargs:
        inputs, outputs = kwargs["inputs"], kwargs["outputs"]
    else:
        return False
    return not strict or (_keras_tensor_nest(inputs) and _keras_tensor_nest(outputs))


def _keras_tensor_nest(x):
    from ... import nest  # noqa: PLC0415

    leaves = nest.flatten(x) if isinstance(x, (list, tuple, dict)) else [x]
    return bool(leaves) and all(getattr(leaf, "_is_keras_tensor", False) for leaf in leaves)


class Model(Trainer, Layer):
    """A model: subclass it and define ``call``, or call ``Model(inputs, outputs)`` for a functional model.

    ``layers``, ``weights``, ``trainable_variables``, ``summary()``, ``get_layer()``,
    ``save_weights()``/``load_weights()`` work on all three kinds (subclassed, functional, Sequential).
    """

    def __new__(cls, *args, **kwargs):
        if functional_init_arguments(args, kwargs, strict=cls is not Model):
            from .functional import Functional  # noqa: PLC0415

            if cls is Model:
                return Functional.__new__(Functional, *args, **kwargs)
            if not issubclass(cls, Functional):
                # `class Custom(Model)` built as `Custom(inputs, outputs)`: Keras injects Functional into the
                # class; here a subclass of (Custom, Functional) keeps Custom's methods first in the MRO
                return Layer.__new__(_functional_subclass(cls), *args, **kwargs)
        return Layer.__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        if functional_init_arguments(args, kwargs):
            raise NotImplementedError(
                f"{type(self).__name__}: subclassing Model and calling `super().__init__(inputs, outputs)` (a functional "
                "subclass) is not supported by tapegrad yet. Build `tf.keras.Model(inputs, outputs)` and wrap it, or "
                "define `call()`."
            )
        if args:
            raise TypeError(
                f"Model.__init__() takes keyword arguments only (name=, trainable=, dtype=). Received "
                f"positional arguments: {args}"
            )
        self._base_init(**kwargs)

    def _base_init(self, **kwargs):
        Layer.__init__(self, **kwargs)
        Trainer.__init__(self)

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"Model {type(self).__name__} does not have a `call()` method implemented.")

    @property
    def layers(self):
        """The model's direct sub-layers, in the order they were assigned."""
        return list(self._tracked_layers)

    @layers.setter
    def layers(self, _):
        raise AttributeError("`Model.layers` attribute is reserved and should not be used. Please use another name.")

    def get_layer(self, name=None, index=None):
        """A layer by its (unique) name or by its index in ``layers``."""
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, name={name}.")
        layers = self.layers
        if index is not None:
            if len(layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has {len(layers)} layers."
                )
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def build(self, input_shape=None):
        """Creates a subclassed model's weights by running ``call`` once on inputs of `input_shape`: on
        symbolic inputs when ``call`` allows it, else on zeros (unknown dims 1). (tf.keras 2's behaviour:
        Keras 3.15 only marks the model built and warns.)"""
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        from .functional import _shape_structure_to_kts  # noqa: PLC0415

        shapes = _as_shape_structure(input_shape)
        from .functional import symbolic_build  # noqa: PLC0415

        with self._open_name_scope():
            object.__setattr__(self, "_path", _current_path())
            try:
                with symbolic_build():
                    self.call(_shape_structure_to_kts(shapes))
            except Exception:  # noqa: BLE001 - `call` uses ops that take only real tensors: run it on zeros
                _call_on_zeros(self, shapes)
        self.built = True

    def _maybe_build(self, args, kwargs):
        if self.built:
            return
        if type(self).build is not Model.build:
            return Layer._maybe_build(self, args, kwargs)
        # Keras: a model without its own build() is built by a symbolic run of call() on inputs of the
        # call's shapes; if call() cannot run symbolically, the real call creates the weights.
        from ..layers.input_layer import KerasTensor  # noqa: PLC0415
        from .functional import _map  # noqa: PLC0415

        def to_kt(x):
            if hasattr(x, "shape") and hasattr(x, "dtype") and not getattr(x, "_is_keras_tensor", False):
                return KerasTensor(tuple(x.shape), dtype=getattr(x.dtype, "name", x.dtype))
            return x

        sym_args = _map(to_kt, tuple(args))
        sym_kwargs = {k: _map(to_kt, v) for k, v in kwargs.items() if k not in ("training", "mask")}
        from .functional import symbolic_build  # noqa: PLC0415

        with self._open_name_scope():
            object.__setattr__(self, "_path", _current_path())
            try:
                with symbolic_build():
                    self.call(*sym_args, **sym_kwargs)
            except Exception:  # noqa: BLE001
                pass
        first = args[0] if args else next(iter(kwargs.values()), None)
        from ..layers.base import _shape_of_nest  # noqa: PLC0415

        self._build_shapes = _shape_of_nest(first)
        self.built = True

    # ---- summary -------------------------------------------------------------------------------

    def summary(
        self,
        line_length=None,
        positions=None,
        print_fn=None,
        expand_nested=False,
        show_trainable=False,
        layer_range=None,
    ):
        """Prints Keras 3's table of layers, output shapes and parameter counts (as Keras prints it to a
        file or pipe), then the parameter totals; `print_fn` receives the whole text."""
        print_summary(
            self,
            line_length=line_length,
            positions=positions,
            print_fn=print_fn,
            expand_nested=expand_nested,
            show_trainable=show_trainable,
            layer_range=layer_range,
        )

    # ---- weights files and configs -------------------------------------------------------------

    def save_weights(self, filepath, overwrite=True):
        """Saves the weights to a ``.weights.h5`` file (``keras/saving.py``)."""
        from .. import saving  # noqa: PLC0415

        return saving.save_weights(self, filepath, overwrite)

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Saves the whole model (config, weights, optimizer state) to a ``.keras`` file."""
        from ..saving_model import save_model  # noqa: PLC0415

        return save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def load_weights(self, filepath, skip_mismatch=False):
        """Loads weights saved by ``save_weights`` (``keras/saving.py``)."""
        from .. import saving  # noqa: PLC0415

        return saving.load_weights(self, filepath, skip_mismatch)

    def to_json(self, **kwargs):
        """The model's config as a JSON string (``{"class_name", "config", "module"}``)."""
        data = {"module": "keras", "class_name": type(self).__name__, "config": self.get_config()}
        return json.dumps(data, default=_json_default, **kwargs)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .functional import Functional  # noqa: PLC0415

        if "layers" in config and "input_layers" in config and "output_layers" in config and cls in (Model, Functional):
            return Functional.from_config(config, custom_objects=custom_objects)
        return super().from_config(config) if cls is not Model else cls(**config)


_FUNCTIONAL_SUBCLASSES: dict = {}


def _functional_subclass(cls):
    """``cls`` with ``Functional`` mixed in after it (Keras's ``inject_functional_model_class``)."""
    made = _FUNCTIONAL_SUBCLASSES.get(cls)
    if made is None:
        from .functional import Functional  # noqa: PLC0415

        made = type(
            cls.__name__,
            (cls, Functional),
            {"__module__": cls.__module__, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__},
        )
        _FUNCTIONAL_SUBCLASSES[cls] = made
    return made


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"Unable to serialize {obj} to JSON. Unrecognized type {type(obj)}.")


def _current_path():
    from ..layers.base import current_path  # noqa: PLC0415

    return current_path()


def _call_on_zeros(model, shapes):
    """Runs ``model.call`` on zeros of `shapes` (unknown dims 1), restoring non-trainable state after."""
    from ..._ops import zeros  # noqa: PLC0415
    from .functional import _stateful_variables  # noqa: PLC0415

    def make(shape):
        return zeros([1 if d is None else d for d in shape])

    inputs = make(shapes) if _is_one_shape(shapes) else _map_shapes(make, shapes)
    state = [(v, np.array(v)) for v in _stateful_variables(model)]
    try:
        model.call(inputs)
    finally:
        for v, value in state:
            v.assign(value)
        model._clear_losses()


def _as_shape_structure(shape):
    if isinstance(shape, (list, tuple)) and all(d is None or isinstance(d, (int, np.integer)) for d in shape):
        return tuple(shape)
    if isinstance(shape, dict):
        return {k: _as_shape_structure(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)):
        return [_as_shape_structure(s) for s in shape]
    raise TypeError(f"Invalid input shape: {shape}")


def _layer_registry(custom_objects=None):
    from .. import layers as layers_module  # noqa: PLC0415
    from . import functional, sequential  # noqa: PLC0415

    registry = {}
    for mod in (layers_module,):
        for name in dir(mod):
            obj = getattr(mod, name)
            if isinstance(obj, type) and issubclass(obj, Layer):
                registry[name] = obj
    registry.update({"Model": Model, "Functional": functional.Functional, "Sequential": sequential.Sequential})
    from ..saving_model import _custom_table  # noqa: PLC0415  (classes registered with register_keras_serializable)

    registry.update(_custom_table(custom_objects))
    return registry


def deserialize_layer(data, custom_objects=None):
    """A layer from ``{"class_name", "config"}`` (classes of ``tf.keras.layers``, models, `custom_objects`)."""
    registry = _layer_registry(custom_objects)
    name = data["class_name"]
    if data.get("module") == "keras.src.ops.numpy":  # an op on KerasTensors ("Add" is also a merge layer)
        from ..layers.input_layer import _op_class  # noqa: PLC0415

        try:
            registry[name] = _op_class(name)
        except KeyError:
            pass
    if name not in registry:
        raise TypeError(
            f"Could not locate class '{name}'. Make sure custom classes are decorated with "
            "`@keras.saving.register_keras_serializable()` or passed in `custom_objects`. "
            f"Full object config: {data}"
        )
    cls = registry[name]
    if issubclass(cls, Model):
        return cls.from_config(data["config"], custom_objects=custom_objects)
    return cls.from_config(data["config"])


# ---- summary: Keras 3's rich table, as rich renders it when stdout is not a terminal ---------------


def _format_shape(shape):
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _shape_text(shapes):
    if _is_one_shape(shapes):
        return _format_shape(shapes)
    flat = _flatten_shapes(shapes)
    if len(flat) == 1:
        return _format_shape(flat[0])
    return str(_map_shapes(_format_shape, shapes)).replace("'", "")


def _is_one_shape(x):
    return isinstance(x, tuple) and all(d is None or isinstance(d, (int, np.integer)) for d in x)


def _flatten_shapes(x):
    if _is_one_shape(x):
        return [x]
    if isinstance(x, dict):
        return [s for k in sorted(x) for s in _flatten_shapes(x[k])]
    return [s for v in x for s in _flatten_shapes(v)]


def _map_shapes(fn, x):
    if _is_one_shape(x):
        return fn(x)
    if isinstance(x, dict):
        return {k: _map_shapes(fn, v) for k, v in x.items()}
    return type(x)(_map_shapes(fn, v) for v in x)


def _layer_output_shape(layer):
    """Keras's ``format_layer_shape``: the shapes of the layer's last graph node; else a model's
    ``output_shape``; else, for a class with ``compute_output_shape``, its output shape when built."""
    if layer._inbound_nodes:
        outputs = layer._inbound_nodes[-1].outputs
        shapes = [tuple(o.shape) for o in outputs]
        return (
            _format_shape(shapes[0]) if len(shapes) == 1 else str([_format_shape(s) for s in shapes]).replace("'", "")
        )
    if layer._build_shapes is None and getattr(layer, "_build_output_shapes", None) is None:
        return "?"
    try:
        shapes = layer.output_shape  # Functional and built Sequential models
    except AttributeError:
        if (
            type(layer).compute_output_shape is Layer.compute_output_shape
            or getattr(layer, "_build_output_shapes", None) is None
        ):
            return "?"  # Keras's default compute_output_shape raises NotImplementedError here
        shapes = layer._build_output_shapes
    return _shape_text(_tupleize(shapes))


def _tupleize(x):
    if hasattr(x, "as_list") or _is_one_shape(x):
        return tuple(x)
    if isinstance(x, dict):
        return {k: _tupleize(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_tupleize(v) for v in x)
    return x


def _count(weights):
    return int(sum(math.prod(tuple(v.shape)) for v in weights))


def _memory(weights):
    unique = {id(w): w for w in weights}.values()
    bits = sum(math.prod(tuple(w.shape)) * w.dtype.size * 8 for w in unique)
    return bits / 8


def _readable(size):
    for unit in ["B", "KB", "MB", "GB", "TB", "PB"]:
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _layers_for_summary(model):
    from .functional import Functional  # noqa: PLC0415
    from .sequential import Sequential  # noqa: PLC0415

    if isinstance(model, Sequential) or not isinstance(model, Functional):
        return model.layers, True, []
    layers = model._operations
    sequential_like = True
    nodes = []
    for depth in model._nodes_by_depth:
        v = model._nodes_by_depth[depth]
        if len(v) > 1 or (len(v) == 1 and len(v[0].input_tensors) > 1):
            sequential_like = False
            break
        nodes += v
    if sequential_like:
        for layer in model.layers:
            seen = False
            for node in layer._inbound_nodes:
                if any(node is n for n in nodes):
                    if seen:
                        sequential_like = False
                        break
                    seen = True
            if not sequential_like:
                break
    relevant = [n for v in model._nodes_by_depth.values() for n in v]
    return layers, sequential_like, relevant


def _layer_range_bounds(layers, layer_range):
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2:
        raise ValueError(
            f"layer_range must be a list or tuple of length 2. Received: layer_range = {layer_range} of "
            f"length {len(layer_range)}"
        )
    if not isinstance(layer_range[0], str) or not isinstance(layer_range[1], str):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(f"Passed layer_names do not match the layer names in the model. Received: {layer_range}")
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


def print_summary(
    model, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False, layer_range=None
):
    """Keras 3's ``print_summary`` (keras/src/utils/summary_utils.py) rendered as rich renders its table to a
    pipe: heavy header box, a rule between rows, cells wrapped at words and cut with "…"."""
    layers, sequential_like, relevant_nodes = _layers_for_summary(model)
    if sequential_like:
        default_line_length = 88
        positions = positions or [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        alignment = ["left", "left", "right"]
    else:
        default_line_length = 108
        positions = positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        alignment = ["left", "left", "right", "left"]
    if show_trainable:
        default_line_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        alignment.append("center")
    default_line_length = min(default_line_length, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default_line_length
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width)
        current += width

    def connections(layer):
        text = ""
        for node in layer._inbound_nodes:
            if relevant_nodes and not any(node is n for n in relevant_nodes):
                continue
            for kt in node.input_tensors:
                op, node_index, tensor_index = kt._keras_history
                if text:
                    text += ", "
                text += f"{op.name}[{node_index}][{tensor_index}]"
        return text or "-"

    def fields(layer, prefix=""):
        name = f"{prefix}{layer.name} ({type(layer).__name__})"
        if not layer.built:
            params = "0 (unbuilt)"
        else:
            params = f"{layer.count_params():,}"
        row = [name, _layer_output_shape(layer), params]
        if not sequential_like:
            row.append(connections(layer))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        return row

    def rows_of(layer, level=0):
        prefix = "   " * level + "└ " if level else ""
        rows = [fields(layer, prefix)]
        if expand_nested and isinstance(layer, Model) and layer.layers:
            for sub in layer.layers:
                rows.extend(rows_of(sub, level + 1))
        return rows

    lo, hi = _layer_range_bounds(layers, layer_range)
    rows = []
    for layer in layers[lo:hi]:
        rows.extend(rows_of(layer))

    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    trainable_count, trainable_mem = _count(trainable), _memory(trainable)
    non_trainable_count, non_trainable_mem = _count(non_trainable), _memory(non_trainable)
    optimizer = getattr(model, "optimizer", None) if getattr(model, "compiled", False) else None
    optimizer_vars = list(optimizer.variables) if optimizer is not None and getattr(optimizer, "built", False) else None
    opt_count = _count(optimizer_vars) if optimizer_vars is not None else 0
    opt_mem = _memory(optimizer_vars) if optimizer_vars is not None else 0
    lines = [f'Model: "{model.name}"']
    lines.extend(_render_table(header, rows, widths, alignment, line_length))
    lines.append(
        f" Total params: {trainable_count + non_trainable_count + opt_count:,} "
        f"({_readable(trainable_mem + non_trainable_mem + opt_mem)})"
    )
    lines.append(f" Trainable params: {trainable_count:,} ({_readable(trainable_mem)})")
    lines.append(f" Non-trainable params: {non_trainable_count:,} ({_readable(non_trainable_mem)})")
    if optimizer_vars is not None:
        lines.append(f" Optimizer params: {opt_count:,} ({_readable(opt_mem)})")
    width = _console_width()
    text = "\n".join(line[:width] for line in lines) + "\n"  # rich crops lines at the console's width
    if print_fn is None:
        print(text, end="")
    else:
        print_fn(text)


def _console_width():
    """The width rich's Console finds: $COLUMNS, else the first of stdin/stdout/stderr that is a
    terminal, else 80."""
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    for fd in (0, 1, 2):
        try:
            return os.get_terminal_size(fd).columns or 80
        except (AttributeError, ValueError, OSError):
            continue
    return 80


def _ratio_reduce(total, ratios, maximums, values):
    """rich's ``ratio_reduce``: takes `total` off `values`, shared by `ratios` (rounding half to even)."""
    ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining = total
    out = []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            distributed = min(maximum, round(ratio * remaining / total_ratio))
            out.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            out.append(value)
    return out


def _wrap(text, width):
    """rich's word wrap with ``overflow="ellipsis"``: break at spaces, cut over-long lines with "…"."""
    lines = []
    for paragraph in text.split("\n"):
        words = re.findall(r"\s*\S+\s*", paragraph) or [""]
        line, offset = "", 0
        for word in words:
            word_length = len(word.rstrip())
            if width - offset >= word_length:
                line += word
                offset += len(word)
            elif offset:
                lines.append(line)
                line, offset = word, len(word)
            else:
                line += word
                offset += len(word)
        lines.append(line)
    out = []
    for line in lines:
        line = line.rstrip()
        if len(line) > width:
            line = line[: width - 1] + "…"
        out.append(line)
    return out


def _justify(text, width, how):
    if how == "right":
        return text.rjust(width)
    if how == "center":
        pad = width - len(text)
        left = pad // 2
        return " " * left + text + " " * (pad - left)
    return text.ljust(width)


def _render_table(header, rows, widths, alignment, line_length):
    n = len(widths)
    padded = [w + 2 for w in widths]
    max_width = line_length - (n + 1)
    if sum(padded) > max_width:
        padded = _ratio_reduce(sum(padded) - max_width, [1] * n, padded, padded)
    content = [w - 2 for w in padded]

    def render_row(cells, vertical):
        wrapped = [_wrap(c, w) for c, w in zip(cells, content)]
        height = max(len(w) for w in wrapped)
        out = []
        for i in range(height):
            parts = [_justify(w[i] if i < len(w) else "", cw, a) for w, cw, a in zip(wrapped, content, alignment)]
            out.append(vertical + vertical.join(f" {p} " for p in parts) + vertical)
        return out

    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in padded) + right

    lines = [rule("┏", "┳", "┓", "━")]
    lines.extend(render_row(header, "┃"))
    lines.append(rule("┡", "╇", "┩", "━"))
    for i, row in enumerate(rows):
        if i:
            lines.append(rule("├", "┼", "┤", "─"))
        lines.extend(render_row(row, "│"))
    lines.append(rule("└", "┴", "┘", "─"))
    return lines
