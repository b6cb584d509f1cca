"""The shape plan of a cell network: every cell's inputs, preprocessing, operations, concatenated
states and output shapes, computed from a ``CellSpec`` without torch.

One plan feeds the three products of a spec (build, graph, cost), so the module, the picture and
the analytic count cannot disagree about a shape. The macro structure follows the papers' code:

- CIFAR stem: 3x3 conv + BN with ``stem_multiplier * F`` filters (NASNet and DARTS alike).
- ImageNet stem, NASNet wiring (TF slim ``nasnet.py``): a stride-2 3x3 VALID conv with
  ``32 * stem_multiplier`` filters + BN, then two reduction cells at F/4 and F/2 filters.
- ImageNet stem, DARTS wiring (``NetworkImageNet``): conv s2 to F/2, BN, ReLU, conv s2 to F, BN
  (stem0); ReLU, conv s2, BN (stem1); the cells start from (stem0, stem1).
- Stages of N normal cells with F, 2F, 4F filters; a reduction cell before stages 2 and 3.
- Cell inputs: h[i-1] always gets ReLU-1x1 conv-BN; h[i-2] gets a factorized reduction when it
  is at twice the resolution, else a ReLU-1x1 conv-BN (always under DARTS wiring, only when the
  channels differ under NASNet wiring, as ``_reduce_prev_layer`` does). The first cell, which has
  no h[i-2], reads its h[i-1] for both inputs (DARTS's ``s0 = s1 = stem``).
- In a reduction cell, operations that read a cell input stride 2; the others stride 1.
- A concatenated state left at the input resolution (an unused cell input in a reduction cell)
  goes through a factorized reduction first (``_combine_unused_states``).
- An op that cannot change channels (pooling) reading a state wider than C (a 'concat' block) is
  followed by a ReLU-1x1 conv-BN back to C, as the TF code projects after pooling.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cells
from cells import counting
from cells.counting import Cost
from search_spaces.cell.spec import Cell, CellSpec, output_states


@dataclass(frozen=True)
class Tensor:
    chs: int
    size: int


@dataclass(frozen=True)
class OpUse:
    """One registry op applied inside a cell (``project``: followed by conv_1x1 to ``out_chs``)."""

    name: str
    in_chs: int
    out_chs: int
    stride: int
    size: int
    project: bool = False

    @property
    def out_size(self) -> int:
        return math.ceil(self.size / self.stride)

    def cost(self) -> Cost:
        if self.project:
            return (cells.cost(self.name, self.in_chs, self.in_chs, self.stride, self.size)
                    + cells.cost("conv_1x1", self.in_chs, self.out_chs, 1, self.out_size))
        return cells.cost(self.name, self.in_chs, self.out_chs, self.stride, self.size)


@dataclass(frozen=True)
class Conv:
    """A stem convolution followed by BN (optionally preceded / followed by ReLU)."""

    in_chs: int
    out_chs: int
    kernel: int
    stride: int
    padding: int
    size: int
    relu_before: bool = False
    relu_after: bool = False

    @property
    def out_size(self) -> int:
        return counting.out_size(self.size, self.kernel, self.stride, self.padding)

    def cost(self) -> Cost:
        return counting.conv_bn(self.in_chs, self.out_chs, self.kernel, self.stride, self.size, self.size,
                                padding=self.padding)[0]


@dataclass(frozen=True)
class StemPlan:
    name: str
    source: str
    convs: tuple[Conv, ...]

    @property
    def out(self) -> Tensor:
        return Tensor(self.convs[-1].out_chs, self.convs[-1].out_size)

    def cost(self) -> Cost:
        return sum((c.cost() for c in self.convs), Cost())


@dataclass(frozen=True)
class CellPlan:
    name: str
    kind: str                           # 'normal' | 'reduce'
    cell: Cell
    chs: int                            # C: every op's output channels
    sources: tuple[str, str]            # node names of h[i-2], h[i-1]
    preps: tuple[OpUse, OpUse]
    ops: tuple[tuple[OpUse, OpUse], ...]
    states: tuple[Tensor, ...]          # after preprocessing: inputs, then block outputs
    concat: tuple[int, ...]
    adapters: tuple[OpUse, ...]         # one per concatenated state
    position: int                       # 1-based depth among all cells (NASNet's drop-path ratio)

    @property
    def out(self) -> Tensor:
        return Tensor(sum(a.out_chs for a in self.adapters), self.states[-1].size)

    def cost(self) -> Cost:
        uses = [*self.preps, *(u for pair in self.ops for u in pair), *self.adapters]
        return sum((u.cost() for u in uses), Cost())


@dataclass(frozen=True)
class NetworkPlan:
    spec: CellSpec
    stems: tuple[StemPlan, ...]
    cells: tuple[CellPlan, ...]
    aux_index: int                      # index into ``cells`` of the cell feeding the aux head

    @property
    def features(self) -> Tensor:
        return self.cells[-1].out

    def head_cost(self) -> Cost:
        return counting.linear(self.features.chs, self.spec.num_classes)

    def cost(self) -> Cost:
        return (sum((s.cost() for s in self.stems), Cost()) + sum((c.cost() for c in self.cells), Cost())
                + self.head_cost())


def _prep_prev_prev(p: Tensor, x: Tensor, chs: int, wiring: str) -> OpUse:
    if p.size != x.size:
        if math.ceil(p.size / 2) != x.size:
            raise ValueError(f"internal: h[i-2] at {p.size}px cannot be reduced to h[i-1]'s {x.size}px")
        return OpUse("skip_connect", p.chs, chs, 2, p.size)
    if wiring == "darts" or p.chs != chs:
        return OpUse("conv_1x1", p.chs, chs, 1, p.size)
    return OpUse("identity", chs, chs, 1, p.size)


def plan_cell(name: str, kind: str, cell: Cell, chs: int, p: Tensor, x: Tensor, sources: tuple[str, str],
              wiring: str, position: int) -> CellPlan:
    """Shapes of one cell reading raw inputs ``p`` (h[i-2]) and ``x`` (h[i-1])."""
    preps = (_prep_prev_prev(p, x, chs, wiring), OpUse("conv_1x1", x.chs, chs, 1, x.size))
    states = [Tensor(chs, x.size), Tensor(chs, x.size)]
    reduce = kind == "reduce"
    ops = []
    for block in cell.blocks:
        pair = []
        for name_, idx in ((block.op1, block.input1), (block.op2, block.input2)):
            src = states[idx]
            stride = 2 if reduce and idx < 2 else 1
            project = cells.OPS[name_].same_chs and src.chs != chs
            pair.append(OpUse(name_, src.chs, chs, stride, src.size, project))
        ops.append(tuple(pair))
        out_chs = chs if block.combiner == "add" else 2 * chs
        states.append(Tensor(out_chs, pair[0].out_size))
    concat = output_states(cell, wiring)
    final = states[-1].size
    adapters = tuple(OpUse("skip_connect", states[i].chs, states[i].chs, 2, states[i].size)
                     if states[i].size != final else OpUse("identity", states[i].chs, states[i].chs, 1, final)
                     for i in concat)
    return CellPlan(name, kind, cell, chs, sources, preps, tuple(ops), tuple(states), concat, adapters, position)


def _stems(spec: CellSpec) -> tuple[StemPlan, ...]:
    f, r = spec.filters, spec.resolution
    if spec.stem == "cifar":
        return (StemPlan("stem", "input", (Conv(3, spec.stem_multiplier * f, 3, 1, 1, r),)),)
    if spec.wiring == "nasnet":
        return (StemPlan("stem", "input", (Conv(3, 32 * spec.stem_multiplier, 3, 2, 0, r),)),)
    a = Conv(3, f // 2, 3, 2, 1, r, relu_after=True)
    b = Conv(f // 2, f, 3, 2, 1, a.out_size)
    c = Conv(f, f, 3, 2, 1, b.out_size, relu_before=True)
    return StemPlan("stem0", "input", (a, b)), StemPlan("stem1", "stem0", (c,))


def _check_sizes(spec: CellSpec, stems: tuple[StemPlan, ...]) -> None:
    nasnet_stem = spec.stem == "imagenet" and spec.wiring == "nasnet"
    least = 4 if nasnet_stem else 2 if spec.stem == "imagenet" else 1
    if spec.filters < least:
        raise ValueError(f"filters={spec.filters} is too few for the {spec.wiring} ImageNet stem "
                         f"(F/{least} channels); accepted: F >= {least}")
    reductions = 2 + (2 if nasnet_stem else 0)
    size = stems[-1].out.size
    if size < 2 ** reductions:
        raise ValueError(f"resolution={spec.resolution} is too small for this network: the cells start "
                         f"at {size}px and reduce {reductions} times (need at least {2 ** reductions}px there)")


def plan_network(spec: CellSpec) -> NetworkPlan:
    """The full shape plan of ``spec`` (pure, no torch)."""
    stems = _stems(spec)
    _check_sizes(spec, stems)
    names = [s.name for s in stems]
    tensors = {s.name: s.out for s in stems}
    cells_: list[CellPlan] = []

    def add(name: str, kind: str, chs: int) -> None:
        p_name, x_name = (names[-2], names[-1]) if len(names) > 1 else (names[-1], names[-1])
        cell = spec.reduce if kind == "reduce" else spec.normal
        plan = plan_cell(name, kind, cell, chs, tensors[p_name], tensors[x_name], (p_name, x_name),
                         spec.wiring, len(cells_) + 1)
        cells_.append(plan)
        names.append(name)
        tensors[name] = plan.out

    if spec.stem == "imagenet" and spec.wiring == "nasnet":
        add("stem_cell0", "reduce", spec.filters // 4)
        add("stem_cell1", "reduce", spec.filters // 2)
    first = len(cells_)
    for stage in range(3):
        chs = spec.filters * 2 ** stage
        if stage:
            add(f"reduce{stage - 1}", "reduce", chs)
        for i in range(spec.n):
            add(f"cell{stage * spec.n + i}", "normal", chs)
    # DARTS hangs the aux head on the second reduction cell, NASNet on the normal cell before it.
    aux = first + 2 * spec.n + (1 if spec.wiring == "darts" else 0)
    return NetworkPlan(spec, stems, tuple(cells_), aux)
