"""Saving within tapegrad: `.weights.h5` (Keras 3 layout), tf.train.Checkpoint/CheckpointManager,
tf.saved_model. Interop with real Keras/TF is in test_saving_keras.py."""

import os

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.keras import saving


class D(tg.keras.layers.Layer):
    """A Dense-like layer built from add_weight (kernel, bias)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, x):
        return tg.matmul(x, self.kernel) + self.bias


class Norm(tg.keras.layers.Layer):
    """Trainable gamma plus a non-trainable moving mean (creation order: gamma, mean)."""

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gamma")
        self.moving_mean = self.add_weight(
            shape=(input_shape[-1],), initializer="zeros", name="moving_mean", trainable=False
        )

    def call(self, x):
        return (x - self.moving_mean) * self.gamma


class Net(tg.keras.layers.Layer):
    """encoder, a list of blocks, a norm and a head: attribute names sort before `layers`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = D(4)
        self.blocks = [D(3), D(3)]
        self.head = D(2)
        self.bn = Norm()

    def call(self, x):
        x = self.encoder(x)
        for b in self.blocks:
            x = b(x)
        return self.head(self.bn(x))


class Lin(tg.Module):
    """A tf.Module with variables made in __init__ (importable for saved_model)."""

    def __init__(self):
        super().__init__()
        self.w = tg.Variable(np.ones((3, 2), np.float32), name="w")
        self.extra = {"b": tg.Variable(np.zeros(2, np.float32), name="b"), "scale": [tg.Variable(2.0)]}

    def __call__(self, x):
        return (tg.matmul(x, self.w) + self.extra["b"]) * self.extra["scale"][0]


X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)


def built_net():
    net = Net()
    net(X)
    return net


def randomize(layer, seed):
    rng = np.random.default_rng(seed)
    for v in layer.weights:
        v.assign(rng.normal(size=tuple(v.shape)).astype(np.float32))


def train_steps(model, opt, n=1):
    for _ in range(n):
        with tg.GradientTape() as tape:
            loss = tg.reduce_sum(model(X) ** 2)
        grads = tape.gradient(loss, model.trainable_weights)
        opt.apply_gradients(zip(grads, model.trainable_weights))


def same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(np.array_equal(x, y) for x, y in zip(wa, wb))


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def read_text(path):
    with open(path) as f:
        return f.read()


def write_text(path, text):
    with open(path, "w") as f:
        f.write(text)


def h5_listing(path):
    h5py = pytest.importorskip("h5py")
    out = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.append(name) if isinstance(obj, h5py.Dataset) else None)
    return sorted(out)


# ---- .weights.h5 ---------------------------------------------------------------------------------


def test_weights_round_trip_and_keras_paths(tmp_path):
    pytest.importorskip("h5py")
    a, b = built_net(), built_net()
    randomize(a, 1)
    path = str(tmp_path / "net.weights.h5")
    a_out = a(X).numpy()
    tg.keras.saving.save_weights(a, path)
    assert not same_weights(a, b)
    saving.load_weights(b, path)
    assert same_weights(a, b)
    np.testing.assert_array_equal(b(X).numpy(), a_out)
    # Keras's walk: attributes in sorted order, a list is a container named by snake_case class name;
    # vars in trainable-then-non-trainable order
    assert h5_listing(path) == sorted(
        [
            "blocks/d/vars/0",
            "blocks/d/vars/1",
            "blocks/d_1/vars/0",
            "blocks/d_1/vars/1",
            "bn/vars/0",
            "bn/vars/1",
            "encoder/vars/0",
            "encoder/vars/1",
            "head/vars/0",
            "head/vars/1",
        ]
    )
    import h5py

    with h5py.File(path, "r") as f:
        assert f["vars"].attrs["name"] == a.name and len(f["vars"]) == 0  # the root group exists, empty
        assert f["encoder/vars"].attrs["name"] == a.encoder.name
        np.testing.assert_array_equal(f["bn/vars/1"][()], a.bn.moving_mean.numpy())


