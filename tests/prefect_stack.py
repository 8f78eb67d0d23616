"""A Prefect production stack for end-to-end tests, with real parts only.

A ``prefect server`` on loopback (SQLite, telemetry off), the ``jkn-process`` work pool, the
deployments of prefect.yaml deployed with ``prefect --no-prompt deploy --all``, a webhook
receiver on 127.0.0.1 with a notification block pointing at it, optionally the automations of
automations.yaml, and a worker. :func:`prefect_stack` starts them and stops every process it
started (flow runs too: Prefect starts them in sessions of their own).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver(ThreadingHTTPServer):
    """A webhook endpoint on 127.0.0.1 that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                receiver.received.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/alert"


@dataclass
class Stack:
    env: dict[str, str]
    landing: Path
    warehouse: Path
    receiver: Receiver
    logs: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(BIN / args[0]), *args[1:]],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        return done

    def run_deployment(self, name: str, parameters: dict) -> dict:
        """Trigger a deployment through the server, wait for the worker to finish it, and
        return its final state, artifacts (read back from the server) and the messages the
        webhook received while it ran."""
        before = len(self.receiver.received)
        script = """
import json, sys
from prefect.deployments import run_deployment
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
run = run_deployment(sys.argv[1], parameters=json.loads(sys.argv[2]), timeout=600)
with get_client(sync_client=True) as client:
    artifacts = client.read_artifacts(
        artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
    )
print(json.dumps({
    "state": run.state.type.value, "message": run.state.message,
    "artifacts": {a.key: a.data for a in artifacts if a.key},
}))
"""
        done = self.cli("python", "-c", script, name, json.dumps(parameters), timeout=900)
        outcome = json.loads(done.stdout.strip().splitlines()[-1])
        time.sleep(0.5)  # a message posted as the run ended
        return outcome | {"messages": self.receiver.received[before:]}


def _wait_healthy(url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "prefect server exited"
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError("prefect server not healthy")


def _stop(process: subprocess.Popen, sig: int) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=20)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone, or not ours
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def _pids_where(variable: str, value: str) -> list[int]:
    """Processes whose environment has ``variable=value`` (the test's own, by construction)."""
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    return [pid for pid in pids if pid != os.getpid() and _environ(pid).get(variable) == value]


def _kill_groups(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            group = os.getpgid(pid)
            if group != os.getpgrp():  # never the test's own group
                os.killpg(group, sig)


@contextlib.contextmanager
def prefect_stack(
    tmp: Path, landing: Path, warehouse: Path, block: str, automations: Path | None = None
) -> Iterator[Stack]:
    """Start the stack in ``tmp`` (alerts through ``block``, '<type-slug>/<name>'; with
    ``automations``, that file applied), yield it, stop it."""
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "JKN_"))} | {
        # also the mark of every process this stack starts (found again at the end)
        "PREFECT_HOME": str(tmp / "prefect-home"),
        "PREFECT_API_URL": api,
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        # as runbook.env sets them: `--watch` shows the runs' log lines
        "PREFECT_SERVER_LOGS_STREAM_OUT_ENABLED": "true",
        "PREFECT_SERVER_LOGS_STREAM_PUBLISHING_ENABLED": "true",
        "PREFECT_LOGGING_LEVEL": "INFO",
        "JKN_HOME": str(ROOT),
        "JKN_LANDING": str(landing),
        "JKN_WAREHOUSE": str(warehouse),
        "JKN_ALERT_BLOCK": block,
    }
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    logs = tmp / "logs"
    logs.mkdir()
    stack = Stack(env=env, landing=landing, warehouse=warehouse, receiver=receiver, logs=logs)
    try:
        server = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=(logs / "server.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stack.processes.append(server)
        _wait_healthy(api, server)
        stack.cli("prefect", "work-pool", "create", "jkn-process", "--type", "process")
        stack.cli("jkn", "alerts", "webhook", receiver.url, "--name", block.split("/")[1])
        stack.cli("prefect", "--no-prompt", "deploy", "--all")
        if automations is not None:
            stack.cli("jkn", "automations", "apply", "--block", block, "--file", str(automations))
        worker = subprocess.Popen(
            [str(BIN / "prefect"), "worker", "start", "--pool", "jkn-process"],
            env=env,
            cwd=ROOT,
            stdout=(logs / "worker.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stack.processes.append(worker)
        yield stack
    finally:
        for process in reversed(stack.processes):
            _stop(process, signal.SIGINT)  # as Ctrl-C would (the worker stops on SIGTERM too)
        # flow runs live in their own sessions (Prefect isolates them from the worker's group)
        _kill_groups(_pids_where("PREFECT_HOME", env["PREFECT_HOME"]), signal.SIGKILL)
        receiver.shutdown()
        (logs / "received.json").write_text(json.dumps(receiver.received, indent=1), "utf-8")
