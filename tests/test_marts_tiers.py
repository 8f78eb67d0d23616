"""UHC Prioritas, the 2026 award tiers, what each goal costs and whom to take over, on a district
small enough to work out by hand.

Lebong (17.07) has 50 residents: 15 named people chosen to land in one category each and 35
fillers (31 with an active PBPU card, 4 with none), so that registered = 49 and, in 2025,
active_registered = 41. One more person lives in Rejang Lebong (17.02). The same district is
delivered for 2025-06 (UHC Prioritas in force, no tiers yet) and 2026-01 (tiers in force; two
Pemda cards fall into arrears, one of them also inactive). Every expected figure below is
worked out from contracts/marts.md and DOMAIN.md, not read back from the code.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest

from jkn.exports import export_list
from jkn.quality import QualitySettings
from jkn.settings import restricted_path
from tests.conftest import nik_for, read_table, refresh, write_csv
from warehouse.build import define_macros

V1, V2 = "17.07.01.1004", "17.07.02.2001"  # two Lebong villages, two kecamatan
ELSEWHERE = "17.02.06.1004"  # Rejang Lebong
HAND_MADE = QualitySettings(quarantine_rate_max=1.0)
PERIODS = ("2025-06", "2026-01")

Card = tuple[str, str, str, int]  # segment, STATUS_PESERTA, KET_NONAKTIF, BULAN_TUNGGAKAN


def cards_of(key: str, period: str) -> list[Card]:
    """A person's valid cards in the period (F1..F31: one active PBPU card; F32..F35: none)."""
    if key.startswith("F"):
        return [("PBPU", "AKTIF", "", 0)] if int(key[1:]) <= 31 else []
    late = period >= "2026"  # in 2026 two Pemda cards are in arrears
    return {
        "P1": [("PBI_APBD", "AKTIF", "", 1 if late else 0)],  # arrears, still active
        "P2": [("PBI_APBD", "AKTIF", "", 0)],  # (+ a quarantined PBI_APBD card in arrears)
        "P3": [("PBI_APBD", "NONAKTIF", "MENUNGGAK", 2) if late else ("PBI_APBD", "AKTIF", "", 0)],
        "P4": [("PBI_APBD", "AKTIF", "", 0)],
        "P5": [("PBI_APBD", "AKTIF", "", 0)],
        "P6": [("PBI_APBD", "AKTIF", "", 0)],
        "T1": [("PBPU", "NONAKTIF", "MENUNGGAK", 3)],  # candidate
        "T2": [("PPU_BU", "NONAKTIF", "MENUNGGAK", 2)],  # candidate
        # candidate: an inactive PBI card does not bar a takeover
        "T3": [
            ("PBI_APBN", "NONAKTIF", "PBI_DINONAKTIFKAN", 0),
            ("PBPU", "NONAKTIF", "MENUNGGAK", 1),
        ],
        "T4": [("PBPU", "NONAKTIF", "MENUNGGAK", 5)],  # candidate in Rejang Lebong
        "X1": [("PBPU", "NONAKTIF", "MENUNGGAK", 4)],  # decile 7: not poor enough
        "X2": [("PBPU", "NONAKTIF", "MENUNGGAK", 2), ("PBI_APBN", "AKTIF", "", 0)],  # active PBI
        "X3": [("BP", "NONAKTIF", "MENUNGGAK", 6)],  # BP is not a segment to take over
        "X4": [("PBPU", "NONAKTIF", "", 0)],  # inactive, not in arrears
        "D1": [("PBI_APBN", "AKTIF", "", 0)],  # PBI_APBN in decile 8: drift
        "D2": [("PBI_APBN", "AKTIF", "", 0)],  # decile 5: eligible
    }[key]


NAMED = {
    # key: (village, decile on the Dinsos list or None)
    "P1": (V1, None),
    "P2": (V1, 9),  # a PBI_APBD member in decile 9 is not PBI_APBN drift
    "P3": (V2, None),
    "P4": (V2, None),
    "P5": (V2, None),
    "P6": (V2, None),
    "T1": (V1, 2),
    "T2": (V2, 5),
    "T3": (V1, 4),
    "T4": (ELSEWHERE, 1),
    "X1": (V1, 7),
    "X2": (V1, 1),
    "X3": (V2, 3),
    "X4": (V1, 2),
    "D1": (V2, 8),
    "D2": (V1, 5),
}
FILLERS = {f"F{i}": (V1 if i % 2 else V2, None) for i in range(1, 36)}


