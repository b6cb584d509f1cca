"""The evaluation ladder end to end on real CIFAR-10 images (experiments/cifar10_ladder.yaml at a
tiny size): rung counts follow ``keep``, upper rungs train exactly the best of the rung below,
best.json comes from the top rung, the report shows the ladder; a SIGKILL mid-rung or at a rung
boundary resumes to the very rows an uninterrupted run writes; bad ladders fail before any work."""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from nas import cli
from nas.config import from_dict, load_config
from nas.search import search
from nas.search.progress import Progress

ROOT = Path(__file__).resolve().parents[1]
LADDER = [{"kind": "zero_cost", "keep": 0.25, "trials": 8},
          {"kind": "proxy", "keep": 0.5, "trials": 2},
          {"kind": "proxy", "train": {"epochs": 2}}]


def tiny_ladder(tmp_path: Path, shared_data: Path, **changes) -> Path:
    data = yaml.safe_load((ROOT / "experiments" / "cifar10_ladder.yaml").read_text())
    data["space"]["options"].update(filters=8, blocks=2)
    data["evaluation"]["ladder"] = LADDER
    data["evaluation"]["zero_cost"].update(batch_size=16, reference=4)
    data["evaluation"]["train"].update(epochs=1, batch_size=16)
    data["data"].update(dataset=str(shared_data / "cifar10-jpeg.tar.gz"), per_class=8, download=False,
                        cache_dir=str(tmp_path.parent / "cache"))
    data["execution"] = {"backend": "local"}
    data["budget"] = {"trials": 50}
    for key, value in changes.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    path = tmp_path / "ladder.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def rows(run_dir: Path) -> list[tuple]:
    conn = sqlite3.connect(str(run_dir / "trials.sqlite"))
    try:
        return conn.execute("SELECT rung, candidate_id, spec, status, round(reward, 6) FROM trials "
                            "ORDER BY candidate_id").fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory, shared_data):
    tmp = tmp_path_factory.mktemp("ladder")
    path = tiny_ladder(tmp, shared_data)
    summary = search(load_config(path), tmp / "run", progress=Progress(enabled=False))
    return path, summary.run_dir


def test_a_rung_ranked_by_validation_loss_promotes_the_lowest_loss(tmp_path, shared_data):
    ladder = [dict(LADDER[0]), {**LADDER[1], "reward": "val_loss"}, LADDER[2]]
    path = tiny_ladder(tmp_path, shared_data, evaluation={"ladder": ladder})
    run_dir = search(load_config(path), tmp_path / "run", progress=Progress(enabled=False)).run_dir
    conn = sqlite3.connect(str(run_dir / "trials.sqlite"))
    got = conn.execute("SELECT rung, spec, reward, metrics FROM trials ORDER BY candidate_id").fetchall()
    rung1 = [(spec, reward, json.loads(metrics)) for rung, spec, reward, metrics in got if rung == 1]
    assert len(rung1) == 2 and all(reward == pytest.approx(-m["val_loss"]) and reward < 0
                                   for _, reward, m in rung1)
    lowest = min(rung1, key=lambda row: row[2]["val_loss"])[0]
    top = [(spec, reward) for rung, spec, reward, _ in got if rung == 2]
    assert top[0][0] == lowest and 0.0 <= top[0][1] <= 1.0  # rung 2 keeps the evaluation's val_acc


@pytest.mark.slow
def test_rungs_promote_the_best_and_the_top_rung_is_best(reference):
    _, run_dir = reference
    table = rows(run_dir)
    by_rung = {r: [row for row in table if row[0] == r] for r in (0, 1, 2)}
    assert [len(by_rung[r]) for r in (0, 1, 2)] == [8, 2, 1]
    assert all(row[3] == "done" for row in table)
    zero = sorted(by_rung[0], key=lambda row: (-row[4], row[1]))
    assert [row[2] for row in by_rung[1]] == [row[2] for row in zero[:2]]  # the best quarter of 8
    best_of_1 = max(by_rung[1], key=lambda row: (row[4], -row[1]))
    assert by_rung[2][0][2] == best_of_1[2] and by_rung[2][0][1] == 2_000_000
    best = json.loads((run_dir / "best.json").read_text())
    assert best[0]["candidate_id"] == 2_000_000 and 0.0 <= best[0]["reward"] <= 1.0
    zc = json.loads(sqlite3.connect(str(run_dir / "trials.sqlite")).execute(
        "SELECT metrics FROM trials WHERE rung = 0 LIMIT 1").fetchone()[0])
    assert {"zc_jacob_cov", "cpu_s", "macs"} <= set(zc) and zc["cpu_s"] > 0
    assert cli.main(["report", str(run_dir)]) == 0
    page = (run_dir / "report" / "index.html").read_text()
    assert "Evaluation ladder" in page and "Where the best came from: rung 0" in page


