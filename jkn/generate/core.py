"""``generate``: persons → three extracts with defects and formatting → files and truth."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl

from jkn.domain import BRIDGE_CATEGORIES
from jkn.generate import defects, levers, linkage, sources, writer
from jkn.generate.model import (
    DEFAULT_MIX,
    DEFECT_KINDS,
    FORMATS,
    SOURCES,
    XLSX_MAX_DATA_ROWS,
    DefectRates,
    GenerateOptions,
    GenerationResult,
    RegionPlan,
    plan_levers,
    rng_for,
    vocab,
)
from jkn.generate.population import (
    assign_identifiers,
    build_region_persons,
    days,
    plan_for,
    region_ref,
)
from jkn.periods import last_day

log = logging.getLogger(__name__)

FORMAT_WEIGHTS = {
    "dukcapil": [0.7, 0.1, 0.2],
    "dinsos_pbi": [0.4, 0.5, 0.1],
    "bpjs_membership": [0.6, 0.1, 0.3],
}
DESIL_P = np.array([0.22, 0.20, 0.18, 0.16, 0.14, 0.03, 0.03, 0.02, 0.01, 0.01])
POOR_DESIL_P = DESIL_P[:5] / DESIL_P[:5].sum()  # deciles 1–5 (PBI-eligible)


def _sex(female: pl.Expr, long: bool) -> pl.Expr:
    if long:
        return pl.when(female).then(pl.lit("PEREMPUAN")).otherwise(pl.lit("LAKI-LAKI"))
    return pl.when(female).then(pl.lit("P")).otherwise(pl.lit("L"))


def card_identity() -> dict[str, pl.Expr]:
    """A card's identity columns as BPJS writes them, from its person's columns joined to it
    (nik, no_kk, name, dob, female) and its own (bpjs_village, tmt): the one home of that
    mapping for a month built whole and for a month a series evolves."""
    return {
        "NIK": pl.col("nik"),
        "NO_KK": pl.col("no_kk"),
        "NAMA": pl.col("name"),
        "TGL_LAHIR": pl.col("dob"),
        "JENIS_KELAMIN": _sex(pl.col("female"), long=False),
        "KODE_WILAYAH": pl.col("bpjs_village"),
        "TMT": pl.max_horizontal(pl.col("tmt"), pl.col("dob")),
    }


def _plans(options: GenerateOptions) -> list[RegionPlan]:
    if options.plans:
        return options.plans
    return [
        plan_for(code, options.persons, options.coverage, options.activity)
        for code in options.regions
    ]


def _build_bpjs(
    persons: pl.DataFrame,
    plans: list[RegionPlan],
    seed: int,
    rates: DefectRates,
    end: int,
    all_niks: pl.Series,
    link: _Linkage | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The BPJS rows as written (defects, in-file copies, line order) and the cards before
    defects (one row per card: what a series evolves)."""
    n_copies = {p.code: round(rates.noka_duplicate_in_file * p.registered) for p in plans}
    region_cards = sources.plan_cards(
        persons, plans, seed, n_copies, link.rates.migrant_duplicates if link else 0.0
    )
    frames, copy_src, offset = [], [], 0
    for rc in region_cards:
        rng = rng_for(seed, f"status:{rc.plan.code}")
        n = rc.cards.height
        copies = (
            rng.choice(n, size=n_copies[rc.plan.code], replace=False) if n else np.zeros(0, int)
        )
        active = sources.assign_status(rc.cards, copies, rc.plan.active, rng)
        arrears_rng = rng_for(seed, f"levers:arrears:{rc.plan.code}")
        cards = sources.status_columns(rc.cards, active, end, rng, arrears_rng)
        cards = sources.pemda_arrears(cards, rc.plan, seed)
        cards = cards.with_columns(
            KODE_FASKES=sources.faskes_codes(rc.plan.code, n, rng),
        )
        frames.append(cards)
        copy_src.append(np.sort(copies) + offset)
        offset += n
    cards = pl.concat(frames)
    rng = rng_for(seed, "bpjs")
    cards = cards.with_columns(NOKA=sources.noka_numbers(cards.height, rng))
    cards = cards.join(
        persons.select(
            "person_id", "nik", "no_kk", "name", "dob", "old_region", "region_code", "kind"
        ).rename({"kind": "person_kind"}),
        on="person_id",
        how="left",
        maintain_order="left",
    ).with_columns(**card_identity(), active=pl.col("STATUS_PESERTA") == "AKTIF")
    clean = cards
    cards = defects.inject(cards, "bpjs_membership", rates, rng, all_niks, end)
    if link:
        cards = link.noise(cards, "bpjs_membership", end)
    cards = cards.with_columns(_fmt=pl.Series(rng.integers(0, 6, cards.height)))
    copies = np.concatenate(copy_src) if copy_src else np.zeros(0, int)
    return with_file_copies(cards, copies, rng), clean


