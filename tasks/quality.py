"""Tasks that judge a run's data quality, alert on it, and leave its artifacts.

Nothing here reads or writes a row of personal data: quarantine rates come from the sources'
summaries (counts), the marts' suites from the built marts (counts and rates per region), the
artifacts from the same.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from jkn.alerts import Alert, AlertsMisconfigured, deliver, load_notifier
from jkn.databases import open_marts_read_only, open_restricted
from jkn.periods import first_day
from jkn.quality import CheckInputs, CheckpointReport, QualitySettings, gx_root, run_checkpoint
from jkn.quality.history import read_published
from jkn.refresh import SourceSummary
from jkn.timeline import stage
from tasks import run_logger
from warehouse import check_sql
from warehouse.build import BuiltPeriod


def source_alerts(summary: SourceSummary, period: str, settings: QualitySettings) -> list[Alert]:
    """Alerts about one source: unreadable or over its quarantine threshold (errors), rows
    quarantined or flagged below it (warnings)."""
    if summary.outcome == "failed":
        return [
            Alert(
                severity="error",
                period=period,
                source=summary.source,
                check=summary.failure_check or "extract_unreadable",
                summary=summary.message or "the extract could not be read",
                counts={},
                where=f"the landing file {summary.file}; audit.files in the restricted file"
                if summary.file
                else "audit.files in the restricted file",
            )
        ]
    alerts = []
    received = max(summary.rows_received, 1)
    rate = summary.rows_quarantined / received
    limit = settings.quarantine_limit(summary.source)
    top = dict(sorted(summary.errors.items(), key=lambda kv: -kv[1])[:5])
    where = "audit.quarantine (restricted file) and marts.data_quality"
    if rate > limit:
        alerts.append(
            Alert(
                severity="error",
                period=period,
                source=summary.source,
                check="quarantine_rate",
                summary=f"{summary.rows_quarantined:,} of {summary.rows_received:,} rows "
                f"quarantined ({rate:.2%}), above the threshold of {limit:.2%}; "
                "the period is not published",
                counts={"rows_received": summary.rows_received,
                        "rows_quarantined": summary.rows_quarantined, **top},
                where=where,
            )
        )  # fmt: skip
    elif summary.rows_quarantined or summary.rows_flagged:
        alerts.append(
            Alert(
                severity="warning",
                period=period,
                source=summary.source,
                check="rows_quarantined_or_flagged",
                summary=f"{summary.rows_quarantined:,} rows quarantined ({rate:.2%}, "
                f"threshold {limit:.2%}), {summary.rows_flagged:,} loaded with warnings",
                counts={**top, **dict(sorted(summary.warnings.items(), key=lambda kv: -kv[1])[:5])},
                where=where,
            )
        )
    return alerts


def mart_alerts(report: CheckpointReport, period: str) -> list[Alert]:
    """One alert per failed expectation of the marts' checkpoint."""
    where = f"Data Docs: {report.data_docs}" if report.data_docs else "the GX project"
    alerts = []
    for outcome in [*report.errors, *report.warnings]:
        column = f" on {outcome.column}" if outcome.column else ""
        # a region explained (month on month: its figure and the bound that applied)
        regions = [
            f"{code} ({detail})" if detail else code
            for code, detail in zip(
                outcome.examples,
                outcome.details or [""] * len(outcome.examples),
                strict=True,
            )
        ]
        examples = f"; regions: {', '.join(regions)}" if regions else ""
        counts = {}
        if outcome.unexpected_count is not None:
            counts["unexpected"] = outcome.unexpected_count
        if outcome.element_count is not None:
            counts["checked"] = outcome.element_count
        alerts.append(
            Alert(
                severity=outcome.severity,
                period=period,
                source="marts",
                check=f"{outcome.suite}.{outcome.expectation}{column}",
                summary=f"expected: {outcome.meaning}{examples}",
                counts=counts,
                where=where,
            )
        )
    return alerts


