"""``nas train SPEC``: full training of one architecture with per-epoch checkpoints, ``--resume``,
a final test evaluation, ``results.json`` and ``log.csv`` in the output directory."""
from __future__ import annotations

import argparse
import sys
import hashlib
import json
import re
from pathlib import Path

from nas.data.config import DataConfig
from nas.train.config import TrainConfig

# Command-line flag -> TrainConfig field; defaults None so an explicit flag can be told apart.
TRAIN_FLAGS = {"epochs": int, "batch_size": int, "lr": float, "min_lr": float, "warmup_epochs": float,
               "weight_decay": float, "momentum": float, "label_smoothing": float, "drop_path": float,
               "aux_weight": float, "grad_clip": float, "cutout": int, "crop_padding": int, "seed": int,
               "device": str}


def register(sub) -> None:
    p = sub.add_parser("train", help="train an architecture fully (checkpoints, --resume, test accuracy)",
                       description="Train a named architecture, spec string or JSON spec file.")
    p.add_argument("spec", nargs="?", help="named architecture, spec string or JSON file "
                   "(optional with --resume: taken from the run's config.json)")
    d = p.add_argument_group("data")
    d.add_argument("--dataset", default="cifar10",
                   help="cifar10, cifar100, or a folder / .tar.gz with train/ and test/ (or val/) class folders")
    d.add_argument("--data-root", default="~/.cache/cellnas/datasets", help="where CIFAR archives live")
    d.add_argument("--download", action="store_true", help="download CIFAR into --data-root if missing")
    d.add_argument("--cache-dir", default=None, help="decoded-tensor cache (default ~/.cache/cellnas)")
    d.add_argument("--classes", type=int, default=None, help="use the first K classes")
    d.add_argument("--per-class", type=int, default=None, help="training images per class")
    d.add_argument("--test-per-class", type=int, default=None, help="test images per class")
    d.add_argument("--resolution", type=int, default=None, help="input resolution (default: the images')")
    d.add_argument("--val-fraction", type=float, default=0.1,
                   help="share of training images held out for validation (0: validate on test)")
    t = p.add_argument_group("training (defaults: nas.train.TrainConfig)")
    for name, kind in TRAIN_FLAGS.items():
        t.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, default=None)
    t.add_argument("--no-amp", dest="amp", action="store_false", default=None, help="disable AMP on CUDA")
    p.add_argument("--out", type=Path, default=None, help="output directory (default runs/train/<spec>)")
    p.add_argument("--resume", action="store_true", help="continue from the output directory's checkpoint")
    p.add_argument("--dry-run", action="store_true",
                   help="build the network at its own task, check its analytic cost against torch's count, "
                        "and stop (no data, no training, nothing written)")
    from nas.commands.eval import add_fixres_arguments  # FixRes after training (nas.fixres)
    add_fixres_arguments(p)
    p.set_defaults(func=run)


def _train_overrides(args: argparse.Namespace) -> dict:
    names = list(TRAIN_FLAGS) + ["amp"]
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def _default_out(text: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", text)
    if len(slug) > 40:
        slug = slug[:24] + "-" + hashlib.sha256(text.encode()).hexdigest()[:10]
    return Path("runs") / "train" / slug


def resolve_spec(text: str):
    """A spec from a name, spec string, JSON file or run directory (``nas.resolve``); a bad file
    is named in the error."""
    from nas.resolve import resolve
    try:
        return resolve(text)
    except (ValueError, TypeError, KeyError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        if Path(text).is_file() and text not in msg:
            raise ValueError(f"spec file {text}: {msg}") from None
        raise


def _read_saved(out: Path) -> dict:
    path = out / "config.json"
    try:
        saved = json.loads(path.read_text())
        if not isinstance(saved, dict) or not {"spec", "data", "train"} <= set(saved):
            raise ValueError("expected keys spec, data, train")
        return saved
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ValueError(f"{path}: not a readable nas train config ({err}); start a new --out") from None


def _from_saved(args: argparse.Namespace, out: Path) -> tuple[str, DataConfig, TrainConfig]:
    """A resumed run's spec and configs from its config.json; explicit flags must agree."""
    saved = _read_saved(out)
    train_dict = dict(saved["train"])
    for name, value in _train_overrides(args).items():
        if name != "device" and train_dict.get(name) != value:
            raise ValueError(f"--{name.replace('_', '-')} {value} differs from the run being resumed "
                             f"({train_dict.get(name)}); drop the flag or start a new --out")
        train_dict[name] = value
    return saved["spec"], DataConfig.from_dict(saved["data"]), TrainConfig.from_dict(train_dict)


def _check_same_spec(given, saved, out: Path) -> None:
    from search_spaces.catalog import space_for

    given = space_for(given).retarget(given, num_classes=saved.num_classes, resolution=saved.resolution)
    if given != saved:
        raise ValueError(f"SPEC {given.to_str()} differs from the run being resumed in {out} "
                         f"({saved.to_str()})")


def dry_run(spec) -> int:
    """Build ``spec`` and hold its analytic cost against the built module: the quick check that a
    spec (of any space, a compound one included) trains before any data is loaded."""
    from nas.metrics import cross_check_cost
    from search_spaces.catalog import space_for

    space = space_for(spec)
    check = cross_check_cost(space, spec)
    print(f"{spec.to_str()}\n{check.params:,} params, {check.macs:,} MACs at {space.input_resolution(spec)}px "
          f"(built: {check.measured_params:,} params, {check.measured_macs:,} MACs)")
    if not check.match:
        print("nas train: analytic cost and built module disagree", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    from nas.train.full import train_full

    if args.fixres_epochs and args.test_resolution is None:
        raise ValueError("--fixres-epochs needs --test-resolution")
    if args.spec is None and not (args.resume and args.out):
        raise ValueError("SPEC is required (only `--resume --out DIR` may omit it)")
    if args.dry_run:
        return dry_run(resolve_spec(args.spec))
    out = args.out or _default_out(args.spec)
    if args.resume and not (out / "config.json").is_file():
        # Starting fresh here would silently discard what the user meant to continue.
        raise ValueError(f"--resume: {out} holds no nas train run to resume (no config.json); "
                         "check --out, or drop --resume to start a new run")
    if args.resume:
        from nas.train.checkpoint import Checkpointer
        spec_text, data_config, config = _from_saved(args, out)
        Checkpointer(out / "checkpoint.pt").load()  # a rejected checkpoint fails before anything is rewritten
        if args.spec is not None:
            _check_same_spec(resolve_spec(args.spec), resolve_spec(spec_text), out)
    else:
        spec_text = args.spec
        data_config = DataConfig(dataset=args.dataset, root=args.data_root, download=args.download,
                                 cache_dir=args.cache_dir, classes=args.classes, per_class=args.per_class,
                                 test_per_class=args.test_per_class, resolution=args.resolution,
                                 val_fraction=args.val_fraction, load_test=True)
        config = TrainConfig.from_dict(_train_overrides(args))
    record = train_full(resolve_spec(spec_text), data_config, config, out, resume=args.resume)
    print(f"results in {out}/results.json")
    if record.get("failure"):
        print(f"nas train: training failed: {record['failure']}")
        return 1
    if args.test_resolution is not None or args.fixres_epochs:
        from nas.commands.eval import report_fixres
        report_fixres(out, args)
    return 0
