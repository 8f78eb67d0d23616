"""Production orchestration end to end, with real parts only.

A `prefect server` on loopback (SQLite), the `jkn-process` work pool, the deployments of
prefect.yaml deployed with `prefect --no-prompt deploy --all`, a worker, a webhook receiver on
127.0.0.1 and a notification block pointing at it. Runs are triggered through the server
like a scheduler would; the test reads the published marts and what the receiver got. Every
process the test starts is stopped at the end.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from jkn.generate import GenerateOptions, generate
from tests.conftest import read_table
from tests.prefect_stack import BIN, ROOT, Stack, prefect_stack

pytestmark = pytest.mark.slow

REGION = "16.08"
GOOD, BROKEN = "2025-05", "2025-06"
REDELIVERED = "2025-04"  # delivered, published, then delivered again with other bytes
CSV = dict.fromkeys(("dukcapil", "dinsos_pbi", "bpjs_membership"), "csv")


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

    with prefect_stack(tmp, landing, warehouse, "custom-webhook/jkn-test") as stack:
        yield stack


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
