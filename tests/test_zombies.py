"""A run whose worker dies is marked Crashed and alerted, with real parts only.

Prefect's remedy for "zombie" runs ("How to detect and respond to zombie flows"): every flow
run sends a heartbeat event (``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``, set for both deployments
in prefect.yaml), and a proactive automation (automations.yaml, applied with ``jkn automations
apply``) marks a run Crashed when its heartbeats stop; a second automation alerts on Crashed
and Failed runs through the project's notification block.

Its own stack (killing the worker would disturb the other orchestration tests): a ``prefect
server`` on loopback (SQLite), the work pool, ``prefect --no-prompt deploy --all``, a webhook
receiver and notification block, the automations, a worker. A monthly refresh paused at a fail
point is caught running, then the worker and the run's processes are SIGKILLed together, as a
reboot would; the run must end Crashed and the receiver get a message naming it. The heartbeat
is Prefect's minimum (30 s, as in production); the automation's window is shortened from 120 s
to 40 s for the test, the least that stays above one heartbeat interval.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
import yaml

from tests.prefect_stack import BIN, ROOT, Stack, _environ, _kill_groups, _pids_where, prefect_stack

pytestmark = pytest.mark.slow

BLOCK = "custom-webhook/jkn-zombie"
HEARTBEAT = "30"  # prefect.yaml; Prefect's minimum (settings: flows.heartbeat_frequency ge=30)
PRODUCTION_WINDOW = 120  # automations.yaml
TEST_WINDOW = 40  # one 30 s heartbeat interval plus a margin for a busy machine
EMPTY_MONTH = "2024-01"  # no landing files: the run fails at once
PAUSED_MONTH = "2024-02"
CRASH_AUTOMATION = "jkn-uhc: crash runs without heartbeats"
ALERT_AUTOMATION = "jkn-uhc: alert on crashed or failed runs"

T = TypeVar("T")


def _api(stack: Stack, method: str, path: str, body: Any = None) -> Any:
    """One call to the server's REST API. A busy SQLite server answers 503 now and then
    (Prefect's own client retries those); so does this, five times at most."""
    for attempt in range(5):
        request = urllib.request.Request(
            stack.env["PREFECT_API_URL"] + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            if error.code not in (502, 503, 504) or attempt == 4:
                raise
        time.sleep(1 + attempt)
    raise AssertionError("unreachable")


def _wait_for(what: str, probe: Callable[[], T | None], timeout: float, every: float = 0.5) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(every)
    raise TimeoutError(f"no {what} within {timeout:.0f} s")


def _start_run(stack: Stack, parameters: dict, env: dict[str, str] | None = None) -> dict:
    deployment = _api(stack, "GET", "/deployments/name/monthly-refresh/monthly-refresh")
    # the deployment's settings, with the alert block named whatever prefect.yaml says of it
    params = dict(deployment["parameters"]["params"], alert_block=BLOCK)
    body: dict[str, Any] = {"parameters": {**parameters, "params": params}}
    if env:
        body["job_variables"] = {"env": env}  # merged into the deployment's env by the worker
    return _api(stack, "POST", f"/deployments/{deployment['id']}/create_flow_run", body)


def _state(stack: Stack, run_id: str) -> dict:
    return _api(stack, "GET", f"/flow_runs/{run_id}")["state"] or {}


def _messages(stack: Stack, prefix: str, run_name: str) -> list[dict]:
    return [
        m
        for m in list(stack.receiver.received)
        if m.get("subject", "").startswith(prefix) and run_name in m["subject"]
    ]


def _one_message(messages: list[dict]) -> dict:
    """The server's message about a run. The server may send an automation's action twice
    (seen once here: SQLite server, automations re-applied just before; the cause is Prefect's,
    not proven): a copy may arrive twice, never two different messages."""
    assert messages, "no message"
    assert all(m == messages[0] for m in messages), messages
    assert len(messages) <= 2, messages
    return messages[0]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("zombies")
    landing, warehouse = tmp / "landing", tmp / "jkn.duckdb"
    landing.mkdir()
    # the production automations, with the test's window
    automations = yaml.safe_load((ROOT / "automations.yaml").read_text(encoding="utf-8"))
    crash = next(a for a in automations["automations"] if a["name"] == CRASH_AUTOMATION)
    assert crash["trigger"]["within"] == PRODUCTION_WINDOW
    crash["trigger"]["within"] = TEST_WINDOW
    (tmp / "automations.yaml").write_text(yaml.safe_dump(automations), encoding="utf-8")
    with prefect_stack(tmp, landing, warehouse, BLOCK, tmp / "automations.yaml") as stack:
        yield stack


@pytest.fixture(scope="module")
def failed_run(stack: Stack) -> dict:
    """A run of a month without landing files: it fails, and the automation alerts."""
    run = _start_run(stack, {"period": EMPTY_MONTH})
    state = _wait_for(
        "end of the failing run",
        lambda: (
            (s := _state(stack, run["id"])).get("type") in ("FAILED", "CRASHED", "COMPLETED") and s
        ),
        timeout=90,
    )
    ended = time.monotonic()
    alert = _wait_for(
        "automation message for the failed run",
        lambda: _messages(stack, "[jkn-uhc] RUN FAILED", run["name"]),
        timeout=30,
        every=0.2,
    )
    print(f"\nfailed run: message {time.monotonic() - ended:.1f} s after the state was seen")
    return {"run": run, "state": state, "alerts": alert}


@pytest.fixture(scope="module")
def crashed_run(stack: Stack, failed_run: dict) -> dict:
    """A refresh paused at its start, whose worker and processes are then SIGKILLed."""
    run = _start_run(stack, {"period": PAUSED_MONTH}, env={"JKN_PAUSEPOINT": "refresh=600"})
    started = _wait_for(
        "start of the paused run",
        lambda: (
            s
            if (s := _state(stack, run["id"])).get("type") not in (None, "SCHEDULED", "PENDING")
            else None
        ),
        timeout=90,
    )
    assert started["type"] == "RUNNING", started  # paused at the fail point, not ended
    resource = f"prefect.flow-run.{run['id']}"

    def heartbeats() -> list[dict]:
        page = _api(
            stack,
            "POST",
            "/events/filter",
            {
                "filter": {
                    "event": {"name": ["prefect.flow-run.heartbeat"]},
                    "resource": {"id": [resource]},
                },
                "limit": 50,
            },
        )
        return page["events"]

    beats = _wait_for("heartbeat event on the server", heartbeats, timeout=30)
    flow_pids = _pids_where("PREFECT__FLOW_RUN_ID", run["id"])
    assert flow_pids, "no process of the flow run found"
    frequencies = {_environ(pid).get("PREFECT_FLOWS_HEARTBEAT_FREQUENCY") for pid in flow_pids}
    worker = stack.processes[-1]
    # a reboot: nothing of the worker or the run may say goodbye. Freeze all, then kill all.
    groups = [worker.pid, *flow_pids]
    _kill_groups(groups, signal.SIGSTOP)
    _kill_groups(groups, signal.SIGKILL)
    killed = time.monotonic()
    killed_wall = time.time()
    worker.wait(timeout=10)
    _wait_for(
        "flow run processes gone", lambda: not _pids_where("PREFECT__FLOW_RUN_ID", run["id"]), 10
    )
    state = _wait_for(
        "CRASHED state",
        lambda: (s := _state(stack, run["id"])).get("type") not in ("RUNNING", None) and s,
        timeout=TEST_WINDOW + 40,
    )
    crashed_after = time.monotonic() - killed
    alert = _wait_for(
        "automation message for the crashed run",
        lambda: _messages(stack, "[jkn-uhc] RUN CRASHED", run["name"]),
        timeout=30,
        every=0.2,
    )
    alerted_after = time.monotonic() - killed
    last_beat = max(beats, key=lambda e: e["occurred"])["occurred"]
    timing = {
        "kill_to_crashed_s": round(crashed_after, 1),
        "kill_to_webhook_s": round(alerted_after, 1),
        "killed_at": killed_wall,
        "last_heartbeat_seen_before_kill": last_beat,
        "heartbeats_before_kill": len(beats),
        "window_s": TEST_WINDOW,
    }
    print(f"\nzombie timing: {json.dumps(timing)}")
    (stack.logs / "timing.json").write_text(json.dumps(timing), encoding="utf-8")
    return {
        "run": run,
        "state": state,
        "alerts": alert,
        "frequencies": frequencies,
        "timing": timing,
    }


def test_both_deployments_send_heartbeats_every_30_s(stack: Stack) -> None:
    for name in ("monthly-refresh/monthly-refresh", "backfill/backfill"):
        deployment = _api(stack, "GET", f"/deployments/name/{name}")
        assert deployment["job_variables"]["env"]["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == HEARTBEAT
        assert "jkn" in deployment["tags"]  # what the automations match on


def test_applying_the_automations_again_replaces_them(stack: Stack) -> None:
    before = {a["name"]: a["id"] for a in _api(stack, "POST", "/automations/filter", {})}
    try:
        # the production file, applied twice: same names, same ids, no duplicates
        first = stack.cli("jkn", "automations", "apply", "--block", BLOCK)
        again = stack.cli("jkn", "automations", "apply", "--block", BLOCK)
        assert "replaced" in first.stdout and "created" not in again.stdout
        automations = _api(stack, "POST", "/automations/filter", {})
        assert {a["name"]: a["id"] for a in automations} == before
        assert sorted(before) == sorted([CRASH_AUTOMATION, ALERT_AUTOMATION])
        crash = next(a for a in automations if a["name"] == CRASH_AUTOMATION)
        assert crash["trigger"]["within"] == PRODUCTION_WINDOW
        block = _api(
            stack, "GET", "/block_types/slug/custom-webhook/block_documents/name/jkn-zombie"
        )
        alert = next(a for a in automations if a["name"] == ALERT_AUTOMATION)
        assert alert["actions"][0]["block_document_id"] == block["id"]
    finally:
        # back to the test's window for the runs below
        test_file = stack.logs.parent / "automations.yaml"
        stack.cli("jkn", "automations", "apply", "--block", BLOCK, "--file", str(test_file))


@pytest.mark.parametrize(
    ("block", "says"),
    [
        ("custom-webhook/no-such-block", "no block custom-webhook/no-such-block"),
        ("jkn-alerts", "is not a notification block reference"),
    ],
)
def test_a_wrong_block_is_refused_plainly(stack: Stack, block: str, says: str) -> None:
    done = subprocess.run(
        [str(BIN / "jkn"), "automations", "apply", "--block", block],
        env=stack.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert says in " ".join(output.split())
    assert "Traceback" not in output


def test_a_failed_run_is_alerted_by_the_automation_too(stack: Stack, failed_run: dict) -> None:
    assert failed_run["state"]["type"] == "FAILED", failed_run["state"]
    message = _one_message(failed_run["alerts"])
    name = failed_run["run"]["name"]
    assert message["subject"] == f"[jkn-uhc] RUN FAILED: monthly-refresh flow run {name}"
    body = message["body"]
    assert f"Flow run {name} of deployment monthly-refresh/monthly-refresh is Failed." in body
    assert f"prefect flow-run logs {failed_run['run']['id']}" in body
    assert "What to do:" in body
    # the flow's own alerts are still there, told apart by their subject
    own = [m for m in stack.receiver.received if m["subject"].startswith("[jkn-uhc] ERROR")]
    assert own and all(EMPTY_MONTH in m["subject"] for m in own)


def test_a_run_whose_worker_is_killed_becomes_crashed_and_is_alerted(crashed_run: dict) -> None:
    assert crashed_run["frequencies"] == {HEARTBEAT}  # from prefect.yaml, in the run's process
    state = crashed_run["state"]
    assert state["type"] == "CRASHED", state
    # set by the heartbeat automation (the worker, killed too, could not report anything)
    assert state["message"].startswith(f'Marked Crashed by the automation "{CRASH_AUTOMATION}"')
    message = _one_message(crashed_run["alerts"])
    name = crashed_run["run"]["name"]
    assert message["subject"] == f"[jkn-uhc] RUN CRASHED: monthly-refresh flow run {name}"
    assert "of deployment monthly-refresh/monthly-refresh is Crashed." in message["body"]
    assert "prefect worker start --pool jkn-process" in message["body"]
    # no later than the window after the last heartbeat, plus Prefect's 5 s evaluation tick
    assert crashed_run["timing"]["kill_to_crashed_s"] <= TEST_WINDOW + 15
