"""Serving BI safely and surviving faults, with real processes and files.

- A reader process queries the published marts in a loop throughout refreshes: no error, and
  every answer consistent (each region's bridge adds up to its registered cards).
- The published file opens in a DuckDB 1.x client and through SQLAlchemy (duckdb-engine).
- kill -9 at several steps of a refresh leaves the previous marts; the next run's marts equal
  an uninterrupted run's. Two refreshes of one warehouse: the second refuses, naming the first.
- A landing server answering 503 then 200 is retried, then loaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

import duckdb
import pytest

from jkn.generate import GenerateOptions, generate
from jkn.lock import RefreshRunning, refresh_lock
from tests.conftest import refresh

pytestmark = pytest.mark.slow

REGIONS = ["16.08", "16.09"]
FIRST, SECOND = "2025-04", "2025-05"
BIN = Path(sys.executable).parent

READER = r"""
import json, sys, time, duckdb
from pathlib import Path
warehouse, stop, out, mode = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
CHECK = '''
select c.period, c.region_code, c.registered, coalesce(sum(b."rows"), 0) as bridge
from marts.coverage as c
left join marts.coverage_bridge as b using (period, region_code, region_level)
group by all
'''
queries, errors, inconsistent, periods = 0, [], 0, set()
# "persistent": one connection held open throughout (a dashboard); "fresh": a connection per
# query (DuckDB caches one database per path and process, so only a process that closes all
# its connections opens the file anew and sees a newly published period)
held = duckdb.connect(str(warehouse), read_only=True) if mode == "persistent" else None
while not stop.exists():
    try:
        con = held or duckdb.connect(str(warehouse), read_only=True)
        rows = con.execute(CHECK).fetchall()
        if held is None:
            con.close()
        queries += 1
        inconsistent += sum(1 for _, _, registered, bridge in rows if registered != bridge)
        periods |= {str(p) for p, *_ in rows}
    except Exception as error:
        errors.append(f"{type(error).__name__}: {error}"[:300])
    time.sleep(0.02)
out.write_text(json.dumps({"queries": queries, "errors": errors,
                           "inconsistent": inconsistent, "periods": sorted(periods)}))
"""


# columns that say when, and by which run, a period was published or its files received
# (marts.published, marts.published_files): they differ between two runs of the same data
RUN_STAMPS = ("published_at", "received_at", "flow_run")


def _marts_digest(warehouse: Path) -> dict[str, str]:
    """A checksum of every mart's rows (sorted, less the run's stamps), to compare two
    warehouses."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        out = {}
        for table in sorted(tables):
            stamps = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'marts' and table_name = $t",
                    {"t": table},
                ).fetchall()
                if c in RUN_STAMPS
            ]
            exclude = f" exclude ({', '.join(stamps)})" if stamps else ""
            rows = con.execute(f"select *{exclude} from marts.{table}").fetchall()
            text = "\n".join(sorted(repr(r) for r in rows))
            out[table] = hashlib.sha256(text.encode()).hexdigest()
        return out


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reliability") / "landing"
    for period in (FIRST, SECOND):
        generate(GenerateOptions(regions=REGIONS, period=period, persons=2500), root)
    return root


@pytest.fixture(scope="module")
def reference(
    prefect_harness: None, landing: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """An uninterrupted run of both months: what every recovered warehouse must equal."""
    warehouse = tmp_path_factory.mktemp("reference") / "jkn.duckdb"
    refresh(landing, FIRST, warehouse)
    refresh(landing, SECOND, warehouse)
    return warehouse


def test_readers_are_never_blocked_and_never_see_half_a_period(
    prefect_harness: None,
    landing: Path,
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "jkn.duckdb"
    refresh(landing, FIRST, warehouse)
    stop = tmp_path / "stop"
    readers = {
        mode: subprocess.Popen(
            [sys.executable, "-c", READER, str(warehouse), str(stop), str(tmp_path / mode), mode]
        )
        for mode in ("persistent", "fresh")
    }
    try:
        time.sleep(1.0)
        refresh(landing, SECOND, warehouse)  # a new period
        refresh(landing, FIRST, warehouse)  # and the first one again
        time.sleep(1.0)
    finally:
        stop.touch()
        for reader in readers.values():
            reader.wait(timeout=60)
    seen = {mode: json.loads((tmp_path / mode).read_text()) for mode in readers}
    for mode, answers in seen.items():
        assert answers["errors"] == [], mode
        assert answers["inconsistent"] == 0, mode
        assert answers["queries"] > 50, mode
    # the dashboard holding its connection keeps its snapshot; one that reconnects sees both
    assert seen["persistent"]["periods"] == [f"{FIRST}-01"]
    assert seen["fresh"]["periods"] == [f"{FIRST}-01", f"{SECOND}-01"]


def test_the_marts_open_in_a_duckdb_1x_client(reference: Path, tmp_path: Path) -> None:
    uv = BIN / "uv"
    venv = tmp_path / "duckdb1"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    subprocess.run(
        [str(uv), "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env
    )
    subprocess.run(
        [
            str(uv),
            "pip",
            "install",
            "-q",
            "--python",
            str(venv / "bin" / "python"),
            "duckdb==1.1.3",
        ],
        check=True,
        env=env,
    )
    script = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        "n = con.execute('select count(*) from marts.coverage').fetchall()[0][0]; "
        "print(duckdb.__version__, n)"
    )
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script, str(reference)],
        capture_output=True,
        text=True,
        check=True,
    )
    version, rows = done.stdout.split()
    assert version == "1.1.3"
    with duckdb.connect(str(reference), read_only=True) as con:
        assert int(rows) == con.execute("select count(*) from marts.coverage").fetchall()[0][0]


