"""The monthly refresh: pull → validate → load staging → resolve and build marts → publish."""

from __future__ import annotations

import datetime as dt
import importlib
import re
import sys
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import flow
from prefect.runtime import flow_run
from pydantic import BaseModel, Field, field_validator

import jkn.settings  # noqa: F401  (telemetry off before Prefect does anything)
from jkn.alerts import ALERT_BLOCK_ENV, Alert, block_reference
from jkn.faults import failpoint
from jkn.ingest.errors import ExtractError
from jkn.lock import refresh_lock
from jkn.quality import CheckpointReport, QualitySettings
from jkn.settings import SOURCES, store_path
from jkn.timeline import stage
from tasks.ingest import SourceSummary, fetch_extract, record_failure, validate_and_stage
from tasks.marts import build_marts, publish, record_run
from tasks.quality import (
    check_marts,
    mart_alerts,
    publish_artifacts,
    send_alert,
    source_alerts,
)
from warehouse.build import BuiltPeriod


def previous_month(today: dt.date | None = None) -> str:
    """``YYYY-MM`` of the month before ``today`` (default: today in Asia/Jakarta)."""
    today = today or dt.datetime.now(ZoneInfo("Asia/Jakarta")).date()
    last = today.replace(day=1) - dt.timedelta(days=1)
    return f"{last:%Y-%m}"


def check_month(value: str) -> str:
    """``value`` if it is a month ``YYYY-MM``; a ValueError naming it otherwise."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise ValueError(f"period must be YYYY-MM, got {value!r}")
    this_month = f"{dt.datetime.now(ZoneInfo('Asia/Jakarta')).date():%Y-%m}"
    if value > this_month:
        raise ValueError(
            f"period {value} is in the future (this month is {this_month}): an extract "
            "describes a month that has begun"
        )
    return value


class RunSettings(BaseModel):
    """Where a run reads and writes, and its checks' thresholds (shared by every deployment:
    ``definitions`` in prefect.yaml)."""

    landing: str = Field(description="landing root: a folder or an fsspec URL")
    warehouse: Path = Field(description="the warehouse DuckDB file BI tools read")
    accept_redelivery: bool = Field(
        default=False,
        description="take a file redelivered with different bytes for a period already received",
    )
    quality: QualitySettings = Field(
        default_factory=QualitySettings,
        description="thresholds of the quarantine and marts checks",
    )
    fan_out_regions: bool = Field(
        default=False,
        description="score the record linkage region by region as separate tasks on the "
        "flow's task runner (a DaskTaskRunner spreads them over its workers; see "
        "ARCHITECTURE.md, 'Beyond one machine')",
    )
    alert_block: str | None = Field(
        default=None,
        description="Prefect notification block for alerts, '<block-type-slug>/<name>' "
        f"(empty: the worker's {ALERT_BLOCK_ENV}; unset: alerts are only logged)",
    )


class RefreshParameters(RunSettings):
    """What one monthly run needs to know."""

    period: str | None = Field(
        default=None,
        description="the month to refresh, YYYY-MM; empty means the month before today "
        "(Asia/Jakarta), which is what a schedule early in the month wants",
    )

    @field_validator("period")
    @classmethod
    def _period_is_month(cls, value: str | None) -> str:
        if value is None:
            return previous_month()
        return check_month(value)


class RefreshSummary(BaseModel):
    """What the run did, per source, and whether the period was published."""

    period: str
    sources: list[SourceSummary]
    published: bool = False
    alerts: list[Alert] = Field(default_factory=list)
    fan_out: dict[str, int] | None = Field(
        default=None,
        description="with fan_out_regions: regions whose linkage was scored as tasks, and the "
        "worker processes that ran them",
    )

    @property
    def failed(self) -> list[SourceSummary]:
        return [s for s in self.sources if s.outcome == "failed"]

    @property
    def errors(self) -> list[Alert]:
        return [a for a in self.alerts if a.severity == "error"]


class RunFailed(RuntimeError):
    """The period was not published: a source or a check failed. The marts keep the last good
    state of the period (if any); the message names each failure and where to look."""

    def __init__(self, summary: RefreshSummary) -> None:
        self.summary = summary
        lines = [f"{a.source or '-'} {a.check}: {a.summary}" for a in summary.errors]
        super().__init__(
            f"{summary.period} not published: {len(lines)} error(s)\n" + "\n".join(lines)
        )


class SourcesFailed(RunFailed):
    """One or more sources could not be read this period; the others were loaded."""


def _pull_validate_stage(params: RefreshParameters, period: str, source: str) -> SourceSummary:
    store = store_path(params.warehouse)
    received = None
    try:
        with stage("pull"):
            received = fetch_extract(
                params.landing, period, source, store, params.accept_redelivery
            )
    except ExtractError as error:
        return record_failure(source, error.check, str(error), None, period, params.warehouse)
    except Exception as error:  # transport: still failing after the task's retries
        message = (
            f"{params.landing}: the {source} extract for {period} could not be fetched "
            f"({type(error).__name__}: {str(error)[:200]}), after retries. What to do: check "
            "that the landing server is up and reachable from the worker, then run again."
        )
        return record_failure(source, "landing_reachable", message, None, period, params.warehouse)
    try:
        with stage("validate"):
            return validate_and_stage(received, period, params.warehouse)
    except ExtractError as error:
        return record_failure(source, error.check, str(error), received, period, params.warehouse)


def warm_import(module: str) -> None:
    """Import a slow module in a background thread while the sources are validated (polars
    and DuckDB release the GIL); the checks step then finds it loaded."""
    if module not in sys.modules:
        threading.Thread(target=importlib.import_module, args=(module,), daemon=True).start()


def run_name() -> str:
    """The Prefect run's name (or 'local' outside a run), for messages."""
    return flow_run.get_name() or "local"


