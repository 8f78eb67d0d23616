"""`jkn bench`: the pipeline benchmark measures every stage of a real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jkn.bench.pipeline import STAGES, SizeResult, benchmark, exponent


def _result(persons: int, seconds: float, gb: float) -> SizeResult:
    return SizeResult(
        persons=persons,
        rows=persons * 3,
        bare_read_seconds=1.0,
        bare_read_peak_rss_gb=0.1,
        pipeline_seconds=seconds,
        stages_seconds=seconds,
        fixed_seconds=0.0,
        peak_rss_gb=gb,
        ratio_to_bare_read=seconds,
        stages=[],
    )


def test_scaling_exponent_is_the_slope_of_log_cost_over_log_size() -> None:
    linear = [_result(n, n / 1000, 1.0) for n in (1_000, 10_000, 100_000)]
    assert exponent(linear, "pipeline_seconds") == 1.0
    assert exponent(linear, "peak_rss_gb") == 0.0
    quadratic = [_result(n, (n / 1000) ** 2, 1.0) for n in (1_000, 10_000)]
    assert exponent(quadratic, "pipeline_seconds") == 2.0


def test_a_stage_between_two_samples_takes_the_larger_neighbour() -> None:
    from jkn.bench.pipeline import _peak

    gib = 1024**3
    samples = [(0.0, 1 * gib), (0.05, 2 * gib), (0.10, 3 * gib)]
    assert _peak(samples, 0.06, 0.07) == 3.0
    assert _peak(samples, 0.0, 0.06) == 2.0
    assert _peak(samples) == 3.0


@pytest.mark.slow
def test_a_small_benchmark_reports_every_stage(tmp_path: Path) -> None:
    (result,) = benchmark(tmp_path, [3_000])
    assert [s.stage for s in result.stages] == list(STAGES)
    assert result.rows > 3_000
    assert all(s.seconds >= 0 and s.peak_rss_gb > 0 for s in result.stages)
    assert sum(s.seconds for s in result.stages) > 0
    assert result.bare_read_seconds > 0 and result.ratio_to_bare_read > 1
    assert result.stages_seconds <= result.pipeline_seconds + 0.01
    # the whole process: its fixed cost (start, imports, the server) is what the stages leave
    assert result.fixed_seconds > 0.5
    assert result.fixed_seconds == pytest.approx(
        result.pipeline_seconds - result.stages_seconds, abs=0.02
    )
    report = json.loads((tmp_path / "results.json").read_text())
    assert report["results"][0]["persons"] == 3_000
    assert "| 3,000 |" in (tmp_path / "results.md").read_text()
