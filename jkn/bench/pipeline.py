"""``jkn bench``: the whole monthly flow at several sizes, stage by stage, against DuckDB's bare
read of the same files.

For each size it generates one kab/kota with that many residents (all three extracts as CSV,
so that DuckDB alone can read them too), then, each in its own process:

1. **bare read** — DuckDB reads the three files into in-memory tables (identifiers as text),
   nothing else: the physical floor the pipeline is compared with;
2. **pipeline** — the monthly flow as a user runs it, ``python -m jkn run`` (Prefect ephemeral
   mode), with ``JKN_TIMELINE`` set so each stage (pull, validate, resolve, link, marts,
   checks, publish) writes its start and end.

Both sides are timed as whole processes, start to exit, as a user waits for them (Python's
start and imports included on both sides). A sampler reads the process tree's resident memory
(``/proc``: the temporary Prefect server included) every 50 ms, so each stage gets its own
peak. The report gives per stage the wall time, peak RSS and rows per second, the fixed cost
(the process's time outside the stages: imports, the server, artifacts), the pipeline's time
as a multiple of the bare read, and the scaling exponents of time and memory across sizes
(the slope of log cost over log size).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

STAGES = ("pull", "validate", "resolve", "link", "marts", "checks", "publish")
PERIOD = "2025-05"
REGION = "16.08"
CSV_ONLY = {"dukcapil": "csv", "dinsos_pbi": "csv", "bpjs_membership": "csv"}


@dataclass
class StageCost:
    stage: str
    seconds: float
    peak_rss_gb: float
    rows_per_second: float


@dataclass
class SizeResult:
    persons: int
    rows: int
    bare_read_seconds: float
    bare_read_peak_rss_gb: float
    pipeline_seconds: float  # `jkn run`, the whole process: start to exit
    stages_seconds: float  # the sum of the stages
    fixed_seconds: float  # the process's time outside the stages (imports, server, artifacts)
    peak_rss_gb: float
    ratio_to_bare_read: float
    stages: list[StageCost] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# measuring a child process


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status", encoding="ascii") as status:  # noqa: PTH123
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            with open(f"/proc/{p}/task/{p}/children", encoding="ascii") as kids:  # noqa: PTH123
                todo += [int(k) for k in kids.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def run_sampled(command: list[str], env: dict[str, str]) -> tuple[float, list[tuple[float, int]]]:
    """Run a command; return its wall seconds and (time, tree RSS bytes) samples."""
    samples: list[tuple[float, int]] = []
    start = time.time()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.time(), _tree_rss(child.pid)))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = child.communicate()
    done.set()
    sampler.join()
    if child.returncode != 0:
        raise RuntimeError(f"{command[:4]} failed ({child.returncode}): {err.decode()[-2000:]}")
    return time.time() - start, samples


def _peak(samples: list[tuple[float, int]], start: float = 0, end: float = math.inf) -> float:
    inside = [rss for t, rss in samples if start <= t <= end]
    if not inside and samples:
        # a stage shorter than the sampling interval: the samples either side of it bound it
        before = [rss for t, rss in samples if t < start][-1:]
        after = [rss for t, rss in samples if t > end][:1]
        inside = before + after
    return round(max(inside, default=0) / 1024**3, 2)


# --------------------------------------------------------------------------------------------
# the two measured programs: the bare read (run as `python -m jkn.bench.pipeline bare-read
# ...`) and the pipeline, the `jkn run` command


def bare_read(landing: Path) -> None:
    """DuckDB alone: the three CSVs into in-memory tables, every column as text."""
    import duckdb

    with duckdb.connect() as con:
        for source in CSV_ONLY:
            path = landing / PERIOD / f"{source}.csv"
            # as forgiving as the pipeline's reader is of the contract's mess: rows it cannot
            # split are skipped here (the pipeline keeps them in quarantine)
            options = (
                "all_varchar = true, header = true, ignore_errors = true, "
                "null_padding = true, strict_mode = false"
            )
            try:
                con.execute(f"create table {source} as select * from read_csv('{path}', {options})")
            except duckdb.InvalidInputException:  # a Windows-1252 export
                con.execute(
                    f"create or replace table {source} as select * from "
                    f"read_csv('{path}', {options}, encoding = 'latin-1')"
                )


def pipeline(landing: Path, warehouse: Path) -> list[str]:
    """The command that runs the monthly flow on ``landing`` into ``warehouse``: the CLI, a
    whole process of its own."""
    return [
        sys.executable, "-m", "jkn", "run", "--period", PERIOD,
        "--landing", str(landing), "--warehouse", str(warehouse),
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------
# one size, several sizes


def measure(workdir: Path, persons: int) -> SizeResult:
    from jkn.generate import GenerateOptions, generate
    from jkn.settings import child_environment

    root = workdir / f"{persons}"
    landing = root / "landing"
    if not (landing / PERIOD / "dukcapil.csv").exists():
        options = GenerateOptions(
            regions=[REGION], period=PERIOD, persons=persons, formats=dict(CSV_ONLY)
        )
        generate(options, landing)
    rows = sum(_lines(landing / PERIOD / f"{s}.csv") for s in CSV_ONLY)
    env = child_environment()
    me = [sys.executable, "-m", "jkn.bench.pipeline"]

    bare_seconds, bare_samples = run_sampled([*me, "bare-read", str(landing)], env)

    for stale in root.glob("jkn.*"):
        _remove(stale)
    timeline = root / "timeline.jsonl"
    timeline.unlink(missing_ok=True)
    env |= {"JKN_TIMELINE": str(timeline), "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("JKN_ALERT_BLOCK", None)  # the benchmark's runs alert no one
    run_seconds, samples = run_sampled(pipeline(landing, root / "jkn.duckdb"), env)
    marks = [json.loads(line) for line in timeline.read_text(encoding="utf-8").splitlines()]
    stages = []
    for name in STAGES:
        spans = [(m["start"], m["end"]) for m in marks if m["stage"] == name]
        if not spans:
            continue
        seconds = sum(e - s for s, e in spans)
        peak = max(_peak(samples, s, e) for s, e in spans)
        stages.append(StageCost(name, round(seconds, 2), peak, round(rows / max(seconds, 1e-9))))
    total = sum(s.seconds for s in stages)
    return SizeResult(
        persons=persons,
        rows=rows,
        bare_read_seconds=round(bare_seconds, 2),
        bare_read_peak_rss_gb=_peak(bare_samples),
        pipeline_seconds=round(run_seconds, 2),
        stages_seconds=round(total, 2),
        fixed_seconds=round(run_seconds - total, 2),
        peak_rss_gb=_peak(samples),
        ratio_to_bare_read=round(run_seconds / bare_seconds, 1),
        stages=stages,
    )


def exponent(results: list[SizeResult], cost: str) -> float | None:
    """Least-squares slope of log(cost) over log(persons): 1.0 is linear growth."""
    points = [(math.log(r.persons), math.log(max(getattr(r, cost), 1e-9))) for r in results]
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    num = sum((x - mx) * (y - my) for x, y in points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return round(num / den, 2) if den else None


def markdown(results: list[SizeResult]) -> str:
    lines = [
        "| persons | rows | bare read s | `jkn run` s | × bare read | fixed s | peak RSS GB | "
        + " | ".join(f"{s} s (GB)" for s in STAGES)
        + " |",
        "|" + "---|" * (7 + len(STAGES)),
    ]
    for r in results:
        by = {s.stage: s for s in r.stages}
        cells = [
            f"{r.persons:,}", f"{r.rows:,}", f"{r.bare_read_seconds:.1f}",
            f"{r.pipeline_seconds:.1f}", f"{r.ratio_to_bare_read:.1f}", f"{r.fixed_seconds:.1f}",
            f"{r.peak_rss_gb:.2f}",
            *(f"{by[s].seconds:.1f} ({by[s].peak_rss_gb:.2f})" if s in by else "–" for s in STAGES),
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    t, m = exponent(results, "pipeline_seconds"), exponent(results, "peak_rss_gb")
    if t is not None:
        lines += ["", f"Scaling exponent, fitted across all sizes: time {t}, peak memory {m}."]
        # fixed costs (imports, the Prefect server) flatten the fit at small sizes: the two
        # largest sizes say how cost grows where it matters
        top = sorted(results, key=lambda r: r.persons)[-2:]
        t2, m2 = exponent(top, "pipeline_seconds"), exponent(top, "peak_rss_gb")
        s2 = exponent(top, "stages_seconds")
        lines.append(
            f"Between the two largest sizes ({top[0].persons:,} → {top[1].persons:,}): "
            f"time {t2} (the stages alone, without the fixed cost: {s2}), peak memory {m2}."
        )
    return "\n".join(lines) + "\n"


def benchmark(workdir: Path, sizes: list[int]) -> list[SizeResult]:
    workdir.mkdir(parents=True, exist_ok=True)
    results = [measure(workdir, n) for n in sizes]
    report = {
        "results": [asdict(r) for r in results],
        "time_exponent": exponent(results, "pipeline_seconds"),
        "memory_exponent": exponent(results, "peak_rss_gb"),
        "largest_two_time_exponent": exponent(sorted(results, key=lambda r: r.persons)[-2:],
                                              "pipeline_seconds"),
        "largest_two_stages_exponent": exponent(sorted(results, key=lambda r: r.persons)[-2:],
                                                "stages_seconds"),
    }  # fmt: skip
    (workdir / "results.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (workdir / "results.md").write_text(markdown(results), encoding="utf-8")
    return results


def _lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1


def _remove(path: Path) -> None:
    import shutil

    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


if __name__ == "__main__":
    import jkn.settings  # noqa: F401

    program, *args = sys.argv[1:]
    if program == "bare-read":
        bare_read(Path(args[0]))
    else:
        raise SystemExit(f"unknown program {program}")
