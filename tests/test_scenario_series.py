"""A series that lands on a plan: ``generate_scenario_series`` (the demo's seed districts as
the month before and the seed month) and ``generate_series(land_on=...)``.

The last month must have each kab/kota's plan counts exactly (counted from the written files,
as ``tests.test_generate.figures_from_files`` does), the month before must differ a little,
the movements between them must be real, and the flow must publish the seed month's rates.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from jkn.generate import (
    SCENARIOS,
    GenerateOptions,
    GenerationResult,
    RegionPlan,
    generate_scenario_series,
    generate_series,
    lead_in,
)
from jkn.generate.model import DEFAULT_MIX
from tests.conftest import read_table, refresh
from tests.test_generate import figures_from_files

NAME = "lebong-2024-07"
SCALE = 0.03


@pytest.fixture(scope="module")
def lebong(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[GenerationResult]]:
    landing = tmp_path_factory.mktemp("lebong-series") / "landing"
    return landing, generate_scenario_series(NAME, landing, scale=SCALE)


def _counts(plans: list[RegionPlan]) -> dict[str, dict[str, int]]:
    return {
        p.code: {"population": p.population, "registered": p.registered, "active": p.active}
        for p in plans
    }


def test_the_seed_month_has_the_plans_counts_from_the_files(
    lebong: tuple[Path, list[GenerationResult]],
) -> None:
    _, results = lebong
    assert [r.period for r in results] == ["2024-06", "2024-07"]
    plans = SCENARIOS[NAME].plans(SCALE)
    last = results[-1]
    assert figures_from_files(last) == _counts(plans)  # both kab/kota, the context slice too
    for region in SCENARIOS[NAME].regions:
        figures = last.summary["figures"][region.code]
        assert (figures["population"], figures["registered"], figures["active_registered"]) == (
            _counts(plans)[region.code]["population"],
            _counts(plans)[region.code]["registered"],
            _counts(plans)[region.code]["active"],
        )
    lebong_figures = figures_from_files(last)["17.07"]
    pop = lebong_figures["population"]
    assert lebong_figures["registered"] / pop == pytest.approx(1.0071, abs=1e-4)
    assert lebong_figures["active"] / pop == pytest.approx(0.7541, abs=1e-4)
    assert last.summary["scenario"] == NAME


def test_the_month_before_leads_into_it(lebong: tuple[Path, list[GenerationResult]]) -> None:
    _, results = lebong
    before, seed = (r.summary["figures"]["17.07"] for r in results)
    assert before["population"] != seed["population"]
    # a few tenths of a point lower on both rates, rising into the seed month
    for rate in ("coverage_registered", "activity_of_population"):
        assert 0.0005 < seed[rate] - before[rate] < 0.006, rate


def test_the_movements_into_the_seed_month_are_real(
    lebong: tuple[Path, list[GenerationResult]],
) -> None:
    landing, _ = lebong
    truth = landing / "_truth" / "2024-07"
    cards = (
        pl.read_parquet(truth / "card_movements.parquet")
        .filter(region_code="17.07")
        .select(
            pl.col(
                "cards_new",
                "cards_ended",
                "activated",
                "deactivated_arrears",
                "deactivated_pbi",
                "deactivated_other",
            ).sum()
        )
        .row(0, named=True)
    )
    assert all(v > 0 for v in cards.values()), cards
    residents = (
        pl.read_parquet(truth / "resident_movements.parquet")
        .filter(region_code="17.07")
        .row(0, named=True)
    )
    for column in ("newly_covered", "lost_coverage", "newly_active", "lapsed"):
        assert residents[column] > 0, column
    assert residents["previous_published"] is True


def test_same_seed_same_bytes(lebong: tuple[Path, list[GenerationResult]], tmp_path: Path) -> None:
    landing, _ = lebong

    def tree(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.*"))
        }

    generate_scenario_series(NAME, tmp_path, scale=SCALE)
    assert tree(tmp_path) == tree(landing)


def test_three_kabupaten_three_months_land_on_a_custom_plan(tmp_path: Path) -> None:
    """More than two kab/kota (moves between them drawn at random) and a middle month; the
    small one starts 20 residents, cards and active cards above its lead-in, so births cannot
    land it: further moves out, ended cards and deactivations do."""
    target = [
        RegionPlan("16.07", 900, 880, 700, dict(DEFAULT_MIX)),
        RegionPlan("16.08", 700, 690, 560, dict(DEFAULT_MIX)),
        RegionPlan("16.73", 150, 140, 110, dict(DEFAULT_MIX)),
    ]
    start = lead_in(target, transitions=2)
    small = start[2]
    start[2] = RegionPlan(
        small.code, small.population + 20, small.registered + 20, small.active + 20, small.mix
    )
    options = GenerateOptions(
        regions=[p.code for p in target], period="2025-01", persons=900, seed=3, plans=start
    )
    results = generate_series(options, 3, tmp_path, land_on=target)
    assert figures_from_files(results[-1]) == _counts(target)
    assert figures_from_files(results[0]) != _counts(target)
    assert results[-1].summary["series"]["landed_on"][0]["population"] == 900
    assert "landed_on" not in results[1].summary["series"]
    events = results[-1].summary["series"]["events"]
    nominal = 3  # SeriesRates.minimum: a kab/kota of 150 gets that many of each kind
    assert events["16.73"]["moved_out"] > nominal
    assert events["16.73"]["card_ended"] > nominal
    assert events["16.73"].get("birth", 0) == 0


def test_land_on_needs_the_series_regions_and_a_second_month(tmp_path: Path) -> None:
    plan = RegionPlan("17.07", 500, 480, 380, dict(DEFAULT_MIX))
    options = GenerateOptions(regions=["17.07"], period="2025-01", persons=500, plans=[plan])
    with pytest.raises(ValueError, match="one plan per kab/kota"):
        generate_series(options, 2, tmp_path, land_on=[RegionPlan("17.02", 500, 480, 380)])
    with pytest.raises(ValueError, match="second month"):
        generate_series(options, 1, tmp_path, land_on=[plan])
    # more cards than the uncovered residents could enrol for: refused, counts named
    beyond = RegionPlan("17.07", 500, 900, 380, dict(DEFAULT_MIX))
    with pytest.raises(ValueError, match=r"17\.07: the series cannot land on 900 registered"):
        generate_series(options, 2, tmp_path, land_on=[beyond])


@pytest.mark.slow
def test_the_flow_publishes_the_seed_months_rates_and_its_movements(
    prefect_harness: None, lebong: tuple[Path, list[GenerationResult]]
) -> None:
    """As the demo runs it: the month before, then the seed month, default quality checks."""
    landing, results = lebong
    warehouse = landing.parent / "jkn.duckdb"
    for result in results:
        assert refresh(landing, result.period, warehouse).published, result.period
    region = SCENARIOS[NAME].regions[0]
    coverage = read_table(
        warehouse,
        "select * from marts.coverage where period = '2024-07-01' and region_code = $r",
        r=region.code,
    ).row(0, named=True)
    want = results[-1].summary["figures"][region.code]
    assert (coverage["population"], coverage["registered"], coverage["active_registered"]) == (
        want["population"],
        want["registered"],
        want["active_registered"],
    )
    assert coverage["coverage_registered"] == pytest.approx(region.coverage, abs=1e-4)
    assert coverage["activity_of_population"] == pytest.approx(region.activity, abs=1e-4)
    moved = read_table(
        warehouse,
        "select sum(cards_new) n, sum(cards_ended) e, sum(activated) a, "
        "sum(deactivated_arrears + deactivated_pbi + deactivated_other) d "
        "from marts.card_movements where period = '2024-07-01' and region_code = $r",
        r=region.code,
    ).row(0, named=True)
    assert all(v > 0 for v in moved.values()), moved
    truth = pl.read_parquet(landing / "_truth" / "2024-07" / "card_movements.parquet").filter(
        region_code=region.code
    )
    assert moved["n"] == truth["cards_new"].sum()
    assert moved["e"] == truth["cards_ended"].sum()