def test_optimizer_state_in_keras_order(tmp_path):
    pytest.importorskip("h5py")
    import h5py

    net = built_net()
    opt = tg.keras.optimizers.Adam(learning_rate=0.01)
    train_steps(net, opt, 2)
    net.optimizer = opt
    path = str(tmp_path / "net.weights.h5")
    saving.save_weights(net, path)
    with h5py.File(path, "r") as f:
        g = f["optimizer/vars"]
        assert g.attrs["name"] == opt.name
        assert len(g) == 2 + 2 * len(net.trainable_weights)
        assert g["0"].dtype == np.int64 and int(g["0"][()]) == 2
        assert np.float32(g["1"][()]) == np.float32(0.01)
        # interleaved per variable: var0 momentum, var0 velocity, var1 momentum, ...
        for i in range(len(net.trainable_weights)):
            np.testing.assert_array_equal(g[str(2 + 2 * i)][()], opt._slots["momentum"][i].numpy())
            np.testing.assert_array_equal(g[str(3 + 2 * i)][()], opt._slots["velocity"][i].numpy())
    # a fresh model with a built optimizer gets the state back and trains identically
    other = built_net()
    opt2 = tg.keras.optimizers.Adam(learning_rate=0.5)
    opt2.build(other.trainable_weights)
    other.optimizer = opt2
    saving.load_weights(other, path)
    assert same_weights(net, other)
    assert int(opt2.iterations.numpy()) == 2 and np.isclose(float(opt2.learning_rate.numpy()), 0.01)
    train_steps(net, opt)
    train_steps(other, opt2)
    assert same_weights(net, other)


def test_unbuilt_optimizer_mismatch_warns_and_skips(tmp_path):
    pytest.importorskip("h5py")
    net = built_net()
    opt = tg.keras.optimizers.Adam()
    train_steps(net, opt)
    net.optimizer = opt
    path = str(tmp_path / "n.weights.h5")
    saving.save_weights(net, path)
    other = built_net()
    other.optimizer = fresh = tg.keras.optimizers.Adam()
    with pytest.warns(
        UserWarning,
        match=rf"Skipping variable loading for optimizer '{fresh.name}', because it has 2 "
        r"variables whereas the saved optimizer has 20 variables\.",
    ):
        saving.load_weights(other, path)
    assert same_weights(net, other)  # the layers loaded
    assert int(fresh.iterations.numpy()) == 0


@pytest.mark.parametrize(
    "make, groups",
    [
        (
            lambda: tg.keras.optimizers.RMSprop(momentum=0.9, centered=True),
            ["velocity", "velocity", "momentum", "momentum", "average_gradient", "average_gradient"],
        ),
        (
            lambda: tg.keras.optimizers.Adam(amsgrad=True),
            ["momentum", "velocity", "momentum", "velocity", "velocity_hat", "velocity_hat"],
        ),
        (
            lambda: tg.keras.optimizers.Adam(use_ema=True, gradient_accumulation_steps=2),
            [
                "average",
                "average",
                "gradient_accumulator",
                "gradient_accumulator",
                "momentum",
                "velocity",
                "momentum",
                "velocity",
            ],
        ),
    ],
)
def test_optimizer_variable_order(make, groups):
    v = [tg.Variable(np.zeros((3, 4), np.float32), name="kernel"), tg.Variable(np.zeros(4, np.float32), name="bias")]
    opt = make()
    opt.build(v)
    names = [x.name.split("/")[0] for x in saving.optimizer_variables(opt)]
    assert names[:2] == ["iteration", "learning_rate"]
    assert names[2:] == groups
    assert sorted(map(id, saving.optimizer_variables(opt))) == sorted(map(id, opt.variables))


