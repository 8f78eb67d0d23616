"""Officers' answers on the review list come back: export → answer → `jkn lists import` →
the next build links the 'same' pairs, keeps the 'different' candidates away, shows only
undecided pairs, and does so again next month on other lines. Every refusal names the file,
the line and the column, and never a value."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from jkn.databases import load_reference, open_restricted
from jkn.exports import export_list
from jkn.link import ScoreRegions, score_region
from jkn.resolve import resolve_persons
from jkn.review import DecisionsRefused, import_decisions
from warehouse import model_sql, replace_slice

P1, P2 = dt.date(2024, 7, 1), dt.date(2024, 8, 1)
HOME, NEXT_DOOR = "1707011004", "1707011005"  # two villages of one kecamatan
# Dukcapil persons (the same both months)
SITI = ("1707015205900001", "SITI AMINAH", "1990-05-12", "P")
BUDI = ("1707010303750001", "BUDI HARTONO", "1975-03-03", "L")
RIZKI_1 = ("1707010101800001", "MUHAMMAD RIZKI", "1980-01-01", "L")
RIZKI_3 = ("1707010301800001", "MUHAMMAD RIZKI", "1980-01-03", "L")
DEWI = ("1707016008850001", "DEWI LESTARI", "1985-08-20", "P")
PERSONS = [SITI, BUDI, RIZKI_1, RIZKI_3, DEWI]
# Cards without NIK and a PBI row with a wrong NIK, a village away: each likely, not certain
CARDS = {  # noka → (name, birth date, sex)
    "0001000000002": ("SITI AMINAH", "1990-05-14", "P"),  # SITI, two days off
    "0001000000003": ("BUDI HARTONO", "1975-03-05", "L"),  # BUDI, two days off
    "0001000000004": ("MUHAMMAD RIZKI", "1980-01-02", "L"),  # between the two namesakes
}
PBI_ROW = ("1707019999990009", "DEWI LESTARI", "1985-08-20", "P")  # DEWI, NIK not hers
FIRST_LINES = {"0001000000002": 2, "0001000000003": 3, "0001000000004": 4}
NEXT_LINES = {"0001000000002": 14, "0001000000003": 12, "0001000000004": 13}  # reordered


def _stage(
    con: duckdb.DuckDBPyConnection, period: dt.date, lines: dict[str, int], pbi: int
) -> None:
    people = pl.DataFrame(
        [
            {
                "period": period, "nik": nik, "no_kk": None, "nama": name,
                "jenis_kelamin": sex, "tmpt_lahir": None,
                "tgl_lahir": dt.date.fromisoformat(dob), "kode_wilayah": HOME,
                "status": "HIDUP", "tgl_status": None, "line": i + 2, "flags": [],
                "file_sha256": "x",
            }
            for i, (nik, name, dob, sex) in enumerate(PERSONS)
        ]
    )  # fmt: skip
    cards = pl.DataFrame(
        [
            {
                "period": period, "noka": noka, "nik": None, "no_kk": None, "nama": name,
                "tgl_lahir": dt.date.fromisoformat(dob), "jenis_kelamin": sex,
                "segmen": "PBPU", "status_peserta": "AKTIF", "kode_wilayah": NEXT_DOOR,
                "line": lines[noka], "flags": [], "file_sha256": "x",
            }
            for noka, (name, dob, sex) in CARDS.items()
        ]
    )  # fmt: skip
    nik, name, dob, sex = PBI_ROW
    pbi_rows = pl.DataFrame(
        [
            {
                "period": period, "id_dtsen": None, "nik": nik, "no_kk": None, "nama": name,
                "tgl_lahir": dt.date.fromisoformat(dob), "jenis_kelamin": sex,
                "kode_wilayah": NEXT_DOOR, "desil": 2, "sumber_dana": "APBN", "line": pbi,
                "flags": [], "file_sha256": "x",
            }
        ]
    )  # fmt: skip
    for table, frame in (
        ("dukcapil", people),
        ("bpjs_membership", cards),
        ("dinsos_pbi", pbi_rows),
    ):
        replace_slice(con, f"staging.{table}", frame, {"period": period})


def build(warehouse: Path, period: dt.date, score_regions: ScoreRegions | None = None) -> None:
    """Resolve the period's rows (the linkage included) and store its review list, as
    build_marts does."""
    with open_restricted(warehouse) as con:
        load_reference(con)
        con.execute("begin transaction")
        resolve_persons(con, period, score_regions=score_regions)
        review = con.sql(model_sql("lists", "link_review"), params={"period": period}).pl()
        replace_slice(con, "lists.link_review", review, {"period": period})
        con.execute("commit")


def query(warehouse: Path, sql: str, **params: object) -> list[tuple]:
    with open_restricted(warehouse) as con:
        return con.execute(sql, params or None).fetchall()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    target = tmp_path / "jkn.duckdb"
    with open_restricted(target) as con:
        _stage(con, P1, FIRST_LINES, pbi=2)
        _stage(con, P2, NEXT_LINES, pbi=7)
    build(target, P1)
    return target


def exported(warehouse: Path, tmp_path: Path, suffix: str = ".csv") -> pl.DataFrame:
    out = tmp_path / f"review{suffix}"
    export_list(warehouse, "link_review", "2024-07", out)
    if suffix == ".csv":
        return pl.read_csv(out, infer_schema=False)
    import fastexcel

    return fastexcel.read_excel(out).load_sheet(0, dtypes="string").to_polars()


def answered(frame: pl.DataFrame, answers: dict[tuple[str, int], str]) -> pl.DataFrame:
    """The exported frame with answers written in by (source, line)."""
    keys = pl.concat_str("source", pl.col("line").cast(pl.String), separator=":")
    mapping = {f"{s}:{n}": a for (s, n), a in answers.items()}
    return frame.with_columns(keys.replace_strict(mapping, default=None).alias("decision"))


def write(frame: pl.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.write_csv(path)
    else:
        frame.write_excel(path, worksheet="link_review")
    return path


def _review_pairs(warehouse: Path, period: dt.date) -> set[tuple[str, int, str]]:
    rows = query(
        warehouse,
        "select source, line, candidate_nik from lists.link_review where period = $p",
        p=period,
    )
    return {(s, n, c) for s, n, c in rows}


def _persons(warehouse: Path, period: dt.date) -> dict[tuple[str, int], tuple[str, str]]:
    rows = query(
        warehouse,
        "select source, line, method, person_key from intermediate.row_person "
        "where period = $p and source <> 'dukcapil'",
        p=period,
    )
    return {(s, n): (m, k) for s, n, m, k in rows}


def test_every_hand_made_record_goes_to_review(warehouse: Path) -> None:
    pairs = _review_pairs(warehouse, P1)
    assert {(s, n) for s, n, _ in pairs} == {
        ("bpjs_membership", 2), ("bpjs_membership", 3), ("bpjs_membership", 4), ("dinsos_pbi", 2)
    }  # fmt: skip
    # the namesakes tie: the best is the smaller NIK, the other is the runner-up
    assert ("bpjs_membership", 4, RIZKI_1[0]) in pairs


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_export_carries_an_empty_decision_and_a_fingerprint(
    warehouse: Path, tmp_path: Path, suffix: str
) -> None:
    frame = exported(warehouse, tmp_path, suffix)
    assert frame.columns[-1] == "decision"
    assert frame["decision"].is_null().all()
    assert all(re.fullmatch(r"[0-9a-f]{16}", f) for f in frame["pair_fingerprint"])
    assert frame["pair_fingerprint"].n_unique() == frame.height == 4


@pytest.fixture
def decided(warehouse: Path, tmp_path: Path) -> Path:
    """SITI's card and DEWI's PBI row answered same, the namesakes' card 'different' for the
    first namesake, BUDI's card left undecided; imported from an XLSX, then the first month
    built again."""
    answers = {
        ("bpjs_membership", 2): "SAMA",
        ("dinsos_pbi", 2): "Same",
        ("bpjs_membership", 4): "beda",
    }
    path = write(answered(exported(warehouse, tmp_path, ".xlsx"), answers), tmp_path / "a.xlsx")
    report = import_decisions(warehouse, path)
    assert (report.same, report.different, report.undecided) == (2, 1, 1)
    assert (report.unchanged, report.replaced) == (0, 0)
    build(warehouse, P1)
    return path


def test_answers_are_stored_by_what_identifies_the_record_across_months(
    decided: Path, warehouse: Path
) -> None:
    rows = query(
        warehouse,
        "select source, record_key, candidate_nik, answer, file_name, period, line "
        "from audit.review_decisions order by source, record_key",
    )
    assert rows == [
        ("bpjs_membership", "noka:0001000000002", SITI[0], "same", str(decided), P1, 2),
        ("bpjs_membership", "noka:0001000000004", RIZKI_1[0], "different", str(decided), P1, 4),
        ("dinsos_pbi", f"pbi:DEWILESTARI|1985-08-20|P|{NEXT_DOOR}", DEWI[0], "same",
         str(decided), P1, 2),
    ]  # fmt: skip


def test_same_links_different_excludes_and_the_list_shows_only_the_undecided(
    decided: Path, warehouse: Path
) -> None:
    persons = _persons(warehouse, P1)
    assert persons["bpjs_membership", 2] == ("officer_linked", SITI[0])
    assert persons["dinsos_pbi", 2] == ("officer_linked", DEWI[0])
    assert persons["bpjs_membership", 4][1] != RIZKI_1[0]
    # the other namesake is now the best candidate: still uncertain, so reviewed, and BUDI's
    # card, undecided, stays
    assert _review_pairs(warehouse, P1) == {
        ("bpjs_membership", 3, BUDI[0]),
        ("bpjs_membership", 4, RIZKI_3[0]),
    }


def test_the_evidence_says_an_officer_decided(decided: Path, warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select source, line, candidate_nik, decision, evidence from intermediate.link_evidence "
        "where period = $p order by source, line",
        p=P1,
    )
    evidence = {(s, n): (c, d, json.loads(e)) for s, n, c, d, e in rows}
    nik, decision, siti = evidence["bpjs_membership", 2]
    assert (nik, decision) == (SITI[0], "officer_linked")
    assert siti["officer"]["linked"] is True and siti["officer"]["files"] == [str(decided)]
    assert siti["name"] == "exact" and siti["place"] == "kecamatan"  # still scored
    nik, decision, rizki = evidence["bpjs_membership", 4]
    assert (nik, decision) == (RIZKI_3[0], "review")
    assert rizki["officer"] == {
        "linked": False,
        "excluded_candidates": 1,
        "decided_at": rizki["officer"]["decided_at"],
        "files": [str(decided)],
    }
    assert (
        evidence["bpjs_membership", 3][1] == "review"
        and "officer" not in evidence["bpjs_membership", 3][2]
    )


def test_answers_apply_the_next_month_whatever_the_line(decided: Path, warehouse: Path) -> None:
    build(warehouse, P2)
    persons = _persons(warehouse, P2)
    assert persons["bpjs_membership", 14] == ("officer_linked", SITI[0])
    assert persons["dinsos_pbi", 7] == ("officer_linked", DEWI[0])
    assert _review_pairs(warehouse, P2) == {
        ("bpjs_membership", 12, BUDI[0]),
        ("bpjs_membership", 13, RIZKI_3[0]),
    }


def test_answers_apply_alike_when_scoring_fans_out_by_region(
    decided: Path, warehouse: Path
) -> None:
    in_process = _persons(warehouse, P1)

    def in_turn(folder: Path, regions: list[str], settings: Any, params: Any) -> list[Path]:
        return [score_region(folder, region, settings, params) for region in regions]

    build(warehouse, P1, score_regions=in_turn)
    assert _persons(warehouse, P1) == in_process
    assert _review_pairs(warehouse, P1) == {
        ("bpjs_membership", 3, BUDI[0]),
        ("bpjs_membership", 4, RIZKI_3[0]),
    }


def test_a_file_imported_again_changes_nothing(decided: Path, warehouse: Path) -> None:
    report = import_decisions(warehouse, decided)
    assert (report.same, report.different, report.unchanged) == (0, 0, 3)
    assert query(warehouse, "select count(*) from audit.review_decisions") == [(3,)]


# --------------------------------------------------------------------------------------------
# Refusals: the file as delivered, the line, the column; never a NIK or a name; nothing stored


def _refused(warehouse: Path, path: Path, *, replace: bool = False) -> str:
    before = query(warehouse, "select count(*) from audit.review_decisions")
    with pytest.raises(DecisionsRefused) as caught:
        import_decisions(warehouse, path, replace=replace)
    message = str(caught.value)
    assert query(warehouse, "select count(*) from audit.review_decisions") == before
    assert "Nothing was stored." in message
    assert not re.search(r"\d{13,16}", message)  # no NIK, no NOKA
    for _, name, _, _ in PERSONS:
        assert name not in message
    return message


def _line_of(frame: pl.DataFrame, source: str, line: int) -> int:
    """The file line (header = 1) of the exported row for (source, line)."""
    index = frame.with_row_index().filter(
        (pl.col("source") == source) & (pl.col("line") == str(line))
    )["index"]
    return int(index[0]) + 2


def test_a_row_not_on_the_review_list_is_refused(warehouse: Path, tmp_path: Path) -> None:
    frame = exported(warehouse, tmp_path)
    at = _line_of(frame, "bpjs_membership", 3)
    edited = frame.with_columns(
        pl.when(pl.col("line") == "3").then(pl.lit("99")).otherwise("line").alias("line")
    )
    path = write(answered(edited, {("bpjs_membership", 99): "SAMA"}), tmp_path / "x.csv")
    message = _refused(warehouse, path)
    assert f"{path}, line {at}, column line: no review row bpjs_membership 2024-07 line 99" in (
        message
    )


def test_an_edited_identity_cell_is_refused(warehouse: Path, tmp_path: Path) -> None:
    frame = exported(warehouse, tmp_path)
    at = _line_of(frame, "bpjs_membership", 3)
    edited = frame.with_columns(
        pl.when(pl.col("line") == "3")
        .then(pl.lit("BUDI HARTANTO"))
        .otherwise("record_nama")
        .alias("record_nama")
    )
    path = write(answered(edited, {("bpjs_membership", 3): "SAMA"}), tmp_path / "x.csv")
    message = _refused(warehouse, path)
    assert f"{path}, line {at}, column record_nama: changed since export" in message
    # an undecided row edited is refused too: the file is not the list as exported
    path = write(edited, tmp_path / "y.csv")
    assert f"line {at}, column record_nama" in _refused(warehouse, path)


def test_a_fingerprint_of_another_pair_is_refused(warehouse: Path, tmp_path: Path) -> None:
    frame = exported(warehouse, tmp_path)
    at = _line_of(frame, "bpjs_membership", 3)
    other = frame.filter(pl.col("line") == "2")["pair_fingerprint"][0]
    edited = frame.with_columns(
        pl.when(pl.col("line") == "3")
        .then(pl.lit(other))
        .otherwise("pair_fingerprint")
        .alias("pair_fingerprint")
    )
    path = write(edited, tmp_path / "x.csv")
    assert f"line {at}, column pair_fingerprint: changed since export" in _refused(warehouse, path)


def test_an_unknown_answer_is_refused(warehouse: Path, tmp_path: Path) -> None:
    frame = exported(warehouse, tmp_path)
    at = _line_of(frame, "dinsos_pbi", 2)
    path = write(answered(frame, {("dinsos_pbi", 2): "MUNGKIN"}), tmp_path / "x.csv")
    message = _refused(warehouse, path)
    assert f"{path}, line {at}, column decision: not an answer. Expected: SAMA or same" in message


def test_opposite_answers_for_one_pair_in_one_file_are_refused(
    warehouse: Path, tmp_path: Path
) -> None:
    frame = answered(exported(warehouse, tmp_path), {("bpjs_membership", 3): "SAMA"})
    twice = pl.concat(
        [frame, frame.filter(pl.col("line") == "3").with_columns(decision=pl.lit("BEDA"))]
    )
    path = write(twice, tmp_path / "x.csv")
    at = _line_of(frame, "bpjs_membership", 3)
    message = _refused(warehouse, path, replace=True)
    assert (
        f"line {at}, column decision: line {twice.height + 1} of this file gives the opposite"
        in (message)
    )
    assert f"line {twice.height + 1}, column decision: line {at} of this file" in message


def test_a_changed_mind_needs_replace(decided: Path, warehouse: Path, tmp_path: Path) -> None:
    # the first month was built again: SITI's pair is off the list, answered; the old file
    # still names it, by its fingerprint
    old = pl.read_excel(decided, engine="calamine", infer_schema_length=0)
    at = _line_of(old, "bpjs_membership", 2)
    changed = old.with_columns(
        pl.when((pl.col("source") == "bpjs_membership") & (pl.col("line") == "2"))
        .then(pl.lit("BEDA"))
        .otherwise("decision")
        .alias("decision")
    )
    path = write(changed, tmp_path / "changed.xlsx")
    message = _refused(warehouse, path)
    assert f"line {at}, column decision: the answer 'same' is already stored for this pair" in (
        message
    )
    assert "--replace" in message
    report = import_decisions(warehouse, path, replace=True)
    assert (report.different, report.replaced, report.unchanged) == (1, 1, 2)
    build(warehouse, P1)
    assert _persons(warehouse, P1)["bpjs_membership", 2][0] != "officer_linked"


def test_a_header_may_change_case_and_spaces_but_not_lose_a_column(
    warehouse: Path, tmp_path: Path
) -> None:
    frame = answered(exported(warehouse, tmp_path), {("bpjs_membership", 3): "same"})
    spaced = frame.rename({c: f" {c.replace('_', ' ').upper()} " for c in frame.columns})
    report = import_decisions(warehouse, write(spaced, tmp_path / "spaced.csv"))
    assert (report.same, report.undecided) == (1, 3)
    path = write(frame.drop("decision"), tmp_path / "short.csv")
    assert f"{path}, line 1, column decision: missing from the header" in _refused(warehouse, path)


@pytest.fixture
def no_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level("DEBUG")
    yield caplog
    for record in caplog.records:
        assert not re.search(r"\d{13,16}", record.getMessage())
        assert not any(name in record.getMessage() for _, name, _, _ in PERSONS)


def test_the_command_stores_and_refuses_with_exit_codes(
    warehouse: Path, tmp_path: Path, no_logs: pytest.LogCaptureFixture
) -> None:
    from typer.testing import CliRunner

    from jkn.cli.commands import app

    frame = exported(warehouse, tmp_path)
    good = write(answered(frame, {("bpjs_membership", 3): "SAMA"}), tmp_path / "good.csv")
    run = CliRunner().invoke(app, ["lists", "import", str(good), "--warehouse", str(warehouse)])
    assert run.exit_code == 0, run.output
    assert "Stored 1 decision(s)" in run.output and "1 same, 0 different" in run.output
    assert "3 row(s) left undecided" in run.output
    bad = write(answered(frame, {("bpjs_membership", 2): "?"}), tmp_path / "bad.csv")
    run = CliRunner().invoke(app, ["lists", "import", str(bad), "--warehouse", str(warehouse)])
    assert run.exit_code == 2
    assert "column decision: not an answer" in run.output and "Traceback" not in run.output
    assert not re.search(r"\d{13,16}", run.output)


# --------------------------------------------------------------------------------------------
# The automatic linkage measured on the officers' answers (jkn bench-link --from-decisions)


@pytest.mark.parametrize("kind", ["table", "file"])
def test_precision_of_the_automatic_links_on_the_answers(
    decided: Path, warehouse: Path, kind: str
) -> None:
    from jkn.bench.link import from_decisions
    from jkn.link import load_settings

    source = "audit.review_decisions" if kind == "table" else str(decided)
    # as set, the linkage links none of the pairs it sent to review
    shipped = from_decisions(warehouse, source)
    assert (shipped.judged, shipped.same, shipped.different) == (3, 2, 1)
    assert (shipped.auto_linked, shipped.precision, shipped.periods) == (0, None, ["2024-07"])
    # thresholds lowered to the review threshold and no margin: all three pairs would link,
    # the namesake (answered different) wrongly
    eager = load_settings().model_copy(update={"link_threshold": 8.0, "margin": 0.0})
    result = from_decisions(warehouse, source, eager)
    assert (result.auto_linked, result.auto_linked_same, result.linked_elsewhere) == (3, 2, 0)
    assert result.precision == pytest.approx(0.6667)
    # measuring stored nothing: the officers' links stand
    assert _persons(warehouse, P1)["bpjs_membership", 2] == ("officer_linked", SITI[0])
