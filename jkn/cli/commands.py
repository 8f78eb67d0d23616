"""The ``jkn`` commands (started by :func:`jkn.cli.main`).

The top layer (ARCHITECTURE.md): it may import the flows and everything below them; its
console rendering is :mod:`jkn.cli.console`.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import jkn.settings  # noqa: F401  (telemetry off before Prefect is imported)
from jkn.cli.server import ServerUnavailable, TemporaryServer, prefect_api
from jkn.settings import DEFAULT_LANDING, DEFAULT_WAREHOUSE, quiet_prefect, restricted_path, secret
from warehouse.build import LISTS

app = typer.Typer(
    help="jkn-uhc: monthly JKN coverage and activity from Dukcapil, Dinas Sosial and BPJS "
    "Kesehatan extracts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # plain help: typer's rich panels show a '<bool>' value for flags, which the parser refuses
    rich_markup_mode=None,
)
# Wide enough for the reports when output goes to a file or a CI log (rich assumes 80 there).
# (named `screen`: `console` is the rendering module beside this one, jkn.cli.console)
screen = Console(width=None if sys.stdout.isatty() else 180)


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        from jkn.version import code_fingerprint

        screen.print(f"jkn-uhc {version('jkn-uhc')} (logic fingerprint {code_fingerprint()})")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="print the version and the fingerprint of the logic, then exit",
        ),
    ] = False,
) -> None:
    """jkn-uhc: monthly JKN coverage and activity from Dukcapil, Dinas Sosial and BPJS
    Kesehatan extracts."""


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
    alert_block: Annotated[
        str | None,
        typer.Option(
            envvar="JKN_ALERT_BLOCK",
            help="send alerts through this Prefect notification block, '<type-slug>/<name>' "
            "(as `jkn alerts …` prints it); without one alerts are only shown here",
        ),
    ] = None,
) -> None:
    """Run the monthly flow for one period: pull, validate, resolve, build, check, publish."""
    with prefect_api() as server:  # first: it comes up while the pipeline is imported
        from jkn.runners import dask_runner

        runner = dask_runner(dask_workers, dask_address)
        summary = _run(
            period,
            landing,
            warehouse,
            accept_redelivery,
            dask=runner,
            alert_block=alert_block,
            server=server,
        )
    if not summary.published or summary.undelivered:
        raise typer.Exit(code=1)


def _refused(message: str, code: int = 1) -> typer.Exit:
    """Print an expected failure's message (no traceback) and give the exit to raise."""
    screen.print(f"[red]{message}[/red]", highlight=False)
    return typer.Exit(code=code)


def _while_the_server_starts() -> None:
    """What the run needs first, loaded while the temporary server comes up (none of it is
    extra work: the run would load each of these at its start anyway)."""
    import fastapi.encoders  # noqa: F401  (Prefect's client serialises the parameters with it)
    import prefect.flow_engine
    import prefect.task_engine  # noqa: F401

    from jkn.quality import preload
    from jkn.reference import regions

    regions()  # the reference the validation reads
    preload(background=True)  # the checks' imports and templates, in a thread


