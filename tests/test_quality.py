"""The marts' data-quality suites (Great Expectations), their Data Docs offline, and the
alerts a run raises from its sources' counts."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from jkn.alerts import Alert, render
from jkn.quality import CheckInputs, CheckpointReport, QualitySettings, run_checkpoint
from jkn.quality.datadocs import local_assets, remote_assets
from jkn.quality.history import FIGURES
from jkn.refresh import SourceSummary
from tasks.quality import mart_alerts, source_alerts

PERIOD = dt.date(2025, 5, 1)
LEVELS = ["province", "kabupaten", "kecamatan", "desa", "desa"]
CODES = ["16", "16.08", "16.08.01", "16.08.01.2001", "16.08.01.2002"]


def _coverage(**changes: list) -> pl.DataFrame:
    columns = {
        "region_code": CODES,
        "region_level": LEVELS,
        "population": [1000, 1000, 1000, 600, 400],
        "registered": [1007, 1007, 1007, 700, 307],
        # Lebong-like: BPJS cards over Dukcapil residents exceed 1 and are allowed to
        "coverage_registered": [1.007, 1.007, 1.007, 1.1667, 0.7675],
        "activity_of_population": [0.75, 0.75, 0.75, 1.05, 0.3],
        "activity_of_registered": [0.745, 0.745, 0.745, 0.9, 0.39],
        "coverage_reconciled": [0.95, 0.95, 0.95, 0.97, 0.92],
        "activity_reconciled": [0.7, 0.7, 0.7, 0.8, 0.55],
    }
    columns.update(changes)
    return pl.DataFrame(columns)


def _bridge(registered: list[int]) -> pl.DataFrame:
    rows = []
    for code, level, total in zip(CODES, LEVELS, registered, strict=True):
        rows += [
            {"region_code": code, "region_level": level, "category": "quarantined", "rows": 7},
            {"region_code": code, "region_level": level, "category": "resident", "rows": total - 7},
        ]
    return pl.DataFrame(rows)


def _published(coverage: pl.DataFrame, period: dt.date = dt.date(2025, 4, 1)) -> dict:
    """The published marts as the checks read them: ``coverage`` as the month before."""
    return {"coverage": coverage.with_columns(pl.lit(period).alias("period"))}


def _extract_regions(codes: list[str] = CODES) -> pl.DataFrame:
    levels = dict(zip(CODES, LEVELS, strict=True)) | {"16.08.01.2003": "desa"}
    return pl.DataFrame({"region_code": codes, "region_level": [levels[c] for c in codes]})


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> CheckpointReport:
    coverage = _coverage()
    inputs = CheckInputs(
        period=PERIOD,
        marts={"coverage": coverage, "coverage_bridge": _bridge(coverage["registered"].to_list())},
        published=_published(coverage.with_columns(pl.col("population") - 20)),  # +2%: within 5%
        extract_regions=_extract_regions(),
    )
    return run_checkpoint(inputs, QualitySettings(), tmp_path_factory.mktemp("gx") / "jkn.gx")


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> CheckpointReport:
    coverage = _coverage(coverage_reconciled=[0.95, 0.95, 0.95, 1.02, 0.92])  # a share above 1
    bridge = _bridge([1007, 1006, 1007, 700, 307])  # kab/kota 16.08 loses one card
    previous = coverage.with_columns(
        # 16.08 grew by 10% in a month; a village's 30% swing is not bounded
        pl.when(pl.col("region_level").is_in(["province", "kabupaten"]))
        .then(pl.col("population") - 91)
        .otherwise(pl.col("population") * 0.7)
        .cast(pl.Int64)
        .alias("population")
    )
    inputs = CheckInputs(
        period=PERIOD,
        marts={"coverage": coverage, "coverage_bridge": bridge},
        published=_published(previous),
        extract_regions=_extract_regions([*CODES, "16.08.01.2003"]),  # a village with no row
    )
    root = tmp_path_factory.mktemp("gx") / "jkn.gx"
    return run_checkpoint(inputs, QualitySettings(), root)


def _failed(report: CheckpointReport) -> dict[tuple[str, str | None], list[str]]:
    return {(o.suite, o.column): o.examples for o in report.outcomes if not o.success}


def test_clean_marts_meet_every_expectation(clean: CheckpointReport) -> None:
    assert [o for o in clean.outcomes if not o.success] == []
    suites = {o.suite for o in clean.outcomes}
    assert suites == {
        "coverage_rates",
        "populated_regions",
        "coverage_bridge",
        "extract_regions",
        "month_on_month",
        "card_movements",
        "resident_movements",
        "coverage_by_group",
    }


def test_each_fault_fails_its_expectation_and_names_the_region(faulty: CheckpointReport) -> None:
    assert _failed(faulty) == {
        ("coverage_rates", "coverage_reconciled"): ["16.08.01.2001"],
        ("coverage_bridge", "bridge_minus_registered"): ["16.08"],
        ("extract_regions", "has_row"): ["16.08.01.2003"],
        # province and kab/kota moved by 10%; the villages are not bounded
        ("month_on_month", "population_change_beyond_bound"): ["16", "16.08"],
    }
    assert all(o.severity == "error" for o in faulty.errors)


def test_movement_severity_is_configurable(tmp_path: Path) -> None:
    coverage = _coverage()
    inputs = CheckInputs(
        period=PERIOD,
        marts={"coverage": coverage, "coverage_bridge": _bridge(coverage["registered"].to_list())},
        published=_published(coverage.with_columns(pl.col("coverage_reconciled") - 0.2)),
        extract_regions=_extract_regions(),
    )
    settings = QualitySettings(movement_severity="warning", rate_change_max=0.1)
    report = run_checkpoint(inputs, settings, tmp_path / "jkn.gx")
    assert report.errors == []
    assert {(o.suite, o.column) for o in report.warnings} == {
        ("month_on_month", "coverage_reconciled_change_beyond_bound")
    }


def _cards(code: str, level: str, new: int) -> pl.DataFrame:
    """marts.card_movements of one region this period: ``new`` cards in PBI_APBN, 5 in PPU, no
    other flow (the flows balance: 1,000 cards at the start of each segment)."""
    flows = dict.fromkeys((f.column for f in FIGURES if f.mart == "card_movements"), 0)
    return pl.DataFrame(
        [
            {
                "period": PERIOD,
                "region_code": code,
                "region_level": level,
                "segment": segment,
                **flows,
                "cards_new": n,
                "cards_start": 1000,
                "cards_end": 1000 + n,
                "cards_untracked": 0,
            }
            for segment, n in (("PBI_APBN", new), ("PPU_PN", 5))
        ]
    )


def test_a_steady_history_flags_a_jump_the_fixed_bound_lets_through(tmp_path: Path) -> None:
    coverage = _coverage()  # 1,000 residents in 16 and in 16.08
    months = [dt.date(2024, 10, 1) + dt.timedelta(days=31 * i) for i in range(7)]
    months = [m.replace(day=1) for m in months]  # October 2024 … April 2025
    assert months[-1] == dt.date(2025, 4, 1)
    steady = coverage.with_columns(pl.lit(970).alias("population"))  # then +3.1% this month
    history = pl.concat(
        [
            steady.filter(
                # 16 published for seven months; 16.08 only for the last two
                (pl.col("region_code") != "16.08") | (pl.lit(m) >= months[-2])
            ).with_columns(pl.lit(m).alias("period"))
            for m in months
        ]
    )
    cards = pl.concat([_cards("16", "province", 100), _cards("16.08", "kabupaten", 100)])
    card_history = history.select("period", "region_code").join(
        cards.drop("period"), on="region_code"
    )
    now_cards = pl.concat([_cards("16", "province", 300), _cards("16.08", "kabupaten", 300)])
    inputs = CheckInputs(
        period=PERIOD,
        marts={
            "coverage": coverage,
            "coverage_bridge": _bridge(coverage["registered"].to_list()),
            "card_movements": now_cards,
        },
        published={"coverage": history, "card_movements": card_history},
        extract_regions=_extract_regions(),
    )
    settings = QualitySettings(movement_severity_by_check={"movements": "warning"})
    report = run_checkpoint(inputs, settings, tmp_path / "jkn.gx")
    # +3.1% in both; only 16 has the history to tell it is unusual (16.08: fixed ±5%)
    assert {(o.suite, o.column): o.examples for o in report.errors} == {
        ("month_on_month", "population_change_beyond_bound"): ["16"]
    }
    # 305 new cards in a month against a usual 105: a warning, as configured for movements
    # (16.08: not bounded without the history)
    assert {(o.suite, o.column): o.examples for o in report.warnings} == {
        ("month_on_month", "cards_new_beyond_bound"): ["16"]
    }
    alerts = {a.check: a for a in mart_alerts(report, "2025-05")}
    population = alerts[
        "month_on_month.expect_column_values_to_be_between on population_change_beyond_bound"
    ]
    assert population.severity == "error" and population.counts == {"unexpected": 1, "checked": 2}
    assert population.summary.endswith(
        "regions: 16 (+3.1%, learned from 6 months: median +0.0%, allowed −1.0% … +1.0%)"
    )
    assert (
        "this month's regions: 1 learned, 1 fixed (fewer than 3 published months)"
        in population.summary
    )
    cards_alert = alerts[
        "month_on_month.expect_column_values_to_be_between on cards_new_beyond_bound"
    ]
    assert cards_alert.severity == "warning"
    assert cards_alert.summary.endswith(
        "regions: 16 (305, learned from 6 months: median 105, allowed 64 … 146)"
    )
    # nothing else moved: registered and the rates are unchanged in both regions
    passed = {o.column for o in report.outcomes if o.suite == "month_on_month" and o.success}
    assert "registered_change_beyond_bound" in passed and "cards_ended_beyond_bound" in passed


def test_failed_expectations_become_alerts_naming_check_counts_and_docs(
    faulty: CheckpointReport,
) -> None:
    alerts = mart_alerts(faulty, "2025-05")
    bridge = next(a for a in alerts if "bridge_minus_registered" in a.check)
    assert bridge.severity == "error" and bridge.source == "marts"
    assert bridge.counts == {"unexpected": 1, "checked": 5}
    assert "16.08" in bridge.summary and "adds up to its registered" in bridge.summary
    assert str(faulty.data_docs) in bridge.where


def _groups(code: str, level: str, figures: tuple[int, int, int]) -> list[dict]:
    """marts.coverage_by_group of one region: ``figures`` (population, covered, active) in two
    groups, split 600 / 400, 500 / 450 and 300 / 400."""
    splits = [(600, 500, 300), (figures[0] - 600, figures[1] - 500, figures[2] - 300)]
    return [
        {
            "region_code": code,
            "region_level": level,
            "sex": sex,
            "age_band": "25-44",
            "population": population,
            "covered_residents": covered,
            "active_residents": active,
        }
        for sex, (population, covered, active) in zip(("L", "P"), splits, strict=True)
    ]


def test_groups_that_do_not_add_up_to_coverage_are_an_error(tmp_path: Path) -> None:
    coverage = _coverage(
        covered_residents=[950, 950, 950, 582, 368], active_residents=[700, 700, 700, 480, 220]
    )
    groups = pl.DataFrame(
        [
            *_groups("16.08", "kabupaten", (1000, 950, 700)),
            # one active resident lost in the kecamatan's groups
            *_groups("16.08.01", "kecamatan", (1000, 950, 699)),
        ]
    )
    inputs = CheckInputs(
        period=PERIOD,
        marts={
            "coverage": coverage,
            "coverage_bridge": _bridge(coverage["registered"].to_list()),
            "coverage_by_group": groups,
        },
        published=_published(coverage),
        extract_regions=_extract_regions(),
    )
    report = run_checkpoint(inputs, QualitySettings(), tmp_path / "jkn.gx")
    assert {(o.suite, o.column): o.examples for o in report.errors} == {
        ("coverage_by_group", "groups_minus_active_residents"): ["16.08.01"]
    }
    checked = {o.column: o for o in report.outcomes if o.suite == "coverage_by_group"}
    assert set(checked) == {
        "groups_minus_population",
        "groups_minus_covered_residents",
        "groups_minus_active_residents",
    }
    # the kab/kota and the kecamatan, not the province or the villages
    assert {o.element_count for o in checked.values()} == {2}


# --------------------------------------------------------------------------------------------
# Data Docs offline


def test_data_docs_load_nothing_from_the_network(faulty: CheckpointReport) -> None:
    assert faulty.data_docs is not None
    site = faulty.data_docs.parent
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 3  # index, expectation suites, validation results
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert remote_assets(html) == [], page
        for asset in local_assets(html):
            assert (page.parent / asset.split("?")[0]).resolve().is_file(), (page, asset)
    for sheet in site.rglob("*.css"):
        assert remote_assets(sheet.read_text(encoding="utf-8")) == [], sheet
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "static/vendor/bootstrap.min.css" in index
    assert "great-expectations-web-assets" not in index  # the remote logo is gone


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed (./dev installs it)")
def test_data_docs_render_in_chromium_with_the_network_cut_off(
    faulty: CheckpointReport, tmp_path: Path
) -> None:
    assert faulty.data_docs is not None
    done = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # every network name fails
            "--virtual-time-budget=5000",
            "--dump-dom",
            faulty.data_docs.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom = done.stdout
    # bootstrap-table's script ran (it wraps the table): the local scripts loaded
    assert 'class="bootstrap-table' in dom, done.stderr[-2000:]
    assert "month_on_month" in dom and "coverage_bridge" in dom


# --------------------------------------------------------------------------------------------
# alerts from the sources' counts


def _summary(source: str, received: int, quarantined: int, flagged: int = 0) -> SourceSummary:
    return SourceSummary(
        source=source,
        file=f"{source}.csv",
        outcome="loaded",
        rows_received=received,
        rows_loaded=received - quarantined,
        rows_quarantined=quarantined,
        rows_flagged=flagged,
        errors={"nik_is_16_digits": quarantined} if quarantined else {},
    )


def test_a_quarantine_rate_above_its_threshold_is_an_error() -> None:
    settings = QualitySettings(quarantine_rate_max=0.05)
    (alert,) = source_alerts(_summary("bpjs_membership", 1000, 51), "2025-05", settings)
    assert alert.severity == "error" and alert.check == "quarantine_rate"
    assert alert.counts["rows_quarantined"] == 51 and alert.counts["nik_is_16_digits"] == 51
    (below,) = source_alerts(_summary("bpjs_membership", 1000, 50, 3), "2025-05", settings)
    assert below.severity == "warning"
    assert source_alerts(_summary("dukcapil", 1000, 0), "2025-05", settings) == []


def test_a_threshold_can_be_set_per_source() -> None:
    settings = QualitySettings(quarantine_rate_max_by_source={"dinsos_pbi": 0.10})
    (alert,) = source_alerts(_summary("dinsos_pbi", 1000, 80), "2025-05", settings)
    assert alert.severity == "warning"


def test_an_unreadable_source_is_an_error_naming_the_reader_check() -> None:
    failed = SourceSummary(
        source="dukcapil",
        file="dukcapil.csv",
        outcome="failed",
        message="dukcapil.csv, line 1: the header has no NIK column",
        failure_check="required_columns_present",
    )
    (alert,) = source_alerts(failed, "2025-06", QualitySettings())
    subject, body = render([alert], "run-1")
    assert subject == "[jkn-uhc] ERROR 2025-06 dukcapil required_columns_present"
    assert "dukcapil.csv, line 1" in body and "where to look" in body


def test_warnings_are_one_short_digest_a_line_each() -> None:
    alerts = [
        Alert(
            severity="warning",
            period="2025-05",
            source=s,
            check="rows_quarantined_or_flagged",
            summary="12 rows quarantined (0.40%, threshold 5.00%)",
            where="marts.data_quality",
        )
        for s in ("dukcapil", "bpjs_membership")
    ]
    subject, body = render(alerts, "run-1")
    assert subject == "[jkn-uhc] 2025-05: 2 warning(s)"
    assert body.splitlines() == [
        "run: run-1",
        "",
        "- dukcapil rows_quarantined_or_flagged: 12 rows quarantined (0.40%, threshold 5.00%)",
        "- bpjs_membership rows_quarantined_or_flagged: 12 rows quarantined (0.40%, "
        "threshold 5.00%)",
        "",
        "where to look: marts.data_quality",
    ]
