"""The NAS-Bench-201 topology space (Dong & Yang 2020, "NAS-Bench-201: Extending the Scope of
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

from dataclasses import dataclass, replace
from typing import Any, Sequence

import networkx as nx

import cells
from cells import counting as C
from cells.counting import Cost
from search_spaces.base import Dimension, SearchSpace

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


def _layers(spec: NB201Spec) -> list[dict]:
    """The macro network as a list of stages with their output shape and analytic cost."""
    h = spec.resolution
    stem = C.conv_bn(3, STEM_CHS, 3, 1, h, h)[0]
    layers = [{"id": "stem", "op": "stem", "kind": "stem", "label": f"conv 3x3, {STEM_CHS}",
               "channels": STEM_CHS, "height": h, "cost": stem}]
    chs = STEM_CHS
    for stage in range(3):
        if stage:
            out = chs * 2
            layers.append({"id": f"reduce{stage}", "op": "block", "kind": "reduction",
                           "label": f"residual block /2, {out}", "channels": out,
                           "height": h // 2, "cost": reduction_cost(chs, out, h)})
            chs, h = out, h // 2
        for k in range(CELLS_PER_STAGE):
            layers.append({"id": f"cell{stage}_{k}", "op": "cell", "kind": "normal",
                           "label": f"cell, {chs}", "channels": chs, "height": h,
                           "cost": cell_cost(spec.ops, chs, h)})
    layers.append({"id": "pool", "op": "pool", "kind": "pool", "label": "BN-ReLU-global avg pool",
                   "channels": chs, "height": 1, "cost": C.bn(chs)})
    layers.append({"id": "head", "op": "head", "kind": "head", "label": f"linear, {spec.num_classes}",
                   "channels": spec.num_classes, "height": 1,
                   "cost": C.linear(chs, spec.num_classes)})
    return layers


def edge_cost(op: str, chs: int, h: int) -> Cost:
    return cells.cost(CELL_OPS[op], chs, chs, 1, h)


def cell_cost(ops: Sequence[str], chs: int, h: int) -> Cost:
    return sum((edge_cost(op, chs, h) for op in ops), C.ZERO)


def reduction_cost(in_chs: int, out_chs: int, h: int) -> Cost:
    """ResNet basic block, stride 2: two ReLU-conv3x3-BN and an avg-pool + 1x1 conv shortcut."""
    conv_a, ho, wo = C.conv_bn(in_chs, out_chs, 3, 2, h, h)
    conv_b = C.conv_bn(out_chs, out_chs, 3, 1, ho, wo)[0]
    shortcut = C.conv(in_chs, out_chs, 1, 1, h // 2, h // 2)[0]
    return conv_a + conv_b + shortcut


class NB201Space(SearchSpace):
    """The 15,625-cell space; ``num_classes`` / ``resolution`` are stamped on every frozen spec."""

    name = SPACE

    def __init__(self, num_classes: int = 10, resolution: int = 32):
        NB201Spec(("none",) * len(EDGES), num_classes, resolution)  # validates both at the boundary
        self.num_classes, self.resolution = num_classes, resolution
        self._dims = tuple(Dimension(f"edge_{i}->{j}", OPS) for i, j in EDGES)

    def __repr__(self) -> str:
        return f"NB201Space(num_classes={self.num_classes}, resolution={self.resolution})"

    def dimensions(self) -> tuple[Dimension, ...]:
        return self._dims

    def freeze(self, decisions: Sequence[int]) -> NB201Spec:
        idx = self.check_decisions(decisions)
        return NB201Spec(tuple(OPS[k] for k in idx), self.num_classes, self.resolution)

    def decisions(self, spec: NB201Spec) -> tuple[int, ...]:
        self.validate(spec)
        return tuple(OPS.index(op) for op in spec.ops)

    def validate(self, spec: Any) -> None:
        if not isinstance(spec, NB201Spec):
            raise TypeError(f"{SPACE}: expected an NB201Spec, got {type(spec).__name__}")

    def cost(self, spec: NB201Spec, **kwargs) -> Cost:
        if kwargs:
            raise TypeError(f"{SPACE}.cost takes no options (the spec holds the task), got {sorted(kwargs)}")
        self.validate(spec)
        return sum((layer["cost"] for layer in _layers(spec)), C.ZERO)

    def to_graph(self, spec: NB201Spec, view: str = "network") -> nx.DiGraph:
        self.validate(spec)
        if view not in ("network", "cell"):
            raise ValueError(f"view must be 'network' or 'cell', got {view!r}")
        total = self.cost(spec)
        graph = nx.DiGraph(space=SPACE, spec=spec.to_str(), view=view, params=total.params,
                           macs=total.macs)
        (_network_graph if view == "network" else _cell_graph)(graph, spec)
        return graph

    def build(self, spec: NB201Spec, **kwargs):
        """The benchmark's network; it has no drop path, auxiliary head or dropout to configure."""
        from search_spaces.nasbench201_net import NB201Network  # torch only here

        if kwargs:
            raise TypeError(f"{SPACE}.build takes no options (the benchmark network has no drop path, "
                            f"auxiliary head or dropout), got {sorted(kwargs)}")
        self.validate(spec)
        return NB201Network(spec)

    def retarget(self, spec: NB201Spec, *, num_classes: int | None = None,
                 resolution: int | None = None) -> NB201Spec:
        self.validate(spec)
        changes = {k: v for k, v in (("num_classes", num_classes), ("resolution", resolution))
                   if v is not None}
        return replace(spec, **changes)

    def from_str(self, text: str) -> NB201Spec:
        return NB201Spec.from_str(text)

    def from_dict(self, data: dict) -> NB201Spec:
        return NB201Spec.from_dict(data)


