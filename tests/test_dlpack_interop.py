"""DLPack and numpy interop: tf.experimental.dlpack, __dlpack__, __array__ (numpy 2's copy=) and
numpy scalars/ufuncs on tensors, against numpy always, and PyTorch, JAX and TF when installed.

Zero-copy is proven by pointer equality and by lifetime (the producer is deleted, the consumer
still reads the right values; the producer's memory is released when the consumer's last
reference goes)."""

import ctypes
import gc
import weakref

import numpy as np
import pytest

import tapegrad as tf
from tapegrad.experimental import dlpack

NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"  # DLPack 1.0 and __array__(copy=) arrived in 2.0
try:
    np.zeros(1, bool).__dlpack__()
    NUMPY_EXPORTS_BOOL = True
except (BufferError, TypeError):  # numpy 1.23: "DLPack only supports signed/unsigned integers, float and complex"
    NUMPY_EXPORTS_BOOL = False
NUMPY_DTYPES = [
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
    "complex64",
    "complex128",
]


def _ptr(x):
    """The address of a numpy array, or of a tapegrad tensor's buffer (its zero-copy numpy view)."""
    return np.asarray(x).__array_interface__["data"][0]


def _values(dtype, shape=(2, 3)):
    n = int(np.prod(shape))
    if dtype == "bool":
        return (np.arange(n) % 3 == 0).reshape(shape)
    return (np.arange(n) % 7 + 1).astype(dtype).reshape(shape)


# ---------------------------------------------------------------------------------------------
# numpy <-> tapegrad (always runs)


@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_numpy_round_trip_zero_copy(dtype):
    a = _values(dtype)
    if dtype == "bool" and not NUMPY_EXPORTS_BOOL:
        pytest.skip(f"numpy {np.__version__} cannot export bool arrays through DLPack")
    t = dlpack.from_dlpack(a)  # an object with __dlpack__
    assert t.dtype.name == dtype and t.shape == (2, 3)
    assert _ptr(t) == _ptr(a)  # tapegrad reads numpy's memory
    b = np.from_dlpack(t)
    assert _ptr(b) == _ptr(a)  # and numpy reads tapegrad's
    np.testing.assert_array_equal(b, a)
    t2 = dlpack.from_dlpack(a.__dlpack__())  # a legacy capsule
    assert _ptr(t2) == _ptr(a)
    if NUMPY2:
        t3 = dlpack.from_dlpack(a.__dlpack__(max_version=(1, 0)))  # a DLPack 1.0 capsule
        assert _ptr(t3) == _ptr(a)
        np.testing.assert_array_equal(t3.numpy(), a)


def test_numpy_lifetime_producer_released_with_last_reference():
    a = np.arange(1000, dtype=np.float32) * 2
    expect = a.copy()
    alive = weakref.ref(a)
    t = dlpack.from_dlpack(a)
    view = t[1:3]  # a kernel output: its own buffer
    del a
    gc.collect()
    assert alive() is not None  # the tensor holds numpy's memory (through numpy's deleter)
    np.testing.assert_array_equal(t.numpy(), expect)
    t2 = t * 1.0
    del t
    gc.collect()
    assert alive() is None  # the last reference went: numpy's deleter ran
    np.testing.assert_array_equal(t2.numpy(), expect)
    np.testing.assert_array_equal(view.numpy(), expect[1:3])


def test_tapegrad_lifetime_consumer_keeps_buffer():
    t = tf.constant(np.arange(5000, dtype=np.float64))
    b = np.from_dlpack(t)
    p = _ptr(t)
    del t
    gc.collect()
    tf.zeros([5000], tf.float64) + 1.0  # reuse freed buffers, if any were freed
    assert _ptr(b) == p
    np.testing.assert_array_equal(b, np.arange(5000, dtype=np.float64))


