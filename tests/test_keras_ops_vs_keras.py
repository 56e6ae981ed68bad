"""``tg.keras.ops`` against real Keras 3 (TensorFlow backend) on the same inputs: values, dtypes
and, for differentiable ops, the gradient of ``sum(op(x) * w)`` for a fixed random ``w``."""

import os

import numpy as np
import pytest

import tapegrad as tg

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
keras = pytest.importorskip("keras")
tf_ref = pytest.importorskip("tensorflow")

R = np.random.default_rng(0)
A = R.standard_normal((3, 4)).astype("float32")
B = R.standard_normal((3, 4)).astype("float32")
SQ = (R.standard_normal((4, 4)) + 4 * np.eye(4)).astype("float32")
SPD = (SQ @ SQ.T).astype("float32")
POS = (np.abs(A) + 0.5).astype("float32")
UNIT = np.tanh(A).astype("float32") * 0.9
I = np.array([[1, 3, 0], [2, 2, 1]], dtype="int32")  # noqa: E741  (the integer operand)
V = R.standard_normal(5).astype("float32")
IMG = R.standard_normal((2, 6, 6, 3)).astype("float32")
KER = R.standard_normal((3, 3, 3, 4)).astype("float32")
NANS = np.array([np.nan, np.inf, -np.inf, 1.0, -2.0], "float32")
NAN2 = np.where(R.random((3, 4)) < 0.3, np.nan, A).astype("float32")

