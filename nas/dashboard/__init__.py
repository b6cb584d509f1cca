"""``nas dashboard``: a live local web page over search run stores (status, progress and ETA,
trials with repeats folded, best-so-far, Pareto front, per-epoch curves, parallel coordinates,
decision importance, the drawn cell of any trial and the diff of two, several runs side by side).

Standard library HTTP server, read-only SQLite, charts by the vendored Plotly.js (MIT) served from
``static/``: nothing is fetched from the network.
"""
from __future__ import annotations

from nas.dashboard.server import Dashboard, make_server, serve

__all__ = ["Dashboard", "make_server", "serve"]
