"""Cell / network drawings of a run's trials and the diff of two, as SVG from ``nas.graphs``.

Specs come from the run store by trial seq (never from request text, so a request cannot make the
server read a file); they are parsed by the run's own space. Drawings are cached per server (a
bounded dict on the instance), since Graphviz or matplotlib takes tenths of a second each.
"""
from __future__ import annotations

import threading
from typing import Any

VIEWS = ("auto", "cell", "stage", "network")
CACHE_SIZE = 256


class Drawings:
    def __init__(self) -> None:
        self._cache: dict[tuple, dict] = {}
        self._lock = threading.Lock()

    def _remember(self, key: tuple, build) -> dict:
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        value = build()
        with self._lock:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = value
        return value

    def draw(self, space: Any, spec_text: str, view: str = "auto") -> dict:
        """{"svg", "view", "via", "spec"} of one spec, or {"error"} naming why it cannot be drawn."""
        return self._remember(("draw", spec_text, view), lambda: _draw(space, spec_text, view))

    def diff(self, space: Any, a: str, b: str, view: str = "auto") -> dict:
        """{"svg" (B with the differences marked), "text", "view"} of B against A, or {"error"}."""
        return self._remember(("diff", a, b, view), lambda: _diff(space, a, b, view))


def _spec(space: Any, text: str) -> Any:
    if space is None:
        raise ValueError("the run's space is custom code, which the dashboard does not import")
    return space.from_str(text)


def _view(spec: Any, view: str) -> str:
    from nas.graphs import drawing_view
    if view not in VIEWS:
        raise ValueError(f"view {view!r} not one of {', '.join(VIEWS)}")
    return drawing_view(spec) if view == "auto" else view


def _svg(drawing) -> str:
    text = drawing.data.decode("utf-8", errors="replace")
    return text[text.find("<svg"):] if "<svg" in text else text


def _draw(space: Any, spec_text: str, view: str) -> dict:
    from nas.graphs import draw, graph_of
    try:
        spec = _spec(space, spec_text)
        view = _view(spec, view)
        drawing = draw(graph_of(spec, view), "svg")
    except (ValueError, TypeError, KeyError, RuntimeError) as err:
        return {"error": f"cannot draw {spec_text!r}: {err}"}
    return {"svg": _svg(drawing), "view": view, "via": drawing.via, "spec": spec_text}


def _diff(space: Any, a: str, b: str, view: str) -> dict:
    from nas.graphs import draw
    from nas.graphs.diff import diff_specs, diff_text, diff_title
    try:
        spec_a, spec_b = _spec(space, a), _spec(space, b)
        view = _view(spec_b, view)
        d = diff_specs(spec_a, spec_b, view=view)
        drawing = draw(d.graph_b, "svg", highlight=d.highlight, title=diff_title(d, "A", "B"))
    except (ValueError, TypeError, KeyError, RuntimeError) as err:
        return {"error": f"cannot diff the two trials: {err}"}
    return {"svg": _svg(drawing), "text": diff_text(d), "view": view, "via": drawing.via}
