"""The monthly refresh: pull → validate → load staging → resolve and build marts → publish."""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.runtime import deployment, flow_run

import jkn.settings  # noqa: F401  (telemetry off before Prefect does anything)
from jkn import states
from jkn.alerts import (
    REDEPLOY_HINT,
    Alert,
    AlertsMisconfigured,
    load_notifier,
)
from jkn.faults import failpoint
from jkn.ingest.errors import ExtractError
from jkn.lock import RefreshRunning, refresh_lock
from jkn.periods import PeriodError, check_month, previous_month
from jkn.quality import CheckpointReport
from jkn.quality import preload as preload_checks
from jkn.refresh import RefreshParameters, RefreshSummary, RunSettings, SourceSummary
from jkn.settings import SOURCES, store_path
from jkn.timeline import stage
from tasks import run_logger
from tasks.ingest import fetch_extract, record_failure, validate_and_stage
from tasks.marts import build_marts, publish, record_run
from tasks.quality import (
    check_marts,
    mart_alerts,
    publish_artifacts,
    send_alert,
    source_alerts,
)
from tasks.report import write_forum_report
from warehouse.build import BuiltPeriod


class RunFailed(RuntimeError):
    """The period was not published: a source or a check failed (or it was published but its
    alerts could not be delivered). The marts keep the last good state of the period (if
    any); the message names each failure and where to look."""

    def __init__(self, summary: RefreshSummary) -> None:
        self.summary = summary
        lines = [f"{a.source or '-'} {a.check}: {a.summary}" for a in summary.errors]
        if lines:
            head = f"{summary.period} not published: {len(lines)} error(s)"
        else:
            head = f"{summary.period} published"
        if summary.undelivered:
            head += f"; {len(summary.undelivered)} alert message(s) not delivered"
            lines += [f"alert not delivered: {reason}" for reason in summary.undelivered]
        super().__init__(head + "\n" + "\n".join(lines))


class SourcesFailed(RunFailed):
    """One or more sources could not be read this period; the others were loaded."""


def _pull_validate_stage(params: RefreshParameters, period: str, source: str) -> SourceSummary:
    with stage("pull"):
        received = fetch_extract(
            params.landing, period, source, store_path(params.warehouse), params.accept_redelivery
        )
    if isinstance(received, ExtractError):
        return record_failure(
            source, received.check, str(received), None, period, params.warehouse,
            file=received.file,
        )  # fmt: skip
    with stage("validate"):
        outcome = validate_and_stage(received, period, params.warehouse)
    if isinstance(outcome, ExtractError):
        return record_failure(
            source, outcome.check, str(outcome), received, period, params.warehouse
        )
    return outcome


def run_name() -> str:
    """The Prefect run's name (or 'local' outside a run), for messages."""
    return flow_run.get_name() or "local"


def failed_state(error: Exception) -> Any:
    """End the run ``Failed`` with ``error``'s message, no traceback (:mod:`jkn.states`)."""
    return states.failed_state(error, run_logger())


def alert_target(params: RunSettings) -> str | None:
    """The run's notification block reference, checked against the server; None for a run by
    hand without one. Raises :class:`AlertsMisconfigured` for a deployment without one, or a
    reference that is malformed or names no notification block."""
    if not params.alert_block:
        if deployment.get_id() or flow_run.get_parent_deployment_id():
            raise AlertsMisconfigured(
                "this deployment has no alert block, so its failures would reach no one. "
                + REDEPLOY_HINT
            )
        run_logger().warning(
            "no alert block given: alerts of this run go to its log and terminal only"
        )
        return None
    load_notifier(params.alert_block)
    return params.alert_block


