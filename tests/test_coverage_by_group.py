"""marts.coverage_by_group: residents per kab/kota and kecamatan × sex × age band.

Against the generator's truth (two kab/kota, 1,500 persons each, a month ending on a leap day)
the population of every group equals the count of the truth's living Dukcapil records, a
record whose birth date is damaged (the truth's `defects`) being in band `unknown`; and the
groups of every region add up to its marts.coverage row. A hand-made month ending on
28 February 2025 puts a resident on each edge of the bands (a birthday on the period's last
day, 4 → 5, 14 → 15, 64 → 65, a leap-day birth, a birth after the period's end) and residents
whose birth date or sex does not read; the expected groups are worked out by hand.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import TypedDict

import duckdb
import polars as pl
import pytest

from jkn import rules
from jkn.generate import GenerateOptions, generate
from jkn.periods import last_day
from jkn.quality import QualitySettings
from tests.conftest import nik_for, read_table, refresh, write_csv
from warehouse.build import define_macros

slow = pytest.mark.slow  # runs the Prefect flow (session harness)

# the contract's bands (contracts/marts.md, marts.coverage_by_group), youngest first
CONTRACT_BANDS = ["0-4", "5-14", "15-24", "25-44", "45-64", "65+"]
LEVELS = {"kabupaten": 5, "kecamatan": 8}  # level → characters of the dotted code
FIGURES = ["population", "covered_residents", "active_residents"]


# --------------------------------------------------------------------------------------------
# the rule and the age


def test_the_bands_are_the_contracts_and_cover_every_age_once() -> None:
    bands = sorted(rules.rows("age_bands"), key=lambda r: int(r["age_band_order"]))
    assert [b["age_band"] for b in bands] == CONTRACT_BANDS
    assert int(bands[0]["min_age"]) == 0 and bands[-1]["max_age"] == ""
    for lower, upper in itertools.pairwise(bands):
        assert int(upper["min_age"]) == int(lower["max_age"]) + 1
    assert all(b["source"] for b in bands)


@pytest.mark.parametrize(
    ("born", "on_day", "years"),
    [
        ("2020-02-28", "2025-02-28", 5),  # birthday on the day itself
        ("2020-03-01", "2025-02-28", 4),  # birthday the day after
        ("2020-02-29", "2025-02-28", 4),  # leap-day birth, common year: birthday on 1 March
        ("2020-02-29", "2025-03-01", 5),
        ("2020-02-29", "2024-02-29", 4),  # leap year: the birthday itself
        ("2019-03-01", "2024-02-29", 4),
        ("1960-12-31", "2025-12-31", 65),
        ("1961-01-01", "2025-12-31", 64),
        ("2025-02-28", "2025-02-28", 0),  # born on the period's last day
        ("2025-03-05", "2025-02-28", -1),  # after it (the mart's `unknown`)
    ],
)
def test_completed_years(born: str, on_day: str, years: int) -> None:
    with duckdb.connect() as con:
        define_macros(con)
        got = con.execute(
            "select completed_years($b::date, $d::date)", {"b": born, "d": on_day}
        ).fetchone()
    assert got == (years,)


# --------------------------------------------------------------------------------------------
# against the generator's truth

REGIONS = ["17.07", "17.02"]
PERIOD = "2024-02"  # ends on a leap day
DOB_DEFECTS = ["dob_unparseable", "dob_future"]  # the Dukcapil birth date does not read / is after


class Generated(TypedDict):
    warehouse: Path
    truth: Path


@pytest.fixture(scope="module")
def generated(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Generated:
    root = tmp_path_factory.mktemp("groups")
    options = GenerateOptions(regions=REGIONS, period=PERIOD, persons=1500, seed=16)
    truth = generate(options, root / "landing").truth_dir
    warehouse = root / "jkn.duckdb"
    assert refresh(root / "landing", PERIOD, warehouse).published
    return {"warehouse": warehouse, "truth": truth}


def truth_groups(truth: Path) -> pl.DataFrame:
    """Expected population per region × sex × band from the truth's Dukcapil rows as
    delivered (status HIDUP)."""
    rows = pl.read_parquet(truth / "rows.parquet").filter(pl.col("source") == "dukcapil")
    persons = pl.read_parquet(truth / "persons.parquet")
    residents = rows.join(persons, on="person_id").filter(pl.col("dukcapil_status") == "HIDUP")
    # the generator damages no Dukcapil sex: every sex reads
    assert not residents["defects"].list.eval(pl.element().str.starts_with("sex")).list.any().any()
    damaged = residents["defects"].list.set_intersection(DOB_DEFECTS).list.len() > 0
    end = last_day(PERIOD)
    banded = residents.with_columns(
        pl.when(damaged).then(pl.lit("unknown")).otherwise(bands(pl.col("dob"), end)).alias("band")
    )
    assert banded.filter(pl.col("band") == "unknown").height > 0  # the truth has damaged dates
    return pl.concat(
        banded.group_by(
            pl.lit(level).alias("region_level"),
            pl.col("domicile_code").str.slice(0, width).alias("region_code"),
            pl.col("sex"),
            pl.col("band").alias("age_band"),
        ).agg(pl.len().cast(pl.Int64).alias("population"))
        for level, width in LEVELS.items()
    )


def bands(born: pl.Expr, on_day: dt.date) -> pl.Expr:
    """The band of the completed years at ``on_day`` per rules/age_bands.csv, computed here
    independently of the SQL (a leap-day birth has its birthday on 1 March in a common
    year); `unknown` for a birth after ``on_day``."""
    before_birthday = (pl.lit(on_day.month) < born.dt.month()) | (
        (pl.lit(on_day.month) == born.dt.month()) & (pl.lit(on_day.day) < born.dt.day())
    )
    years = pl.lit(on_day.year) - born.dt.year().cast(pl.Int32) - before_birthday.cast(pl.Int32)
    expr: pl.Expr = pl.lit("unknown")
    for row in rules.rows("age_bands"):
        upper = years <= int(row["max_age"]) if row["max_age"] else pl.lit(True)
        expr = (
            pl.when((years >= int(row["min_age"])) & upper)
            .then(pl.lit(row["age_band"]))
            .otherwise(expr)
        )
    return expr


def published_groups(warehouse: Path, period: str) -> pl.DataFrame:
    return read_table(
        warehouse,
        "select * from marts.coverage_by_group where period = $p order by all",
        p=f"{period}-01",
    )


@slow
def test_population_of_every_group_is_the_truths(generated: Generated) -> None:
    got = published_groups(generated["warehouse"], PERIOD)
    want = truth_groups(generated["truth"])
    keys = ["region_level", "region_code", "sex", "age_band"]
    joined = got.select(*keys, "population").join(
        want, on=keys, how="full", coalesce=True, suffix="_truth"
    )
    wrong = joined.filter(
        pl.col("population").fill_null(0) != pl.col("population_truth").fill_null(0)
    )
    assert wrong.height == 0, wrong
    # every region of both kab/kota, both levels; the twelve known groups in each, zeros too
    regions = got.select("region_level", "region_code").unique()
    assert set(regions.filter(pl.col("region_level") == "kabupaten")["region_code"]) == set(REGIONS)
    assert regions.filter(pl.col("region_level") == "kecamatan").height > 10
    known = got.filter((pl.col("sex") != "unknown") & (pl.col("age_band") != "unknown"))
    assert known.group_by("region_code").len()["len"].unique().to_list() == [12]
    assert set(got["age_band"]) == {*CONTRACT_BANDS, "unknown"}
    assert set(got["sex"]) == {"L", "P"}  # no Dukcapil sex is damaged by the generator


@slow
def test_groups_add_up_to_marts_coverage(generated: Generated) -> None:
    sums = read_table(
        generated["warehouse"],
        "select region_code, region_level, sum(population) as population, "
        "sum(covered_residents) as covered_residents, sum(active_residents) as active_residents "
        "from marts.coverage_by_group where period = $p group by all order by all",
        p=f"{PERIOD}-01",
    )
    coverage = read_table(
        generated["warehouse"],
        "select region_code, region_level, population, covered_residents, active_residents "
        "from marts.coverage where period = $p and region_level in ('kabupaten', 'kecamatan') "
        "and population > 0 order by all",
        p=f"{PERIOD}-01",
    )
    assert sums.height == coverage.height > 10
    assert sums.cast(coverage.schema).equals(coverage)
    assert coverage["covered_residents"].sum() > 0 and coverage["active_residents"].sum() > 0


@slow
def test_rates_are_of_the_group(generated: Generated) -> None:
    got = published_groups(generated["warehouse"], PERIOD).filter(pl.col("population") > 0)
    assert got["coverage_reconciled"].to_list() == pytest.approx(
        (got["covered_residents"] / got["population"]).to_list()
    )
    assert got["activity_reconciled"].to_list() == pytest.approx(
        (got["active_residents"] / got["population"]).to_list()
    )
    empty = published_groups(generated["warehouse"], PERIOD).filter(pl.col("population") == 0)
    assert empty["coverage_reconciled"].is_null().all()


# --------------------------------------------------------------------------------------------
# by hand: the edges of the bands

HAND = "2025-02"  # ends on 28 February 2025, a common year
V1, V2 = "17.07.01.1004", "17.07.02.2001"  # kecamatan 17.07.01 and 17.07.02 of Lebong
HAND_MADE = QualitySettings(quarantine_rate_max=1.0)  # a third of these records is quarantined

# key → (sex as delivered, birth date as delivered, village, status, expected sex, band)
RESIDENTS = {
    "a": ("PEREMPUAN", "28-02-2025", V1, "HIDUP", "P", "0-4"),  # born on the last day
    "b": ("LAKI-LAKI", "28-02-2020", V1, "HIDUP", "L", "5-14"),  # 5 on the last day
    "c": ("LAKI-LAKI", "01-03-2020", V1, "HIDUP", "L", "0-4"),  # 5 the day after
    "d": ("PEREMPUAN", "29-02-2020", V1, "HIDUP", "P", "0-4"),  # leap day: 5 on 1 March
    "e": ("PEREMPUAN", "28-02-1960", V2, "HIDUP", "P", "65+"),  # 65 on the last day
    "f": ("PEREMPUAN", "01-03-1960", V2, "HIDUP", "P", "45-64"),  # 65 the day after
    "g": ("LAKI-LAKI", "28-02-2010", V2, "HIDUP", "L", "15-24"),  # 15 on the last day
    "h": ("LAKI-LAKI", "31-02-1985", V1, "HIDUP", "L", "unknown"),  # no such date
    "i": ("X", "05-05-1990", V2, "HIDUP", "unknown", "25-44"),  # sex does not read
    "j": ("X", "abc", V2, "HIDUP", "unknown", "unknown"),  # neither reads
    "k": ("PEREMPUAN", "05-03-2025", V1, "HIDUP", "P", "unknown"),  # born after the period
    "l": ("LAKI-LAKI", "10-10-1970", V1, "MATI", None, None),  # not a resident
    "m": ("LAKI-LAKI", "10-10-1975", V1, "HIDUP", "L", "45-64"),
}
# key → (NOKA, status): the residents' cards, each carrying the resident's NIK
CARDS = {
    "b": ("0000000000201", "AKTIF"),
    "d": ("0000000000202", "AKTIF"),
    "e": ("0000000000203", "NONAKTIF"),
    "h": ("0000000000204", "AKTIF"),
    "i": ("0000000000205", "AKTIF"),
    "l": ("0000000000206", "AKTIF"),
    "m": ("0000000000207", "AKTIF"),
}
# (region, sex, band) → (population, covered, active), worked out from the tables above
KECAMATAN = {
    ("17.07.01", "P", "0-4"): (2, 1, 1),  # a; d with an active card
    ("17.07.01", "L", "5-14"): (1, 1, 1),
    ("17.07.01", "L", "0-4"): (1, 0, 0),
    ("17.07.01", "L", "unknown"): (1, 1, 1),
    ("17.07.01", "P", "unknown"): (1, 0, 0),
    ("17.07.01", "L", "45-64"): (1, 1, 1),
    ("17.07.02", "P", "65+"): (1, 1, 0),  # an inactive card
    ("17.07.02", "P", "45-64"): (1, 0, 0),
    ("17.07.02", "L", "15-24"): (1, 0, 0),
    ("17.07.02", "unknown", "25-44"): (1, 1, 1),
    ("17.07.02", "unknown", "unknown"): (1, 0, 0),
}


def nik(key: str) -> str:
    sex, born, *_ = RESIDENTS[key]
    readable = born if born != "abc" else "01-01-1990"
    return nik_for("17.07.01", readable, "P" if sex == "PEREMPUAN" else "L", ord(key))


def deliver(landing: Path) -> None:
    folder = landing / HAND
    write_csv(
        folder / "dukcapil.csv",
        [
            {
                "NIK": nik(key),
                "NO_KK": "",
                "NAMA_LGKP": f"ORANG {key.upper()}",
                "JENIS_KLMIN": sex,
                "TMPT_LHR": "MUARA AMAN",
                "TGL_LHR": born,
                "KODE_WILAYAH": village,
                "STATUS": status,
                "TGL_STATUS": "01-02-2025" if status == "MATI" else "",
            }
            for key, (sex, born, village, status, *_) in RESIDENTS.items()
        ],
    )
    write_csv(
        folder / "dinsos_pbi.csv",
        [
            {
                "ID_DTSEN": "DT1",
                "NIK": nik("m"),
                "NO_KK": "",
                "NAMA": "ORANG M",
                "TGL_LAHIR": "10-10-1975",
                "JENIS_KELAMIN": "L",
                "KODE_WILAYAH": V1,
                "DESIL": "2",
                "SUMBER_DANA": "APBN",
            }
        ],
    )
    write_csv(
        folder / "bpjs_membership.csv",
        [
            {
                "NOKA": noka,
                "NIK": nik(key),
                "NAMA": f"ORANG {key.upper()}",
                # the card's own date and sex read (only Dukcapil's decide the group)
                "TGL_LAHIR": "01-01-1985" if key == "h" else RESIDENTS[key][1],
                "JENIS_KELAMIN": "P" if RESIDENTS[key][0] == "PEREMPUAN" else "L",
                "SEGMEN": "PBPU",
                "STATUS_PESERTA": status,
                "KET_NONAKTIF": "MENUNGGAK" if status == "NONAKTIF" else "",
                "BULAN_TUNGGAKAN": "2" if status == "NONAKTIF" else "0",
                "KODE_WILAYAH": RESIDENTS[key][2],
                "TMT": "01-01-2015",
            }
            for key, (noka, status) in CARDS.items()
        ],
    )


@pytest.fixture(scope="module")
def by_hand(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("groups_by_hand")
    deliver(root / "landing")
    warehouse = root / "jkn.duckdb"
    assert refresh(root / "landing", HAND, warehouse, quality=HAND_MADE).published
    return warehouse


@slow
def test_band_edges_and_unknowns_by_hand(by_hand: Path) -> None:
    rows = published_groups(by_hand, HAND).to_dicts()
    got = {
        (r["region_code"], r["sex"], r["age_band"]): tuple(r[f] for f in FIGURES)
        for r in rows
        if r["region_level"] == "kecamatan" and r["population"] > 0
    }
    assert got == KECAMATAN
    # each resident in the group the table of residents gives them
    residents: dict[tuple[str, str, str], int] = {}
    for _, _, village, status, sex, band in RESIDENTS.values():
        if status == "HIDUP":
            group = (village[:8], str(sex), str(band))
            residents[group] = residents.get(group, 0) + 1
    assert {group: figures[0] for group, figures in got.items()} == residents
    kabupaten: dict[tuple[str, str, str], tuple[int, ...]] = {}
    for (_, sex, band), figures in KECAMATAN.items():
        before = kabupaten.get(("17.07", sex, band), (0, 0, 0))
        kabupaten[("17.07", sex, band)] = tuple(a + b for a, b in zip(before, figures, strict=True))
    assert {
        (r["region_code"], r["sex"], r["age_band"]): tuple(r[f] for f in FIGURES)
        for r in rows
        if r["region_level"] == "kabupaten" and r["population"] > 0
    } == kabupaten
    # the twelve known groups in each region, zeros included; unknown ones only where they occur
    per_region: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        per_region.setdefault(r["region_code"], []).append((r["sex"], r["age_band"]))
    assert {code: len(groups) for code, groups in per_region.items()} == {
        "17.07": 12 + 4,
        "17.07.01": 12 + 2,
        "17.07.02": 12 + 2,
    }
    assert {r["age_band"] for r in rows} == {*CONTRACT_BANDS, "unknown"}


@slow
def test_hand_made_groups_add_up_to_marts_coverage(by_hand: Path) -> None:
    coverage = read_table(
        by_hand,
        "select region_code, population, covered_residents, active_residents "
        "from marts.coverage where region_level in ('kabupaten', 'kecamatan') order by 1",
    )
    assert coverage.rows() == [
        ("17.07", 12, 6, 5),
        ("17.07.01", 7, 4, 4),
        ("17.07.02", 5, 2, 1),
    ]