@dataclass(frozen=True)
class Person:
    nik: str
    nama: str
    dob: str  # DD-MM-YYYY
    village: str
    desil: int | None  # decile of the Dinsos listing; None: not listed


def person(n: int, key: str, village: str, desil: int | None) -> Person:
    dob = f"{1 + n % 28:02d}-{1 + n % 12:02d}-19{50 + n % 40}"
    return Person(nik_for("17.07.01", dob, "L", n + 1), f"ORANG {key}", dob, village, desil)


PEOPLE = {
    key: person(n, key, village, desil)
    for n, (key, (village, desil)) in enumerate({**NAMED, **FILLERS}.items())
}


def noka(key: str, nth: int) -> str:
    return f"{list(PEOPLE).index(key) * 10 + nth + 1:013d}"


QUARANTINED_NOKA = "700000000001"  # 12 digits: the row is quarantined (noka_is_13_digits)


def deliver(landing: Path, period: str) -> None:
    folder = landing / period
    write_csv(
        folder / "dukcapil.csv",
        [
            {
                "NIK": p.nik,
                "NO_KK": "",
                "NAMA_LGKP": p.nama,
                "JENIS_KLMIN": "LAKI-LAKI",
                "TMPT_LHR": "MUARA AMAN",
                "TGL_LHR": p.dob,
                "KODE_WILAYAH": p.village,
                "STATUS": "HIDUP",
                "TGL_STATUS": "",
            }
            for p in PEOPLE.values()
        ],
    )
    write_csv(
        folder / "dinsos_pbi.csv",
        [
            {
                "ID_DTSEN": f"DT{i}",
                "NIK": p.nik,
                "NO_KK": "",
                "NAMA": p.nama,
                "TGL_LAHIR": p.dob,
                "JENIS_KELAMIN": "L",
                "KODE_WILAYAH": p.village,
                "DESIL": str(p.desil),
                "SUMBER_DANA": "APBD" if key == "P2" else "APBN",
            }
            for i, (key, p) in enumerate(PEOPLE.items())
            if p.desil is not None
        ],
    )
    rows = [
        (noka(key, nth), key, card)
        for key in PEOPLE
        for nth, card in enumerate(cards_of(key, period))
    ]
    rows.append((QUARANTINED_NOKA, "P2", ("PBI_APBD", "AKTIF", "", 2)))
    write_csv(
        folder / "bpjs_membership.csv",
        [
            {
                "NOKA": number,
                "NIK": PEOPLE[key].nik,
                "NAMA": PEOPLE[key].nama,
                "TGL_LAHIR": PEOPLE[key].dob,
                "JENIS_KELAMIN": "L",
                "SEGMEN": segment,
                "STATUS_PESERTA": status,
                "KET_NONAKTIF": reason,
                "BULAN_TUNGGAKAN": str(arrears),
                "KODE_WILAYAH": PEOPLE[key].village,
                "TMT": "01-01-2015",
            }
            for number, key, (segment, status, reason, arrears) in rows
        ],
    )


def test_exact_ceilings_in_integers() -> None:
    """The one home of a share's count (sql/macros/share_needed.sql): exact, where the binary
    product is not (0.07 × 100 is 7.000000000000001 in binary: its ceiling would be 8)."""
    with duckdb.connect() as con:
        define_macros(con)
        assert math.ceil(0.07 * 100) == 8  # the trap, in Python's doubles as in DuckDB's
        got = con.execute(
            "select jkn_share_needed(0.98::double, 12050), jkn_share_needed(0.07::double, 100), "
            "ceil(0.07::double * 100)::bigint, jkn_share_shortfall(0.98::double, 12050, 11800), "
            "jkn_share_shortfall(null::double, 50, 3), jkn_share_shortfall(0.99::double, 50, 60), "
            "jkn_share_met(0.98::double, 12050, 11809), jkn_share_met(0.98::double, 12050, 11808), "
            "jkn_share_met(0.98::double, 0, 0), jkn_share_met(null::double, 0, 0)"
        ).fetchone()
    assert got == (11809, 7, 8, 9, 0, 0, True, False, False, True)


