"""Console rendering of run results (counts only: no row content ever reaches the screen)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from flows.monthly_refresh import RefreshSummary


def _reasons(counts: dict[str, int]) -> str:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return "\n".join(f"{check} {rows:,}" for check, rows in ordered) or "—"


def data_quality_table(summary: RefreshSummary, title: str | None = None) -> Table:
    """Per source: received, loaded, quarantined by reason, flagged by reason."""
    table = Table(title=title or f"Data quality, {summary.period}", show_lines=True)
    for name, justify in (
        ("source", "left"),
        ("file", "left"),
        ("received", "right"),
        ("loaded", "right"),
        ("quarantined", "right"),
        ("quarantined by reason", "left"),
        ("flagged by reason", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for s in summary.sources:
        if s.outcome == "failed":
            table.add_row(
                s.source, s.file or "—", "—", "—", "—", f"[red]SOURCE FAILED[/red]\n{s.message}", ""
            )
            continue
        table.add_row(
            s.source,
            s.file or "—",
            f"{s.rows_received:,}",
            f"{s.rows_loaded:,}",
            f"{s.rows_quarantined:,}",
            _reasons(s.errors),
            _reasons(s.warnings),
        )
    return table


def print_data_quality(summary: RefreshSummary, console: Console | None = None) -> None:
    (console or Console()).print(data_quality_table(summary))
