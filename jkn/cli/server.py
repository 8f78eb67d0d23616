"""Prefect's API for a command run by hand, started first and ready by the time it is needed.

With no ``PREFECT_API_URL`` Prefect starts a temporary server the first time a flow needs its
API: it imports the whole server into this process (about 4 s here) and only then starts it in
a subprocess (another 5.5 s before it answers), both on the run's critical path. A command run
by hand instead starts the same temporary server — Prefect's own application, in ephemeral mode
(no UI, no background services), on 127.0.0.1 only, over the SQLite database under
``PREFECT_HOME`` that Prefect's would use — as the first thing it does, imports the pipeline
while the server comes up, and stops it when the command ends. Orchestration is Prefect's as
before; only the start is earlier. A configured ``PREFECT_API_URL`` is used as it is.

Earlier still: importing Prefect to read its settings takes over a second, so the commands that
run a flow start the server speculatively (:func:`start_early`, before anything heavy is
imported) unless ``PREFECT_API_URL`` is in the environment; :func:`prefect_api` then adopts it,
or stops it if Prefect's settings (a profile) name a server after all.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jkn.settings import child_environment, for_child_processes

log = logging.getLogger("jkn.cli")

# what Prefect's own temporary server sets for itself (prefect.server.api.server)
_EPHEMERAL = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}


class ServerUnavailable(RuntimeError):
    """The temporary server did not come up (an expected failure: said in one line)."""


@dataclass
class TemporaryServer:
    """A temporary Prefect server this command started."""

    url: str
    process: subprocess.Popen[bytes]
    timeout_s: float

    def wait_ready(self) -> None:
        """Block until the server answers its health check (Prefect's own startup timeout)."""
        import httpx

        deadline = time.monotonic() + self.timeout_s
        with httpx.Client() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise ServerUnavailable(
                        f"the temporary Prefect server exited with code {self.process.returncode} "
                        "before it answered"
                    )
                try:
                    if client.get(f"{self.url}/health", timeout=2).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise ServerUnavailable(
            f"the temporary Prefect server did not answer within {self.timeout_s:.0f} s "
            "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)"
        )

    def stop(self) -> None:
        """Send what Prefect still holds for the API (logs, events), then stop the server
        (as Prefect's test harness does: a log sent to a stopped server retries for a minute)."""
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=5)
        EventsWorker.drain_all(timeout=5)
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# the commands whose flows need an API (jkn.cli.commands)
FLOW_COMMANDS = frozenset({"run", "backfill", "demo", "national"})
_early: TemporaryServer | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(settings: dict[str, str], timeout_s: float) -> TemporaryServer:
    """Start Prefect's server application (ephemeral mode, then ``settings``) on a free local
    port, in this process's environment."""
    import importlib.util

    spec = importlib.util.find_spec("prefect")  # its folder, without importing it
    assert spec is not None and spec.origin is not None
    port = _free_port()
    command = [
        sys.executable, "-m", "uvicorn",
        "--app-dir", str(Path(spec.origin).parent.parent),
        "--factory", "prefect.server.api.server:create_app",
        "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "error", "--lifespan", "on",
    ]  # fmt: skip
    return TemporaryServer(
        url=f"http://127.0.0.1:{port}/api",
        process=subprocess.Popen(command, env=child_environment() | _EPHEMERAL | settings),
        timeout_s=timeout_s,
    )


def start_early(arguments: list[str]) -> None:
    """Start the temporary server now if these command-line arguments run a flow and no
    ``PREFECT_API_URL`` is in the environment (the server inherits this environment and
    working directory, so it reads the same Prefect settings as this process will)."""
    global _early
    command = next((a for a in arguments if not a.startswith("-")), None)
    if (
        _early is not None
        or command not in FLOW_COMMANDS
        or {"--help", "-h"} & set(arguments)
        or os.environ.get("PREFECT_API_URL")
    ):
        return
    # Prefect's default startup timeout; the configured one applies when it is adopted
    _early = _spawn({}, timeout_s=20)
    atexit.register(_stop_unadopted)


def _stop_unadopted() -> None:
    """At exit: stop a server started early that no command adopted (e.g. refused options)."""
    global _early
    if _early is not None:
        _early.process.terminate()
        _early.process.wait()
        _early = None


@contextmanager
def prefect_api() -> Iterator[TemporaryServer | None]:
    """Inside: the Prefect API this command's flows use. When none is configured (and
    Prefect's ephemeral mode is allowed), a temporary server — the one :func:`start_early`
    started, or one started now; call :meth:`TemporaryServer.wait_ready` just before the
    first flow."""
    global _early
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    current = get_current_settings()
    if current.api.url or not current.server.ephemeral.enabled:
        _stop_unadopted()  # a profile names a server after all
        yield None  # a configured server, or Prefect's own refusal when it is called
        return
    timeout_s = float(current.server.ephemeral.startup_timeout_seconds)
    if _early is not None:
        server, _early = _early, None
        server.timeout_s = timeout_s
    else:
        server = _spawn(current.to_environment_variables(exclude_unset=True), timeout_s)
    log.info("started a temporary Prefect server on %s for this command", server.url)
    try:
        # this process through its settings; processes it starts (Dask workers) through theirs
        with (
            for_child_processes("PREFECT_API_URL", server.url),
            temporary_settings(updates={PREFECT_API_URL: server.url}),
        ):
            yield server
    finally:
        server.stop()
