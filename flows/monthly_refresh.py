"""The monthly refresh: pull → validate → load staging → resolve and build marts → publish."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import flow
from prefect.logging import get_run_logger
from pydantic import BaseModel, Field, field_validator

import jkn.settings  # noqa: F401  (telemetry off before Prefect does anything)
from jkn.ingest.errors import ExtractError
from jkn.settings import SOURCES, store_path
from tasks.ingest import SourceOutcome, fetch_extract, load_staging, validate_source
from tasks.marts import build_marts, publish


def previous_month(today: dt.date | None = None) -> str:
    """``YYYY-MM`` of the month before ``today`` (default: today in Asia/Jakarta)."""
    today = today or dt.datetime.now(ZoneInfo("Asia/Jakarta")).date()
    last = today.replace(day=1) - dt.timedelta(days=1)
    return f"{last:%Y-%m}"


class RefreshParameters(BaseModel):
    """What one monthly run needs to know."""

    period: str | None = Field(
        default=None,
        description="the month to refresh, YYYY-MM; empty means the month before today "
        "(Asia/Jakarta), which is what a schedule early in the month wants",
    )
    landing: str = Field(description="landing root: a folder or an fsspec URL")
    warehouse: Path = Field(description="the warehouse DuckDB file BI tools read")
    accept_redelivery: bool = Field(
        default=False,
        description="take a file redelivered with different bytes for a period already received",
    )

    @field_validator("period")
    @classmethod
    def _period_is_month(cls, value: str | None) -> str:
        if value is None:
            return previous_month()
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
            raise ValueError(f"period must be YYYY-MM, got {value!r}")
        return value


class SourceSummary(BaseModel):
    """One source's outcome: counts and check failures, never row content."""

    source: str
    file: str | None
    outcome: str
    rows_received: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_flagged: int = 0
    errors: dict[str, int] = Field(default_factory=dict)
    warnings: dict[str, int] = Field(default_factory=dict)
    message: str | None = None
    notes: list[str] = Field(default_factory=list)


class RefreshSummary(BaseModel):
    """What the run did, per source."""

    period: str
    sources: list[SourceSummary]

    @property
    def failed(self) -> list[SourceSummary]:
        return [s for s in self.sources if s.outcome == "failed"]


class SourcesFailed(RuntimeError):
    """One or more sources could not be read this period; the others were loaded."""

    def __init__(self, summary: RefreshSummary) -> None:
        self.summary = summary
        lines = [f"{s.source}: {s.message}" for s in summary.failed]
        super().__init__(f"{summary.period}: {len(lines)} source(s) failed\n" + "\n".join(lines))


def summarise(outcome: SourceOutcome) -> SourceSummary:
    """Counts per check for one source (for the CLI table and the run's artifacts)."""
    if outcome.failed or outcome.result is None:
        return SourceSummary(
            source=outcome.source,
            file=outcome.received.name if outcome.received else None,
            outcome="failed",
            message=str(outcome.error),
        )
    result = outcome.result
    failing = result.checks.filter(result.checks["rows"] > 0)
    by_severity = {
        severity: dict(zip(part["check"], part["rows"], strict=True))
        for severity, part in (
            ("error", failing.filter(failing["severity"] == "error")),
            ("warning", failing.filter(failing["severity"] == "warning")),
        )
    }
    return SourceSummary(
        source=outcome.source,
        file=outcome.received.name if outcome.received else None,
        outcome="loaded",
        rows_received=result.received,
        rows_loaded=result.loaded,
        rows_quarantined=result.quarantined,
        rows_flagged=result.flagged,
        errors=by_severity["error"],
        warnings=by_severity["warning"],
        notes=outcome.notes,
    )


def _pull_and_validate(params: RefreshParameters, period: str, source: str) -> SourceOutcome:
    store = store_path(params.warehouse)
    try:
        received = fetch_extract(params.landing, period, source, store, params.accept_redelivery)
    except ExtractError as error:
        return SourceOutcome(source=source, error=error)
    try:
        return validate_source(received, period)
    except ExtractError as error:
        return SourceOutcome(source=source, received=received, error=error)


@flow(name="monthly-refresh", log_prints=False, validate_parameters=True)
def monthly_refresh(params: RefreshParameters) -> RefreshSummary:
    """Pull the period's three extracts, validate every row, load staging, resolve rows to
    persons, build the marts and officers' lists, and publish the marts.

    A source whose file cannot be read fails alone, with a message naming file, line and what
    to do; the other sources still load, and the run ends failed so that nobody mistakes the
    period for complete.
    """
    logger = get_run_logger()
    period = params.period or previous_month()
    outcomes = [_pull_and_validate(params, period, source) for source in SOURCES]
    load_staging(outcomes, period, params.warehouse)
    summary = RefreshSummary(period=period, sources=[summarise(o) for o in outcomes])
    for failed in summary.failed:
        logger.error("%s %s failed: %s", failed.source, period, failed.message)
    if summary.failed:
        # never publish a period reconciled from part of its sources: the marts keep the
        # last good state of this period (if any) until every source reads
        raise SourcesFailed(summary)
    built = build_marts(period, params.warehouse)
    publish(built, params.warehouse)
    return summary
