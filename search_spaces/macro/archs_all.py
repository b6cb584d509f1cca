"""Every named macro architecture: torchvision's classic networks (``archs``) and the CIFAR
variants and other papers' networks (``archs_more``, ``archs_early``)."""
from __future__ import annotations

from types import MappingProxyType

from search_spaces.macro.archs import TORCHVISION
from search_spaces.macro.archs_early import EARLY
from search_spaces.macro.archs_more import MORE
from search_spaces.macro.archs_inception import INCEPTION
from search_spaces.macro.archs_xdpn import XDPN

NAMED = MappingProxyType({**TORCHVISION, **MORE, **INCEPTION, **XDPN, **EARLY})
