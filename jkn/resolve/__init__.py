"""Identity resolution: which person each loaded row belongs to.

The result is one table, ``intermediate.row_person`` (period × source × line → person_key),
which everything downstream reads. Rows are resolved by NIK first (``method`` = ``nik``); then
:mod:`jkn.link` links rows whose NIK is missing, mistyped, unknown or someone else's by name,
birth date, sex and place (``linked``), groups cards of one person unknown to Dukcapil
(``clustered``), and refuses a NIK shown to belong to someone else (``nik_rejected``). The marts
read only ``person_key``.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from jkn.link import ScoreRegions, link_period
from jkn.timeline import stage
from warehouse import model_sql


def resolve_persons(
    con: duckdb.DuckDBPyConnection,
    period: dt.date,
    *,
    link: bool = True,
    score_regions: ScoreRegions | None = None,
) -> dict[str, int]:
    """Replace the period's ``intermediate.row_person`` slice; return rows per method.

    Rows are first resolved by NIK; with ``link``, records whose NIK does not resolve are then
    linked by name, birth date, sex and place (:mod:`jkn.link`). Call inside a transaction on
    the restricted file. ``score_regions`` fans the linkage's scoring out by region
    (:func:`jkn.link.link_period`).
    """
    with stage("resolve"):
        con.execute(
            "delete from intermediate.row_person where period = $period", {"period": period}
        )
        con.execute(
            "insert into intermediate.row_person by name " + model_sql("resolve", "by_nik"),
            {"period": period},
        )
    if link:
        with stage("link"):
            link_period(con, period, score_regions=score_regions)
    # persons known only by their cards keep last month's key (sql/models/resolve/card_keys)
    con.execute(model_sql("resolve", "card_keys"), {"period": period})
    con.execute(
        "update intermediate.row_person as p set person_key = k.person_key "
        "from card_keys as k where p.period = $period and p.person_key = k.own_key",
        {"period": period},
    )
    con.execute("drop table card_keys")
    counts = con.execute(
        "select method, count(*) from intermediate.row_person where period = $period "
        "group by method order by method",
        {"period": period},
    ).fetchall()
    return {method: n for method, n in counts}
