"""The national scenario: several provinces, each its own landing root, with persons planted
across them — a resident of one province holding a card in the next — and the truth of every
figure that crosses provinces (``jkn.national``; ARCHITECTURE.md, "Beyond one machine").

``generate_provinces(root, …)`` writes ``<root>/<province>/<YYYY-MM>/…`` (one landing root per
province, as ``generate`` writes it, with its own truth under ``<root>/<province>/_truth/``) and
``<root>/_truth/<YYYY-MM>/national.json`` (the national figures) and ``planted.parquet`` (who
was planted where: NIKs, so restricted like every truth file).

Each province is generated alone first; from its truth, residents whose Dukcapil record and
cards are clean (loaded, no defect) are drawn, four kinds of them, and each is given one clean
active card in the next province (the last province's go to the first):

- ``carded_twice``: a resident with a card at home gets a ``PBPU`` card there;
- ``apbd_home``: a resident whose cards at home include ``PBI_APBD`` and no other cover
  (``PBI_APBN``, ``PPU_*``) gets a ``PPU_BU`` card there: double funding across provinces,
  counted in the home province (the region of the APBD card);
- ``apbd_host``: a resident with other cover at home and no ``PBI_APBD`` card gets a
  ``PBI_APBD`` card there: double funding counted in the host province;
- ``carded_elsewhere_only``: a resident with no card at home gets a ``PBPU`` card there:
  uncovered in their province's marts, covered nationally.

Then each province is generated again with its guests' cards appended (``GenerateOptions.
guests``; every other byte as in the first pass). Persons of different provinces never share a
NIK otherwise (checked: the generation refuses a seed where they would).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from jkn.generate.core import generate
from jkn.generate.levers import pbi_premium
from jkn.generate.model import GenerateOptions, GenerationResult, rng_for
from jkn.generate.scenarios import DEFAULT_SEED

# three provinces of the seed districts: Sumatera Selatan, Bengkulu, Nusa Tenggara Barat
DEFAULT_PROVINCES: dict[str, tuple[str, ...]] = {
    "16": ("16.08",),
    "17": ("17.07",),
    "52": ("52.03",),
}
PLANT_KINDS: dict[str, str] = {
    "carded_twice": "PBPU",
    "apbd_home": "PPU_BU",
    "apbd_host": "PBI_APBD",
    "carded_elsewhere_only": "PBPU",
}
OTHER_COVER = ("PBI_APBN", "PPU_PEMERINTAH", "PPU_BU")  # rules/segments.csv: pbi not apbd, ppu


@dataclass
class NationalResult:
    """What ``generate_provinces`` wrote: each province's landing root and result, the truth."""

    period: str
    landings: dict[str, Path]
    results: dict[str, GenerationResult]
    truth_dir: Path
    truth: dict = field(default_factory=dict)


def _options(
    code: str, regions: tuple[str, ...], period: str, persons: int, seed: int, index: int
) -> GenerateOptions:
    return GenerateOptions(
        regions=list(regions),
        period=period,
        persons=persons,
        seed=seed + index,
        formats={"dukcapil": "csv", "dinsos_pbi": "csv", "bpjs_membership": "csv"},
    )


def _candidates(truth_dir: Path) -> dict[str, pl.DataFrame]:
    """Residents of one generated province whose Dukcapil record and cards are all clean,
    by the plant kind they qualify for (a person qualifies for one kind at most)."""
    persons = pl.read_parquet(truth_dir / "persons.parquet")
    rows = pl.read_parquet(truth_dir / "rows.parquet")
    clean = (pl.col("expected") == "loaded") & (pl.col("defects").list.len() == 0)
    duk = rows.filter(pl.col("source") == "dukcapil").group_by("person_id").agg(ok=clean.all())
    bpjs = rows.filter(pl.col("source") == "bpjs_membership").join(
        # the segment is not in the truth rows: read it back from the extract by NOKA
        _segments(truth_dir),
        on="key",
        how="left",
    )
    cards = bpjs.group_by("person_id").agg(
        ok=clean.all(),
        apbd=(pl.col("SEGMEN") == "PBI_APBD").any(),
        other=pl.col("SEGMEN").is_in(OTHER_COVER).any(),
    )
    base = (
        persons.filter(pl.col("dukcapil_status") == "HIDUP")
        .join(duk.filter(pl.col("ok")), on="person_id", how="semi")
        .join(cards, on="person_id", how="left")
        .sort("person_id")
    )
    carded = pl.col("ok").is_not_null()
    return {
        "apbd_home": base.filter(carded & pl.col("ok") & pl.col("apbd") & ~pl.col("other")),
        "apbd_host": base.filter(carded & pl.col("ok") & pl.col("other") & ~pl.col("apbd")),
        "carded_twice": base.filter(carded & pl.col("ok") & ~pl.col("apbd") & ~pl.col("other")),
        "carded_elsewhere_only": base.filter(~carded),
    }