def _run(  # type: ignore[no-untyped-def]
    period: str,
    landing: str,
    warehouse: Path,
    accept_redelivery: bool = False,
    show: bool = True,
    dask=None,  # a DaskTaskRunner: fan the linkage out by region on it
    alert_block: str | None = None,
    server: TemporaryServer | None = None,
):
    from pydantic import ValidationError

    from flows.monthly_refresh import RunFailed, monthly_refresh
    from jkn.alerts import AlertsMisconfigured
    from jkn.cli.console import print_data_quality
    from jkn.lock import RefreshRunning
    from jkn.refresh import RefreshParameters

    try:
        params = RefreshParameters(
            period=period,
            landing=landing,
            warehouse=warehouse,
            accept_redelivery=accept_redelivery,
            fan_out_regions=dask is not None,
            alert_block=alert_block or None,
        )
    except ValidationError as err:
        message = str(err.errors()[0]["msg"]).removeprefix("Value error, ")
        raise _refused(f"Invalid parameters: {message}", code=2) from None
    with screen.status(f"Refreshing {period} from {landing} …"):
        try:
            if server:
                _while_the_server_starts()
                server.wait_ready()
            flow = monthly_refresh.with_options(task_runner=dask) if dask else monthly_refresh
            summary = flow(params)
        except RunFailed as failed:
            summary = failed.summary
        except (RefreshRunning, AlertsMisconfigured, ServerUnavailable) as refused:
            raise _refused(str(refused)) from None
    if show:
        print_data_quality(summary, screen)
        shown = {source.source for source in summary.failed}  # their message is in the table
        for alert in (a for a in summary.errors if a.source not in shown):
            screen.print(
                f"[red]{alert.source or '-'} {alert.check}[/red]: {alert.summary}"
                + (f" — see {alert.where}" if alert.where else ""),
                highlight=False,
            )
        for reason in summary.undelivered:
            screen.print(f"[red]alert not delivered[/red] {reason}", highlight=False)
    return summary


@app.command("national")
def national_command(
    period: Annotated[str, typer.Option(help="the month to refresh, YYYY-MM")],
    province: Annotated[
        list[str],
        typer.Option(
            metavar="CODE=LANDING",
            help="a province and its landing root (folder or fsspec URL), e.g. "
            "16=data/landing-16 (repeatable); its warehouse is <province-dir>/<CODE>/jkn.duckdb",
        ),
    ],
    warehouse: Annotated[
        Path, typer.Option(help="the national marts DuckDB file BI tools read")
    ] = Path("data/national/jkn-national.duckdb"),
    province_dir: Annotated[
        Path, typer.Option(help="where each province's warehouse lives, one folder per code")
    ] = Path("data/provinces"),
    exchange: Annotated[
        str | None,
        typer.Option(
            help="NIK-hash exchange every worker can read: a folder or an fsspec URL "
            "(default: beside the national warehouse; restricted, emptied after the run)"
        ),
    ] = None,
    partitions: Annotated[int, typer.Option(help="NIK-hash buckets (cross-province tasks)")] = 8,
    accept_redelivery: Annotated[
        bool, typer.Option(help="take files redelivered with different bytes for this period")
    ] = False,
    dask_workers: Annotated[
        int,
        typer.Option(
            help="refresh the provinces on a local Dask cluster of this many worker processes "
            "(0: threads of this process)"
        ),
    ] = 0,
    dask_address: Annotated[
        str | None,
        typer.Option(help="run on an existing Dask cluster instead (scheduler address)"),
    ] = None,
    alert_block: Annotated[
        str | None,
        typer.Option(envvar="JKN_ALERT_BLOCK", help="notification block for the provinces' alerts"),
    ] = None,
) -> None:
    """Refresh several provinces (one monthly refresh each, in parallel), find persons across
    provinces by NIK hash, and publish the national marts."""
    with prefect_api() as server:  # first: it comes up while the pipeline is imported
        from pydantic import ValidationError

        from flows.national import NationalFailed, national_refresh
        from jkn.lock import RefreshRunning
        from jkn.national import NationalParameters, ProvinceRun
        from jkn.runners import dask_runner

        runs = []
        for item in province:
            code, sep, landing = item.partition("=")
            if not sep or not landing:
                raise _refused(f"--province {item!r}: give CODE=LANDING, e.g. 16=data/x", code=2)
            runs.append((code, landing))
        try:
            params = NationalParameters(
                period=period,
                provinces=[
                    ProvinceRun(
                        code=code, landing=landing, warehouse=province_dir / code / "jkn.duckdb"
                    )
                    for code, landing in runs
                ],
                warehouse=warehouse,
                exchange=exchange,
                partitions=partitions,
                accept_redelivery=accept_redelivery,
                alert_block=alert_block or None,
            )
        except ValidationError as err:
            message = str(err.errors()[0]["msg"]).removeprefix("Value error, ")
            raise _refused(f"Invalid parameters: {message}", code=2) from None
        runner = dask_runner(dask_workers, dask_address)
        flow = national_refresh.with_options(task_runner=runner) if runner else national_refresh
        with screen.status(f"Refreshing {period} in {len(runs)} province(s) …"):
            try:
                if server:
                    _while_the_server_starts()
                    server.wait_ready()
                summary = flow(params)
            except NationalFailed as failed:
                summary = failed.summary
            except (RefreshRunning, ServerUnavailable) as refused:
                raise _refused(str(refused)) from None
    from jkn.cli.console import national_tables

    screen.print(national_tables(summary, warehouse))
    for failed_province in summary.failed:
        screen.print(
            f"[red]province {failed_province.code}[/red]: {failed_province.message}",
            highlight=False,
        )
    if not summary.published:
        raise typer.Exit(code=1)


