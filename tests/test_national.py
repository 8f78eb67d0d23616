"""The national run on a local Dask cluster of two worker processes: three generated provinces
refreshed one per worker, persons planted across them found through the NIK-hash exchange, and
every national figure equal to the generator's truth and to a run in one process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import read_table

PERIOD = "2025-05"
PARTITIONS = 4
MARTS = ["national_coverage", "cross_province"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from jkn.generate.national import generate_provinces

    root = tmp_path_factory.mktemp("national") / "landing"
    result = generate_provinces(root, PERIOD, persons=2000, planted=10)
    return {"root": root, "landings": result.landings, "truth": result.truth}


def _params(generated: dict, where: Path):  # type: ignore[no-untyped-def]
    from jkn.national import NationalParameters, ProvinceRun

    return NationalParameters(
        period=PERIOD,
        provinces=[
            ProvinceRun(code=code, landing=str(landing), warehouse=where / code / "jkn.duckdb")
            for code, landing in generated["landings"].items()
        ],
        warehouse=where / "national.duckdb",
        partitions=PARTITIONS,
    )


@pytest.fixture(scope="module")
def on_dask(prefect_harness: None, generated: dict) -> Iterator[tuple[Path, object]]:
    from flows.national import national_refresh
    from jkn.runners import dask_runner

    where = generated["root"].parent / "dask"
    saved = os.environ.get("PREFECT_API_URL")
    runner = dask_runner(workers=2)
    try:
        summary = national_refresh.with_options(task_runner=runner)(_params(generated, where))
        assert summary.published
        print(f"national on Dask: seconds {summary.seconds}, processes {summary.processes}")
        yield where, summary
    finally:
        if saved is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = saved


@pytest.fixture(scope="module")
def in_process(prefect_harness: None, generated: dict) -> tuple[Path, object]:
    """The same flow on its default task runner (threads of one process)."""
    from flows.national import national_refresh

    where = generated["root"].parent / "in-process"
    summary = national_refresh(_params(generated, where))
    assert summary.published
    print(f"national in process: seconds {summary.seconds}")
    return where, summary


def _mart(where: Path, mart: str) -> pl.DataFrame:
    return read_table(where / "national.duckdb", f"select * from marts.{mart} order by all")


def _rows(where: Path, mart: str) -> dict[str, dict]:
    return {r["region_code"]: r for r in _mart(where, mart).to_dicts()}


def test_provinces_run_one_per_worker_process(on_dask: tuple[Path, object]) -> None:
    summary = on_dask[1]
    assert summary.processes["provinces"] == 2  # type: ignore[attr-defined]
    assert [p.code for p in summary.provinces] == ["16", "17", "52"]  # type: ignore[attr-defined]
    assert all(p.persons_exchanged > 2000 for p in summary.provinces)  # type: ignore[attr-defined]


@pytest.mark.parametrize("run", ["on_dask", "in_process"])
def test_every_national_figure_is_the_generators_truth(
    run: str, request: pytest.FixtureRequest, generated: dict
) -> None:
    where, _ = request.getfixturevalue(run)
    truth = generated["truth"]
    coverage = _rows(where, "national_coverage")
    cross = _rows(where, "cross_province")
    assert set(coverage) == set(cross) == {"16", "17", "52", "ID"}
    for code, expected in truth["provinces"].items():
        assert coverage[code]["region_level"] == "province"
        for figure in ("population", "registered", "active_registered"):
            assert coverage[code][figure] == expected[figure], (code, figure)
        assert (
            coverage[code]["residents_carded_elsewhere"] == expected["residents_carded_elsewhere"]
        )
        assert (
            coverage[code]["uncovered_carded_elsewhere"] == expected["uncovered_carded_elsewhere"]
        )
        assert cross[code]["persons_carded_elsewhere_too"] == expected["carded_here_and_elsewhere"]
        assert (
            cross[code]["cross_province_double_funding"]
            == expected["cross_province_double_funding"]
        )
        assert (
            cross[code]["cross_province_double_funding_cost_idr"]
            == expected["cross_province_double_funding_cost_idr"]
        )
        assert cross[code]["residents_in_several_provinces"] == 0  # none planted
    nation = truth["national"]
    assert coverage["ID"]["region_level"] == "national"
    for figure in ("population", "registered", "active_registered"):
        assert coverage["ID"][figure] == nation[figure]
    assert coverage["ID"]["residents_carded_elsewhere"] == nation["residents_carded_elsewhere"]
    assert coverage["ID"]["uncovered_carded_elsewhere"] == nation["uncovered_carded_elsewhere"]
    assert (
        cross["ID"]["persons_carded_elsewhere_too"] == nation["persons_carded_in_several_provinces"]
    )
    assert cross["ID"]["cross_province_double_funding"] == nation["cross_province_double_funding"]
    assert (
        cross["ID"]["cross_province_double_funding_cost_idr"]
        == nation["cross_province_double_funding_cost_idr"]
    )
    assert cross["ID"]["premium_idr"] == truth["premium_idr"]


@pytest.mark.parametrize("run", ["on_dask", "in_process"])
def test_national_marts_sum_the_provinces_marts_and_recompute_rates(
    run: str, request: pytest.FixtureRequest
) -> None:
    where, _ = request.getfixturevalue(run)
    coverage = _rows(where, "national_coverage")
    cross = _rows(where, "cross_province")
    additive = [
        "population",
        "registered",
        "active_registered",
        "covered_residents",
        "active_residents",
        "uncovered_residents",
    ]
    for code in ("16", "17", "52"):
        own = read_table(
            where / code / "jkn.duckdb",
            "select * from marts.coverage where region_level = 'province' and region_code = $c",
            c=code,
        ).to_dicts()[0]
        for figure in [*additive, "coverage_reconciled", "subregions_in_list"]:
            assert coverage[code][figure] == own[figure], (code, figure)
        funded = read_table(
            where / code / "jkn.duckdb",
            "select coalesce(sum(persons), 0) from marts.double_funding "
            "where region_level = 'province' and region_code = $c",
            c=code,
        ).item()
        assert cross[code]["double_funding_persons"] == funded
        assert (
            coverage[code]["covered_residents_national"]
            == own["covered_residents"] + coverage[code]["uncovered_carded_elsewhere"]
        )
    nation = coverage["ID"]
    for figure in additive:
        assert nation[figure] == sum(coverage[c][figure] for c in ("16", "17", "52"))
    # rates from the sums, never an average of the provinces' rates
    assert nation["coverage_reconciled"] == nation["covered_residents"] / nation["population"]
    assert nation["activity_of_registered"] == (nation["active_registered"] / nation["registered"])
    assert (
        nation["coverage_national"] == nation["covered_residents_national"] / nation["population"]
    )
    assert nation["subregions_with_data"] == 3
    assert nation["subregions_in_list"] == 38
    assert cross["ID"]["double_funding_persons"] == sum(
        cross[c]["double_funding_persons"] for c in ("16", "17", "52")
    )


@pytest.mark.parametrize("mart", MARTS)
def test_dask_run_publishes_what_one_process_publishes(
    on_dask: tuple[Path, object], in_process: tuple[Path, object], mart: str
) -> None:
    here = _mart(in_process[0], mart)
    assert here.height == 4
    assert _mart(on_dask[0], mart).equals(here)
    assert on_dask[1].figures == in_process[1].figures  # type: ignore[attr-defined]


def test_no_nik_leaves_the_restricted_area(on_dask: tuple[Path, object], generated: dict) -> None:
    """The exchange is gone after the run; the national marts hold counts and names only."""
    where, _ = on_dask
    assert not any((where / "national.exchange").rglob("*.parquet"))
    for mart in MARTS:
        strings = _mart(where, mart).select(pl.col(pl.String))
        for column in strings.columns:
            assert not strings[column].str.contains(r"\d{16}").any()


def test_a_province_that_fails_leaves_the_national_period_unpublished(
    prefect_harness: None, generated: dict, tmp_path: Path
) -> None:
    from flows.national import national_refresh
    from jkn.national import ProvinceRun

    params = _params(generated, tmp_path).model_copy(
        update={
            "provinces": [
                ProvinceRun(
                    code="18", landing=str(tmp_path / "nothing"), warehouse=tmp_path / "18.duckdb"
                )
            ]
        }
    )
    state = national_refresh(params, return_state=True)
    assert state.is_failed()
    assert "province 18" in (state.message or "")
    assert not (tmp_path / "national.duckdb").exists()