def with_file_copies(
    cards: pl.DataFrame, copies: np.ndarray, rng: np.random.Generator
) -> pl.DataFrame:
    """The BPJS rows as the file has them: ``cards`` and a repeat of each row at ``copies``
    (a NOKA repeated in the file, quarantined), each repeat at a random line after its
    original, numbered by file line (the header is line 1)."""
    keys = rng.random(cards.height)
    dup = cards[copies].with_columns(
        defects=pl.col("defects").list.concat(pl.lit(["noka_duplicate_in_file"])),
        expected=pl.lit("quarantined"),
    )
    dup_keys = keys[copies] + rng.random(len(copies)) * (1 - keys[copies])
    rows = pl.concat([cards, dup]).with_columns(_key=pl.Series(np.concatenate([keys, dup_keys])))
    rows = rows.sort("_key").with_columns(line=pl.int_range(pl.len(), dtype=pl.Int64) + 2)
    return rows.drop("_key")


def _bridge(bpjs: pl.DataFrame) -> pl.Series:
    """The true coverage-bridge category per BPJS row (see DOMAIN.md)."""
    loaded = pl.col("expected") == "loaded"
    rank = (
        pl.when(loaded)
        .then(
            pl.int_range(pl.len()).over(
                pl.col("person_id"),
                pl.col("card_region"),
                loaded,
                order_by=[~pl.col("active"), pl.col("line")],
            )
        )
        .otherwise(None)
    )
    frame = bpjs.select(
        "person_id", "card_region", "expected", "active", "line", "person_kind", "region_code"
    )
    cat = (
        pl.when(~loaded)
        .then(pl.lit("quarantined"))
        .when(rank > 0)
        .then(pl.lit("duplicate"))
        .when(pl.col("person_kind") == "dead")
        .then(pl.lit("deceased"))
        .when(pl.col("person_kind") == "moved")
        .then(pl.lit("moved_out"))
        .when(pl.col("person_kind") == "migrant")
        .then(pl.lit("not_in_population"))
        .when(pl.col("region_code") != pl.col("card_region"))
        .then(pl.lit("domiciled_elsewhere"))
        .otherwise(pl.lit("resident"))
    )
    return frame.select(cat.alias("bridge_category")).to_series()


def _build_dukcapil(
    persons: pl.DataFrame,
    rates: DefectRates,
    seed: int,
    end: int,
    all_niks: pl.Series,
    label: str = "dukcapil",
) -> pl.DataFrame:
    duk = (
        persons.filter(pl.col("kind") != "migrant")
        .sort("village", "no_kk", "role", "person_id")
        .with_columns(
            NIK=pl.col("nik"),
            NO_KK=pl.col("no_kk"),
            NAMA_LGKP=pl.col("name"),
            JENIS_KLMIN=_sex(pl.col("female"), long=True),
            TMPT_LHR=pl.col("birthplace"),
            TGL_LHR=pl.col("dob"),
            KODE_WILAYAH=pl.col("village"),
            STATUS=pl.col("kind").replace_strict(
                {"resident": "HIDUP", "dead": "MATI", "moved": "PINDAH"}
            ),
            TGL_STATUS=pl.when(pl.col("status_date") >= 0).then(pl.col("status_date")),
        )
    )
    duk = defects.inject(duk, "dukcapil", rates, rng_for(seed, label), all_niks, end)
    return duk.with_columns(line=pl.int_range(pl.len(), dtype=pl.Int64) + 2)


