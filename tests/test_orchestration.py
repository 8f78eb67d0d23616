"""Production orchestration end to end, with real parts only.

A `prefect server` on loopback (SQLite), the `jkn-process` work pool, the deployments of
prefect.yaml deployed with `prefect --no-prompt deploy --all`, a worker, a webhook receiver on
127.0.0.1 and a notification block pointing at it. Runs are triggered through the server
like a scheduler would; the test reads the published marts and what the receiver got. Every
process the test starts is stopped at the end.
"""

from __future__ import annotations

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

import pytest
from conftest import read_table

from jkn.generate import GenerateOptions, generate

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REGION = "16.08"
GOOD, BROKEN = "2025-05", "2025-06"
REDELIVERED = "2025-04"  # delivered, published, then delivered again with other bytes
CSV = dict.fromkeys(("dukcapil", "dinsos_pbi", "bpjs_membership"), "csv")


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


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("orchestration")
    landing, warehouse = tmp / "landing", tmp / "jkn.duckdb"
    for period in (GOOD, BROKEN):
        generate(GenerateOptions(regions=[REGION], period=period, persons=3000), landing)
    generate(
        GenerateOptions(regions=[REGION], period=REDELIVERED, persons=2000, formats=CSV), landing
    )
    # the broken month: Dukcapil delivered something that is not its extract
    broken = next((landing / BROKEN).glob("dukcapil.*"))
    broken.unlink()
    (landing / BROKEN / "dukcapil.csv").write_text("laporan;bulanan\nkosong;\n", encoding="utf-8")

    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "JKN_"))} | {
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
        "JKN_ALERT_BLOCK": "custom-webhook/jkn-test",
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
        stack.cli("prefect", "--no-prompt", "deploy", "--all")
        stack.cli("jkn", "alerts", "webhook", receiver.url, "--name", "jkn-test")
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
            # the worker ignores SIGTERM (STACK.md): SIGINT stops it
            _stop(process, signal.SIGINT)
        receiver.shutdown()


@pytest.fixture(scope="module")
def good_run(stack: Stack) -> dict:
    return stack.run_deployment("monthly-refresh/monthly-refresh", {"period": GOOD})


@pytest.fixture(scope="module")
def broken_run(stack: Stack, good_run: dict) -> dict:
    return stack.run_deployment("monthly-refresh/monthly-refresh", {"period": BROKEN})


@pytest.fixture(scope="module")
def locked_run(stack: Stack, good_run: dict) -> dict:
    """A scheduled run while someone refreshes the same warehouse by hand."""
    from jkn.lock import refresh_lock

    with refresh_lock(stack.warehouse, "jkn run by hand in the test"):
        return stack.run_deployment("monthly-refresh/monthly-refresh", {"period": GOOD})


@pytest.fixture(scope="module")
def redelivery_runs(stack: Stack, good_run: dict) -> dict[str, dict]:
    """The runbook's redelivery: published once, redelivered with other bytes (refused), then
    taken with `--param accept_redelivery=true` — `params` of prefect.yaml left as deployed."""
    name = "monthly-refresh/monthly-refresh"
    first = stack.run_deployment(name, {"period": REDELIVERED})
    options = GenerateOptions(
        regions=[REGION], period=REDELIVERED, persons=2000, formats=CSV, seed=7
    )
    generate(options, stack.landing)
    refused = stack.run_deployment(name, {"period": REDELIVERED})
    accepted = stack.run_deployment(name, {"period": REDELIVERED, "accept_redelivery": True})
    return {"first": first, "refused": refused, "accepted": accepted}


def test_deployments_come_from_prefect_yaml(stack: Stack) -> None:
    monthly = stack.cli("prefect", "deployment", "inspect", "monthly-refresh/monthly-refresh")
    assert "0 2 5 * *" in monthly.stdout
    assert "Asia/Jakarta" in monthly.stdout
    assert "jkn-process" in monthly.stdout
    backfill = stack.cli("prefect", "deployment", "inspect", "backfill/backfill")
    assert "'schedules': []" in backfill.stdout  # on demand only


def test_a_scheduled_style_run_publishes_the_right_marts(stack: Stack, good_run: dict) -> None:
    assert good_run["state"] == "COMPLETED", good_run["message"]
    truth = json.loads((stack.landing / "_truth" / GOOD / "summary.json").read_text())
    want = truth["figures"][REGION]
    got = read_table(
        stack.warehouse,
        "select population, registered, active_registered from marts.coverage "
        "where period = $p and region_code = $r",
        p=f"{GOOD}-01",
        r=REGION,
    ).row(0, named=True)
    assert got == {k: want[k] for k in ("population", "registered", "active_registered")}
    bridge = read_table(
        stack.warehouse,
        'select category, "rows" from marts.coverage_bridge where period = $p and region_code = $r',
        p=f"{GOOD}-01",
        r=REGION,
    )
    got_bridge = dict(bridge.iter_rows())
    assert sum(got_bridge.values()) == want["registered"]
    # categories decided by the extract alone (the rest depend on matching, tested elsewhere)
    for category in ("quarantined", "deceased", "moved_out"):
        assert got_bridge[category] == want["bridge"][category]


def test_the_run_leaves_its_artifacts(good_run: dict) -> None:
    key = GOOD.replace("-", "")
    artifacts = good_run["artifacts"]
    quality = json.loads(artifacts[f"data-quality-{key}"])
    assert {row["source"] for row in quality} == {"dukcapil", "dinsos_pbi", "bpjs_membership"}
    assert all(
        row["rows_received"] == row["rows_loaded"] + row["rows_quarantined"] for row in quality
    )
    uhc = json.loads(artifacts[f"uhc-status-{key}"])
    assert any(row["region_code"] == REGION for row in uhc)
    docs = artifacts[f"data-docs-{key}"]
    index = Path(docs.split("`")[1])
    assert index.name == "index.html" and index.is_file()


def test_quarantine_warnings_are_one_short_digest_per_run(good_run: dict) -> None:
    # the good run's only alert: one message, a line per source with rows quarantined
    (digest,) = good_run["messages"]
    assert digest["subject"].startswith(f"[jkn-uhc] {GOOD}: ")
    assert digest["subject"].endswith(" warning(s)")
    lines = [line for line in digest["body"].splitlines() if line.startswith("- ")]
    assert 1 <= len(lines) <= 3
    assert all("rows_quarantined_or_flagged" in line for line in lines)


def test_a_broken_extract_fails_the_run_and_alerts_with_what_to_do(
    stack: Stack, broken_run: dict
) -> None:
    assert broken_run["state"] == "FAILED"
    # the run's state carries the reason (what `prefect flow-run inspect` and the UI show)
    assert broken_run["message"].startswith(f"{BROKEN} not published: 1 error(s)")
    assert "dukcapil" in broken_run["message"]
    errors = [m for m in broken_run["messages"] if "ERROR" in m["subject"]]
    assert len(errors) == 1
    message = errors[0]
    assert message["source"] == "jkn-uhc"
    assert BROKEN in message["subject"] and "dukcapil" in message["subject"]
    body = message["body"]
    # the reader's check names what is wrong with the file (here: no Dukcapil header)
    assert "check required_columns_present" in body or "check header_present" in body
    assert "dukcapil.csv" in body
    assert "where to look" in body
    # the last good marts are untouched: nothing of the broken month was published
    published = read_table(
        stack.warehouse,
        "select count(*) as n from marts.coverage where period = $p",
        p=f"{BROKEN}-01",
    )
    assert published["n"][0] == 0


def test_alerts_logs_artifacts_and_data_docs_carry_no_personal_data(
    stack: Stack, good_run: dict, broken_run: dict
) -> None:
    import polars as pl

    texts = {
        "alerts": json.dumps(stack.receiver.received),
        "artifacts": json.dumps([good_run["artifacts"], broken_run["artifacts"]]),
        **{f"log {p.name}": p.read_text(errors="replace") for p in stack.logs.iterdir()},
        **{
            f"data docs {p.name}": p.read_text(errors="replace")
            for p in stack.warehouse.with_name("jkn.gx").rglob("*.html")
        },
    }
    assert any("Flow run" in text for name, text in texts.items() if name.startswith("log"))
    identities = []
    for period in (GOOD, BROKEN):
        persons = pl.read_parquet(stack.landing / "_truth" / period / "persons.parquet")
        identities += persons["nik"].drop_nulls().to_list()
        identities += [n for n in persons["name"].drop_nulls().to_list() if len(n) > 8]
    for name, text in texts.items():
        leaked = [i for i in set(identities) if i in text]
        assert leaked == [], (
            f"{name}: {len(leaked)} identities, e.g. a value of length {len(leaked[0])}"
        )


def test_a_backfill_skips_months_whose_inputs_and_code_are_unchanged(
    stack: Stack, good_run: dict
) -> None:
    def published_at() -> list:
        return read_table(
            stack.warehouse.with_name("jkn.restricted.duckdb"),
            "select published_at from audit.runs where period = $p",
            p=f"{GOOD}-01",
        )["published_at"].to_list()

    before = published_at()
    run = stack.run_deployment("backfill/backfill", {"start": GOOD, "end": GOOD})
    assert run["state"] == "COMPLETED", run["message"]
    assert len(before) == 1
    assert published_at() == before  # skipped: not published again


def test_a_run_refused_by_the_refresh_lock_fails_and_alerts(locked_run: dict) -> None:
    assert locked_run["state"] == "FAILED"
    assert "another refresh is running (jkn run by hand in the test" in locked_run["message"]
    (alert,) = [m for m in locked_run["messages"] if "ERROR" in m["subject"]]
    assert alert["subject"] == f"[jkn-uhc] ERROR {GOOD} refresh_lock"
    assert "was not refreshed" in alert["body"] and "jkn run by hand" in alert["body"]


def test_a_redelivered_file_is_refused_then_taken_with_accept_redelivery(
    stack: Stack, redelivery_runs: dict[str, dict]
) -> None:
    assert redelivery_runs["first"]["state"] == "COMPLETED", redelivery_runs["first"]["message"]
    refused = redelivery_runs["refused"]
    assert refused["state"] == "FAILED"
    errors = [m for m in refused["messages"] if "ERROR" in m["subject"]]
    assert {m["subject"].split()[-1] for m in errors} == {"file_unchanged"}
    assert all("accept_redelivery=true" in m["body"] for m in errors)
    assert all("landing file -" not in m["body"] for m in errors)
    accepted = redelivery_runs["accepted"]
    assert accepted["state"] == "COMPLETED", accepted["message"]
    truth = json.loads((stack.landing / "_truth" / REDELIVERED / "summary.json").read_text())
    got = read_table(
        stack.warehouse,
        "select population, registered from marts.coverage where period = $p and region_code = $r",
        p=f"{REDELIVERED}-01",
        r=REGION,
    ).row(0, named=True)
    want = truth["figures"][REGION]
    assert got == {"population": want["population"], "registered": want["registered"]}


def test_watch_ends_with_the_reason_and_no_traceback(stack: Stack, broken_run: dict) -> None:
    done = subprocess.run(
        [str(BIN / "prefect"), "deployment", "run", "monthly-refresh/monthly-refresh",
         "--param", f"period={BROKEN}", "--watch", "--watch-timeout", "600"],
        env=stack.env, cwd=ROOT, capture_output=True, text=True, timeout=700,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-2000:]
    assert f"{BROKEN} not published: 1 error(s)" in out
    assert "Flow run finished in state 'Failed'" in out
    assert "Traceback" not in out


def test_no_traceback_reaches_the_worker_log_for_expected_failures(
    stack: Stack,
    broken_run: dict,
    locked_run: dict,
    redelivery_runs: dict[str, dict],
) -> None:
    log = (stack.logs / "worker.log").read_text(errors="replace")
    assert "Finished in state Failed" in log  # the failures did run through this worker
    assert "Traceback" not in log
    assert "Encountered exception" not in log
