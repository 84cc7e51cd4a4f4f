"""Start-up checks of the service: exposure without a key, a writable data dir, one server per
data dir (an exclusive lock), each failing with one line rather than a traceback."""

from __future__ import annotations

import fcntl
import ipaddress
import os
import threading
from pathlib import Path
from typing import IO

from api.service.settings import ApiSettings

LOCK_FILE = ".careplan.lock"
_held: dict[Path, tuple[IO[bytes], int]] = {}
_held_lock = threading.Lock()


class StartupError(Exception):
    """The service must not start; the message is the one line to print."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, settings: ApiSettings, *, insecure_open: bool) -> str | None:
    """Refuse open writes off loopback; return a warning line for open writes on loopback.

    Raises
    ------
    StartupError
        ``host`` is not a loopback address, no ``CAREPLAN_API_KEY`` is set and
        ``insecure_open`` was not given.
    """
    if settings.api_key:
        return None
    if insecure_open:
        return (f"careplan: warning: --insecure-open: anyone who can reach {host} can write "
                "(no CAREPLAN_API_KEY)")
    if not is_loopback(host):
        raise StartupError(f"careplan: error: refusing to serve on {host} without "
                           "CAREPLAN_API_KEY: set CAREPLAN_API_KEY (writes then need it in "
                           "X-API-Key), serve on 127.0.0.1, or pass --insecure-open")
    return ("careplan: warning: no CAREPLAN_API_KEY: writes are open to anyone on this machine; "
            "set CAREPLAN_API_KEY to require a key")


def check_data_dir(data_dir: Path) -> None:
    """Create the data dir if needed and prove it writable, or raise a one-line StartupError."""
    probe = data_dir / ".careplan-write-probe"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StartupError(f"careplan: error: data dir {data_dir} is not writable ({reason}); "
                           "set CAREPLAN_DATA_DIR to a writable folder") from None


def lock_data_dir(data_dir: Path) -> None:
    """Take the exclusive lock of a data dir for this process (re-entrant within it).

    Raises
    ------
    StartupError
        Another process holds the lock: a second server would delete the first's temporary
        files and fail its running jobs at start-up.
    """
    key = data_dir.resolve()
    with _held_lock:
        if key in _held:
            handle, count = _held[key]
            _held[key] = (handle, count + 1)
            return
        handle = (key / LOCK_FILE).open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StartupError(f"careplan: error: data dir {data_dir} is in use by another "
                               "careplan server; stop it or set another CAREPLAN_DATA_DIR"
                               ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        _held[key] = (handle, 1)


def unlock_data_dir(data_dir: Path) -> None:
    """Release one hold of the data dir lock (the lock goes with the last one)."""
    key = data_dir.resolve()
    with _held_lock:
        if key not in _held:
            return
        handle, count = _held.pop(key)
        if count > 1:
            _held[key] = (handle, count - 1)
        else:
            handle.close()
