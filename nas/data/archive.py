"""ImageNet-style folder sets (``split/<class>/<image>``) read from a directory or a tar archive.

The layout is torchvision's ``ImageFolder`` one (classes are the sorted folder names). A
``.tar.gz`` of such folders is listed once (the listing is cached) and only the members a run
needs are extracted into the cache directory: the CIFAR-10 JPEG export holds 60,000 files, and
a proxy run on 2,000 of them should not pay for the rest.
"""
from __future__ import annotations

import hashlib
import json
import os
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Iterable

from nas.io import atomic_write

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


class FolderSource:
    """A folder set on disk or in an archive. ``files(split)`` maps class name -> sorted relative
    paths; ``materialize(paths)`` returns a directory where those paths exist as files."""

    def __init__(self, path: str | os.PathLike, cache_dir: Path):
        self.path = Path(path).expanduser().resolve()
        if not self.path.exists():
            raise FileNotFoundError(f"dataset folder or archive {str(self.path)!r} does not exist")
        self.archive = is_archive(self.path)
        if not self.archive and not self.path.is_dir():
            raise ValueError(f"dataset path {str(self.path)!r} is neither a directory nor an archive "
                             f"({', '.join(ARCHIVE_SUFFIXES)})")
        stat = self.path.stat()
        self.identity = f"{self.path}:{stat.st_size}:{stat.st_mtime_ns}" if self.archive else str(self.path)
        self._content: dict | None = None
        digest = hashlib.sha256(self.identity.encode()).hexdigest()[:12]
        self.extract_dir = cache_dir / "extracted" / f"{self.path.name.split('.')[0]}-{digest}"
        self._names: list[str] | None = None

    # -- listing -------------------------------------------------------------------------------
    def _all_names(self) -> list[str]:
        if self._names is None:
            self._names = self._archive_names() if self.archive else self._dir_names()
        return self._names

    def content(self) -> dict:
        """What the dataset holds, for the tensor cache: an archive's size and mtime; a folder's
        image count and a digest of every image's relative path, size and mtime."""
        if self._content is None:
            if self.archive:
                stat = self.path.stat()
                self._content = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
            else:
                self._content = folder_content(self.path, images_only=True)
        return self._content

    def _dir_names(self) -> list[str]:
        return [name for name, _, _ in _walk(self.path, images_only=True)]

    def _archive_names(self) -> list[str]:
        listing = self.extract_dir / "listing.json"
        if listing.is_file():
            return json.loads(listing.read_text())
        with _open_tar(self.path) as tf:
            names = []
            for m in _members(self.path, tf):
                if m.isfile() and _is_image(m.name):
                    names.append(m.name)
        names.sort()
        atomic_write(listing, lambda tmp: tmp.write_text(json.dumps(names)))
        return names

    def splits(self) -> list[str]:
        """Folder names that hold ``<class>/<image>`` (possibly under one wrapping folder)."""
        found = set()
        for name in self._all_names():
            parts = PurePosixPath(name).parts
            if len(parts) >= 3:
                found.add("/".join(parts[:-2]))
        return sorted(found)

    def files(self, split: str) -> dict[str, list[str]]:
        """Class name -> sorted image paths of ``split`` (a folder like 'train', or a wrapped one
        like 'tiny-imagenet-10cls/train'; the short form is matched against the wrapped one)."""
        available = self.splits()
        matches = [s for s in available if s == split or s.endswith("/" + split)]
        if len(matches) != 1:
            what = "is ambiguous" if matches else "not found"
            raise ValueError(f"split {split!r} {what} in {self.path} (splits: {', '.join(available) or 'none'}; "
                             "expected <split>/<class>/<image> folders)")
        prefix = matches[0] + "/"
        by_class: dict[str, list[str]] = {}
        for name in self._all_names():
            if name.startswith(prefix):
                rest = PurePosixPath(name[len(prefix):]).parts
                if len(rest) == 2:
                    by_class.setdefault(rest[0], []).append(name)
        return {cls: sorted(by_class[cls]) for cls in sorted(by_class)}

    # -- materializing -------------------------------------------------------------------------
    def materialize(self, names: Iterable[str]) -> Path:
        """A root directory holding every path in ``names``; archives extract what is missing."""
        if not self.archive:
            return self.path
        missing = {n for n in names if not (self.extract_dir / n).is_file()}
        if missing:
            self._extract(missing)
        return self.extract_dir

    def _extract(self, wanted: set[str]) -> None:
        root = self.extract_dir.resolve()
        with _open_tar(self.path) as tf:
            for member in _members(self.path, tf):
                if member.name not in wanted:
                    continue
                target = (root / member.name).resolve()
                if root not in target.parents:  # never write outside the cache (tar path tricks)
                    raise ValueError(f"{self.path}: unsafe member path {member.name!r}")
                try:
                    payload = tf.extractfile(member).read()
                except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
                    raise ValueError(f"{self.path}: member {member.name!r} is corrupt or truncated "
                                     f"({err}); re-copy or re-download the archive") from None
                atomic_write(target, lambda tmp: tmp.write_bytes(payload))
                wanted.discard(member.name)
                if not wanted:
                    break


# ---------------------------------------------------------------- helpers


def _walk(root: Path, images_only: bool) -> list[tuple[str, int, int]]:
    """Sorted (relative posix path, size, mtime_ns) of the files under ``root``."""
    out = []
    for dirpath, _, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        for f in filenames:
            if images_only and not _is_image(f):
                continue
            try:
                st = os.stat(os.path.join(dirpath, f))
            except OSError:
                continue  # vanished while listing
            out.append((str(PurePosixPath(*rel.parts, f)), st.st_size, st.st_mtime_ns))
    return sorted(out)


def folder_content(root: Path, images_only: bool = False) -> dict:
    """A fingerprint of a folder's files: their count and a digest of names, sizes and mtimes."""
    files = _walk(Path(root), images_only) if Path(root).is_dir() else []
    digest = hashlib.sha256(json.dumps(files).encode()).hexdigest()[:16]
    return {"files": len(files), "digest": digest}


class _open_tar:
    """``tarfile.open`` whose failures name the archive (a truncated download, a renamed file)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> tarfile.TarFile:
        try:
            self.tf = tarfile.open(self.path)
        except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
            raise ValueError(f"{self.path}: not a readable tar archive ({err}); re-copy or "
                             "re-download it") from None
        return self.tf

    def __exit__(self, *exc) -> None:
        self.tf.close()


def _members(path: Path, tf: tarfile.TarFile):
    """The members of ``tf``; a corrupt stream or an unsafe member name (absolute, or with '..',
    which could write outside the cache) fails naming the archive."""
    try:
        for member in tf:
            parts = PurePosixPath(member.name).parts
            if member.name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                raise ValueError(f"{path}: unsafe member path {member.name!r} (absolute or with '..'); "
                                 "refusing the archive: repack it with relative paths")
            yield member
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        raise ValueError(f"{path}: corrupt or truncated archive ({err}); re-copy or re-download it") from None
