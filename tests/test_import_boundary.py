"""The torch boundary (shared/DESIGN.md, "Layers"): specs, costs, graphs, the catalog, the config,
the run reader, ``nas inspect`` / ``nas ops`` and every strategy but the RNN-policy controllers
import neither torch nor Ray (Optuna only in its adapter). Each module is imported in a fresh
interpreter, since one test process has long since imported torch."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "ray", "optuna")

PURE = [
    "cells", "cells.registry", "cells.checks", "cells.counting",
    "search_spaces.base", "search_spaces.catalog", "search_spaces.scaling",
    *[f"search_spaces.{space}.{part}" for space in ("cell", "blocks", "nasbench201")
      for part in ("spec", "plan", "graph", "archs", "space")],
    "search_spaces.cell", "search_spaces.blocks", "search_spaces.nasbench201", "search_spaces.nasbench201.table",
    "search_spaces.compound", "search_spaces.compound.spec", "search_spaces.compound.space",
    "nas.config", "nas.config_build", "nas.data", "nas.train", "nas.graphs", "nas.graphs.diff", "nas.runs",
    "nas.resolve", "nas.latency.ranking", "nas.search.run_guard", "nas.strategies.promotion",
    *[f"search_spaces.macro.{part}" for part in ("spec", "plan", "graph", "archs", "space")],
    "nas.search.store", "nas.cli", "nas.commands.inspect", "nas.commands.ops", "nas.commands.train",
    "nas.strategies", "nas.strategies.base", "nas.strategies.common", "nas.strategies.random_search",
    "nas.strategies.evolution", "nas.strategies.grid", "nas.strategies.pareto",
]


def loaded_after(code: str) -> list[str]:
    """Which of torch / ray / optuna a fresh interpreter has loaded after running ``code``."""
    probe = (f"{code}\nimport sys, json\n"
             f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_no_torch_ray_or_optuna(module):
    assert loaded_after(f"import {module}") == []


def test_the_optuna_adapter_imports_optuna_only():
    assert loaded_after("import nas.strategies.optuna_adapter") == ["optuna"]


def test_builders_are_where_torch_is():
    """The other side of the boundary, so the list above cannot pass by importing nothing."""
    assert "torch" in loaded_after("import search_spaces.cell.build")
    assert "torch" in loaded_after("import cells; cells.create('conv_3x3', 4, 4, 1)")


@pytest.mark.parametrize("argv", [["inspect", "efficientnet_b7", "--format", "json"], ["ops"],
                                  ["inspect", "nb201_resnet", "--format", "text"]])
def test_inspect_and_ops_run_without_torch(argv):
    code = f"from nas.cli import main\nassert main({argv!r}) == 0"
    assert loaded_after(code) == []
