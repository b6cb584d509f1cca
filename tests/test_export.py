"""`nas export`: ONNX (onnx.checker, onnxruntime) and TorchScript round trips for a cell and a
block network with non-trivial weights, the spec JSON that rebuilds them, and the error when the
`export` extra is missing."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from nas import cli
from nas.trained import build_with_weights
from search_spaces.catalog import resolve, space_for

ROOT = Path(__file__).resolve().parents[1]
CELL = ("cell:normal=sep_conv_3x3@0+skip_connect@1,max_pool_3x3@0+dil_conv_3x3@2;"
        "reduce=max_pool_3x3@0+sep_conv_5x5@1,skip_connect@2+avg_pool_3x3@1;"
        "N=1;F=8;stem=cifar;wiring=darts;classes=10;res=32;stem_mult=2")
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
BLOCKS = "blocks:stem_c8_silu,ir_r1_k3_s1_e1_c8_se0.25_silu,ir_r2_k5_s2_e3_c16_silu,head_c32_silu,classes7,res40"


def weights_file(spec, path: Path) -> Path:
    """A state dict with every parameter and batch-norm statistic drawn at random (seeded), so the
    logits are far from the near-zero outputs of a fresh network."""
    model = space_for(spec).build(spec)
    gen = torch.Generator().manual_seed(7)
    state = {}
    for key, value in model.state_dict().items():
        if not value.is_floating_point():
            state[key] = value
        elif key.endswith("running_var"):
            state[key] = 0.5 + torch.rand(value.shape, generator=gen)
        else:
            state[key] = 0.3 * torch.randn(value.shape, generator=gen)
    torch.save(state, path)
    return path


@pytest.mark.parametrize("text", [CELL, BLOCKS], ids=["cell", "blocks"])
def test_round_trip(text, tmp_path, capsys):
    spec = resolve(text)
    checkpoint = weights_file(spec, tmp_path / "weights.pt")
    out = tmp_path / "exported"
    assert cli.main(["export", text, "--out", str(out), "--checkpoint", str(checkpoint)]) == 0
    assert "onnx:" in capsys.readouterr().out
    model = build_with_weights(spec, checkpoint)
    x = torch.randn(4, 3, spec.resolution, spec.resolution, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = model(x)
    assert expected.shape == (4, spec.num_classes) and expected.std() > 0.1
    onnx.checker.check_model(onnx.load(str(out / "model.onnx")), full_check=True)
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    got = torch.from_numpy(session.run(None, {"input": x.numpy()})[0])
    assert (got - expected).abs().max() < 1e-4
    scripted = torch.jit.load(str(out / "model.pt"))
    assert (scripted(x) - expected).abs().max() < 1e-5
    # The spec beside the files rebuilds the same network, which takes the same weights.
    saved = json.loads((out / "model.spec.json").read_text())
    assert resolve(str(out / "model.spec.json")) == spec
    assert saved["params"] == space_for(spec).cost(spec).params == sum(p.numel() for p in model.parameters())
    assert saved["files"] == {"onnx": "model.onnx", "torchscript": "model.pt"}
    assert all(d < 1e-4 for d in saved["max_abs_diff"].values())
    with torch.no_grad():
        assert torch.equal(build_with_weights(resolve(str(out / "model.spec.json")), checkpoint)(x), expected)


def test_untrained_export_is_reproducible(tmp_path):
    for name in ("a", "b"):
        assert cli.main(["export", BLOCKS, "--out", str(tmp_path / name), "--format", "torchscript"]) == 0
    a, b = (torch.jit.load(str(tmp_path / n / "model.pt")) for n in ("a", "b"))
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert not (tmp_path / "a" / "model.onnx").exists()


def test_checkpoint_of_another_network_is_refused(tmp_path, capsys):
    checkpoint = weights_file(resolve(BLOCKS), tmp_path / "weights.pt")
    assert cli.main(["export", CELL, "--out", str(tmp_path / "x"), "--checkpoint", str(checkpoint)]) == 2
    assert "does not fit" in capsys.readouterr().err


def test_missing_onnx_is_one_clear_error_or_torchscript_only(tmp_path):
    """Run where `import onnx` fails (None in sys.modules makes Python raise ImportError): asking
    for ONNX is one clear error with nothing written; the default exports TorchScript with a note."""
    def run(out, *extra):
        code = ("import sys; sys.modules['onnx'] = None; from nas import cli; "
                f"sys.exit(cli.main(['export', 'darts_v2', '--out', {str(out)!r}, *{list(extra)!r}]))")
        return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    proc = run(tmp_path / "onnx", "--format", "onnx")
    assert proc.returncode == 2
    assert "pip install 'cellnas[export]'" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "onnx").exists()  # nothing written before the check
    proc = run(tmp_path / "default")
    assert proc.returncode == 0 and "TorchScript only" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "default").iterdir()) == ["model.pt", "model.spec.json"]


def test_block_and_cell_models_have_a_classifier_to_export():
    for text in (CELL, BLOCKS):
        assert isinstance(build_with_weights(resolve(text)).classifier, nn.Linear)


def test_trained_export_carries_its_preprocessing(tmp_path, shared_data, capsys):
    """A `nas train` directory exports with the training set's mean/std, side and class names
    inside the ONNX file's metadata and the TorchScript archive (the deployer needs no config)."""
    run = tmp_path / "trained"
    data = str(shared_data / "tiny-imagenet-10cls.tar.gz")
    assert cli.main(["train", "nb201_resnet", "--dataset", data, "--per-class", "6", "--test-per-class", "2",
                     "--resolution", "16", "--epochs", "1", "--batch-size", "16", "--out", str(run)]) == 0
    prep = json.loads((run / "config.json").read_text())["preprocessing"]
    assert prep["resolution"] == 16 and len(prep["mean"]) == len(prep["std"]) == 3 and len(prep["classes"]) == 10
    assert all(0 < s < 1 for s in prep["std"])
    out = tmp_path / "exported"
    assert cli.main(["export", str(run), "--out", str(out)]) == 0
    props = {p.key: json.loads(p.value) for p in onnx.load(str(out / "model.onnx")).metadata_props}
    assert props["preprocessing"] == prep and props["spec"].startswith("|")
    extra = {"metadata.json": ""}
    torch.jit.load(str(out / "model.pt"), _extra_files=extra)
    assert json.loads(extra["metadata.json"])["preprocessing"] == prep
    assert json.loads((out / "model.spec.json").read_text())["preprocessing"] == prep
