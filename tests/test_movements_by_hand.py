"""Month-on-month movements on a district small enough to follow by hand.

Nine people in Lebong (17.07), July → August 2024, each planted to move one figure: a card
ended, a card whose NOKA Excel damaged in August, an arrears deactivation, a reactivation, a
card moved to another kecamatan, a segment written in its older name (not a move), a segment
change, a new card, a death, a birth, a move between villages of one kecamatan and one between
kecamatans; and a person Dukcapil does not know whose card naming them is lost while a new
card with a smaller NOKA arrives, in a file delivered in another order. The expected figures
are worked out from the contract (contracts/marts.md, "Added in the second release"), not
read back from the code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jkn.quality import QualitySettings
from jkn.settings import restricted_path
from tests.conftest import nik_for, read_table, refresh, write_csv

pytestmark = pytest.mark.slow  # runs the Prefect flow (session harness)

V1, V1B, V2 = "17.07.01.1004", "17.07.01.1006", "17.07.02.2001"
KEC = "17.07.01"
# tiny hand-made months: no quarantine-rate threshold, no month-on-month bound
HAND_MADE = QualitySettings(
    quarantine_rate_max=1.0,
    population_change_max=100,
    registered_change_max=100,
    active_change_max=100,
    rate_change_max=100,
)
JULY, AUGUST = "2024-07", "2024-08"

PEOPLE = {
    key: {"NIK": nik_for(KEC, dob, sex, serial), "NAMA": f"ORANG {key}", "sex": sex, "dob": dob}
    for key, sex, dob, serial in [
        ("A", "P", "10-05-1960", 1),
        ("B", "L", "11-06-1970", 2),
        ("C", "L", "12-07-1940", 3),
        ("D", "P", "13-08-1980", 4),
        ("E", "P", "01-08-2024", 5),
        ("F", "L", "15-10-1990", 6),  # not in Dukcapil; his cards carry no NIK
        ("G", "P", "16-11-1975", 7),
        ("H", "L", "17-12-1965", 8),
        ("I", "P", "18-01-1955", 9),
    ]
}
# person → (status, village) per month; absent: not in that month's extract
DUKCAPIL = {
    JULY: {
        "A": ("HIDUP", V1),
        "B": ("HIDUP", V1),
        "C": ("HIDUP", V1),
        "D": ("HIDUP", V1),
        "G": ("HIDUP", V1),
        "H": ("HIDUP", V2),
        "I": ("HIDUP", V2),
    },
    AUGUST: {
        "A": ("HIDUP", V1),
        "B": ("HIDUP", V1),
        "C": ("MATI", V1),  # died
        "D": ("HIDUP", V2),  # moved to another kecamatan
        "E": ("HIDUP", V1),  # born
        "G": ("HIDUP", V1B),  # moved to another village of the kecamatan
        "H": ("HIDUP", V2),
        "I": ("HIDUP", V2),
    },
}
# (person, NOKA, segment as delivered, status, reason, village) in file order
CARDS = {
    JULY: [
        ("A", "0000000000101", "PBI_APBN", "AKTIF", "", V1),
        ("A", "0000000000102", "PBPU", "AKTIF", "", V1),
        ("B", "0000000000103", "PBPU", "AKTIF", "", V1),
        ("C", "0000000000104", "PBPU", "NONAKTIF", "MENUNGGAK", V1),
        ("D", "0000000000105", "PPU_BU", "AKTIF", "", V1),
        ("G", "0000000000106", "PBI_APBD", "AKTIF", "", V1),
        ("B", "0000000000107", "PBPU", "AKTIF", "", V1),
        ("F", "0000000000108", "PBPU", "AKTIF", "", V1),
        ("F", "0000000000109", "PBPU", "AKTIF", "", V1),
    ],
    AUGUST: list(
        reversed(  # delivered in another order
            [
                ("A", "101", "PBI_APBN", "AKTIF", "", V1),  # zeros stripped: quarantined
                # 102 ended
                ("B", "0000000000103", "PBPU", "NONAKTIF", "MENUNGGAK", V1),
                ("C", "0000000000104", "PBPU", "AKTIF", "", V1),  # reactivated (C has died)
                ("D", "0000000000105", "PPU_BU", "AKTIF", "", V2),
                ("G", "0000000000106", "PBPU_PEMDA", "AKTIF", "", V1),  # older name
                ("B", "0000000000107", "PBI_APBD", "AKTIF", "", V1),  # segment changed
                # F lost 108, the card whose NOKA named him, and got 050
                ("F", "0000000000109", "PBPU", "AKTIF", "", V1),
                ("F", "0000000000050", "PBPU", "AKTIF", "", V1),
                ("I", "0000000000112", "PBI_APBN", "AKTIF", "", V2),
                ("E", "0000000000113", "PBI_APBD", "NONAKTIF", "", V1),
            ]
        )
    ),
}


def deliver(landing: Path, period: str) -> None:
    folder = landing / period
    write_csv(
        folder / "dukcapil.csv",
        [
            {
                "NIK": PEOPLE[k]["NIK"],
                "NO_KK": "",
                "NAMA_LGKP": PEOPLE[k]["NAMA"],
                "JENIS_KLMIN": "PEREMPUAN" if PEOPLE[k]["sex"] == "P" else "LAKI-LAKI",
                "TMPT_LHR": "MUARA AMAN",
                "TGL_LHR": PEOPLE[k]["dob"],
                "KODE_WILAYAH": village,
                "STATUS": status,
                "TGL_STATUS": f"01-{period[5:]}-{period[:4]}" if status == "MATI" else "",
            }
            for k, (status, village) in DUKCAPIL[period].items()
        ],
    )
    write_csv(
        folder / "dinsos_pbi.csv",
        [
            {
                "ID_DTSEN": "DT1",
                "NIK": PEOPLE["A"]["NIK"],
                "NO_KK": "",
                "NAMA": PEOPLE["A"]["NAMA"],
                "TGL_LAHIR": PEOPLE["A"]["dob"],
                "JENIS_KELAMIN": "P",
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
                "NIK": "" if k == "F" else PEOPLE[k]["NIK"],
                "NAMA": PEOPLE[k]["NAMA"],
                "TGL_LAHIR": PEOPLE[k]["dob"],
                "JENIS_KELAMIN": PEOPLE[k]["sex"],
                "SEGMEN": segment,
                "STATUS_PESERTA": status,
                "KET_NONAKTIF": reason,
                "BULAN_TUNGGAKAN": "2" if reason == "MENUNGGAK" else "0",
                "KODE_WILAYAH": village,
                "TMT": "01-01-2015",
            }
            for k, noka, segment, status, reason, village in CARDS[period]
        ],
    )


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("movements") / "landing"
    for period in (JULY, AUGUST):
        deliver(root, period)
    return root


@pytest.fixture(scope="module")
def in_order(prefect_harness: None, landing: Path) -> Path:
    target = landing.parent / "in_order" / "jkn.duckdb"
    for period in (JULY, AUGUST):
        assert refresh(landing, period, target, quality=HAND_MADE).published
    return target


@pytest.fixture(scope="module")
def out_of_order(prefect_harness: None, landing: Path) -> dict[str, object]:
    """August published first (nothing to compare it with), then July: August's movements are
    recomputed with July, in the same publish."""
    target = landing.parent / "out_of_order" / "jkn.duckdb"
    assert refresh(landing, AUGUST, target, quality=HAND_MADE).published
    alone = movements(target, "card_movements", AUGUST)
    assert refresh(landing, JULY, target, quality=HAND_MADE).published
    return {"warehouse": target, "august_alone": alone}


def movements(warehouse: Path, table: str, period: str) -> dict[tuple, dict]:
    keys = ("region_code", "segment") if table == "card_movements" else ("region_code",)
    rows = read_table(
        warehouse, f"select * from marts.{table} where period = $p", p=f"{period}-01"
    ).to_dicts()
    return {tuple(r[k] for k in keys): r for r in rows}


FLOWS = (
    "cards_start", "cards_new", "cards_ended", "cards_moved_in", "cards_moved_out",
    "cards_end", "cards_untracked", "activated", "deactivated_arrears", "deactivated_pbi",
    "deactivated_other", "new_active",
)  # fmt: skip
# August against July, at the kab/kota: segment → the FLOWS in order
KABUPATEN_CARDS = {
    "PBI_APBN": (1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1),  # 101 damaged: ended + untracked; 112 new
    "PBPU": (6, 1, 2, 0, 1, 4, 0, 1, 1, 0, 0, 1),  # 102, 108 ended; 107 to PBI_APBD; 050 new
    "PPU_BU": (1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0),  # 105 moved, but within the kab/kota
    "PBI_APBD": (1, 1, 0, 1, 0, 3, 0, 0, 0, 0, 0, 0),  # 106 renamed only; 107 in; 113 new
}


@pytest.mark.parametrize("loaded", ["in_order", "out_of_order"])
def test_card_flows_of_the_kabupaten(loaded: str, request: pytest.FixtureRequest) -> None:
    fixture = request.getfixturevalue(loaded)
    warehouse = fixture if isinstance(fixture, Path) else fixture["warehouse"]
    got = movements(warehouse, "card_movements", AUGUST)
    for segment, expected in KABUPATEN_CARDS.items():
        row = got[("17.07", segment)]
        assert tuple(row[c] for c in FLOWS) == expected, segment
        assert row["previous_period"].isoformat() == f"{JULY}-01" and row["previous_published"]
    assert {s for (r, s) in got if r == "17.07"} == set(KABUPATEN_CARDS)


def test_a_move_between_kecamatan_is_a_move_there(in_order: Path) -> None:
    got = movements(in_order, "card_movements", AUGUST)
    here, there = got[("17.07.01", "PPU_BU")], got[("17.07.02", "PPU_BU")]
    assert (here["cards_start"], here["cards_moved_out"], here["cards_end"]) == (1, 1, 0)
    assert (there["cards_start"], there["cards_moved_in"], there["cards_end"]) == (0, 1, 1)
    # the card's status did not change, and it moved: counted only as moved
    assert there["activated"] == here["activated"] == 0


def test_cards_end_and_untracked_are_the_registered_rows(in_order: Path) -> None:
    moved = read_table(
        in_order,
        "select m.region_code, m.segment, m.cards_end + m.cards_untracked as cards, "
        "coalesce(a.registered, 0) as registered "
        "from marts.card_movements as m full join marts.activity_by_segment as a "
        "using (period, region_code, segment) where period = $p",
        p=f"{AUGUST}-01",
    )
    assert moved.height > 0
    assert moved["cards"].to_list() == moved["registered"].to_list()


def test_the_first_month_has_stocks_and_no_flows(in_order: Path) -> None:
    row = movements(in_order, "card_movements", JULY)[("17.07", "PBPU")]
    assert row["previous_period"] is None and row["previous_published"] is False
    assert (row["cards_end"], row["cards_untracked"]) == (6, 0)
    assert all(row[c] is None for c in FLOWS if c not in ("cards_end", "cards_untracked"))
    residents = movements(in_order, "resident_movements", JULY)[("17.07",)]
    assert (residents["residents_end"], residents["covered_end"], residents["active_end"]) == (
        7,
        5,
        4,
    )
    assert residents["residents_start"] is None and residents["newly_covered"] is None


def test_published_alone_a_month_has_no_flows_until_its_month_before_is(
    out_of_order: dict,
) -> None:
    alone = out_of_order["august_alone"][("17.07", "PBPU")]
    assert alone["previous_published"] is False and alone["cards_new"] is None
    assert alone["cards_end"] == 4


RESIDENTS = (
    "residents_start", "residents_entered", "residents_left", "residents_end",
    "covered_start", "newly_covered", "lost_coverage", "covered_entered", "covered_left",
    "covered_end", "active_start", "newly_active", "lapsed", "active_entered", "active_left",
    "active_end",
)  # fmt: skip


@pytest.mark.parametrize("loaded", ["in_order", "out_of_order"])
def test_resident_flows(loaded: str, request: pytest.FixtureRequest) -> None:
    fixture = request.getfixturevalue(loaded)
    warehouse = fixture if isinstance(fixture, Path) else fixture["warehouse"]
    got = movements(warehouse, "resident_movements", AUGUST)
    # the kab/kota: C died (covered, not active), E born (covered by an inactive card); A lost
    # both cards (one ended, one quarantined); I got a first card
    assert tuple(got[("17.07",)][c] for c in RESIDENTS) == (
        7, 1, 1, 7, 5, 1, 1, 1, 1, 5, 4, 1, 1, 0, 0, 4,
    )  # fmt: skip
    # the kecamatan: D left for 17.07.02; G moved villages but stayed
    assert tuple(got[("17.07.01",)][c] for c in RESIDENTS[:4]) == (5, 1, 2, 4)
    assert tuple(got[("17.07.02",)][c] for c in RESIDENTS[:4]) == (2, 1, 0, 3)
    # the villages: G left V1 and entered V1B
    assert tuple(got[(V1,)][c] for c in RESIDENTS[:4]) == (5, 1, 3, 3)
    assert tuple(got[(V1B,)][c] for c in RESIDENTS[:4]) == (0, 1, 0, 1)
    coverage = read_table(
        warehouse,
        "select population, covered_residents, active_residents from marts.coverage "
        "where period = $p and region_code = '17.07'",
        p=f"{AUGUST}-01",
    ).row(0)
    assert coverage == (7, 5, 4)


def test_a_person_dukcapil_does_not_know_keeps_his_key(in_order: Path) -> None:
    """F lost the card whose NOKA named him and got one with a smaller NOKA, in a file
    delivered in another order: he is still the person he was in July."""
    keys = read_table(
        restricted_path(in_order),
        "select p.period, s.noka, p.person_key from intermediate.row_person as p "
        "join staging.bpjs_membership as s using (period, line) "
        "where p.source = 'bpjs_membership' and s.nik is null order by 1, 2",
    )
    assert keys["noka"].to_list() == [
        "0000000000108", "0000000000109", "0000000000050", "0000000000109",
    ]  # fmt: skip
    assert set(keys["person_key"]) == {"card:0000000000108"}
