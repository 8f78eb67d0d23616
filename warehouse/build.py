"""Build one period's marts and officers' lists from staging, in the restricted file.

Intermediate models run as temporary tables; each mart and list model is a ``select`` over
them. Nothing here writes the warehouse BI reads: :func:`warehouse.publish.publish_period`
does, for one period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import polars as pl

from warehouse import RULES_DIR, SQL_DIR, execute, model_files, model_sql, replace_slice

MARTS = (
    "coverage",
    "coverage_bridge",
    "activity_by_segment",
    "uhc_status",
    "uhc_targets",
    "pbi_reconciliation",
    "double_funding",
    "rows_unplaced",
    # what the period was built from (published_at and flow_run stamped when it is published)
    "published",
    "published_files",
    "coverage_by_group",
    # issue 16: the levers and the 2026 tiers (takeover first: the budget reads it)
    "takeover_candidates",
    "pbi_eligibility_drift",
    "uhc_tiers",
    "uhc_budget",
)
# Models of sql/models/marts that a mart reads but that are not published: temp tables
# m_<name>, run just before the mart named here.
UNPUBLISHED = {
    "uhc_status": ("coverage_pemda",),
    "takeover_candidates": ("lever_regions",),
    "uhc_tiers": ("tier_gaps",),
}
# The marts of what moved since the month before (sql/models/marts/<name>.sql, over the
# months' stored states, sql/models/state): built for the period and, when the month after it
# is published, again for that month, whose movements the period's new figures change.
MOVEMENTS = ("card_movements", "resident_movements")
# What each published month keeps in the restricted file for the movements: state model →
# its table.
STATES = {"card_state": "intermediate.card_state", "resident_state": "intermediate.resident_state"}
# The officers' lists (one model each, sql/models/lists/<name>.sql): the one home of their
# names, which jkn.exports offers.
LISTS = (
    "outreach",
    "cleanup",
    "double_funding",
    "pbi_reconciliation",
    "link_review",
    # issue 16
    "takeover_candidates",
)
# Column types of the rules files (an empty column would otherwise be read as text).
RULE_TYPES = {
    "valid_from": "DATE",
    "valid_to": "DATE",
    "min_coverage": "DOUBLE",
    "min_activity": "DOUBLE",
    "target_coverage": "DOUBLE",
    "premium_idr": "BIGINT",
    "is_pbi": "BOOLEAN",
    "is_ppu": "BOOLEAN",
    "is_apbd": "BOOLEAN",
    "category_order": "INTEGER",
    "digits": "INTEGER",
    "whole_code": "BOOLEAN",
    "age_band_order": "INTEGER",
    "min_age": "INTEGER",
    "max_age": "INTEGER",
    # issue 16: the tiers, UHC Prioritas' arrears condition, PBI eligibility
    "min_pemda_share": "DOUBLE",
    "tier_order": "INTEGER",
    "prioritas_no_pemda_arrears": "BOOLEAN",
    "max_decile": "INTEGER",
}


@dataclass
class BuiltPeriod:
    """A period's marts (counts and rates, small) and its lists, which hold personal data and
    never leave the restricted file (``lists`` is emptied once they are stored there)."""

    period: dt.date
    marts: dict[str, pl.DataFrame]
    lists: dict[str, pl.DataFrame]
    list_rows: dict[str, int] = field(default_factory=dict)
    # further periods whose slice a mart's frame replaces (the month after, recomputed)
    also_replaces: dict[str, list[dt.date]] = field(default_factory=dict)
    # when the linkage was fanned out: regions scored, and worker processes that scored them
    fan_out: dict[str, int] | None = None


def load_reference(con: duckdb.DuckDBPyConnection, regions: pl.DataFrame) -> None:
    """(Re)load the reference tables: Kemendagri ``regions`` (the caller reads them:
    :func:`jkn.databases.load_reference`) and the rules kept as data; and define the
    connection's shared macros (``sql/macros``: e.g. the coverage rates)."""
    con.execute("create schema if not exists ref")
    con.register("_regions", regions)
    try:
        con.execute("create or replace table ref.regions as select * from _regions")
    finally:
        con.unregister("_regions")
    for path in sorted(RULES_DIR.glob("*.csv")):
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        types = {c: t for c, t in RULE_TYPES.items() if c in header}
        typed = ", types=$types" if types else ""
        con.execute(
            f"create or replace table ref.{path.stem} as "
            f"select * from read_csv($path, header=true, auto_detect=true{typed})",
            {"path": str(path), **({"types": types} if types else {})},
        )
    define_macros(con)