# (name, args, kwargs, indices of the args to differentiate)
CASES = [
    ("add", (A, B), {}, (0, 1)),
    ("add", (I, 1.5), {}, ()),
    ("add", (I, 2), {}, ()),
    ("subtract", (A, B), {}, (0, 1)),
    ("multiply", (A, B), {}, (0, 1)),
    ("multiply", (I, A[:2, :3]), {}, (1,)),
    ("divide", (A, POS), {}, (0, 1)),
    ("divide", (I, 2), {}, ()),
    ("true_divide", (A, POS), {}, (0,)),
    ("power", (POS, B), {}, (0, 1)),
    ("maximum", (A, B), {}, (0, 1)),
    ("minimum", (A, 0.0), {}, (0,)),
    ("mod", (A, 0.7), {}, ()),
    ("floor_divide", (I, 2), {}, ()),
    ("arctan2", (A, B), {}, (0, 1)),
    ("exp", (A,), {}, (0,)),
    ("exp", (I,), {}, ()),
    ("log", (POS,), {}, (0,)),
    ("log1p", (POS,), {}, (0,)),
    ("expm1", (A,), {}, (0,)),
    ("sqrt", (POS,), {}, (0,)),
    ("sqrt", (I,), {}, ()),
    ("rsqrt", (POS,), {}, (0,)),
    ("square", (A,), {}, (0,)),
    ("square", (I,), {}, ()),
    ("abs", (A,), {}, (0,)),
    ("negative", (A,), {}, (0,)),
    ("sin", (A,), {}, (0,)),
    ("cos", (A,), {}, (0,)),
    ("tan", (UNIT,), {}, (0,)),
    ("tanh", (A,), {}, (0,)),
    ("arcsin", (UNIT,), {}, (0,)),
    ("arccos", (UNIT,), {}, (0,)),
    ("arctan", (A,), {}, (0,)),
    ("sinh", (A,), {}, (0,)),
    ("cosh", (A,), {}, (0,)),
    ("arcsinh", (A,), {}, (0,)),
    ("arctanh", (UNIT,), {}, (0,)),
    ("arccosh", (POS + 1,), {}, (0,)),
    ("log2", (POS,), {}, (0,)),
    ("log10", (POS,), {}, (0,)),
    ("exp2", (A,), {}, (0,)),
    ("erf", (A,), {}, (0,)),
    ("reciprocal", (POS,), {}, (0,)),
    ("sign", (A,), {}, ()),
    ("floor", (A,), {}, ()),
    ("ceil", (A,), {}, ()),
    ("round", (A * 3,), {}, ()),
    ("trunc", (A * 3,), {}, ()),
    ("clip", (A, -0.5, 0.5), {}, (0,)),
    ("clip", (I, 1, 2), {}, ()),
    ("logaddexp", (A, B), {}, (0, 1)),
    ("hypot", (A, B), {}, (0, 1)),
    ("cbrt", (A,), {}, ()),
    ("deg2rad", (A,), {}, (0,)),
    ("rad2deg", (A,), {}, (0,)),
    ("equal", (I, 2), {}, ()),
    ("not_equal", (A, B), {}, ()),
    ("less", (A, B), {}, ()),
    ("less_equal", (A, 0.0), {}, ()),
    ("greater", (A, B), {}, ()),
    ("greater_equal", (I, 1), {}, ()),
    ("logical_and", (A > 0, B > 0), {}, ()),
    ("logical_or", (A > 0, B > 0), {}, ()),
    ("logical_xor", (A > 0, B > 0), {}, ()),
    ("logical_not", (A > 0,), {}, ()),
    ("isnan", (A,), {}, ()),
    ("isfinite", (A,), {}, ()),
    ("isinf", (A,), {}, ()),
    ("isclose", (A, A + 1e-7), {}, ()),
    ("where", (A > 0, A, B), {}, (1, 2)),
    ("where", (A > 0, A, 0.0), {}, (1,)),
    ("sum", (A,), {}, (0,)),
    ("sum", (A,), {"axis": 1, "keepdims": True}, (0,)),
    ("sum", (I,), {"axis": 0}, ()),
    ("mean", (A,), {"axis": 0}, (0,)),
    ("mean", (I,), {}, ()),
    ("max", (A,), {"axis": -1}, (0,)),
    ("min", (A,), {"axis": (0, 1)}, (0,)),
    ("prod", (A,), {"axis": 1}, (0,)),
    ("var", (A,), {"axis": 1}, (0,)),
    ("std", (A,), {}, (0,)),
    ("all", (A > -2,), {"axis": 1}, ()),
    ("any", (A > 1,), {}, ()),
    ("argmax", (A,), {"axis": -1}, ()),
    ("argmax", (A,), {}, ()),
    ("argmin", (A,), {"axis": 0}, ()),
    ("argmax", (A,), {"axis": 1, "keepdims": True}, ()),
    ("cumsum", (A,), {"axis": 1}, (0,)),
    ("cumsum", (A,), {}, (0,)),
    ("cumprod", (A,), {"axis": 0}, (0,)),
    ("logsumexp", (A,), {"axis": 1}, (0,)),
    ("count_nonzero", (I,), {"axis": 1}, ()),
    ("ptp", (A,), {"axis": 0}, ()),
    ("average", (A,), {"axis": 1}, (0,)),
    ("average", (A,), {"axis": 1, "weights": POS[0]}, (0,)),
    ("median", (A,), {"axis": 1}, (0,)),
    ("quantile", (A, 0.3), {"axis": 0}, (0,)),
    ("percentile", (V, 40.0), {}, (0,)),
    ("reshape", (A, (2, -1)), {}, (0,)),
    ("reshape", (A, (12,)), {}, (0,)),
    ("transpose", (A,), {}, (0,)),
    ("transpose", (IMG, (0, 3, 1, 2)), {}, (0,)),
    ("expand_dims", (A, 1), {}, (0,)),
    ("expand_dims", (A, (0, 3)), {}, (0,)),
    ("squeeze", (A[:, :1],), {}, (0,)),
    ("squeeze", (A[None],), {"axis": 0}, (0,)),
    ("ravel", (A,), {}, (0,)),
    ("flip", (A,), {"axis": 1}, (0,)),
    ("flip", (A,), {}, (0,)),
    ("roll", (A, 2), {"axis": 1}, (0,)),
    ("roll", (A, -1), {}, (0,)),
    ("tile", (A, (2, 1)), {}, (0,)),
    ("tile", (V, 2), {}, (0,)),
    ("repeat", (A, 2), {"axis": 0}, (0,)),
    ("repeat", (A, 2), {}, (0,)),
    ("broadcast_to", (V, (2, 5)), {}, (0,)),
    ("moveaxis", (IMG, 3, 1), {}, (0,)),
    ("swapaxes", (IMG, 1, 3), {}, (0,)),
    ("pad", (A, ((1, 0), (2, 1))), {}, (0,)),
    ("pad", (A, ((1, 1), (2, 1))), {"mode": "reflect"}, (0,)),
    ("pad", (A, ((0, 1), (1, 1))), {"constant_values": 2.0}, (0,)),
    ("take", (A, np.array([0, 2, -1])), {"axis": 1}, (0,)),
    ("take", (A, np.array([[0, 5], [11, 3]])), {}, (0,)),
    ("take_along_axis", (A, np.argsort(A, axis=1)[:, :2]), {"axis": 1}, (0,)),
    ("sort", (A,), {"axis": 1}, (0,)),
    ("sort", (A,), {"axis": 0}, (0,)),
    ("argsort", (A,), {"axis": -1}, ()),
    ("tril", (SQ,), {}, (0,)),
    ("triu", (SQ, 1), {}, (0,)),
    ("diagonal", (SQ,), {}, (0,)),
    ("diagonal", (SQ, 1), {}, (0,)),
    ("diag", (SQ,), {}, (0,)),
    ("diag", (V,), {}, (0,)),
    ("diag", (V, -1), {}, (0,)),
    ("trace", (SQ,), {}, (0,)),
    ("matmul", (A, B.T), {}, (0, 1)),
    ("matmul", (A, V[:4]), {}, (0, 1)),
    ("matmul", (IMG[..., :2], IMG[:, :, :2, :]), {}, (0, 1)),
    ("dot", (A, B.T), {}, (0, 1)),
    ("dot", (A, V[:4]), {}, (0, 1)),
    ("vdot", (A, B), {}, (0, 1)),
    ("inner", (A, B), {}, (0, 1)),
    ("outer", (V, V[:3]), {}, (0, 1)),
    ("tensordot", (A, B), {"axes": ([1], [1])}, (0, 1)),
    ("einsum", ("ij,kj->ik", A, B), {}, (1, 2)),
    ("kron", (A[:2, :2], B[:2, :3]), {}, (0, 1)),
    ("cross", (A[:, :3], B[:, :3]), {}, (0, 1)),
    ("diff", (A,), {"axis": 1}, (0,)),
    ("diff", (V,), {"n": 2}, (0,)),
    ("stack", ([A, B],), {"axis": 1}, ()),
    ("concatenate", ([A, B],), {"axis": 1}, ()),
    ("hstack", ([A, B],), {}, ()),
    ("vstack", ([V, V],), {}, ()),
    ("split", (A, 2), {"axis": 1}, ()),
    ("split", (A, [1, 3]), {"axis": 1}, ()),
    ("array_split", (V, 3), {}, ()),
    ("norm", (A,), {}, (0,)),
    ("norm", (A,), {"axis": 1}, (0,)),
    ("norm", (A,), {"ord": 1, "axis": 1}, (0,)),
    ("norm", (A,), {"ord": np.inf, "axis": -1}, (0,)),
    ("norm", (A,), {"ord": "fro"}, (0,)),
    ("norm", (A,), {"ord": 1}, ()),
    ("zeros_like", (A,), {}, ()),
    ("ones_like", (I,), {}, ()),
    ("full_like", (A, 3), {}, ()),
    ("nan_to_num", (np.array([np.nan, np.inf, -np.inf, 1.0], "float32"),), {}, ()),
    ("heaviside", (A, 0.5), {}, ()),
    ("sinc", (A,), {}, (0,)),
    ("correlate", (V, V[:3]), {}, (0, 1)),
    ("correlate", (V, V[:3]), {"mode": "full"}, (0, 1)),
    ("correlate", (V, V[:3]), {"mode": "same"}, (0, 1)),
    ("trapezoid", (A,), {}, (0,)),
    ("bincount", (np.array([0, 1, 1, 4]),), {}, ()),
    ("bincount", (np.array([0, 1, 1, 3]),), {"weights": V[:4], "minlength": 6}, ()),
    ("digitize", (V, np.array([-1.0, 0.0, 1.0])), {}, ()),
    ("searchsorted", (np.sort(V), A.ravel()), {}, ()),
    ("select", ([A > 0.5, A < -0.5], [A, B]), {}, ()),
    ("fmod", (A * 3, 0.7), {}, ()),
    ("append", (A, B), {}, (0, 1)),
    ("append", (A, B), {"axis": 0}, (0, 1)),
    ("real", (A,), {}, ()),
    ("imag", (A,), {}, ()),
    ("conj", (A,), {}, ()),
    ("copy", (A,), {}, (0,)),
    ("diagflat", (A[:2, :2],), {}, (0,)),
    ("hsplit", (A, 2), {}, ()),
    ("vsplit", (A[:2], 2), {}, ()),
    ("dsplit", (IMG[0], 3), {}, ()),
    ("dstack", ([A, B],), {}, ()),
    ("dstack", ([V, V],), {}, ()),
    ("isposinf", (NANS,), {}, ()),
    ("isneginf", (NANS,), {}, ()),
    ("signbit", (A,), {}, ()),
    ("logaddexp2", (A, B), {}, (0, 1)),
    ("nansum", (NANS,), {}, ()),
    ("nansum", (NAN2,), {"axis": 1}, ()),
    ("nanmean", (NAN2,), {"axis": 0}, ()),
    ("nanmax", (NAN2,), {"axis": 1}, ()),
    ("nanmin", (NAN2,), {}, ()),
    ("nanprod", (NAN2,), {"axis": 1}, ()),
    ("nanstd", (NAN2,), {"axis": 1}, ()),
    ("nanvar", (NAN2,), {}, ()),
    ("nanargmax", (NAN2,), {"axis": 1}, ()),
    ("nanargmin", (NAN2,), {"axis": 0}, ()),
    ("nancumsum", (NAN2,), {"axis": 1}, ()),
    ("nancumprod", (NAN2,), {"axis": 0}, ()),
    ("nanmedian", (NAN2,), {"axis": 1}, ()),
    ("nanquantile", (NAN2, 0.3), {"axis": 1}, ()),
    ("nanpercentile", (NAN2, 70.0), {}, ()),
    ("geomspace", (1.0, 100.0, 5), {}, ()),
    ("gcd", (I, 2), {}, ()),
    ("lcm", (I + 1, 4), {}, ()),
    ("bitwise_and", (I, 3), {}, ()),
    ("bitwise_or", (I, 4), {}, ()),
    ("bitwise_xor", (I, 1), {}, ()),
    ("bitwise_invert", (I,), {}, ()),
    ("bitwise_left_shift", (I, 2), {}, ()),
    ("right_shift", (I, 1), {}, ()),
    ("ldexp", (A, np.array([[1, 2, 0, -1]] * 3, "int32")), {}, ()),
    ("nextafter", (A, B), {}, ()),
    ("vander", (V,), {}, (0,)),
    ("vander", (V, 3), {"increasing": True}, (0,)),
    ("unravel_index", (np.array([1, 5, 7]), (3, 4)), {}, ()),
    ("isin", (I, np.array([1, 3])), {}, ()),
    ("histogram", (V,), {"bins": 4}, ()),
    ("hamming", (5,), {}, ()),
    ("hanning", (5,), {}, ()),
    ("blackman", (5,), {}, ()),
    ("bartlett", (5,), {}, ()),
    ("kaiser", (5, 2.0), {}, ()),
    ("i0", (A,), {}, ()),
    ("get_item", (A, 1), {}, (0,)),
    ("saturate_cast", (A * 1e3, "int32"), {}, ()),
    ("corrcoef", (A,), {}, (0,)),
    ("cdist", (A, B), {}, (0, 1)),
    ("erfinv", (UNIT,), {}, (0,)),
    ("space_to_depth", (IMG[:, :4, :4], 2), {}, (0,)),
    ("depth_to_space", (np.tile(IMG[:, :2, :2], (1, 1, 1, 4)), 2), {}, (0,)),
    ("separable_conv", (IMG, KER[..., :1], R.standard_normal((1, 1, 3, 2)).astype("float32")), {}, (0, 1, 2)),
    ("segment_min", (A, np.array([0, 1, 0])), {"num_segments": 2}, (0,)),
    ("conv_transpose", (IMG, KER.transpose(0, 1, 3, 2)), {"strides": 2}, (0, 1)),
    ("conv_transpose", (IMG, KER.transpose(0, 1, 3, 2)), {"strides": 2, "padding": "same"}, (0, 1)),
    ("conv_transpose", (IMG, KER.transpose(0, 1, 3, 2)), {"strides": 2, "output_padding": 1}, (0, 1)),
    ("conv_transpose", (IMG[:, 0], KER[0].transpose(0, 2, 1)), {"strides": 3, "padding": "same"}, (0, 1)),
    ("segment_prod", (A, np.array([0, 2, 0])), {"num_segments": 3}, (0,)),
    # nn
    ("relu", (A,), {}, (0,)),
    ("relu6", (A * 5,), {}, (0,)),
    ("sigmoid", (A,), {}, (0,)),
    ("softplus", (A,), {}, (0,)),
    ("softsign", (A,), {}, (0,)),
    ("silu", (A,), {}, (0,)),
    ("swish", (A,), {}, (0,)),
    ("gelu", (A,), {}, (0,)),
    ("gelu", (A,), {"approximate": False}, (0,)),
    ("elu", (A,), {}, (0,)),
    ("selu", (A,), {}, (0,)),
    ("leaky_relu", (A,), {}, (0,)),
    ("log_sigmoid", (A,), {}, (0,)),
    ("hard_sigmoid", (A * 4,), {}, (0,)),
    ("hard_silu", (A * 4,), {}, (0,)),
    ("celu", (A,), {}, (0,)),
    ("glu", (A,), {}, (0,)),
    ("hard_tanh", (A * 2,), {}, (0,)),
    ("softmax", (A,), {}, (0,)),
    ("softmax", (A,), {"axis": 0}, (0,)),
    ("log_softmax", (A,), {}, (0,)),
    ("one_hot", (I, 4), {}, ()),
    ("one_hot", (I, 4), {"axis": 0}, ()),
    ("multi_hot", (I, 5), {}, ()),
    ("categorical_crossentropy", (np.eye(4, dtype="float32")[[0, 2, 3]], np.abs(A) + 0.1), {}, (1,)),
    ("categorical_crossentropy", (np.eye(4, dtype="float32")[[0, 2, 3]], A), {"from_logits": True}, (1,)),
    ("sparse_categorical_crossentropy", (np.array([0, 2, 3]), np.abs(A) + 0.1), {}, (1,)),
    ("sparse_categorical_crossentropy", (np.array([0, 2, 3]), A), {"from_logits": True}, (1,)),
    ("binary_crossentropy", ((A > 0).astype("float32"), 1 / (1 + np.exp(-B))), {}, (1,)),
    ("binary_crossentropy", ((A > 0).astype("float32"), B), {"from_logits": True}, (1,)),
    ("moments", (A, [0]), {}, (0,)),
    ("moments", (IMG, [0, 1, 2]), {"keepdims": True}, (0,)),
    ("normalize", (A,), {}, (0,)),
    ("normalize", (A,), {"axis": 0, "order": 1}, (0,)),
    ("batch_normalization", (A, V[:4], POS[0], -1), {"offset": B[0], "scale": POS[1]}, (0, 1, 2)),
    ("top_k", (A, 2), {}, (0,)),
    ("conv", (IMG, KER), {}, (0, 1)),
    ("conv", (IMG, KER), {"padding": "same", "strides": 2}, (0, 1)),
    ("max_pool", (IMG, 2), {}, (0,)),
    ("average_pool", (IMG, 3), {"strides": 1, "padding": "same"}, (0,)),
    ("depthwise_conv", (IMG, KER[..., :2]), {}, (0, 1)),
    ("psnr", (POS, POS * 1.1, 2.0), {}, (0, 1)),
    ("dot_product_attention", (IMG[:, :4, :2], IMG[:, 1:5, :2], IMG[:, 2:6, :2]), {}, (0, 1, 2)),
    ("dot_product_attention", (IMG[:, :4, :2], IMG[:, 1:5, :2], IMG[:, 2:6, :2]), {"is_causal": True}, (0, 1, 2)),
    ("segment_sum", (A, np.array([0, 1, 0])), {"num_segments": 2}, (0,)),
    ("segment_max", (A, np.array([0, 1, 0])), {"num_segments": 2}, (0,)),
    ("extract_sequences", (A, 2, 1), {}, (0,)),
    # linalg
    ("det", (SQ,), {}, (0,)),
    ("inv", (SQ,), {}, (0,)),
    ("solve", (SQ, A.T), {}, (0, 1)),
    ("solve", (SQ, V[:4]), {}, (0, 1)),
    ("cholesky", (SPD,), {}, ()),
    ("slogdet", (SQ,), {}, ()),
    ("logdet", (SPD,), {}, ()),
    ("solve_triangular", (np.tril(SQ), A.T), {"lower": True}, (0, 1)),
    ("eigh", (SPD,), {}, ()),
    ("svd", (A,), {"compute_uv": False}, ()),
    ("lstsq", (A.T, V[:4]), {}, ()),
    # core
    ("cast", (A, "int32"), {}, ()),
    ("cast", (I, "float32"), {}, ()),
    ("convert_to_tensor", ([1, 2],), {}, ()),
    ("convert_to_tensor", ([1.0, 2.0],), {}, ()),
    ("stop_gradient", (A,), {}, ()),
    ("slice", (A, (1, 1), (2, 2)), {}, (0,)),
    ("slice_update", (A, (1, 1), B[:2, :2]), {}, ()),
    ("scatter", (np.array([[0, 1], [2, 3]]), np.array([1.0, 2.0], "float32"), (3, 4)), {}, ()),
    ("scatter_update", (A, np.array([[0, 1], [2, 3]]), np.array([1.0, 2.0], "float32")), {}, (0,)),
    ("unstack", (A,), {"axis": 1}, ()),
    ("zeros", ((2, 3),), {}, ()),
    ("ones", ((2,),), {"dtype": "int32"}, ()),
    ("full", ((2, 2), 7), {}, ()),
    ("eye", (3,), {}, ()),
    ("eye", (3, 4, 1), {}, ()),
    ("identity", (3,), {}, ()),
    ("tri", (3,), {}, ()),
    ("arange", (5,), {}, ()),
    ("arange", (1, 5, 2), {}, ()),
    ("arange", (0.0, 1.0, 0.25), {}, ()),
    ("linspace", (0.0, 1.0, 5), {}, ()),
    ("logspace", (0.0, 2.0, 3), {}, ()),
]


