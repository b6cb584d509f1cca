"""Fixtures for the reliability tests: small real image folders and archives, toy search configs,
snapshots of a folder tree (to prove a refused command changed nothing), and the CLI run
in-process or as a real process."""
from __future__ import annotations

import io
import os
import sys
import tarfile
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


def env() -> dict:
    """The environment a CLI subprocess needs: this tree and the test toys importable."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)])}


def cli(*args: str) -> list[str]:
    """``nas`` as a subprocess; searches opt in to the toy space's code (``--allow-code``)."""
    extra = ["--allow-code"] if args[:1] == ("search",) else []
    return [sys.executable, "-m", "nas.cli", *args[:1], *extra, *args[1:]]


def jpeg_bytes(seed: int, size: int = 12) -> bytes:
    """A real JPEG of seeded noise."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG")
    return buf.getvalue()


def image_folder(root: Path, classes: tuple[str, ...] = ("ant", "bee"), per_class: int = 6,
                 splits: tuple[str, ...] = ("train", "val")) -> Path:
    """``root/<split>/<class>/<n>.jpg`` of noise JPEGs; returns ``root``."""
    for split in splits:
        for c, cls in enumerate(classes):
            folder = root / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                (folder / f"{i:03d}.jpg").write_bytes(jpeg_bytes(1000 * c + i + hash(split) % 97))
    return root


def tar_with(path: Path, members: dict[str, bytes]) -> Path:
    """A .tar.gz holding ``members`` (name -> bytes) exactly as named (absolute and '..' too)."""
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def toy_config(tmp_path: Path, name: str = "toy.yaml", **sections) -> Path:
    """A search over the test toys (no data, no training) on the local backend."""
    data = {"name": "toy", "seed": 7, "space": {"name": "search_toys:ToySpace"},
            "strategy": {"name": "search_toys:ToyHillClimb"},
            "evaluation": {"kind": "function", "function": "search_toys:score"},
            "data": {"dataset": "none"}, "execution": {"backend": "local"},
            "budget": {"trials": 4}, "output": str(tmp_path / "runs")}
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root``: relative path -> (size, mtime_ns)."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            st = p.stat()
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out