# The seed scenarios the demo runs with the month before the seed month, so that their report
# pages show what moved. Lebong only: all five took the demo 1.8× as long (113.9 s against
# 61.8 s, a second flow run each), over the 1.6× we allow it. Adding a province's second or third
# district here makes its months of different years a learned history (the movement checks'
# bands: OKU Timur's seed month was refused on province 16's), so the demo would then need its
# runs' history_min_months raised.
DEMO_MONTH_BEFORE = ("lebong-2024-07",)


@app.command("demo")
def demo_command(
    scale: Annotated[float, typer.Option(help="fraction of each seed district's size")] = 0.1,
    workdir: Annotated[Path, typer.Option(help="where the demo writes its data")] = Path(
        "data/demo"
    ),
    full: Annotated[bool, typer.Option(help="full size (millions of rows; minutes)")] = False,
) -> None:
    """Generate the five seed scenarios (Lebong with the month before it), run the monthly
    flow on each month, print the results of the seed months."""
    from jkn.generate import SCENARIOS, generate_scenario, generate_scenario_series

    quiet_prefect()  # the demo shows its own tables
    from jkn.cli.console import (
        demo_summary_table,
        levers_table,
        read_levers,
        read_uhc_summary,
        uhc_tables,
    )

    size = 1.0 if full else scale
    landing = workdir / "landing"
    warehouse = workdir / "jkn.duckdb"
    summaries = {}
    with prefect_api() as server:  # comes up while the first district is generated
        for name in SCENARIOS:
            screen.rule(f"[bold]{name}[/bold]")
            with screen.status(f"Generating {name} at scale {size} …"):
                # Lebong: two months, the one before leading into the seed month's exact
                # figures, so that the seed month's report has movements to show
                results = (
                    generate_scenario_series(name, landing, scale=size)
                    if name in DEMO_MONTH_BEFORE
                    else [generate_scenario(name, landing, scale=size)]
                )
            for result in results:
                screen.print(
                    f"Generated {name}, {result.period}: "
                    + ", ".join(f"{src} → {path.name}" for src, path in result.files.items())
                )
            for result in results:  # the seed month last: its run is the one summarised
                # the demo regenerates its data each time: a changed file is expected, not news
                summaries[name] = _run(
                    result.period,
                    str(landing),
                    warehouse,
                    accept_redelivery=True,
                    show=False,
                    server=server,
                )
    screen.rule("[bold]Demo: data quality per district and source[/bold]")
    screen.print(demo_summary_table(summaries))
    screen.rule("[bold]Demo: coverage, activity and UHC status of the five seed districts[/bold]")
    asked = [f"{scenario.period}-01|{scenario.regions[0].code}" for scenario in SCENARIOS.values()]
    screen.print(uhc_tables(read_uhc_summary(warehouse, asked)))
    screen.print(levers_table(read_levers(warehouse, asked)))
    from jkn.report import report_dir

    screen.rule("[bold]Demo: the monthly forum report of each seed district[/bold]")
    for name, scenario in SCENARIOS.items():
        page = report_dir(warehouse, scenario.period) / f"{scenario.regions[0].code}.html"
        shown = page if page.is_file() else "not written (see the run's warnings)"
        screen.print(f"{name}: {shown}", highlight=False)
    screen.print(
        f"Warehouse (BI): {warehouse}; staging, quarantine and officers' lists in "
        f"{restricted_path(warehouse)}."
    )


