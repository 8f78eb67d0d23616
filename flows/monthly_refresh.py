"""The monthly refresh: pull → validate → load staging → resolve and build marts → publish."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import flow
from pydantic import BaseModel, Field, field_validator

import jkn.settings  # noqa: F401  (telemetry off before Prefect does anything)
from jkn.ingest.errors import ExtractError
from jkn.settings import SOURCES, store_path
from tasks.ingest import SourceSummary, fetch_extract, record_failure, validate_and_stage
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


def _pull_validate_stage(params: RefreshParameters, period: str, source: str) -> SourceSummary:
    store = store_path(params.warehouse)
    received = None
    try:
        received = fetch_extract(params.landing, period, source, store, params.accept_redelivery)
        return validate_and_stage(received, period, params.warehouse)
    except ExtractError as error:
        return record_failure(source, error.check, str(error), received, period, params.warehouse)


@flow(name="monthly-refresh", log_prints=False, validate_parameters=True)
def monthly_refresh(params: RefreshParameters) -> RefreshSummary:
    """Pull the period's three extracts, validate every row, load staging, resolve rows to
    persons, build the marts and officers' lists, and publish the marts.

    A source whose file cannot be read fails alone, with a message naming file, line and what
    to do; the other sources still load, and the run ends failed so that nobody mistakes the
    period for complete.
    """
    period = params.period or previous_month()
    summary = RefreshSummary(
        period=period,
        sources=[_pull_validate_stage(params, period, source) for source in SOURCES],
    )
    if summary.failed:
        # never publish a period reconciled from part of its sources: the marts keep the
        # last good state of this period (if any) until every source reads
        raise SourcesFailed(summary)
    built = build_marts(period, params.warehouse)
    publish(built, params.warehouse)
    return summary
