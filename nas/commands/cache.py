"""``nas cache``: what the decoded-image cache holds (``~/.cache/cellnas`` or ``--cache-dir``), and
clearing it. Decoded tensors are a pure speed-up (rebuilt from the images on the next run);
downloaded datasets are only removed with ``--all``."""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("cache", help="show or clear the decoded-image cache")
    p.add_argument("--cache-dir", default=None, help="the cache folder (default ~/.cache/cellnas)")
    p.add_argument("--clear", action="store_true", help="delete the decoded tensors (rebuilt on demand)")
    p.add_argument("--all", action="store_true", help="with --clear: downloaded datasets too")
    p.set_defaults(func=run)


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def run(args: argparse.Namespace) -> int:
    from nas.data.cache import default_cache_dir

    root = Path(args.cache_dir).expanduser() if args.cache_dir else default_cache_dir()
    if args.all and not args.clear:
        raise ValueError("--all only applies with --clear")
    parts = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    print(f"{root}: {_size(root) / 1e6:,.1f} MB")
    for part in parts:
        print(f"  {part.name:<12} {_size(part) / 1e6:>12,.1f} MB")
    if args.clear:
        doomed = [p for p in parts if args.all or p.name != "datasets"]
        for part in doomed:
            shutil.rmtree(part)
        print(f"cleared {', '.join(p.name for p in doomed) or 'nothing'}; {_size(root) / 1e6:,.1f} MB left")
    return 0
