"""Keras 3's attention layers (keras/src/layers/attention/*.py): ``MultiHeadAttention``,
``Attention`` (dot-product / concat scores) and ``AdditiveAttention`` (Bahdanau).

``MultiHeadAttention`` keeps Keras's weights: four einsum projections named ``query``, ``key``,
``value`` and ``attention_output`` with kernels ``[dim, num_heads, key_dim]`` (output:
``[num_heads, value_dim, dim]``) and biases ``[num_heads, key_dim]`` (output: ``[dim]``), in that
order, so ``get_weights``/``set_weights`` exchange weights with Keras.

>>> import numpy as np, tapegrad as tg
>>> mha = tg.keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
>>> q = np.ones((1, 4, 5), np.float32)
>>> out, scores = mha(q, q, return_attention_scores=True)
>>> out.shape, scores.shape
(TensorShape([1, 4, 5]), TensorShape([1, 2, 4, 4]))
>>> [w.shape for w in mha.get_weights()][:2]
[(5, 2, 3), (2, 3)]
"""

import math
import string

import numpy as np

from ... import _ops, _ops_linalg, _ops_math, _ops_nnloss, _ops_shape
from ..._dtypes import bool as _bool
from .. import activations, initializers, regularizers
from ._weight_options import set_weight_options, weight_options_config
from .base import InputSpec, Layer
from .core import _EinsumLayer
from .rnn import _autocast, _build_sublayer, _layer_kwargs, _SeedGenerator

__all__ = ["MultiHeadAttention", "Attention", "AdditiveAttention"]


def _dropout(x, rate, seed_generator):
    """Inverted dropout (keep where ``u >= rate``, scale by ``1 / (1 - rate)``)."""
    if rate >= 1.0:
        return _ops.zeros_like(x)
    u = seed_generator.uniform(list(x.shape), x.dtype)
    keep = _ops.cast(_ops.greater_equal(u, _ops.constant(rate, dtype=x.dtype)), x.dtype)
    return x * keep * _ops.constant(1.0 / (1.0 - rate), dtype=x.dtype)


def _as_bool(mask):
    mask = _ops.convert_to_tensor(mask)
    return mask if mask.dtype == _bool else _ops.cast(mask, _bool)


