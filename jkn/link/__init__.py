"""Record linkage: BPJS cards and PBI-list rows whose NIK is missing, mistyped or unknown, to
the Dukcapil person they belong to — and unlinked cards to each other.

Phases, each a SQL file in ``warehouse/sql/models/link/`` run in DuckDB:

1. ``block`` — normalise both sides (names with Indonesian spelling variants folded), then
   propose candidate pairs by rules that keep the work near-linear (same birth date and sex in
   the kecamatan, or in the kab/kota with the same initial; the same with day and month
   swapped; two of the NIK's three parts equal; same name and birth year in the kecamatan, or
   birth month too in the kab/kota; same village, sex and birth month), each bucket of more
   than ``max_bucket`` people split by further fields, so that a record meets a bounded
   number of people whatever the district's size;
2. ``score`` — compare name, birth date, NIK, sex, place and family card; each level adds a
   log2 weight from ``settings.json``;
3. ``decide`` — link a record to its best candidate only when the score clears the threshold
   *and* beats the runner-up by a margin; likely-but-not-certain goes to ``lists.link_review``
   for an officer, never linked automatically;
4. ``cluster`` — cards still unlinked that name the same person become one person.

Officers' answers on review pairs (``audit.review_decisions``, stored by ``jkn lists import``:
:mod:`jkn.review`) apply before the automatic decision, in three steps beside the phases
(``02_officers``, ``03_officers``, ``05_officers``): a pair answered *different* is never
scored, a record answered *same* is linked to that NIK whatever its score.

Every decision is kept with its evidence in ``intermediate.link_evidence``. Flows call
:func:`link_period` (through :func:`jkn.resolve.resolve_persons`) and nothing else.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from jkn.databases import open_scratch
from jkn.link.config import SETTINGS_PATH, LinkSettings, LinkSettingsError, load_settings
from warehouse import execute, model_sql, replace_slice
from warehouse.build import define_macros

SIDES = ("01_people", "02_records")
BLOCK = ("03_blocks", "03_candidates")
SCORE = ("04_scores",)
DECIDE = ("05_decisions",)
CLUSTER = ("06_clusters",)
# The officers' answers (audit.review_decisions): which bear on the period's records (after
# the sides), the candidates they change (after blocking), the decisions they make (after
# deciding, in the flow's connection whether or not scoring fanned out).
OFFICERS_PAIRS = ("02_officers",)
OFFICERS_CANDIDATES = ("03_officers",)
OFFICERS_DECIDE = ("05_officers",)
# The blocking rules, in the order of their bits (1, 2, 4, …): 03_blocks.sql binds each
# rule's bit as ``$rule_<name>`` (:func:`rule_bits`), jkn_rule_names reads the names back.
BLOCKING_RULES = (
    "dob_sex_kecamatan_or_initial",
    "dob_swapped_sex_kecamatan_or_initial",
    "nik_region_date",
    "nik_date_serial",
    "name_birth_year_kecamatan_or_month",
    "name_dob",
    "village_sex_initials",
    "nik_region_serial_date_digits",
    "village_sex_birth_month",
)

RULE_PARAMETER = re.compile(r"\$rule_(\w+)")


def rule_bits() -> dict[str, int]:
    """The ``$rule_<name>`` parameters of 03_blocks.sql: each rule's bit."""
    return {f"rule_{rule}": 1 << i for i, rule in enumerate(BLOCKING_RULES)}


def check_blocking_rules(sql: str) -> None:
    """Refuse a blocking query whose rules are not exactly :data:`BLOCKING_RULES` (a rule
    added to the SQL or to the tuple alone)."""
    in_sql = set(RULE_PARAMETER.findall(sql))
    if in_sql != set(BLOCKING_RULES):
        raise RuntimeError(
            "the blocking rules of 03_blocks.sql and jkn.link.BLOCKING_RULES differ: "
            f"only in the SQL {sorted(in_sql - set(BLOCKING_RULES))}, "
            f"only in BLOCKING_RULES {sorted(set(BLOCKING_RULES) - in_sql)}"
        )


@dataclass
class LinkReport:
    """What the linkage decided for one period (counts only)."""

    records: int
    candidates: int
    skipped_blocks: int
    """(record, rule) blocks left out: even the finest bucket held over ``max_bucket`` people."""
    linked: int
    review: int
    no_link: int
    clustered: int
    settings_version: str
    officer_linked: int = 0
    """records linked by an officer's 'same' (counted in ``linked`` too)"""
    officer_excluded: int = 0
    """(record, candidate) pairs an officer's 'different' kept from scoring"""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _token_expr(settings: LinkSettings) -> str:
    """SQL that maps one raw name token ``t`` to its canonical spelling."""
    cases = " ".join(
        f"when t in ({', '.join(_quote(v) for v in variants)}) then {_quote(canonical)}"
        for canonical, variants in settings.name_tokens.items()
    )
    expr = f"(case {cases} else t end)"
    for old, new in settings.spelling:
        expr = f"replace({expr}, {_quote(old)}, {_quote(new)})"
    for letter in settings.doubled_letters:
        expr = f"replace({expr}, {_quote(letter * 2)}, {_quote(letter)})"
    return expr