@app.command("report")
def report_command(
    period: Annotated[str, typer.Option(help="the published month, YYYY-MM")],
    out: Annotated[Path, typer.Option(help="the folder to write the pages and PDFs into")],
    warehouse: Annotated[
        Path, typer.Option(help="the warehouse DuckDB file BI tools read (published marts)")
    ] = DEFAULT_WAREHOUSE,
    region: Annotated[
        str | None, typer.Option(help="only this kab/kota or province, e.g. 17.07")
    ] = None,
    lang: Annotated[str, typer.Option(help="id (Bahasa Indonesia) or en (English)")] = "id",
    pdf: Annotated[bool, typer.Option(help="print each page to PDF (headless Chromium)")] = True,
) -> None:
    """Write the monthly forum report: one offline page (HTML and PDF) per kab/kota and
    province published for the month, and an index, from the published marts only."""
    from jkn.periods import PeriodError
    from jkn.report import ReportError, UnknownLanguage, write_report
    from jkn.report.pdf import PrintFailed

    try:
        result = write_report(warehouse, period, out, region=region, lang=lang, pdf=pdf)
    except (ReportError, UnknownLanguage, PeriodError, PrintFailed) as error:
        raise _refused(str(error), code=2) from None
    screen.print(
        f"Wrote the {result.period} report ({result.lang}): {len(result.pages)} page(s) and "
        f"the index {result.index}"
        + (f", {len(result.pdfs)} PDF(s)" if result.pdfs else f"; no PDF: {result.pdf_skipped}")
        + ".",
        highlight=False,
    )