def _as_tg(v):
    return tg.constant(v) if isinstance(v, np.ndarray) else v


def _as_ref(v):
    return tf_ref.constant(v) if isinstance(v, np.ndarray) else v


def _flat(out):
    if isinstance(out, (list, tuple)):
        return [o for x in out for o in _flat(x)]
    return [out]


def _np(x, ref):
    if ref:
        return keras.ops.convert_to_numpy(x)
    return np.asarray(x.numpy() if hasattr(x, "numpy") else tg.convert_to_tensor(x).numpy())


def _run(lib, name, args, kwargs, diff, weights_seed, ref):
    fn = getattr(lib.ops, name)
    conv = _as_ref if ref else _as_tg
    targs = [conv(a) if not isinstance(a, list) else [conv(e) for e in a] for a in args]
    tape_cls = tf_ref.GradientTape if ref else tg.GradientTape
    with tape_cls(persistent=True) as tape:
        for i in diff:
            tape.watch(targs[i])
        out = fn(*targs, **kwargs)
        outs = _flat(out)
        loss = None
        if diff:
            rng = np.random.default_rng(weights_seed)
            for o in outs:
                if not str(o.dtype.name if hasattr(o.dtype, "name") else o.dtype).startswith("float"):
                    continue
                w = rng.standard_normal(tuple(o.shape)).astype(o.dtype.name if hasattr(o.dtype, "name") else "float32")
                term = (tf_ref.reduce_sum if ref else tg.reduce_sum)(o * conv(w))
                loss = term if loss is None else loss + term
    values = [_np(o, ref) for o in outs]
    dtypes = [np.asarray(v).dtype.name for v in values]
    grads = [_np(g, ref) for g in tape.gradient(loss, [targs[i] for i in diff])] if diff else []
    return values, dtypes, grads


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_op_matches_keras(case):
    name, args, kwargs, diff = case
    got, got_dt, got_g = _run(tg.keras, name, args, kwargs, diff, 1, ref=False)
    want, want_dt, want_g = _run(keras, name, args, kwargs, diff, 1, ref=True)
    assert len(got) == len(want)
    assert got_dt == want_dt, f"{name}: dtypes {got_dt} vs Keras {want_dt}"
    for g, w in zip(got, want):
        assert g.shape == w.shape, f"{name}: shape {g.shape} vs Keras {w.shape}"
        if name in ("eigh",):
            g, w = np.abs(g), np.abs(w)
        np.testing.assert_allclose(g, w, rtol=2e-4, atol=2e-5, err_msg=name)
    for g, w in zip(got_g, want_g):
        np.testing.assert_allclose(g, w, rtol=2e-3, atol=1e-4, err_msg=f"gradient of {name}")