@pytest.fixture(scope="module")
def warehouse(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiers")
    target = root / "jkn.duckdb"
    for period in PERIODS:
        deliver(root / "landing", period)
        refresh(root / "landing", period, target, quality=HAND_MADE)
    return target


def rows(warehouse: Path, table: str, period: str, region: str, order: str = "1") -> list[dict]:
    return read_table(
        warehouse,
        f"select * from marts.{table} where period = $p and region_code = $r order by {order}",
        p=f"{period}-01",
        r=region,
    ).to_dicts()


def one(warehouse: Path, table: str, period: str, region: str) -> dict:
    found = rows(warehouse, table, period, region)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.slow
def test_the_district_is_as_designed(warehouse: Path) -> None:
    for period, active in (("2025-06", 41), ("2026-01", 40)):
        row = one(warehouse, "coverage", period, "17.07")
        assert (row["population"], row["registered"], row["active_registered"]) == (50, 49, active)


@pytest.mark.slow
def test_uhc_prioritas_needs_no_pemda_arrears_from_2025(warehouse: Path) -> None:
    may = one(warehouse, "uhc_status", "2025-06", "17.07")
    assert may["rule_id"] == "uhc-prioritas-2025"
    # 49 ≥ ceil(0.98 × 50) = 49 registered, 41 ≥ ceil(0.80 × 50) = 40 active; no arrears
    assert (may["meets_uhc"], may["pemda_arrears_cards"], may["meets_uhc_prioritas"]) == (
        True,
        0,
        True,
    )
    january = one(warehouse, "uhc_status", "2026-01", "17.07")
    # 40 active: exactly the 80% needed. P1 (active) and P3 (inactive) are in arrears; P2's
    # quarantined PBI_APBD card in arrears is not a valid membership
    assert (january["meets_uhc"], january["activations_needed"]) == (True, 0)
    assert (january["pemda_arrears_cards"], january["meets_uhc_prioritas"]) == (2, False)
    province = one(warehouse, "uhc_status", "2026-01", "17")
    assert province["pemda_arrears_cards"] == 2


@pytest.mark.slow
def test_tiers_only_where_a_tier_rule_is_in_force(warehouse: Path) -> None:
    assert rows(warehouse, "uhc_tiers", "2025-06", "17.07") == []
    tiers = [r["tier"] for r in rows(warehouse, "uhc_tiers", "2026-01", "17.07", "tier")]
    assert tiers == ["madya", "pratama", "utama"]
    provinces = rows(warehouse, "uhc_tiers", "2026-01", "17")
    assert {r["region_level"] for r in provinces} == {"province"} and len(provinces) == 3


@pytest.mark.slow
def test_tier_verdicts_and_exact_gaps(warehouse: Path) -> None:
    tiers = {r["tier"]: r for r in rows(warehouse, "uhc_tiers", "2026-01", "17.07")}
    pick = (
        "rule_id",
        "min_coverage",
        "min_activity",
        "min_pemda_share",
        "meets_tier",
        "residents_to_enrol",
        "activations_needed",
        "pemda_enrolments_needed",
    )
    got = {tier: tuple(row[c] for c in pick) for tier, row in tiers.items()}
    assert got == {
        # 49 ≥ 49, 40 ≥ 40: met, although two Pemda cards are in arrears (they bar Prioritas)
        "pratama": ("uhc-award-2026-pratama", 0.98, 0.80, None, True, 0, 0, 0),
        # activity ceil(0.85 × 50) = ceil(42.5) = 43 − 40 = 3; share ceil(0.10 × 50) = 5 ≤ 6
        "madya": ("uhc-award-2026-madya", 0.98, 0.85, 0.10, False, 0, 3, 0),
        # coverage ceil(49.5) = 50 − 49 = 1; activity ceil(47.5) = 48 − 40 = 8; share 9 − 6 = 3
        "utama": ("uhc-award-2026-utama", 0.99, 0.95, 0.18, False, 1, 8, 3),
    }
    for row in tiers.values():
        assert row["coverage_registered"] == pytest.approx(49 / 50)
        assert row["activity_of_population"] == pytest.approx(40 / 50)
        # P1..P6's valid PBI_APBD cards (P3's inactive one too; P2's quarantined one not)
        assert row["pemda_share"] == pytest.approx(6 / 50)
        assert row["pemda_arrears_cards"] == 2


@pytest.mark.slow
def test_what_each_goal_costs(warehouse: Path) -> None:
    def budget(period: str) -> dict[str, tuple]:
        found = rows(warehouse, "uhc_budget", period, "17.07")
        assert {r["takeover_candidates"] for r in found} == {3}
        assert {r["takeover_monthly_cost_idr"] for r in found} == {3 * 42_000}
        assert {r["premium_idr"] for r in found} == {42_000}
        return {
            r["goal"]: (
                r["in_force"], str(r["in_force_from"]), r["residents_to_enrol"],
                r["monthly_cost_idr"], r["annual_cost_idr"],
            )
            for r in found
        }  # fmt: skip

    # targets: ceil(0.986 × 50) = ceil(49.3) = 50 − 49 = 1; 100%: 50 − 49 = 1. The 2026 tiers
    # are not in force yet: costed on June 2025's figures as the next goals (active 41):
    # pratama max(0, ceil(40) − 41 → 0, —) = 0; madya max(0, ceil(42.5) = 43 − 41 = 2,
    # 5 ≤ 6 → 0) = 2; utama max(50 − 49 = 1, 48 − 41 = 7, 9 − 6 = 3) = 7
    assert budget("2025-06") == {
        "uhc-prioritas-2025": (True, "2025-01-01", 0, 0, 0),
        "perpres-98-6": (True, "2025-01-01", 1, 42_000, 504_000),
        "universal-100": (True, "2014-01-01", 1, 42_000, 504_000),
        "pratama": (False, "2026-01-01", 0, 0, 0),
        "madya": (False, "2026-01-01", 2, 84_000, 1_008_000),
        "utama": (False, "2026-01-01", 7, 294_000, 3_528_000),
    }
    # a tier: the largest of its gaps, each enrolled resident being registered, active and
    # PBI_APBD (madya: max(0, 3, 0); utama: max(1, 8, 3)); in force from 2026, no later tiers
    assert budget("2026-01") == {
        "uhc-prioritas-2025": (True, "2025-01-01", 0, 0, 0),
        "perpres-98-6": (True, "2025-01-01", 1, 42_000, 504_000),
        "universal-100": (True, "2014-01-01", 1, 42_000, 504_000),
        "pratama": (True, "2026-01-01", 0, 0, 0),
        "madya": (True, "2026-01-01", 3, 126_000, 1_512_000),
        "utama": (True, "2026-01-01", 8, 336_000, 4_032_000),
    }
    assert rows(warehouse, "uhc_budget", "2026-01", "17") == []  # kab/kota only


@pytest.mark.slow
def test_takeover_candidates_by_kabupaten_and_kecamatan(warehouse: Path) -> None:
    def counted(region: str) -> tuple:
        row = one(warehouse, "takeover_candidates", "2026-01", region)
        return row["region_level"], row["persons"], row["arrears_months"], row["monthly_cost_idr"]

    # T1 (3 months) and T3 (1) in kecamatan 17.07.01, T2 (2) in 17.07.02; T4 (5) in Rejang
    # Lebong. Not: X1 (decile 7), X2 (active PBI card), X3 (BP), X4 (no arrears), P3
    # (PBI_APBD), and filler cards (active)
    assert counted("17.07") == ("kabupaten", 3, 6, 126_000)
    assert counted("17.07.01") == ("kecamatan", 2, 4, 84_000)
    assert counted("17.07.02") == ("kecamatan", 1, 2, 42_000)
    assert counted("17.02") == ("kabupaten", 1, 5, 42_000)
    assert rows(warehouse, "takeover_candidates", "2026-01", "17") == []
    assert rows(warehouse, "takeover_candidates", "2026-01", V1) == []


@pytest.mark.slow
def test_the_takeover_list_is_as_long_as_persons(warehouse: Path, tmp_path: Path) -> None:
    listed = read_table(
        restricted_path(warehouse),
        "select * from lists.takeover_candidates where period = '2026-01-01' "
        "and kabupaten_code = '17.07' order by nik",
    )
    assert listed.height == one(warehouse, "takeover_candidates", "2026-01", "17.07")["persons"]
    assert listed.columns == [
        "period",
        "kabupaten_code",
        "kecamatan_code",
        "desa_code",
        "desa_name",
        "nik",
        "nama",
        "nokas",
        "segments",
        "arrears_months",
        "desil",
        "monthly_cost_idr",
    ]
    by_name = {r["nama"]: r for r in listed.to_dicts()}
    assert set(by_name) == {"ORANG T1", "ORANG T2", "ORANG T3"}
    t3 = by_name["ORANG T3"]
    assert t3["nik"] == PEOPLE["T3"].nik
    assert t3["nokas"] == [noka("T3", 1)]  # the PBPU card in arrears, not the PBI one
    assert (t3["segments"], t3["arrears_months"], t3["desil"]) == (["PBPU"], 1, 4)
    assert (t3["kecamatan_code"], t3["desa_code"]) == ("17.07.01", V1)
    t2 = by_name["ORANG T2"]
    assert (t2["segments"], t2["arrears_months"], t2["desil"], t2["desa_code"]) == (
        ["PPU_BU"],
        2,
        5,
        V2,
    )
    assert t2["desa_name"]
    assert listed["arrears_months"].sum() == 6
    assert set(listed["monthly_cost_idr"]) == {42_000}
    out = tmp_path / "takeover.csv"
    assert export_list(warehouse, "takeover_candidates", "2026-01", out, region="1707") == 3
    assert out.stat().st_mode & 0o077 == 0
    assert PEOPLE["T1"].nik in out.read_text(encoding="utf-8")


@pytest.mark.slow
def test_pbi_eligibility_drift(warehouse: Path) -> None:
    def persons(region: str) -> int:
        return one(warehouse, "pbi_eligibility_drift", "2026-01", region)["persons"]

    # D1 only: D2 is in decile 5, P2's decile-9 card is PBI_APBD, T3's PBI_APBN is decile 4
    assert (persons("17.07"), persons("17.07.02"), persons("17.07.01"), persons("17.02")) == (
        1,
        1,
        0,
        0,
    )


@pytest.mark.slow
def test_the_list_stays_in_the_restricted_file(warehouse: Path) -> None:
    identities = {p.nik for p in PEOPLE.values()} | {p.nama for p in PEOPLE.values()}
    identities |= {p.dob for p in PEOPLE.values()}
    identities |= {noka(k, n) for k in PEOPLE for n in range(2)} | {QUARANTINED_NOKA}
    tables = read_table(
        warehouse, "select table_schema, table_name from information_schema.tables"
    ).rows()
    assert {schema for schema, _ in tables} == {"marts"}  # no list in the BI file
    assert {"uhc_tiers", "uhc_budget", "takeover_candidates", "pbi_eligibility_drift"} <= {
        table for _, table in tables
    }
    for _, table in tables:
        frame = read_table(warehouse, f"select * from marts.{table}")
        for column, dtype in frame.schema.items():
            if dtype == pl.String:
                leaked = set(frame[column].drop_nulls().to_list()) & identities
                assert not leaked, f"marts.{table}.{column}"


def test_the_demo_levers_follow_the_budget(warehouse: Path) -> None:
    """The demo's 'next goal' is the first unmet goal (the UHC rule, then the lowest tier, then
    the nearest target), and its three paths cost what the budget's premium says."""
    from jkn.cli.console import read_levers

    for period in PERIODS:
        (lever,) = read_levers(warehouse, [f"{period}-01|17.07"])
        budget = {r["goal"]: r for r in rows(warehouse, "uhc_budget", period, "17.07")}
        status = rows(warehouse, "uhc_status", period, "17.07")[0]
        unmet = [goal for goal, r in budget.items() if r["residents_to_enrol"] > 0]
        if not unmet:
            assert lever["next_goal"] is None
            continue
        if not status["meets_uhc"]:
            assert lever["next_goal"] == status["rule_id"]
        assert lever["next_goal"] in unmet
        goal = budget[lever["next_goal"]]
        assert lever["enrol_residents"] == goal["residents_to_enrol"]
        assert lever["enrol_idr"] == goal["monthly_cost_idr"]
        assert lever["takeover_members"] <= goal["takeover_candidates"]
        # taking over costs the same premium per person; members paying their arrears cost
        # the Pemda nothing, so that path is never dearer
        assert lever["takeover_idr"] == goal["premium_idr"] * (
            lever["takeover_members"] + lever["takeover_enrol"]
        )
        assert lever["reactivate_idr"] <= lever["enrol_idr"]
        assert lever["reactivate_members"] <= lever["inactive_registered"]


def test_budget_rows_published_before_in_force_existed_read_as_in_force(tmp_path: Path) -> None:
    """A warehouse published before marts.uhc_budget had in_force/in_force_from keeps its rows
    when the next period is published: they were all goals in force (in_force true), the day
    they came into force was not recorded (NULL)."""
    from warehouse.publish import publish_period

    marts_file = tmp_path / "jkn.duckdb"
    old = {
        "period": dt.date(2025, 6, 1), "region_code": "17.07", "region_level": "kabupaten",
        "region_name": "Lebong", "goal": "uhc-prioritas-2025", "residents_to_enrol": 5,
        "premium_idr": 42_000, "monthly_cost_idr": 210_000, "annual_cost_idr": 2_520_000,
        "takeover_candidates": 0, "takeover_monthly_cost_idr": 0,
    }  # fmt: skip
    with duckdb.connect(str(marts_file)) as con:
        con.execute("create schema marts")
        con.register("old_rows", pl.DataFrame([old]))
        con.execute("create table marts.uhc_budget as select * from old_rows")
    new = pl.DataFrame(
        [
            {
                **old,
                "period": dt.date(2026, 1, 1),
                "goal": "pratama",
                "in_force": True,
                "in_force_from": dt.date(2026, 1, 1),
            }
        ]
    )
    publish_period(marts_file, dt.date(2026, 1, 1), {"uhc_budget": new}, storage_version="v1.0.0")
    got = read_table(
        marts_file, "select goal, in_force, in_force_from from marts.uhc_budget order by period"
    ).rows()
    assert got == [("uhc-prioritas-2025", True, None), ("pratama", True, dt.date(2026, 1, 1))]


TIER_SETS = """tier,tier_order,rule_id,valid_from,valid_to,min_coverage,min_activity,min_pemda_share
pratama,1,first-pratama,2026-01-01,2027-12-31,0.98,0.80,
madya,2,first-madya,2026-01-01,2027-12-31,0.98,0.85,0.10
pratama,1,second-pratama,2028-01-01,,0.99,0.90,
"""


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        # before any tier: the first set to come, not the one after it
        ("2025-06-01", {("pratama", False, "2026-01-01", 1), ("madya", False, "2026-01-01", 6)}),
        # tiers in force: they are the goals; the revision of 2028 is not costed beside its
        # namesake (one row per goal), and the one in force is costed as in force
        ("2027-06-01", {("pratama", True, "2026-01-01", 1), ("madya", True, "2026-01-01", 6)}),
        ("2028-01-01", {("pratama", True, "2028-01-01", 11)}),
    ],
)
def test_the_tiers_costed_are_those_in_force_else_the_first_set_to_come(
    tmp_path: Path, period: str, expected: set
) -> None:
    """m_tier_gaps on hand-made tier rules and one region of 100 residents, 98 registered, 79
    active, 9 Pemda cards. Enrolments needed, the largest gap: first pratama 98/80
    max(0, 80 − 79) = 1; first madya 98/85/10% max(0, 85 − 79, 10 − 9) = 6; second pratama
    99/90 max(99 − 98, 90 − 79) = 11."""
    from warehouse import execute, model_sql

    rules = tmp_path / "uhc_tiers.csv"
    rules.write_text(TIER_SETS, encoding="utf-8")
    with duckdb.connect() as con:
        define_macros(con)
        con.execute("create schema ref")
        con.execute(
            "create table ref.uhc_tiers as select * from read_csv($p, header=true, "
            "types={'valid_from': 'DATE', 'valid_to': 'DATE', 'min_pemda_share': 'DOUBLE'})",
            {"p": str(rules)},
        )
        con.execute(
            "create temp table m_coverage_pemda as select date '2025-06-01' as period, "
            "'17.07' as region_code, 'kabupaten' as region_level, 'Lebong' as region_name, "
            "100 as population, 98 as registered, 79 as active_registered, "
            "0.98 as coverage_registered, 0.79 as activity_of_population, "
            "9 as pemda_cards, 0 as pemda_arrears_cards"
        )
        execute(
            con,
            f"create temp table m_tier_gaps as {model_sql('marts', 'tier_gaps')}",
            {"period": dt.date.fromisoformat(period)},
        )
        got = con.execute(
            "select tier, in_force, valid_from::varchar, greatest(residents_to_enrol, "
            "activations_needed, pemda_enrolments_needed) from m_tier_gaps"
        ).fetchall()
    assert set(got) == expected