@app.command("bench-link")
def bench_link_command(
    persons: Annotated[
        list[int],
        typer.Option(metavar="N", help="persons per benchmark district (repeatable)"),
    ] = [100_000, 1_000_000],  # noqa: B006  (Typer reads the default, never mutates it)
    workdir: Annotated[Path, typer.Option(help="where the benchmark writes")] = Path(
        "data/bench-link"
    ),
    splink: Annotated[
        bool, typer.Option(help="run splink 5 side by side (uv sync --group bench)")
    ] = True,
    from_decisions: Annotated[
        str | None,
        typer.Option(
            metavar="FILE_OR_TABLE",
            help="instead: measure the automatic links on officers' answers — an answered "
            "review file (.csv/.xlsx) or a table of the restricted file, e.g. "
            "audit.review_decisions",
        ),
    ] = None,
    warehouse: Annotated[
        Path, typer.Option(help="with --from-decisions: the warehouse DuckDB file")
    ] = DEFAULT_WAREHOUSE,
) -> None:
    """Benchmark the linker (and splink) on labelled districts with hard negatives, or, with
    --from-decisions, the linker's precision on the officers' answers."""
    from rich.table import Table

    from jkn.bench.link import benchmark

    if from_decisions is not None:
        _bench_from_decisions(warehouse, from_decisions)
        return

    tools: tuple[str, ...] = ("ours", "splink") if splink else ("ours",)
    if splink:
        try:
            import splink as _splink  # noqa: F401
        except ImportError:
            screen.print("splink is not installed: run `.venv/bin/uv sync --group bench`")
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
        with screen.status(f"{n:,} persons …"):
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
    screen.print(table)
    (workdir / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    screen.print(f"Written: {workdir / 'results.md'}")


def _bench_from_decisions(warehouse: Path, decisions: str) -> None:
    from rich.table import Table

    from jkn.bench.link import from_decisions
    from jkn.review import DecisionsRefused

    if not restricted_path(warehouse).exists():
        raise _refused(f"{restricted_path(warehouse)}: no restricted file", code=2)
    try:
        with screen.status(f"Linking the periods answered in {decisions} …"):
            result = from_decisions(warehouse, decisions)
    except (DecisionsRefused, ValueError) as error:
        raise _refused(str(error), code=2) from None
    except _duckdb_errors() as error:
        raise _refused(f"{decisions}: cannot be read ({type(error).__name__})", code=2) from None
    table = Table(title=f"Automatic links on officers' answers ({decisions})")
    for column in (
        "periods",
        "pairs judged",
        "same",
        "different",
        "linked automatically",
        "of those same",
        "precision",
        "same, linked to another NIK",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        ", ".join(result.periods) or "-",
        f"{result.judged:,}",
        f"{result.same:,}",
        f"{result.different:,}",
        f"{result.auto_linked:,}",
        f"{result.auto_linked_same:,}",
        "-" if result.precision is None else f"{result.precision:.4f}",
        f"{result.linked_elsewhere:,}",
    )
    screen.print(table)


def _duckdb_errors() -> tuple[type[Exception], ...]:
    import duckdb

    return (duckdb.CatalogException, duckdb.BinderException, duckdb.IOException)


alerts_app = typer.Typer(
    help="Configure where alerts go: saves a Prefect notification block on the server "
    "PREFECT_API_URL points at, and prints the JKN_ALERT_BLOCK value to give the worker.",
    no_args_is_help=True,
)
app.add_typer(alerts_app, name="alerts")


def _secret(variable: str) -> str:
    """A secret from the environment (never from argv, which other users can read in ps)."""
    value = secret(variable)
    if not value:
        screen.print(f"[red]{variable} is not set[/red]")
        raise typer.Exit(code=2)
    return value


def _server() -> str:
    """The Prefect server blocks are saved on; refuses when PREFECT_API_URL is unset (Prefect
    would save into a temporary server that is gone when this command ends)."""
    from jkn.settings import prefect_server

    url = prefect_server()
    if not url:
        raise _refused(
            "PREFECT_API_URL is not set, so there is no Prefect server to save to. Start one "
            "and point this shell at it (README, Runbook: `. ./runbook.env`), then try again.",
            code=2,
        )
    return url


def _block_name(name: str) -> str:
    from jkn.alerts import AlertsMisconfigured, check_reference

    try:
        check_reference(f"x/{name}")
    except AlertsMisconfigured:
        raise _refused(
            f"block name {name!r}: use lowercase letters, digits and dashes (e.g. jkn-alerts)",
            code=2,
        ) from None
    return name


def _block_saved(reference: str, server: str) -> None:
    screen.print(f"Saved notification block [bold]{reference}[/bold] on {server}.")
    screen.print(
        "Deployments take it from JKN_ALERT_BLOCK when deployed: "
        f"export JKN_ALERT_BLOCK={reference}, then `prefect --no-prompt deploy --all` and "
        f"`jkn automations apply --block {reference}`.",
        highlight=False,
    )


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
    from urllib.parse import urlsplit

    from jkn.alert_blocks import save_webhook

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refused(
            f"{url!r} is not a web address: give the full URL the alerts are POSTed to, "
            "starting with https:// (or http:// on a private network)",
            code=2,
        )
    server = _server()
    token = _secret(token_env) if token_env else None
    _block_saved(save_webhook(url, _block_name(name), token), server)


@alerts_app.command("slack")
def alerts_slack(
    url_env: Annotated[
        str, typer.Option(help="environment variable holding the Slack incoming-webhook URL")
    ] = "JKN_SLACK_WEBHOOK_URL",
    name: Annotated[str, typer.Option(help="block name")] = "jkn-alerts",
) -> None:
    """Alerts to a Slack channel (the webhook URL is read from the environment, never argv)."""
    from urllib.parse import urlsplit

    from jkn.alert_blocks import save_slack

    url = _secret(url_env)
    if urlsplit(url).scheme != "https":
        raise _refused(f"{url_env} does not hold an https:// Slack webhook URL", code=2)
    server = _server()
    _block_saved(save_slack(url, _block_name(name)), server)


@alerts_app.command("email")
def alerts_email(
    to: Annotated[list[str], typer.Option(metavar="ADDRESS", help="recipient (repeatable)")],
    sender: Annotated[str, typer.Option(help="sender address")],
    api_key_env: Annotated[
        str, typer.Option(help="environment variable holding the SendGrid API key")
    ] = "JKN_SENDGRID_API_KEY",
    name: Annotated[str, typer.Option(help="block name")] = "jkn-alerts",
) -> None:
    """Alerts by e-mail through SendGrid."""
    from jkn.alert_blocks import save_email

    for address in [sender, *to]:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
            raise _refused(f"{address!r} is not an e-mail address", code=2)
    server = _server()
    _block_saved(save_email(_secret(api_key_env), sender, to, _block_name(name)), server)


@alerts_app.command("test")
def alerts_test(
    block: Annotated[
        str,
        typer.Option(
            envvar="JKN_ALERT_BLOCK",
            help="the block, '<type-slug>/<name>' as `jkn alerts …` printed it",
        ),
    ],
) -> None:
    """Send a test message through a notification block."""
    from jkn.alerts import Alert, AlertsMisconfigured, check_reference, deliver, load_notifier

    try:
        check_reference(block)
        _server()
        notifier = load_notifier(block)
    except AlertsMisconfigured as error:
        raise _refused(str(error), code=2) from None
    alert = Alert(
        severity="warning",
        period=f"{dt.date.today():%Y-%m}",
        source="jkn",
        check="alert_test",
        summary="a test message from `jkn alerts test`: alerts reach you",
    )
    reason = deliver([alert], "jkn alerts test", notifier)
    if reason:
        raise _refused(f"Not delivered through {block}: {reason}")
    screen.print(f"Delivered through {block}.")


@app.command("bench")
def bench_command(
    persons: Annotated[
        list[int] | None,
        typer.Option(
            metavar="N", help="residents per benchmark size (repeatable); default 0.1M, 1M, 3M"
        ),
    ] = None,
    workdir: Annotated[Path, typer.Option(help="where the benchmark writes")] = Path("data/bench"),
) -> None:
    """The whole monthly flow at several sizes, per stage, against DuckDB's bare read."""
    from jkn.bench.pipeline import benchmark, markdown

    sizes = persons or [100_000, 1_000_000, 3_000_000]
    with screen.status(f"Benchmarking {', '.join(f'{n:,}' for n in sizes)} persons …"):
        results = benchmark(workdir, sizes)
    screen.print(markdown(results))
    screen.print(f"Written: {workdir / 'results.md'}, {workdir / 'results.json'}")


lists_app = typer.Typer(help="Officers' lists (personal data; restricted file).")
app.add_typer(lists_app, name="lists")


@lists_app.command("export")
def lists_export(
    name: Annotated[
        str,
        typer.Argument(help=", ".join(LISTS)),
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
    from jkn.periods import PeriodError, check_month

    try:
        rows = export_list(warehouse, name, check_month(period), out, region)
    except (ExportError, PeriodError) as error:
        raise _refused(str(error), code=2) from None
    screen.print(f"Wrote {rows:,} rows of {name} {period} to {out} (owner-only).")


@lists_app.command("import")
def lists_import(
    file: Annotated[
        Path, typer.Argument(help="the review list as exported (.csv or .xlsx), answered")
    ],
    warehouse: Annotated[Path, typer.Option(help="the warehouse DuckDB file")] = (
        DEFAULT_WAREHOUSE
    ),
    replace: Annotated[
        bool,
        typer.Option(help="let this file change answers already stored (a changed mind)"),
    ] = False,
) -> None:
    """Store officers' answers on link_review (decision: SAMA / BEDA, or same / different;
    empty = undecided). The whole file is checked first: nothing is stored unless every row
    is valid. The answers apply from the next refresh, in that month and every later one."""
    from jkn.review import DecisionsRefused, import_decisions

    try:
        report = import_decisions(warehouse, file, replace=replace)
    except DecisionsRefused as error:
        raise _refused(str(error), code=2) from None
    stored = report.same + report.different
    screen.print(
        f"Stored {stored:,} decision(s) from {report.file}: {report.same:,} same, "
        f"{report.different:,} different; {report.undecided:,} row(s) left undecided"
        + (f"; {report.unchanged:,} already stored" if report.unchanged else "")
        + (f"; {report.replaced:,} replaced" if report.replaced else "")
        + ". They apply from the next refresh of each month.",
        highlight=False,
    )


@app.command("backfill")
def backfill_command(
    start: Annotated[str, typer.Option(help="first month, YYYY-MM")],
    end: Annotated[str, typer.Option(help="last month, YYYY-MM (inclusive)")],
    landing: Annotated[str, typer.Option(help="landing root")] = str(DEFAULT_LANDING),
    warehouse: Annotated[Path, typer.Option(help="the warehouse DuckDB file")] = (
        DEFAULT_WAREHOUSE
    ),
    force: Annotated[bool, typer.Option(help="refresh months whose inputs are unchanged")] = False,
    alert_block: Annotated[
        str | None,
        typer.Option(envvar="JKN_ALERT_BLOCK", help="notification block for alerts"),
    ] = None,
) -> None:
    """Refresh a range of months oldest first, skipping those unchanged since published."""
    with prefect_api() as server:  # first: it comes up while the pipeline is imported
        from flows.backfill import BackfillFailed, backfill
        from jkn.alerts import AlertsMisconfigured
        from jkn.periods import PeriodError, months
        from jkn.refresh import RunSettings

        try:
            months(start, end)
        except PeriodError as error:
            raise _refused(str(error), code=2) from None
        settings = RunSettings(
            landing=landing, warehouse=warehouse, alert_block=alert_block or None
        )
        try:
            if server:
                server.wait_ready()
            summary = backfill(start, end, settings, force)
        except BackfillFailed as failed:
            summary = failed.summary
        except (AlertsMisconfigured, ServerUnavailable) as error:
            raise _refused(str(error)) from None
    screen.print(f"published: {', '.join(summary.published) or '-'}")
    screen.print(f"skipped (unchanged): {', '.join(summary.skipped) or '-'}")
    for period, reason in summary.failed.items():
        screen.print(f"[red]failed {period}[/red]: {reason}")
    if summary.failed:
        raise typer.Exit(code=1)


automations_app = typer.Typer(
    help="Server-side automations kept in automations.yaml: mark runs whose worker died "
    "Crashed, and alert on Crashed or Failed runs, on the server PREFECT_API_URL points at.",
    no_args_is_help=True,
)
app.add_typer(automations_app, name="automations")


@automations_app.command("apply")
def automations_apply(
    block: Annotated[
        str,
        typer.Option(
            envvar="JKN_ALERT_BLOCK",
            help="notification block the alert automation sends through, '<type-slug>/<name>' "
            "as `jkn alerts webhook|slack|email` printed it",
        ),
    ],
    file: Annotated[
        Path | None, typer.Option(help="the automations file (default: automations.yaml)")
    ] = None,
) -> None:
    """Create the automations of automations.yaml, or replace those of the same name."""
    from jkn.automations import AutomationsError, apply_automations

    try:
        done = apply_automations(block, file)
    except AutomationsError as error:
        raise _refused(str(error), code=2) from None
    for line in done:
        screen.print(line, highlight=False)
    screen.print(f"Automations applied; alerts go through {block}.", highlight=False)
