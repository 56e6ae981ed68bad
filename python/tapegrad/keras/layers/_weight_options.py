"""The per-weight ``<w>_initializer`` / ``<w>_regularizer`` / ``<w>_constraint`` arguments of the
built-in layers (Dense's kernel and bias, a conv's depthwise and pointwise kernels, an RNN cell's
recurrent kernel, ...): one place resolves them onto a layer, one place writes them into its config
in Keras's order (all initializers, all regularizers, the activity regularizer, all constraints).

>>> import tapegrad as tg
>>> layer = tg.keras.layers.Layer()
>>> set_weight_options(layer, kernel=("ones", "l2", None))
>>> sorted(weight_options_config(layer, ["kernel"]))
['kernel_constraint', 'kernel_initializer', 'kernel_regularizer']
"""

from .. import constraints, initializers, regularizers


def set_weight_options(layer, prefix="", **weights):
    """For each ``w=(initializer, regularizer, constraint)`` sets ``layer.<prefix><w>_initializer``,
    ``..._regularizer`` and ``..._constraint`` to their ``initializers/regularizers/constraints.get``."""
    for kind, module in enumerate((initializers, regularizers, constraints)):
        suffix = ("_initializer", "_regularizer", "_constraint")[kind]
        for w, options in weights.items():
            setattr(layer, prefix + w + suffix, module.get(options[kind]))


def weight_options_config(layer, names, activity=False, prefix=""):
    """The serialized options of weights ``names`` (attributes ``<prefix><w>_...``), with
    ``activity_regularizer`` between the regularizers and the constraints when ``activity``."""
    config = {f"{w}_initializer": initializers.serialize(getattr(layer, f"{prefix}{w}_initializer")) for w in names}
    config.update(
        {f"{w}_regularizer": regularizers.serialize(getattr(layer, f"{prefix}{w}_regularizer")) for w in names}
    )
    if activity:
        config["activity_regularizer"] = regularizers.serialize(getattr(layer, f"{prefix}activity_regularizer"))
    config.update({f"{w}_constraint": constraints.serialize(getattr(layer, f"{prefix}{w}_constraint")) for w in names})
    return config