def test_ops_qr_svd_reconstruct():
    q, r = tg.keras.ops.qr(A.T)
    np.testing.assert_allclose(tg.keras.ops.matmul(q, r).numpy(), A.T, atol=1e-5)
    u, s, vh = tg.keras.ops.svd(A, full_matrices=False)
    ku, ks, kvh = (keras.ops.convert_to_numpy(t) for t in keras.ops.svd(A, full_matrices=False))
    assert u.shape == ku.shape and vh.shape == kvh.shape
    np.testing.assert_allclose(s.numpy(), ks, rtol=1e-5)
    np.testing.assert_allclose((u.numpy() * s.numpy()) @ vh.numpy(), A, atol=1e-5)


def test_ops_shape_size_ndim_like_keras():
    for fn in ("shape", "size", "ndim"):
        assert getattr(tg.keras.ops, fn)(tg.constant(IMG)) == getattr(keras.ops, fn)(tf_ref.constant(IMG))


def test_ops_result_types_like_keras():
    from tapegrad.keras.ops.core import result_type

    cases = [
        ("int32", "float32"),
        ("int64", "float32"),
        ("int32", "int64"),
        ("float32", "float64"),
        ("bool", "int32"),
        ("bool", "float32"),
        ("float16", "bfloat16"),
        ("float16", "float32"),
        ("int32", "float16"),
    ]
    for a, b in cases:
        assert result_type(np.zeros(1, a), np.zeros(1, b)) == keras.backend.result_type(a, b), (a, b)


