"""``nas eval RUN_DIR``: test accuracy of a ``nas train`` run, optionally at another test
resolution with the FixRes fine-tune (Touvron et al. 2019) of the classifier and batch norms.

    nas eval runs/train/my-net                                   # test accuracy as trained
    nas eval runs/train/my-net --test-resolution 64 --fixres-epochs 2
"""
from __future__ import annotations

import argparse
import sys
import json
from pathlib import Path


def add_fixres_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("FixRes (test at another resolution)")
    g.add_argument("--test-resolution", type=int, default=None,
                   help="evaluate at this input side too, before and after the FixRes fine-tune")
    g.add_argument("--fixres-epochs", type=int, default=0,
                   help="epochs of classifier + batch-norm fine-tuning at the test resolution (0: none)")
    g.add_argument("--fixres-lr", type=float, default=None, help="fine-tune learning rate (default: lr / 10)")


def report_fixres(run_dir: Path, args: argparse.Namespace) -> dict:
    """Run the FixRes protocol on ``run_dir``, print it and save ``fixres.json`` there."""
    from nas.fixres import fixres_eval

    if args.fixres_epochs and args.test_resolution is None:
        raise ValueError("--fixres-epochs needs --test-resolution")
    report = fixres_eval(run_dir, args.test_resolution, epochs=args.fixres_epochs, lr=args.fixres_lr)
    for line in report.lines():
        print(line)
    (run_dir / "fixres.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    print(f"saved {run_dir / 'fixres.json'}")
    return report.to_dict()


def register(sub) -> None:
    p = sub.add_parser("eval", help="test accuracy of a trained run (optionally at another resolution with FixRes)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path, help="a `nas train` output directory")
    add_fixres_arguments(p)
    p.set_defaults(func=run)


def check_run_dir(run_dir: Path) -> None:
    """A ``nas train`` directory with a readable config and checkpoint, or one line saying which
    file is missing or bad (before torch or the data are touched)."""
    from nas.commands.train import _read_saved
    from nas.train.checkpoint import Checkpointer

    if not Path(run_dir).is_dir():
        raise FileNotFoundError(f"{run_dir}: no such nas train output directory")
    _read_saved(Path(run_dir))
    if Checkpointer(Path(run_dir) / "checkpoint.pt").load() is None:
        raise FileNotFoundError(f"{Path(run_dir) / 'checkpoint.pt'}: missing; run `nas train` into "
                                f"{run_dir} first")


def run(args: argparse.Namespace) -> int:
    from nas.data.datasets import load_proxy_data
    from nas.fixres import load_trained
    from nas.train.trainer import evaluate_model
    import dataclasses

    if args.fixres_epochs and args.test_resolution is None:
        raise ValueError("--fixres-epochs needs --test-resolution")
    check_run_dir(args.run_dir)
    if args.test_resolution is not None:
        report_fixres(args.run_dir, args)
        return 0
    if args.fixres_epochs:
        raise ValueError("--fixres-epochs needs --test-resolution")
    from nas.search.progress import task
    spec, model, data_config, train_config = load_trained(args.run_dir)
    with task("preparing data", stream=sys.stderr):
        data = load_proxy_data(dataclasses.replace(data_config, load_test=True))
    with task(f"evaluating on {len(data.test)} test images", stream=sys.stderr):
        loss, acc = evaluate_model(model, data.test, train_config.eval_batch_size, train_config)
    print(f"{spec.to_str()}\n{data.describe()}\ntest loss {loss:.4f} acc {100 * acc:.2f}%")
    return 0