def test_export_capsules_and_flags():
    t = tf.constant([[1.0, 2.0, 3.0]])
    assert "dltensor" in repr(dlpack.to_dlpack(t)) and "versioned" not in repr(dlpack.to_dlpack(t))
    assert '"dltensor_versioned"' in repr(t.__dlpack__(max_version=(1, 0)))
    assert '"dltensor"' in repr(t.__dlpack__(max_version=(0, 8)))
    assert t.__dlpack_device__() == (1, 0)
    view = np.from_dlpack(t)
    assert _ptr(view) == _ptr(t)
    if NUMPY2:  # DLPack 1.0 consumers see the buffer read-only; copy=True exports a fresh, writable copy
        assert not view.flags.writeable
        fresh = np.from_dlpack(t, copy=True)
        assert fresh.flags.writeable and _ptr(fresh) != _ptr(t)
        fresh[0, 0] = 100.0
        np.testing.assert_array_equal(t.numpy(), [[1.0, 2.0, 3.0]])
        assert _ptr(np.from_dlpack(t, copy=False)) == _ptr(t)
    # 0-d and empty tensors
    np.testing.assert_array_equal(np.from_dlpack(tf.constant(3.5)), np.float32(3.5))
    assert np.from_dlpack(tf.zeros([0, 3])).shape == (0, 3)
    assert dlpack.from_dlpack(np.zeros((0, 3), np.int64)).shape == (0, 3)
    assert float(dlpack.from_dlpack(np.array(2.5))) == 2.5


def test_export_argument_errors():
    t = tf.constant([1.0])
    with pytest.raises(BufferError, match="stream must be None"):
        t.__dlpack__(stream=1)
    t.__dlpack__(stream=-1)  # the standard's "no synchronization": fine on the CPU
    with pytest.raises(BufferError, match="only to the CPU"):
        t.__dlpack__(dl_device=(2, 0))
    assert '"dltensor"' in repr(t.__dlpack__(dl_device=(1, 0)))
    with pytest.raises(TypeError):
        t.__dlpack__(None)  # keyword-only, as the array API standard
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be a TF tensor, not Python object"):
        dlpack.to_dlpack(np.arange(3))
    with pytest.raises(TypeError, match="from_dlpack expects a DLPack capsule"):
        dlpack.from_dlpack(5)


def test_capsule_consumed_once():
    cap = np.arange(3.0).__dlpack__()
    dlpack.from_dlpack(cap)
    assert "used_dltensor" in repr(cap)
    with pytest.raises(tf.errors.InvalidArgumentError, match="may be consumed at most once"):
        dlpack.from_dlpack(cap)
    cap = tf.constant([1, 2]).__dlpack__(max_version=(1, 0))
    np.testing.assert_array_equal(dlpack.from_dlpack(cap).numpy(), [1, 2])
    assert "used_dltensor_versioned" in repr(cap)
    # an unconsumed capsule frees its export when it goes
    for _ in range(3):
        tf.constant(np.ones(1 << 16)).__dlpack__()


def test_strided_and_misaligned_numpy_input_copies():
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    for view in (base.T, base[:, ::2], base[::-1], base[1:3, 2:5]):
        t = dlpack.from_dlpack(view)
        np.testing.assert_array_equal(t.numpy(), view)
        assert _ptr(t) != _ptr(view)
    # size-1 dims may carry any stride: still contiguous, still zero-copy
    col = base[:, 1:2][:1]
    assert _ptr(dlpack.from_dlpack(col)) == _ptr(col)
    # element-aligned but not 64-byte aligned: zero-copy (the kernels use unaligned vector loads)
    shifted = np.arange(17, dtype=np.float32)[1:]
    t = dlpack.from_dlpack(shifted)
    assert _ptr(t) == _ptr(shifted) and _ptr(t) % 64 != 0
    np.testing.assert_array_equal((t * 2.0).numpy(), shifted * 2)
    # not even aligned to the element size: copied
    store = np.zeros(64, np.uint8)
    off = (4 - _ptr(store) % 4) % 4 + 1
    odd = store[off : off + 32].view(np.float32)
    odd[:] = np.arange(8)
    assert _ptr(odd) % 4 == 1
    t = dlpack.from_dlpack(odd)
    assert _ptr(t) % 4 == 0 and _ptr(t) != _ptr(odd)
    np.testing.assert_array_equal(t.numpy(), odd)


