"""Flattening and re-packing of nested lists, tuples (namedtuples included) and dicts: ``tf.nest``
(``flatten``, ``pack_sequence_as``, ``map_structure``, ``assert_same_structure``, ``is_nested``).

>>> import tapegrad as tf
>>> tf.nest.map_structure(lambda x, y: x + y, {"b": [1, (2, 3)], "a": 4}, {"b": [10, (20, 30)], "a": 40})
{'b': [11, (22, 33)], 'a': 44}
>>> tf.nest.flatten({"b": 1, "a": 2})
[2, 1]
"""


def _is_leaf(x):
    return not isinstance(x, (list, tuple, dict))


def is_nested(seq):
    """True for a list, tuple (namedtuple) or dict: a structure that ``flatten`` descends into."""
    return not _is_leaf(seq)


def flatten(structure, expand_composites=False):
    """Leaves in order; dict values in sorted key order, as ``tf.nest``."""
    if _is_leaf(structure):
        return [structure]
    out = []
    _flatten_into(structure, out)
    return out


def _flatten_into(s, out):
    if isinstance(s, dict):
        for k in sorted(s):
            _flatten_into(s[k], out)
    elif isinstance(s, (list, tuple)):
        for v in s:
            _flatten_into(v, out)
    else:
        out.append(s)


def pack_sequence_as(structure, flat_sequence, expand_composites=False):
    """Inverse of flatten: `flat_sequence` packed in the shape of `structure`."""
    if not isinstance(flat_sequence, (list, tuple)) and not hasattr(flat_sequence, "__next__"):
        raise TypeError(
            f"Attempted to pack value:\n  {flat_sequence}\ninto a structure, but found incompatible "
            f"type `{type(flat_sequence)}` instead."
        )
    kind = type(flat_sequence)
    flat_sequence = list(flat_sequence)
    if _is_leaf(structure):
        if len(flat_sequence) != 1:
            raise ValueError(
                f"The target structure is of type `{type(structure)}`\n  {structure}\nHowever the input "
                f"is a sequence ({kind}) of length {len(flat_sequence)}.\n  {flat_sequence}\nnest cannot "
                "guarantee that it is safe to map one to the other."
            )
        return flat_sequence[0]
    n = len(flatten(structure))
    if n != len(flat_sequence):
        raise ValueError(
            f"Could not pack sequence. Structure had {n} atoms, but flat_sequence had "
            f"{len(flat_sequence)} items.  Structure: {structure}, flat_sequence: {flat_sequence}."
        )
    return _pack(structure, iter(flat_sequence))


def map_structure(func, *structure, **kwargs):
    """``func`` applied to the leaves of each structure (all of the same structure), packed again."""
    check_types = kwargs.pop("check_types", True)
    kwargs.pop("expand_composites", False)
    if kwargs:
        raise ValueError(
            "Only valid keyword arguments are `check_types` and `expand_composites`, not: "
            f"`{'`, `'.join(kwargs.keys())}`"
        )
    if not callable(func):
        raise TypeError(f"func must be callable, got: {func}")
    if not structure:
        raise ValueError("Must provide at least one structure")
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types=check_types)
    flat = [flatten(s) for s in structure]
    return pack_sequence_as(structure[0], [func(*leaves) for leaves in zip(*flat)])


class _Dot:
    def __repr__(self):
        return "."


def _type_str(x):
    return f"type={type(x).__name__} str={x}"


def _structure_difference(a, b, check_types):
    """(exception type, message) of the first difference between two structures, or None."""
    a_nested, b_nested = is_nested(a), is_nested(b)
    if a_nested != b_nested:
        seq, other = (a, b) if a_nested else (b, a)
        return (
            ValueError,
            f'Substructure "{_type_str(seq)}" is a sequence, while substructure "{_type_str(other)}" is not',
        )
    if not a_nested:
        return None
    if check_types and type(a) is not type(b):
        return TypeError, (
            f"The two namedtuples don't have the same sequence type. First structure {_type_str(a)} has "
            f"type {type(a).__name__}, while second structure {_type_str(b)} has type "
            f"{type(b).__name__}"
        )
    if len(a) != len(b):
        return ValueError, (
            f"The two structures don't have the same number of elements. First structure: "
            f"{_type_str(a)}. Second structure: {_type_str(b)}"
        )
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            ka, kb = sorted(a), sorted(b)
            return ValueError, (
                f"The two dictionaries don't have the same set of keys. First structure has keys "
                f"{_type_str(ka)}, while second structure has keys {_type_str(kb)}"
            )
        pairs = [(a[k], b[k]) for k in sorted(a)]
    elif isinstance(a, dict) or isinstance(b, dict):
        pairs = list(zip(flatten(a), flatten(b)))
    else:
        pairs = list(zip(a, b))
    for x, y in pairs:
        found = _structure_difference(x, y, check_types)
        if found is not None:
            return found
    return None


def assert_same_structure(nest1, nest2, check_types=True, expand_composites=False):
    """Raises ValueError (TypeError for different sequence types) unless the two structures match."""
    found = _structure_difference(nest1, nest2, check_types)
    if found is None:
        return
    error, detail = found
    dots1 = map_structure(lambda _: _Dot(), nest1) if is_nested(nest1) else _Dot()
    dots2 = map_structure(lambda _: _Dot(), nest2) if is_nested(nest2) else _Dot()
    raise error(
        f"The two structures don't have the same nested structure.\n\nFirst structure: {_type_str(nest1)}\n\n"
        f"Second structure: {_type_str(nest2)}\n\nMore specifically: {detail}\nEntire first structure:\n"
        f"{dots1}\nEntire second structure:\n{dots2}"
    )


def _pack(s, it):
    if isinstance(s, dict):
        packed = {k: _pack(s[k], it) for k in sorted(s)}
        return type(s)((k, packed[k]) for k in s) if type(s) is not dict else {k: packed[k] for k in s}
    if isinstance(s, tuple) and hasattr(s, "_fields"):  # namedtuple
        return type(s)(*[_pack(v, it) for v in s])
    if isinstance(s, (list, tuple)):
        return type(s)(_pack(v, it) for v in s)
    return next(it)