def _build_dinsos(
    persons: pl.DataFrame,
    bpjs: pl.DataFrame,
    plans: list[RegionPlan],
    rates: DefectRates,
    seed: int,
    end: int,
    all_niks: pl.Series,
    link: _Linkage | None = None,
) -> pl.DataFrame:
    rng = rng_for(seed, "dinsos")
    base = bpjs.filter(~pl.col("defects").list.contains("noka_duplicate_in_file"))
    seg = pl.col("seg_idx")
    code = sources.SEG
    agg = base.group_by("person_id", "card_region").agg(
        has_pbi=seg.is_in(sources.PBI).any(),
        pbi_active=(seg.is_in(sources.PBI) & pl.col("active")).any(),
        has_apbn=(seg == code["PBI_APBN"]).any(),
        has_apbd=(seg == code["PBI_APBD"]).any(),
        paying=seg.is_in([code["PPU_BU"], code["PBPU"]]).any(),
        in_arrears=(
            seg.is_in([code["PPU_BU"], code["PBPU"]])
            & ~pl.col("active")
            & (pl.col("BULAN_TUNGGAKAN").cast(pl.Int64) > 0)
        ).any(),
    )
    people = persons.join(
        agg, left_on=["person_id", "region_code"], right_on=["person_id", "card_region"], how="left"
    ).sort("person_id")
    people = people.with_columns(
        pl.col("has_pbi", "pbi_active", "has_apbn", "has_apbd", "paying", "in_arrears").fill_null(
            False
        )
    )
    n = people.height
    n_pbi = int(people["has_pbi"].sum())
    uncovered = (people["kind"] == "resident") & people["has_pbi"].not_() & people["paying"].not_()
    p_unc = min(0.5, 0.04 * n_pbi / max(1, int(uncovered.sum())))
    p = (
        pl.when(pl.col("pbi_active"))
        .then(0.93)
        .when(pl.col("has_pbi"))
        .then(0.75)
        .when(pl.col("kind") == "dead")
        .then(0.15)
        .when(pl.col("paying"))
        .then(0.03)
        .when(pl.col("kind") == "resident")
        .then(p_unc)
        .otherwise(0.0)
    )
    people = people.with_columns(_u=pl.Series(rng.random(n)), _p=p)
    listed = people.filter(pl.col("_u") < pl.col("_p"))
    m = listed.height
    listed = listed.with_columns(
        DESIL=pl.Series(rng.choice(np.arange(1, 11), size=m, p=DESIL_P)).cast(pl.String),
        _dana=vocab(("APBD", "APBN"), (rng.random(m) < 0.8).astype(np.int64)),
    )
    out = (
        pl.concat([listed, _takeover_listed(people, plans, seed)])
        .with_columns(
            ID_DTSEN=pl.col("region_code").str.replace(".", "", literal=True)
            + pl.col("family").cast(pl.String).str.zfill(10),
            NIK=pl.col("nik"),
            NO_KK=pl.col("no_kk"),
            NAMA=pl.col("name"),
            TGL_LAHIR=pl.col("dob"),
            JENIS_KELAMIN=_sex(pl.col("female"), long=False),
            KODE_WILAYAH=pl.col("village"),
            SUMBER_DANA=pl.when(pl.col("has_apbn"))
            .then(pl.lit("APBN"))
            .when(pl.col("has_apbd"))
            .then(pl.lit("APBD"))
            .otherwise("_dana"),
        )
        .sort("ID_DTSEN", "role", "person_id")
    )
    out = defects.inject(out, "dinsos_pbi", rates, rng, all_niks, end)
    if link:
        out = link.noise(out, "dinsos_pbi", end)
    return out.with_columns(line=pl.int_range(pl.len(), dtype=pl.Int64) + 2)


def _takeover_listed(people: pl.DataFrame, plans: list[RegionPlan], seed: int) -> pl.DataFrame:
    """Further Dinsos listings, deciles 1–5: of the persons not listed above who hold an
    inactive PBPU/PPU_BU card in arrears and no active PBI card here, residents, each region's
    ``levers["takeover_listed"]`` (the takeover candidates of issue 16), drawn from
    ``levers:takeover:<kab/kota>``."""
    out = []
    for plan in plans:
        mine = people.filter(
            (pl.col("region_code") == plan.code)
            & (pl.col("kind") == "resident")
            & (pl.col("_u") >= pl.col("_p"))
            & pl.col("in_arrears")
            & ~pl.col("pbi_active")
        )
        rng = rng_for(seed, f"levers:takeover:{plan.code}")
        chance = plan_levers(plan)["takeover_listed"]
        mine = mine.filter(pl.Series(rng.random(mine.height) < chance))
        k = mine.height
        out.append(
            mine.with_columns(
                DESIL=pl.Series(rng.choice(np.arange(1, 6), k, p=POOR_DESIL_P)).cast(pl.String),
                _dana=vocab(("APBD", "APBN"), (rng.random(k) < 0.8).astype(np.int64)),
            )
        )
    return pl.concat(out)