class _EinsumProjection(_EinsumLayer):
    """The einsum projection MultiHeadAttention uses (Keras's ``EinsumDense`` reduced to what MHA
    needs): ``einsum(equation, x, kernel) + bias``, fans of VarianceScaling initializers taken over
    the contracted and produced kernel axes as EinsumDense does."""

    supports_masking = True

    def __init__(
        self,
        equation,
        output_shape,
        bias_axes=None,
        activation=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.equation = equation
        self.partial_output_shape = list(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        set_weight_options(
            self,
            kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
        )

    def _shapes(self, input_shape):
        inputs, rest = self.equation.split(",")
        kernel_spec, out_spec = rest.split("->")
        input_shape = tuple(input_shape)
        n_free = len(out_spec) - len(self.partial_output_shape)
        full = [None] * len(out_spec)
        for i, ch in enumerate(out_spec):
            if i >= n_free:
                full[i] = self.partial_output_shape[i - n_free]
            if full[i] is None and ch in inputs:
                full[i] = input_shape[inputs.index(ch)]
        kernel_shape = [
            input_shape[inputs.index(ch)] if ch in inputs else full[out_spec.index(ch)] for ch in kernel_spec
        ]
        bias_shape = None
        if self.bias_axes:
            first = min(out_spec.index(ch) for ch in self.bias_axes)
            bias_shape = [full[i] if ch in self.bias_axes else 1 for i, ch in enumerate(out_spec) if i >= first]
        input_axes = [i for i, ch in enumerate(kernel_spec) if ch in inputs]
        output_axes = [i for i, ch in enumerate(kernel_spec) if ch in out_spec]
        return kernel_shape, bias_shape, full, input_axes, output_axes

    def build(self, input_shape):
        kernel_shape, bias_shape, _, input_axes, output_axes = self._shapes(input_shape)
        self.input_spec = InputSpec(ndim=len(input_shape))
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling) and (init.input_axes is None or init.output_axes is None):
            config = init.get_config()
            config.update(input_axes=input_axes, output_axes=output_axes)
            init = type(init).from_config(config)
        self._add_einsum_weights(kernel_shape, bias_shape, init)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(self._shapes(input_shape)[2])

    def call(self, inputs):
        return self._einsum(inputs)


def _letter(i):
    return string.ascii_lowercase[i]


def _build_proj_equation(free_dims, bound_dims, output_dims):
    """Keras's projection equation: free input axes kept, bound axes contracted, output axes added."""
    input_str = "".join(_letter(i) for i in range(free_dims))
    output_str = input_str
    bound = "".join(_letter(free_dims + i) for i in range(bound_dims))
    outs = "".join(_letter(free_dims + bound_dims + i) for i in range(output_dims))
    return f"{input_str}{bound},{bound}{outs}->{output_str}{outs}", outs, len(output_str) + output_dims


def _output_shape(output_rank, known_last_dims):
    return [None] * (output_rank - len(known_last_dims)) + list(known_last_dims)


def _build_attention_equation(rank, attn_axes):
    """Keras's einsum equations for scores ``(key, query) -> scores`` and ``(scores, value) -> out``."""
    target = "".join(_letter(i) for i in range(rank))
    batch_dims = tuple(np.delete(range(rank), attn_axes + (rank - 1,)))
    offset = rank
    source = ""
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += _letter(offset)
            offset += 1
    product = "".join([target[i] for i in batch_dims] + [target[i] for i in attn_axes] + [source[i] for i in attn_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017; ``tf.keras.layers.MultiHeadAttention``).

    ``call(query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
    attention_mask=None, return_attention_scores=False, training=None, use_causal_mask=False)``;
    masks of the inputs (``_keras_mask``) and the causal mask are merged into the attention mask as
    Keras does. ``attention_axes`` picks the axes attention runs over (default: all but batch, heads
    and features).
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        if not isinstance(num_heads, int) or num_heads <= 0:
            raise ValueError(
                "Received an invalid value for argument `num_heads`, expected a positive integer. "
                f"Received: num_heads={num_heads}"
            )
        if not isinstance(key_dim, int) or key_dim <= 0:
            raise ValueError(
                "Received an invalid value for argument `key_dim`, expected a positive integer. "
                f"Received: key_dim={key_dim}"
            )
        if value_dim is not None and (not isinstance(value_dim, int) or value_dim <= 0):
            raise ValueError(
                "Received an invalid value for argument `value_dim`, expected a positive integer or "
                f"`None`. Received: value_dim={value_dim}"
            )
        if flash_attention:
            raise ValueError("Flash attention is not supported in tensorflow backend.")
        super().__init__(**kwargs)
        self.supports_masking = True
        self._num_heads = num_heads
        self._key_dim = key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout = dropout
        self._use_bias = use_bias
        self._use_gate = use_gate
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(
                    f"Invalid `output_shape`: {output_shape}. When specified, the `output_shape` "
                    "should be of type tuple, list, or int."
                ) from None
        self._output_shape = output_shape
        self._flash_attention = False
        set_weight_options(
            self,
            "_",
            kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
        )
        self._activity_regularizer = regularizers.get(activity_regularizer)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(
                f"`attention_axes` must be an int, list, or tuple.Received: attention_axes={attention_axes}"
            )
        self._attention_axes = attention_axes
        if sliding_window is not None and (not isinstance(sliding_window, int) or sliding_window <= 0):
            raise ValueError(
                f"`sliding_window` must be `None` or a positive integer. Received: sliding_window={sliding_window}"
            )
        self._sliding_window = sliding_window
        self.seed = seed
        object.__setattr__(self, "_seed_generator", _SeedGenerator(seed))
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        self._query_dense = None

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    def get_config(self):
        config = {
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "use_gate": self._use_gate,
            "output_shape": self._output_shape,
            "attention_axes": self._attention_axes,
            "sliding_window": self._sliding_window,
            **weight_options_config(self, ["kernel", "bias"], activity=True, prefix="_"),
            "seed": self.seed,
        }
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config):
        return cls(**_layer_kwargs(config))

    def build(self, query_shape, value_shape=None, key_shape=None):
        """Creates the projections; with only ``query_shape`` (an automatic build from the first
        call) the weights are made at that call, when the value and key shapes are known."""
        if value_shape is not None:
            self._build_projections(
                tuple(query_shape), tuple(value_shape), None if key_shape is None else tuple(key_shape)
            )
        self.built = True

    def _common_kwargs(self):
        return dict(
            kernel_regularizer=self._kernel_regularizer,
            bias_regularizer=self._bias_regularizer,
            activity_regularizer=self._activity_regularizer,
            kernel_constraint=self._kernel_constraint,
            bias_constraint=self._bias_constraint,
            dtype=self.dtype,
            kernel_initializer=self._kernel_initializer.__class__.from_config(self._kernel_initializer.get_config()),
            bias_initializer=self._bias_initializer.__class__.from_config(self._bias_initializer.get_config()),
        )

    def _build_projections(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. Received: "
                f"value_shape={value_shape} and key_shape={key_shape}"
            )
        heads = self._num_heads

        def proj(rank, last, name, activation=None):
            eq, bias_axes, out_rank = _build_proj_equation(rank - 1, bound_dims=1, output_dims=2)
            return _EinsumProjection(
                eq,
                output_shape=_output_shape(out_rank - 1, [heads, last]),
                bias_axes=bias_axes if self._use_bias else None,
                activation=activation,
                name=name,
                **self._common_kwargs(),
            )

        self._query_dense = proj(len(query_shape), self._key_dim, "query")
        _build_sublayer(self._query_dense, query_shape)
        self._key_dense = proj(len(key_shape), self._key_dim, "key")
        _build_sublayer(self._key_dense, key_shape)
        if self._use_gate:
            self._gate_dense = proj(len(query_shape), self._value_dim, "gate", activation="sigmoid")
            _build_sublayer(self._gate_dense, query_shape)
        self._value_dense = proj(len(value_shape), self._value_dim, "value")
        _build_sublayer(self._value_dense, value_shape)
        rank = len(value_shape) + 1
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(a if a >= 0 else (rank - 1) + a for a in self._attention_axes)
        self._dot_product_equation, self._combine_equation, scores_rank = _build_attention_equation(
            rank, attn_axes=self._attention_axes
        )
        self._norm_axes = tuple(range(scores_rank - len(self._attention_axes), scores_rank))
        out_shape = self._output_shape if self._output_shape else [query_shape[-1]]
        eq, bias_axes, out_rank = _build_proj_equation(len(query_shape) - 1, bound_dims=2, output_dims=len(out_shape))
        self._output_dense = _EinsumProjection(
            eq,
            output_shape=_output_shape(out_rank - 1, out_shape),
            bias_axes=bias_axes if self._use_bias else None,
            name="attention_output",
            **self._common_kwargs(),
        )
        dense_in = list(self._query_dense.compute_output_shape(query_shape))
        dense_in[-1] = self._value_dim
        _build_sublayer(self._output_dense, tuple(dense_in))

    def _masked_softmax(self, scores, mask, zero_masked):
        if mask is not None:
            axis = -len(self._attention_axes) * 2 - 1
            for _ in range(len(scores.shape) - len(mask.shape)):
                mask = _ops_shape.expand_dims(mask, axis)
            big = -1e9 if zero_masked else -0.7 * 3.38953e38
            scores = _ops.where(mask, scores, _ops.constant(big, dtype=scores.dtype))
        if len(self._norm_axes) > 1:
            probs = _ops.exp(scores - _ops_math.reduce_logsumexp(scores, axis=list(self._norm_axes), keepdims=True))
        else:
            probs = _ops_nnloss.softmax(scores, axis=self._norm_axes[0])
        if mask is not None and zero_masked:
            probs = _ops.where(mask, probs, _ops.zeros_like(probs))
        return probs

    def _compute_attention(self, query, key, value, attention_mask=None, training=None, return_attention_scores=False):
        # Keras runs ops.dot_product_attention (no zeroing of fully masked rows) unless it needs the
        # scores, dropout or a rank other than 4; the Softmax-layer path zeroes masked entries.
        scores_path = self._dropout > 0.0 or return_attention_scores or len(query.shape) != 4
        if scores_path:
            query = query * _ops.constant(self._inverse_sqrt_key_dim, dtype=query.dtype)
            scores = _ops_linalg.einsum(self._dot_product_equation, key, query)
        else:
            scores = _ops_linalg.einsum(self._dot_product_equation, key, query)
            scores = scores * _ops.constant(self._inverse_sqrt_key_dim, dtype=scores.dtype)
        scores = self._masked_softmax(scores, attention_mask, zero_masked=scores_path)
        final = scores
        if self._dropout > 0.0 and training:
            final = _dropout(scores, self._dropout, self._seed_generator)
        out = _ops_linalg.einsum(self._combine_equation, final, value)
        return out, (scores if scores_path else None)

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        key_given = key is not None
        if key is None:
            key = value
        masks = [getattr(t, "_keras_mask", None) for t in (query, value, key)]
        query, value, key = (_autocast(t, self.compute_dtype) for t in (query, value, key))
        for t, m in zip((query, value, key), masks):
            if m is not None and getattr(t, "_keras_mask", None) is None:
                t._keras_mask = m
        for name, t in (("query", query), ("value", value), ("key", key)):
            if len(t.shape) < 3:
                raise ValueError(
                    f"Layer '{self.name}' expects `{name}` of rank >= 3 (batch, ..., features). "
                    f"Received: {name}.shape={tuple(t.shape)}"
                )
        if self._query_dense is None:
            self._build_projections(tuple(query.shape), tuple(value.shape), tuple(key.shape))
        # as Keras: the query mask is the query's own mask; value/key masks default to theirs
        query_mask = getattr(query, "_keras_mask", None)
        if value_mask is None:
            value_mask = getattr(value, "_keras_mask", None)
        if key_mask is None and key_given and key is not value:
            key_mask = getattr(key, "_keras_mask", None)
        attention_mask = self._compute_attention_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
        )
        gate = self._gate_dense(query) if self._use_gate else None
        q = self._query_dense(query)
        k = self._key_dense(key)
        v = self._value_dense(value)
        out, scores = self._compute_attention(q, k, v, attention_mask, training, return_attention_scores)
        if gate is not None:
            out = out * gate
        out = self._output_dense(out)
        if query_mask is not None:
            out._keras_mask = query_mask
        if return_attention_scores:
            return out, scores
        return out

    def _compute_attention_mask(
        self, query, value, query_mask=None, value_mask=None, key_mask=None, attention_mask=None, use_causal_mask=False
    ):
        auto = None
        if query_mask is not None:
            auto = _ops_shape.expand_dims(_as_bool(query_mask), -1)
        for m in (value_mask, key_mask):
            if m is not None:
                m = _ops_shape.expand_dims(_as_bool(m), -2)
                auto = m if auto is None else _ops.logical_and(auto, m)
        if use_causal_mask:
            m = self._compute_causal_mask(query, value)
            auto = m if auto is None else _ops.logical_and(auto, m)
        if self._sliding_window is not None:
            t, s = query.shape[1], value.shape[1]
            m = np.abs(np.arange(t)[:, None] - np.arange(s)[None, :]) < self._sliding_window
            m = _ops.convert_to_tensor(m[None])
            auto = m if auto is None else _ops.logical_and(auto, m)
        if attention_mask is not None:
            attention_mask = _as_bool(attention_mask)
        if auto is not None:
            attention_mask = auto if attention_mask is None else _ops.logical_and(attention_mask, auto)
        return attention_mask

    def _compute_causal_mask(self, query, value=None):
        """``[1, T, S]`` lower-triangular boolean mask (row >= column)."""
        t = query.shape[1]
        s = t if value is None else value.shape[1]
        return _ops.convert_to_tensor(np.tril(np.ones((t, s), dtype=bool))[None])

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. Received: "
                f"value_shape={value_shape} and key_shape={key_shape}"
            )
        if self._output_shape:
            query_shape = query_shape[:-1] + self._output_shape
        return query_shape


