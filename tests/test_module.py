"""tf.Module: variable and sub-module walks (TF's order), name scopes, with_name_scope."""

import numpy as np
import pytest

import tapegrad as tg


class M(tg.Module):
    pass


def _tree(mod):
    """a -> (b -> c, d), with variables on b, c, d and a dict/list/tuple of variables on a."""
    a, b, c, d = M(name="a"), M(name="b"), M(name="c"), M(name="d")
    a.b, b.c, a.d = b, c, d
    b.v = mod.Variable(1.0, name="bv")
    c.v = mod.Variable(2.0, name="cv")
    d.v = mod.Variable(3.0, name="dv", trainable=False)
    a.z_list = [mod.Variable(4.0, name="l0"), (mod.Variable(5.0, name="t0"),)]
    a.y_dict = {"k2": mod.Variable(6.0, name="k2"), "k1": mod.Variable(7.0, name="k1")}
    return a


def _names(variables):
    return [v.name.split(":")[0] for v in variables]


def test_walk_order_own_attributes_then_submodules_depth_first():
    a = _tree(tg)
    # own leaves sorted by attribute (y_dict by key, then z_list), then b's subtree (bv, then c), then d
    assert _names(a.variables) == ["k1", "k2", "l0", "t0", "bv", "cv", "dv"]
    assert _names(a.trainable_variables) == ["k1", "k2", "l0", "t0", "bv", "cv"]
    assert _names(a.non_trainable_variables) == ["dv"]
    assert [m.name for m in a.submodules] == ["b", "d", "c"]


def test_walk_order_matches_tensorflow():
    tf = pytest.importorskip("tensorflow")

    class TM(tf.Module):
        pass

    global M
    saved = M
    try:
        M = TM
        ref = _tree(tf)
    finally:
        M = saved
    ours = _tree(tg)
    assert _names(ours.variables) == _names(ref.variables)
    assert [m.name for m in ours.submodules] == [m.name for m in ref.submodules]


def test_each_object_once_and_cycles():
    a, b = M(name="a"), M(name="b")
    v = tg.Variable(1.0)
    a.x, a.y, a.b = v, [v, v], b
    b.parent = a  # a cycle
    b.w = v
    assert len(a.variables) == 1
    assert a.submodules == (b,)
    paths = [p for p, _ in a._flatten(predicate=lambda x: isinstance(x, tg.Variable), with_path=True)]
    # with paths (TF): a module already being walked lists its leaves but is not entered again
    assert paths == [
        ("x",),
        ("y", 0),
        ("y", 1),
        ("b", "w"),
        ("b", "parent", "x"),
        ("b", "parent", "y", 0),
        ("b", "parent", "y", 1),
    ]


def test_with_path():
    a = _tree(tg)
    paths = [p for p, _ in a._flatten(predicate=lambda x: isinstance(x, tg.Variable), with_path=True)]
    assert ("y_dict", "k1") in paths and ("b", "c", "v") in paths and ("z_list", 1, 0) in paths


def test_default_name_and_invalid_name():
    class MyModule(tg.Module):
        pass

    assert MyModule().name == "my_module"
    with pytest.raises(ValueError, match="'bad name' is not a valid module name. Module names must be valid Python"):
        M(name="bad name")


def test_name_scopes():
    with tg.name_scope("outer") as s1:
        assert s1 == "outer/"
        with tg.name_scope("x") as s2:
            assert s2 == "outer/x/"
        e = M(name="e")
        with tg.name_scope("") as s3:
            assert s3 == ""
    assert e.name_scope.name == "outer/e/"
    with tg.name_scope("zz"):
        with e.name_scope as s:  # a module re-enters its own (absolute) scope
            assert s == "outer/e/"
            with tg.name_scope("in") as s4:
                assert s4 == "outer/e/in/"
    with pytest.raises(ValueError, match="name for name_scope must be a string."):
        tg.name_scope(3)


def test_with_name_scope_decorator():
    class N(tg.Module):
        @tg.Module.with_name_scope
        def scope(self, suffix):
            with tg.name_scope(suffix) as s:
                return s

    assert N(name="n").scope("k") == "n/k/"
    assert N.scope.__name__ == "scope"


def test_module_finds_keras_layer_weights():
    class Scale(tg.keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
            self.c = self.add_weight(shape=(), initializer="zeros", trainable=False, name="c")

        def call(self, x):
            return x * self.w

    holder = M(name="holder")
    holder.layer = Scale()
    holder.layer(tg.ones([1, 3]))
    holder.own = tg.Variable(np.zeros(2, np.float32), name="own")
    assert [v.name for v in holder.variables] == ["own:0", "w", "c"]  # own attributes first, as TF
    assert [v.name for v in holder.trainable_variables] == ["own:0", "w"]
    assert holder.layer in holder.submodules
