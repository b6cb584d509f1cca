"""Every shipped ladder experiment (cell space in test_ladder.py; here the block, macro, compound
and NAS-Bench-201 ones) runs end to end at a tiny size on real CIFAR-10 images: each rung scores
candidates, each upper rung trains exactly the best of the rung below, best.json names a top-rung
candidate."""
from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest
import yaml

from nas.config import load_config
from nas.search import search
from nas.search.progress import Progress

ROOT = Path(__file__).resolve().parents[1]
TINY_SPACE = {"compound_scaling_ladder.yaml": {"step": 0.1, "tolerance": 0.1}}  # a smaller grid


def tiny(name: str, tmp_path: Path, shared_data: Path) -> Path:
    data = yaml.safe_load((ROOT / "experiments" / name).read_text())
    data["space"].setdefault("options", {}).update(TINY_SPACE.get(name, {}))
    ev = data["evaluation"]
    ev["zero_cost"].update(batch_size=16, reference=4)
    ev["train"].update(epochs=1, batch_size=16)
    ev["ladder"] = [{**ev["ladder"][0], "trials": 6, "keep": 0.5, "share": None},
                    *({**r, "share": None, "keep": 0.5} for r in ev["ladder"][1:-1]),
                    {**ev["ladder"][-1], "train": {"epochs": 2}}]
    data["data"].update(dataset=str(shared_data / "cifar10-jpeg.tar.gz"), per_class=8, download=False,
                        cache_dir=str(tmp_path.parent / "cache"))
    data["execution"] = {"backend": "local"}
    data["budget"] = {"trials": 50}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cifar10_blocks_ladder.yaml", "cifar10_macro_ladder.yaml",
                                  "compound_scaling_ladder.yaml", "nasbench201_ladder.yaml"])
def test_shipped_ladder_runs_every_rung(name, tmp_path, shared_data):
    config = load_config(tiny(name, tmp_path, shared_data))
    rungs = len(config.evaluation.ladder)
    run_dir = search(config, tmp_path / "run", progress=Progress(enabled=False)).run_dir
    got = sqlite3.connect(str(run_dir / "trials.sqlite")).execute(
        "SELECT rung, candidate_id, spec, status, reward FROM trials ORDER BY candidate_id").fetchall()
    by_rung = [[row for row in got if row[0] == r] for r in range(rungs)]
    expected = [6]
    for _ in range(rungs - 1):
        expected.append(max(1, expected[-1] // 2))
    assert [len(rows) for rows in by_rung] == expected
    assert all(row[3] == "done" and math.isfinite(row[4]) for row in got)
    for below, above in zip(by_rung, by_rung[1:]):
        best = sorted(below, key=lambda row: (-row[4], row[1]))[:len(above)]
        assert [row[2] for row in above] == [row[2] for row in best]
    best = json.loads((run_dir / "best.json").read_text())
    top = max(by_rung[-1], key=lambda row: (row[4], -row[1]))
    assert best[0]["candidate_id"] == top[1] and best[0]["reward"] == pytest.approx(top[4])
    last = config.evaluation.ladder[-1].reward or config.evaluation.reward
    # accuracy in [0, 1], or a negated cross-entropy (NB201's last rung ranks by validation loss)
    assert 0.0 <= top[4] <= 1.0 if last == "val_acc" else -10.0 < top[4] < 0.0
