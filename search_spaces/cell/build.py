"""The torch builder of a cell network (NASNet, Zoph et al. 2018; DARTS's ``NetworkCIFAR`` /
``NetworkImageNet``, Liu et al. 2019), following the shape plan of ``cell_plan`` so the module
matches the analytic cost exactly. Every cell operation comes from ``cells.create``.

Training-time options are builder arguments, not spec fields: the auxiliary head (NASNet's and
DARTS's: ReLU, 5x5 average pool stride 3, 1x1 conv to 128, BN, ReLU, conv over the remaining
map to 768, BN, ReLU, linear; on the normal cell before the second reduction under NASNet wiring,
on the second reduction cell under DARTS wiring), drop path on every operation output that is
not an identity (rate scaled by cell depth under NASNet wiring, as its drop_connect 'v3'; the
trainer scales it over time with ``set_drop_path_scale``), and dropout before the
classifier.
"""
from __future__ import annotations

import torch
from torch import nn

import cells
from cells.modules.drop_path import DropPath
from cells.counting import out_size
from search_spaces.cell.plan import CellPlan, NetworkPlan, OpUse, StemPlan, plan_network
from search_spaces.cell.spec import CellSpec


def _rate(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def op_module(use: OpUse, drop_rate: float = 0.0) -> nn.Module:
    """One planned op: the registry module, its projection back to C if any, then drop path."""
    out = use.in_chs if use.project else use.out_chs
    module = cells.create(use.name, use.in_chs, out, use.stride)
    if use.project:
        module = nn.Sequential(module, cells.create("conv_1x1", use.in_chs, use.out_chs, 1))
    if drop_rate > 0.0 and not isinstance(module, nn.Identity):
        module = nn.Sequential(module, DropPath(drop_rate))
    return module


class CellModule(nn.Module):
    """One cell: preprocess both inputs, run the blocks, concatenate the planned states."""

    def __init__(self, plan: CellPlan, drop_rate: float = 0.0):
        super().__init__()
        self.preprocess = nn.ModuleList(op_module(u) for u in plan.preps)
        self.ops = nn.ModuleList(op_module(u, drop_rate) for pair in plan.ops for u in pair)
        self.adapters = nn.ModuleList(op_module(u) for u in plan.adapters)
        self.wiring = [(b.input1, b.input2, b.combiner == "concat") for b in plan.cell.blocks]
        self.concat = list(plan.concat)

    def forward(self, prev_prev: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess[0](prev_prev), self.preprocess[1](prev)]
        for b, (i, j, concat) in enumerate(self.wiring):
            left, right = self.ops[2 * b](states[i]), self.ops[2 * b + 1](states[j])
            states.append(torch.cat([left, right], dim=1) if concat else left + right)
        return torch.cat([adapt(states[i]) for i, adapt in zip(self.concat, self.adapters)], dim=1)


def _stem_module(stem: StemPlan) -> nn.Sequential:
    layers: list[nn.Module] = []
    for c in stem.convs:
        if c.relu_before:
            layers.append(nn.ReLU())
        layers += [nn.Conv2d(c.in_chs, c.out_chs, c.kernel, c.stride, c.padding, bias=False),
                   nn.BatchNorm2d(c.out_chs)]
        if c.relu_after:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class AuxiliaryHead(nn.Module):
    """NASNet's / DARTS's auxiliary classifier; the pooling window shrinks on maps under 5px."""

    def __init__(self, chs: int, size: int, num_classes: int):
        super().__init__()
        kernel = min(5, size)
        pooled = out_size(size, kernel, 3, 0)
        self.features = nn.Sequential(
            nn.ReLU(), nn.AvgPool2d(kernel, 3, count_include_pad=False),
            nn.Conv2d(chs, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
            nn.Conv2d(128, 768, pooled, bias=False), nn.BatchNorm2d(768), nn.ReLU(), nn.Flatten())
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class CellNetwork(nn.Module):
    """Stem, cells, global pooling and a linear classifier; ``forward`` returns the logits, or
    ``(logits, aux_logits)`` in training mode when built with the auxiliary head."""

    def __init__(self, plan: NetworkPlan, *, auxiliary: bool = False, drop_path: float = 0.0,
                 dropout: float = 0.0):
        super().__init__()
        spec = plan.spec
        self.stems = nn.ModuleList(_stem_module(s) for s in plan.stems)
        total = len(plan.cells)
        scale = (lambda c: c.position / total) if spec.wiring == "nasnet" else (lambda c: 1.0)
        self.cells = nn.ModuleList(CellModule(c, drop_path * scale(c)) for c in plan.cells)
        self.aux_index = plan.aux_index
        aux_in = plan.cells[plan.aux_index].out
        self.auxiliary_head = AuxiliaryHead(aux_in.chs, aux_in.size, spec.num_classes) if auxiliary else None
        # NASNet's final layer applies ReLU before pooling; DARTS pools the cell output directly.
        self.final = nn.Sequential(*([nn.ReLU()] if spec.wiring == "nasnet" else []),
                                   nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout))
        self.classifier = nn.Linear(plan.features.chs, spec.num_classes)

    def forward(self, x: torch.Tensor):
        prev_prev = prev = self.stems[0](x)
        for stem in self.stems[1:]:
            prev_prev, prev = prev, stem(prev)
        aux = None
        for i, cell in enumerate(self.cells):
            prev_prev, prev = prev, cell(prev_prev, prev)
            if i == self.aux_index and self.auxiliary_head is not None and self.training:
                aux = self.auxiliary_head(prev)
        logits = self.classifier(self.final(prev))
        return (logits, aux) if aux is not None else logits


def build_network(spec: CellSpec, *, auxiliary: bool = False, drop_path: float = 0.0,
                  dropout: float = 0.0) -> CellNetwork:
    """The ``nn.Module`` of ``spec``; its parameter count equals ``plan_network(spec).cost()``
    (auxiliary head off)."""
    if not isinstance(spec, CellSpec):
        raise TypeError(f"build_network expects a CellSpec, got {type(spec).__name__}")
    if not isinstance(auxiliary, bool):
        raise TypeError(f"auxiliary must be a bool, got {auxiliary!r}")
    return CellNetwork(plan_network(spec), auxiliary=auxiliary, drop_path=_rate("drop_path", drop_path),
                       dropout=_rate("dropout", dropout))
