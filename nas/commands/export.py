"""``nas export``: an architecture (trained or not) to ONNX and TorchScript, each checked against
PyTorch, with its spec JSON beside them.

    nas export darts_v2 --out exported/                        # untrained, seeded initialisation
    nas export runs/train/my-net --out exported/               # a `nas train` run: its spec and weights
    nas export blocks:... --checkpoint weights.pt --format onnx
"""
from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("export", help="export an architecture to ONNX / TorchScript (verified against PyTorch)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", help="named architecture, spec string, JSON file, search run or `nas train` directory")
    p.add_argument("--out", type=Path, default=Path("exported"), help="output directory")
    p.add_argument("--name", default="model", help="file name stem (model.onnx, model.pt, model.spec.json)")
    p.add_argument("--checkpoint", type=Path, help="weights: a `nas train` checkpoint.pt or a state dict "
                   "(default: the run's checkpoint for a `nas train` directory, else untrained)")
    p.add_argument("--format", dest="formats", action="append", choices=("onnx", "torchscript"),
                   help="repeatable; default both")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset version")
    p.set_defaults(func=run)


def _default_formats() -> tuple[str, ...]:
    """Both formats; TorchScript alone, with a note, where the ONNX extra is not installed."""
    import sys
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        return ("onnx", "torchscript")
    except ImportError:
        pass
    print("note: onnx/onnxruntime not installed (pip install 'cellnas[export]'): exporting TorchScript only",
          file=sys.stderr)
    return ("torchscript",)


def run(args: argparse.Namespace) -> int:
    from nas.export import export
    from nas.resolve import resolve

    checkpoint = args.checkpoint
    source = Path(args.spec)
    try:
        train_dir = source.is_dir() and (source / "config.json").is_file()
    except OSError:  # a long spec string
        train_dir = False
    if checkpoint is None and train_dir and (source / "checkpoint.pt").is_file():
        checkpoint = source / "checkpoint.pt"
    spec = resolve(args.spec)
    formats = args.formats or _default_formats()
    prep = None
    if train_dir:
        import json
        prep = json.loads((source / "config.json").read_text()).get("preprocessing")
    report = export(spec, args.out, checkpoint=checkpoint, formats=formats, preprocessing=prep,
                    opset=args.opset, name=args.name)
    print(f"weights: {checkpoint if checkpoint is not None else 'untrained (seeded initialisation)'}")
    for line in report.lines():
        print(line)
    return 0
