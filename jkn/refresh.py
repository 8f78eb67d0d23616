"""What a run takes and what it reports: the flows' parameters and summaries.

Kept in the library (not in ``flows/``) so that the CLI, the tasks and the console rendering
share them without importing a flow.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from jkn.alerts import ALERT_BLOCK_ENV, Alert
from jkn.periods import check_month, previous_month
from jkn.quality import QualitySettings


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
        description="Prefect notification block for alerts, '<block-type-slug>/<name>' (as "
        f"`jkn alerts …` prints it; prefect.yaml writes ${ALERT_BLOCK_ENV} of the deploying "
        "shell into each deployment). A deployment refuses to run without one; a run by hand "
        "without one only logs its alerts",
    )
    report: bool = Field(
        default=True,
        description="write the monthly forum report of each published period beside the "
        "warehouse (<stem>.report/<YYYY-MM>/; `jkn report` writes it by hand)",
    )
    report_pdf: bool = Field(
        default=False,
        description="print the forum report's pages to PDF too (headless Chromium, if "
        "installed; about 3 s and a browser's memory a run, so off by default: `jkn report` "
        "prints them)",
    )
    alert_warnings: bool = Field(
        default=True,
        description="send one short digest of a run's warnings at its end (errors always go "
        "out at once, one message each)",
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


class SourceSummary(BaseModel):
    """One source's outcome in one run: counts and check failures, never row content."""

    source: str
    file: str | None
    sha256: str | None = None
    outcome: str  # "loaded" or "failed"
    encoding: str | None = None
    rows_received: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_flagged: int = 0
    errors: dict[str, int] = Field(default_factory=dict)
    warnings: dict[str, int] = Field(default_factory=dict)
    message: str | None = None
    failure_check: str | None = None
    notes: list[str] = Field(default_factory=list)


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

    undelivered: list[str] = Field(
        default_factory=list, description="why each alert message that did not go out failed"
    )

    @property
    def failed(self) -> list[SourceSummary]:
        return [s for s in self.sources if s.outcome == "failed"]

    @property
    def errors(self) -> list[Alert]:
        return [a for a in self.alerts if a.severity == "error"]
