"""One refresh of a warehouse at a time.

Two refreshes of the same warehouse would interleave their staging, lists and publishes. The
refresh holds an exclusive ``flock`` on ``<warehouse>.lock`` for its whole run; a second one
refuses at once with a message naming the holder. The kernel releases the lock when the holder
dies, even by SIGKILL, so a crash never leaves the warehouse locked.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class RefreshRunning(RuntimeError):
    """Another refresh holds the warehouse."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.name}.lock")


@contextmanager
def refresh_lock(warehouse: Path, what: str) -> Iterator[None]:
    """Hold the warehouse's refresh lock for the duration, or raise :class:`RefreshRunning`."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown"
            raise RefreshRunning(
                f"{warehouse}: another refresh is running ({holder}). Wait for it to end, "
                "or check that process; the lock frees itself when it exits."
            ) from None
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(
            fd, f"{what}, pid {os.getpid()} on {socket.gethostname()}, since {started}".encode(), 0
        )
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