@pytest.mark.parametrize("ns", ["ops", "random", "utils"])
def test_signatures_match_keras(ns):
    import inspect

    mismatched = []
    for name in dir(getattr(keras, ns)):
        theirs, ours = getattr(getattr(keras, ns), name), getattr(getattr(tg.keras, ns), name, None)
        if (
            name.startswith("_")
            or ours is None
            or inspect.isclass(theirs)
            or inspect.ismodule(theirs)
            or not callable(theirs)
        ):
            continue
        want, got = list(inspect.signature(theirs).parameters), list(inspect.signature(ours).parameters)
        if want != got:
            mismatched.append((name, want, got))
    assert not mismatched


def test_scatter_update_add_and_unique_index():
    got = tg.keras.ops.scatter_update(A, np.array([[0, 1], [0, 1]]), np.array([1.0, 2.0], "float32"), reduction="add")
    want = A.copy()
    want[0, 1] += 3.0
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    vals, first = tg.keras.ops.unique(tg.constant([3, 1, 3, 2]), return_index=True)
    assert vals.numpy().tolist() == [1, 2, 3] and first.numpy().tolist() == [1, 3, 0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"maxlen": 2},
        {"maxlen": 4, "padding": "post"},
        {"maxlen": 2, "truncating": "post", "value": -1},
        {"dtype": "float32"},
    ],
)
def test_pad_sequences_like_keras(kwargs):
    seqs = [[1, 2, 3], [4], [], [5, 6]]
    got = tg.keras.utils.pad_sequences(seqs, **kwargs)
    want = keras.utils.pad_sequences(seqs, **kwargs)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_to_categorical_and_normalize_like_keras():
    for labels, n in (([0, 2, 1], None), ([[1], [0]], 3), (np.array([[0, 1], [2, 0]]), 4)):
        np.testing.assert_array_equal(tg.keras.utils.to_categorical(labels, n), keras.utils.to_categorical(labels, n))
    with pytest.raises(IndexError):
        keras.utils.to_categorical([0, 3], 3)
    with pytest.raises(IndexError):
        tg.keras.utils.to_categorical([0, 3], 3)
    np.testing.assert_allclose(tg.keras.utils.normalize(A, axis=1), keras.utils.normalize(A, axis=1), rtol=1e-6)
    np.testing.assert_allclose(tg.keras.utils.normalize(A, order=1), keras.utils.normalize(A, order=1), rtol=1e-6)


