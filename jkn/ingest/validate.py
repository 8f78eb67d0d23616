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
    rules = row_rules(schema.model)  # built again each run: a rule may read the rules CSVs
    size = chunk_rows()
    # at least one slice, empty when every record was unreadable, for the frames' shapes
    starts = range(0, max(frame.height, 1), size)
    parts = [_validate_slice(frame.slice(start, size), schema, rules) for start in starts]
    staged, quarantine, held, counts = (pl.concat(frames) for frames in zip(*parts, strict=True))
    del frame, parts
    if raw.rejects.height:
        unreadable = raw.rejects.select(
            pl.col(LINE).alias("line"),
            pl.concat_list(pl.lit(UNREADABLE)).alias("reasons"),
            _EMPTY.alias("flags"),
            pl.struct(pl.col("reason"), pl.col("raw")).struct.json_encode().alias("record"),
        )
        quarantine = pl.concat([quarantine, unreadable]).sort("line")

    checks = _check_counts(counts.sum(), schema, raw.rejects.height)
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
    frame: pl.DataFrame, schema: SourceSchema, rules: dict[str, pl.Expr]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Parse and check one slice of rows: its staged rows, quarantine (as received and as
    parsed) and the number of rows failing each check. Loaded and quarantined rows are parsed
    by the same expressions.

    One parse and one evaluation of every check per slice: the parsed slice carries one
    boolean column per check, and a row's reasons (its failed error checks) and flags (its
    failed warnings) are read from those columns, in the checks' alphabetical order, without
    a join back to the rows.
    """
    parsed = frame.lazy().with_columns(schema.parse()).collect()  # lazy: shared parts once
    checked = _checked(parsed, schema, rules)
    del parsed
    errors = sorted(c for c in rules if schema.severity(c) == "error")
    warnings = sorted(c for c in rules if schema.severity(c) == "warning")
    passes = pl.all_horizontal(errors) if errors else pl.lit(True)
    line = pl.col(LINE).alias("line")
    # lazy: only the columns each side keeps are filtered
    good = checked.lazy().filter(passes).select(*schema.staged, line, *warnings).collect()
    staged = good.select(*schema.staged, "line").with_columns(_failed(good, warnings, "flags"))
    raw_columns = [c for c in schema.columns if c in frame.columns]
    kept = (*raw_columns, *schema.staged, LINE, *rules)
    bad = checked.lazy().filter(~passes).select(kept).collect()
    quarantine = bad.select(
        line,
        _failed(bad, errors, "reasons"),
        _failed(bad, warnings, "flags"),
        pl.struct(raw_columns).struct.json_encode().alias("record"),
    )
    held = bad.select(*schema.staged, line)
    counts = checked.select((~pl.col(c)).sum().cast(pl.Int64) for c in rules)
    return staged, quarantine, held, counts


def _failed(checked: pl.DataFrame, checks: list[str], name: str) -> pl.Series:
    """For each row, the names of the listed checks it fails, in the order listed (a list,
    empty when it fails none).

    The row's failures are coded as one integer (bit ``k`` set when check ``k`` fails) and
    each code that occurs is spelled out once: a few distinct lists gathered to every row,
    instead of a list built per row.
    """
    if len(checks) > 62:
        raise ValueError(f"{len(checks)} checks of one severity: more than a code holds")
    bits = [pl.lit(0, dtype=pl.Int64)]
    bits += [pl.col(c).not_().cast(pl.Int64) * (1 << k) for k, c in enumerate(checks)]
    codes = checked.select(pl.sum_horizontal(bits).alias(name)).to_series()
    present = codes.unique().sort()
    spelled = pl.Series(
        name,
        [[c for k, c in enumerate(checks) if code >> k & 1] for code in present.to_list()],
        dtype=pl.List(pl.String),
    )
    index = pl.Series(range(present.len()), dtype=pl.get_index_type())
    return spelled.gather(codes.replace_strict(present, index))


def _checked(parsed: pl.DataFrame, schema: SourceSchema, rules: dict[str, pl.Expr]) -> pl.DataFrame:
    """The parsed rows with one boolean column per row check (true where the row passes),
    once pandera has validated their structure; every check evaluated in one lazy ``select``,
    so that the sub-expressions checks share are computed once."""
    _validate_structure(parsed, schema)
    return parsed.lazy().with_columns(rules.values()).collect()


def assert_rows_conserved(result: ValidationResult) -> None:
    """Every row received is either loaded or quarantined: a breach stops the run."""
    if result.received != result.loaded + result.quarantined:
        raise RowConservationError(
            f"{result.source}: received {result.received} rows but loaded {result.loaded} "
            f"and quarantined {result.quarantined}"
        )


def _failures(frame: pl.DataFrame, schema: SourceSchema) -> pl.DataFrame:
    """One row per (row position, failed check), with the check's severity, for a parsed
    frame: the checks as :func:`_validate_slice` evaluates them (:func:`_checked`)."""
    rules = row_rules(schema.model)
    found = (
        _checked(frame, schema, rules)
        .lazy()
        .select(_POS, *rules)
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


def _validate_structure(frame: pl.DataFrame, schema: SourceSchema) -> None:
    """pandera validates the frame's structure (columns present, dtypes); the row checks are
    evaluated apart, together (:func:`row_rules`)."""
    try:
        _structure(schema.model).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        structural = errors.failure_cases.filter(pl.col("index").is_null())
        if not structural.height:
            raise  # a failure of a row: none is possible without row checks
        # a column of the wrong type after parsing is a defect in the schema, not in data
        details = structural.select("check", "column").rows()
        raise TypeError(f"{schema.source}: staged frame breaks its schema: {details}") from None


@cache
def _structure(model: type[pa.DataFrameModel]) -> pa.DataFrameSchema:
    """The model's schema without its row checks: columns and dtypes only."""
    structure = copy.deepcopy(model.to_schema())
    structure.checks = []
    return structure


def _check_counts(counts: pl.DataFrame, schema: SourceSchema, unreadable: int) -> pl.DataFrame:
    """Every check that ran with the rows failing it (``counts``: one row, a column per
    check), the unreadable records counted under :data:`UNREADABLE`."""
    names = check_names(schema)
    return pl.DataFrame(
        {
            "check": [*names, UNREADABLE],
            "severity": [*(schema.severity(c) for c in names), "error"],
            "rows": [*(int(counts[c][0] or 0) for c in names), unreadable],
        },
        schema={"check": pl.String, "severity": pl.String, "rows": pl.Int64},
    ).sort("severity", "check")
