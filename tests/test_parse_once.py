"""Quarantined rows are parsed by the same code as loaded ones, once.

A quarantined row keeps the row as received (``audit.quarantine.record``) for the officer who
corrects it, and its fields parsed by the schema's own expressions
(``staging.quarantined_<source>``) for the SQL that still counts it — a Dukcapil resident
quarantined for a missing name is still a resident. The officers' lists therefore show one
form of each field, whichever side of validation a row fell on.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from jkn.quality import QualitySettings
from jkn.settings import restricted_path
from tests.conftest import VALID_ROWS, nik_for, read_table, refresh, rows_of, write_csv
from tests.test_schemas import validate_rows

PERIOD = "2025-05"
KEC = "17.07.01"
VILLAGE = "17.07.01.1004"


def test_a_quarantined_card_is_parsed_as_a_loaded_one_would_be(tmp_path: Path) -> None:
    same = {"JENIS_KELAMIN": "perempuan", "TGL_LAHIR": "10/05/1990", "SEGMEN": "PBPU_PEMDA"}
    loaded, held = rows_of("bpjs_membership", same, {**same, "NOKA": "123"})  # NOKA lost zeros
    result = validate_rows(tmp_path, "bpjs_membership", [loaded, held])
    assert (result.loaded, result.quarantined) == (1, 1)
    # every parsed field but the card number (and the line) reads as in the loaded row
    same_fields = [c for c in result.held.columns if c not in ("noka", "line")]
    assert len(same_fields) >= 12
    assert result.held.select(same_fields).rows() == result.staged.select(same_fields).rows()
    assert result.held["noka"][0] == "123"
    assert result.held["segmen"][0] == "PBI_APBD"  # the older name, read as the current code
    assert result.held["tgl_lahir"][0] == dt.date(1990, 5, 10)


def test_a_field_that_does_not_read_is_null_beside_the_row_as_received(tmp_path: Path) -> None:
    bad = {"JENIS_KLMIN": "X", "TGL_LHR": "31-02-1990", "NAMA_LGKP": ""}
    result = validate_rows(tmp_path, "dukcapil", rows_of("dukcapil", bad))
    assert result.quarantined == 1
    held = result.held.row(0, named=True)
    assert (held["jenis_kelamin"], held["tgl_lahir"], held["nama"]) == (None, None, None)
    assert held["kode_wilayah"] == VILLAGE.replace(".", "")
    assert '"JENIS_KLMIN":"X"' in result.quarantine["record"][0]  # as received, for the officer
    assert '"TGL_LHR":"31-02-1990"' in result.quarantine["record"][0]


def _deliver(landing: Path) -> None:
    folder = landing / PERIOD
    dukcapil = VALID_ROWS["dukcapil"]
    residents = [
        # loaded, written the long way and ISO
        {"NIK": nik_for(KEC, "10-05-1960", "P", 1), "JENIS_KLMIN": "PEREMPUAN",
         "TGL_LHR": "1960-05-10"},
        {"NIK": nik_for(KEC, "11-06-1970", "L", 2), "JENIS_KLMIN": "LAKI-LAKI",
         "TGL_LHR": "11/06/1970"},
        # quarantined (no name), but still residents: the same forms must come out
        {"NIK": nik_for(KEC, "12-07-1980", "P", 3), "JENIS_KLMIN": "PEREMPUAN",
         "TGL_LHR": "12/07/1980 00:00:00", "NAMA_LGKP": ""},
        {"NIK": nik_for(KEC, "13-08-1985", "L", 4), "JENIS_KLMIN": "laki-laki",
         "TGL_LHR": "1985-08-13", "NAMA_LGKP": "-"},
    ]  # fmt: skip
    write_csv(folder / "dukcapil.csv", [{**dukcapil, "NO_KK": "", **r} for r in residents])
    write_csv(folder / "dinsos_pbi.csv", rows_of("dinsos_pbi", {}))
    write_csv(folder / "bpjs_membership.csv", rows_of("bpjs_membership", {}))


@pytest.mark.slow
def test_officers_lists_show_one_form_of_each_field(tmp_path: Path, prefect_harness: None) -> None:
    _deliver(tmp_path / "landing")
    warehouse = tmp_path / "jkn.duckdb"
    refresh(
        tmp_path / "landing",
        PERIOD,
        warehouse,
        quality=QualitySettings(quarantine_rate_max=1.0),
    )
    outreach = read_table(
        restricted_path(warehouse),
        "select nama, jenis_kelamin, tgl_lahir, reason from lists.outreach "
        "where period = $p order by tgl_lahir",
        p=dt.date(2025, 5, 1),
    )
    name = VALID_ROWS["dukcapil"]["NAMA_LGKP"]
    assert outreach.rows() == [
        (name, "P", "1960-05-10", "no_valid_membership"),
        (name, "L", "1970-06-11", "no_valid_membership"),
        (None, "P", "1980-07-12", "no_valid_membership"),  # quarantined: no name
        (None, "L", "1985-08-13", "no_valid_membership"),  # quarantined: "-" is no name
    ]
