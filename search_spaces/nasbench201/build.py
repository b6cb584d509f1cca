"""The NAS-Bench-201 network as a torch module (Dong & Yang 2020), built from an ``NB201Spec``.

Mirrors the benchmark's macro network: stem (3x3 conv + BN), three stages of 5 cells with
reductions between them by a ResNet basic block (ReLU-conv-BN twice, the first with stride 2,
plus an avg-pool 2x2 + 1x1 conv shortcut), then BN-ReLU, global average pooling and a linear
classifier. Cell edges come from the ``cells`` vocabulary, whose entries match the benchmark's
ops at stride 1 (see ``search_spaces.nasbench201.CELL_OPS``).
"""
from __future__ import annotations

import torch
from torch import nn

import cells
from search_spaces.nasbench201.spec import CELL_OPS, CELLS_PER_STAGE, STEM_CHS, NB201Spec


class NB201Cell(nn.Module):
    """Node j = sum over i < j of op_ij(node i); the cell returns node 3."""

    def __init__(self, ops: tuple[str, ...], chs: int):
        super().__init__()
        self.edges = nn.ModuleList(cells.create(CELL_OPS[op], chs, chs, 1) for op in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes, k = [x], 0
        for j in range(1, 4):
            nodes.append(sum(self.edges[k + i](nodes[i]) for i in range(j)))
            k += j
        return nodes[3]


class ResidualReduction(nn.Module):
    """The benchmark's stride-2 ResNet basic block between stages."""

    def __init__(self, in_chs: int, out_chs: int):
        super().__init__()
        self.conv_a = cells.create("conv_3x3", in_chs, out_chs, 2)
        self.conv_b = cells.create("conv_3x3", out_chs, out_chs, 1)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(in_chs, out_chs, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    def __init__(self, spec: NB201Spec):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, STEM_CHS, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(STEM_CHS))
        layers: list[nn.Module] = []
        chs = STEM_CHS
        for stage in range(3):
            if stage:
                layers.append(ResidualReduction(chs, chs * 2))
                chs *= 2
            layers.extend(NB201Cell(spec.ops, chs) for _ in range(CELLS_PER_STAGE))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(chs), nn.ReLU(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(chs, spec.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.pool(x), 1))
