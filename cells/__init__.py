"""The operation vocabulary: the blocks of the classic image-classification papers as one flat
registry (``OPS``) with one signature, ``create(name, in_chs, out_chs, stride, **options)``, and
an analytic ``cost`` for every entry.

This package is pure: names, costs and shape checks need no torch. Modules live in
``cells.modules`` and are imported only when ``create`` builds one (``cells.modules.drop_path``
holds ``DropPath`` and the trainer's ``set_drop_path_scale``).
"""
from cells.counting import Cost
from cells.registry import OPS, OpDef, check_shape, cost, create, get, out_size, register
from cells import nasnet_ops, se, mobile, residual, inception, dense, squeeze, shuffle, mobile_v3, preact, nfnet  # noqa: F401,E402,E501

__all__ = ["OPS", "OpDef", "Cost", "check_shape", "cost", "create", "get", "out_size", "register"]
