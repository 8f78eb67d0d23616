"""The flow on a Dask task runner: the linkage scored region by region on worker processes,
with the same outcome as in the flow's own process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from jkn.settings import restricted_path
from tests.conftest import read_table, refresh

PERIOD = "2025-05"
REGIONS = ["16.08", "17.07", "52.03"]
MARTS = ["coverage", "coverage_bridge", "double_funding", "activity_by_segment"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from jkn.generate import GenerateOptions, generate

    root = tmp_path_factory.mktemp("fan-out") / "landing"
    options = GenerateOptions(regions=REGIONS, period=PERIOD, persons=1500, linkage=True)
    generate(options, root)
    return root


@pytest.fixture(scope="module")
def in_process(prefect_harness: None, landing: Path) -> Path:
    warehouse = landing.parent / "in-process" / "jkn.duckdb"
    warehouse.parent.mkdir()
    assert refresh(landing, PERIOD, warehouse).published
    return warehouse


@pytest.fixture(scope="module")
def on_dask(prefect_harness: None, landing: Path) -> Iterator[tuple[Path, dict[str, int]]]:
    from flows.monthly_refresh import monthly_refresh
    from jkn.refresh import RefreshParameters
    from jkn.runners import dask_runner

    warehouse = landing.parent / "dask" / "jkn.duckdb"
    warehouse.parent.mkdir()
    saved = os.environ.get("PREFECT_API_URL")
    runner = dask_runner(workers=2)
    try:
        params = RefreshParameters(
            period=PERIOD, landing=str(landing), warehouse=warehouse, fan_out_regions=True
        )
        summary = monthly_refresh.with_options(task_runner=runner)(params)
        assert summary.published
        assert summary.fan_out is not None
        yield warehouse, summary.fan_out
    finally:
        if saved is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = saved


def test_regions_are_scored_as_tasks_on_several_worker_processes(
    in_process: Path, on_dask: tuple[Path, dict[str, int]]
) -> None:
    from jkn.refresh import RefreshParameters

    assert on_dask[1] == {"regions": len(REGIONS), "processes": 2}
    assert (
        RefreshParameters(period=PERIOD, landing="x", warehouse=in_process).fan_out_regions is False
    )


@pytest.fixture(scope="module")
def on_threads(prefect_harness: None, landing: Path) -> tuple[Path, dict[str, int] | None]:
    """fan_out_regions on the flow's default task runner (a thread pool, one process)."""
    warehouse = landing.parent / "threads" / "jkn.duckdb"
    warehouse.parent.mkdir()
    summary = refresh(landing, PERIOD, warehouse, fan_out_regions=True)
    assert summary.published
    return warehouse, summary.fan_out


def test_on_the_default_runner_regions_are_scored_as_threads_of_one_process(
    in_process: Path, on_threads: tuple[Path, dict[str, int]]
) -> None:
    assert on_threads[1] == {"regions": len(REGIONS), "processes": 1}
    sql = "select * from marts.coverage order by all"
    assert read_table(on_threads[0], sql).equals(read_table(in_process, sql))


def test_fanned_out_linkage_decides_exactly_as_in_process(
    in_process: Path, on_dask: tuple[Path, dict[str, int]]
) -> None:
    sql = (
        "select source, line, person_key, method from intermediate.row_person "
        "where period = $period order by source, line"
    )
    restricted = {w: restricted_path(w) for w in (in_process, on_dask[0])}
    here = read_table(restricted[in_process], sql, period=PERIOD + "-01")
    there = read_table(restricted[on_dask[0]], sql, period=PERIOD + "-01")
    assert here.height > 10_000
    linked = here.filter(pl.col("method") == "linked").height
    assert linked > 100  # the linkage preset leaves many NIKs to link by name and birth date
    assert there.equals(here)


@pytest.mark.parametrize("mart", MARTS)
def test_fanned_out_run_publishes_the_same_marts(
    in_process: Path, on_dask: tuple[Path, dict[str, int]], mart: str
) -> None:
    sql = f"select * from marts.{mart} order by all"
    here = read_table(in_process, sql)
    assert here.height > 0
    assert read_table(on_dask[0], sql).equals(here)
