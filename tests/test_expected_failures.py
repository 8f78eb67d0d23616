"""Expected failures end in a plain message and a non-zero exit, never a traceback.

Each command runs as a user runs it, in its own process (`.venv/bin/jkn …`), and the test
reads what reached the terminal. Tracebacks are for bugs; a refused file, a bad period, a
refresh already running or a misconfigured alert block are not bugs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import NoReturn, cast

import pytest

from jkn.alerts import AlertsMisconfigured, check_reference
from jkn.generate import GenerateOptions, generate

ROOT = Path(__file__).resolve().parent.parent
JKN = Path(sys.executable).parent / "jkn"
PERIOD = "2025-05"


def jkn(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    # as a user's shell has it: no server, no JKN_* settings, and Prefect's own log level (the
    # session's test harness quiets it to WARNING, which would hide the run's final state)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_API", "JKN_")) and k != "PREFECT_LOGGING_LEVEL"
    }
    env["PREFECT_HOME"] = str(cwd / "prefect-home")
    return subprocess.run(
        [str(JKN), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def assert_plain_failure(done: subprocess.CompletedProcess, code: int, *says: str) -> str:
    out = done.stdout + done.stderr
    assert done.returncode == code, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    assert "Encountered exception" not in out, out[-3000:]
    flat = " ".join(out.split())  # the terminal wraps long lines
    for text in says:
        assert text in flat, out[-3000:]
    return flat


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (
            ["backfill", "--start", "2025-05", "--end", "2025-04"],
            2,
            ["start 2025-05 is after end 2025-04: give the older month first"],
        ),
        (["backfill", "--start", "2025-5", "--end", "2025-06"], 2, ["YYYY-MM", "'2025-5'"]),
        (
            ["lists", "export", "outreach", "--period", "2025-13", "--out", "o.csv"],
            2,
            ["period must be a month written YYYY-MM", "'2025-13'"],
        ),
        (
            ["lists", "export", "nothing", "--period", "2025-05", "--out", "o.csv"],
            2,
            ["unknown list 'nothing'"],
        ),
        (["run", "--period", "2099-01"], 2, ["Invalid parameters", "is in the future"]),
        (["alerts", "webhook", "not-a-url"], 2, ["'not-a-url' is not a web address"]),
        (
            ["alerts", "webhook", "https://alerts.example.go.id/jkn"],
            2,
            ["PREFECT_API_URL is not set"],
        ),
        (
            ["alerts", "test", "--block", "jkn-alerts"],
            2,
            ["did you mean custom-webhook/jkn-alerts?", "'<block-type-slug>/<block-name>'"],
        ),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, list) else None,
)
def test_a_refused_command_says_why_without_a_traceback(
    args: list[str], code: int, says: list[str], tmp_path: Path
) -> None:
    assert_plain_failure(jkn(*args, cwd=tmp_path), code, *says)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("expected-failures") / "landing"
    generate(GenerateOptions(regions=["16.08"], period=PERIOD, persons=1500), root)
    return root


@pytest.mark.slow
def test_a_refused_file_prints_the_table_and_the_file_as_delivered(
    landing: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "landing"
    (broken / PERIOD).mkdir(parents=True)
    for path in (landing / PERIOD).iterdir():
        if not path.name.startswith("dukcapil"):
            (broken / PERIOD / path.name).write_bytes(path.read_bytes())
    # the header is there; a required column is not
    (broken / PERIOD / "dukcapil.csv").write_text(
        "NIK;NAMA_LGKP\n3201010101900001;SITI\n", encoding="utf-8"
    )
    done = jkn(
        "run", "--period", PERIOD, "--landing", str(broken), "--warehouse", "w/jkn.duckdb",
        cwd=tmp_path,
    )  # fmt: skip
    out = assert_plain_failure(done, 1, "Data quality, 2025-05", "FAILED", "dukcapil.csv")
    assert "Finished in state Failed(" in out
    assert "2025-05 not published: 1 error(s)" in out
    assert "required_columns_present" in out or "required column" in out
    assert ".csv, line 1" in out
    # the message names the file as delivered, never the landing store's copy
    assert "dukcapil.csv" in out and not any(
        part.startswith("dukcapil.") and part.count(".") >= 2 and len(part) > 24
        for part in out.split()
    )


@pytest.mark.slow
def test_a_run_refused_by_the_refresh_lock_says_who_holds_it(landing: Path, tmp_path: Path) -> None:
    from jkn.lock import refresh_lock

    warehouse = tmp_path / "w" / "jkn.duckdb"
    with refresh_lock(warehouse, "a refresh started by the test"):
        done = jkn(
            "run", "--period", PERIOD, "--landing", str(landing), "--warehouse", str(warehouse),
            cwd=tmp_path,
        )  # fmt: skip
    assert_plain_failure(
        done, 1, "another refresh is running (a refresh started by the test", "pid"
    )
    assert not warehouse.exists()


@pytest.mark.parametrize(
    ("reference", "says"),
    [
        ("jkn-alerts", "did you mean custom-webhook/jkn-alerts?"),
        ("Custom-Webhook/JKN", "lowercase letters, digits and dashes"),
        ("custom-webhook/", "'<block-type-slug>/<block-name>'"),
        ("{{ $JKN_ALERT_BLOCK }}", "JKN_ALERT_BLOCK was not set when the deployment was deployed"),
    ],
)
def test_a_block_reference_names_its_type_and_its_name(reference: str, says: str) -> None:
    with pytest.raises(AlertsMisconfigured) as refused:
        check_reference(reference)
    assert says in str(refused.value)
    assert check_reference("slack-webhook/jkn-alerts-2") == "slack-webhook/jkn-alerts-2"


def test_only_transport_failures_are_retried() -> None:
    import json

    import aiohttp

    from tasks.ingest import is_transport_error

    transport = [
        ConnectionResetError(),
        ConnectionRefusedError(),
        TimeoutError(),
        aiohttp.ClientPayloadError("dropped"),
    ]
    other = [
        PermissionError("landing file"),
        json.JSONDecodeError("manifest", "{", 0),
        ValueError(),
        OSError(28, "No space left on device"),
    ]
    assert [is_transport_error(e) for e in transport] == [True] * len(transport)
    assert [is_transport_error(e) for e in other] == [False] * len(other)


def test_a_notifier_that_cannot_send_is_reported_not_counted_as_delivered() -> None:
    import socket

    from prefect.blocks.notifications import SlackWebhook
    from pydantic import SecretStr

    from jkn.alerts import Alert, Notifier, deliver

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    notifier = SlackWebhook(url=SecretStr(f"http://127.0.0.1:{closed}/services/T000/B000/XXXX"))
    alert = Alert(severity="error", period="2025-05", check="c", summary="s")
    # its notify is declared async but sends synchronously from sync code (see Notifier)
    reason = deliver([alert], "run-1", cast(Notifier, notifier))
    assert reason is not None and "SlackWebhook" in reason


def test_a_bug_while_reading_the_sources_is_still_alerted(
    monkeypatch: pytest.MonkeyPatch, landing: Path, tmp_path: Path
) -> None:
    import flows.monthly_refresh as refresh

    sent: list = []
    monkeypatch.setattr(refresh, "send_alert", lambda alerts, run, block: sent.extend(alerts))

    def broken(params: refresh.RefreshParameters, period: str, source: str) -> NoReturn:
        raise RuntimeError("a bug in a reader")

    monkeypatch.setattr(refresh, "_pull_validate_stage", broken)
    params = refresh.RefreshParameters(
        period=PERIOD, landing=str(landing), warehouse=tmp_path / "jkn.duckdb"
    )
    with pytest.raises(RuntimeError, match="a bug in a reader"):
        refresh.monthly_refresh(params)
    (alert,) = sent
    assert alert.check == "unexpected_failure" and alert.severity == "error"
    assert alert.summary == (
        "RuntimeError while reading the sources; nothing of the period was published"
    )
