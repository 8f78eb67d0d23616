"""Synthetic persons: families, names, birth dates, domicile, NIK and NO_KK, vectorised."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl

from jkn.generate.model import DEFAULT_MIX, RegionPlan, levers_for, rng_for, vocab
from jkn.periods import last_day
from jkn.reference import regions

KINDS = ("resident", "dead", "moved", "migrant")

NAMES_FILE = Path(__file__).with_name("names.json")
EPOCH = date(1970, 1, 1)

# Household size 1..7 (BPS SUPAS-like shape, mean about 3.6).
FAMILY_SIZE_P = np.array([0.10, 0.16, 0.22, 0.24, 0.15, 0.08, 0.05])

FLAVOURS_BY_PROVINCE: dict[str, dict[str, float]] = {
    "16": {"malay": 0.5, "javanese": 0.4, "sundanese": 0.1},
    "17": {"rejang": 0.35, "malay": 0.3, "javanese": 0.3, "sundanese": 0.05},
    "52": {"sasak": 0.92, "javanese": 0.05, "malay": 0.03},
}
DEFAULT_FLAVOURS = {"javanese": 0.45, "malay": 0.3, "sundanese": 0.25}


@cache
def name_data() -> dict:
    """The shipped name lists (``names.json`` beside this module)."""
    return json.loads(NAMES_FILE.read_text(encoding="utf-8"))


def days(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - EPOCH).days


@dataclass(frozen=True)
class RegionRef:
    """Reference codes of one kab/kota, as arrays ready for sampling."""

    code: str
    villages: np.ndarray  # dotted village codes
    village_kec: np.ndarray  # dotted kecamatan of each village
    kecamatans: np.ndarray  # dotted kecamatan codes
    kec_names: dict[str, str]
    name: str


@cache
def _regions_frame() -> pl.DataFrame:
    return regions()


@cache
def region_ref(code: str) -> RegionRef:
    """Villages and kecamatans of a kab/kota; raises ValueError for an unknown code."""
    frame = _regions_frame()
    kab = frame.filter(pl.col("region_code") == code)
    if kab.height == 0 or kab.item(0, "region_level") != "kabupaten":
        raise ValueError(f"{code!r} is not a kab/kota code in the Kemendagri list")
    vill = frame.filter(
        (pl.col("region_level") == "desa") & pl.col("region_code").str.starts_with(code + ".")
    )
    kec = frame.filter((pl.col("region_level") == "kecamatan") & (pl.col("parent_code") == code))
    return RegionRef(
        code=code,
        villages=vill["region_code"].to_numpy(),
        village_kec=vill["parent_code"].to_numpy(),
        kecamatans=kec["region_code"].to_numpy(),
        kec_names=dict(zip(kec["region_code"], kec["region_name"], strict=True)),
        name=kab.item(0, "region_name"),
    )


@cache
def all_kecamatans() -> pl.DataFrame:
    """Every kecamatan with its kab/kota name (for NIKs issued elsewhere and birthplaces)."""
    frame = _regions_frame()
    kab = frame.filter(pl.col("region_level") == "kabupaten").select(
        kab_code="region_code", kab_name="region_name"
    )
    return (
        frame.filter(pl.col("region_level") == "kecamatan")
        .select(kec_code="region_code", kec_name="region_name", kab_code="parent_code")
        .join(kab, on="kab_code", how="left")
        .sort("kec_code")
    )


@cache
def old_kab_code(province: str) -> str:
    """A kab/kota code in ``province`` that is not in the current list (a pre-split code)."""
    frame = _regions_frame()
    taken = set(frame.filter(pl.col("parent_code") == province)["region_code"].to_list())
    for number in range(69, 0, -1):
        code = f"{province}.{number:02d}"
        if code not in taken:
            return code
    raise ValueError(f"no free kab/kota code in province {province}")


def _clean_place(name: pl.Expr) -> pl.Expr:
    return (
        name.str.replace(r"^(Kabupaten|Kota) ", "")
        .str.to_uppercase()
        .str.replace_all(r"[^A-Z .'-]", "")
    )


def _families(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split ``n`` persons into families: (family index, position in family, family size)."""
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    draw = rng.choice(np.arange(1, 8), size=int(n / 3.0) + 16, p=FAMILY_SIZE_P)
    cum = np.cumsum(draw)
    nf = int(np.searchsorted(cum, n)) + 1
    while nf > len(draw):  # pragma: no cover - draw is always large enough
        draw = np.concatenate([draw, draw])
        cum = np.cumsum(draw)
        nf = int(np.searchsorted(cum, n)) + 1
    sizes = draw[:nf].copy()
    sizes[-1] -= int(cum[nf - 1] - n)
    fam = np.repeat(np.arange(nf), sizes)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pos = np.arange(n) - start[fam]
    return fam, pos, sizes[fam]


