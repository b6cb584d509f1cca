"""Option checks every vocabulary entry runs at the boundary, before torch sees a bad value.

Pure: the registry prices and validates an entry without importing torch, so these checks live
apart from the modules (``cells.modules``) that build the blocks.
"""
from __future__ import annotations

# Names a block's ``act`` option accepts; swish is SiLU (Ramachandran et al. 2017 / EfficientNet),
# gelu is NFNet's (Brock et al. 2021), tanh LeNet-5's (LeCun et al. 1998).
ACTIVATION_NAMES = ("relu", "relu6", "silu", "swish", "hswish", "gelu", "tanh", "none")


def check_act(op: str, act: str) -> str:
    if act not in ACTIVATION_NAMES:
        raise ValueError(f"{op}: act must be one of {', '.join(ACTIVATION_NAMES)}, got {act!r}")
    return act


def check_int(op: str, field: str, value: object, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{op}: {field} must be an int >= {minimum}, got {value!r}")
    return value


def check_kernel(op: str, kernel: object, field: str = "kernel") -> int:
    """Odd kernels only: 'same' padding k // 2 then gives ceil(H / stride) for every H."""
    check_int(op, field, kernel)
    if kernel % 2 == 0:
        raise ValueError(f"{op}: {field} must be odd (3, 5, 7, ...), got {kernel!r}")
    return kernel


def check_ratio(op: str, field: str, value: object, *, upper: float = 1.0, closed: bool = True) -> float:
    """A float in [0, upper] (or [0, upper) when ``closed`` is False)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{op}: {field} must be a number, got {value!r}")
    ok = 0.0 <= value <= upper if closed else 0.0 <= value < upper
    if not ok:
        bound = "]" if closed else ")"
        raise ValueError(f"{op}: {field} must be in [0, {upper}{bound}, got {value!r}")
    return float(value)


def check_bool(op: str, field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{op}: {field} must be True or False, got {value!r}")
    return value


def pair(kernel: int | tuple[int, int]) -> tuple[int, int]:
    return (kernel, kernel) if isinstance(kernel, int) else tuple(kernel)
