"""The CIFAR variants the papers name and the classic networks torchvision lacks, each with the
source of its parameter count (filled in as they are added)."""
from __future__ import annotations

MORE: dict = {}
