"""File-level formatting (the per-file "mess") and writing CSV, XLSX and Parquet."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from jkn.generate.model import COLUMNS, DATE_COLUMNS, XLSX_MAX_DATA_ROWS

log = logging.getLogger(__name__)

DATE_FORMATS = {"DD-MM-YYYY": "%d-%m-%Y", "DD/MM/YYYY": "%d/%m/%Y", "YYYY-MM-DD": "%Y-%m-%d"}
FIXED_TIME = datetime(2000, 1, 1)
Progress = Callable[[str, int, int], None]


def choose_formatting(source: str, fmt: str, messy: bool, rng: np.random.Generator) -> dict:
    """Pick the file's formatting. Clean: the contract's headers and order, ``,``, UTF-8, LF,
    minimal quoting, undotted codes, ISO dates. Messy: each choice drawn from ``rng``."""
    columns = list(COLUMNS[source])
    if not messy:
        choice = {
            "headers": columns,
            "column_order": columns,
            "dotted_codes": False,
            "date_formats": ["YYYY-MM-DD"],
        }
        if fmt == "csv":
            choice.update(delimiter=",", encoding="utf-8", line_terminator="LF", quote_all=False)
        return choice
    headers = []
    for col in columns:
        style = rng.choice(["upper", "upper", "lower", "title"])
        name = {"upper": col, "lower": col.lower(), "title": col.title()}[str(style)]
        if rng.random() < 0.3:
            name = " " * int(rng.integers(0, 3)) + name + " " * int(rng.integers(1, 3))
        headers.append(name)
    order = [columns[i] for i in rng.permutation(len(columns))]
    fmts = list(DATE_FORMATS)
    mixed = rng.random() < 0.7
    date_formats = fmts if mixed else [fmts[int(rng.integers(0, 3))]]
    choice = {
        "headers": headers,
        "column_order": order,
        "dotted_codes": bool(rng.random() < 0.5),
        "date_formats": date_formats,
    }
    if fmt == "csv":
        choice.update(
            delimiter=str(rng.choice([",", ";"])),
            encoding=str(rng.choice(["utf-8", "utf-8-sig", "cp1252"])),
            line_terminator=str(rng.choice(["CRLF", "LF"])),
            quote_all=bool(rng.random() < 0.4),
        )
    return choice


def render(
    frame: pl.DataFrame, source: str, choice: dict, rng: np.random.Generator
) -> pl.DataFrame:
    """The file as strings: dates formatted, codes (un)dotted, headers renamed, reordered."""
    n = frame.height
    exprs = []
    fmts = [DATE_FORMATS[f] for f in choice["date_formats"]]
    pick = None
    if len(fmts) > 1:  # a per-row draw carried in ``_fmt`` keeps exact copies exact
        draw = frame["_fmt"] if "_fmt" in frame.columns else pl.Series(rng.integers(0, 6, n))
        pick = draw % len(fmts)
    for col in DATE_COLUMNS[source]:
        d = pl.col(col).cast(pl.Int32).cast(pl.Date)
        text = d.dt.strftime(fmts[0])
        if pick is not None:
            text = pl.when(pick == 0).then(d.dt.strftime(fmts[0]))
            for i in range(1, len(fmts)):
                text = text.when(pick == i).then(d.dt.strftime(fmts[i]))
            text = text.otherwise(None)
        over = f"{col}__text"
        if over in frame.columns:
            text = pl.coalesce(pl.col(over), text)
        exprs.append(pl.when(pl.col(col).is_null()).then(pl.lit("")).otherwise(text).alias(col))
    code = pl.col("KODE_WILAYAH")
    if not choice["dotted_codes"]:
        code = code.str.replace_all(".", "", literal=True)
    exprs.append(code.alias("KODE_WILAYAH"))
    out = frame.with_columns(exprs)
    rename = dict(zip(COLUMNS[source], choice["headers"], strict=True))
    return out.select(
        [pl.col(c).cast(pl.String).fill_null("").alias(rename[c]) for c in choice["column_order"]]
    )


def write_csv(table: pl.DataFrame, path: Path, choice: dict) -> None:
    """Write CSV bytes with the chosen delimiter, quoting, line ending and encoding."""
    buf = io.BytesIO()
    table.write_csv(
        buf,
        separator=choice["delimiter"],
        quote_style="always" if choice["quote_all"] else "necessary",
        line_terminator="\r\n" if choice["line_terminator"] == "CRLF" else "\n",
    )
    data = buf.getvalue()
    enc = choice["encoding"]
    if enc == "utf-8-sig":
        data = b"\xef\xbb\xbf" + data
    elif enc == "cp1252":
        data = data.decode("utf-8").encode("cp1252", errors="replace")
    path.write_bytes(data)


def write_xlsx(table: pl.DataFrame, path: Path, progress: Progress | None = None) -> None:
    """First sheet, header on row 1, every value a text cell (identifiers keep their zeros)."""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    wb.set_properties({"created": FIXED_TIME})
    ws = wb.add_worksheet("Sheet1")
    ws.write_row(0, 0, table.columns)
    total = table.height
    chunk = 50_000
    for start in range(0, total, chunk):
        part = table.slice(start, chunk)
        for offset, row in enumerate(part.iter_rows()):
            r = start + offset + 1
            for c, value in enumerate(row):
                ws.write_string(r, c, value)
        if progress:
            progress("xlsx", min(start + chunk, total), total)
    wb.close()


def write_table(
    table: pl.DataFrame, path: Path, fmt: str, choice: dict, progress: Progress | None = None
) -> None:
    """Write one extract in ``fmt`` (csv, xlsx, parquet)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        write_csv(table, path, choice)
    elif fmt == "xlsx":
        if table.height > XLSX_MAX_DATA_ROWS:  # pragma: no cover - guarded by the caller
            raise ValueError("too many rows for XLSX")
        write_xlsx(table, path, progress)
    elif fmt == "parquet":
        table.write_parquet(path, compression="zstd", statistics=False)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    log.info("wrote %s (%d rows)", path, table.height)
