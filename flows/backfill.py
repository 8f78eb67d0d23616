"""Backfill: refresh a range of periods, oldest first, each its own monthly-refresh subflow.

A period is skipped when it was published from the same three files (by SHA-256) and the
same code (``jkn.version.code_fingerprint``) as now: ``audit.runs`` keeps what each published
period was built from. Periods run oldest first because each one's month-on-month checks read
the month before it. A failed period does not stop the others; the backfill ends failed and
names every period that was not published.
"""

from __future__ import annotations

from prefect import flow, tags, task
from prefect.runtime import flow_run
from pydantic import BaseModel, Field

import jkn.settings  # noqa: F401  (telemetry off before Prefect does anything)
from flows.monthly_refresh import alert_target, failed_state, monthly_refresh
from jkn import states
from jkn.alerts import AlertsMisconfigured
from jkn.databases import open_restricted
from jkn.ingest.errors import ExtractError
from jkn.periods import PeriodError, first_day, months
from jkn.refresh import RefreshParameters, RunSettings
from jkn.settings import SOURCES, restricted_path, store_path
from jkn.version import code_fingerprint, inputs_fingerprint
from tasks import run_logger
from tasks.ingest import fetch_extract


class BackfillSummary(BaseModel):
    published: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)


class BackfillFailed(RuntimeError):
    """Some periods were not published (the others were); the message names each."""

    def __init__(self, message: str, summary: BackfillSummary) -> None:
        super().__init__(message)
        self.summary = summary


@task(name="unchanged_since_published")
def unchanged(params: RunSettings, period: str) -> bool:
    """True when the period was published from these exact files and this code.

    Pulls the three files into the landing store (the refresh would do so anyway) to know
    their checksums; a source that cannot be pulled means "changed" (the refresh will report
    it properly).
    """
    store = store_path(params.warehouse)
    files = {}
    for source in SOURCES:
        received = fetch_extract(params.landing, period, source, store, params.accept_redelivery)
        if isinstance(received, ExtractError):
            return False
        files[source] = received.sha256
    now = inputs_fingerprint(code_fingerprint(), files)
    if not restricted_path(params.warehouse).exists():
        return False
    with open_restricted(params.warehouse) as con:
        rows = con.execute(
            "select fingerprint from audit.runs where period = $period",
            {"period": first_day(period)},
        ).fetchall()
    return bool(rows) and rows[0][0] == now


@flow(name="backfill", validate_parameters=True)
def backfill(
    start: str,
    end: str,
    params: RunSettings,
    force: bool = False,
    accept_redelivery: bool | None = None,
) -> BackfillSummary:
    """Refresh each month from ``start`` to ``end`` (YYYY-MM, inclusive), oldest first,
    skipping months published from the same files and code (unless ``force``). Ends
    ``Failed``, naming each month not published, when any was not (the others still are)."""
    try:
        periods = months(start, end)
        alert_target(params)
    except (PeriodError, AlertsMisconfigured) as error:
        return failed_state(error)
    if accept_redelivery is not None:
        params = params.model_copy(update={"accept_redelivery": accept_redelivery})
    logger = run_logger()
    summary = BackfillSummary()
    for period in periods:
        if not force and unchanged(params, period):
            logger.info("%s: inputs and code unchanged since published; skipped", period)
            summary.skipped.append(period)
            continue
        refresh = RefreshParameters(period=period, **params.model_dump())
        # each month's run carries the backfill's tags (a deployment's `jkn`), so that the
        # server's automations watch it as they watch the backfill (automations.yaml)
        with tags(*flow_run.get_tags()):
            state = monthly_refresh.with_options(flow_run_name=f"refresh-{period}")(
                refresh, return_state=True
            )
        if state.is_completed():
            summary.published.append(period)
        else:
            summary.failed[period] = (state.message or state.name or "failed").splitlines()[0]
    message = (
        f"published {len(summary.published)}, skipped {len(summary.skipped)} unchanged, "
        f"failed {len(summary.failed)}"
        + (
            ": " + "; ".join(f"{p} {m}" for p, m in summary.failed.items())
            if summary.failed
            else ""
        )
    )
    if summary.failed:
        return failed_state(BackfillFailed(message, summary))
    logger.info(message)
    return states.completed(summary, message)
