"""Linking by name, birth date, sex and place: normalisation, decisions on hand-made people,
and precision/recall floors on the generator's labelled data (hard negatives included)."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import polars as pl
import pytest

from jkn.bench.link import stage_extracts
from jkn.databases import load_reference
from jkn.generate import GenerateOptions, generate, linkage_truth
from jkn.link import LinkReport, install_macros, link_period, load_settings
from jkn.periods import first_day
from jkn.resolve import resolve_persons
from warehouse import RESTRICTED_LAYERS, apply_layer


@pytest.fixture(scope="module")
def macros() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    install_macros(con, load_settings())
    return con


def _name_keys(macros: duckdb.DuckDBPyConnection, a: str, b: str) -> tuple[str, str]:
    row = macros.execute("select jkn_name_key($a), jkn_name_key($b)", {"a": a, "b": b}).fetchone()
    assert row is not None
    return row[0], row[1]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("MUHAMMAD RIZKI", "MUHAMAD RIZKI"),
        ("MUHAMMAD RIZKI", "MOH. RIZKI"),
        ("MUHAMMAD RIZKI", "M. RIZKI"),
        ("MUHAMMAD RIZKI", "Mochammad  Rizki"),
        ("NUR AINI", "NURAINI"),
        ("DJOKO SOEHARTO", "JOKO SUHARTO"),
        ("SYAIFUL ABDULLAH", "SJAIFUL ABDULAH"),
        ("ANDRÉ", "ANDRE"),
        ("SITI AMINAH", "siti-aminah"),
    ],
)
def test_spelling_variants_share_one_name_key(
    macros: duckdb.DuckDBPyConnection, a: str, b: str
) -> None:
    key_a, key_b = _name_keys(macros, a, b)
    assert key_a == key_b != ""


@pytest.mark.parametrize(("a", "b"), [("SITI AMINAH", "SITI AMINA RAHMAWATI"), ("EVA", "EVI")])
def test_different_names_keep_different_keys(
    macros: duckdb.DuckDBPyConnection, a: str, b: str
) -> None:
    key_a, key_b = _name_keys(macros, a, b)
    assert key_a != key_b


@pytest.mark.parametrize(
    ("name", "core"),
    [
        ("MUHAMMAD RAFI", "RAFI"),  # folded to MUHAMAD before the common parts are dropped
        ("M. RAFI", "RAFI"),
        ("SITI NUR AINI", "AINI"),
        ("SITI", "SITI"),  # nothing but common parts: the whole name
    ],
)
def test_the_core_key_leaves_the_common_parts_out(
    macros: duckdb.DuckDBPyConnection, name: str, core: str
) -> None:
    assert macros.execute("select jkn_core_key($n)", {"n": name}).fetchone() == (core,)


# --------------------------------------------------------------------------------------------
# Decisions on people made here: staging tables written directly, linkage run in DuckDB.

PERIOD = dt.date(2024, 7, 1)
VILLAGE = "1707011004"


def _staging_con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for layer in RESTRICTED_LAYERS:
        apply_layer(con, layer)
    load_reference(con)
    return con


def _person(nik: str, nama: str, dob: str, sex: str, no_kk: str = "1707010101100001") -> dict:
    return {
        "period": PERIOD,
        "nik": nik,
        "no_kk": no_kk,
        "nama": nama,
        "jenis_kelamin": sex,
        "tmpt_lahir": None,
        "tgl_lahir": dt.date.fromisoformat(dob),
        "kode_wilayah": VILLAGE,
        "status": "HIDUP",
        "tgl_status": None,
        "line": 0,
        "flags": [],
        "file_sha256": "x",
    }


def _card(
    line: int,
    nik: str | None,
    nama: str,
    dob: str,
    sex: str,
    village: str = VILLAGE,
    no_kk: str | None = None,
) -> dict:
    return {
        "period": PERIOD,
        "noka": f"{line:013d}",
        "nik": nik,
        "no_kk": no_kk,
        "nama": nama,
        "tgl_lahir": dt.date.fromisoformat(dob),
        "jenis_kelamin": sex,
        "segmen": "PBPU",
        "status_peserta": "AKTIF",
        "kode_wilayah": village,
        "line": line,
        "flags": [],
        "file_sha256": "x",
    }


def _decide(people: list[dict], cards: list[dict]) -> dict[int, tuple[str, str, dict]]:
    """line → (decision, candidate NIK, evidence) of each card that had a candidate."""
    con = _staging_con()
    con.register("_p", pl.DataFrame(people))
    con.execute("insert into staging.dukcapil by name select * from _p")
    con.register("_c", pl.DataFrame(cards))
    con.execute("insert into staging.bpjs_membership by name select * from _c")
    resolve_persons(con, PERIOD)
    rows = con.execute(
        "select line, decision, candidate_nik, evidence from intermediate.link_evidence"
    ).fetchall()
    return {line: (decision, nik, json.loads(evidence)) for line, decision, nik, evidence in rows}


@pytest.fixture(scope="module")
def decided() -> dict[int, tuple[str, str]]:
    """line → (method, person_key) for a handful of cards."""
    people = [
        _person("1707015005900001", "SITI AMINAH", "1990-05-10", "P"),
        # twins: same family card and birth date, NIKs one digit apart
        _person("1707011203150001", "RIDWAN", "2015-03-12", "L", "1707010202200002"),
        _person("1707011203150002", "RIZAL", "2015-03-12", "L", "1707010202200002"),
        # namesakes: same name and sex, different birth dates
        _person("1707010101800001", "MUHAMMAD RIZKI", "1980-01-01", "L", "1707010303300003"),
        _person("1707010506850001", "MUHAMMAD RIZKI", "1985-06-05", "L", "1707010404400004"),
    ]
    cards = [
        _card(2, None, "SITI AMINAH", "1990-05-10", "P"),  # no NIK: links to SITI
        _card(3, "1707015005900010", "SITI AMINA", "1990-05-10", "P"),  # NIK typo + variant
        _card(4, None, "SITI AMINAH", "1990-10-05", "P"),  # day and month swapped
        _card(5, None, "RIDWAN", "2015-03-12", "L"),  # the right twin, not the other
        # a NIK one digit from *both* twins: the name decides
        _card(6, "1707011203150003", "RIZAL", "2015-03-12", "L"),
        _card(7, None, "MOH. RIZKI", "1981-01-01", "L"),  # namesake, birth year off: no link
        _card(8, None, "MUHAMAD RIZKI", "1985-06-05", "L"),  # the second namesake exactly
        _card(9, None, "BUDI SANTOSO", "1970-01-01", "L"),  # nobody in Dukcapil
        _card(10, None, "BUDI SANTOSO", "1970-01-01", "L"),  # … twice: one unknown person
        _card(11, "1707011203150001", "SITI AMINAH", "1990-05-10", "P"),  # a relative's NIK
        # her namesake from the next kecamatan, unknown to Dukcapil: a NIK as issued (its own
        # kecamatan, birth date and sex), one digit off SITI's in the kecamatan code
        _card(12, "1707025005900001", "SITI AMINAH", "1990-05-10", "P", "1707021001"),
    ]
    con = _staging_con()
    con.register("_p", pl.DataFrame(people))
    con.execute("insert into staging.dukcapil by name select * from _p")
    con.register("_c", pl.DataFrame(cards))
    con.execute("insert into staging.bpjs_membership by name select * from _c")
    resolve_persons(con, PERIOD)
    rows = con.execute(
        "select line, method, person_key from intermediate.row_person "
        "where source = 'bpjs_membership'"
    ).fetchall()
    return {line: (method, key) for line, method, key in rows}


def test_a_card_without_nik_links_to_its_person(decided: dict[int, tuple[str, str]]) -> None:
    assert decided[2] == ("linked", "1707015005900001")


def test_a_mistyped_nik_and_a_spelling_variant_still_link(
    decided: dict[int, tuple[str, str]],
) -> None:
    assert decided[3] == ("linked", "1707015005900001")


def test_a_swapped_birth_date_still_links(decided: dict[int, tuple[str, str]]) -> None:
    assert decided[4] == ("linked", "1707015005900001")


def test_twins_stay_apart(decided: dict[int, tuple[str, str]]) -> None:
    assert decided[5] == ("linked", "1707011203150001")
    assert decided[6] == ("linked", "1707011203150002")


def test_namesakes_are_never_merged(decided: dict[int, tuple[str, str]]) -> None:
    assert decided[7][0] != "linked"
    assert decided[8] == ("linked", "1707010506850001")


def test_cards_of_one_unknown_person_become_one_person(decided: dict[int, tuple[str, str]]) -> None:
    assert decided[9][0] == decided[10][0] == "clustered"
    assert decided[9][1] == decided[10][1]


def test_a_relatives_nik_is_not_trusted(decided: dict[int, tuple[str, str]]) -> None:
    assert decided[11] == ("linked", "1707015005900001")


def test_a_nik_as_issued_is_not_taken_for_a_typo_of_a_neighbours(
    decided: dict[int, tuple[str, str]],
) -> None:
    method, key = decided[12]
    assert method != "linked"
    assert key == "1707025005900001"


KK_A, KK_B = "1707010101100001", "1707010909900009"


@pytest.fixture(scope="module")
def weighed() -> dict[int, tuple[str, str, dict]]:
    """Cards whose evidence rests on the name variants, family cards and blocking rule of
    settings fs-2026.12-7."""
    people = [
        _person("1707014707800001", "MUHAMMAD MARLIN", "1980-07-07", "L", KK_A),
        _person("1707010303750001", "TRI", "1975-03-03", "L", KK_A),
        _person("1707014404660001", "LILIS", "1966-04-04", "P", KK_A),
        _person("1707015507100001", "ROHANI", "2010-07-15", "P", KK_A),
        _person("1707017005080173", "SALMAH", "2008-05-30", "P", KK_A),
    ]
    cards = [
        _card(2, None, "MARLIN", "1980-07-07", "L", no_kk=KK_A),  # MUHAMMAD left out
        _card(3, None, "TI", "1975-03-03", "L", no_kk=KK_A),  # a short name, a letter dropped
        _card(4, None, "LLIS", "1966-04-04", "P", no_kk=KK_A),  # undoubled: LIS, 2 edits
        # no NIK, the day mistyped and the first letters changed: only the village, sex and
        # birth month are left to find her by
        _card(5, None, "RHANI", "2010-07-16", "P", no_kk=KK_A),
        # SALMAH's namesake born the same day, unknown to Dukcapil: her own NIK (one digit
        # off SALMAH's serial), another family card, another village of the kecamatan
        _card(6, "1707017005080176", "SALMAH", "2008-05-30", "P", "1707011005", KK_B),
        # … and a card of SALMAH herself with that typo in the serial: her family card
        _card(7, "1707017005080176", "SALMAH", "2008-05-30", "P", no_kk=KK_A),
    ]
    return _decide(people, cards)


def test_a_name_without_its_common_part_links(weighed: dict[int, tuple[str, str, dict]]) -> None:
    decision, nik, evidence = weighed[2]
    assert (decision, nik, evidence["name"]) == ("link", "1707014707800001", "core")


def test_short_names_and_typos_the_folding_doubles_still_link(
    weighed: dict[int, tuple[str, str, dict]],
) -> None:
    assert weighed[3][:2] == ("link", "1707010303750001")
    assert weighed[3][2]["name"] == "one_typo_short"
    assert weighed[4][:2] == ("link", "1707014404660001")
    assert weighed[4][2]["name"] == "one_typo"


def test_a_mistyped_day_and_name_are_found_by_village_sex_and_birth_month(
    weighed: dict[int, tuple[str, str, dict]],
) -> None:
    decision, nik, evidence = weighed[5]
    assert (decision, nik) == ("link", "1707015507100001")
    assert evidence["rules"] == ["village_sex_birth_month"]
    assert (evidence["name"], evidence["dob"], evidence["no_kk"]) == ("close", "near", "same")


def test_another_family_card_keeps_a_namesakes_own_nik_from_linking(
    weighed: dict[int, tuple[str, str, dict]],
) -> None:
    decision, nik, evidence = weighed[6]
    assert decision != "link" and nik == "1707017005080173"
    assert (evidence["nik"], evidence["place"], evidence["no_kk"]) == (
        "one_edit_serial",
        "kecamatan",
        "different",
    )
    assert weighed[7][:2] == ("link", "1707017005080173")


# --------------------------------------------------------------------------------------------
# Bounded buckets: a blocking bucket of more than max_bucket people is split, never compared
# whole, and the pair that matters is still proposed.

SURNAMES = ["AMINAH", "BADRIAH", "CITRA", "DEWI", "FATIMAH", "HALIMAH", "INDAH", "JUBAIDAH"]


def _crowded(
    people: list[dict], cards: list[dict], max_bucket: int
) -> tuple[duckdb.DuckDBPyConnection, LinkReport]:
    con = _staging_con()
    con.register("_p", pl.DataFrame(people))
    con.execute("insert into staging.dukcapil by name select * from _p")
    con.register("_c", pl.DataFrame(cards))
    con.execute("insert into staging.bpjs_membership by name select * from _c")
    resolve_persons(con, PERIOD, link=False)
    settings = load_settings().model_copy(update={"max_bucket": max_bucket})
    return con, link_period(con, PERIOD, settings)


def test_a_bucket_over_the_cap_is_split_and_its_pair_still_found() -> None:
    # eight women born the same day in one village: one bucket of birth date + sex + kecamatan
    people = [
        _person(f"17070150059000{i + 1:02d}", f"SITI {name}", "1990-05-10", "P", f"170701010{i}")
        for i, name in enumerate(SURNAMES)
    ]
    card = _card(2, None, "SITI AMINA", "1990-05-10", "P")  # no NIK, a letter dropped
    con, report = _crowded(people, [card], max_bucket=4)
    blocks = con.sql(
        "select level, people from link_blocks where side = 'record' and kind = 1 order by level"
    ).fetchall()
    # over the cap (8 > 4): split one way by village (all eight share it), then by the name's
    # last letter (A: CITRA alone, level 3); the other way by the last word's initial (A:
    # AMINAH alone, level 2); the swapped birth date's bucket is empty (level 0)
    assert blocks == [(0, 0), (2, 1), (3, 1)]
    # no record meets more than max_bucket (4) people per rule: here one at most
    assert con.sql("select max(people) from link_blocks where side = 'record'").fetchall() == [(1,)]
    pairs = con.sql("select nik from link_candidates where rec_id = 'bpjs_membership:2'")
    assert ("1707015005900001",) in pairs.fetchall()
    decision = con.sql("select decision, nik from link_decisions").fetchall()
    assert decision == [("link", "1707015005900001")]
    # with the cap above the bucket, the same link from the whole bucket
    _, whole = _crowded(people, [card], max_bucket=16)
    assert (report.linked, whole.linked, whole.skipped_blocks) == (1, 1, 0)


def test_a_bucket_still_over_the_cap_when_split_is_skipped_and_counted() -> None:
    # six namesakes born the same day in one village: no field splits them
    people = [
        _person(f"17070150059000{i + 1:02d}", "EVA", "1990-05-10", "P", f"170701010{i}")
        for i in range(6)
    ]
    _, report = _crowded(people, [_card(2, None, "EVA", "1990-05-10", "P")], max_bucket=4)
    # birth date + sex in the kecamatan, and in the kab/kota with the initial; name + birth
    # year in the kecamatan, and + month in the kab/kota; name + birth date; village + sex +
    # initials; village + sex + birth month: seven blocks of six, each left out (the swapped
    # date's buckets are empty)
    assert report.skipped_blocks == 7
    assert (report.linked, report.candidates) == (0, 0)


# --------------------------------------------------------------------------------------------
# Floors on labelled generated data (the generator's linkage preset, hard negatives included)


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    root = tmp_path_factory.mktemp("linkage")
    period = "2024-07"
    options = GenerateOptions(regions=["17.07"], period=period, persons=6000, seed=31, linkage=True)
    result = generate(options, root / "landing")
    con = _staging_con()
    stage_extracts(con, result.files, period, root)
    resolve_persons(con, first_day(period))
    resolved = con.sql("select source, line, person_key, method from intermediate.row_person").pl()
    truth = linkage_truth(result.truth_dir)
    rows = pl.read_parquet(result.truth_dir / "rows.parquet")
    reachable = (
        rows.filter(
            (pl.col("source") == "dukcapil")
            & (
                pl.col("defects")
                .list.set_intersection(["nik_excel_scientific", "nik_truncated", "nik_empty"])
                .list.len()
                == 0
            )
        )
        .select("person_id")
        .unique()
        .with_columns(pl.lit(True).alias("reachable"))
    )
    return (
        truth.join(resolved, on=["source", "line"])
        .join(reachable, on="person_id", how="left")
        .with_columns(pl.col("reachable").fill_null(False))
    )


def test_precision_of_links(labelled: pl.DataFrame) -> None:
    links = labelled.filter(pl.col("method") == "linked")
    correct = links.filter(pl.col("person_key") == pl.col("nik_true")).height
    assert links.height > 100
    assert correct / links.height >= 0.999


def test_recall_on_cards_with_a_bad_nik(labelled: pl.DataFrame) -> None:
    bad = (
        pl.col("nik_missing")
        | pl.col("nik_mistyped")
        | pl.col("nik_damaged")
        | pl.col("nik_of_relative")
    )
    target = labelled.filter(bad & pl.col("nik_true").is_not_null() & pl.col("reachable"))
    found = target.filter(pl.col("person_key") == pl.col("nik_true")).height
    assert target.height > 100
    # The goal is 0.98 (issues 4 and 15): 282 of 285 here with settings fs-2026.12-7 (272 with
    # fs-2026.12-6); the three missed carry a relative's NIK: two that neither name nor
    # birth date contradicts (the NIK is trusted), one with a name variant and a date typo.
    assert found / target.height >= 0.98


def test_hard_negatives_are_never_linked_to_the_wrong_person(labelled: pl.DataFrame) -> None:
    hard = labelled.filter(
        pl.col("hard_negative").is_not_null() & pl.col("method").is_in(["linked"])
    )
    assert hard.height > 0
    assert hard.filter(pl.col("person_key") != pl.col("nik_true")).height == 0
