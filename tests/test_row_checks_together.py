"""The row checks evaluated together in one ``select`` give pandera's own answer.

:func:`jkn.ingest.validate._failures` evaluates every check of a source at once from the rules
the model declares (:func:`schemas.common.row_rules`); the checks stay pandera dataframe
checks. On a messy generated extract (defect rates raised so that most checks fail somewhere)
and on the hand-made rows of the schema tests, the (row, check) failures must equal the
failure cases of pandera's ``validate(lazy=True)`` exactly, for each source.
"""

from __future__ import annotations

from pathlib import Path

import pandera.errors
import polars as pl
import pytest

from jkn.generate import GenerateOptions, generate
from jkn.generate.model import DefectRates
from jkn.ingest import validate
from jkn.ingest.readers import read_extract
from jkn.periods import last_day
from schemas import SCHEMAS
from schemas.common import PERIOD_END, row_rules
from tests.conftest import rows_of, write_csv

PERIOD = "2025-05"
_POS = validate._POS


def _parsed(path: Path, source: str, workdir: Path) -> pl.DataFrame:
    """The frame the checks run on, prepared as validate_extract prepares it."""
    schema = SCHEMAS[source]
    raw = read_extract(path, source, schema.required, schema.optional, workdir)
    frame = raw.frame.with_row_index(_POS).with_columns(pl.lit(last_day(PERIOD)).alias(PERIOD_END))
    frame = frame.with_columns(
        frame.lazy().with_columns(schema.parse()).select(schema.file_level()).collect()
    )
    return frame.with_columns(schema.parse())


def _pandera(frame: pl.DataFrame, source: str) -> set[tuple[int, str]]:
    try:
        SCHEMAS[source].model.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        assert cases.filter(pl.col("index").is_null()).height == 0
        return set(cases.select(pl.col("index").cast(pl.Int64), "check").rows())
    return set()


def _together(frame: pl.DataFrame, source: str) -> set[tuple[int, str]]:
    found = validate._failures(frame, SCHEMAS[source])
    schema = SCHEMAS[source]
    assert found.height == found.unique().height
    for check, severity in found.select("check", "severity").unique().rows():
        assert severity == schema.severity(check)
    return set(found.select(pl.col(_POS).cast(pl.Int64), "check").rows())


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("messy")
    options = GenerateOptions(
        regions=["16.08"],
        period=PERIOD,
        persons=1500,
        seed=14,
        rates=DefectRates().scaled(8.0),
        formats={s: "csv" for s in SCHEMAS},
    )
    return generate(options, root / "landing").files


@pytest.mark.parametrize("source", sorted(SCHEMAS))
def test_generated_extract_fails_as_pandera_says(
    source: str, messy: dict[str, Path], tmp_path: Path
) -> None:
    frame = _parsed(messy[source], source, tmp_path)
    expected = _pandera(frame, source)
    assert len({check for _, check in expected}) >= 5, "the extract should be messier"
    assert _together(frame, source) == expected


@pytest.mark.parametrize("source", sorted(SCHEMAS))
def test_hand_made_rows_fail_as_pandera_says(source: str, tmp_path: Path) -> None:
    blanks = {column: "" for column in SCHEMAS[source].columns}
    junk = {column: "x\u200b9" for column in SCHEMAS[source].columns}
    rows = rows_of(source, {}, blanks, junk, {"NIK": "3.20101E+15"}, {})
    path = write_csv(tmp_path / f"{source}.csv", rows)
    frame = _parsed(path, source, tmp_path)
    expected = _pandera(frame, source)
    assert expected
    assert _together(frame, source) == expected


@pytest.mark.parametrize("source", sorted(SCHEMAS))
def test_rules_are_the_models_checks(source: str) -> None:
    schema = SCHEMAS[source]
    assert list(row_rules(schema.model)) == validate.check_names(schema)


@pytest.mark.parametrize("source", sorted(SCHEMAS))
def test_a_parsed_column_of_the_wrong_type_is_a_schema_defect(source: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / f"{source}.csv", rows_of(source, {}, {}))
    frame = _parsed(path, source, tmp_path)
    with pytest.raises(TypeError, match=r"staged frame breaks its schema.*tgl_lahir"):
        validate._failures(frame.with_columns(pl.col("tgl_lahir").cast(pl.String)), SCHEMAS[source])
    with pytest.raises(TypeError, match=r"staged frame breaks its schema.*column_in_dataframe"):
        validate._failures(frame.drop("nama"), SCHEMAS[source])