@task(name="check_marts")
def check_marts(
    built: BuiltPeriod, period: str, marts_file: Path, settings: QualitySettings
) -> CheckpointReport:
    """Run the marts' data-quality checkpoint on the built (not yet published) period."""
    day = first_day(period)
    with open_restricted(marts_file) as con:
        regions = con.sql(check_sql("extract_regions"), params={"period": day}).pl()
    # the published months the month-on-month bounds learn from (none before a first publish)
    published = {}
    reader = open_marts_read_only(marts_file)
    if reader is not None:
        with reader:
            published = read_published(
                reader, day, settings.movement_levels, settings.history_months
            )
    inputs = CheckInputs(
        period=day, marts=built.marts, published=published, extract_regions=regions
    )
    with stage("checks"):
        report = run_checkpoint(inputs, settings, gx_root(marts_file))
    run_logger().info(
        "%s: %d expectations, %d failed as errors, %d as warnings; Data Docs %s",
        period,
        len(report.outcomes),
        len(report.errors),
        len(report.warnings),
        report.data_docs,
    )
    return report


@task(name="send_alert")
def send_alert(alerts: list[Alert], run: str, block: str | None) -> str | None:
    """Deliver one message (one error, or a run's warnings digest) through the notification
    block, and log each alert. Never raises: returns None when the message went out (or, with
    no block, for a run by hand without alerts, was only logged), else why it did not, so
    that the run can end saying so."""
    logger = run_logger()
    for alert in alerts:
        log = logger.error if alert.severity == "error" else logger.warning
        log("%s %s %s: %s", alert.period, alert.source or "-", alert.check, alert.summary)
    if block is None:
        return None
    try:
        reason = deliver(alerts, run, load_notifier(block))
    except AlertsMisconfigured as error:
        reason = str(error)
    if reason:
        logger.error("alert to %s not delivered: %s", block, reason)
        return f"to {block}: {reason}"
    return None


@task(name="publish_artifacts")
def publish_artifacts(
    period: str,
    sources: list[SourceSummary],
    built: BuiltPeriod | None,
    report: CheckpointReport | None,
) -> None:
    """The run's artifacts: data quality per source, the UHC table, the Data Docs' path."""
    key = period.replace("-", "")
    create_table_artifact(
        key=f"data-quality-{key}",
        table=[
            {
                "source": s.source,
                "outcome": s.outcome,
                "file": s.file or "",
                "rows_received": s.rows_received,
                "rows_loaded": s.rows_loaded,
                "rows_quarantined": s.rows_quarantined,
                "quarantine_rate": round(s.rows_quarantined / s.rows_received, 4)
                if s.rows_received
                else None,
                "rows_flagged": s.rows_flagged,
                "top_errors": ", ".join(
                    f"{k} {v:,}" for k, v in sorted(s.errors.items(), key=lambda kv: -kv[1])[:3]
                ),
            }
            for s in sources
        ],
        description=f"Data quality of the {period} extracts (counts only)",
    )
    if built is not None:
        uhc = (
            built.marts["uhc_status"]
            .filter(pl.col("region_level").is_in(["province", "kabupaten"]))
            .select(
                "region_code",
                "region_name",
                "rule_id",
                "population",
                "registered",
                pl.col("coverage_registered").round(4),
                pl.col("activity_of_population").round(4),
                pl.col("coverage_reconciled").round(4),
                "meets_uhc",
                "meets_uhc_reconciled",
                "residents_to_enrol",
            )
            .sort("region_code")
        )
        create_table_artifact(
            key=f"uhc-status-{key}",
            table=uhc.to_dicts(),
            description=f"UHC status {period} under the rule in force (published marts)",
        )
    if report is not None:
        failed = [*report.errors, *report.warnings]
        lines = [
            f"# Data quality of the marts, {period}",
            "",
            f"{len(report.outcomes) - len(failed)} of {len(report.outcomes)} expectations met.",
            "",
            f"Data Docs (open in a browser; renders offline): `{report.data_docs}`",
        ]
        if failed:
            lines += ["", "| severity | suite | expectation | column | unexpected |"]
            lines += ["|---|---|---|---|---|"]
            lines += [
                f"| {o.severity} | {o.suite} | {o.expectation} | {o.column or ''} | "
                f"{o.unexpected_count if o.unexpected_count is not None else ''} |"
                for o in failed
            ]
        create_markdown_artifact(
            key=f"data-docs-{key}",
            markdown="\n".join(lines),
            description="Great Expectations checkpoint of the marts",
        )
