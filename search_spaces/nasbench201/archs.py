"""Named NAS-Bench-201 cells (Dong & Yang 2020)."""
from __future__ import annotations

from search_spaces.nasbench201.spec import NB201Spec

# The ResNet-like cell of the benchmark paper: node 3 = skip(input) + conv3x3(conv3x3(input)).
NAMED = {"nb201_resnet": NB201Spec.from_str(
    "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|")}
