"""Every mart figure on a district small enough to reason about by hand.

Eleven people in Lebong (17.07) and one in Rejang Lebong (17.02), each chosen to land in one
category of the coverage bridge, of the PBI reconciliation, or in double funding. The expected
figures below are worked out from DOMAIN.md's definitions, not read back from the code.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from jkn.domain import BRIDGE_CATEGORIES, PBI_CATEGORIES
from jkn.quality import QualitySettings
from jkn.settings import restricted_path
from tests.conftest import nik_for, read_table, refresh, write_csv
from tests.test_marts_contract import SNAPSHOT

pytestmark = pytest.mark.slow  # runs the Prefect flow (session harness)

V1, V2 = "17.07.01.1004", "17.07.02.2001"  # two Lebong villages, two kecamatan
ELSEWHERE = "17.02.06.1004"  # Rejang Lebong
HAND_MADE = QualitySettings(quarantine_rate_max=1.0)
KEC = "17.07.01"


def person(key: str, sex: str, dob: str, village: str, status: str, serial: int) -> dict:
    return {
        "key": key,
        "NIK": nik_for(KEC, dob, sex, serial),
        "NAMA": f"ORANG {key}",
        "sex": sex,
        "dob": dob,
        "village": village,
        "status": status,
    }


PEOPLE = {
    p["key"]: p
    for p in [
        person("A", "P", "10-05-1960", V1, "HIDUP", 1),
        person("B", "L", "11-06-1970", V1, "HIDUP", 2),
        person("C", "L", "12-07-1940", V1, "MATI", 3),
        person("D", "P", "13-08-1980", V2, "PINDAH", 4),
        person("E", "P", "14-09-1985", ELSEWHERE, "HIDUP", 5),
        person("F", "L", "15-10-1990", V1, "", 6),  # not in Dukcapil at all
        person("G", "P", "16-11-1975", V2, "HIDUP", 7),
        person("H", "L", "17-12-1965", V2, "HIDUP", 8),
        person("I", "P", "18-01-1955", V1, "HIDUP", 9),
        person("J", "L", "19-02-1995", V1, "HIDUP", 10),
        person("K", "P", "20-03-2000", V2, "HIDUP", 11),
    ]
}
# (person, NOKA, segment, status, reason) in file order
CARDS = [
    ("A", "0000000000001", "PBI_APBN", "AKTIF", ""),
    ("B", "0000000000002", "PBPU", "NONAKTIF", "MENUNGGAK"),
    ("B", "0000000000003", "PBI_APBD", "AKTIF", ""),
    ("C", "0000000000004", "PBPU", "AKTIF", ""),
    ("D", "0000000000005", "PPU_BU", "NONAKTIF", "PHK"),
    ("E", "0000000000006", "PBPU", "AKTIF", ""),
    ("F", "0000000000007", "PBPU", "AKTIF", ""),
    ("H", "0000000000008", "PBI_APBD", "AKTIF", ""),
    ("H", "0000000000009", "PPU_PEMERINTAH", "AKTIF", ""),
    ("I", "0000000000010", "PBI_APBN", "NONAKTIF", "PBI_DINONAKTIFKAN"),
    ("J", "0000000000011", "PBPU", "AKTIF", ""),
    ("K", "0000000000012", "PBI_APBN", "AKTIF", ""),
    ("A", "100000000013", "PBI_APBN", "AKTIF", ""),  # NOKA lost its zeros: quarantined
]
LISTED = ["A", "C", "G", "I", "J"]


def deliver(landing: Path, period: str) -> None:
    year = period[:4]
    folder = landing / period
    write_csv(
        folder / "dukcapil.csv",
        [
            {
                "NIK": p["NIK"],
                "NO_KK": "",
                "NAMA_LGKP": p["NAMA"],
                "JENIS_KLMIN": "PEREMPUAN" if p["sex"] == "P" else "LAKI-LAKI",
                "TMPT_LHR": "MUARA AMAN",
                "TGL_LHR": p["dob"],
                "KODE_WILAYAH": p["village"],
                "STATUS": p["status"],
                "TGL_STATUS": f"01-01-{year}" if p["status"] in ("MATI", "PINDAH") else "",
            }
            for p in PEOPLE.values()
            if p["status"]
        ],
    )
    write_csv(
        folder / "dinsos_pbi.csv",
        [
            {
                "ID_DTSEN": f"DT{i}",
                "NIK": PEOPLE[k]["NIK"],
                "NO_KK": "",
                "NAMA": PEOPLE[k]["NAMA"],
                "TGL_LAHIR": PEOPLE[k]["dob"],
                "JENIS_KELAMIN": PEOPLE[k]["sex"],
                "KODE_WILAYAH": V1,
                "DESIL": "2",
                "SUMBER_DANA": "APBN",
            }
            for i, k in enumerate(LISTED)
        ],
    )
    write_csv(
        folder / "bpjs_membership.csv",
        [
            {
                "NOKA": noka,
                "NIK": PEOPLE[k]["NIK"],
                "NAMA": PEOPLE[k]["NAMA"],
                "TGL_LAHIR": PEOPLE[k]["dob"],
                "JENIS_KELAMIN": PEOPLE[k]["sex"],
                "SEGMEN": segment,
                "STATUS_PESERTA": status,
                "KET_NONAKTIF": reason,
                "BULAN_TUNGGAKAN": "2" if reason == "MENUNGGAK" else "0",
                "KODE_WILAYAH": V1 if k != "D" else V2,
                "TMT": "01-01-2015",
            }
            for k, noka, segment, status, reason in CARDS
        ],
    )


@pytest.fixture(scope="module")
def warehouse(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rules")
    for period in ("2024-07", "2019-06"):
        deliver(root / "landing", period)
    target = root / "jkn.duckdb"
    # a handful of hand-made rows, some quarantined on purpose: no quarantine-rate threshold
    refresh(root / "landing", "2024-07", target, quality=HAND_MADE)
    refresh(root / "landing", "2019-06", target, quality=HAND_MADE)
    return target


def one(warehouse: Path, table: str, period: str, region: str) -> dict:
    rows = read_table(
        warehouse,
        f"select * from marts.{table} where period = $p and region_code = $r",
        p=f"{period}-01",
        r=region,
    ).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def test_coverage_of_the_kabupaten(warehouse: Path) -> None:
    row = one(warehouse, "coverage", "2024-07", "17.07")
    assert row["region_level"] == "kabupaten" and row["region_name"] == "Kabupaten Lebong"
    assert (row["population"], row["registered"], row["active_registered"]) == (7, 13, 10)
    assert row["coverage_registered"] == pytest.approx(13 / 7)
    assert row["activity_of_population"] == pytest.approx(10 / 7)
    assert row["activity_of_registered"] == pytest.approx(10 / 13)
    assert (row["covered_residents"], row["active_residents"], row["uncovered_residents"]) == (
        6,
        5,
        1,
    )
    assert row["coverage_reconciled"] == pytest.approx(6 / 7)
    assert row["activity_reconciled"] == pytest.approx(5 / 7)
    assert row["population_snapshot"].startswith("Dukcapil extract 2024-07: dukcapil.csv")


def bridge(warehouse: Path, period: str, region: str) -> dict[str, int]:
    frame = read_table(
        warehouse,
        'select category, "rows" from marts.coverage_bridge where period = $p '
        "and region_code = $r order by category_order",
        p=f"{period}-01",
        r=region,
    )
    return dict(zip(frame["category"], frame["rows"], strict=True))


def test_marts_carry_the_domain_categories_in_order(warehouse: Path) -> None:
    for table, categories in (
        ("coverage_bridge", BRIDGE_CATEGORIES),
        ("pbi_reconciliation", PBI_CATEGORIES),
    ):
        frame = read_table(
            warehouse,
            f"select distinct category, category_order from marts.{table} order by 2",
        )
        assert tuple(frame["category"]) == categories
        assert frame["category_order"].to_list() == list(range(1, len(categories) + 1))


def test_the_bridge_explains_every_registered_row(warehouse: Path) -> None:
    assert bridge(warehouse, "2024-07", "17.07") == {
        "quarantined": 1,
        "duplicate": 2,
        "deceased": 1,
        "moved_out": 1,
        "domiciled_elsewhere": 1,
        "not_in_population": 1,
        "resident": 6,
    }
    # Rejang Lebong is in the same province: at province level E is a resident
    assert bridge(warehouse, "2024-07", "17") == {
        "quarantined": 1,
        "duplicate": 2,
        "deceased": 1,
        "moved_out": 1,
        "domiciled_elsewhere": 0,
        "not_in_population": 1,
        "resident": 7,
    }
    province = one(warehouse, "coverage", "2024-07", "17")
    assert (province["population"], province["covered_residents"]) == (8, 7)


def test_the_bridge_at_kecamatan_and_desa_level(warehouse: Path) -> None:
    # D's card is registered in V2 (kecamatan 17.07.02); D moved out
    assert bridge(warehouse, "2024-07", "17.07.02") == {
        "quarantined": 0,
        "duplicate": 0,
        "deceased": 0,
        "moved_out": 1,
        "domiciled_elsewhere": 0,
        "not_in_population": 0,
        "resident": 0,
    }
    # H lives in V2 but both H's cards are registered in V1: elsewhere, then a duplicate
    v1 = bridge(warehouse, "2024-07", V1)
    assert v1["domiciled_elsewhere"] == 3  # E (Rejang Lebong), H, K (both V2)
    assert sum(v1.values()) == one(warehouse, "coverage", "2024-07", V1)["registered"] == 12


def test_activity_by_segment(warehouse: Path) -> None:
    frame = read_table(
        warehouse,
        "select * from marts.activity_by_segment where period = '2024-07-01' "
        "and region_code = '17.07' order by segment",
    )
    got = {r["segment"]: r for r in frame.to_dicts()}
    assert set(got) == {"PBI_APBN", "PBI_APBD", "PBPU", "PPU_BU", "PPU_PEMERINTAH"}
    assert (got["PBPU"]["registered"], got["PBPU"]["active"], got["PBPU"]["inactive"]) == (5, 4, 1)
    assert got["PBPU"]["inactive_arrears"] == 1
    assert got["PBI_APBN"]["registered"] == 4  # the quarantined card counts too
    assert got["PBI_APBN"]["inactive_pbi_deactivated"] == 1
    assert got["PPU_BU"]["inactive_other"] == 1
    assert frame["registered"].sum() == 13


def test_uhc_status_uses_the_rule_in_force(warehouse: Path) -> None:
    row = one(warehouse, "uhc_status", "2024-07", "17.07")
    assert (row["rule_id"], row["min_coverage"], row["min_activity"]) == (
        "inpres-1-2022",
        0.98,
        0.75,
    )
    assert row["meets_coverage"] and row["meets_activity"] and row["meets_uhc"]
    assert (row["residents_to_enrol"], row["activations_needed"]) == (0, 0)
    assert not row["meets_uhc_reconciled"]
    assert row["residents_to_enrol_reconciled"] == 1  # ceil(0.98 × 7) − 6
    assert row["activations_needed_reconciled"] == 1  # ceil(0.75 × 7) − 5
    # UHC Prioritas is defined from 2025 (tests/test_marts_tiers.py): no verdict in 2024; B's
    # and H's PBI_APBD cards are not in arrears
    assert (row["pemda_arrears_cards"], row["meets_uhc_prioritas"]) == (0, None)
    old = one(warehouse, "uhc_status", "2019-06", "17.07")
    assert old["rule_id"] == "rpjmn-2015-2019"
    assert old["min_activity"] is None and old["meets_activity"] is True


def test_targets_are_gaps_not_verdicts(warehouse: Path) -> None:
    frame = read_table(
        warehouse,
        "select * from marts.uhc_targets where period = '2024-07-01' and region_code = '17.07'",
    )
    assert frame["target_id"].to_list() == ["universal-100"]  # 98.6% applies from 2025
    assert frame["gap"][0] == pytest.approx(1 - 13 / 7)
    assert frame["residents_to_target"][0] == 0


def test_pbi_reconciliation(warehouse: Path) -> None:
    frame = read_table(
        warehouse,
        "select category, persons from marts.pbi_reconciliation "
        "where period = '2024-07-01' and region_code = '17.07' order by category_order",
    )
    assert dict(zip(frame["category"], frame["persons"], strict=True)) == {
        "listed_deceased": 1,  # C
        "listed_active_pbi": 1,  # A
        "listed_inactive_pbi": 1,  # I
        "listed_paying_segment": 1,  # J
        "listed_not_member": 1,  # G
        "pbi_not_listed": 3,  # B, H (PBI_APBD), K
    }


def test_double_funding_and_its_cost(warehouse: Path) -> None:
    row = one(warehouse, "double_funding", "2024-07", "17.07")
    assert (row["persons"], row["premium_idr"], row["monthly_cost_idr"]) == (1, 42_000, 42_000)
    old = one(warehouse, "double_funding", "2019-06", "17.07")
    assert (old["persons"], old["premium_idr"], old["monthly_cost_idr"]) == (1, 23_000, 23_000)


def test_each_list_is_as_long_as_its_mart_count(warehouse: Path) -> None:
    restricted = restricted_path(warehouse)
    kab = {"p": "2024-07-01", "r": "17.07"}
    outreach = read_table(
        restricted, "select * from lists.outreach where period = $p and kabupaten_code = $r", **kab
    )
    assert outreach.height == one(warehouse, "coverage", "2024-07", "17.07")["uncovered_residents"]
    assert outreach["nik"].to_list() == [PEOPLE["G"]["NIK"]]
    assert outreach["desa_code"].to_list() == [V2]
    cleanup = read_table(
        restricted, "select * from lists.cleanup where period = $p and kabupaten_code = $r", **kab
    )
    not_resident = {k: v for k, v in bridge(warehouse, "2024-07", "17.07").items() if v}
    del not_resident["resident"]
    assert cleanup.group_by("category").len().sort("category").rows() == sorted(
        not_resident.items()
    )
    funding = read_table(
        restricted,
        "select * from lists.double_funding where period = $p and kabupaten_code = $r",
        **kab,
    )
    assert funding["nik"].to_list() == [PEOPLE["H"]["NIK"]]
    assert funding["other_segments"].to_list() == [["PPU_PEMERINTAH"]]
    assert funding["monthly_cost_idr"].to_list() == [42_000]
    quarantine = read_table(
        restricted,
        "select * from lists.quarantine where period = $p and source = 'bpjs_membership'",
        p="2024-07-01",
    )
    assert quarantine["reasons"].to_list() == [["noka_is_13_digits"]]


def test_marts_hold_no_personal_data(warehouse: Path) -> None:
    identities = {p["NIK"] for p in PEOPLE.values()} | {p["NAMA"] for p in PEOPLE.values()}
    identities |= {p["dob"] for p in PEOPLE.values()}
    tables = read_table(
        warehouse,
        "select table_name from information_schema.tables where table_schema = 'marts'",
    )["table_name"].to_list()
    # every table of the marts contract (tests/snapshots/marts_columns.json)
    assert set(tables) == set(json.loads(SNAPSHOT.read_text(encoding="utf-8"))["current"])
    for table in tables:
        frame = read_table(warehouse, f"select * from marts.{table}")
        for column in frame.columns:
            if frame[column].dtype == pl.String:
                leaked = set(frame[column].drop_nulls().to_list()) & identities
                assert not leaked, f"marts.{table}.{column}"


# --------------------------------------------------------------------------- edge cases
# L: Dukcapil writes a status it does not use (WAFAT): the record is quarantined and places L
#    nowhere. M: on the PBI list, but the list's row is quarantined (DESIL 11); M holds a PBI
#    card. N: a card whose KODE_WILAYAH is unreadable. O: a card with an empty STATUS_PESERTA.
EDGE_PEOPLE = {
    "L": person("L", "L", "01-02-1950", V1, "WAFAT", 21),
    "M": person("M", "P", "02-03-1960", V1, "HIDUP", 22),
    "N": person("N", "L", "03-04-1970", V1, "HIDUP", 23),
    "O": person("O", "P", "04-05-1980", V1, "HIDUP", 24),
}


def deliver_edges(landing: Path, period: str) -> None:
    folder = landing / period
    write_csv(
        folder / "dukcapil.csv",
        [
            {
                "NIK": p["NIK"],
                "NAMA_LGKP": p["NAMA"],
                "JENIS_KLMIN": p["sex"],
                "TGL_LHR": p["dob"],
                "KODE_WILAYAH": p["village"],
                "STATUS": p["status"],
            }
            for p in EDGE_PEOPLE.values()
        ],
    )
    m = EDGE_PEOPLE["M"]
    write_csv(
        folder / "dinsos_pbi.csv",
        [
            {
                "NIK": m["NIK"],
                "NAMA": m["NAMA"],
                "TGL_LAHIR": m["dob"],
                "JENIS_KELAMIN": m["sex"],
                "KODE_WILAYAH": V1,
                "DESIL": "11",
                "SUMBER_DANA": "APBN",
            }
        ],
    )
    cards = [
        ("L", "0000000000021", V1, "AKTIF"),
        ("M", "0000000000022", V1, "AKTIF"),
        ("N", "0000000000023", "-", "AKTIF"),
        ("O", "0000000000024", V1, ""),
    ]
    write_csv(
        folder / "bpjs_membership.csv",
        [
            {
                "NOKA": noka,
                "NIK": EDGE_PEOPLE[k]["NIK"],
                "NAMA": EDGE_PEOPLE[k]["NAMA"],
                "TGL_LAHIR": EDGE_PEOPLE[k]["dob"],
                "JENIS_KELAMIN": EDGE_PEOPLE[k]["sex"],
                "SEGMEN": "PBI_APBN",
                "STATUS_PESERTA": status,
                "KODE_WILAYAH": village,
            }
            for k, noka, village, status in cards
        ],
    )


@pytest.fixture(scope="module")
def edges(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("edges")
    deliver_edges(root / "landing", "2024-07")
    target = root / "jkn.duckdb"
    refresh(root / "landing", "2024-07", target, quality=HAND_MADE)
    return target


def test_a_record_with_an_unknown_status_places_no_one(edges: Path) -> None:
    got = bridge(edges, "2024-07", "17.07")
    # L's card: its Dukcapil record (status WAFAT) places L in no population
    assert got["not_in_population"] == 1
    assert got["quarantined"] == 1  # O's card (empty status); N's card is in no region at all
    assert got["resident"] == 1  # M
    row = one(edges, "coverage", "2024-07", "17.07")
    assert (row["population"], row["covered_residents"]) == (3, 1)  # M, N, O; only M covered


def test_every_row_received_is_counted_somewhere(edges: Path) -> None:
    unplaced = read_table(edges, "select * from marts.rows_unplaced").to_dicts()
    assert [(r["source"], r["reason"], r["rows"]) for r in unplaced] == [
        ("bpjs_membership", "region_code_unreadable", 1)
    ]
    received = read_table(
        edges,
        "select distinct rows_received from marts.data_quality where source = 'bpjs_membership'",
    ).item()
    registered = one(edges, "coverage", "2024-07", "17.07")["registered"]
    assert registered + unplaced[0]["rows"] == received == 4


def test_a_row_without_a_status_counts_as_inactive(edges: Path) -> None:
    frame = read_table(
        edges,
        "select registered, active, inactive from marts.activity_by_segment "
        "where region_code = '17.07' and segment = 'PBI_APBN'",
    )
    assert frame.row(0) == (3, 2, 1)


def test_a_person_on_the_list_stays_listed_when_the_row_is_quarantined(edges: Path) -> None:
    frame = read_table(
        edges,
        "select category, persons from marts.pbi_reconciliation where region_code = '17.07'",
    )
    # L holds a PBI card and is on no list; M is listed, though the list's row is quarantined
    assert dict(zip(frame["category"], frame["persons"], strict=True))["pbi_not_listed"] == 1
    listed = read_table(
        restricted_path(edges),
        "select nik from lists.pbi_reconciliation where category = 'pbi_not_listed'",
    )
    assert listed["nik"].to_list() == [EDGE_PEOPLE["L"]["NIK"]]


def test_restricted_files_are_owner_only(edges: Path) -> None:
    restricted = restricted_path(edges)
    for path in [restricted, *restricted.parent.glob(f"{restricted.stem}*")]:
        assert path.stat().st_mode & 0o077 == 0, path
