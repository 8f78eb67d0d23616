"""Write one validated source into the restricted file: the one staging writer.

The monthly flow (``tasks/ingest.py``), the linkage benchmark and the tests all stage through
:func:`write_validated`, so that what they stage is the same: the loaded rows
(``staging.<source>``), the quarantined rows as received with their reasons
(``audit.quarantine``) and as parsed by the same code as the loaded ones
(``staging.quarantined_<source>``), and the counts per check (``audit.data_quality``).
Frames are registered and inserted, never turned into SQL text; they go to DuckDB as Arrow
tables of string views, polars' own layout, so that the rows are not copied on the way.
"""

from __future__ import annotations

import duckdb
import polars as pl

from jkn.ingest.validate import ValidationResult
from jkn.periods import first_day
from warehouse import replace_slice


def data_quality_rows(result: ValidationResult, period: str) -> pl.DataFrame:
    """The ``marts.data_quality`` rows of one validated source: counts only."""
    return result.checks.with_columns(
        pl.lit(first_day(period)).alias("period"),
        pl.lit(result.source).alias("source"),
        pl.lit(result.received, dtype=pl.Int64).alias("rows_received"),
        pl.lit(result.loaded, dtype=pl.Int64).alias("rows_loaded"),
        pl.lit(result.quarantined, dtype=pl.Int64).alias("rows_quarantined"),
    )


def write_validated(
    con: duckdb.DuckDBPyConnection, result: ValidationResult, period: str, file_sha256: str
) -> None:
    """Replace the period's slice of one source in staging, quarantine and the counts per
    check. Call inside the caller's transaction (with its ``audit.files`` row) so that a
    source's period is replaced whole or not at all."""
    day = first_day(period)
    source = result.source
    tagged = [pl.lit(day).alias("period"), pl.lit(file_sha256).alias("file_sha256")]
    where = {"period": day, "source": source}
    replace_slice(con, f"staging.{source}", result.staged.with_columns(tagged), {"period": day})
    replace_slice(
        con, f"staging.quarantined_{source}", result.held.with_columns(tagged), {"period": day}
    )
    quarantine = result.quarantine.with_columns(*tagged, pl.lit(source).alias("source"))
    replace_slice(con, "audit.quarantine", quarantine, where)
    # published to marts.data_quality with the period's other marts, never on its own
    replace_slice(con, "audit.data_quality", data_quality_rows(result, period), where)
