"""Each schema rule, on rows made here: where the row goes and which check says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from jkn.ingest.readers import read_extract
from jkn.ingest.validate import ValidationResult, validate_extract
from schemas import SCHEMAS
from tests.conftest import rows_of, write_csv

PERIOD = "2024-07"


def validate_rows(tmp_path: Path, source: str, rows: list[dict[str, str]]) -> ValidationResult:
    schema = SCHEMAS[source]
    path = write_csv(tmp_path / f"{source}.csv", rows)
    raw = read_extract(path, source, schema.required, schema.optional, tmp_path)
    return validate_extract(raw, schema, PERIOD)


def outcome(result: ValidationResult, line: int) -> tuple[str, list[str], list[str]]:
    """('loaded'|'quarantined', error checks, warning checks) of the row on ``line``."""
    staged = result.staged.filter(result.staged["line"] == line)
    if staged.height:
        return "loaded", [], staged["flags"][0].to_list()
    hit = result.quarantine.filter(result.quarantine["line"] == line)
    assert hit.height == 1, f"line {line} is neither loaded nor quarantined"
    return "quarantined", hit["reasons"][0].to_list(), hit["flags"][0].to_list()


def test_clean_rows_load_with_no_flag(tmp_path: Path) -> None:
    for source in SCHEMAS:
        result = validate_rows(tmp_path / source, source, rows_of(source, {}))
        assert outcome(result, 2) == ("loaded", [], [])
        assert (result.received, result.loaded, result.quarantined) == (1, 1, 0)


# (source, change to a valid row, the check that must fail, its severity)
RULES = [
    ("bpjs_membership", {"NIK": "3.20101E+15"}, "nik_not_excel_scientific", "error"),
    ("bpjs_membership", {"NIK": "170701500590001"}, "nik_is_16_digits", "error"),
    ("bpjs_membership", {"NIK": ""}, "nik_present", "warning"),
    ("bpjs_membership", {"NIK": "-"}, "nik_present", "warning"),
    ("dukcapil", {"NIK": "NULL"}, "nik_present", "error"),
    ("dinsos_pbi", {"NIK": "0"}, "nik_present", "error"),
    ("bpjs_membership", {"NIK": "1707015005990001"}, "nik_dob_matches", "warning"),
    ("bpjs_membership", {"JENIS_KELAMIN": "L"}, "nik_sex_matches", "warning"),
    ("dukcapil", {"JENIS_KLMIN": "LAKI-LAKI"}, "nik_sex_matches", "warning"),
    ("bpjs_membership", {"NIK": "1799015005900001"}, "nik_region_current", "warning"),
    ("bpjs_membership", {"NIK": "1707013205900001"}, "nik_structure_valid", "warning"),
    ("bpjs_membership", {"NIK": "1707015005900000"}, "nik_structure_valid", "warning"),
    ("bpjs_membership", {"NOKA": "1944358911"}, "noka_is_13_digits", "error"),
    ("bpjs_membership", {"NOKA": "1.94436E+09"}, "noka_is_13_digits", "error"),
    ("bpjs_membership", {"NO_KK": "170701010110"}, "no_kk_is_16_digits", "error"),
    ("bpjs_membership", {"NAMA": ""}, "name_present", "error"),
    ("bpjs_membership", {"TGL_LAHIR": ""}, "dob_present", "error"),
    ("bpjs_membership", {"TGL_LAHIR": "31-02-1990"}, "dob_is_date", "error"),
    ("bpjs_membership", {"TGL_LAHIR": "10-05-90"}, "dob_is_date", "error"),
    ("bpjs_membership", {"TGL_LAHIR": "01-08-2024"}, "dob_not_in_future", "error"),
    ("bpjs_membership", {"TGL_LAHIR": "10-05-1890"}, "dob_after_1900", "error"),
    ("bpjs_membership", {"JENIS_KELAMIN": "X"}, "sex_is_known", "error"),
    ("bpjs_membership", {"SEGMEN": "MANDIRI"}, "segment_is_known", "error"),
    ("bpjs_membership", {"SEGMEN": ""}, "segment_is_known", "error"),
    ("bpjs_membership", {"STATUS_PESERTA": "AKTIV"}, "status_is_known", "error"),
    ("bpjs_membership", {"HUBUNGAN_KELUARGA": "KAKAK"}, "relation_is_known", "error"),
    ("bpjs_membership", {"KELAS": "4"}, "kelas_is_1_2_3", "error"),
    ("bpjs_membership", {"KELAS": "VIP"}, "kelas_is_1_2_3", "error"),
    ("bpjs_membership", {"KET_NONAKTIF": "PINDAH"}, "inactive_reason_is_known", "error"),
    ("bpjs_membership", {"BULAN_TUNGGAKAN": "-2"}, "arrears_is_count", "error"),
    ("bpjs_membership", {"BULAN_TUNGGAKAN": "x"}, "arrears_is_count", "error"),
    ("bpjs_membership", {"TMT": "2030-01-01"}, "tmt_is_date", "error"),
    ("bpjs_membership", {"KODE_WILAYAH": "17.07.01"}, "village_code_is_10_digits", "error"),
    ("bpjs_membership", {"KODE_WILAYAH": "1707019999"}, "village_code_known", "warning"),
    ("dukcapil", {"STATUS": "WAFAT"}, "status_is_known", "error"),
    ("dukcapil", {"STATUS": "MATI"}, "status_date_present", "warning"),
    ("dukcapil", {"STATUS": "MATI", "TGL_STATUS": "32-01-2024"}, "status_date_is_date", "error"),
    ("dinsos_pbi", {"DESIL": "11"}, "desil_is_1_to_10", "error"),
    ("dinsos_pbi", {"DESIL": "X"}, "desil_is_1_to_10", "error"),
    ("dinsos_pbi", {"DESIL": ""}, "desil_is_1_to_10", "error"),
    ("dinsos_pbi", {"SUMBER_DANA": "APBDES"}, "sumber_dana_is_known", "error"),
]


@pytest.mark.parametrize(("source", "change", "check", "severity"), RULES)
def test_rule(tmp_path: Path, source: str, change: dict, check: str, severity: str) -> None:
    result = validate_rows(tmp_path, source, rows_of(source, {}, change))
    assert outcome(result, 2) == ("loaded", [], []), "the clean neighbour row stays clean"
    destination, errors, warnings = outcome(result, 3)
    if severity == "error":
        assert destination == "quarantined"
        assert check in errors
    else:
        assert destination == "loaded"
        assert warnings == [check]
    counted = result.checks.filter(result.checks["check"] == check)
    assert counted["rows"].to_list() == [1]
    assert counted["severity"].to_list() == [severity]
    assert result.received == result.loaded + result.quarantined == 2


def test_a_repeated_key_quarantines_only_the_later_rows(tmp_path: Path) -> None:
    rows = rows_of("bpjs_membership", {}, {}, {})
    rows[2]["NOKA"] = rows[1]["NOKA"] = rows[0]["NOKA"]
    result = validate_rows(tmp_path, "bpjs_membership", rows)
    assert outcome(result, 2)[0] == "loaded"
    assert outcome(result, 3) == ("quarantined", ["noka_unique_in_file"], [])
    assert outcome(result, 4) == ("quarantined", ["noka_unique_in_file"], [])


def test_a_person_listed_twice_on_the_pbi_list_is_flagged_not_dropped(tmp_path: Path) -> None:
    result = validate_rows(tmp_path, "dinsos_pbi", rows_of("dinsos_pbi", {}, {}))
    assert outcome(result, 2) == ("loaded", [], [])
    assert outcome(result, 3) == ("loaded", [], ["nik_listed_once"])


def test_every_failure_of_a_row_is_kept(tmp_path: Path) -> None:
    bad = {"NOKA": "1944358911", "NIK": "3.20101E+15", "SEGMEN": "JAMKESDA", "KELAS": "9"}
    result = validate_rows(tmp_path, "bpjs_membership", rows_of("bpjs_membership", bad))
    destination, errors, _ = outcome(result, 2)
    assert destination == "quarantined"
    assert errors == sorted(
        [
            "kelas_is_1_2_3",
            "nik_is_16_digits",
            "nik_not_excel_scientific",
            "noka_is_13_digits",
            "segment_is_known",
        ]
    )


def test_old_segment_name_is_read_as_the_current_one(tmp_path: Path) -> None:
    result = validate_rows(
        tmp_path, "bpjs_membership", rows_of("bpjs_membership", {"SEGMEN": "pbpu_pemda"})
    )
    assert result.staged["segmen"].to_list() == ["PBI_APBD"]


def test_staged_values_are_typed_and_codes_undotted(tmp_path: Path) -> None:
    rows = rows_of(
        "bpjs_membership",
        {"TGL_LAHIR": "10/05/1990", "KODE_WILAYAH": "1707011004"},
        {"TGL_LAHIR": "1990-05-10", "KODE_WILAYAH": " 17.07.01.1004 ", "NIK": ""},
    )
    result = validate_rows(tmp_path, "bpjs_membership", rows)
    staged = result.staged.sort("line")
    assert [d.isoformat() for d in staged["tgl_lahir"]] == ["1990-05-10", "1990-05-10"]
    assert staged["kode_wilayah"].to_list() == ["1707011004", "1707011004"]
    assert staged["nik"].to_list() == ["1707015005900001", None]
    assert staged["bulan_tunggakan"].to_list() == [0, 0]


def test_damaged_niks_that_read_alike_are_not_called_repeats(tmp_path: Path) -> None:
    rows = rows_of("dukcapil", {"NIK": "3.20101E+15"}, {"NIK": "3.20101E+15"})
    result = validate_rows(tmp_path, "dukcapil", rows)
    for line in (2, 3):
        destination, errors, _ = outcome(result, line)
        assert destination == "quarantined"
        assert "nik_unique_in_file" not in errors


@pytest.mark.parametrize("source", ["dukcapil", "dinsos_pbi", "bpjs_membership"])
def test_validating_in_slices_gives_the_same_outcome_as_at_once(
    tmp_path: Path, source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a mix of clean rows, broken rows and repeats of the key, some of them landing in a
    # later slice than the row they repeat
    key = SCHEMAS[source].key.upper()
    changes: list[dict] = [{}, {"JENIS_KELAMIN": "X"}, {}, {}, {"NIK": "3.20101E+15"}, {}, {}]
    rows = rows_of(source, *changes)
    for serial, row in enumerate(rows, start=1):  # every key distinct to begin with
        if row[key].isdigit():
            row[key] = f"{row[key][:-4]}{serial:04d}"
    rows[3][key] = rows[0][key]  # repeat in the same slice of 3
    rows[6][key] = rows[2][key]  # repeat two slices later
    rows[5][key] = rows[3][key]  # a repeat of a repeat
    from jkn.settings import settings

    monkeypatch.setenv("JKN_VALIDATE_CHUNK_ROWS", "1000000")
    settings.cache_clear()
    whole = validate_rows(tmp_path / "whole", source, rows)
    monkeypatch.setenv("JKN_VALIDATE_CHUNK_ROWS", "3")
    settings.cache_clear()
    sliced = validate_rows(tmp_path / "sliced", source, rows)

    assert sliced.staged.equals(whole.staged)
    assert sliced.quarantine.equals(whole.quarantine)
    assert sliced.checks.equals(whole.checks)
    repeat_check = {
        "dukcapil": "nik_unique_in_file",
        "dinsos_pbi": "nik_listed_once",
        "bpjs_membership": "noka_unique_in_file",
    }[source]
    repeats = sliced.checks.filter(sliced.checks["check"] == repeat_check)["rows"].item()
    assert repeats == 3
    for line in (5, 7, 8):  # rows 3, 5 and 6 of the list, below the header
        assert repeat_check in [*outcome(sliced, line)[1], *outcome(sliced, line)[2]]
