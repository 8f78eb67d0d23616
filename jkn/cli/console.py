"""Console rendering of run results (counts only: no row content ever reaches the screen)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console, Group
from rich.table import Table

from jkn.databases import open_marts_read_only
from jkn.domain import BRIDGE_CATEGORIES
from jkn.national import NationalSummary
from jkn.refresh import RefreshSummary
from warehouse import report_sql


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


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def _verdict(meets: bool | None) -> str:
    return "[green]meets[/green]" if meets else "[red]fails[/red]"


def _gaps(targets: list[dict] | None) -> str:
    lines = []
    for t in targets or []:
        if t["gap"] is None:
            continue
        if t["gap"] <= 0:
            lines.append(f"{t['target_coverage'] * 100:g}%: reached")
        else:
            lines.append(
                f"{t['target_coverage'] * 100:g}%: {t['gap'] * 100:.2f} pp short, "
                f"{t['residents_to_target']:,} residents"
            )
    return "\n".join(lines) or "—"


def read_uhc_summary(marts_file: Path, asked: list[str]) -> list[dict]:
    """Rows of the ``uhc_summary`` report for ``'YYYY-MM-DD|region_code'`` items, read-only
    (nothing when nothing is published)."""
    con = open_marts_read_only(marts_file)
    if con is None:
        return []
    with con:
        frame = con.sql(
            report_sql("uhc_summary", {"bridge_categories": BRIDGE_CATEGORIES}),
            params={"regions": asked},
        ).pl()
    return frame.to_dicts()


def uhc_tables(rows: list[dict]) -> Group:
    """The demo's two tables: UHC status per district, and the coverage bridge explaining it."""
    status = Table(
        title="UHC status (marts.uhc_status, marts.uhc_targets, marts.double_funding)",
        title_justify="left",
        show_lines=True,
    )
    for name, justify in (
        ("district", "left"),
        ("period", "left"),
        ("coverage\nregistered", "right"),
        ("activity of\npopulation", "right"),
        ("coverage\nreconciled", "right"),
        ("rule in force", "left"),
        ("verdict", "left"),
        ("residents\nto enrol", "right"),
        ("gap to target", "left"),
        ("double funding\n(Rp / month)", "right"),
    ):
        width = 20 if name == "rule in force" else None
        status.add_column(name, justify=justify, min_width=width)  # type: ignore[arg-type]
    bridge = Table(
        title="Coverage bridge: registered BPJS rows by category (marts.coverage_bridge)",
        title_justify="left",
    )
    bridge.add_column("district")
    for name in ("registered", *BRIDGE_CATEGORIES):
        bridge.add_column(name.replace("_", " "), justify="right")
    for r in rows:
        district = f"{r['region_name']} ({r['region_code']})"
        rule = f"{r['rule_id']}\ncoverage ≥ {r['min_coverage'] * 100:g}%" + (
            f"\nactivity ≥ {r['min_activity'] * 100:g}%" if r["min_activity"] is not None else ""
        )
        status.add_row(
            district,
            f"{r['period']:%Y-%m}",
            _pct(r["coverage_registered"]),
            _pct(r["activity_of_population"]),
            _pct(r["coverage_reconciled"]),
            rule,
            f"{_verdict(r['meets_uhc'])}\nreconciled: {_verdict(r['meets_uhc_reconciled'])}",
            f"{r['residents_to_enrol']:,}",
            _gaps(r["targets"]),
            f"{r['double_funding_idr']:,}\n({r['double_funding_persons']:,} persons)",
        )
        bridge.add_row(
            district,
            f"{r['registered']:,}",
            *(f"{(r[c] or 0):,}" for c in BRIDGE_CATEGORIES),
        )
    return Group(status, bridge)


def read_levers(marts_file: Path, asked: list[str]) -> list[dict]:
    """Rows of the ``levers`` report (the next goal and three ways to reach it) for
    ``'YYYY-MM-DD|region_code'`` items, read-only (nothing when nothing is published)."""
    con = open_marts_read_only(marts_file)
    if con is None:
        return []
    with con:
        return con.sql(report_sql("levers", {}), params={"regions": asked}).pl().to_dicts()


def _rupiah(value: int | None) -> str:
    return "—" if value is None else f"Rp {value:,}"


def _lever_verdict(r: dict) -> str:
    out = f"{r['verdict_rule']}: {_verdict(r['meets_uhc'])}"
    if r["meets_uhc_prioritas"] is not None:
        out += f"\nUHC Prioritas: {_verdict(r['meets_uhc_prioritas'])}"
        if r["pemda_arrears_cards"]:
            out += f" ({r['pemda_arrears_cards']:,} Pemda cards in arrears)"
    if r["tier_met"]:
        out += f"\n2026 tier: {r['tier_met']}"
    return out