def _pick(values: list[str], idx: np.ndarray) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(pl.Series(idx, dtype=pl.UInt32))


def _names(
    sex_female: np.ndarray,
    fam: np.ndarray,
    role: np.ndarray,
    province: str,
    rng: np.random.Generator,
) -> pl.Series:
    """Upper-case Indonesian names with regional flavour, 1-4 parts."""
    data = name_data()
    n = len(sex_female)
    mix = FLAVOURS_BY_PROVINCE.get(province, DEFAULT_FLAVOURS)
    flav_names = list(mix)
    nf = int(fam.max()) + 1 if n else 0
    fam_flav = rng.choice(len(flav_names), size=nf, p=np.array(list(mix.values())))
    flav = fam_flav[fam] if n else np.zeros(0, dtype=np.int64)
    given = pl.Series([None] * n, dtype=pl.String)
    second = pl.Series([None] * n, dtype=pl.String)
    for fi, fname in enumerate(flav_names):
        lists = data["flavours"][fname]
        for sx, key in ((False, "L"), (True, "P")):
            mask = (flav == fi) & (sex_female == sx)
            k = int(mask.sum())
            if not k:
                continue
            where = pl.Series(mask)
            g = _pick(lists[key], rng.integers(0, len(lists[key]), k))
            s = _pick(lists["second"][key], rng.integers(0, len(lists["second"][key]), k))
            keep_s = rng.random(k) < 0.4
            s = pl.select(pl.when(pl.Series(keep_s)).then(s).otherwise(None)).to_series()
            given = given.scatter(np.flatnonzero(where.to_numpy()), g)
            second = second.scatter(np.flatnonzero(where.to_numpy()), s)
    # Muslim prefixes (MUHAMMAD, SITI, NUR ...) and Sasak nobility titles (LALU, BAIQ).
    prefix = pl.Series([None] * n, dtype=pl.String)
    for sx, key in ((False, "L"), (True, "P")):
        m = (sex_female == sx) & (rng.random(n) < 0.22)
        idx = np.flatnonzero(m)
        if len(idx):
            prefix = prefix.scatter(
                idx, _pick(data["prefix"][key], rng.integers(0, len(data["prefix"][key]), len(idx)))
            )
        if province == "52":
            idx = np.flatnonzero((sex_female == sx) & (rng.random(n) < 0.07))
            if len(idx):
                prefix = prefix.scatter(idx, _pick(data["nobility"][key], np.zeros(len(idx), int)))
    # A small share of non-ASCII names, so the file encoding matters.
    for sx, key in ((False, "L"), (True, "P")):
        idx = np.flatnonzero((sex_female == sx) & (rng.random(n) < 0.002))
        if len(idx):
            vals = data["non_ascii"][key]
            given = given.scatter(idx, _pick(vals, rng.integers(0, len(vals), len(idx))))
    # Family names (Batak, Chinese-Indonesian ...) for a few families: head and children.
    fam_has = rng.random(nf) < 0.03
    fam_name = rng.integers(0, len(data["family_names"]), nf)
    surname_idx = np.where(fam_has[fam] & (role != 1), fam_name[fam], -1) if n else fam
    surname = pl.select(
        pl.when(pl.Series(surname_idx) >= 0)
        .then(
            pl.Series(data["family_names"], dtype=pl.String).gather(
                pl.Series(np.clip(surname_idx, 0, None), dtype=pl.UInt32)
            )
        )
        .otherwise(None)
    ).to_series()
    return pl.select(
        pl.concat_str([prefix, given, second, surname], separator=" ", ignore_nulls=True)
    ).to_series()


