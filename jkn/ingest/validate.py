"""Validate a raw extract with its pandera schema and split it into staged rows and quarantine.

Every check runs over every row (``lazy=True``): all failures are collected and stored, and only
then is each row decided — quarantined when any *error* check failed, loaded (with its flags)
otherwise. Rows the CSV parser could not split are quarantined too. Nothing is dropped:
``received == loaded + quarantined`` is asserted before anything is written.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache

import pandera.errors
import pandera.polars as pa
import polars as pl

from jkn.ingest.readers import LINE, RawExtract
from jkn.periods import last_day
from jkn.settings import settings
from schemas import SourceSchema
from schemas.common import PERIOD_END, row_rules

UNREADABLE = "record_readable"
_POS = "__pos"


@dataclass
class ValidationResult:
    """The outcome for one source and period."""

    source: str
    staged: pl.DataFrame  # the schema's staged columns + line + flags
    quarantine: pl.DataFrame  # line, reasons, flags, record (JSON of the row as received)
    # the staged columns of the quarantined rows that could be split into fields, parsed by
    # the same expressions as loaded rows (null where a field does not read) + line
    held: pl.DataFrame
    checks: pl.DataFrame  # check, severity, rows: every check that ran, failing or not
    received: int

    @property
    def loaded(self) -> int:
        return self.staged.height

    @property
    def quarantined(self) -> int:
        return self.quarantine.height

    @property
    def flagged(self) -> int:
        """Loaded rows that failed at least one warning check."""
        return int((self.staged["flags"].list.len() > 0).sum())


class RowConservationError(AssertionError):
    """Rows received and rows accounted for differ: a defect in the pipeline, never in data."""


def check_names(schema: SourceSchema) -> list[str]:
    """Names of every row check the source's model runs."""
    return [check.name for check in schema.model.to_schema().checks]


def chunk_rows() -> int:
    """Rows validated at a time (``JKN_VALIDATE_CHUNK_ROWS``, default 250,000): the checks'
    working memory grows with the rows checked at once, so a file is checked in slices and
    peak memory stays flat however large the extract."""
    return settings().validate_chunk_rows


def validate_extract(raw: RawExtract, schema: SourceSchema, period: str) -> ValidationResult:
    """Run the source's checks on every row; return staged rows, quarantine and check counts.

    Checks that look across rows (a key's repeats) are computed over the whole file first;
    then the rows are parsed and checked in slices of :func:`chunk_rows`.
    """
    frame = raw.frame.with_row_index(_POS).with_columns(pl.lit(last_day(period)).alias(PERIOD_END))
    frame = frame.with_columns(
        frame.lazy().with_columns(schema.parse()).select(schema.file_level()).collect()
    )
    size = chunk_rows()
    # at least one slice, empty when every record was unreadable, for the frames' shapes
    starts = range(0, max(frame.height, 1), size)
    parts = [_validate_slice(frame.slice(start, size), schema) for start in starts]
    staged, quarantine, held, failures = (pl.concat(frames) for frames in zip(*parts, strict=True))
    del frame, parts
    if raw.rejects.height:
        unreadable = raw.rejects.select(
            pl.col(LINE).alias("line"),
            pl.concat_list(pl.lit(UNREADABLE)).alias("reasons"),
            _EMPTY.alias("flags"),
            pl.struct(pl.col("reason"), pl.col("raw")).struct.json_encode().alias("record"),
        )
        quarantine = pl.concat([quarantine, unreadable]).sort("line")

    checks = _check_counts(failures, schema, raw.rejects.height)
    result = ValidationResult(
        source=schema.source,
        staged=staged,
        quarantine=quarantine,
        held=held,
        checks=checks,
        received=raw.received,
    )
    assert_rows_conserved(result)
    return result


_EMPTY = pl.lit([], dtype=pl.List(pl.String))