@flow(name="monthly-refresh", log_prints=False, validate_parameters=True)
def monthly_refresh(params: RefreshParameters, period: str | None = None) -> RefreshSummary:
    """Pull the period's three extracts, validate every row, load staging, resolve rows to
    persons, build the marts and officers' lists, check the marts, and publish them.

    A source whose file cannot be read, or whose quarantined share is above its threshold,
    fails alone with a message naming file, line and what to do; the other sources still
    load. Errors (those, and failed expectations on the marts) are alerted at once, warnings
    in one message at the end; with any error the period is not published, the marts keep
    its last good state, and the run ends failed.

    ``period`` (YYYY-MM), when given, overrides ``params.period``: a deployment keeps its
    settings in ``params`` and a manual run names just the month (``--param period=…``).
    """
    period = check_month(period) if period else (params.period or previous_month())
    warm_import("great_expectations")  # ~8 s of imports, overlapped with validation
    run = run_name()
    # one refresh of a warehouse at a time: a second one refuses, naming the first
    with refresh_lock(params.warehouse, f"monthly-refresh {period}, run {run}"):
        return _refresh(params, period, run)


def _refresh(params: RefreshParameters, period: str, run: str) -> RefreshSummary:
    block = block_reference(params.alert_block)
    summary = RefreshSummary(period=period, sources=[])

    def raise_alerts(alerts: list[Alert]) -> None:
        summary.alerts.extend(alerts)
        for alert in alerts:
            if alert.severity == "error":
                send_alert([alert], run, block)  # errors go out at once, one by one

    for source in SOURCES:
        source_summary = _pull_validate_stage(params, period, source)
        summary.sources.append(source_summary)
        raise_alerts(source_alerts(source_summary, period, params.quality))

    built: BuiltPeriod | None = None
    report: CheckpointReport | None = None
    try:
        # never publish a period reconciled from part of its sources
        if not summary.errors:
            built = build_marts(period, params.warehouse, fan_out=params.fan_out_regions)
            summary.fan_out = built.fan_out
            failpoint("built")
            report = check_marts(built, period, params.warehouse, params.quality)
            raise_alerts(mart_alerts(report, period))
        if not summary.errors and built is not None:
            publish(built, params.warehouse)
            summary.published = True
            failpoint("published")
            files = {source.source: source.sha256 or "" for source in summary.sources}
            record_run(period, files, params.warehouse, run)
    except Exception as error:
        # a bug, a full disk, a lock: alert too (the type only: an exception's text may quote
        # a value), then let the run fail with the traceback in its logs
        raise_alerts(
            [
                Alert(
                    severity="error",
                    period=period,
                    source="marts",
                    check="unexpected_failure",
                    summary=f"{type(error).__name__} while building, checking or publishing; "
                    + (
                        "the marts were published, audit.runs was not written"
                        if summary.published
                        else "nothing of the period was published"
                    ),
                    where=f"the logs of flow run {run}",
                )
            ]
        )
        raise
    finally:
        warnings = [a for a in summary.alerts if a.severity == "warning"]
        if warnings:
            send_alert(warnings, run, block)  # one summary per run
        publish_artifacts(period, summary.sources, built if summary.published else None, report)
    if summary.failed:
        raise SourcesFailed(summary)
    if summary.errors:
        raise RunFailed(summary)
    return summary
