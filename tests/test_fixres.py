"""FixRes (Touvron et al. 2019): a network trained on the 10-class Tiny-ImageNet folder set at
48 px, evaluated at 64 px with and without the classifier + batch-norm fine-tune; the fine-tune
touches nothing else (bitwise)."""
from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from torch import nn

from nas import cli
from nas.data.datasets import DataConfig, load_proxy_data
from nas.fixres import finetune_config, fixres_eval, fixres_finetune, fixres_parameters, load_trained
from nas.train.config import TrainConfig
from nas.train.full import train_full
from search_spaces.catalog import resolve, space_for

# A plain-conv block network: fast on two CPU cores, batch norm after every conv.
NET = "blocks:stem_c16,cn_r1_k3_s1_c16,cn_r1_k3_s2_c32,cn_r1_k3_s2_c64,head_c64,classes10,res48"




@pytest.fixture(scope="module")
def trained(shared_data, tmp_path_factory):
    """A `nas train` output directory: 4 epochs on the Tiny-ImageNet set at 48 px (one thread:
    see conftest's ``one_thread``; restored afterwards)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("fixres") / "run"
    data = DataConfig(dataset=str(shared_data / "tiny-imagenet-10cls.tar.gz"), resolution=48, load_test=True,
                      cache_dir=str(out.parent / "cache"))
    config = TrainConfig(epochs=4, batch_size=64, lr=0.1, seed=1)
    try:
        with open(out.parent / "log.txt", "w") as log:
            record = train_full(resolve(NET), data, config, out, stream=log)
    finally:
        torch.set_num_threads(before)
    assert record["failure"] is None and 0.1 < record["test_acc"] <= 1.0  # learnt something beyond chance
    return out


def test_fixres_parameters_are_the_classifier_and_batch_norms():
    model = space_for(resolve(NET)).build(resolve(NET))
    names = fixres_parameters(model)
    bn = [n for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)]
    assert set(names) == {"classifier.weight", "classifier.bias"} | {f"{b}.{p}" for b in bn for p in ("weight", "bias")}
    cell = resolve("darts_v1")
    cell_model = space_for(cell).build(dataclasses.replace(cell, n=1, filters=8))
    owners = [cell_model.get_submodule(n.rsplit(".", 1)[0]) for n in fixres_parameters(cell_model)]
    assert all(isinstance(m, nn.BatchNorm2d) or m is cell_model.classifier for m in owners)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in owners) > 20


def test_finetune_changes_only_classifier_and_batch_norm(trained):
    spec, model, data_config, train_config = load_trained(trained)
    data = load_proxy_data(dataclasses.replace(data_config, resolution=64))
    assert data.resolution == 64
    before = {k: v.clone() for k, v in model.state_dict().items()}
    tuned = set(fixres_parameters(model))
    bn_modules = {n for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)}
    fixres_finetune(model, data, finetune_config(train_config, epochs=1))
    after = model.state_dict()
    for key, value in before.items():
        owner = key.rsplit(".", 1)[0]
        if key in tuned or owner in bn_modules:
            continue
        assert torch.equal(value, after[key]), f"{key} changed"
    assert not torch.equal(before["classifier.weight"], after["classifier.weight"])
    changed_stats = {m for m in bn_modules if not torch.equal(before[f"{m}.running_mean"], after[f"{m}.running_mean"])}
    assert changed_stats == bn_modules  # re-estimated at 64 px
    assert all(p.requires_grad for p in model.parameters())  # the freeze is undone afterwards


def test_fixres_report_before_and_after(trained, capsys):
    assert cli.main(["eval", str(trained), "--test-resolution", "64", "--fixres-epochs", "2"]) == 0
    out = capsys.readouterr().out
    report = json.loads((trained / "fixres.json").read_text())
    assert report["train_resolution"] == 48 and report["test_resolution"] == 64 and report["epochs"] == 2
    for key in ("acc_at_train_resolution", "acc_before", "acc_after"):
        assert 0.0 <= report[key] <= 1.0 and f"{100 * report[key]:.2f}%" in out
    # 500 test images: every accuracy is a multiple of 1/500.
    assert all(abs(report[k] * 500 - round(report[k] * 500)) < 1e-9 for k in ("acc_before", "acc_after"))
    results = json.loads((trained / "results.json").read_text())
    assert report["acc_at_train_resolution"] == pytest.approx(results["test_acc"])
    # Without the fine-tune, the same protocol reports no "after" and leaves the weights alone.
    again = fixres_eval(trained, 64)
    assert again.acc_after is None and again.acc_before == report["acc_before"]


def test_fixres_flags_are_checked_first(trained, capsys):
    assert cli.main(["eval", str(trained), "--fixres-epochs", "2"]) == 2
    assert cli.main(["train", NET, "--fixres-epochs", "1"]) == 2
    assert cli.main(["eval", str(trained.parent / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("--fixres-epochs needs --test-resolution") == 2 and "no such nas train output directory" in err