class _Linkage:
    """What the linkage preset's row noise needs, built once per run."""

    def __init__(self, persons: pl.DataFrame, options: GenerateOptions) -> None:
        self.rates = options.linkage_rates
        self.seed = options.seed
        self.relatives = linkage.relatives(persons)
        self.real = np.sort(persons["nik"].cast(pl.Int64).to_numpy())

    def noise(self, frame: pl.DataFrame, source: str, end: int) -> pl.DataFrame:
        rng = rng_for(self.seed, f"linkage:{source}")
        return linkage.identity_noise(
            frame, source, self.rates, rng, self.relatives, self.real, end
        )


def _with_guests(
    bpjs: pl.DataFrame, guests: pl.DataFrame, region: str, seed: int, end: int
) -> pl.DataFrame:
    """``guests`` (persons of another generation: see ``GenerateOptions.guests``) each with one
    clean, active card in ``region``, appended after the extract's last line. Their persons
    are unknown to this Dukcapil: bridge ``not_in_population``; ``person_id`` null in the
    truth (the national scenario's truth names them by NIK)."""
    rng = rng_for(seed, f"guests:{region}")
    n = guests.height
    villages = region_ref(region).villages
    first = bpjs.height + 2  # lines run from 2 (after the header) without gaps
    cards = guests.select(
        NOKA=(pl.int_range(n, dtype=pl.Int64) + 9_000_000_000_001).cast(pl.String),
        NIK="nik",
        NO_KK="no_kk",
        NAMA="name",
        TGL_LAHIR="dob",
        JENIS_KELAMIN=_sex(pl.col("female"), long=False),
        HUBUNGAN_KELUARGA=pl.lit("PESERTA"),
        SEGMEN="segment",
        KELAS=pl.lit("3"),
        STATUS_PESERTA=pl.lit("AKTIF"),
        KET_NONAKTIF=pl.lit(""),
        BULAN_TUNGGAKAN=pl.lit("0"),
        KODE_WILAYAH=vocab(villages.tolist(), rng.integers(0, len(villages), n)),
        KODE_FASKES=pl.lit(bpjs["KODE_FASKES"][0] if bpjs.height else "0101U001"),
        TMT=pl.max_horizontal(pl.col("dob"), pl.lit(end - 400)),
        active=pl.lit(True),
        _fmt=pl.Series(rng.integers(0, 6, n)),
        defects=pl.lit([], dtype=pl.List(pl.String)),
        expected=pl.lit("loaded"),
        bridge_category=pl.lit("not_in_population"),
        line=pl.int_range(n, dtype=pl.Int64) + first,
    )
    return pl.concat([bpjs, cards], how="diagonal_relaxed")


def _written(source: str) -> dict[str, pl.Expr]:
    """Truth columns of the linkage preset: NIK, name and birth date as written."""
    name = "NAMA_LGKP" if source == "dukcapil" else "NAMA"
    dob = "TGL_LHR" if source == "dukcapil" else "TGL_LAHIR"
    written = pl.col(dob).cast(pl.Int32).cast(pl.Date)
    return {
        "nik_written": pl.col("NIK"),
        "name_written": pl.col(name),
        "dob_written": pl.when(pl.col(f"{dob}__text").is_null()).then(written),
    }


def _choose_formats(
    options: GenerateOptions, counts: dict[str, int], label: str = "formats"
) -> tuple[dict, dict]:
    rng = rng_for(options.seed, label)
    chosen, notes = {}, {}
    for source in SOURCES:
        pick = str(rng.choice(FORMATS, p=FORMAT_WEIGHTS[source]))
        fmt = (options.formats or {}).get(source, pick)
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r} for {source}")
        if fmt == "xlsx" and counts[source] > XLSX_MAX_DATA_ROWS:
            notes[source] = f"{counts[source]} rows exceed the XLSX limit; written as CSV"
            log.warning("%s: %s", source, notes[source])
            fmt = "csv"
        chosen[source] = fmt
    return chosen, notes


