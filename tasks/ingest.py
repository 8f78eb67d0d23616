"""Tasks that pull, validate and stage one period's extracts.

Only I/O retries: fetching from the landing root may hit a flaky server, so it retries with
backoff; a file that is missing or malformed is not retried (it will not fix itself).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from prefect import task
from prefect.logging import get_run_logger

from jkn.ingest.errors import ExtractError
from jkn.ingest.landing import ReceivedFile, receive_extract
from jkn.ingest.readers import read_extract
from jkn.ingest.validate import ValidationResult, validate_extract
from jkn.settings import restricted_path
from schemas import SCHEMAS
from warehouse import PUBLIC_LAYERS, RESTRICTED_LAYERS, connect, period_date, replace_slice


@dataclass
class SourceOutcome:
    """What happened to one source in one run: validated, or failed with a reason."""

    source: str
    received: ReceivedFile | None = None
    result: ValidationResult | None = None
    error: ExtractError | None = None
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.error is not None


def _retry_io(task, task_run, state) -> bool:  # type: ignore[no-untyped-def]
    """Retry transport failures, never a file the provider must fix."""
    try:
        state.result()
    except ExtractError:
        return False
    except Exception:
        return True
    return False


@task(
    name="fetch_extract", retries=3, retry_delay_seconds=[2, 10, 30], retry_condition_fn=_retry_io
)
def fetch_extract(
    landing: str, period: str, source: str, store: Path, accept_redelivery: bool = False
) -> ReceivedFile:
    """Copy a source's file for the period into the landing store (SHA-256, size, time)."""
    received = receive_extract(landing, period, source, store, accept_redelivery=accept_redelivery)
    get_run_logger().info(
        "%s %s: %s, %d bytes, sha256 %s…, %s",
        source,
        period,
        received.name,
        received.size,
        received.sha256[:12],
        received.status,
    )
    return received


@task(name="validate_extract")
def validate_source(received: ReceivedFile, period: str) -> SourceOutcome:
    """Read the stored file and run its source's checks on every row."""
    schema = SCHEMAS[received.source]
    logger = get_run_logger()
    with tempfile.TemporaryDirectory(prefix="jkn-read-") as workdir:
        raw = read_extract(
            received.path, received.source, schema.required, schema.optional, Path(workdir)
        )
    result = validate_extract(raw, schema, period)
    notes = list(raw.notes)
    if raw.ignored_columns:
        notes.append(f"{len(raw.ignored_columns)} column(s) outside the contract ignored")
    if raw.missing_optional:
        notes.append(f"optional column(s) absent: {', '.join(raw.missing_optional)}")
    logger.info(
        "%s %s: received %d, loaded %d, quarantined %d (%s)",
        received.source,
        period,
        result.received,
        result.loaded,
        result.quarantined,
        raw.encoding,
    )
    return SourceOutcome(
        source=received.source,
        received=received,
        result=result,
        encoding=raw.encoding,
        notes=notes,
    )


def data_quality_rows(outcome: SourceOutcome, period: str) -> pl.DataFrame:
    """The ``marts.data_quality`` rows of one validated source: counts only."""
    result = outcome.result
    assert result is not None
    return result.checks.with_columns(
        pl.lit(period_date(period)).alias("period"),
        pl.lit(outcome.source).alias("source"),
        pl.lit(result.received, dtype=pl.Int64).alias("rows_received"),
        pl.lit(result.loaded, dtype=pl.Int64).alias("rows_loaded"),
        pl.lit(result.quarantined, dtype=pl.Int64).alias("rows_quarantined"),
    )


def _file_row(outcome: SourceOutcome, period: str) -> pl.DataFrame:
    received, result, error = outcome.received, outcome.result, outcome.error
    row = {
        "period": period_date(period),
        "source": outcome.source,
        "file_name": received.name if received else (error.file if error else None),
        "sha256": received.sha256 if received else None,
        "size_bytes": received.size if received else None,
        "received_at": dt.datetime.fromisoformat(received.received_at) if received else None,
        "receipt": received.status if received else None,
        "encoding": outcome.encoding,
        "rows_received": result.received if result else None,
        "rows_loaded": result.loaded if result else None,
        "rows_quarantined": result.quarantined if result else None,
        "outcome": "failed" if error else "loaded",
        "failure_check": error.check if error else None,
        "failure_message": str(error) if error else None,
        "run_at": dt.datetime.now(dt.UTC),
    }
    return pl.DataFrame([row])


@task(name="load_staging")
def load_staging(outcomes: list[SourceOutcome], period: str, warehouse: Path) -> None:
    """Replace the period's slice of staging, quarantine and data-quality counts.

    The restricted file (staging, quarantine) is written in one transaction, then the
    warehouse's ``marts.data_quality``; a failed source keeps its last good slice.
    """
    day = period_date(period)
    with connect(restricted_path(warehouse), RESTRICTED_LAYERS, private=True) as con:
        con.execute("begin transaction")
        for outcome in outcomes:
            where = {"period": day, "source": outcome.source}
            replace_slice(con, "audit.files", _file_row(outcome, period), where)
            if outcome.failed or outcome.result is None or outcome.received is None:
                continue
            sha = outcome.received.sha256
            tagged = [pl.lit(day).alias("period"), pl.lit(sha).alias("file_sha256")]
            replace_slice(
                con,
                f"staging.{outcome.source}",
                outcome.result.staged.with_columns(tagged),
                {"period": day},
            )
            quarantine = outcome.result.quarantine.with_columns(
                *tagged, pl.lit(outcome.source).alias("source")
            )
            replace_slice(con, "audit.quarantine", quarantine, where)
        con.execute("commit")
    with connect(warehouse, PUBLIC_LAYERS, private=False) as con:
        con.execute("begin transaction")
        for outcome in outcomes:
            if outcome.failed:
                continue
            replace_slice(
                con,
                "marts.data_quality",
                data_quality_rows(outcome, period),
                {"period": day, "source": outcome.source},
            )
        con.execute("commit")
