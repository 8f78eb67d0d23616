"""The movement truth of a generated series: ``card_movements`` and ``resident_movements``.

Computed in polars from the rows as delivered (the generator's frames of two consecutive
months), independently of the pipeline's SQL, with the readings the contract fixes
(contracts/marts.md, "Added in the second release"; ARCHITECTURE.md, "Movements between
months"). A row's region is its ``KODE_WILAYAH`` as delivered, placed at every level whose
code prefix (``warehouse/rules/region_levels.csv``) is in the Kemendagri list.
"""

from __future__ import annotations

import polars as pl

from jkn.periods import first_day
from jkn.reference import regions
from jkn.rules import region_levels, segment_aliases, segments

UNKNOWN_SEGMENT = "UNKNOWN"
ARREARS, PBI_DEACTIVATED = "MENUNGGAK", "PBI_DINONAKTIFKAN"

CARD_FLOWS = (
    "cards_start",
    "cards_new",
    "cards_ended",
    "cards_moved_in",
    "cards_moved_out",
    "activated",
    "deactivated_arrears",
    "deactivated_pbi",
    "deactivated_other",
    "new_active",
)
CARD_COLUMNS = (
    "period",
    "previous_period",
    "previous_published",
    "region_code",
    "region_level",
    "region_name",
    "segment",
    "cards_start",
    "cards_new",
    "cards_ended",
    "cards_moved_in",
    "cards_moved_out",
    "cards_end",
    "cards_untracked",
    "activated",
    "deactivated_arrears",
    "deactivated_pbi",
    "deactivated_other",
    "new_active",
)
RESIDENT_FLOWS = (
    "residents_start",
    "residents_entered",
    "residents_left",
    "covered_start",
    "newly_covered",
    "lost_coverage",
    "covered_entered",
    "covered_left",
    "active_start",
    "newly_active",
    "lapsed",
    "active_entered",
    "active_left",
)
RESIDENT_COLUMNS = (
    "period",
    "previous_period",
    "previous_published",
    "region_code",
    "region_level",
    "region_name",
    "residents_start",
    "residents_entered",
    "residents_left",
    "residents_end",
    "covered_start",
    "newly_covered",
    "lost_coverage",
    "covered_entered",
    "covered_left",
    "covered_end",
    "active_start",
    "newly_active",
    "lapsed",
    "active_entered",
    "active_left",
    "active_end",
)
PLACE = ("region_level", "region_code")


def _trim(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).fill_null("").str.strip_chars()


def _reference() -> pl.DataFrame:
    return regions().select("region_digits", "region_code", "region_level", "region_name")


def place(frame: pl.DataFrame, code: str = "KODE_WILAYAH") -> pl.DataFrame:
    """One row per row of ``frame`` and level its code places it at (``region_level``,
    ``region_code`` dotted, ``region_name``); a level whose prefix is not in the list drops
    the row there. The village level takes the whole code."""
    digits = _trim(code).str.replace_all(".", "", literal=True)
    levels = region_levels()
    whole = max(levels.values())
    parts = []
    for level, n in levels.items():
        prefix = digits if n == whole else digits.str.slice(0, n)
        parts.append(
            frame.with_columns(region_digits=prefix, region_level=pl.lit(level)).filter(
                pl.col("region_digits").str.len_chars() == n
            )
        )
    return (
        pl.concat(parts)
        .join(_reference(), on=["region_digits", "region_level"], how="inner")
        .drop("region_digits")
    )


def card_view(bpjs: pl.DataFrame) -> pl.DataFrame:
    """The BPJS rows as the movement readings see them, in file order: ``line``, ``noka``
    (trimmed), ``tracked`` (13 digits), ``segment`` (current code, older names mapped, else
    ``UNKNOWN``), ``active``, ``ket`` (KET_NONAKTIF), ``nik``, ``loaded``, ``KODE_WILAYAH``."""
    known = list(segments())
    seg = _trim("SEGMEN").str.to_uppercase().replace(segment_aliases())
    return bpjs.sort("line").select(
        "line",
        "KODE_WILAYAH",
        noka=_trim("NOKA"),
        tracked=_trim("NOKA").str.contains(r"^[0-9]{13}$"),
        segment=pl.when(seg.is_in(known)).then(seg).otherwise(pl.lit(UNKNOWN_SEGMENT)),
        active=_trim("STATUS_PESERTA").str.to_uppercase() == "AKTIF",
        ket=_trim("KET_NONAKTIF").str.to_uppercase(),
        nik=_trim("NIK"),
        loaded=pl.col("expected") == "loaded",
    )