def install_macros(con: duckdb.DuckDBPyConnection, settings: LinkSettings) -> None:
    """``jkn_tokens(name)`` and ``jkn_name_key(name)``: names normalised as the settings say
    (upper case, accents and punctuation dropped, variants folded, spaces removed for the key);
    and the shared macros of ``warehouse/sql/macros`` (the officers' record key among them)."""
    define_macros(con)
    raw = (
        "list_filter(string_split(regexp_replace(upper(strip_accents(coalesce(n, ''))), "
        "'[^A-Z]+', ' ', 'g'), ' '), lambda t: t <> '')"
    )
    con.execute(
        f"create or replace temp macro jkn_tokens(n) as "
        f"list_transform({raw}, lambda t: {_token_expr(settings)})"
    )
    con.execute(
        "create or replace temp macro jkn_name_key(n) as array_to_string(jkn_tokens(n), '')"
    )
    # the name without its most common parts (MUHAMMAD …), for similarity: a shared long
    # prefix would otherwise make MUHAMMAD RAFI look like MUHAMMAD HAFIZ HASAN. The parts are
    # folded as the names' own tokens are (MUHAMMAD is MUHAMAD by then): listed unfolded,
    # MUHAMMAD was never left out (until settings fs-2026.12-7)
    folded = con.execute("select jkn_tokens($n)", {"n": " ".join(settings.common_tokens)})
    common = ", ".join(_quote(t) for t in folded.fetchall()[0][0])
    con.execute(
        "create or replace temp macro jkn_core_key(n) as coalesce(nullif(array_to_string("
        f"list_filter(jkn_tokens(n), lambda t: t not in ({common})), ''), ''), jkn_name_key(n))"
    )
    # the name as written, letters only, nothing folded: a typo that the folding turns into
    # two edits (LILIS written LLIS, undoubled LIS; JONI written JOEI, OE read as U) is one
    # edit here
    con.execute(
        "create or replace temp macro jkn_plain_key(n) as "
        "regexp_replace(upper(strip_accents(coalesce(n, ''))), '[^A-Z]+', '', 'g')"
    )
    # what both sides compare, normalised one way: the name's keys, and the place's levels.
    # The sides apply jkn_name_parts to each distinct name once and join it back (a million
    # residents share some fifty thousand names): the per-name work is the linkage's costliest
    con.execute(
        "create or replace temp macro jkn_name_parts(n) as {"
        "'name_key': jkn_name_key(n), 'core_key': jkn_core_key(n), 'plain_key': jkn_plain_key(n), "
        "'tokens': jkn_tokens(n)}"
    )
    con.execute(
        "create or replace temp macro jkn_places(village) as {"
        "'kecamatan': left(village, 6), 'kabupaten': left(village, 4)}"
    )
    # the blocking rules behind a pair, from its bits (the order of BLOCKING_RULES)
    names = ", ".join(_quote(rule) for rule in BLOCKING_RULES)
    con.execute(
        f"create or replace temp macro jkn_rule_names(bits) as "
        f"list_filter([{names}], lambda rule, i: (bits >> (i - 1)) & 1 = 1)"
    )
    # the digits of a string in sorted order: two transposed digits give the same key
    con.execute(
        "create or replace temp macro jkn_sorted_digits(s) as "
        "array_to_string(list_sort(string_split(s, '')), '')"
    )
    # the date with day and month swapped, or null where that is no date (day > 12)
    con.execute(
        "create or replace temp macro jkn_swap_day_month(d) as "
        "try_strptime(strftime(d, '%Y-%d-%m'), '%Y-%m-%d')::date"
    )
    weights = pl.DataFrame(settings.weight_rows())
    con.register("_weights", weights)
    try:
        con.execute("create or replace temp table link_weights as select * from _weights")
    finally:
        con.unregister("_weights")


def _run(con: duckdb.DuckDBPyConnection, names: tuple[str, ...], params: dict[str, Any]) -> None:
    for name in names:
        execute(con, model_sql("link", name), params)