def _lever_paths(r: dict) -> list[str]:
    enrol = f"{r['enrol_residents']:,} residents\n{_rupiah(r['enrol_idr'])}"
    if r["enrol_residents"] > r["uncovered_residents"]:
        enrol += f"\n(only {r['uncovered_residents']:,} uncovered)"
    paths = [
        enrol,
        f"{r['takeover_members']:,} + {r['takeover_enrol']:,}\n{_rupiah(r['takeover_idr'])}",
        f"{r['reactivate_members']:,} + {r['reactivate_enrol']:,}\n{_rupiah(r['reactivate_idr'])}",
    ]
    costs = (r["enrol_idr"], r["takeover_idr"], r["reactivate_idr"])
    cheapest = costs.index(min(costs))
    paths[cheapest] = f"[bold]{paths[cheapest]}\ncheapest[/bold]"
    return paths


def levers_table(rows: list[dict]) -> Table:
    """The demo's levers: the verdict (the rule in force, UHC Prioritas, the 2026 tier), the
    nearest goal not met, and what each way of reaching it costs the Pemda a month."""
    table = Table(
        title="The next goal and what reaching it costs the Pemda a month "
        "(marts.uhc_budget, uhc_tiers, takeover_candidates)",
        title_justify="left",
        show_lines=True,
    )
    for name, justify in (
        ("district", "left"),
        ("verdict", "left"),
        ("next goal\n(gaps)", "left"),
        ("enrol as PBI_APBD", "right"),
        ("take over members\nin arrears, then enrol", "right"),
        ("reactivate (members pay\narrears), then enrol", "right"),
        ("takeover\ncandidates", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        if r["next_goal"] is None:
            goal, paths = "every goal in force is met", ["—", "—", "—"]
        else:
            goal = (
                f"{r['next_goal']}\ncoverage {r['coverage_gap']:,}, "
                f"activity {r['activity_gap']:,}"
                + (f", Pemda share {r['pemda_gap']:,}" if r["pemda_gap"] else "")
            )
            paths = _lever_paths(r)
        table.add_row(
            f"{r['region_name']} ({r['region_code']})\n{r['period']:%Y-%m}",
            _lever_verdict(r),
            goal,
            *paths,
            f"{r['takeover_candidates']:,}",
        )
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


def national_tables(summary: NationalSummary, warehouse: Path) -> Group:
    """The national run: each province's outcome and timings, then the published national
    marts of the period (counts and rates only)."""
    runs = Table(title=f"National refresh {summary.period}: provinces", title_justify="left")
    for name in ("province", "published", "persons exchanged", "refresh s", "export s"):
        runs.add_column(name, justify="left" if name == "province" else "right")
    for p in summary.provinces:
        runs.add_row(
            p.code,
            "yes" if p.published else "[red]no[/red]",
            f"{p.persons_exchanged:,}",
            f"{p.refresh_s:.1f}",
            f"{p.export_s:.2f}",
        )
    steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in summary.seconds.items())
    runs.caption = f"{steps}; worker processes: {summary.processes}" if steps else None
    parts: list[Table] = [runs]
    con = open_marts_read_only(warehouse) if summary.published else None
    if con is not None:
        try:
            shown = {
                "national_coverage": "region_code, region_name, population, registered, "
                "covered_residents, coverage_reconciled, residents_carded_elsewhere, "
                "uncovered_carded_elsewhere, coverage_national",
                "cross_province": "region_code, region_name, persons_carded_elsewhere_too, "
                "double_funding_persons, cross_province_double_funding, "
                "cross_province_double_funding_cost_idr",
            }
            for mart, columns in shown.items():
                frame = con.sql(
                    f"select {columns} from marts.{mart} where period = $period "
                    "order by region_level desc, region_code",
                    params={"period": f"{summary.period}-01"},
                ).pl()
                table = Table(title=f"marts.{mart}", title_justify="left")
                for column in frame.columns:
                    table.add_column(column, justify="right")
                for row in frame.iter_rows():
                    table.add_row(
                        *[
                            f"{v:.2%}"
                            if isinstance(v, float)
                            else f"{v:,}"
                            if isinstance(v, int)
                            else str(v)
                            for v in row
                        ]
                    )
                parts.append(table)
        finally:
            con.close()
    return Group(*parts)
