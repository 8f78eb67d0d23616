"""The movement marts against the generator's truth: three consecutive months of two kab/kota
(planted new, ended, moved, deactivated and reactivated cards, deaths, moves and births in
Dukcapil, persons Dukcapil does not know), loaded in order and out of order."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from jkn.generate import GenerateOptions, generate_series
from jkn.quality import QualitySettings
from jkn.settings import restricted_path
from tests.conftest import read_table, refresh

pytestmark = pytest.mark.slow  # runs the Prefect flow (session harness)

REGIONS = ["17.07", "17.02"]
MONTHS = ["2025-03", "2025-04", "2025-05"]
# planted events move these small districts by more than a real month's 5%
LENIENT = QualitySettings(
    quarantine_rate_max=1.0,
    population_change_max=1.0,
    registered_change_max=1.0,
    active_change_max=1.0,
    rate_change_max=1.0,
)
KEYS = {
    "card_movements": ["period", "region_level", "region_code", "segment"],
    "resident_movements": ["period", "region_level", "region_code"],
}


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("series") / "landing"
    options = GenerateOptions(regions=REGIONS, period=MONTHS[0], persons=1200, seed=11)
    generate_series(options, len(MONTHS), root)
    return root


def _load(landing: Path, order: list[str], name: str) -> Path:
    target = landing.parent / name / "jkn.duckdb"
    for period in order:
        assert refresh(landing, period, target, quality=LENIENT).published, period
    return target


@pytest.fixture(scope="module")
def in_order(prefect_harness: None, landing: Path) -> Path:
    return _load(landing, MONTHS, "in_order")


@pytest.fixture(scope="module")
def out_of_order(prefect_harness: None, landing: Path) -> Path:
    """The last month first, then the first, then the middle one (which recomputes the last
    month's movements), then the first again (which recomputes the middle one's)."""
    return _load(landing, [MONTHS[2], MONTHS[0], MONTHS[1], MONTHS[0]], "out_of_order")


def _truth(landing: Path, table: str, period: str) -> pl.DataFrame:
    frame = pl.read_parquet(landing / "_truth" / period / f"{table}.parquet")
    return frame.drop("region_name").sort(KEYS[table])


def _mart(warehouse: Path, table: str, period: str) -> pl.DataFrame:
    frame = read_table(
        warehouse, f"select * from marts.{table} where period = $p", p=f"{period}-01"
    ).drop("region_name")
    return frame.sort(KEYS[table])


@pytest.mark.parametrize("table", list(KEYS))
@pytest.mark.parametrize("period", MONTHS)
@pytest.mark.parametrize("loaded", ["in_order", "out_of_order"])
def test_movements_equal_the_truth(
    loaded: str, period: str, table: str, landing: Path, request: pytest.FixtureRequest
) -> None:
    warehouse = request.getfixturevalue(loaded)
    truth, mart = _truth(landing, table, period), _mart(warehouse, table, period)
    assert truth.height > 0
    mart = mart.select(truth.columns).cast(dict(truth.schema))  # type: ignore[arg-type]
    if truth.equals(mart):
        return
    joined = truth.join(mart, on=KEYS[table], how="full", suffix="_mart", coalesce=True)
    differ = [
        c
        for c in truth.columns
        if c not in KEYS[table] and not joined[c].eq_missing(joined[f"{c}_mart"]).all()
    ]
    pytest.fail(f"{table} {period}: columns that differ from the truth: {differ}")


def test_every_planted_kind_moved_a_figure(in_order: Path) -> None:
    """The marts see the planted events: in the last month each flow is non-zero somewhere."""
    cards = _mart(in_order, "card_movements", MONTHS[2]).filter(
        pl.col("region_level") == "kabupaten"
    )
    for column in (
        "cards_new", "cards_ended", "cards_moved_in", "cards_moved_out", "activated",
        "deactivated_arrears", "deactivated_pbi", "deactivated_other", "new_active",
    ):  # fmt: skip
        assert cards[column].sum() > 0, column
    residents = _mart(in_order, "resident_movements", MONTHS[2]).filter(
        pl.col("region_level") == "kabupaten"
    )
    for column in ("residents_entered", "residents_left", "newly_covered", "lost_coverage"):
        assert residents[column].sum() > 0, column


def test_the_same_person_keeps_one_key_in_every_month(in_order: Path, landing: Path) -> None:
    """Every loaded card of one generated person has the same person_key in all three months,
    and no two persons share a key — for persons Dukcapil knows and those it does not."""
    rows = pl.concat(
        [
            pl.read_parquet(landing / "_truth" / p / "rows.parquet")
            .filter((pl.col("source") == "bpjs_membership") & (pl.col("expected") == "loaded"))
            .select("line", "person_id", period=pl.lit(f"{p}-01").str.to_date())
            for p in MONTHS
        ]
    )
    keys = read_table(
        restricted_path(in_order),
        "select period, line, person_key from intermediate.row_person "
        "where source = 'bpjs_membership'",
    )
    joined = rows.join(keys, on=["period", "line"], how="inner")
    assert joined.height == rows.height
    persons = pl.read_parquet(landing / "_truth" / MONTHS[2] / "persons.parquet")
    unknown = set(persons.filter(~pl.col("in_dukcapil"))["person_id"])
    assert joined.filter(pl.col("person_id").is_in(unknown)).height > 0
    per_person = joined.group_by("person_id").agg(pl.col("person_key").n_unique().alias("keys"))
    assert per_person.filter(pl.col("keys") > 1).height == 0
    per_key = joined.group_by("person_key").agg(pl.col("person_id").n_unique().alias("persons"))
    assert per_key.filter(pl.col("persons") > 1).height == 0