def test_variable_export_keeps_the_value_it_saw():
    v = tf.Variable([1.0, 2.0, 3.0])
    seen = np.from_dlpack(v)
    legacy = dlpack.from_dlpack(dlpack.to_dlpack(v))
    v.assign([9.0, 9.0, 9.0])
    v.assign_add([1.0, 1.0, 1.0])
    np.testing.assert_array_equal(seen, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(legacy.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(v.numpy(), [10.0, 10.0, 10.0])
    # a Variable made from borrowed memory owns a copy: the producer's later writes do not reach it
    a = np.arange(3.0)
    w = tf.Variable(dlpack.from_dlpack(a))
    a[0] = 50.0
    np.testing.assert_array_equal(w.numpy(), [0.0, 1.0, 2.0])


# ---- numpy's __array__ with numpy 2's copy= ----


def test_array_copy_semantics():
    t = tf.constant([1.0, 2.0, 3.0])
    a = np.asarray(t)
    assert not a.flags.writeable and _ptr(a) == _ptr(np.asarray(t))  # zero-copy, read-only (TF's)
    c = np.array(t, copy=True)
    assert c.flags.writeable and _ptr(c) != _ptr(a)
    assert np.array(t).flags.writeable  # np.array copies, as TF
    if NUMPY2:
        assert _ptr(np.asarray(t, copy=True)) != _ptr(a)
        assert _ptr(np.asarray(t, copy=False)) == _ptr(a)
        with pytest.raises(ValueError, match="Unable to avoid copy"):
            np.asarray(t, dtype=np.float64, copy=False)
    d = np.asarray(t, dtype=np.float64)
    assert d.dtype == np.float64 and d.flags.writeable
    np.testing.assert_array_equal(d, [1.0, 2.0, 3.0])
    assert t.__array__().dtype == np.float32
    assert t.__array__(np.int32).dtype == np.int32
    with pytest.raises(ValueError, match="needs a copy"):
        t.__array__(np.float64, copy=False)
    assert _ptr(t.__array__(copy=False)) == _ptr(a)
    assert t.__array__(copy=True).flags.writeable


def test_variable_array_view_does_not_change_after_assign():
    v = tf.Variable([1.0, 2.0])
    views = [np.asarray(v), v.__array__(copy=False), v.__array__()]
    copy = np.array(v, copy=True)
    v.assign([5.0, 6.0])
    for a in views + [copy]:
        np.testing.assert_array_equal(a, [1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(v), [5.0, 6.0])


# ---- numpy scalars and ufuncs with tensors: TF's behaviour (the table checked against TF below) ----

T_VALUE = [1.0, 2.0, 3.0]
A_VALUE = np.array([1.0, 2.0, 3.0], np.float32)

# expression -> (kind of result, dtype, value)
NUMPY_TABLE = {
    "np.float32(2) * t": ("Tensor", "float32", [2.0, 4.0, 6.0]),
    "t * np.float32(2)": ("Tensor", "float32", [2.0, 4.0, 6.0]),
    "np.float64(2) * t": ("Tensor", "float32", [2.0, 4.0, 6.0]),
    "np.int32(2) + t": ("Tensor", "float32", [3.0, 4.0, 5.0]),
    "np.int64(2) + i": ("Tensor", "int32", [3, 4]),
    "np.float64(2.5) + i": ("Tensor", "int32", [3, 4]),
    "a + t": ("Tensor", "float32", [2.0, 4.0, 6.0]),
    "t + a": ("Tensor", "float32", [2.0, 4.0, 6.0]),
    "a - t": ("Tensor", "float32", [0.0, 0.0, 0.0]),
    "a * v": ("Tensor", "float32", [1.0, 4.0, 9.0]),
    "np.float32(2) * v": ("Tensor", "float32", [2.0, 4.0, 6.0]),
    "a < t": ("Tensor", "bool", [False, False, False]),
    "a == t": ("Tensor", "bool", [True, True, True]),
    "np.add(t, 1)": ("ndarray", "float32", [2.0, 3.0, 4.0]),
    "np.add(t, t)": ("ndarray", "float32", [2.0, 4.0, 6.0]),
    "np.multiply(a, t)": ("ndarray", "float32", [1.0, 4.0, 9.0]),
    "np.sqrt(t)": ("ndarray", "float32", np.sqrt(A_VALUE).tolist()),
    "np.exp(v)": ("ndarray", "float32", np.exp(A_VALUE).tolist()),
    "np.sum(t)": ("scalar", "float32", 6.0),
    "np.mean(t)": ("scalar", "float32", 2.0),
    "np.max(t)": ("scalar", "float32", 3.0),
    "np.concatenate([t, t])": ("ndarray", "float32", T_VALUE * 2),
    "np.stack([t, t])": ("ndarray", "float32", [T_VALUE, T_VALUE]),
    "np.asarray(t)": ("ndarray", "float32", T_VALUE),
    "np.array(t)": ("ndarray", "float32", T_VALUE),
    "np.asarray(t, dtype=np.float64)": ("ndarray", "float64", T_VALUE),
}


def _evaluate(mod, expr):
    t = mod.constant(T_VALUE)
    v = mod.Variable(T_VALUE)
    i = mod.constant([1, 2])
    a = A_VALUE.copy()
    return eval(expr, {"np": np, "t": t, "v": v, "i": i, "a": a})  # a fixed table of expressions


def _describe(mod, r):
    if isinstance(r, np.ndarray):
        return "ndarray", r.dtype.name, r.tolist()
    if isinstance(r, np.generic):
        return "scalar", r.dtype.name, r.item()
    assert isinstance(r, mod.Tensor), type(r)
    return "Tensor", r.dtype.name, r.numpy().tolist()


@pytest.mark.parametrize("expr", sorted(NUMPY_TABLE))
def test_numpy_interop_table(expr):
    kind, dtype, value = _describe(tf, _evaluate(tf, expr))
    want_kind, want_dtype, want_value = NUMPY_TABLE[expr]
    assert (kind, dtype) == (want_kind, want_dtype)
    np.testing.assert_allclose(np.asarray(value, dtype=np.float64), np.asarray(want_value, dtype=np.float64), rtol=1e-6)


def test_tensor_has_no_array_ufunc_and_priority_100():
    # TF's EagerTensor: numpy defers binary operators to the tensor, ufuncs convert it to an array
    assert tf.constant(1.0).__array_priority__ == 100
    assert not hasattr(tf.constant(1.0), "__array_ufunc__")


@pytest.fixture(scope="module")
def tf_ref():
    return pytest.importorskip("tensorflow")


def test_numpy_interop_table_matches_tensorflow(tf_ref):
    for expr, want in NUMPY_TABLE.items():
        kind, dtype, value = _describe(tf_ref, _evaluate(tf_ref, expr))
        assert (kind, dtype) == want[:2], expr
        np.testing.assert_allclose(
            np.asarray(value, dtype=np.float64), np.asarray(want[2], dtype=np.float64), rtol=1e-6, err_msg=expr
        )
    # read-only zero-copy view for np.asarray, a writable copy for np.array, in both
    for mod in (tf, tf_ref):
        t = mod.constant(T_VALUE)
        assert not np.asarray(t).flags.writeable and np.array(t).flags.writeable
    # the capsules TF's to_dlpack makes are read by ours, and ours by TF's from_dlpack
    x = dlpack.from_dlpack(tf_ref.experimental.dlpack.to_dlpack(tf_ref.constant([1.5, 2.5])))
    np.testing.assert_array_equal(x.numpy(), [1.5, 2.5])
    y = tf_ref.experimental.dlpack.from_dlpack(dlpack.to_dlpack(tf.constant([[1, 2]], tf.int64)))
    np.testing.assert_array_equal(y.numpy(), [[1, 2]])
    assert y.dtype == tf_ref.int64


# ---- hand-made capsules: device and dtype errors, byte_offset, the producer's deleter ----


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("device", _DLDevice),
        ("ndim", ctypes.c_int32),
        ("dtype", _DLDataType),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
        ("byte_offset", ctypes.c_uint64),
    ]


class _DLManagedTensor(ctypes.Structure):
    pass


_DELETER = ctypes.CFUNCTYPE(None, ctypes.POINTER(_DLManagedTensor))
_DLManagedTensor._fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", _DELETER)]


class _Producer:
    """A DLPack producer in ctypes: one legacy capsule over `buf`, counting deleter calls."""

    def __init__(self, buf, shape, code=2, bits=32, lanes=1, device=1, strides=None, byte_offset=0):
        self.buf, self.deleted = buf, 0
        self.shape = (ctypes.c_int64 * len(shape))(*shape)
        self.strides = (ctypes.c_int64 * len(shape))(*strides) if strides is not None else None
        self.deleter = _DELETER(self._delete)
        m = self.managed = _DLManagedTensor()
        m.dl_tensor.data = ctypes.addressof(buf)
        m.dl_tensor.device = _DLDevice(device, 0)
        m.dl_tensor.ndim = len(shape)
        m.dl_tensor.dtype = _DLDataType(code, bits, lanes)
        m.dl_tensor.shape = self.shape
        m.dl_tensor.strides = self.strides
        m.dl_tensor.byte_offset = byte_offset
        m.deleter = self.deleter
        new = ctypes.pythonapi.PyCapsule_New
        new.restype, new.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
        self.capsule = new(ctypes.addressof(m), b"dltensor", None)

    def _delete(self, _):
        self.deleted += 1


def _floats(n=8):
    return (ctypes.c_float * n)(*range(n))


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(device=2), "GPU:0 unknown device."),
        (dict(device=4), "Unsupported Device Type"),
        (dict(code=5, bits=32), "Unsupported Complex bits: 32"),
        (dict(code=0, bits=4), "Unsupported Int bits: 4"),
        (dict(code=1, bits=3), "Unsupported UInt bits: 3"),
        (dict(code=2, bits=8), "Unsupported Float bits: 8"),
        (dict(code=4, bits=32), "Unsupported BFloat bits: 32"),
        (dict(code=6, bits=1), "Only DLPack bools of bitwidth 8 are supported, got: 1"),
        (dict(code=9, bits=8), "Unsupported Type Codes: 9"),
        (dict(lanes=2), "Unsupported DLPack lanes: 2"),
    ],
)
def test_import_errors_release_the_producer(kwargs, error):
    p = _Producer(_floats(), [8], **kwargs)
    with pytest.raises(tf.errors.InvalidArgumentError, match=error):
        dlpack.from_dlpack(p.capsule)
    assert p.deleted == 1  # consumed: the consumer released it


