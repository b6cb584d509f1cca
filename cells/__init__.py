"""The operation vocabulary: the blocks of the classic image-classification papers as one flat
registry (``OPS``) with one signature, ``create(name, in_chs, out_chs, stride, **options)``, and
an analytic ``cost`` for every entry."""
from cells.counting import Cost
from cells.drop_path import DropPath, set_drop_path_scale
from cells.registry import OPS, OpDef, cost, create, get, register
from cells import nasnet_ops, se, mobile, residual, inception  # noqa: F401  (register entries)

__all__ = ["OPS", "OpDef", "Cost", "DropPath", "cost", "create", "get", "register", "set_drop_path_scale"]