def test_random_shapes_dtypes_and_seed_state_like_keras():
    for name, args, kwargs in [
        ("normal", ((2, 3),), {}),
        ("uniform", ((4,),), {"dtype": "float64"}),
        ("randint", ((3,), 0, 5), {}),
        ("truncated_normal", ((2,),), {}),
        ("dropout", (np.ones((3, 4), "float32"), 0.5), {}),
        ("shuffle", (np.arange(6),), {}),
        ("gamma", ((3,), 2.0), {}),
        ("categorical", (np.zeros((2, 3), "float32"), 4), {}),
        ("binomial", ((3,), 5, 0.5), {}),
        ("beta", ((3,), 2.0, 3.0), {}),
    ]:
        ours = getattr(tg.keras.random, name)(*args, seed=3, **kwargs)
        theirs = getattr(keras.random, name)(*args, seed=3, **kwargs)
        assert tuple(ours.shape) == tuple(theirs.shape), name
        assert ours.dtype.name == keras.backend.standardize_dtype(theirs.dtype), name
    g, kg = tg.keras.random.SeedGenerator(5), keras.random.SeedGenerator(5)
    for _ in range(3):
        tg.keras.random.normal((1,), seed=g)
        keras.random.normal((1,), seed=kg)
    assert g.state.numpy().tolist() == keras.ops.convert_to_numpy(kg.state.value).tolist()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sequence_length": 3, "sequence_stride": 2, "sampling_rate": 2, "batch_size": 2},
        {"sequence_length": 4, "batch_size": 3, "start_index": 1, "end_index": 8},
        {"sequence_length": 2, "batch_size": 4, "shuffle": False},
    ],
)
def test_timeseries_dataset_like_keras(kwargs):
    data = np.arange(20).reshape(10, 2)
    for targets in (None, np.arange(10) * 10):
        ours = list(tg.keras.utils.timeseries_dataset_from_array(data, targets, **kwargs))
        theirs = list(keras.utils.timeseries_dataset_from_array(data, targets, **kwargs))
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            for x, y in zip(a if targets is not None else [a], b if targets is not None else [b]):
                np.testing.assert_array_equal(np.asarray(x.numpy()), np.asarray(y.numpy()))


