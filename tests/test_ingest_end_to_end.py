"""From generated messy extracts to staging, row by row against the generator's ground truth."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from jkn.generate import GenerateOptions, GenerationResult, generate
from jkn.ingest.readers import read_extract
from jkn.ingest.validate import validate_extract
from jkn.settings import SOURCES, restricted_path
from schemas import SCHEMAS

PERIOD = "2024-07"
# The check that must be among a row's reasons (or flags) for each defect the generator injects.
DEFECT_CHECK = {
    "nik_excel_scientific": "nik_not_excel_scientific",
    "nik_truncated": "nik_is_16_digits",
    "nik_empty": "nik_present",
    "dob_nik_mismatch": "nik_dob_matches",
    "sex_nik_mismatch": "nik_sex_matches",
    "noka_zeros_stripped": "noka_is_13_digits",
    "noka_duplicate_in_file": "noka_unique_in_file",
    "dob_future": "dob_not_in_future",
    "dob_unparseable": "dob_is_date",
    "segment_unknown": "segment_is_known",
    "village_unknown": "village_code_known",
    "nik_old_region": "nik_region_current",
    "name_empty": "name_present",
    "desil_out_of_range": "desil_is_1_to_10",
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> GenerationResult:
    landing = tmp_path_factory.mktemp("landing")
    options = GenerateOptions(regions=["17.07", "17.02"], period=PERIOD, persons=2500, seed=11)
    return generate(options, landing)


@pytest.fixture(scope="module")
def outcomes(
    generated: GenerationResult, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, pl.DataFrame]:
    """Per source: every received row with its destination, reasons and flags."""
    workdir = tmp_path_factory.mktemp("work")
    out = {}
    for source in SOURCES:
        schema = SCHEMAS[source]
        raw = read_extract(
            generated.files[source], source, schema.required, schema.optional, workdir
        )
        result = validate_extract(raw, schema, PERIOD)
        loaded = result.staged.select(
            "line",
            pl.lit("loaded").alias("got"),
            pl.lit([], pl.List(pl.String)).alias("reasons"),
            "flags",
        )
        quarantined = result.quarantine.select(
            "line", pl.lit("quarantined").alias("got"), "reasons", "flags"
        )
        out[source] = pl.concat([loaded, quarantined])
        assert result.received == result.loaded + result.quarantined
    return out


def _joined(
    generated: GenerationResult, outcomes: dict[str, pl.DataFrame], source: str
) -> pl.DataFrame:
    truth = pl.read_parquet(generated.truth_dir / "rows.parquet").filter(pl.col("source") == source)
    got = outcomes[source]
    assert got.height == truth.height, "every row written is received"
    return truth.join(got, on="line", how="full", coalesce=True)


@pytest.mark.parametrize("source", SOURCES)
def test_every_row_lands_where_the_truth_says(
    generated: GenerationResult, outcomes: dict[str, pl.DataFrame], source: str
) -> None:
    joined = _joined(generated, outcomes, source)
    wrong = joined.filter(pl.col("expected") != pl.col("got"))
    assert wrong.height == 0, wrong.select("line", "defects", "expected", "got", "reasons").head(10)
    assert joined.filter(pl.col("got") == "quarantined").height > 0
    assert joined.filter(pl.col("got") == "loaded").height > joined.height * 0.8


@pytest.mark.parametrize("source", SOURCES)
def test_each_defect_is_named_by_its_check(
    generated: GenerationResult, outcomes: dict[str, pl.DataFrame], source: str
) -> None:
    joined = _joined(generated, outcomes, source).with_columns(
        pl.concat_list("reasons", "flags").alias("checks")
    )
    per_defect = joined.explode("defects").filter(pl.col("defects").is_in(list(DEFECT_CHECK)))
    assert per_defect.height > 0
    seen = set()
    for defect, check in DEFECT_CHECK.items():
        rows = per_defect.filter(pl.col("defects") == defect)
        if rows.height == 0:
            continue
        seen.add(defect)
        missing = rows.filter(~pl.col("checks").list.contains(check))
        assert missing.height == 0, f"{defect}: {missing.height} rows without {check}"
    assert seen, f"the generator injected no known defect into {source}"


@pytest.mark.parametrize("source", SOURCES)
def test_clean_rows_carry_no_flag(
    generated: GenerationResult, outcomes: dict[str, pl.DataFrame], source: str
) -> None:
    joined = _joined(generated, outcomes, source)
    clean = joined.filter(pl.col("defects").list.len() == 0)
    flagged = clean.filter((pl.col("flags").list.len() > 0) | (pl.col("reasons").list.len() > 0))
    assert clean.height > 0
    assert flagged.height == 0, flagged.select("line", "reasons", "flags").head(10)


@pytest.mark.slow
def test_monthly_refresh_flow_loads_staging_as_the_truth_says(
    generated: GenerationResult,
    prefect_harness: None,
    tmp_path: Path,
) -> None:
    from flows.monthly_refresh import monthly_refresh
    from jkn.refresh import RefreshParameters

    landing = generated.files["dukcapil"].parent.parent
    warehouse = tmp_path / "jkn.duckdb"
    params = RefreshParameters(period=PERIOD, landing=str(landing), warehouse=warehouse)
    summary = monthly_refresh(params)
    truth = pl.read_parquet(generated.truth_dir / "rows.parquet")
    expected = truth.group_by("source", "expected").len()

    def want(source: str, where: str) -> int:
        hit = expected.filter((pl.col("source") == source) & (pl.col("expected") == where))
        return int(hit["len"].sum())

    with duckdb.connect(str(restricted_path(warehouse)), read_only=True) as con:
        for source in SOURCES:
            (staged,) = con.sql(f"select count(*) from staging.{source}").fetchall()[0]
            (quarantined,) = con.sql(
                "select count(*) from audit.quarantine where source = $s", params={"s": source}
            ).fetchall()[0]
            assert staged == want(source, "loaded")
            assert quarantined == want(source, "quarantined")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        totals = con.sql(
            "select source, any_value(rows_received), any_value(rows_loaded), "
            "any_value(rows_quarantined) from marts.data_quality group by source"
        ).fetchall()
    for source, received, loaded, quarantined in totals:
        assert (
            received == loaded + quarantined == want(source, "loaded") + want(source, "quarantined")
        )
    by_source = {s.source: s for s in summary.sources}
    assert by_source["bpjs_membership"].rows_loaded == want("bpjs_membership", "loaded")

    # a rerun of the same period replaces it: same counts, nothing appended; the same bytes
    # validated by the same code are not validated again (cached by input checksum)
    again = monthly_refresh(params)
    assert [s.model_dump(exclude={"notes"}) for s in again.sources] == [
        s.model_dump(exclude={"notes"}) for s in summary.sources
    ]
    assert all(
        "validated by an earlier run from the same bytes and code" in s.notes for s in again.sources
    )
    with duckdb.connect(str(restricted_path(warehouse)), read_only=True) as con:
        (staged,) = con.sql("select count(*) from staging.bpjs_membership").fetchall()[0]
    assert staged == want("bpjs_membership", "loaded")