def define_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define the connection's shared temp macros (``sql/macros/*.sql``): the coverage rates,
    the review list's record key and pair fingerprint."""
    for path in sorted((SQL_DIR / "macros").glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))


def published(con: duckdb.DuckDBPyConnection, period: dt.date) -> dt.date | None:
    """``period`` if it was published (``audit.runs``) and the restricted file holds its
    states (the movements compare states), else None."""
    found = con.execute(
        "select count(*) from audit.runs as r where r.period = $period "
        "and exists (select 1 from intermediate.resident_state as s where s.period = r.period)",
        {"period": period},
    ).fetchall()[0][0]
    return period if found else None


def build_period(
    con: duckdb.DuckDBPyConnection,
    period: dt.date,
    population_snapshot: str,
    neighbours: tuple[dt.date, dt.date],
    versions: Mapping[str, str],
    period_end: dt.date,
) -> BuiltPeriod:
    """Run the intermediate, mart and list models for one period (read-only on staging); store
    the period's states (``STATES``) and build the movement marts against the month before,
    and for the month after when it was published. ``neighbours``: the calendar months before
    and after ``period`` (the caller's period helpers say which); ``versions``: what
    ``marts.published`` says the period was built with (``code_version``, ``rules_version``,
    ``region_list``), which the caller knows; ``period_end``: the period's last day, the day
    ages are counted at (``jkn.periods.last_day``)."""
    previous, following = (published(con, month) for month in neighbours)
    params: dict[str, object] = {
        "period": period,
        "snapshot": population_snapshot,
        "period_end": period_end,
        "previous_period": previous,
        "next_period": following,
        **versions,
    }
    for path in model_files("intermediate"):
        execute(con, path.read_text(encoding="utf-8"), params)
    for name, table in STATES.items():
        con.execute(f"delete from {table} where period = $period", {"period": period})
        execute(con, f"insert into {table} by name {model_sql('state', name)}", params)
    marts = {}
    for name in MARTS:
        for step in (*UNPUBLISHED.get(name, ()), name):
            sql = model_sql("marts", step)
            execute(con, f"create or replace temp table m_{step} as {sql}", params)
        marts[name] = con.sql(f"select * from m_{name}").pl()
    also: dict[str, list[dt.date]] = {}
    for name in MOVEMENTS:
        sql = model_sql("marts", name)
        frames = [con.sql(sql, params={"period": period, "previous_period": previous}).pl()]
        if following is not None:
            later = {"period": following, "previous_period": period}
            frames.append(con.sql(sql, params=later).pl())
            also[name] = [following]
        marts[name] = pl.concat(frames)
    marts["data_quality"] = con.sql(
        "select * from audit.data_quality where period = $period", params={"period": period}
    ).pl()
    lists = {}
    for name in LISTS:
        lists[name] = con.sql(model_sql("lists", name), params={"period": period}).pl()
    return BuiltPeriod(period=period, marts=marts, lists=lists, also_replaces=also)


def store_lists(con: duckdb.DuckDBPyConnection, built: BuiltPeriod) -> None:
    """Replace the period's slice of every officers' list (call inside a transaction)."""
    for name, frame in built.lists.items():
        replace_slice(con, f"lists.{name}", frame, {"period": built.period})
        built.list_rows[name] = frame.height
    built.lists = {}
