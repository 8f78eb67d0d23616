"""The shipped linkage benchmark runs end to end and scores against the truth (our linker
only: splink is an optional benchmark dependency)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from jkn.bench.link import benchmark


def test_benchmark_scores_our_linker_against_the_truth(tmp_path: Path) -> None:
    (result,) = benchmark(tmp_path, 4000, ("ours",))
    assert result.tool == "ours" and result.persons == 4000
    assert result.records > 50 and result.links > 50
    assert result.precision >= 0.999
    assert 0.9 <= result.recall <= 1.0
    harmonic = 2 * result.precision * result.recall / (result.precision + result.recall)
    assert abs(result.f1 - harmonic) < 1e-3
    assert result.hard_negatives_wrongly_linked == 0
    assert (tmp_path / "results.json").exists() and result.seconds > 0 and result.peak_rss_gb > 0


def test_a_tools_peak_memory_is_its_own_not_its_parents() -> None:
    # the parent holds 400 MB when it starts the tool's process (as the benchmark does after
    # generating the district): the child's ru_maxrss would inherit them, its peak must not
    held = bytearray(400 * 1024**2)
    held[::4096] = b"\x01" * len(held[::4096])
    child = subprocess.run(
        [sys.executable, "-c", "from jkn.bench.link import peak_rss_gb; print(peak_rss_gb())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert 0 < float(child.stdout) < 0.3
    del held
