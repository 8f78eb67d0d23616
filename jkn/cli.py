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
    dask_workers: Annotated[
        int,
        typer.Option(
            help="fan the linkage out by region on a local Dask cluster of this many worker "
            "processes (0: in the flow's own process)"
        ),
    ] = 0,
    dask_address: Annotated[
        str | None,
        typer.Option(help="fan out on an existing Dask cluster instead (scheduler address)"),
    ] = None,
) -> None:
    """Run the monthly flow for one period: pull, validate, resolve, build, check, publish."""
    from jkn.runners import dask_runner

    runner = dask_runner(dask_workers, dask_address)
    summary = _run(period, landing, warehouse, accept_redelivery, dask=runner)
    if not summary.published:
        raise typer.Exit(code=1)


def _run(  # type: ignore[no-untyped-def]
    period: str,
    landing: str,
    warehouse: Path,
    accept_redelivery: bool = False,
    show: bool = True,
    dask=None,  # a DaskTaskRunner: fan the linkage out by region on it
):
    from pydantic import ValidationError

    from flows.monthly_refresh import RefreshParameters, RunFailed, monthly_refresh
    from jkn.report import print_data_quality

    try:
        params = RefreshParameters(
            period=period,
            landing=landing,
            warehouse=warehouse,
            accept_redelivery=accept_redelivery,
            fan_out_regions=dask is not None,
        )
    except ValidationError as err:
        console.print(f"[red]Invalid parameters:[/red] {err.errors()[0]['msg']}")
        raise typer.Exit(code=2) from None
    with console.status(f"Refreshing {period} from {landing} …"):
        try:
            flow = monthly_refresh.with_options(task_runner=dask) if dask else monthly_refresh
            summary = flow(params)
        except RunFailed as failed:
            summary = failed.summary
    if show:
        print_data_quality(summary, console)
        for alert in summary.errors:
            console.print(
                f"[red]{alert.source or '-'} {alert.check}[/red]: {alert.summary}"
                + (f" — see {alert.where}" if alert.where else "")
            )
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


alerts_app = typer.Typer(
    help="Configure where alerts go: saves a Prefect notification block on the server "
    "PREFECT_API_URL points at, and prints the JKN_ALERT_BLOCK value to give the worker.",
    no_args_is_help=True,
)
app.add_typer(alerts_app, name="alerts")


def _secret(variable: str) -> str:
    """A secret from the environment (never from argv, which other users can read in ps)."""
    import os

    value = os.environ.get(variable)
    if not value:
        console.print(f"[red]{variable} is not set[/red]")
        raise typer.Exit(code=2)
    return value


def _block_saved(reference: str) -> None:
    console.print(f"Saved notification block [bold]{reference}[/bold].")
    console.print(f"Give it to the worker: export JKN_ALERT_BLOCK={reference}")


@alerts_app.command("webhook")
def alerts_webhook(
    url: Annotated[str, typer.Argument(help="where to POST the JSON alert")],
    name: Annotated[str, typer.Option(help="block name")] = "jkn-alerts",
    token_env: Annotated[
        str | None,
        typer.Option(help="environment variable holding a bearer token (kept as a secret)"),
    ] = None,
) -> None:
    """Alerts as a JSON POST {subject, body, source} to a webhook."""
    from jkn.alert_blocks import save_webhook

    _block_saved(save_webhook(url, name, _secret(token_env) if token_env else None))


@alerts_app.command("slack")
def alerts_slack(
    url_env: Annotated[
        str, typer.Option(help="environment variable holding the Slack incoming-webhook URL")
    ] = "JKN_SLACK_WEBHOOK_URL",
    name: Annotated[str, typer.Option(help="block name")] = "jkn-alerts",
) -> None:
    """Alerts to a Slack channel (the webhook URL is read from the environment, never argv)."""
    from jkn.alert_blocks import save_slack

    _block_saved(save_slack(_secret(url_env), name))


@alerts_app.command("email")
def alerts_email(
    to: Annotated[list[str], typer.Option(help="recipient (repeatable)")],
    sender: Annotated[str, typer.Option(help="sender address")],
    api_key_env: Annotated[
        str, typer.Option(help="environment variable holding the SendGrid API key")
    ] = "JKN_SENDGRID_API_KEY",
    name: Annotated[str, typer.Option(help="block name")] = "jkn-alerts",
) -> None:
    """Alerts by e-mail through SendGrid."""
    from jkn.alert_blocks import save_email

    _block_saved(save_email(_secret(api_key_env), sender, to, name))


