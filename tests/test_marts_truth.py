"""Marts against the generator's ground truth: two kab/kota of one province, two periods loaded
out of order, a rerun. Figures the truth knows exactly are asserted exactly; the bridge is
asserted row by row for every card whose person's identity reached us intact (cards with a
missing or mistyped NIK are the next issue's linking work and are asserted only to land in
`not_in_population` or `resident`/`duplicate`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypedDict

import polars as pl
import pytest

from jkn.generate import GenerateOptions, generate
from jkn.settings import restricted_path
from tests.conftest import read_table, refresh

pytestmark = pytest.mark.slow  # runs the Prefect flow (session harness)

REGIONS = ["17.07", "17.02"]
PERIODS = {"2024-06": 5, "2024-07": 6}  # period → seed
IDENTITY_DEFECTS = ["nik_typo", "nik_empty", "nik_excel_scientific", "nik_truncated"]


class Loaded(TypedDict):
    """The warehouse after the loads, each period's truth folder, and July's coverage mart
    read after its first load and after June's."""

    warehouse: Path
    truths: dict[str, Path]
    july_first: pl.DataFrame
    july_after_june: pl.DataFrame


@pytest.fixture(scope="module")
def loaded(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    root = tmp_path_factory.mktemp("truth")
    landing = root / "landing"
    truths = {}
    for period, seed in PERIODS.items():
        options = GenerateOptions(regions=REGIONS, period=period, persons=1200, seed=seed)
        truths[period] = generate(options, landing).truth_dir
    warehouse = root / "jkn.duckdb"
    refresh(landing, "2024-07", warehouse)
    july_first = read_table(warehouse, "select * from marts.coverage order by region_code")
    refresh(landing, "2024-06", warehouse)  # an earlier period, loaded after
    july_after_june = read_table(
        warehouse, "select * from marts.coverage where period = '2024-07-01' order by region_code"
    )
    refresh(landing, "2024-07", warehouse)  # a rerun
    return {
        "warehouse": warehouse,
        "truths": truths,
        "july_first": july_first,
        "july_after_june": july_after_june,
    }


def summary(loaded: Loaded, period: str) -> dict:
    return json.loads((loaded["truths"][period] / "summary.json").read_text())


@pytest.mark.parametrize("period", list(PERIODS))
@pytest.mark.parametrize("region", REGIONS)
def test_published_counts_equal_the_truth(loaded: Loaded, period: str, region: str) -> None:
    want = summary(loaded, period)["figures"][region]
    got = read_table(
        loaded["warehouse"],
        "select * from marts.coverage where period = $p and region_code = $r",
        p=f"{period}-01",
        r=region,
    ).row(0, named=True)
    assert (got["population"], got["registered"], got["active_registered"]) == (
        want["population"],
        want["registered"],
        want["active_registered"],
    )
    assert got["coverage_registered"] == pytest.approx(want["coverage_registered"], abs=1e-6)
    quarantined = read_table(
        loaded["warehouse"],
        'select "rows" from marts.coverage_bridge where period = $p and region_code = $r '
        "and category = 'quarantined'",
        p=f"{period}-01",
        r=region,
    ).item()
    assert quarantined == want["bridge"]["quarantined"]


def test_province_rolls_up_its_kabupaten(loaded: Loaded) -> None:
    frame = read_table(
        loaded["warehouse"],
        "select period, region_level, sum(population) p, sum(registered) r, "
        "sum(covered_residents) c from marts.coverage "
        "where region_level in ('province', 'kabupaten') group by all order by all",
    )
    for period in PERIODS:
        rows = {
            r["region_level"]: r
            for r in frame.filter(pl.col("period").cast(pl.String) == f"{period}-01").to_dicts()
        }
        assert rows["province"]["p"] == rows["kabupaten"]["p"] > 0
        assert rows["province"]["r"] == rows["kabupaten"]["r"] > 0
        # a resident with a card registered in the other kab/kota counts at province level
        assert rows["province"]["c"] >= rows["kabupaten"]["c"]


def test_every_bridge_adds_up_to_registered(loaded: Loaded) -> None:
    frame = read_table(
        loaded["warehouse"],
        'select c.period, c.region_code, c.registered, sum(b."rows") as bridged '
        "from marts.coverage c join marts.coverage_bridge b using (period, region_code) "
        "group by all",
    )
    assert frame.height > 100  # every level, both periods
    assert (frame["registered"] == frame["bridged"]).all()


def _truth_rows(loaded: Loaded, period: str) -> pl.DataFrame:
    return pl.read_parquet(loaded["truths"][period] / "rows.parquet")


def test_bridge_row_by_row_where_identity_is_intact(loaded: Loaded) -> None:
    period = "2024-07"
    truth = _truth_rows(loaded, period)
    damaged_people = (
        truth.filter(pl.col("defects").list.set_intersection(IDENTITY_DEFECTS).list.len() > 0)
        .select("person_id")
        .unique()
    )
    cards = truth.filter(pl.col("source") == "bpjs_membership")
    cleanup = read_table(
        restricted_path(loaded["warehouse"]),
        "select line, kabupaten_code, category from lists.cleanup where period = $p",
        p=f"{period}-01",
    )
    got = cards.join(cleanup, on="line", how="left").with_columns(
        pl.col("category").fill_null("resident")
    )
    clean = got.join(damaged_people, on="person_id", how="anti")
    wrong = clean.filter(pl.col("category") != pl.col("bridge_category"))
    assert clean.height > 0.9 * got.height
    assert wrong.height == 0, wrong.select("line", "defects", "bridge_category", "category")
    # cards of people whose NIK reached us damaged: never a category they cannot be in
    rest = got.join(damaged_people, on="person_id", how="semi")
    moved = rest.filter(pl.col("category") != pl.col("bridge_category"))
    assert set(moved["category"].unique()) <= {"not_in_population", "resident", "duplicate"}


def test_covered_residents_from_the_truth(loaded: Loaded) -> None:
    """Between two counts the truth knows: residents (with an intact Dukcapil NIK) holding a
    loaded card that carries their NIK — found by NIK alone — and those holding any loaded card
    at all. Linking by name, birth date, sex and place must close most of the gap."""
    period = "2024-07"
    truth = _truth_rows(loaded, period)
    persons = pl.read_parquet(loaded["truths"][period] / "persons.parquet")
    resident_rows = truth.filter(
        (pl.col("source") == "dukcapil")
        & (pl.col("defects").list.set_intersection(IDENTITY_DEFECTS).list.len() == 0)
    ).join(persons.filter(pl.col("dukcapil_status") == "HIDUP"), on="person_id")
    cards = truth.filter(
        (pl.col("source") == "bpjs_membership")
        & (pl.col("expected") == "loaded")
        & (pl.col("defects").list.set_intersection(IDENTITY_DEFECTS).list.len() == 0)
    )
    any_card = truth.filter(
        (pl.col("source") == "bpjs_membership") & (pl.col("expected") == "loaded")
    )
    by_nik = resident_rows.join(cards.select("person_id").unique(), on="person_id", how="semi")
    by_any = resident_rows.join(any_card.select("person_id").unique(), on="person_id", how="semi")
    for region in REGIONS:
        lower = by_nik.filter(pl.col("domicile_code").str.starts_with(region)).height
        upper = by_any.filter(pl.col("domicile_code").str.starts_with(region)).height
        got = read_table(
            loaded["warehouse"],
            "select covered_residents from marts.coverage where period = $p and region_code = $r",
            p=f"{period}-01",
            r=region,
        ).item()
        assert lower <= got <= upper
        assert upper > lower
        assert got - lower >= 0.9 * (upper - lower)


def test_periods_are_kept_and_a_rerun_replaces_only_its_own(loaded: Loaded) -> None:
    warehouse = loaded["warehouse"]
    periods = read_table(warehouse, "select distinct period from marts.coverage order by 1")
    assert [str(p) for p in periods["period"]] == ["2024-06-01", "2024-07-01"]
    july_now = read_table(
        warehouse, "select * from marts.coverage where period = '2024-07-01' order by region_code"
    )
    assert loaded["july_after_june"].equals(loaded["july_first"])
    assert july_now.equals(loaded["july_first"])
    grains = {
        "coverage_bridge": "period, region_code, category",
        "pbi_reconciliation": "period, region_code, category",
        "double_funding": "period, region_code",
        "uhc_status": "period, region_code",
        "activity_by_segment": "period, region_code, segment",
    }
    for table, grain in grains.items():
        dupes = read_table(
            warehouse, f"select count(*) - count(distinct ({grain})) from marts.{table}"
        ).item()
        assert dupes == 0, f"marts.{table} holds a period twice"


def test_lists_match_their_marts(loaded: Loaded) -> None:
    warehouse = loaded["warehouse"]
    restricted = restricted_path(warehouse)
    for period in PERIODS:
        p = f"{period}-01"
        for region in REGIONS:
            coverage = read_table(
                warehouse,
                "select * from marts.coverage where period = $p and region_code = $r",
                p=p,
                r=region,
            ).row(0, named=True)
            outreach = read_table(
                restricted,
                "select count(*) from lists.outreach where period = $p and kabupaten_code = $r",
                p=p,
                r=region,
            ).item()
            assert outreach == coverage["uncovered_residents"]
            cleanup = read_table(
                restricted,
                "select count(*) from lists.cleanup where period = $p and kabupaten_code = $r",
                p=p,
                r=region,
            ).item()
            resident = read_table(
                warehouse,
                'select "rows" from marts.coverage_bridge where period = $p '
                "and region_code = $r and category = 'resident'",
                p=p,
                r=region,
            ).item()
            assert cleanup == coverage["registered"] - resident
            funded = read_table(
                warehouse,
                "select coalesce(sum(persons), 0) from marts.double_funding "
                "where period = $p and region_code = $r",
                p=p,
                r=region,
            ).item()
            funding_list = read_table(
                restricted,
                "select count(*) from lists.double_funding where period = $p "
                "and kabupaten_code = $r",
                p=p,
                r=region,
            ).item()
            assert funding_list == funded
            pbi = read_table(
                warehouse,
                "select sum(persons) from marts.pbi_reconciliation where period = $p "
                "and region_code = $r and category <> 'listed_active_pbi'",
                p=p,
                r=region,
            ).item()
            pbi_list = read_table(
                restricted,
                "select count(*) from lists.pbi_reconciliation where period = $p "
                "and kabupaten_code = $r",
                p=p,
                r=region,
            ).item()
            assert pbi_list == pbi > 0


def test_no_identity_reaches_the_marts(loaded: Loaded) -> None:
    persons = pl.concat([pl.read_parquet(t / "persons.parquet") for t in loaded["truths"].values()])
    identities = set(persons["nik"].to_list()) | set(persons["name"].to_list())
    warehouse = loaded["warehouse"]
    tables = read_table(
        warehouse, "select table_name from information_schema.tables where table_schema='marts'"
    )["table_name"].to_list()
    for table in tables:
        frame = read_table(warehouse, f"select * from marts.{table}")
        for column in frame.columns:
            if frame[column].dtype == pl.String:
                assert not set(frame[column].drop_nulls().to_list()) & identities, (
                    f"marts.{table}.{column}"
                )


def test_every_bpjs_row_received_is_registered_somewhere_or_unplaced(loaded: Loaded) -> None:
    warehouse = loaded["warehouse"]
    frame = read_table(
        warehouse,
        "with reg as (select period, sum(registered) r from marts.coverage "
        "where region_level = 'kabupaten' group by period), "
        'unp as (select period, sum("rows") u from marts.rows_unplaced '
        "where source = 'bpjs_membership' group by period), "
        "rec as (select distinct period, rows_received from marts.data_quality "
        "where source = 'bpjs_membership') "
        "select rec.period, rows_received, r, coalesce(u, 0) u "
        "from rec join reg using (period) left join unp using (period)",
    )
    assert frame.height == len(PERIODS)
    for row in frame.to_dicts():
        assert row["r"] + row["u"] == row["rows_received"]