def build_region_persons(
    plan: RegionPlan,
    period: str,
    seed: int,
    old_region_rate: float,
) -> pl.DataFrame:
    """Persons generated for one kab/kota (before NIK/NO_KK serials are assigned).

    Returns one row per person with ``kind`` in ``resident`` (Dukcapil HIDUP), ``dead``
    (MATI), ``moved`` (PINDAH), ``migrant`` (not in Dukcapil; BPJS places them here).
    """
    rng = rng_for(seed, f"persons:{plan.code}")
    ref = region_ref(plan.code)
    mix = {**DEFAULT_MIX, **plan.mix}
    pop = plan.population
    n_dead = max(round(mix["dead_persons"] * pop), round(mix["deceased"] * pop))
    n_moved = max(round(mix["moved_persons"] * pop), round(mix["moved_out"] * pop))
    n_migrant = round(mix["not_in_population"] * pop)
    end = days(last_day(period))

    parts = []
    for group, n in (("dukcapil", pop + n_dead + n_moved), ("migrant", n_migrant)):
        fam, pos, size = _families(n, rng)
        nf = int(fam.max()) + 1 if n else 0
        couple = rng.random(nf) < 0.85
        extra = rng.random(nf) < 0.25
        role = np.full(n, 2, dtype=np.int8)  # 0 head, 1 spouse, 2 child, 3 extra member
        role[pos == 0] = 0
        role[(pos == 1) & couple[fam]] = 1
        role[(size >= 5) & (pos == size - 1) & extra[fam]] = 3
        head_female = np.where(size[pos == 0] == 1, rng.random(nf) < 0.45, rng.random(nf) < 0.12)
        female = rng.random(n) < 0.5
        female[role == 0] = head_female
        female[role == 1] = ~head_female[fam[role == 1]]
        head_age = np.clip(rng.normal(45, 13, nf), 19, 92)
        single = size[pos == 0] == 1
        head_age[single] = np.clip(rng.normal(40, 18, int(single.sum())), 17, 95)
        ha = head_age[fam]
        age = ha.copy()
        spouse_gap = np.where(head_female[fam], -3.0, 3.0) + rng.normal(0, 3, n)
        age = np.where(role == 1, np.clip(ha - spouse_gap, 17, 95), age)
        child_age = rng.random(n) * np.clip(ha - 19, 0.3, 32)
        age = np.where(role == 2, child_age, age)
        age = np.where(role == 3, np.clip(ha + rng.uniform(20, 30, n), 40, 98), age)
        dob = end - np.floor(age * 365.25).astype(np.int64) - rng.integers(0, 2, n)
        dob = np.minimum(dob, end)

        # Domicile: one village per family, kelurahan (urban, 1xxx) weighted heavier.
        weights = rng.gamma(2.0, 1.0, len(ref.villages))
        weights *= np.where(np.char.find(ref.villages.astype(str), ".1", 7) == 8, 2.5, 1.0)
        fam_village = rng.choice(len(ref.villages), size=nf, p=weights / weights.sum())
        village_idx = fam_village[fam]
        kec_codes = all_kecamatans()["kec_code"]
        kec_pos = {c: i for i, c in enumerate(kec_codes.to_list())}
        village_kec_idx = np.array([kec_pos[c] for c in ref.village_kec.tolist()], dtype=np.int64)
        region_kec_idx = np.array([kec_pos[c] for c in ref.kecamatans.tolist()], dtype=np.int64)
        home_kec = village_kec_idx[village_idx]

        # Issuing kecamatan of the NIK: mostly home, some elsewhere in the kab, some from
        # anywhere in Indonesia (moved in); migrants always from outside this kab.
        kecs = all_kecamatans()
        outside = np.flatnonzero((kecs["kab_code"] != plan.code).to_numpy())
        u = rng.random(n)
        issue = home_kec.copy()
        other_kab = region_kec_idx[rng.integers(0, len(region_kec_idx), n)]
        issue = np.where((u >= 0.80) & (u < 0.90), other_kab, issue)
        far = outside[rng.integers(0, len(outside), n)]
        far_mask = (u >= 0.90) | np.full(n, group == "migrant")
        issue = np.where(far_mask, far, issue)

        frame = pl.DataFrame(
            {
                "family": fam.astype(np.int64),
                "role": role,
                "female": female,
                "dob": dob.astype(np.int64),
                "village": pl.Series(ref.villages.tolist(), dtype=pl.String).gather(village_idx),
                "home_kec": kec_codes.gather(home_kec),
                "issue_kec": kec_codes.gather(issue),
                "name": _names(female, fam, role, plan.code[:2], rng),
            }
        ).with_columns(group=pl.lit(group))
        parts.append(frame)

    persons = pl.concat(parts)
    n = persons.height
    fam_offset = persons["family"].to_numpy() + np.where(
        persons["group"].to_numpy() == "migrant", 10_000_000, 0
    )
    persons = persons.with_columns(family=pl.Series(fam_offset))

    # MATI (older more likely), PINDAH (young adults more likely), the rest HIDUP.
    age_years = (end - persons["dob"].to_numpy()) / 365.25
    is_duk = persons["group"].to_numpy() == "dukcapil"
    kind = np.where(is_duk, 0, 3)  # KINDS: resident, dead, moved, migrant
    duk_idx = np.flatnonzero(is_duk)
    w_dead = np.exp(np.clip(age_years[duk_idx], 0, 100) / 12.0)
    dead = rng.choice(duk_idx, size=n_dead, replace=False, p=w_dead / w_dead.sum())
    kind[dead] = 1
    rest = np.flatnonzero(kind == 0)
    w_mv = np.where((age_years[rest] >= 18) & (age_years[rest] <= 40), 2.0, 1.0)
    moved = rng.choice(rest, size=n_moved, replace=False, p=w_mv / w_mv.sum())
    kind[moved] = 2
    status_date = np.full(n, -1, dtype=np.int64)
    back = rng.integers(0, 4 * 365, n)
    sd = np.maximum(end - back, persons["dob"].to_numpy())
    status_date = np.where((kind == 1) | (kind == 2), sd, -1)

    # Birthplace: the issuing kecamatan's name or its kab/kota's name.
    kec_names = all_kecamatans().select("kec_code", "kec_name", "kab_name")
    province = plan.code[:2]
    old_kab = old_kab_code(province)
    same_province = persons["issue_kec"].str.slice(0, 2).to_numpy() == province
    old = (rng.random(n) < old_region_rate) & same_province
    persons = (
        persons.with_columns(
            kind=vocab(KINDS, kind),
            status_date=pl.Series(status_date),
            old_region=pl.Series(old),
            use_kab_name=pl.Series(rng.random(n) < 0.4),
            region_code=pl.lit(plan.code),
        )
        .join(
            kec_names, left_on="issue_kec", right_on="kec_code", how="left", maintain_order="left"
        )
        .with_columns(
            birthplace=pl.when(pl.col("use_kab_name"))
            .then(_clean_place(pl.col("kab_name")))
            .otherwise(_clean_place(pl.col("kec_name"))),
            nik_prefix=pl.when(pl.col("old_region"))
            .then(pl.lit(old_kab.replace(".", "")) + pl.col("issue_kec").str.slice(6, 2))
            .otherwise(pl.col("issue_kec").str.replace_all(".", "", literal=True)),
            kk_kec=pl.col("home_kec").first().over("family").str.replace_all(".", "", literal=True),
        )
        .drop("kec_name", "kab_name", "use_kab_name")
    )
    # KK issue date: one per family, between 2005 and the end of the period.
    fam_ids = persons["family"].to_numpy()
    uniq, inv = np.unique(fam_ids, return_inverse=True)
    kk_issue = end - rng.integers(0, max(1, end - days(date(2005, 1, 1))), len(uniq))
    kk_issue = np.maximum(kk_issue, 0)[inv]
    return persons.with_columns(kk_issue=pl.Series(kk_issue.astype(np.int64)))