@alerts_app.command("test")
def alerts_test(
    block: Annotated[
        str | None, typer.Option(help="'<type-slug>/<name>' (default: $JKN_ALERT_BLOCK)")
    ] = None,
) -> None:
    """Send a test message through the configured block."""
    from jkn.alerts import Alert, block_reference, deliver

    reference = block_reference(block)
    alert = Alert(
        severity="warning",
        period="0000-00",
        source=None,
        check="alert_test",
        summary="a test message from `jkn alerts test`: alerts reach you",
    )
    if not deliver([alert], "jkn alerts test", reference):
        console.print(f"[red]Not delivered through {reference or '(no block configured)'}[/red]")
        raise typer.Exit(code=1)
    console.print(f"Delivered through {reference}.")


@app.command("bench")
def bench_command(
    persons: Annotated[
        list[int] | None,
        typer.Option(help="residents per benchmark size (repeatable); default 0.1M, 1M, 3M"),
    ] = None,
    workdir: Annotated[Path, typer.Option(help="where the benchmark writes")] = Path("data/bench"),
) -> None:
    """The whole monthly flow at several sizes, per stage, against DuckDB's bare read."""
    from jkn.bench.pipeline import benchmark, markdown

    sizes = persons or [100_000, 1_000_000, 3_000_000]
    with console.status(f"Benchmarking {', '.join(f'{n:,}' for n in sizes)} persons …"):
        results = benchmark(workdir, sizes)
    console.print(markdown(results))
    console.print(f"Written: {workdir / 'results.md'}, {workdir / 'results.json'}")


lists_app = typer.Typer(help="Officers' lists (personal data; restricted file).")
app.add_typer(lists_app, name="lists")


@lists_app.command("export")
def lists_export(
    name: Annotated[
        str,
        typer.Argument(help="outreach, cleanup, double_funding, pbi_reconciliation or link_review"),
    ],
    period: Annotated[str, typer.Option(help="YYYY-MM")],
    out: Annotated[Path, typer.Option(help="a .csv or .xlsx file to write (owner-only)")],
    warehouse: Annotated[Path, typer.Option(help="the warehouse DuckDB file")] = (
        DEFAULT_WAREHOUSE
    ),
    region: Annotated[str | None, typer.Option(help="one kab/kota, e.g. 16.08")] = None,
) -> None:
    """Export one list for officers: formula injection neutralised, file owner-only."""
    from jkn.exports import ExportError, export_list

    try:
        rows = export_list(warehouse, name, period, out, region)
    except ExportError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(code=2) from None
    console.print(f"Wrote {rows:,} rows of {name} {period} to {out} (owner-only).")


@app.command("backfill")
def backfill_command(
    start: Annotated[str, typer.Option(help="first month, YYYY-MM")],
    end: Annotated[str, typer.Option(help="last month, YYYY-MM (inclusive)")],
    landing: Annotated[str, typer.Option(help="landing root")] = str(DEFAULT_LANDING),
    warehouse: Annotated[Path, typer.Option(help="the warehouse DuckDB file")] = (
        DEFAULT_WAREHOUSE
    ),
    force: Annotated[bool, typer.Option(help="refresh months whose inputs are unchanged")] = False,
) -> None:
    """Refresh a range of months oldest first, skipping those unchanged since published."""
    from flows.backfill import BackfillFailed, backfill
    from flows.monthly_refresh import RunSettings

    settings = RunSettings(landing=landing, warehouse=warehouse)
    try:
        summary = backfill(start, end, settings, force)
    except BackfillFailed as failed:
        summary = failed.summary
    console.print(f"published: {', '.join(summary.published) or '-'}")
    console.print(f"skipped (unchanged): {', '.join(summary.skipped) or '-'}")
    for period, reason in summary.failed.items():
        console.print(f"[red]failed {period}[/red]: {reason}")
    if summary.failed:
        raise typer.Exit(code=1)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    app()


if __name__ == "__main__":
    main()