def test_import_deleter_runs_when_last_reference_goes():
    p = _Producer(_floats(), [2, 4])
    t = dlpack.from_dlpack(p.capsule)
    assert _ptr(t) == ctypes.addressof(p.buf)
    u = tf.reshape(t, [8])  # shares the buffer
    del t
    gc.collect()
    assert p.deleted == 0
    np.testing.assert_array_equal(u.numpy(), np.arange(8, dtype=np.float32))
    del u
    gc.collect()
    assert p.deleted == 1


def test_import_byte_offset_and_strides():
    p = _Producer(_floats(), [3], byte_offset=8)  # TF refuses byte_offset; DLPack allows it
    t = dlpack.from_dlpack(p.capsule)
    assert _ptr(t) == ctypes.addressof(p.buf) + 8
    np.testing.assert_array_equal(t.numpy(), [2.0, 3.0, 4.0])
    # column-major 2x4: copied row-major, and the producer released at once
    p = _Producer(_floats(), [2, 4], strides=[1, 2])
    t = dlpack.from_dlpack(p.capsule)
    assert p.deleted == 1
    np.testing.assert_array_equal(t.numpy(), np.arange(8, dtype=np.float32).reshape(4, 2).T)
    p = _Producer(_floats(), [4], strides=[-1], byte_offset=12)  # negative strides
    np.testing.assert_array_equal(dlpack.from_dlpack(p.capsule).numpy(), [3.0, 2.0, 1.0, 0.0])


