"""Export a spec (trained or not) for deployment: ONNX and TorchScript, each checked against the
PyTorch module it came from, with the spec written beside them so the network can be rebuilt and
retrained from the same data (``nas train out/spec.json``).

ONNX goes through torch's TorchScript-based exporter (``dynamo=False``: the dynamo exporter needs
``onnxscript``, which the ``export`` extra does not pull in) with a dynamic batch axis, then
``onnx.checker`` and onnxruntime on a fresh batch of a different size. TorchScript is a trace
(cell networks index their op lists by loop variables, which scripting rejects); the trace is
saved, reloaded and compared the same way.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

FORMATS = ("onnx", "torchscript")
TOLERANCE = 1e-4


@dataclass
class ExportReport:
    spec_file: Path
    files: dict[str, Path] = field(default_factory=dict)
    max_abs_diff: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"{fmt}: {path} (max |logit difference| vs PyTorch {self.max_abs_diff[fmt]:.2e})"
               for fmt, path in self.files.items()]
        return out + [f"spec: {self.spec_file}"]


def _require_onnx() -> tuple[Any, Any]:
    try:
        import onnx
        import onnxruntime
    except ImportError as err:
        raise ValueError(f"ONNX export needs the 'onnx' and 'onnxruntime' packages ({err}); install them "
                         "with: pip install 'cellnas[export]'") from None
    return onnx, onnxruntime


def _inputs(spec: Any, batch: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, spec.resolution, spec.resolution, generator=gen)


def export_onnx(model: nn.Module, spec: Any, path: Path, *, opset: int = 17,
                metadata: dict[str, Any] | None = None) -> float:
    """Write ``path`` (``metadata`` as the model's string properties, e.g. the preprocessing);
    returns the max abs logit difference (onnxruntime vs PyTorch, batch 3)."""
    onnx, ort = _require_onnx()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notices
        torch.onnx.export(model, (_inputs(spec, 2, 0),), str(path), dynamo=False, opset_version=opset,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    if metadata:
        exported = onnx.load(str(path))
        onnx.helper.set_model_props(exported, {k: json.dumps(v) for k, v in metadata.items()})
        onnx.save(exported, str(path))
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = _inputs(spec, 3, 1)
    with torch.no_grad():
        expected = model(x).numpy()
    got = session.run(["logits"], {"input": x.numpy()})[0]
    return float(abs(got - expected).max())


def export_torchscript(model: nn.Module, spec: Any, path: Path, metadata: dict[str, Any] | None = None) -> float:
    """Trace to ``path`` (``metadata`` inside the archive as ``extra/metadata.json``), reload it;
    returns the max abs logit difference (batch 3)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, (_inputs(spec, 2, 0),), check_trace=False)
        torch.jit.save(traced, str(path), _extra_files={"metadata.json": json.dumps(metadata or {})})
        loaded = torch.jit.load(str(path))
    x = _inputs(spec, 3, 1)
    with torch.no_grad():
        return float((loaded(x) - model(x)).abs().max())


def export(spec: Any, out_dir: str | Path, *, checkpoint: str | Path | None = None,
           formats: Sequence[str] = FORMATS, opset: int = 17, tolerance: float = TOLERANCE,
           name: str = "model", preprocessing: dict[str, Any] | None = None) -> ExportReport:
    """Export ``spec`` (with ``checkpoint``'s weights when given) into ``out_dir`` as
    ``<name>.onnx`` / ``<name>.pt`` (TorchScript) and ``<name>.spec.json``. Raises ValueError when
    an exported model's logits differ from PyTorch's by more than ``tolerance``."""
    from nas.trained import build_with_weights
    from search_spaces.catalog import space_for

    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"unknown export format(s) {unknown or list(formats)}; accepted: {', '.join(FORMATS)}")
    if "onnx" in formats:
        _require_onnx()  # fail before building anything
    spec = space_for(spec).network(spec)
    model = build_with_weights(spec, checkpoint)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = ExportReport(out / f"{name}.spec.json")
    prep = preprocessing or {"resolution": spec.resolution, "crop": None, "scale": "pixels / 255",
                             "mean": None, "std": None, "classes": None,
                             "note": "untrained export: no training data, so no normalization statistics"}
    metadata = {"spec": spec.to_str(), "preprocessing": prep}
    writers = {"onnx": (lambda p: export_onnx(model, spec, p, opset=opset, metadata=metadata), ".onnx"),
               "torchscript": (lambda p: export_torchscript(model, spec, p, metadata), ".pt")}
    for fmt in formats:
        write, suffix = writers[fmt]
        path = out / f"{name}{suffix}"
        report.files[fmt], report.max_abs_diff[fmt] = path, write(path)
        if not report.max_abs_diff[fmt] < tolerance:
            raise ValueError(f"{fmt} export of {path} differs from PyTorch by {report.max_abs_diff[fmt]:.3g} "
                             f"(tolerance {tolerance:g})")
    cost = space_for(spec).cost(spec)
    report.spec_file.write_text(json.dumps({
        "spec": spec.to_dict(), "spec_string": spec.to_str(), "params": cost.params, "macs": cost.macs,
        "input": {"shape": ["batch", 3, spec.resolution, spec.resolution], "name": "input"},
        "preprocessing": prep,
        "weights": str(checkpoint) if checkpoint is not None else "untrained (torch.manual_seed(0) init)",
        "files": {fmt: path.name for fmt, path in report.files.items()},
        "max_abs_diff": report.max_abs_diff}, indent=2) + "\n")
    return report
