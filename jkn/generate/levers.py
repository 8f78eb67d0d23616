"""The truth of issue 16's marts: what moves the figures and the levers a Pemda acts on.

Computed in polars from one month's rows as delivered (the generator's frames: written values
plus ``expected`` and ``person_id``), independently of the pipeline's SQL, with the contract's
readings (contracts/marts.md, "Added in the second release"). A card's region is its
``KODE_WILAYAH`` as delivered (``movements.place``); a segment is read as delivered, trimmed,
upper-cased, older names through ``segment_aliases.csv``. Persons are the generator's
``person_id``: exact for the pipeline's person keys when no NIK is damaged (README, "Levers").
"""

from __future__ import annotations

import polars as pl

from jkn.generate.movements import place
from jkn.periods import first_day, last_day
from jkn.rules import rows as rule_rows
from jkn.rules import segment_aliases

# The contract's readings (contracts/marts.md; DOMAIN.md, "What moves the figures"), stated
# here so that the truth does not read the pipeline's own rules for them.
TAKEOVER_SEGMENTS = ("PBPU", "PPU_BU")
PBI_SEGMENTS = ("PBI_APBN", "PBI_APBD")
PBI_DECILES = range(1, 6)  # on the Dinsos list in deciles 1–5: eligible for PBI
# marts.coverage_by_group's age bands: completed years at the period's last day.
AGE_BANDS: tuple[tuple[str, int], ...] = (
    ("0-4", 0),
    ("5-14", 5),
    ("15-24", 15),
    ("25-44", 25),
    ("45-64", 45),
    ("65+", 65),
)
UNKNOWN = "unknown"
LEVELS = ("kabupaten", "kecamatan")


def pbi_premium(period: str) -> int:
    """The PBI premium per person and month in force at ``period`` (``pbi_premiums.csv``)."""
    day = first_day(period)
    for row in rule_rows("pbi_premiums"):
        start = first_day(row["valid_from"][:7])
        end = row["valid_to"]
        if start <= day and (not end or day <= first_day(end[:7])):
            return int(row["premium_idr"])
    raise ValueError(f"no PBI premium in force in {period}")


def _text(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).fill_null("").str.strip_chars()


def cards_view(bpjs: pl.DataFrame) -> pl.DataFrame:
    """The valid (loaded) BPJS rows: line, person_id, KODE_WILAYAH, segment, active, arrears
    (BULAN_TUNGGAKAN as an integer; unreadable = 0)."""
    seg = _text("SEGMEN").str.to_uppercase()
    return (
        bpjs.filter(pl.col("expected") == "loaded")
        .sort("line")
        .select(
            "line",
            "person_id",
            "KODE_WILAYAH",
            segment=seg.replace(segment_aliases()),
            active=_text("STATUS_PESERTA").str.to_uppercase() == "AKTIF",
            arrears=_text("BULAN_TUNGGAKAN").cast(pl.Int64, strict=False).fill_null(0),
        )
    )


def _listing(dinsos: pl.DataFrame) -> pl.DataFrame:
    """Each listed person's first valid listing's decile."""
    return (
        dinsos.filter((pl.col("expected") == "loaded") & pl.col("person_id").is_not_null())
        .sort("line")
        .group_by("person_id", maintain_order=True)
        .agg(desil=_text("DESIL").cast(pl.Int64, strict=False).first())
    )


def _per_region(frame: pl.DataFrame, kab: str, **aggs: pl.Expr) -> dict:
    """``aggs`` per level of ``LEVELS`` for the kab/kota ``kab`` (its own row and its
    kecamatan), ``frame`` holding one row per (region, person) with ``region_level``."""
    here = frame.filter(pl.col("region_code").str.starts_with(kab))
    total = here.filter(region_level="kabupaten").select(**aggs).row(0, named=True)
    kec = (
        here.filter(region_level="kecamatan")
        .group_by("region_code")
        .agg(**aggs)
        .sort("region_code")
    )
    by_kec = {r.pop("region_code"): {k: int(v) for k, v in r.items()} for r in kec.to_dicts()}
    return {**{k: int(v or 0) for k, v in total.items()}, "kecamatan": by_kec}


def _persons_placed(cards: pl.DataFrame) -> pl.DataFrame:
    """Cards placed at kab/kota and kecamatan, then one row per (region, person) with the sum
    of their cards' arrears there."""
    return (
        place(cards)
        .filter(pl.col("region_level").is_in(LEVELS))
        .group_by("region_level", "region_code", "person_id")
        .agg(pl.col("arrears").sum())
    )


