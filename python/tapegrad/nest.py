"""Flattening and re-packing of nested lists, tuples and dicts (a small ``tf.nest``)."""


def _is_leaf(x):
    return not isinstance(x, (list, tuple, dict))


def flatten(structure):
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


def pack_sequence_as(structure, flat):
    """Inverse of flatten: `flat` packed in the shape of `structure`."""
    it = iter(flat)
    result = _pack(structure, it)
    return result


def _pack(s, it):
    if isinstance(s, dict):
        packed = {k: _pack(s[k], it) for k in sorted(s)}
        return type(s)((k, packed[k]) for k in s) if type(s) is not dict else {k: packed[k] for k in s}
    if isinstance(s, tuple) and hasattr(s, "_fields"):  # namedtuple
        return type(s)(*[_pack(v, it) for v in s])
    if isinstance(s, (list, tuple)):
        return type(s)(_pack(v, it) for v in s)
    return next(it)
