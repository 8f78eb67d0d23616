"""Tasks that resolve persons, build a period's marts and lists, and publish the marts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from prefect import task

from jkn.resolve import resolve_persons
from jkn.settings import restricted_path
from jkn.timeline import stage
from jkn.version import code_fingerprint, inputs_fingerprint
from tasks import run_logger
from warehouse import RESTRICTED_LAYERS, connect, period_date, replace_slice
from warehouse.build import BuiltPeriod, build_period, load_reference, store_lists
from warehouse.publish import publish_period


def population_snapshot(con, period: str) -> str:  # type: ignore[no-untyped-def]
    """Which Dukcapil extract the denominators come from: period, file and checksum."""
    row = con.execute(
        "select file_name, sha256, received_at from audit.files "
        "where period = $period and source = 'dukcapil'",
        {"period": period_date(period)},
    ).fetchall()
    if not row:
        return f"Dukcapil extract {period} (unknown file)"
    name, sha, received = row[0]
    return f"Dukcapil extract {period}: {name}, sha256 {sha[:12]}, received {received:%Y-%m-%d}"


@task(name="build_marts")
def build_marts(period: str, warehouse: Path) -> BuiltPeriod:
    """Resolve rows to persons, build the period's marts and lists; store the lists."""
    logger = run_logger()
    day = period_date(period)
    with connect(restricted_path(warehouse), RESTRICTED_LAYERS, private=True) as con:
        load_reference(con)
        con.execute("begin transaction")
        methods = resolve_persons(con, day)
        with stage("marts"):
            built = build_period(con, day, population_snapshot(con, period))
            store_lists(con, built)
            con.execute("commit")
    logger.info(
        "%s: rows resolved by %s; marts %s; lists %s",
        period,
        ", ".join(f"{m} {n:,}" for m, n in methods.items()),
        ", ".join(f"{k} {v.height:,}" for k, v in built.marts.items()),
        ", ".join(f"{k} {n:,}" for k, n in built.list_rows.items()),
    )
    return built


@task(name="publish_marts")
def publish(built: BuiltPeriod, warehouse: Path) -> None:
    """Replace the period in every mart: the next warehouse file is built beside the current
    one and renamed over it (readers are never blocked, never see half a period)."""
    with stage("publish"):
        publish_period(warehouse, built.period, built.marts)


@task(name="record_published_run")
def record_run(period: str, files: dict[str, str], warehouse: Path, run: str) -> str:
    """Note in ``audit.runs`` which inputs (source → file SHA-256) and code the published
    period was built from; the backfill compares against it."""
    code = code_fingerprint()
    fingerprint = inputs_fingerprint(code, files)
    row = pl.DataFrame(
        [
            {
                "period": period_date(period),
                "fingerprint": fingerprint,
                "code_version": code,
                "sources": [f"{k}={v}" for k, v in sorted(files.items())],
                "flow_run": run,
                "published_at": dt.datetime.now(dt.UTC),
            }
        ]
    )
    with connect(restricted_path(warehouse), RESTRICTED_LAYERS, private=True) as con:
        con.execute("begin transaction")
        replace_slice(con, "audit.runs", row, {"period": period_date(period)})
        con.execute("commit")
    return fingerprint
