"""Officers' lists out of the restricted file, as CSV or XLSX files they can act on.

Every text cell that a spreadsheet would run as a formula (it begins with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return; OWASP's CSV-injection rule) is written with a leading
apostrophe, so a name typed as ``=HYPERLINK(...)`` in an agency's extract shows as text and
never runs. List columns become ``;``-joined text. The file holds personal data: it is created
owner-only (0600). The review list (``link_review``) gains an empty ``decision`` column for
the officer's answers, which ``jkn lists import`` reads back (:mod:`jkn.review`).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import polars as pl

from jkn.databases import open_restricted_read_only
from jkn.settings import restricted_path
from warehouse.build import LISTS  # the lists' names have their one home beside their models

FORMULA_START = r"^([=+\-@\t\r])"  # a cell a spreadsheet would run as a formula


class ExportError(RuntimeError):
    """The list cannot be exported (unknown list, nothing for the period, file busy)."""


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that would run as a spreadsheet formula get a leading apostrophe."""
    texts = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(pl.col(texts).str.replace(FORMULA_START, "'$1"))


def read_list(warehouse: Path, name: str, period: str, region: str | None = None) -> pl.DataFrame:
    """One list's rows for a period (and kab/kota, dotted or not)."""
    if name not in LISTS:
        raise ExportError(f"unknown list {name!r}; lists: {', '.join(LISTS)}")
    path = restricted_path(warehouse)
    if not path.exists():
        raise ExportError(f"{path}: no restricted file (has a refresh run for this warehouse?)")
    try:
        con = open_restricted_read_only(warehouse)
    except duckdb.IOException:
        raise ExportError(f"{path} is being written by a refresh; export when it ends") from None
    with con:
        where = "period = $period"
        params: dict[str, object] = {"period": dt.date.fromisoformat(f"{period}-01")}
        if region:
            where += " and replace(kabupaten_code, '.', '') = $region"
            params["region"] = region.replace(".", "")
        frame = con.sql(f"select * from lists.{name} where {where}", params=params).pl()
    lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
    return frame.with_columns(pl.col(c).list.join("; ") for c in lists)


def export_list(
    warehouse: Path, name: str, period: str, out: Path, region: str | None = None
) -> int:
    """Write a list to ``out`` (.csv or .xlsx), neutralised and owner-only; rows written."""
    frame = neutralise(read_list(warehouse, name, period, region))
    if name == "link_review":
        from jkn.review import DECISION_COLUMN  # (jkn.review reads the exports' cells back)

        frame = frame.with_columns(pl.lit(None, pl.String).alias(DECISION_COLUMN))
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise ExportError(f"{out}: write .csv or .xlsx")
    out.parent.mkdir(parents=True, exist_ok=True)
    previous = os.umask(0o077)
    try:
        if out.suffix.lower() == ".csv":
            frame.write_csv(out)
        else:
            import xlsxwriter

            # strings stay strings: the writer must not turn "=…" into a formula or a URL
            book = xlsxwriter.Workbook(
                str(out),
                {"strings_to_formulas": False, "strings_to_urls": False,
                 "strings_to_numbers": False},
            )  # fmt: skip
            try:
                frame.write_excel(book, worksheet=name[:31], autofit=True)
            finally:
                book.close()
    finally:
        os.umask(previous)
    out.chmod(0o600)
    return frame.height
