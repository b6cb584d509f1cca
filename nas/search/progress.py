"""Live progress of long work: a search's trials, and any counted task (epochs, batches, files).

On a terminal a ``rich`` live display is redrawn on a timer (so the clock and the ETA move between
events), with log records and warnings printed above it instead of through it; otherwise (logs,
CI, pipes) a line is printed whenever something changes, so a log file reads as the work's history.
``enabled=False`` silences everything (tests, benchmarks, ``--quiet``).
"""
from __future__ import annotations

import contextlib
import logging
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Iterator, TextIO

REFRESH_PER_S = 2.0


@dataclass(frozen=True)
class Snapshot:
    done: int
    running: int
    failed: int
    budget: int
    elapsed_s: float
    best_reward: float | None = None
    best_spec: str | None = None
    event: str = ""
    epochs: tuple[tuple[int, int], ...] = ()  # (running candidate, its last reported epoch)


def _clock(seconds: float) -> str:
    seconds = int(max(0.0, seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def eta_s(s: Snapshot, epochs_per_trial: int | None = None, elapsed_s: float | None = None) -> float | None:
    """Seconds left at the pace so far: finished trials plus the finished fraction of running ones
    (their epochs out of ``epochs_per_trial``), None before anything has finished."""
    elapsed = s.elapsed_s if elapsed_s is None else elapsed_s
    effective = float(s.done + s.failed)
    if epochs_per_trial:
        effective += sum(min(e, epochs_per_trial) / epochs_per_trial for _, e in s.epochs)
    if effective <= 0 or elapsed <= 0:
        return None
    return max(0.0, elapsed * (s.budget - effective) / effective)


def format_line(s: Snapshot, width: int = 100, epochs_per_trial: int | None = None) -> str:
    best = "best -" if s.best_reward is None else f"best {s.best_reward:.4f}"
    line = (f"[{_clock(s.elapsed_s)}] {s.done + s.failed}/{s.budget} finished "
            f"({s.done} ok, {s.failed} failed), {s.running} running, {best}")
    eta = eta_s(s, epochs_per_trial)
    if eta is not None and s.done + s.failed < s.budget:
        line += f", eta {_clock(eta)}"
    if s.event:
        line += f" | {s.event}"
    return _short(line, width)


@contextlib.contextmanager
def _route_logs(stream: TextIO) -> Iterator[None]:
    """Point console log handlers (Ray's, the root's) and warnings at ``stream`` (the live
    display's proxy, which prints above the display) for the duration; restored afterwards."""
    consoles = (sys.__stderr__, sys.__stdout__, sys.stderr, sys.stdout)
    handlers = []
    for logger in [logging.getLogger()] + [lg for lg in logging.root.manager.loggerDict.values()
                                           if isinstance(lg, logging.Logger)]:
        for h in logger.handlers:
            if type(h) is logging.StreamHandler and h.stream in consoles:
                handlers.append((h, h.setStream(stream)))
    saved_show = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        stream.write(warnings.formatwarning(message, category, filename, lineno, line))
    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = saved_show
        for h, old in handlers:
            h.setStream(old)


class Live:
    """A ``rich`` live display of whatever ``render()`` returns, redrawn REFRESH_PER_S times a
    second; stdout/stderr writes and log records appear above it."""

    def __init__(self, stream: TextIO, render: Callable[[], object]) -> None:
        from rich.console import Console
        from rich.live import Live as RichLive
        self.console = Console(file=stream, force_terminal=True, highlight=False)
        self.live = RichLive(get_renderable=render, console=self.console, refresh_per_second=REFRESH_PER_S,
                             redirect_stdout=True, redirect_stderr=True, transient=False)
        self._routes: contextlib.ExitStack | None = None

    def start(self) -> None:
        self.live.start()
        self._routes = contextlib.ExitStack()
        self._routes.enter_context(_route_logs(sys.stderr))  # rich's proxy, now that it is live

    def stop(self) -> None:
        if self._routes is not None:
            self._routes.close()
            self._routes = None
        self.live.stop()


class Progress:
    """A search's progress. ``epochs_per_trial`` (the proxy training's epochs) refines the ETA
    with the running trials' epochs; ``status(text)`` shows a phase before the first trial."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True, tty: bool | None = None,
                 epochs_per_trial: int | None = None, title: str = "search") -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.enabled = enabled
        self.tty = self.stream.isatty() if tty is None else tty
        self.epochs_per_trial, self.title = epochs_per_trial, title
        self._last: tuple | None = None
        self._snap: Snapshot | None = None
        self._at = time.monotonic()
        self._phase = ""
        self._live: Live | None = None

    def status(self, text: str) -> None:
        """A phase before (or between) trials, e.g. 'preparing data'."""
        if not self.enabled:
            return
        self._phase, self._at = text, time.monotonic()
        if self.tty:
            self._ensure_live()
        else:
            self.stream.write(f"{text}...\n")
            self.stream.flush()

    def update(self, snapshot: Snapshot) -> None:
        if not self.enabled:
            return
        self._snap, self._at, self._phase = snapshot, time.monotonic(), ""
        key = (snapshot.done, snapshot.running, snapshot.failed, snapshot.best_reward, snapshot.event)
        if key == self._last:
            return
        self._last = key
        if self.tty:
            self._ensure_live()
            return
        self.stream.write(format_line(snapshot, width=400, epochs_per_trial=self.epochs_per_trial) + "\n")
        self.stream.flush()

    def _ensure_live(self) -> None:
        if self._live is None:
            self._live = Live(self.stream, self.render)
            self._live.start()

    def render(self):
        """The live view: counts, bar, elapsed and ETA (ticking between events), running epochs."""
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        since = time.monotonic() - self._at
        s = self._snap
        if s is None:
            return f"[bold]{self.title}[/] {self._phase or 'starting'}... {_clock(since)}"
        elapsed = s.elapsed_s + since
        eta = eta_s(s, self.epochs_per_trial, elapsed)
        finished = s.done + s.failed
        head = Table.grid(padding=(0, 1))
        best = "-" if s.best_reward is None else f"{s.best_reward:.4f}"
        head.add_row(f"[bold]{self.title}[/]", ProgressBar(total=max(1, s.budget), completed=finished, width=24),
                     f"{finished}/{s.budget} finished ({s.failed} failed), {s.running} running")
        lines: list = [head, f"best [bold green]{best}[/]  elapsed {_clock(elapsed)}  "
                             f"eta {_clock(eta) if eta is not None else '-'}"]
        if s.epochs:
            total = f"/{self.epochs_per_trial}" if self.epochs_per_trial else ""
            lines.append("running: " + ", ".join(f"trial {c} epoch {e}{total}" for c, e in s.epochs))
        if self._phase:
            lines.append(f"{self._phase}...")
        elif s.event:
            lines.append(f"[dim]{_short(s.event, 160)}[/]")
        return Group(*lines)

    def close(self, message: str = "") -> None:
        if not self.enabled:
            return
        if self._live is not None:
            self._live.stop()
            self._live = None
        if message:
            self.stream.write(message + "\n")
        self.stream.flush()


@contextlib.contextmanager
def task(description: str, total: float | None = None, *, stream: TextIO | None = None,
         enabled: bool = True, tty: bool | None = None) -> Iterator[Callable[..., None]]:
    """A counted (or, with ``total=None``, open-ended) piece of long work with elapsed time and
    ETA: yields ``advance(amount=1, description=None)``. Off a terminal one line at the start and
    one at the end."""
    stream = stream if stream is not None else sys.stdout
    if not enabled:
        yield lambda amount=1, description=None: None
        return
    if not (stream.isatty() if tty is None else tty):
        start = time.perf_counter()
        stream.write(f"{description}...\n")
        stream.flush()
        yield lambda amount=1, description=None: None
        stream.write(f"{description}: done in {time.perf_counter() - start:.1f} s\n")
        stream.flush()
        return
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress, SpinnerColumn,
                               TextColumn, TimeElapsedColumn, TimeRemainingColumn)
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn()]
    bar = RichProgress(*columns, console=Console(file=stream, force_terminal=True),
                       refresh_per_second=REFRESH_PER_S, redirect_stdout=True, redirect_stderr=True)
    with bar, _route_logs(sys.stderr):
        tid = bar.add_task(description, total=total)

        def advance(amount: float = 1, description: str | None = None) -> None:
            bar.update(tid, advance=amount, **({"description": description} if description else {}))
        yield advance
