"""Month-on-month bounds learned from a region's published history (jkn.quality.history):
the bound computation on hand-built frames, deterministic, without Great Expectations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest
from pydantic import ValidationError

from jkn.quality import CheckInputs, QualitySettings, Suite, suites
from jkn.quality.history import FIGURES, bounds, explain, read_published, wide

PERIOD = dt.date(2025, 5, 1)
HISTORY = [dt.date(2024, m, 1) for m in (10, 11, 12)] + [dt.date(2025, m, 1) for m in (1, 2, 3, 4)]
# a kab/kota of 10,000 residents: 10 persons are 0.1%, so the floor is the fixed bound's share
CODE, LEVEL = "16.08", "kabupaten"


def _coverage(period: dt.date, population: int, coverage: float = 0.9) -> dict:
    registered = round(population * coverage)
    return {
        "period": period,
        "region_code": CODE,
        "region_level": LEVEL,
        "population": population,
        "registered": registered,
        "active_registered": round(registered * 0.8),
        "coverage_registered": registered / population,
        "activity_of_population": round(registered * 0.8) / population,
        "coverage_reconciled": coverage,
    }


def _history(populations: list[int], coverages: list[float] | None = None) -> pl.DataFrame:
    """Published coverage for the last len(populations) months before PERIOD."""
    months = HISTORY[-len(populations) :]
    coverages = coverages or [0.9] * len(populations)
    return pl.DataFrame(
        [_coverage(p, n, c) for p, n, c in zip(months, populations, coverages, strict=True)]
    )


def _now(population: int, coverage: float = 0.9) -> pl.DataFrame:
    return pl.DataFrame([_coverage(PERIOD, population, coverage)]).drop("period")


def _band(
    current: dict[str, pl.DataFrame],
    published: dict[str, pl.DataFrame],
    figure: str,
    settings: QualitySettings | None = None,
) -> dict:
    banded = bounds(PERIOD, current, published, settings or QualitySettings())
    (row,) = banded.filter(pl.col("figure") == figure).to_dicts()
    return row


def _population(history: list[int], now: int, **settings: object) -> dict:
    return _band(
        {"coverage": _now(now)},
        {"coverage": _history(history)},
        "population_change",
        QualitySettings(**settings),  # type: ignore[arg-type]
    )


STEADY = [10_000] * 7  # seven months published: six changes, all zero


def test_a_flat_history_is_bounded_by_the_floor_not_flagging_small_changes() -> None:
    row = _population(STEADY, 10_001)  # one person more
    assert row["learned"] and row["months"] == 6 and row["median"] == 0
    # the floor: 0.2 × 5% = 1% (10 persons of 10,000 are only 0.1%)
    assert row["low"] == pytest.approx(-0.01) and row["high"] == pytest.approx(0.01)
    assert row["beyond"] == 0
    # 3% more: within the fixed 5%, beyond this region's steady history
    jump = _population(STEADY, 10_300)
    assert jump["x"] == pytest.approx(0.03) and jump["beyond"] == pytest.approx(0.02)


def test_in_a_small_region_the_floor_is_a_count_of_persons() -> None:
    row = _band(
        {"coverage": _now(500)},
        {"coverage": _history([500] * 7)},
        "population_change",
    )
    # 10 persons of 500 are 2%, wider than 1%
    assert row["high"] == pytest.approx(0.02)


def test_the_same_jump_passes_in_a_noisy_history() -> None:
    noisy = [10_000, 10_300, 10_000, 10_300, 10_000, 10_300, 10_000]  # ±3% every month
    row = _population(noisy, 10_300)
    assert row["learned"] and row["months"] == 6
    up, down = 0.03, 10_000 / 10_300 - 1
    assert row["median"] == pytest.approx((up + down) / 2)
    mad = (up - down) / 2  # every change lies this far from the median
    assert row["high"] - row["median"] == pytest.approx(4 * 1.4826 * mad)  # ±17.5%
    assert row["beyond"] == 0


def test_a_learned_bound_is_centred_on_the_regions_usual_growth() -> None:
    growing = [round(10_000 * 1.02**i) for i in range(7)]  # +2% every month
    steady_growth = _population(growing, round(growing[-1] * 1.02))
    assert steady_growth["median"] == pytest.approx(0.02, abs=1e-4)
    assert steady_growth["beyond"] == 0  # +2% again: as usual
    stalled = _population(growing, growing[-1])
    assert stalled["beyond"] < 0  # no growth at all is 2% below its usual


def test_fewer_than_the_minimum_months_falls_back_to_the_fixed_bound() -> None:
    two = [10_000] * 3  # three months published: two changes
    within = _population(two, 10_300)
    assert not within["learned"] and within["months"] == 2
    assert (within["low"], within["high"]) == (-0.05, 0.05)
    assert within["beyond"] == 0
    assert _population(two, 10_600)["beyond"] == pytest.approx(0.01)
    # the minimum is a setting
    assert _population(two, 10_300, history_min_months=2)["beyond"] == pytest.approx(0.02)


def test_only_the_last_k_published_months_count() -> None:
    # an old jump, 6 months back, then five steady months: with K=5 it is forgotten
    history = [10_000, 12_000, 12_000, 12_000, 12_000, 12_000, 12_000]
    assert _population(history, 12_300, history_months=6)["months"] == 6
    row = _population(history, 12_300, history_months=5)
    assert row["months"] == 5 and row["high"] == pytest.approx(0.01)


def test_no_month_before_means_no_change_and_no_check() -> None:
    published = {"coverage": _history([10_000] * 7).filter(pl.col("period") < HISTORY[-1])}
    row = _band({"coverage": _now(15_000)}, published, "population_change")
    assert row["x"] is None and row["beyond"] is None  # April was never published


def test_a_rate_is_bounded_in_points() -> None:
    steady = [0.90] * 7
    row = _band(
        {"coverage": _now(10_000, 0.93)},
        {"coverage": _history([10_000] * 7, steady)},
        "coverage_reconciled_change",
    )
    assert row["x"] == pytest.approx(0.03) and row["high"] == pytest.approx(0.01)
    assert row["beyond"] == pytest.approx(0.02)


# --------------------------------------------------------------------------------------------
# the movement marts


def _cards(period: dt.date | None, new_by_segment: list[int | None]) -> pl.DataFrame:
    flows = [f.column for f in FIGURES if f.mart == "card_movements"]
    rows = []
    for segment, new in zip(("PBI_APBN", "PBI_APBD", "PPU_SWASTA"), new_by_segment, strict=False):
        rows.append(
            {"region_code": CODE, "region_level": LEVEL, "segment": segment}
            | dict.fromkeys(flows, 0 if new is not None else None)
            | {"cards_new": new}
        )
    frame = pl.DataFrame(rows, schema_overrides=dict.fromkeys(flows, pl.Int64))
    return frame if period is None else frame.with_columns(pl.lit(period).alias("period"))


def _card_history(new: list[int]) -> pl.DataFrame:
    return pl.concat(
        [_cards(p, [n - 10, 5, 5]) for p, n in zip(HISTORY[-len(new) :], new, strict=True)]
    )


def test_a_movement_is_bounded_on_its_count_summed_over_segments() -> None:
    history = [100, 110, 90, 105, 95, 100]  # new cards per month, all segments
    current = {"coverage": _now(10_000), "card_movements": _cards(None, [110, 5, 5])}
    published = {"coverage": _history(STEADY), "card_movements": _card_history(history)}
    row = _band(current, published, "cards_new")
    assert row["kind"] == "flow" and row["x"] == 120 and row["months"] == 6
    assert row["median"] == 100
    # MAD 5 → 4 × 1.4826 × 5 = 29.7; the floor 4 × √100 = 40 is wider
    assert (row["low"], row["high"]) == (60, 140) and row["beyond"] == 0
    jump = _band({**current, "card_movements": _cards(None, [200, 5, 5])}, published, "cards_new")
    assert jump["beyond"] == pytest.approx(210 - 140)


def test_a_movement_without_history_or_without_a_month_before_is_not_bounded() -> None:
    current = {"coverage": _now(10_000), "card_movements": _cards(None, [9_000, 5, 5])}
    row = _band(current, {"coverage": _history(STEADY)}, "cards_new")  # never published
    assert row["months"] == 0 and row["low"] is None and row["beyond"] is None
    first = {"coverage": _now(10_000), "card_movements": _cards(None, [None, None, None])}
    published = {"coverage": _history(STEADY), "card_movements": _card_history([100] * 6)}
    assert _band(first, published, "cards_new")["x"] is None  # previous_published false


def test_a_mart_absent_from_the_period_is_not_checked() -> None:
    banded = bounds(
        PERIOD,
        {"coverage": _now(10_000)},
        {"coverage": _history(STEADY), "card_movements": _card_history([100] * 6)},
        QualitySettings(),
    )
    figures = set(banded["figure"])
    assert "cards_new" not in figures and "residents_entered" not in figures
    assert {"population_change", "registered_change", "coverage_reconciled_change"} <= figures


def test_resident_movements_are_checked_per_region() -> None:
    flows = [f.column for f in FIGURES if f.mart == "resident_movements"]

    def residents(period: dt.date | None, lapsed: int) -> pl.DataFrame:
        row = {"region_code": CODE, "region_level": LEVEL, **dict.fromkeys(flows, 20)}
        frame = pl.DataFrame([row | {"lapsed": lapsed}])
        return frame if period is None else frame.with_columns(pl.lit(period).alias("period"))

    published = {
        "coverage": _history(STEADY),
        "resident_movements": pl.concat([residents(p, 30) for p in HISTORY[-6:]]),
    }
    current = {"coverage": _now(10_000), "resident_movements": residents(None, 300)}
    banded = bounds(PERIOD, current, published, QualitySettings())
    failed = banded.filter(pl.col("beyond") != 0)["figure"].to_list()
    assert failed == ["lapsed"]  # 300 lapsed against a usual 30; the other flows as usual


# --------------------------------------------------------------------------------------------
# the suite's expectations and words


def _month_on_month(settings: QualitySettings) -> Suite:
    return next(s for s in suites(settings) if s.name == "month_on_month")


def _frame(current: dict, published: dict, settings: QualitySettings) -> pl.DataFrame:
    month_on_month = _month_on_month(settings)
    inputs = CheckInputs(PERIOD, current, published, pl.DataFrame())
    return month_on_month.frame(inputs)


def test_each_check_has_its_own_severity() -> None:
    settings = QualitySettings(
        movement_severity_by_check={"movements": "warning", "rates": "warning"}
    )
    current = {"coverage": _now(10_000), "card_movements": _cards(None, [110, 5, 5])}
    published = {"coverage": _history(STEADY), "card_movements": _card_history([100] * 6)}
    frame = _frame(current, published, settings)
    declared = _month_on_month(settings).expectations(settings, frame)
    severity = {e.kwargs["column"]: e.severity for e in declared}
    assert severity["population_change_beyond_bound"] == "error"  # movement_severity
    assert severity["registered_change_beyond_bound"] == "error"
    assert severity["coverage_reconciled_change_beyond_bound"] == "warning"
    assert severity["cards_new_beyond_bound"] == "warning"
    assert "residents_entered_beyond_bound" not in severity  # no such mart this period


def test_the_meaning_counts_regions_and_the_failure_names_the_bound() -> None:
    settings = QualitySettings()
    current = {"coverage": _now(10_300)}
    frame = _frame(current, {"coverage": _history(STEADY)}, settings)
    declared = _month_on_month(settings).expectations(settings, frame)
    population = next(e for e in declared if e.kwargs["column"] == "population_change_beyond_bound")
    assert "last 6 published months" in population.meaning
    assert "median ± 4 × robust spread, never narrower than ±1% or ±10 persons" in (
        population.meaning
    )
    assert (
        "this month's regions: 1 learned, 0 fixed (fewer than 3 published months), 0 not checked"
        in (population.meaning)
    )
    (words,) = explain(frame, "population_change_beyond_bound", [CODE], settings)
    assert words == "+3.0%, learned from 6 months: median +0.0%, allowed −1.0% … +1.0%"
    few = _frame(current, {"coverage": _history([10_000] * 2)}, settings)
    (words,) = explain(few, "population_change_beyond_bound", [CODE], settings)
    assert words == "+3.0%, fixed ±5%: fewer than 3 published months"


def test_settings_are_checked_with_plain_messages() -> None:
    with pytest.raises(ValidationError, match="history_min_months \\(7\\) is more than"):
        QualitySettings(history_min_months=7)
    with pytest.raises(ValidationError, match="movement_severity_by_check"):
        QualitySettings(movement_severity_by_check={"populasi": "warning"})  # type: ignore[dict-item]
    with pytest.raises(ValidationError, match="history_spread_multiple"):
        QualitySettings(history_spread_multiple=0)
    # the keys of before still mean what they meant
    old = QualitySettings(population_change_max=0.1, movement_severity="warning")
    assert old.movement_severity_of("population") == "warning"


# --------------------------------------------------------------------------------------------
# reading the published file


def test_read_published_takes_each_regions_last_months_and_skips_absent_marts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "jkn.duckdb"
    history = pl.concat(
        [
            _history([10_000] * 7),
            pl.DataFrame([_coverage(PERIOD, 10_000)]),  # this period, published before: not read
            pl.DataFrame([_coverage(HISTORY[-1], 10_000) | {"region_code": "16.08.01",
                                                          "region_level": "kecamatan"}]),
        ]
    )  # fmt: skip
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.register("h", history)
        con.execute("create table marts.coverage as select * from h")
    with duckdb.connect(str(path), read_only=True) as con:
        read = read_published(con, PERIOD, ["province", "kabupaten"], months=3)
    assert set(read) == {"coverage"}  # no movement marts published yet
    assert read["coverage"]["period"].sort().to_list() == HISTORY[-4:]
    assert set(read["coverage"]["region_level"]) == {LEVEL}
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        assert read_published(con, PERIOD, ["kabupaten"], months=3) == {}


def test_wide_has_one_row_per_region() -> None:
    banded = bounds(PERIOD, {"coverage": _now(10_000)}, {}, QualitySettings())
    frame = wide(banded, [f for f in FIGURES if f.mart == "coverage"])
    assert frame.height == 1
    assert frame["population_change"].to_list() == [None]  # nothing published: not checked