@pytest.mark.parametrize("left,right", [(0.8, None), (None, 3), (4, 5), (0.25, 0.5)])
def test_split_dataset_like_keras(left, right):
    arrays = (np.arange(10), np.arange(10) * 2)
    ours = tg.keras.utils.split_dataset(arrays, left_size=left, right_size=right)
    theirs = keras.utils.split_dataset(arrays, left_size=left, right_size=right)
    for o, t in zip(ours, theirs):
        got = [tuple(int(v) for v in item) for item in o]
        want = [tuple(int(v) for v in item) for item in t.as_numpy_iterator()]
        assert got == want


def test_functional_model_with_ops_like_keras(tmp_path):
    from test_keras_ops import _ops_model

    km, m = _ops_model(keras), _ops_model(tg.keras)
    m.set_weights(km.get_weights())
    d = np.random.default_rng(4).random((3, 4)).astype("float32")
    np.testing.assert_allclose(m.predict(d, verbose=0), km.predict(d, verbose=0), rtol=1e-5, atol=1e-7)
    km.save(str(tmp_path / "k.keras"))
    with pytest.raises(NotImplementedError, match="ExpandDims"):
        tg.keras.models.load_model(str(tmp_path / "k.keras"))


@pytest.mark.parametrize(
    "name,args,kwargs",
    [
        ("resize", (IMG, (9, 4)), {}),
        ("resize", (IMG, (3, 12)), {"interpolation": "nearest"}),
        ("resize", (IMG[0], (4, 4)), {}),
        ("resize", (IMG.transpose(0, 3, 1, 2), (4, 5)), {"data_format": "channels_first"}),
        ("rgb_to_grayscale", (IMG,), {}),
        ("rgb_to_grayscale", ((IMG * 50 + 100).astype("int32"),), {}),
        ("pad_images", (IMG, 1, 2), {"target_height": 9, "target_width": 10}),
        ("pad_images", (IMG[0],), {"top_padding": 1, "bottom_padding": 0, "left_padding": 2, "right_padding": 3}),
        ("crop_images", (IMG, 1, 2), {"target_height": 4, "target_width": 3}),
    ],
)
def test_image_ops_like_keras(name, args, kwargs):
    ours = getattr(tg.keras.ops.image, name)(*args, **kwargs)
    theirs = keras.ops.convert_to_numpy(getattr(keras.ops.image, name)(*args, **kwargs))
    assert ours.numpy().dtype == theirs.dtype
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-5, atol=1e-5)
    if name == "resize":  # differentiable in the images
        x = tg.constant(args[0])
        with tg.GradientTape() as tape:
            tape.watch(x)
            y = tg.reduce_sum(getattr(tg.keras.ops.image, name)(x, *args[1:], **kwargs) ** 2)
        xr = tf_ref.constant(args[0])
        with tf_ref.GradientTape() as tape_r:
            tape_r.watch(xr)
            yr = tf_ref.reduce_sum(getattr(keras.ops.image, name)(xr, *args[1:], **kwargs) ** 2)
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), tape_r.gradient(yr, xr).numpy(), rtol=1e-4, atol=1e-5)