def test_the_marts_open_through_sqlalchemy_and_duckdb_engine(reference: Path) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(
        f"duckdb:///{reference}", connect_args={"read_only": True}, poolclass=sa.pool.NullPool
    )
    with engine.connect() as con:
        tables = sa.inspect(con).get_table_names(schema="marts")
        assert {"coverage", "coverage_bridge", "uhc_status", "data_quality"} <= set(tables)
        rows = con.execute(
            sa.text(
                "select region_code, population from marts.coverage "
                "where period = :p and region_level = 'kabupaten' order by region_code"
            ),
            {"p": f"{SECOND}-01"},
        ).fetchall()
    assert [code for code, _ in rows] == REGIONS
    assert all(population > 0 for _, population in rows)


@pytest.mark.parametrize("point", ["staged:dinsos_pbi", "built", "before_swap", "published"])
def test_a_crash_leaves_the_last_good_marts_and_the_next_run_recovers(
    prefect_harness: None,
    landing: Path,
    reference: Path,
    tmp_path: Path,
    point: str,
) -> None:
    from prefect.settings import PREFECT_API_URL

    warehouse = tmp_path / "jkn.duckdb"
    refresh(landing, FIRST, warehouse)
    before = _marts_digest(warehouse)
    env = os.environ | {"PREFECT_API_URL": str(PREFECT_API_URL.value()), "JKN_FAILPOINT": point}
    command = [str(BIN / "jkn"), "run", "--period", SECOND, "--landing", str(landing),
               "--warehouse", str(warehouse)]  # fmt: skip
    crashed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    if point == "published":
        # killed after the rename: the new period is whole, the run's bookkeeping not written
        assert _marts_digest(warehouse) != before
    else:
        assert _marts_digest(warehouse) == before
    # the lock died with the process; the next run goes through and ends where an
    # uninterrupted run does
    refresh(landing, SECOND, warehouse)
    assert _marts_digest(warehouse) == _marts_digest(reference)


def test_a_second_refresh_of_the_same_warehouse_refuses(
    prefect_harness: None,
    landing: Path,
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "jkn.duckdb"
    with (
        refresh_lock(warehouse, "a refresh started by the test"),
        pytest.raises(
            RefreshRunning, match=r"another refresh is running \(a refresh started by the test"
        ),
    ):
        refresh(landing, FIRST, warehouse)
    assert not warehouse.exists()


def test_a_landing_server_answering_503_is_retried_then_loaded(
    prefect_harness: None,
    landing: Path,
    tmp_path: Path,
) -> None:
    failures = {"left": 1}

    class Flaky(SimpleHTTPRequestHandler):
        """Serves the landing folder; the first request for Dukcapil's file gets a 503."""

        def send_head(self) -> io.BytesIO | BinaryIO | None:
            if "dukcapil" in self.path and failures["left"]:
                failures["left"] -= 1
                self.send_error(503)
                return None
            return super().send_head()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Flaky, directory=str(landing)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        summary = refresh(url, FIRST, tmp_path / "jkn.duckdb")
    finally:
        server.shutdown()
    assert failures["left"] == 0  # the 503 was served
    assert summary.published
    assert {s.source: s.outcome for s in summary.sources} == {
        "dukcapil": "loaded",
        "dinsos_pbi": "loaded",
        "bpjs_membership": "loaded",
    }


def test_an_unreadable_source_publishes_nothing_and_keeps_the_others_staged(
    prefect_harness: None,
    landing: Path,
    tmp_path: Path,
) -> None:
    from flows.monthly_refresh import SourcesFailed

    copy = tmp_path / "landing"
    shutil.copytree(landing, copy)
    warehouse = tmp_path / "jkn.duckdb"
    refresh(copy, FIRST, warehouse)
    before = _marts_digest(warehouse)
    bpjs = next((copy / SECOND).glob("bpjs_membership.*"))
    bpjs.write_bytes(b"\x1f\x8b\x08\x00not really a gzip")
    with pytest.raises(SourcesFailed) as failed:
        refresh(copy, SECOND, warehouse)
    outcomes = {s.source: s.outcome for s in failed.value.summary.sources}
    assert outcomes == {"dukcapil": "loaded", "dinsos_pbi": "loaded", "bpjs_membership": "failed"}
    assert _marts_digest(warehouse) == before
