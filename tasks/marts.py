"""Tasks that resolve persons, build a period's marts and lists, and publish the marts."""

from __future__ import annotations

import datetime as dt
import os
import socket
from pathlib import Path
from typing import Any

import polars as pl
from prefect import task, unmapped
from pydantic import BaseModel

from jkn.databases import load_reference, open_restricted, publish_marts
from jkn.link import LinkSettings, score_region
from jkn.link import release as release_linkage
from jkn.periods import first_day, last_day, month_after, month_before
from jkn.reference import REGION_LIST
from jkn.resolve import resolve_persons
from jkn.rules import rules_version
from jkn.timeline import stage
from jkn.version import code_fingerprint, inputs_fingerprint
from tasks import run_logger
from warehouse import replace_slice
from warehouse.build import BuiltPeriod, build_period, store_lists


def population_snapshot(con, period: str) -> str:  # type: ignore[no-untyped-def]
    """Which Dukcapil extract the denominators come from: period, file and checksum."""
    row = con.execute(
        "select file_name, sha256, received_at from audit.files "
        "where period = $period and source = 'dukcapil'",
        {"period": first_day(period)},
    ).fetchall()
    if not row:
        return f"Dukcapil extract {period} (unknown file)"
    name, sha, received = row[0]
    return f"Dukcapil extract {period}: {name}, sha256 {sha[:12]}, received {received:%Y-%m-%d}"


def build_versions() -> dict[str, str]:
    """What ``marts.published`` says a period was built with: the logic fingerprint (as
    ``audit.runs``), the rules' checksum and the Kemendagri list's edition."""
    return {
        "code_version": code_fingerprint(),
        "rules_version": rules_version(),
        "region_list": REGION_LIST,
    }


class RegionScored(BaseModel):
    """Where one region's linkage was scored (no row content)."""

    region: str
    file: str
    process: str  # host:pid of the worker that scored it


@task(name="score_region")
def score_region_task(
    folder: str, region: str, settings: LinkSettings, params: dict[str, Any]
) -> RegionScored:
    """Score and decide one region's linkage from its exported slice (see
    :func:`jkn.link.score_region`); runs wherever the flow's task runner puts it."""
    path = score_region(Path(folder), region, settings, params)
    return RegionScored(
        region=region, file=str(path), process=f"{socket.gethostname()}:{os.getpid()}"
    )


class RegionFanOut:
    """Scores the linkage's regions as ``score_region`` tasks on the flow's task runner (a
    :data:`jkn.link.ScoreRegions`); remembers where each ran."""

    def __init__(self) -> None:
        self.scored: list[RegionScored] = []

    def __call__(
        self, folder: Path, regions: list[str], settings: LinkSettings, params: dict[str, Any]
    ) -> list[Path]:
        futures = score_region_task.map(
            unmapped(str(folder)), regions, unmapped(settings), unmapped(params)
        )
        self.scored = [future.result() for future in futures]
        run_logger().info(
            "linkage scored in %d region(s) by %d worker process(es)", *self.counts().values()
        )
        return [Path(s.file) for s in self.scored]

    def counts(self) -> dict[str, int]:
        return {
            "regions": len(self.scored),
            "processes": len({s.process for s in self.scored}),
        }


@task(name="build_marts")
def build_marts(period: str, marts_file: Path, fan_out: bool = False) -> BuiltPeriod:
    """Resolve rows to persons, build the period's marts and lists; store the lists.

    With ``fan_out`` the linkage is scored region by region as ``score_region`` tasks on the
    flow's task runner (:class:`RegionFanOut`)."""
    logger = run_logger()
    day = first_day(period)
    with open_restricted(marts_file) as con:
        load_reference(con)
        con.execute("begin transaction")
        scorer = RegionFanOut() if fan_out else None
        methods = resolve_persons(con, day, score_regions=scorer)
        # the period's persons are stored, and the linkage's working memory freed, before the
        # marts are built (a failure after this point leaves the lists of the last build,
        # which match the published marts; the next run resolves the period again)
        con.execute("commit")
        release_linkage(con)
        con.execute("begin transaction")
        with stage("marts"):
            neighbours = (first_day(month_before(period)), first_day(month_after(period)))
            snapshot = population_snapshot(con, period)
            built = build_period(con, day, snapshot, neighbours, build_versions(), last_day(period))
            store_lists(con, built)
            built.fan_out = scorer.counts() if scorer else None
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
def publish(built: BuiltPeriod, marts_file: Path, run: str) -> dt.datetime:
    """Replace the period in every mart: the next warehouse file is built beside the current
    one and renamed over it (readers are never blocked, never see half a period).

    ``marts.published`` is stamped here with ``published_at`` (now, UTC) and the flow run
    ``run``, right before the file is written; the moment is returned for ``audit.runs``."""
    with stage("publish"):
        published_at = dt.datetime.now(dt.UTC)
        stamped = built.marts["published"].with_columns(
            pl.lit(published_at, dtype=pl.Datetime("us", "UTC")).alias("published_at"),
            pl.lit(run, dtype=pl.String).alias("flow_run"),
        )
        publish_marts(
            marts_file,
            built.period,
            {**built.marts, "published": stamped},
            also_replaces=built.also_replaces,
        )
    return published_at


@task(name="record_published_run")
def record_run(
    period: str, files: dict[str, str], marts_file: Path, run: str, published_at: dt.datetime
) -> str:
    """Note in ``audit.runs`` which inputs (source → file SHA-256) and code the published
    period was built from, and when it was published (``marts.published``'s moment); the
    backfill compares against it."""
    code = code_fingerprint()
    fingerprint = inputs_fingerprint(code, files)
    row = pl.DataFrame(
        [
            {
                "period": first_day(period),
                "fingerprint": fingerprint,
                "code_version": code,
                "sources": [f"{k}={v}" for k, v in sorted(files.items())],
                "flow_run": run,
                "published_at": published_at,
            }
        ]
    )
    with open_restricted(marts_file) as con:
        con.execute("begin transaction")
        replace_slice(con, "audit.runs", row, {"period": first_day(period)})
        con.execute("commit")
    return fingerprint