def resident_view(dukcapil: pl.DataFrame, bpjs: pl.DataFrame, period: str) -> pl.DataFrame:
    """The population as delivered (HIDUP rows, quarantined included, a repeat of an intact NIK
    already in the file left out), with ``person`` (the NIK when 16 digits, else a key of this
    month's own that never matches another month), ``covered`` and ``active`` (a loaded card
    carrying the NIK, an AKTIF one)."""
    cards = card_view(bpjs).filter("loaded")
    covered = cards["nik"].unique()
    active = cards.filter("active")["nik"].unique()
    duk = dukcapil.sort("line").with_columns(
        nik=_trim("NIK"), status=_trim("STATUS").str.to_uppercase()
    )
    intact = pl.col("nik").str.contains(r"^[0-9]{16}$")
    first = pl.col("line") == pl.col("line").min().over("nik")
    return duk.filter((pl.col("status") == "HIDUP") & (~intact | first)).select(
        "KODE_WILAYAH",
        person=pl.when(intact)
        .then("nik")
        .otherwise(pl.lit(f"{period}:") + pl.col("line").cast(str)),
        covered=intact & pl.col("nik").is_in(covered.implode()),
        active=intact & pl.col("nik").is_in(active.implode()),
    )


def _header(period: str, previous: str | None) -> dict[str, pl.Expr]:
    return {
        "period": pl.lit(first_day(period), dtype=pl.Date),
        "previous_period": pl.lit(first_day(previous) if previous else None, dtype=pl.Date),
        "previous_published": pl.lit(previous is not None),
    }


def card_movements(
    period: str, current: pl.DataFrame, previous: pl.DataFrame | None, previous_period: str | None
) -> pl.DataFrame:
    """``card_movements`` of ``period`` from two months' :func:`card_view` (``previous`` None:
    the first month, flow and ``_start`` columns null). One row per region at every level ×
    segment with a row delivered there in either month."""
    key = [*PLACE, "segment"]
    cur = place(current)
    untracked = cur.filter(~pl.col("tracked")).group_by(key).agg(cards_untracked=pl.len())
    end = cur.filter("tracked").group_by(key).agg(cards_end=pl.len())
    grid = cur.select(*key, "region_name")
    if previous is not None:
        grid = pl.concat([grid, place(previous).select(*key, "region_name")])
    out = (
        grid.unique(key)
        .join(end, on=key, how="left")
        .join(untracked, on=key, how="left")
        .with_columns(pl.col("cards_end", "cards_untracked").fill_null(0).cast(pl.Int64))
    )
    if previous is None or previous_period is None:
        flows = out.with_columns(pl.lit(None, dtype=pl.Int64).alias(c) for c in CARD_FLOWS)
    else:
        flows = out.join(_card_flows(cur, place(previous), current, previous), on=key, how="left")
        flows = flows.with_columns(pl.col(c).fill_null(0) for c in CARD_FLOWS)
    return (
        flows.with_columns(**_header(period, previous_period if previous is not None else None))
        .select(CARD_COLUMNS)
        .sort("region_level", "region_code", "segment")
    )