def _network_graph(graph: nx.DiGraph, spec: NB201Spec) -> None:
    h = spec.resolution
    graph.add_node("input", op="input", label=f"image {h}x{h}x3", kind="input", channels=3,
                   height=h, width=h, params=0, macs=0)
    previous = "input"
    for layer in _layers(spec):
        graph.add_node(layer["id"], op=layer["op"], label=layer["label"], kind=layer["kind"],
                       channels=layer["channels"], height=layer["height"], width=layer["height"],
                       params=layer["cost"].params, macs=layer["cost"].macs)
        graph.add_edge(previous, layer["id"])
        previous = layer["id"]
    graph.add_node("output", op="output", label="logits", kind="output", channels=spec.num_classes,
                   height=1, width=1, params=0, macs=0)
    graph.add_edge(previous, "output")


def _cell_graph(graph: nx.DiGraph, spec: NB201Spec) -> None:
    """Nodes 0..3 of the cell (first-stage shape) with each edge drawn as an op node between."""
    chs, h = STEM_CHS, spec.resolution
    shape = {"channels": chs, "height": h, "width": h, "cell": "normal"}
    for j in range(4):
        op, kind = ("input", "input") if j == 0 else ("add", "output" if j == 3 else "node")
        graph.add_node(f"normal/{j}", op=op, label="in" if j == 0 else f"node {j}", kind=kind,
                       params=0, macs=0, **shape)
    for (i, j), op in zip(EDGES, spec.ops):
        cost = edge_cost(op, chs, h)
        node = f"normal/e{i}{j}"
        graph.add_node(node, op=op, label=op, kind="op", params=cost.params, macs=cost.macs, **shape)
        graph.add_edge(f"normal/{i}", node)
        graph.add_edge(node, f"normal/{j}")


# The ResNet-like cell of the benchmark paper: node 3 = skip(input) + conv3x3(conv3x3(input)).
NAMED = {"nb201_resnet": NB201Spec.from_str(
    "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|")}


def parse(text: str) -> NB201Spec | None:
    """The spec for a NAS-Bench-201 string (it starts with '|'), else None."""
    if not isinstance(text, str) or not text.strip().startswith("|"):
        return None
    return NB201Spec.from_str(text)


def parse_dict(data: Any) -> NB201Spec | None:
    """A spec from the JSON form (``"space": "nasbench201"``, or an arch string); None otherwise."""
    if isinstance(data, str):
        return parse(data)
    if not isinstance(data, dict) or data.get("space") != SPACE:
        return None
    return NB201Spec.from_dict(data)


def space_for(spec: Any) -> NB201Space | None:
    if not isinstance(spec, NB201Spec):
        return None
    return NB201Space(spec.num_classes, spec.resolution)