@flow(name="monthly-refresh", log_prints=False, validate_parameters=True)
def monthly_refresh(
    params: RefreshParameters,
    period: str | None = None,
    accept_redelivery: bool | None = None,
) -> RefreshSummary:
    """Pull the period's three extracts, validate every row, load staging, resolve rows to
    persons, build the marts and officers' lists, check the marts, and publish them.

    A source whose file cannot be read, or whose quarantined share is above its threshold,
    fails alone with a message naming file, line and what to do; the other sources still
    load. Errors (those, failed expectations on the marts, a refresh already running) are
    alerted at once, warnings in one short digest at the end; with any error the period is
    not published, the marts keep its last good state, and the run ends ``Failed`` with the
    reason as its message (no traceback: tracebacks are for bugs).

    ``period`` (YYYY-MM) and ``accept_redelivery``, when given, override ``params``: a
    deployment keeps its settings in ``params`` and a manual run names just what changes
    (``--param period=2025-05 --param accept_redelivery=true``).
    """
    try:
        period = check_month(period) if period else (params.period or previous_month())
        block = alert_target(params)
    except (PeriodError, AlertsMisconfigured) as error:
        return failed_state(error)
    if accept_redelivery is not None:
        params = params.model_copy(update={"accept_redelivery": accept_redelivery})
    preload_checks(background=True)  # GX's seconds of imports, overlapped with validation
    run = run_name()
    try:
        # one refresh of a warehouse at a time: a second one refuses, naming the first
        with refresh_lock(params.warehouse, f"monthly-refresh {period}, run {run}"):
            summary = _refresh(params, period, run, block)
    except RefreshRunning as refused:
        alert = Alert(
            severity="error",
            period=period,
            source=None,
            check="refresh_lock",
            summary=f"{period} was not refreshed: {refused}",
            where=f"the run holding {params.warehouse}.lock",
        )
        undelivered = send_alert([alert], run, block)
        if undelivered:
            refused = RefreshRunning(f"{refused} Its alert was not delivered {undelivered}.")
        return failed_state(refused)
    if summary.failed:
        return failed_state(SourcesFailed(summary))
    if summary.errors or summary.undelivered:
        return failed_state(RunFailed(summary))
    warned = f" with {len(summary.alerts)} warning(s)" if summary.alerts else ""
    return states.completed(summary, f"{summary.period} published{warned}")


def _refresh(params: RefreshParameters, period: str, run: str, block: str | None) -> RefreshSummary:
    failpoint("refresh")  # a test may pause (JKN_PAUSEPOINT) or kill the run here
    summary = RefreshSummary(period=period, sources=[])

    def notify(alerts: list[Alert]) -> None:
        undelivered = send_alert(alerts, run, block)
        if undelivered:
            summary.undelivered.append(undelivered)

    def raise_alerts(alerts: list[Alert]) -> None:
        summary.alerts.extend(alerts)
        for alert in alerts:
            if alert.severity == "error":
                notify([alert])  # errors go out at once, one by one

    built: BuiltPeriod | None = None
    report: CheckpointReport | None = None
    step = "reading the sources"
    try:
        for source in SOURCES:
            source_summary = _pull_validate_stage(params, period, source)
            summary.sources.append(source_summary)
            raise_alerts(source_alerts(source_summary, period, params.quality))
        step = "building, checking or publishing the marts"
        # never publish a period reconciled from part of its sources
        if not summary.errors:
            built = build_marts(period, params.warehouse, fan_out=params.fan_out_regions)
            summary.fan_out = built.fan_out
            failpoint("built")
            report = check_marts(built, period, params.warehouse, params.quality)
            raise_alerts(mart_alerts(report, period))
        if not summary.errors and built is not None:
            published_at = publish(built, params.warehouse, run)
            summary.published = True
            failpoint("published")
            files = {source.source: source.sha256 or "" for source in summary.sources}
            record_run(period, files, params.warehouse, run, published_at)
            if params.report:
                # a report that fails is a warning: the period stays published
                raise_alerts(write_forum_report(period, params.warehouse, params.report_pdf))
    except Exception as error:
        # a bug, a full disk: alert too (the type only: an exception's text may quote a
        # value), then let the run fail with the traceback in its logs
        raise_alerts(
            [
                Alert(
                    severity="error",
                    period=period,
                    source=None,
                    check="unexpected_failure",
                    summary=f"{type(error).__name__} while {step}; "
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
        if warnings and params.alert_warnings:
            notify(warnings)  # one short digest per run
        publish_artifacts(period, summary.sources, built if summary.published else None, report)
    return summary