def _card_flows(
    cur: pl.DataFrame, prev: pl.DataFrame, current: pl.DataFrame, previous: pl.DataFrame
) -> pl.DataFrame:
    key = [*PLACE, "segment"]
    group = [*key, "noka"]
    b = (
        cur.filter("tracked")
        .sort("line")
        .group_by(group)
        .agg(
            b=pl.len(),
            b_active=pl.col("active").sum(),
            is_active=pl.col("active").any(),
            ket=pl.col("ket").first(),
        )
    )
    a = prev.filter("tracked").group_by(group).agg(a=pl.len(), was_active=pl.col("active").any())
    last_nokas = previous.filter("tracked")["noka"].unique().implode()
    this_nokas = current.filter("tracked")["noka"].unique().implode()
    both = a.join(b, on=group, how="full", coalesce=True).with_columns(
        pl.col("a", "b", "b_active").fill_null(0).cast(pl.Int64),
        in_last=pl.col("noka").is_in(last_nokas),
        in_this=pl.col("noka").is_in(this_nokas),
    )
    stay = pl.col("in_last") & pl.col("in_this")
    kept = (pl.col("a") >= 1) & (pl.col("b") >= 1)
    off = kept & pl.col("was_active") & ~pl.col("is_active")
    return (
        both.group_by(key)
        .agg(
            cards_start=pl.col("a").sum(),
            cards_new=pl.col("b").filter(~pl.col("in_last")).sum(),
            cards_ended=pl.col("a").filter(~pl.col("in_this")).sum(),
            cards_moved_in=(pl.col("b") - pl.col("a")).clip(lower_bound=0).filter(stay).sum(),
            cards_moved_out=(pl.col("a") - pl.col("b")).clip(lower_bound=0).filter(stay).sum(),
            activated=(kept & ~pl.col("was_active") & pl.col("is_active")).sum(),
            deactivated_arrears=(off & (pl.col("ket") == ARREARS)).sum(),
            deactivated_pbi=(off & (pl.col("ket") == PBI_DEACTIVATED)).sum(),
            deactivated_other=(off & ~pl.col("ket").is_in([ARREARS, PBI_DEACTIVATED])).sum(),
            new_active=pl.col("b_active").filter(~pl.col("in_last")).sum(),
        )
        .with_columns(pl.col(c).cast(pl.Int64) for c in CARD_FLOWS)
    )


def resident_movements(
    period: str, current: pl.DataFrame, previous: pl.DataFrame | None, previous_period: str | None
) -> pl.DataFrame:
    """``resident_movements`` of ``period`` from two months' :func:`resident_view`. One row
    per region at every level with a resident in either month."""
    cur = place(current)
    grid = cur.select(*PLACE, "region_name")
    if previous is not None:
        grid = pl.concat([grid, place(previous).select(*PLACE, "region_name")])
    ends = cur.group_by(PLACE).agg(
        residents_end=pl.len(),
        covered_end=pl.col("covered").sum(),
        active_end=pl.col("active").sum(),
    )
    out = grid.unique(PLACE).join(ends, on=PLACE, how="left")
    out = out.with_columns(
        pl.col("residents_end", "covered_end", "active_end").fill_null(0).cast(pl.Int64)
    )
    if previous is None or previous_period is None:
        out = out.with_columns(pl.lit(None, dtype=pl.Int64).alias(c) for c in RESIDENT_FLOWS)
    else:
        key = [*PLACE, "person"]
        prev = place(previous).select(*key, cov_a="covered", act_a="active", a=pl.lit(True))
        now = cur.select(*key, cov_b="covered", act_b="active", b=pl.lit(True))
        both = prev.join(now, on=key, how="full", coalesce=True).with_columns(
            pl.col("a", "b", "cov_a", "cov_b", "act_a", "act_b").fill_null(False)
        )
        a, b = pl.col("a"), pl.col("b")
        stay = a & b
        flows = both.group_by(PLACE).agg(
            residents_start=a.sum(),
            residents_entered=(b & ~a).sum(),
            residents_left=(a & ~b).sum(),
            covered_start=pl.col("cov_a").sum(),
            newly_covered=(stay & ~pl.col("cov_a") & pl.col("cov_b")).sum(),
            lost_coverage=(stay & pl.col("cov_a") & ~pl.col("cov_b")).sum(),
            covered_entered=(b & ~a & pl.col("cov_b")).sum(),
            covered_left=(a & ~b & pl.col("cov_a")).sum(),
            active_start=pl.col("act_a").sum(),
            newly_active=(stay & ~pl.col("act_a") & pl.col("act_b")).sum(),
            lapsed=(stay & pl.col("act_a") & ~pl.col("act_b")).sum(),
            active_entered=(b & ~a & pl.col("act_b")).sum(),
            active_left=(a & ~b & pl.col("act_a")).sum(),
        )
        out = out.join(flows, on=PLACE, how="left").with_columns(
            pl.col(c).fill_null(0).cast(pl.Int64) for c in RESIDENT_FLOWS
        )
    return (
        out.with_columns(**_header(period, previous_period if previous is not None else None))
        .select(RESIDENT_COLUMNS)
        .sort("region_level", "region_code")
    )
