"""Collects the names each ops module exports into TF's namespaces (tg, tg.math, tg.nn, tg.linalg)."""
from . import _ops_linalg, _ops_math, _ops_nn, _ops_nnloss, _ops_shape

_MODULES = (_ops_math, _ops_shape, _ops_linalg, _ops_nn, _ops_nnloss)


def exported(namespace):
    """{name: object} of everything the ops modules export into `namespace`."""
    out = {}
    for mod in _MODULES:
        for name in mod.EXPORTS.get(namespace, ()):
            out[name] = getattr(mod, name)
    return out
