"""The spec of the NAS-Bench-201 topology space (Dong & Yang 2020, "NAS-Bench-201: Extending the Scope of
Reproducible Neural Architecture Search").

A cell is a 4-node DAG: node 0 is the cell input, node j (1..3) sums one operation on every edge
i -> j (i < j), and node 3 is the output, so 6 edges each choose one of 5 ops (5^6 = 15,625 cells).
The macro network is fixed: a 3x3 conv + BN stem with 16 channels, three stages of 5 cells with
16 / 32 / 64 channels separated by residual reduction blocks (ResNet basic blocks with stride 2),
then BN-ReLU, global average pooling and a linear classifier.

String form: the benchmark's own ``arch_str``, e.g.
``|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|``
(nodes separated by ``+``, each ``|op~input|`` naming the edge's op and its source node, sources in
order). ``num_classes`` and ``resolution`` are part of the spec; in the string form they appear
only when they differ from the CIFAR-10 defaults (10 classes, 32 px), as a suffix
``@num_classes=100,resolution=16``, so every string of the benchmark's tables is a spec string
as it stands. The JSON form always carries both.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

SPACE = "nasbench201"
OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# (source, target) of the 6 edges, in the order the benchmark string lists them.
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
# The benchmark's ops at stride 1 with equal channels are exactly these vocabulary entries:
# nor_conv = ReLU-Conv-BN, avg pool 3x3 with count_include_pad=False, identity skip, zero.
CELL_OPS = {"none": "none", "skip_connect": "skip_connect", "nor_conv_1x1": "conv_1x1",
            "nor_conv_3x3": "conv_3x3", "avg_pool_3x3": "avg_pool_3x3"}
STEM_CHS = 16
CELLS_PER_STAGE = 5
DEFAULTS = {"num_classes": 10, "resolution": 32}


def _check_int(name: str, value: Any, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


@dataclass(frozen=True)
class NB201Spec:
    """One NAS-Bench-201 network: the 6 edge ops (benchmark order) plus the task it is built for."""

    ops: tuple[str, ...]
    num_classes: int = 10
    resolution: int = 32

    def __post_init__(self) -> None:
        if isinstance(self.ops, str) or not isinstance(self.ops, Sequence):
            raise ValueError(f"ops must be a sequence of {len(EDGES)} op names, got {self.ops!r}")
        object.__setattr__(self, "ops", tuple(self.ops))
        if len(self.ops) != len(EDGES):
            raise ValueError(f"ops must name {len(EDGES)} edges, got {len(self.ops)}: {self.ops!r}")
        for (i, j), op in zip(EDGES, self.ops):
            if op not in OPS:
                raise ValueError(f"edge {i}->{j}: unknown op {op!r}; accepted: {', '.join(OPS)}")
        _check_int("num_classes", self.num_classes, 1)
        _check_int("resolution", self.resolution, 4)
        # Both reductions need an even input: the residual shortcut pools 2x2 (floor) while the
        # 3x3 stride-2 conv rounds up, so odd sizes would not add up.
        if self.resolution % 4:
            raise ValueError(f"resolution must be a multiple of 4 (two stride-2 reductions), "
                             f"got {self.resolution}")

    def cell_str(self) -> str:
        """The benchmark's ``arch_str`` (the cell only, without task fields)."""
        nodes, k = [], 0
        for j in range(1, 4):
            nodes.append("|" + "|".join(f"{self.ops[k + i]}~{i}" for i in range(j)) + "|")
            k += j
        return "+".join(nodes)

    def to_str(self) -> str:
        extra = [f"{key}={getattr(self, key)}" for key, default in DEFAULTS.items()
                 if getattr(self, key) != default]
        return self.cell_str() + ("@" + ",".join(extra) if extra else "")

    def to_dict(self) -> dict:
        return {"space": SPACE, "cell": self.cell_str(), "num_classes": self.num_classes,
                "resolution": self.resolution}

    @classmethod
    def from_str(cls, text: str) -> "NB201Spec":
        if not isinstance(text, str):
            raise TypeError(f"NAS-Bench-201 spec string must be a str, got {type(text).__name__}")
        cell, _, suffix = text.strip().partition("@")
        return cls(parse_cell(cell), **_parse_suffix(suffix) if suffix else {})

    @classmethod
    def from_dict(cls, data: dict) -> "NB201Spec":
        if not isinstance(data, dict):
            raise TypeError(f"NAS-Bench-201 spec JSON must be an object, got {type(data).__name__}")
        if data.get("space", SPACE) != SPACE:
            raise ValueError(f"space must be {SPACE!r}, got {data.get('space')!r}")
        unknown = set(data) - {"space", "cell", "num_classes", "resolution"}
        if unknown:
            raise ValueError(f"unknown NAS-Bench-201 spec field(s) {sorted(unknown)}; "
                             "accepted: space, cell, num_classes, resolution")
        if "cell" not in data:
            raise ValueError("NAS-Bench-201 spec JSON needs a 'cell' field (the benchmark arch_str)")
        return cls(parse_cell(data["cell"]), **{k: data[k] for k in DEFAULTS if k in data})


def parse_cell(text: str) -> tuple[str, ...]:
    """The 6 edge ops of a benchmark ``arch_str``; ValueError naming the bad token otherwise."""
    if not isinstance(text, str):
        raise TypeError(f"arch string must be a str, got {type(text).__name__}")
    nodes = text.strip().split("+")
    if len(nodes) != 3:
        raise ValueError(f"NAS-Bench-201 arch string needs 3 nodes joined by '+', got {len(nodes)} "
                         f"in {text!r}")
    ops: list[str] = []
    for j, node in enumerate(nodes, start=1):
        if len(node) < 2 or not (node.startswith("|") and node.endswith("|")):
            raise ValueError(f"node {j} token {node!r} must be wrapped in '|' like |op~0|")
        tokens = node[1:-1].split("|")
        if len(tokens) != j:
            raise ValueError(f"node {j} token {node!r} must list {j} edge(s) (from nodes 0..{j - 1}), "
                             f"got {len(tokens)}")
        for i, token in enumerate(tokens):
            op, sep, source = token.partition("~")
            if not sep:
                raise ValueError(f"token {token!r} of node {j} must be op~input, e.g. nor_conv_3x3~{i}")
            if op not in OPS:
                raise ValueError(f"unknown op {op!r} in token {token!r}; accepted: {', '.join(OPS)}")
            if source != str(i):
                raise ValueError(f"token {token!r} of node {j} must read node {i} "
                                 f"(inputs listed in order 0..{j - 1}), got input {source!r}")
            ops.append(op)
    return tuple(ops)


def _parse_suffix(suffix: str) -> dict:
    out: dict[str, int] = {}
    for token in suffix.split(","):
        key, sep, value = token.partition("=")
        if not sep or key not in DEFAULTS:
            raise ValueError(f"bad spec suffix token {token!r}; accepted: "
                             "num_classes=<int>, resolution=<int>")
        if key in out:
            raise ValueError(f"spec suffix names {key!r} twice")
        try:
            out[key] = int(value)
        except ValueError:
            raise ValueError(f"spec suffix token {token!r}: {key} must be an int") from None
    return out


