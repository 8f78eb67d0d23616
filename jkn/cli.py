"""``jkn``: the one entry point for everything a user runs."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import jkn.settings  # noqa: F401  (telemetry off before Prefect is imported)
from jkn.settings import DEFAULT_LANDING, DEFAULT_WAREHOUSE

app = typer.Typer(
    help="jkn-uhc: monthly JKN coverage and activity from Dukcapil, Dinas Sosial and BPJS "
    "Kesehatan extracts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# Wide enough for the reports when output goes to a file or a CI log (rich assumes 80 there).
console = Console(width=None if sys.stdout.isatty() else 180)


def _register_generate() -> None:
    from jkn.generate.command import generate_command

    app.command("generate", help="Write seeded synthetic extracts (and their ground truth).")(
        generate_command
    )


_register_generate()


@app.command("run")
def run_command(
    period: Annotated[str, typer.Option(help="the month to refresh, YYYY-MM")],
    landing: Annotated[
        str, typer.Option(help="landing root: a folder or an fsspec URL (file://, https://, s3://)")
    ] = str(DEFAULT_LANDING),
    warehouse: Annotated[
        Path, typer.Option(help="the warehouse DuckDB file BI tools read")
    ] = DEFAULT_WAREHOUSE,
    accept_redelivery: Annotated[
        bool,
        typer.Option(help="take files redelivered with different bytes for this period"),
    ] = False,
) -> None:
    """Run the monthly flow for one period: pull, validate, load staging."""
    summary = _run(period, landing, warehouse, accept_redelivery)
    if summary.failed:
        raise typer.Exit(code=1)


def _run(  # type: ignore[no-untyped-def]
    period: str, landing: str, warehouse: Path, accept_redelivery: bool = False, show: bool = True
):
    from pydantic import ValidationError

    from flows.monthly_refresh import RefreshParameters, SourcesFailed, monthly_refresh
    from jkn.report import print_data_quality

    try:
        params = RefreshParameters(
            period=period,
            landing=landing,
            warehouse=warehouse,
            accept_redelivery=accept_redelivery,
        )
    except ValidationError as err:
        console.print(f"[red]Invalid parameters:[/red] {err.errors()[0]['msg']}")
        raise typer.Exit(code=2) from None
    with console.status(f"Refreshing {period} from {landing} …"):
        try:
            summary = monthly_refresh(params)
        except SourcesFailed as failed:
            summary = failed.summary
    if show:
        print_data_quality(summary, console)
    return summary


@app.command("demo")
def demo_command(
    scale: Annotated[float, typer.Option(help="fraction of each seed district's size")] = 0.1,
    workdir: Annotated[Path, typer.Option(help="where the demo writes its data")] = Path(
        "data/demo"
    ),
    full: Annotated[bool, typer.Option(help="full size (millions of rows; minutes)")] = False,
) -> None:
    """Generate the five seed scenarios, run the monthly flow on each, print the results."""
    import os

    from jkn.generate import SCENARIOS, generate_scenario

    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # the demo shows its own tables
    from jkn.report import demo_summary_table, read_uhc_summary, uhc_tables

    size = 1.0 if full else scale
    landing = workdir / "landing"
    warehouse = workdir / "jkn.duckdb"
    summaries = {}
    for name in SCENARIOS:
        console.rule(f"[bold]{name}[/bold]")
        with console.status(f"Generating {name} at scale {size} …"):
            result = generate_scenario(name, landing, scale=size)
        console.print(
            f"Generated {name}: "
            + ", ".join(f"{src} → {path.name}" for src, path in result.files.items())
        )
        # the demo regenerates its data each time: a changed file is expected, not an incident
        summaries[name] = _run(
            result.period, str(landing), warehouse, accept_redelivery=True, show=False
        )
    console.rule("[bold]Demo: data quality per district and source[/bold]")
    console.print(demo_summary_table(summaries))
    console.rule("[bold]Demo: coverage, activity and UHC status of the five seed districts[/bold]")
    asked = [f"{scenario.period}-01|{scenario.regions[0].code}" for scenario in SCENARIOS.values()]
    console.print(uhc_tables(read_uhc_summary(warehouse, asked)))
    console.print(
        f"Warehouse (BI): {warehouse}; staging, quarantine and officers' lists in "
        f"{warehouse.with_name(warehouse.stem + '.restricted.duckdb')}."
    )


@app.command("bench-link")
def bench_link_command(
    persons: Annotated[
        list[int], typer.Option(help="persons per benchmark district (repeatable)")
    ] = [100_000, 1_000_000],  # noqa: B006  (Typer reads the default, never mutates it)
    workdir: Annotated[Path, typer.Option(help="where the benchmark writes")] = Path(
        "data/bench-link"
    ),
    splink: Annotated[
        bool, typer.Option(help="run splink 5 side by side (uv sync --group bench)")
    ] = True,
) -> None:
    """Benchmark the linker (and splink) on labelled districts with hard negatives."""
    from rich.table import Table

    from jkn.bench.link import benchmark

    tools: tuple[str, ...] = ("ours", "splink") if splink else ("ours",)
    if splink:
        try:
            import splink as _splink  # noqa: F401
        except ImportError:
            console.print("splink is not installed: run `.venv/bin/uv sync --group bench`")
            raise typer.Exit(code=2) from None
    table = Table(title="Linkage benchmark (jkn bench-link)")
    for column in (
        "tool",
        "persons",
        "records to link",
        "seconds",
        "peak RSS GB",
        "links",
        "precision",
        "recall",
        "F1",
        "hard negatives linked",
    ):
        table.add_column(column, justify="left" if column == "tool" else "right")
    lines = [
        "| tool | persons | records to link | seconds | peak RSS GB | links | precision "
        "| recall | F1 | hard negatives linked |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in persons:
        with console.status(f"{n:,} persons …"):
            results = benchmark(workdir / f"{n}", n, tools)
        for r in results:
            cells = [
                r.tool,
                f"{r.persons:,}",
                f"{r.records:,}",
                f"{r.seconds:.1f}",
                f"{r.peak_rss_gb:.2f}",
                f"{r.links:,}",
                f"{r.precision:.4f}",
                f"{r.recall:.4f}",
                f"{r.f1:.4f}",
                str(r.hard_negatives_wrongly_linked),
            ]
            table.add_row(*cells)
            lines.append("| " + " | ".join(cells) + " |")
    console.print(table)
    (workdir / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    console.print(f"Written: {workdir / 'results.md'}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    app()


if __name__ == "__main__":
    main()
