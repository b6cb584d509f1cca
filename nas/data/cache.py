"""A decode-once cache: decoded image sets stored as uint8 tensor files keyed by what produced them.

The key (dataset path, split, class subset, per-class count, resolution, format version) is
hashed into the file name and stored inside the file too, together with a fingerprint of the
dataset's content (file names, sizes, mtimes), so a stale or colliding file is never served.
Writes go through a temporary file and ``os.replace`` so a killed process leaves no half-written
cache entry.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Callable

import torch

from nas.io import atomic_write

FORMAT_VERSION = 2  # 2: entries carry the dataset's content fingerprint
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


def cached_tensors(cache_dir: Path, label: str, key: dict[str, Any],
                   make: Callable[[], dict[str, Any]], content: dict[str, Any] | None = None,
                   note: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The dict ``make()`` returns (tensors, lists, strings), computed once per key and content.

    ``key`` says what was asked for (dataset path, split, subset, resolution) and names the file;
    ``content`` fingerprints what the dataset holds (file list, sizes, mtimes), stored inside. A
    dataset changed in place (a class added, images deleted or replaced) no longer matches: the
    entry is rebuilt in the same slot, and ``note`` (default: stderr) says so."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)[:60]
    path = cache_dir / "tensors" / f"{slug}-{key_digest(key)}.pt"
    stored_key = json.loads(json.dumps(key, sort_keys=True, default=str))
    stored_content = json.loads(json.dumps(content, sort_keys=True, default=str))
    if path.is_file():
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            if payload.get("key") == stored_key and payload.get("content") == stored_content:
                return payload["data"]
            if payload.get("key") == stored_key:
                (note or _stderr)(f"note: {label}: the dataset changed since it was cached "
                                  f"({_changes(payload.get('content'), stored_content)}); decoding it again")
        except (OSError, RuntimeError, EOFError, KeyError, AttributeError, ValueError):
            pass  # unreadable entry: rebuild it below
    data = make()
    atomic_write(path, lambda tmp: torch.save({"key": stored_key, "content": stored_content,
                                               "data": data}, tmp))
    return data


def _changes(old: Any, new: Any) -> str:
    if isinstance(old, dict) and isinstance(new, dict) and "files" in old and "files" in new:
        return f"{old['files']} -> {new['files']} files, contents fingerprint {new.get('digest')}"
    return "different files, sizes or modification times"


def _stderr(text: str) -> None:
    import sys
    print(text, file=sys.stderr, flush=True)
