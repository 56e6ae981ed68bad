"""`.weights.h5` files between tapegrad and real Keras 3 (both directions), and CheckpointManager's
files against real TF, when they are installed."""

import os

import numpy as np
import pytest

import tapegrad as tg

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
tf_ref = pytest.importorskip("tensorflow")
h5py = pytest.importorskip("h5py")

X = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)


def listing(path):
    """Every group and dataset path in the file, with dataset shapes and dtypes."""
    out = []
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, obj: out.append(
                (name, obj.shape, obj.dtype.name) if isinstance(obj, h5py.Dataset) else (name,)
            )
        )
    return sorted(out)


# The same architectures in both libraries: `lib` is tapegrad.keras or keras.


def sequential(lib):
    return lib.Sequential([lib.Input((3,)), lib.layers.Dense(4, activation="relu"), lib.layers.Dense(2)])


def functional(lib):
    i = lib.Input((3,))
    h = lib.layers.Dense(4, activation="relu")(i)
    a = lib.layers.Dense(3)(h)
    b = lib.layers.Dense(2, activation="tanh")(lib.layers.Dropout(0.5)(h))
    o = lib.layers.Dense(1)(lib.layers.Concatenate()([a, b]))
    return lib.Model(i, o)


def subclassed(lib):
    class Net(lib.Model):
        def __init__(self):
            super().__init__()
            self.encoder = lib.layers.Dense(4, activation="relu")
            self.blocks = [lib.layers.Dense(3), lib.layers.Dense(3)]
            self.zhead = lib.layers.Dense(1)  # sorts after `layers`: Keras reaches it as layers/dense

        def call(self, x):
            x = self.encoder(x)
            for b in self.blocks:
                x = b(x)
            return self.zhead(x)

    m = Net()
    m(X)
    return m


def embedding(lib):
    return lib.Sequential(
        [lib.Input((4,), dtype="int32"), lib.layers.Embedding(10, 3), lib.layers.Flatten(), lib.layers.Dense(2)]
    )


def normalization(lib):
    norm = lib.layers.Normalization()
    norm.adapt(np.random.default_rng(5).normal(size=(20, 3)).astype(np.float32))
    return lib.Sequential([lib.Input((3,)), norm, lib.layers.Dense(2)])


BUILDERS = {
    "sequential": sequential,
    "functional": functional,
    "subclassed": subclassed,
    "embedding": embedding,
    "normalization": normalization,
}
INPUTS = {"embedding": np.random.default_rng(6).integers(0, 10, size=(6, 4)).astype(np.int32)}


def randomize(model, seed):
    rng = np.random.default_rng(seed)
    # positive values: Normalization's variance and count stay valid
    model.set_weights([rng.uniform(0.5, 1.5, size=w.shape).astype(w.dtype) for w in model.get_weights()])
    for layer in model.layers:  # Keras's Model.set_weights leaves Normalization's cached mean/variance stale
        if hasattr(layer, "finalize_state"):
            layer.finalize_state()


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_tapegrad_file_loads_in_keras_and_back(kind, tmp_path):
    ours, theirs = BUILDERS[kind](tg.keras), BUILDERS[kind](keras)
    x = INPUTS.get(kind, X)
    randomize(ours, 1)
    p1 = str(tmp_path / "tg.weights.h5")
    ours.save_weights(p1)
    theirs.load_weights(p1)
    np.testing.assert_allclose(np.asarray(theirs(x)), ours(x).numpy(), rtol=1e-5, atol=1e-6)
    # the other way: Keras writes, tapegrad reads
    randomize(theirs, 2)
    p2 = str(tmp_path / "keras.weights.h5")
    theirs.save_weights(p2)
    ours.load_weights(p2)
    np.testing.assert_allclose(ours(x).numpy(), np.asarray(theirs(x)), rtol=1e-5, atol=1e-6)
    assert listing(p1) == listing(p2)


def compiled_after_one_step(lib, grads=None):
    model = sequential(lib)
    randomize(model, 3)
    opt = lib.optimizers.Adam(learning_rate=0.01)
    model.compile(optimizer=opt, loss="mse")
    rng = np.random.default_rng(4)
    grads = [rng.normal(size=tuple(v.shape)).astype(np.float32) for v in model.trainable_variables]
    if lib is keras:
        opt.apply_gradients(zip([tf_ref.constant(g) for g in grads], model.trainable_variables))
    else:
        opt.apply_gradients(zip([tg.constant(g) for g in grads], model.trainable_variables))
    return model, opt