def _figures(plans: list[RegionPlan], period: str, frames: dict[str, pl.DataFrame]) -> dict:
    duk, bpjs = frames["dukcapil"], frames["bpjs_membership"]
    lever = levers.lever_figures([p.code for p in plans], period, duk, frames["dinsos_pbi"], bpjs)
    out = {}
    for plan in plans:
        code = plan.code
        prefix = code + "."
        pop = duk.filter(
            (pl.col("STATUS") == "HIDUP") & pl.col("KODE_WILAYAH").str.starts_with(prefix)
        ).height
        rows = bpjs.filter(pl.col("KODE_WILAYAH").str.starts_with(prefix))
        reg = rows.height
        act = rows.filter(pl.col("STATUS_PESERTA") == "AKTIF").height
        cats = rows["bridge_category"].value_counts()
        bridge = {c: 0 for c in BRIDGE_CATEGORIES}
        bridge.update(dict(zip(cats["bridge_category"], cats["count"], strict=True)))
        out[code] = {
            "population": pop,
            "registered": reg,
            "active_registered": act,
            "coverage_registered": round(reg / pop, 6) if pop else None,
            "activity_of_population": round(act / pop, 6) if pop else None,
            "activity_of_registered": round(act / reg, 6) if reg else None,
            "bridge": bridge,
            "mix": {**DEFAULT_MIX, **plan.mix},
            **lever[code],
        }
    return out


@dataclass
class Built:
    """One month's logical frames, before they are written: the options' plans and rates, the
    last day of the period (days since 1970), the persons, the three extracts as written (with
    ``line`` and truth columns) and the BPJS cards before defects."""

    plans: list[RegionPlan]
    rates: DefectRates
    end: int
    persons: pl.DataFrame
    frames: dict[str, pl.DataFrame]
    cards: pl.DataFrame


def build(options: GenerateOptions, progress: writer.Progress | None = None) -> Built:
    """The period's persons and extracts as frames (nothing written)."""
    plans = _plans(options)
    rates = options.rates if options.messy else DefectRates().scaled(0.0)
    end = days(last_day(options.period))
    step = progress or (lambda *_: None)

    step("persons", 0, 1)
    parts = [
        build_region_persons(p, options.period, options.seed, rates.nik_old_region) for p in plans
    ]
    if options.linkage:
        parts = [
            linkage.hard_negatives(part, p.code, options.seed, options.linkage_rates, end)
            for part, p in zip(parts, plans, strict=True)
        ]
    persons = assign_identifiers(pl.concat(parts))
    all_niks = persons["nik"]
    link = _Linkage(persons, options) if options.linkage else None
    step("persons", 1, 1)
    bpjs, cards = _build_bpjs(persons, plans, options.seed, rates, end, all_niks, link)
    bpjs = bpjs.with_columns(bridge_category=_bridge(bpjs))
    duk = _build_dukcapil(persons, rates, options.seed, end, all_niks)
    dinsos = _build_dinsos(persons, bpjs, plans, rates, options.seed, end, all_niks, link)
    if options.guests is not None:
        if options.linkage:
            raise ValueError("guest cards and the linkage preset do not combine")
        bpjs = _with_guests(bpjs, options.guests, plans[0].code, options.seed, end)
    frames = {"dukcapil": duk, "dinsos_pbi": dinsos, "bpjs_membership": bpjs}
    step("extracts", 1, 1)
    return Built(plans, rates, end, persons, frames, cards)


def _stream(label: str, series_tag: str | None) -> str:
    """The random stream's label: as ``generate`` has it, or a series month's own."""
    return label if series_tag is None else f"series:{label}:{series_tag}"


