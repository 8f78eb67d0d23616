"""Console rendering of run results (counts only: no row content ever reaches the screen)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.table import Table

if TYPE_CHECKING:
    from flows.monthly_refresh import RefreshSummary


def _totals(summary: RefreshSummary) -> Table:
    table = Table(title=f"Data quality, {summary.period}: rows per source", title_justify="left")
    table.add_column("source")
    table.add_column("file")
    for name in ("received", "loaded", "quarantined", "flagged"):
        table.add_column(name, justify="right")
    for s in summary.sources:
        if s.outcome == "failed":
            table.add_row(s.source, s.file or "—", "[red]FAILED[/red]", "—", "—", "—")
            continue
        table.add_row(
            s.source,
            s.file or "—",
            f"{s.rows_received:,}",
            f"{s.rows_loaded:,}",
            f"{s.rows_quarantined:,}",
            f"{s.rows_flagged:,}",
        )
    return table


def _by_check(summary: RefreshSummary) -> Table:
    loaded = [s for s in summary.sources if s.outcome != "failed"]
    table = Table(
        title="Rows failing each check (error: quarantined; warning: flagged, loaded)",
        title_justify="left",
    )
    table.add_column("check")
    table.add_column("severity")
    for s in loaded:
        table.add_column(s.source, justify="right")
    checks = sorted(
        {("error", c) for s in loaded for c in s.errors}
        | {("warning", c) for s in loaded for c in s.warnings}
    )
    for severity, check in checks:
        counts = [(s.errors if severity == "error" else s.warnings).get(check) for s in loaded]
        table.add_row(
            check,
            severity,
            *(f"{c:,}" if c is not None else "·" for c in counts),
        )
    return table


def _top(counts: dict[str, int], limit: int = 2) -> str:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = "; ".join(f"{check} {rows:,}" for check, rows in ordered[:limit])
    return text + (f"; +{len(ordered) - limit} more" if len(ordered) > limit else "") or "—"


def demo_summary_table(summaries: dict[str, RefreshSummary]) -> Table:
    """One row per district × source: received, loaded, quarantined and flagged, by reason."""
    table = Table(show_lines=False)
    table.add_column("district")
    table.add_column("source")
    for name in ("received", "loaded", "quarantined"):
        table.add_column(name, justify="right")
    table.add_column("top quarantine reasons")
    table.add_column("flagged", justify="right")
    table.add_column("top flags")
    for district, summary in summaries.items():
        for s in summary.sources:
            if s.outcome == "failed":
                table.add_row(district, s.source, "[red]FAILED[/red]", "", "", s.message or "")
                continue
            table.add_row(
                district,
                s.source,
                f"{s.rows_received:,}",
                f"{s.rows_loaded:,}",
                f"{s.rows_quarantined:,}",
                _top(s.errors),
                f"{s.rows_flagged:,}",
                _top(s.warnings),
            )
        table.add_section()
    return table


def data_quality_report(summary: RefreshSummary) -> Group:
    """Received, loaded, quarantined and flagged rows per source; rows per failing check."""
    return Group(_totals(summary), _by_check(summary))


def print_data_quality(summary: RefreshSummary, console: Console | None = None) -> None:
    """Print the run's data-quality report, then each failed source's message."""
    out = console or Console()
    out.print(data_quality_report(summary))
    for source in summary.failed:
        out.print(f"[red]✗ {source.source}[/red]: {source.message}")
