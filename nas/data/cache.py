"""A decode-once cache: decoded image sets stored as uint8 tensor files keyed by what produced them.

The key (dataset identity, split, class subset, per-class count, resolution, format version) is
hashed into the file name and stored inside the file too, so a stale or colliding file is never
served. Writes go through a temporary file and ``os.replace`` so a killed process leaves no
half-written cache entry.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch

FORMAT_VERSION = 1
ENV_VAR = "CELLNAS_CACHE"


def default_cache_dir() -> Path:
    """``$CELLNAS_CACHE`` if set, else ``~/.cache/cellnas``."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cellnas"


def resolve_cache_dir(cache_dir: str | os.PathLike | None) -> Path:
    path = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def key_digest(key: dict[str, Any]) -> str:
    text = json.dumps({"format": FORMAT_VERSION, **key}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Run ``write(tmp)`` on a temporary path beside ``path`` and move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def cached_tensors(cache_dir: Path, label: str, key: dict[str, Any],
                   make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The dict ``make()`` returns (tensors, lists, strings), computed once per key."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)[:60]
    path = cache_dir / "tensors" / f"{slug}-{key_digest(key)}.pt"
    stored_key = json.loads(json.dumps(key, sort_keys=True, default=str))
    if path.is_file():
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            if payload.get("key") == stored_key:
                return payload["data"]
        except (OSError, RuntimeError, EOFError, KeyError):
            pass  # unreadable entry: rebuild it below
    data = make()
    atomic_write(path, lambda tmp: torch.save({"key": stored_key, "data": data}, tmp))
    return data
