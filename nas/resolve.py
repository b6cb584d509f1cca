"""The one resolver of what a user types where an architecture is expected, used by every verb:
a named architecture, a spec string of any space (``cell:``, ``blocks:``, ``compound:``, an
NAS-Bench-201 ``|op~i|...`` string), a JSON spec file, a search run directory (its best specs,
from the run store) or a ``nas train`` output directory (the spec it trained)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from nas import runs


def resolve_all(text: str, top: int = 1) -> list[tuple[str, Any]]:
    """(title, spec) pairs: one for a name / string / file / train directory, up to ``top`` for a
    search run; ValueError naming the input otherwise."""
    from search_spaces import catalog

    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"expected a named architecture, spec string, JSON file or run directory, got {text!r}")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(f"--top must be at least 1, got {top!r}")
    text = text.strip()
    if runs.is_search_run(text):
        return runs.top_specs(text, top)
    if runs.is_train_run(text):
        return [(text, runs.trained_spec(text)[0])]
    if runs.is_dir(Path(text)):
        raise ValueError(f"{text!r} is a directory but neither a search run ({runs.STORE}) nor a "
                         "`nas train` output (config.json)")
    return [(text, catalog.resolve(text))]


def resolve(text: str) -> Any:
    """The one spec ``text`` stands for (a search run's best)."""
    return resolve_all(text, 1)[0][1]