def _segments(truth_dir: Path) -> pl.DataFrame:
    """NOKA → SEGMEN of the BPJS extract the truth belongs to (a CSV: see ``_options``),
    read with the formatting the summary says it was written with."""
    summary = json.loads((truth_dir / "summary.json").read_text(encoding="utf-8"))
    info = summary["files"]["bpjs_membership"]
    frame = pl.read_csv(
        truth_dir.parent.parent / info["path"],
        separator=info["formatting"]["delimiter"],
        infer_schema=False,
        encoding="utf8-lossy",
    )
    frame = frame.rename({c: c.strip().upper() for c in frame.columns})
    return frame.select(key="NOKA", SEGMEN="SEGMEN").unique("key")


def generate_provinces(
    root: Path,
    period: str = "2025-05",
    persons: int = 2000,
    seed: int = DEFAULT_SEED,
    provinces: dict[str, tuple[str, ...]] | None = None,
    planted: int = 12,
) -> NationalResult:
    """Generate each province of ``provinces`` (code → its kab/kota) under ``root/<code>``,
    ``persons`` residents per kab/kota, with about ``planted`` persons of each kind of
    :data:`PLANT_KINDS` per province (``planted`` + 4 × the province's index + the kind's, so
    that no two figures agree by chance) planted in the next one; write the national truth."""
    root = Path(root)
    provinces = dict(provinces or DEFAULT_PROVINCES)
    codes = list(provinces)
    if len(codes) < 2:
        raise ValueError("a national scenario needs at least two provinces")
    landings = {code: root / code for code in codes}
    first = {
        code: generate(_options(code, provinces[code], period, persons, seed, i), landings[code])
        for i, code in enumerate(codes)
    }
    niks = pl.concat(
        [
            pl.read_parquet(r.truth_dir / "persons.parquet", columns=["nik"]).with_columns(
                province=pl.lit(code)
            )
            for code, r in first.items()
        ]
    )
    shared = niks.group_by("nik").agg(pl.col("province").n_unique()).filter(pl.col("province") > 1)
    if shared.height:
        raise ValueError(
            f"seed {seed}: {shared.height} NIK(s) generated in two provinces; choose another seed"
        )
    plants = []
    for i, code in enumerate(codes):
        host = codes[(i + 1) % len(codes)]
        rng = rng_for(seed, f"national:plant:{code}")
        for j, (kind, frame) in enumerate(_candidates(first[code].truth_dir).items()):
            wanted = planted + 4 * i + j  # different in each province and kind
            if frame.height < wanted:
                raise ValueError(
                    f"province {code}: {frame.height} clean residents for {kind}, {wanted} "
                    "wanted; generate more persons"
                )
            pick = frame[sorted(rng.choice(frame.height, size=wanted, replace=False).tolist())]
            plants.append(
                pick.select("nik", "no_kk", "name", "sex", "dob").with_columns(
                    kind=pl.lit(kind),
                    home=pl.lit(code),
                    host=pl.lit(host),
                    segment=pl.lit(PLANT_KINDS[kind]),
                )
            )
    plant = pl.concat(plants)
    results = {}
    for i, code in enumerate(codes):
        options = _options(code, provinces[code], period, persons, seed, i)
        options.guests = plant.filter(pl.col("host") == code).select(
            "nik",
            "no_kk",
            "name",
            female=pl.col("sex") == "P",
            dob=pl.col("dob").cast(pl.Int32).cast(pl.Int64),
            segment="segment",
        )
        results[code] = generate(options, landings[code])
    truth_dir = root / "_truth" / period
    truth_dir.mkdir(parents=True, exist_ok=True)
    plant.write_parquet(truth_dir / "planted.parquet")
    truth = _truth(period, codes, plant, results)
    (truth_dir / "national.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return NationalResult(period, landings, results, truth_dir, truth)


def _truth(
    period: str, codes: list[str], plant: pl.DataFrame, results: dict[str, GenerationResult]
) -> dict:
    """The national figures the generator knows: counts from the rows as delivered (summed
    over each province's kab/kota) and the planted cross-province persons."""
    premium = pbi_premium(period)

    def count(**match: str | list[str]) -> int:
        frame = plant
        for column, value in match.items():
            values = value if isinstance(value, list) else [value]
            frame = frame.filter(pl.col(column).is_in(values))
        return frame.height

    twice = ["carded_twice", "apbd_home", "apbd_host"]
    out: dict = {"period": period, "premium_idr": premium, "provinces": {}}
    for code in codes:
        figures = results[code].summary["figures"].values()
        cross = count(kind="apbd_home", home=code) + count(kind="apbd_host", host=code)
        out["provinces"][code] = {
            "population": sum(f["population"] for f in figures),
            "registered": sum(f["registered"] for f in figures),
            "active_registered": sum(f["active_registered"] for f in figures),
            "carded_here_and_elsewhere": count(kind=twice, home=code)
            + count(kind=twice, host=code),
            "residents_carded_elsewhere": count(home=code),
            "uncovered_carded_elsewhere": count(kind="carded_elsewhere_only", home=code),
            "cross_province_double_funding": cross,
            "cross_province_double_funding_cost_idr": cross * premium,
        }
    provinces = out["provinces"].values()
    out["national"] = {
        key: sum(p[key] for p in provinces)
        for key in next(iter(provinces))
        if key != "carded_here_and_elsewhere"
    }
    out["national"]["persons_carded_in_several_provinces"] = count(kind=twice)
    return out