def _kill_when(cmd: list[str], condition, run_dir: Path) -> None:
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if (run_dir / "trials.sqlite").exists():
                try:
                    if condition(rows(run_dir)):
                        proc.send_signal(signal.SIGKILL)
                        break
                except sqlite3.Error:
                    pass  # the driver is creating the store
            time.sleep(0.05)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the driver ended before the kill point"


@pytest.mark.slow
@pytest.mark.parametrize("point", ["rung boundary", "mid-rung"])
def test_sigkill_resumes_to_the_uninterrupted_rows(point, reference, tmp_path):
    path, ref_dir = reference
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "nas.cli", "search", str(path), "--run-dir", str(run_dir), "--quiet"]
    if point == "rung boundary":  # rung 0 finished; the kill lands just before or after rung 1 starts
        condition = lambda t: sum(1 for r in t if r[0] == 0 and r[3] == "done") == 8  # noqa: E731
    else:  # a training trial of rung 1 running
        condition = lambda t: any(r[0] == 1 and r[3] == "running" for r in t)  # noqa: E731
    _kill_when(cmd, condition, run_dir)
    done = subprocess.run(cmd[:4] + ["--resume", str(run_dir), "--quiet"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert rows(run_dir) == rows(ref_dir)  # nothing lost, nothing repeated, the same promotions


@pytest.mark.parametrize("change,needle", [
    ({"evaluation": {"zero_cost": {"proxy": ["naswot", "telepathy"]}}}, "evaluation.zero_cost.proxy"),
    ({"evaluation": {"ladder": [{"kind": "zero_cost", "keep": 0, "trials": 8}, {"kind": "proxy"}]}},
     "evaluation.ladder[0].keep"),
    ({"evaluation": {"ladder": [{"kind": "zero_cost", "keep": 1.5, "trials": 8}, {"kind": "proxy"}]}},
     "evaluation.ladder[0].keep"),
    ({"evaluation": {"ladder": [{"kind": "zero_cost", "keep": 0.1, "share": 0.5}, {"kind": "proxy"}]},
      "budget": {"cpu_s": 0.05}}, "evaluation.ladder[0].share"),
    ({"evaluation": {"ladder": [{"kind": "zero_cost", "keep": 0.5, "trials": 8},
                                {"kind": "proxy", "reward": "loss"}]}}, "evaluation.ladder[1].reward"),
])
def test_bad_ladders_fail_before_any_work(change, needle, tmp_path, shared_data, capsys):
    evaluation = yaml.safe_load((ROOT / "experiments" / "cifar10_ladder.yaml").read_text())["evaluation"]
    merged = {**evaluation, **change.get("evaluation", {})}
    merged["zero_cost"] = {**evaluation["zero_cost"], "batch_size": 16, "reference": 4,
                           **change.get("evaluation", {}).get("zero_cost", {})}
    if "ladder" not in change.get("evaluation", {}):
        merged["ladder"] = LADDER
    path = tiny_ladder(tmp_path, shared_data, evaluation=merged, budget=change.get("budget", {"trials": 5}))
    run_dir = tmp_path / "run"
    assert cli.main(["search", str(path), "--run-dir", str(run_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert needle in err[-1] and "Traceback" not in "\n".join(err)
    assert not run_dir.exists()


@pytest.mark.parametrize("text", [
    "nb201_resnet", "resnet20",
    "blocks:stem_c8_silu,ds_r1_k3_s1_c8_se0.25_silu,ir_r2_k5_s2_e3_c16_silu,head_c32_silu,classes10,res32",
    "cell:normal=conv_3x3@0+skip_connect@1,sep_conv_3x3@1+skip_connect@2;reduce=max_pool_3x3@0+conv_3x3@1,"
    "skip_connect@2+max_pool_3x3@1;N=1;F=8;stem=cifar;wiring=darts;classes=10;res=32;stem_mult=3",
])
def test_zero_cost_evaluation_kind_scores_every_space(text, shared_data, tmp_path):
    """``evaluation.kind: zero_cost`` as a search's evaluator, on real images, in each space: a
    finite score that repeats with the seed, the raw proxies and the compute it took."""
    from nas.data import DataConfig, load_proxy_data
    from nas.search.zero_cost import make_zero_cost
    from search_spaces.catalog import resolve, space_for

    config = from_dict({"evaluation": {"kind": "zero_cost", "zero_cost": {"proxy": ["naswot", "params"],
                                                                         "batch_size": 16, "reference": 4}}})
    data = load_proxy_data(DataConfig(dataset=str(shared_data / "cifar10-jpeg.tar.gz"), per_class=4,
                                      val_fraction=0.25, cache_dir=str(tmp_path)))
    spec = resolve(text)
    evaluator = make_zero_cost(config, space_for(spec), data, threads=1)
    first = evaluator(spec, report=lambda *_: None, seed=3)
    again = evaluator(spec, report=lambda *_: None, seed=3)
    assert 0.0 <= first.reward <= 1.0 and first.reward == again.reward  # a rank against 4 references
    assert {"zc_naswot", "zc_params", "cpu_s"} <= set(first.metrics) and first.metrics["zc_params"] > 0
