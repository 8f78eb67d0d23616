"""Tasks that pull, validate and stage one period's extracts.

Only I/O retries: fetching from the landing root may hit a flaky server, so it retries with
backoff; a file that is missing or malformed is not retried (it will not fix itself).
Validated rows go to staging inside the validating task, so that a source's rows (millions,
with personal data) never travel between tasks and only one source is in memory at a time.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import polars as pl
from prefect import task
from prefect.runtime import task_run

from jkn.databases import open_restricted
from jkn.faults import failpoint
from jkn.ingest.errors import ExtractError
from jkn.ingest.landing import ReceivedFile, receive_extract
from jkn.ingest.readers import read_extract
from jkn.ingest.stage import write_validated
from jkn.ingest.validate import ValidationResult, validate_extract
from jkn.periods import first_day
from jkn.refresh import SourceSummary
from jkn.settings import restricted_path
from jkn.version import code_fingerprint
from schemas import SCHEMAS
from tasks import run_logger
from warehouse import replace_slice

FETCH_RETRY_DELAYS = (2, 10, 30)  # seconds before each retry of a transport failure


def is_transport_error(error: BaseException) -> bool:
    """A failure of the connection to the landing root (refused, dropped, timed out, a server
    error status), which may pass if tried again; anything else is a bug or a file problem."""
    import aiohttp

    return isinstance(error, (ConnectionError, TimeoutError, aiohttp.ClientError))


def _retry_io(task, task_run, state) -> bool:  # type: ignore[no-untyped-def]
    """Retry transport failures (raised), never a file the provider must fix (returned)."""
    try:
        state.result()
    except Exception as error:
        return is_transport_error(error)
    return False


@task(
    name="fetch_extract",
    retries=len(FETCH_RETRY_DELAYS),
    retry_delay_seconds=list(FETCH_RETRY_DELAYS),
    retry_condition_fn=_retry_io,
)
def fetch_extract(
    landing: str, period: str, source: str, store: Path, accept_redelivery: bool = False
) -> ReceivedFile | ExtractError:
    """Copy a source's file for the period into the landing store (SHA-256, size, time).

    A file that is missing, refused or malformed comes back as the :class:`ExtractError` that
    says so (returned, not raised: it is an expected outcome, not a bug, and is not retried).
    A transport failure (a server down, a connection dropped) raises, so that Prefect retries
    it after :data:`FETCH_RETRY_DELAYS`; on the last attempt it comes back as an
    ``ExtractError`` (check ``landing_reachable``) naming what to do.
    """
    try:
        received = receive_extract(
            landing, period, source, store, accept_redelivery=accept_redelivery
        )
    except ExtractError as error:
        return error
    except Exception as error:
        if not is_transport_error(error) or task_run.get_run_count() <= len(FETCH_RETRY_DELAYS):
            raise  # a transport failure is retried by Prefect (one log line); others are bugs
        # the type and status only: a transport error's text may quote the landing URL, and a
        # URL may carry credentials
        status = getattr(error, "status", None)
        return ExtractError(
            file=f"{period}/{source}.*",
            check="landing_reachable",
            problem=f"the {source} extract for {period} could not be fetched after "
            f"{len(FETCH_RETRY_DELAYS)} retries ({type(error).__name__}"
            + (f", HTTP status {status}" if status else "")
            + ")",
            expected="a landing root that answers",
            action="check that the landing server is up and reachable from the worker, then "
            "run the month again",
        )
    run_logger().info(
        "%s %s: %s, %d bytes, sha256 %s…, %s",
        source,
        period,
        received.delivered,
        received.size,
        received.sha256[:12],
        received.status,
    )
    return received


@task(name="validate_extract")
def validate_and_stage(
    received: ReceivedFile, period: str, warehouse: Path
) -> SourceSummary | ExtractError:
    """Read the stored file, run its source's checks on every row, and replace the period's
    slice of staging, quarantine and data-quality counts with the outcome. A file that cannot
    be read at all comes back as the :class:`ExtractError` that says why (returned, not
    raised: an expected outcome, not a bug) and nothing of it is staged.

    Cached by input checksum: when the warehouse already holds this source's period validated
    from the same bytes by the same code (``audit.files``: sha256, code_version), the stored
    outcome is returned and nothing is read again (a retried run, a backfill over months
    already loaded). The cache lives beside the staging it describes, so it cannot outlive it.
    """
    cached = validated_before(received, period, warehouse)
    if cached is not None:
        run_logger().info(
            "%s %s: validated before from the same bytes and code (sha256 %s…): reused",
            received.source,
            period,
            received.sha256[:12],
        )
        return cached
    try:
        return _validate_and_stage(received, period, warehouse)
    except ExtractError as error:
        return error


def _validate_and_stage(received: ReceivedFile, period: str, warehouse: Path) -> SourceSummary:
    schema = SCHEMAS[received.source]
    with tempfile.TemporaryDirectory(prefix="jkn-read-") as workdir:
        raw = read_extract(
            received.path,
            received.source,
            schema.required,
            schema.optional,
            Path(workdir),
            delivered=received.delivered,
        )
    result = validate_extract(raw, schema, period)
    notes = list(raw.notes)
    if raw.ignored_columns:
        notes.append(f"{len(raw.ignored_columns)} column(s) outside the contract ignored")
    if raw.missing_optional:
        notes.append(f"optional column(s) absent: {', '.join(raw.missing_optional)}")
    summary = summarise(received, result, raw.encoding, notes)
    del raw
    _stage(received, result, summary, period, warehouse)
    run_logger().info(
        "%s %s: received %d, loaded %d, quarantined %d, flagged %d (%s)",
        received.source,
        period,
        summary.rows_received,
        summary.rows_loaded,
        summary.rows_quarantined,
        summary.rows_flagged,
        summary.encoding,
    )
    return summary


def validated_before(received: ReceivedFile, period: str, warehouse: Path) -> SourceSummary | None:
    """The stored outcome of validating these exact bytes with this code, if there is one."""
    path = restricted_path(warehouse)
    if not path.exists():
        return None
    with open_restricted(warehouse) as con:
        row = con.execute(
            "select encoding, rows_received, rows_loaded, rows_quarantined, rows_flagged "
            "from audit.files where period = $period and source = $source and outcome = 'loaded' "
            "and sha256 = $sha and code_version = $code",
            {
                "period": first_day(period),
                "source": received.source,
                "sha": received.sha256,
                "code": code_fingerprint(),
            },
        ).fetchall()
        if not row:
            return None
        checks = con.execute(
            'select "check", severity, "rows" from audit.data_quality '
            'where period = $period and source = $source and "rows" > 0',
            {"period": first_day(period), "source": received.source},
        ).fetchall()
    encoding, rows_received, rows_loaded, rows_quarantined, rows_flagged = row[0]
    return SourceSummary(
        source=received.source,
        file=received.delivered,
        sha256=received.sha256,
        outcome="loaded",
        encoding=encoding,
        rows_received=rows_received,
        rows_loaded=rows_loaded,
        rows_quarantined=rows_quarantined,
        rows_flagged=rows_flagged or 0,
        errors={c: n for c, sev, n in checks if sev == "error"},
        warnings={c: n for c, sev, n in checks if sev == "warning"},
        notes=["validated by an earlier run from the same bytes and code"],
    )


@task(name="record_source_failure")
def record_failure(
    source: str,
    check: str,
    message: str,
    received: ReceivedFile | None,
    period: str,
    warehouse: Path,
    file: str | None = None,
) -> SourceSummary:
    """Note in ``audit.files`` that a source could not be read this period (its last good
    slice of staging stays as it was). ``file``: the file as delivered, when none was
    received into the landing store (a refused redelivery, two files for one source)."""
    summary = SourceSummary(
        source=source,
        file=received.delivered if received else file,
        sha256=received.sha256 if received else None,
        outcome="failed",
        message=message,
        failure_check=check,
    )
    row = _file_row(summary, received, period, failure_check=check)
    with open_restricted(warehouse) as con:
        con.execute("begin transaction")
        replace_slice(con, "audit.files", row, {"period": first_day(period), "source": source})
        con.execute("commit")
    run_logger().error("%s %s failed: %s", source, period, summary.message)
    return summary


def summarise(
    received: ReceivedFile, result: ValidationResult, encoding: str, notes: list[str]
) -> SourceSummary:
    """Counts per check for one validated source (for the CLI, artifacts and alerts)."""
    failing = result.checks.filter(pl.col("rows") > 0)

    def counts(severity: str) -> dict[str, int]:
        part = failing.filter(pl.col("severity") == severity)
        return dict(zip(part["check"], part["rows"], strict=True))

    return SourceSummary(
        source=received.source,
        file=received.delivered,
        sha256=received.sha256,
        outcome="loaded",
        encoding=encoding,
        rows_received=result.received,
        rows_loaded=result.loaded,
        rows_quarantined=result.quarantined,
        rows_flagged=result.flagged,
        errors=counts("error"),
        warnings=counts("warning"),
        notes=notes,
    )


def _file_row(
    summary: SourceSummary,
    received: ReceivedFile | None,
    period: str,
    failure_check: str | None = None,
) -> pl.DataFrame:
    loaded = summary.outcome == "loaded"
    row = {
        "period": first_day(period),
        "source": summary.source,
        "file_name": received.name if received else summary.file,
        "sha256": received.sha256 if received else None,
        "size_bytes": received.size if received else None,
        "received_at": dt.datetime.fromisoformat(received.received_at) if received else None,
        "receipt": received.status if received else None,
        "encoding": summary.encoding,
        "rows_received": summary.rows_received if loaded else None,
        "rows_loaded": summary.rows_loaded if loaded else None,
        "rows_quarantined": summary.rows_quarantined if loaded else None,
        "outcome": summary.outcome,
        "failure_check": failure_check,
        "failure_message": summary.message,
        "run_at": dt.datetime.now(dt.UTC),
        "code_version": code_fingerprint(),
        "rows_flagged": summary.rows_flagged if loaded else None,
        "delivered": received.delivered if received else summary.file,
    }
    return pl.DataFrame([row])


def _stage(
    received: ReceivedFile,
    result: ValidationResult,
    summary: SourceSummary,
    period: str,
    warehouse: Path,
) -> None:
    """Replace the period's slice of one source — its file row, staging, quarantine and counts
    per check — in one transaction (all in the restricted file; the warehouse changes only
    when the period is published)."""
    source = received.source
    where = {"period": first_day(period), "source": source}
    with open_restricted(warehouse) as con:
        con.execute("begin transaction")
        replace_slice(con, "audit.files", _file_row(summary, received, period), where)
        write_validated(con, result, period, received.sha256)
        con.execute("commit")
    failpoint(f"staged:{source}")
