"""The movement marts' identities are checked before publishing, and a breach is an error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from jkn.quality import CheckInputs, QualitySettings, run_checkpoint

PERIOD, AFTER = dt.date(2025, 5, 1), dt.date(2025, 6, 1)
CODES, LEVELS = ["16.08", "16.08.01"], ["kabupaten", "kecamatan"]


def _cards(period: dt.date, start: int, new: int, ended: int, end: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "period": [period] * 2,
            "region_code": CODES,
            "region_level": LEVELS,
            "segment": ["PBPU"] * 2,
            "cards_start": [start] * 2,
            "cards_new": [new] * 2,
            "cards_ended": [ended] * 2,
            "cards_moved_in": [0] * 2,
            "cards_moved_out": [0] * 2,
            "cards_end": [end] * 2,
            "cards_untracked": [1] * 2,
        }
    )


def _residents(period: dt.date, entered: int, covered_end: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "period": [period] * 2,
            "region_code": CODES,
            "region_level": LEVELS,
            "residents_start": [100] * 2,
            "residents_entered": [entered] * 2,
            "residents_left": [2] * 2,
            "residents_end": [100 + entered - 2] * 2,
            "covered_start": [90] * 2,
            "newly_covered": [3] * 2,
            "lost_coverage": [1] * 2,
            "covered_entered": [1] * 2,
            "covered_left": [2] * 2,
            "covered_end": [covered_end] * 2,
            "active_start": [80] * 2,
            "newly_active": [0] * 2,
            "lapsed": [0] * 2,
            "active_entered": [0] * 2,
            "active_left": [0] * 2,
            "active_end": [80] * 2,
        }
    )


def _inputs(cards: pl.DataFrame, residents: pl.DataFrame) -> CheckInputs:
    coverage = pl.DataFrame(
        {
            "region_code": CODES,
            "region_level": LEVELS,
            "population": [102] * 2,
            "registered": [51] * 2,
            "coverage_registered": [0.5] * 2,
            "activity_of_population": [0.4] * 2,
            "activity_of_registered": [0.8] * 2,
            "coverage_reconciled": [0.89] * 2,
            "activity_reconciled": [0.78] * 2,
            "covered_residents": [91] * 2,
            "active_residents": [80] * 2,
        }
    )
    activity = pl.DataFrame(
        {
            "region_code": CODES,
            "region_level": LEVELS,
            "segment": ["PBPU"] * 2,
            "registered": [51] * 2,
        }
    )
    bridge = pl.DataFrame(
        {
            "region_code": CODES,
            "region_level": LEVELS,
            "category": ["resident"] * 2,
            "rows": [51] * 2,
        }
    )
    return CheckInputs(
        period=PERIOD,
        marts={
            "coverage": coverage,
            "coverage_bridge": bridge,
            "activity_by_segment": activity,
            "card_movements": cards,
            "resident_movements": residents,
        },
        published={},
        extract_regions=pl.DataFrame({"region_code": CODES, "region_level": LEVELS}),
    )


def _failed(inputs: CheckInputs, root: Path) -> dict[tuple[str, str | None], tuple[str, list]]:
    report = run_checkpoint(inputs, QualitySettings(), root)
    return {(o.suite, o.column): (o.severity, o.examples) for o in report.outcomes if not o.success}


def test_balanced_movements_pass_and_breaches_are_errors(tmp_path: Path) -> None:
    balanced = _inputs(
        pl.concat([_cards(PERIOD, 48, 5, 3, 50), _cards(AFTER, 50, 1, 1, 50)]),
        _residents(PERIOD, entered=4, covered_end=91),
    )
    assert _failed(balanced, tmp_path / "a" / "jkn.gx") == {}

    broken = _inputs(
        # this month: 48 + 5 − 3 ≠ 49, and 49 + 1 untracked ≠ 51 registered; the month after
        # (recomputed with this one) 50 + 1 − 1 ≠ 52
        pl.concat([_cards(PERIOD, 48, 5, 3, 49), _cards(AFTER, 50, 1, 1, 52)]),
        # covered: 90 + 3 − 1 + 1 − 2 = 91, not 92; and 92 ≠ covered_residents 91
        _residents(PERIOD, entered=4, covered_end=92),
    )
    failed = _failed(broken, tmp_path / "b" / "jkn.gx")
    assert failed == {
        ("card_movements", "card_flow_gap"): ("error", ["16.08", "16.08", "16.08.01", "16.08.01"]),
        ("card_movements", "cards_minus_registered"): ("error", ["16.08", "16.08.01"]),
        ("resident_movements", "covered_gap"): ("error", ["16.08", "16.08.01"]),
        ("resident_movements", "covered_end_minus_covered_residents"): (
            "error",
            ["16.08", "16.08.01"],
        ),
    }
