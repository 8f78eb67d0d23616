"""Officers' list exports: formula injection neutralised, owner-only files, real writers."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import polars as pl
import pytest

from jkn.exports import ExportError, export_list
from jkn.settings import restricted_path
from warehouse import RESTRICTED_LAYERS, connect

PERIOD = "2025-05"
NAMES = ['=HYPERLINK("http://x.example","KLIK")', "+62 811", "@SUM(A1)", "-1+1", "SITI AMINAH"]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    target = tmp_path / "jkn.duckdb"
    rows = pl.DataFrame(
        {
            "period": [dt.date(2025, 5, 1)] * len(NAMES),
            "kabupaten_code": ["16.08"] * len(NAMES),
            "desa_code": ["16.08.01.2001"] * len(NAMES),
            "nik": [f"16080141019000{i:02d}" for i in range(len(NAMES))],
            "nama": NAMES,
            "reason": ["no_membership"] * len(NAMES),
            "line": list(range(2, 2 + len(NAMES))),
        }
    )
    with connect(restricted_path(target), RESTRICTED_LAYERS, private=True) as con:
        con.register("_rows", rows)
        con.execute("insert into lists.outreach by name select * from _rows")
    return target


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_exported_cells_never_run_as_formulas(warehouse: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"outreach{suffix}"
    assert export_list(warehouse, "outreach", PERIOD, out, region="1608") == len(NAMES)
    if suffix == ".csv":
        names = pl.read_csv(out, infer_schema=False)["nama"].to_list()
    else:
        import fastexcel

        names = (
            fastexcel.read_excel(out).load_sheet(0, dtypes="string").to_polars()["nama"].to_list()
        )
    assert names == ["'" + n for n in NAMES[:4]] + ["SITI AMINAH"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_xlsx_cells_are_text_not_formulas(warehouse: Path, tmp_path: Path) -> None:
    import zipfile

    out = tmp_path / "outreach.xlsx"
    export_list(warehouse, "outreach", PERIOD, out)
    with zipfile.ZipFile(out) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula cell anywhere


def test_an_unknown_list_or_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown list"):
        export_list(tmp_path / "jkn.duckdb", "everyone", PERIOD, tmp_path / "x.csv")
    with pytest.raises(ExportError, match="no restricted file"):
        export_list(tmp_path / "jkn.duckdb", "outreach", PERIOD, tmp_path / "x.csv")