def _validate_slice(
    frame: pl.DataFrame, schema: SourceSchema
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Parse and check one slice of rows: its staged rows, quarantine (as received and as
    parsed) and failures. Loaded and quarantined rows are parsed by the same expressions."""
    frame = frame.lazy().with_columns(schema.parse()).collect()  # lazy: shared parts once
    failures = _failures(frame, schema)
    per_row = failures.group_by(_POS).agg(
        pl.col("check").filter(pl.col("severity") == "error").sort().alias("reasons"),
        pl.col("check").filter(pl.col("severity") == "warning").sort().alias("flags"),
    )
    frame = frame.join(per_row, on=_POS, how="left").with_columns(
        pl.col("reasons").fill_null(_EMPTY), pl.col("flags").fill_null(_EMPTY)
    )
    bad = pl.col("reasons").list.len() > 0
    staged = frame.filter(~bad).select(*schema.staged, pl.col(LINE).alias("line"), "flags")
    raw_columns = [c for c in schema.columns if c in frame.columns]
    quarantine = frame.filter(bad).select(
        pl.col(LINE).alias("line"),
        "reasons",
        "flags",
        pl.struct(raw_columns).struct.json_encode().alias("record"),
    )
    held = frame.filter(bad).select(*schema.staged, pl.col(LINE).alias("line"))
    return staged, quarantine, held, failures


def assert_rows_conserved(result: ValidationResult) -> None:
    """Every row received is either loaded or quarantined: a breach stops the run."""
    if result.received != result.loaded + result.quarantined:
        raise RowConservationError(
            f"{result.source}: received {result.received} rows but loaded {result.loaded} "
            f"and quarantined {result.quarantined}"
        )


def _failures(frame: pl.DataFrame, schema: SourceSchema) -> pl.DataFrame:
    """One row per (row position, failed check), with the check's severity.

    pandera validates the frame's structure (columns present, dtypes); the row checks — the
    model's pandera dataframe checks — are then evaluated together, in one ``select`` over the
    slice (shared sub-expressions computed once), rather than one pandera query each.
    """
    try:
        _structure(schema.model).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        structural = errors.failure_cases.filter(pl.col("index").is_null())
        if not structural.height:
            raise  # a failure of a row: none is possible without row checks
        # a column of the wrong type after parsing is a defect in the schema, not in data
        details = structural.select("check", "column").rows()
        raise TypeError(f"{schema.source}: staged frame breaks its schema: {details}") from None
    rules = row_rules(schema.model)  # built again each time: a rule may read the rules CSVs
    found = (
        frame.lazy()  # lazy, so that the sub-expressions checks share are computed once
        .select(_POS, *rules.values())
        .filter(~pl.all_horizontal(list(rules)))  # the few rows failing any check
        .unpivot(index=_POS, variable_name="check", value_name="ok")
        .filter(~pl.col("ok"))
        .select(_POS, "check")
        .collect()
    )
    severity = {check: schema.severity(check) for check in rules}
    return found.with_columns(
        pl.col("check").replace_strict(severity, return_dtype=pl.String).alias("severity")
    )


@cache
def _structure(model: type[pa.DataFrameModel]) -> pa.DataFrameSchema:
    """The model's schema without its row checks: columns and dtypes only."""
    structure = copy.deepcopy(model.to_schema())
    structure.checks = []
    return structure


def _check_counts(failures: pl.DataFrame, schema: SourceSchema, unreadable: int) -> pl.DataFrame:
    counts = failures.group_by("check").agg(pl.len().cast(pl.Int64).alias("rows"))
    every = pl.DataFrame(
        {
            "check": [*check_names(schema), UNREADABLE],
            "severity": [*(schema.severity(c) for c in check_names(schema)), "error"],
        }
    )
    return (
        every.join(counts, on="check", how="left")
        .with_columns(
            pl.when(pl.col("check") == UNREADABLE)
            .then(pl.lit(unreadable, dtype=pl.Int64))
            .otherwise(pl.col("rows").fill_null(0))
            .alias("rows")
        )
        .sort("severity", "check")
    )
