"""Shared fixtures: small extracts written by hand, and the Prefect test harness (session)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import jkn.settings  # noqa: F401  (telemetry off before Prefect is imported)

if TYPE_CHECKING:
    import polars as pl

    from jkn.refresh import RefreshSummary

# A person whose NIK agrees with every field: woman born 10-05-1990, issued in Lebong (17.07.01).
SITI = {
    "NIK": "1707015005900001",
    "NO_KK": "1707010101100001",
    "NAMA": "SITI AMINAH",
    "TGL_LAHIR": "10-05-1990",
    "JENIS_KELAMIN": "P",
    "KODE_WILAYAH": "17.07.01.1004",
}
VALID_ROWS: dict[str, dict[str, str]] = {
    "dukcapil": {
        "NIK": SITI["NIK"],
        "NO_KK": SITI["NO_KK"],
        "NAMA_LGKP": SITI["NAMA"],
        "JENIS_KLMIN": "PEREMPUAN",
        "TMPT_LHR": "MUARA AMAN",
        "TGL_LHR": SITI["TGL_LAHIR"],
        "KODE_WILAYAH": SITI["KODE_WILAYAH"],
        "STATUS": "HIDUP",
        "TGL_STATUS": "",
    },
    "dinsos_pbi": {
        "ID_DTSEN": "DT1707000001",
        "NIK": SITI["NIK"],
        "NO_KK": SITI["NO_KK"],
        "NAMA": SITI["NAMA"],
        "TGL_LAHIR": SITI["TGL_LAHIR"],
        "JENIS_KELAMIN": "P",
        "KODE_WILAYAH": SITI["KODE_WILAYAH"],
        "DESIL": "2",
        "SUMBER_DANA": "APBN",
    },
    "bpjs_membership": {
        "NOKA": "0001944358911",
        "NIK": SITI["NIK"],
        "NO_KK": SITI["NO_KK"],
        "NAMA": SITI["NAMA"],
        "TGL_LAHIR": SITI["TGL_LAHIR"],
        "JENIS_KELAMIN": "P",
        "HUBUNGAN_KELUARGA": "PESERTA",
        "SEGMEN": "PBI_APBN",
        "KELAS": "3",
        "STATUS_PESERTA": "AKTIF",
        "KET_NONAKTIF": "",
        "BULAN_TUNGGAKAN": "0",
        "KODE_WILAYAH": SITI["KODE_WILAYAH"],
        "KODE_FASKES": "0601U012",
        "TMT": "2014-01-01",
    },
}


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    newline: str = "\n",
    quote_all: bool = False,
    headers: list[str] | None = None,
) -> Path:
    """Write rows as a CSV the way the providers do; ``headers`` renames the columns."""
    columns = list(rows[0])
    names = headers or columns

    def cell(value: str) -> str:
        needs = quote_all or any(ch in value for ch in (delimiter, '"', "\n"))
        return '"' + value.replace('"', '""') + '"' if needs else value

    lines = [delimiter.join(cell(h) for h in names)]
    lines += [delimiter.join(cell(row[c]) for c in columns) for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def rows_of(source: str, *changes: dict[str, str]) -> list[dict[str, str]]:
    """One valid row per change, each with a distinct key, with the change applied."""
    base = VALID_ROWS[source]
    out = []
    for i, change in enumerate(changes):
        row = dict(base)
        if source == "bpjs_membership":
            row["NOKA"] = f"{int(base['NOKA']) + i:013d}"
        elif source == "dukcapil":
            row["NIK"] = base["NIK"][:-4] + f"{i + 1:04d}"
        row.update(change)
        out.append(row)
    return out


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Each test reads the JKN_* environment afresh (jkn.settings reads it once a process); a
    test that changes it midway calls ``settings.cache_clear()`` itself."""
    from jkn.settings import settings

    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test harness for the whole session (entering it costs ~12 s)."""
    from prefect.testing.utilities import prefect_test_harness

    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    with prefect_test_harness(server_startup_timeout=120):
        yield


def nik_for(kecamatan: str, dob: str, sex: str, serial: int) -> str:
    """A NIK consistent with a birth date (DD-MM-YYYY) and sex, issued in a kecamatan."""
    day, month, year = dob.split("-")
    dd = int(day) + (40 if sex == "P" else 0)
    return f"{kecamatan.replace('.', '')}{dd:02d}{month}{year[2:]}{serial:04d}"


def refresh(landing: Path | str, period: str, warehouse: Path, **settings: Any) -> RefreshSummary:
    """Run the monthly flow (inside the session's Prefect harness); return its summary.
    ``settings``: further RefreshParameters fields (``quality=QualitySettings(...)``)."""
    from flows.monthly_refresh import monthly_refresh
    from jkn.refresh import RefreshParameters

    # the forum report (jkn.report) has its own tests, which ask for it: the others skip it
    settings.setdefault("report", False)
    params = RefreshParameters(period=period, landing=str(landing), warehouse=warehouse, **settings)
    return monthly_refresh(params)


def read_table(database: Path, sql: str, **params: object) -> pl.DataFrame:
    """Rows of a query on a DuckDB file opened read-only, as a polars frame."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        return con.sql(sql, params=params or None).pl()
