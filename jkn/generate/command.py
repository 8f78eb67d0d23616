"""``jkn generate``: write synthetic extracts and their ground truth to a landing folder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from jkn.generate.core import generate
from jkn.generate.model import FORMATS, SOURCES, GenerateOptions, GenerationResult
from jkn.generate.scenarios import DEFAULT_SEED, SCENARIOS, scenario_options
from jkn.generate.series import generate_series

log = logging.getLogger(__name__)


def _parse_formats(items: list[str] | None) -> dict[str, str] | None:
    if not items:
        return None
    out: dict[str, str] = {}
    for item in items:
        source, _, ext = item.partition("=")
        if source not in SOURCES or ext not in FORMATS:
            raise typer.BadParameter(
                f"{item!r}: expected source=ext with source in {SOURCES} and ext in {FORMATS}"
            )
        out[source] = ext
    return out


def _report(console: Console, result: GenerationResult) -> None:
    summary = result.summary
    files = Table(title=f"Extracts for {result.period}")
    for col in ("source", "file", "format", "rows", "defects", "quarantined"):
        files.add_column(
            col, justify="right" if col in ("rows", "defects", "quarantined") else "left"
        )
    for source in SOURCES:
        info = summary["files"][source]
        counts = summary["defect_counts"][source]
        n_defects = sum(v for k, v in counts.items() if k != "quarantined_rows")
        files.add_row(
            source,
            result.files[source].name,
            info["format"] + (" (fallback)" if "note" in info else ""),
            f"{info['rows']:,}",
            f"{n_defects:,}",
            f"{counts['quarantined_rows']:,}",
        )
    console.print(files)
    kinds = Table(title="Injected defects (rows per kind)")
    kinds.add_column("kind")
    for source in SOURCES:
        kinds.add_column(source, justify="right")
    all_kinds = sorted(
        {k for s in SOURCES for k in summary["defect_counts"][s]} - {"quarantined_rows"}
    )
    for kind in all_kinds:
        kinds.add_row(kind, *[f"{summary['defect_counts'][s].get(kind, 0):,}" for s in SOURCES])
    console.print(kinds)
    figs = Table(title="Headline figures (from the rows as delivered)")
    for col in ("kab/kota", "population", "registered", "active", "coverage", "activity/pop"):
        figs.add_column(col, justify="left" if col == "kab/kota" else "right")
    for code, f in summary["figures"].items():
        figs.add_row(
            code,
            f"{f['population']:,}",
            f"{f['registered']:,}",
            f"{f['active_registered']:,}",
            f"{(f['coverage_registered'] or 0):.2%}",
            f"{(f['activity_of_population'] or 0):.2%}",
        )
    console.print(figs)
    console.print(f"truth: {result.truth_dir}")


def generate_command(
    region: Annotated[
        list[str] | None,
        typer.Option(
            "--region", metavar="CODE", help="Dotted kab/kota code, e.g. 16.08 (repeatable)."
        ),
    ] = None,
    period: Annotated[str | None, typer.Option(help="Period YYYY-MM.")] = None,
    persons: Annotated[
        int, typer.Option(help="Alive residents (Dukcapil population) per region.")
    ] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bytes.")] = DEFAULT_SEED,
    scenario: Annotated[
        str | None,
        typer.Option(help=f"Named scenario: {', '.join(SCENARIOS)} (overrides region/period)."),
    ] = None,
    scale: Annotated[float, typer.Option(help="Scenario scale in (0, 1].")] = 1.0,
    out: Annotated[Path, typer.Option(help="Landing root.")] = Path("./data/landing"),
    format: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            metavar="SOURCE=EXT",
            help="source=ext, ext in csv|xlsx|parquet (repeatable).",
        ),
    ] = None,
    clean: Annotated[
        bool, typer.Option("--clean", help="No defects and no formatting mess.")
    ] = False,
    linkage: Annotated[
        bool,
        typer.Option(
            "--linkage",
            help="Identity noise (NIK, name, birth date) and hard negatives for linkage tests.",
        ),
    ] = False,
    months: Annotated[
        int,
        typer.Option(
            min=1,
            help="Consecutive months from --period, each the last one's persons and cards "
            "moved by planted events, with the movement truth (identity damage off).",
        ),
    ] = 1,
    national: Annotated[
        bool,
        typer.Option(
            "--national",
            help="Three provinces (16, 17, 52), one landing root each under --out, with persons "
            "planted across them, and the national truth (--persons per province).",
        ),
    ] = False,
) -> None:
    """Generate synthetic Dukcapil, Dinsos PBI and BPJS extracts plus ground truth."""
    console = Console()
    if national:
        from jkn.generate.national import generate_provinces

        provinces = generate_provinces(out, period or "2025-05", persons=persons, seed=seed)
        for code, landing in provinces.landings.items():
            console.print(f"province {code}: landing root {landing}")
        console.print(f"national truth: {provinces.truth_dir}")
        return
    formats = _parse_formats(format)
    if scenario:
        if scenario not in SCENARIOS:
            raise typer.BadParameter(
                f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}"
            )
        options = scenario_options(scenario, scale, seed, messy=not clean)
        if formats:
            options.formats = {**(options.formats or {}), **formats}
    else:
        if not region or not period:
            raise typer.BadParameter("give --region and --period, or --scenario")
        options = GenerateOptions(
            regions=list(region),
            period=period,
            persons=persons,
            seed=seed,
            formats=formats,
            messy=not clean,
        )
    options.linkage = linkage

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        if months > 1:
            results = generate_series(options, months, out, progress=progress)
        else:
            results = [generate(options, out, progress=progress)]
    for result in results:
        _report(console, result)
