"""The operation vocabulary: the blocks of the classic image-classification papers as one flat
registry (``OPS``) with one signature, ``create(name, in_chs, out_chs, stride, **options)``, and
an analytic ``cost`` for every entry.

This package is pure: names, costs and shape checks need no torch. Modules live in
``cells.modules`` and are imported only when ``create`` builds one (``cells.modules.drop_path``
holds ``DropPath`` and the trainer's ``set_drop_path_scale``).
"""
from cells.counting import Cost
from cells.registry import OPS, OpDef, check_shape, cost, create, get, out_size, register
from cells import nasnet_ops, se, mobile, residual, inception, dense, squeeze, shuffle, mobile_v3  # noqa: F401,E402
from cells import inception_v4, inception_reduce, inception_resnet  # noqa: F401,E402
from cells import xception, dpn  # noqa: F401,E402
from cells import preact, nfnet  # noqa: F401,E402

__all__ = ["OPS", "OpDef", "Cost", "check_shape", "cost", "create", "get", "out_size", "register"]
