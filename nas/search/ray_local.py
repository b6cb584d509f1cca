"""The Ray cluster ``nas search`` starts on this machine when given no address: private and
short-lived.

- Loopback only: its servers (GCS, raylet, workers, agents) listen on 127.0.0.1.
- Private files: Ray keeps its sessions (logs, sockets, port files) under a folder of this user's,
  mode 0700 (``<RAY_TMPDIR or the temp dir>/nas-ray-<uid>/ray``) instead of /tmp/ray, which Ray
  makes world-writable with every folder in it. Its daemons start under umask 077 (they and the
  workers they start inherit it), and what Ray still chmods to 0777 is taken back after start and
  at the end. The authentication token Ray generates for a new local cluster
  (~/.ray/auth_token, ``RAY_AUTH_TOKEN_PATH``) is left readable by this user only.
- No leftovers: a watchdog process (``ray_watchdog``) ends whatever of the cluster outlives its
  driver, even a driver killed with SIGKILL.

A cluster joined with ``--address`` belongs to its user and gets none of this.
"""
from __future__ import annotations

import contextlib
import logging
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from nas.search.ray_watchdog import tighten

log = logging.getLogger(__name__)
_NO_CLUSTER = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@contextlib.contextmanager
def local_cluster(num_cpus: int | None, num_gpus: int | None, notices: Path):
    """ray.init on this machine; on exit ray.shutdown, the watchdog's sweep, and modes tightened."""
    import ray
    root = private_root()
    watchdog = _start_watchdog(root, notices)
    try:
        with _loopback_node(), _umask(0o077):
            context = ray.init(num_cpus=num_cpus, num_gpus=num_gpus, include_dashboard=False,
                     log_to_driver=False, logging_level=logging.WARNING,
                     _temp_dir=str(root / "ray"))
        tighten_token()
        tighten(root)
        log.info("Ray's session (logs): %s", context.address_info["session_dir"])
        yield
    finally:
        if ray.is_initialized():
            ray.shutdown()
        _stop_watchdog(watchdog)


def private_root() -> Path:
    """This user's folder for Ray's sessions, created 0700 or checked to be ours and made 0700.

    Ray's temp dir is a folder inside it, not the folder itself: Ray chmods its temp dir to 0777
    as it creates it, and a 0700 parent leaves no moment in which others could reach it."""
    base = Path(os.environ.get("RAY_TMPDIR") or tempfile.gettempdir())
    root = base / f"nas-ray-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        root.mkdir(mode=0o700)
    st = os.lstat(root)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise ValueError(f"{root} is not a folder of this user's; Ray's files for a local search "
                         "go there: remove it, or set RAY_TMPDIR to another place")
    os.chmod(root, 0o700)
    return root


def tighten_token() -> None:
    """A token file of ours readable by others (Ray writes it with the process umask, and so does
    ``ray get-auth-token --generate``) becomes 0600: whoever reads it may run code on the cluster."""
    path = Path(os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token")
    with contextlib.suppress(OSError):
        st = path.stat()
        if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and st.st_mode & 0o077:
            path.chmod(stat.S_IMODE(st.st_mode) & ~0o077)
            log.warning("%s was readable by others; now by you only", path)


@contextlib.contextmanager
def _umask(mask: int):
    """The processes ray.init starts inherit the umask (and so the workers they start); set
    around ray.init only, so that this process's own files keep the user's."""
    saved = os.umask(mask)
    try:
        yield
    finally:
        os.umask(saved)


def _start_watchdog(root: Path, notices: Path) -> subprocess.Popen | None:
    if not Path("/proc/self/fd").is_dir():  # it finds the cluster through /proc (Linux)
        return None
    script = Path(__file__).with_name("ray_watchdog.py")
    return subprocess.Popen([sys.executable, "-I", str(script), str(os.getpid()), str(os.getpgid(0)),
                             str(root), str(notices)],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _stop_watchdog(watchdog: subprocess.Popen | None) -> None:
    """Closing our end of its pipe starts its sweep; waited for, so the cluster is gone and its
    folder private when the search returns."""
    if watchdog is None:
        return
    watchdog.stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        watchdog.wait(timeout=30)


@contextlib.contextmanager
def _loopback_node():
    """A cluster of this machine alone listens on loopback only.

    Ray binds its servers (GCS, raylet, workers, agents) to the node address, and turns an explicit
    ``_node_ip_address="127.0.0.1"`` back into the machine's reachable address; only its no-cluster
    mode (the Windows/macOS default, ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``) makes that address
    loopback. Set for the daemons ray.init starts (they inherit the environment) and for this
    process's already imported constant, then restored: nothing else here changes."""
    from ray._private import ray_constants
    saved_env, saved_flag = os.environ.get(_NO_CLUSTER), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[_NO_CLUSTER] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_flag
        _restore(_NO_CLUSTER, saved_env)


def _restore(key: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value