def test_adam_state_both_directions(tmp_path):
    ours, ours_opt = compiled_after_one_step(tg.keras)
    theirs, theirs_opt = compiled_after_one_step(keras)
    p1, p2 = str(tmp_path / "tg.weights.h5"), str(tmp_path / "keras.weights.h5")
    ours.save_weights(p1)
    theirs.save_weights(p2)
    assert listing(p1) == listing(p2)
    assert ("optimizer/vars/9", (2,), "float32") in listing(p1)
    with h5py.File(p1, "r") as a, h5py.File(p2, "r") as b:
        for k in range(10):  # the same trajectory: the same iteration, learning rate and slots, in Keras order
            np.testing.assert_allclose(a[f"optimizer/vars/{k}"][()], b[f"optimizer/vars/{k}"][()], rtol=1e-6)
    # tapegrad's file into a fresh Keras model with a built optimizer, and back
    fresh = sequential(keras)
    fresh.compile(optimizer=keras.optimizers.Adam(learning_rate=0.5), loss="mse")
    fresh.optimizer.build(fresh.trainable_variables)
    fresh.load_weights(p1)
    for mine, kv in zip(tg.keras.saving.optimizer_variables(ours_opt), fresh.optimizer.variables):
        np.testing.assert_allclose(np.asarray(kv), mine.numpy(), rtol=1e-6)
    back = sequential(tg.keras)
    back.compile(optimizer=tg.keras.optimizers.Adam(learning_rate=0.5), loss="mse")
    back.optimizer.build(back.trainable_variables)
    back.load_weights(p2)
    for mine, kv in zip(tg.keras.saving.optimizer_variables(back.optimizer), theirs_opt.variables):
        np.testing.assert_allclose(mine.numpy(), np.asarray(kv), rtol=1e-6)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("Adam", {"amsgrad": True}),
        ("Adam", {"use_ema": True, "gradient_accumulation_steps": 2}),
        ("RMSprop", {"momentum": 0.9, "centered": True}),
        ("SGD", {"momentum": 0.9}),
        ("Nadam", {}),
        ("Adafactor", {}),
        ("Ftrl", {}),
        ("Adamax", {}),
        ("Adadelta", {}),
        ("Adagrad", {}),
        ("Lion", {}),
        ("Lamb", {}),
        ("AdamW", {}),
    ],
)
def test_optimizer_variable_order_matches_keras(name, kwargs):
    shapes = [(3, 4), (4,)]
    ours = getattr(tg.keras.optimizers, name)(**kwargs)
    ours.build([tg.Variable(np.zeros(s, np.float32), name=n) for s, n in zip(shapes, ("kernel", "bias"))])
    theirs = getattr(keras.optimizers, name)(**kwargs)
    theirs.build([keras.Variable(np.zeros(s, np.float32), name=n) for s, n in zip(shapes, ("kernel", "bias"))])
    mine = tg.keras.saving.optimizer_variables(ours)
    assert [tuple(v.shape) for v in mine] == [tuple(v.shape) for v in theirs.variables]
    for m, k in zip(mine, theirs.variables):
        kind = m.name.split("/")[0]
        keras_name = k.path.split("/")[-1]
        if kind in ("r", "c", "u_product"):  # Keras names these after the variable / "variable"
            continue
        assert keras_name == kind or keras_name.endswith("_" + kind), (m.name, keras_name)


def test_checkpoint_manager_files_match_tf(tmp_path):
    def run(lib, d):
        ckpt = lib.train.Checkpoint(v=lib.Variable(1.0))
        manager = lib.train.CheckpointManager(ckpt, d, max_to_keep=2)
        paths = [manager.save() for _ in range(3)]
        paths.append(manager.save(checkpoint_number=10))
        with open(os.path.join(d, "checkpoint")) as f:
            state = [line for line in f.read().splitlines() if "timestamp" not in line]
        return (
            [os.path.relpath(p, d) for p in paths],
            [os.path.relpath(p, d) for p in manager.checkpoints],
            sorted(os.listdir(d)),
            state,
            os.path.relpath(lib.train.latest_checkpoint(d), d),
            int(ckpt.save_counter.numpy()),
        )

    assert run(tg, str(tmp_path / "ours")) == run(tf_ref, str(tmp_path / "theirs"))