# ---------------------------------------------------------------------------------------------
# PyTorch

TORCH_DTYPES = [
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _torch_values(torch, dtype, shape=(2, 3)):
    n = int(np.prod(shape))
    if dtype == "bool":
        return (torch.arange(n) % 3 == 0).reshape(shape)
    return (torch.arange(n) % 7 + 1).to(getattr(torch, dtype)).reshape(shape)


@pytest.mark.parametrize("dtype", TORCH_DTYPES)
def test_torch_round_trip_zero_copy(torch, dtype):
    x = _torch_values(torch, dtype)
    t = dlpack.from_dlpack(x)
    assert t.dtype.name == dtype and t.shape == (2, 3)
    y = torch.from_dlpack(t)  # calls t.__dlpack__(max_version=(1, 0))
    assert y.dtype == x.dtype and y.data_ptr() == x.data_ptr()  # neither direction copied
    z = torch.utils.dlpack.from_dlpack(dlpack.to_dlpack(t))  # the legacy capsule
    assert z.data_ptr() == x.data_ptr()
    u = dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(x))
    assert torch.from_dlpack(u).data_ptr() == x.data_ptr()
    assert torch.equal(y, x) and torch.equal(z, x)
    if dtype != "bfloat16":
        np.testing.assert_array_equal(t.numpy(), x.numpy())
        assert _ptr(t) == x.data_ptr()


def test_torch_lifetime(torch):
    x = torch.arange(10000, dtype=torch.float32) * 3
    t = dlpack.from_dlpack(x)
    del x
    gc.collect()
    torch.ones(10000) * 7  # reuse freed memory, if any were freed
    np.testing.assert_array_equal(t.numpy(), np.arange(10000, dtype=np.float32) * 3)
    s = tf.constant(np.arange(10000, dtype=np.int64))
    y = torch.from_dlpack(s)
    del s
    gc.collect()
    tf.ones([10000], tf.int64) * 7
    assert torch.equal(y, torch.arange(10000))