def _age_band(dob: pl.Expr, end: pl.Expr) -> pl.Expr:
    def month_day(d: pl.Expr) -> pl.Expr:  # dt.month/day are Int8: widen before multiplying
        return d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)

    before_birthday = month_day(end) < month_day(dob)
    age = end.dt.year() - dob.dt.year() - before_birthday.cast(pl.Int32)
    band = pl.lit(UNKNOWN)
    for label, lower in AGE_BANDS:
        band = pl.when(age >= lower).then(pl.lit(label)).otherwise(band)
    return pl.when(dob.is_null() | (dob > end)).then(pl.lit(UNKNOWN)).otherwise(band)


def _groups(duk: pl.DataFrame, cards: pl.DataFrame, period: str, kab: str) -> list[dict]:
    """coverage_by_group's rows of a kab/kota: Dukcapil HIDUP rows as delivered by their
    village code, sex and age band as the row reads; covered / active = the person holds a
    valid card / an active valid card anywhere."""
    end = pl.lit(last_day(period), dtype=pl.Date)
    dob = (
        pl.when(pl.col("TGL_LHR__text").is_null())
        .then(pl.col("TGL_LHR").cast(pl.Int32).cast(pl.Date))
        .otherwise(None)
    )
    sex = (
        _text("JENIS_KLMIN")
        .str.to_uppercase()
        .replace_strict({"LAKI-LAKI": "L", "PEREMPUAN": "P"}, default=UNKNOWN)
    )
    holders = cards.filter(pl.col("person_id").is_not_null())
    covered = holders["person_id"].unique().implode()
    active = holders.filter("active")["person_id"].unique().implode()
    residents = duk.filter(
        (_text("STATUS").str.to_uppercase() == "HIDUP")
        & pl.col("KODE_WILAYAH").str.starts_with(kab + ".")
    ).select(
        sex=sex,
        age_band=_age_band(dob, end),
        covered=pl.col("person_id").is_in(covered),
        active=pl.col("person_id").is_in(active),
    )
    order = {label: i for i, (label, _) in enumerate(AGE_BANDS)}
    grouped = (
        residents.group_by("sex", "age_band")
        .agg(
            population=pl.len(),
            covered_residents=pl.col("covered").sum(),
            active_residents=pl.col("active").sum(),
        )
        .with_columns(_o=pl.col("age_band").replace_strict(order, default=len(order)))
        .sort("sex", "_o")
        .drop("_o")
    )
    return grouped.to_dicts()


def lever_figures(
    codes: list[str],
    period: str,
    duk: pl.DataFrame,
    dinsos: pl.DataFrame,
    bpjs: pl.DataFrame,
) -> dict[str, dict]:
    """Per kab/kota of ``codes``: the figures issue 16's marts must equal (README, "Levers")."""
    cards = cards_view(bpjs)
    listing = _listing(dinsos)
    premium = pbi_premium(period)
    pemda = place(cards.filter(segment="PBI_APBD")).filter(region_level="kabupaten")
    active_pbi = cards.filter(pl.col("segment").is_in(PBI_SEGMENTS) & pl.col("active"))
    poor = listing.filter(pl.col("desil").is_in(list(PBI_DECILES)))["person_id"].implode()
    takeover = _persons_placed(
        cards.filter(
            pl.col("segment").is_in(TAKEOVER_SEGMENTS)
            & ~pl.col("active")
            & (pl.col("arrears") > 0)
            & pl.col("person_id").is_in(poor)
            & ~pl.col("person_id").is_in(active_pbi["person_id"].drop_nulls().implode())
        )
    )
    drifted = listing.filter(
        pl.col("desil").is_not_null() & ~pl.col("desil").is_in(list(PBI_DECILES))
    )["person_id"].implode()
    drift = _persons_placed(
        cards.filter((pl.col("segment") == "PBI_APBN") & pl.col("person_id").is_in(drifted))
    )
    population = duk.filter(_text("STATUS").str.to_uppercase() == "HIDUP")[
        "KODE_WILAYAH"
    ].str.slice(0, 5)
    out = {}
    for code in codes:
        pop = int((population == code).sum())
        mine = pemda.filter(region_code=code)
        memberships = mine.height
        t = _per_region(takeover, code, persons=pl.len(), arrears_months=pl.col("arrears").sum())
        out[code] = {
            "pemda_memberships": memberships,
            "pemda_share": round(memberships / pop, 6) if pop else None,
            "pemda_arrears_cards": mine.filter(pl.col("arrears") > 0).height,
            "takeover_candidates": {
                "persons": t["persons"],
                "arrears_months": t["arrears_months"],
                "monthly_cost_idr": t["persons"] * premium,
                "kecamatan": t["kecamatan"],
            },
            "eligibility_drift": _per_region(drift, code, persons=pl.len()),
            "coverage_by_group": _groups(duk, cards, period, code),
        }
    return out
