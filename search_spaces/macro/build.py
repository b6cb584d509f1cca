"""Build a macro-space spec into a torch module: the feature stages (``cells`` registry blocks and
the exact-geometry layers), adaptive average pool, flatten, hidden fully connected layers, dropout
and the classifier (a linear layer, or SqueezeNet's 1x1 conv before the pool).

Every module is made from the same ``plan`` the analytic cost reads. Parameters are registered in
the order torchvision's classic networks register theirs (stem, blocks, head convs, classifier),
so their state dicts load by order (``search_spaces.blocks.build.load_ordered_state_dict``).
"""
from __future__ import annotations

import torch
from torch import nn

import cells
from cells.modules.layers import activation
from search_spaces.macro.plan import Part, plan
from search_spaces.macro.spec import MacroSpec


def _layer(part: Part) -> nn.Module:
    o = part.option_dict()
    if part.op == "conv":
        layers = [nn.Conv2d(part.in_chs, part.chs, o["kernel"], part.stride, o["padding"], groups=o["groups"],
                            bias=o["bias"])]
        if o["bn"]:
            layers.append(nn.BatchNorm2d(part.chs, eps=o["eps"]))
        return nn.Sequential(*layers, activation(o["act"]))
    if part.op == "maxpool":
        return nn.MaxPool2d(o["kernel"], part.stride, o["padding"], ceil_mode=o["ceil"])
    if part.op == "avgpool":
        return nn.AvgPool2d(o["kernel"], part.stride, o["padding"], ceil_mode=o["ceil"])
    if part.op == "lrn":
        return nn.LocalResponseNorm(o["size"], o["alpha"], o["beta"], o["k"])
    return nn.Sequential(nn.BatchNorm2d(part.chs, eps=o["eps"]), activation(o["act"]))


def _block(part: Part) -> nn.Module:
    if part.op in ("conv", "maxpool", "avgpool", "lrn", "bn"):
        return _layer(part)
    return cells.create(part.op, part.in_chs, part.chs, part.stride, **part.option_dict())


class MacroNetwork(nn.Module):
    def __init__(self, spec: MacroSpec):
        super().__init__()
        if not isinstance(spec, MacroSpec):
            raise TypeError(f"MacroNetwork needs a MacroSpec, got {type(spec).__name__}")
        self.spec = spec
        parts = plan(spec)
        stages: list[list[nn.Module]] = [[] for _ in spec.stages]
        for part in parts:
            if part.stage:
                stages[part.stage - 1].append(_block(part))
        self.stages = nn.Sequential(*(nn.Sequential(*s) for s in stages))
        self.pool = nn.AdaptiveAvgPool2d(spec.pool)
        head: list[nn.Module] = []
        for part in parts:
            if part.op == "fc":
                o = part.option_dict()
                head += [nn.Dropout(o["drop"]), nn.Linear(part.in_chs, part.chs), activation(o["act"])]
        self.head = nn.Sequential(*head)
        self.dropout = nn.Dropout(spec.dropout)
        out = parts[-1]
        self.classifier = (nn.Conv2d(out.in_chs, out.chs, 1) if spec.classifier == "conv"
                           else nn.Linear(out.in_chs, out.chs))
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(x)
        if self.spec.classifier == "conv":  # SqueezeNet: dropout, 1x1 conv, ReLU, then the pool
            return torch.flatten(self.pool(torch.relu(self.classifier(self.dropout(x)))), 1)
        x = self.head(torch.flatten(self.pool(x), 1))
        return self.classifier(self.dropout(x))


def _init_weights(model: nn.Module) -> None:
    """He initialisation for convs (fan-out, as torchvision's ResNet), unit BN, small linear."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


def build(spec: MacroSpec) -> MacroNetwork:
    return MacroNetwork(spec)
