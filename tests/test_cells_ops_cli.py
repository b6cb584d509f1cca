"""``nas ops`` lists every registry entry with its cost at the reference shape."""
from __future__ import annotations

import cells
from nas.cli import main


def _rows(text: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split() for line in text.splitlines()[1:]}


def test_nas_ops_lists_every_entry_with_its_cost(capsys):
    assert main(["ops"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert set(rows) == set(cells.OPS)
    c = cells.cost("mbconv_e6_k5", 32, 32, 1, 32)
    assert rows["mbconv_e6_k5"][1:3] == [f"{c.params:,}", f"{c.macs:,}"]
    assert rows["none"][1:3] == ["0", "0"]


def test_nas_ops_at_stride_2_with_a_channel_change(capsys):
    assert main(["ops", "--chs", "16", "--out-chs", "24", "--stride", "2", "--size", "15"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    assert "16 -> 24 ch, 15x15, stride 2" in out.splitlines()[0]
    assert rows["max_pool_3x3"][1] == "-" and rows["se"][1] == "-"
    assert rows["bottleneck"][1] == f"{cells.cost('bottleneck', 16, 24, 2, 15).params:,}"


def test_nas_ops_bad_stride_is_one_error_line(capsys):
    assert main(["ops", "--stride", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "stride must be 1 or 2, got 3" in err[0]


def test_nas_list_names_every_architecture_with_its_cost(capsys):
    from nas import cli
    from search_spaces import catalog
    assert cli.main(["list"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert set(rows) == set(catalog.named())
    assert rows["resnet50"][1] == "macro" and rows["resnet50"][2] == "25,557,032"
    assert rows["efficientnet_b0"][1] == "blocks" and rows["nb201_resnet"][1] == "nasbench201"
    assert cli.main(["list", "--space", "nope"]) == 2


def test_nas_cache_shows_and_clears_decoded_tensors_but_keeps_datasets(tmp_path, capsys):
    from nas import cli
    (tmp_path / "tensors").mkdir()
    (tmp_path / "tensors" / "a.pt").write_bytes(b"x" * 2_000_000)
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "cifar.tar.gz").write_bytes(b"y" * 1_000_000)
    assert cli.main(["cache", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "3.0 MB" in out and "tensors" in out and "2.0 MB" in out
    assert cli.main(["cache", "--cache-dir", str(tmp_path), "--clear"]) == 0
    assert not (tmp_path / "tensors").exists() and (tmp_path / "datasets" / "cifar.tar.gz").exists()
    assert cli.main(["cache", "--cache-dir", str(tmp_path), "--all"]) == 2