def _block(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> None:
    """Propose the candidate pairs, each rule's bit bound from :data:`BLOCKING_RULES`."""
    blocks, candidates = BLOCK
    sql = model_sql("link", blocks)
    check_blocking_rules(sql)
    execute(con, sql, {**params, **rule_bits()})
    execute(con, model_sql("link", candidates), params)


def prepare_sides(
    con: duckdb.DuckDBPyConnection, period: dt.date, settings: LinkSettings
) -> dict[str, Any]:
    """Install the macros and build ``link_people`` and ``link_records``, normalised; return
    the parameters the later phases bind. Call after the NIK pass."""
    install_macros(con, settings)
    params = {
        "period": period,
        "name_close": settings.levels.name_close,
        "name_similar": settings.levels.name_similar,
        "dob_near_days": settings.levels.dob_near_days,
        "link_threshold": settings.link_threshold,
        "review_threshold": settings.review_threshold,
        "margin": settings.margin,
        "max_bucket": settings.max_bucket,
    }
    _run(con, SIDES, params)
    return params


def release(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the linkage's working tables (``link_*``, temporary) from the connection. Call
    after the transaction that stored the period's persons has committed: inside it DuckDB
    keeps a dropped table's memory (at 3M residents about 1.9 GB, above the memory limit, so
    whatever the connection built next would spill)."""
    tables = con.execute(
        "select table_name from duckdb_tables() "
        "where temporary and starts_with(table_name, 'link_')"
    ).fetchall()
    for (table,) in tables:
        con.execute(f"drop table temp.{table}")


ScoreRegions = Callable[[Path, list[str], LinkSettings, dict[str, Any]], list[Path]]
"""Scores the exported regions — ``(folder, regions, settings, params) → decision files`` — by
calling :func:`score_region` once per region, wherever it likes (a Dask cluster, say)."""


def link_period(
    con: duckdb.DuckDBPyConnection,
    period: dt.date,
    settings: LinkSettings | None = None,
    *,
    score_regions: ScoreRegions | None = None,
) -> LinkReport:
    """Link the period's unresolved records; update ``intermediate.row_person`` and keep the
    evidence. Call after the NIK pass, inside the restricted file's transaction.

    Blocking runs here over the whole period (candidates cross regions: a NIK's parts, a name
    and birth date anywhere). Scoring and deciding, most of the work, are per record; with
    ``score_regions`` they run region by region on the caller's executor, each region's
    records, candidates and the people they name exported to Parquet in the restricted
    temporary folder and removed afterwards. The decisions are the same either way.
    """
    settings = load_settings() if settings is None else settings
    params = prepare_sides(con, period, settings)
    _run(con, OFFICERS_PAIRS, params)
    _block(con, params)
    answered = con.sql("select count(*) from link_officer_pairs where applies").fetchall()[0][0]
    if answered:
        _run(con, OFFICERS_CANDIDATES, params)
    if score_regions is None:
        _run(con, SCORE + DECIDE, params)
    else:
        _score_by_region(con, score_regions, settings, params)
    _run(con, OFFICERS_DECIDE + CLUSTER, params)

    # an officer's answer shows in the evidence: decision 'officer_linked' for a 'same', and
    # the answers that bore on the record under "officer"
    evidence = con.sql(
        "select $period as period, source, line, nik as candidate_nik, score, runner_up, "
        "case when officer.linked then 'officer_linked' else decision end as decision, "
        "(case when officer is null then to_json(evidence) "
        "else json_merge_patch(to_json(evidence), json_object('officer', officer)) end)::varchar "
        "as evidence, $version as settings_version from link_decisions",
        params={"period": period, "version": settings.version},
    ).pl()
    replace_slice(con, "intermediate.link_evidence", evidence, {"period": period})
    con.execute(
        "update intermediate.row_person as p set person_key = d.nik, method = case "
        "when coalesce(d.officer.linked, false) then 'officer_linked' else 'linked' end "
        "from link_decisions as d where p.period = $period and p.source = d.source "
        "and p.line = d.line and d.decision = 'link'",
        {"period": period},
    )
    con.execute(
        "update intermediate.row_person as p set person_key = c.person_key, method = 'clustered' "
        "from link_clusters as c where p.period = $period and p.source = 'bpjs_membership' "
        "and p.line = c.line",
        {"period": period},
    )
    # a refused NIK names no one: a card is then its own person ('card:<NOKA>', as a card
    # without NIK), a PBI-list row too ('rejected:<source>:<line>')
    con.execute(
        "update intermediate.row_person as p "
        "set person_key = coalesce('card:' || s.noka, 'rejected:' || r.rec_id), "
        "method = 'nik_rejected' "
        "from link_records as r left join link_decisions as d on d.rec_id = r.rec_id "
        "left join staging.bpjs_membership as s "
        "on r.source = 'bpjs_membership' and s.period = $period and s.line = r.line "
        "where p.period = $period and p.source = r.source and p.line = r.line "
        "and r.nik_conflict and coalesce(d.decision, 'none') <> 'link' "
        "and p.method <> 'clustered'",
        {"period": period},
    )
    counts = dict(
        con.sql("select decision, count(*) from link_decisions group by decision").fetchall()
    )
    return LinkReport(
        records=con.sql("select count(*) from link_records").fetchall()[0][0],
        candidates=con.sql("select count(*) from link_candidates").fetchall()[0][0],
        skipped_blocks=con.sql(
            "select count(*) from link_blocks where side = 'record' and level is null"
        ).fetchall()[0][0],
        linked=counts.get("link", 0),
        review=counts.get("review", 0),
        no_link=counts.get("none", 0),
        clustered=con.sql("select count(*) from link_clusters").fetchall()[0][0],
        settings_version=settings.version,
        officer_linked=con.sql(
            "select count(*) from link_decisions where coalesce(officer.linked, false)"
        ).fetchall()[0][0],
        officer_excluded=con.sql(
            "select count(*) from link_officer_pairs where answer = 'different'"
        ).fetchall()[0][0],
    )


def automatic_decisions(
    con: duckdb.DuckDBPyConnection, period: dt.date, settings: LinkSettings | None = None
) -> None:
    """Build ``link_decisions`` as the automatic linkage alone would decide — no officer's
    answer applied, nothing stored — for measuring it against those answers
    (``jkn bench-link --from-decisions``). Any connection that sees the staging tables."""
    settings = load_settings() if settings is None else settings
    params = prepare_sides(con, period, settings)
    _block(con, params)
    _run(con, SCORE + DECIDE, params)


def _score_by_region(
    con: duckdb.DuckDBPyConnection,
    score_regions: ScoreRegions,
    settings: LinkSettings,
    params: dict[str, Any],
) -> None:
    """Build ``link_decisions`` from the regions' decision files (none to score: in place)."""
    with _export_folder(con) as folder:
        regions = export_regions(con, folder)
        if not regions:
            _run(con, SCORE + DECIDE, params)
            return
        files = score_regions(folder, regions, settings, params)
        con.execute(
            "create or replace temp table link_decisions as "
            "select * from read_parquet($files, hive_partitioning = false)",
            {"files": [str(f) for f in files]},
        )


@contextmanager
def _export_folder(con: duckdb.DuckDBPyConnection) -> Iterator[Path]:
    """A private folder beside the restricted file's spill directory, removed afterwards."""
    spill = con.sql("select current_setting('temp_directory')").fetchall()[0][0]
    base = Path(spill) if spill else None
    if base is not None:
        base.mkdir(mode=0o700, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="link-regions-", dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def export_regions(con: duckdb.DuckDBPyConnection, folder: Path) -> list[str]:
    """Write each region's records that have candidates, their candidates and the people those
    name to ``folder/<table>/region=<kab/kota>/``; return the regions (kab/kota codes)."""
    con.execute(
        "create or replace temp table link_regions as "
        "select rec_id, coalesce(kabupaten, 'unplaced') as region from link_records "
        "where rec_id in (select rec_id from link_candidates)"
    )
    slices = {
        "link_records": "select r.*, g.region from link_records as r "
        "inner join link_regions as g using (rec_id)",
        "link_candidates": "select c.*, g.region from link_candidates as c "
        "inner join link_regions as g using (rec_id)",
        "link_people": "select p.*, n.region from link_people as p inner join "
        "(select distinct c.nik, g.region from link_candidates as c "
        "inner join link_regions as g using (rec_id)) as n using (nik)",
    }
    for table, query in slices.items():
        con.execute(
            f"copy ({query}) to '{folder / table}' "
            "(format parquet, partition_by (region), write_partition_columns false)"
        )
    regions = con.sql("select distinct region from link_regions order by region").fetchall()
    return [region for (region,) in regions]


def score_region(folder: Path, region: str, settings: LinkSettings, params: dict[str, Any]) -> Path:
    """Score and decide one region's records from its exported slice, in a DuckDB of its own
    (any process or machine that sees ``folder``); write and return its decisions file."""
    out = folder / "decisions" / f"{region}.parquet"
    out.parent.mkdir(exist_ok=True)
    # in memory, bounded and spilling like the warehouse's own connections
    with open_scratch(folder / f"spill-{region}") as con:
        install_macros(con, settings)
        for table in ("link_records", "link_candidates", "link_people"):
            con.execute(
                f"create temp table {table} as select * from read_parquet($path, "
                "hive_partitioning = false)",
                {"path": str(folder / table / f"region={region}" / "*.parquet")},
            )
        _run(con, SCORE + DECIDE, params)
        con.execute(f"copy link_decisions to '{out}' (format parquet)")
    return out


__all__ = [
    "BLOCKING_RULES",
    "SETTINGS_PATH",
    "LinkReport",
    "LinkSettings",
    "LinkSettingsError",
    "ScoreRegions",
    "automatic_decisions",
    "check_blocking_rules",
    "export_regions",
    "link_period",
    "load_settings",
    "prepare_sides",
    "score_region",
]
