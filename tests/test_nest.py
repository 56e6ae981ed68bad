"""tf.nest: flatten / pack_sequence_as / map_structure / assert_same_structure / is_nested, with
TF's orders and error messages (compared with TensorFlow where it is installed)."""

import collections

import pytest

import tapegrad as tg

P = collections.namedtuple("P", "x y")

PAIRS = [
    ([1, 2], [1], {}),
    ([1, [2]], [1, 2], {}),
    ([1, 2], (1, 2), {}),
    ([1, 2], (1, 2), {"check_types": False}),
    ({"a": 1}, {"b": 1}, {}),
    ({"a": 1, "b": [1]}, {"a": 2, "b": [3]}, {}),
    (P(1, 2), P(3, [4]), {}),
]


def _outcome(nest, a, b, kw):
    try:
        nest.assert_same_structure(a, b, **kw)
        return "ok"
    except (ValueError, TypeError) as e:
        return type(e).__name__, str(e)


def test_map_structure_and_friends():
    # regression: tf.nest.map_structure / assert_same_structure / is_nested were missing
    got = tg.nest.map_structure(lambda x, y: x + y, {"b": [1, (2, 3)], "a": 4}, {"b": [10, (20, 30)], "a": 40})
    assert got == {"b": [11, (22, 33)], "a": 44} and list(got) == ["b", "a"]
    assert tg.nest.map_structure(lambda x: x * 2, P(1, [2])) == P(2, [4])
    assert tg.nest.map_structure(lambda x: x + 1, 1) == 2
    assert tg.nest.map_structure(lambda x: x, [None, [], {}]) == [None, [], {}]
    assert tg.nest.is_nested([1]) and not tg.nest.is_nested(1) and not tg.nest.is_nested("ab")
    assert tg.nest.flatten(None) == [None] and tg.nest.flatten({"b": 1, "a": 2}) == [2, 1]
    with pytest.raises(ValueError, match="Only valid keyword arguments are `check_types` and `expand_composites`"):
        tg.nest.map_structure(lambda x: x, [1], foo=1)
    with pytest.raises(TypeError, match="func must be callable, got: 1"):
        tg.nest.map_structure(1, [1])
    with pytest.raises(ValueError, match="Must provide at least one structure"):
        tg.nest.map_structure(lambda x: x)
    with pytest.raises(ValueError, match="Structure had 2 atoms, but flat_sequence had 1 items"):
        tg.nest.pack_sequence_as([1, 2], [1])
    with pytest.raises(ValueError, match="nest cannot guarantee that it is safe to map one to the other"):
        tg.nest.pack_sequence_as(1, [1, 2])
    with pytest.raises(TypeError, match="Attempted to pack value"):
        tg.nest.pack_sequence_as([1], 5)
    assert _outcome(tg.nest, [1, 2], (1, 2), {"check_types": False}) == "ok"
    kind, text = _outcome(tg.nest, {"a": 1}, {"b": 1}, {})
    assert kind == "ValueError" and "don't have the same set of keys" in text and text.endswith("{'b': .}")


def test_errors_match_tensorflow():
    tf = pytest.importorskip("tensorflow")
    for a, b, kw in PAIRS:
        assert _outcome(tg.nest, a, b, kw) == _outcome(tf.nest, a, b, kw), (a, b, kw)
    for a, b in [([1, 2], [1]), (1, [1, 2]), (1, [])]:
        with pytest.raises(ValueError) as ours:
            tg.nest.pack_sequence_as(a, b)
        with pytest.raises(ValueError) as theirs:
            tf.nest.pack_sequence_as(a, b)
        assert str(ours.value) == str(theirs.value)