class Attention(Layer):
    """Dot-product attention (Luong-style; ``tf.keras.layers.Attention``): called on
    ``[query, value]`` or ``[query, value, key]`` with optional ``mask=[query_mask, value_mask]``;
    ``score_mode`` "dot" (``query @ key^T``, times ``scale`` with ``use_scale``) or "concat"
    (``sum(tanh(query + key))``).

    >>> import numpy as np, tapegrad as tg
    >>> q = np.ones((2, 3, 4), np.float32)
    >>> tg.keras.layers.Attention()([q, q]).shape
    TensorShape([2, 3, 4])
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        object.__setattr__(self, "seed_generator", _SeedGenerator(seed))
        if self.score_mode not in ["dot", "concat"]:
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode}"
            )
        self.supports_masking = True

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones", trainable=True)
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(
                name="concat_score_weight", shape=(), initializer="ones", trainable=True
            )
        self.built = True

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = _ops.matmul(query, _ops.transpose(key, _swap_last(len(key.shape))))
            if self.scale is not None:
                scores = scores * self.scale
            return scores
        q = _ops_shape.expand_dims(query, -2)
        k = _ops_shape.expand_dims(key, -3)
        if self.scale is not None:
            return self.concat_score_weight * _ops.reduce_sum(_ops.tanh(self.scale * (q + k)), axis=-1)
        return self.concat_score_weight * _ops.reduce_sum(_ops.tanh(q + k), axis=-1)

    def _apply_scores(self, scores, value, scores_mask=None, training=False):
        if scores_mask is not None:
            padding = _ops.logical_not(scores_mask)
            if len(padding.shape) == 2:
                padding = _ops_shape.expand_dims(padding, -2)
            scores = _ops.where(padding, scores - _ops.constant(1.0e9, dtype=scores.dtype), scores)
        weights = _ops_nnloss.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            weights = _dropout(weights, self.dropout, self.seed_generator)
        return _ops.matmul(weights, value), weights

    def _calculate_score_mask(self, scores, v_mask, use_causal_mask):
        if use_causal_mask:
            t, s = scores.shape[-2], scores.shape[-1]
            causal = _ops.convert_to_tensor(np.tril(np.ones((t, s), dtype=bool))[None])
            if v_mask is not None:
                return _ops.logical_and(_ops_shape.expand_dims(v_mask, -2), causal)
            return causal
        return v_mask

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        self._validate_inputs(inputs=inputs, mask=mask)
        if mask is None:
            masks = [getattr(t, "_keras_mask", None) for t in inputs]
            mask = masks if any(m is not None for m in masks) else None
        inputs = [_autocast(t, self.compute_dtype) for t in inputs]
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        for name, t in (("query", q), ("value", v), ("key", k)):
            if len(t.shape) < 3:
                raise ValueError(
                    f"Layer '{self.name}' expects `{name}` of rank >= 3 (batch, timesteps, dim). "
                    f"Received: {name}.shape={tuple(t.shape)}"
                )
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        if v_mask is not None:
            v_mask = _as_bool(v_mask)
        scores = self._calculate_scores(query=q, key=k)
        scores_mask = self._calculate_score_mask(scores, v_mask, use_causal_mask)
        out, weights = self._apply_scores(scores=scores, value=v, scores_mask=scores_mask, training=training)
        if q_mask is not None:
            q_mask = _ops_shape.expand_dims(_as_bool(q_mask), -1)
            out = _ops.where(q_mask, out, _ops.zeros_like(out))
            out._keras_mask = _as_bool(mask[0])
        if return_attention_scores:
            return out, weights
        return out

    def compute_mask(self, inputs, mask=None):
        self._validate_inputs(inputs=inputs, mask=mask)
        if mask is None or mask[0] is None:
            return None
        return _ops.convert_to_tensor(mask[0])

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    def _validate_inputs(self, inputs, mask=None):
        class_name = type(self).__name__
        if not isinstance(inputs, list):
            raise ValueError(
                f"{class_name} layer must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]. Received: inputs={inputs}."
            )
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(
                f"{class_name} layer accepts inputs list of length 2 or 3, namely [query, value] or "
                f"[query, value, key]. Received length: {len(inputs)}."
            )
        if mask is not None:
            if not isinstance(mask, list):
                raise ValueError(
                    f"{class_name} layer mask must be a list, namely [query_mask, value_mask]. Received: mask={mask}."
                )
            if len(mask) < 2 or len(mask) > 3:
                raise ValueError(
                    f"{class_name} layer accepts mask list of length 2 or 3. Received: inputs={inputs}, mask={mask}."
                )

    def get_config(self):
        config = {
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}


def _swap_last(rank):
    perm = list(range(rank))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return perm


class AdditiveAttention(Attention):
    """Additive attention (Bahdanau-style; ``tf.keras.layers.AdditiveAttention``): scores
    ``sum(scale * tanh(query + key))`` with a learned ``scale`` of shape ``[dim]``.

    >>> import numpy as np, tapegrad as tg
    >>> q = np.ones((2, 3, 4), np.float32)
    >>> layer = tg.keras.layers.AdditiveAttention()
    >>> layer([q, q]).shape, layer.scale.shape
    (TensorShape([2, 3, 4]), TensorShape([4]))
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        dim = input_shape[0][-1]
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=[dim], initializer="glorot_uniform", trainable=True)
        self.built = True

    def _calculate_scores(self, query, key):
        q = _ops_shape.expand_dims(query, -2)
        k = _ops_shape.expand_dims(key, -3)
        t = _ops.tanh(q + k)
        if self.use_scale:
            t = self.scale * t
        return _ops.reduce_sum(t, axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