def test_torch_non_contiguous_input_copies(torch):
    x = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    for view in (x.t(), x[:, ::2], x[1:, 1:3], x.unsqueeze(0).expand(2, 3, 4)):
        t = dlpack.from_dlpack(view)
        np.testing.assert_array_equal(t.numpy(), view.numpy())
        assert _ptr(t) != view.data_ptr()
    row = x[1:2]  # contiguous slice: zero-copy at an offset
    assert _ptr(dlpack.from_dlpack(row)) == row.data_ptr()


def test_torch_view_of_variable_unaffected_by_assign(torch):
    v = tf.Variable([1.0, 2.0, 3.0])
    y = torch.from_dlpack(v)
    y_legacy = torch.utils.dlpack.from_dlpack(dlpack.to_dlpack(v))
    v.assign([7.0, 8.0, 9.0])
    v.assign_sub([1.0, 1.0, 1.0])
    assert y.tolist() == [1.0, 2.0, 3.0] and y_legacy.tolist() == [1.0, 2.0, 3.0]
    assert v.numpy().tolist() == [6.0, 7.0, 8.0]
    # an optimizer step writes the variable too
    w = tf.Variable([1.0, 1.0])
    seen = torch.from_dlpack(w)
    tf.keras.optimizers.SGD(0.5).apply_gradients([(tf.constant([1.0, 2.0]), w)])
    assert seen.tolist() == [1.0, 1.0] and w.numpy().tolist() == [0.5, 0.0]


def test_torch_gradient_flows_through_imported_tensor(torch):
    t = dlpack.from_dlpack(torch.tensor([1.0, 2.0, 3.0]))
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = tf.reduce_sum(t * t)
    np.testing.assert_array_equal(tape.gradient(y, t).numpy(), [2.0, 4.0, 6.0])


def test_torch_complex_round_trip(torch):
    z = torch.tensor([1 + 2j, -3j], dtype=torch.complex64)
    t = dlpack.from_dlpack(z)
    assert t.dtype == tf.complex64
    np.testing.assert_array_equal(t.numpy(), z.numpy())
    back = torch.from_dlpack(dlpack.to_dlpack(t * 2))
    np.testing.assert_array_equal(back.numpy(), (z * 2).numpy())


# ---------------------------------------------------------------------------------------------
# JAX

JAX_DTYPES = ["float16", "bfloat16", "float32", "int8", "int16", "int32", "uint8", "uint16", "uint32", "bool"]


@pytest.fixture(scope="module")
def jax():
    return pytest.importorskip("jax")


def _jax_ptr(x):
    return x.unsafe_buffer_pointer()


@pytest.mark.parametrize("dtype", JAX_DTYPES)
def test_jax_round_trip_zero_copy(jax, dtype):
    jnp = jax.numpy
    x = jnp.asarray(_values(dtype if dtype != "bfloat16" else "float32")).astype(dtype)
    t = dlpack.from_dlpack(x)
    assert t.dtype.name == dtype and t.shape == (2, 3)
    y = jnp.from_dlpack(t)  # JAX asks for a legacy capsule
    assert y.dtype == x.dtype and _jax_ptr(y) == _jax_ptr(x)  # neither direction copied
    assert bool((y == x).all())
    if dtype != "bfloat16":
        assert _ptr(t) == _jax_ptr(x)
        np.testing.assert_array_equal(t.numpy(), np.asarray(x))


def test_jax_lifetime_and_64_bit(jax):
    jnp = jax.numpy
    x = jnp.arange(5000, dtype=jnp.float32) * 2
    t = dlpack.from_dlpack(x)
    del x
    gc.collect()
    np.testing.assert_array_equal(t.numpy(), np.arange(5000, dtype=np.float32) * 2)
    s = tf.constant(np.arange(5000, dtype=np.int32))
    y = jnp.from_dlpack(s)
    del s
    gc.collect()
    np.testing.assert_array_equal(np.asarray(y), np.arange(5000, dtype=np.int32))
    # float64/int64 without jax_enable_x64: JAX itself narrows them (a copy, its rule)
    z = jnp.from_dlpack(tf.constant([1.0, 2.0], tf.float64))
    np.testing.assert_array_equal(np.asarray(z), [1.0, 2.0])