def _ddmmyy(day_num: pl.Expr, female: pl.Expr) -> pl.Expr:
    d = day_num.cast(pl.Int32).cast(pl.Date)
    day = d.dt.day().cast(pl.Int64) + pl.when(female).then(40).otherwise(0)
    return (
        day.cast(pl.String).str.zfill(2)
        + d.dt.month().cast(pl.String).str.zfill(2)
        + (d.dt.year() % 100).cast(pl.String).str.zfill(2)
    )


def assign_identifiers(persons: pl.DataFrame) -> pl.DataFrame:
    """Give every person a unique NIK and every family a unique NO_KK (serials from 0001)."""
    persons = persons.with_columns(person_id=pl.int_range(pl.len(), dtype=pl.Int64))
    persons = persons.with_columns(nik_date=_ddmmyy(pl.col("dob"), pl.col("female")))
    serial = pl.int_range(pl.len()).over("nik_prefix", "nik_date", order_by="person_id") + 1
    persons = persons.with_columns(
        nik=pl.col("nik_prefix") + pl.col("nik_date") + serial.cast(pl.String).str.zfill(4)
    )
    if persons.height and persons["nik"].str.len_chars().max() != 16:
        raise ValueError("NIK serial overflow: too many persons born on one day in one kecamatan")
    fams = (
        persons.group_by("family", "region_code")
        .agg(pl.col("kk_kec").first(), pl.col("kk_issue").first(), pl.col("person_id").min())
        .sort("person_id")
        .with_columns(kk_date=_ddmmyy(pl.col("kk_issue"), pl.lit(False)))
        .with_columns(
            no_kk=pl.col("kk_kec")
            + pl.col("kk_date")
            + (pl.int_range(pl.len()).over("kk_kec", "kk_date", order_by="person_id") + 1)
            .cast(pl.String)
            .str.zfill(4)
        )
        .select("family", "region_code", "no_kk")
    )
    return persons.join(fams, on=["family", "region_code"], how="left", maintain_order="left")


def plan_for(code: str, persons: int, coverage: float, activity: float) -> RegionPlan:
    """A default plan: ``persons`` alive residents, registered and active from the rates."""
    return RegionPlan(
        code=code,
        population=persons,
        registered=round(coverage * persons),
        active=round(activity * persons),
        levers=levers_for(code),
    )


def exact_population(
    target: int, coverage: float, activity: float, tolerance: float = 0.99e-4
) -> int:
    """The population nearest ``target`` whose integer counts give both rates within 1e-4."""
    for step in range(0, 100_000):
        for cand in (target + step, target - step):
            if cand <= 0:
                continue
            reg = round(coverage * cand)
            act = round(activity * cand)
            if (
                math.fabs(reg / cand - coverage) <= tolerance
                and math.fabs(act / cand - activity) <= tolerance
            ):
                return cand
    raise ValueError("no population reproduces the rates")  # pragma: no cover