def test_load_errors_leave_model_unchanged(tmp_path):
    pytest.importorskip("h5py")
    import h5py

    a = built_net()
    path = str(tmp_path / "a.weights.h5")
    saving.save_weights(a, path)
    b = built_net()
    before = b.get_weights()

    # a wrong shape in the *last* layer visited: nothing before it may be assigned
    bad = str(tmp_path / "bad.weights.h5")
    with h5py.File(path, "r") as src, h5py.File(bad, "w") as dst:
        for k in src:
            src.copy(src[k], dst, name=k)
        del dst["head/vars/1"]
        dst["head/vars/1"] = np.zeros(7, np.float32)
    with pytest.raises(
        ValueError,
        match=r"A total of 1 objects could not be loaded[\s\S]*The shape of the target "
        r"variable and the shape of the target value in `variable.assign\(value\)` "
        r"must match. variable.shape=\(2,\), Received: value.shape=\(7,\)",
    ):
        saving.load_weights(b, bad)
    assert same_weights_list(b.get_weights(), before)

    # a variable-count mismatch
    with h5py.File(bad, "a") as dst:
        del dst["head/vars/1"]
        dst["head/vars/1"] = np.zeros(2, np.float32)
        del dst["encoder/vars/1"]
    with pytest.raises(
        ValueError,
        match=rf"Layer '{b.encoder.name}' expected 2 variables, but received 1 variables "
        r"during loading. Expected: \['kernel', 'bias'\]",
    ):
        saving.load_weights(b, bad)
    assert same_weights_list(b.get_weights(), before)

    # skip_mismatch: the mismatching layer is skipped with a warning, the rest loads
    with pytest.warns(UserWarning, match="A total of 1 objects could not be loaded"):
        saving.load_weights(b, bad, skip_mismatch=True)
    np.testing.assert_array_equal(b.head.kernel.numpy(), a.head.kernel.numpy())
    np.testing.assert_array_equal(b.encoder.kernel.numpy(), before[0])

    # a truncated file
    c = built_net()
    before = c.get_weights()
    data = read_bytes(path)
    trunc = str(tmp_path / "t.weights.h5")
    for cut in (len(data) // 2, len(data) - 100, 64):
        with open(trunc, "wb") as f:
            f.write(data[:cut])
        with pytest.raises(OSError, match="Unable to (synchronously )?open file"):  # h5py's error, as Keras
            saving.load_weights(c, trunc)
        assert same_weights_list(c.get_weights(), before)


def same_weights_list(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def test_save_load_argument_errors(tmp_path, monkeypatch):
    net = built_net()
    with pytest.raises(ValueError, match=r"The filename must end in `.weights.h5`. Received: filepath=x.h5"):
        saving.save_weights(net, "x.h5")
    with pytest.raises(ValueError, match="You are saving a model that has not yet been built"):
        saving.save_weights(Net(), str(tmp_path / "u.weights.h5"))
    with pytest.raises(ValueError, match="You are loading weights into a model that has not yet been built"):
        saving.load_weights(Net(), str(tmp_path / "u.weights.h5"))
    with pytest.raises(ValueError, match="File format not supported: filepath=x.txt"):
        saving.load_weights(net, "x.txt")
    with pytest.raises(NotImplementedError, match="Legacy Keras 2"):
        saving.load_weights(net, "x.h5")
    # overwrite=False asks, and "n" leaves the file alone
    path = str(tmp_path / "o.weights.h5")
    write_text(path, "keep")
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    saving.save_weights(net, path, overwrite=False)
    assert read_text(path) == "keep"
    # without h5py: ImportError naming the fix
    import sys

    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match="pip install h5py"):
        saving.save_weights(net, str(tmp_path / "n.weights.h5"))


# ---- tf.train.Checkpoint ------------------------------------------------------------------------


def test_checkpoint_save_numbering_state_file_and_restore(tmp_path):
    v = tg.Variable([1.0, 2.0])
    w = tg.Variable(3, dtype=tg.int64)
    ckpt = tg.train.Checkpoint(v=v, step=w)
    assert int(ckpt.save_counter.numpy()) == 0
    prefix = str(tmp_path / "ckpt")
    p1 = ckpt.save(prefix)
    assert p1 == prefix + "-1"
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-1.data-00000-of-00001", "ckpt-1.index"]
    _ = v.assign([5.0, 6.0])
    p2 = ckpt.save(prefix)
    assert p2 == prefix + "-2" and int(ckpt.save_counter.numpy()) == 2
    assert (tmp_path / "checkpoint").read_text().splitlines() == [
        'model_checkpoint_path: "ckpt-2"',
        'all_model_checkpoint_paths: "ckpt-2"',
    ]
    assert tg.train.latest_checkpoint(str(tmp_path)) == p2
    assert tg.train.latest_checkpoint(str(tmp_path / "nothing")) is None
    _ = v.assign([0.0, 0.0])
    _ = w.assign(0)
    fresh = tg.train.Checkpoint(v=v, step=w)
    status = fresh.restore(p1)
    status.assert_consumed().assert_existing_objects_matched().assert_nontrivial_match()
    assert v.numpy().tolist() == [1.0, 2.0] and int(w.numpy()) == 3
    assert int(fresh.save_counter.numpy()) == 1  # save_counter is restored too
    assert fresh.save(prefix) == prefix + "-2"
    # write/read: no numbering, no counter, no state file
    out = fresh.write(str(tmp_path / "w" / "plain"))
    assert out == str(tmp_path / "w" / "plain")
    assert sorted(os.listdir(tmp_path / "w")) == ["plain.data-00000-of-00001", "plain.index"]
    other = tg.train.Checkpoint(v=tg.Variable([9.0, 9.0]), step=tg.Variable(0, dtype=tg.int64))
    other.read(out).assert_consumed()
    assert other.v.numpy().tolist() == [1.0, 2.0]
    assert tg.train.list_variables(out) == [("save_counter", []), ("step", []), ("v", [2])]
    assert tg.train.load_variable(out, "v").tolist() == [1.0, 2.0]


def test_checkpoint_status_assertions(tmp_path):
    path = tg.train.Checkpoint(v=tg.Variable(1.0)).save(str(tmp_path / "c"))
    extra = tg.Variable(2.0)
    status = tg.train.Checkpoint(v=tg.Variable(5.0), w=extra).restore(path)
    status.assert_nontrivial_match()
    for check in (status.assert_consumed, status.assert_existing_objects_matched):
        with pytest.raises(
            AssertionError,
            match=r"Found 1 Python objects that were not bound to checkpointed "
            r"values, likely due to changes in the Python program. Showing 1 of "
            r"1 unmatched objects",
        ):
            check()
    assert status.expect_partial() is status
    # a saved value nobody takes: existing objects matched, not consumed
    path2 = tg.train.Checkpoint(v=tg.Variable(1.0), u=tg.Variable(7.0)).save(str(tmp_path / "d"))
    status = tg.train.Checkpoint(v=tg.Variable(0.0)).restore(path2)
    status.assert_existing_objects_matched()
    with pytest.raises(AssertionError, match="Unresolved object in checkpoint u"):
        status.assert_consumed()
    # read() does not expect save_counter
    tg.train.Checkpoint(v=tg.Variable(0.0), u=tg.Variable(0.0)).read(path2).assert_consumed()
    none = tg.train.Checkpoint(v=tg.Variable(0.0)).restore(None)
    with pytest.raises(AssertionError, match="No checkpoint specified"):
        none.assert_consumed()
    with pytest.raises(AssertionError, match="Nothing to load"):
        tg.train.Checkpoint().read(path2).assert_nontrivial_match()


def test_checkpoint_errors(tmp_path):
    with pytest.raises(
        tg.errors.NotFoundError,
        match=r"(?s)Error when restoring from checkpoint or SavedModel at "
        r".*missing.*You may be missing the checkpoint suffix \(e\.g\. "
        r"the '-1' in 'path/to/ckpt-1'\)\.",
    ):
        tg.train.Checkpoint(v=tg.Variable(1.0)).restore(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="`Checkpoint` was expecting v to be a trackable object"):
        tg.train.Checkpoint(v=3)
    net = Net()
    with pytest.raises(
        ValueError, match="Cannot create a Checkpoint with keyword argument encoder if root.encoder already exists."
    ):
        tg.train.Checkpoint(root=net, encoder=tg.Variable(1.0))
    path = tg.train.Checkpoint(v=tg.Variable([1.0, 2.0])).save(str(tmp_path / "s"))
    with pytest.raises(
        ValueError,
        match=r"Received incompatible tensor with shape \(2,\) when attempting to restore "
        r"variable with shape \(3,\)",
    ):
        tg.train.Checkpoint(v=tg.Variable([0.0, 0.0, 0.0])).restore(path)


def test_truncated_or_mismatched_checkpoint_leaves_objects_unchanged(tmp_path):
    a, b = tg.Variable(np.arange(1000, dtype=np.float32)), tg.Variable([1.0, 2.0])
    path = tg.train.Checkpoint(a=a, b=b).save(str(tmp_path / "c"))
    data = read_bytes(path + ".data-00000-of-00001")
    x, y = tg.Variable(np.zeros(1000, np.float32)), tg.Variable([0.0, 0.0])
    for cut in (len(data) // 2, len(data) - 10, 10):
        with open(path + ".data-00000-of-00001", "wb") as f:
            f.write(data[:cut])
        with pytest.raises(tg.errors.DataLossError, match="truncated or corrupt"):
            tg.train.Checkpoint(a=x, b=y).restore(path)
        assert not x.numpy().any() and not y.numpy().any()
    index = read_bytes(path + ".index")
    with open(path + ".index", "wb") as f:
        f.write(index[: len(index) // 2])
    with pytest.raises(tg.errors.DataLossError, match="Unable to read checkpoint index"):
        tg.train.Checkpoint(a=x, b=y).restore(path)
    # a shape mismatch on one variable: the other is not assigned either
    path = tg.train.Checkpoint(a=a, b=b).save(str(tmp_path / "d"))
    with pytest.raises(ValueError, match="incompatible tensor"):
        tg.train.Checkpoint(a=x, b=tg.Variable([0.0, 0.0, 0.0])).restore(path)
    assert not x.numpy().any()


def test_deferred_restore_of_model_and_optimizer_slots(tmp_path):
    net = built_net()
    randomize(net, 3)
    opt = tg.keras.optimizers.Adam(learning_rate=0.01)
    train_steps(net, opt, 2)
    path = tg.train.Checkpoint(model=net, optimizer=opt).save(str(tmp_path / "ckpt"))
    names = [n for n, _ in tg.train.list_variables(path)]
    assert "model/encoder/vars/kernel" in names and "model/blocks/1/vars/bias" in names
    assert "model/encoder/vars/kernel/.OPTIMIZER_SLOT/optimizer/momentum" in names
    assert "optimizer/iterations" in names and "optimizer/learning_rate" in names

    fresh, opt2 = Net(), tg.keras.optimizers.Adam(learning_rate=0.5)  # unbuilt model, unbuilt optimizer
    status = tg.train.Checkpoint(model=fresh, optimizer=opt2).restore(path)
    status.assert_existing_objects_matched()  # nothing built yet: existing objects (iterations, lr) matched
    assert int(opt2.iterations.numpy()) == 2 and np.isclose(float(opt2.learning_rate.numpy()), 0.01)
    with pytest.raises(AssertionError, match="Unresolved object in checkpoint"):
        status.assert_consumed()
    fresh(X)  # builds: the saved values land in the new variables
    assert same_weights(net, fresh)
    with pytest.raises(AssertionError, match=r"Unresolved object in checkpoint .*/.OPTIMIZER_SLOT/optimizer/momentum"):
        status.assert_consumed()
    train_steps(net, opt)
    train_steps(fresh, opt2)  # builds the optimizer: slots restored before the update
    status.assert_consumed()
    np.testing.assert_array_equal(opt2._slots["velocity"][0].numpy(), opt._slots["velocity"][0].numpy())
    assert same_weights(net, fresh)


def test_restore_into_built_model_through_another_path(tmp_path):
    # the optimizer reached as model.optimizer when saved, as a top-level name when restored
    net = built_net()
    opt = tg.keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    train_steps(net, opt)
    net.optimizer = opt
    path = tg.train.Checkpoint(model=net).save(str(tmp_path / "c"))
    fresh = built_net()
    fresh.optimizer = opt2 = tg.keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    opt2.build(fresh.trainable_weights)
    tg.train.Checkpoint(model=fresh).restore(path).assert_consumed()
    assert same_weights(net, fresh)
    np.testing.assert_array_equal(opt2._slots["momentum"][1].numpy(), opt._slots["momentum"][1].numpy())


def test_checkpoint_tf_module_graph(tmp_path):
    m = Lin()
    _ = m.w.assign(np.arange(6, dtype=np.float32).reshape(3, 2))
    path = tg.train.Checkpoint(mod=m).write(str(tmp_path / "m"))
    assert [n for n, _ in tg.train.list_variables(path)] == ["mod/extra/b", "mod/extra/scale/0", "mod/w"]
    m2 = Lin()
    tg.train.Checkpoint(mod=m2).read(path).assert_consumed()
    np.testing.assert_array_equal(m2(X).numpy(), m(X).numpy())


def test_checkpoint_manager(tmp_path):
    v = tg.Variable(0.0)
    ckpt = tg.train.Checkpoint(v=v)
    d = str(tmp_path / "run")
    manager = tg.train.CheckpointManager(ckpt, d, max_to_keep=2)
    assert manager.latest_checkpoint is None and manager.restore_or_initialize() is None
    paths = []
    for i in range(4):
        _ = v.assign(float(i))
        paths.append(manager.save())
    assert [os.path.basename(p) for p in paths] == ["ckpt-1", "ckpt-2", "ckpt-3", "ckpt-4"]
    assert manager.checkpoints == paths[2:]
    assert sorted(os.listdir(d)) == [
        "checkpoint",
        "ckpt-3.data-00000-of-00001",
        "ckpt-3.index",
        "ckpt-4.data-00000-of-00001",
        "ckpt-4.index",
    ]
    state = read_text(os.path.join(d, "checkpoint")).splitlines()
    assert state[:3] == [
        'model_checkpoint_path: "ckpt-4"',
        'all_model_checkpoint_paths: "ckpt-3"',
        'all_model_checkpoint_paths: "ckpt-4"',
    ]
    assert state[3].startswith("all_model_checkpoint_timestamps: ") and state[-1].startswith("last_preserved")
    assert tg.train.latest_checkpoint(d) == paths[-1] == manager.latest_checkpoint
    # checkpoint_number names the file; save_counter still advances
    assert manager.save(checkpoint_number=100) == os.path.join(d, "ckpt-100")
    assert int(ckpt.save_counter.numpy()) == 5
    # a new manager on the same directory picks up the state and keeps sweeping
    _ = v.assign(-1.0)
    again = tg.train.CheckpointManager(tg.train.Checkpoint(v=v), d, max_to_keep=2)
    assert again.checkpoints == [paths[3], os.path.join(d, "ckpt-100")]
    assert again.restore_or_initialize() == os.path.join(d, "ckpt-100") and float(v.numpy()) == 3.0
    # max_to_keep=None keeps everything
    keep = tg.train.CheckpointManager(tg.train.Checkpoint(v=v), str(tmp_path / "all"), max_to_keep=None)
    for _ in range(3):
        keep.save()
    assert len(keep.checkpoints) == 3
    calls = []
    init = tg.train.CheckpointManager(ckpt, str(tmp_path / "empty"), max_to_keep=1, init_fn=lambda: calls.append(1))
    assert init.restore_or_initialize() is None and calls == [1]


def test_checkpoint_manager_interval_and_errors(tmp_path):
    ckpt = tg.train.Checkpoint(v=tg.Variable(0.0))
    with pytest.raises(ValueError, match=r"Expected a positive integer or `None` for `max_to_keep`, got 0\."):
        tg.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=0)
    with pytest.raises(ValueError, match="`step_counter` should be passed if `checkpoint_interval` is not None."):
        tg.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=1, checkpoint_interval=2)
    step = tg.Variable(0, dtype=tg.int64)
    m = tg.train.CheckpointManager(
        ckpt, str(tmp_path / "i"), max_to_keep=None, step_counter=step, checkpoint_interval=2
    )
    saved = []
    for s in range(6):
        _ = step.assign(s)
        saved.append(m.save() is not None)
    assert saved == [True, False, True, False, True, False]
    _ = step.assign(4)
    assert m.save(check_interval=False) is None  # same step as the last save
    _ = step.assign(5)
    assert m.save(check_interval=False) is not None


def test_custom_training_loop_example_pattern(tmp_path):
    # examples/custom_training_loop.py: a step Variable, optimizer and model; restore into a built model
    net = built_net()
    opt = tg.keras.optimizers.Adam()
    ckpt = tg.train.Checkpoint(step=tg.Variable(0, dtype=tg.int64), optimizer=opt, model=net)
    manager = tg.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=3)
    for _ in range(2):
        train_steps(net, opt)
        ckpt.step.assign_add(1)
        manager.save()
    restored = built_net()
    tg.train.Checkpoint(model=restored).restore(manager.latest_checkpoint).expect_partial()
    np.testing.assert_array_equal(restored(X).numpy(), net(X).numpy())


# ---- tf.saved_model -----------------------------------------------------------------------------


def test_saved_model_module_round_trip(tmp_path):
    m = Lin()
    _ = m.w.assign(np.arange(6, dtype=np.float32).reshape(3, 2))
    _ = m.extra["scale"][0].assign(0.5)
    tg.saved_model.save(m, str(tmp_path / "sm"))
    assert tg.saved_model.contains_saved_model(str(tmp_path / "sm"))
    loaded = tg.saved_model.load(str(tmp_path / "sm"))
    assert type(loaded) is Lin
    np.testing.assert_array_equal(loaded(X).numpy(), m(X).numpy())
    # the variables directory is a checkpoint: restore from the SavedModel directory
    other = Lin()
    tg.train.Checkpoint(root=other).read(str(tmp_path / "sm")).assert_consumed()
    np.testing.assert_array_equal(other.w.numpy(), m.w.numpy())


def test_saved_model_keras_round_trip(tmp_path):
    net = D(3)
    net(X)
    randomize(net, 5)
    tg.saved_model.save(net, str(tmp_path / "k"))
    loaded = tg.saved_model.load(str(tmp_path / "k"))
    assert type(loaded) is D and loaded.units == 3 and loaded.built
    np.testing.assert_array_equal(loaded(X).numpy(), net(X).numpy())


def test_saved_model_unsupported(tmp_path):
    class Local(tg.Module):
        pass

    with pytest.raises(NotImplementedError, match="defined inside a function"):
        tg.saved_model.save(Local(), str(tmp_path / "a"))
    with pytest.raises(ValueError, match="Only `tf.functions` with an input signature or concrete functions"):
        tg.saved_model.save(Lin(), str(tmp_path / "b"), signatures={"serving_default": None})
    with pytest.raises(NotImplementedError, match="method of the saved object"):
        tg.saved_model.save(Lin(), str(tmp_path / "b"), signatures=Exporter(Lin()).serve)
    with pytest.raises(ValueError, match="Expected a Trackable object for export"):
        tg.saved_model.save(3, str(tmp_path / "c"))
    with pytest.raises(tg.errors.NotFoundError, match="not read TensorFlow's SavedModel format"):
        tg.saved_model.load(str(tmp_path / "nothing"))
    # a class that needs constructor arguments is rebuilt from its recorded attributes
    m = NeedsArgs(2)
    m.v.assign([1.0, 2.0])
    tg.saved_model.save(m, str(tmp_path / "d"))
    loaded = tg.saved_model.load(str(tmp_path / "d"))
    assert type(loaded) is NeedsArgs and loaded.n == 2 and loaded.name == "needs_args"
    assert loaded.v.numpy().tolist() == [1.0, 2.0] and loaded.v.trainable
    assert not hasattr(loaded, "f")  # not a trackable or JSON value: not restored (as TF's loaded objects)


class NeedsArgs(tg.Module):
    def __init__(self, n):
        super().__init__()
        self.n = n
        self.v = tg.Variable(np.zeros(n, np.float32))
        self.f = np.zeros(1)


class Signed(tg.Module):
    """A module with tf.function methods that carry input signatures (as TF's SavedModel guide)."""

    def __init__(self):
        super().__init__()
        self.v = tg.Variable(1.0)
        self.w = tg.Variable(np.array([[0.5, -1.0], [2.0, 0.25]], np.float32))

    @tg.function
    def __call__(self, x):
        return x * self.v

    @tg.function(input_signature=[tg.TensorSpec([None, 2], tg.float32)])
    def project(self, x):
        return tg.matmul(x, self.w) + self.v


class Exporter(tg.Module):
    """Wraps a model; its constructor needs an argument."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    @tg.function(input_signature=[tg.TensorSpec([None, 3], tg.float32, name="features")])
    def serve(self, x):
        return {"score": self.model(x)}


def test_function_input_signature_skips_self():
    # regression: a method decorated in its class body has `self` without a TensorSpec (TF's rule)
    m = Signed()
    assert m.project(tg.constant([[1.0, 2.0]])).numpy().tolist() == [[5.5, 0.5]]
    assert Signed.project(m, [[1.0, 2.0]]).numpy().tolist() == [[5.5, 0.5]]
    with pytest.raises(TypeError, match="missing type constraint for y"):
        tg.function(lambda self, x, y: x, input_signature=[tg.TensorSpec([])])


def test_saved_model_signatures(tmp_path):
    m = Signed()
    # the only tf.function with an input_signature becomes serving_default without `signatures`
    tg.saved_model.save(m, str(tmp_path / "a"))
    loaded = tg.saved_model.load(str(tmp_path / "a"))
    assert list(loaded.signatures.keys()) == ["serving_default"]
    out = loaded.signatures["serving_default"](x=[[1.0, 2.0], [0.0, -1.0]])
    assert list(out) == ["output_0"] and out["output_0"].numpy().tolist() == [[5.5, 0.5], [-1.0, 0.75]]
    # a concrete function and a dict of them; keyword arguments only
    call = m.__call__.get_concrete_function(tg.TensorSpec(None, tg.float32))
    tg.saved_model.save(m, str(tmp_path / "b"), signatures={"call": call, "proj": m.project})
    loaded = tg.saved_model.load(str(tmp_path / "b"))
    assert sorted(loaded.signatures) == ["call", "proj"]
    assert loaded.signatures["call"](x=tg.constant([1.0, 4.0]))["output_0"].numpy().tolist() == [1.0, 4.0]
    with pytest.raises(TypeError, match="takes 0 positional arguments"):
        loaded.signatures["call"](tg.constant(1.0))
    with pytest.raises(TypeError, match="unexpected keyword arguments: y"):
        loaded.signatures["call"](x=1.0, y=2.0)
    with pytest.raises(ValueError, match="not compatible"):
        loaded.signatures["proj"](x=[1.0, 2.0])
    with pytest.raises(ValueError, match="must have an input_signature"):
        tg.saved_model.save(m, str(tmp_path / "c"), signatures=m.__call__)


def test_saved_model_module_wrapping_keras_model(tmp_path):
    # regression: the export wrapper of TF's guides (a tf.Module holding a Keras model, constructor argument)
    model = tg.keras.Sequential(
        [tg.keras.Input(shape=(3,)), tg.keras.layers.Dense(2, activation="relu"), tg.keras.layers.Dense(1)]
    )
    model.set_weights([np.linspace(-1, 1, w.size).reshape(w.shape).astype(np.float32) for w in model.get_weights()])
    exporter = Exporter(model)
    tg.saved_model.save(exporter, str(tmp_path / "e"), signatures={"serving_default": exporter.serve})
    reloaded = tg.saved_model.load(str(tmp_path / "e"))
    batch = tg.constant([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    want = model(batch).numpy()
    np.testing.assert_allclose(reloaded.serve(batch)["score"].numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(reloaded.signatures["serving_default"](features=batch)["score"].numpy(), want, rtol=1e-6)
    assert len(reloaded.trainable_variables) == 4


# ---- with the real Keras models and layers --------------------------------------------------------

Y = np.random.default_rng(1).normal(size=(8, 2)).astype(np.float32)
X8 = np.random.default_rng(2).normal(size=(8, 3)).astype(np.float32)


def make_sequential():
    return tg.keras.Sequential([tg.keras.layers.Dense(4, activation="relu"), tg.keras.layers.Dense(2)])


def make_functional():
    i = tg.keras.Input((3,))
    return tg.keras.Model(i, tg.keras.layers.Dense(2)(tg.keras.layers.Dense(4, activation="relu")(i)))


def test_model_save_weights_methods_round_trip(tmp_path):
    pytest.importorskip("h5py")
    for make in (make_sequential, make_functional):
        a, b = make(), make()
        a(X8)
        b(X8)
        randomize(a, 7)
        assert not same_weights(a, b)
        path = str(tmp_path / "m.weights.h5")
        a.save_weights(path)
        b.load_weights(path)
        np.testing.assert_array_equal(b(X8).numpy(), a(X8).numpy())


def test_fit_resumes_from_checkpoint_with_optimizer_slots(tmp_path):
    m = make_sequential()
    m.compile(optimizer=tg.keras.optimizers.Adam(0.01), loss="mse")
    m.fit(X8, Y, epochs=2, batch_size=4, verbose=0)
    path = tg.train.Checkpoint(model=m, optimizer=m.optimizer).save(str(tmp_path / "c"))
    f = make_sequential()  # unbuilt model, unbuilt optimizer: everything restored when fit creates it
    f.compile(optimizer=tg.keras.optimizers.Adam(0.01), loss="mse")
    status = tg.train.Checkpoint(model=f, optimizer=f.optimizer).restore(path)
    f.fit(X8, Y, epochs=1, batch_size=4, verbose=0, shuffle=False)
    m.fit(X8, Y, epochs=1, batch_size=4, verbose=0, shuffle=False)
    for a, b in zip(m.get_weights(), f.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    status.assert_consumed()
    assert int(f.optimizer.iterations.numpy()) == int(m.optimizer.iterations.numpy()) == 6


def test_saved_model_keras_models(tmp_path):
    m = make_sequential()
    m(X8)
    for k, model in enumerate((m, make_functional())):
        d = str(tmp_path / f"sm{k}")
        tg.saved_model.save(model, d)
        loaded = tg.saved_model.load(d)
        assert type(loaded) is type(model)
        np.testing.assert_array_equal(loaded(X8).numpy(), model(X8).numpy())
