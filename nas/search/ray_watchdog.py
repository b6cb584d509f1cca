"""Ends a local Ray cluster once its driver is gone, and leaves the cluster's folder private.

``nas search`` starts this script (standard library only, run with ``python -I``) before
``ray.init`` starts a cluster on this machine. It blocks on a pipe whose only writer is the driver,
so end-of-file means the driver has exited: after ``ray.shutdown`` on a normal finish or Ctrl-C, or
killed outright (SIGKILL, the OOM killer). It runs in a session of its own, so Ctrl-C in the
terminal and a kill of the driver's process group spare it.

Why Ray's own fate sharing is not enough (measured with Ray 2.60): ray.init starts the GCS and
the raylet with ``PR_SET_PDEATHSIG``, so they die with the driver, and the raylet's workers follow
it; but the raylet's agents (dashboard agent, runtime-env agent) notice the raylet's death only to
spend about a minute trying to report it to the dead GCS, and stay up that long after a SIGKILLed
driver. A parent-death signal cannot reach them (the raylet, not the driver, starts them), and a
subreaper would have to be the driver's parent. Nor can a variable in their environment name
them: ``setproctitle`` writes their long padded titles over it (/proc/PID/environ reads blank).

What does name them: every process of the cluster (daemons, agents, workers, a trial's own
children) holds files of the cluster's session folder open (its logs; stdout and stderr of most),
and it stays in the driver's process group. Ray names the session folder after the driver's pid
(``session_<time>_<pid>``), under a temp dir that is private to this user (``ray_local``). A
process in that group with a file of that folder open is the cluster's; a ``tail -f`` of a log in
another terminal is not in the group and is spared.
"""
from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import time
from pathlib import Path


def cluster_pids(sessions: list[str], pgid: int, spare: set[int]) -> list[int]:
    """Processes of process group ``pgid`` with a file under one of ``sessions`` open."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and int(entry.name) not in spare and _in_group(int(entry.name), pgid):
            if any(target.startswith(tuple(sessions)) for target in _open_files(int(entry.name))):
                found.append(int(entry.name))
    return found


def _in_group(pid: int, pgid: int) -> bool:
    try:
        return os.getpgid(pid) == pgid
    except OSError:  # gone meanwhile
        return False


def _open_files(pid: int) -> list[str]:
    targets = []
    with contextlib.suppress(OSError):  # gone meanwhile, or another user's
        for fd in os.scandir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):  # closed meanwhile
                targets.append(os.readlink(fd.path))
    return targets


def end_cluster(sessions: list[str], pgid: int, spare: set[int], patience: float = 10.0) -> int:
    """SIGKILL the cluster's processes until none is left; how many there were.

    No SIGTERM first: with the driver gone there is nobody left to report to, and the agents'
    graceful path is precisely the minute-long report to a dead GCS. Scanned again until empty,
    since a process may start while the first ones are being killed."""
    killed: set[int] = set()
    deadline = time.monotonic() + patience
    while sessions and (pids := cluster_pids(sessions, pgid, spare)) and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        time.sleep(0.1)
    return len(killed)


def tighten(root: Path) -> int:
    """Take group and other permissions off everything under ``root`` (symlinks skipped, never
    followed); how many paths changed. Ray makes its temp, session, socket and log folders 0777
    on purpose (``try_make_directory_shared``, for machines where users share one /tmp/ray)."""
    changed = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [None, *dirnames, *filenames]:
            path = dirpath if name is None else os.path.join(dirpath, name)
            with contextlib.suppress(FileNotFoundError, PermissionError):
                mode = os.lstat(path).st_mode
                if not stat.S_ISLNK(mode) and mode & 0o077:
                    os.chmod(path, stat.S_IMODE(mode) & ~0o077)
                    changed += 1
    return changed


def main(argv: list[str]) -> int:
    driver, pgid, root, log = int(argv[1]), int(argv[2]), Path(argv[3]), Path(argv[4])
    sys.stdin.buffer.read()
    # A finished driver still waits for us (spared); a dead one's pid names its session folders
    # only (a pid is not reused while its process lives).
    sessions = [f"{p}{os.sep}" for p in (root / "ray").glob(f"session_*_{driver}") if not p.is_symlink()]
    ended = end_cluster(sessions, pgid, spare={os.getpid(), driver})
    tighten(root)
    if ended:
        with contextlib.suppress(OSError), log.open("a") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} WARNING nas.search.ray_watchdog: "
                    f"{ended} Ray process(es) outlived the driver; ended them\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