def write(
    options: GenerateOptions,
    built: Built,
    landing: Path,
    progress: writer.Progress | None = None,
    series_tag: str | None = None,
    summary_extra: dict | None = None,
) -> GenerationResult:
    """Write ``built``'s three extracts under ``landing/<period>/`` and the ground truth under
    ``landing/_truth/<period>/``. ``series_tag`` (a series month's period) draws the files'
    formatting from streams of that month's own; None is ``generate``'s. ``summary_extra`` is
    added to ``summary.json``."""
    landing = Path(landing)
    plans, rates, persons, frames = built.plans, built.rates, built.persons, built.frames
    step = progress or (lambda *_: None)
    formats, notes = _choose_formats(
        options, {k: v.height for k, v in frames.items()}, _stream("formats", series_tag)
    )
    out_dir = landing / options.period
    files: dict[str, Path] = {}
    file_info: dict[str, dict] = {}
    for source in SOURCES:
        fmt = formats[source]
        rng = rng_for(options.seed, _stream(f"format:{source}", series_tag))
        choice = writer.choose_formatting(source, fmt, options.messy, rng)
        table = writer.render(frames[source], source, choice, rng)
        path = out_dir / f"{source}.{fmt}"
        for other in FORMATS:  # a previous run's file in another format would be ambiguous
            (out_dir / f"{source}.{other}").unlink(missing_ok=True)
        step(f"write {source}", 0, 1)
        writer.write_table(table, path, fmt, choice, progress)
        step(f"write {source}", 1, 1)
        files[source] = path
        file_info[source] = {
            "path": f"{options.period}/{path.name}",
            "format": fmt,
            "rows": table.height,
            "formatting": choice,
            **({"note": notes[source]} if source in notes else {}),
        }

    truth_dir = landing / "_truth" / options.period
    truth_dir.mkdir(parents=True, exist_ok=True)
    extra: dict[str, pl.Expr] = {}
    if options.linkage:
        extra = {
            "hard_negative": pl.col("hard_negative"),
            "group_id": pl.when(pl.col("hn_group").is_not_null()).then(
                pl.col("person_id").min().over("hn_group")
            ),
        }
    persons.select(
        "person_id",
        "nik",
        "no_kk",
        "name",
        sex=_sex(pl.col("female"), long=False),
        dob=pl.col("dob").cast(pl.Int32).cast(pl.Date),
        birthplace="birthplace",
        domicile_code=pl.when(pl.col("kind") != "migrant").then(pl.col("village")),
        dukcapil_status=pl.col("kind").replace_strict(
            {"resident": "HIDUP", "dead": "MATI", "moved": "PINDAH", "migrant": None},
            return_dtype=pl.String,
        ),
        in_dukcapil=pl.col("kind") != "migrant",
        region_code="region_code",
        **extra,
    ).write_parquet(truth_dir / "persons.parquet", compression="zstd", statistics=False)
    key = {"dukcapil": pl.col("NIK"), "dinsos_pbi": (pl.col("line") - 1).cast(pl.String)}
    key["bpjs_membership"] = pl.col("NOKA")
    rows = pl.concat(
        [
            frames[s].select(
                source=pl.lit(s),
                line="line",
                key=key[s],
                person_id="person_id",
                defects="defects",
                expected="expected",
                bridge_category=pl.col("bridge_category")
                if s == "bpjs_membership"
                else pl.lit(None, dtype=pl.String),
                **(_written(s) if options.linkage else {}),
            )
            for s in SOURCES
        ]
    )
    rows.write_parquet(truth_dir / "rows.parquet", compression="zstd", statistics=False)

    counts = {}
    for s in SOURCES:
        vc = frames[s].select(pl.col("defects").explode().drop_nulls().value_counts(sort=True))
        got = {r["defects"]: r["count"] for r in vc.unnest("defects").to_dicts()}
        counts[s] = {k: got.get(k, 0) for k in DEFECT_KINDS if got.get(k, 0)}
        counts[s]["quarantined_rows"] = int((frames[s]["expected"] == "quarantined").sum())
    summary = {
        "seed": options.seed,
        "period": options.period,
        "scenario": options.scenario,
        "regions": [p.code for p in plans],
        "options": {
            "persons": options.persons,
            "messy": options.messy,
            "formats": options.formats,
            "coverage": options.coverage,
            "activity": options.activity,
            "rates": asdict(rates),
            "plans": [asdict(p) for p in plans],
            **({"linkage": asdict(options.linkage_rates)} if options.linkage else {}),
        },
        "files": file_info,
        "defect_counts": counts,
        "figures": _figures(plans, options.period, frames),
        **(summary_extra or {}),
    }
    (truth_dir / "summary.json").write_text(
        json.dumps(summary, indent=2, sort_keys=False, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    log.info("generated %s for %s under %s", options.period, summary["regions"], landing)
    return GenerationResult(
        period=options.period, files=files, truth_dir=truth_dir, summary=summary
    )


def generate(
    options: GenerateOptions, landing: Path, progress: writer.Progress | None = None
) -> GenerationResult:
    """Generate the period's three extracts under ``landing/<period>/`` and the ground truth
    under ``landing/_truth/<period>/`` (persons.parquet, rows.parquet, summary.json)."""
    return write(options, build(options, progress), landing, progress)
