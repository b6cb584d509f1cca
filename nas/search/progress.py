"""Live search progress: trials done / running / failed, the best so far and the elapsed time.

On a terminal one status line is redrawn in place; otherwise (logs, CI, pipes) a line is printed
whenever something changes, so a log file reads as the search's history.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO


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
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def format_line(s: Snapshot, width: int = 100) -> str:
    best = "best -" if s.best_reward is None else f"best {s.best_reward:.4f}"
    line = (f"[{_clock(s.elapsed_s)}] {s.done + s.failed}/{s.budget} finished "
            f"({s.done} ok, {s.failed} failed), {s.running} running, {best}")
    if s.event:
        line += f" | {s.event}"
    return _short(line, width)


class Progress:
    """Prints snapshots; ``enabled=False`` silences it (tests, benchmarks)."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True,
                 tty: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.enabled = enabled
        self.tty = self.stream.isatty() if tty is None else tty
        self._last: tuple | None = None

    def update(self, snapshot: Snapshot) -> None:
        if not self.enabled:
            return
        key = (snapshot.done, snapshot.running, snapshot.failed, snapshot.best_reward, snapshot.event)
        if key == self._last:
            return
        self._last = key
        if self.tty:
            self.stream.write("\r\x1b[2K" + format_line(snapshot))
        else:
            self.stream.write(format_line(snapshot, width=400) + "\n")
        self.stream.flush()

    def close(self, message: str = "") -> None:
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\n")
        if message:
            self.stream.write(message + "\n")
        self.stream.flush()
