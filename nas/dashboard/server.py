"""The dashboard's HTTP server: the standard library's ``ThreadingHTTPServer``, a page, its
vendored scripts and a small JSON API over ``RunSource``s. Read-only: GET only, no request
text reaches the file system or the spec parser (trials are named by run index and seq).

    GET /                              the page (static/index.html)
    GET /static/<name>                 app.js, app.css, plotly.min.js (gzip when accepted)
    GET /api/runs                      [{index, name, path}]
    GET /api/run/<i>/version           {"version": key}: changes when the store does (poll this)
    GET /api/run/<i>/state             status, progress, ETA, trials, folded table, best-so-far, Pareto
    GET /api/run/<i>/epochs/<id>       one trial's per-epoch metrics
    GET /api/run/<i>/importance        decision importances (Optuna evaluators)
    GET /api/run/<i>/draw/<seq>?view=  SVG drawing of a trial's spec
    GET /api/run/<i>/diff/<a>/<b>      SVG + text diff of trial b against trial a
"""
from __future__ import annotations

import gzip
import json
import re
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import parse_qs, urlsplit

from nas.dashboard.data import RunSource
from nas.dashboard.drawings import Drawings

STATIC = Path(__file__).resolve().parent / "static"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".txt": "text/plain; charset=utf-8"}
FILES = ("index.html", "app.js", "app.css", "plotly.min.js", "plotly.LICENSE.txt")


class Dashboard:
    """The runs and caches one server answers from."""

    def __init__(self, run_dirs: Sequence[str | Path]) -> None:
        if not run_dirs:
            raise ValueError("no search run directory given (a folder holding trials.sqlite)")
        self.sources = [RunSource(d) for d in run_dirs]
        self.drawings = Drawings()
        self._static: dict[str, tuple[bytes, bytes]] = {}
        self._lock = threading.Lock()

    def static(self, name: str) -> tuple[bytes, bytes]:
        """(raw, gzipped) bytes of a packaged file, read once."""
        with self._lock:
            if name not in self._static:
                raw = (STATIC / name).read_bytes()
                self._static[name] = (raw, gzip.compress(raw, 6))
            return self._static[name]

    def api(self, path: str, query: dict[str, list[str]]) -> Any:
        if path == "/api/runs":
            return [{"index": i, "name": s.run_dir.name, "path": str(s.run_dir)}
                    for i, s in enumerate(self.sources)]
        m = re.fullmatch(r"/api/run/(\d+)/(\w+)((?:/\d+)*)", path)
        if not m or int(m.group(1)) >= len(self.sources):
            raise LookupError(path)
        source, verb = self.sources[int(m.group(1))], m.group(2)
        args = [int(a) for a in m.group(3).split("/")[1:]]
        view = query.get("view", ["auto"])[0]
        if verb == "version" and not args:
            return {"version": source.version()}
        if verb == "state" and not args:
            return source.state()
        if verb == "importance" and not args:
            return source.importance()
        if verb == "epochs" and len(args) == 1:
            return source.epochs(args[0])
        if verb == "draw" and len(args) == 1:
            return self.drawings.draw(source.space, _spec_of(source, args[0]), view)
        if verb == "diff" and len(args) == 2:
            return self.drawings.diff(source.space, _spec_of(source, args[0]), _spec_of(source, args[1]), view)
        raise LookupError(path)

    def close(self) -> None:
        for s in self.sources:
            s.close()


def _spec_of(source: RunSource, seq: int) -> str:
    for t in source.state()["trials"]:
        if t["seq"] == seq:
            return t["spec"]
    raise LookupError(f"no trial with seq {seq}")


class Handler(BaseHTTPRequestHandler):
    server_version = "nas-dashboard"
    app: Dashboard  # set on the subclass made by ``make_server``

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the page polls every second: access logs would drown the terminal

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        try:
            if url.path.startswith("/api/"):
                body = json.dumps(self.app.api(url.path, parse_qs(url.query)), allow_nan=False).encode()
                return self._send(body, "application/json", cache=False)
            name = "index.html" if url.path == "/" else url.path.removeprefix("/static/")
            if name not in FILES:
                raise LookupError(url.path)
            raw, packed = self.app.static(name)
            zipped = "gzip" in self.headers.get("Accept-Encoding", "")
            return self._send(packed if zipped else raw, TYPES[Path(name).suffix], cache=name != "index.html",
                              encoding="gzip" if zipped else None)
        except LookupError as err:
            self._send(json.dumps({"error": f"not found: {err}"}).encode(), "application/json",
                       status=HTTPStatus.NOT_FOUND)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as err:  # noqa: BLE001 -- one bad request must not stop the server
            self._send(json.dumps({"error": f"{type(err).__name__}: {err}"}).encode(), "application/json",
                       status=HTTPStatus.INTERNAL_SERVER_ERROR)

    def _send(self, body: bytes, ctype: str, *, cache: bool = False, encoding: str | None = None,
              status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.end_headers()
        self.wfile.write(body)


def make_server(run_dirs: Sequence[str | Path], host: str = "127.0.0.1", port: int = 8265) -> ThreadingHTTPServer:
    """A server over ``run_dirs`` (not yet serving); port 0 picks a free one."""
    app = Dashboard(run_dirs)
    handler = type("BoundHandler", (Handler,), {"app": app})
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as err:
        app.close()
        raise ValueError(f"--port {port}: cannot listen on {host}:{port} ({err.strerror or err}); "
                         "choose another port (0 picks a free one)") from None
    server.daemon_threads = True
    server.app = app  # type: ignore[attr-defined]
    return server


def serve(run_dirs: Sequence[str | Path], host: str = "127.0.0.1", port: int = 8265) -> None:
    """Serve until Ctrl-C, printing the address first."""
    server = make_server(run_dirs, host, port)
    url = f"http://{host}:{server.server_address[1]}/"
    print(f"dashboard of {len(server.app.sources)} run(s) at {url} (Ctrl-C stops it)", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"note: listening on {host}: anyone who can reach this machine can read these runs",
              file=sys.stderr)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        server.app.close()
